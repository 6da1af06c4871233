//! A simulated device: a real client-core [`Replica`] and [`SyncEngine`] with either an
//! in-memory store (client-core's [`MemStore`], cheap enough for thousands of devices in
//! one process) or the native driver's SQLite profile, synced over a real WebSocket. Both
//! stores keep the `LocalStore` contract (`client_core::store_contract`).
//!
//! Two ways to run it: [`Device::sync_once`] (connect, sync until quiescent, close — what
//! `jiuloop sync` does) and [`live`] (stay connected, take edit commands, reconnect with
//! backoff when the connection drops, report when edits of others arrive).

use super::metrics::{Errors, Traffic};
use super::server::{Login, login};
use super::tracker::Tracker;
use anyhow::{Context, Result, anyhow, bail};
use automerge::ActorId;
use client_core::{LocalStore, MemStore, Replica, StoredDoc, SyncEngine, SyncStats};
use futures_util::{SinkExt, StreamExt};
use jiuloop_cli::Profile;
use jiuloop_cli::http::ServerUrl;
use protocol::wire::{self, ClientMsg, ServerMsg};
use protocol::{DocId, DocKind};
use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use uuid::Uuid;

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

const CLIENT_NAME: &str = concat!("jiuloop-loadgen/", env!("CARGO_PKG_VERSION"));
/// How long a device waits for the server's next frame while it expects one.
const IDLE_TIMEOUT: Duration = Duration::from_secs(120);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

enum Backend {
    Mem { replica: Box<Replica>, store: MemStore },
    Sqlite(Box<Profile>),
}

pub struct Device {
    /// Index of the device in its set (for the tracker and status arrays).
    pub idx: usize,
    pub user: String,
    pub territory: String,
    pub device_id: Uuid,
    token: String,
    backend: Backend,
}

impl Device {
    /// A new in-memory device of `user`, logged in over HTTP.
    pub async fn login_mem(url: &ServerUrl, user: &str, territory: &str) -> Result<Self> {
        let device_id = Uuid::new_v4();
        let l = login(url, user, device_id).await?;
        Self::mem(user, territory, device_id, l, Vec::new(), 0)
    }

    /// An in-memory device holding `stored` documents and the server cursor `cursor`, as
    /// if it had synced them earlier (a fresh actor id; the login is `login`'s).
    pub fn mem(
        user: &str,
        territory: &str,
        device_id: Uuid,
        login: Login,
        stored: Vec<StoredDoc>,
        cursor: u64,
    ) -> Result<Self> {
        let mut store = MemStore::default();
        store.cursor = cursor;
        for d in &stored {
            store.docs.insert(d.id, d.clone());
        }
        let replica = Replica::load(ActorId::random(), user, stored, cursor, Vec::new())?;
        Ok(Device {
            idx: 0,
            user: user.to_string(),
            territory: login.territory.unwrap_or_else(|| territory.to_string()),
            device_id,
            token: login.token,
            backend: Backend::Mem { replica: Box::new(replica), store },
        })
    }

    /// A new profile directory (the native driver's SQLite file) logged in as `user`.
    pub async fn login_sqlite(dir: &Path, url: &ServerUrl, user: &str) -> Result<Self> {
        let profile = Profile::open(dir)?;
        let device_id = profile.device_id();
        let l = login(url, user, device_id).await?;
        let mut profile = profile;
        let server = format!("http://{}", url.authority());
        profile.save_login(&server, user, &l.token, "")?;
        profile.set_meta("territory", l.territory.as_deref().unwrap_or_default())?;
        drop(profile);
        // Reopen: the replica reads the user name at open.
        let profile = Profile::open(dir)?;
        Ok(Device {
            idx: 0,
            user: user.to_string(),
            territory: l.territory.unwrap_or_default(),
            device_id,
            token: l.token,
            backend: Backend::Sqlite(Box::new(profile)),
        })
    }

    pub fn replica(&mut self) -> &mut Replica {
        match &mut self.backend {
            Backend::Mem { replica, .. } => replica,
            Backend::Sqlite(p) => &mut p.replica,
        }
    }

