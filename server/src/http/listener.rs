//! The accept loop in front of the router (in place of `axum::serve`), with the limits a
//! server on an open network needs:
//!
//! - a **listen backlog** sized for connect storms (every device reconnecting after a
//!   restart), not the runtime's default;
//! - a cap on **open connections** in all and **per client address**: one over a cap is
//!   answered `503 busy` and closed at once;
//! - a **header read timeout**: a request whose headers do not arrive in full within it
//!   (slowloris), or an idle keep-alive connection, is closed;
//! - a **request timeout**: a request whose body trickles in, or whose answer takes
//!   longer, is answered `408` and the connection closed.
//!
//! With [`ServerTls`] every connection is TLS (`https://`, `wss://`): the handshake runs on
//! the connection's own task, bounded by the header read timeout, with the acceptor in use
//! when the connection arrived (a reload changes the next connections only).
//!
//! Connections are HTTP/1.1 with upgrades (the sync WebSocket); every request carries
//! `ConnectInfo<SocketAddr>` as with axum's own server. A connection's slot is held by
//! its socket, so an upgraded WebSocket keeps counting until it closes. On shutdown the
//! loop stops accepting, asks every connection to finish its request and close, and waits
//! for them up to a grace period.

use crate::http::tls::ServerTls;
use crate::server_stats::ServerStats;
use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderValue, Request, Response, StatusCode, header};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

/// Pending connections the kernel keeps for us (capped by `net.core.somaxconn`).
pub const LISTEN_BACKLOG: u32 = 4096;
/// How long shutdown waits for open HTTP connections to finish.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
/// At most one log line per this interval about refused connections.
const REFUSAL_LOG_EVERY: Duration = Duration::from_secs(10);

/// The limits of [`serve`].
#[derive(Clone, Copy, Debug)]
pub struct EdgeLimits {
    pub max_connections: usize,
    pub max_connections_per_address: usize,
    pub header_read_timeout: Duration,
    pub request_timeout: Duration,
}

