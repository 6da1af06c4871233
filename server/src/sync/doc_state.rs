//! A document loaded in memory, with what the hub needs to know about its storage.

use crate::access::facts::StoredFacts;
use crate::storage::{DbError, DocRow, StoredDoc};
use automerge::AutoCommit;
use protocol::wire::Hash;
use protocol::{DocId, DocKind};

/// A `docs` row converted to protocol types.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocMeta {
    pub id: DocId,
    pub kind: DocKind,
    pub heads: Vec<Hash>,
    pub snapshot_seq: u64,
    pub last_seq: u64,
    pub chunk_count: u64,
    pub facts: StoredFacts,
    /// False for rows stored before the facts were kept (computed at start-up).
    pub facts_known: bool,
}

impl TryFrom<DocRow> for DocMeta {
    type Error = DbError;
    fn try_from(row: DocRow) -> Result<Self, DbError> {
        let id = DocId::from_slice(&row.id).ok_or_else(|| DbError::corrupt("docs", format!("bad id {:?}", row.id)))?;
        let kind = DocKind::from_code(row.kind)
            .ok_or_else(|| DbError::corrupt("docs", format!("doc {id}: kind {}", row.kind)))?;
        Ok(DocMeta {
            id,
            kind,
            heads: heads_from_blob(&row.heads).ok_or_else(|| DbError::corrupt("docs", format!("doc {id}: heads")))?,
            snapshot_seq: crate::storage::u64_from_i64(row.snapshot_seq),
            last_seq: crate::storage::u64_from_i64(row.last_seq),
            chunk_count: crate::storage::u64_from_i64(row.chunk_count),
            facts: StoredFacts {
                kind,
                territory: row.territory,
                parent: row.parent.as_deref().and_then(DocId::from_slice),
                author: row.author,
                assignee: row.assignee,
            },
            facts_known: row.facts_known,
        })
    }
}

/// Heads as stored: concatenated 32-byte hashes.
pub fn heads_to_blob(heads: &[Hash]) -> Vec<u8> {
    heads.concat()
}

pub fn heads_from_blob(blob: &[u8]) -> Option<Vec<Hash>> {
    if !blob.len().is_multiple_of(32) {
        return None;
    }
    Some(
        blob.chunks_exact(32)
            .map(|c| {
                let mut h = [0u8; 32];
                h.copy_from_slice(c);
                h
            })
            .collect(),
    )
}

pub struct DocState {
    pub kind: DocKind,
    pub doc: AutoCommit,
    /// `doc`'s heads (kept so they can be read without `&mut`).
    pub heads: Vec<Hash>,
    pub snapshot_seq: u64,
    pub chunk_count: u64,
    /// False for a document the server has never stored.
    pub stored: bool,
}

impl DocState {
    /// A document the server does not have yet.
    pub fn new(kind: DocKind) -> Self {
        DocState { kind, doc: AutoCommit::new(), heads: Vec::new(), snapshot_seq: 0, chunk_count: 0, stored: false }
    }

    /// Load a stored document (snapshot then chunks).
    pub fn load(stored: StoredDoc) -> Result<(DocId, Self), DbError> {
        let meta = DocMeta::try_from(stored.row)?;
        let doc = AutoCommit::load(&stored.bytes)
            .map_err(|e| DbError::corrupt("changes", format!("doc {}: {e}", meta.id)))?;
        Ok((
            meta.id,
            DocState {
                kind: meta.kind,
                doc,
                heads: meta.heads,
                snapshot_seq: meta.snapshot_seq,
                chunk_count: meta.chunk_count,
                stored: true,
            },
        ))
    }
}
