//! The sync protocol of [`Hub`], without a network.

use crate::identity::session::Session;
use crate::server_stats::ServerStats;
use crate::storage::NewUser;
use crate::sync::conn_id::ConnId;
use crate::sync::hub::{Hub, HubSettings};
use crate::sync::hub_event::{HubEvent, Outgoing};
use automerge::transaction::Transactable;
use automerge::{ActorId, AutoCommit, ROOT};
use protocol::Role;
use protocol::wire::{DocAck, DocChunk, Hello, hashes_to_wire};
use protocol::{ClientMsg, DocId, DocKind, ErrorCode, ServerMsg};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use uuid::Uuid;

/// A database file in a fresh directory, removed when dropped.
struct TempDb(PathBuf);

impl std::ops::Deref for TempDb {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        if let Some(dir) = self.0.parent() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// The hub at the wall clock (the tests that control time pass it themselves).
trait Step {
    fn step(&mut self, event: HubEvent) -> Vec<Outgoing>;
}

impl Step for Hub {
    fn step(&mut self, event: HubEvent) -> Vec<Outgoing> {
        self.handle(event, crate::identity::accounts::now_ms())
    }
}

fn temp_db() -> TempDb {
    let dir = std::env::temp_dir().join(format!("jiuloop-hub-{}", Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    TempDb(dir.join("jiuloop.db"))
}

fn open_hub(path: &Path, cache_docs: usize, compact_after: u64) -> Hub {
    let db = Box::new(crate::storage::SqliteDb::open(path).unwrap());
    Hub::new(db, HubSettings { cache_docs, compact_after }, Arc::new(ServerStats::default())).unwrap()
}

/// A simulated device: its own actor and local replicas.
struct Device {
    id: Uuid,
    actor: Vec<u8>,
    conn: ConnId,
    user: String,
    role: Role,
    territory: Option<String>,
}

impl Device {
    /// An admin's device: reads and writes everything (the protocol tests).
    fn new(conn: u64) -> Self {
        Self::of(conn, &format!("user{conn}"), Role::Admin, None)
    }

    fn of(conn: u64, user: &str, role: Role, territory: Option<&str>) -> Self {
        Device {
            id: Uuid::new_v4(),
            actor: Uuid::new_v4().as_bytes().to_vec(),
            conn: ConnId(conn),
            user: user.into(),
            role,
            territory: territory.map(String::from),
        }
    }

    fn doc(&self) -> AutoCommit {
        AutoCommit::new().with_actor(ActorId::from(self.actor.clone()))
    }

    fn session(&self) -> Session {
        Session::for_tests(&self.user, self.role, self.territory.as_deref(), self.id)
    }

    /// Connect and say hello; returns what the hub sent this connection.
    fn join(&self, hub: &mut Hub, cursor: u64) -> Vec<ServerMsg> {
        self.register(hub);
        hub.step(HubEvent::Connected { conn: self.conn, session: self.session() });
        let out = hub.step(self.hello(cursor));
        msgs_for(&out, self.conn)
    }

    /// The user and device rows a login would have created.
    fn register(&self, hub: &Hub) {
        let s = self.session();
        if hub.db().user(&s.user).unwrap().is_none() {
            hub.db()
                .insert_user(&NewUser {
                    name: s.user.clone(),
                    password_hash: "x".into(),
                    role: s.role.as_str().into(),
                    territory: s.territory.clone(),
                    manager: None,
                    created_at: 0,
                })
                .unwrap();
        }
        hub.db().upsert_device(self.id, &s.user, "test", 0).unwrap();
    }

    fn hello(&self, cursor: u64) -> HubEvent {
        HubEvent::Message {
            conn: self.conn,
            msg: ClientMsg::Hello(Hello {
                device_id: self.id,
                actors: vec![self.actor.clone()],
                cursor,
                client: "hub-test".into(),
            }),
        }
    }

    fn push(&self, docs: Vec<DocChunk>) -> HubEvent {
        HubEvent::Message { conn: self.conn, msg: ClientMsg::Push { docs } }
    }
}

fn edit(doc: &mut AutoCommit, key: &str, value: &str) -> Vec<u8> {
    let before = doc.get_heads();
    doc.put(ROOT, key, value).unwrap();
    doc.commit();
    doc.save_after(&before)
}

fn chunk(id: DocId, kind: DocKind, doc: &mut AutoCommit, changes: Vec<u8>) -> DocChunk {
    DocChunk { id, kind, heads: hashes_to_wire(&doc.get_heads()), changes }
}

fn msgs_for(out: &[Outgoing], conn: ConnId) -> Vec<ServerMsg> {
    out.iter().filter(|o| o.to.contains(&conn)).map(|o| o.msg.clone()).collect()
}

fn acks(msgs: &[ServerMsg]) -> Vec<DocAck> {
    msgs.iter()
        .flat_map(|m| match m {
            ServerMsg::Ack { docs } => docs.clone(),
            _ => vec![],
        })
        .collect()
}

fn changes(msgs: &[ServerMsg]) -> Vec<DocChunk> {
    msgs.iter()
        .flat_map(|m| match m {
            ServerMsg::Changes { docs, .. } => docs.clone(),
            _ => vec![],
        })
        .collect()
}

fn error_code(msgs: &[ServerMsg]) -> Option<ErrorCode> {
    msgs.iter().find_map(|m| match m {
        ServerMsg::Error { code, .. } => Some(*code),
        _ => None,
    })
}

fn caught_up(msgs: &[ServerMsg]) -> (u64, u32) {
    match msgs.last() {
        Some(ServerMsg::CaughtUp { cursor, docs_sent }) => (*cursor, *docs_sent),
        other => panic!("expected CaughtUp last, got {other:?}"),
    }
}

fn heads_of(replicas: &mut std::collections::HashMap<DocId, AutoCommit>, id: &DocId) -> Vec<automerge::ChangeHash> {
    replicas.get_mut(id).expect("replica").get_heads()
}

/// Apply received chunks to replicas; returns them by id.
fn apply(replicas: &mut std::collections::HashMap<DocId, AutoCommit>, chunks: &[DocChunk]) {
    for c in chunks {
        let doc = replicas.entry(c.id).or_default();
        doc.load_incremental(&c.changes).unwrap();
        assert!(doc.get_missing_deps(&[]).is_empty(), "chunk of {} incomplete", c.id);
        assert_eq!(hashes_to_wire(&doc.get_heads()), c.heads);
    }
}

#[test]
fn push_is_acked_and_relayed_to_others() {
    let path = temp_db();
    let mut hub = open_hub(&path, 100, 64);
    let (a, b) = (Device::new(1), Device::new(2));
    assert_eq!(a.join(&mut hub, 0), vec![ServerMsg::CaughtUp { cursor: 0, docs_sent: 0 }]);
    b.join(&mut hub, 0);

    let id = DocId::new_random();
    let mut doc = a.doc();
    let bytes = edit(&mut doc, "name", "五粮液旗舰店");
    let out = hub.step(a.push(vec![chunk(id, DocKind::Customer, &mut doc, bytes.clone())]));
    let to_a = msgs_for(&out, a.conn);
    let heads = hashes_to_wire(&doc.get_heads());
    assert_eq!(to_a, vec![ServerMsg::Ack { docs: vec![DocAck { id, heads: heads.clone(), seq: 1 }] }]);
    let to_b = msgs_for(&out, b.conn);
    assert_eq!(to_b.len(), 1);
    let ServerMsg::Changes { docs, cursor } = &to_b[0] else { panic!("{to_b:?}") };
    assert_eq!(*cursor, Some(1));
    assert_eq!((docs[0].id, docs[0].kind, &docs[0].heads), (id, DocKind::Customer, &heads));
    let mut replicas = Default::default();
    apply(&mut replicas, docs);

    // The same bytes again: nothing new, nothing relayed.
    let out = hub.step(a.push(vec![chunk(id, DocKind::Customer, &mut doc, bytes)]));
    assert_eq!(acks(&msgs_for(&out, a.conn)), vec![DocAck { id, heads, seq: 0 }]);
    assert!(msgs_for(&out, b.conn).is_empty());
    assert_eq!(hub.max_seq(), 1);

    // A disconnected connection receives nothing.
    hub.step(HubEvent::Disconnected { conn: b.conn });
    let more = edit(&mut doc, "class", "A");
    let out = hub.step(a.push(vec![chunk(id, DocKind::Customer, &mut doc, more)]));
    assert!(msgs_for(&out, b.conn).is_empty());
    assert_eq!(acks(&msgs_for(&out, a.conn))[0].seq, 2);
}

#[test]
fn catch_up_sends_only_what_the_cursor_lacks() {
    let path = temp_db();
    let mut hub = open_hub(&path, 100, 64);
    let a = Device::new(1);
    a.join(&mut hub, 0);
    let (d1, d2) = (DocId::new_random(), DocId::new_random());
    let (mut doc1, mut doc2) = (a.doc(), a.doc());
    let c = edit(&mut doc1, "name", "x");
    hub.step(a.push(vec![chunk(d1, DocKind::Customer, &mut doc1, c)])); // seq 1
    let c = edit(&mut doc2, "outcome", "y");
    hub.step(a.push(vec![chunk(d2, DocKind::Visit, &mut doc2, c)])); // seq 2
    let c = edit(&mut doc1, "class", "B");
    hub.step(a.push(vec![chunk(d1, DocKind::Customer, &mut doc1, c)])); // seq 3

    // From scratch: both documents, whole.
    let b = Device::new(2);
    let msgs = b.join(&mut hub, 0);
    assert_eq!(caught_up(&msgs), (3, 2));
    let mut replicas = Default::default();
    apply(&mut replicas, &changes(&msgs));
    assert_eq!(heads_of(&mut replicas, &d1), doc1.get_heads());
    assert_eq!(heads_of(&mut replicas, &d2), doc2.get_heads());

    // From cursor 2: only doc1's third change.
    let c3 = Device::new(3);
    let msgs = c3.join(&mut hub, 2);
    assert_eq!(caught_up(&msgs), (3, 1));
    let sent = changes(&msgs);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].id, d1);
    let first = doc1.get_changes(&[])[0].hash();
    let mut partial = doc1.fork_at(&[first]).unwrap();
    partial.load_incremental(&sent[0].changes).unwrap();
    assert_eq!(partial.get_heads(), doc1.get_heads());

    // Up to date: one message, whatever the number of documents.
    let c4 = Device::new(4);
    assert_eq!(c4.join(&mut hub, 3), vec![ServerMsg::CaughtUp { cursor: 3, docs_sent: 0 }]);
}

/// A catch-up of several pieces marks its progress; a device cut after any mark and
/// resuming from it ends up with every document whole, and the resumed catch-up leaves
/// out what the marked part sent.
#[test]
fn a_catch_up_in_pieces_marks_progress_and_resumes_from_any_mark() {
    let path = temp_db();
    let mut hub = open_hub(&path, 1_000, 64);
    let a = Device::new(1);
    a.join(&mut hub, 0);
    let big: String = (0..3_000).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
    let mut docs: Vec<(DocId, AutoCommit)> = (0..40).map(|_| (DocId::new_random(), a.doc())).collect();
    // Interleaved: a document's chunks are spread over the sequence.
    for round in 0..3 {
        for (i, (id, doc)) in docs.iter_mut().enumerate() {
            if round == 0 || i % (round + 1) == 0 {
                let c = edit(doc, "notes", &format!("{round}{big}"));
                hub.step(a.push(vec![chunk(*id, DocKind::Customer, doc, c)]));
            }
        }
    }
    let b = Device::new(2);
    let msgs = b.join(&mut hub, 0);
    let (end, sent) = caught_up(&msgs);
    assert_eq!(sent, 40);
    let marks: Vec<u64> = msgs
        .iter()
        .filter_map(|m| match m {
            ServerMsg::CatchUpMark { cursor } => Some(*cursor),
            _ => None,
        })
        .collect();
    assert!(marks.len() >= 3, "several pieces, each marked: {marks:?}");
    assert!(marks.windows(2).all(|w| w[0] < w[1]) && *marks.last().unwrap() < end, "{marks:?}");
    for (n, &mark) in marks.iter().enumerate() {
        // What arrived before the mark, then a catch-up from it on a new connection.
        let at = msgs.iter().position(|m| *m == ServerMsg::CatchUpMark { cursor: mark }).unwrap();
        let mut replicas = Default::default();
        let before = changes(&msgs[..at]);
        apply(&mut replicas, &before);
        let dev = Device::new(10 + n as u64);
        let resumed = dev.join(&mut hub, mark);
        assert_eq!(caught_up(&resumed).0, end);
        let rest = changes(&resumed);
        for c in &rest {
            let doc = replicas.entry(c.id).or_default();
            doc.load_incremental(&c.changes).unwrap();
        }
        for (id, doc) in &mut docs {
            let held = replicas.get_mut(id).unwrap_or_else(|| panic!("mark {mark}: {id} missing"));
            assert!(held.get_missing_deps(&[]).is_empty(), "mark {mark}: {id} incomplete");
            assert_eq!(held.get_heads(), doc.get_heads(), "mark {mark}: {id}");
        }
        assert!(rest.len() < 40, "mark {mark}: the resumed catch-up leaves out documents already sent");
    }
}

#[test]
fn catch_up_is_correct_after_compaction() {
    let path = temp_db();
    let mut hub = open_hub(&path, 100, 2);
    let a = Device::new(1);
    a.join(&mut hub, 0);
    let id = DocId::new_random();
    let mut doc = a.doc();
    let mut heads_after = Vec::new();
    for i in 0..5 {
        let c = edit(&mut doc, "delivery_place", &format!("v{i}"));
        let out = hub.step(a.push(vec![chunk(id, DocKind::Order, &mut doc, c)]));
        assert_eq!(acks(&msgs_for(&out, a.conn))[0].seq, i + 1);
        heads_after.push(doc.get_heads());
    }
    // Compacted at the third chunk (snapshot_seq 3); chunks 4 and 5 remain.
    assert_eq!(hub.db().chunk_rows(id.as_bytes()).unwrap(), 2);
    let row = hub.db().doc(id.as_bytes()).unwrap().unwrap();
    assert_eq!((row.snapshot_seq, row.last_seq, row.chunk_count), (3, 5, 2));

    for (n, cursor) in [0u64, 1, 3, 4].into_iter().enumerate() {
        let dev = Device::new(10 + n as u64);
        let msgs = dev.join(&mut hub, cursor);
        assert_eq!(caught_up(&msgs), (5, 1));
        let sent = changes(&msgs);
        let mut replica =
            if cursor == 0 { AutoCommit::new() } else { doc.fork_at(&heads_after[cursor as usize - 1]).unwrap() };
        replica.load_incremental(&sent[0].changes).unwrap();
        assert!(replica.get_missing_deps(&[]).is_empty(), "cursor {cursor}");
        assert_eq!(replica.get_heads(), doc.get_heads(), "cursor {cursor}");
    }
    // A fresh hub (empty cache) loads the compacted document and keeps going.
    drop(hub);
    let mut hub = open_hub(&path, 100, 2);
    a.join(&mut hub, 5);
    let c = edit(&mut doc, "delivery_place", "after restart");
    let out = hub.step(a.push(vec![chunk(id, DocKind::Order, &mut doc, c)]));
    assert_eq!(acks(&msgs_for(&out, a.conn))[0].seq, 6);
}

#[test]
fn foreign_actor_is_refused_and_nothing_stored() {
    let path = temp_db();
    let mut hub = open_hub(&path, 100, 64);
    let (a, b) = (Device::new(1), Device::new(2));
    a.join(&mut hub, 0);
    b.join(&mut hub, 0);
    // a writes with b's actor.
    let id = DocId::new_random();
    let mut doc = b.doc();
    let c = edit(&mut doc, "name", "impostor");
    let out = hub.step(a.push(vec![chunk(id, DocKind::Customer, &mut doc, c)]));
    let to_a = msgs_for(&out, a.conn);
    let [ServerMsg::Refused { refusals }] = to_a.as_slice() else { panic!("{to_a:?}") };
    assert_eq!(refusals[0].code, ErrorCode::ActorNotYours);
    assert_eq!(refusals[0].rule, "actor-registered");
    assert!(refusals[0].server_heads.is_empty());
    assert!(msgs_for(&out, b.conn).is_empty());
    assert_eq!(hub.db().doc_count().unwrap(), 0);

    // Claiming b's actor in a hello is fatal.
    let mut thief = Device::new(3);
    thief.actor = b.actor.clone();
    assert_eq!(error_code(&thief.join(&mut hub, 0)), Some(ErrorCode::ActorNotYours));
    assert_eq!(hub.connections(), 2);
}

#[test]
fn garbage_closes_only_that_connection_and_stores_nothing_of_the_frame() {
    let path = temp_db();
    let mut hub = open_hub(&path, 100, 64);
    let (a, b) = (Device::new(1), Device::new(2));
    a.join(&mut hub, 0);
    b.join(&mut hub, 0);
    let good_id = DocId::new_random();
    let mut doc = a.doc();
    let c = edit(&mut doc, "name", "ok");
    let good = chunk(good_id, DocKind::Customer, &mut doc, c.clone());
    let bad = DocChunk {
        id: DocId::new_random(),
        kind: DocKind::Customer,
        heads: vec![],
        changes: b"\x85\x6f\x4a\x83garbage".to_vec(),
    };
    let out = hub.step(a.push(vec![good.clone(), bad]));
    assert_eq!(msgs_for(&out, a.conn).len(), 1);
    assert_eq!(error_code(&msgs_for(&out, a.conn)), Some(ErrorCode::BadChanges));
    assert!(msgs_for(&out, b.conn).is_empty());
    assert_eq!(hub.db().doc_count().unwrap(), 0);
    assert_eq!(hub.max_seq(), 0);
    // a is gone; b carries on, and the same good chunk is stored with seq 1.
    let out = hub.step(a.push(vec![good.clone()]));
    assert!(out.is_empty());
    let mut bdoc = b.doc();
    bdoc.load_incremental(&c).unwrap();
    let c2 = edit(&mut bdoc, "class", "A");
    let both = [c, c2].concat();
    let out = hub.step(b.push(vec![chunk(good_id, DocKind::Customer, &mut bdoc, both)]));
    // a's change was never stored, so b may not push it as new.
    assert!(matches!(msgs_for(&out, b.conn)[0], ServerMsg::Refused { .. }));
}

#[test]
fn a_push_of_too_much_work_closes_only_that_connection_and_loads_nothing() {
    let path = temp_db();
    let mut hub = open_hub(&path, 100, 64);
    let (a, b) = (Device::new(1), Device::new(2));
    a.join(&mut hub, 0);
    b.join(&mut hub, 0);
    let mut doc = a.doc();
    let c = edit(&mut doc, "name", "ok");
    let good = chunk(DocId::new_random(), DocKind::Customer, &mut doc, c);
    let hostile = DocChunk {
        id: DocId::new_random(),
        kind: DocKind::Customer,
        heads: vec![],
        changes: crate::access::hostile_chunks::list_of_nulls(&a.actor, 5_000_000),
    };
    let start = std::time::Instant::now();
    let out = hub.step(a.push(vec![good, hostile.clone()]));
    assert!(start.elapsed() < std::time::Duration::from_secs(1), "{:?}", start.elapsed());
    let to_a = msgs_for(&out, a.conn);
    assert_eq!(error_code(&to_a), Some(ErrorCode::TooMuchWork));
    let [ServerMsg::Error { message, .. }] = to_a.as_slice() else { panic!("{to_a:?}") };
    assert!(message.contains(&hostile.id.to_string()) && message.contains("5000001 operations"), "{message}");
    assert!(msgs_for(&out, b.conn).is_empty());
    assert_eq!((hub.db().doc_count().unwrap(), hub.max_seq(), hub.connections()), (0, 0, 1));
}

#[test]
fn kind_mismatch_is_refused() {
    let path = temp_db();
    let mut hub = open_hub(&path, 100, 64);
    let a = Device::new(1);
    a.join(&mut hub, 0);
    let id = DocId::new_random();
    let mut doc = a.doc();
    let c = edit(&mut doc, "name", "x");
    hub.step(a.push(vec![chunk(id, DocKind::Customer, &mut doc, c)]));
    let server_heads = hashes_to_wire(&doc.get_heads());
    let c = edit(&mut doc, "lines", "y");
    let out = hub.step(a.push(vec![chunk(id, DocKind::Order, &mut doc, c)]));
    let msgs = msgs_for(&out, a.conn);
    let [ServerMsg::Refused { refusals }] = msgs.as_slice() else { panic!("{msgs:?}") };
    assert_eq!(refusals[0].code, ErrorCode::KindMismatch);
    assert_eq!(refusals[0].server_heads, server_heads);
    assert_eq!(hub.max_seq(), 1);
}

#[test]
fn incomplete_chunk_is_acked_with_server_heads_and_not_applied() {
    let path = temp_db();
    let mut hub = open_hub(&path, 100, 64);
    let (a, b) = (Device::new(1), Device::new(2));
    a.join(&mut hub, 0);
    b.join(&mut hub, 0);
    let id = DocId::new_random();
    let mut doc = a.doc();
    let first = edit(&mut doc, "outcome", "1");
    hub.step(a.push(vec![chunk(id, DocKind::Visit, &mut doc, first)]));
    let server_heads = hashes_to_wire(&doc.get_heads());
    let _second = edit(&mut doc, "feedback", "2");
    let third = edit(&mut doc, "next_action", "3");
    let out = hub.step(a.push(vec![chunk(id, DocKind::Visit, &mut doc, third)]));
    assert_eq!(acks(&msgs_for(&out, a.conn)), vec![DocAck { id, heads: server_heads.clone(), seq: 0 }]);
    assert!(msgs_for(&out, b.conn).is_empty());
    // Re-push from the server's heads.
    let rest = doc.save_after(&protocol::wire::hashes_from_wire(&server_heads));
    let out = hub.step(a.push(vec![chunk(id, DocKind::Visit, &mut doc, rest)]));
    assert_eq!(acks(&msgs_for(&out, a.conn))[0].seq, 2);
    assert_eq!(changes(&msgs_for(&out, b.conn)).len(), 1);
}

#[test]
fn eviction_keeps_data() {
    let path = temp_db();
    let mut hub = open_hub(&path, 2, 64);
    let a = Device::new(1);
    a.join(&mut hub, 0);
    let mut docs: Vec<(DocId, AutoCommit)> = (0..6).map(|_| (DocId::new_random(), a.doc())).collect();
    for round in 0..3 {
        for (id, doc) in docs.iter_mut() {
            let c = edit(doc, "delivery_place", &format!("r{round}"));
            let out = hub.step(a.push(vec![chunk(*id, DocKind::Order, doc, c)]));
            let ack = &acks(&msgs_for(&out, a.conn))[0];
            assert_ne!(ack.seq, 0);
            assert_eq!(ack.heads, hashes_to_wire(&doc.get_heads()));
            assert!(hub.cached_docs() <= 2);
        }
    }
    let b = Device::new(2);
    let msgs = b.join(&mut hub, 0);
    assert_eq!(caught_up(&msgs), (18, 6));
    let mut replicas = Default::default();
    apply(&mut replicas, &changes(&msgs));
    for (id, doc) in docs.iter_mut() {
        assert_eq!(heads_of(&mut replicas, id), doc.get_heads());
    }
}

#[test]
fn restart_keeps_acknowledged_data() {
    let path = temp_db();
    let a = Device::new(1);
    let id = DocId::new_random();
    let mut doc = a.doc();
    {
        let mut hub = open_hub(&path, 100, 64);
        a.join(&mut hub, 0);
        for i in 0..3 {
            let c = edit(&mut doc, "address", &format!("v{i}"));
            hub.step(a.push(vec![chunk(id, DocKind::Customer, &mut doc, c)]));
        }
    }
    let mut hub = open_hub(&path, 100, 64);
    assert_eq!(hub.max_seq(), 3);
    let b = Device::new(2);
    let msgs = b.join(&mut hub, 0);
    assert_eq!(caught_up(&msgs), (3, 1));
    let mut replicas = Default::default();
    apply(&mut replicas, &changes(&msgs));
    assert_eq!(heads_of(&mut replicas, &id), doc.get_heads());
    // The device's actor is still registered to it: it may keep pushing.
    a.join(&mut hub, 3);
    let c = edit(&mut doc, "address", "after restart");
    let out = hub.step(a.push(vec![chunk(id, DocKind::Customer, &mut doc, c)]));
    assert_eq!(acks(&msgs_for(&out, a.conn))[0].seq, 4);
}

#[test]
fn protocol_order_is_enforced() {
    let path = temp_db();
    let mut hub = open_hub(&path, 100, 64);
    let a = Device::new(1);
    hub.step(HubEvent::Connected { conn: a.conn, session: a.session() });
    let out = hub.step(a.push(vec![]));
    assert_eq!(error_code(&msgs_for(&out, a.conn)), Some(ErrorCode::UnexpectedMessage));
    assert_eq!(hub.connections(), 0);

    // Hello for another device than the token's.
    let mut b = Device::new(2);
    hub.step(HubEvent::Connected { conn: b.conn, session: b.session() });
    b.id = Uuid::new_v4();
    let out = hub.step(b.hello(0));
    assert_eq!(error_code(&msgs_for(&out, b.conn)), Some(ErrorCode::Unauthorized));

    // A second hello.
    let c = Device::new(3);
    c.join(&mut hub, 0);
    let out = hub.step(c.hello(0));
    assert_eq!(error_code(&msgs_for(&out, c.conn)), Some(ErrorCode::UnexpectedMessage));
}

/// Found by the simulation (seed 130, `jiuloop-tests --test sim`): a device's connection
/// died with a push still being read by the server; the device reconnected and pushed
/// again — more changes, refused whole — and was told so. Then the old connection's push
/// (the customer as first created) arrived, was accepted, and came back to the device that
/// had just been told it was refused. A hello closes the device's older connections, and
/// what is still on its way on them is not applied.
#[test]
fn a_newer_connection_of_a_device_replaces_the_older_one() {
    let path = temp_db();
    let mut hub = open_hub(&path, 100, 64);
    let old = Device::of(1, "li", Role::Rep, Some("四川"));
    old.join(&mut hub, 0);
    let (_, _, late_push) = new_customer(&old, "四川");
    // The same device (same id and actor), connected again before the hub saw the push.
    let new = Device { id: old.id, actor: old.actor.clone(), ..Device::of(2, "li", Role::Rep, Some("四川")) };
    hub.step(HubEvent::Connected { conn: new.conn, session: new.session() });
    let out = hub.step(new.hello(0));
    assert_eq!(error_code(&msgs_for(&out, old.conn)), Some(ErrorCode::Replaced));
    assert!(matches!(msgs_for(&out, new.conn).last(), Some(ServerMsg::CaughtUp { .. })));
    assert_eq!(hub.connections(), 1);
    // The push still on its way on the old connection changes nothing.
    assert!(hub.step(old.push(vec![late_push.clone()])).is_empty());
    hub.step(HubEvent::Disconnected { conn: old.conn });
    assert_eq!(hub.max_seq(), 0);
    // Sent on the connection in use, it is stored.
    let out = hub.step(new.push(vec![late_push]));
    assert_eq!(acks(&msgs_for(&out, new.conn))[0].seq, 1);
    // A hello still on its way on an older connection does not replace the newer one.
    let older = Device { id: old.id, actor: old.actor.clone(), ..Device::of(0, "li", Role::Rep, Some("四川")) };
    hub.step(HubEvent::Connected { conn: older.conn, session: older.session() });
    let out = hub.step(older.hello(0));
    assert_eq!(error_code(&msgs_for(&out, older.conn)), Some(ErrorCode::Replaced));
    assert!(msgs_for(&out, new.conn).is_empty());
    // Another device of the same user is not affected.
    let laptop = Device::of(3, "li", Role::Rep, Some("四川"));
    laptop.join(&mut hub, 1);
    assert_eq!(hub.connections(), 2);
}

#[test]
fn resync_sends_whole_documents() {
    let path = temp_db();
    let mut hub = open_hub(&path, 100, 2);
    let a = Device::new(1);
    a.join(&mut hub, 0);
    let id = DocId::new_random();
    let mut doc = a.doc();
    for i in 0..4 {
        let c = edit(&mut doc, "address", &format!("v{i}"));
        hub.step(a.push(vec![chunk(id, DocKind::Customer, &mut doc, c)]));
    }
    let out =
        hub.step(HubEvent::Message { conn: a.conn, msg: ClientMsg::Resync { docs: vec![id, DocId::new_random()] } });
    let msgs = msgs_for(&out, a.conn);
    let [ServerMsg::Changes { docs, cursor: None }] = msgs.as_slice() else { panic!("{msgs:?}") };
    let mut replicas = Default::default();
    apply(&mut replicas, docs);
    assert_eq!(heads_of(&mut replicas, &id), doc.get_heads());
}

#[test]
fn consecutive_pushes_are_group_committed() {
    let path = temp_db();
    let mut hub = open_hub(&path, 100, 64);
    let (a, b, c) = (Device::new(1), Device::new(2), Device::new(3));
    for d in [&a, &b, &c] {
        d.join(&mut hub, 0);
    }
    let (ida, idb) = (DocId::new_random(), DocId::new_random());
    let (mut da, mut db) = (a.doc(), b.doc());
    let ca = edit(&mut da, "delivery_place", "1");
    let cb = edit(&mut db, "delivery_place", "2");
    let out = hub.handle_batch(
        vec![
            a.push(vec![chunk(ida, DocKind::Order, &mut da, ca)]),
            b.push(vec![chunk(idb, DocKind::Order, &mut db, cb)]),
        ],
        crate::identity::accounts::now_ms(),
    );
    assert_eq!(acks(&msgs_for(&out, a.conn))[0].seq, 1);
    assert_eq!(acks(&msgs_for(&out, b.conn))[0].seq, 2);
    // c sees both, in sequence order; a sees b's, b sees a's.
    let to_c = msgs_for(&out, c.conn);
    let cursors: Vec<_> = to_c
        .iter()
        .map(|m| match m {
            ServerMsg::Changes { cursor, .. } => *cursor,
            _ => None,
        })
        .collect();
    assert_eq!(cursors, vec![Some(1), Some(2)]);
    assert_eq!(changes(&msgs_for(&out, a.conn))[0].id, idb);
    assert_eq!(changes(&msgs_for(&out, b.conn))[0].id, ida);
}

#[test]
fn failed_storage_closes_the_pusher_and_keeps_the_rest() {
    let path = temp_db();
    let mut hub = open_hub(&path, 100, 64);
    let (a, b) = (Device::new(1), Device::new(2));
    a.join(&mut hub, 0);
    b.join(&mut hub, 0);
    let id = DocId::new_random();
    let mut doc = a.doc();
    let c = edit(&mut doc, "name", "stored");
    hub.step(a.push(vec![chunk(id, DocKind::Customer, &mut doc, c)]));
    let stored_heads = doc.get_heads();

    hub.db().freeze_size_for_tests().unwrap();
    let big: String = (0..200_000).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
    let c = edit(&mut doc, "notes", &big);
    let out = hub.step(a.push(vec![chunk(id, DocKind::Customer, &mut doc, c)]));
    assert_eq!(error_code(&msgs_for(&out, a.conn)), Some(ErrorCode::StorageFull));
    assert!(msgs_for(&out, b.conn).is_empty());
    assert_eq!(hub.max_seq(), 1);
    assert_eq!(hub.connections(), 1);

    // b is unaffected and the cache still holds the acknowledged state.
    let out = hub.step(HubEvent::Message { conn: b.conn, msg: ClientMsg::Resync { docs: vec![id] } });
    let sent = changes(&msgs_for(&out, b.conn));
    assert_eq!(sent[0].heads, hashes_to_wire(&stored_heads));
    let out = hub.step(b.push(vec![chunk(id, DocKind::Customer, &mut doc, vec![])]));
    assert_eq!(acks(&msgs_for(&out, b.conn))[0].heads, hashes_to_wire(&stored_heads));
}

// ---- territories, rights, moves, revocation ------------------------------------------

use protocol::schema::{OrderSource, customer, order};

/// A new customer in `territory`, as `dev` creates it: (id, doc, the creating chunk).
fn new_customer(dev: &Device, territory: &str) -> (DocId, AutoCommit, DocChunk) {
    let mut doc = dev.doc();
    let new = customer::NewCustomer {
        name: format!("{territory}酒行"),
        territory: Some(territory.into()),
        ..Default::default()
    };
    customer::init(&mut doc, &new, 1_000, &dev.user).unwrap();
    doc.commit();
    let id = DocId::new_random();
    let bytes = doc.save();
    let c = chunk(id, DocKind::Customer, &mut doc, bytes);
    (id, doc, c)
}

fn new_order(dev: &Device, customer: DocId) -> (DocId, AutoCommit, DocChunk) {
    let mut doc = dev.doc();
    order::init(&mut doc, customer, OrderSource::Written, 1_000, &dev.user).unwrap();
    doc.commit();
    let id = DocId::new_random();
    let bytes = doc.save();
    let c = chunk(id, DocKind::Order, &mut doc, bytes);
    (id, doc, c)
}

fn refusals(msgs: &[ServerMsg]) -> Vec<protocol::wire::Refusal> {
    msgs.iter()
        .flat_map(|m| match m {
            ServerMsg::Refused { refusals } => refusals.clone(),
            _ => vec![],
        })
        .collect()
}

fn forgets(msgs: &[ServerMsg]) -> Vec<DocId> {
    msgs.iter()
        .flat_map(|m| match m {
            ServerMsg::Forget { docs, .. } => docs.clone(),
            _ => vec![],
        })
        .collect()
}

fn ids(chunks: &[DocChunk]) -> Vec<DocId> {
    let mut v: Vec<DocId> = chunks.iter().map(|c| c.id).collect();
    v.sort();
    v
}

fn sorted(mut v: Vec<DocId>) -> Vec<DocId> {
    v.sort();
    v
}

fn territory_of(hub: &Hub, id: DocId) -> Option<String> {
    hub.db().doc(id.as_bytes()).unwrap().unwrap().territory
}

#[test]
fn devices_receive_only_what_their_user_may_read() {
    let path = temp_db();
    let mut hub = open_hub(&path, 100, 64);
    let li = Device::of(1, "li", Role::Rep, Some("四川"));
    let wang = Device::of(2, "wang", Role::Rep, Some("贵州"));
    let logistics = Device::of(3, "liu", Role::Logistics, None);
    for d in [&li, &wang, &logistics] {
        d.join(&mut hub, 0);
    }
    let (gz, _, gz_chunk) = new_customer(&wang, "贵州");
    let (gz_order, _, gz_order_chunk) = new_order(&wang, gz);
    let out = hub.step(wang.push(vec![gz_order_chunk, gz_chunk]));
    assert_eq!(acks(&msgs_for(&out, wang.conn)).len(), 2, "{out:?}");
    assert!(msgs_for(&out, li.conn).is_empty(), "li may not see 贵州: {out:?}");
    assert_eq!(ids(&changes(&msgs_for(&out, logistics.conn))), sorted(vec![gz, gz_order]));
    assert_eq!(territory_of(&hub, gz_order).as_deref(), Some("贵州"), "the order follows its customer");

    let (sc, _, sc_chunk) = new_customer(&li, "四川");
    let out = hub.step(li.push(vec![sc_chunk]));
    assert!(msgs_for(&out, wang.conn).is_empty());

    // Catch-up from scratch and resync give nothing of the other territory.
    let li2 = Device::of(4, "li", Role::Rep, Some("四川"));
    let msgs = li2.join(&mut hub, 0);
    assert_eq!(ids(&changes(&msgs)), vec![sc]);
    let out = hub.step(HubEvent::Message { conn: li2.conn, msg: ClientMsg::Resync { docs: vec![gz, gz_order] } });
    assert!(changes(&msgs_for(&out, li2.conn)).is_empty());
    // Logistics reads customers and orders everywhere, but no visits.
    let msgs = Device::of(5, "liu", Role::Logistics, None).join(&mut hub, 0);
    assert_eq!(ids(&changes(&msgs)), sorted(vec![gz, gz_order, sc]));
}

#[test]
fn writes_out_of_reach_are_refused_alike_and_leave_no_trace_but_the_audit() {
    let path = temp_db();
    let mut hub = open_hub(&path, 100, 64);
    let li = Device::of(1, "li", Role::Rep, Some("四川"));
    let wang = Device::of(2, "wang", Role::Rep, Some("贵州"));
    li.join(&mut hub, 0);
    wang.join(&mut hub, 0);
    let (gz, mut gz_doc, gz_chunk) = new_customer(&wang, "贵州");
    hub.step(wang.push(vec![gz_chunk]));
    let stored = hub.db().max_seq().unwrap();

    // li learnt the document's id somehow and writes a customer of 贵州 there …
    let (_, mut planted, planted_chunk) = new_customer(&li, "贵州");
    let out = hub.step(li.push(vec![chunk(gz, DocKind::Customer, &mut planted, planted_chunk.changes)]));
    let existing = refusals(&msgs_for(&out, li.conn));
    assert!(msgs_for(&out, wang.conn).is_empty());
    // … and creates a customer in 贵州.
    let (new_gz, _, new_chunk) = new_customer(&li, "贵州");
    let out = hub.step(li.push(vec![new_chunk]));
    let created = refusals(&msgs_for(&out, li.conn));
    assert_eq!(existing.len(), 1);
    assert_eq!(created.len(), 1);
    let strip = |r: &protocol::wire::Refusal| {
        (r.kind, r.code, r.path.clone(), r.rule.clone(), r.message.clone(), r.server_heads.clone())
    };
    assert_eq!(strip(&existing[0]), strip(&created[0]), "a refusal must not tell whether the document exists");
    assert_eq!((existing[0].code, existing[0].rule.as_str()), (ErrorCode::Forbidden, "territory"));
    assert!(existing[0].server_heads.is_empty());
    // Missing dependencies on a document out of reach get what they get on an unknown id:
    // "the server holds nothing of it" (no heads), never the document's heads.
    let mut later = gz_doc.fork().with_actor(ActorId::from(li.actor.clone()));
    edit(&mut later, "phone", "1");
    let c = edit(&mut later, "phone", "2");
    let answer = |hub: &mut Hub, id: DocId, c: Vec<u8>, later: &mut AutoCommit| {
        let out = hub.step(li.push(vec![chunk(id, DocKind::Customer, later, c)]));
        let m = msgs_for(&out, li.conn);
        assert!(refusals(&m).is_empty(), "{m:?}");
        acks(&m).into_iter().map(|a| (a.heads, a.seq)).collect::<Vec<_>>()
    };
    let hidden = answer(&mut hub, gz, c.clone(), &mut later);
    assert_eq!(hidden, vec![(vec![], 0)]);
    assert_eq!(answer(&mut hub, DocId::new_random(), c, &mut later), hidden, "the same as for an unknown id");

    assert_eq!(hub.db().max_seq().unwrap(), stored, "nothing stored");
    assert!(hub.db().doc(new_gz.as_bytes()).unwrap().is_none());
    // Audited all the same: both refusals, and the attempt answered as for an unknown id.
    let audit = crate::admin::audit::of_user(hub.db(), "li", 10).unwrap();
    assert_eq!(audit.len(), 3);
    assert!(audit.iter().all(|e| e.outcome == "refused" && e.rule.as_deref() == Some("territory")));

    // wang's own protected fields: territory (role) and created_by (create-only).
    let c = {
        let before = gz_doc.get_heads();
        customer::reassign(&mut gz_doc, "四川", None).unwrap();
        gz_doc.commit();
        gz_doc.save_after(&before)
    };
    let out = hub.step(wang.push(vec![chunk(gz, DocKind::Customer, &mut gz_doc, c)]));
    let r = &refusals(&msgs_for(&out, wang.conn))[0];
    assert_eq!((r.code, r.path.as_str(), r.rule.as_str()), (ErrorCode::Forbidden, "territory", "role"));
    assert_eq!(r.server_heads.len(), 1, "a readable document's refusal carries the server heads");
    assert!(msgs_for(&out, li.conn).is_empty());
    assert_eq!(territory_of(&hub, gz).as_deref(), Some("贵州"));
}

#[test]
fn an_order_pushed_before_its_customer_takes_the_customer_territory() {
    let path = temp_db();
    let mut hub = open_hub(&path, 100, 64);
    let li = Device::of(1, "li", Role::Rep, Some("四川"));
    let mgr = Device::of(2, "zhang", Role::Manager, Some("四川"));
    li.join(&mut hub, 0);
    mgr.join(&mut hub, 0);
    let (c, _, c_chunk) = new_customer(&li, "四川");
    let (o, _, o_chunk) = new_order(&li, c);
    // Separate frames, order first: the order is the writer's territory until the customer
    // arrives.
    let out = hub.step(li.push(vec![o_chunk]));
    assert_eq!(acks(&msgs_for(&out, li.conn))[0].id, o);
    assert_eq!(territory_of(&hub, o).as_deref(), Some("四川"));
    let out = hub.step(li.push(vec![c_chunk]));
    assert_eq!(acks(&msgs_for(&out, li.conn))[0].id, c);
    assert_eq!(ids(&changes(&msgs_for(&out, mgr.conn))), vec![c]);
    let row = hub.db().doc(o.as_bytes()).unwrap().unwrap();
    assert_eq!(row.parent.as_deref(), Some(c.as_bytes().as_slice()));
    assert_eq!(row.author.as_deref(), Some("li"));
}

#[test]
fn a_reassignment_moves_the_customer_and_its_records_for_every_device() {
    let path = temp_db();
    let mut hub = open_hub(&path, 100, 64);
    let li = Device::of(1, "li", Role::Rep, Some("四川"));
    let wang = Device::of(2, "wang", Role::Rep, Some("贵州"));
    li.join(&mut hub, 0);
    wang.join(&mut hub, 0);
    let (c, _, c_chunk) = new_customer(&li, "四川");
    let (o, _, o_chunk) = new_order(&li, c);
    let (other, _, other_chunk) = new_customer(&li, "四川");
    hub.step(li.push(vec![c_chunk, o_chunk, other_chunk]));
    let cursor_before = hub.max_seq();

    let cmd =
        crate::admin::AdminCommand::Reassign { customer: c, territory: "贵州".into(), owner: Some("wang".into()) };
    let id = hub.db().enqueue_admin_command(&serde_json::to_string(&cmd).unwrap(), 0).unwrap();
    let out = hub.step(HubEvent::Tick { now: 0 });
    let done = hub.db().admin_command(id).unwrap().unwrap();
    assert_eq!(done.ok, Some(true), "{:?}", done.result);
    assert!(done.result.unwrap().contains("1 of its records (visits, orders) followed"));
    // Live: li forgets both; wang receives both whole, with a cursor.
    assert_eq!(sorted(forgets(&msgs_for(&out, li.conn))), sorted(vec![c, o]));
    assert!(changes(&msgs_for(&out, li.conn)).is_empty());
    let to_wang = msgs_for(&out, wang.conn);
    let mut replicas = Default::default();
    apply(&mut replicas, &changes(&to_wang));
    assert_eq!(ids(&changes(&to_wang)), sorted(vec![c, o]));
    assert!(matches!(to_wang.last(), Some(ServerMsg::Changes { cursor: Some(s), .. }) if *s == hub.max_seq()));
    let moved = customer::read(replicas.get(&c).unwrap(), c).unwrap();
    assert_eq!((moved.territory.as_deref(), moved.owner.as_deref()), (Some("贵州"), Some("wang")));
    assert_eq!(territory_of(&hub, o).as_deref(), Some("贵州"));

    // Offline devices learn it on their next hello, from their old cursor.
    let li_laptop = Device::of(3, "li", Role::Rep, Some("四川"));
    let msgs = li_laptop.join(&mut hub, cursor_before);
    assert!(matches!(msgs[0], ServerMsg::Forget { .. }), "forget comes first: {msgs:?}");
    assert_eq!(sorted(forgets(&msgs)), sorted(vec![c, o]));
    assert!(changes(&msgs).is_empty());
    let wang_laptop = Device::of(4, "wang", Role::Rep, Some("贵州"));
    let msgs = wang_laptop.join(&mut hub, cursor_before);
    assert!(forgets(&msgs).is_empty());
    let mut replicas = Default::default();
    apply(&mut replicas, &changes(&msgs));
    assert_eq!(ids(&changes(&msgs)), sorted(vec![c, o]), "whole documents, though older than the cursor");
    // A device that never had them is not told about them.
    let fresh = Device::of(5, "li", Role::Rep, Some("四川"));
    let msgs = fresh.join(&mut hub, 0);
    assert!(forgets(&msgs).is_empty());
    assert_eq!(ids(&changes(&msgs)), vec![other]);

    // The audit trail names the administrator.
    let trail = crate::admin::audit::of_doc(hub.db(), c, 10).unwrap();
    let last = trail.last().unwrap();
    assert_eq!((last.user.as_str(), last.device.as_deref()), (crate::admin::ADMIN_AUTHOR, None));
    assert_eq!(last.fields, vec!["owner", "territory"]);
    assert!(last.changes.iter().any(|v| v.field == "territory" && v.old.as_deref() == Some("四川")));

    // The same move again changes nothing and tells no one.
    let id = hub.db().enqueue_admin_command(&serde_json::to_string(&cmd).unwrap(), 0).unwrap();
    let seq = hub.max_seq();
    let out = hub.step(HubEvent::Tick { now: 0 });
    assert!(out.is_empty(), "{out:?}");
    assert!(hub.db().admin_command(id).unwrap().unwrap().result.unwrap().contains("already in"));
    assert_eq!(hub.max_seq(), seq);

    // Bad commands fail with a reason.
    for cmd in [
        crate::admin::AdminCommand::Reassign { customer: o, territory: "四川".into(), owner: None },
        crate::admin::AdminCommand::Reassign { customer: DocId::new_random(), territory: "四川".into(), owner: None },
        crate::admin::AdminCommand::Reassign { customer: c, territory: "四川".into(), owner: Some("nobody".into()) },
    ] {
        let id = hub.db().enqueue_admin_command(&serde_json::to_string(&cmd).unwrap(), 0).unwrap();
        hub.step(HubEvent::Tick { now: 0 });
        assert_eq!(hub.db().admin_command(id).unwrap().unwrap().ok, Some(false), "{cmd:?}");
    }
}

#[test]
fn a_manager_reassigns_from_a_device() {
    let path = temp_db();
    let mut hub = open_hub(&path, 100, 64);
    let li = Device::of(1, "li", Role::Rep, Some("四川"));
    let wang = Device::of(2, "wang", Role::Rep, Some("贵州"));
    let mut mgr = Device::of(3, "zhang", Role::Manager, Some("四川"));
    mgr.territory = Some("四川".into());
    for d in [&li, &wang] {
        d.join(&mut hub, 0);
    }
    mgr.register(&hub);
    let mut session = mgr.session();
    session.territories = vec!["四川".into(), "贵州".into()];
    hub.step(HubEvent::Connected { conn: mgr.conn, session });
    hub.step(mgr.hello(0));
    let (c, mut doc, c_chunk) = new_customer(&li, "四川");
    hub.step(li.push(vec![c_chunk]));
    let mut mine = doc.fork().with_actor(ActorId::from(mgr.actor.clone()));
    let before = mine.get_heads();
    customer::reassign(&mut mine, "贵州", Some("wang")).unwrap();
    mine.commit();
    let bytes = mine.save_after(&before);
    let out = hub.step(mgr.push(vec![chunk(c, DocKind::Customer, &mut mine, bytes)]));
    assert_eq!(acks(&msgs_for(&out, mgr.conn)).len(), 1, "{out:?}");
    assert_eq!(forgets(&msgs_for(&out, li.conn)), vec![c]);
    assert_eq!(ids(&changes(&msgs_for(&out, wang.conn))), vec![c]);
    // A rep may not do the same: the customer is out of li's reach now, so the edit is
    // answered as for a document the server does not hold (its dependencies are unknown),
    // and the whole document, sent again, is refused.
    let c2 = edit(&mut doc, "territory", "贵州");
    let out = hub.step(li.push(vec![chunk(c, DocKind::Customer, &mut doc, c2)]));
    assert_eq!(acks(&msgs_for(&out, li.conn)).iter().map(|a| (a.heads.len(), a.seq)).collect::<Vec<_>>(), [(0, 0)]);
    let whole = doc.save();
    let out = hub.step(li.push(vec![chunk(c, DocKind::Customer, &mut doc, whole)]));
    assert_eq!(refusals(&msgs_for(&out, li.conn))[0].rule, "territory");
}

#[test]
fn expired_logged_out_and_disabled_sessions_are_closed() {
    let path = temp_db();
    let mut hub = open_hub(&path, 100, 64);
    let (a, b, c, d) = (
        Device::of(1, "li", Role::Rep, Some("四川")),
        Device::of(2, "wang", Role::Rep, Some("贵州")),
        Device::of(3, "zhao", Role::Rep, Some("贵州")),
        Device::of(4, "qian", Role::Rep, Some("贵州")),
    );
    for (dev, expires, token) in [(&a, 5_000, "ta"), (&b, i64::MAX, "tb"), (&c, i64::MAX, "tc"), (&d, i64::MAX, "td")] {
        dev.register(&hub);
        let mut s = dev.session();
        s.expires_at = expires;
        s.token_hash = token.into();
        hub.step(HubEvent::Connected { conn: dev.conn, session: s });
        hub.step(dev.hello(0));
    }
    let out = hub.step(HubEvent::Tick { now: 4_999 });
    assert!(out.is_empty());
    let out = hub.step(HubEvent::Tick { now: 5_000 });
    assert_eq!(error_code(&msgs_for(&out, a.conn)), Some(ErrorCode::TokenExpired));
    let out = hub.step(HubEvent::TokenRevoked { token_hash: "tb".into() });
    assert_eq!(error_code(&msgs_for(&out, b.conn)), Some(ErrorCode::Unauthorized));
    let cmd = crate::admin::AdminCommand::CloseUser { user: "zhao".into() };
    hub.db().enqueue_admin_command(&serde_json::to_string(&cmd).unwrap(), 0).unwrap();
    let cmd = crate::admin::AdminCommand::CloseDevice { device: d.id };
    hub.db().enqueue_admin_command(&serde_json::to_string(&cmd).unwrap(), 0).unwrap();
    let out = hub.step(HubEvent::Tick { now: 5_001 });
    assert_eq!(error_code(&msgs_for(&out, c.conn)), Some(ErrorCode::Revoked));
    assert_eq!(error_code(&msgs_for(&out, d.conn)), Some(ErrorCode::Revoked));
    assert_eq!(hub.connections(), 0);
}

#[test]
fn the_server_actor_cannot_be_claimed() {
    let path = temp_db();
    let mut hub = open_hub(&path, 100, 64);
    let mut thief = Device::new(1);
    thief.actor = crate::sync::hub::SERVER_ACTOR.to_vec();
    assert_eq!(error_code(&thief.join(&mut hub, 0)), Some(ErrorCode::ActorNotYours));
}

#[test]
fn facts_of_documents_stored_before_version_2_are_computed_at_start() {
    let path = temp_db();
    let li = Device::of(1, "li", Role::Rep, Some("四川"));
    let (c, _, c_chunk) = new_customer(&li, "四川");
    let (o, _, o_chunk) = new_order(&li, c);
    {
        let mut hub = open_hub(&path, 100, 64);
        li.join(&mut hub, 0);
        hub.step(li.push(vec![o_chunk, c_chunk]));
    }
    // What a version-1 database looks like: no facts.
    let raw = rusqlite::Connection::open(&*path).unwrap();
    raw.execute("UPDATE docs SET territory = NULL, parent = NULL, author = NULL, facts_known = 0", []).unwrap();
    drop(raw);
    let mut hub = open_hub(&path, 100, 64);
    assert_eq!(territory_of(&hub, c).as_deref(), Some("四川"));
    assert_eq!(territory_of(&hub, o).as_deref(), Some("四川"));
    let msgs = Device::of(2, "li", Role::Rep, Some("四川")).join(&mut hub, 0);
    assert_eq!(ids(&changes(&msgs)), sorted(vec![c, o]));
}

// ---- post-sync validation and the order's one-time effects -------------------------

use protocol::schema::verdict::{self, verdict_id};

/// Publish the example policy through the admin command queue (as `policy import` does).
fn publish_example_policy(hub: &mut Hub) -> Vec<Outgoing> {
    let policy = protocol::pricing::parse_policy_csv(include_str!("../../../examples/policy.csv")).unwrap();
    let cmd = crate::admin::AdminCommand::PublishPolicy { policy: Box::new(policy) };
    hub.db().enqueue_admin_command(&serde_json::to_string(&cmd).unwrap(), 0).unwrap();
    let out = hub.run_admin_commands(crate::identity::accounts::now_ms());
    let done = hub.db().admin_command(1).unwrap().unwrap();
    assert_eq!(done.ok, Some(true), "{:?}", done.result);
    out
}

/// Apply what a device received to its replicas; the order's verdict if it was among it.
fn verdict_in(
    replicas: &mut std::collections::HashMap<DocId, AutoCommit>,
    chunks: &[DocChunk],
    order: DocId,
) -> Option<verdict::OrderVerdict> {
    let mine: Vec<DocChunk> = chunks.iter().filter(|c| c.id == verdict_id(order)).cloned().collect();
    apply(replicas, &mine);
    let c = mine.first()?;
    assert_eq!(c.kind, DocKind::Verdict);
    Some(verdict::read(&replicas[&c.id]).unwrap())
}

#[test]
fn orders_are_checked_after_sync_and_assigned_exactly_once() {
    let path = temp_db();
    let mut hub = open_hub(&path, 100, 64);
    let li = Device::of(1, "li", Role::Rep, Some("四川"));
    let zhang = Device::of(2, "zhang", Role::Manager, Some("四川"));
    let sun = Device::of(3, "sun", Role::Logistics, None);
    for d in [&li, &zhang, &sun] {
        d.join(&mut hub, 0);
    }
    let (mut at_li, mut at_zhang, mut at_sun) = Default::default();
    let out = publish_example_policy(&mut hub);
    assert_eq!(changes(&msgs_for(&out, li.conn)).len(), 1, "every device gets the policy at once");

    // li: a restaurant customer and an order 7% below the wholesale price (rep's floor: 3%).
    let (c, mut c_doc, _) = new_customer(&li, "四川");
    customer::set(&mut c_doc, "channel", "restaurant", 1_000, "li").unwrap();
    c_doc.commit();
    let c_chunk = {
        let bytes = c_doc.save();
        chunk(c, DocKind::Customer, &mut c_doc, bytes)
    };
    let (o, mut o_doc, _) = new_order(&li, c);
    let line = order::NewLine { id: "l1".into(), sku: "SC-52-500".into(), spec: None, qty: 6, unit_price_fen: 50_000 };
    order::add_line(&mut o_doc, &line).unwrap();
    order::set_priced_with(&mut o_doc, 1).unwrap();
    order::record_event(&mut o_doc, "submitted", 2_000, "li").unwrap();
    o_doc.commit();
    let o_chunk = {
        let bytes = o_doc.save();
        chunk(o, DocKind::Order, &mut o_doc, bytes)
    };
    let out = hub.step(li.push(vec![o_chunk.clone(), c_chunk]));
    let to_li = msgs_for(&out, li.conn);
    let v = verdict_in(&mut at_li, &changes(&to_li), o).expect("the pusher gets the verdict");
    assert!(matches!(to_li.last(), Some(ServerMsg::Ack { .. })), "…before its Ack: {to_li:?}");
    assert_eq!(
        (v.verdict.as_str(), v.required.as_slice(), v.policy_version, v.stale),
        ("needs_approval", &[Role::Manager][..], 1, false)
    );
    assert_eq!(v.assigned_at, None);
    assert_eq!(verdict_in(&mut at_zhang, &changes(&msgs_for(&out, zhang.conn)), o), Some(v.clone()), "the manager too");
    assert_eq!(verdict_in(&mut at_sun, &changes(&msgs_for(&out, sun.conn)), o), Some(v.clone()), "logistics too");
    let order_now = order::read(&o_doc, o).unwrap();
    assert_eq!(order_now.lines[0].unit_price_fen, 50_000, "the order is never changed");

    // Resending everything changes nothing: no new sequence number, no new verdict.
    let seq = hub.max_seq();
    let out = hub.step(li.push(vec![o_chunk.clone()]));
    assert_eq!(hub.max_seq(), seq);
    assert!(changes(&out.iter().flat_map(|o| [o.msg.clone()]).collect::<Vec<_>>()).is_empty());

    // The manager approves the current content: confirmed, assigned once.
    let mut m_doc = o_doc.fork().with_actor(ActorId::from(zhang.actor.clone()));
    let before = m_doc.get_heads();
    let approval = order::OrderEvent {
        kind: "approved".into(),
        at: 3_000,
        by: "zhang".into(),
        role: Some("manager".into()),
        hash: Some(v.content_hash.clone()),
        ..Default::default()
    };
    order::append_event(&mut m_doc, &approval).unwrap();
    m_doc.commit();
    let approve = {
        let bytes = m_doc.save_after(&before);
        chunk(o, DocKind::Order, &mut m_doc, bytes)
    };
    let out = hub.step(zhang.push(vec![approve.clone()]));
    let assigned = verdict_in(&mut at_sun, &changes(&msgs_for(&out, sun.conn)), o).expect("logistics sees the verdict");
    assert!(assigned.assigned_at.is_some());
    assert_eq!(hub.db().notifications(None, None, 100).unwrap().len(), 2);
    assert!(hub.db().assignment(o.as_bytes()).unwrap().is_some());

    // Reconnect and resend (whole document), then another step: no duplicate effects.
    let zhang2 = Device::of(4, "zhang", Role::Manager, Some("四川"));
    zhang2.join(&mut hub, 0);
    let seq = hub.max_seq();
    hub.step(zhang2.push(vec![{
        let bytes = m_doc.save();
        chunk(o, DocKind::Order, &mut m_doc, bytes)
    }]));
    assert_eq!(hub.max_seq(), seq);
    let mut s_doc = m_doc.fork().with_actor(ActorId::from(sun.actor.clone()));
    let before = s_doc.get_heads();
    order::append_event(
        &mut s_doc,
        &order::OrderEvent {
            kind: "shipped".into(),
            at: 4_000,
            by: "sun".into(),
            carrier: Some("顺丰".into()),
            tracking: Some("SF1".into()),
            ..Default::default()
        },
    )
    .unwrap();
    s_doc.commit();
    let out = hub.step(sun.push(vec![{
        let bytes = s_doc.save_after(&before);
        chunk(o, DocKind::Order, &mut s_doc, bytes)
    }]));
    assert!(
        verdict_in(&mut at_li, &changes(&msgs_for(&out, li.conn)), o).is_none(),
        "nothing the verdict says changed"
    );
    assert_eq!(hub.db().notifications(None, None, 100).unwrap().len(), 2);
    assert_eq!(hub.max_seq(), seq + 1);
}

#[test]
fn verdict_ids_cannot_be_squatted() {
    let path = temp_db();
    let mut hub = open_hub(&path, 100, 64);
    let li = Device::of(1, "li", Role::Rep, Some("四川"));
    li.join(&mut hub, 0);
    let (c, _, c_chunk) = new_customer(&li, "四川");
    let (o, _, o_chunk) = new_order(&li, c);
    hub.step(li.push(vec![c_chunk, o_chunk]));
    // Another order at the first one's verdict id.
    let (_, mut doc, _) = new_order(&li, c);
    let squat = {
        let bytes = doc.save();
        chunk(verdict_id(o), DocKind::Order, &mut doc, bytes)
    };
    let out = hub.step(li.push(vec![squat]));
    let r = refusals(&msgs_for(&out, li.conn));
    assert_eq!(r.len(), 1);
    assert_eq!((r[0].code, r[0].rule.as_str()), (ErrorCode::Forbidden, "reserved-id"));
}

#[test]
fn an_order_is_rechecked_when_its_customer_arrives_or_changes_channel() {
    let path = temp_db();
    let mut hub = open_hub(&path, 100, 64);
    let li = Device::of(1, "li", Role::Rep, Some("四川"));
    li.join(&mut hub, 0);
    publish_example_policy(&mut hub);
    let mut at_li = Default::default();
    // The order arrives first: its customer is not on the server — no verdict, no effects
    // until it is (it would be priced with nothing the server knows).
    let (c, mut c_doc, _) = new_customer(&li, "四川");
    customer::set(&mut c_doc, "channel", "restaurant", 1_000, "li").unwrap();
    c_doc.commit();
    let (o, mut o_doc, _) = new_order(&li, c);
    let line = order::NewLine { id: "l1".into(), sku: "SC-52-500".into(), spec: None, qty: 6, unit_price_fen: 53_900 };
    order::add_line(&mut o_doc, &line).unwrap();
    order::record_event(&mut o_doc, "submitted", 2_000, "li").unwrap();
    o_doc.commit();
    let o_chunk = {
        let bytes = o_doc.save();
        chunk(o, DocKind::Order, &mut o_doc, bytes)
    };
    let out = hub.step(li.push(vec![o_chunk]));
    assert!(verdict_in(&mut at_li, &changes(&msgs_for(&out, li.conn)), o).is_none());
    // The customer arrives: re-checked at the wholesale price, ok, confirmed and assigned.
    let c_chunk = {
        let bytes = c_doc.save();
        chunk(c, DocKind::Customer, &mut c_doc, bytes)
    };
    let out = hub.step(li.push(vec![c_chunk]));
    let v = verdict_in(&mut at_li, &changes(&msgs_for(&out, li.conn)), o).unwrap();
    assert_eq!((v.verdict.as_str(), v.assigned_at.is_some()), ("ok", true));
    // A later channel change re-checks only orders not yet assigned: this one keeps its verdict.
    let before = c_doc.get_heads();
    customer::set(&mut c_doc, "channel", "direct-store", 3_000, "li").unwrap();
    c_doc.commit();
    let c_chunk = {
        let bytes = c_doc.save_after(&before);
        chunk(c, DocKind::Customer, &mut c_doc, bytes)
    };
    let out = hub.step(li.push(vec![c_chunk]));
    assert!(verdict_in(&mut at_li, &changes(&msgs_for(&out, li.conn)), o).is_none());
}

mod aftersales;

/// A refusal names the server's heads, and the device restores the document to them. A
/// device may lack some: its earlier push was accepted on a connection that died before
/// the answer arrived, and others changed the document since. Restored to the heads it
/// knows, it would drop its own changes that the server holds, and its next change would
/// re-use their sequence numbers (the server, and every device, then fail on `duplicate
/// seq`). So the hub first sends the pusher what it lacks of the document.
#[test]
fn a_refusal_comes_after_the_changes_the_pusher_lacks() {
    let path = temp_db();
    let mut hub = open_hub(&path, 100, 64);
    let li = Device::of(1, "li", Role::Rep, Some("四川"));
    let boss = Device::new(2);
    li.join(&mut hub, 0);
    boss.join(&mut hub, 0);
    let (id, mut li_doc, created) = new_customer(&li, "四川");
    // Accepted, but li never reads the answer, nor the change that follows.
    let out = hub.step(li.push(vec![created]));
    assert_eq!(acks(&msgs_for(&out, li.conn))[0].seq, 1);
    let mut boss_doc = li_doc.fork().with_actor(ActorId::from(boss.actor.clone()));
    let phone = edit(&mut boss_doc, "phone", "13800000000");
    let out = hub.step(boss.push(vec![chunk(id, DocKind::Customer, &mut boss_doc, phone)]));
    assert_eq!(acks(&msgs_for(&out, boss.conn))[0].seq, 2);

    // li, believing the server holds nothing, pushes its creation again with a change a rep
    // may not make.
    let before = li_doc.get_heads();
    customer::reassign(&mut li_doc, "贵州", None).unwrap();
    li_doc.commit();
    assert_ne!(li_doc.get_heads(), before);
    let everything = li_doc.save_after(&[]);
    let out = hub.step(li.push(vec![chunk(id, DocKind::Customer, &mut li_doc, everything)]));
    let msgs = msgs_for(&out, li.conn);
    let r = refusals(&msgs).pop().expect("refused");
    assert_eq!((r.path.as_str(), r.rule.as_str()), ("territory", "role"));
    assert_eq!(r.server_heads, hashes_to_wire(&boss_doc.get_heads()));
    let refused_at = msgs.iter().position(|m| matches!(m, ServerMsg::Refused { .. })).unwrap();
    let sent = changes(&msgs[..refused_at]);
    assert_eq!(ids(&sent), vec![id], "what li lacks comes before the refusal: {msgs:?}");
    for c in &sent {
        li_doc.load_incremental(&c.changes).unwrap();
    }
    let server_heads = protocol::wire::hashes_from_wire(&r.server_heads);
    assert!(server_heads.iter().all(|h| li_doc.get_change_by_hash(h).is_some()), "li holds the server heads");

    // Restored to them, li's next change follows its own changes the server holds.
    let mut restored = li_doc.fork_at(&server_heads).unwrap();
    restored.set_actor(ActorId::from(li.actor.clone()));
    let notes = edit(&mut restored, "notes", "改天再来");
    let out = hub.step(li.push(vec![chunk(id, DocKind::Customer, &mut restored, notes)]));
    let msgs = msgs_for(&out, li.conn);
    assert_eq!(error_code(&msgs), None, "{msgs:?}");
    assert_eq!(acks(&msgs)[0].seq, 3);

    // A pusher that lacks nothing gets the refusal alone.
    let before = restored.get_heads();
    customer::reassign(&mut restored, "贵州", None).unwrap();
    restored.commit();
    let c = restored.save_after(&before);
    let out = hub.step(li.push(vec![chunk(id, DocKind::Customer, &mut restored, c)]));
    let msgs = msgs_for(&out, li.conn);
    assert!(matches!(msgs.as_slice(), [ServerMsg::Refused { .. }]), "{msgs:?}");
}
