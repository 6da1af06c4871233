//! The sync protocol, device side, as a state machine (no IO).
//!
//! The driver calls [`SyncEngine::connected`] when a WebSocket opens, [`SyncEngine::receive`]
//! for every frame, [`SyncEngine::local_changes`] after the user edits, and
//! [`SyncEngine::disconnected`] when the connection drops. Each returns the frames to
//! send. Store ops land in the replica's outbox; the driver persists them before sending
//! the returned frames, so an acknowledgement or a cursor is never durable before the data
//! it covers.

use crate::replica::Replica;
use protocol::wire::{self, ClientMsg, DocChunk, Hello, ServerMsg, WireError};
use protocol::{DocId, ErrorCode};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("the server refused: {} ({code})", code.describe())]
    Server { code: ErrorCode, message: String },
    #[error("bad frame from the server: {0}")]
    Wire(#[from] WireError),
    #[error("the server sent invalid changes for {0}: {1}")]
    BadChanges(DocId, String),
    #[error("document {0} has a change too large to send")]
    TooLarge(DocId),
}

/// Counters of one connection, for `sync --json`, benchmarks and the UI.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SyncStats {
    pub pushed_docs: u64,
    pub received_docs: u64,
    pub frames_sent: u64,
    pub frames_received: u64,
    pub bytes_sent: u64,
    pub bytes_received: u64,
    pub change_bytes_sent: u64,
    pub change_bytes_received: u64,
    pub refused: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Offline,
    /// Hello sent; the server is sending what changed since our cursor.
    CatchingUp,
    /// Caught up: every relayed change advances the cursor.
    Live,
}

pub struct SyncEngine {
    device_id: Uuid,
    client_name: String,
    phase: Phase,
    /// Pushed and not yet acknowledged or refused: doc → the changes sent.
    in_flight: BTreeMap<DocId, Vec<u8>>,
    /// Whole documents asked for with `Resync`, not yet received.
    resync: BTreeSet<DocId>,
    /// Actor ids announced in the hello besides the replica's own (other writers on this
    /// device, e.g. other browser tabs whose changes this connection pushes).
    other_actors: Vec<Vec<u8>>,
    /// During a catch-up from cursor 0: the documents it has sent so far.
    first_catch_up: Option<BTreeSet<DocId>>,
    pub stats: SyncStats,
}

impl SyncEngine {
    pub fn new(device_id: Uuid, client_name: impl Into<String>) -> Self {
        SyncEngine {
            device_id,
            client_name: client_name.into(),
            phase: Phase::Offline,
            in_flight: BTreeMap::new(),
            resync: BTreeSet::new(),
            other_actors: Vec::new(),
            first_catch_up: None,
            stats: SyncStats::default(),
        }
    }

    /// Also register these actor ids in the hello: other writers of this device (each
    /// browser tab writes with an actor of its own; the tab that holds the connection
    /// pushes all their changes, which the server accepts only from registered actors).
    /// Takes effect on the next [`SyncEngine::connected`].
    pub fn announce_actors(&mut self, actors: impl IntoIterator<Item = automerge::ActorId>) {
        for actor in actors {
            let bytes = actor.to_bytes().to_vec();
            if !self.other_actors.contains(&bytes) {
                self.other_actors.push(bytes);
            }
        }
    }

    pub fn is_live(&self) -> bool {
        self.phase == Phase::Live
    }

    /// A connection opened: say hello and push everything the server lacks, at once.
    pub fn connected(&mut self, replica: &mut Replica) -> Result<Vec<Vec<u8>>, SyncError> {
        self.phase = Phase::CatchingUp;
        self.in_flight.clear();
        self.resync.clear();
        self.first_catch_up = (replica.cursor() == 0).then(BTreeSet::new);
        let own = replica.actor().to_bytes().to_vec();
        let others = self.other_actors.iter().filter(|a| **a != own).cloned();
        let hello = ClientMsg::Hello(Hello {
            device_id: self.device_id,
            actors: std::iter::once(own.clone()).chain(others).collect(),
            cursor: replica.cursor(),
            client: self.client_name.clone(),
        });
        let mut frames = vec![self.encode(&hello)?];
        let lacking = replica.lacking_docs();
        if !lacking.is_empty() {
            self.resync.extend(lacking.iter().copied());
            frames.push(self.encode(&ClientMsg::Resync { docs: lacking })?);
        }
        frames.extend(self.pushes(replica)?);
        Ok(frames)
    }

    pub fn disconnected(&mut self) {
        self.phase = Phase::Offline;
        self.first_catch_up = None;
        self.in_flight.clear();
        self.resync.clear();
    }

    /// The user edited: push if connected.
    pub fn local_changes(&mut self, replica: &mut Replica) -> Result<Vec<Vec<u8>>, SyncError> {
        if self.phase == Phase::Offline {
            return Ok(Vec::new());
        }
        self.pushes(replica)
    }

    /// Nothing left to send or receive: the server holds every local change and the
    /// device every change the server had when it answered.
    pub fn is_quiescent(&self, replica: &mut Replica) -> bool {
        self.phase == Phase::Live
            && self.in_flight.is_empty()
            && self.resync.is_empty()
            && replica.unsent_docs().is_empty()
    }

    /// Documents with local changes not yet acknowledged (shown as "waiting to send").
    pub fn pending(&self, replica: &mut Replica) -> usize {
        replica.unsent_docs().len()
    }

