//! The thread that runs the [`Hub`]: receives events from connection tasks over a
//! channel, drains what is queued into one batch (group commit), and delivers the
//! answers into each connection's bounded outbound queue. A connection whose queue is
//! full is dropped as a slow consumer.

use crate::identity::session::Session;
use crate::sync::conn_id::ConnId;
use crate::sync::hub::Hub;
use crate::sync::hub_event::{HubEvent, Outgoing};
use axum::body::Bytes;
use protocol::{ErrorCode, ServerMsg};
use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::JoinHandle;
use tokio::sync::{mpsc, oneshot};

/// Frames a connection may have queued before it is dropped as a slow consumer.
pub const OUTBOX_FRAMES: usize = 1024;
/// Bytes a connection may have queued (sent by the hub, not yet written to its socket)
/// before it is dropped as a slow consumer: what one connection that never reads can cost.
pub const OUTBOX_BYTES: usize = 16 * 1024 * 1024;
/// Events queued towards the hub before connection tasks wait.
const INBOX_EVENTS: usize = 4096;
/// Most events handled (and group-committed) in one go.
const MAX_BATCH_EVENTS: usize = 256;
/// How often the hub looks at the admin command queue and at token expiry.
pub const TICK: std::time::Duration = std::time::Duration::from_millis(200);

/// What the hub sends to a connection task.
#[derive(Debug)]
pub enum Outbound {
    /// An encoded `ServerMsg`.
    Frame(Bytes),
    /// An encoded `ServerMsg::Error`: send it, then close with `code`.
    Fatal { code: ErrorCode, frame: Bytes },
}

/// A connection's end of the hub's deliveries.
pub struct ConnOutbox {
    pub frames: mpsc::Sender<Outbound>,
    /// Close now with this code (used when `frames` is full).
    pub kill: oneshot::Sender<ErrorCode>,
    /// Bytes queued and not yet written (the connection task subtracts what it wrote).
    pub queued: Arc<AtomicUsize>,
    /// Bytes ever queued (the runner's own count: `total - queued` have been written).
    total: usize,
    /// The catch-up (everything up to `CaughtUp`) has been queued; it ended at byte
    /// `catch_up_end` of `total`.
    caught_up: bool,
    catch_up_end: usize,
}

impl ConnOutbox {
    /// A new outbox and the receiving ends for the connection task (the byte counter is
    /// shared: the task calls [`Outbound::written`] after writing each frame).
    pub fn new() -> (Self, mpsc::Receiver<Outbound>, oneshot::Receiver<ErrorCode>, Arc<AtomicUsize>) {
        let (frames, frames_rx) = mpsc::channel(OUTBOX_FRAMES);
        let (kill, kill_rx) = oneshot::channel();
        let queued = Arc::new(AtomicUsize::new(0));
        let outbox = ConnOutbox { frames, kill, queued: queued.clone(), total: 0, caught_up: false, catch_up_end: 0 };
        (outbox, frames_rx, kill_rx, queued)
    }

    /// May `len` more bytes be queued? The budget bounds what a connection can make the
    /// server hold by not reading — relays, answers to resyncs — on top of its catch-up:
    /// the catch-up is sent whole once per connection (everything the user may read that
    /// changed), however slowly it is read, and what of it is still queued does not count.
    fn within_budget(&self, len: usize) -> bool {
        if !self.caught_up {
            return true;
        }
        let queued = self.queued.load(Ordering::Relaxed);
        let written = self.total.saturating_sub(queued);
        let catch_up_queued = self.catch_up_end.saturating_sub(written);
        queued.saturating_sub(catch_up_queued) + len <= OUTBOX_BYTES
    }

    /// `len` bytes of `msg` are being queued.
    fn queue(&mut self, len: usize, msg: &ServerMsg) {
        self.queued.fetch_add(len, Ordering::Relaxed);
        self.total += len;
        if !self.caught_up {
            self.catch_up_end = self.total;
            self.caught_up = matches!(msg, ServerMsg::CaughtUp { .. });
        }
    }
}

