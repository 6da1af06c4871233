//! The real server, in-process, over real sockets: HTTP login and a WebSocket client.

use automerge::transaction::Transactable;
use automerge::{ActorId, AutoCommit, ROOT};
use futures_util::{SinkExt, StreamExt};
use jiuloop_server::{Accounts, Config, Role, UserSpec};
use protocol::wire::{DocChunk, Hello, MAX_MESSAGE_BYTES, decode, encode, hashes_to_wire};
use protocol::{ClientMsg, DocId, DocKind, ErrorCode, ServerMsg};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use uuid::Uuid;

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

const PASSWORD: &str = "baijiu-2026";

fn temp_dir() -> PathBuf {
    std::env::temp_dir().join(format!("jiuloop-it-{}", Uuid::new_v4()))
}

/// A minimal HTTP/1.1 client: returns (status, body).
async fn http(addr: SocketAddr, method: &str, path: &str, token: Option<&str>, body: Option<&str>) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some(t) = token {
        req.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    let body = body.unwrap_or("");
    req.push_str(&format!("Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}", body.len()));
    stream.write_all(req.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut raw)).await.unwrap().unwrap();
    let text = String::from_utf8(raw).unwrap();
    let status = text[9..12].parse().unwrap();
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    (status, body)
}

fn json(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body:?}"))
}

async fn login(addr: SocketAddr, user: &str, password: &str, device: Uuid) -> (u16, serde_json::Value) {
    let body = serde_json::json!({
        "user": user, "password": password, "device_id": device.to_string(), "device_name": "test"
    })
    .to_string();
    let (status, body) = http(addr, "POST", "/api/login", None, Some(&body)).await;
    (status, json(&body))
}

async fn connect(addr: SocketAddr, token: &str) -> Result<Ws, tungstenite::Error> {
    let mut req = format!("ws://{addr}/sync").into_client_request().unwrap();
    req.headers_mut().insert("Authorization", format!("Bearer {token}").parse().unwrap());
    tokio_tungstenite::connect_async(req).await.map(|(ws, _)| ws)
}

async fn next(ws: &mut Ws) -> Message {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("timed out waiting for a message")
            .expect("stream ended")
            .expect("websocket error");
        if !matches!(msg, Message::Ping(_) | Message::Pong(_)) {
            return msg;
        }
    }
}

async fn recv(ws: &mut Ws) -> ServerMsg {
    match next(ws).await {
        Message::Binary(b) => decode::<ServerMsg>(&b).unwrap(),
        other => panic!("expected a binary frame, got {other:?}"),
    }
}

async fn send(ws: &mut Ws, msg: &ClientMsg) {
    ws.send(Message::binary(encode(msg).unwrap())).await.unwrap();
}

/// Expect `Error{code}` and then a close frame with `code.close_code()`.
async fn expect_fatal(ws: &mut Ws, code: ErrorCode) {
    match recv(ws).await {
        ServerMsg::Error { code: got, .. } => assert_eq!(got, code),
        other => panic!("expected Error({code}), got {other:?}"),
    }
    match next(ws).await {
        Message::Close(Some(frame)) => {
            assert_eq!(u16::from(frame.code), code.close_code());
            assert_eq!(ErrorCode::from_close_code(u16::from(frame.code)), Some(code));
        }
        other => panic!("expected a close frame, got {other:?}"),
    }
    // Reading on sends our close reply; then the stream ends.
    let end = tokio::time::timeout(Duration::from_secs(5), ws.next()).await.unwrap();
    assert!(matches!(end, None | Some(Err(_))), "{end:?}");
}

struct Client {
    ws: Ws,
    device: Uuid,
    actor: Vec<u8>,
}

impl Client {
    async fn join(addr: SocketAddr, user: &str, cursor: u64) -> (Client, ServerMsg) {
        let device = Uuid::new_v4();
        let (status, body) = login(addr, user, PASSWORD, device).await;
        assert_eq!(status, 200, "{body}");
        let mut ws = connect(addr, body["token"].as_str().unwrap()).await.unwrap();
        let actor = Uuid::new_v4().as_bytes().to_vec();
        send(
            &mut ws,
            &ClientMsg::Hello(Hello {
                device_id: device,
                actors: vec![actor.clone()],
                cursor,
                client: "integration-test".into(),
            }),
        )
        .await;
        let first = recv(&mut ws).await;
        (Client { ws, device, actor }, first)
    }

