//! Orders over the whole system: the price policy published by the market department (from
//! the server's command line and from a client), offline pricing on the rep's device, the
//! server's verdict after sync, approvals bound to content, the lifecycle through shipping
//! and payment across four departments' devices, concurrent transitions, exactly-once
//! assignment, and hostile event writes. Real server process, real CLI profiles, the
//! server's SQLite file inspected directly.

use jiuloop_tests::{Device, LocalDoc, RawClient, TempDir, TestServer};
use protocol::schema::order::{self, OrderEvent};
use protocol::schema::verdict::verdict_id;
use protocol::wire::{ClientMsg, Refusal};
use protocol::{DocId, DocKind, ErrorCode, ServerMsg};
use serde_json::Value;
use std::path::{Path, PathBuf};

const GZ: &str = "贵州";

/// The example catalogue shipped in the repository.
fn example_policy() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/policy.csv")
}

fn example_text() -> String {
    std::fs::read_to_string(example_policy()).expect("read examples/policy.csv")
}

/// A rep (li, 贵州) with their manager (zhang), logistics (sun), finance (qian), market (ma)
/// and an executive (zhao); the market department's example policy imported with the
/// server's command while it runs; every device synced.
struct Company {
    server: TestServer,
    rep: Device,
    manager: Device,
    logistics: Device,
    finance: Device,
    market: Device,
}

impl Company {
    fn new() -> Self {
        let mut server = TestServer::new();
        server.add_user("zhang", "manager", Some(GZ));
        server.add_user_with("li", "rep", Some(GZ), Some("zhang"));
        server.add_user("sun", "logistics", None);
        server.add_user("qian", "finance", None);
        server.add_user("ma", "market", None);
        server.add_user("zhao", "executive", None);
        server.start();
        let out = server.admin_ok(&["policy", "import", example_policy().to_str().expect("utf-8 path")]);
        assert!(out.contains("version 1"), "{out}");
        let company = Company {
            rep: Device::logged_in(&server, "li"),
            manager: Device::logged_in(&server, "zhang"),
            logistics: Device::logged_in(&server, "sun"),
            finance: Device::logged_in(&server, "qian"),
            market: Device::logged_in(&server, "ma"),
            server,
        };
        for d in company.all() {
            d.sync();
        }
        company
    }

    fn all(&self) -> [&Device; 5] {
        [&self.rep, &self.manager, &self.logistics, &self.finance, &self.market]
    }

    fn sync_all(&self) {
        for d in self.all() {
            d.sync();
        }
    }

    /// A restaurant customer (wholesale prices) of li's.
    fn customer(&self, name: &str) -> String {
        self.rep.add_customer(name, &["--channel", "restaurant"])
    }

    /// An order of `customer` with `lines` (sku, qty, unit price in fen), by the rep, offline.
    fn order(&self, customer: &str, lines: &[(&str, i64, i64)]) -> String {
        let id = self.rep.ok(&["order", "new", "--customer", customer]);
        for (sku, qty, price) in lines {
            self.rep.ok(&[
                "order",
                "add-line",
                &id,
                "--sku",
                sku,
                "--qty",
                &qty.to_string(),
                "--unit-price",
                &price.to_string(),
            ]);
        }
        id
    }

    /// An order priced at policy (no approval needed), submitted and synced: confirmed.
    fn confirmed_order(&self, name: &str) -> String {
        let c = self.customer(name);
        let o = self.order(&c, &[("SC-52-500", 12, 53_900)]);
        self.rep.ok(&["order", "submit", &o]);
        self.rep.sync();
        assert_eq!(status(&self.rep, &o), "confirmed");
        o
    }

    /// Rows of the server's SQLite file counted by `sql` with the order's id bound as ?1.
    fn count(&self, sql: &str, order: &str) -> i64 {
        let id = uuid::Uuid::parse_str(order).expect("order id");
        self.server.db().query_row(sql, [id.as_bytes().as_slice()], |r| r.get(0)).expect("count")
    }

    fn assignments(&self, order: &str) -> i64 {
        self.count("SELECT COUNT(*) FROM assignments WHERE order_id = ?1", order)
    }

    fn notifications(&self, order: &str) -> i64 {
        self.count("SELECT COUNT(*) FROM notifications WHERE order_id = ?1", order)
    }

