//! Attachments over the sync connection: uploads and downloads in chunks, handled on the
//! connection's task (never on the hub thread: a chunk is written and `fsync`ed, or read
//! from disk, without holding up anyone else's sync).
//!
//! * **Upload** (`BlobStart`, `BlobPut`): any user may upload a file, one chunk at a time;
//!   each chunk is durable before it is acknowledged (`BlobProgress`), so an upload cut
//!   off — connection dropped, server killed — resumes where the acknowledgements ended.
//!   The announced size is held to the server's limit before anything is stored, the
//!   first chunk must sniff as JPEG, PNG, WebP or PDF, and the whole must have the
//!   announced hash and size: otherwise the upload is dropped and refused. Uploads are per
//!   user: a user who never uploaded a file is not told that someone else did (they upload
//!   it whole, and it is stored once).
//! * **Download** (`BlobGet`): only a file some document references that the user may
//!   read — and whose reference was added by someone who owns the file (uploaded it, or
//!   could read it when referencing it), so that naming a hash in one's own document
//!   grants nothing. Anything else, an unknown hash included, is answered alike:
//!   `blob_unavailable`.

use crate::access;
use crate::storage::blob::{BlobStore, Finished, UploadKey};
use crate::storage::{DbError, Storage};
use protocol::blob::{BLOB_CHUNK_BYTES, BlobHash, sniff};
use protocol::rules::Principal;
use protocol::{ClientMsg, ErrorCode, ServerMsg};
use std::sync::Mutex;

/// Uploads one user may have in progress at once (each holds disk space until finished).
pub const MAX_UPLOADS_PER_USER: usize = 64;

/// Uploads untouched for this long are dropped at start-up.
pub const STALE_UPLOAD: std::time::Duration = std::time::Duration::from_secs(14 * 24 * 3600);

pub struct BlobService {
    store: Box<dyn BlobStore>,
    /// A connection of its own to the database (the hub keeps its own).
    db: Mutex<Box<dyn Storage>>,
    max_bytes: u64,
}

impl BlobService {
    pub fn new(store: Box<dyn BlobStore>, db: Box<dyn Storage>, max_bytes: u64) -> Self {
        match store.sweep(STALE_UPLOAD) {
            Ok(0) => {}
            Ok(n) => tracing::info!(uploads = n, "dropped stale unfinished uploads"),
            Err(e) => tracing::warn!(error = %e, "cannot sweep unfinished uploads"),
        }
        BlobService { store, db: Mutex::new(db), max_bytes }
    }

    /// Answer one blob message from `who` at `now`.
    pub fn handle(&self, who: &Principal, msg: ClientMsg, now: i64) -> ServerMsg {
        let hash = match &msg {
            ClientMsg::BlobStart { hash, .. } | ClientMsg::BlobPut { hash, .. } | ClientMsg::BlobGet { hash, .. } => {
                *hash
            }
            _ => return refuse([0; 32], ErrorCode::UnexpectedMessage, "not an attachment message".into()),
        };
        let answer = match msg {
            ClientMsg::BlobStart { size, .. } => self.start(who, hash, size),
            ClientMsg::BlobPut { size, offset, bytes, .. } => self.put(who, hash, size, offset, &bytes, now),
            ClientMsg::BlobGet { offset, .. } => self.get(who, hash, offset),
            _ => unreachable!("matched above"),
        };
        answer.unwrap_or_else(|e| {
            tracing::error!(user = who.user, hash = protocol::blob::hex(&hash), error = %e, "attachment failed");
            refuse(hash, ErrorCode::Internal, ErrorCode::Internal.describe().into())
        })
    }

    fn db(&self) -> std::sync::MutexGuard<'_, Box<dyn Storage>> {
        self.db.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A stored file's size and type (by its first bytes: nothing else is stored of it).
    fn stored(&self, hash: &BlobHash) -> Result<Option<(u64, String)>, Failure> {
        let Some(size) = self.store.size(hash)? else { return Ok(None) };
        let mime = sniff(&self.store.read(hash, 0, 16)?).map_or("application/octet-stream", |t| t.mime());
        Ok(Some((size, mime.to_string())))
    }

    fn too_large(&self, hash: BlobHash, size: u64) -> ServerMsg {
        refuse(
            hash,
            ErrorCode::BlobTooLarge,
            format!(
                "the file has {size} bytes; the server accepts at most {} MB ({} bytes)",
                self.max_bytes / (1024 * 1024),
                self.max_bytes
            ),
        )
    }

