//! The sync protocol, device side, as a state machine (no IO).
//!
//! The driver calls [`SyncEngine::connected`] when a WebSocket opens, [`SyncEngine::receive`]
//! for every frame, [`SyncEngine::local_changes`] after the user edits, and
//! [`SyncEngine::disconnected`] when the connection drops. Each returns the frames to
//! send. Store ops land in the replica's outbox; the driver persists them before sending
//! the returned frames, so an acknowledgement or a cursor is never durable before the data
//! it covers.

use crate::blobs::Piece;
use crate::replica::Replica;
use protocol::blob::BlobHash;
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
    /// Attachment bytes sent and received in chunks, and files completed each way.
    pub blob_bytes_sent: u64,
    pub blob_bytes_received: u64,
    pub blobs_uploaded: u64,
    pub blobs_downloaded: u64,
    pub blobs_refused: u64,
    /// Catch-up marks stored as the cursor (a cut catch-up resumes from the last one).
    pub catch_up_marks: u64,
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
    /// Attachments being uploaded (one chunk in flight each: the server says where it
    /// is, the next chunk goes from there) and downloaded on this connection.
    uploads: BTreeMap<BlobHash, u64>,
    downloads: BTreeSet<BlobHash>,
    /// During a catch-up from cursor 0: the documents it has sent so far.
    first_catch_up: Option<BTreeSet<DocId>>,
    /// During a catch-up from cursor 0: documents held from the server before it (from an
    /// earlier catch-up cut short) that it has not sent again yet. Its marks are stored
    /// only once there are none left: such a document the server leaves out is forgotten
    /// at `CaughtUp`, which a resumed catch-up (from a mark) could no longer tell.
    unconfirmed: BTreeSet<DocId>,
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
            uploads: BTreeMap::new(),
            downloads: BTreeSet::new(),
            first_catch_up: None,
            unconfirmed: BTreeSet::new(),
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
        self.uploads.clear();
        self.downloads.clear();
        replica.forget_refusals();
        self.first_catch_up = (replica.cursor() == 0).then(BTreeSet::new);
        self.unconfirmed = if replica.cursor() == 0 {
            replica.server_docs_not_in(&BTreeSet::new()).into_iter().collect()
        } else {
            BTreeSet::new()
        };
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
        self.unconfirmed.clear();
        self.in_flight.clear();
        self.resync.clear();
        self.uploads.clear();
        self.downloads.clear();
    }

    /// The user edited: push if connected.
    pub fn local_changes(&mut self, replica: &mut Replica) -> Result<Vec<Vec<u8>>, SyncError> {
        if self.phase == Phase::Offline {
            return Ok(Vec::new());
        }
        let mut frames = self.pushes(replica)?;
        frames.extend(self.blob_frames(replica)?);
        Ok(frames)
    }

    /// Nothing left to send or receive: the server holds every local change and the
    /// device every change the server had when it answered.
    pub fn is_quiescent(&self, replica: &mut Replica) -> bool {
        self.phase == Phase::Live
            && self.in_flight.is_empty()
            && self.resync.is_empty()
            && self.uploads.is_empty()
            && self.downloads.is_empty()
            && !replica.blob_work_left()
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
            ServerMsg::CatchUpMark { cursor } => {
                // Everything up to `cursor` has arrived (the frames before this one): a cut
                // from here on resumes from it.
                if self.phase == Phase::CatchingUp && self.unconfirmed.is_empty() && cursor > replica.cursor() {
                    self.stats.catch_up_marks += 1;
                    replica.set_cursor(cursor);
                }
            }
            ServerMsg::CaughtUp { cursor, .. } => {
                self.phase = Phase::Live;
                self.unconfirmed.clear();
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
                    self.unconfirmed.remove(&ack.id);
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
                if code == ErrorCode::CursorAhead {
                    // The server lost what it had acknowledged (restored from a backup):
                    // next time, send everything and catch up from the start.
                    self.in_flight.clear();
                    self.resync.clear();
                    replica.forget_server_state();
                }
                return Err(SyncError::Server { code, message });
            }
            ServerMsg::Forget { docs, reason } => {
                for id in &docs {
                    self.in_flight.remove(id);
                    self.resync.remove(id);
                    self.unconfirmed.remove(id);
                }
                replica.forget(&docs, &reason, now);
            }
            ServerMsg::BlobProgress { hash, received } => {
                let mut frames = Vec::new();
                if let Some(&size) = self.uploads.get(&hash) {
                    match replica.upload_bytes(&hash) {
                        Some(bytes) if received < size && size == bytes.len() as u64 => {
                            let from = usize::try_from(received).unwrap_or(usize::MAX).min(bytes.len());
                            let to = (from + protocol::blob::BLOB_CHUNK_BYTES).min(bytes.len());
                            let chunk = bytes[from..to].to_vec();
                            self.stats.blob_bytes_sent += chunk.len() as u64;
                            let put = ClientMsg::BlobPut { hash, size, offset: received, bytes: chunk };
                            frames.push(self.encode(&put)?);
                        }
                        _ => {
                            self.uploads.remove(&hash);
                        }
                    }
                }
                return Ok(frames);
            }
            ServerMsg::BlobStored { hash, .. } => {
                if self.uploads.remove(&hash).is_some() {
                    self.stats.blobs_uploaded += 1;
                    replica.blob_uploaded(hash);
                }
            }
            ServerMsg::BlobData { hash, size, mime, offset, bytes } => {
                if self.downloads.contains(&hash) {
                    self.stats.blob_bytes_received += bytes.len() as u64;
                    match replica.download_piece(hash, size, mime, offset, bytes, now) {
                        Piece::More(next) => {
                            return Ok(vec![self.encode(&ClientMsg::BlobGet { hash, offset: next })?]);
                        }
                        Piece::Done => {
                            self.stats.blobs_downloaded += 1;
                            self.downloads.remove(&hash);
                        }
                        Piece::Ignored => {
                            self.downloads.remove(&hash);
                        }
                    }
                }
            }
            ServerMsg::BlobRefused { hash, code, message } => {
                let ours = self.uploads.remove(&hash).is_some() | self.downloads.remove(&hash);
                if ours {
                    self.stats.blobs_refused += 1;
                    replica.blob_refused(hash, code, message);
                }
            }
        }
        let mut frames = Vec::new();
        let new_lacking: Vec<DocId> = lacking.into_iter().filter(|id| self.resync.insert(*id)).collect();
        if !new_lacking.is_empty() {
            frames.push(self.encode(&ClientMsg::Resync { docs: new_lacking })?);
        }
        frames.extend(self.pushes(replica)?);
        frames.extend(self.blob_frames(replica)?);
        Ok(frames)
    }

    /// Attachment work to start once caught up: every pending upload (`BlobStart`: where
    /// is the server with it?), every wanted download from where it is.
    fn blob_frames(&mut self, replica: &mut Replica) -> Result<Vec<Vec<u8>>, SyncError> {
        let mut frames = Vec::new();
        if self.phase != Phase::Live {
            return Ok(frames);
        }
        for (hash, size) in replica.uploads_waiting() {
            if self.uploads.insert(hash, size).is_none() {
                frames.push(self.encode(&ClientMsg::BlobStart { hash, size })?);
            }
        }
        for (hash, offset) in replica.downloads_waiting() {
            if self.downloads.insert(hash) {
                frames.push(self.encode(&ClientMsg::BlobGet { hash, offset })?);
            }
        }
        Ok(frames)
    }

    /// Attachments waiting to be uploaded.
    pub fn pending_blobs(&self, replica: &Replica) -> usize {
        replica.uploads_waiting().len()
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
            self.unconfirmed.remove(&chunk.id);
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
        let busy = |id: &DocId| self.in_flight.contains_key(id) || self.resync.contains(id);
        for id in replica.unsent_docs_besides(busy) {
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
        for batch in wire::batch_by_budget(chunks, wire::PUSH_BUDGET_BYTES) {
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
