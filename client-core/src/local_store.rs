//! The contract every device store keeps: the native driver's SQLite profile
//! (`cli/src/sqlite_store.rs`), the in-memory [`crate::MemStore`] and, through its async API,
//! the browser's IndexedDB store (`wasm-client/src/idb.rs`). [`crate::store_contract`]
//! checks each of them against the same scenarios.

use crate::{BlobMeta, CoreError, InboxItem, Replica, StoreOp, StoredDoc};
use automerge::ActorId;
use protocol::DocId;

/// Everything a store holds, as a device loads it at start-up.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StoredState {
    /// Every document, each with its chunks in storage order (documents in any order).
    pub docs: Vec<StoredDoc>,
    /// The sync cursor (0 if never set).
    pub cursor: u64,
    /// Refused edits, in the order they were added.
    pub inbox: Vec<InboxItem>,
    /// Every attachment held (bytes apart: [`LocalStore::load_blob`]), in hash order.
    pub blobs: Vec<BlobMeta>,
}

impl StoredState {
    /// The replica a device restarting over this state works with.
    /// Pending uploads' bytes are not in it: give them with [`Replica::restore_blob`].
    pub fn into_replica(self, actor: ActorId, user: impl Into<String>) -> Result<Replica, CoreError> {
        let mut r = Replica::load(actor, user, self.docs, self.cursor, self.inbox)?;
        r.set_blobs(self.blobs);
        Ok(r)
    }
}

/// A device store (synchronous; IndexedDB keeps the same contract through its async
/// API). It holds what a [`crate::Replica`] describes as [`StoreOp`]s: documents as chunks
/// of Automerge bytes (opaque to the store), the server heads known per document, the
/// sync cursor and the inbox of refused edits.
///
/// # Guarantees
///
/// * **One batch, one transaction.** [`LocalStore::apply`] makes every op of the batch
///   durable, or — when it returns an error — none of them: what loads afterwards is what
///   loaded before the batch, and the store can go on being used.
/// * **In order.** Ops take effect in the order given, within a batch and across batches;
///   an op sees the ones before it (a compaction covers a chunk appended earlier in its
///   batch; an append after a deletion re-creates the document).
/// * **AppendChunk** adds the bytes as the document's last chunk, creating the document
///   (with the op's kind and no server heads) if the store does not hold it.
/// * **Compact** replaces exactly the chunks it covers by its snapshot, stored as the
///   document's last chunk: every chunk of the document this store handle has loaded or
///   written (earlier in the batch included). A chunk that another handle on the same
///   storage (a second `jiuloop` process, another browser tab) appended and this one has
///   not loaded stays, since the snapshot may lack its changes. A compaction creates the
///   document if it is not held (say an earlier batch deleted it). Server heads stay.
/// * **SetServerHeads** replaces the document's server heads (creating the document,
///   without chunks, if needed).
/// * **SetCursor** stores the cursor; the last one written wins. Stores do not compare:
///   the replica only ever sets a larger cursor than the one it loaded, so the stored
///   cursor never goes backwards. Never set, it loads as 0.
/// * **AddInbox** appends the item, refused changes byte for byte; items load in the
///   order they were added and stay (deleting their document does not remove them).
/// * **DeleteDoc** removes the document, every chunk of it and its server heads. Deleting
///   a document the store does not hold is no error; a later op re-creates the document
///   from nothing, possibly with another kind.
/// * **PutBlob** stores an attachment's bytes and meta under its hash (replacing both);
///   **BlobUploaded** clears its `pending` flag (nothing when it is not held);
///   **DeleteBlob** removes it (nothing when it is not held). Attachments are apart from
///   documents: deleting a document leaves them. They load as metas ([`StoredState::blobs`],
///   sorted by hash) and their bytes one at a time ([`LocalStore::load_blob`]).
/// * **Loading** gives back every document with its chunks in the order they were stored
///   ([`LocalStore::load_all`]) or one document as stored now ([`LocalStore::load_doc`]);
///   a loaded chunk is covered by this handle's later compactions of its document.
///
/// The ops of one existing document carry the kind it was created with (the replica
/// refuses changes of another kind); a store need not handle anything else.
pub trait LocalStore {
    type Error: std::error::Error;

    /// Make a batch of store ops durable, in order, all or nothing.
    fn apply(&mut self, ops: &[StoreOp]) -> Result<(), Self::Error>;

    /// Everything stored: documents with their chunks and server heads, cursor, inbox.
    fn load_all(&mut self) -> Result<StoredState, Self::Error>;

    /// One document as stored now (after another writer compacted it), or `None`.
    fn load_doc(&mut self, id: DocId) -> Result<Option<StoredDoc>, Self::Error>;

    /// The bytes of an attachment, or `None` when it is not held.
    fn load_blob(&mut self, hash: &protocol::blob::BlobHash) -> Result<Option<Vec<u8>>, Self::Error>;
}

/// The failure a test injected into a store's next batch (see
/// [`crate::store_contract::StoreFactory::fail_next_batch_after`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("injected failure after {after} op(s) of the batch")]
pub struct InjectedFailure {
    pub after: usize,
}
