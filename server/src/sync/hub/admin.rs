//! The hub's side of admin commands and of its periodic tick.

use super::{Accepted, Author, FrameWork, Hub, SERVER_ACTOR, resolve_facts, scalar_changes};
use crate::access::facts::own_facts;
use crate::admin::{ADMIN_AUTHOR, AdminCommand};
use crate::sync::doc_state::{DocMeta, DocState};
use crate::sync::hub_event::Outgoing;
use automerge::{ActorId, transaction::CommitOptions};
use protocol::schema::customer;
use protocol::{DocId, DocKind, ErrorCode};

impl Hub {
    /// Close connections whose token has expired; carry out queued admin commands.
    pub(super) fn tick(&mut self, now: i64, out: &mut Vec<Outgoing>) {
        self.close_where(|s| s.expires_at <= now, ErrorCode::TokenExpired, ErrorCode::TokenExpired.describe(), out);
        if self.db.is_shared() {
            self.absorb_foreign_on_tick(out);
            self.apply_foreign_admin(out);
        }
        match self.db.try_lead() {
            Ok(true) => {
                self.run_admin_commands_into(now, out);
                self.run_wakeups(now, out);
            }
            Ok(false) => {}
            Err(e) => tracing::error!(error = %e, "cannot tell whether this node leads"),
        }
    }

    /// Carry out every queued admin command (used by the command line when no server
    /// runs; the server does it on every tick).
    pub fn run_admin_commands(&mut self, now: i64) -> Vec<Outgoing> {
        self.now = now;
        let mut out = Vec::new();
        self.run_admin_commands_into(now, &mut out);
        out
    }

