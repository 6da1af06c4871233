//! Several server processes on one PostgreSQL database (a real cluster started from
//! Debian's `postgresql` by the harness): a change stored through one node reaches devices
//! on the other within a second, admin commands reach every node's connections, a killed
//! node loses nothing acknowledged and the others keep serving — and take over its lead.

use jiuloop_server::storage::postgres::test_cluster::TestCluster;
use jiuloop_tests::{Device, Incoming, LocalDoc, RawClient, TestServer};
use protocol::{DocId, DocKind, ErrorCode, ServerMsg};
use std::time::{Duration, Instant};

const WITHIN: Duration = Duration::from_secs(1);

/// Two nodes on a fresh database with reps li and wang (贵州) and zhao (四川). (Built on
/// a thread of its own: the blocking PostgreSQL client may not run on the test's runtime.)
fn two_nodes() -> (TestServer, TestServer) {
    std::thread::spawn(two_nodes_now).join().expect("starting two nodes")
}

fn two_nodes_now() -> (TestServer, TestServer) {
    let url = TestCluster::shared().fresh_database();
    let mut a = TestServer::on_database(&url);
    a.add_user("li", "rep", Some("贵州"));
    a.add_user("wang", "rep", Some("贵州"));
    a.add_user("zhao", "rep", Some("四川"));
    a.start();
    let mut b = TestServer::on_database(&url);
    b.start();
    (a, b)
}

