//! The sync hub: owns the SQLite write connection, the document cache and the registry
//! of connections, and handles events one at a time (see [`crate::sync::hub_runner`] for the
//! thread around it). No network here: [`Hub::handle`] returns the messages to send, so
//! the whole sync protocol is unit-tested without sockets.
//!
//! Ordering: events are processed in order, so every connection receives relays in
//! sequence order, and a catch-up is atomic with respect to relays. Consecutive pushes
//! (from any connections) are group-committed: one transaction, one savepoint per frame,
//! answers held back until the commit is durable.
//!
//! Access: every document's facts (territory, customer, author; [`crate::access::facts`]) are
//! kept in its `docs` row and recomputed after every accepted change. A connection only
//! ever receives documents its user may read ([`crate::access`]); a push is checked
//! field by field before anything of it is applied ([`crate::access::authorize`]). When a
//! customer changes territory, it and its visits and orders move: connections that could
//! read them and no longer can are told to forget them, those that now can get them whole,
//! and the move is recorded with a sequence number so devices that were offline learn of
//! it on their next hello.

mod admin;
mod peers;
mod validate;

use crate::access::authorize::{self, Authorized, Rejection, WriteContext, check_rights};
use crate::access::facts::{OwnFacts, StoredFacts, own_facts};
use crate::access::{self, FORGET_REASON};
use crate::identity::session::Session;
use crate::server_stats::ServerStats;
use crate::storage::{ActorRegistration, DbError, NewAudit, Storage, i64_from_u64, u64_from_i64};
use crate::sync::conn_id::ConnId;
use crate::sync::connections::{ConnState, Connections};
use crate::sync::doc_cache::DocCache;
use crate::sync::doc_state::{DocMeta, DocState, heads_to_blob};
use crate::sync::hub_event::{HubEvent, Outgoing};
use crate::validation::Changed;
use automerge::{AutoCommit, Change};
use protocol::inspect::{Inspected, Limits};
use protocol::kinds::{FieldType, IdRule, Placement};
use protocol::rules::{self, DocFacts, Principal};
use protocol::schema::policy_doc::PublishedPolicy;
use protocol::wire::{DocAck, DocChunk, Hash, Hello, Refusal, batch_by_size, hashes_to_wire};
use protocol::{ClientMsg, DocId, DocKind, ErrorCode, ServerMsg};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

/// The actor of the changes the server itself makes (admin reassignment). No device may
/// register it.
pub const SERVER_ACTOR: &[u8; 16] = b"jiuloop-server\0\0";
const FRAME_SAVEPOINT: &str = "push_frame";

#[derive(Clone, Copy, Debug)]
pub struct HubSettings {
    /// Documents kept loaded.
    pub cache_docs: usize,
    /// Compact a document once it has more than this many chunks.
    pub compact_after: u64,
}

/// A catch-up being sent in pieces: the documents still to send (checked again when
/// read, so a document that moved out of reach meanwhile is not sent).
struct CatchUpJob {
    conn: ConnId,
    principal: Principal,
    cursor: u64,
    /// Moved since the cursor: sent whole.
    moved: HashSet<DocId>,
    /// The documents to send, each with the lowest sequence number above the cursor it
    /// has something at (a chunk, a move; the cursor + 1 when compacted since), lowest
    /// first: once every document below `k` is sent, the device holds everything up to
    /// `k - 1` (see [`CatchUpJob::mark`]).
    pending: std::collections::VecDeque<(DocId, u64)>,
    sent: u32,
    /// The server's sequence when the plan was made: marks never pass it (what is
    /// stored later reaches the device as live relays, not as part of this plan).
    planned_at: u64,
    /// The last cursor told to the device (`CatchUpMark`), the hello's at first.
    marked: u64,
}

impl CatchUpJob {
    /// The cursor the device may store now: everything below the next document's first
    /// sequence number has been sent (documents are sent in that order), capped at the
    /// plan's sequence.
    fn mark(&self) -> u64 {
        match self.pending.front() {
            Some((_, first)) => first.saturating_sub(1).min(self.planned_at),
            None => self.planned_at,
        }
    }
}

/// Bytes of document changes one catch-up piece carries. Small, so that a slow link (a
/// 2G phone at 20 kbit/s takes 7 s for 16 KiB) loses little when it is cut: every piece
/// is followed by a `CatchUpMark` the device stores, and a reconnect resumes from there.
const CATCH_UP_PIECE_BYTES: usize = 16 * 1024;

/// Push frames group-committed at most together (a larger run is committed in pieces, so
/// the first pusher's `Ack` does not wait for hundreds of others).
const MAX_FRAMES_PER_COMMIT: usize = 64;

/// Pushes processed but not yet committed.
#[derive(Default)]
struct PushBatch {
    frames: usize,
    docs: HashMap<DocId, DocState>,
    outputs: Vec<Outgoing>,
    pushers: Vec<ConnId>,
    max_seq: u64,
    new_docs: u64,
}

/// One push frame (or one admin change) being processed, inside its savepoint.
#[derive(Default)]
struct FrameWork {
    docs: HashMap<DocId, DocState>,
    max_seq: u64,
    new_docs: u64,
}

/// A stored chunk to relay to the connections that may read it.
pub(super) struct Relay {
    chunk: DocChunk,
    seq: u64,
    facts: DocFacts,
}

/// A document whose territory changed.
#[derive(Clone, Debug)]
pub(super) struct Moved {
    id: DocId,
    old: DocFacts,
    new: DocFacts,
    seq: u64,
}

enum ChunkOutcome {
    Ack(DocAck),
    /// Answered with `ack` as if the document did not exist (it is out of the writer's
    /// reach), and audited as the refusal it is.
    Hidden {
        ack: DocAck,
        refusal: Refusal,
    },
    Refused(Refusal),
    /// `changed`: what validators see of it; `echo`: the server's own change made with
    /// it (arrival times), which the pusher lacks.
    Stored(Box<Stored>),
}

struct Stored {
    ack: DocAck,
    relay: Relay,
    moved: Vec<Moved>,
    changed: Changed,
    echo: Option<DocChunk>,
}

enum ChunkError {
    /// Fatal for the connection: `bad_changes` or `too_much_work`.
    Bad(ErrorCode, String),
    Db(DbError),
}

impl ChunkError {
    /// A rejection that closes the connection (the others are answered before).
    fn fatal(rejection: Rejection) -> Self {
        match rejection {
            Rejection::TooMuchWork(r) => ChunkError::Bad(ErrorCode::TooMuchWork, r),
            Rejection::BadChanges(r) => ChunkError::Bad(ErrorCode::BadChanges, r),
            other => ChunkError::Bad(ErrorCode::BadChanges, format!("{other:?}")),
        }
    }
}

impl From<DbError> for ChunkError {
    fn from(e: DbError) -> Self {
        ChunkError::Db(e)
    }
}

/// Who made a change, for the audit trail.
struct Author<'a> {
    user: &'a str,
    device: Option<String>,
}

/// New changes of one document that passed every check, ready to store.
struct Accepted {
    id: DocId,
    kind: DocKind,
    scratch: AutoCommit,
    new_changes: Vec<Change>,
    was_stored: bool,
    chunk_count: u64,
    snapshot_seq: u64,
    before: Option<StoredFacts>,
    after: StoredFacts,
    fields: BTreeSet<String>,
    /// (field, old, new) of the root scalars that changed.
    values: Vec<(String, Option<String>, Option<String>)>,
}

pub struct Hub {
    db: Box<dyn Storage>,
    cache: DocCache,
    conns: Connections,
    settings: HubSettings,
    max_seq: u64,
    stats: Arc<ServerStats>,
    /// The published policy versions, decoded, with the policy document's heads they were
    /// read at.
    policy_cache: Option<(Vec<Hash>, Arc<Vec<PublishedPolicy>>)>,
    /// The time of the events being handled (given with them).
    now: i64,
    /// Catch-ups not sent in full yet, in hello order.
    catchups: Vec<CatchUpJob>,
    /// The last admin command this node has looked at (see `peers`).
    admin_seen: i64,
}

