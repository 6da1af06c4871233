//! Where a replica opened lazily ([`crate::Replica::lazy`]) finds the documents it does not
//! hold in memory. The core does no IO: the driver implements this over its store (the
//! CLI's SQLite profile), and the replica asks it for a document when a mutation needs one
//! it does not hold (a change arriving for it, an acknowledgement, a deletion).

use crate::store_op::StoredDoc;
use protocol::{DocId, DocKind};

/// A document the store holds, as far as a lazy replica needs to know without loading it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SourceEntry {
    pub id: DocId,
    pub kind: DocKind,
    /// The store holds server heads for it (the server sent or acknowledged it).
    pub has_server_heads: bool,
}

/// The driver's store, read on demand. Errors are text: the replica keeps the first one
/// for the driver ([`crate::Replica::take_source_error`]), which stops.
pub trait DocSource: Send {
    /// One document as stored now, or `None` when the store does not hold it.
    fn load(&mut self, id: DocId) -> Result<Option<StoredDoc>, String>;
    /// Every document stored.
    fn entries(&mut self) -> Result<Vec<SourceEntry>, String>;
    /// The documents stored whose parent (their kind's placement field) is `parent`.
    fn children(&mut self, parent: DocId) -> Result<Vec<DocId>, String>;
}
