//! Who may read and write what, over the whole system: a real server process, real CLI
//! profiles (their SQLite files inspected directly) and a hostile client speaking the raw
//! protocol.

use jiuloop_tests::{Auth, Device, Incoming, LocalDoc, RawClient, TestServer};
use protocol::wire::{ClientMsg, DocChunk, Refusal};
use protocol::{DocId, DocKind, ErrorCode, ServerMsg};
use serde_json::Value;
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

const SC: &str = "四川";
const GZ: &str = "贵州";

/// A hostile edit of li's own customer and order; returns the chunk to push.
type Tamper = Box<dyn Fn(&mut LocalDoc, &mut LocalDoc) -> DocChunk>;

/// A server with these users (name, role, territory, manager), started.
fn server_with(users: &[(&str, &str, Option<&str>, Option<&str>)]) -> TestServer {
    server_with_args(&[], users)
}

fn server_with_args(args: &[&str], users: &[(&str, &str, Option<&str>, Option<&str>)]) -> TestServer {
    let mut s = TestServer::with_args(args);
    for (name, role, territory, manager) in users {
        s.add_user_with(name, role, *territory, *manager);
    }
    s.start();
    s
}

fn set<I: IntoIterator<Item = String>>(items: I) -> BTreeSet<String> {
    items.into_iter().collect()
}

fn ids_of(list: &Value) -> BTreeSet<String> {
    list.as_array().into_iter().flatten().map(|r| r["id"].as_str().expect("id").to_string()).collect()
}

fn chunk_ids(chunks: &[DocChunk]) -> BTreeSet<String> {
    chunks.iter().map(|c| c.id.to_string()).collect()
}

fn refusal(answer: ServerMsg) -> Refusal {
    match answer {
        ServerMsg::Refused { refusals } if refusals.len() == 1 => refusals.into_iter().next().expect("one"),
        other => panic!("expected one refusal, got {other:?}"),
    }
}

/// Reads until a `Forget` arrives (other messages are skipped); returns its documents.
async fn wait_for_forget(c: &mut RawClient, within: Duration) -> BTreeSet<String> {
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match c.next(left).await {
            Some(Incoming::Msg(ServerMsg::Forget { docs, reason })) => {
                assert!(!reason.is_empty(), "a forget says why");
                return docs.iter().map(DocId::to_string).collect();
            }
            Some(Incoming::Msg(_)) => {}
            None => panic!("no Forget within {within:?}"),
            Some(other) => panic!("connection failed while waiting for Forget: {other:?}"),
        }
    }
}

/// Reads live `Changes` until every one of `ids` has arrived (each with a cursor).
async fn wait_for_docs(c: &mut RawClient, ids: &BTreeSet<String>, within: Duration) -> BTreeSet<String> {
    let deadline = Instant::now() + within;
    let mut got = BTreeSet::new();
    while !ids.is_subset(&got) {
        let left = deadline.saturating_duration_since(Instant::now());
        match c.next(left).await {
            Some(Incoming::Msg(ServerMsg::Changes { docs, cursor })) => {
                assert!(cursor.is_some(), "live changes carry a cursor");
                got.extend(docs.iter().map(|d| d.id.to_string()));
            }
            Some(Incoming::Msg(_)) => {}
            None => panic!("only {got:?} of {ids:?} arrived within {within:?}"),
            Some(other) => panic!("connection failed while waiting for {ids:?}: {other:?}"),
        }
    }
    got
}