    pub fn replica_ref(&self) -> &Replica {
        match &self.backend {
            Backend::Mem { replica, .. } => replica,
            Backend::Sqlite(p) => &p.replica,
        }
    }

    /// Make the replica's pending store ops durable (in memory, or one SQLite
    /// transaction).
    pub fn persist(&mut self) -> Result<()> {
        match &mut self.backend {
            Backend::Mem { replica, store } => Ok(store.apply(&replica.take_store_ops())?),
            Backend::Sqlite(p) => Ok(p.persist()?),
        }
    }

    /// Copies of stored documents (in-memory devices only).
    pub fn stored(&self, ids: &[DocId]) -> Vec<StoredDoc> {
        match &self.backend {
            Backend::Mem { store, .. } => ids.iter().filter_map(|id| store.docs.get(id).cloned()).collect(),
            Backend::Sqlite(_) => Vec::new(),
        }
    }

    pub fn cursor(&self) -> u64 {
        self.replica_ref().cursor()
    }

    pub fn token(&self) -> &str {
        &self.token
    }

    /// Connect, sync until quiescent, close. The SQLite device uses the native driver
    /// (`jiuloop_cli::sync`), the in-memory one the same loop over its own store.
    pub async fn sync_once(&mut self, addr: SocketAddr, traffic: &Traffic) -> Result<SyncStats> {
        if let Backend::Sqlite(p) = &mut self.backend {
            let report = jiuloop_cli::sync(p).await?;
            traffic.add(&report.stats);
            return Ok(report.stats);
        }
        let mut ws = connect(addr, &self.token).await?;
        let mut engine = SyncEngine::new(self.device_id, CLIENT_NAME);
        let result = self.drive_until_quiescent(&mut engine, &mut ws).await;
        traffic.add(&engine.stats);
        let _ = ws.close(None).await;
        result.map(|()| engine.stats.clone())
    }

    async fn drive_until_quiescent(&mut self, engine: &mut SyncEngine, ws: &mut Ws) -> Result<()> {
        let frames = engine.connected(self.replica())?;
        self.persist()?;
        send_all(ws, frames).await?;
        while !engine.is_quiescent(self.replica()) {
            let next = tokio::time::timeout(IDLE_TIMEOUT, ws.next())
                .await
                .map_err(|_| anyhow!("no frame from the server within {IDLE_TIMEOUT:?}"))?;
            match next {
                Some(Ok(Message::Binary(frame))) => {
                    let result = engine.receive(self.replica(), &frame, jiuloop_cli::now_ms());
                    self.persist()?;
                    send_all(ws, result?).await?;
                }
                Some(Ok(Message::Close(f))) => bail!("the server closed the connection: {f:?}"),
                Some(Ok(_)) => {}
                Some(Err(e)) => bail!("connection lost: {e}"),
                None => bail!("the server closed the connection"),
            }
        }
        Ok(())
    }

    /// Automerge "tokens" of a document: order lines and contacts whose SKU / name is a
    /// load token (`T:…`), as the user would see them.
    pub fn tokens(&self, id: DocId, kind: DocKind) -> Option<Vec<String>> {
        let r = self.replica_ref();
        match kind {
            DocKind::Order => Some(
                r.order(id).ok()?.lines.into_iter().map(|l| l.sku).filter(|s| s.starts_with(TOKEN_PREFIX)).collect(),
            ),
            DocKind::Customer => Some(
                r.customer(id)
                    .ok()?
                    .contacts
                    .into_iter()
                    .map(|c| c.name)
                    .filter(|s| s.starts_with(TOKEN_PREFIX))
                    .collect(),
            ),
            _ => None,
        }
    }

    /// Make one tracked edit: a new order line / contact named `token`.
    pub fn edit(&mut self, doc: DocId, kind: DocKind, token: &str, rng: &mut crate::Rng) -> Result<()> {
        let now = jiuloop_cli::now_ms();
        match kind {
            DocKind::Order => self.replica().add_order_line(doc, &super::records::line(rng, Some(token)), now)?,
            DocKind::Customer => self.replica().add_contact(doc, token, Some("13800000000"), Some("采购"), now)?,
            other => bail!("no tracked edit for {other}"),
        }
        Ok(())
    }
}