    /// Stored chunks of the order's verdict document (each is one server change).
    fn verdict_changes(&self, order: &str) -> i64 {
        let v = verdict_id(order.parse().expect("order id"));
        self.server
            .db()
            .query_row("SELECT COUNT(*) FROM changes WHERE doc_id = ?1", [v.as_bytes().as_slice()], |r| r.get(0))
            .expect("count")
    }
}

fn status(d: &Device, order: &str) -> String {
    d.order(order)["lifecycle"]["status"].as_str().expect("a status").to_string()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array().into_iter().flatten().map(|s| s.as_str().expect("a string").to_string()).collect()
}

/// The kinds of the order's timeline entries that applied, in order, with who recorded them.
fn applied_steps(view: &Value) -> Vec<(String, String)> {
    view["lifecycle"]["timeline"]
        .as_array()
        .expect("a timeline")
        .iter()
        .filter(|t| t["applied"].as_bool() == Some(true))
        .map(|t| (t["event"]["kind"].as_str().unwrap().to_string(), t["event"]["by"].as_str().unwrap().to_string()))
        .collect()
}

fn one_refusal(answer: ServerMsg) -> Refusal {
    match answer {
        ServerMsg::Refused { refusals } if refusals.len() == 1 => refusals.into_iter().next().expect("one"),
        other => panic!("expected one refusal, got {other:?}"),
    }
}

#[test]
fn the_offline_preview_is_what_the_server_decides() {
    let co = Company::new();
    let c = co.customer("遵义老酒馆");
    // At policy, 2 % below (within the rep's 3 %), and 4.09 % below (needs the manager).
    let o = co.order(&c, &[("SC-52-500", 12, 53_900), ("JX-53-475", 6, 31_164), ("QY-53-500X6", 2, 690_000)]);
    let preview = co.rep.json(&["order", "price", &o]);
    assert_eq!(preview["verdict"], "needs_approval", "{preview:#}");
    assert_eq!(preview["policy_version"], 1);
    assert_eq!(preview["approvals"][0]["role"], "manager");
    assert_eq!(preview["lines"][1]["discount_bp"], 200);
    co.rep.ok(&["order", "submit", &o]);
    co.rep.sync();

    let view = co.rep.order(&o);
    let verdict = &view["verdict"];
    assert_eq!(verdict["priced"], preview, "the server priced exactly as the device did offline");
    assert_eq!((verdict["verdict"].as_str(), verdict["policy_version"].as_u64()), (Some("needs_approval"), Some(1)));
    assert_eq!((verdict["priced_with"].as_u64(), verdict["stale"].as_bool()), (Some(1), Some(false)));
    assert_eq!(strings(&verdict["required"]), ["manager"]);
    assert_eq!(view["verdict_current"], true);
    assert_eq!(view["lifecycle"]["status"], "awaiting-approval");
    assert_eq!(strings(&view["lifecycle"]["missing_approvals"]), ["manager"]);
    assert_eq!(co.assignments(&o), 0);

    // The manager sees the same verdict, and prices the rep's order with the rep's authority.
    co.manager.sync();
    assert_eq!(co.manager.order(&o)["verdict"], *verdict);
    assert_eq!(co.manager.json(&["order", "price", &o]), preview);
    let queue = co.manager.json(&["approvals", "list"]);
    assert_eq!(queue.as_array().map(|q| q.len()), Some(1), "{queue:#}");
    assert_eq!(queue[0]["id"], o.as_str());
    assert_eq!(co.rep.json(&["approvals", "list"]), serde_json::json!([]), "a rep approves nothing");
}

