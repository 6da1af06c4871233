//! The CLI opens a profile lazily (issue 14): lists read the profile's index instead of
//! loading every document. Over real CLI processes and a real server: every list shows the
//! rows it showed when it read the documents (`JIULOOP_EAGER=1` makes a command load them
//! all and read them, as before the index), the order's status included — the lifecycle
//! folded with the server's verdict; a profile written before the index gets it on its
//! next open; a sync killed with SIGKILL midway leaves the index agreeing with the
//! documents the profile holds.

use jiuloop_tests::{Device, TempDir, TestServer, bins};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const GZ: &str = "贵州";

fn example_policy() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/policy.csv").to_str().expect("utf-8").to_string()
}

/// `args` run on `d`'s profile with every document loaded and read (the code before the
/// index), stdout.
fn eager(d: &Device, args: &[&str]) -> String {
    let mut cmd = d.command(args);
    cmd.env("JIULOOP_EAGER", "1");
    let out: Output = cmd.output().expect("run jiuloop");
    assert!(out.status.success(), "[{}] {args:?} (eager): {}", d.name, String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8").trim().to_string()
}

/// Every list this test knows, as the index gives it and as the documents do: the same.
fn assert_lists_agree(d: &Device, kinds: &[&str]) {
    let mut lists: Vec<Vec<String>> = vec![
        vec!["order".into(), "list".into()],
        vec!["order".into(), "list".into(), "--json".into()],
        vec!["customer".into(), "list".into(), "--json".into()],
    ];
    for k in kinds {
        lists.push(vec!["list".into(), k.to_string()]);
        lists.push(vec!["list".into(), k.to_string(), "--json".into()]);
    }
    for args in lists {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_eq!(d.ok(&args), eager(d, &args), "[{}] {args:?}: the index and the documents disagree", d.name);
    }
    let (lazy, all) = (d.status(), serde_json::from_str::<Value>(&eager(d, &["status", "--json"])).expect("json"));
    for key in ["documents", "pending_docs", "cursor", "inbox"] {
        assert_eq!(lazy[key], all[key], "[{}] status {key}", d.name);
    }
}

/// Documents as (id, kind) rows.
type Rows = BTreeSet<(Vec<u8>, i64)>;

/// The profile's documents and its index rows.
fn docs_and_index(d: &Device) -> (Rows, Rows) {
    let db = d.local_db();
    let read = |sql: &str| -> Rows {
        let mut stmt = db.prepare(sql).expect("prepare");
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).expect("query").map(|r| r.expect("row")).collect()
    };
    (read("SELECT id, kind FROM docs"), read("SELECT id, kind FROM doc_index"))
}

fn order_with(rep: &Device, customer: &str, sku: &str, qty: i64, price: i64) -> String {
    let o = rep.ok(&["order", "new", "--customer", customer]);
    rep.ok(&["order", "add-line", &o, "--sku", sku, "--qty", &qty.to_string(), "--unit-price", &price.to_string()]);
    o
}

#[test]
fn lists_from_the_index_show_what_the_documents_show_with_the_verdicts_status() {
    let mut server = TestServer::new();
    server.add_user("zhang", "manager", Some(GZ));
    server.add_user_with("li", "rep", Some(GZ), Some("zhang"));
    server.start();
    server.admin_ok(&["policy", "import", &example_policy()]);
    let rep = Device::logged_in(&server, "li");
    let manager = Device::logged_in(&server, "zhang");
    rep.sync();

    let c = rep.add_customer("遵义老酒馆", &["--channel", "restaurant"]);
    let c2 = rep.add_customer("贵阳名酒行", &["--channel", "distributor"]);
    // At policy (confirmed by the verdict), 4.09 % below (the verdict asks the manager),
    // a draft, and one submitted while offline (no verdict yet).
    let at_policy = order_with(&rep, &c, "SC-52-500", 12, 53_900);
    let below = order_with(&rep, &c, "QY-53-500X6", 2, 690_000);
    let _draft = order_with(&rep, &c2, "SC-52-500", 1, 53_900);
    rep.ok(&["order", "submit", &at_policy]);
    rep.ok(&["order", "submit", &below]);
    rep.ok(&[
        "new",
        "competitor-observation",
        &format!("customer={c}"),
        "brand=五粮液",
        "product=普五",
        "shelf_price=1099",
    ]);
    rep.ok(&["visit", "add", "--customer", &c, "--kind", "follow-up", "--notes", "拜访"]);
    assert_lists_agree(&rep, &["customer", "order", "visit", "competitor-observation"]);
    rep.sync();
    rep.sync();
    manager.sync();

    // The server's verdict decides the status the list shows, as `order show` does.
    for d in [&rep, &manager] {
        let listed = d.json(&["order", "list"]);
        let status_of =
            |id: &str| listed.as_array().expect("list").iter().find(|o| o["id"] == id).map(|o| o["status"].clone());
        assert_eq!(status_of(&at_policy), Some("confirmed".into()), "[{}] {listed:#}", d.name);
        assert_eq!(status_of(&below), Some("awaiting-approval".into()), "[{}] {listed:#}", d.name);
        assert_eq!(d.order(&below)["lifecycle"]["status"], "awaiting-approval");
        assert_lists_agree(d, &["customer", "order", "visit", "competitor-observation", "verdict"]);
    }

    // The manager approves: the rep's list follows the next sync, without a full load.
    manager.ok(&["order", "approve", &below, "--comment", "同意"]);
    manager.sync();
    rep.sync();
    let listed = rep.json(&["order", "list"]);
    let approved = listed.as_array().expect("list").iter().find(|o| o["id"] == below.as_str()).expect("listed");
    assert_eq!(approved["status"], rep.order(&below)["lifecycle"]["status"]);
    assert_ne!(approved["status"], "awaiting-approval");
    assert_lists_agree(&rep, &["customer", "order", "visit", "verdict"]);

    // `set` and `show` on the lazily opened profile: the edit is stored, the index follows.
    rep.ok(&["set", &c2, "phone=13800000000"]);
    assert_eq!(rep.json(&["show", &c2])["phone"], "13800000000");
    assert_eq!(rep.status()["pending_docs"], 1);
    assert_lists_agree(&rep, &["customer", "order"]);
    rep.sync();
    assert_eq!(rep.status()["pending_docs"], 0);
}

