//! A fault-injecting TCP proxy between real clients (the CLI, raw clients) and a real
//! server: per-direction latency and bandwidth, connections cut after a number of bytes
//! (mid-frame: the proxy knows nothing of WebSocket), cut after a time (a flapping link),
//! stalls, and duplicated connections (a copy of what a client sent, replayed on a
//! connection of its own before the real one reaches the server — a reconnect whose
//! older attempt arrives too). Seeded ([`Rng`]): the same seed draws the same cut points.
//! It counts the bytes that passed each way, in total and per connection.
//!
//! It runs on a tokio runtime of its own thread, so synchronous tests (CLI processes) use
//! it as they use the server; [`FaultProxy::set`] changes the faults of the connections
//! accepted from then on.

use crate::rng::Rng;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::time::Instant;

/// One direction of the link.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Link {
    /// Every byte arrives this much later than it was sent.
    pub latency: Duration,
    /// Bits per second (`None`: as fast as loopback).
    pub bits_per_sec: Option<u64>,
}

impl Link {
    pub fn slow(bits_per_sec: u64, latency: Duration) -> Self {
        Link { latency, bits_per_sec: Some(bits_per_sec) }
    }
}

/// What the proxy does to the connections it accepts.
#[derive(Clone, Debug, Default)]
pub struct Faults {
    /// Client → server.
    pub up: Link,
    /// Server → client.
    pub down: Link,
    /// Cut each connection after a number of bytes (both directions counted) drawn
    /// uniformly from this range.
    pub cut_after_bytes: Option<(u64, u64)>,
    /// Cut the next connection accepted once this many bytes went server → client (then
    /// the setting clears itself).
    pub cut_next_down_at: Option<u64>,
    /// Cut each connection after a time drawn uniformly from this range (flapping).
    pub cut_after_time: Option<(Duration, Duration)>,
    /// Every `.0`, stop forwarding for `.1` (both directions).
    pub stall: Option<(Duration, Duration)>,
    /// Replay the first bytes a client sends on a connection of their own first.
    pub duplicate: bool,
}

/// What passed through one connection.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConnRecord {
    pub up_bytes: u64,
    pub down_bytes: u64,
    /// Cut by the proxy (rather than closed by either end).
    pub cut: bool,
}

#[derive(Default)]
struct Counters {
    up: AtomicU64,
    down: AtomicU64,
    accepted: AtomicU64,
    cuts: AtomicU64,
    duplicates: AtomicU64,
}

struct Shared {
    upstream: SocketAddr,
    faults: Mutex<Faults>,
    rng: Mutex<Rng>,
    counters: Counters,
    conns: Mutex<Vec<Arc<Mutex<ConnRecord>>>>,
}

pub struct FaultProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// Bytes read at a time: small, so a slow link's bytes flow evenly and a cut lands
/// inside frames.
const PIECE: usize = 1024;

impl FaultProxy {
    /// A proxy on a free loopback port forwarding to `upstream`.
    pub fn start(upstream: SocketAddr, faults: Faults, seed: u64) -> Self {
        let shared = Arc::new(Shared {
            upstream,
            faults: Mutex::new(faults),
            rng: Mutex::new(Rng::new(seed)),
            counters: Counters::default(),
            conns: Mutex::new(Vec::new()),
        });
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        std_listener.set_nonblocking(true).expect("nonblocking listener");
        let addr = std_listener.local_addr().expect("proxy address");
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let s = shared.clone();
        let thread = std::thread::Builder::new()
            .name("fault-proxy".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("proxy runtime");
                rt.block_on(async move {
                    let listener = TcpListener::from_std(std_listener).expect("tokio listener");
                    tokio::select! {
                        _ = accept_loop(listener, s) => {}
                        _ = stop_rx => {}
                    }
                });
            })
            .expect("proxy thread");
        FaultProxy { addr, shared, stop: Some(stop_tx), thread: Some(thread) }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, what a CLI profile logs in to.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Faults for the connections accepted from now on.
    pub fn set(&self, faults: Faults) {
        *self.shared.faults.lock().unwrap() = faults;
    }

    /// Change the faults in place.
    pub fn update(&self, f: impl FnOnce(&mut Faults)) {
        f(&mut self.shared.faults.lock().unwrap());
    }

    /// Bytes that passed client → server, in total.
    pub fn up_bytes(&self) -> u64 {
        self.shared.counters.up.load(Ordering::Relaxed)
    }

