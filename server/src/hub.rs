//! The sync hub: owns the SQLite write connection, the document cache and the registry
//! of connections, and handles events one at a time (see [`crate::hub_runner`] for the
//! thread around it). No network here: [`Hub::handle`] returns the messages to send, so
//! the whole sync protocol is unit-tested without sockets.
//!
//! Ordering: events are processed in order, so every connection receives relays in
//! sequence order, and a catch-up is atomic with respect to relays. Consecutive pushes
//! (from any connections) are group-committed: one transaction, one savepoint per frame,
//! answers held back until the commit is durable.

use crate::access;
use crate::authorize::{Authorized, Rejection, authorize};
use crate::conn_id::ConnId;
use crate::db::{ActorRegistration, Db, DbError, i64_from_u64};
use crate::doc_cache::DocCache;
use crate::doc_state::{DocMeta, DocState, heads_to_blob};
use crate::hub_event::{HubEvent, Outgoing};
use crate::server_stats::ServerStats;
use crate::session::Session;
use protocol::wire::{DocAck, DocChunk, Hello, Refusal, batch_by_size, hashes_to_wire};
use protocol::{ClientMsg, DocId, ErrorCode, ServerMsg};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// Largest actor id accepted in a hello, in bytes.
pub const MAX_ACTOR_BYTES: usize = 64;
/// Most actor ids one hello may register.
pub const MAX_ACTORS_PER_HELLO: usize = 256;
const FRAME_SAVEPOINT: &str = "push_frame";

#[derive(Clone, Copy, Debug)]
pub struct HubSettings {
    /// Documents kept loaded.
    pub cache_docs: usize,
    /// Compact a document once it has more than this many chunks.
    pub compact_after: u64,
}

struct ConnState {
    session: Session,
    /// Hello done: catch-up sent, receives live relays.
    ready: bool,
    /// Every actor registered to the connection's device.
    actors: HashSet<Vec<u8>>,
}

/// Pushes processed but not yet committed.
#[derive(Default)]
struct PushBatch {
    docs: HashMap<DocId, DocState>,
    outputs: Vec<Outgoing>,
    pushers: Vec<ConnId>,
    max_seq: u64,
    new_docs: u64,
}

/// One push frame being processed (inside its savepoint).
#[derive(Default)]
struct FrameWork {
    docs: HashMap<DocId, DocState>,
    max_seq: u64,
    new_docs: u64,
}

enum ChunkOutcome {
    Ack(DocAck),
    Refused(Refusal),
    Stored { ack: DocAck, relay: DocChunk },
}

enum ChunkError {
    Bad(String),
    Db(DbError),
}

impl From<DbError> for ChunkError {
    fn from(e: DbError) -> Self {
        ChunkError::Db(e)
    }
}

pub struct Hub {
    db: Db,
    cache: DocCache,
    conns: HashMap<ConnId, ConnState>,
    settings: HubSettings,
    max_seq: u64,
    stats: Arc<ServerStats>,
}

