//! A store held in memory that applies [`StoreOp`]s exactly as the durable drivers do
//! (SQLite natively, IndexedDB in the browser). For tests, benchmarks and simulations.

use crate::{CoreError, InboxItem, Replica, StoreOp, StoredDoc};
use automerge::ActorId;
use protocol::{DocId, DocKind};
use std::collections::BTreeMap;

#[derive(Clone, Debug, Default)]
pub struct MemStore {
    pub docs: BTreeMap<DocId, StoredDoc>,
    pub cursor: u64,
    pub inbox: Vec<InboxItem>,
}

impl MemStore {
    pub fn apply(&mut self, ops: Vec<StoreOp>) {
        for op in ops {
            match op {
                StoreOp::AppendChunk { id, kind, bytes } => self.doc(id, kind).chunks.push(bytes),
                StoreOp::Compact { id, kind, snapshot } => self.doc(id, kind).chunks = vec![snapshot],
                StoreOp::SetServerHeads { id, kind, heads } => self.doc(id, kind).server_heads = heads,
                StoreOp::SetCursor(c) => self.cursor = c,
                StoreOp::AddInbox(i) => self.inbox.push(i),
                StoreOp::DeleteDoc { id } => {
                    self.docs.remove(&id);
                }
            }
        }
    }

    fn doc(&mut self, id: DocId, kind: DocKind) -> &mut StoredDoc {
        self.docs.entry(id).or_insert(StoredDoc { id, kind, chunks: vec![], server_heads: vec![] })
    }

    /// A replica over what is stored, as a device restarting would load it.
    pub fn load(&self, actor: ActorId, user: &str) -> Result<Replica, CoreError> {
        Replica::load(actor, user, self.docs.values().cloned().collect(), self.cursor, self.inbox.clone())
    }
}