    fn doc(&self) -> AutoCommit {
        AutoCommit::new().with_actor(ActorId::from(self.actor.clone()))
    }
}

fn edit(doc: &mut AutoCommit, key: &str, value: &str) -> Vec<u8> {
    let before = doc.get_heads();
    doc.put(ROOT, key, value).unwrap();
    doc.commit();
    doc.save_after(&before)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_sync_relay_and_bad_frames() {
    let dir = temp_dir();
    let server = jiuloop_server::start(Config::new(&dir).listen_on("127.0.0.1:0")).await.unwrap();
    let addr = server.local_addr();

    // Users added while the server runs take effect at once.
    let admin = Accounts::open_in(&dir, Duration::from_secs(60)).unwrap();
    for (name, role) in [("li", Role::Rep), ("wang", Role::Manager)] {
        admin
            .add_user(
                &UserSpec {
                    name: name.into(),
                    password: PASSWORD.into(),
                    role,
                    territory: Some("华东".into()),
                    manager: None,
                },
                0,
            )
            .unwrap();
    }

    // Health.
    let (status, body) = http(addr, "GET", "/health", None, None).await;
    assert_eq!(status, 200);
    let health = json(&body);
    assert_eq!(health["status"], "ok");
    assert_eq!(health["documents"], 0);

    // Login failures and success.
    let (status, body) = login(addr, "li", "wrong password", Uuid::new_v4()).await;
    assert_eq!((status, body["code"].as_str()), (401, Some("bad_credentials")));
    let (status, body) = login(addr, "nobody", PASSWORD, Uuid::new_v4()).await;
    assert_eq!((status, body["code"].as_str()), (401, Some("bad_credentials")));
    let li_device = Uuid::new_v4();
    let (status, body) = login(addr, "li", PASSWORD, li_device).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["user"], "li");
    assert_eq!(body["role"], "rep");
    assert_eq!(body["territory"], "华东");
    assert_eq!(body["territories"], serde_json::json!(["华东"]));
    assert!(body["expires_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(body["token"].as_str().unwrap().len(), 64);
    // li's device cannot be used by wang.
    let (status, body) = login(addr, "wang", PASSWORD, li_device).await;
    assert_eq!((status, body["code"].as_str()), (403, Some("forbidden")));

    // Bad tokens are refused before the upgrade.
    for token in ["", "not-a-token"] {
        match connect(addr, token).await {
            Err(tungstenite::Error::Http(resp)) => {
                assert_eq!(resp.status().as_u16(), 401);
                let body = String::from_utf8(resp.body().clone().unwrap_or_default()).unwrap();
                assert_eq!(json(&body)["code"], "unauthorized");
            }
            other => panic!("expected HTTP 401, got {:?}", other.map(|_| ())),
        }
    }
    // Query-string tokens work too.
    let token = body_token(addr, "li").await;
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/sync?token={token}")).await.unwrap();
    ws.close(None).await.unwrap();

    // Two devices: hello → caught up; push → ack; relay to the other.
    let (mut a, first) = Client::join(addr, "li", 0).await;
    assert_eq!(first, ServerMsg::CaughtUp { cursor: 0, docs_sent: 0 });
    let (mut b, first) = Client::join(addr, "wang", 0).await;
    assert_eq!(first, ServerMsg::CaughtUp { cursor: 0, docs_sent: 0 });

    let id = DocId::new_random();
    let mut doc = a.doc();
    // A customer of li's territory (both users work in 华东).
    doc.put(ROOT, "territory", "华东").unwrap();
    doc.put(ROOT, "name", "泸州老窖专卖店").unwrap();
    doc.commit();
    let changes = doc.save();
    let heads = hashes_to_wire(&doc.get_heads());
    let chunk = DocChunk { id, kind: DocKind::Customer, heads: heads.clone(), changes };
    send(&mut a.ws, &ClientMsg::Push { docs: vec![chunk] }).await;
    match recv(&mut a.ws).await {
        ServerMsg::Ack { docs } => {
            assert_eq!(docs.len(), 1);
            assert_eq!((docs[0].id, &docs[0].heads, docs[0].seq), (id, &heads, 1));
        }
        other => panic!("expected Ack, got {other:?}"),
    }
    match recv(&mut b.ws).await {
        ServerMsg::Changes { docs, cursor } => {
            assert_eq!(cursor, Some(1));
            let mut replica = AutoCommit::new();
            replica.load_incremental(&docs[0].changes).unwrap();
            assert_eq!(hashes_to_wire(&replica.get_heads()), heads);
        }
        other => panic!("expected Changes, got {other:?}"),
    }

    // A late device catches up from the server.
    let (mut c, first) = Client::join(addr, "wang", 0).await;
    let ServerMsg::Changes { docs, cursor: None } = first else { panic!("{first:?}") };
    assert_eq!((docs.len(), docs[0].id), (1, id));
    assert_eq!(recv(&mut c.ws).await, ServerMsg::CaughtUp { cursor: 1, docs_sent: 1 });

    // Bad frames close only their own connection, each with its code.
    c.ws.send(Message::text("hello?")).await.unwrap();
    expect_fatal(&mut c.ws, ErrorCode::Malformed).await;

    let (mut d, _) = Client::join(addr, "wang", 1).await;
    d.ws.send(Message::binary(b"XX\x01\x00junk".to_vec())).await.unwrap();
    expect_fatal(&mut d.ws, ErrorCode::Malformed).await;

    let (mut e, _) = Client::join(addr, "wang", 1).await;
    let v99 = protocol::wire::encode_with_version(&ClientMsg::Resync { docs: vec![] }, 99).unwrap();
    e.ws.send(Message::binary(v99)).await.unwrap();
    expect_fatal(&mut e.ws, ErrorCode::UnsupportedVersion).await;

    let (mut f, _) = Client::join(addr, "wang", 1).await;
    let mut huge = encode(&ClientMsg::Resync { docs: vec![] }).unwrap();
    huge.resize(MAX_MESSAGE_BYTES + 10, 0);
    f.ws.send(Message::binary(huge)).await.unwrap();
    expect_fatal(&mut f.ws, ErrorCode::TooLarge).await;

    let (mut g, _) = Client::join(addr, "wang", 1).await;
    let garbage = DocChunk {
        id: DocId::new_random(),
        kind: DocKind::Order,
        heads: vec![],
        changes: b"not automerge at all".to_vec(),
    };
    send(&mut g.ws, &ClientMsg::Push { docs: vec![garbage] }).await;
    expect_fatal(&mut g.ws, ErrorCode::BadChanges).await;

    // A connection cut mid-message disturbs nothing.
    let (h, _) = Client::join(addr, "wang", 1).await;
    let mut raw = h.ws.into_inner();
    let _ = raw.write_all(&[0x82, 0x7e, 0x10]).await;
    drop(raw);

    // The first two connections still work: another push is acked and relayed.
    let more = edit(&mut doc, "class", "A");
    let heads = hashes_to_wire(&doc.get_heads());
    send(
        &mut a.ws,
        &ClientMsg::Push { docs: vec![DocChunk { id, kind: DocKind::Customer, heads: heads.clone(), changes: more }] },
    )
    .await;
    let ServerMsg::Ack { docs } = recv(&mut a.ws).await else { panic!("expected Ack") };
    assert_eq!(docs[0].seq, 2);
    let ServerMsg::Changes { docs, cursor } = recv(&mut b.ws).await else { panic!("expected Changes") };
    assert_eq!((cursor, &docs[0].heads), (Some(2), &heads));
    assert_ne!(a.device, b.device);

    // Push before hello is refused.
    let token = body_token(addr, "li").await;
    let mut early = connect(addr, &token).await.unwrap();
    send(&mut early, &ClientMsg::Push { docs: vec![] }).await;
    expect_fatal(&mut early, ErrorCode::UnexpectedMessage).await;

    // Health counts documents; logout revokes the token.
    let (_, body) = http(addr, "GET", "/health", None, None).await;
    assert_eq!(json(&body)["documents"], 1);
    let token = body_token(addr, "wang").await;
    let (status, _) = http(addr, "POST", "/api/logout", Some(&token), None).await;
    assert_eq!(status, 204);
    match connect(addr, &token).await {
        Err(tungstenite::Error::Http(resp)) => assert_eq!(resp.status().as_u16(), 401),
        other => panic!("expected HTTP 401, got {:?}", other.map(|_| ())),
    }
    let (status, _) = http(addr, "POST", "/api/logout", Some("bogus"), None).await;
    assert_eq!(status, 401);

    // A disabled user is refused with 403 revoked.
    let token = body_token(addr, "li").await;
    admin.set_user_disabled("li", true).unwrap();
    match connect(addr, &token).await {
        Err(tungstenite::Error::Http(resp)) => {
            assert_eq!(resp.status().as_u16(), 403);
            let body = String::from_utf8(resp.body().clone().unwrap_or_default()).unwrap();
            assert_eq!(json(&body)["code"], "revoked");
        }
        other => panic!("expected HTTP 403, got {:?}", other.map(|_| ())),
    }

    // Shutdown closes live connections with "going away" and releases the database.
    let watchers: Vec<_> = [a.ws, b.ws]
        .into_iter()
        .map(|mut ws| {
            tokio::spawn(async move {
                let msg = next(&mut ws).await;
                let _ = ws.next().await; // sends our close reply
                msg
            })
        })
        .collect();
    server.shutdown().await.unwrap();
    for w in watchers {
        match w.await.unwrap() {
            Message::Close(Some(frame)) => assert_eq!(frame.code, CloseCode::Away),
            other => panic!("expected close, got {other:?}"),
        }
    }

    // Restart on the same directory: the acknowledged data is there.
    let server = jiuloop_server::start(Config::new(&dir).listen_on("127.0.0.1:0")).await.unwrap();
    let (mut z, first) = Client::join(server.local_addr(), "wang", 0).await;
    let ServerMsg::Changes { docs, .. } = first else { panic!("{first:?}") };
    let mut replica = AutoCommit::new();
    replica.load_incremental(&docs[0].changes).unwrap();
    assert_eq!(replica.get_heads(), doc.get_heads());
    assert_eq!(recv(&mut z.ws).await, ServerMsg::CaughtUp { cursor: 2, docs_sent: 1 });
    z.ws.close(None).await.unwrap();
    server.shutdown().await.unwrap();
    drop(admin);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Log in from a fresh device and return the token.
async fn body_token(addr: SocketAddr, user: &str) -> String {
    let (status, body) = login(addr, user, PASSWORD, Uuid::new_v4()).await;
    assert_eq!(status, 200, "{body}");
    body["token"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn expired_tokens_are_refused_with_token_expired() {
    let dir = temp_dir();
    let mut config = Config::new(&dir).listen_on("127.0.0.1:0");
    config.token_ttl = Duration::ZERO;
    let server = jiuloop_server::start(config).await.unwrap();
    let addr = server.local_addr();
    Accounts::open_in(&dir, Duration::ZERO)
        .unwrap()
        .add_user(
            &UserSpec { name: "li".into(), password: PASSWORD.into(), role: Role::Rep, territory: None, manager: None },
            0,
        )
        .unwrap();
    let token = body_token(addr, "li").await;
    match connect(addr, &token).await {
        Err(tungstenite::Error::Http(resp)) => {
            assert_eq!(resp.status().as_u16(), 401);
            let body = String::from_utf8(resp.body().clone().unwrap_or_default()).unwrap();
            assert_eq!(json(&body)["code"], "token_expired");
        }
        other => panic!("expected HTTP 401, got {:?}", other.map(|_| ())),
    }
    server.shutdown().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
