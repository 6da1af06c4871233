//! The hub's side of post-sync validation: the context validators run in
//! ([`crate::validation::ValidationCx`]) — documents as this frame and batch left them,
//! the server's own edits stored in the open transaction — and publishing the price policy
//! from the command line.

use super::{Accepted, Author, FrameWork, Hub, Moved, Relay, SERVER_ACTOR, resolve_facts, scalar_changes};
use crate::access::facts::own_facts;
use crate::storage::{DbError, Storage};
use crate::sync::doc_cache::DocCache;
use crate::sync::doc_state::{DocMeta, DocState};
use crate::validation::{self, Changed, VALIDATION_AUTHOR, ValidationCx};
use automerge::transaction::CommitOptions;
use automerge::{ActorId, AutoCommit};
use protocol::kinds::{Entry, Scalar};
use protocol::pricing::Policy;
use protocol::schema::SchemaError;
use protocol::schema::policy_doc::{self, POLICY_DOC_ID, PublishedPolicy};
use protocol::{DocId, DocKind};
use std::collections::HashMap;
use std::sync::Arc;

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

    /// Run every validator for the changes of a frame, inside its transaction; returns the
    /// server's changes to relay.
    pub(super) fn validate(
        &mut self,
        batch: Option<&mut HashMap<DocId, DocState>>,
        work: &mut FrameWork,
        changes: &[Changed],
    ) -> Result<Vec<ServerChange>, DbError> {
        if changes.is_empty() {
            return Ok(Vec::new());
        }
        let mut cx = HubCx { hub: self, batch, work, out: Vec::new() };
        validation::run(changes, &mut cx)?;
        Ok(cx.out)
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
        self.begin_write(out).map_err(internal)?;
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
            let entry = Entry {
                id: String::new(),
                values: [("published_at".to_string(), Scalar::Time(now))].into_iter().collect(),
            };
            let change = Changed {
                kind: DocKind::Policy,
                id: POLICY_DOC_ID,
                created: first,
                fields: ["versions".to_string()].into_iter().collect(),
                new_entries: vec![("versions", vec![entry])],
            };
            let verdicts = self.validate(None, &mut work, &[change])?;
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

impl Hub {
    /// Run the validators whose wake-ups are due at `now` (an SLA clock warns or runs out
    /// while nobody pushes anything), in one transaction; what they write is relayed to
    /// every reader.
    pub(super) fn run_wakeups(&mut self, now: i64, out: &mut Vec<crate::sync::hub_event::Outgoing>) {
        let due = match self.db.due_wakeups(now, 64) {
            Ok(d) if d.is_empty() => return,
            Ok(d) => d,
            Err(e) => {
                tracing::error!(error = %e, "cannot read the wake-ups");
                return;
            }
        };
        self.now = now;
        if let Err(e) = self.begin_write(out) {
            tracing::error!(error = %e, "cannot start a transaction for the wake-ups");
            return;
        }
        let mut work = FrameWork::default();
        let mut outputs = Vec::new();
        let result = (|| -> Result<usize, DbError> {
            let mut cx = HubCx { hub: self, batch: None, work: &mut work, out: Vec::new() };
            let ran = validation::run_due(&due, &mut cx)?;
            let changes = std::mem::take(&mut cx.out);
            let (relays, moved): (Vec<Relay>, Vec<Vec<Moved>>) = changes.into_iter().unzip();
            let moved: Vec<Moved> = moved.into_iter().flatten().collect();
            if !relays.is_empty() {
                self.relay(None, &relays, &moved, &mut outputs)?;
            }
            Ok(ran)
        })();
        match result.and_then(|ran| self.db.commit().map(|()| ran)) {
            Ok(ran) => {
                for (id, state) in work.docs {
                    self.cache.insert(id, state);
                }
                self.max_seq = self.max_seq.max(work.max_seq);
                self.stats.add_documents(work.new_docs);
                out.extend(outputs);
                tracing::debug!(ran, "wake-ups");
            }
            Err(e) => {
                self.db.rollback();
                tracing::error!(error = %e, "running the wake-ups failed; rolled back");
            }
        }
    }
}

/// The hub as validators see it, for one frame (or one admin change).
struct HubCx<'h, 'b> {
    hub: &'h mut Hub,
    batch: Option<&'b mut HashMap<DocId, DocState>>,
    work: &'h mut FrameWork,
    out: Vec<ServerChange>,
}

impl ValidationCx for HubCx<'_, '_> {
    fn now(&self) -> i64 {
        self.hub.now
    }

    fn storage(&self) -> &dyn Storage {
        &*self.hub.db
    }

    fn doc(&mut self, id: DocId) -> Result<Option<(DocKind, &AutoCommit)>, DbError> {
        let state =
            current_state(&mut self.hub.cache, &*self.hub.db, self.batch.as_deref_mut(), &mut self.work.docs, id)?;
        Ok(state.map(|s| (s.kind, &s.doc)))
    }

    fn policy_versions(&mut self) -> Result<Arc<Vec<PublishedPolicy>>, DbError> {
        self.hub.policy_versions(self.batch.as_deref_mut(), self.work)
    }

    fn server_edit(
        &mut self,
        id: DocId,
        kind: DocKind,
        message: &str,
        edit: &mut dyn FnMut(&mut AutoCommit) -> Result<(), SchemaError>,
    ) -> Result<bool, DbError> {
        let now = self.hub.now;
        let change = self.hub.server_edit(
            self.batch.as_deref_mut(),
            self.work,
            id,
            kind,
            VALIDATION_AUTHOR,
            message,
            now,
            edit,
        )?;
        let changed = change.is_some();
        self.out.extend(change);
        Ok(changed)
    }
}