    /// Bytes that passed server → client, in total.
    pub fn down_bytes(&self) -> u64 {
        self.shared.counters.down.load(Ordering::Relaxed)
    }

    pub fn accepted(&self) -> u64 {
        self.shared.counters.accepted.load(Ordering::Relaxed)
    }

    /// Connections the proxy cut.
    pub fn cuts(&self) -> u64 {
        self.shared.counters.cuts.load(Ordering::Relaxed)
    }

    /// Duplicated connections replayed.
    pub fn duplicates(&self) -> u64 {
        self.shared.counters.duplicates.load(Ordering::Relaxed)
    }

    /// Every connection so far, in the order accepted (duplicates not included).
    pub fn connections(&self) -> Vec<ConnRecord> {
        self.shared.conns.lock().unwrap().iter().map(|c| c.lock().unwrap().clone()).collect()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let Ok((client, _)) = listener.accept().await else { continue };
        let _ = client.set_nodelay(true);
        shared.counters.accepted.fetch_add(1, Ordering::Relaxed);
        let faults = {
            let mut f = shared.faults.lock().unwrap();
            let snapshot = f.clone();
            f.cut_next_down_at = None;
            snapshot
        };
        let (cut_bytes, cut_time) = {
            let mut rng = shared.rng.lock().unwrap();
            let bytes = faults.cut_after_bytes.map(|(lo, hi)| draw(&mut rng, lo, hi));
            let time = faults
                .cut_after_time
                .map(|(lo, hi)| Duration::from_millis(draw(&mut rng, lo.as_millis() as u64, hi.as_millis() as u64)));
            (bytes, time)
        };
        let record = Arc::new(Mutex::new(ConnRecord::default()));
        shared.conns.lock().unwrap().push(record.clone());
        tokio::spawn(serve(client, shared.clone(), faults, cut_bytes, cut_time, record));
    }
}

fn draw(rng: &mut Rng, lo: u64, hi: u64) -> u64 {
    if hi <= lo { lo } else { lo + rng.next_u64() % (hi - lo + 1) }
}