/// Bind `addr` (a `host:port`, resolved; the first address that binds wins) with
/// [`LISTEN_BACKLOG`].
pub async fn bind(addr: &str) -> io::Result<TcpListener> {
    let mut last = None;
    for a in tokio::net::lookup_host(addr).await? {
        match bind_one(a) {
            Ok(l) => return Ok(l),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the address resolves to nothing")))
}

fn bind_one(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = if addr.is_ipv4() { TcpSocket::new_v4()? } else { TcpSocket::new_v6()? };
    // As tokio's own `TcpListener::bind`: a restarted server gets its port back at once.
    #[cfg(unix)]
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// Serve `app` on `listener` until `stop` turns true, then shut down gracefully.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: EdgeLimits,
    stats: Arc<ServerStats>,
    tls: Option<Arc<ServerTls>>,
    mut stop: watch::Receiver<bool>,
) -> io::Result<()> {
    let slots = Arc::new(Slots::default());
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(limits.header_read_timeout).keep_alive(true);
    let mut tasks = JoinSet::new();
    let mut last_refusal_log: Option<Instant> = None;
    let mut refused_since_log = 0u64;
    loop {
        let accepted = tokio::select! {
            biased;
            () = stopped(&mut stop) => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                if !is_per_connection_error(&e) {
                    // Out of file descriptors and the like: wait instead of spinning.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                continue;
            }
        };
        while tasks.try_join_next().is_some() {}
        let Some(slot) = slots.take(peer.ip(), &limits) else {
            stats.connection_refused();
            refused_since_log += 1;
            if last_refusal_log.is_none_or(|t| t.elapsed() >= REFUSAL_LOG_EVERY) {
                tracing::warn!(
                    peer = %peer.ip(),
                    refused = refused_since_log,
                    max_connections = limits.max_connections,
                    max_connections_per_address = limits.max_connections_per_address,
                    "connections over the cap refused"
                );
                last_refusal_log = Some(Instant::now());
                refused_since_log = 0;
            }
            refuse(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let io = Counted { io: stream, _slot: slot };
        let service = service(app.clone(), peer, limits.request_timeout);
        let (builder, stop) = (builder.clone(), stop.clone());
        match &tls {
            None => {
                tasks.spawn(drive(builder, io, service, peer, stop));
            }
            Some(tls) => {
                let (acceptor, handshake_timeout) = (tls.acceptor(), limits.header_read_timeout);
                tasks.spawn(async move {
                    match tokio::time::timeout(handshake_timeout, acceptor.accept(io)).await {
                        Ok(Ok(io)) => drive(builder, io, service, peer, stop).await,
                        Ok(Err(e)) => tracing::debug!(peer = %peer, error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!(peer = %peer, "TLS handshake timed out"),
                    }
                });
            }
        }
    }
    drop(listener);
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, async { while tasks.join_next().await.is_some() {} }).await;
    tasks.abort_all();
    Ok(())
}

/// Serve HTTP/1.1 (with upgrades) on one connection until it ends or the server stops.
async fn drive<I, S>(
    builder: hyper::server::conn::http1::Builder,
    io: I,
    service: S,
    peer: SocketAddr,
    mut stop: watch::Receiver<bool>,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    S: hyper::service::Service<Request<Incoming>, Response = Response<Body>, Error = std::convert::Infallible>
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    let conn = builder.serve_connection(TokioIo::new(io), service).with_upgrades();
    let mut conn = std::pin::pin!(conn);
    let result = tokio::select! {
        result = conn.as_mut() => result,
        () = stopped(&mut stop) => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(e) = result {
        tracing::debug!(peer = %peer, error = %e, "connection ended");
    }
}

/// Completes once the server shuts down.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// The router as a hyper service for one connection: `ConnectInfo` added, each request
/// bounded by `request_timeout`.
fn service(
    app: Router,
    peer: SocketAddr,
    request_timeout: Duration,
) -> impl hyper::service::Service<
    Request<Incoming>,
    Response = Response<Body>,
    Error = std::convert::Infallible,
    Future = impl Future<Output = Result<Response<Body>, std::convert::Infallible>> + Send,
> + Clone {
    let app = TowerToHyperService::new(app);
    hyper::service::service_fn(move |mut req: Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(peer));
        let answer = hyper::service::Service::call(&app, req);
        async move {
            match tokio::time::timeout(request_timeout, answer).await {
                Ok(answer) => answer,
                Err(_) => Ok(timed_out()),
            }
        }
    })
}

fn timed_out() -> Response<Body> {
    let body = serde_json::json!({ "code": protocol::ErrorCode::Timeout.as_str(), "message": "the request did not arrive in full in time" });
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() = StatusCode::REQUEST_TIMEOUT;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// Tell a connection over the cap why, if its socket takes the bytes at once, and close it.
fn refuse(stream: TcpStream) {
    const BODY: &str = r#"{"code":"busy","message":"too many connections; retry shortly"}"#;
    let response = format!(
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         Retry-After: {}\r\nConnection: close\r\n\r\n{BODY}",
        BODY.len(),
        crate::http::api_error::BUSY_RETRY_AFTER_SECS
    );
    let _ = stream.try_write(response.as_bytes());
    drop(stream);
}

/// Errors of one incoming connection (the listener itself is fine).
fn is_per_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused | io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset
    )
}

/// Open connections, in all and per client address.
#[derive(Default)]
struct Slots {
    counts: Mutex<Counts>,
}

#[derive(Default)]
struct Counts {
    total: usize,
    per_address: HashMap<IpAddr, usize>,
}

impl Slots {
    fn take(self: &Arc<Self>, ip: IpAddr, limits: &EdgeLimits) -> Option<Slot> {
        let ip = canonical(ip);
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        let of_ip = counts.per_address.get(&ip).copied().unwrap_or(0);
        if counts.total >= limits.max_connections || of_ip >= limits.max_connections_per_address {
            return None;
        }
        counts.total += 1;
        counts.per_address.insert(ip, of_ip + 1);
        Some(Slot { slots: self.clone(), ip })
    }
}

/// An IPv4 client seen through an IPv6 socket counts as its IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// One open connection's place in [`Slots`], given back when the socket closes.
struct Slot {
    slots: Arc<Slots>,
    ip: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut counts = self.slots.counts.lock().unwrap_or_else(|p| p.into_inner());
        counts.total = counts.total.saturating_sub(1);
        if let Some(n) = counts.per_address.get_mut(&self.ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                counts.per_address.remove(&self.ip);
            }
        }
    }
}

/// A socket that holds its [`Slot`] for as long as it lives (through a WebSocket upgrade).
struct Counted {
    io: TcpStream,
    _slot: Slot,
}