#[test]
fn a_rep_pricing_with_yesterdays_policy_is_flagged_stale_with_the_difference() {
    let co = Company::new();
    // Overnight, after li's last sync, the market department publishes version 2 from its
    // own device: SC-52-500's wholesale price went from 539.00 to 569.00 six hours ago.
    let now = jiuloop_cli::now_ms();
    let dir = TempDir::new("policy-v2");
    let v2 = dir.path().join("v2.csv");
    let text = example_text().replace("\npolicy,1,", "\npolicy,2,")
        + &format!(
            "adjustment,ADJ-NIGHT,SC-52-500,wholesale,569.00,{},{},夜间调价\n",
            protocol::time::rfc3339(now - 30 * 3_600_000),
            protocol::time::rfc3339(now - 6 * 3_600_000)
        );
    std::fs::write(&v2, text).expect("write v2");
    assert_eq!(co.market.ok(&["policy", "import", v2.to_str().unwrap()]), "2");
    co.market.sync();
    let shown: Value = serde_json::from_str(&co.server.admin_ok(&["policy", "show", "--json"])).unwrap();
    assert_eq!(shown["versions"], serde_json::json!([1, 2]), "the market's publication was accepted");

    // li, offline with version 1, sells at yesterday's price.
    let c = co.customer("仁怀酒家");
    let o = co.order(&c, &[("SC-52-500", 10, 53_900)]);
    let preview = co.rep.json(&["order", "price", &o]);
    assert_eq!((preview["policy_version"].as_u64(), preview["verdict"].as_str()), (Some(1), Some("ok")));
    co.rep.ok(&["order", "submit", &o]);
    co.rep.sync();

    let view = co.rep.order(&o);
    let v = &view["verdict"];
    assert_eq!(
        (v["stale"].as_bool(), v["priced_with"].as_u64(), v["policy_version"].as_u64()),
        (Some(true), Some(1), Some(2))
    );
    assert_eq!(v["verdict"], "needs_approval");
    let line = &v["priced"]["lines"][0];
    assert_eq!(
        (line["unit_price_fen"].as_i64(), line["expected_unit_price_fen"].as_i64()),
        (Some(53_900), Some(56_900))
    );
    assert_eq!(line["discount_bp"], 528, "5.27 % below today's price, rounded up");
    assert!(line["findings"][0].get("below_policy_price").is_some(), "{line:#}");
    assert_eq!(view["lines"][0]["unit_price_fen"], 53_900, "the rep's price is kept, never rewritten");
    assert_eq!(view["lifecycle"]["status"], "awaiting-approval");
    // The device now holds version 2 and prices as the server did.
    assert_eq!(co.rep.json(&["order", "price", &o]), v["priced"]);
}