/// Load tokens start with this, and end with [`TOKEN_END`].
pub const TOKEN_PREFIX: &str = "T:";
pub const TOKEN_END: char = '~';

/// A unique load token, e.g. `T:f17~`.
pub fn make_token(tag: &str, n: u64) -> String {
    format!("{TOKEN_PREFIX}{tag}{n}{TOKEN_END}")
}

/// The load tokens written by a run of plain Automerge change chunks, found in their
/// bytes (small changes keep strings uncompressed); `None` if the bytes hold anything
/// else (a document chunk, a compressed change) or do not parse.
pub fn tokens_in_changes(bytes: &[u8]) -> Option<Vec<String>> {
    const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
    const CHANGE: u8 = 1;
    let mut rest = bytes;
    let mut out: Vec<String> = Vec::new();
    while !rest.is_empty() {
        if rest.len() < 10 || rest[..4] != MAGIC || rest[8] != CHANGE {
            return None;
        }
        let (mut len, mut shift, mut n) = (0usize, 0u32, 0usize);
        loop {
            let b = *rest.get(9 + n)?;
            len |= usize::from(b & 0x7f).checked_shl(shift)?;
            n += 1;
            shift += 7;
            if b & 0x80 == 0 {
                break;
            }
        }
        let end = (9 + n).checked_add(len)?;
        let body = rest.get(9 + n..end)?;
        let prefix = TOKEN_PREFIX.as_bytes();
        let mut i = 0;
        while let Some(at) = body[i..].windows(prefix.len()).position(|w| w == prefix) {
            let start = i + at;
            // Strings are stored back to back: the end marker delimits a token.
            let len = body[start..].iter().take(32).position(|&b| b == TOKEN_END as u8)?;
            let token = String::from_utf8_lossy(&body[start..=start + len]).into_owned();
            if !out.contains(&token) {
                out.push(token);
            }
            i = start + len + 1;
        }
        rest = &rest[end..];
    }
    Some(out)
}

/// Open the sync WebSocket (Nagle off, like an interactive client should).
pub async fn connect(addr: SocketAddr, token: &str) -> Result<Ws> {
    let mut req = format!("ws://{addr}/sync").into_client_request().context("ws request")?;
    req.headers_mut().insert("authorization", format!("Bearer {token}").parse().context("token header")?);
    // Small buffers: thousands of simulated devices share this process.
    let config =
        tungstenite::protocol::WebSocketConfig::default().read_buffer_size(16 * 1024).write_buffer_size(16 * 1024);
    let attempt =
        tokio::time::timeout(CONNECT_TIMEOUT, tokio_tungstenite::connect_async_with_config(req, Some(config), true));
    match attempt.await {
        Err(_) => bail!("WebSocket handshake took over {CONNECT_TIMEOUT:?}"),
        Ok(Ok((ws, _))) => Ok(ws),
        Ok(Err(tungstenite::Error::Http(resp))) => Err(Rejected(format!(
            "HTTP {}: {}",
            resp.status(),
            resp.body().as_deref().map(String::from_utf8_lossy).unwrap_or_default()
        ))
        .into()),
        Ok(Err(e)) => bail!("connect: {e}"),
    }
}

/// The server answered the handshake with an HTTP error (not a network failure).
#[derive(Debug, thiserror::Error)]
#[error("handshake refused: {0}")]
pub struct Rejected(pub String);

async fn send_all(ws: &mut Ws, frames: Vec<Vec<u8>>) -> Result<()> {
    if frames.is_empty() {
        return Ok(());
    }
    for f in frames {
        ws.feed(Message::Binary(f.into())).await.context("send")?;
    }
    ws.flush().await.context("send")
}

// ---- live devices -------------------------------------------------------------------

/// What a live device is asked to do.
pub enum Cmd {
    /// A tracked edit of one of its documents.
    Edit { doc: DocId, kind: DocKind, token: String },
    /// Apply the frames put aside while lean ([`LiveCtx::lean`]), in the order they came.
    Settle,
    /// Close the connection and hand the device back.
    Stop,
}