impl AsyncRead for Counted {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl AsyncWrite for Counted {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }
    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::get;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A GET from `from` (bound on the client side): the whole answer, or what broke.
    async fn get_from(addr: SocketAddr, from: IpAddr) -> io::Result<String> {
        let socket = TcpSocket::new_v4()?;
        socket.bind(SocketAddr::new(from, 0))?;
        let mut stream = socket.connect(addr).await?;
        stream.write_all(b"GET /who HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await?;
        let mut answer = Vec::new();
        tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await??;
        Ok(String::from_utf8_lossy(&answer).into_owned())
    }

    /// Slow headers are cut after the timeout while others are served; the connection over
    /// the per-address cap is refused at once, one from another address is served.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn slow_headers_are_cut_and_connections_over_the_cap_refused() {
        let listener = bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = Router::new().route(
            "/who",
            get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move { format!("you are {}", peer.ip()) }),
        );
        let stats = Arc::new(ServerStats::default());
        let (stop_tx, stop_rx) = watch::channel(false);
        // Long enough that a loaded machine gets the other connections in before it ends.
        let timeout = Duration::from_millis(2000);
        let limits = EdgeLimits { header_read_timeout: timeout, ..limits(100, 2) };
        let server = tokio::spawn(serve(listener, app, limits, stats.clone(), None, stop_rx));
        let local: IpAddr = "127.0.0.1".parse().unwrap();

        // Timed from before the connection exists: the server's clock starts at accept.
        let started = Instant::now();
        let mut slow = TcpStream::connect(addr).await.unwrap();
        slow.write_all(b"GET /who HTTP/1.1\r\nHost: x\r\n").await.unwrap();
        let honest = get_from(addr, local).await.unwrap();
        assert!(honest.starts_with("HTTP/1.1 200") && honest.ends_with("you are 127.0.0.1"), "{honest}");
        // Two held from 127.0.0.1 (the slow one and an idle one): a third is refused.
        let _idle = TcpStream::connect(addr).await.unwrap();
        // Time for the server to accept it (a loaded machine takes a while).
        tokio::time::sleep(Duration::from_millis(400)).await;
        let refused = get_from(addr, local).await;
        assert!(refused.as_ref().map_or(true, |a| a.starts_with("HTTP/1.1 503") && a.contains("busy")), "{refused:?}");
        assert_eq!(stats.connections_refused(), 1);
        let other = get_from(addr, "127.0.0.2".parse().unwrap()).await.unwrap();
        assert!(other.ends_with("you are 127.0.0.2"), "{other}");
        // The slow request never got its headers out: closed after the timeout, unanswered.
        let mut rest = Vec::new();
        tokio::time::timeout(Duration::from_secs(5), slow.read_to_end(&mut rest)).await.unwrap().unwrap();
        let waited = started.elapsed();
        assert!(waited >= timeout && waited < timeout * 4, "{waited:?}");
        assert!(!String::from_utf8_lossy(&rest).contains("you are"));

        let _ = stop_tx.send(true);
        tokio::time::timeout(Duration::from_secs(10), server).await.unwrap().unwrap().unwrap();
    }

    fn limits(total: usize, per_address: usize) -> EdgeLimits {
        EdgeLimits {
            max_connections: total,
            max_connections_per_address: per_address,
            header_read_timeout: Duration::from_secs(1),
            request_timeout: Duration::from_secs(1),
        }
    }

    #[test]
    fn slots_are_capped_in_all_and_per_address_and_given_back() {
        let slots = Arc::new(Slots::default());
        let l = limits(3, 2);
        let a: IpAddr = "127.0.0.1".parse().unwrap();
        let b: IpAddr = "127.0.0.2".parse().unwrap();
        let a1 = slots.take(a, &l).unwrap();
        let _a2 = slots.take(a, &l).unwrap();
        assert!(slots.take(a, &l).is_none(), "third from one address");
        // The same address seen as IPv4-mapped IPv6 is the same address.
        assert!(slots.take("::ffff:127.0.0.1".parse().unwrap(), &l).is_none());
        let _b1 = slots.take(b, &l).unwrap();
        assert!(slots.take("127.0.0.3".parse().unwrap(), &l).is_none(), "over the total");
        drop(a1);
        let _a3 = slots.take(a, &l).unwrap();
        let counts = slots.counts.lock().unwrap();
        assert_eq!(counts.total, 3);
    }
}
