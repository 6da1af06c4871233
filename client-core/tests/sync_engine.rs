//! The client core without any IO: a replica and its sync engine driven by scripted
//! server frames (built from what another device pushes), with an in-memory store that
//! applies store ops the way the native and browser drivers do.

// In the browser (cargo test --target wasm32-unknown-unknown, headless Chromium) the
// same tests run under wasm-bindgen-test.
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

use automerge::ActorId;
use client_core::{LocalStore, MemStore, Replica, SyncEngine, SyncError};
use protocol::schema::customer::NewCustomer;
use protocol::schema::order::NewLine;
use protocol::wire::{self, ClientMsg, DocAck, DocChunk, Refusal, ServerMsg};
use protocol::{DocId, DocKind, ErrorCode};
use uuid::Uuid;

struct Device {
    replica: Replica,
    engine: SyncEngine,
    store: MemStore,
}

impl Device {
    fn new() -> Self {
        let actor = ActorId::from(Uuid::new_v4().as_bytes());
        Device {
            replica: Replica::load(actor, "li", vec![], 0, vec![]).unwrap(),
            engine: SyncEngine::new(Uuid::new_v4(), "test"),
            store: MemStore::default(),
        }
    }

    fn persist(&mut self) {
        let ops = self.replica.take_store_ops();
        self.store.apply(&ops).unwrap();
    }

    fn customer(&mut self, name: &str) -> DocId {
        let id = self.replica.create_customer(&NewCustomer { name: name.into(), ..Default::default() }, 1_000).unwrap();
        self.persist();
        id
    }

    fn connect(&mut self) -> Vec<ClientMsg> {
        let frames = self.engine.connected(&mut self.replica).unwrap();
        self.persist();
        decode_all(frames)
    }

    fn receive(&mut self, msg: ServerMsg) -> Result<Vec<ClientMsg>, SyncError> {
        let frame = wire::encode(&msg).unwrap();
        let out = self.engine.receive(&mut self.replica, &frame, 5_000);
        self.persist();
        out.map(decode_all)
    }

    fn quiescent(&mut self) -> bool {
        self.engine.is_quiescent(&mut self.replica)
    }
}

fn decode_all(frames: Vec<Vec<u8>>) -> Vec<ClientMsg> {
    frames.iter().map(|f| wire::decode(f).unwrap()).collect()
}

fn pushed(msgs: &[ClientMsg]) -> Vec<DocChunk> {
    msgs.iter()
        .flat_map(|m| match m {
            ClientMsg::Push { docs } => docs.clone(),
            _ => vec![],
        })
        .collect()
}

/// What a server acknowledging these chunks would answer.
fn ack(chunks: &[DocChunk], seq: u64) -> ServerMsg {
    ServerMsg::Ack { docs: chunks.iter().map(|c| DocAck { id: c.id, heads: c.heads.clone(), seq }).collect() }
}

#[test]
fn hello_then_push_of_every_local_document() {
    let mut d = Device::new();
    let a = d.customer("贵阳酒行");
    let b = d.customer("遵义烟酒店");
    let msgs = d.connect();
    let ClientMsg::Hello(hello) = &msgs[0] else { panic!("first frame must be hello: {msgs:?}") };
    assert_eq!(hello.cursor, 0);
    assert_eq!(hello.actors, vec![d.replica.actor().to_bytes().to_vec()]);
    let mut ids: Vec<DocId> = pushed(&msgs).iter().map(|c| c.id).collect();
    ids.sort();
    let mut want = vec![a, b];
    want.sort();
    assert_eq!(ids, want);
    assert!(!d.quiescent());
}

#[test]
fn ack_and_caught_up_make_it_quiescent_and_persist_the_cursor() {
    let mut d = Device::new();
    d.customer("贵阳酒行");
    let chunks = pushed(&d.connect());
    d.receive(ServerMsg::CaughtUp { cursor: 7, docs_sent: 0 }).unwrap();
    assert!(!d.quiescent(), "push not acknowledged yet");
    assert!(d.receive(ack(&chunks, 8)).unwrap().is_empty());
    assert!(d.quiescent());
    assert_eq!(d.store.cursor, 8);
    // Reloaded from storage, nothing is pending and the next hello carries the cursor.
    let mut again = Device { replica: d.store.load(d.replica.actor().clone(), "li").unwrap(), ..Device::new() };
    let msgs = again.connect();
    assert!(matches!(&msgs[..], [ClientMsg::Hello(h)] if h.cursor == 8), "{msgs:?}");
}