impl Hub {
    pub fn new(db: Box<dyn Storage>, settings: HubSettings, stats: Arc<ServerStats>) -> Result<Self, DbError> {
        let max_seq = u64_from_i64(db.max_seq()?);
        let admin_seen = match db.is_shared() {
            true => db.admin_commands_after(0)?.last().map_or(0, |r| r.id),
            false => 0,
        };
        stats.set_documents(u64_from_i64(db.doc_count()?));
        let mut hub = Hub {
            db,
            cache: DocCache::new(settings.cache_docs),
            conns: Connections::default(),
            settings,
            max_seq,
            stats,
            policy_cache: None,
            now: 0,
            catchups: Vec::new(),
            admin_seen,
        };
        hub.compute_missing_facts()?;
        Ok(hub)
    }

    /// The highest sequence number stored.
    pub fn max_seq(&self) -> u64 {
        self.max_seq
    }

    /// Documents currently loaded in memory.
    pub fn cached_docs(&self) -> usize {
        self.cache.len()
    }

    /// Connections known to the hub (opened and not closed).
    pub fn connections(&self) -> usize {
        self.conns.len()
    }

    /// The counters it shares with `/health` and `/metrics`.
    pub fn stats(&self) -> Arc<ServerStats> {
        self.stats.clone()
    }

    /// The storage (for tests and diagnostics).
    pub fn db(&self) -> &dyn Storage {
        &*self.db
    }

    /// Handle one event at `now` (UTC ms: the hub never reads a clock itself).
    pub fn handle(&mut self, event: HubEvent, now: i64) -> Vec<Outgoing> {
        self.handle_batch(std::iter::once(event), now)
    }

    /// Handle events in order at `now`, committing runs of consecutive pushes together.
    pub fn handle_batch(&mut self, events: impl IntoIterator<Item = HubEvent>, now: i64) -> Vec<Outgoing> {
        let mut all = Vec::new();
        self.handle_batch_into(events, now, &mut |out| all.extend(out));
        // Catch-ups in full (the runner sends them in pieces, as connections keep up).
        while !self.catchups.is_empty() {
            all.extend(self.pump_catchups(&|_| true));
        }
        all
    }

    /// Whether catch-ups are still being sent.
    pub fn has_catchups(&self) -> bool {
        !self.catchups.is_empty()
    }

    /// The next piece of every catch-up whose connection has room (`room`), in hello
    /// order; a finished catch-up ends with `CaughtUp`. Reads chunks from storage a piece
    /// at a time: a large download never sits in memory whole.
    pub fn pump_catchups(&mut self, room: &dyn Fn(ConnId) -> bool) -> Vec<Outgoing> {
        let mut out = Vec::new();
        let mut jobs = std::mem::take(&mut self.catchups);
        jobs.retain_mut(|job| {
            if !room(job.conn) {
                return true;
            }
            match self.catch_up_piece(job, &mut out) {
                Ok(more) => more,
                Err(e) => {
                    tracing::error!(conn = %job.conn, error = %e, "catch-up failed");
                    self.fatal(job.conn, ErrorCode::Internal, internal_message(), &mut out);
                    false
                }
            }
        });
        // Catch-ups started meanwhile (none: pieces start no hellos) keep their order.
        jobs.append(&mut self.catchups);
        self.catchups = jobs;
        out
    }

    /// Send the next piece of `job`; `false` when it is finished (`CaughtUp` sent).
    fn catch_up_piece(&mut self, job: &mut CatchUpJob, out: &mut Vec<Outgoing>) -> Result<bool, DbError> {
        if !self.conns.contains_key(&job.conn) {
            return Ok(false);
        }
        let mut chunks = Vec::new();
        let mut bytes = 0;
        while bytes < CATCH_UP_PIECE_BYTES {
            let Some((id, _)) = job.pending.pop_front() else { break };
            let Some(row) = self.db.doc(id.as_bytes())? else { continue };
            let meta = DocMeta::try_from(row)?;
            if !access::may_read(&job.principal, &meta.facts.rules_facts()) {
                continue;
            }
            let whole = job.cursor < meta.snapshot_seq || job.moved.contains(&id);
            let after = (!whole).then_some(i64_from_u64(job.cursor));
            let changes = self.db.doc_bytes(id.as_bytes(), after)?;
            bytes += changes.len();
            chunks.push(DocChunk { id, kind: meta.kind, heads: meta.heads, changes });
        }
        job.sent += u32::try_from(chunks.len()).unwrap_or(u32::MAX);
        for docs in batch_by_size(chunks) {
            out.push(Outgoing { to: vec![job.conn], msg: ServerMsg::Changes { docs, cursor: None } });
        }
        if !job.pending.is_empty() {
            let mark = job.mark();
            if mark > job.marked {
                job.marked = mark;
                out.push(Outgoing { to: vec![job.conn], msg: ServerMsg::CatchUpMark { cursor: mark } });
            }
            return Ok(true);
        }
        tracing::debug!(conn = %job.conn, docs_sent = job.sent, cursor = self.max_seq, "caught up");
        out.push(Outgoing {
            to: vec![job.conn],
            msg: ServerMsg::CaughtUp { cursor: self.max_seq, docs_sent: job.sent },
        });
        Ok(false)
    }

    /// Like [`Hub::handle_batch`], handing the answers to `sink` as soon as they are final:
    /// after each commit (for pushes: durable), after each other event — so a connection's
    /// answer never waits for the rest of the batch.
    pub fn handle_batch_into(
        &mut self,
        events: impl IntoIterator<Item = HubEvent>,
        now: i64,
        sink: &mut dyn FnMut(Vec<Outgoing>),
    ) {
        self.now = now;
        let mut out = Vec::new();
        let mut batch: Option<PushBatch> = None;
        for event in events {
            match event {
                HubEvent::Message { conn, msg: ClientMsg::Push { docs } } if self.is_ready(conn) => {
                    if batch.as_ref().is_some_and(|b| b.frames >= MAX_FRAMES_PER_COMMIT) {
                        if let Some(b) = batch.take() {
                            self.commit_batch(b, &mut out);
                        }
                        sink(std::mem::take(&mut out));
                    }
                    if batch.is_none() {
                        if let Err(e) = self.begin_write(&mut out) {
                            tracing::error!(error = %e, "cannot start a transaction");
                            let (code, message) = storage_failure(&e);
                            self.fatal(conn, code, message, &mut out);
                            continue;
                        }
                        batch = Some(PushBatch::default());
                    }
                    let Some(b) = batch.as_mut() else { continue };
                    b.frames += 1;
                    if let Err(e) = self.push_frame(b, conn, docs)
                        && let Some(b) = batch.take()
                    {
                        self.abort_batch(b, &e, &mut out);
                    }
                }
                other => {
                    if let Some(b) = batch.take() {
                        self.commit_batch(b, &mut out);
                    }
                    self.handle_other(other, &mut out);
                    if !out.is_empty() {
                        sink(std::mem::take(&mut out));
                    }
                }
            }
        }
        if let Some(b) = batch.take() {
            self.commit_batch(b, &mut out);
        }
        if !out.is_empty() {
            sink(out);
        }
    }

    /// After a panic inside `handle_batch`: drop the open transaction and everything
    /// loaded (it is reloaded from storage on demand).
    pub fn recover_after_panic(&mut self) {
        self.db.rollback();
        self.cache.clear();
        self.policy_cache = None;
        match self.db.max_seq() {
            Ok(s) => self.max_seq = u64_from_i64(s),
            Err(e) => tracing::error!(error = %e, "cannot read max seq after panic"),
        }
    }

