//! Post-sync validation and the order's one-time effects, inside the hub's transaction.
//!
//! After the hub stores changes to an order (or to what its price depends on: its
//! customer's channel, a newly published policy version), it re-checks the order
//! ([`crate::validation::order_check`]) and writes the verdict into the order's verdict document
//! ([`protocol::schema::verdict`]) with the server's own actor — only when what the verdict
//! says has changed, so a resend or a reconnect never produces a new change. The verdict is
//! stored in the same transaction as the change that caused it, so it is durable before the
//! pusher's `Ack`, and relayed like any change to everyone who may read the order (the
//! pusher included, before its `Ack`, so a device that synced holds the verdict).
//!
//! When an order's lifecycle first reaches "confirmed" the hub records its assignment to
//! logistics and finance and their notifications — `INSERT OR IGNORE` on keys that name the
//! effect, in the same transaction — and the verdict's `assigned_at` says when.

use super::{Accepted, Author, FrameWork, Hub, Moved, Relay, SERVER_ACTOR, resolve_facts, scalar_changes};
use crate::access::facts::own_facts;
use crate::storage::{AssignmentRow, DbError, Storage};
use crate::sync::doc_cache::DocCache;
use crate::sync::doc_state::{DocMeta, DocState};
use crate::validation::notifications::{ASSIGNED, ASSIGNED_TO, assigned_message};
use crate::validation::order_check::{self, Recheck};
use automerge::transaction::CommitOptions;
use automerge::{ActorId, AutoCommit};
use protocol::pricing::Policy;
use protocol::schema::policy_doc::{self, POLICY_DOC_ID, PublishedPolicy};
use protocol::schema::verdict::{self, verdict_id};
use protocol::schema::{SchemaError, customer, order};
use protocol::{DocId, DocKind, Role};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// Who the audit trail names for the server's own validation changes.
pub const VALIDATION_AUTHOR: &str = "(server)";

/// A stored change the server made, to relay.
pub(super) type ServerChange = (Relay, Vec<Moved>);

/// The current state of a document the server has — this frame's uncommitted one, this
/// batch's, else the committed one (loaded into the cache if needed). `None` if the server
/// does not have it.
pub(super) fn current_state<'a>(
    cache: &'a mut DocCache,
    db: &dyn Storage,
    batch: Option<&'a mut HashMap<DocId, DocState>>,
    work: &'a mut HashMap<DocId, DocState>,
    id: DocId,
) -> Result<Option<&'a mut DocState>, DbError> {
    if work.contains_key(&id) {
        return Ok(work.get_mut(&id));
    }
    if let Some(b) = batch
        && b.contains_key(&id)
    {
        return Ok(b.get_mut(&id));
    }
    if !cache.contains(&id)
        && let Some(stored) = db.load_doc(id.as_bytes())?
    {
        let (_, state) = DocState::load(stored)?;
        cache.insert(id, state);
    }
    Ok(cache.get_mut(&id))
}

