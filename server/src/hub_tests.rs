//! The sync protocol of [`Hub`], without a network.

use crate::conn_id::ConnId;
use crate::db::{Db, NewUser};
use crate::hub::{Hub, HubSettings};
use crate::hub_event::{HubEvent, Outgoing};
use crate::server_stats::ServerStats;
use crate::session::Session;
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

fn temp_db() -> TempDb {
    let dir = std::env::temp_dir().join(format!("jiuloop-hub-{}", Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    TempDb(dir.join("jiuloop.db"))
}

fn open_hub(path: &Path, cache_docs: usize, compact_after: u64) -> Hub {
    let db = Db::open(path).unwrap();
    Hub::new(db, HubSettings { cache_docs, compact_after }, Arc::new(ServerStats::default())).unwrap()
}

/// A simulated device: its own actor and local replicas.
struct Device {
    id: Uuid,
    actor: Vec<u8>,
    conn: ConnId,
}

impl Device {
    fn new(conn: u64) -> Self {
        Device { id: Uuid::new_v4(), actor: Uuid::new_v4().as_bytes().to_vec(), conn: ConnId(conn) }
    }

    fn doc(&self) -> AutoCommit {
        AutoCommit::new().with_actor(ActorId::from(self.actor.clone()))
    }

    fn session(&self) -> Session {
        Session { user: format!("user{}", self.conn.0), role: Role::Rep, territory: None, device_id: self.id }
    }

    /// Connect and say hello; returns what the hub sent this connection.
    fn join(&self, hub: &mut Hub, cursor: u64) -> Vec<ServerMsg> {
        self.register(hub);
        hub.handle(HubEvent::Connected { conn: self.conn, session: self.session() });
        let out = hub.handle(self.hello(cursor));
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
                    role: "rep".into(),
                    territory: None,
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
    let out = hub.handle(a.push(vec![chunk(id, DocKind::Customer, &mut doc, bytes.clone())]));
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
    let out = hub.handle(a.push(vec![chunk(id, DocKind::Customer, &mut doc, bytes)]));
    assert_eq!(acks(&msgs_for(&out, a.conn)), vec![DocAck { id, heads, seq: 0 }]);
    assert!(msgs_for(&out, b.conn).is_empty());
    assert_eq!(hub.max_seq(), 1);

    // A disconnected connection receives nothing.
    hub.handle(HubEvent::Disconnected { conn: b.conn });
    let more = edit(&mut doc, "class", "A");
    let out = hub.handle(a.push(vec![chunk(id, DocKind::Customer, &mut doc, more)]));
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
    hub.handle(a.push(vec![chunk(d1, DocKind::Customer, &mut doc1, c)])); // seq 1
    let c = edit(&mut doc2, "note", "y");
    hub.handle(a.push(vec![chunk(d2, DocKind::Visit, &mut doc2, c)])); // seq 2
    let c = edit(&mut doc1, "class", "B");
    hub.handle(a.push(vec![chunk(d1, DocKind::Customer, &mut doc1, c)])); // seq 3

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
        let c = edit(&mut doc, &format!("k{i}"), "v");
        let out = hub.handle(a.push(vec![chunk(id, DocKind::Order, &mut doc, c)]));
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
    let c = edit(&mut doc, "after", "restart");
    let out = hub.handle(a.push(vec![chunk(id, DocKind::Order, &mut doc, c)]));
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
    let out = hub.handle(a.push(vec![chunk(id, DocKind::Customer, &mut doc, c)]));
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
    let out = hub.handle(a.push(vec![good.clone(), bad]));
    assert_eq!(msgs_for(&out, a.conn).len(), 1);
    assert_eq!(error_code(&msgs_for(&out, a.conn)), Some(ErrorCode::BadChanges));
    assert!(msgs_for(&out, b.conn).is_empty());
    assert_eq!(hub.db().doc_count().unwrap(), 0);
    assert_eq!(hub.max_seq(), 0);
    // a is gone; b carries on, and the same good chunk is stored with seq 1.
    let out = hub.handle(a.push(vec![good.clone()]));
    assert!(out.is_empty());
    let mut bdoc = b.doc();
    bdoc.load_incremental(&c).unwrap();
    let c2 = edit(&mut bdoc, "class", "A");
    let both = [c, c2].concat();
    let out = hub.handle(b.push(vec![chunk(good_id, DocKind::Customer, &mut bdoc, both)]));
    // a's change was never stored, so b may not push it as new.
    assert!(matches!(msgs_for(&out, b.conn)[0], ServerMsg::Refused { .. }));
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
    hub.handle(a.push(vec![chunk(id, DocKind::Customer, &mut doc, c)]));
    let server_heads = hashes_to_wire(&doc.get_heads());
    let c = edit(&mut doc, "lines", "y");
    let out = hub.handle(a.push(vec![chunk(id, DocKind::Order, &mut doc, c)]));
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
    let first = edit(&mut doc, "a", "1");
    hub.handle(a.push(vec![chunk(id, DocKind::Visit, &mut doc, first)]));
    let server_heads = hashes_to_wire(&doc.get_heads());
    let _second = edit(&mut doc, "b", "2");
    let third = edit(&mut doc, "c", "3");
    let out = hub.handle(a.push(vec![chunk(id, DocKind::Visit, &mut doc, third)]));
    assert_eq!(acks(&msgs_for(&out, a.conn)), vec![DocAck { id, heads: server_heads.clone(), seq: 0 }]);
    assert!(msgs_for(&out, b.conn).is_empty());
    // Re-push from the server's heads.
    let rest = doc.save_after(&protocol::wire::hashes_from_wire(&server_heads));
    let out = hub.handle(a.push(vec![chunk(id, DocKind::Visit, &mut doc, rest)]));
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
            let c = edit(doc, &format!("r{round}"), "v");
            let out = hub.handle(a.push(vec![chunk(*id, DocKind::Order, doc, c)]));
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
            let c = edit(&mut doc, &format!("k{i}"), "v");
            hub.handle(a.push(vec![chunk(id, DocKind::Customer, &mut doc, c)]));
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
    let c = edit(&mut doc, "after", "restart");
    let out = hub.handle(a.push(vec![chunk(id, DocKind::Customer, &mut doc, c)]));
    assert_eq!(acks(&msgs_for(&out, a.conn))[0].seq, 4);
}

#[test]
fn protocol_order_is_enforced() {
    let path = temp_db();
    let mut hub = open_hub(&path, 100, 64);
    let a = Device::new(1);
    hub.handle(HubEvent::Connected { conn: a.conn, session: a.session() });
    let out = hub.handle(a.push(vec![]));
    assert_eq!(error_code(&msgs_for(&out, a.conn)), Some(ErrorCode::UnexpectedMessage));
    assert_eq!(hub.connections(), 0);

    // Hello for another device than the token's.
    let mut b = Device::new(2);
    hub.handle(HubEvent::Connected { conn: b.conn, session: b.session() });
    b.id = Uuid::new_v4();
    let out = hub.handle(b.hello(0));
    assert_eq!(error_code(&msgs_for(&out, b.conn)), Some(ErrorCode::Unauthorized));

    // A second hello.
    let c = Device::new(3);
    c.join(&mut hub, 0);
    let out = hub.handle(c.hello(0));
    assert_eq!(error_code(&msgs_for(&out, c.conn)), Some(ErrorCode::UnexpectedMessage));
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
        let c = edit(&mut doc, &format!("k{i}"), "v");
        hub.handle(a.push(vec![chunk(id, DocKind::Customer, &mut doc, c)]));
    }
    let out =
        hub.handle(HubEvent::Message { conn: a.conn, msg: ClientMsg::Resync { docs: vec![id, DocId::new_random()] } });
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
    let ca = edit(&mut da, "x", "1");
    let cb = edit(&mut db, "y", "2");
    let out = hub.handle_batch(vec![
        a.push(vec![chunk(ida, DocKind::Order, &mut da, ca)]),
        b.push(vec![chunk(idb, DocKind::Order, &mut db, cb)]),
    ]);
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
    hub.handle(a.push(vec![chunk(id, DocKind::Customer, &mut doc, c)]));
    let stored_heads = doc.get_heads();

    hub.db().freeze_size_for_tests().unwrap();
    let big: String = (0..200_000).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
    let c = edit(&mut doc, "notes", &big);
    let out = hub.handle(a.push(vec![chunk(id, DocKind::Customer, &mut doc, c)]));
    assert_eq!(error_code(&msgs_for(&out, a.conn)), Some(ErrorCode::Internal));
    assert!(msgs_for(&out, b.conn).is_empty());
    assert_eq!(hub.max_seq(), 1);
    assert_eq!(hub.connections(), 1);

    // b is unaffected and the cache still holds the acknowledged state.
    let out = hub.handle(HubEvent::Message { conn: b.conn, msg: ClientMsg::Resync { docs: vec![id] } });
    let sent = changes(&msgs_for(&out, b.conn));
    assert_eq!(sent[0].heads, hashes_to_wire(&stored_heads));
    let out = hub.handle(b.push(vec![chunk(id, DocKind::Customer, &mut doc, vec![])]));
    assert_eq!(acks(&msgs_for(&out, b.conn))[0].heads, hashes_to_wire(&stored_heads));
}
