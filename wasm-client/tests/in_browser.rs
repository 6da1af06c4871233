//! The browser driver in the browser (headless Chromium via wasm-bindgen-test): the
//! IndexedDB store applies store ops as the SQLite store does and gives them back on
//! reopen; the sync engine's state survives a restart through it; several clients (tabs)
//! of one profile share their edits and exactly one of them holds the connection.
//!
//! Run: `cargo test -p jiuloop-wasm --target wasm32-unknown-unknown` (scripts/test-wasm.sh).
#![cfg(target_arch = "wasm32")]

use automerge::ActorId;
use client_core::{Replica, StoreOp, SyncEngine};
use jiuloop_wasm::Client;
use jiuloop_wasm::idb::IdbStore;
use jiuloop_wasm::js::sleep;
use protocol::schema::OrderSource;
use protocol::schema::customer::NewCustomer;
use protocol::schema::order::NewLine;
use protocol::wire::{self, ClientMsg, DocAck, DocChunk, ServerMsg};
use serde_json::Value;
use uuid::Uuid;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn db_name(label: &str) -> String {
    format!("jiuloop-test-{label}-{}", Uuid::new_v4().simple())
}

fn actor() -> ActorId {
    ActorId::from(Uuid::new_v4().as_bytes())
}

async fn reopen(name: &str, actor: ActorId) -> (IdbStore, Replica) {
    let store = IdbStore::open(name).await.unwrap();
    let loaded = store.load().await.unwrap();
    let cursor = loaded.meta.get("cursor").and_then(|c| c.parse().ok()).unwrap_or(0);
    let replica = Replica::load(actor, "li", loaded.docs, cursor, loaded.inbox).unwrap();
    (store, replica)
}

fn pushed(frames: &[Vec<u8>]) -> Vec<DocChunk> {
    frames
        .iter()
        .flat_map(|f| match wire::decode::<ClientMsg>(f).unwrap() {
            ClientMsg::Push { docs } => docs,
            _ => vec![],
        })
        .collect()
}

#[wasm_bindgen_test]
async fn what_the_replica_writes_comes_back_after_a_reopen() {
    let name = db_name("reopen");
    let me = actor();
    let (store, mut r) = reopen(&name, me.clone()).await;
    assert_eq!(r.doc_count(), 0);
    let c = r.create_customer(&NewCustomer { name: "贵阳酒行".into(), ..Default::default() }, 1_000).unwrap();
    r.set_customer(c, "notes", "喜欢酱香型", 1_001).unwrap();
    let o = r.create_order(c, OrderSource::Verbal, 1_002).unwrap();
    for (sku, qty, price) in [("MT-53-500", 6, 149_900), ("XJ-52-500", 2, 89_950)] {
        let line = NewLine { id: sku.into(), sku: sku.into(), spec: None, qty, unit_price_fen: price };
        r.add_order_line(o, &line, 1_003).unwrap();
    }
    store.apply(&r.take_store_ops()).await.unwrap();

    // The sync engine's progress is stored with the data it covers.
    let mut engine = SyncEngine::new(Uuid::new_v4(), "test");
    let chunks = pushed(&engine.connected(&mut r).unwrap());
    assert_eq!(chunks.len(), 2);
    let caught_up = wire::encode(&ServerMsg::CaughtUp { cursor: 5, docs_sent: 0 }).unwrap();
    engine.receive(&mut r, &caught_up, 2_000).unwrap();
    let ack =
        ServerMsg::Ack { docs: chunks.iter().map(|c| DocAck { id: c.id, heads: c.heads.clone(), seq: 7 }).collect() };
    engine.receive(&mut r, &wire::encode(&ack).unwrap(), 2_001).unwrap();
    assert!(engine.is_quiescent(&mut r));
    store.apply(&r.take_store_ops()).await.unwrap();
    store.close();

    let (store, mut again) = reopen(&name, me).await;
    assert_eq!(again.customer(c).unwrap().notes, "喜欢酱香型");
    assert_eq!(again.order(o).unwrap().total_fen, 6 * 149_900 + 2 * 89_950);
    assert_eq!(again.cursor(), 7);
    assert!(again.unsent_docs().is_empty(), "server heads were stored: nothing to send again");
    let mut engine = SyncEngine::new(Uuid::new_v4(), "test");
    let frames = engine.connected(&mut again).unwrap();
    assert!(matches!(&frames[..], [f] if matches!(wire::decode(f).unwrap(), ClientMsg::Hello(h) if h.cursor == 7)));
    store.close();
    IdbStore::delete_database(&name).await.unwrap();
}

