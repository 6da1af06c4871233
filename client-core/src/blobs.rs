//! Attachments on the device: files added here wait (bytes kept, pinned) until the server
//! holds them; files of others are fetched when someone wants to see them and kept as a
//! cache under the profile's space cap (oldest first out; pending uploads never). The
//! [`crate::SyncEngine`] moves them in chunks; the store holds them ([`StoreOp::PutBlob`]).

use crate::error::CoreError;
use crate::replica::Replica;
use crate::store_op::{BlobMeta, StoreOp};
use protocol::ErrorCode;
use protocol::blob::{BlobHash, BlobRef, DEFAULT_MAX_BLOB_BYTES, digest};
use std::collections::{BTreeMap, BTreeSet};

/// The space attachments fetched from the server may take on a device by default.
pub const DEFAULT_BLOB_CAP: u64 = 200 * 1024 * 1024;

/// What the device has of an attachment.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "state", content = "reason", rename_all = "snake_case")]
pub enum BlobState {
    /// The bytes are here (and on the server).
    Held,
    /// Added here, waiting to be uploaded.
    Pending,
    /// Asked for, coming with the next sync.
    Fetching,
    /// The server refused it (not readable, or the upload was refused), with why.
    Refused(String),
    /// Not here and not asked for.
    Unknown,
}

#[derive(Debug, Default)]
pub(crate) struct Blobs {
    held: BTreeMap<BlobHash, BlobMeta>,
    /// The bytes of pending uploads (what the engine sends).
    pending_bytes: BTreeMap<BlobHash, Vec<u8>>,
    wanted: BTreeSet<BlobHash>,
    /// Downloads under way: size, type, bytes so far (resumed after a reconnect).
    partial: BTreeMap<BlobHash, (u64, String, Vec<u8>)>,
    /// Refused this session (not retried before the next connection).
    refused: BTreeMap<BlobHash, (ErrorCode, String)>,
    cap: Option<u64>,
    max_bytes: Option<u64>,
}

/// What a received piece of a download did.
pub(crate) enum Piece {
    /// Ask for the rest from this offset.
    More(u64),
    /// Complete and stored.
    Done,
    /// Not a download under way, or inconsistent (dropped).
    Ignored,
}

impl Replica {
    /// What the store holds (at start-up).
    pub fn set_blobs(&mut self, metas: Vec<BlobMeta>) {
        let b = self.blobs_mut();
        b.held = metas.into_iter().map(|m| (m.hash, m)).collect();
    }

    /// The bytes of a pending upload, loaded from the store (at start-up).
    pub fn restore_blob(&mut self, hash: BlobHash, bytes: Vec<u8>) {
        if digest(&bytes) == hash {
            self.blobs_mut().pending_bytes.insert(hash, bytes);
        }
    }

    /// Pending uploads whose bytes are not in memory yet (load them with [`Self::restore_blob`]).
    pub fn pending_blobs_to_restore(&self) -> Vec<BlobHash> {
        let b = self.blobs_ref();
        b.held.values().filter(|m| m.pending && !b.pending_bytes.contains_key(&m.hash)).map(|m| m.hash).collect()
    }

    /// The space fetched attachments may take here (pending uploads are never evicted).
    pub fn set_blob_cap(&mut self, bytes: u64) {
        self.blobs_mut().cap = Some(bytes);
    }

    pub fn blob_cap(&self) -> u64 {
        self.blobs_ref().cap.unwrap_or(DEFAULT_BLOB_CAP)
    }

    /// The largest file this device attaches (the server's limit; 20 MB by default).
    pub fn set_max_blob_bytes(&mut self, bytes: u64) {
        self.blobs_mut().max_bytes = Some(bytes);
    }

    /// Every attachment held here.
    pub fn blobs(&self) -> Vec<BlobMeta> {
        self.blobs_ref().held.values().cloned().collect()
    }

    pub fn blob_meta(&self, hash: &BlobHash) -> Option<&BlobMeta> {
        self.blobs_ref().held.get(hash)
    }

    /// Bytes the attachments held here take.
    pub fn blob_bytes_held(&self) -> u64 {
        self.blobs_ref().held.values().map(|m| m.size).sum()
    }