    fn is_ready(&self, conn: ConnId) -> bool {
        self.conns.get(&conn).is_some_and(|c| c.ready)
    }

    fn handle_other(&mut self, event: HubEvent, out: &mut Vec<Outgoing>) {
        match event {
            HubEvent::Connected { conn, session } => {
                let principal = session.principal();
                self.conns.insert(conn, ConnState { session, principal, ready: false, actors: HashSet::new() });
            }
            HubEvent::Disconnected { conn } => {
                self.conns.remove(&conn);
                self.catchups.retain(|j| j.conn != conn);
            }
            HubEvent::Tick { now } => self.tick(now, out),
            HubEvent::TokenRevoked { token_hash } => {
                let closed = self.close_token(&token_hash, out);
                tracing::debug!(closed, "token revoked");
            }
            HubEvent::Message { conn, msg } => {
                if !self.conns.contains_key(&conn) {
                    return; // already dropped: ignore what was still in flight
                }
                match msg {
                    ClientMsg::Hello(hello) => self.hello(conn, hello, out),
                    ClientMsg::Resync { docs } => self.resync(conn, docs, out),
                    ClientMsg::Push { .. } => {
                        self.fatal(conn, ErrorCode::UnexpectedMessage, "push before hello".into(), out)
                    }
                    // Attachments are handled on the connection's task (`blob_service`).
                    ClientMsg::BlobStart { .. } | ClientMsg::BlobPut { .. } | ClientMsg::BlobGet { .. } => {
                        self.fatal(conn, ErrorCode::UnexpectedMessage, "attachments are not the hub's".into(), out)
                    }
                }
            }
        }
    }

    /// Close the connections opened with the token whose hash is `token_hash` (logout);
    /// how many.
    pub(super) fn close_token(&mut self, token_hash: &str, out: &mut Vec<Outgoing>) -> usize {
        self.close_where(
            |s| !token_hash.is_empty() && s.token_hash == token_hash,
            ErrorCode::Unauthorized,
            "logged out: this login's token was revoked",
            out,
        )
    }

    /// Send `Error` to a connection and forget it (its task closes the socket).
    fn fatal(&mut self, conn: ConnId, code: ErrorCode, message: String, out: &mut Vec<Outgoing>) {
        let user = self.conns.remove(&conn).map(|c| c.session.user).unwrap_or_default();
        self.catchups.retain(|j| j.conn != conn);
        tracing::warn!(%conn, user, code = code.as_str(), message, "closing connection");
        out.push(Outgoing { to: vec![conn], msg: ServerMsg::Error { code, message } });
    }

    /// Close every connection whose session matches; returns how many.
    fn close_where(
        &mut self,
        matches: impl Fn(&Session) -> bool,
        code: ErrorCode,
        message: &str,
        out: &mut Vec<Outgoing>,
    ) -> usize {
        let mut doomed: Vec<ConnId> =
            self.conns.iter().filter(|(_, c)| matches(&c.session)).map(|(id, _)| *id).collect();
        doomed.sort();
        for conn in &doomed {
            self.fatal(*conn, code, message.to_string(), out);
        }
        doomed.len()
    }