#[test]
fn an_edit_made_while_a_push_is_in_flight_is_pushed_after_the_ack() {
    let mut d = Device::new();
    let id = d.customer("贵阳酒行");
    let first = pushed(&d.connect());
    d.receive(ServerMsg::CaughtUp { cursor: 0, docs_sent: 0 }).unwrap();
    d.replica.set_customer(id, "region", "贵州", 2_000).unwrap();
    d.persist();
    // Not pushed twice while in flight …
    assert!(pushed(&decode_all(d.engine.local_changes(&mut d.replica).unwrap())).is_empty());
    // … but right after the ack of the first push.
    let second = pushed(&d.receive(ack(&first, 1)).unwrap());
    assert_eq!(second.len(), 1);
    assert_ne!(second[0].heads, first[0].heads);
    d.receive(ack(&second, 2)).unwrap();
    assert!(d.quiescent());
}

#[test]
fn changes_from_elsewhere_apply_and_need_no_push_back() {
    let mut a = Device::new();
    let mut b = Device::new();
    let id = a.customer("贵阳酒行");
    // An order line cannot be added to a customer: wrong kind, nothing stored.
    let line = NewLine { id: "x".into(), sku: "s".into(), spec: None, qty: 1, unit_price_fen: 1 };
    assert!(a.replica.add_order_line(id, &line, 1).is_err());
    let chunks = pushed(&a.connect());
    b.connect();
    b.receive(ServerMsg::Changes { docs: chunks.clone(), cursor: None }).unwrap();
    b.receive(ServerMsg::CaughtUp { cursor: 3, docs_sent: 1 }).unwrap();
    assert_eq!(b.replica.customer(id).unwrap().name, "贵阳酒行");
    assert!(b.quiescent(), "received changes are the server's: nothing to push back");
    assert_eq!(b.store.cursor, 3);
    // Received documents are stored: they survive a reload.
    assert_eq!(b.store.load(b.replica.actor().clone(), "li").unwrap().customer(id).unwrap().name, "贵阳酒行");
}

#[test]
fn missing_dependencies_ask_for_the_whole_document() {
    let mut a = Device::new();
    let mut b = Device::new();
    let id = a.customer("贵阳酒行");
    let base = pushed(&a.connect());
    a.receive(ack(&base, 1)).unwrap();
    a.replica.set_customer(id, "region", "贵州", 2_000).unwrap();
    a.persist();
    let later = pushed(&decode_all(a.engine.local_changes(&mut a.replica).unwrap()));
    b.connect();
    b.receive(ServerMsg::CaughtUp { cursor: 0, docs_sent: 0 }).unwrap();
    // B gets the later change without its base: it must ask for the document.
    let out = b.receive(ServerMsg::Changes { docs: later.clone(), cursor: Some(2) }).unwrap();
    assert!(matches!(&out[..], [ClientMsg::Resync { docs }] if docs == &[id]), "{out:?}");
    assert!(!b.quiescent());
    // The server answers with the whole document and its current heads.
    let mut whole = base;
    whole[0].heads = later[0].heads.clone();
    b.receive(ServerMsg::Changes { docs: whole, cursor: None }).unwrap();
    assert!(b.quiescent());
    assert_eq!(b.replica.customer(id).unwrap().region.as_deref(), Some("贵州"));
}

