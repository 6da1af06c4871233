//! The thread that runs the [`Hub`]: receives events from connection tasks over a
//! channel, drains what is queued into one batch (group commit), and delivers the
//! answers into each connection's bounded outbound queue. A connection whose queue is
//! full is dropped as a slow consumer.

use crate::identity::session::Session;
use crate::server_stats::ServerStats;
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
    /// An encoded `ServerMsg`, and when the hub queued it (after its part was committed):
    /// the connection task observes `delivery_seconds` once the frame is on the socket.
    Frame { frame: Bytes, queued_at: std::time::Instant },
    /// An encoded `ServerMsg::Error`: send it, then close with `code`.
    Fatal { code: ErrorCode, frame: Bytes },
}

/// A connection's end of the hub's deliveries.
pub struct ConnOutbox {
    pub frames: mpsc::Sender<Outbound>,
    /// Close now with this code (used when `frames` is full).
    pub kill: oneshot::Sender<ErrorCode>,
    /// Bytes queued and not yet written (the connection task subtracts what it wrote).
    /// A catch-up is sent in pieces as they are read (`Hub::pump_catchups`), so it never
    /// fills the budget by itself.
    pub queued: Arc<AtomicUsize>,
}

impl ConnOutbox {
    /// A new outbox and the receiving ends for the connection task (the byte counter is
    /// shared: the task calls [`Outbound::written`] after writing each frame).
    pub fn new() -> (Self, mpsc::Receiver<Outbound>, oneshot::Receiver<ErrorCode>, Arc<AtomicUsize>) {
        let (frames, frames_rx) = mpsc::channel(OUTBOX_FRAMES);
        let (kill, kill_rx) = oneshot::channel();
        let queued = Arc::new(AtomicUsize::new(0));
        (ConnOutbox { frames, kill, queued: queued.clone() }, frames_rx, kill_rx, queued)
    }
}