impl Hub {
    /// Make a change as the server (`edit` on the document as it now is; a document the
    /// server does not have is created), store it in the open transaction with an audit
    /// entry by `author`. `None` when the edit changes nothing (or cannot apply: logged).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn server_edit(
        &mut self,
        mut batch: Option<&mut HashMap<DocId, DocState>>,
        work: &mut FrameWork,
        id: DocId,
        kind: DocKind,
        author: &str,
        message: &str,
        now: i64,
        edit: impl FnOnce(&mut AutoCommit) -> Result<(), SchemaError>,
    ) -> Result<Option<ServerChange>, DbError> {
        let server = ActorId::from(SERVER_ACTOR.as_slice());
        let (mut scratch, before_heads, stored, chunk_count, snapshot_seq) = match current_state(
            &mut self.cache,
            &*self.db,
            batch.as_deref_mut(),
            &mut work.docs,
            id,
        )? {
            Some(s) if s.kind != kind => {
                tracing::error!(doc = %id, found = %s.kind, wanted = %kind, "cannot write: the id holds another kind");
                return Ok(None);
            }
            Some(s) => {
                let heads = s.doc.get_heads();
                (s.doc.fork().with_actor(server), heads, s.stored, s.chunk_count, s.snapshot_seq)
            }
            None => (AutoCommit::new().with_actor(server), Vec::new(), false, 0, 0),
        };
        if let Err(e) = edit(&mut scratch) {
            tracing::error!(doc = %id, error = %e, "a server change could not be made");
            return Ok(None);
        }
        scratch.commit_with(CommitOptions::default().with_message(message).with_time(now / 1000));
        let new_changes = scratch.get_changes(&before_heads);
        if new_changes.is_empty() {
            return Ok(None);
        }
        let fields = match protocol::schema::root_keys_written(&mut scratch, &new_changes) {
            Ok(f) => f,
            Err(e) => {
                tracing::error!(doc = %id, error = %e, "a server change could not be read back");
                return Ok(None);
            }
        };
        let before_meta = match self.db.doc(id.as_bytes())? {
            Some(row) => Some(DocMeta::try_from(row)?),
            None => None,
        };
        let values = match current_state(&mut self.cache, &*self.db, batch, &mut work.docs, id)? {
            Some(s) => scalar_changes(&s.doc, &scratch, &fields),
            None => scalar_changes(&AutoCommit::new(), &scratch, &fields),
        };
        let before = before_meta.map(|m| m.facts);
        let after = resolve_facts(&*self.db, kind, own_facts(kind, &scratch), before.as_ref(), None)?;
        let accepted = Accepted {
            id,
            kind,
            scratch,
            new_changes,
            was_stored: stored,
            chunk_count,
            snapshot_seq,
            before,
            after,
            fields,
            values,
        };
        let (_, relay, moved) = self.store_accepted(work, accepted, &Author { user: author, device: None })?;
        Ok(Some((relay, moved)))
    }

    /// Every published policy version, as the document now reads (decoded once per state
    /// of the policy document).
    fn policy_versions(
        &mut self,
        batch: Option<&mut HashMap<DocId, DocState>>,
        work: &mut FrameWork,
    ) -> Result<Arc<Vec<PublishedPolicy>>, DbError> {
        let Some(state) = current_state(&mut self.cache, &*self.db, batch, &mut work.docs, POLICY_DOC_ID)? else {
            return Ok(Arc::new(Vec::new()));
        };
        if state.kind != DocKind::Policy {
            return Ok(Arc::new(Vec::new()));
        }
        if let Some((heads, versions)) = &self.policy_cache
            && *heads == state.heads
        {
            return Ok(versions.clone());
        }
        let versions = Arc::new(policy_doc::read(&state.doc));
        self.policy_cache = Some((state.heads.clone(), versions.clone()));
        Ok(versions)
    }

    /// The orders that `rechecks` call for, each once, in a stable order.
    pub(super) fn orders_to_recheck(&self, rechecks: &[Recheck]) -> Result<Vec<DocId>, DbError> {
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        let mut add = |id: DocId, out: &mut Vec<DocId>| {
            if seen.insert(id) {
                out.push(id);
            }
        };
        for r in rechecks {
            match *r {
                Recheck::Order(id) => add(id, &mut out),
                Recheck::OrdersOf(customer) => {
                    for row in self.db.children_of(customer.as_bytes())? {
                        let meta = DocMeta::try_from(row)?;
                        if meta.kind == DocKind::Order && self.db.assignment(meta.id.as_bytes())?.is_none() {
                            add(meta.id, &mut out);
                        }
                    }
                }
                Recheck::OrdersSince(since) => {
                    for raw in self.db.unassigned_orders_since(since)? {
                        if let Some(id) = DocId::from_slice(&raw) {
                            add(id, &mut out);
                        }
                    }
                }
            }
        }
        Ok(out)
    }

    /// Re-check each order and store what changed (verdicts, assignments, notifications) in
    /// the open transaction; returns the server's changes to relay.
    pub(super) fn validate_orders(
        &mut self,
        mut batch: Option<&mut HashMap<DocId, DocState>>,
        work: &mut FrameWork,
        orders: &[DocId],
        now: i64,
    ) -> Result<Vec<ServerChange>, DbError> {
        let mut out = Vec::new();
        for &id in orders {
            if let Some(change) = self.validate_order(batch.as_deref_mut(), work, id, now)? {
                out.push(change);
            }
        }
        Ok(out)
    }

    fn validate_order(
        &mut self,
        mut batch: Option<&mut HashMap<DocId, DocState>>,
        work: &mut FrameWork,
        id: DocId,
        now: i64,
    ) -> Result<Option<ServerChange>, DbError> {
        let order = match current_state(&mut self.cache, &*self.db, batch.as_deref_mut(), &mut work.docs, id)? {
            Some(s) if s.kind == DocKind::Order => match order::read(&s.doc, id) {
                Ok(o) => o,
                Err(e) => {
                    tracing::debug!(doc = %id, error = %e, "not an order that can be checked");
                    return Ok(None);
                }
            },
            _ => return Ok(None),
        };
        if !order_check::is_submitted(&order) {
            return Ok(None);
        }
        self.db.record_order_check(id.as_bytes(), order.created_at, now)?;
        let versions = self.policy_versions(batch.as_deref_mut(), work)?;
        if versions.is_empty() {
            return Ok(None);
        }
        let customer = match order.customer {
            Some(c) => match current_state(&mut self.cache, &*self.db, batch.as_deref_mut(), &mut work.docs, c)? {
                Some(s) if s.kind == DocKind::Customer => customer::read(&s.doc, c).ok(),
                _ => None,
            },
            None => None,
        };
        let pricer = self.db.user(&order.created_by)?.and_then(|u| u.role.parse::<Role>().ok()).unwrap_or(Role::Rep);
        let mut assigned_at = self.db.assignment(id.as_bytes())?.map(|a| a.assigned_at);
        let channel = customer.as_ref().and_then(|c| c.channel);
        let Some(mut checked) = order_check::check(&order, channel, pricer, &versions, assigned_at, now) else {
            return Ok(None);
        };
        if checked.confirmed && assigned_at.is_none() {
            let total = checked.verdict.priced.as_ref().and_then(|p| p.total_fen);
            let row = AssignmentRow {
                order_id: id.as_bytes().to_vec(),
                assigned_at: now,
                customer: order.customer.map(|c| c.as_bytes().to_vec()),
                created_by: order.created_by.clone(),
                total_fen: total,
            };
            if self.db.insert_assignment(&row)? {
                let name = customer.as_ref().map(|c| c.name.as_str());
                for department in ASSIGNED_TO {
                    let message = assigned_message(department, id, name, total);
                    self.db.insert_notification(id.as_bytes(), department, ASSIGNED, now, &message)?;
                }
                tracing::info!(order = %id, "order confirmed: assigned to logistics and finance");
            }
            assigned_at = self.db.assignment(id.as_bytes())?.map(|a| a.assigned_at);
            checked.verdict.assigned_at = assigned_at;
        }
        let vid = verdict_id(id);
        let previous = match current_state(&mut self.cache, &*self.db, batch.as_deref_mut(), &mut work.docs, vid)? {
            Some(s) if s.kind == DocKind::Verdict => verdict::read(&s.doc).ok(),
            _ => None,
        };
        if !order_check::differs(previous.as_ref(), &checked.verdict) {
            return Ok(None);
        }
        let v = checked.verdict;
        tracing::debug!(order = %id, verdict = v.verdict, version = v.policy_version, stale = v.stale, "order checked");
        self.server_edit(
            batch,
            work,
            vid,
            DocKind::Verdict,
            VALIDATION_AUTHOR,
            "order checked against the price policy",
            now,
            |doc| verdict::write(doc, id, &v),
        )
    }

    /// Publish a policy version as the server (`policy import` on the command line): its
    /// number is the file's or one above the latest, whichever is higher. The devices that
    /// are connected get it at once; orders it applies to are re-checked. Returns a report.
    pub(super) fn publish_policy(
        &mut self,
        mut policy: Policy,
        by: &str,
        now: i64,
        out: &mut Vec<crate::sync::hub_event::Outgoing>,
    ) -> Result<String, String> {
        let internal = |e: DbError| {
            tracing::error!(error = %e, "publishing the policy failed");
            protocol::ErrorCode::Internal.describe().to_string()
        };
        if let Err(problems) = policy.validate() {
            let list: Vec<String> = problems.iter().map(|p| p.message.clone()).collect();
            return Err(format!("the policy is not consistent: {}", list.join("; ")));
        }
        self.db.begin().map_err(internal)?;
        let mut work = FrameWork::default();
        let mut outputs = Vec::new();
        let result = (|| -> Result<Result<(u32, usize), String>, DbError> {
            let previous = self.policy_versions(None, &mut work)?;
            let first = previous.is_empty();
            policy.version = policy.version.max(previous.last().map_or(0, |p| p.version).saturating_add(1));
            let version = policy.version;
            let published = self.server_edit(
                None,
                &mut work,
                POLICY_DOC_ID,
                DocKind::Policy,
                by,
                "price policy published",
                now,
                |doc| policy_doc::publish(doc, &policy, now, by),
            )?;
            let Some(published) = published else {
                return Ok(Err("the policy could not be published (see the server log)".into()));
            };
            let since = if first { i64::MIN } else { now };
            let orders = self.orders_to_recheck(&[Recheck::OrdersSince(since)])?;
            let verdicts = self.validate_orders(None, &mut work, &orders, now)?;
            let changed = verdicts.len();
            let (mut relays, mut moved) = (vec![published.0], published.1);
            for (r, m) in verdicts {
                relays.push(r);
                moved.extend(m);
            }
            self.relay(None, &relays, &moved, &mut outputs)?;
            Ok(Ok((version, changed)))
        })();
        let (version, changed) = match result {
            Ok(Ok(v)) => v,
            Ok(Err(message)) => {
                self.db.rollback();
                return Err(message);
            }
            Err(e) => {
                self.db.rollback();
                return Err(internal(e));
            }
        };
        if let Err(e) = self.db.commit() {
            return Err(internal(e));
        }
        for (id, state) in work.docs {
            self.cache.insert(id, state);
        }
        self.max_seq = self.max_seq.max(work.max_seq);
        self.stats.add_documents(work.new_docs);
        out.extend(outputs);
        tracing::info!(version, verdicts = changed, "price policy published");
        Ok(format!("published price policy version {version}; {changed} order verdict(s) changed"))
    }
}