    pub fn blob_state(&self, hash: &BlobHash) -> BlobState {
        let b = self.blobs_ref();
        if let Some((_, why)) = b.refused.get(hash) {
            return BlobState::Refused(why.clone());
        }
        match b.held.get(hash) {
            Some(m) if m.pending => BlobState::Pending,
            Some(_) => BlobState::Held,
            None if b.wanted.contains(hash) => BlobState::Fetching,
            None => BlobState::Unknown,
        }
    }

    /// Attach a file: checked (a JPEG, PNG, WebP or PDF, not empty, not over the limit),
    /// stored here at once (a store op) and uploaded on the next sync. Returns what a
    /// document records of it. Adding the same content again changes nothing.
    pub fn add_blob(&mut self, bytes: Vec<u8>, name: &str, now: i64) -> Result<BlobRef, CoreError> {
        let max = self.blobs_ref().max_bytes.unwrap_or(DEFAULT_MAX_BLOB_BYTES);
        let r = BlobRef::of(&bytes, name, max).map_err(|e| CoreError::NotAllowed {
            field: "attachment".into(),
            rule: match e {
                protocol::blob::BlobError::TooLarge { .. } => "blob-too-large",
                _ => "blob-type",
            }
            .into(),
            message: e.to_string(),
        })?;
        let hash = digest(&bytes);
        if self.blobs_ref().held.contains_key(&hash) {
            return Ok(r);
        }
        let meta = BlobMeta { hash, mime: r.mime.clone(), size: bytes.len() as u64, pending: true, at: now };
        self.push_ops([StoreOp::PutBlob { hash, mime: r.mime.clone(), bytes: bytes.clone(), pending: true, at: now }]);
        let b = self.blobs_mut();
        b.held.insert(hash, meta);
        b.pending_bytes.insert(hash, bytes);
        b.refused.remove(&hash);
        self.evict_to_cap(Some(hash));
        Ok(r)
    }

    /// Ask for an attachment this device does not hold (fetched on the next sync; a
    /// refusal is forgotten, so asking again retries). Returns its state.
    pub fn want_blob(&mut self, hash: BlobHash) -> BlobState {
        let b = self.blobs_mut();
        if !b.held.contains_key(&hash) {
            b.refused.remove(&hash);
            b.wanted.insert(hash);
        }
        self.blob_state(&hash)
    }

    /// Drop every attachment (the user or device was revoked).
    pub(crate) fn wipe_blobs(&mut self) {
        let all: Vec<BlobHash> = self.blobs_ref().held.keys().copied().collect();
        self.push_ops(all.iter().map(|h| StoreOp::DeleteBlob { hash: *h }));
        *self.blobs_mut() =
            Blobs { cap: self.blobs_ref().cap, max_bytes: self.blobs_ref().max_bytes, ..Default::default() };
    }

    /// Evict fetched attachments, oldest first, until those held fit the cap (the one just
    /// stored, `keep`, stays even when it alone is over).
    fn evict_to_cap(&mut self, keep: Option<BlobHash>) {
        let cap = self.blob_cap();
        let mut total = self.blob_bytes_held();
        let mut victims: Vec<(i64, BlobHash, u64)> = self
            .blobs_ref()
            .held
            .values()
            .filter(|m| !m.pending && Some(m.hash) != keep)
            .map(|m| (m.at, m.hash, m.size))
            .collect();
        victims.sort();
        let mut ops = Vec::new();
        for (_, hash, size) in victims {
            if total <= cap {
                break;
            }
            total -= size;
            self.blobs_mut().held.remove(&hash);
            ops.push(StoreOp::DeleteBlob { hash });
        }
        self.push_ops(ops);
    }

    // ---- for the sync engine ------------------------------------------------------

    /// Uploads to start: pending, not refused this session.
    pub(crate) fn uploads_waiting(&self) -> Vec<(BlobHash, u64)> {
        let b = self.blobs_ref();
        b.pending_bytes
            .iter()
            .filter(|(h, _)| !b.refused.contains_key(*h))
            .map(|(h, bytes)| (*h, bytes.len() as u64))
            .collect()
    }

