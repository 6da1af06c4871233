//! Several writers on one device sharing one store (browser tabs): each writes with an
//! actor of its own, mirrors the others' durable writes with `apply_peer_ops`, and the one
//! holding the connection announces every actor in its hello and pushes all their changes.

// In the browser (cargo test --target wasm32-unknown-unknown, headless Chromium) the
// same tests run under wasm-bindgen-test.
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

use automerge::ActorId;
use client_core::{LocalStore, MemStore, Replica, StoreOp, SyncEngine};
use protocol::schema::customer::NewCustomer;
use protocol::wire::{self, ClientMsg, DocAck, DocChunk, Refusal, ServerMsg};
use protocol::{DocKind, ErrorCode};
use uuid::Uuid;

fn actor() -> ActorId {
    ActorId::from(Uuid::new_v4().as_bytes())
}

/// One tab: its replica over the shared store; `commit` persists and returns the ops the
/// tab broadcasts to the others.
fn commit(tab: &mut Replica, store: &mut MemStore) -> Vec<StoreOp> {
    let ops = tab.take_store_ops();
    store.apply(&ops).unwrap();
    ops
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

#[test]
fn two_tabs_edit_the_same_notes_and_converge_through_the_shared_store() {
    let mut store = MemStore::default();
    let (a_actor, b_actor) = (actor(), actor());
    let mut a = store.load(a_actor.clone(), "li").unwrap();
    let id = a.create_customer(&NewCustomer { name: "贵阳酒行".into(), ..Default::default() }, 1).unwrap();
    a.set_customer(id, "notes", "喜欢酱香型", 2).unwrap();
    commit(&mut a, &mut store);
    let mut b = store.load(b_actor.clone(), "li").unwrap();

    // Concurrent edits, each committed by its tab before it hears of the other.
    a.set_customer(id, "notes", "老板喜欢酱香型", 3).unwrap();
    b.set_customer(id, "notes", "喜欢酱香型，月底进货", 3).unwrap();
    let from_a = commit(&mut a, &mut store);
    let from_b = commit(&mut b, &mut store);
    assert!(a.apply_peer_ops(&from_b).unwrap().is_empty());
    assert!(b.apply_peer_ops(&from_a).unwrap().is_empty());
    let notes = a.customer(id).unwrap().notes;
    assert_eq!(notes, "老板喜欢酱香型，月底进货");
    assert_eq!(b.customer(id).unwrap().notes, notes);
    // A peer's ops produce no store ops of their own (they are stored already) …
    assert!(a.take_store_ops().is_empty() && b.take_store_ops().is_empty());
    // … and what is stored is what both tabs show.
    assert_eq!(store.load(actor(), "li").unwrap().customer(id).unwrap().notes, notes);

    // Tab A holds the connection: it announces B's actor and pushes B's changes too.
    let mut engine = SyncEngine::new(Uuid::new_v4(), "test");
    engine.announce_actors([b_actor.clone(), a_actor.clone()]);
    let msgs = decode_all(engine.connected(&mut a).unwrap());
    let ClientMsg::Hello(hello) = &msgs[0] else { panic!("{msgs:?}") };
    assert_eq!(hello.actors, vec![a_actor.to_bytes().to_vec(), b_actor.to_bytes().to_vec()]);
    let chunks = pushed(&msgs);
    assert_eq!(chunks.len(), 1);
    let mut server_copy = automerge::AutoCommit::new();
    server_copy.load_incremental(&chunks[0].changes).unwrap();
    let seen = protocol::schema::customer::read(&server_copy, id).unwrap();
    assert_eq!(seen.notes, notes, "the push carries both tabs' changes");

    // The ack reaches B through the store: B has nothing pending any more.
    let frames = engine
        .receive(
            &mut a,
            &wire::encode(&ServerMsg::Ack { docs: vec![DocAck { id, heads: chunks[0].heads.clone(), seq: 1 }] })
                .unwrap(),
            5,
        )
        .unwrap();
    assert!(frames.is_empty());
    assert_eq!(b.unsent_docs(), vec![id]);
    b.apply_peer_ops(&commit(&mut a, &mut store)).unwrap();
    assert!(b.unsent_docs().is_empty());
}

#[test]
fn a_compaction_by_another_tab_is_reloaded_so_refused_changes_disappear_everywhere() {
    let mut store = MemStore::default();
    let mut a = store.load(actor(), "li").unwrap();
    let id = a.create_customer(&NewCustomer { name: "贵阳酒行".into(), ..Default::default() }, 1).unwrap();
    commit(&mut a, &mut store);
    let mut engine = SyncEngine::new(Uuid::new_v4(), "test");
    let first = pushed(&decode_all(engine.connected(&mut a).unwrap()));
    let ack = ServerMsg::Ack { docs: vec![DocAck { id, heads: first[0].heads.clone(), seq: 1 }] };
    engine.receive(&mut a, &wire::encode(&ack).unwrap(), 2).unwrap();
    commit(&mut a, &mut store);

    // Tab B writes a field the server will refuse; tab A pushes it.
    let mut b = store.load(actor(), "li").unwrap();
    b.set_customer(id, "owner", "zhang", 3).unwrap();
    a.apply_peer_ops(&commit(&mut b, &mut store)).unwrap();
    let bad = pushed(&decode_all(engine.local_changes(&mut a).unwrap()));
    assert_eq!(bad.len(), 1);
    let refusal = Refusal {
        id,
        kind: DocKind::Customer,
        code: ErrorCode::Forbidden,
        path: "owner".into(),
        rule: "assigners".into(),
        message: "reps may not reassign customers".into(),
        server_heads: first[0].heads.clone(),
    };
    engine.receive(&mut a, &wire::encode(&ServerMsg::Refused { refusals: vec![refusal] }).unwrap(), 4).unwrap();
    let ops = commit(&mut a, &mut store);
    assert_eq!(a.customer(id).unwrap().owner.as_deref(), Some("li"));

    // Merging cannot undo the refused change in B: B is told to reload the document.
    let reload = b.apply_peer_ops(&ops).unwrap();
    assert_eq!(reload, vec![id]);
    b.replace_doc(id, store.docs.get(&id)).unwrap();
    assert_eq!(b.customer(id).unwrap().owner.as_deref(), Some("li"));
    assert_eq!(b.inbox().len(), 1, "the refusal reaches B's inbox too");
    assert!(b.unsent_docs().is_empty());
    b.replace_doc(id, None).unwrap();
    assert!(b.customers().is_empty());
}

#[test]
fn documents_loaded_later_join_the_replica_and_merge_with_what_arrived_meanwhile() {
    let mut store = MemStore::default();
    let mut a = store.load(actor(), "li").unwrap();
    let c = a.create_customer(&NewCustomer { name: "贵阳酒行".into(), ..Default::default() }, 1).unwrap();
    let o = a.create_order(c, protocol::schema::OrderSource::Verbal, 2).unwrap();
    commit(&mut a, &mut store);
    a.set_order(o, "delivery_place", "贵阳仓", 3).unwrap();
    let later = commit(&mut a, &mut store);

    // B loads the customers first, hears of an order edit, then loads the orders.
    let all: Vec<_> = store.docs.values().cloned().collect();
    let (customers, rest): (Vec<_>, Vec<_>) = all.into_iter().partition(|d| d.kind == DocKind::Customer);
    let mut b = Replica::load(actor(), "li", customers, 0, vec![]).unwrap();
    assert!(b.order(o).is_err());
    b.apply_peer_ops(&later).unwrap();
    b.load_more(&rest).unwrap();
    let order = b.order(o).unwrap();
    assert_eq!((order.customer, order.delivery_place.as_deref()), (Some(c), Some("贵阳仓")));
    assert_eq!(b.unsent_docs().len(), 2, "nothing was acknowledged yet");
    assert!(b.take_store_ops().is_empty());
}