/// Reads until a message `pick` accepts arrives; panics with what came instead.
async fn wait_for<T>(c: &mut RawClient, within: Duration, mut pick: impl FnMut(&Incoming) -> Option<T>) -> T {
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match c.next(left).await {
            Some(m) => {
                if let Some(t) = pick(&m) {
                    return t;
                }
            }
            None => panic!("nothing matching within {within:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_pushed_to_one_node_reaches_a_device_on_the_other_within_a_second() {
    let (a, b) = two_nodes();
    let health = String::from_utf8_lossy(&a.health().body).to_string();
    assert!(health.contains("\"database\":\"postgres "), "/health names the database: {health}");

    let (mut listener, up) = RawClient::caught_up(&b, "wang").await;
    assert_eq!(up.docs_sent, 0);
    let (mut pusher, _) = RawClient::caught_up(&a, "li").await;
    let mut doc = LocalDoc::new_customer(&pusher.actor, "跨节点酒行");
    let id = doc.id;
    let answer = pusher.push(vec![doc.chunk()]).await;
    let acked = Instant::now();
    let seq = match answer {
        ServerMsg::Ack { docs } => docs[0].seq,
        other => panic!("expected an ack, got {other:?}"),
    };
    let (arrived, chunk, cursor) = listener.wait_for_doc(id, Duration::from_secs(5)).await;
    assert!(
        arrived <= acked + WITHIN,
        "relayed through the other node {:?} after the ack",
        arrived.saturating_duration_since(acked)
    );
    assert_eq!(cursor, Some(seq), "the relay carries the global sequence number");
    let mut replica = LocalDoc::from_chunks(id, DocKind::Customer, &listener.actor, &[&chunk]);
    assert_eq!(replica.customer().name, "跨节点酒行");

    // The other way round, and a device of another territory on node A hears nothing.
    let (mut outsider, _) = RawClient::caught_up(&a, "zhao").await;
    let mut theirs = LocalDoc::from_chunks(id, DocKind::Customer, &listener.actor, &[&chunk]);
    theirs.set_customer("phone", "13900000002");
    assert!(matches!(listener.push(vec![theirs.chunk()]).await, ServerMsg::Ack { .. }));
    let (_, back, _) = pusher.wait_for_doc(id, Duration::from_secs(5)).await;
    doc.apply(&back);
    assert_eq!(doc.customer().phone.as_deref(), Some("13900000002"));
    outsider.expect_silence(Duration::from_millis(600)).await;

    // A CLI device syncing through node B holds what was written through node A.
    let cli = Device::logged_in(&b, "li");
    cli.sync();
    let names: Vec<String> =
        cli.customers().as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap().to_string()).collect();
    assert_eq!(names, vec!["跨节点酒行".to_string()]);

    // Both nodes' /health count the one document, whichever node stored it (within a
    // heartbeat).
    let deadline = Instant::now() + Duration::from_secs(6);
    for node in [&a, &b] {
        loop {
            let health: serde_json::Value = serde_json::from_slice(&node.health().body).unwrap();
            if health["documents"] == 1 {
                break;
            }
            assert!(Instant::now() < deadline, "/health still counts {} documents", health["documents"]);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disabling_a_user_closes_their_connections_on_every_node() {
    let (a, b) = two_nodes();
    let (mut on_a, _) = RawClient::caught_up(&a, "wang").await;
    let (mut on_b, _) = RawClient::caught_up(&b, "wang").await;
    let (mut control, _) = RawClient::caught_up(&b, "li").await;
    let said = a.admin_ok(&["user", "disable", "wang"]);
    assert!(said.contains("disabled user wang"), "{said}");
    for c in [&mut on_a, &mut on_b] {
        let code = tokio::time::timeout(Duration::from_secs(3), c.expect_error_close())
            .await
            .expect("closed within 3 s on either node");
        assert_eq!(code, ErrorCode::Revoked);
    }
    // The honest control on the same node keeps working.
    let mut doc = LocalDoc::new_customer(&control.actor, "照常营业");
    assert!(matches!(control.push(vec![doc.chunk()]).await, ServerMsg::Ack { .. }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logging_out_on_one_node_closes_that_login_on_every_node() {
    use jiuloop_tests::Auth;
    let (a, b) = two_nodes();
    // One login (one token) connected through both nodes, and a second login of the same
    // rep beside it: only the ended login's connections close.
    let device = uuid::Uuid::new_v4();
    let token = a.token("wang", device);
    let mut on_a = RawClient::connect(a.addr(), Auth::Bearer(&token), device).await;
    let mut on_b = RawClient::connect(b.addr(), Auth::Bearer(&token), device).await;
    for c in [&mut on_a, &mut on_b] {
        c.hello(0).await;
        c.catch_up().await;
    }
    let (mut control, _) = RawClient::caught_up(&b, "wang").await;
    let said = a.logout(&token);
    assert_eq!(said.status, 204, "{said:?}");
    for c in [&mut on_a, &mut on_b] {
        let code = tokio::time::timeout(Duration::from_secs(3), c.expect_error_close())
            .await
            .expect("closed within 3 s on either node");
        assert_eq!(code, ErrorCode::Unauthorized);
    }
    let mut doc = LocalDoc::new_customer(&control.actor, "另一个登录照常");
    assert!(matches!(control.push(vec![doc.chunk()]).await, ServerMsg::Ack { .. }));
    // The ended token opens nothing on the other node either.
    assert!(RawClient::try_connect(b.addr(), Auth::Bearer(&token)).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reassignment_run_by_one_node_makes_devices_on_the_other_forget() {
    let (a, b) = two_nodes();
    let (mut li, _) = RawClient::caught_up(&b, "li").await;
    let mut doc = LocalDoc::new_customer(&li.actor, "要搬走的客户");
    let id: DocId = doc.id;
    assert!(matches!(li.push(vec![doc.chunk()]).await, ServerMsg::Ack { .. }));
    let (mut zhao, _) = RawClient::caught_up(&b, "zhao").await;

    let said = a.reassign(&id.to_string(), "四川", None);
    assert!(said.contains("moved"), "{said}");
    let forgotten = wait_for(&mut li, Duration::from_secs(3), |m| match m {
        Incoming::Msg(ServerMsg::Forget { docs, .. }) => Some(docs.clone()),
        _ => None,
    })
    .await;
    assert_eq!(forgotten, vec![id]);
    let (_, whole, _) = zhao.wait_for_doc(id, Duration::from_secs(3)).await;
    let mut theirs = LocalDoc::from_chunks(id, DocKind::Customer, &zhao.actor, &[&whole]);
    assert_eq!(theirs.customer().territory.as_deref(), Some("四川"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_node_loses_nothing_acknowledged_and_another_takes_over() {
    let (mut a, b) = two_nodes();
    let (mut li, _) = RawClient::caught_up(&a, "li").await;
    let mut ids = Vec::new();
    for n in 0..5 {
        let mut doc = LocalDoc::new_customer(&li.actor, &format!("客户{n}"));
        assert!(matches!(li.push(vec![doc.chunk()]).await, ServerMsg::Ack { .. }));
        ids.push(doc.id);
    }
    a.kill9();
    // The device reconnects through the surviving node and catches up on everything.
    let (_, up) = RawClient::caught_up(&b, "wang").await;
    for id in &ids {
        assert!(!up.chunks_of(*id).is_empty(), "acknowledged customer {id} is on the other node");
    }
    // Node A led (it started first); B takes the lead and carries out admin commands.
    let started = Instant::now();
    let said = b.admin_ok(&["user", "disable", "zhao"]);
    assert!(said.contains("disabled user zhao"), "{said} (after {:?})", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_edits_through_two_nodes_both_survive_on_both() {
    let (a, b) = two_nodes();
    let (mut li, _) = RawClient::caught_up(&a, "li").await;
    let mut doc = LocalDoc::new_customer(&li.actor, "两边都改");
    let id = doc.id;
    assert!(matches!(li.push(vec![doc.chunk()]).await, ServerMsg::Ack { .. }));
    let (mut wang, up) = RawClient::caught_up(&b, "wang").await;
    let mut theirs = LocalDoc::from_chunks(id, DocKind::Customer, &wang.actor, &up.chunks_of(id));
    // Both edit the same version, each through their own node, one after the other:
    // node A holds the customer in memory from the first push and must not build on it.
    theirs.set_customer("phone", "13900000003");
    assert!(matches!(wang.push(vec![theirs.chunk()]).await, ServerMsg::Ack { .. }));
    doc.set_customer("notes", "李写的");
    assert!(matches!(li.push(vec![doc.chunk()]).await, ServerMsg::Ack { .. }));
    for node in [&a, &b] {
        let (_, up) = RawClient::caught_up(node, "li").await;
        let mut seen = LocalDoc::from_chunks(id, DocKind::Customer, &up_actor(), &up.chunks_of(id));
        let c = seen.customer();
        assert_eq!((c.phone.as_deref(), c.notes.as_str()), (Some("13900000003"), "李写的"));
        let chunk = up.chunks_of(id)[0].clone();
        let mut heads = seen.heads();
        heads.sort();
        let mut stored = protocol::wire::hashes_from_wire(&chunk.heads);
        stored.sort();
        assert_eq!(stored, heads, "the stored heads are the merged document's");
    }
}

fn up_actor() -> automerge::ActorId {
    automerge::ActorId::random()
}

/// `jiuloop-server migrate --from DIR --to URL`.
fn migrate(from: &std::path::Path, to: &str) -> std::process::Output {
    let mut cmd = std::process::Command::new(&jiuloop_tests::bins().server);
    cmd.args(["migrate", "--from"]).arg(from).args(["--to", to]).env_remove("JIULOOP_DATABASE_URL");
    jiuloop_tests::process::run_with_timeout(cmd, Duration::from_secs(120), "jiuloop-server migrate")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_data_directory_migrated_to_postgres_serves_the_same_users_documents_and_cursors() {
    // A company on the embedded database: users, customers, an order, a reassignment.
    let mut old = TestServer::new();
    old.add_user("li", "rep", Some("贵州"));
    old.add_user("zhao", "rep", Some("四川"));
    old.start();
    let li = Device::logged_in(&old, "li");
    let kept = li.add_customer("迁移前的客户", &[]);
    let moved = li.add_customer("要去四川的客户", &[]);
    li.sync();
    old.reassign(&moved, "四川", None);
    let (mut raw, before) = RawClient::caught_up(&old, "zhao").await;
    raw.expect_silence(Duration::from_millis(100)).await;
    old.kill9();

    let url = std::thread::spawn(|| TestCluster::shared().fresh_database()).join().unwrap();
    let out = migrate(old.data_dir(), &url);
    let said = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "migrate failed: {said}{}", String::from_utf8_lossy(&out.stderr));
    assert!(said.contains("documents verified (heads equal)"), "{said}");
    assert!(said.contains(&format!("sequence at {}", before.cursor)), "the sequence continues: {said}");
    // A second migration into the same (now full) database is refused, nothing copied.
    let again = migrate(old.data_dir(), &url);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("is not empty"), "{:?}", again);

    let mut node = TestServer::on_database(&url);
    node.start();
    // The same passwords log in; zhao holds the moved customer and nothing else…
    let (mut zhao, up) = RawClient::caught_up(&node, "zhao").await;
    let ids: Vec<String> = up.chunks.iter().map(|c| c.id.to_string()).collect();
    assert!(ids.contains(&moved) && !ids.contains(&kept), "{ids:?}");
    assert_eq!(up.cursor, before.cursor, "cursors mean the same on the new database");
    // …and the next change is numbered after everything migrated.
    let id: DocId = moved.parse().unwrap();
    let mut doc = LocalDoc::from_chunks(id, DocKind::Customer, &zhao.actor, &up.chunks_of(id));
    doc.set_customer("phone", "13800000009");
    match zhao.push(vec![doc.chunk()]).await {
        ServerMsg::Ack { docs } => assert!(docs[0].seq > before.cursor, "{docs:?}"),
        other => panic!("expected an ack, got {other:?}"),
    }
    // A fresh device of li's gets li's customer; the audit trail came along.
    let fresh = Device::logged_in(&node, "li");
    fresh.sync();
    let names: Vec<String> =
        fresh.customers().as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap().to_string()).collect();
    assert_eq!(names, vec!["迁移前的客户".to_string()]);
    let audit = node.audit_json(&["--doc", &kept]);
    assert!(!audit.as_array().unwrap().is_empty(), "audit entries migrated: {audit}");
}

#[test]
fn one_order_submitted_through_two_nodes_at_once_gets_one_verdict_and_one_set_of_effects() {
    let (a, b) = two_nodes();
    let policy = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/policy.csv");
    assert!(a.admin_ok(&["policy", "import", policy.to_str().unwrap()]).contains("version 1"));
    let on_a = Device::logged_in(&a, "li");
    let on_b = Device::logged_in(&b, "li");
    let customer = on_a.add_customer("两台设备的客户", &["--channel", "restaurant"]);
    let order = on_a.ok(&["order", "new", "--customer", &customer]);
    on_a.ok(&["order", "add-line", &order, "--sku", "SC-52-500", "--qty", "12", "--unit-price", "53900"]);
    on_a.sync();
    on_b.sync();
    // Both devices of li submit the same order offline, then sync at the same moment, one
    // through each node.
    on_a.ok(&["order", "submit", &order]);
    on_b.ok(&["order", "submit", &order]);
    std::thread::scope(|s| {
        s.spawn(|| on_a.sync());
        s.spawn(|| on_b.sync());
    });
    on_a.sync();
    on_b.sync();
    for d in [&on_a, &on_b] {
        assert_eq!(d.order(&order)["lifecycle"]["status"], "confirmed");
    }
    let url = a.database_url().unwrap().to_string();
    let id: DocId = order.parse().unwrap();
    let (assigned, told, verdicts) = std::thread::spawn(move || {
        let db = jiuloop_server::storage::PgStorage::connect(&url).unwrap();
        let verdict = protocol::schema::verdict::verdict_id(id);
        (
            db.assignment(id.as_bytes()).unwrap().is_some(),
            db.notifications(None, Some(id.as_bytes()), 100).unwrap().len(),
            db.doc(verdict.as_bytes()).unwrap().map(|r| r.kind),
        )
    })
    .join()
    .unwrap();
    assert!(assigned, "assigned once");
    assert_eq!(told, 2, "one notification per department, not one per node");
    assert_eq!(verdicts, Some(DocKind::Verdict.code()), "one verdict document");
}

#[test]
fn every_node_registers_itself_and_a_stopped_one_says_so() {
    let (mut a, b) = two_nodes();
    let node_of = |s: &TestServer| -> String {
        let health: serde_json::Value = serde_json::from_slice(&s.health().body).unwrap();
        health["node"].as_str().unwrap().to_string()
    };
    let (id_a, id_b) = (node_of(&a), node_of(&b));
    assert_ne!(id_a, id_b);
    let list = |s: &TestServer| -> Vec<(String, String)> {
        let v: serde_json::Value = serde_json::from_str(&s.admin_ok(&["nodes", "--json"])).unwrap();
        let mut l: Vec<(String, String)> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|n| (n["id"].as_str().unwrap().to_string(), n["status"].as_str().unwrap().to_string()))
            .collect();
        l.sort();
        l
    };
    let mut both = vec![(id_a.clone(), "live".to_string()), (id_b.clone(), "live".to_string())];
    both.sort();
    assert_eq!(list(&b), both);
    a.stop();
    let mut after = vec![(id_a, "stopped".to_string()), (id_b, "live".to_string())];
    after.sort();
    assert_eq!(list(&b), after);
}

/// A receipt uploaded through node A is downloaded through node B: attachments live in the
/// shared database, not on the disk of the node that took the upload; a rep of another
/// territory gets nothing through either node.
#[test]
fn an_attachment_uploaded_through_one_node_downloads_through_the_other() {
    let url = TestCluster::shared().fresh_database();
    let mut a = TestServer::on_database(&url);
    a.add_user("zhang", "manager", Some("贵州"));
    a.add_user_with("li", "rep", Some("贵州"), Some("zhang"));
    a.add_user("wang", "rep", Some("四川"));
    a.add_user("zhao", "executive", None);
    a.start();
    let mut b = TestServer::on_database(&url);
    b.start();
    let (li, zhao) = (Device::logged_in(&a, "li"), Device::logged_in(&a, "zhao"));
    let (zhang, wang) = (Device::logged_in(&b, "zhang"), Device::logged_in(&b, "wang"));
    let budget = zhang.ok(&["budget", "new", "--team", "贵州", "--year", "2026", "--title", "贵州 2026"]);
    zhang.ok(&["budget", "line", &budget, "--item", "travel", "--month", "11", "--amount", "1000"]);
    zhang.ok(&["budget", "submit", &budget]);
    zhang.sync();
    zhao.sync();
    zhao.ok(&["budget", "approve", &budget, "--version", "1"]);
    zhao.sync();
    li.sync();
    let claim = li.ok(&[
        "expense",
        "claim",
        "--budget",
        &budget,
        "--item",
        "travel",
        "--purpose",
        "出差",
        "--date",
        "2026-11-03",
    ]);
    let dir = jiuloop_tests::TempDir::new("node-blobs");
    let mut receipt = vec![0xFF, 0xD8, 0xFF, 0xE0];
    receipt.extend((0..400_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8));
    let file = dir.path().join("hotel.jpg");
    std::fs::write(&file, &receipt).unwrap();
    let hash = li.ok(&["expense", "receipt", &claim, "--file", file.to_str().unwrap(), "--amount", "300"]);
    li.ok(&["expense", "submit", &claim]);
    li.sync();

    zhang.sync();
    let got = dir.path().join("got.jpg");
    zhang.ok(&["attach", "get", &hash, "--out", got.to_str().unwrap()]);
    assert_eq!(std::fs::read(&got).unwrap(), receipt, "node B serves the file node A took");
    wang.sync();
    let why = wang.fail(&["attach", "get", &hash, "--out", dir.path().join("no.jpg").to_str().unwrap()]);
    assert!(why.contains("no such attachment"), "{why}");
    assert!(!a.data_dir().join("blobs").exists(), "nothing on node A's disk");
}

/// Three nodes: a change pushed through A reaches devices on B and C, each within a
/// second of the ack; a user disabled through C is disconnected from A and B; a device of
/// a killed node B finishes through C.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_relay_to_each_other_close_everywhere_and_take_over() {
    let (a, mut b, c) = std::thread::spawn(|| {
        let (a, b) = two_nodes_now();
        let url = a.database_url().expect("on PostgreSQL").to_string();
        let mut c = TestServer::on_database(&url);
        c.start();
        (a, b, c)
    })
    .join()
    .expect("starting three nodes");
    let (mut on_b, _) = RawClient::caught_up(&b, "wang").await;
    let (mut on_c, _) = RawClient::caught_up(&c, "wang").await;
    let (mut pusher, _) = RawClient::caught_up(&a, "li").await;
    let mut doc = LocalDoc::new_customer(&pusher.actor, "三节点酒行");
    let id = doc.id;
    assert!(matches!(pusher.push(vec![doc.chunk()]).await, ServerMsg::Ack { .. }));
    let acked = Instant::now();
    for listener in [&mut on_b, &mut on_c] {
        let (arrived, chunk, _) = listener.wait_for_doc(id, Duration::from_secs(5)).await;
        assert!(arrived <= acked + WITHIN, "relayed {:?} after the ack", arrived.saturating_duration_since(acked));
        assert_eq!(
            LocalDoc::from_chunks(id, DocKind::Customer, &listener.actor, &[&chunk]).customer().name,
            "三节点酒行"
        );
    }

    // Disabled through C: wang's connections on B and C close; li on A is untouched.
    let said = c.admin_ok(&["user", "disable", "wang"]);
    assert!(said.contains("disabled user wang"), "{said}");
    for conn in [&mut on_b, &mut on_c] {
        let code = tokio::time::timeout(Duration::from_secs(3), conn.expect_error_close())
            .await
            .expect("closed within 3 s on every node");
        assert_eq!(code, ErrorCode::Revoked);
    }
    doc.set_customer("phone", "13900000077");
    assert!(matches!(pusher.push(vec![doc.chunk()]).await, ServerMsg::Ack { .. }));

    // B is killed: a device that synced through B continues through C from its cursor.
    use jiuloop_tests::Auth;
    let device = uuid::Uuid::new_v4();
    let token = a.token("li", device);
    let mut via_b = RawClient::connect(b.addr(), Auth::Bearer(&token), device).await;
    via_b.hello(0).await;
    let held = via_b.catch_up().await;
    assert!(!held.chunks_of(id).is_empty());
    b.kill9();
    let mut later = LocalDoc::new_customer(&pusher.actor, "B 停机后新建");
    assert!(matches!(pusher.push(vec![later.chunk()]).await, ServerMsg::Ack { .. }));
    let mut via_c = RawClient::connect(c.addr(), Auth::Bearer(&token), device).await;
    via_c.hello(held.cursor).await;
    let rest = via_c.catch_up().await;
    assert!(!rest.chunks_of(later.id).is_empty(), "what was stored meanwhile arrives through C");
}