    fn hello(&mut self, conn: ConnId, hello: Hello, out: &mut Vec<Outgoing>) {
        let Some(state) = self.conns.get(&conn) else {
            return;
        };
        if state.ready {
            return self.fatal(conn, ErrorCode::UnexpectedMessage, "hello was already received".into(), out);
        }
        let session = state.session.clone();
        let principal = state.principal.clone();
        if hello.device_id != session.device_id {
            return self.fatal(
                conn,
                ErrorCode::Unauthorized,
                format!(
                    "hello is for device {} but the token belongs to device {}",
                    hello.device_id, session.device_id
                ),
                out,
            );
        }
        if let Err(e) = hello.check_limits() {
            return self.fatal(conn, e.code(), e.to_string().replace("malformed message: ", ""), out);
        }
        if hello.actors.iter().any(|a| a.as_slice() == SERVER_ACTOR.as_slice()) {
            return self.fatal(
                conn,
                ErrorCode::ActorNotYours,
                "the server's own actor id may not be claimed".into(),
                out,
            );
        }
        // A cursor past everything stored: this database was restored from an older backup.
        // (Another node may have stored more than this one knows: ask storage only then.)
        match if hello.cursor > self.max_seq { self.db.max_seq() } else { Ok(0) } {
            Ok(stored) if hello.cursor > self.max_seq.max(u64_from_i64(stored)) => {
                tracing::warn!(%conn, cursor = hello.cursor, stored, "a device is ahead of the database: restored?");
                return self.fatal(conn, ErrorCode::CursorAhead, ErrorCode::CursorAhead.describe().into(), out);
            }
            Ok(_) => {}
            Err(e) => {
                tracing::error!(%conn, error = %e, "cannot read the sequence");
                return self.fatal(conn, ErrorCode::Internal, internal_message(), out);
            }
        }
        let now = self.now;
        let actors = match self.db.register_actors(session.device_id, &session.user, &hello.actors, now) {
            Ok(ActorRegistration::Registered(all)) => all,
            Ok(ActorRegistration::Conflict(actor)) => {
                return self.fatal(
                    conn,
                    ErrorCode::ActorNotYours,
                    format!("actor {} is registered to another device", crate::identity::token::hex(&actor)),
                    out,
                );
            }
            Err(e) => {
                tracing::error!(%conn, error = %e, "cannot register actors");
                let (code, message) = storage_failure(&e);
                return self.fatal(conn, code, message, out);
            }
        };
        // One connection per device, the newest (connection ids grow in the order they are
        // accepted): frames of an older one still on their way (its socket died unnoticed,
        // a slow read) must not be applied after the newer one's, which resend them — and
        // may already have been told they are refused.
        let mut others: Vec<ConnId> = self
            .conns
            .iter()
            .filter(|(c, s)| **c != conn && s.session.device_id == session.device_id)
            .map(|(c, _)| *c)
            .collect();
        others.sort();
        if others.last().is_some_and(|newest| *newest > conn) {
            return self.fatal(conn, ErrorCode::Replaced, ErrorCode::Replaced.describe().into(), out);
        }
        for c in others {
            self.fatal(c, ErrorCode::Replaced, ErrorCode::Replaced.describe().into(), out);
        }
        let (forget, pending, moved) = match self.catch_up_plan(&principal, hello.cursor) {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(%conn, error = %e, "catch-up failed");
                return self.fatal(conn, ErrorCode::Internal, internal_message(), out);
            }
        };
        tracing::info!(
            %conn,
            user = session.user,
            device = %session.device_id,
            client = hello.client,
            cursor = hello.cursor,
            docs_to_send = pending.len(),
            forgotten = forget.len(),
            server_cursor = self.max_seq,
            "hello"
        );
        if !forget.is_empty() {
            out.push(Outgoing {
                to: vec![conn],
                msg: ServerMsg::Forget { docs: forget, reason: FORGET_REASON.into() },
            });
        }
        if let Some(state) = self.conns.get_mut(&conn) {
            state.ready = true;
            state.actors = actors.into_iter().collect();
        }
        // From here on the connection gets live relays; the catch-up follows in pieces
        // (`pump_catchups`), each document read as it then is. Its `CaughtUp` cursor is the
        // server's at the end: everything up to it was either in the catch-up or relayed.
        let job = CatchUpJob {
            conn,
            principal,
            cursor: hello.cursor,
            moved,
            pending: pending.into(),
            sent: 0,
            planned_at: self.max_seq,
            marked: hello.cursor,
        };
        self.catchups.push(job);
    }

    /// What a device that has everything up to `cursor` must be told: `Forget` for the
    /// documents that moved out of its reach since, then every readable document changed
    /// (or moved in) since — found in storage, filtered there — then `CaughtUp`. Returns
    /// the documents to forget, those to send (ids only) and those moved since.
    /// Those to send come in the order of the first sequence number above the cursor each
    /// has something at, with that number (so the catch-up can mark its progress).
    #[allow(clippy::type_complexity)]
    fn catch_up_plan(
        &self,
        principal: &Principal,
        cursor: u64,
    ) -> Result<(Vec<DocId>, Vec<(DocId, u64)>, HashSet<DocId>), DbError> {
        let mut forget = Vec::new();
        let mut moved = HashSet::new();
        // doc → the first move after the cursor
        let mut first_move: HashMap<DocId, u64> = HashMap::new();
        if cursor > 0 {
            // doc → (could read it at some point since the cursor, facts now)
            let mut seen: BTreeMap<DocId, (bool, DocFacts)> = BTreeMap::new();
            for m in self.db.moves_since(i64_from_u64(cursor))? {
                let (id, old) = moved_facts(&m, m.old_territory.clone())?;
                let (_, now) = moved_facts(&m, m.current_territory.clone())?;
                let entry = seen.entry(id).or_insert((false, now));
                entry.0 |= access::may_read(principal, &old);
                moved.insert(id);
                first_move.entry(id).or_insert(u64_from_i64(m.seq));
            }
            forget = seen
                .into_iter()
                .filter(|(_, (was, now))| *was && !access::may_read(principal, now))
                .map(|(id, _)| id)
                .collect();
        }
        let filter = access::read_filter(principal);
        let mut readable = Vec::new();
        for row in self.db.readable_docs_changed_since(i64_from_u64(cursor), &filter)? {
            let meta = DocMeta::try_from(row)?;
            if access::may_read(principal, &meta.facts.rules_facts()) {
                readable.push(meta);
            }
        }
        if readable.is_empty() {
            return Ok((forget, Vec::new(), moved));
        }
        let first_chunk: HashMap<Vec<u8>, i64> = self.db.first_seqs_since(i64_from_u64(cursor))?.into_iter().collect();
        let mut pending: Vec<(DocId, u64)> = readable
            .into_iter()
            .map(|meta| {
                let id = meta.id;
                // Compacted since the cursor: the snapshot holds changes after it whose
                // numbers are gone, so the document counts as changed right after it.
                let first = if cursor < meta.snapshot_seq {
                    cursor + 1
                } else {
                    let chunk = first_chunk.get(id.as_bytes().as_slice()).map(|s| u64_from_i64(*s));
                    match (chunk, first_move.get(&id).copied()) {
                        (Some(c), Some(m)) => c.min(m),
                        (Some(c), None) => c,
                        (None, Some(m)) => m,
                        (None, None) => cursor + 1,
                    }
                };
                (id, first.max(cursor + 1))
            })
            .collect();
        pending.sort_by_key(|(_, first)| *first);
        Ok((forget, pending, moved))
    }

    fn resync(&mut self, conn: ConnId, ids: Vec<DocId>, out: &mut Vec<Outgoing>) {
        let Some(state) = self.conns.get(&conn) else {
            return;
        };
        if !state.ready {
            return self.fatal(conn, ErrorCode::UnexpectedMessage, "resync before hello".into(), out);
        }
        let principal = state.principal.clone();
        let mut seen = HashSet::new();
        let mut chunks = Vec::new();
        let result: Result<(), DbError> = (|| {
            for id in ids {
                if !seen.insert(id) {
                    continue;
                }
                let Some(row) = self.db.doc(id.as_bytes())? else {
                    continue;
                };
                let meta = DocMeta::try_from(row)?;
                if !access::may_read(&principal, &meta.facts.rules_facts()) {
                    continue;
                }
                chunks.push(DocChunk {
                    id,
                    kind: meta.kind,
                    heads: meta.heads,
                    changes: self.db.doc_bytes(id.as_bytes(), None)?,
                });
            }
            Ok(())
        })();
        if let Err(e) = result {
            tracing::error!(%conn, error = %e, "resync failed");
            return self.fatal(conn, ErrorCode::Internal, internal_message(), out);
        }
        tracing::debug!(%conn, docs = chunks.len(), "resync");
        let batches = batch_by_size(chunks);
        if batches.is_empty() {
            out.push(Outgoing { to: vec![conn], msg: ServerMsg::Changes { docs: Vec::new(), cursor: None } });
        }
        out.extend(
            batches.into_iter().map(|docs| Outgoing { to: vec![conn], msg: ServerMsg::Changes { docs, cursor: None } }),
        );
    }

    /// Process one push frame inside the open batch. A `DbError` means the whole batch
    /// must be abandoned.
    fn push_frame(&mut self, batch: &mut PushBatch, conn: ConnId, mut docs: Vec<DocChunk>) -> Result<(), DbError> {
        let Some(state) = self.conns.get(&conn) else {
            return Ok(());
        };
        let actors = state.actors.clone();
        let session = state.session.clone();
        let principal = state.principal.clone();
        let user = session.user.clone();
        if !batch.pushers.contains(&conn) {
            batch.pushers.push(conn);
        }
        // Parents first: a new order's territory is its (maybe also new) customer's.
        docs.sort_by_key(|c| c.kind.depth());
        // Before anything is loaded: every chunk well formed, each push and the frame as
        // a whole within the work limits. Fatal otherwise, whether or not the documents
        // exist (the answer must not tell).
        let inspected = match authorize::check_frame(&docs, &Limits::DEFAULT) {
            Ok(i) => i,
            Err((id, e)) => {
                let mut sink = Vec::new();
                self.fatal(conn, e.code(), format!("document {id}: {e}"), &mut sink);
                batch.outputs.extend(sink);
                return Ok(());
            }
        };
        self.db.savepoint(FRAME_SAVEPOINT)?;
        let mut work = FrameWork::default();
        let mut acks = Vec::new();
        let mut refusals = Vec::new();
        let mut relays = Vec::new();
        let mut moved = Vec::new();
        let mut changes = Vec::new();
        let mut echoes = Vec::new();
        let n_docs = docs.len();
        for (chunk, inspected) in docs.iter().zip(&inspected) {
            let id = chunk.id;
            match self.push_chunk(batch, &mut work, &session, &principal, &actors, (chunk, inspected)) {
                Ok(ChunkOutcome::Ack(ack)) => acks.push(ack),
                Ok(ChunkOutcome::Hidden { ack, refusal: r }) => {
                    tracing::info!(%conn, user, doc = %r.id, rule = r.rule, "answered as unknown");
                    self.audit_refusal(&session, &r)?;
                    acks.push(ack);
                }
                Ok(ChunkOutcome::Refused(r)) => {
                    tracing::info!(%conn, user, doc = %r.id, code = r.code.as_str(), rule = r.rule, path = r.path, "refused");
                    self.audit_refusal(&session, &r)?;
                    // Before the refusal, what the device lacks of the heads it restores to.
                    echoes.extend(self.lacking_before_refusal(batch, &mut work, &principal, &r, chunk, inspected)?);
                    refusals.push(r);
                }
                Ok(ChunkOutcome::Stored(stored)) => {
                    let Stored { ack, relay, moved: m, changed, echo } = *stored;
                    relays.push(relay);
                    moved.extend(m);
                    acks.push(ack);
                    changes.push(changed);
                    echoes.extend(echo);
                }
                Err(ChunkError::Bad(code, reason)) => {
                    self.db.rollback_to(FRAME_SAVEPOINT)?;
                    let mut sink = Vec::new();
                    self.fatal(conn, code, format!("document {id}: {reason}"), &mut sink);
                    batch.outputs.extend(sink);
                    return Ok(());
                }
                Err(ChunkError::Db(e)) => return Err(e),
            }
        }
        // Post-sync validation, in the same transaction: verdicts (and one-time effects) are
        // durable before the pusher's Ack.
        let checked = self.validate(Some(&mut batch.docs), &mut work, &changes)?;
        let mut relay_out = Vec::new();
        if !relays.is_empty() || !moved.is_empty() {
            self.relay(Some(conn), &relays, &moved, &mut relay_out)?;
        }
        // The server's own changes go to every reader, the pusher included.
        let mut server_out = Vec::new();
        if !checked.is_empty() {
            let (server_relays, server_moved): (Vec<Relay>, Vec<Vec<Moved>>) = checked.into_iter().unzip();
            let server_moved: Vec<Moved> = server_moved.into_iter().flatten().collect();
            self.relay(None, &server_relays, &server_moved, &mut server_out)?;
        }
        self.db.release(FRAME_SAVEPOINT)?;
        tracing::debug!(%conn, user, docs = n_docs, stored = relays.len(), refused = refusals.len(), "push");
        batch.docs.extend(work.docs);
        batch.max_seq = batch.max_seq.max(work.max_seq);
        batch.new_docs += work.new_docs;
        // Others get the pushed changes before the server's changes they caused (sequence
        // order); the pusher gets those before its Ack, so a device that has its Ack holds
        // the verdicts on what it sent.
        batch.outputs.extend(relay_out);
        for docs in batch_by_size(echoes) {
            batch.outputs.push(Outgoing { to: vec![conn], msg: ServerMsg::Changes { docs, cursor: None } });
        }
        batch.outputs.extend(server_out);
        if !acks.is_empty() || refusals.is_empty() {
            batch.outputs.push(Outgoing { to: vec![conn], msg: ServerMsg::Ack { docs: acks } });
        }
        if !refusals.is_empty() {
            batch.outputs.push(Outgoing { to: vec![conn], msg: ServerMsg::Refused { refusals } });
        }
        Ok(())
    }

    fn push_chunk(
        &mut self,
        batch: &mut PushBatch,
        work: &mut FrameWork,
        session: &Session,
        principal: &Principal,
        actors: &HashSet<Vec<u8>>,
        (chunk, inspected): (&DocChunk, &Inspected),
    ) -> Result<ChunkOutcome, ChunkError> {
        let id = chunk.id;
        // A kind this role writes no field of is refused whole, before anything is loaded.
        let stored_meta = match self.db.doc(id.as_bytes())? {
            Some(row) => Some(DocMeta::try_from(row)?),
            None => None,
        };
        // A document the user may not read is answered as one that does not exist: the chunk
        // is checked as if it created a new document — the same refusals in the same order,
        // the same acknowledgement of nothing new or of missing dependencies — and what would
        // be stored is refused as a write outside the user's territories, which is what
        // creating a document there gets.
        let hidden = stored_meta.as_ref().is_some_and(|m| !access::may_read(principal, &m.facts.rules_facts()));
        let stored_meta = if hidden { None } else { stored_meta };
        let mut fresh = None;
        let state: &mut DocState = if hidden {
            None
        } else if work.docs.contains_key(&id) {
            work.docs.get_mut(&id)
        } else if batch.docs.contains_key(&id) {
            batch.docs.get_mut(&id)
        } else {
            if !self.cache.contains(&id)
                && let Some(stored) = self.db.load_doc(id.as_bytes())?
            {
                let (_, state) = DocState::load(stored)?;
                self.cache.insert(id, state);
            }
            self.cache.get_mut(&id)
        }
        .unwrap_or_else(|| fresh.insert(DocState::new(chunk.kind)));
        if !rules::writes_any(chunk.kind, principal.role) {
            // A document the user reads carries the server's heads, so the device restores
            // what it holds to them instead of to nothing.
            let mut refusal = authorize::kind_not_writable(principal, id, chunk.kind);
            if state.stored && state.kind == chunk.kind {
                refusal.server_heads = state.heads.clone();
            }
            return Ok(ChunkOutcome::Refused(refusal));
        }

        if state.stored && state.kind != chunk.kind {
            return Ok(ChunkOutcome::Refused(Refusal {
                id,
                kind: chunk.kind,
                code: ErrorCode::KindMismatch,
                path: String::new(),
                rule: "doc-kind".into(),
                message: format!("document {id} is a {} on the server, not a {}", state.kind, chunk.kind),
                server_heads: state.heads.clone(),
            }));
        }
        let server_ack = DocAck { id, heads: state.heads.clone(), seq: 0 };
        // Changes whose dependencies the server lacks: "resend from these heads". For a
        // document out of reach that is what an unknown one gets, and the attempt is audited.
        let missing_deps = |ack: DocAck| match hidden {
            true => ChunkOutcome::Hidden { ack, refusal: authorize::out_of_reach(principal, id, chunk.kind) },
            false => ChunkOutcome::Ack(ack),
        };
        let mut authorized =
            match authorize::authorize_inspected(&mut state.doc, chunk, inspected, actors, &Limits::DEFAULT) {
                Ok(a) => a,
                Err(Rejection::MissingDeps) => return Ok(missing_deps(server_ack)),
                Err(Rejection::Refused(r)) => return Ok(ChunkOutcome::Refused(r)),
                Err(fatal) => return Err(ChunkError::fatal(fatal)),
            };
        if authorized.new_changes.is_empty() {
            return Ok(ChunkOutcome::Ack(server_ack));
        }
        let kind = state.kind;
        let before = stored_meta.as_ref().map(|m| m.facts.clone());
        let own = own_facts(kind, &authorized.scratch);
        let after = resolve_facts(&*self.db, kind, own, before.as_ref(), Some(principal))?;
        let frozen = match kind.spec().freeze {
            Some(f) if before.is_some() => crate::validation::effect_recorded(&*self.db, id, f.effect)?,
            _ => false,
        };
        let before_rules = before.as_ref().map(|b| DocFacts { frozen, ..b.rules_facts() });
        let after_rules = after.rules_facts();
        let ctx = WriteContext {
            principal,
            id,
            kind,
            before: before_rules.as_ref(),
            after: &after_rules,
            server_heads: &state.heads,
        };
        let outcome = |rejection: Rejection| match rejection {
            Rejection::Refused(r) => Ok(ChunkOutcome::Refused(r)),
            Rejection::MissingDeps => Ok(missing_deps(server_ack.clone())),
            fatal => Err(ChunkError::fatal(fatal)),
        };
        let fields = match check_rights(&ctx, &mut authorized) {
            Ok(f) => f,
            Err(rejection) => return outcome(rejection),
        };
        if before.is_none()
            && !hidden
            && let Some(r) = reserved_id(&*self.db, &ctx)?
        {
            return Ok(ChunkOutcome::Refused(r));
        }
        // Inside the append-only logs the rules look at each new entry.
        let before_doc = state.stored.then_some(&state.doc);
        let doc_author = after.author.clone();
        let new_entries = match authorize::check_logs(&ctx, doc_author.as_deref(), before_doc, &mut authorized, &fields)
        {
            Ok(n) => n,
            Err(rejection) => return outcome(rejection),
        };
        if hidden {
            return Ok(ChunkOutcome::Refused(authorize::out_of_reach(principal, id, chunk.kind)));
        }
        // An expense request is approved, a claim reimbursed, only within what its budget
        // has left.
        if let Some(guarded) = crate::validation::expenses::guarded_entry(kind)
            && new_entries.iter().any(|(f, es)| *f == "events" && es.iter().any(|e| e.str("kind") == Some(guarded)))
            && let Some(r) = crate::validation::expenses::over_budget_refusal(
                &*self.db,
                id,
                kind,
                &authorized.scratch,
                &state.heads,
            )?
        {
            return Ok(ChunkOutcome::Refused(r));
        }
        // The server records when it received each new log entry (and a new document), as
        // its own change beside the pushed ones: entries are ordered by arrival everywhere.
        let echo = stamp_arrivals(&mut authorized, id, kind, &new_entries, self.now);
        let changed = Changed { kind, id, created: before.is_none(), fields: fields.clone(), new_entries };
        let Authorized { scratch, new_changes } = authorized;
        let values = scalar_changes(&state.doc, &scratch, &fields);
        let accepted = Accepted {
            id,
            kind,
            scratch,
            new_changes,
            was_stored: state.stored,
            chunk_count: state.chunk_count,
            snapshot_seq: state.snapshot_seq,
            before,
            after,
            fields,
            values,
        };
        let author = Author { user: &session.user, device: Some(session.device_id.to_string()) };
        let (ack, relay, moved) = self.store_accepted(work, accepted, &author)?;
        self.update_blob_refs(work, id, kind, principal)?;
        Ok(ChunkOutcome::Stored(Box::new(Stored { ack, relay, moved, changed, echo })))
    }

    /// Store accepted changes with the document's new facts and an audit entry, move the
    /// customer's visits and orders along if its territory changed. Call inside a
    /// transaction.
    fn store_accepted(
        &mut self,
        work: &mut FrameWork,
        acc: Accepted,
        author: &Author<'_>,
    ) -> Result<(DocAck, Relay, Vec<Moved>), DbError> {
        let Accepted { id, kind, mut scratch, new_changes, was_stored, before, after, fields, values, .. } = acc;
        let mut chunk_count = acc.chunk_count;
        let mut snapshot_seq = acc.snapshot_seq;
        let bytes: Vec<u8> = new_changes.iter().flat_map(|c| c.raw_bytes().iter().copied()).collect();
        let heads = hashes_to_wire(&scratch.get_heads());
        let now = self.now;
        let seq = self.db.store_change(id.as_bytes(), kind.code(), &heads_to_blob(&heads), &bytes, now)?;
        self.db.set_doc_facts(id.as_bytes(), &after.row())?;
        let seq = u64_from_i64(seq);
        chunk_count += 1;
        if chunk_count > self.settings.compact_after {
            let snapshot = scratch.save();
            self.db.compact_doc(id.as_bytes(), &snapshot, i64_from_u64(seq))?;
            chunk_count = 0;
            snapshot_seq = seq;
            tracing::debug!(doc = %id, seq, bytes = snapshot.len(), "compacted");
        }
        if !was_stored {
            work.new_docs += 1;
        }
        work.max_seq = work.max_seq.max(seq);

        let mut moved = Vec::new();
        if let Some(b) = &before
            && b.territory != after.territory
        {
            self.db.record_move(
                id.as_bytes(),
                b.territory.as_deref(),
                after.territory.as_deref(),
                i64_from_u64(seq),
                now,
            )?;
            moved.push(Moved { id, old: b.rules_facts(), new: after.rules_facts(), seq });
        }
        if before.as_ref().is_none_or(|b| b.territory != after.territory) {
            // A new document adopts only the children its own author stored before it (an
            // order pushed before its new customer): creating a document never moves
            // someone else's records.
            let only_by = before.is_none().then_some(author.user);
            moved.extend(self.move_descendants(work, id, after.territory.as_deref(), only_by, now)?);
        }

        let fields_json = serde_json::to_string(&fields).unwrap_or_else(|_| "[]".into());
        let values_json = serde_json::to_string(
            &values
                .iter()
                .map(|(f, old, new)| serde_json::json!({ "field": f, "old": old, "new": new }))
                .collect::<Vec<_>>(),
        )
        .unwrap_or_else(|_| "[]".into());
        self.db.insert_audit(&NewAudit {
            at: now,
            user: author.user,
            device: author.device.as_deref(),
            doc_id: id.as_bytes(),
            kind: kind.code(),
            seq: Some(i64_from_u64(seq)),
            refused: false,
            fields: &fields_json,
            changes: &values_json,
            code: None,
            rule: None,
            message: None,
        })?;

        let facts = after.rules_facts();
        work.docs
            .insert(id, DocState { kind, doc: scratch, heads: heads.clone(), snapshot_seq, chunk_count, stored: true });
        Ok((
            DocAck { id, heads: heads.clone(), seq },
            Relay { chunk: DocChunk { id, kind, heads, changes: bytes }, seq, facts },
            moved,
        ))
    }

    /// Keep the attachments a document references as storage records them: references it
    /// dropped are removed; new ones are recorded as added by the writer — who owns the
    /// file from now on if they could already read it (through another document), so a
    /// file passed on from a document they read stays readable through this one.
    fn update_blob_refs(
        &mut self,
        work: &FrameWork,
        id: DocId,
        kind: DocKind,
        writer: &Principal,
    ) -> Result<(), DbError> {
        if !protocol::schema::record::has_blobs(kind) {
            return Ok(());
        }
        let Some(state) = work.docs.get(&id) else { return Ok(()) };
        let now_refs = protocol::schema::record::blob_refs(&state.doc, kind);
        for h in access::set_blob_refs(&*self.db, id.as_bytes(), &now_refs, &writer.user, self.now)? {
            if !access::is_blob_owner(&*self.db, &h, &writer.user)? && access::may_read_blob(&*self.db, writer, &h)? {
                access::add_blob_owner(&*self.db, &h, &writer.user, self.now)?;
            }
        }
        Ok(())
    }

    /// A document's territory is now `territory`: what hangs off it (a customer's visits
    /// and orders, their verdicts) follows, under one new sequence number — of the direct
    /// children only those stored by `only_by`, when given.
    fn move_descendants(
        &mut self,
        work: &mut FrameWork,
        root: DocId,
        territory: Option<&str>,
        only_by: Option<&str>,
        now: i64,
    ) -> Result<Vec<Moved>, DbError> {
        let mut moved = Vec::new();
        let mut seq = None;
        let mut queue = vec![root];
        let mut seen = HashSet::from([root]);
        while let Some(parent) = queue.pop() {
            for row in self.db.children_of(parent.as_bytes())? {
                let c = DocMeta::try_from(row)?;
                if parent == root && only_by.is_some_and(|u| c.facts.author.as_deref() != Some(u)) {
                    continue;
                }
                if !seen.insert(c.id) {
                    continue;
                }
                queue.push(c.id);
                if c.facts.territory.as_deref() == territory {
                    continue;
                }
                let s = match seq {
                    Some(s) => s,
                    None => *seq.insert(self.db.next_seq()?),
                };
                self.db.record_move(c.id.as_bytes(), c.facts.territory.as_deref(), territory, s, now)?;
                moved.push(Moved {
                    id: c.id,
                    old: c.facts.rules_facts(),
                    new: c.facts.in_territory(territory.map(String::from)),
                    seq: u64_from_i64(s),
                });
            }
        }
        if let Some(s) = seq {
            work.max_seq = work.max_seq.max(u64_from_i64(s));
            tracing::info!(doc = %root, docs = moved.len(), "records follow their customer");
        }
        Ok(moved)
    }

    /// What a device whose push of `chunk` was refused with `r` lacks of the document as
    /// the server holds it ([`authorize::changes_pusher_lacks`]), sent just before the
    /// refusal: the device restores the document to the refusal's server heads, so it
    /// must hold them. `None` when the refusal names no heads (nothing stored, or a
    /// document out of the pusher's reach) or the device lacks nothing.
    fn lacking_before_refusal(
        &mut self,
        batch: &mut PushBatch,
        work: &mut FrameWork,
        principal: &Principal,
        r: &Refusal,
        chunk: &DocChunk,
        inspected: &Inspected,
    ) -> Result<Option<DocChunk>, DbError> {
        let id = r.id;
        if r.server_heads.is_empty() || id != chunk.id {
            return Ok(None);
        }
        let Some(row) = self.db.doc(id.as_bytes())? else {
            return Ok(None);
        };
        let meta = DocMeta::try_from(row)?;
        if meta.kind != chunk.kind || !access::may_read(principal, &meta.facts.rules_facts()) {
            return Ok(None);
        }
        let state = if work.docs.contains_key(&id) {
            work.docs.get_mut(&id)
        } else if batch.docs.contains_key(&id) {
            batch.docs.get_mut(&id)
        } else {
            if !self.cache.contains(&id)
                && let Some(stored) = self.db.load_doc(id.as_bytes())?
            {
                let (_, state) = DocState::load(stored)?;
                self.cache.insert(id, state);
            }
            self.cache.get_mut(&id)
        };
        let Some(state) = state.filter(|s| s.stored) else {
            return Ok(None);
        };
        let changes = authorize::changes_pusher_lacks(&mut state.doc, chunk, inspected);
        if changes.is_empty() {
            return Ok(None);
        }
        Ok(Some(DocChunk { id, kind: state.kind, heads: state.heads.clone(), changes }))
    }

    fn audit_refusal(&self, session: &Session, r: &Refusal) -> Result<(), DbError> {
        let fields = serde_json::to_string(&[r.path.as_str()].iter().filter(|p| !p.is_empty()).collect::<Vec<_>>())
            .unwrap_or_else(|_| "[]".into());
        let device = session.device_id.to_string();
        self.db.insert_audit(&NewAudit {
            at: self.now,
            user: &session.user,
            device: Some(&device),
            doc_id: r.id.as_bytes(),
            kind: r.kind.code(),
            seq: None,
            refused: true,
            fields: &fields,
            changes: "[]",
            code: Some(r.code.as_str()),
            rule: Some(&r.rule),
            message: Some(&r.message),
        })
    }

    /// Queue, for every ready connection, what the stored changes and moves mean to it:
    /// `Forget` for documents it may no longer read, whole documents for those it may now
    /// read, and the new changes of those it could and still can read (except to
    /// `from`, which sent them). Connections that see the same thing share messages.
    fn relay(
        &self,
        from: Option<ConnId>,
        relays: &[Relay],
        moved: &[Moved],
        outputs: &mut Vec<Outgoing>,
    ) -> Result<(), DbError> {
        // One entry per moved document: where it was first, where it is now.
        let mut moves: Vec<Moved> = Vec::new();
        for m in moved {
            match moves.iter_mut().find(|x| x.id == m.id) {
                Some(x) => {
                    x.new = m.new.clone();
                    x.seq = x.seq.max(m.seq);
                }
                None => moves.push(m.clone()),
            }
        }
        type Plan = (Vec<usize>, Vec<usize>, Vec<usize>);
        let mut groups: HashMap<Plan, Vec<ConnId>> = HashMap::new();
        // Only the connections that may read something here (before or after a move).
        let mut candidates = std::collections::BTreeSet::new();
        for r in relays {
            self.conns.readers_of(&r.facts, &mut candidates);
        }
        for m in &moves {
            self.conns.readers_of(&m.old, &mut candidates);
            self.conns.readers_of(&m.new, &mut candidates);
        }
        for conn in &candidates {
            let Some(state) = self.conns.get(conn) else { continue };
            if !state.ready {
                continue;
            }
            let p = &state.principal;
            let (mut forget, mut gain) = (Vec::new(), Vec::new());
            for (i, m) in moves.iter().enumerate() {
                match (access::may_read(p, &m.old), access::may_read(p, &m.new)) {
                    (true, false) => forget.push(i),
                    (false, true) => gain.push(i),
                    _ => {}
                }
            }
            let mut chunks = Vec::new();
            if Some(*conn) != from {
                for (i, r) in relays.iter().enumerate() {
                    if access::may_read(p, &r.facts) && !gain.iter().any(|&g| moves[g].id == r.chunk.id) {
                        chunks.push(i);
                    }
                }
            }
            if !chunks.is_empty() || !forget.is_empty() || !gain.is_empty() {
                groups.entry((chunks, gain, forget)).or_default().push(*conn);
            }
        }
        let mut groups: Vec<(Plan, Vec<ConnId>)> = groups.into_iter().collect();
        groups.sort_by(|a, b| a.1.cmp(&b.1));
        let mut whole: HashMap<DocId, DocChunk> = HashMap::new();
        for ((chunks, gain, forget), mut to) in groups {
            to.sort();
            if !forget.is_empty() {
                let docs = forget.iter().map(|&i| moves[i].id).collect();
                outputs
                    .push(Outgoing { to: to.clone(), msg: ServerMsg::Forget { docs, reason: FORGET_REASON.into() } });
            }
            let mut seq_of: HashMap<DocId, u64> = HashMap::new();
            let mut docs: Vec<DocChunk> = Vec::new();
            for &i in &chunks {
                seq_of.insert(relays[i].chunk.id, relays[i].seq);
                docs.push(relays[i].chunk.clone());
            }
            for &g in &gain {
                let m = &moves[g];
                let seq = relays.iter().filter(|r| r.chunk.id == m.id).map(|r| r.seq).max().unwrap_or(0).max(m.seq);
                seq_of.insert(m.id, seq);
                if !whole.contains_key(&m.id)
                    && let Some(chunk) = self.whole_doc(m.id)?
                {
                    whole.insert(m.id, chunk);
                }
                if let Some(c) = whole.get(&m.id) {
                    docs.push(c.clone());
                }
            }
            for docs in batch_by_size(docs) {
                let cursor = docs.iter().filter_map(|d| seq_of.get(&d.id)).max().copied();
                outputs.push(Outgoing { to: to.clone(), msg: ServerMsg::Changes { docs, cursor } });
            }
        }
        Ok(())
    }

    /// A document as stored, all of it.
    fn whole_doc(&self, id: DocId) -> Result<Option<DocChunk>, DbError> {
        let Some(row) = self.db.doc(id.as_bytes())? else {
            return Ok(None);
        };
        let meta = DocMeta::try_from(row)?;
        Ok(Some(DocChunk { id, kind: meta.kind, heads: meta.heads, changes: self.db.doc_bytes(id.as_bytes(), None)? }))
    }

    fn commit_batch(&mut self, batch: PushBatch, out: &mut Vec<Outgoing>) {
        if let Err(e) = self.db.commit() {
            return self.abort_batch(batch, &e, out);
        }
        for (id, state) in batch.docs {
            self.cache.insert(id, state);
        }
        self.max_seq = self.max_seq.max(batch.max_seq);
        self.stats.add_documents(batch.new_docs);
        out.extend(batch.outputs);
    }

    /// The batch could not be stored: roll back, leave the cache as it was, tell every
    /// pusher of the batch (their connections are closed; the others are unaffected). A
    /// full disk is answered `storage_full`: the devices keep their changes and send them
    /// again later; the next batch tries again, so pushes succeed once space returns.
    fn abort_batch(&mut self, batch: PushBatch, error: &DbError, out: &mut Vec<Outgoing>) {
        self.db.rollback();
        tracing::error!(error = %error, pushers = batch.pushers.len(), "storing pushes failed; rolled back");
        out.extend(batch.outputs.into_iter().filter(|o| matches!(o.msg, ServerMsg::Error { .. })));
        let (code, message) = storage_failure(error);
        for conn in batch.pushers {
            if self.conns.contains_key(&conn) {
                self.fatal(conn, code, message.clone(), out);
            }
        }
    }

    /// Rows stored before the facts were kept (schema version 1) get them now: customers
    /// first, as visits and orders take their customer's territory.
    fn compute_missing_facts(&mut self) -> Result<(), DbError> {
        let ids = self.db.docs_without_facts()?;
        if ids.is_empty() {
            return Ok(());
        }
        let mut docs = Vec::new();
        for id in &ids {
            if let Some(stored) = self.db.load_doc(id)? {
                let (id, state) = DocState::load(stored)?;
                let own = own_facts(state.kind, &state.doc);
                let author = self.db.doc(id.as_bytes())?.and_then(|r| r.author).or_else(|| own.stated_author.clone());
                docs.push((id, state.kind, own, author));
            }
        }
        docs.sort_by_key(|(_, kind, _, _)| kind.depth());
        self.db.begin()?;
        let result = (|| {
            for (id, kind, own, author) in docs {
                let facts = resolve_facts(&*self.db, kind, own, None, None)?;
                let facts = StoredFacts { author, ..facts };
                self.db.set_doc_facts(id.as_bytes(), &facts.row())?;
            }
            Ok(())
        })();
        match result {
            Ok(()) => self.db.commit()?,
            Err(e) => {
                self.db.rollback();
                return Err(e);
            }
        }
        tracing::info!(docs = ids.len(), "computed access facts of documents stored by an older version");
        Ok(())
    }
}