/// Reads until `Error{code}` and the close frame with its close code.
async fn expect_closed_with(c: &mut RawClient, code: ErrorCode, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match c.next(left).await {
            Some(Incoming::Msg(ServerMsg::Error { code: got, message })) => {
                assert_eq!(got, code, "{message}");
                match c.next(Duration::from_secs(5)).await {
                    Some(Incoming::Close(Some(close))) => assert_eq!(close, code.close_code()),
                    other => panic!("expected a close frame after Error({code}), got {other:?}"),
                }
                return;
            }
            Some(Incoming::Msg(_)) => {}
            None => panic!("the connection was not closed with {code} within {within:?}"),
            Some(other) => panic!("expected Error({code}) before the close, got {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sichuan_rep_never_receives_a_guizhou_customer_its_visits_or_orders() {
    let server = server_with(&[
        ("wang", "rep", Some(GZ), None),
        ("li", "rep", Some(SC), None),
        ("liu", "logistics", None, None),
    ]);
    let wang = Device::logged_in(&server, "wang");
    let gz_customer = wang.add_customer("遵义名酒行", &[]);
    let gz_visit = wang.ok(&["visit", "add", "--customer", &gz_customer, "--kind", "follow-up", "--notes", "贵州拜访"]);
    let gz_order = wang.ok(&["order", "new", "--customer", &gz_customer]);
    wang.ok(&["order", "add-line", &gz_order, "--sku", "飞天53度", "--qty", "6", "--unit-price", "149900"]);
    wang.sync();

    let li = Device::logged_in(&server, "li");
    let sc_customer = li.add_customer("成都锦江酒行", &[]);
    li.sync();
    // While li syncs again, wang keeps writing in 贵州.
    wang.ok(&["customer", "set", &gz_customer, "phone", "13800000001"]);
    wang.sync();
    li.sync();

    // What the API shows…
    assert_eq!(ids_of(&li.customers()), set([sc_customer.clone()]));
    assert_eq!(ids_of(&li.orders()), BTreeSet::new());
    // … and what is on the disk: the tables docs and chunks hold li's customer only.
    let stored = li.stored_docs();
    assert_eq!(set(stored.iter().map(|d| d.id.clone())), set([sc_customer.clone()]), "{stored:?}");
    for d in &stored {
        assert_ne!(d.territory.as_deref(), Some(GZ), "{d:?}");
        assert_ne!(d.customer.as_deref(), Some(gz_customer.as_str()), "{d:?}");
        assert!(![&gz_customer, &gz_visit, &gz_order].contains(&&d.id));
    }
    let raw_file = std::fs::read(li.profile().join("jiuloop.db")).expect("read the device's database");
    let needle = "遵义名酒行".as_bytes();
    assert!(!raw_file.windows(needle.len()).any(|w| w == needle), "the 贵州 customer's name is in li's file");

    // The protocol agrees: a raw client of li's catches up with li's customer only, and
    // asking for the 贵州 documents by id gives nothing.
    let (mut raw_li, up) = RawClient::caught_up(&server, "li").await;
    assert_eq!(chunk_ids(&up.chunks), set([sc_customer.clone()]));
    let wanted: Vec<DocId> = [&gz_customer, &gz_visit, &gz_order].iter().map(|s| s.parse().unwrap()).collect();
    raw_li.send(&ClientMsg::Resync { docs: wanted }).await;
    match raw_li.recv().await {
        ServerMsg::Changes { docs, .. } => assert!(docs.is_empty(), "resync leaked {docs:?}"),
        other => panic!("expected an empty Changes, got {other:?}"),
    }
    // Logistics reads customers and orders of every territory, but no visit logs.
    let (_, up) = RawClient::caught_up(&server, "liu").await;
    assert_eq!(chunk_ids(&up.chunks), set([gz_customer.clone(), gz_order.clone(), sc_customer.clone()]));
    // wang's second device gets 贵州's records.
    let wang2 = Device::logged_in(&server, "wang");
    wang2.sync();
    assert_eq!(ids_of(&wang2.customers()), set([gz_customer.clone()]));
    assert_eq!(ids_of(&wang2.visits(&gz_customer)), set([gz_visit]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_client_is_refused_each_time_and_nothing_leaks() {
    let server = server_with(&[
        ("wang", "rep", Some(GZ), None),
        ("zhao", "rep", Some(GZ), None),
        ("sun", "rep", Some(GZ), None),
        ("li", "rep", Some(SC), None),
        ("qian", "finance", None, None),
    ]);
    let wang = Device::logged_in(&server, "wang");
    let gz = wang.add_customer("贵阳老酒馆", &[]);
    let gz_order = wang.ok(&["order", "new", "--customer", &gz]);
    wang.ok(&["order", "add-line", &gz_order, "--sku", "飞天53度", "--qty", "2", "--unit-price", "149900"]);
    wang.sync();
    let observer = Device::logged_in(&server, "zhao");
    observer.sync();
    let gz_id: DocId = gz.parse().unwrap();
    let gz_order_id: DocId = gz_order.parse().unwrap();
    // A live 贵州 device: nothing refused may reach it.
    let (mut listener, _) = RawClient::caught_up(&server, "zhao").await;
    // Finance reads every order and customer: the hostile side gets real bytes from there.
    let (mut qian, qup) = RawClient::caught_up(&server, "qian").await;
    let (mut li, lup) = RawClient::caught_up(&server, "li").await;
    assert!(lup.chunks.is_empty());

    // 1. A change to another territory's document gets what the same change gets on an id
    //    the server does not know (its dependencies are unknown there: nothing held, no
    //    heads), and is audited; creating a document there is refused, at a new id or at
    //    the existing document's alike.
    let before = server.counts();
    let mut stolen = LocalDoc::from_chunks(gz_id, DocKind::Customer, &li.actor, &qup.chunks_of(gz_id));
    stolen.set_customer("phone", "13900000000");
    let change = stolen.chunk();
    let elsewhere = DocChunk { id: DocId::new_random(), ..change.clone() };
    let acked = |answer: ServerMsg| match answer {
        ServerMsg::Ack { docs } if docs.len() == 1 => (docs[0].heads.clone(), docs[0].seq),
        other => panic!("expected an ack of nothing, got {other:?}"),
    };
    let existing = acked(li.push(vec![change]).await);
    assert_eq!(existing, (vec![], 0), "nothing of the document, no heads");
    assert_eq!(acked(li.push(vec![elsewhere]).await), existing, "the same as for an unknown id");
    let mut planted = LocalDoc::new_customer_in(&li.actor, "冒充的贵州客户", GZ);
    let created = refusal(li.push(vec![planted.chunk()]).await);
    let mut planted_there = LocalDoc::new_customer_in(&li.actor, "冒充的贵州客户", GZ);
    planted_there.id = gz_id;
    let there = refusal(li.push(vec![planted_there.chunk()]).await);
    for r in [&there, &created] {
        assert_eq!((r.code, r.rule.as_str(), r.path.as_str()), (ErrorCode::Forbidden, "territory", ""), "{r:?}");
        assert!(r.server_heads.is_empty(), "a refusal reveals no heads: {r:?}");
    }
    assert_eq!(there.message, created.message, "a refusal does not tell whether the document exists");
    assert_eq!(server.counts(), before, "nothing stored");

    // 2. Protected fields of its own customer and order.
    let mut own = LocalDoc::new_customer_in(&li.actor, "成都自家客户", SC);
    let mut own_order = LocalDoc::new_order(&li.actor, own.id, "li");
    match li.push(vec![own.chunk(), own_order.chunk()]).await {
        ServerMsg::Ack { docs } => assert_eq!(docs.len(), 2, "{docs:?}"),
        other => panic!("li's own records are accepted, got {other:?}"),
    }
    let before = server.counts();
    let cases: Vec<(&str, &str, &str, Tamper)> = vec![
        (
            "territory of own customer",
            "territory",
            "role",
            Box::new(|c, _| {
                protocol::schema::customer::reassign(&mut c.doc, GZ, None).unwrap();
                c.chunk()
            }),
        ),
        (
            "owner of own customer",
            "owner",
            "role",
            Box::new(|c, _| {
                c.set_customer("owner", "zhao");
                c.chunk()
            }),
        ),
        (
            "created_by of own order",
            "created_by",
            "create-only",
            Box::new(|_, o| {
                use automerge::transaction::Transactable;
                o.doc.put(automerge::ROOT, "created_by", "wang").unwrap();
                o.chunk()
            }),
        ),
        (
            "customer of own order",
            "customer",
            "create-only",
            Box::new(|_, o| {
                use automerge::transaction::Transactable;
                o.doc.put(automerge::ROOT, "customer", DocId::new_random().to_string()).unwrap();
                o.chunk()
            }),
        ),
        (
            "deleting and re-creating doc_kind",
            "doc_kind",
            "create-only",
            Box::new(|c, _| {
                use automerge::transaction::Transactable;
                c.doc.delete(automerge::ROOT, "doc_kind").unwrap();
                c.doc.put(automerge::ROOT, "doc_kind", "customer").unwrap();
                c.chunk()
            }),
        ),
    ];
    for (what, path, rule, make) in &cases {
        // Each attempt starts from what the server holds.
        let mut c = LocalDoc::from_chunks(own.id, DocKind::Customer, &li.actor, &[&own.full_chunk()]);
        let mut o = LocalDoc::from_chunks(own_order.id, DocKind::Order, &li.actor, &[&own_order.full_chunk()]);
        let r = refusal(li.push(vec![make(&mut c, &mut o)]).await);
        assert_eq!((r.code, r.path.as_str(), r.rule.as_str()), (ErrorCode::Forbidden, *path, *rule), "{what}: {r:?}");
        assert!(!r.server_heads.is_empty(), "{what}: the device restores to the server's heads");
        assert!(!r.message.is_empty());
    }

    // 3. Deleting and re-creating a protected object: finance may record payment events on
    //    an order but not touch its lines.
    let mut order = LocalDoc::from_chunks(gz_order_id, DocKind::Order, &qian.actor, &qup.chunks_of(gz_order_id));
    {
        use automerge::transaction::Transactable;
        order.doc.delete(automerge::ROOT, "lines").unwrap();
        order.doc.put_object(automerge::ROOT, "lines", automerge::ObjType::List).unwrap();
    }
    let r = refusal(qian.push(vec![order.chunk()]).await);
    assert_eq!((r.code, r.path.as_str(), r.rule.as_str()), (ErrorCode::Forbidden, "lines", "role"), "{r:?}");

    // 4. A change made with another user's actor id (wang's, read off the customer's
    //    changes), and claiming that actor in a hello.
    let wang_actor =
        LocalDoc::from_chunks(gz_id, DocKind::Customer, &li.actor, &qup.chunks_of(gz_id)).actors()[0].clone();
    let mut forged = LocalDoc::from_chunks(own.id, DocKind::Customer, &wang_actor, &[&own.full_chunk()]);
    forged.set_customer("phone", "13000000000");
    let r = refusal(li.push(vec![forged.chunk()]).await);
    assert_eq!((r.code, r.rule.as_str()), (ErrorCode::ActorNotYours, "actor-registered"), "{r:?}");
    let mut thief = RawClient::login(&server, "li").await;
    thief.actor = wang_actor.clone();
    thief.hello(0).await;
    assert_eq!(thief.expect_error_close().await, ErrorCode::ActorNotYours);

    assert_eq!(server.counts(), before, "nothing of the refused changes was stored");
    listener.expect_silence(Duration::from_millis(300)).await;

    // 5. A token reused after logout: the open connection closes at once, a new one is
    //    refused.
    let device = uuid::Uuid::new_v4();
    let token = server.token("li", device);
    let mut open = RawClient::connect(server.addr(), Auth::Bearer(&token), device).await;
    open.hello(0).await;
    open.catch_up().await;
    assert_eq!(server.logout(&token).status, 204);
    expect_closed_with(&mut open, ErrorCode::Unauthorized, Duration::from_secs(5)).await;
    let rejected = RawClient::try_connect(server.addr(), Auth::Bearer(&token)).await.expect_err("token reused");
    assert_eq!((rejected.status, rejected.code().as_deref()), (401, Some("unauthorized")));

    // 6. A disabled user: open connections close within a fraction of a second (the admin
    //    command comes from another process), the token and logins are refused.
    let device = uuid::Uuid::new_v4();
    let sun_token = server.token("sun", device);
    let mut sun = RawClient::connect(server.addr(), Auth::Bearer(&sun_token), device).await;
    sun.hello(0).await;
    sun.catch_up().await;
    let said = server.admin_ok(&["user", "disable", "sun"]);
    assert!(said.contains("closed 1"), "{said}");
    expect_closed_with(&mut sun, ErrorCode::Revoked, Duration::from_secs(5)).await;
    let rejected = RawClient::try_connect(server.addr(), Auth::Bearer(&sun_token)).await.expect_err("disabled");
    assert_eq!((rejected.status, rejected.code().as_deref()), (403, Some("revoked")));
    let login = server.login("sun", jiuloop_tests::PASSWORD, uuid::Uuid::new_v4());
    assert_eq!((login.status, login.json()["code"].as_str()), (403, Some("revoked")));
    // A revoked device likewise.
    let (mut zhao_raw, _) = RawClient::caught_up(&server, "zhao").await;
    server.admin_ok(&["device", "revoke", &zhao_raw.device_id.to_string()]);
    expect_closed_with(&mut zhao_raw, ErrorCode::Revoked, Duration::from_secs(5)).await;

    // The audit trail has every refusal, with its rule.
    let trail = server.audit_json(&["--user", "li"]);
    let refused: Vec<(String, String)> = trail
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["outcome"] == "refused")
        .map(|e| (e["rule"].as_str().unwrap_or("").to_string(), e["doc"].as_str().unwrap_or("").to_string()))
        .collect();
    let rules: BTreeSet<&str> = refused.iter().map(|(r, _)| r.as_str()).collect();
    assert_eq!(rules, ["actor-registered", "create-only", "role", "territory"].into_iter().collect(), "{trail:#}");
    assert!(refused.iter().any(|(r, d)| r == "territory" && *d == gz), "the attempt on {gz} is recorded");
    assert_eq!(refused.len(), 3 + cases.len() + 1, "{trail:#}");
    let finance = server.audit_json(&["--user", "qian"]);
    assert_eq!(finance[0]["rule"], "role");
    assert_eq!(finance[0]["fields"], serde_json::json!(["lines"]));

    // Everyone else keeps syncing normally.
    wang.ok(&["customer", "set", &gz, "phone", "13811112222"]);
    wang.sync();
    let (_, chunk, _) = listener.wait_for_doc(gz_id, Duration::from_secs(5)).await;
    assert_eq!(chunk.id, gz_id);
    observer.sync();
    assert_eq!(observer.customer(&gz)["phone"], "13811112222");
    assert_eq!(observer.customer(&gz)["territory"], GZ);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offline_edit_of_a_reassigned_customer_lands_in_the_inbox_and_the_rest_is_kept() {
    let server = server_with(&[("li", "rep", Some(SC), None), ("wang", "rep", Some(GZ), None)]);
    let li = Device::logged_in(&server, "li");
    let moved = li.add_customer("甲酒行", &[]);
    let kept = li.add_customer("乙酒行", &[]);
    let moved_order = li.ok(&["order", "new", "--customer", &moved]);
    li.sync();
    let wang = Device::logged_in(&server, "wang");
    wang.sync();
    assert_eq!(ids_of(&wang.customers()), BTreeSet::new());

    // IT moves 甲 to 贵州 while li is offline; li, not knowing, keeps working.
    let said = server.reassign(&moved, GZ, Some("wang"));
    assert!(said.contains("1 of its records (visits, orders) followed"), "{said}");
    li.ok(&["customer", "set", &moved, "phone", "13811110000"]);
    li.ok(&["customer", "set", &kept, "phone", "13822220000"]);
    let fresh = li.add_customer("丙酒行", &[]);
    li.sync();

    // The refused edit is in the inbox, with the reason.
    let inbox = li.inbox();
    let items: Vec<&Value> = inbox.as_array().unwrap().iter().filter(|i| i["doc"] == moved.as_str()).collect();
    assert!(!items.is_empty(), "no inbox item for {moved}: {inbox:#}");
    for i in &items {
        assert_eq!(i["code"], "forbidden", "{i}");
        assert!(!i["message"].as_str().unwrap_or("").is_empty(), "{i}");
    }
    assert!(inbox.as_array().unwrap().iter().all(|i| i["doc"] == moved.as_str()), "only 甲's edit: {inbox:#}");

    // The other offline edits of the session were accepted.
    let li2 = Device::logged_in(&server, "li");
    li2.sync();
    assert_eq!(ids_of(&li2.customers()), set([kept.clone(), fresh.clone()]));
    assert_eq!(li2.customer(&kept)["phone"], "13822220000");

    // li's device converged: 甲 and its order are gone from it, nothing waits to be sent.
    assert_eq!(li.customers(), li2.customers());
    assert_eq!(ids_of(&li.orders()), BTreeSet::new());
    let stored: BTreeSet<String> = li.stored_docs().into_iter().map(|d| d.id).collect();
    assert!(!stored.contains(&moved) && !stored.contains(&moved_order), "{stored:?}");
    assert_eq!(li.pending_docs(), 0);
    let again = li.sync();
    assert_eq!(again.pushed_docs, 0, "{again:?}");

    // wang has 甲, in 贵州, without li's refused phone number.
    wang.sync();
    let c = wang.customer(&moved);
    assert_eq!((c["territory"].as_str(), c["owner"].as_str()), (Some(GZ), Some("wang")));
    assert_ne!(c["phone"], "13811110000");
    assert_eq!(ids_of(&wang.orders()), set([moved_order]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reassignment_moves_a_customer_and_its_records_between_devices() {
    let server = server_with(&[
        ("zhang", "manager", Some(SC), None),
        ("li", "rep", Some(SC), Some("zhang")),
        ("wang", "rep", Some(GZ), Some("zhang")),
    ]);
    let li = Device::logged_in(&server, "li");
    let x = li.add_customer("宜宾五粮液专卖", &[]);
    let visit = li.ok(&["visit", "add", "--customer", &x, "--kind", "tasting", "--notes", "品鉴会"]);
    let order = li.ok(&["order", "new", "--customer", &x]);
    li.sync();
    let wang = Device::logged_in(&server, "wang");
    wang.sync();
    let records = set([x.clone(), visit.clone(), order.clone()]);

    // Connected devices are told at once.
    let (mut li_live, up) = RawClient::caught_up(&server, "li").await;
    assert_eq!(chunk_ids(&up.chunks), records);
    let (mut wang_live, up) = RawClient::caught_up(&server, "wang").await;
    assert!(up.chunks.is_empty());
    let started = Instant::now();
    server.reassign(&x, GZ, Some("wang"));
    assert_eq!(wait_for_forget(&mut li_live, Duration::from_secs(5)).await, records);
    assert_eq!(wait_for_docs(&mut wang_live, &records, Duration::from_secs(5)).await, records);
    assert!(started.elapsed() < Duration::from_secs(5));

    // CLI devices on their next sync.
    li.sync();
    assert!(li.stored_docs().iter().all(|d| !records.contains(&d.id)), "{:?}", li.stored_docs());
    assert_eq!(ids_of(&li.customers()), BTreeSet::new());
    wang.sync();
    assert_eq!(ids_of(&wang.customers()), set([x.clone()]));
    assert_eq!(ids_of(&wang.visits(&x)), set([visit.clone()]));
    assert_eq!(ids_of(&wang.orders()), set([order.clone()]));
    assert_eq!(wang.customer(&x)["owner"], "wang");

    // The manager sees both territories and moves it back from a device.
    let zhang = Device::logged_in(&server, "zhang");
    zhang.sync();
    assert_eq!(ids_of(&zhang.customers()), set([x.clone()]));
    zhang.ok(&["customer", "reassign", &x, "--territory", SC, "--owner", "li"]);
    let stats = zhang.sync();
    assert!(stats.refused == serde_json::json!(0) || stats.refused == serde_json::json!([]), "{stats:?}");
    assert_eq!(wait_for_forget(&mut wang_live, Duration::from_secs(5)).await, records);
    li.sync();
    assert_eq!(ids_of(&li.customers()), set([x.clone()]));
    assert_eq!(ids_of(&li.visits(&x)), set([visit]));
    assert_eq!(ids_of(&li.orders()), set([order]));
    wang.sync();
    assert_eq!(ids_of(&wang.customers()), BTreeSet::new());
    // A rep may not move a customer, even from an honest client.
    let err = li.fail(&["customer", "reassign", &x, "--territory", GZ]);
    assert!(!err.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_trail_shows_who_changed_what_from_which_device() {
    let server = TestServer::started(&["wang", "zhao"]);
    let wang = Device::logged_in(&server, "wang");
    let zhao = Device::logged_in(&server, "zhao");
    let id = wang.add_customer("花溪酒庄", &["--phone", "13700000000"]);
    wang.sync();
    zhao.sync();
    zhao.ok(&["customer", "set", &id, "phone", "13900000009"]);
    zhao.sync();
    wang.sync();
    wang.ok(&["customer", "set", &id, "name", "花溪酒庄(新店)"]);
    wang.sync();

    let trail = server.audit_json(&["--doc", &id]);
    let entries = trail.as_array().expect("a JSON array");
    let who: Vec<(&str, &str)> =
        entries.iter().map(|e| (e["user"].as_str().unwrap(), e["device"].as_str().unwrap())).collect();
    let (wd, zd) = (wang.device_id(), zhao.device_id());
    assert_eq!(who, vec![("wang", wd.as_str()), ("zhao", zd.as_str()), ("wang", wd.as_str())], "{trail:#}");
    assert!(entries.iter().all(|e| e["outcome"] == "accepted" && e["doc"] == id.as_str() && e["kind"] == "customer"));
    assert_eq!(entries[1]["fields"], serde_json::json!(["phone"]));
    assert_eq!(
        entries[1]["changes"],
        serde_json::json!([{ "field": "phone", "old": "13700000000", "new": "13900000009" }])
    );
    assert_eq!(entries[2]["changes"][0]["new"], "花溪酒庄(新店)");
    for e in entries {
        let at = protocol::time::parse_rfc3339(e["at"].as_str().unwrap()).expect("RFC 3339 time");
        assert!((at - jiuloop_cli::now_ms()).abs() < 10 * 60_000, "{e}");
    }
    // The person-readable form says the same, in Shanghai time.
    let text = server.admin_ok(&["audit", "--doc", &id]);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[1].contains(&format!("zhao (device {zd})")), "{text}");
    assert!(lines[1].contains("phone: \"13700000000\" → \"13900000009\""), "{text}");
    let shanghai = protocol::time::display_local(jiuloop_cli::now_ms());
    assert!(lines[0].starts_with(&shanghai[..10]), "{text}");
    // A user's history.
    let zhaos = server.audit_json(&["--user", "zhao"]);
    assert_eq!(zhaos.as_array().unwrap().len(), 1);
    assert_eq!(zhaos[0]["device"], zd.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logins_are_rate_limited_tokens_expire_and_secrets_stay_out_of_the_log() {
    let ttl = 4;
    let server = TestServer::started_with(&["--token-ttl-secs", &ttl.to_string()], &["li", "wang", "zhao"]);
    // Password rules.
    let err = server.admin_fail(&["user", "add", jiuloop_tests::PASSWORD, "--role", "rep"]);
    assert!(err.contains("may not be the user name"), "{err}");

    // Token expiry: an open connection is closed when its token expires, the token no
    // longer opens one, and a CLI device is told to log in again.
    let device = uuid::Uuid::new_v4();
    let token = server.token("wang", device);
    let issued = Instant::now();
    let mut raw = RawClient::connect(server.addr(), Auth::Bearer(&token), device).await;
    raw.hello(0).await;
    raw.catch_up().await;
    let cli = Device::logged_in(&server, "zhao");
    let cli_logged_in = Instant::now();
    cli.sync();
    expect_closed_with(&mut raw, ErrorCode::TokenExpired, Duration::from_secs(ttl + 5)).await;
    assert!(issued.elapsed() >= Duration::from_secs(ttl - 1));
    let rejected = RawClient::try_connect(server.addr(), Auth::Bearer(&token)).await.expect_err("expired");
    assert_eq!((rejected.status, rejected.code().as_deref()), (401, Some("token_expired")));
    std::thread::sleep(
        (cli_logged_in + Duration::from_millis(ttl * 1000 + 300)).saturating_duration_since(Instant::now()),
    );
    let err = cli.fail(&["sync"]);
    assert!(!err.is_empty());

    // Failed logins: five for li from this address, then li is refused even with the
    // right password; another user is not affected …
    for _ in 0..5 {
        let r = server.login("li", "not-the-password", uuid::Uuid::new_v4());
        assert_eq!((r.status, r.json()["code"].as_str()), (401, Some("bad_credentials")));
    }
    let r = server.login("li", jiuloop_tests::PASSWORD, uuid::Uuid::new_v4());
    assert_eq!((r.status, r.json()["code"].as_str()), (429, Some("rate_limited")));
    assert_eq!(server.login("wang", jiuloop_tests::PASSWORD, uuid::Uuid::new_v4()).status, 200);
    // … until this address has failed for too many users: then everyone from it waits.
    for i in 0..15 {
        let r = server.login(&format!("guess{i}"), "not-the-password", uuid::Uuid::new_v4());
        assert_eq!(r.status, 401, "{}", r.text());
    }
    let r = server.login("wang", jiuloop_tests::PASSWORD, uuid::Uuid::new_v4());
    assert_eq!((r.status, r.json()["code"].as_str()), (429, Some("rate_limited")));

    // Neither tokens nor passwords appear in the server's log.
    let log = server.log();
    assert!(!log.contains(&token), "a token is in the log");
    assert!(!log.contains(jiuloop_tests::PASSWORD) && !log.contains("not-the-password"), "a password is in the log");
    let _ = raw.next(Duration::from_millis(10)).await;
}