/// Device status as the orchestrator sees it.
pub const OFFLINE: u8 = 0;
pub const SYNCING: u8 = 1;
pub const IN_SYNC: u8 = 2;

/// State shared by a set of live devices and the orchestrator.
pub struct LiveCtx {
    /// The nodes: device `i` connects to `addrs[i % len]`.
    pub addrs: Vec<SocketAddr>,
    pub traffic: Traffic,
    pub errors: Errors,
    pub tracker: std::sync::Mutex<Tracker>,
    pub status: Vec<AtomicU8>,
    pub connects: Vec<AtomicU32>,
    /// Document chunks received for documents the device does not watch.
    pub unwatched: AtomicU64,
    /// Commit → `Ack` at the editing device, microseconds (the server's part of an edit).
    pub ack_us: std::sync::Mutex<Vec<u64>>,
    /// Per device: a lean receiver, which only timestamps the tracked edits in each frame
    /// as it arrives and puts the frame aside, applying it on [`Cmd::Settle`] — so that a
    /// fan-out latency measures the server and the network, not 2,000 simulated replicas
    /// applying and storing every change on the same cores. A lean device takes no edits.
    pub lean: Vec<AtomicBool>,
    /// Frames put aside by lean devices and not applied yet.
    pub aside: AtomicU64,
    /// The most frames put aside at once by one device.
    pub aside_peak: AtomicU64,
}

impl LiveCtx {
    pub fn new(addrs: Vec<SocketAddr>, devices: usize, tracker: Tracker) -> Self {
        LiveCtx {
            addrs,
            traffic: Traffic::default(),
            errors: Errors::default(),
            tracker: std::sync::Mutex::new(tracker),
            status: (0..devices).map(|_| AtomicU8::new(OFFLINE)).collect(),
            connects: (0..devices).map(|_| AtomicU32::new(0)).collect(),
            unwatched: AtomicU64::new(0),
            ack_us: std::sync::Mutex::new(Vec::new()),
            lean: (0..devices).map(|_| AtomicBool::new(false)).collect(),
            aside: AtomicU64::new(0),
            aside_peak: AtomicU64::new(0),
        }
    }

    pub fn tracker(&self) -> std::sync::MutexGuard<'_, Tracker> {
        self.tracker.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn all_in_sync(&self) -> bool {
        self.status.iter().all(|s| s.load(Relaxed) == IN_SYNC)
    }

    pub fn count_status(&self, want: u8) -> usize {
        self.status.iter().filter(|s| s.load(Relaxed) == want).count()
    }
}

pub struct LiveHandle {
    pub tx: mpsc::UnboundedSender<Cmd>,
    pub join: tokio::task::JoinHandle<Device>,
}

/// Run `dev` connected until [`Cmd::Stop`]: reconnects (50 ms .. 1 s backoff, jittered)
/// whenever the connection drops; edits made while offline are pushed on reconnect.
pub fn live(dev: Prepared, ctx: Arc<LiveCtx>) -> LiveHandle {
    let (tx, rx) = mpsc::unbounded_channel();
    let join = tokio::spawn(run_live(dev, ctx, rx));
    LiveHandle { tx, join }
}

/// A device about to go live, with the tracked documents it watches (the ones of its
/// territory that tracked edits touch) already read.
pub struct Prepared {
    dev: Device,
    seen: HashMap<DocId, HashSet<String>>,
}

impl Prepared {
    pub fn new(dev: Device, watch: &[(DocId, DocKind)]) -> Self {
        let mut seen = HashMap::new();
        for (id, kind) in watch {
            seen.insert(*id, dev.tokens(*id, *kind).unwrap_or_default().into_iter().collect());
        }
        Prepared { dev, seen }
    }
}

struct LiveState {
    dev: Device,
    ctx: Arc<LiveCtx>,
    /// Tokens this device has seen, per watched document.
    seen: HashMap<DocId, HashSet<String>>,
    /// Documents with a tracked edit not yet acknowledged: the first commit time.
    unacked: HashMap<DocId, Instant>,
    rng: crate::Rng,
    /// Frames received while lean, not applied yet (a dropped connection discards them:
    /// the cursor never passed them, so the next catch-up sends them again).
    aside: Vec<Vec<u8>>,
}

