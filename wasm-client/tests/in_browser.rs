//! The browser driver in the browser (headless Chromium via wasm-bindgen-test): the
//! IndexedDB store keeps the `LocalStore` contract (the shared suite of
//! `client_core::store_contract`, through the store's async API: store ops applied as the
//! SQLite store applies them, given back on reopen, a replica's session and sync state
//! surviving a restart); tabs writing one document at once lose nothing; several clients
//! (tabs) of one profile share their edits and exactly one of them holds the connection.
//!
//! Run: `cargo test -p jiuloop-wasm --target wasm32-unknown-unknown` (scripts/test-wasm.sh).
#![cfg(target_arch = "wasm32")]

use client_core::store_contract::{self, Handle, Harness};
use client_core::{StoreOp, StoredDoc, StoredState};
use jiuloop_wasm::Client;
use jiuloop_wasm::idb::IdbStore;
use jiuloop_wasm::js::sleep;
use protocol::{DocId, DocKind};
use serde_json::Value;
use std::future::{Future, poll_fn};
use std::pin::pin;
use std::task::Poll;
use uuid::Uuid;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn db_name(label: &str) -> String {
    format!("jiuloop-test-{label}-{}", Uuid::new_v4().simple())
}

/// The IndexedDB store under the shared `LocalStore` suite: one database per scenario,
/// reopened, with a second connection (another tab), failures injected mid-batch.
#[derive(Default)]
struct Idb {
    name: String,
    main: Option<IdbStore>,
    other: Option<IdbStore>,
}

fn js(e: JsValue) -> String {
    e.as_string().unwrap_or_else(|| format!("{e:?}"))
}

impl Idb {
    fn main(&self) -> &IdbStore {
        self.main.as_ref().expect("a scenario is running")
    }

    async fn open_loaded(&self) -> Result<IdbStore, String> {
        let store = IdbStore::open(&self.name).await.map_err(js)?;
        store.load().await.map_err(js)?;
        Ok(store)
    }
}

impl Harness for Idb {
    async fn create(&mut self, _scenario: &str) -> Result<(), String> {
        self.name = db_name("contract");
        self.main = Some(IdbStore::open(&self.name).await.map_err(js)?);
        Ok(())
    }

    async fn apply(&mut self, handle: Handle, ops: &[StoreOp]) -> Result<(), String> {
        let store = match handle {
            Handle::Main => self.main(),
            Handle::Other => self.other.as_ref().ok_or("no second handle is open")?,
        };
        store.apply(ops).await.map(drop).map_err(js)
    }

    async fn apply_failing(&mut self, ops: &[StoreOp], after: usize) -> Option<Result<(), String>> {
        self.main().fail_next_batch_after(after);
        Some(self.main().apply(ops).await.map(drop).map_err(js))
    }

    async fn reopen(&mut self) -> Result<bool, String> {
        self.main().close();
        self.main = Some(self.open_loaded().await?);
        Ok(true)
    }

    async fn open_other(&mut self) -> Result<bool, String> {
        self.other = Some(self.open_loaded().await?);
        Ok(true)
    }

    async fn load_all(&mut self) -> Result<StoredState, String> {
        Ok(self.main().load().await.map_err(js)?.state())
    }

    async fn load_doc(&mut self, id: DocId) -> Result<Option<StoredDoc>, String> {
        self.main().load_doc(id).await.map_err(js)
    }

    async fn load_blob(&mut self, hash: protocol::blob::BlobHash) -> Result<Option<Vec<u8>>, String> {
        self.main().load_blob(&hash).await.map_err(js)
    }

    async fn finish(&mut self) {
        for store in [self.other.take(), self.main.take()].into_iter().flatten() {
            store.close();
        }
        IdbStore::delete_database(&self.name).await.unwrap();
    }
}

#[wasm_bindgen_test]
async fn the_indexeddb_store_keeps_the_store_contract() {
    let report = store_contract::run_async(&mut Idb::default()).await.unwrap();
    assert_eq!(report.scenarios.len(), store_contract::scenarios().len());
    assert_eq!(report.skipped(), Vec::<String>::new(), "the IndexedDB store runs every step");
}