impl Outbound {
    /// The frame was written (or dropped): it no longer counts against the budget.
    pub fn written(&self, queued: &AtomicUsize) {
        let n = match self {
            Outbound::Frame(f) => f.len(),
            Outbound::Fatal { frame, .. } => frame.len(),
        };
        queued.fetch_sub(n.min(queued.load(Ordering::Relaxed)), Ordering::Relaxed);
    }
}

enum RunnerEvent {
    Connect { conn: ConnId, session: Session, outbox: ConnOutbox },
    Hub(HubEvent),
    Stop,
}

#[derive(Debug, thiserror::Error)]
#[error("the sync hub has stopped")]
pub struct HubStopped;

/// Cheap handle used by connection tasks to reach the hub.
#[derive(Clone)]
pub struct HubHandle {
    tx: mpsc::Sender<RunnerEvent>,
}

impl HubHandle {
    pub async fn connect(&self, conn: ConnId, session: Session, outbox: ConnOutbox) -> Result<(), HubStopped> {
        self.tx.send(RunnerEvent::Connect { conn, session, outbox }).await.map_err(|_| HubStopped)
    }

    pub async fn send(&self, event: HubEvent) -> Result<(), HubStopped> {
        self.tx.send(RunnerEvent::Hub(event)).await.map_err(|_| HubStopped)
    }
}

/// The running hub thread.
pub struct HubThread {
    handle: HubHandle,
    join: JoinHandle<()>,
}

impl HubThread {
    pub fn spawn(hub: Hub) -> std::io::Result<Self> {
        let (tx, rx) = mpsc::channel(INBOX_EVENTS);
        let join = std::thread::Builder::new().name("jiuloop-hub".into()).spawn(move || run(hub, rx))?;
        let ticks = tx.clone();
        std::thread::Builder::new().name("jiuloop-hub-tick".into()).spawn(move || {
            // Ends when the hub has stopped (the channel is closed).
            loop {
                std::thread::sleep(TICK);
                let tick = HubEvent::Tick { now: crate::identity::accounts::now_ms() };
                match ticks.try_send(RunnerEvent::Hub(tick)) {
                    Ok(()) | Err(mpsc::error::TrySendError::Full(_)) => {}
                    Err(mpsc::error::TrySendError::Closed(_)) => break,
                }
            }
        })?;
        Ok(HubThread { handle: HubHandle { tx }, join })
    }

    pub fn handle(&self) -> HubHandle {
        self.handle.clone()
    }

    /// Stop after the events already queued, and wait until the hub (and its database
    /// connection) is closed. Blocks.
    pub fn stop(self) {
        let _ = self.handle.tx.blocking_send(RunnerEvent::Stop);
        drop(self.handle);
        if self.join.join().is_err() {
            tracing::error!("the hub thread panicked");
        }
    }
}

fn run(mut hub: Hub, mut rx: mpsc::Receiver<RunnerEvent>) {
    let mut outboxes: HashMap<ConnId, ConnOutbox> = HashMap::new();
    let mut stop = false;
    while !stop {
        let Some(first) = rx.blocking_recv() else {
            break;
        };
        let mut events = Vec::new();
        let mut next = Some(first);
        while let Some(event) = next.take() {
            match event {
                RunnerEvent::Connect { conn, session, outbox } => {
                    outboxes.insert(conn, outbox);
                    events.push(HubEvent::Connected { conn, session });
                }
                RunnerEvent::Hub(event) => {
                    if let HubEvent::Disconnected { conn } = &event {
                        outboxes.remove(conn);
                    }
                    events.push(event);
                }
                RunnerEvent::Stop => {
                    stop = true;
                    break;
                }
            }
            if events.len() >= MAX_BATCH_EVENTS {
                break;
            }
            next = rx.try_recv().ok();
        }
        // Runs of pushes are handled together (one group commit); every other event is
        // handled and delivered on its own, so that what it answers — a catch-up, a resync:
        // the large answers — meets the connection's output budget before the next event
        // is handled. (Delivered only once a whole batch was handled, 256 resyncs of a large
        // document from a connection that never reads were all built in memory first.)
        let mut segments: Vec<Vec<HubEvent>> = Vec::new();
        for event in events {
            match segments.last_mut() {
                Some(run) if is_push(&event) && run.last().is_some_and(is_push) => run.push(event),
                _ => segments.push(vec![event]),
            }
        }
        for segment in segments {
            let outgoing = handle_segment(&mut hub, segment);
            deliver(&mut hub, &mut outboxes, outgoing);
        }
    }
    tracing::debug!("hub stopped");
}