enum Event {
    Frame(Vec<u8>),
    Dropped,
    Cmd(Option<Cmd>),
}

async fn run_live(p: Prepared, ctx: Arc<LiveCtx>, mut rx: mpsc::UnboundedReceiver<Cmd>) -> Device {
    let seed = p.dev.device_id.as_u64_pair().0;
    let mut st = LiveState {
        dev: p.dev,
        ctx,
        seen: p.seen,
        unacked: HashMap::new(),
        rng: crate::Rng::new(seed),
        aside: Vec::new(),
    };
    let idx = st.dev.idx;
    let mut backoff = Duration::from_millis(50);
    loop {
        st.ctx.status[idx].store(OFFLINE, Relaxed);
        // Connect, taking commands meanwhile.
        let token = st.dev.token.clone();
        let attempt = connect(st.ctx.addrs[idx % st.ctx.addrs.len()], &token);
        tokio::pin!(attempt);
        let connected = loop {
            tokio::select! {
                r = &mut attempt => break r,
                cmd = rx.recv() => if !st.offline_cmd(cmd) { return st.dev },
            }
        };
        let mut ws = match connected {
            Ok(ws) => ws,
            Err(e) => {
                if e.downcast_ref::<Rejected>().is_some() {
                    st.ctx.errors.push(format!("device {idx}: {e}"));
                }
                let jitter = Duration::from_millis(st.rng.below(1 + backoff.as_millis() as usize / 2) as u64);
                let nap = tokio::time::sleep(backoff + jitter);
                tokio::pin!(nap);
                loop {
                    tokio::select! {
                        _ = &mut nap => break,
                        cmd = rx.recv() => if !st.offline_cmd(cmd) { return st.dev },
                    }
                }
                backoff = (backoff * 2).min(Duration::from_secs(1));
                continue;
            }
        };
        backoff = Duration::from_millis(50);
        st.ctx.connects[idx].fetch_add(1, Relaxed);
        st.ctx.status[idx].store(SYNCING, Relaxed);
        let mut engine = SyncEngine::new(st.dev.device_id, CLIENT_NAME);
        let mut counted = SyncStats::default();
        let stop = st.online(&mut engine, &mut ws, &mut rx, &mut counted).await;
        st.discard_aside();
        engine.disconnected();
        st.ctx.traffic.add_delta(&engine.stats, &mut counted);
        if stop {
            st.ctx.status[idx].store(OFFLINE, Relaxed);
            let _ = tokio::time::timeout(Duration::from_secs(5), ws.close(None)).await;
            return st.dev;
        }
    }
}

impl LiveState {
    /// A command while offline: edits are committed locally. False on `Stop`.
    fn offline_cmd(&mut self, cmd: Option<Cmd>) -> bool {
        match cmd {
            Some(Cmd::Edit { doc, kind, token }) => {
                self.apply_edit(doc, kind, token);
                true
            }
            Some(Cmd::Settle) => true,
            Some(Cmd::Stop) | None => false,
        }
    }

    fn apply_edit(&mut self, doc: DocId, kind: DocKind, token: String) {
        let idx = self.dev.idx;
        match self.dev.edit(doc, kind, &token, &mut self.rng).and_then(|()| self.dev.persist()) {
            Ok(()) => {
                let now = Instant::now();
                self.unacked.entry(doc).or_insert(now);
                self.ctx.tracker().committed(&token, doc, now);
                if let Some(seen) = self.seen.get_mut(&doc) {
                    seen.insert(token);
                }
            }
            Err(e) => self.ctx.errors.push(format!("device {idx}: edit of {doc}: {e:#}")),
        }
    }

