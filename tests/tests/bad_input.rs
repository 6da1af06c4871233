//! Hostile input: every malformed frame, bad token and cut connection gets its clear
//! error code (or HTTP status), nothing is stored, and every other device keeps syncing.

use automerge::ActorId;
use jiuloop_tests::{Auth, Device, LocalDoc, RawClient, RawTcp, StoreCounts, TestServer};
use protocol::wire::{self, ClientMsg, DocChunk, Hello, MAX_MESSAGE_BYTES, PROTOCOL_VERSION};
use protocol::{DocId, DocKind, ErrorCode, ServerMsg};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;
use uuid::Uuid;

const RELAY_PATIENCE: Duration = Duration::from_secs(10);

/// A server with a witness device (li, CLI) that owns one customer and a bystander
/// (wang, raw) that is caught up and stays connected throughout.
struct Arena {
    server: TestServer,
    witness: Device,
    witness_customer: String,
    bystander: RawClient,
    edits: usize,
}

impl Arena {
    async fn new(args: &[&str]) -> Self {
        let server = TestServer::started_with(args, &["li", "wang", "zhao"]);
        let witness = Device::logged_in(&server, "li");
        let witness_customer = witness.add_customer("见证客户", &[]);
        witness.sync();
        let (bystander, up) = RawClient::caught_up(&server, "wang").await;
        assert_eq!(up.docs_sent, 1, "{up:?}");
        Arena { server, witness, witness_customer, bystander, edits: 0 }
    }

    /// The witness edits and syncs normally; the bystander receives the change live.
    async fn normal_device_still_syncs(&mut self, after: &str) {
        self.edits += 1;
        let note = format!("第{}次正常编辑（{after}之后）", self.edits);
        self.witness.ok(&["customer", "set", &self.witness_customer, "notes", &note]);
        let s = self.witness.sync();
        assert_eq!(s.pushed_docs, 1, "after {after}: {s:?}");
        let id: DocId = self.witness_customer.parse().unwrap();
        self.bystander.wait_for_doc(id, RELAY_PATIENCE).await;
        assert_eq!(self.server.health().status, 200, "after {after}");
    }
}

enum Frame {
    Binary(Vec<u8>),
    Text(&'static str),
}

/// What a case's frames may depend on: the connection's device and registered actor.
struct Ctx {
    device_id: Uuid,
    actor: ActorId,
}

struct Case {
    name: &'static str,
    hello_first: bool,
    frames: fn(&Ctx) -> Vec<Frame>,
    /// `None`: some error code, as long as it is sent and matches the close code.
    want: Option<ErrorCode>,
}

fn hello(ctx: &Ctx) -> ClientMsg {
    ClientMsg::Hello(Hello {
        device_id: ctx.device_id,
        actors: vec![ctx.actor.to_bytes().to_vec()],
        cursor: 0,
        client: "hostile".into(),
    })
}

fn bin(msg: &ClientMsg) -> Frame {
    Frame::Binary(wire::encode(msg).unwrap())
}

fn push(docs: Vec<DocChunk>) -> Frame {
    bin(&ClientMsg::Push { docs })
}

/// A new, valid customer document written by the connection's own actor.
fn valid_chunk(ctx: &Ctx) -> DocChunk {
    LocalDoc::new_customer(&ctx.actor, "本不该存下的客户").chunk()
}

fn with_changes(ctx: &Ctx, changes: Vec<u8>) -> DocChunk {
    DocChunk { changes, ..valid_chunk(ctx) }
}

const AUTOMERGE_MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];

fn garbage_variants(ctx: &Ctx) -> Vec<(&'static str, Vec<u8>)> {
    let valid = valid_chunk(ctx).changes;
    vec![
        ("plain garbage", b"definitely not automerge ".repeat(4)),
        ("magic then garbage", [&AUTOMERGE_MAGIC[..], &[0xff; 40][..]].concat()),
        ("truncated change", valid[..valid.len() - 5].to_vec()),
        ("valid change then garbage", [&valid[..], b"garbage"].concat()),
    ]
}