impl Outbound {
    /// The frame was written (or dropped): it no longer counts against the budget.
    pub fn written(&self, queued: &AtomicUsize) {
        let n = match self {
            Outbound::Frame { frame, .. } | Outbound::Fatal { frame, .. } => frame.len(),
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
    let stats = hub.stats();
    let mut outboxes: HashMap<ConnId, ConnOutbox> = HashMap::new();
    let mut stop = false;
    while !stop {
        // With catch-ups under way, send their next pieces whenever no event is waiting
        // (and their connections have room); otherwise wait for the next event.
        let first = if hub.has_catchups() {
            match rx.try_recv() {
                Ok(event) => event,
                Err(mpsc::error::TryRecvError::Empty) => {
                    if !pump(&mut hub, &mut outboxes) {
                        std::thread::sleep(CATCH_UP_WAIT);
                    }
                    continue;
                }
                Err(mpsc::error::TryRecvError::Disconnected) => break,
            }
        } else {
            match rx.blocking_recv() {
                Some(event) => event,
                None => break,
            }
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
        let involved: Vec<ConnId> = events.iter().filter_map(HubEvent::conn).collect();
        let m = &stats.metrics;
        m.hub_events.inc_by(events.len() as u64);
        for e in &events {
            if let HubEvent::Message { msg: protocol::ClientMsg::Push { docs }, .. } = e {
                m.push_frames.inc();
                m.pushed_documents.inc_by(docs.len() as u64);
            }
        }
        m.hub_queue_depth.set(i64::try_from(rx.len()).unwrap_or(i64::MAX));
        let now = crate::identity::accounts::now_ms();
        let started = std::time::Instant::now();
        let mut dropped = Vec::new();
        let handled = catch_unwind(AssertUnwindSafe(|| {
            hub.handle_batch_into(events, now, &mut |outgoing| deliver(&mut outboxes, outgoing, &mut dropped, &stats))
        }));
        m.hub_batch_seconds.observe(started.elapsed().as_secs_f64());
        m.cached_documents.set(i64::try_from(hub.cached_docs()).unwrap_or(i64::MAX));
        if handled.is_err() {
            tracing::error!(
                connections = involved.len(),
                "the hub panicked; rolled back and closing the connections involved"
            );
            hub.recover_after_panic();
            let mut closed = Vec::new();
            for conn in involved {
                if !closed.contains(&conn) {
                    closed.push(conn);
                    forget(&mut hub, conn, now);
                }
            }
            let errors = closed
                .into_iter()
                .map(|conn| Outgoing {
                    to: vec![conn],
                    msg: ServerMsg::Error { code: ErrorCode::Internal, message: ErrorCode::Internal.describe().into() },
                })
                .collect();
            deliver(&mut outboxes, errors, &mut dropped, &stats);
        }
        // Connections dropped while delivering (queue full, closed): the hub forgets them.
        for conn in dropped {
            forget(&mut hub, conn, now);
        }
        pump(&mut hub, &mut outboxes);
    }
    tracing::debug!("hub stopped");
}

/// How long the runner waits when every catch-up's connection is full and no event came.
const CATCH_UP_WAIT: std::time::Duration = std::time::Duration::from_millis(2);
/// A connection takes the next catch-up piece once its queue holds less than this.
const CATCH_UP_LOW_WATER: usize = 2 * 1024 * 1024;

/// Send the next piece of every catch-up whose connection has room; whether any did.
fn pump(hub: &mut Hub, outboxes: &mut HashMap<ConnId, ConnOutbox>) -> bool {
    if !hub.has_catchups() {
        return false;
    }
    let room =
        |conn: ConnId| outboxes.get(&conn).is_some_and(|o| o.queued.load(Ordering::Relaxed) < CATCH_UP_LOW_WATER);
    let out = hub.pump_catchups(&room);
    let progressed = !out.is_empty();
    let mut dropped = Vec::new();
    let stats = hub.stats();
    deliver(outboxes, out, &mut dropped, &stats);
    let now = crate::identity::accounts::now_ms();
    for conn in dropped {
        forget(hub, conn, now);
    }
    progressed
}

/// The hub forgets a connection (without sending anything else meanwhile).
fn forget(hub: &mut Hub, conn: ConnId, now: i64) {
    hub.handle_batch_into(std::iter::once(HubEvent::Disconnected { conn }), now, &mut |_| {});
}

/// Queue every message for its connections. A connection whose queue is full (or over its
/// byte budget) is killed with `slow_consumer`; one whose task is gone is forgotten; both
/// are added to `dropped` for the hub to forget.
fn deliver(
    outboxes: &mut HashMap<ConnId, ConnOutbox>,
    outgoing: Vec<Outgoing>,
    dropped: &mut Vec<ConnId>,
    stats: &ServerStats,
) {
    let queued_at = std::time::Instant::now();
    for Outgoing { to, msg } in outgoing {
        stats.metrics.sent(&msg, to.len());
        let fatal = match &msg {
            ServerMsg::Error { code, .. } => Some(*code),
            _ => None,
        };
        let frame = match protocol::wire::encode(&msg) {
            Ok(f) => Bytes::from(f),
            Err(e) => {
                tracing::error!(error = %e, "cannot encode a message; closing its recipients");
                for conn in to {
                    kill(outboxes, conn, ErrorCode::Internal, dropped);
                }
                continue;
            }
        };
        for conn in to {
            let Some(outbox) = outboxes.get(&conn) else {
                continue;
            };
            if fatal.is_none() && outbox.queued.load(Ordering::Relaxed) + frame.len() > OUTBOX_BYTES {
                tracing::warn!(%conn, code = ErrorCode::SlowConsumer.as_str(), "outbound bytes over budget; dropping connection");
                kill(outboxes, conn, ErrorCode::SlowConsumer, dropped);
                continue;
            }
            let item = match fatal {
                Some(code) => Outbound::Fatal { code, frame: frame.clone() },
                None => Outbound::Frame { frame: frame.clone(), queued_at },
            };
            outbox.queued.fetch_add(frame.len(), Ordering::Relaxed);
            match outbox.frames.try_send(item) {
                Ok(()) => {
                    if fatal.is_some() {
                        outboxes.remove(&conn);
                    }
                }
                Err(mpsc::error::TrySendError::Full(_)) => {
                    tracing::warn!(%conn, code = ErrorCode::SlowConsumer.as_str(), "outbound queue full; dropping connection");
                    kill(outboxes, conn, ErrorCode::SlowConsumer, dropped);
                }
                Err(mpsc::error::TrySendError::Closed(_)) => {
                    outboxes.remove(&conn);
                    dropped.push(conn);
                }
            }
        }
    }
}

fn kill(outboxes: &mut HashMap<ConnId, ConnOutbox>, conn: ConnId, code: ErrorCode, dropped: &mut Vec<ConnId>) {
    if let Some(outbox) = outboxes.remove(&conn) {
        let _ = outbox.kill.send(code);
    }
    dropped.push(conn);
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

    /// A catch-up of more than twice the output budget, read by a device that pauses for
    /// seconds first (a phone on a weak network): sent in pieces as it is read, never over
    /// the budget, the connection kept, every document delivered.
    #[tokio::test]
    async fn a_large_catch_up_read_slowly_is_streamed_not_dropped() {
        use automerge::transaction::Transactable;
        const DOCS: usize = 40;
        let dir = std::env::temp_dir().join(format!("jiuloop-runner-{}", Uuid::new_v4()));
        let db = crate::storage::open_sqlite(&dir).unwrap();
        let device = Uuid::new_v4();
        let user = NewUser {
            name: "it".into(),
            password_hash: "x".into(),
            role: "admin".into(),
            territory: None,
            manager: None,
            created_at: 0,
        };
        db.insert_user(&user).unwrap();
        db.upsert_device(device, "it", "laptop", 0).unwrap();
        let big = "酒".repeat(OUTBOX_BYTES / DOCS / 3 * 3);
        db.begin().unwrap();
        for _ in 0..DOCS {
            let id = protocol::DocId::new_random();
            let mut doc = automerge::AutoCommit::new();
            doc.put(automerge::ROOT, "doc_kind", "customer").unwrap();
            doc.put(automerge::ROOT, "notes", big.as_str()).unwrap();
            let heads: Vec<u8> = doc.get_heads().iter().flat_map(|h| h.0).collect();
            db.store_change(id.as_bytes(), protocol::DocKind::Customer.code(), &heads, &doc.save(), 0).unwrap();
            let facts = crate::storage::DocFactsRow { territory: Some("贵州"), ..Default::default() };
            db.set_doc_facts(id.as_bytes(), &facts).unwrap();
        }
        db.commit().unwrap();
        let hub =
            Hub::new(db, HubSettings { cache_docs: 4, compact_after: 64 }, Arc::new(ServerStats::default())).unwrap();
        let thread = HubThread::spawn(hub).unwrap();
        let handle = thread.handle();
        let conn = ConnId(1);
        let (outbox, mut frames, mut kill, queued) = ConnOutbox::new();
        handle.connect(conn, Session::for_tests("it", Role::Admin, None, device), outbox).await.unwrap();
        let hello =
            ClientMsg::Hello(Hello { device_id: device, actors: vec![vec![7; 16]], cursor: 0, client: "t".into() });
        handle.send(HubEvent::Message { conn, msg: hello }).await.unwrap();
        // Not reading for a while: the server holds a piece or two, not the download.
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
        assert!(queued.load(Ordering::Relaxed) <= CATCH_UP_LOW_WATER + 2 * protocol::wire::BATCH_BUDGET_BYTES);
        assert!(kill.try_recv().is_err(), "the slow reader is not dropped");
        let mut docs = 0;
        let mut marks = Vec::new();
        loop {
            let item = tokio::time::timeout(std::time::Duration::from_secs(30), frames.recv()).await.unwrap().unwrap();
            item.written(&queued);
            let Outbound::Frame { frame, .. } = item else { panic!("closed: {item:?}") };
            match protocol::wire::decode::<ServerMsg>(&frame).unwrap() {
                ServerMsg::Changes { docs: d, .. } => docs += d.len(),
                // Pieces of the download, each marked: a cut resumes from the last mark.
                ServerMsg::CatchUpMark { cursor } => marks.push(cursor),
                ServerMsg::CaughtUp { docs_sent, cursor } => {
                    assert_eq!(docs_sent as usize, DOCS);
                    assert!(!marks.is_empty() && marks.windows(2).all(|w| w[0] < w[1]), "{marks:?}");
                    assert!(marks.iter().all(|m| *m < cursor), "{marks:?} {cursor}");
                    break;
                }
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(docs, DOCS);
        tokio::task::spawn_blocking(move || thread.stop()).await.unwrap();
        let _ = std::fs::remove_dir_all(&dir);
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