    fn start(&self, who: &Principal, hash: BlobHash, size: u64) -> Result<ServerMsg, Failure> {
        if size == 0 {
            return Ok(refuse(hash, ErrorCode::BlobMismatch, "an attachment cannot be empty".into()));
        }
        if size > self.max_bytes {
            return Ok(self.too_large(hash, size));
        }
        let key = UploadKey { uploader: who.user.clone(), hash };
        if let Some((size, mime)) = self.stored(&hash)?
            && access::is_blob_owner(&**self.db(), &hash, &who.user)?
        {
            return Ok(ServerMsg::BlobStored { hash, size, mime });
        }
        let received = self.store.received(&key)?;
        if received > size {
            self.store.discard(&key)?;
            return Ok(ServerMsg::BlobProgress { hash, received: 0 });
        }
        if received == 0 && self.store.uploads_of(&who.user)? >= MAX_UPLOADS_PER_USER {
            return Ok(refuse(
                hash,
                ErrorCode::Busy,
                format!("{MAX_UPLOADS_PER_USER} uploads are unfinished: finish them before starting more"),
            ));
        }
        Ok(ServerMsg::BlobProgress { hash, received })
    }

    fn put(
        &self,
        who: &Principal,
        hash: BlobHash,
        size: u64,
        offset: u64,
        bytes: &[u8],
        now: i64,
    ) -> Result<ServerMsg, Failure> {
        let key = UploadKey { uploader: who.user.clone(), hash };
        if size > self.max_bytes {
            self.store.discard(&key)?;
            return Ok(self.too_large(hash, size));
        }
        if bytes.is_empty() || offset.saturating_add(bytes.len() as u64) > size {
            self.store.discard(&key)?;
            return Ok(refuse(hash, ErrorCode::BlobMismatch, format!("bytes beyond the announced {size} bytes")));
        }
        if offset == 0 && sniff(bytes).is_none() {
            self.store.discard(&key)?;
            tracing::info!(user = who.user, "attachment of a type not accepted");
            return Ok(refuse(hash, ErrorCode::BlobType, ErrorCode::BlobType.describe().into()));
        }
        let received = self.store.append(&key, offset, bytes)?;
        if received < size || offset.saturating_add(bytes.len() as u64) != received {
            // Not complete yet, or not where the upload is (the device resends from here).
            return Ok(ServerMsg::BlobProgress { hash, received });
        }
        if self.store.finish(&key, size)? == Finished::Mismatch {
            return Ok(refuse(
                hash,
                ErrorCode::BlobMismatch,
                "the uploaded bytes do not have the announced hash and size; nothing was stored".into(),
            ));
        }
        // The first chunk was sniffed when it arrived; the stored whole says the same.
        let Some(ty) = sniff(&self.store.read(&hash, 0, 16)?) else {
            return Ok(refuse(hash, ErrorCode::BlobType, ErrorCode::BlobType.describe().into()));
        };
        access::add_blob_owner(&**self.db(), &hash, &who.user, now)?;
        tracing::info!(user = who.user, hash = protocol::blob::hex(&hash), size, mime = ty.mime(), "attachment stored");
        Ok(ServerMsg::BlobStored { hash, size, mime: ty.mime().into() })
    }

    fn get(&self, who: &Principal, hash: BlobHash, offset: u64) -> Result<ServerMsg, Failure> {
        let unavailable = || refuse(hash, ErrorCode::BlobUnavailable, ErrorCode::BlobUnavailable.describe().into());
        let Some((size, mime)) = self.stored(&hash)? else { return Ok(unavailable()) };
        if !access::may_read_blob(&**self.db(), who, &hash)? {
            tracing::info!(user = who.user, "attachment not readable by this user");
            return Ok(unavailable());
        }
        let bytes = if offset >= size { Vec::new() } else { self.store.read(&hash, offset, BLOB_CHUNK_BYTES)? };
        Ok(ServerMsg::BlobData { hash, size, mime, offset, bytes })
    }
}

fn refuse(hash: BlobHash, code: ErrorCode, message: String) -> ServerMsg {
    ServerMsg::BlobRefused { hash, code, message }
}

#[derive(Debug, thiserror::Error)]
enum Failure {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Store(#[from] crate::storage::blob::BlobStoreError),
}
