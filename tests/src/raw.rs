//! The hostile client: speaks the wire protocol directly over tokio-tungstenite (no
//! client-core), builds Automerge changes by hand, and can go below WebSocket to cut a
//! connection in the middle of a frame.

use crate::server::TestServer;
use automerge::{ActorId, AutoCommit, ChangeHash};
use futures_util::{SinkExt, StreamExt};
use protocol::schema::customer::{self, Customer, NewCustomer};
use protocol::wire::{self, ClientMsg, DocChunk, Hello, ServerMsg};
use protocol::{DocId, DocKind, ErrorCode};
use std::collections::VecDeque;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use uuid::Uuid;

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How to present the token in the WebSocket handshake.
#[derive(Clone, Copy, Debug)]
pub enum Auth<'a> {
    /// `Authorization: Bearer TOKEN`.
    Bearer(&'a str),
    /// `GET /sync?token=TOKEN` (what browsers must use).
    Query(&'a str),
    /// A raw `Authorization` header value.
    Header(&'a str),
    /// No credentials at all.
    Nothing,
}

/// The handshake was answered with an HTTP error instead of an upgrade.
#[derive(Debug)]
pub struct Rejection {
    pub status: u16,
    pub body: String,
}

impl Rejection {
    /// The `code` of the JSON body, if it has one.
    pub fn code(&self) -> Option<String> {
        serde_json::from_str::<serde_json::Value>(&self.body).ok().and_then(|v| v["code"].as_str().map(str::to_string))
    }
}

/// What arrived on a raw connection.
#[derive(Debug)]
pub enum Incoming {
    Msg(ServerMsg),
    /// A binary frame that is not a valid server message.
    Undecodable(Vec<u8>),
    Text(String),
    /// A close frame with its code.
    Close(Option<u16>),
    /// The connection ended without a close frame (or failed).
    Gone(String),
}

/// What a device receives between `Hello` and `CaughtUp`.
#[derive(Debug)]
pub struct CatchUp {
    pub chunks: Vec<DocChunk>,
    pub cursor: u64,
    pub docs_sent: u32,
    /// `Changes` frames received before `CaughtUp`.
    pub frames: usize,
    /// The `CatchUpMark` cursors received meanwhile, in order.
    pub marks: Vec<u64>,
}

impl CatchUp {
    pub fn chunks_of(&self, id: DocId) -> Vec<&DocChunk> {
        self.chunks.iter().filter(|c| c.id == id).collect()
    }
}

pub struct RawClient {
    ws: Ws,
    pub device_id: Uuid,
    pub actor: ActorId,
    backlog: VecDeque<ServerMsg>,
}

/// How long any single expected message may take before the test fails.
pub const PATIENCE: Duration = Duration::from_secs(10);

impl RawClient {
    /// The WebSocket handshake alone: a stream, or the HTTP rejection.
    pub async fn try_connect(addr: SocketAddr, auth: Auth<'_>) -> Result<Ws, Rejection> {
        let url = match auth {
            Auth::Query(t) => format!("ws://{addr}/sync?token={t}"),
            _ => format!("ws://{addr}/sync"),
        };
        let mut req = url.into_client_request().expect("valid ws request");
        let header = match auth {
            Auth::Bearer(t) => Some(format!("Bearer {t}")),
            Auth::Header(h) => Some(h.to_string()),
            Auth::Query(_) | Auth::Nothing => None,
        };
        if let Some(h) = header {
            req.headers_mut().insert("authorization", h.parse().expect("header value"));
        }
        let attempt = tokio::time::timeout(PATIENCE, tokio_tungstenite::connect_async(req)).await;
        match attempt {
            Err(_) => panic!("WebSocket handshake with {addr} took over {PATIENCE:?}"),
            Ok(Ok((ws, _))) => Ok(ws),
            Ok(Err(tungstenite::Error::Http(resp))) => Err(Rejection {
                status: resp.status().as_u16(),
                body: resp.body().as_ref().map(|b| String::from_utf8_lossy(b).into_owned()).unwrap_or_default(),
            }),
            Ok(Err(e)) => panic!("WebSocket handshake with {addr} failed: {e}"),
        }
    }

    /// Connects (asserting the upgrade succeeds) as `device_id` with a fresh actor id.
    pub async fn connect(addr: SocketAddr, auth: Auth<'_>, device_id: Uuid) -> Self {
        let ws = Self::try_connect(addr, auth).await.unwrap_or_else(|r| panic!("handshake refused: {r:?}"));
        RawClient { ws, device_id, actor: ActorId::random(), backlog: VecDeque::new() }
    }

    /// Logs `user` in over HTTP as a new device and connects with a bearer token.
    pub async fn login(server: &TestServer, user: &str) -> Self {
        let device = Uuid::new_v4();
        let token = server.token(user, device);
        Self::connect(server.addr(), Auth::Bearer(&token), device).await
    }

    /// [`Self::login`], then `Hello` with cursor 0 and the whole catch-up.
    pub async fn caught_up(server: &TestServer, user: &str) -> (Self, CatchUp) {
        let mut c = Self::login(server, user).await;
        c.hello(0).await;
        let up = c.catch_up().await;
        (c, up)
    }

    pub async fn send_message(&mut self, msg: Message) -> Result<(), tungstenite::Error> {
        self.ws.send(msg).await
    }

    /// Sends a binary frame; a failure (the server already closed) is ignored, as the
    /// reply that matters is read next.
    pub async fn send_bytes(&mut self, bytes: Vec<u8>) {
        let _ = self.ws.send(Message::binary(bytes)).await;
    }

    pub async fn send(&mut self, msg: &ClientMsg) {
        let frame = wire::encode(msg).expect("encodable message");
        self.ws.send(Message::binary(frame)).await.expect("send a protocol frame");
    }

    pub fn hello_msg(&self, cursor: u64) -> ClientMsg {
        ClientMsg::Hello(Hello {
            device_id: self.device_id,
            actors: vec![self.actor.to_bytes().to_vec()],
            cursor,
            client: "jiuloop-tests/raw".into(),
        })
    }

    pub async fn hello(&mut self, cursor: u64) {
        let msg = self.hello_msg(cursor);
        self.send(&msg).await;
    }

    /// The next frame, or `None` if nothing arrives within `wait`.
    pub async fn next(&mut self, wait: Duration) -> Option<Incoming> {
        if let Some(m) = self.backlog.pop_front() {
            return Some(Incoming::Msg(m));
        }
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let item = match tokio::time::timeout_at(deadline, self.ws.next()).await {
                Err(_) => return None,
                Ok(item) => item,
            };
            return Some(match item {
                None => Incoming::Gone("end of stream".into()),
                Some(Err(e)) => Incoming::Gone(e.to_string()),
                Some(Ok(Message::Binary(b))) => match wire::decode::<ServerMsg>(&b) {
                    Ok(m) => Incoming::Msg(m),
                    Err(_) => Incoming::Undecodable(b.to_vec()),
                },
                Some(Ok(Message::Text(t))) => Incoming::Text(t.to_string()),
                Some(Ok(Message::Close(f))) => Incoming::Close(f.map(|f| u16::from(f.code))),
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => continue,
            });
        }
    }

    /// The next server message (panics on timeout, close or garbage).
    pub async fn recv(&mut self) -> ServerMsg {
        match self.next(PATIENCE).await {
            Some(Incoming::Msg(m)) => m,
            other => panic!("expected a server message, got {other:?}"),
        }
    }

    /// Reads `ServerMsg::Error` and then a close frame whose code is the error's
    /// `close_code()`; returns the error code.
    pub async fn expect_error_close(&mut self) -> ErrorCode {
        self.try_error_close().await.unwrap_or_else(|e| panic!("{e}"))
    }

    /// [`Self::expect_error_close`] that reports instead of panicking.
    pub async fn try_error_close(&mut self) -> Result<ErrorCode, String> {
        let code = match self.next(PATIENCE).await {
            Some(Incoming::Msg(ServerMsg::Error { code, .. })) => code,
            other => {
                return Err(format!("expected ServerMsg::Error before the close, got {other:?}"));
            }
        };
        match self.next(PATIENCE).await {
            Some(Incoming::Close(Some(c))) if c == code.close_code() => Ok(code),
            other => Err(format!(
                "expected a close frame with code {} after Error({code}), got {other:?}",
                code.close_code()
            )),
        }
    }

    /// Collects `Changes` until `CaughtUp`.
    pub async fn catch_up(&mut self) -> CatchUp {
        let mut chunks = Vec::new();
        let mut frames = 0;
        let mut marks = Vec::new();
        loop {
            match self.recv().await {
                ServerMsg::Changes { docs, cursor: None } => {
                    frames += 1;
                    chunks.extend(docs);
                }
                ServerMsg::CatchUpMark { cursor } => marks.push(cursor),
                ServerMsg::CaughtUp { cursor, docs_sent } => {
                    return CatchUp { chunks, cursor, docs_sent, frames, marks };
                }
                other => panic!("unexpected message during catch-up: {other:?}"),
            }
        }
    }

    /// Pushes and returns the answer (`Ack`, `Refused` or `Error`); live relays that
    /// arrive meanwhile are kept for later `recv`s.
    pub async fn push(&mut self, docs: Vec<DocChunk>) -> ServerMsg {
        self.send(&ClientMsg::Push { docs }).await;
        let mut relays = Vec::new();
        let answer = loop {
            match self.next(PATIENCE).await {
                Some(Incoming::Msg(
                    m @ (ServerMsg::Ack { .. } | ServerMsg::Refused { .. } | ServerMsg::Error { .. }),
                )) => break m,
                Some(Incoming::Msg(m)) => relays.push(m),
                other => panic!("expected an answer to the push, got {other:?}"),
            }
        };
        self.backlog.extend(relays);
        answer
    }

    /// Waits for a live `Changes` frame carrying `id`; returns when it arrived, the
    /// chunk and the frame's cursor.
    pub async fn wait_for_doc(&mut self, id: DocId, wait: Duration) -> (Instant, DocChunk, Option<u64>) {
        let deadline = Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next(left).await {
                Some(Incoming::Msg(ServerMsg::Changes { docs, cursor })) => {
                    let at = Instant::now();
                    if let Some(c) = docs.into_iter().find(|c| c.id == id) {
                        return (at, c, cursor);
                    }
                }
                Some(Incoming::Msg(_)) => {}
                None => panic!("document {id} was not relayed within {wait:?}"),
                Some(other) => {
                    panic!("connection failed while waiting for document {id}: {other:?}")
                }
            }
        }
    }

    /// Asserts that no server message arrives within `wait` (and the connection stays up).
    pub async fn expect_silence(&mut self, wait: Duration) {
        if let Some(got) = self.next(wait).await {
            panic!("expected nothing within {wait:?}, got {got:?}");
        }
    }

    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock after 1970").as_millis() as i64
}

