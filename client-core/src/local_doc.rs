//! One document as a device holds it: the Automerge document, its kind, and what the
//! server is known to hold of it.

use crate::error::CoreError;
use crate::store_op::{StoreOp, StoredDoc};
use automerge::transaction::CommitOptions;
use automerge::{ActorId, AutoCommit, ChangeHash};
use protocol::wire::{hashes_from_wire, hashes_to_wire};
use protocol::{DocId, DocKind};

/// After this many incremental chunks a document is compacted into one snapshot.
const COMPACT_AFTER_CHUNKS: usize = 64;

pub(crate) struct LocalDoc {
    pub id: DocId,
    pub kind: DocKind,
    pub doc: AutoCommit,
    /// Heads the server acknowledged or sent; everything below them is durable there.
    pub server_heads: Vec<ChangeHash>,
    chunks: usize,
    /// Stamped by [`crate::doc_map::DocMap`] on every mutable access.
    pub rev: u64,
}

impl LocalDoc {
    pub fn new(id: DocId, kind: DocKind, actor: &ActorId) -> Self {
        let doc = AutoCommit::new().with_actor(actor.clone());
        LocalDoc { id, kind, doc, server_heads: Vec::new(), chunks: 0, rev: 0 }
    }

    pub fn load(stored: &StoredDoc, actor: &ActorId) -> Result<Self, CoreError> {
        let mut doc = AutoCommit::new();
        for chunk in &stored.chunks {
            doc.load_incremental(chunk).map_err(|e| CoreError::Corrupt { id: stored.id, reason: e.to_string() })?;
        }
        doc.set_actor(actor.clone());
        Ok(LocalDoc {
            id: stored.id,
            kind: stored.kind,
            doc,
            server_heads: hashes_from_wire(&stored.server_heads),
            chunks: stored.chunks.len(),
            rev: 0,
        })
    }

    /// Run `edit` as one local change. On error the change is rolled back and nothing is
    /// stored. Returns the store op for the new change (None if it changed nothing).
    pub fn edit<T, E>(
        &mut self,
        now: i64,
        edit: impl FnOnce(&mut AutoCommit) -> Result<T, E>,
    ) -> Result<(T, Vec<StoreOp>), E> {
        let before = self.doc.get_heads();
        match edit(&mut self.doc) {
            Ok(v) => {
                self.doc.commit_with(CommitOptions::default().with_time(now / 1000));
                Ok((v, self.stored_since(&before)))
            }
            Err(e) => {
                self.doc.rollback();
                Err(e)
            }
        }
    }

    /// Merge changes another writer of this device has already stored (no store op).
    pub fn merge_stored(&mut self, bytes: &[u8]) -> Result<(), automerge::AutomergeError> {
        self.doc.load_incremental(bytes)?;
        self.chunks += 1;
        Ok(())
    }

    /// Apply changes from the server; returns what to store.
    pub fn apply_remote(&mut self, changes: &[u8]) -> Result<Vec<StoreOp>, automerge::AutomergeError> {
        let before = self.doc.get_heads();
        self.doc.load_incremental(changes)?;
        Ok(self.stored_since(&before))
    }

    fn stored_since(&mut self, before: &[ChangeHash]) -> Vec<StoreOp> {
        if self.doc.get_heads() == before {
            return Vec::new();
        }
        self.chunks += 1;
        // A new document is stored as a snapshot from the start: a snapshot loads about
        // three times faster than the changes it holds, which decides how fast a device
        // (a browser tab above all) holding thousands of documents starts.
        if before.is_empty() || self.chunks > COMPACT_AFTER_CHUNKS {
            self.chunks = 1;
            return vec![StoreOp::Compact { id: self.id, kind: self.kind, snapshot: self.doc.save() }];
        }
        vec![StoreOp::AppendChunk { id: self.id, kind: self.kind, bytes: self.doc.save_after(before) }]
    }

    /// Server heads that this device also has (a head it lacks cannot anchor a diff).
    pub(crate) fn known_server_heads(&mut self) -> Vec<ChangeHash> {
        let heads = self.server_heads.clone();
        heads.into_iter().filter(|h| self.doc.get_change_by_hash(h).is_some()).collect()
    }

    /// Are this device's heads exactly the server's (nothing to send, nothing lacking)?
    pub fn in_sync(&mut self) -> bool {
        let mut heads = self.doc.get_heads();
        let mut server = self.server_heads.clone();
        heads.sort();
        server.sort();
        heads == server
    }

    /// Does the server lack any change this device has?
    pub fn has_unsent(&mut self) -> bool {
        let mut heads = self.doc.get_heads();
        let mut server = self.server_heads.clone();
        heads.sort();
        server.sort();
        if heads == server {
            return false;
        }
        let known = self.known_server_heads();
        !self.doc.get_changes(&known).is_empty()
    }

    /// Does the device lack a change the server has told it about?
    pub fn lacks_server_changes(&mut self) -> bool {
        self.server_heads.clone().iter().any(|h| self.doc.get_change_by_hash(h).is_none())
            || !self.doc.get_missing_deps(&[]).is_empty()
    }

    /// Everything the server lacks, as one chunk of concatenated changes.
    pub fn unsent_changes(&mut self) -> Vec<u8> {
        let known = self.known_server_heads();
        self.doc.save_after(&known)
    }

    pub fn set_server_heads(&mut self, heads: &[protocol::wire::Hash]) -> StoreOp {
        self.server_heads = hashes_from_wire(heads);
        StoreOp::SetServerHeads { id: self.id, kind: self.kind, heads: heads.to_vec() }
    }

    /// Throw away local changes the server refused: back to what the server holds, then
    /// redo, as new changes, the author's edits of the root fields `keep` allows (so one
    /// refused field does not cost the rest of the work). Returns the store ops and the
    /// fields redone. `held_before`: the server heads this device knew before the refusal.
    pub fn restore_to_server(
        &mut self,
        actor: &ActorId,
        now: i64,
        keep: &dyn Fn(&str) -> bool,
        held_before: &[ChangeHash],
    ) -> Result<(Vec<StoreOp>, Vec<String>), protocol::schema::SchemaError> {
        // The server's heads may include changes not received yet (another device's, in
        // the same instant): restore to what this device knew the server held as well, so
        // the restore never starts below the server and re-uses a sequence number it holds.
        let mut known = self.known_server_heads();
        for h in held_before {
            if !known.contains(h) {
                known.push(*h);
            }
        }
        let mut restored = self.doc.fork_at(&known)?;
        restored.set_actor(actor.clone());
        let (redone, _skipped) = protocol::schema::copy_root_fields(&self.doc, &mut restored, keep)?;
        restored.commit_with(CommitOptions::default().with_time(now / 1000));
        self.doc = restored;
        self.chunks = 1;
        Ok((vec![StoreOp::Compact { id: self.id, kind: self.kind, snapshot: self.doc.save() }], redone))
    }

    pub fn heads_wire(&mut self) -> Vec<protocol::wire::Hash> {
        hashes_to_wire(&self.doc.get_heads())
    }
}