#[wasm_bindgen_test]
async fn compaction_keeps_a_chunk_another_tab_appended_meanwhile() {
    let name = db_name("compact");
    let (a_store, mut a) = reopen(&name, actor()).await;
    let id = a.create_customer(&NewCustomer { name: "贵阳酒行".into(), ..Default::default() }, 1).unwrap();
    let ops = a.take_store_ops();
    let created = match &ops[0] {
        StoreOp::AppendChunk { bytes, .. } | StoreOp::Compact { snapshot: bytes, .. } => bytes,
        other => panic!("{other:?}"),
    };
    let snapshot = automerge::AutoCommit::load(created).unwrap().save();
    a_store.apply(&ops).await.unwrap();

    // Tab B appends a change that tab A has not heard of.
    let (b_store, mut b) = reopen(&name, actor()).await;
    b.set_customer(id, "phone", "0851-1", 2).unwrap();
    b_store.apply(&b.take_store_ops()).await.unwrap();

    // A compacts what it knows: its snapshot lacks B's change, and only A's own chunk goes.
    let compact = StoreOp::Compact { id, kind: protocol::DocKind::Customer, snapshot };
    a_store.apply(&[compact]).await.unwrap();
    let (check, after) = reopen(&name, actor()).await;
    assert_eq!(check.load_doc(id).await.unwrap().unwrap().chunks.len(), 2, "B's chunk and A's snapshot");
    let c = after.customer(id).unwrap();
    assert_eq!((c.name.as_str(), c.phone.as_deref()), ("贵阳酒行", Some("0851-1")), "B's change survived");

    // A deletion removes the document and every chunk of it.
    a_store.apply(&[StoreOp::DeleteDoc { id }]).await.unwrap();
    let (_s, gone) = reopen(&name, actor()).await;
    assert_eq!(gone.doc_count(), 0);
    assert!(check.load_doc(id).await.unwrap().is_none());
}

async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    for _ in 0..100 {
        if check() {
            return;
        }
        sleep(50.0).await;
    }
    panic!("timed out waiting for: {what}");
}

fn json(s: String) -> Value {
    serde_json::from_str(&s).unwrap()
}

#[wasm_bindgen_test]
async fn two_tabs_of_one_profile_share_edits_and_one_holds_the_connection() {
    let name = db_name("tabs");
    let a = Client::open_profile(name.clone()).await.unwrap();
    let b = Client::open_profile(name.clone()).await.unwrap();
    assert_eq!(a.device_id(), b.device_id(), "one profile, one device");
    let answer =
        r#"{"token":"t0k3n","expires_at":"2099-01-01T00:00:00.000Z","user":"li","role":"rep","territory":"贵州"}"#;
    // Nothing listens on port 9: the connection holder keeps retrying in the background.
    JsFuture::from(a.complete_login("http://127.0.0.1:9".into(), answer.into())).await.unwrap();
    eventually("B sees the login", || json(b.session())["user"] == "li").await;

    let new =
        r#"{"name":"花溪酒庄","channel":"distributor","class":"A","region":"贵阳","fields":{"notes":"喜欢酱香型"}}"#;
    let id = JsFuture::from(a.create_customer(new.into(), 1_000.0)).await.unwrap().as_string().unwrap();
    eventually("B sees A's customer", || b.customer(id.clone(), "zh".into()).is_ok()).await;
    let detail = json(b.customer(id.clone(), "zh".into()).unwrap());
    assert_eq!(detail["customer"]["territory"], "贵州", "created in the user's territory");
    assert_eq!(detail["customer"]["channel_label"], "经销商");

    // Both edit the notes from the same base; both edits survive in both tabs.
    let base = "喜欢酱香型";
    let ea = serde_json::json!({ "notes": { "base": base, "value": "老板喜欢酱香型" } }).to_string();
    let eb = serde_json::json!({ "notes": { "base": base, "value": "喜欢酱香型，月底进货" } }).to_string();
    let (ra, rb) = (a.update_customer(id.clone(), ea, 2_000.0), b.update_customer(id.clone(), eb, 2_000.0));
    JsFuture::from(ra).await.unwrap();
    JsFuture::from(rb).await.unwrap();
    let notes = |c: &Client| json(c.customer(id.clone(), "zh".into()).unwrap())["customer"]["notes"].clone();
    eventually("the notes converge", || notes(&a) == "老板喜欢酱香型，月底进货" && notes(&b) == notes(&a)).await;

    // Both edits wait to be sent (no server), counted alike in both tabs.
    let (sa, sb) = (json(a.status()), json(b.status()));
    assert_eq!((sa["pending"].as_u64(), sb["pending"].as_u64()), (Some(1), Some(1)));
    assert_ne!(sa["actor"], sb["actor"], "each tab writes with its own actor id");
    assert_ne!(sa["leader"], sb["leader"], "exactly one tab holds the connection: {sa} {sb}");
    assert_eq!(sa["leader"], true, "the first tab took the connection");

    // A bad field changes nothing.
    let bad = r#"{"name":"x","fields":{"next_follow_up":"2026-13-01"}}"#;
    assert!(JsFuture::from(a.create_customer(bad.into(), 3_000.0)).await.is_err());
    assert_eq!(json(a.customers(String::new(), "zh".into()).unwrap())["total"], 1);

    // When the holder closes, the other tab takes over the connection.
    a.close();
    eventually("B holds the connection", || json(b.status())["leader"] == true).await;
    // A third tab reuses the actor id the closed tab released.
    let c = Client::open_profile(name.clone()).await.unwrap();
    assert_eq!(json(c.status())["actor"], sa["actor"]);
    assert_eq!(notes(&c), "老板喜欢酱香型，月底进货");
    b.close();
    c.close();
}