/// One Automerge document built by hand with the shared schema, for raw pushes.
pub struct LocalDoc {
    pub id: DocId,
    pub kind: DocKind,
    pub doc: AutoCommit,
    sent: Vec<ChangeHash>,
}

impl LocalDoc {
    /// A new customer written by `actor`, in the territory of the reps of
    /// [`TestServer::started`].
    pub fn new_customer(actor: &ActorId, name: &str) -> Self {
        Self::new_customer_in(actor, name, TestServer::TERRITORY)
    }

    /// A new customer in `territory`.
    pub fn new_customer_in(actor: &ActorId, name: &str, territory: &str) -> Self {
        let mut doc = AutoCommit::new().with_actor(actor.clone());
        let new = NewCustomer { name: name.into(), territory: Some(territory.into()), ..Default::default() };
        customer::init(&mut doc, &new, now_ms(), "raw-client").expect("init customer");
        // A raw client states no author: the server records the session's user (a document
        // naming someone else as its author is refused).
        automerge::transaction::Transactable::delete(&mut doc, automerge::ROOT, "created_by").expect("no author");
        // Nor an owner: a rep may name only themselves there.
        automerge::transaction::Transactable::delete(&mut doc, automerge::ROOT, "owner").expect("no owner");
        LocalDoc { id: DocId::new_random(), kind: DocKind::Customer, doc, sent: Vec::new() }
    }