#[test]
fn a_profile_written_before_the_index_gets_it_on_its_next_open() {
    let mut server = TestServer::new();
    server.add_user_with("li", "rep", Some(GZ), None);
    server.start();
    server.admin_ok(&["policy", "import", &example_policy()]);
    let rep = Device::logged_in(&server, "li");
    rep.sync();
    let c = rep.add_customer("遵义老酒馆", &["--channel", "restaurant"]);
    let o = order_with(&rep, &c, "SC-52-500", 12, 53_900);
    rep.ok(&["order", "submit", &o]);
    rep.sync();
    rep.sync();
    let before_lists = (rep.ok(&["order", "list", "--json"]), rep.ok(&["list", "customer", "--json"]));
    let before_docs = docs_and_index(&rep).0;

    // Back to what the code before the index wrote: schema 2, no index, no index version.
    {
        let db = rusqlite::Connection::open(rep.profile().join("jiuloop.db")).expect("open");
        db.execute_batch(
            "DROP TABLE doc_index; DELETE FROM meta WHERE key IN ('index_version', 'index_orders_stale');
             PRAGMA user_version = 2;",
        )
        .expect("downgrade");
    }
    // The first command opening it builds the index from the documents.
    assert_eq!((rep.ok(&["order", "list", "--json"]), rep.ok(&["list", "customer", "--json"])), before_lists);
    let db = rep.local_db();
    let version: i64 = db.pragma_query_value(None, "user_version", |r| r.get(0)).expect("version");
    let index_version: String =
        db.query_row("SELECT value FROM meta WHERE key = 'index_version'", [], |r| r.get(0)).expect("index version");
    assert_eq!((version, index_version.as_str()), (3, "1"));
    let (docs, index) = docs_and_index(&rep);
    assert_eq!(docs, before_docs, "migrating changed no document");
    assert_eq!(index, docs, "every document has its row");
    let status: String = db
        .query_row(
            "SELECT status FROM doc_index WHERE id = ?1",
            [&o.parse::<uuid::Uuid>().unwrap().as_bytes()[..]],
            |r| r.get(0),
        )
        .expect("the order's row");
    assert_eq!(status, "confirmed");
    assert_lists_agree(&rep, &["customer", "order", "verdict"]);
}

#[test]
fn a_sync_killed_midway_leaves_the_index_agreeing_with_the_documents() {
    const N: usize = 3000;
    let mut server = TestServer::new();
    server.add_user_with("li", "rep", Some(GZ), None);
    server.start();
    let writer = Device::logged_in(&server, "li");
    let dir = TempDir::new("customers-csv");
    let csv = dir.path().join("customers.csv");
    let mut text = String::from("name,phone,channel,class,region\n");
    for i in 0..N {
        text.push_str(&format!("客户{i:05},1380000{i:04},restaurant,A,遵义\n"));
    }
    std::fs::write(&csv, text).expect("write csv");
    writer.ok(&["customer", "import", csv.to_str().expect("utf-8")]);
    writer.sync();

    let reader = Device::logged_in(&server, "li");
    let db_path = reader.profile().join("jiuloop.db");
    let mut child = Command::new(&bins().cli)
        .arg("--profile")
        .arg(reader.profile())
        .arg("sync")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn sync");
    // Kill it as soon as part of the catch-up is stored.
    let db = rusqlite::Connection::open_with_flags(&db_path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).expect("db");
    db.busy_timeout(Duration::from_secs(10)).expect("busy timeout");
    let started = Instant::now();
    let stored = loop {
        let n: i64 = db.query_row("SELECT count(*) FROM docs", [], |r| r.get(0)).unwrap_or(0);
        if n > 0 || started.elapsed() > Duration::from_secs(120) {
            child.kill().expect("SIGKILL");
            break n;
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    child.wait().expect("reap");
    drop(db);
    let (docs, index) = docs_and_index(&reader);
    assert!(stored > 0 && docs.len() < N, "killed midway: {} of {N} documents stored", docs.len());
    assert_eq!(index, docs, "after SIGKILL every stored document has its row, and only they");
    assert_lists_agree(&reader, &["customer"]);

    // The next sync completes the catch-up; the index follows.
    reader.sync();
    let (docs, index) = docs_and_index(&reader);
    assert_eq!((docs.len(), index.len()), (N, N));
    assert_eq!(index, docs);
    assert_eq!(reader.json(&["list", "customer"]).as_array().map(Vec::len), Some(N));
    assert_lists_agree(&reader, &["customer"]);
}
