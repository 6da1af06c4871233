use crate::InboxItem;
use protocol::blob::BlobHash;
use protocol::wire::Hash;
use protocol::{DocId, DocKind};

/// A write the driver must make durable, in order, in one transaction per batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreOp {
    /// Append an incremental chunk (local edit or received changes) to a document.
    AppendChunk { id: DocId, kind: DocKind, bytes: Vec<u8> },
    /// Replace all stored chunks of a document by one snapshot.
    Compact { id: DocId, kind: DocKind, snapshot: Vec<u8> },
    /// What the server is known to hold durably for this document.
    SetServerHeads { id: DocId, kind: DocKind, heads: Vec<Hash> },
    /// Every change up to this server sequence number has been received.
    SetCursor(u64),
    /// A refused edit for the inbox.
    AddInbox(InboxItem),
    /// The user may no longer read this document: delete it and its chunks.
    DeleteDoc { id: DocId },
    /// An attachment's bytes (replacing what is held under its hash): added on this device
    /// and not on the server yet (`pending`: kept until it is uploaded), or a copy fetched
    /// from the server (which the profile's space cap may evict). `at`: when (UTC ms).
    PutBlob { hash: BlobHash, mime: String, bytes: Vec<u8>, pending: bool, at: i64 },
    /// The server holds the attachment: it is no longer pending.
    BlobUploaded { hash: BlobHash },
    /// Drop an attachment's bytes (evicted, or the user may no longer read it).
    DeleteBlob { hash: BlobHash },
}

/// What a store holds of an attachment, without its bytes ([`crate::LocalStore::load_blob`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlobMeta {
    pub hash: BlobHash,
    pub mime: String,
    pub size: u64,
    /// Added here, not uploaded yet.
    pub pending: bool,
    pub at: i64,
}

/// A document as the driver loads it at start-up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredDoc {
    pub id: DocId,
    pub kind: DocKind,
    /// Snapshot and/or incremental chunks, in the order they were stored.
    pub chunks: Vec<Vec<u8>>,
    pub server_heads: Vec<Hash>,
}