/// Both futures polled together (their synchronous parts run in the same instant).
async fn both<A: Future, B: Future>(a: A, b: B) -> (A::Output, B::Output) {
    let (mut a, mut b) = (pin!(a), pin!(b));
    let (mut ra, mut rb) = (None, None);
    poll_fn(|cx| {
        if ra.is_none() {
            ra = match a.as_mut().poll(cx) {
                Poll::Ready(v) => Some(v),
                Poll::Pending => None,
            };
        }
        if rb.is_none() {
            rb = match b.as_mut().poll(cx) {
                Poll::Ready(v) => Some(v),
                Poll::Pending => None,
            };
        }
        if ra.is_some() && rb.is_some() { Poll::Ready((ra.take().unwrap(), rb.take().unwrap())) } else { Poll::Pending }
    })
    .await
}

#[wasm_bindgen_test]
async fn two_tabs_appending_to_one_document_in_the_same_millisecond_keep_both_chunks() {
    let name = db_name("same-moment");
    let (a, b) = (IdbStore::open(&name).await.unwrap(), IdbStore::open(&name).await.unwrap());
    let id = DocId::new_random();
    let append = |label: &str| StoreOp::AppendChunk { id, kind: DocKind::Customer, bytes: label.as_bytes().to_vec() };
    a.apply(&[append("first")]).await.unwrap();
    a.load().await.unwrap();
    b.load().await.unwrap();
    for round in 0..20 {
        let (ra, rb) = both(a.apply(&[append(&format!("a{round}"))]), b.apply(&[append(&format!("b{round}"))])).await;
        ra.unwrap();
        rb.unwrap();
    }
    let chunks = a.load_doc(id).await.unwrap().unwrap().chunks;
    assert_eq!(chunks.len(), 41, "no tab's chunk overwrote the other's");
    a.close();
    b.close();
    IdbStore::delete_database(&name).await.unwrap();
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
    let id = JsFuture::from(a.create_customer(new.into(), 1_000.0, None)).await.unwrap().as_string().unwrap();
    eventually("B sees A's customer", || b.customer(id.clone(), "zh".into()).is_ok()).await;
    let detail = json(b.customer(id.clone(), "zh".into()).unwrap());
    assert_eq!(detail["customer"]["territory"], "贵州", "created in the user's territory");
    assert_eq!(detail["customer"]["channel_label"], "经销商");

    // Both edit the notes from the same base; both edits survive in both tabs.
    let base = "喜欢酱香型";
    let ea = serde_json::json!({ "notes": { "base": base, "value": "老板喜欢酱香型" } }).to_string();
    let eb = serde_json::json!({ "notes": { "base": base, "value": "喜欢酱香型，月底进货" } }).to_string();
    let (ra, rb) = (a.update_customer(id.clone(), ea, 2_000.0, None), b.update_customer(id.clone(), eb, 2_000.0, None));
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
    let refused = JsFuture::from(a.create_customer(bad.into(), 3_000.0, Some("zh".into()))).await;
    let r = json(refused.unwrap_err().as_string().expect("rejects with a refusal's JSON"));
    assert_eq!(
        (r["fields"][0]["field"].as_str(), r["fields"][0]["code"].as_str()),
        (Some("next_follow_up"), Some("not_date"))
    );
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
    let customer = JsFuture::from(a.create_customer(r#"{"name":"贵阳酒行"}"#.into(), 1_000.0, None)).await.unwrap();
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

    // The typed order API refuses alike: every line's errors, named as the core names them.
    let order = serde_json::json!({ "customer": customer, "lines": [
        { "sku": "MT-53-500", "qty": "0", "unit_price": "1499" },
        { "sku": "", "qty": "1", "unit_price": "0" },
    ], "fields": { "delivery_date": "2000-01-01" } });
    let refused = JsFuture::from(a.create_order(order.to_string(), 1_800_000_000_000.0, Some("en".into()))).await;
    let r = json(refused.unwrap_err().as_string().unwrap());
    let fields: Vec<(&str, &str)> = r["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["field"].as_str().unwrap(), f["code"].as_str().unwrap()))
        .collect();
    assert_eq!(
        fields,
        [
            ("lines/1/qty", "out_of_range"),
            ("lines/2/sku", "required"),
            ("lines/2/unit_price_fen", "not_positive"),
            ("delivery_date", "date_in_past")
        ]
    );
    assert_eq!(r["fields"][2]["label"], "Unit price");
    assert_eq!(json(a.orders(String::new(), None, "zh".into()))["count"], 0, "nothing saved");
    a.close();
}