    /// A new order of `customer`, created by `by` writing as `actor`.
    pub fn new_order(actor: &ActorId, customer: DocId, by: &str) -> Self {
        let mut doc = AutoCommit::new().with_actor(actor.clone());
        protocol::schema::order::init(&mut doc, customer, protocol::schema::OrderSource::Written, now_ms(), by)
            .expect("init order");
        LocalDoc { id: DocId::new_random(), kind: DocKind::Order, doc, sent: Vec::new() }
    }

    /// A new document of any kind from typed text, as an honest client would write it
    /// (the kind's parser, `by` as its author, now as its creation time) — but without
    /// asking the write rules: what the server makes of it is the point.
    pub fn new_record(actor: &ActorId, kind: DocKind, inputs: &[(&str, &str)], by: &str) -> Self {
        use protocol::kinds::parse::ParseContext;
        use protocol::schema::record::{self, Writer};
        let mut doc = AutoCommit::new().with_actor(actor.clone());
        record::create(&mut doc, kind, inputs, &Writer { user: by, now: now_ms() }, &ParseContext::default())
            .unwrap_or_else(|e| panic!("create a {kind}: {e}"));
        LocalDoc { id: DocId::new_random(), kind, doc, sent: Vec::new() }
    }

    /// A document built by the caller, none of it sent yet.
    pub fn from_doc(id: DocId, kind: DocKind, doc: AutoCommit) -> Self {
        LocalDoc { id, kind, doc, sent: Vec::new() }
    }