/// A document's facts after a change, by its kind's placement: a document placed by its
/// own territory field has that territory; a child has its parent's, as the parent's row
/// stores it. When the parent is not (yet) on the server — an order pushed before its new
/// customer — the child keeps the territory it was stored with, or for a new one the
/// writer's own; it follows the parent once the parent arrives. The author is the one
/// recorded when the document was first stored (the user of that session), never what
/// the document says; the assignee is what its assignee field names.
fn resolve_facts(
    db: &dyn Storage,
    kind: DocKind,
    own: OwnFacts,
    stored: Option<&StoredFacts>,
    writer: Option<&Principal>,
) -> Result<StoredFacts, DbError> {
    let parent_row = match (kind.spec().placement, own.parent) {
        (Placement::Parent { .. }, Some(p)) => db.doc(p.as_bytes())?,
        _ => None,
    };
    let territory = match kind.spec().placement {
        Placement::Own { .. } => own.territory,
        Placement::Nowhere => None,
        Placement::Parent { .. } => match (own.parent, &parent_row) {
            (None, _) => None,
            (Some(_), Some(row)) => row.territory.clone(),
            (Some(_), None) => match stored {
                Some(s) => s.territory.clone(),
                None => writer.and_then(|w| w.territories.first().cloned()),
            },
        },
    };
    let author = match stored {
        // What the server writes about a document (a claim's verdict) is its author's to
        // read as theirs: readers with scope `own` of the parent read it.
        _ if kind.spec().server_written && parent_row.is_some() => parent_row.and_then(|r| r.author),
        Some(s) => s.author.clone(),
        None => writer.map(|w| w.user.clone()),
    };
    Ok(StoredFacts { kind, territory, parent: own.parent, author, assignee: own.assignee })
}