impl Hub {
    pub fn new(db: Db, settings: HubSettings, stats: Arc<ServerStats>) -> Result<Self, DbError> {
        let max_seq = crate::db::u64_from_i64(db.max_seq()?);
        stats.set_documents(crate::db::u64_from_i64(db.doc_count()?));
        Ok(Hub { db, cache: DocCache::new(settings.cache_docs), conns: HashMap::new(), settings, max_seq, stats })
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

    /// The storage (for tests and diagnostics).
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Handle one event.
    pub fn handle(&mut self, event: HubEvent) -> Vec<Outgoing> {
        self.handle_batch(std::iter::once(event))
    }

    /// Handle events in order, committing runs of consecutive pushes together.
    pub fn handle_batch(&mut self, events: impl IntoIterator<Item = HubEvent>) -> Vec<Outgoing> {
        let mut out = Vec::new();
        let mut batch: Option<PushBatch> = None;
        for event in events {
            match event {
                HubEvent::Message { conn, msg: ClientMsg::Push { docs } } if self.is_ready(conn) => {
                    if batch.is_none() {
                        if let Err(e) = self.db.begin() {
                            tracing::error!(error = %e, "cannot start a transaction");
                            self.fatal(conn, ErrorCode::Internal, internal_message(), &mut out);
                            continue;
                        }
                        batch = Some(PushBatch::default());
                    }
                    let Some(b) = batch.as_mut() else { continue };
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
                }
            }
        }
        if let Some(b) = batch.take() {
            self.commit_batch(b, &mut out);
        }
        out
    }

    /// After a panic inside `handle_batch`: drop the open transaction and everything
    /// loaded (it is reloaded from storage on demand).
    pub fn recover_after_panic(&mut self) {
        self.db.rollback();
        self.cache.clear();
        match self.db.max_seq() {
            Ok(s) => self.max_seq = crate::db::u64_from_i64(s),
            Err(e) => tracing::error!(error = %e, "cannot read max seq after panic"),
        }
    }

    fn is_ready(&self, conn: ConnId) -> bool {
        self.conns.get(&conn).is_some_and(|c| c.ready)
    }

    fn handle_other(&mut self, event: HubEvent, out: &mut Vec<Outgoing>) {
        match event {
            HubEvent::Connected { conn, session } => {
                self.conns.insert(conn, ConnState { session, ready: false, actors: HashSet::new() });
            }
            HubEvent::Disconnected { conn } => {
                self.conns.remove(&conn);
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
                }
            }
        }
    }

    /// Send `Error` to a connection and forget it (its task closes the socket).
    fn fatal(&mut self, conn: ConnId, code: ErrorCode, message: String, out: &mut Vec<Outgoing>) {
        let user = self.conns.remove(&conn).map(|c| c.session.user).unwrap_or_default();
        tracing::warn!(%conn, user, code = code.as_str(), message, "closing connection");
        out.push(Outgoing { to: vec![conn], msg: ServerMsg::Error { code, message } });
    }

    fn hello(&mut self, conn: ConnId, hello: Hello, out: &mut Vec<Outgoing>) {
        let Some(state) = self.conns.get(&conn) else {
            return;
        };
        if state.ready {
            return self.fatal(conn, ErrorCode::UnexpectedMessage, "hello was already received".into(), out);
        }
        let session = state.session.clone();
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
        if hello.actors.len() > MAX_ACTORS_PER_HELLO {
            return self.fatal(conn, ErrorCode::Malformed, format!("more than {MAX_ACTORS_PER_HELLO} actors"), out);
        }
        if let Some(bad) = hello.actors.iter().find(|a| a.is_empty() || a.len() > MAX_ACTOR_BYTES) {
            return self.fatal(
                conn,
                ErrorCode::Malformed,
                format!("actor ids are 1 to {MAX_ACTOR_BYTES} bytes, got {}", bad.len()),
                out,
            );
        }
        let now = crate::accounts::now_ms();
        let actors = match self.db.register_actors(session.device_id, &session.user, &hello.actors, now) {
            Ok(ActorRegistration::Registered(all)) => all,
            Ok(ActorRegistration::Conflict(actor)) => {
                return self.fatal(
                    conn,
                    ErrorCode::ActorNotYours,
                    format!("actor {} is registered to another device", crate::token::hex(&actor)),
                    out,
                );
            }
            Err(e) => {
                tracing::error!(%conn, error = %e, "cannot register actors");
                return self.fatal(conn, ErrorCode::Internal, internal_message(), out);
            }
        };
        let (messages, docs_sent) = match self.catch_up(&session, hello.cursor) {
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
            docs_sent,
            server_cursor = self.max_seq,
            "hello"
        );
        out.extend(messages.into_iter().map(|msg| Outgoing { to: vec![conn], msg }));
        if let Some(state) = self.conns.get_mut(&conn) {
            state.ready = true;
            state.actors = actors.into_iter().collect();
        }
    }