#[test]
fn an_edit_after_an_offline_approval_voids_it() {
    let co = Company::new();
    let c = co.customer("湄潭酒楼");
    let o = co.order(&c, &[("QY-53-500X6", 2, 690_000)]);
    co.rep.ok(&["order", "submit", &o]);
    co.rep.sync();
    co.manager.sync();
    assert_eq!(status(&co.manager, &o), "awaiting-approval");

    // Both offline: the manager approves what they see, the rep changes a quantity.
    co.manager.ok(&["order", "approve", &o, "--comment", "同意，老客户"]);
    assert_eq!(status(&co.manager, &o), "confirmed", "locally the approval covers what the manager saw");
    co.rep.ok(&["order", "set-line", &o, "1", "--qty", "3"]);
    co.rep.sync();
    co.manager.sync();
    co.rep.sync();

    for d in [&co.rep, &co.manager] {
        let view = d.order(&o);
        assert_eq!(view["lines"][0]["qty"], 3, "[{}]", d.name);
        assert_eq!(view["lifecycle"]["status"], "awaiting-approval", "[{}] {view:#}", d.name);
        assert_eq!(view["lifecycle"]["valid_approvals"], serde_json::json!([]), "[{}]", d.name);
        let approval = view["events"].as_array().unwrap().iter().find(|e| e["kind"] == "approved").cloned();
        let approval = approval.unwrap_or_else(|| panic!("[{}] the approval is kept on record", d.name));
        assert_ne!(approval["hash"], view["verdict"]["content_hash"], "[{}] it approved other content", d.name);
        assert_eq!(view["verdict_current"], true, "[{}]", d.name);
    }
    assert_eq!(co.assignments(&o), 0, "never confirmed: nothing was handed to logistics or finance");

    // Approving again, the current content this time, confirms it.
    co.manager.ok(&["order", "approve", &o]);
    co.manager.sync();
    co.rep.sync();
    assert_eq!(status(&co.rep, &o), "confirmed");
    assert_eq!(co.assignments(&o), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_below_floor_price_waits_for_the_manager_and_others_may_not_approve() {
    let co = Company::new();
    let c = co.customer("凤冈农家乐");
    // 500.00 instead of 539.00: 7.24 % below, above the rep's 3 %, within the manager's 8 %.
    let o = co.order(&c, &[("SC-52-500", 20, 50_000)]);
    co.rep.ok(&["order", "submit", &o]);
    co.rep.sync();
    co.sync_all();
    for d in co.all() {
        let view = d.order(&o);
        assert_eq!(view["verdict"]["verdict"], "needs_approval", "[{}]", d.name);
        assert_eq!(strings(&view["verdict"]["required"]), ["manager"], "[{}]", d.name);
        assert_eq!(view["lines"][0]["unit_price_fen"], 50_000, "[{}] quarantined, not repriced", d.name);
        assert_eq!(view["lifecycle"]["status"], "awaiting-approval", "[{}]", d.name);
    }

    // Logistics and finance may not approve: their CLI refuses at once, offline.
    for d in [&co.logistics, &co.finance, &co.rep] {
        let err = d.fail(&["order", "approve", &o]);
        assert!(err.contains("event-role"), "[{}] {err}", d.name);
    }
    // A hostile client of logistics' writes the approval anyway: the server refuses it.
    let order_id: DocId = o.parse().unwrap();
    let (mut sun, up) = RawClient::caught_up(&co.server, "sun").await;
    let mut forged = LocalDoc::from_chunks(order_id, DocKind::Order, &sun.actor, &up.chunks_of(order_id));
    let hash = co.rep.order(&o)["verdict"]["content_hash"].as_str().unwrap().to_string();
    let approval = |by: &str, role: &str| OrderEvent {
        kind: "approved".into(),
        at: jiuloop_cli::now_ms(),
        by: by.into(),
        role: Some(role.into()),
        hash: Some(hash.clone()),
        ..Default::default()
    };
    order::append_event(&mut forged.doc, &approval("sun", "logistics")).unwrap();
    let r = one_refusal(sun.push(vec![forged.chunk()]).await);
    assert_eq!((r.code, r.path.as_str(), r.rule.as_str()), (ErrorCode::Forbidden, "events", "event-role"), "{r:?}");
    // … or passes it off as the manager's: the approver must be the writer, in their own role.
    let mut forged = LocalDoc::from_chunks(order_id, DocKind::Order, &sun.actor, &up.chunks_of(order_id));
    order::append_event(&mut forged.doc, &approval("zhang", "manager")).unwrap();
    let r = one_refusal(sun.push(vec![forged.chunk()]).await);
    assert_eq!((r.path.as_str(), r.rule.as_str()), ("events", "event-role"), "{r:?}");
    // The manager's own device claiming the executive's authority is refused too.
    let (mut zhang, up) = RawClient::caught_up(&co.server, "zhang").await;
    let mut forged = LocalDoc::from_chunks(order_id, DocKind::Order, &zhang.actor, &up.chunks_of(order_id));
    order::append_event(&mut forged.doc, &approval("zhang", "executive")).unwrap();
    let r = one_refusal(zhang.push(vec![forged.chunk()]).await);
    assert_eq!((r.path.as_str(), r.rule.as_str()), ("events", "event-approver-role"), "{r:?}");
    // And nobody rewrites history: changing the submission event is refused.
    let mut forged = LocalDoc::from_chunks(order_id, DocKind::Order, &zhang.actor, &up.chunks_of(order_id));
    let rewritten = protocol::schema::order::read(&forged.doc, order_id).unwrap();
    assert!(rewritten.events.iter().any(|e| e.kind == "submitted"));
    tamper_first_event(&mut forged);
    let r = one_refusal(zhang.push(vec![forged.chunk()]).await);
    assert_eq!((r.path.as_str(), r.rule.as_str()), ("events", "events-append-only"), "{r:?}");
    sun.close().await;
    zhang.close().await;
    co.sync_all();
    let view = co.rep.order(&o);
    assert!(view["events"].as_array().unwrap().iter().all(|e| e["kind"] != "approved"), "nothing forged got in");
    assert_eq!(view["events"][0]["by"], "li");

    // The manager approves: confirmed, handed to logistics and finance, and it proceeds.
    co.manager.ok(&["order", "approve", &o, "--comment", "批量采购，同意"]);
    co.manager.sync();
    co.sync_all();
    assert_eq!(status(&co.rep, &o), "confirmed");
    assert!(co.rep.order(&o)["verdict"]["assigned_at"].is_i64(), "the verdict says when it was assigned");
    assert_eq!((co.assignments(&o), co.notifications(&o)), (1, 2));
    co.finance.ok(&["order", "pay-confirm", &o]);
    co.finance.sync();
    co.logistics.sync();
    co.logistics.ok(&["order", "ship", &o, "--carrier", "顺丰速运", "--tracking", "SF1234567890"]);
    co.logistics.sync();
    co.rep.sync();
    let view = co.rep.order(&o);
    assert_eq!(
        (view["lifecycle"]["status"].as_str(), view["lifecycle"]["paid"].as_bool()),
        (Some("shipped"), Some(true))
    );
}

/// Rewrite the `by` of the order's first event (an existing entry) in the local replica.
fn tamper_first_event(d: &mut LocalDoc) {
    use automerge::ReadDoc;
    use automerge::transaction::Transactable;
    let list = match d.doc.get(automerge::ROOT, "events").unwrap() {
        Some((_, id)) => id,
        None => panic!("an order has events"),
    };
    let first = d.doc.get(&list, 0).unwrap().expect("a first event").1;
    d.doc.put(&first, "by", "zhang").unwrap();
}

#[test]
fn draft_to_closed_over_real_sync_with_every_exception() {
    let co = Company::new();
    let c = co.customer("贵阳喜宴酒楼");
    let o = co.order(&c, &[("SC-52-500", 12, 53_900), ("JX-42-500", 24, 2_990)]);
    assert_eq!(status(&co.rep, &o), "draft");
    co.rep.ok(&["order", "set", &o, "delivery_place", "贵阳市南明区"]);
    co.rep.ok(&["order", "submit", &o]);
    co.rep.sync();
    co.sync_all();
    for d in co.all() {
        assert_eq!(status(d, &o), "confirmed", "[{}] within policy: no approval needed", d.name);
    }
    // Logistics and finance were told, once each.
    let told: Value = serde_json::from_str(&co.server.admin_ok(&["notifications", "--order", &o, "--json"])).unwrap();
    let departments: Vec<&str> = told.as_array().unwrap().iter().map(|n| n["department"].as_str().unwrap()).collect();
    assert_eq!(departments, ["logistics", "finance"]);
    assert!(co.server.admin_ok(&["notifications", "--department", "logistics"]).contains(&o));

    let step = |d: &Device, args: &[&str]| {
        d.ok(args);
        d.sync();
    };
    step(&co.finance, &["order", "pay-confirm", &o]);
    co.logistics.sync();
    step(&co.logistics, &["order", "ship", &o, "--carrier", "德邦物流", "--tracking", "DB20261128"]);
    step(&co.logistics, &["order", "exception", &o, "--kind", "delayed", "--note", "暴雨封路，预计晚到两天"]);
    step(&co.logistics, &["order", "resolve", &o, "--note", "已改道送达"]);
    step(&co.logistics, &["order", "exception", &o, "--kind", "refused", "--note", "客户称未约定送货时间，拒收"]);
    co.rep.sync();
    // The rep agrees a new date with the customer; the department that raised the
    // exception resolves it (a rep may not resolve another department's exception).
    step(&co.logistics, &["order", "resolve", &o, "--note", "已与客户约定次日送货"]);
    co.logistics.sync();
    step(&co.logistics, &["order", "deliver", &o, "--feedback", "客户已签收"]);
    co.rep.sync();
    step(&co.rep, &["order", "exception", &o, "--kind", "damaged", "--note", "两瓶破损"]);
    // While an exception is open the order cannot close.
    co.rep.ok(&["order", "close", &o]);
    assert_eq!(status(&co.rep, &o), "delivered");
    step(&co.rep, &["order", "resolve", &o, "--note", "已补发两瓶"]);
    step(&co.rep, &["order", "close", &o]);

    co.sync_all();
    let reference = co.rep.order(&o);
    for d in co.all() {
        let view = d.order(&o);
        assert_eq!(view["lifecycle"], reference["lifecycle"], "[{}] every device shows the same history", d.name);
    }
    let l = &reference["lifecycle"];
    assert_eq!((l["status"].as_str(), l["paid"].as_bool()), (Some("closed"), Some(true)), "{l:#}");
    assert_eq!(l["open_exceptions"], serde_json::json!([]));
    let steps = applied_steps(&reference);
    let kinds: Vec<&str> = steps.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "created",
            "submitted",
            "paid",
            "shipped",
            "exception",
            "resolved",
            "exception",
            "resolved",
            "delivered",
            "exception",
            "resolved",
            "closed"
        ]
    );
    let who: Vec<&str> = steps.iter().map(|(_, by)| by.as_str()).collect();
    assert_eq!(who, ["li", "li", "qian", "sun", "sun", "sun", "sun", "sun", "sun", "li", "li", "li"]);
    let shipped = reference["events"].as_array().unwrap().iter().find(|e| e["kind"] == "shipped").unwrap();
    assert_eq!((shipped["carrier"].as_str(), shipped["tracking"].as_str()), (Some("德邦物流"), Some("DB20261128")));
    let kinds: Vec<&str> =
        reference["events"].as_array().unwrap().iter().filter_map(|e| e["exception"].as_str()).collect();
    assert_eq!(kinds, ["delayed", "refused", "damaged"]);
    // The not-applied close is on record, with why.
    let early_close = l["timeline"].as_array().unwrap().iter().find(|t| t["event"]["kind"] == "closed").unwrap();
    assert_eq!(early_close["applied"], false);
    assert!(early_close["note"].as_str().unwrap().contains("delivered"), "{early_close:#}");
    assert_eq!((co.assignments(&o), co.notifications(&o)), (1, 2));
}