    pub(crate) fn upload_bytes(&self, hash: &BlobHash) -> Option<&[u8]> {
        self.blobs_ref().pending_bytes.get(hash).map(Vec::as_slice)
    }

    pub(crate) fn blob_uploaded(&mut self, hash: BlobHash) {
        let b = self.blobs_mut();
        b.pending_bytes.remove(&hash);
        if let Some(m) = b.held.get_mut(&hash) {
            m.pending = false;
        }
        self.push_ops([StoreOp::BlobUploaded { hash }]);
        self.evict_to_cap(None);
    }

    pub(crate) fn blob_refused(&mut self, hash: BlobHash, code: ErrorCode, message: String) {
        let b = self.blobs_mut();
        b.wanted.remove(&hash);
        b.partial.remove(&hash);
        b.refused.insert(hash, (code, message));
    }

    /// Refusals are for one connection: the next one tries again.
    pub(crate) fn forget_refusals(&mut self) {
        self.blobs_mut().refused.clear();
    }

    /// Downloads to ask for, each from where it is.
    pub(crate) fn downloads_waiting(&self) -> Vec<(BlobHash, u64)> {
        let b = self.blobs_ref();
        b.wanted
            .iter()
            .filter(|h| !b.refused.contains_key(*h) && !b.held.contains_key(*h))
            .map(|h| (*h, b.partial.get(h).map_or(0, |(_, _, bytes)| bytes.len() as u64)))
            .collect()
    }

    /// A piece of a download arrived.
    pub(crate) fn download_piece(
        &mut self,
        hash: BlobHash,
        size: u64,
        mime: String,
        offset: u64,
        bytes: Vec<u8>,
        now: i64,
    ) -> Piece {
        let b = self.blobs_mut();
        if !b.wanted.contains(&hash) {
            return Piece::Ignored;
        }
        let entry = b.partial.entry(hash).or_insert_with(|| (size, mime.clone(), Vec::new()));
        if entry.2.len() as u64 != offset || entry.0 != size || (bytes.is_empty() && offset < size) {
            b.partial.remove(&hash);
            return Piece::Ignored;
        }
        entry.2.extend_from_slice(&bytes);
        if (entry.2.len() as u64) < size {
            return Piece::More(entry.2.len() as u64);
        }
        let (_, mime, whole) = b.partial.remove(&hash).expect("held above");
        b.wanted.remove(&hash);
        if digest(&whole) != hash {
            b.refused.insert(hash, (ErrorCode::BlobMismatch, "the server sent other bytes".into()));
            return Piece::Ignored;
        }
        let meta = BlobMeta { hash, mime: mime.clone(), size, pending: false, at: now };
        b.held.insert(hash, meta);
        self.push_ops([StoreOp::PutBlob { hash, mime, bytes: whole, pending: false, at: now }]);
        self.evict_to_cap(Some(hash));
        Piece::Done
    }

    /// Another writer of this device (a browser tab) stored this attachment op.
    pub(crate) fn apply_peer_blob(&mut self, op: &StoreOp) {
        let b = self.blobs_mut();
        match op {
            StoreOp::PutBlob { hash, mime, bytes, pending, at } => {
                let meta =
                    BlobMeta { hash: *hash, mime: mime.clone(), size: bytes.len() as u64, pending: *pending, at: *at };
                b.held.insert(*hash, meta);
                b.wanted.remove(hash);
                if *pending {
                    b.pending_bytes.insert(*hash, bytes.clone());
                }
            }
            StoreOp::BlobUploaded { hash } => {
                b.pending_bytes.remove(hash);
                if let Some(m) = b.held.get_mut(hash) {
                    m.pending = false;
                }
            }
            StoreOp::DeleteBlob { hash } => {
                b.held.remove(hash);
                b.pending_bytes.remove(hash);
            }
            _ => {}
        }
    }

    /// Is any attachment work left that a connection could do?
    pub(crate) fn blob_work_left(&self) -> bool {
        !self.uploads_waiting().is_empty() || !self.downloads_waiting().is_empty()
    }
}