/// One client connection: connect upstream (after a duplicate, if asked), then forward
/// both ways until either end closes or a fault cuts it.
async fn serve(
    mut client: TcpStream,
    shared: Arc<Shared>,
    faults: Faults,
    cut_bytes: Option<u64>,
    cut_time: Option<Duration>,
    record: Arc<Mutex<ConnRecord>>,
) {
    let mut first = Vec::new();
    if faults.duplicate {
        // What the client sends in its first moments (upgrade request, hello, pushes)
        // goes first over a connection of its own, which the real one then replaces.
        let deadline = Instant::now() + Duration::from_millis(300);
        let mut buf = vec![0u8; 64 * 1024];
        while let Ok(Ok(n)) = tokio::time::timeout_at(deadline, client.read(&mut buf)).await {
            if n == 0 {
                break;
            }
            first.extend_from_slice(&buf[..n]);
        }
        if !first.is_empty()
            && let Ok(mut ghost) = TcpStream::connect(shared.upstream).await
        {
            shared.counters.duplicates.fetch_add(1, Ordering::Relaxed);
            let _ = ghost.write_all(&first).await;
            tokio::spawn(async move {
                // Read (and drop) its answers until the server closes it.
                let mut sink = vec![0u8; 16 * 1024];
                while let Ok(Ok(n)) = tokio::time::timeout(Duration::from_secs(30), ghost.read(&mut sink)).await {
                    if n == 0 {
                        break;
                    }
                }
            });
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let Ok(server) = TcpStream::connect(shared.upstream).await else { return };
    let _ = server.set_nodelay(true);
    let (cut_tx, cut_rx) = watch::channel(false);
    let total = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let (client_r, client_w) = client.into_split();
    let (server_r, server_w) = server.into_split();
    let dir = |up: bool| Direction {
        shared: shared.clone(),
        link: if up { faults.up } else { faults.down },
        up,
        total: total.clone(),
        cut_bytes,
        cut_down_at: if up { None } else { faults.cut_next_down_at },
        stall: faults.stall,
        started,
        record: record.clone(),
        cut_tx: cut_tx.clone(),
    };
    let upward = tokio::spawn(dir(true).run(client_r, server_w, first, cut_rx.clone()));
    let downward = tokio::spawn(dir(false).run(server_r, client_w, Vec::new(), cut_rx.clone()));
    let mut cut_rx2 = cut_rx.clone();
    let timer = async {
        match cut_time {
            Some(t) => tokio::time::sleep(t).await,
            None => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = timer => {
            let _ = cut_tx.send(true);
        }
        _ = cut_rx2.wait_for(|c| *c) => {}
        _ = async { let _ = tokio::join!(upward, downward); } => {}
    }
    if !*cut_tx.borrow() {
        return;
    }
    // Cut: both halves stop at once; dropping the sockets closes them.
    shared.counters.cuts.fetch_add(1, Ordering::Relaxed);
    record.lock().unwrap().cut = true;
}

struct Direction {
    shared: Arc<Shared>,
    link: Link,
    up: bool,
    /// Bytes of both directions of this connection.
    total: Arc<AtomicU64>,
    cut_bytes: Option<u64>,
    cut_down_at: Option<u64>,
    stall: Option<(Duration, Duration)>,
    started: Instant,
    record: Arc<Mutex<ConnRecord>>,
    cut_tx: watch::Sender<bool>,
}

impl Direction {
    async fn run(
        self,
        mut from: tokio::net::tcp::OwnedReadHalf,
        mut to: tokio::net::tcp::OwnedWriteHalf,
        already: Vec<u8>,
        mut cut: watch::Receiver<bool>,
    ) {
        // Reader: bytes with the time they were read, to the writer (latency). The
        // channel is bounded, so a slow writer slows the reader (TCP back-pressure).
        let (tx, mut rx) = tokio::sync::mpsc::channel::<(Instant, Vec<u8>)>(64);
        let mut cut_r = cut.clone();
        let reader = async move {
            for piece in already.chunks(PIECE) {
                if tx.send((Instant::now(), piece.to_vec())).await.is_err() {
                    return;
                }
            }
            let mut buf = vec![0u8; PIECE];
            loop {
                let n = tokio::select! {
                    r = from.read(&mut buf) => match r { Ok(0) | Err(_) => return, Ok(n) => n },
                    _ = cut_r.wait_for(|c| *c) => return,
                };
                if tx.send((Instant::now(), buf[..n].to_vec())).await.is_err() {
                    return;
                }
            }
        };
        let writer = async {
            let mut next_stall = self.stall.map(|(every, _)| self.started + every);
            while let Some((read_at, bytes)) = rx.recv().await {
                let mut bytes = bytes;
                let due = read_at + self.link.latency;
                tokio::time::sleep_until(due).await;
                if let (Some(at), Some((every, length))) = (next_stall, self.stall)
                    && Instant::now() >= at
                {
                    tokio::time::sleep(length).await;
                    next_stall = Some(Instant::now() + every);
                }
                // How many of these bytes may pass before a cut.
                let so_far = self.total.load(Ordering::Relaxed);
                let mut allowed = bytes.len() as u64;
                if let Some(limit) = self.cut_bytes {
                    allowed = allowed.min(limit.saturating_sub(so_far));
                }
                if let Some(limit) = self.cut_down_at {
                    let down = self.record.lock().unwrap().down_bytes;
                    allowed = allowed.min(limit.saturating_sub(down));
                }
                let cutting = allowed < bytes.len() as u64;
                bytes.truncate(allowed as usize);
                if let Some(bps) = self.link.bits_per_sec {
                    let secs = bytes.len() as f64 * 8.0 / bps as f64;
                    tokio::time::sleep(Duration::from_secs_f64(secs)).await;
                }
                if !bytes.is_empty() {
                    if to.write_all(&bytes).await.is_err() {
                        return;
                    }
                    let n = bytes.len() as u64;
                    self.total.fetch_add(n, Ordering::Relaxed);
                    let mut rec = self.record.lock().unwrap();
                    if self.up {
                        rec.up_bytes += n;
                        self.shared.counters.up.fetch_add(n, Ordering::Relaxed);
                    } else {
                        rec.down_bytes += n;
                        self.shared.counters.down.fetch_add(n, Ordering::Relaxed);
                    }
                }
                if cutting {
                    let _ = self.cut_tx.send(true);
                    return;
                }
            }
            // The sender closed its side: pass the close on.
            let _ = to.shutdown().await;
        };
        tokio::select! {
            _ = async { tokio::join!(reader, writer) } => {}
            _ = cut.wait_for(|c| *c) => {}
        }
    }
}