#[test]
fn concurrent_cancel_and_ship_resolve_the_same_legal_way_everywhere() {
    let co = Company::new();
    // Cancelled first, shipped after (both offline): the order is cancelled; the shipment
    // is kept on record as not applied.
    let first = co.confirmed_order("安顺酒行");
    // Shipped first, cancelled after: a cancel after shipment becomes an exception.
    let second = co.confirmed_order("都匀酒行");
    co.logistics.sync();
    // Both offline; the server orders concurrent steps by arrival: the cancellation of the
    // first reaches it first, the shipment of the second does.
    co.rep.ok(&["order", "cancel", &first]);
    co.logistics.ok(&["order", "ship", &first, "--carrier", "顺丰速运", "--tracking", "SF1"]);
    co.rep.sync();
    co.logistics.ok(&["order", "ship", &second, "--carrier", "顺丰速运", "--tracking", "SF2"]);
    co.logistics.sync();
    co.rep.ok(&["order", "cancel", &second]);
    co.rep.sync();
    co.logistics.sync();
    co.sync_all();

    let first_ref = co.manager.order(&first);
    let second_ref = co.manager.order(&second);
    for d in co.all() {
        assert_eq!(d.order(&first)["lifecycle"], first_ref["lifecycle"], "[{}]", d.name);
        assert_eq!(d.order(&second)["lifecycle"], second_ref["lifecycle"], "[{}]", d.name);
    }
    assert_eq!(first_ref["lifecycle"]["status"], "cancelled");
    let shipped =
        first_ref["lifecycle"]["timeline"].as_array().unwrap().iter().find(|t| t["event"]["kind"] == "shipped");
    assert_eq!(shipped.unwrap()["applied"], false, "kept, not applied");
    let l = &second_ref["lifecycle"];
    assert_eq!(l["status"], "shipped");
    assert_eq!(l["open_exceptions"][0]["exception"], "cancel-after-shipment", "{l:#}");
    // Logistics resolves it (goods returned); the order stays a legal, shipped order.
    co.logistics.ok(&["order", "resolve", &second, "--note", "客户退回，已入库"]);
    co.logistics.sync();
    co.rep.sync();
    assert_eq!(co.rep.order(&second)["lifecycle"]["open_exceptions"], serde_json::json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnects_and_resends_never_duplicate_assignments_or_notifications() {
    let mut co = Company::new();
    let o = co.confirmed_order("息烽酒坊");
    assert_eq!((co.assignments(&o), co.notifications(&o)), (1, 2));
    let verdicts = co.verdict_changes(&o);
    assert_eq!(verdicts, 1, "checked once: within policy, confirmed and assigned at once");

    // A raw client of li's resends the whole order again and again, on fresh connections.
    let order_id: DocId = o.parse().unwrap();
    for _ in 0..3 {
        let (mut li, up) = RawClient::caught_up(&co.server, "li").await;
        let mut again = LocalDoc::from_chunks(order_id, DocKind::Order, &li.actor, &up.chunks_of(order_id));
        match li.push(vec![again.full_chunk()]).await {
            ServerMsg::Ack { docs } => assert_eq!(docs[0].seq, 0, "nothing new to store"),
            other => panic!("expected an Ack, got {other:?}"),
        }
        // Pipelined twice in one frame, too.
        li.send(&ClientMsg::Push { docs: vec![again.full_chunk(), again.full_chunk()] }).await;
        li.close().await;
    }
    // Devices reconnect, the server restarts, devices reconnect again.
    co.sync_all();
    co.server.restart();
    co.sync_all();
    co.rep.ok(&["order", "set", &o, "notes", "客户要求开专票"]);
    co.rep.sync();
    // A new policy version re-checks orders not yet confirmed, never this one.
    co.server.admin_ok(&["policy", "import", example_policy().to_str().unwrap()]);
    co.sync_all();

    assert_eq!((co.assignments(&o), co.notifications(&o)), (1, 2));
    assert_eq!(co.verdict_changes(&o), verdicts, "no verdict churn on resends and unrelated edits");
    let all: Value = serde_json::from_str(&co.server.admin_ok(&["notifications", "--json"])).unwrap();
    assert_eq!(all.as_array().map(|a| a.len()), Some(2));
    assert_eq!(status(&co.finance, &o), "confirmed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_policy_rows_are_reported_by_line_and_nothing_is_applied() {
    let mut co = Company::new();
    let good = example_text();
    let lines: Vec<&str> = good.lines().collect();
    let line_of = |prefix: &str| lines.iter().position(|l| l.starts_with(prefix)).expect("row in the example") + 1;
    let bad_rows = [
        ("price,SC-52-500,wholesale,", "price,SC-52-500,wholesale,五百三十九"),
        ("sku,JX-42-500,", "sku,JX-42-500,晋香,晋香·光瓶,500ml,420%vol,清香,瓶,12,yes"),
        ("threshold,200000,", "threshold,200000,boss"),
    ];
    let mut text: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    let mut expected = Vec::new();
    for (prefix, replacement) in bad_rows {
        let n = line_of(prefix);
        text[n - 1] = replacement.to_string();
        expected.push(n);
    }
    let dir = TempDir::new("bad-policy");
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, text.join("\n").replace("\npolicy,1,", "\npolicy,5,")).unwrap();
    let bad = bad.to_str().unwrap();

    let err = co.server.admin_fail(&["policy", "import", bad]);
    for n in &expected {
        assert!(err.contains(&format!("line {n}:")), "line {n} is reported:\n{err}");
    }
    assert!(err.contains("nothing was applied"), "{err}");
    // The market department's client reports them the same way, and publishes nothing.
    let err = co.market.fail(&["policy", "import", bad]);
    for n in &expected {
        assert!(err.contains(&format!("line {n}:")), "line {n} is reported:\n{err}");
    }
    co.sync_all();
    for d in co.all() {
        assert_eq!(d.json(&["policy", "show"])["version"], 1, "[{}]", d.name);
    }
    let shown: Value = serde_json::from_str(&co.server.admin_ok(&["policy", "show", "--json"])).unwrap();
    assert_eq!(shown["versions"], serde_json::json!([1]));

    // A hostile market client pushing a version whose body is not a policy is refused.
    let (mut ma, up) = RawClient::caught_up(&co.server, "ma").await;
    let policy_id = protocol::schema::policy_doc::POLICY_DOC_ID;
    let mut doc = LocalDoc::from_chunks(policy_id, DocKind::Policy, &ma.actor, &up.chunks_of(policy_id));
    push_garbage_version(&mut doc);
    let r = one_refusal(ma.push(vec![doc.chunk()]).await);
    assert_eq!(
        (r.code, r.path.as_str(), r.rule.as_str()),
        (ErrorCode::Forbidden, "versions", "policy-invalid"),
        "{r:?}"
    );
    ma.close().await;

    // With the server stopped the import applies directly; devices get it on their next sync.
    co.server.kill9();
    let out = co.server.admin_ok(&["policy", "import", example_policy().to_str().unwrap()]);
    assert!(out.contains("version 2"), "{out}");
    co.server.start();
    co.rep.sync();
    assert_eq!(co.rep.json(&["policy", "show"])["version"], 2);
}

/// Append a version whose body is not a policy to the local policy document.
fn push_garbage_version(d: &mut LocalDoc) {
    use automerge::transaction::Transactable;
    use automerge::{ReadDoc, ScalarValue};
    let list = d.doc.get(automerge::ROOT, "versions").unwrap().expect("versions").1;
    let n = d.doc.length(&list);
    let v = d.doc.insert_object(&list, n, automerge::ObjType::Map).unwrap();
    d.doc.put(&v, "version", 9).unwrap();
    d.doc.put(&v, "published_at", ScalarValue::Timestamp(jiuloop_cli::now_ms())).unwrap();
    d.doc.put(&v, "published_by", "ma").unwrap();
    d.doc.put(&v, "body", ScalarValue::Bytes(b"not a policy".to_vec())).unwrap();
}