/// A moved document's id and its access facts with `territory` (a move row's author and
/// assignee are the document's now).
pub(super) fn moved_facts(
    m: &crate::storage::MoveRow,
    territory: Option<String>,
) -> Result<(DocId, DocFacts), DbError> {
    let (Some(id), Some(kind)) = (DocId::from_slice(&m.doc_id), DocKind::from_code(m.kind)) else {
        return Err(DbError::corrupt("moves", format!("doc {:?} kind {}", m.doc_id, m.kind)));
    };
    Ok((id, DocFacts { kind, territory, author: m.author.clone(), assignee: m.assignee.clone(), frozen: false }))
}

/// A new document may not take an id the registry reserves: a kind's fixed id (the
/// policy's), the id a server-written kind derives from a stored parent (an order's
/// verdict: `verdict_id` is its own inverse), nor may a new parent take one whose derived
/// id is already taken by another kind. Nor may it take the id that records stored by
/// another user name as their parent (an order pushed before its new customer): only their
/// author can hold that parent — it was created on their device —, and anyone else's
/// document there would become the parent the server prices and places them by.
fn reserved_id(db: &dyn Storage, ctx: &WriteContext<'_>) -> Result<Option<Refusal>, DbError> {
    let refuse = |message: String| Refusal {
        id: ctx.id,
        kind: ctx.kind,
        code: ErrorCode::Forbidden,
        path: String::new(),
        rule: "reserved-id".into(),
        message,
        server_heads: Vec::new(),
    };
    // A kind with a fixed id (the policy) lives there and nowhere else, and nothing else
    // lives there — not even before the first publication.
    for &kind in DocKind::ALL {
        if let IdRule::Fixed(fixed) = kind.spec().id
            && (ctx.id == fixed) != (ctx.kind == kind)
        {
            return Ok(Some(refuse(format!(
                "id {} is not a {}'s: the {kind} has the fixed id {fixed}",
                ctx.id, ctx.kind
            ))));
        }
    }
    let user = ctx.principal.user.as_str();
    if db.children_of(ctx.id.as_bytes())?.iter().any(|c| c.author.as_deref() != Some(user)) {
        return Ok(Some(refuse(format!("id {} is reserved: records of another user name it as their parent", ctx.id))));
    }
    for &kind in DocKind::ALL {
        let (IdRule::Derived(derive), Some((parent_kind, _))) = (kind.spec().id, kind.spec().parent()) else {
            continue;
        };
        if ctx.kind == kind {
            continue;
        }
        let Some(row) = db.doc(derive(ctx.id).as_bytes())? else { continue };
        // Either this id derives from a stored parent, or it is a parent whose derived id is taken.
        if ctx.kind == parent_kind || row.kind == parent_kind.code() {
            return Ok(Some(refuse(format!("id {} is reserved for the server's {kind} of a {parent_kind}", ctx.id))));
        }
    }
    Ok(None)
}

