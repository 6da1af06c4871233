//! Where attachments' bytes live: [`BlobStore`] is the contract — content-addressed
//! files stored whole, and uploads in progress appended chunk by chunk, each chunk durable
//! before the call returns — and [`fs::FsBlobStore`] the implementation on the local disk
//! beside the SQLite file (`DATA/blobs/`). Another engine (PostgreSQL large objects, an
//! object store) implements the same trait and passes the same suite ([`contract`]).
//!
//! What a blob is and who may read it are not the store's business: the service
//! (`crate::blobs`) sniffs types, enforces the size limit and asks storage for
//! references and owners.

pub mod fs;

#[cfg(test)]
pub(crate) mod contract;

use protocol::blob::BlobHash;

pub use fs::FsBlobStore;

#[derive(Debug, thiserror::Error)]
pub enum BlobStoreError {
    #[error("blob store: {0}")]
    Io(#[from] std::io::Error),
    #[error("blob store: {0}")]
    Corrupt(String),
}

/// An upload in progress: one per uploader and content (two devices of one user
/// uploading the same file share it; the offsets keep them consistent).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct UploadKey {
    pub uploader: String,
    pub hash: BlobHash,
}

/// What [`BlobStore::finish`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Finished {
    /// The bytes have the hash: stored (or the same content was stored already: kept once).
    Stored,
    /// The bytes do not have the hash or the size: the upload is discarded.
    Mismatch,
}

/// The contract every blob engine keeps (see the module docs).
pub trait BlobStore: Send + Sync {
    /// The size of a stored blob, `None` if it is not stored whole.
    fn size(&self, hash: &BlobHash) -> Result<Option<u64>, BlobStoreError>;
    /// Up to `len` bytes of a stored blob from `offset` (empty past its end).
    fn read(&self, hash: &BlobHash, offset: u64, len: usize) -> Result<Vec<u8>, BlobStoreError>;
    /// How many bytes of the upload are durable (0 when there is none).
    fn received(&self, upload: &UploadKey) -> Result<u64, BlobStoreError>;
    /// Append `bytes` at `offset` if that is where the upload is; returns where it is now
    /// (unchanged when `offset` is elsewhere). Durable when it returns.
    fn append(&self, upload: &UploadKey, offset: u64, bytes: &[u8]) -> Result<u64, BlobStoreError>;
    /// Complete an upload of `size` bytes: if its bytes have the key's hash, store them
    /// as that blob (once: a blob stored already is kept), durably; otherwise drop them.
    /// The upload is gone afterwards either way.
    fn finish(&self, upload: &UploadKey, size: u64) -> Result<Finished, BlobStoreError>;
    /// Drop an upload (nothing of it stays).
    fn discard(&self, upload: &UploadKey) -> Result<(), BlobStoreError>;
    /// Uploads in progress by `uploader`.
    fn uploads_of(&self, uploader: &str) -> Result<usize, BlobStoreError>;
    /// Drop uploads untouched for longer than `age`; returns how many.
    fn sweep(&self, age: std::time::Duration) -> Result<usize, BlobStoreError>;
    /// Every stored blob with its size (tests, diagnostics).
    fn stored(&self) -> Result<Vec<(BlobHash, u64)>, BlobStoreError>;
}

/// Copy every blob `from` holds that `to` lacks, through `to`'s own upload path (so it
/// verifies each hash); returns (blobs copied, bytes). `jiuloop-server migrate` moves a
/// data directory's attachments into PostgreSQL with it.
pub fn copy_all(from: &dyn BlobStore, to: &dyn BlobStore) -> Result<(u64, u64), BlobStoreError> {
    const PIECE: usize = 1 << 20;
    let (mut blobs, mut bytes) = (0, 0);
    for (hash, size) in from.stored()? {
        if to.size(&hash)?.is_some() {
            continue;
        }
        let upload = UploadKey { uploader: "(migrate)".into(), hash };
        to.discard(&upload)?;
        let mut at = 0u64;
        while at < size {
            let piece = from.read(&hash, at, PIECE)?;
            if piece.is_empty() {
                break;
            }
            at = to.append(&upload, at, &piece)?;
        }
        if to.finish(&upload, size)? != Finished::Stored {
            return Err(BlobStoreError::Corrupt(format!("blob {} does not have its hash", protocol::blob::hex(&hash))));
        }
        blobs += 1;
        bytes += size;
    }
    Ok((blobs, bytes))
}