#[test]
fn a_refused_edit_goes_to_the_inbox_and_the_document_returns_to_the_server_state() {
    let mut d = Device::new();
    let id = d.customer("贵阳酒行");
    let first = pushed(&d.connect());
    d.receive(ServerMsg::CaughtUp { cursor: 0, docs_sent: 0 }).unwrap();
    d.receive(ack(&first, 1)).unwrap();
    d.replica.set_customer(id, "owner", "zhang", 2_000).unwrap();
    d.persist();
    let bad = pushed(&decode_all(d.engine.local_changes(&mut d.replica).unwrap()));
    let refusal = Refusal {
        id,
        kind: DocKind::Customer,
        code: ErrorCode::Forbidden,
        path: "owner".into(),
        rule: "rep-writes-own".into(),
        message: "reps may not reassign customers".into(),
        server_heads: first[0].heads.clone(),
    };
    d.receive(ServerMsg::Refused { refusals: vec![refusal] }).unwrap();
    assert_eq!(d.replica.customer(id).unwrap().owner.as_deref(), Some("li"));
    assert!(d.quiescent());
    let inbox = &d.store.inbox;
    assert_eq!(inbox.len(), 1);
    assert_eq!((inbox[0].path.as_str(), inbox[0].code()), ("owner", Some(ErrorCode::Forbidden)));
    assert_eq!(inbox[0].changes, bad[0].changes, "the refused change is kept, not dropped");
    // The restored state survives a reload.
    let reloaded = d.store.load(d.replica.actor().clone(), "li").unwrap();
    assert_eq!(reloaded.customer(id).unwrap().owner.as_deref(), Some("li"));
    assert_eq!(reloaded.inbox().len(), 1);
}

#[test]
fn a_server_error_is_reported_with_its_code() {
    let mut d = Device::new();
    d.connect();
    let err = d.receive(ServerMsg::Error { code: ErrorCode::TokenExpired, message: "expired".into() }).unwrap_err();
    assert!(matches!(err, SyncError::Server { code: ErrorCode::TokenExpired, .. }));
    assert!(err.to_string().contains("log in again"));
}

#[test]
fn a_failed_edit_changes_nothing_and_stores_nothing() {
    let mut d = Device::new();
    let id = d.customer("贵阳酒行");
    let before = d.replica.customer(id).unwrap();
    for (field, value) in [("channel", "wholesale"), ("nope", "x"), ("name", "")] {
        assert!(d.replica.set_customer(id, field, value, 3_000).is_err());
    }
    assert!(d.replica.take_store_ops().is_empty());
    assert_eq!(d.replica.customer(id).unwrap(), before);
    assert!(d.replica.set_customer(DocId::new_random(), "name", "x", 1).is_err());
}

#[test]
fn a_resync_interrupted_by_a_restart_is_asked_for_again_on_connect() {
    let mut a = Device::new();
    let mut b = Device::new();
    let id = a.customer("贵阳酒行");
    let base = pushed(&a.connect());
    a.receive(ack(&base, 1)).unwrap();
    a.replica.set_customer(id, "region", "贵州", 2_000).unwrap();
    a.persist();
    let later = pushed(&decode_all(a.engine.local_changes(&mut a.replica).unwrap()));
    b.connect();
    b.receive(ServerMsg::CaughtUp { cursor: 0, docs_sent: 0 }).unwrap();
    b.receive(ServerMsg::Changes { docs: later, cursor: Some(2) }).unwrap();
    // The device restarts before the whole document arrives.
    let mut again = Device { replica: b.store.load(b.replica.actor().clone(), "li").unwrap(), ..Device::new() };
    let msgs = again.connect();
    assert!(msgs.iter().any(|m| matches!(m, ClientMsg::Resync { docs } if docs == &[id])), "{msgs:?}");
}

#[test]
fn a_revoked_device_wipes_its_documents_but_keeps_unsent_edits_in_the_inbox() {
    let mut d = Device::new();
    let sent = d.customer("已同步客户");
    let chunks = pushed(&d.connect());
    d.receive(ServerMsg::CaughtUp { cursor: 0, docs_sent: 0 }).unwrap();
    d.receive(ack(&chunks, 1)).unwrap();
    let unsent = d.customer("未同步客户");
    let err = d.receive(ServerMsg::Error { code: ErrorCode::Revoked, message: "disabled".into() }).unwrap_err();
    assert!(matches!(err, SyncError::Server { code: ErrorCode::Revoked, .. }));
    assert!(d.replica.customers().is_empty());
    assert!(d.store.docs.is_empty(), "nothing of the company's data stays on the device");
    let kept: Vec<DocId> = d.store.inbox.iter().map(|i| i.doc).collect();
    assert_eq!(kept, vec![unsent], "only the unsent edit is kept, in the inbox: {sent} was on the server");
}