    /// One frame from the server.
    pub fn receive(&mut self, replica: &mut Replica, frame: &[u8], now: i64) -> Result<Vec<Vec<u8>>, SyncError> {
        self.stats.frames_received += 1;
        self.stats.bytes_received += frame.len() as u64;
        let mut lacking = BTreeSet::new();
        match wire::decode::<ServerMsg>(frame)? {
            ServerMsg::Changes { docs, cursor } => {
                for chunk in docs {
                    self.apply_changes(replica, chunk, &mut lacking)?;
                }
                if let (Some(c), Phase::Live) = (cursor, self.phase) {
                    replica.set_cursor(c);
                }
            }
            ServerMsg::CaughtUp { cursor, .. } => {
                self.phase = Phase::Live;
                // A catch-up from cursor 0 holds every document this user may read. One the
                // server gave this device before — in a catch-up cut short before its
                // `CaughtUp`, so the cursor stayed 0 — and leaves out now has moved out of
                // reach (the server tells a device with cursor 0 to forget nothing: it
                // cannot know what such a device holds).
                if let Some(sent) = self.first_catch_up.take() {
                    let gone = replica.server_docs_not_in(&sent);
                    replica.forget(&gone, "no longer readable: not among the server's documents for this user", now);
                }
                replica.set_cursor(cursor);
            }
            ServerMsg::Ack { docs } => {
                for ack in docs {
                    self.in_flight.remove(&ack.id);
                    // Acknowledged during a first catch-up (streamed, so pushes are answered
                    // before it ends): the server holds it now, whatever the catch-up listed.
                    if let Some(sent) = &mut self.first_catch_up {
                        sent.insert(ack.id);
                    }
                    let Some(local) = replica.doc_mut(ack.id) else { continue };
                    let op = local.set_server_heads(&ack.heads);
                    if local.lacks_server_changes() {
                        lacking.insert(ack.id);
                    }
                    replica.push_ops([op]);
                    replica.mark_maybe_unsent(ack.id);
                    if ack.seq > 0 && self.phase == Phase::Live {
                        replica.set_cursor(ack.seq);
                    }
                }
            }
            ServerMsg::Refused { refusals } => {
                for r in refusals {
                    self.stats.refused += 1;
                    let changes = self.in_flight.remove(&r.id).unwrap_or_default();
                    replica
                        .restore_refused(&r, changes, now)
                        .map_err(|e| SyncError::BadChanges(r.id, e.to_string()))?;
                }
            }
            ServerMsg::Error { code, message } => {
                if code == ErrorCode::Revoked {
                    replica.wipe(&message, now);
                }
                return Err(SyncError::Server { code, message });
            }
            ServerMsg::Forget { docs, reason } => {
                for id in &docs {
                    self.in_flight.remove(id);
                    self.resync.remove(id);
                }
                replica.forget(&docs, &reason, now);
            }
        }
        let mut frames = Vec::new();
        let new_lacking: Vec<DocId> = lacking.into_iter().filter(|id| self.resync.insert(*id)).collect();
        if !new_lacking.is_empty() {
            frames.push(self.encode(&ClientMsg::Resync { docs: new_lacking })?);
        }
        frames.extend(self.pushes(replica)?);
        Ok(frames)
    }

    fn apply_changes(
        &mut self,
        replica: &mut Replica,
        chunk: DocChunk,
        lacking: &mut BTreeSet<DocId>,
    ) -> Result<(), SyncError> {
        self.stats.received_docs += 1;
        self.stats.change_bytes_received += chunk.changes.len() as u64;
        if let (Some(sent), Phase::CatchingUp) = (&mut self.first_catch_up, self.phase) {
            sent.insert(chunk.id);
        }
        let local = replica.doc_or_new(chunk.id, chunk.kind);
        if local.kind != chunk.kind {
            return Err(SyncError::BadChanges(chunk.id, format!("kind {} but held as {}", chunk.kind, local.kind)));
        }
        let mut ops = local.apply_remote(&chunk.changes).map_err(|e| SyncError::BadChanges(chunk.id, e.to_string()))?;
        ops.push(local.set_server_heads(&chunk.heads));
        if local.lacks_server_changes() {
            lacking.insert(chunk.id);
        } else {
            self.resync.remove(&chunk.id);
        }
        replica.push_ops(ops);
        replica.mark_maybe_unsent(chunk.id);
        Ok(())
    }

    fn pushes(&mut self, replica: &mut Replica) -> Result<Vec<Vec<u8>>, SyncError> {
        let mut chunks = Vec::new();
        for id in replica.unsent_docs() {
            if self.in_flight.contains_key(&id) || self.resync.contains(&id) {
                continue;
            }
            let local = replica.doc_mut(id).expect("unsent docs exist");
            let changes = local.unsent_changes();
            let chunk = DocChunk { id, kind: local.kind, heads: local.heads_wire(), changes };
            self.stats.pushed_docs += 1;
            self.stats.change_bytes_sent += chunk.changes.len() as u64;
            self.in_flight.insert(id, chunk.changes.clone());
            chunks.push(chunk);
        }
        // Parents first, across frames too: a new order's customer reaches the server before
        // (or with) the order, so the server never holds the order without its customer.
        chunks.sort_by_key(|c| c.kind.depth());
        let mut frames = Vec::new();
        for batch in wire::batch_by_size(chunks) {
            let id = batch[0].id;
            frames.push(self.encode(&ClientMsg::Push { docs: batch }).map_err(|_| SyncError::TooLarge(id))?);
        }
        Ok(frames)
    }

    fn encode(&mut self, msg: &ClientMsg) -> Result<Vec<u8>, WireError> {
        let frame = wire::encode(msg)?;
        self.stats.frames_sent += 1;
        self.stats.bytes_sent += frame.len() as u64;
        Ok(frame)
    }
}