    /// Run one connection. True when asked to stop, false when the connection dropped.
    async fn online(
        &mut self,
        engine: &mut SyncEngine,
        ws: &mut Ws,
        rx: &mut mpsc::UnboundedReceiver<Cmd>,
        counted: &mut SyncStats,
    ) -> bool {
        let idx = self.dev.idx;
        let first = engine.connected(self.dev.replica()).map_err(anyhow::Error::from);
        let sent = match first.and_then(|f| self.dev.persist().map(|()| f)) {
            Ok(frames) => send_all(ws, frames).await,
            Err(e) => Err(e),
        };
        if let Err(e) = sent {
            self.ctx.errors.push(format!("device {idx}: hello: {e:#}"));
            return false;
        }
        loop {
            let event = tokio::select! {
                m = ws.next() => match m {
                    Some(Ok(Message::Binary(f))) => Event::Frame(f.into()),
                    Some(Ok(Message::Close(_))) => Event::Dropped,
                    Some(Ok(_)) => continue,
                    Some(Err(_)) => Event::Dropped,
                    None => Event::Dropped,
                },
                cmd = rx.recv() => Event::Cmd(cmd),
            };
            let out = match event {
                Event::Frame(frame) if self.ctx.lean[idx].load(Relaxed) => {
                    self.note_arrivals(&frame, Instant::now());
                    self.aside.push(frame);
                    self.ctx.aside.fetch_add(1, Relaxed);
                    self.ctx.aside_peak.fetch_max(self.aside.len() as u64, Relaxed);
                    continue;
                }
                Event::Frame(frame) => self.received(engine, &frame),
                Event::Cmd(Some(Cmd::Settle)) => self.settle(engine),
                Event::Dropped => return false,
                Event::Cmd(Some(Cmd::Edit { doc, kind, token })) => {
                    self.apply_edit(doc, kind, token);
                    engine.local_changes(self.dev.replica()).map_err(anyhow::Error::from)
                }
                Event::Cmd(Some(Cmd::Stop) | None) => return true,
            };
            match out {
                Ok(frames) => {
                    if send_all(ws, frames).await.is_err() {
                        return false;
                    }
                }
                Err(e) => {
                    self.ctx.errors.push(format!("device {idx}: {e:#}"));
                    return false;
                }
            }
            self.ctx.traffic.add_delta(&engine.stats, counted);
            let status = if engine.is_quiescent(self.dev.replica()) { IN_SYNC } else { SYNCING };
            self.ctx.status[idx].store(status, Relaxed);
        }
    }

    /// Apply what was put aside, in order; the frames to send in answer.
    fn settle(&mut self, engine: &mut SyncEngine) -> Result<Vec<Vec<u8>>> {
        let frames = std::mem::take(&mut self.aside);
        self.ctx.aside.fetch_sub(frames.len() as u64, Relaxed);
        let mut out = Vec::new();
        for frame in frames {
            out.extend(self.received(engine, &frame)?);
        }
        Ok(out)
    }

    fn discard_aside(&mut self) {
        self.ctx.aside.fetch_sub(self.aside.len() as u64, Relaxed);
        self.aside.clear();
    }

    /// A lean device's part: the tracked edits a frame of plain changes carries arrived now
    /// (anything else is read back when the frame is applied).
    fn note_arrivals(&mut self, frame: &[u8], now: Instant) {
        let Ok(ServerMsg::Changes { docs, .. }) = wire::decode::<ServerMsg>(frame) else { return };
        for d in &docs {
            if self.seen.contains_key(&d.id)
                && let Some(tokens) = tokens_in_changes(&d.changes)
            {
                self.arrived(d.id, tokens, now);
            }
        }
    }