#[wasm_bindgen_test]
async fn the_generic_record_api_creates_any_kind_and_rejects_with_field_errors_as_json() {
    let name = db_name("kinds");
    let a = Client::open_profile(name.clone()).await.unwrap();
    let answer =
        r#"{"token":"t0k3n","expires_at":"2099-01-01T00:00:00.000Z","user":"li","role":"rep","territory":"贵州"}"#;
    JsFuture::from(a.complete_login("http://127.0.0.1:9".into(), answer.into())).await.unwrap();
    let kinds = json(a.kinds("zh".into()));
    let obs = kinds.as_array().unwrap().iter().find(|k| k["name"] == "competitor-observation").unwrap();
    assert_eq!((obs["label"].as_str(), obs["may_create"].as_bool()), (Some("竞品价格观察"), Some(true)));
    let customer = JsFuture::from(a.create_customer(r#"{"name":"贵阳酒行"}"#.into(), 1_000.0)).await.unwrap();
    let customer = customer.as_string().unwrap();

    // Refused: a JSON string naming each field, in the language asked for; nothing stored.
    let bad = serde_json::json!({ "customer": customer, "brand": "", "product": "普五", "shelf_price": "lots" });
    let kind = "competitor-observation".to_string();
    let refused = JsFuture::from(a.create_record(kind.clone(), bad.to_string(), 2_000.0, "zh".into())).await;
    let text = refused.unwrap_err().as_string().expect("rejects with a string");
    let r = json(text);
    let fields: Vec<(&str, &str)> = r["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["field"].as_str().unwrap(), f["message"].as_str().unwrap()))
        .collect();
    assert_eq!(fields, [("brand", "不能为空"), ("shelf_price", "“lots”不是金额（元，最多两位小数）")]);
    assert_eq!(json(a.records(kind.clone(), String::new(), "zh".into()).unwrap())["count"], 0);

    let good = serde_json::json!({ "customer": customer, "brand": "五粮液", "product": "普五", "shelf_price": "1,099", "spec": "" });
    let id = JsFuture::from(a.create_record(kind.clone(), good.to_string(), 3_000.0, "zh".into())).await.unwrap();
    let id = id.as_string().unwrap();
    let list = json(a.records(kind.clone(), r#"{"q":"五粮液"}"#.into(), "zh".into()).unwrap());
    assert_eq!((list["total"].as_u64(), list["items"][0]["unsent"].as_bool()), (Some(1), Some(true)));
    let rec = json(a.record(id.clone(), "en".into()).unwrap());
    let price = rec["fields"].as_array().unwrap().iter().find(|f| f["name"] == "shelf_price").unwrap();
    assert_eq!(
        (price["raw"].as_i64(), price["display"].as_str(), price["may_write"].as_bool()),
        (Some(109_900), Some("¥1099.00"), Some(true))
    );

    // An edit is checked the same way, in English when asked.
    let edit = serde_json::json!({ "shelf_price": { "base": "1099.00", "value": "-1" } }).to_string();
    let refused = JsFuture::from(a.update_record(id.clone(), edit, 4_000.0, "en".into())).await;
    let r = json(refused.unwrap_err().as_string().unwrap());
    assert_eq!(r["fields"][0]["message"], "'-1' is not an amount in yuan");
    let edit = serde_json::json!({ "shelf_price": { "base": "1099.00", "value": "1199" } }).to_string();
    JsFuture::from(a.update_record(id.clone(), edit, 5_000.0, "en".into())).await.unwrap();
    let rec = json(a.record(id, "zh".into()).unwrap());
    assert!(rec["fields"].as_array().unwrap().iter().any(|f| f["name"] == "shelf_price" && f["raw"] == 119_900));
    a.close();
}