    /// A replica of what the server stores of `id` (read from its SQLite file), to write on
    /// as `actor`; `None` if the server holds no such document.
    pub fn from_server(server: &TestServer, id: DocId, actor: &ActorId) -> Option<Self> {
        let chunk = server.doc_chunk(id)?;
        Some(Self::from_chunks(id, chunk.kind, actor, &[&chunk]))
    }

    /// A document of `kind` with id `id` holding just these root strings, written as
    /// `actor` — for forgeries the registry's parser would not write (a server-written
    /// kind, a reserved id).
    pub fn forged(actor: &ActorId, id: DocId, kind: DocKind, fields: &[(&str, &str)]) -> Self {
        use automerge::transaction::Transactable;
        let mut doc = AutoCommit::new().with_actor(actor.clone());
        doc.put(automerge::ROOT, protocol::schema::KIND_KEY, kind.as_str()).expect("kind");
        for (k, v) in fields {
            doc.put(automerge::ROOT, *k, *v).expect("field");
        }
        doc.commit();
        LocalDoc { id, kind, doc, sent: Vec::new() }
    }

    /// A copy of this document as the server holds it after the pushes so far, to write
    /// an attempt on without touching this one (`actor` writes it).
    pub fn fork_as(&mut self, actor: &ActorId) -> Self {
        let doc = self.doc.fork().with_actor(actor.clone());
        LocalDoc { id: self.id, kind: self.kind, doc, sent: self.sent.clone() }
    }

    /// A replica of a document received from the server, to write on as `actor`.
    pub fn from_chunks(id: DocId, kind: DocKind, actor: &ActorId, chunks: &[&DocChunk]) -> Self {
        let mut doc = AutoCommit::new().with_actor(actor.clone());
        for c in chunks {
            doc.load_incremental(&c.changes).expect("server changes load");
        }
        let sent = doc.get_heads();
        LocalDoc { id, kind, doc, sent }
    }

    /// Applies changes from the server (call only with no unsent local changes).
    pub fn apply(&mut self, chunk: &DocChunk) {
        self.doc.load_incremental(&chunk.changes).expect("server changes load");
        self.sent = self.doc.get_heads();
    }

    /// Write a customer field as a raw client would: any string (no input validation),
    /// collaborative text as text.
    pub fn set_customer(&mut self, field: &str, value: &str) {
        use automerge::transaction::Transactable;
        let is_text = DocKind::Customer.spec().field(field).is_some_and(|f| {
            matches!(f.ty, protocol::kinds::FieldType::Text { .. } | protocol::kinds::FieldType::Enum(_))
        });
        if is_text {
            customer::set(&mut self.doc, field, value, now_ms(), "raw-client").expect("customer set");
        } else {
            self.doc.put(automerge::ROOT, field, value).expect("customer set");
        }
    }

    pub fn customer(&mut self) -> Customer {
        customer::read(&self.doc, self.id).expect("a customer document")
    }

    pub fn heads(&mut self) -> Vec<ChangeHash> {
        self.doc.get_heads()
    }

    /// The changes made since the last chunk, as a push would carry them.
    pub fn chunk(&mut self) -> DocChunk {
        let changes = self.doc.save_after(&self.sent);
        let heads = self.doc.get_heads();
        self.sent = heads.clone();
        DocChunk { id: self.id, kind: self.kind, heads: wire::hashes_to_wire(&heads), changes }
    }