    fn received(&mut self, engine: &mut SyncEngine, frame: &[u8]) -> Result<Vec<Vec<u8>>> {
        // The frame's arrival: taken before the replica applies and stores it, so the
        // latency is the server's and the network's, not this simulated device's work.
        let now = Instant::now();
        // (doc, kind, tokens found in the change bytes, if they are plain changes)
        let docs: Vec<(DocId, DocKind, Option<Vec<String>>)> = match wire::decode::<ServerMsg>(frame) {
            Ok(ServerMsg::Changes { docs, .. }) => docs
                .iter()
                .map(|d| {
                    let fast = if self.seen.contains_key(&d.id) { tokens_in_changes(&d.changes) } else { None };
                    (d.id, d.kind, fast)
                })
                .collect(),
            Ok(ServerMsg::Ack { docs }) => {
                let mut lat = Vec::new();
                for a in &docs {
                    if let Some(t0) = self.unacked.remove(&a.id) {
                        lat.push(now.saturating_duration_since(t0).as_micros() as u64);
                    }
                }
                if !lat.is_empty() {
                    self.ctx.ack_us.lock().unwrap_or_else(|p| p.into_inner()).extend(lat);
                }
                Vec::new()
            }
            Ok(ServerMsg::Refused { refusals }) => {
                for r in &refusals {
                    self.ctx
                        .errors
                        .push(format!("device {}: refused {}: {} ({})", self.dev.idx, r.id, r.message, r.rule));
                }
                Vec::new()
            }
            _ => Vec::new(),
        };
        let result = engine.receive(self.dev.replica(), frame, jiuloop_cli::now_ms());
        self.dev.persist()?;
        let frames = result?;
        // Documents the engine asks for whole: what arrived is not applied yet.
        let resync: HashSet<DocId> = frames
            .iter()
            .filter_map(|f| match wire::decode::<ClientMsg>(f) {
                Ok(ClientMsg::Resync { docs }) => Some(docs),
                _ => None,
            })
            .flatten()
            .collect();
        for (id, kind, fast) in docs {
            if !self.seen.contains_key(&id) {
                self.ctx.unwatched.fetch_add(1, Relaxed);
                continue;
            }
            if resync.contains(&id) {
                continue;
            }
            // Plain changes carry their tokens in their bytes; anything else (a whole
            // document, compressed columns) is read back through the replica.
            let (tokens, read_back) = match fast {
                Some(t) => (t, false),
                None => match self.dev.tokens(id, kind) {
                    Some(t) => (t, true),
                    None => continue,
                },
            };
            let mut distinct = HashSet::new();
            for t in &tokens {
                if !distinct.insert(t) && read_back {
                    self.ctx.errors.push(format!("device {}: token {t} twice in {id}", self.dev.idx));
                }
            }
            self.arrived(id, tokens, now);
        }
        Ok(frames)
    }

    /// The tracked edits `tokens` of the watched document `id` seen now: the ones not seen
    /// before count as arrived.
    fn arrived(&mut self, id: DocId, tokens: Vec<String>, now: Instant) {
        let Some(seen) = self.seen.get_mut(&id) else { return };
        let fresh: Vec<String> = tokens.into_iter().filter(|t| seen.insert(t.clone())).collect();
        if !fresh.is_empty() {
            let mut tracker = self.ctx.tracker();
            for t in fresh {
                tracker.arrived(&t, &self.dev.territory, now);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use client_core::StoreOp;

    #[test]
    fn tokens_are_found_in_plain_changes_and_not_guessed_elsewhere() {
        let mut replica = Replica::load(ActorId::random(), "li", Vec::new(), 0, Vec::new()).unwrap();
        let mut rng = crate::Rng::new(1);
        let c = super::super::records::create_customer(&mut replica, &mut rng, "T000", 0, 0).unwrap();
        let o = super::super::records::create_order(&mut replica, &mut rng, c, 3, 0).unwrap();
        replica.take_store_ops();
        replica.add_order_line(o, &super::super::records::line(&mut rng, Some("T:f17~")), 0).unwrap();
        replica.add_order_line(o, &super::super::records::line(&mut rng, Some("T:f18~")), 0).unwrap();
        let chunks: Vec<u8> = replica
            .take_store_ops()
            .into_iter()
            .flat_map(|op| match op {
                StoreOp::AppendChunk { bytes, .. } => bytes,
                _ => Vec::new(),
            })
            .collect();
        assert_eq!(tokens_in_changes(&chunks), Some(vec!["T:f17~".to_string(), "T:f18~".to_string()]));
        assert_eq!(tokens_in_changes(b"not automerge"), None);
        assert_eq!(tokens_in_changes(&[]), Some(vec![]));
    }
}