    /// Everything changed after `cursor` that the session may read, from SQLite only,
    /// then `CaughtUp`.
    fn catch_up(&self, session: &Session, cursor: u64) -> Result<(Vec<ServerMsg>, u32), DbError> {
        let mut chunks = Vec::new();
        for row in self.db.docs_changed_since(i64_from_u64(cursor))? {
            let meta = DocMeta::try_from(row)?;
            if !access::may_read(session, meta.id, meta.kind) {
                continue;
            }
            let after = (cursor >= meta.snapshot_seq).then_some(i64_from_u64(cursor));
            let changes = self.db.doc_bytes(meta.id.as_bytes(), after)?;
            chunks.push(DocChunk { id: meta.id, kind: meta.kind, heads: meta.heads, changes });
        }
        let docs_sent = u32::try_from(chunks.len()).unwrap_or(u32::MAX);
        let mut messages: Vec<ServerMsg> =
            batch_by_size(chunks).into_iter().map(|docs| ServerMsg::Changes { docs, cursor: None }).collect();
        messages.push(ServerMsg::CaughtUp { cursor: self.max_seq, docs_sent });
        Ok((messages, docs_sent))
    }

    fn resync(&mut self, conn: ConnId, ids: Vec<DocId>, out: &mut Vec<Outgoing>) {
        let Some(state) = self.conns.get(&conn) else {
            return;
        };
        if !state.ready {
            return self.fatal(conn, ErrorCode::UnexpectedMessage, "resync before hello".into(), out);
        }
        let session = state.session.clone();
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
                if !access::may_read(&session, meta.id, meta.kind) {
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
    fn push_frame(&mut self, batch: &mut PushBatch, conn: ConnId, docs: Vec<DocChunk>) -> Result<(), DbError> {
        let Some(state) = self.conns.get(&conn) else {
            return Ok(());
        };
        let actors = state.actors.clone();
        let user = state.session.user.clone();
        if !batch.pushers.contains(&conn) {
            batch.pushers.push(conn);
        }
        self.db.savepoint(FRAME_SAVEPOINT)?;
        let mut work = FrameWork::default();
        let mut acks = Vec::new();
        let mut refusals = Vec::new();
        let mut relays: Vec<(DocChunk, u64)> = Vec::new();
        let n_docs = docs.len();
        for chunk in docs {
            let id = chunk.id;
            match self.push_chunk(batch, &mut work, &actors, chunk) {
                Ok(ChunkOutcome::Ack(ack)) => acks.push(ack),
                Ok(ChunkOutcome::Refused(r)) => {
                    tracing::info!(%conn, user, doc = %r.id, code = r.code.as_str(), rule = r.rule, "refused");
                    refusals.push(r);
                }
                Ok(ChunkOutcome::Stored { ack, relay }) => {
                    relays.push((relay, ack.seq));
                    acks.push(ack);
                }
                Err(ChunkError::Bad(reason)) => {
                    self.db.rollback_to(FRAME_SAVEPOINT)?;
                    let mut sink = Vec::new();
                    self.fatal(conn, ErrorCode::BadChanges, format!("document {id}: {reason}"), &mut sink);
                    batch.outputs.extend(sink);
                    return Ok(());
                }
                Err(ChunkError::Db(e)) => return Err(e),
            }
        }
        self.db.release(FRAME_SAVEPOINT)?;
        tracing::debug!(%conn, user, docs = n_docs, stored = relays.len(), refused = refusals.len(), "push");
        batch.docs.extend(work.docs);
        batch.max_seq = batch.max_seq.max(work.max_seq);
        batch.new_docs += work.new_docs;
        if !acks.is_empty() || refusals.is_empty() {
            batch.outputs.push(Outgoing { to: vec![conn], msg: ServerMsg::Ack { docs: acks } });
        }
        if !refusals.is_empty() {
            batch.outputs.push(Outgoing { to: vec![conn], msg: ServerMsg::Refused { refusals } });
        }
        if !relays.is_empty() {
            self.relay(conn, relays, &mut batch.outputs);
        }
        Ok(())
    }

    fn push_chunk(
        &mut self,
        batch: &mut PushBatch,
        work: &mut FrameWork,
        actors: &HashSet<Vec<u8>>,
        chunk: DocChunk,
    ) -> Result<ChunkOutcome, ChunkError> {
        let id = chunk.id;
        let mut fresh = None;
        let state: &mut DocState = if work.docs.contains_key(&id) {
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
        let Authorized { mut scratch, new_changes } = match authorize(&mut state.doc, &chunk, actors) {
            Ok(a) => a,
            Err(Rejection::BadChanges(reason)) => return Err(ChunkError::Bad(reason)),
            Err(Rejection::MissingDeps) => return Ok(ChunkOutcome::Ack(server_ack)),
            Err(Rejection::Refused(r)) => return Ok(ChunkOutcome::Refused(r)),
        };
        if new_changes.is_empty() {
            return Ok(ChunkOutcome::Ack(server_ack));
        }
        let kind = state.kind;
        let was_stored = state.stored;
        let mut chunk_count = state.chunk_count;
        let mut snapshot_seq = state.snapshot_seq;

        let bytes: Vec<u8> = new_changes.iter().flat_map(|c| c.raw_bytes().iter().copied()).collect();
        let heads = hashes_to_wire(&scratch.get_heads());
        let now = crate::accounts::now_ms();
        let seq = self.db.store_change(id.as_bytes(), kind.code(), &heads_to_blob(&heads), &bytes, now)?;
        let seq = crate::db::u64_from_i64(seq);
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
        work.docs.insert(
            id,
            DocState {
                kind,
                doc: scratch,
                heads: heads.clone(),
                snapshot_seq,
                last_seq: seq,
                chunk_count,
                stored: true,
            },
        );
        Ok(ChunkOutcome::Stored {
            ack: DocAck { id, heads: heads.clone(), seq },
            relay: DocChunk { id, kind, heads, changes: bytes },
        })
    }

    /// Queue the stored chunks of one frame for every other ready connection that may
    /// read them, in as few messages as the size budget allows.
    fn relay(&self, from: ConnId, relays: Vec<(DocChunk, u64)>, outputs: &mut Vec<Outgoing>) {
        let mut groups: HashMap<Vec<usize>, Vec<ConnId>> = HashMap::new();
        for (conn, state) in &self.conns {
            if *conn == from || !state.ready {
                continue;
            }
            let visible: Vec<usize> = relays
                .iter()
                .enumerate()
                .filter(|(_, (c, _))| access::may_read(&state.session, c.id, c.kind))
                .map(|(i, _)| i)
                .collect();
            if !visible.is_empty() {
                groups.entry(visible).or_default().push(*conn);
            }
        }
        for (visible, mut to) in groups {
            to.sort();
            let seq_of: HashMap<DocId, u64> = visible.iter().map(|&i| (relays[i].0.id, relays[i].1)).collect();
            let chunks = visible.iter().map(|&i| relays[i].0.clone()).collect();
            for docs in batch_by_size(chunks) {
                let cursor = docs.iter().filter_map(|d| seq_of.get(&d.id)).max().copied();
                outputs.push(Outgoing { to: to.clone(), msg: ServerMsg::Changes { docs, cursor } });
            }
        }
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
    /// pusher of the batch (their connections are closed; the others are unaffected).
    fn abort_batch(&mut self, batch: PushBatch, error: &DbError, out: &mut Vec<Outgoing>) {
        self.db.rollback();
        tracing::error!(error = %error, pushers = batch.pushers.len(), "storing pushes failed; rolled back");
        out.extend(batch.outputs.into_iter().filter(|o| matches!(o.msg, ServerMsg::Error { .. })));
        for conn in batch.pushers {
            if self.conns.contains_key(&conn) {
                self.fatal(conn, ErrorCode::Internal, internal_message(), out);
            }
        }
    }
}

fn internal_message() -> String {
    ErrorCode::Internal.describe().to_string()
}