    /// Every change of the document.
    pub fn full_chunk(&mut self) -> DocChunk {
        let changes = self.doc.save_after(&[]);
        let heads = self.doc.get_heads();
        DocChunk { id: self.id, kind: self.kind, heads: wire::hashes_to_wire(&heads), changes }
    }

    /// The actor ids of every change in the document.
    pub fn actors(&mut self) -> Vec<ActorId> {
        let mut actors: Vec<ActorId> = self.doc.get_changes(&[]).iter().map(|c| c.actor_id().clone()).collect();
        actors.sort();
        actors.dedup();
        actors
    }
}

/// A TCP connection driven byte by byte, below WebSocket: for cutting a connection in the
/// middle of a handshake or a frame.
pub struct RawTcp {
    stream: std::net::TcpStream,
}

impl RawTcp {
    pub fn connect(addr: SocketAddr) -> Self {
        let stream = std::net::TcpStream::connect_timeout(&addr, PATIENCE).expect("TCP connect");
        stream.set_read_timeout(Some(PATIENCE)).expect("read timeout");
        stream.set_nodelay(true).expect("nodelay");
        RawTcp { stream }
    }

    pub fn handshake_request(addr: SocketAddr, token: &str) -> String {
        format!(
            "GET /sync HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
             Authorization: Bearer {token}\r\n\r\n"
        )
    }

    /// Connects and completes the WebSocket upgrade (asserts `101`).
    pub fn upgraded(addr: SocketAddr, token: &str) -> Self {
        let mut t = Self::connect(addr);
        t.send(Self::handshake_request(addr, token).as_bytes());
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            match t.stream.read(&mut byte) {
                Ok(1) => head.push(byte[0]),
                other => panic!("handshake response ended early ({other:?}): {:?}", String::from_utf8_lossy(&head)),
            }
        }
        let head = String::from_utf8_lossy(&head);
        assert!(head.starts_with("HTTP/1.1 101"), "expected 101 Switching Protocols, got {head:?}");
        t
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("TCP write");
        self.stream.flush().expect("TCP flush");
    }

    /// A complete, masked client frame (`opcode` 0x2 = binary) announcing `announced`
    /// payload bytes; pass `payload.len()` for an honest frame.
    pub fn frame(opcode: u8, payload: &[u8], announced: usize) -> Vec<u8> {
        let mask = [0x37u8, 0xfa, 0x21, 0x3d];
        let mut f = vec![0x80 | opcode];
        match announced {
            n if n < 126 => f.push(0x80 | n as u8),
            n if n <= u16::MAX as usize => {
                f.push(0x80 | 126);
                f.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                f.push(0x80 | 127);
                f.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        f.extend_from_slice(&mask);
        f.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        f
    }

    /// Closes both directions without a close frame.
    pub fn cut(self) {
        let _ = self.stream.shutdown(std::net::Shutdown::Both);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_carry_their_announced_length() {
        let f = RawTcp::frame(2, b"abc", 3);
        assert_eq!(f[0], 0x82);
        assert_eq!(f[1], 0x80 | 3);
        assert_eq!(f.len(), 2 + 4 + 3);
        let long = RawTcp::frame(2, &[0; 10], 70_000);
        assert_eq!(long[1], 0x80 | 127);
        assert_eq!(u64::from_be_bytes(long[2..10].try_into().unwrap()), 70_000);
        let mid = RawTcp::frame(2, &[1; 300], 300);
        assert_eq!(u16::from_be_bytes([mid[2], mid[3]]), 300);
        // Unmasking gives the payload back.
        let unmasked: Vec<u8> = mid[8..].iter().enumerate().map(|(i, b)| b ^ mid[4 + i % 4]).collect();
        assert_eq!(unmasked, vec![1; 300]);
    }

    #[test]
    fn local_docs_produce_loadable_incremental_chunks() {
        let actor = ActorId::random();
        let mut a = LocalDoc::new_customer(&actor, "茅台专卖");
        let first = a.chunk();
        a.set_customer("phone", "13800000000");
        let second = a.chunk();
        assert!(second.changes.len() < first.changes.len() + 200);
        let other = ActorId::random();
        let mut b = LocalDoc::from_chunks(a.id, a.kind, &other, &[&first, &second]);
        assert_eq!(b.customer().phone.as_deref(), Some("13800000000"));
        assert_eq!(b.actors(), vec![actor]);
        assert_eq!(b.heads(), a.heads());
    }
}