#[test]
fn forget_removes_documents_the_user_may_no_longer_read() {
    let mut d = Device::new();
    let a = d.customer("甲");
    let b = d.customer("乙");
    let chunks = pushed(&d.connect());
    d.receive(ServerMsg::CaughtUp { cursor: 0, docs_sent: 0 }).unwrap();
    d.receive(ack(&chunks, 1)).unwrap();
    d.receive(ServerMsg::Forget { docs: vec![a], reason: "reassigned to 四川".into() }).unwrap();
    let left: Vec<DocId> = d.replica.customers().iter().map(|c| c.id).collect();
    assert_eq!(left, vec![b]);
    assert!(!d.store.docs.contains_key(&a));
    assert!(d.store.inbox.is_empty(), "nothing unsent was lost");
    assert!(d.quiescent());
}

#[test]
fn an_honest_client_refuses_locally_what_the_rules_forbid() {
    use protocol::Role;
    use protocol::rules::Principal;
    let mut d = Device::new();
    let rep = Principal { user: "li".into(), role: Role::Rep, territories: vec!["贵州".into()] };
    d.replica.set_principal(rep);
    let mine = NewCustomer { name: "贵阳酒行".into(), territory: Some("贵州".into()), ..Default::default() };
    let id = d.replica.create_customer(&mine, 1).unwrap();
    let elsewhere = NewCustomer { name: "成都酒行".into(), territory: Some("四川".into()), ..Default::default() };
    let cases: Vec<(&str, Result<(), client_core::CoreError>)> = vec![
        ("create in another territory", d.replica.create_customer(&elsewhere, 2).map(|_| ())),
        ("set owner", d.replica.set_customer(id, "owner", "wang", 2)),
        ("reassign", d.replica.reassign_customer(id, "四川", None, 2)),
    ];
    for (what, result) in cases {
        assert!(matches!(result, Err(client_core::CoreError::NotAllowed { .. })), "{what}: {result:?}");
    }
    assert!(d.replica.set_customer(id, "phone", "0851-1", 3).is_ok());
}

#[test]
fn seeded_ids_replay_exactly() {
    let ids = |seed: Option<u64>| {
        let mut d = Device::new();
        if let Some(s) = seed {
            d.replica.seed_ids(s);
        }
        (0..3).map(|n| d.customer(&format!("客户{n}"))).collect::<Vec<DocId>>()
    };
    assert_eq!(ids(Some(7)), ids(Some(7)));
    assert_ne!(ids(Some(7)), ids(Some(8)));
    assert_ne!(ids(None), ids(None));
    assert!(ids(Some(7)).iter().all(|id| id.0.get_version_num() == 4));
}

/// Found by the simulation (seed 4): a device that does not check edits locally created a
/// customer in a territory its user does not work in. The server refused the whole
/// document (no field path); the device re-created it from the refused copy, pushed it,
/// was refused again — forever, one inbox item per round trip.
#[test]
fn a_document_refused_whole_is_not_redone() {
    let mut d = Device::new();
    let id = d.customer("昆明酒行");
    let first = pushed(&d.connect());
    d.receive(ServerMsg::CaughtUp { cursor: 0, docs_sent: 0 }).unwrap();
    let refusal = Refusal {
        id,
        kind: DocKind::Customer,
        code: ErrorCode::Forbidden,
        path: String::new(),
        rule: "territory".into(),
        message: "li may not write customer.doc_kind of a record outside their territory".into(),
        server_heads: vec![],
    };
    let out = d.receive(ServerMsg::Refused { refusals: vec![refusal] }).unwrap();
    assert!(pushed(&out).is_empty(), "nothing is pushed again: {out:?}");
    assert!(d.quiescent());
    assert!(d.replica.customers().is_empty());
    assert_eq!(d.store.inbox.len(), 1);
    assert_eq!(d.store.inbox[0].changes, first[0].changes, "the refused creation is kept in the inbox");
}