    fn run_admin_commands_into(&mut self, now: i64, out: &mut Vec<Outgoing>) {
        let pending = match self.db.pending_admin_commands() {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(error = %e, "cannot read the admin command queue");
                return;
            }
        };
        for row in pending {
            let result = match serde_json::from_str::<AdminCommand>(&row.command) {
                Ok(cmd) => self.admin_command(&cmd, now, out),
                Err(e) => Err(format!("not a command this server understands: {e}")),
            };
            let (ok, message) = match result {
                Ok(m) => (true, m),
                Err(m) => (false, m),
            };
            tracing::info!(id = row.id, command = row.command, ok, message, "admin command");
            if let Err(e) = self.db.finish_admin_command(row.id, ok, &message, self.now) {
                tracing::error!(id = row.id, error = %e, "cannot record an admin command's outcome");
            }
        }
    }

    /// Close this node's connections of a disabled user or a revoked device (`cmd`); how
    /// many. Every node does it for the commands it sees (see `peers`); other commands
    /// close nothing.
    pub(super) fn close_revoked(&mut self, cmd: &AdminCommand, out: &mut Vec<Outgoing>) -> usize {
        match cmd {
            AdminCommand::CloseUser { user } => {
                let message = format!("user {user} has been disabled");
                self.close_where(|s| &s.user == user, ErrorCode::Revoked, &message, out)
            }
            AdminCommand::CloseDevice { device } => {
                let message = format!("device {device} has been revoked");
                self.close_where(|s| &s.device_id == device, ErrorCode::Revoked, &message, out)
            }
            AdminCommand::CloseToken { token_hash } => self.close_token(token_hash, out),
            _ => 0,
        }
    }

    fn admin_command(&mut self, cmd: &AdminCommand, now: i64, out: &mut Vec<Outgoing>) -> Result<String, String> {
        match cmd {
            AdminCommand::CloseUser { user } => {
                let n = self.close_revoked(cmd, out);
                Ok(format!("closed {n} open connection(s) of {user}"))
            }
            AdminCommand::CloseDevice { device } => {
                let n = self.close_revoked(cmd, out);
                Ok(format!("closed {n} open connection(s) of device {device}"))
            }
            AdminCommand::CloseToken { .. } => {
                let n = self.close_revoked(cmd, out);
                Ok(format!("closed {n} open connection(s) of the ended login"))
            }
            AdminCommand::Reassign { customer, territory, owner } => {
                // Under the write lock from the start: the customer is read as stored now.
                if let Err(e) = self.begin_write(out) {
                    tracing::error!(error = %e, "reassign failed");
                    return Err(ErrorCode::Internal.describe().to_string());
                }
                let result = self.reassign(*customer, territory, owner.as_deref(), now, out);
                if self.db.in_transaction() {
                    self.db.rollback();
                }
                result
            }
            AdminCommand::PublishPolicy { policy } => self.publish_policy((**policy).clone(), ADMIN_AUTHOR, now, out),
        }
    }

    /// Move a customer to `territory` (and `owner`) with a change made by the server; its
    /// visits and orders follow, and every connected device is told at once. Runs inside
    /// the write transaction its caller began; commits it when something changed.
    fn reassign(
        &mut self,
        id: DocId,
        territory: &str,
        owner: Option<&str>,
        now: i64,
        out: &mut Vec<Outgoing>,
    ) -> Result<String, String> {
        let territory = territory.trim();
        if territory.is_empty() {
            return Err("the territory may not be empty".into());
        }
        let internal = |e: crate::storage::DbError| {
            tracing::error!(error = %e, "reassign failed");
            ErrorCode::Internal.describe().to_string()
        };
        if let Some(o) = owner
            && self.db.user(o.trim()).map_err(internal)?.is_none()
        {
            return Err(format!("owner '{}' is not a user", o.trim()));
        }
        let meta = match self.db.doc(id.as_bytes()).map_err(internal)? {
            Some(row) => DocMeta::try_from(row).map_err(internal)?,
            None => return Err(format!("no customer {id} on this server")),
        };
        if meta.kind != DocKind::Customer {
            return Err(format!("document {id} is a {}, not a customer", meta.kind));
        }
        if !self.cache.contains(&id) {
            let stored = self.db.load_doc(id.as_bytes()).map_err(internal)?.ok_or("the customer vanished")?;
            let (_, state) = DocState::load(stored).map_err(internal)?;
            self.cache.insert(id, state);
        }
        let state = self.cache.get_mut(&id).ok_or("the customer vanished")?;
        let before_heads = state.doc.get_heads();
        let mut scratch = state.doc.fork().with_actor(ActorId::from(SERVER_ACTOR.as_slice()));
        customer::reassign(&mut scratch, territory, owner).map_err(|e| e.to_string())?;
        scratch
            .commit_with(CommitOptions::default().with_message("reassigned by an administrator").with_time(now / 1000));
        let new_changes = scratch.get_changes(&before_heads);
        if new_changes.is_empty() {
            return Ok(format!("customer {id} is already in {territory}; nothing to do"));
        }
        let fields = protocol::schema::root_keys_written(&mut scratch, &new_changes).map_err(|e| e.to_string())?;
        let values = scalar_changes(&state.doc, &scratch, &fields);
        let (was_stored, chunk_count, snapshot_seq) = (state.stored, state.chunk_count, state.snapshot_seq);
        let old_territory = meta.facts.territory.clone();
        let after = resolve_facts(&*self.db, DocKind::Customer, own_facts(DocKind::Customer, &scratch), None, None)
            .map_err(internal)?;
        let accepted = Accepted {
            id,
            kind: DocKind::Customer,
            scratch,
            new_changes,
            was_stored,
            chunk_count,
            snapshot_seq,
            before: Some(meta.facts),
            after,
            fields,
            values,
        };
        let mut work = FrameWork::default();
        let mut outputs = Vec::new();
        let author = Author { user: ADMIN_AUTHOR, device: None };
        let stored = (|| {
            let (_, relay, moved) = self.store_accepted(&mut work, accepted, &author)?;
            self.relay(None, &[relay], &moved, &mut outputs)?;
            Ok::<_, crate::storage::DbError>(moved.len())
        })();
        let moved = match stored.and_then(|n| self.db.commit().map(|()| n)) {
            Ok(n) => n,
            Err(e) => {
                self.db.rollback();
                return Err(internal(e));
            }
        };
        for (id, state) in work.docs {
            self.cache.insert(id, state);
        }
        self.max_seq = self.max_seq.max(work.max_seq);
        out.extend(outputs);
        let children = moved.saturating_sub(usize::from(old_territory.as_deref() != Some(territory)));
        tracing::info!(customer = %id, from = ?old_territory, to = territory, children, "customer reassigned");
        Ok(format!(
            "customer {id} moved from {} to {territory}{}; {children} of its records (visits, orders) followed",
            old_territory.as_deref().unwrap_or("(no territory)"),
            owner.map(|o| format!(" (owner {})", o.trim())).unwrap_or_default()
        ))
    }
}
