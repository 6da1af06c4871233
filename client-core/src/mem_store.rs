//! A store held in memory that applies [`StoreOp`]s exactly as the durable drivers do
//! (SQLite natively, IndexedDB in the browser): a [`LocalStore`], checked by the same
//! [`crate::store_contract`] suite. For tests, benchmarks, simulations and the load
//! generator's in-memory devices.

use crate::local_store::{InjectedFailure, LocalStore, StoredState};
use crate::{BlobMeta, CoreError, InboxItem, Replica, StoreOp, StoredDoc};
use automerge::ActorId;
use protocol::{DocId, DocKind};
use std::collections::BTreeMap;

#[derive(Clone, Debug, Default)]
pub struct MemStore {
    pub docs: BTreeMap<DocId, StoredDoc>,
    pub cursor: u64,
    pub inbox: Vec<InboxItem>,
    pub blobs: BTreeMap<protocol::blob::BlobHash, (BlobMeta, Vec<u8>)>,
    fail_after: Option<usize>,
}

impl MemStore {
    /// A replica over what is stored, as a device restarting would load it.
    pub fn load(&self, actor: ActorId, user: &str) -> Result<Replica, CoreError> {
        let mut r = Replica::load(actor, user, self.docs.values().cloned().collect(), self.cursor, self.inbox.clone())?;
        r.set_blobs(self.blobs.values().map(|(m, _)| m.clone()).collect());
        for (m, bytes) in self.blobs.values().filter(|(m, _)| m.pending) {
            r.restore_blob(m.hash, bytes.clone());
        }
        Ok(r)
    }

    /// Make the next batch fail after `ops` of its ops (tests of atomicity).
    pub fn fail_next_batch_after(&mut self, ops: usize) {
        self.fail_after = Some(ops);
    }

    fn doc(&mut self, id: DocId, kind: DocKind) -> &mut StoredDoc {
        self.docs.entry(id).or_insert(StoredDoc { id, kind, chunks: vec![], server_heads: vec![] })
    }
}

impl LocalStore for MemStore {
    type Error = InjectedFailure;

    fn apply(&mut self, ops: &[StoreOp]) -> Result<(), InjectedFailure> {
        // The ops themselves cannot fail here: an injected failure is reported before
        // anything is applied, which is the all-or-nothing outcome.
        if let Some(after) = self.fail_after.take() {
            return Err(InjectedFailure { after });
        }
        for op in ops {
            match op {
                StoreOp::AppendChunk { id, kind, bytes } => self.doc(*id, *kind).chunks.push(bytes.clone()),
                StoreOp::Compact { id, kind, snapshot } => self.doc(*id, *kind).chunks = vec![snapshot.clone()],
                StoreOp::SetServerHeads { id, kind, heads } => self.doc(*id, *kind).server_heads = heads.clone(),
                StoreOp::SetCursor(c) => self.cursor = *c,
                StoreOp::AddInbox(i) => self.inbox.push(i.clone()),
                StoreOp::DeleteDoc { id } => {
                    self.docs.remove(id);
                }
                StoreOp::PutBlob { hash, mime, bytes, pending, at } => {
                    let meta = BlobMeta {
                        hash: *hash,
                        mime: mime.clone(),
                        size: bytes.len() as u64,
                        pending: *pending,
                        at: *at,
                    };
                    self.blobs.insert(*hash, (meta, bytes.clone()));
                }
                StoreOp::BlobUploaded { hash } => {
                    if let Some((m, _)) = self.blobs.get_mut(hash) {
                        m.pending = false;
                    }
                }
                StoreOp::DeleteBlob { hash } => {
                    self.blobs.remove(hash);
                }
            }
        }
        Ok(())
    }

    fn load_all(&mut self) -> Result<StoredState, InjectedFailure> {
        Ok(StoredState {
            docs: self.docs.values().cloned().collect(),
            cursor: self.cursor,
            inbox: self.inbox.clone(),
            blobs: self.blobs.values().map(|(m, _)| m.clone()).collect(),
        })
    }

    fn load_doc(&mut self, id: DocId) -> Result<Option<StoredDoc>, InjectedFailure> {
        Ok(self.docs.get(&id).cloned())
    }

    fn load_blob(&mut self, hash: &protocol::blob::BlobHash) -> Result<Option<Vec<u8>>, InjectedFailure> {
        Ok(self.blobs.get(hash).map(|(_, b)| b.clone()))
    }
}