fn cases() -> Vec<Case> {
    fn header(version: u16) -> Vec<u8> {
        [&b"JL"[..], &version.to_le_bytes()[..]].concat()
    }
    vec![
        Case {
            name: "text frame before hello",
            hello_first: false,
            frames: |_| vec![Frame::Text("{\"hello\":1}")],
            want: Some(ErrorCode::Malformed),
        },
        Case {
            name: "text frame after hello",
            hello_first: true,
            frames: |_| vec![Frame::Text("push")],
            want: Some(ErrorCode::Malformed),
        },
        Case {
            name: "bad magic",
            hello_first: false,
            frames: |_| vec![Frame::Binary(b"XX\x01\x00\x00".to_vec())],
            want: Some(ErrorCode::Malformed),
        },
        Case {
            name: "empty binary frame",
            hello_first: false,
            frames: |_| vec![Frame::Binary(Vec::new())],
            want: Some(ErrorCode::Malformed),
        },
        Case {
            name: "unknown message type",
            hello_first: false,
            frames: |_| vec![Frame::Binary([header(PROTOCOL_VERSION), vec![200]].concat())],
            want: Some(ErrorCode::Malformed),
        },
        Case {
            name: "unknown message type after hello",
            hello_first: true,
            frames: |_| vec![Frame::Binary([header(PROTOCOL_VERSION), vec![3, 0]].concat())],
            want: Some(ErrorCode::Malformed),
        },
        Case {
            name: "truncated message",
            hello_first: false,
            frames: |c| {
                let f = wire::encode(&hello(c)).unwrap();
                vec![Frame::Binary(f[..f.len() - 3].to_vec())]
            },
            want: Some(ErrorCode::Malformed),
        },
        Case {
            name: "trailing bytes",
            hello_first: false,
            frames: |c| vec![Frame::Binary([wire::encode(&hello(c)).unwrap(), vec![0]].concat())],
            want: Some(ErrorCode::Malformed),
        },
        Case {
            name: "newer protocol version",
            hello_first: false,
            frames: |c| vec![Frame::Binary(wire::encode_with_version(&hello(c), PROTOCOL_VERSION + 1).unwrap())],
            want: Some(ErrorCode::UnsupportedVersion),
        },
        Case {
            name: "protocol version 0",
            hello_first: false,
            frames: |c| vec![Frame::Binary(wire::encode_with_version(&hello(c), 0).unwrap())],
            want: Some(ErrorCode::UnsupportedVersion),
        },
        Case {
            name: "wrong version after hello",
            hello_first: true,
            frames: |c| {
                vec![Frame::Binary(
                    wire::encode_with_version(&ClientMsg::Push { docs: vec![valid_chunk(c)] }, 7).unwrap(),
                )]
            },
            want: Some(ErrorCode::UnsupportedVersion),
        },
        Case {
            name: "zeros over the size limit",
            hello_first: false,
            frames: |_| vec![Frame::Binary([header(PROTOCOL_VERSION), vec![0; MAX_MESSAGE_BYTES - 3]].concat())],
            want: Some(ErrorCode::TooLarge),
        },
        Case {
            name: "a well-formed push over the size limit",
            hello_first: true,
            frames: |c| {
                let big = ClientMsg::Push { docs: vec![with_changes(c, vec![7; MAX_MESSAGE_BYTES])] };
                vec![Frame::Binary([header(PROTOCOL_VERSION), postcard::to_stdvec(&big).unwrap()].concat())]
            },
            want: Some(ErrorCode::TooLarge),
        },
        Case {
            name: "push before hello",
            hello_first: false,
            frames: |c| vec![push(vec![valid_chunk(c)])],
            want: Some(ErrorCode::UnexpectedMessage),
        },
        Case {
            name: "garbage automerge: plain garbage",
            hello_first: true,
            frames: |c| vec![push(vec![with_changes(c, garbage_variants(c)[0].1.clone())])],
            want: Some(ErrorCode::BadChanges),
        },
        Case {
            name: "garbage automerge: magic then garbage",
            hello_first: true,
            frames: |c| vec![push(vec![with_changes(c, garbage_variants(c)[1].1.clone())])],
            want: Some(ErrorCode::BadChanges),
        },
        Case {
            name: "garbage automerge: truncated change",
            hello_first: true,
            frames: |c| vec![push(vec![with_changes(c, garbage_variants(c)[2].1.clone())])],
            want: Some(ErrorCode::BadChanges),
        },
        Case {
            name: "garbage automerge: valid change then garbage",
            hello_first: true,
            frames: |c| vec![push(vec![with_changes(c, garbage_variants(c)[3].1.clone())])],
            want: Some(ErrorCode::BadChanges),
        },
        Case {
            name: "garbage automerge: one good document, one garbage",
            hello_first: true,
            frames: |c| vec![push(vec![valid_chunk(c), with_changes(c, b"\x00\x01\x02 not a change".to_vec())])],
            want: Some(ErrorCode::BadChanges),
        },
        Case {
            name: "hello as another device than the token's",
            hello_first: false,
            frames: |c| {
                vec![
                    bin(&hello(&Ctx { device_id: Uuid::new_v4(), actor: c.actor.clone() })),
                    push(vec![valid_chunk(c)]),
                ]
            },
            want: None,
        },
    ]
}