fn is_push(event: &HubEvent) -> bool {
    matches!(event, HubEvent::Message { msg: protocol::ClientMsg::Push { .. }, .. })
}

/// Handle events in one go; after a panic, roll back and close the connections involved.
fn handle_segment(hub: &mut Hub, events: Vec<HubEvent>) -> Vec<Outgoing> {
    let involved: Vec<ConnId> = events.iter().filter_map(HubEvent::conn).collect();
    match catch_unwind(AssertUnwindSafe(|| hub.handle_batch(events, crate::identity::accounts::now_ms()))) {
        Ok(outgoing) => outgoing,
        Err(_) => {
            tracing::error!(
                connections = involved.len(),
                "the hub panicked; rolled back and closing the connections involved"
            );
            hub.recover_after_panic();
            let mut dropped = Vec::new();
            for conn in involved {
                if !dropped.contains(&conn) {
                    dropped.push(conn);
                    hub.handle(HubEvent::Disconnected { conn }, crate::identity::accounts::now_ms());
                }
            }
            dropped
                .into_iter()
                .map(|conn| Outgoing {
                    to: vec![conn],
                    msg: ServerMsg::Error { code: ErrorCode::Internal, message: ErrorCode::Internal.describe().into() },
                })
                .collect()
        }
    }
}

fn deliver(hub: &mut Hub, outboxes: &mut HashMap<ConnId, ConnOutbox>, outgoing: Vec<Outgoing>) {
    for Outgoing { to, msg } in outgoing {
        let fatal = match &msg {
            ServerMsg::Error { code, .. } => Some(*code),
            _ => None,
        };
        let frame = match protocol::wire::encode(&msg) {
            Ok(f) => Bytes::from(f),
            Err(e) => {
                tracing::error!(error = %e, "cannot encode a message; closing its recipients");
                for conn in to {
                    drop_conn(hub, outboxes, conn, ErrorCode::Internal);
                }
                continue;
            }
        };
        for conn in to {
            let Some(outbox) = outboxes.get_mut(&conn) else {
                continue;
            };
            if fatal.is_none() && !outbox.within_budget(frame.len()) {
                tracing::warn!(%conn, code = ErrorCode::SlowConsumer.as_str(), "outbound bytes over budget; dropping connection");
                drop_conn(hub, outboxes, conn, ErrorCode::SlowConsumer);
                continue;
            }
            let item = match fatal {
                Some(code) => Outbound::Fatal { code, frame: frame.clone() },
                None => Outbound::Frame(frame.clone()),
            };
            outbox.queue(frame.len(), &msg);
            match outbox.frames.try_send(item) {
                Ok(()) => {
                    if fatal.is_some() {
                        outboxes.remove(&conn);
                    }
                }
                Err(mpsc::error::TrySendError::Full(_)) => {
                    tracing::warn!(%conn, code = ErrorCode::SlowConsumer.as_str(), "outbound queue full; dropping connection");
                    drop_conn(hub, outboxes, conn, ErrorCode::SlowConsumer);
                }
                Err(mpsc::error::TrySendError::Closed(_)) => {
                    outboxes.remove(&conn);
                    hub.handle(HubEvent::Disconnected { conn }, crate::identity::accounts::now_ms());
                }
            }
        }
    }
}

