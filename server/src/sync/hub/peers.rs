//! Several servers on one shared database: what the other nodes stored reaches this node's
//! devices, and this node's memory never goes stale.
//!
//! Every write takes the next numbers of the one global sequence under the cluster-wide
//! write lock (see `storage::postgres`), so "what others stored" is exactly the numbers
//! above the highest this hub has seen. The hub reads them (`absorb_foreign`) right after
//! taking the lock for a write of its own — before loading anything, so it never builds on
//! a stale copy nor skips a number — and on every tick, so devices hear of others' changes
//! within a tick while nothing is written here. Absorbing evicts the changed documents from
//! the cache, forgets the decoded policy, and relays the new bytes (and territory moves) to
//! this node's readers exactly as if they had been pushed here.
//!
//! One node leads (`Storage::try_lead`): it alone carries out queued admin commands and
//! validators' wake-ups; every node closes its own connections of a disabled user or
//! revoked device (`apply_foreign_admin`).

use super::{Hub, Moved, Relay};
use crate::admin::AdminCommand;
use crate::storage::{DbError, i64_from_u64, u64_from_i64};
use crate::sync::doc_state::DocMeta;
use crate::sync::hub_event::Outgoing;
use protocol::DocKind;
use protocol::wire::DocChunk;

impl Hub {
    /// Take the write lock and read what other nodes stored meanwhile. Every write of the
    /// hub starts here.
    pub(super) fn begin_write(&mut self, out: &mut Vec<Outgoing>) -> Result<(), DbError> {
        self.db.begin()?;
        if self.db.is_shared()
            && let Err(e) = self.absorb_foreign(out)
        {
            self.db.rollback();
            return Err(e);
        }
        Ok(())
    }

    /// On a tick: if other nodes stored something, read it under the write lock (so the
    /// chunks and moves read belong to whole transactions).
    pub(super) fn absorb_foreign_on_tick(&mut self, out: &mut Vec<Outgoing>) {
        if !self.db.is_shared() || self.db.in_transaction() {
            return;
        }
        let result = (|| -> Result<(), DbError> {
            if u64_from_i64(self.db.max_seq()?) <= self.max_seq {
                return Ok(());
            }
            self.db.begin()?;
            let absorbed = self.absorb_foreign(out);
            self.db.rollback();
            absorbed
        })();
        if let Err(e) = result {
            tracing::error!(error = %e, "cannot read what other nodes stored");
        }
    }

    /// Inside the write lock: relay what other nodes stored above `self.max_seq`.
    fn absorb_foreign(&mut self, out: &mut Vec<Outgoing>) -> Result<(), DbError> {
        let stored = u64_from_i64(self.db.max_seq()?);
        if stored <= self.max_seq {
            return Ok(());
        }
        let from = self.max_seq;
        let mut relays = Vec::new();
        for row in self.db.docs_changed_since(i64_from_u64(from))? {
            let meta = DocMeta::try_from(row)?;
            self.cache.remove(&meta.id);
            // Compacted past `from`: the whole document (a device applies what it has).
            let after = (meta.snapshot_seq <= from).then_some(i64_from_u64(from));
            let changes = self.db.doc_bytes(meta.id.as_bytes(), after)?;
            relays.push(Relay {
                chunk: DocChunk { id: meta.id, kind: meta.kind, heads: meta.heads, changes },
                seq: meta.last_seq,
                facts: meta.facts.rules_facts(),
            });
        }
        relays.sort_by_key(|r| r.seq);
        let mut moved = Vec::new();
        for m in self.db.moves_since(i64_from_u64(from))? {
            let (id, old) = super::moved_facts(&m, m.old_territory.clone())?;
            let (_, new) = super::moved_facts(&m, m.new_territory.clone())?;
            self.cache.remove(&id);
            moved.push(Moved { id, old, new, seq: u64_from_i64(m.seq) });
        }
        if relays.iter().any(|r| r.chunk.kind == DocKind::Policy) {
            self.policy_cache = None;
        }
        tracing::debug!(from, to = stored, docs = relays.len(), moves = moved.len(), "absorbed other nodes' writes");
        self.relay(None, &relays, &moved, out)?;
        self.max_seq = stored.max(relays.iter().map(|r| r.seq).max().unwrap_or(0));
        Ok(())
    }

    /// Commands another node carried out (or will): close this node's connections of a
    /// disabled user or a revoked device too.
    pub(super) fn apply_foreign_admin(&mut self, out: &mut Vec<Outgoing>) {
        let rows = match self.db.admin_commands_after(self.admin_seen) {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(error = %e, "cannot read the admin commands");
                return;
            }
        };
        for row in rows {
            self.admin_seen = self.admin_seen.max(row.id);
            if let Ok(cmd) = serde_json::from_str::<AdminCommand>(&row.command) {
                self.close_revoked(&cmd, out);
            }
        }
    }
}