/// The inputs are really what their names say: automerge itself rejects the garbage and
/// accepts the valid change they are made from.
#[test]
fn the_garbage_is_really_garbage() {
    let ctx = Ctx { device_id: Uuid::new_v4(), actor: ActorId::random() };
    let valid = valid_chunk(&ctx).changes;
    assert!(automerge::Change::from_bytes(valid).is_ok());
    for (name, bytes) in garbage_variants(&ctx) {
        assert!(automerge::Change::from_bytes(bytes).is_err(), "{name} parses as a change");
    }
    let big = ClientMsg::Push { docs: vec![with_changes(&ctx, vec![7; MAX_MESSAGE_BYTES])] };
    assert_eq!(wire::encode(&big).unwrap_err().code(), ErrorCode::TooLarge);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_frame_gets_its_code_and_stores_nothing() {
    let mut arena = Arena::new(&[]).await;
    let device_id = Uuid::new_v4();
    let token = arena.server.token("zhao", device_id);
    let mut failures = Vec::new();
    for case in cases() {
        let before = arena.server.counts();
        let log_before = arena.server.log().len();
        let mut raw = RawClient::connect(arena.server.addr(), Auth::Bearer(&token), device_id).await;
        if case.hello_first {
            raw.hello(0).await;
            raw.catch_up().await;
        }
        let ctx = Ctx { device_id, actor: raw.actor.clone() };
        for frame in (case.frames)(&ctx) {
            match frame {
                Frame::Binary(b) => raw.send_bytes(b).await,
                Frame::Text(t) => {
                    let _ = raw.send_message(Message::text(t)).await;
                }
            }
        }
        match (raw.try_error_close().await, case.want) {
            (Ok(got), Some(want)) if got != want => failures.push(format!("{}: got {got}, want {want}", case.name)),
            (Ok(got), _) => {
                // The server logs it, with the code.
                if !arena.server.log().get(log_before..).unwrap_or_default().contains(got.as_str()) {
                    failures.push(format!("{}: the server log does not mention {got}", case.name));
                }
            }
            (Err(e), _) => failures.push(format!("{}: {e}", case.name)),
        }
        let after = arena.server.counts();
        if after != before {
            failures.push(format!("{}: stored something: {before:?} -> {after:?}", case.name));
        }
        arena.normal_device_still_syncs(case.name).await;
    }
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases().len(), failures.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handshakes_without_a_valid_token_get_401_unauthorized() {
    let mut arena = Arena::new(&[]).await;
    let server = &arena.server;

    // A token that was valid, then logged out.
    let device = Uuid::new_v4();
    let revoked = server.token("zhao", device);
    let mut ok = RawClient::connect(server.addr(), Auth::Bearer(&revoked), device).await;
    ok.hello(0).await;
    ok.catch_up().await;
    ok.close().await;
    let out = server.logout(&revoked);
    assert!((200..300).contains(&out.status), "logout answered {} {}", out.status, out.text());

    let before = server.counts();
    let cases: Vec<(&str, Auth)> = vec![
        ("no token", Auth::Nothing),
        ("unknown bearer token", Auth::Bearer("not-a-real-token")),
        ("empty bearer token", Auth::Bearer("")),
        ("basic auth", Auth::Header("Basic bGk6aml1bG9vcC10ZXN0LXBhc3N3b3Jk")),
        ("unknown query token", Auth::Query("bogus")),
        ("logged-out bearer token", Auth::Bearer(&revoked)),
        ("logged-out query token", Auth::Query(&revoked)),
    ];
    let mut failures = Vec::new();
    for (name, auth) in cases {
        match RawClient::try_connect(server.addr(), auth).await {
            Ok(_) => failures.push(format!("{name}: upgraded")),
            Err(r) if r.status == 401 && r.code().as_deref() == Some("unauthorized") => {}
            Err(r) => failures.push(format!("{name}: {r:?}, want 401 unauthorized")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(server.counts(), before);

    // Bad logins are refused with their code.
    for (user, password) in [("zhao", "wrong-password"), ("nobody", jiuloop_tests::PASSWORD)] {
        let r = server.login(user, password, Uuid::new_v4());
        assert_eq!(r.status, 401, "login {user}/{password}: {}", r.text());
        assert_eq!(r.json()["code"], "bad_credentials", "login {user}/{password}");
    }

    // Logging out on the CLI ends that device's syncing; logging in again restores it.
    let d = Device::logged_in(server, "zhao");
    d.sync();
    d.ok(&["logout"]);
    d.fail(&["sync"]);
    d.login(server, "zhao");
    d.sync();
    arena.normal_device_still_syncs("the refused handshakes").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_token_gets_401_token_expired() {
    const TTL: u64 = 3;
    let server = TestServer::started_with(&["--token-ttl-secs", &TTL.to_string()], &["li"]);
    let device = Uuid::new_v4();
    let token = server.token("li", device);
    let raw_issued = Instant::now();
    let mut raw = RawClient::connect(server.addr(), Auth::Bearer(&token), device).await;
    raw.hello(0).await;
    raw.catch_up().await;
    raw.close().await;

    let d = Device::logged_in(&server, "li");
    let cli_issued = Instant::now();
    d.add_customer("过期前", &[]);
    assert_eq!(d.sync().pushed_docs, 1);

    let expired = cli_issued + Duration::from_secs(TTL) + Duration::from_millis(500);
    tokio::time::sleep(expired.saturating_duration_since(Instant::now())).await;
    assert!(raw_issued.elapsed() > Duration::from_secs(TTL));
    let before = server.counts();
    match RawClient::try_connect(server.addr(), Auth::Bearer(&token)).await {
        Ok(_) => panic!("an expired token was accepted"),
        Err(r) => {
            assert_eq!(r.status, 401, "{r:?}");
            assert_eq!(r.code().as_deref(), Some("token_expired"), "{r:?}");
        }
    }

    // The CLI says so in one line and keeps its local data; after a new login it syncs.
    d.add_customer("过期后", &[]);
    let local = d.snapshot();
    d.fail(&["sync"]);
    assert_eq!(d.snapshot(), local);
    assert_eq!(d.pending_docs(), 1);
    assert_eq!(server.counts(), before);
    d.login(&server, "li");
    assert_eq!(d.sync().pushed_docs, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_cut_mid_message_stores_nothing() {
    let mut arena = Arena::new(&[]).await;
    let device_id = Uuid::new_v4();
    let token = arena.server.token("zhao", device_id);
    let addr = arena.server.addr();
    let actor = ActorId::random();
    let ctx = Ctx { device_id, actor: actor.clone() };
    let hello_frame = wire::encode(&hello(&ctx)).unwrap();
    let mut doc = LocalDoc::new_customer(&actor, "半截推送的客户");
    let push_frame = wire::encode(&ClientMsg::Push { docs: vec![doc.chunk()] }).unwrap();

    type Cut = Box<dyn Fn()>;
    let cases: Vec<(&str, Cut)> = vec![
        ("in the middle of the handshake", {
            let req = RawTcp::handshake_request(addr, &token);
            Box::new(move || {
                let mut t = RawTcp::connect(addr);
                t.send(&req.as_bytes()[..req.len() / 2]);
                t.cut();
            })
        }),
        ("after a frame header", {
            let token = token.clone();
            Box::new(move || {
                let mut t = RawTcp::upgraded(addr, &token);
                t.send(&RawTcp::frame(2, &[], 1000));
                t.cut();
            })
        }),
        ("half way through a push", {
            let (token, hello_frame, push_frame) = (token.clone(), hello_frame.clone(), push_frame.clone());
            Box::new(move || {
                let mut t = RawTcp::upgraded(addr, &token);
                t.send(&RawTcp::frame(2, &hello_frame, hello_frame.len()));
                let f = RawTcp::frame(2, &push_frame, push_frame.len());
                t.send(&f[..f.len() / 2]);
                t.cut();
            })
        }),
        ("one byte short of a whole push", {
            let (token, hello_frame, push_frame) = (token.clone(), hello_frame.clone(), push_frame.clone());
            Box::new(move || {
                let mut t = RawTcp::upgraded(addr, &token);
                t.send(&RawTcp::frame(2, &hello_frame, hello_frame.len()));
                let f = RawTcp::frame(2, &push_frame, push_frame.len());
                t.send(&f[..f.len() - 1]);
                t.cut();
            })
        }),
        ("after announcing 3 GB", {
            let token = token.clone();
            Box::new(move || {
                let mut t = RawTcp::upgraded(addr, &token);
                t.send(&RawTcp::frame(2, &[0x4a; 100], 3_000_000_000));
                t.cut();
            })
        }),
    ];
    for (name, cut) in &cases {
        let before: StoreCounts = arena.server.counts();
        cut();
        assert_eq!(arena.server.health().status, 200, "cut {name}");
        assert_eq!(arena.server.counts(), before, "cut {name}: something was stored");
        arena.normal_device_still_syncs(name).await;
    }
    assert_eq!(arena.witness.customers().as_array().map(Vec::len), Some(1), "a cut push reached the witness");

    // The push that was cut is valid: sent whole by the same device, it is stored.
    let mut raw = RawClient::connect(addr, Auth::Bearer(&token), device_id).await;
    raw.actor = actor;
    raw.hello(0).await;
    raw.catch_up().await;
    let before = arena.server.counts();
    match raw.push(vec![doc.full_chunk()]).await {
        ServerMsg::Ack { docs } => assert!(docs.len() == 1 && docs[0].id == doc.id && docs[0].seq > 0, "{docs:?}"),
        other => panic!("the whole push was not acked: {other:?}"),
    }
    assert_eq!(arena.server.counts().docs, before.docs + 1);
    arena.witness.sync();
    assert_eq!(arena.witness.customer(&doc.id.to_string())["name"], "半截推送的客户");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_by_actors_not_of_this_device_are_refused_not_stored_not_relayed() {
    let mut arena = Arena::new(&[]).await;
    let x: DocId = arena.witness_customer.parse().unwrap();
    let (mut hostile, up) = RawClient::caught_up(&arena.server, "zhao").await;
    let server_copy = up.chunks_of(x);
    let mut witness_view = LocalDoc::from_chunks(x, DocKind::Customer, &hostile.actor, &server_copy);
    let server_heads = wire::hashes_to_wire(&witness_view.heads());
    let before = arena.server.counts();

    // 1. A new document by an actor nobody registered.
    let mut stray = LocalDoc::new_customer(&ActorId::random(), "冒名客户");
    // 2. A change on X by the witness device's actor, forged by this device.
    let witness_actor = witness_view.actors().pop().expect("X has an author");
    let mut forged = LocalDoc::from_chunks(x, DocKind::Customer, &witness_actor, &server_copy);
    forged.set_customer("phone", "forged-13000000000");
    for (name, chunk, heads) in [
        ("unregistered actor", stray.chunk(), vec![]),
        ("another device's actor", forged.chunk(), server_heads.clone()),
    ] {
        let id = chunk.id;
        match hostile.push(vec![chunk]).await {
            ServerMsg::Refused { refusals } => {
                assert_eq!(refusals.len(), 1, "{name}: {refusals:?}");
                assert_eq!((refusals[0].id, refusals[0].code), (id, ErrorCode::ActorNotYours), "{name}");
                assert_eq!(refusals[0].server_heads, heads, "{name}: the server's heads to restore to");
            }
            other => panic!("{name}: expected a refusal, got {other:?}"),
        }
        assert_eq!(arena.server.counts(), before, "{name}: stored");
    }

    // Changes the server already has are fine to send again, whoever wrote them.
    match hostile.push(vec![witness_view.full_chunk()]).await {
        ServerMsg::Ack { docs } => assert_eq!((docs.len(), docs[0].seq), (1, 0), "{docs:?}"),
        other => panic!("re-sending known changes: {other:?}"),
    }
    assert_eq!(arena.server.counts(), before);

    // The connection is still good: the device's own change is accepted and relayed, and
    // it is the first thing the bystander hears about X (nothing forged came before).
    witness_view.set_customer("region", "都匀");
    match hostile.push(vec![witness_view.chunk()]).await {
        ServerMsg::Ack { docs } => assert!(docs[0].seq > 0, "{docs:?}"),
        other => panic!("own change: {other:?}"),
    }
    let (_, relayed, _) = arena.bystander.wait_for_doc(x, RELAY_PATIENCE).await;
    let mut bystander_view = LocalDoc::from_chunks(x, DocKind::Customer, &ActorId::random(), &server_copy);
    bystander_view.apply(&relayed);
    let seen = bystander_view.customer();
    assert_eq!((seen.region.as_deref(), seen.phone), (Some("都匀"), None));
    assert_eq!(bystander_view.actors().len(), 2, "only the witness's and the hostile device's own actors");

    let s = arena.witness.sync();
    assert_eq!(s.received_docs, 1);
    let c = arena.witness.customer(&arena.witness_customer);
    assert_eq!((c["region"].as_str(), c["phone"].as_str()), (Some("都匀"), None));
    arena.normal_device_still_syncs("the refused changes").await;
}