fn drop_conn(hub: &mut Hub, outboxes: &mut HashMap<ConnId, ConnOutbox>, conn: ConnId, code: ErrorCode) {
    if let Some(outbox) = outboxes.remove(&conn) {
        let _ = outbox.kill.send(code);
    }
    hub.handle(HubEvent::Disconnected { conn }, crate::identity::accounts::now_ms());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server_stats::ServerStats;
    use crate::storage::NewUser;
    use crate::sync::hub::HubSettings;
    use protocol::ClientMsg;
    use protocol::Role;
    use protocol::wire::Hello;
    use std::sync::Arc;
    use uuid::Uuid;

    #[test]
    fn the_catch_up_is_sent_whole_and_the_budget_counts_what_follows_it() {
        const MB: usize = 1024 * 1024;
        let (mut o, _frames, _kill, queued) = ConnOutbox::new();
        let changes = ServerMsg::Changes { docs: vec![], cursor: None };
        // A catch-up of twice the budget, nothing read yet (a phone on a weak network):
        // all of it is queued.
        for _ in 0..2 * OUTBOX_BYTES / MB {
            assert!(o.within_budget(MB));
            o.queue(MB, &changes);
        }
        o.queue(10, &ServerMsg::CaughtUp { cursor: 1, docs_sent: 32 });
        // Beyond it, the budget: nearly all of it may wait, not more.
        for _ in 0..OUTBOX_BYTES / MB - 1 {
            assert!(o.within_budget(MB));
            o.queue(MB, &changes);
        }
        assert!(!o.within_budget(2 * MB), "over the budget beyond the catch-up");
        // The reader gets through part of the catch-up: what follows it still counts whole.
        queued.fetch_sub(20 * MB, Ordering::Relaxed);
        assert!(!o.within_budget(2 * MB));
        // Once the catch-up is read, only what is still queued counts.
        queued.fetch_sub(OUTBOX_BYTES / 2 + 13 * MB, Ordering::Relaxed);
        assert!(o.within_budget(MB));
        assert!(!o.within_budget(OUTBOX_BYTES / 2 + 2 * MB));
    }

    #[tokio::test]
    async fn a_connection_that_does_not_read_is_dropped_as_slow_consumer() {
        let dir = std::env::temp_dir().join(format!("jiuloop-runner-{}", Uuid::new_v4()));
        let db = crate::storage::open_sqlite(&dir).unwrap();
        let device = Uuid::new_v4();
        db.insert_user(&NewUser {
            name: "li".into(),
            password_hash: "x".into(),
            role: "rep".into(),
            territory: None,
            manager: None,
            created_at: 0,
        })
        .unwrap();
        db.upsert_device(device, "li", "phone", 0).unwrap();
        let settings = HubSettings { cache_docs: 10, compact_after: 64 };
        let hub = Hub::new(db, settings, Arc::new(ServerStats::default())).unwrap();
        let thread = HubThread::spawn(hub).unwrap();
        let handle = thread.handle();

        let conn = ConnId(1);
        let session = Session::for_tests("li", Role::Rep, None, device);
        let (outbox, mut frames, kill, _queued) = ConnOutbox::new();
        handle.connect(conn, session, outbox).await.unwrap();
        let hello =
            ClientMsg::Hello(Hello { device_id: device, actors: vec![vec![7; 16]], cursor: 0, client: "test".into() });
        handle.send(HubEvent::Message { conn, msg: hello }).await.unwrap();
        // Every resync is answered with one frame; nobody reads them.
        for _ in 0..OUTBOX_FRAMES + 10 {
            let msg = ClientMsg::Resync { docs: vec![] };
            handle.send(HubEvent::Message { conn, msg }).await.unwrap();
        }
        let code = tokio::time::timeout(std::time::Duration::from_secs(10), kill).await.unwrap().unwrap();
        assert_eq!(code, ErrorCode::SlowConsumer);
        let mut queued = 0;
        while frames.recv().await.is_some() {
            queued += 1;
        }
        assert_eq!(queued, OUTBOX_FRAMES);
        tokio::task::spawn_blocking(move || thread.stop()).await.unwrap();
        let _ = std::fs::remove_dir_all(&dir);
    }
}