/// Record, as the server's own change on top of the accepted ones, when the server received
/// each new entry of a log ordered by arrival. Returns that change for the pusher, who
/// lacks it.
fn stamp_arrivals(
    authorized: &mut Authorized,
    id: DocId,
    kind: DocKind,
    new_entries: &[(&'static str, Vec<protocol::kinds::Entry>)],
    now: i64,
) -> Option<DocChunk> {
    let spec = kind.spec();
    let by_arrival = |field: &str| spec.field(field).is_some_and(|f| matches!(f.ty, FieldType::Log(l) if l.by_arrival));
    if !spec.logs().any(|(f, _)| by_arrival(f.name)) {
        return None;
    }
    let keys: Vec<String> =
        new_entries.iter().filter(|(f, _)| by_arrival(f)).flat_map(|(_, es)| es.iter().map(|e| e.id.clone())).collect();
    if keys.is_empty() {
        return None;
    }
    let scratch = &mut authorized.scratch;
    let before = scratch.get_heads();
    scratch.set_actor(automerge::ActorId::from(SERVER_ACTOR.as_slice()));
    if let Err(e) = protocol::schema::write_receipts(scratch, &keys, now) {
        tracing::error!(doc = %id, error = %e, "cannot record arrival times");
        scratch.rollback();
        return None;
    }
    scratch
        .commit_with(automerge::transaction::CommitOptions::default().with_message("received").with_time(now / 1000));
    let stamp = scratch.get_changes(&before);
    let bytes: Vec<u8> = stamp.iter().flat_map(|c| c.raw_bytes().iter().copied()).collect();
    authorized.new_changes.extend(stamp);
    Some(DocChunk { id, kind, heads: hashes_to_wire(&authorized.scratch.get_heads()), changes: bytes })
}

/// The root scalar fields among `fields` whose value differs between the two states.
fn scalar_changes(
    before: &AutoCommit,
    after: &AutoCommit,
    fields: &BTreeSet<String>,
) -> Vec<(String, Option<String>, Option<String>)> {
    fields
        .iter()
        .filter_map(|f| {
            let old = protocol::schema::root_scalar_text(before, f);
            let new = protocol::schema::root_scalar_text(after, f);
            (old != new).then(|| (f.clone(), old, new))
        })
        .collect()
}

/// What a device is told when storage failed under its request: `storage_full` for a full
/// disk (retry later), `internal` otherwise.
fn storage_failure(e: &DbError) -> (ErrorCode, String) {
    match e {
        DbError::Full(_) => (ErrorCode::StorageFull, ErrorCode::StorageFull.describe().to_string()),
        _ => (ErrorCode::Internal, internal_message()),
    }
}

fn internal_message() -> String {
    ErrorCode::Internal.describe().to_string()
}