/// Found by the simulation (seeds 42, 49, 59, 64, 80): an edit made while a push was in
/// flight was discarded without a trace when that push was refused. The restore goes back
/// to the server's state, and later edits are built on the refused ones, so they go too —
/// lists (lines, contacts, policy versions, events) are not redone. Everything the restore
/// discards must be kept in the inbox.
#[test]
fn edits_made_while_a_refused_push_was_in_flight_are_kept_in_the_inbox() {
    let mut d = Device::new();
    let id = d.customer("贵阳酒行");
    let first = pushed(&d.connect());
    d.receive(ServerMsg::CaughtUp { cursor: 0, docs_sent: 0 }).unwrap();
    d.receive(ack(&first, 1)).unwrap();
    d.replica.set_customer(id, "owner", "zhang", 2_000).unwrap();
    d.persist();
    let bad = pushed(&decode_all(d.engine.local_changes(&mut d.replica).unwrap()));
    assert_eq!(bad.len(), 1);
    // While the push is on its way, the rep adds a contact (a list: not redone).
    d.replica.add_contact(id, "王经理", None, None, 3_000).unwrap();
    d.persist();
    let refusal = Refusal {
        id,
        kind: DocKind::Customer,
        code: ErrorCode::Forbidden,
        path: "owner".into(),
        rule: "role".into(),
        message: "role rep may not write customer.owner".into(),
        server_heads: first[0].heads.clone(),
    };
    d.receive(ServerMsg::Refused { refusals: vec![refusal] }).unwrap();
    let kept = &d.store.inbox[0].changes;
    let mut with_everything = automerge::AutoCommit::load(&d.store.docs[&id].chunks[0]).unwrap();
    with_everything.load_incremental(kept).unwrap();
    assert!(with_everything.get_missing_deps(&[]).is_empty());
    let restored = protocol::schema::customer::read(&with_everything, id).unwrap();
    assert!(
        restored.contacts.iter().any(|c| c.name == "王经理"),
        "the contact added while the refused push was in flight is in the inbox"
    );
}

/// Found by the simulation (seed 10121): a manager's device got a customer in its first
/// catch-up, and the connection dropped before `CaughtUp` (so its cursor stayed 0). The
/// customer was then moved to a territory the manager does not work in. On the next hello
/// (cursor 0) the server does not tell a device with cursor 0 to forget anything (a fresh
/// device holds nothing, and must not learn of documents it never had), so the device kept
/// a customer it may no longer read. A catch-up from cursor 0 holds every document the user
/// may read: a document the server gave this device before and left out now is out of reach.
#[test]
fn a_first_catch_up_drops_what_an_interrupted_one_left_and_is_now_out_of_reach() {
    let mut other = Device::new();
    let gone = other.customer("昆明酒行");
    let kept = other.customer("成都酒行");
    let chunks = pushed(&other.connect());
    let mut d = Device::new();
    let mine = d.customer("我的新客户");
    d.connect();
    d.receive(ServerMsg::Changes { docs: chunks.clone(), cursor: None }).unwrap();
    d.engine.disconnected(); // before CaughtUp: the cursor is still 0
    assert_eq!(d.store.cursor, 0);
    assert_eq!(d.replica.customers().len(), 3);
    // Meanwhile `gone` moved out of reach: the next first catch-up leaves it out.
    let msgs = d.connect();
    assert!(matches!(&msgs[0], ClientMsg::Hello(h) if h.cursor == 0));
    let still: Vec<DocChunk> = chunks.iter().filter(|c| c.id == kept).cloned().collect();
    d.receive(ServerMsg::Changes { docs: still, cursor: None }).unwrap();
    d.receive(ServerMsg::CaughtUp { cursor: 5, docs_sent: 1 }).unwrap();
    let mut left: Vec<DocId> = d.replica.customers().iter().map(|c| c.id).collect();
    left.sort();
    let mut want = vec![kept, mine];
    want.sort();
    assert_eq!(left, want, "the customer out of reach is forgotten, the unsent one kept");
    assert!(!d.store.docs.contains_key(&gone));
    assert!(d.store.inbox.is_empty(), "nothing unsent was lost");
}
