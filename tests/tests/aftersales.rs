//! After-sales over the whole system — real server processes, real CLI profiles (SQLite
//! files), raw protocol clients:
//!
//! - a rep files a complaint offline; after-sales works it to resolved, on two devices
//!   that both resolve it offline → one revisit task for the rep; the rep records the
//!   revisit → its satisfaction appears on the complaint; a rep of another territory holds
//!   none of it (their SQLite file);
//! - three complaints on one batch → a quality issue → closed → revisits for all three
//!   customers, once;
//! - the recall flag lists exactly the customers whose shipped orders carried the batch,
//!   and later shipments join it;
//! - an SLA breach is recorded once, while nobody pushes anything, and escalated to the
//!   territory's manager; reconnects, a restart and a late acknowledgement change nothing;
//! - every new kind and log refuses a raw client what it may not write, and accepts the
//!   honest control.

use jiuloop_tests::{Device, LocalDoc, RawClient, TestServer};
use protocol::schema::ComplaintEventKind as K;
use protocol::schema::QualityEventKind as Q;
use protocol::schema::complaint::{self, ComplaintEvent, track_id};
use protocol::schema::quality::{self, QualityEvent, recall_id};
use protocol::wire::Refusal;
use protocol::{DocId, DocKind, ServerMsg};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

const GZ: &str = "贵州";
const SC: &str = "四川";

/// A server with these users (name, role, territory, manager), started.
fn server_with(users: &[(&str, &str, Option<&str>, Option<&str>)]) -> TestServer {
    let mut s = TestServer::new();
    for (name, role, territory, manager) in users {
        s.add_user_with(name, role, *territory, *manager);
    }
    s.start();
    s
}

fn set<I: IntoIterator<Item = S>, S: Into<String>>(items: I) -> BTreeSet<String> {
    items.into_iter().map(Into::into).collect()
}

fn ids(list: &Value) -> BTreeSet<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("expected a list, got {list}"))
        .iter()
        .map(|r| r["id"].as_str().expect("id").to_string())
        .collect()
}

/// Rows of the server's SQLite file counted by `sql`, with `id` (a document id) as ?1.
fn count(server: &TestServer, sql: &str, id: &str) -> i64 {
    let id = uuid::Uuid::parse_str(id).expect("an id");
    server.db().query_row(sql, [id.as_bytes().as_slice()], |r| r.get(0)).expect("count")
}

fn count_all(server: &TestServer, sql: &str) -> i64 {
    server.db().query_row(sql, [], |r| r.get(0)).expect("count")
}

/// `complaint new` with the usual intake, extra arguments appended; the new id.
fn file(d: &Device, customer: &str, content: &str, extra: &[&str]) -> String {
    let mut args = vec![
        "complaint",
        "new",
        "--customer",
        customer,
        "--channel",
        "field-rep",
        "--category",
        "taste",
        "--severity",
        "serious",
        "--content",
        content,
    ];
    args.extend_from_slice(extra);
    let id = d.ok(&args);
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "complaint new printed {id:?}");
    id
}

fn status(d: &Device, complaint: &str) -> String {
    d.json(&["complaint", "show", complaint])["status"].as_str().expect("status").to_string()
}

/// The rep's open revisit tasks.
fn tasks(d: &Device) -> Vec<Value> {
    d.json(&["revisit", "tasks"]).as_array().expect("a list").clone()
}

/// Does the file hold `needle` anywhere (in any form SQLite stores text)?
fn file_holds(path: &Path, needle: &str) -> bool {
    let bytes = std::fs::read(path).expect("read the file");
    bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// The after-sales kinds, by name.
const AFTERSALES_KINDS: [&str; 6] =
    ["complaint", "complaint-track", "quality-issue", "recall", "revisit-task", "revisit"];

/// What a rep of another territory holds: none of `ids`, no after-sales record at all, and
/// not one of `texts` in their SQLite file.
fn holds_none(d: &Device, ids: &[&str], texts: &[&str]) {
    let stored = d.stored_docs();
    for doc in &stored {
        assert!(!ids.contains(&doc.id.as_str()), "{} holds {doc:?}", d.name);
        assert!(!AFTERSALES_KINDS.contains(&doc.kind.as_str()), "{} holds a {}: {doc:?}", d.name, doc.kind);
    }
    let file = d.profile().join("jiuloop.db");
    for needle in ids.iter().chain(texts) {
        assert!(!file_holds(&file, needle), "{needle} is in {}'s file", d.name);
    }
}

#[test]
fn a_complaint_filed_offline_is_resolved_on_two_devices_and_revisited_once() {
    let mut server = server_with(&[
        ("boss", "manager", Some(GZ), None),
        ("li", "rep", Some(GZ), Some("boss")),
        ("as1", "after-sales", None, None),
        ("as2", "after-sales", None, None),
        ("zhang", "rep", Some(SC), None),
    ]);
    let li = Device::logged_in(&server, "li");
    let c = li.add_customer("遵义名酒行", &["--channel", "distributor"]);
    li.sync();

    // In a village shop with no signal: the rep files it on the spot.
    server.kill9();
    let content = "这批酒喝起来发苦，客户要求换货";
    let k = file(&li, &c, content, &["--sku", "MT-53-500", "--batch", "B2026-03"]);
    let v = li.json(&["complaint", "show", &k]);
    assert_eq!((v["status"].as_str(), v["filed_by"].as_str()), (Some("received"), Some("li")), "{v}");
    assert_eq!(v["clocks"]["ack"]["state"], "running", "{v}");
    assert_eq!(v["customer_name"], "遵义名酒行");
    li.ok(&["complaint", "note", &k, "--note", "店里还有两箱同批次"]);
    // Acknowledging is after-sales' step: refused locally, in one line, nothing written.
    let err = li.fail(&["complaint", "ack", &k]);
    assert!(err.contains("event-role") && err.contains("受理"), "{err}");
    let err = li.fail(&["--lang", "en", "complaint", "resolve", &k, "--note", "x"]);
    assert!(err.contains("may not record") && err.contains("event-role"), "{err}");
    assert_eq!(li.json(&["complaint", "show", &k])["events"].as_array().map(Vec::len), Some(2), "filed + note");
    let human = li.ok(&["complaint", "show", &k]);
    for text in ["投诉", "遵义名酒行", "严重", "口感", "B2026-03", "受理时限", "剩余", "登记投诉", "现场记录"]
    {
        assert!(human.contains(text), "complaint show lacks {text:?}:\n{human}");
    }
    server.restart();
    li.sync();

    // After-sales receives it on the next sync and works it.
    let as1 = Device::logged_in(&server, "as1");
    let as2 = Device::logged_in(&server, "as2");
    as1.sync();
    as2.sync();
    let queue = as1.json(&["complaint", "list"]);
    assert_eq!(ids(&queue), set([k.as_str()]), "{queue}");
    as1.ok(&["complaint", "ack", &k]);
    as1.ok(&["complaint", "investigate", &k, "--findings", "瓶盖密封不严，酒液氧化", "--responsible", "production"]);
    as1.ok(&["complaint", "measures", &k, "--measures", "换货两箱", "--expected", "2027-01-20"]);
    as1.ok(&["complaint", "progress", &k, "--note", "已告知客户换货安排", "--via", "phone"]);
    as1.sync();
    as2.sync();
    assert_eq!(status(&as2, &k), "measures-decided");

    // Both after-sales devices resolve it offline, differently.
    as1.ok(&["complaint", "resolve", &k, "--note", "已换货两箱"]);
    as2.ok(&["complaint", "resolve", &k, "--note", "已退款"]);
    as1.sync();
    as2.sync();
    as1.sync();
    for d in [&as1, &as2] {
        let v = d.json(&["complaint", "show", &k]);
        assert_eq!((v["status"].as_str(), v["lifecycle"]["resolutions"].as_u64()), (Some("resolved"), Some(1)), "{v}");
        let resolutions: Vec<(bool, &str)> = v["lifecycle"]["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["event"]["kind"] == "resolved")
            .map(|t| (t["applied"].as_bool().unwrap(), t["event"]["comment"].as_str().unwrap()))
            .collect();
        assert_eq!(resolutions, [(true, "已换货两箱"), (false, "已退款")], "by arrival, on {}", d.name);
        assert_eq!(v["clocks"]["resolve"]["state"], "met");
    }

    // The revisit task appears for the rep exactly once.
    assert_eq!(count(&server, "SELECT COUNT(*) FROM effects WHERE doc_id = ?1 AND effect = 'revisit'", &k), 1);
    assert_eq!(
        count_all(&server, &format!("SELECT COUNT(*) FROM docs WHERE kind = {}", DocKind::RevisitTask.code())),
        1
    );
    li.sync();
    let mine = tasks(&li);
    assert_eq!(mine.len(), 1, "{mine:?}");
    let task = mine[0]["id"].as_str().unwrap().to_string();
    assert_eq!((mine[0]["complaint"].as_str(), mine[0]["assignee"].as_str()), (Some(k.as_str()), Some("li")));
    assert_eq!((mine[0]["status"].as_str(), mine[0]["customer"].as_str()), (Some("open"), Some(c.as_str())));
    assert!(li.ok(&["revisit", "tasks", "--week"]).contains("遵义名酒行"));
    assert_eq!(li.json(&["complaint", "show", &k])["track"]["revisit_task"], task.as_str());
    // Syncing again, from every device, makes no second one.
    for d in [&as1, &as2, &li, &as1] {
        d.sync();
    }
    assert_eq!(count(&server, "SELECT COUNT(*) FROM effects WHERE doc_id = ?1 AND effect = 'revisit'", &k), 1);
    assert_eq!(tasks(&li).len(), 1);

    // The rep records the revisit; its satisfaction appears on the complaint.
    let revisit = li.ok(&[
        "revisit",
        "record",
        "--customer",
        &c,
        "--task",
        &task,
        "--method",
        "phone",
        "--satisfaction",
        "4",
        "--intention",
        "high",
        "--answers",
        "换货后口感正常，客户满意",
        "--next",
        "月底补货",
    ]);
    assert!(tasks(&li).is_empty(), "the task is done");
    li.sync();
    as1.sync();
    let v = as1.json(&["complaint", "show", &k]);
    let track = &v["track"];
    assert_eq!(
        (track["satisfaction"].as_i64(), track["revisit"].as_str(), track["revisited_by"].as_str()),
        (Some(4), Some(revisit.as_str()), Some("li")),
        "{v}"
    );
    assert_eq!(track["revisit_comment"], "换货后口感正常，客户满意");
    let human = as1.ok(&["--lang", "en", "complaint", "show", &k]);
    assert!(human.contains("satisfaction 4/5") && human.contains("Revisit"), "{human}");
    let archive = as1.json(&["revisit", "archive", "--customer", &c]);
    assert_eq!(ids(&archive), set([revisit.as_str()]));
    assert_eq!(archive[0]["satisfaction"], 4);
    assert_eq!(archive[0]["intention"], "high");

    // After-sales closes it with the customer's feedback.
    as1.ok(&["complaint", "feedback", &k, "--satisfaction", "4"]);
    as1.ok(&["complaint", "close", &k]);
    as1.sync();
    li.sync();
    assert_eq!(status(&li, &k), "closed");

    // A rep of another territory gets none of it.
    let zhang = Device::logged_in(&server, "zhang");
    let own = zhang.add_customer("成都锦江酒行", &[]);
    zhang.sync();
    assert_eq!(zhang.stored_docs().iter().map(|d| d.id.clone()).collect::<BTreeSet<_>>(), set([own.as_str()]));
    let track = track_id(k.parse().unwrap()).to_string();
    holds_none(&zhang, &[&k, &track, &task, &revisit, &c], &[content, "遵义名酒行", "B2026-03"]);
    assert!(zhang.json(&["complaint", "list", "--all"]).as_array().unwrap().is_empty());
}

#[test]
fn three_complaints_on_one_batch_become_a_quality_issue_whose_close_revisits_all_three() {
    let server =
        server_with(&[("li", "rep", Some(GZ), None), ("qc", "quality", None, None), ("zhang", "rep", Some(SC), None)]);
    let li = Device::logged_in(&server, "li");
    let batch = "B2026-07";
    let mut customers = Vec::new();
    let mut complaints = Vec::new();
    for name in ["花溪名酒行", "南明烟酒店", "观山湖酒业"] {
        let c = li.add_customer(name, &[]);
        complaints.push(file(&li, &c, &format!("{name}：酒体浑浊"), &["--sku", "MT-53-500", "--batch", batch]));
        customers.push(c);
    }
    let other = li.add_customer("云岩酒行", &[]);
    let unrelated = file(&li, &other, "包装破损", &["--sku", "MT-53-500", "--batch", "B2026-08"]);
    li.sync();

    // Quality control opens the issue from two of them; the third is on the same batch.
    let qc = Device::logged_in(&server, "qc");
    qc.sync();
    let q = qc.ok(&[
        "quality",
        "new",
        "--title",
        "MT-53-500 批次酒体浑浊",
        "--sku",
        "MT-53-500",
        "--batch",
        batch,
        "--severity",
        "serious",
        "--category",
        "taste",
        "--complaint",
        &complaints[0],
        "--complaint",
        &complaints[1],
    ]);
    let v = qc.json(&["quality", "show", &q]);
    assert_eq!(ids(&v["complaints"]), set(complaints.iter().map(String::as_str)), "linked and by batch: {v}");
    assert_eq!(v["lifecycle"]["complaints"].as_array().map(Vec::len), Some(2));
    let listed = qc.ok(&["quality", "list"]);
    assert!(listed.contains(batch) && listed.contains("MT-53-500"), "{listed}");
    // Not closed before its corrective action is verified.
    qc.ok(&["quality", "close", &q]);
    assert_eq!(qc.json(&["quality", "show", &q])["lifecycle"]["status"], "open");
    qc.ok(&["quality", "analyse", &q, "--root-cause", "过滤工序温度偏低"]);
    qc.ok(&["quality", "contain", &q, "--note", "同批次暂停发货"]);
    qc.ok(&[
        "quality",
        "action",
        &q,
        "--plan",
        "调整过滤温度并复检",
        "--assignee",
        "production",
        "--due",
        "2027-02-01",
    ]);
    qc.ok(&["quality", "verify", &q, "--effective"]);
    let v = qc.json(&["quality", "show", &q]);
    let verification = &v["lifecycle"]["verification"];
    assert_eq!((verification["before"].as_i64(), verification["after"].as_i64()), (Some(4), Some(0)), "{v}");
    qc.ok(&["quality", "close", &q]);
    assert_eq!(qc.json(&["quality", "show", &q])["lifecycle"]["status"], "closed");
    qc.sync();

    // A revisit for each customer who complained about the batch, and no one else.
    li.sync();
    let mine = tasks(&li);
    let of_issue: Vec<&Value> = mine.iter().filter(|t| t["quality_issue"] == q.as_str()).collect();
    let reached: BTreeSet<String> = of_issue.iter().map(|t| t["customer"].as_str().unwrap().to_string()).collect();
    assert_eq!(reached, set(customers.iter().map(String::as_str)), "{mine:?}");
    for t in &of_issue {
        let c = t["customer"].as_str().unwrap();
        let i = customers.iter().position(|x| x == c).unwrap();
        assert_eq!(t["complaint"], complaints[i].as_str());
    }
    assert!(mine.iter().all(|t| t["customer"] != other.as_str()), "{unrelated} is about another batch");

    // Reopened, fixed again, closed again: nobody gets a second revisit.
    qc.ok(&["quality", "reopen", &q, "--reason", "市场又有反馈"]);
    qc.ok(&["quality", "analyse", &q, "--root-cause", "过滤器滤芯老化"]);
    qc.ok(&["quality", "action", &q, "--plan", "更换滤芯", "--due", "2027-03-01"]);
    qc.ok(&["quality", "verify", &q, "--effective", "--before", "4", "--after", "0"]);
    qc.ok(&["quality", "close", &q]);
    qc.sync();
    li.sync();
    assert_eq!(tasks(&li).iter().filter(|t| t["quality_issue"] == q.as_str()).count(), 3);
    assert_eq!(count(&server, "SELECT COUNT(*) FROM effects WHERE doc_id = ?1 AND effect = 'revisit'", &q), 3);

    // Another territory's rep holds none of it.
    let zhang = Device::logged_in(&server, "zhang");
    zhang.sync();
    let mut all: Vec<&str> = complaints.iter().map(String::as_str).collect();
    all.push(&q);
    all.push(&unrelated);
    holds_none(&zhang, &all, &["酒体浑浊", batch]);
}

/// The example catalogue shipped in the repository.
fn example_policy() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/policy.csv").to_str().expect("utf-8").to_string()
}

#[test]
fn the_recall_lists_exactly_the_customers_whose_shipped_orders_carried_the_batch() {
    let server = server_with(&[
        ("li", "rep", Some(GZ), None),
        ("sun", "logistics", None, None),
        ("qc", "quality", None, None),
        ("zhang", "rep", Some(SC), None),
    ]);
    server.admin_ok(&["policy", "import", &example_policy()]);
    let li = Device::logged_in(&server, "li");
    li.sync();
    // A confirmed order of a new restaurant customer (priced at policy: no approval).
    let order = |name: &str, lines: &[(&str, i64)]| -> (String, String) {
        let c = li.add_customer(name, &["--channel", "restaurant"]);
        let o = li.ok(&["order", "new", "--customer", &c]);
        for (sku, qty) in lines {
            li.ok(&["order", "add-line", &o, "--sku", sku, "--qty", &qty.to_string(), "--unit-price", "53900"]);
        }
        li.ok(&["order", "submit", &o]);
        li.sync();
        assert_eq!(li.order(&o)["lifecycle"]["status"], "confirmed", "{}", li.order(&o));
        (c, o)
    };
    let (a, oa) = order("甲·遵义酒楼", &[("SC-52-500", 12)]);
    let (b, ob) = order("乙·花溪饭店", &[("SC-52-500", 6)]);
    let (_c, _oc) = order("丙·南明餐厅", &[("SC-52-500", 6)]);
    let (d, od) = order("丁·观山湖会所", &[("SC-52-500", 24)]);

    // Logistics ships with the batch numbers of each line (by position or id).
    let sun = Device::logged_in(&server, "sun");
    sun.sync();
    let err = sun.fail(&["order", "ship", &oa, "--carrier", "顺丰", "--tracking", "SF1", "--batch", "1=B 09"]);
    assert!(err.contains("--batch"), "{err}");
    let err = sun.fail(&["order", "ship", &oa, "--carrier", "顺丰", "--tracking", "SF1", "--batch", "7=B2026-09"]);
    assert!(err.contains('7'), "{err}");
    assert_eq!(sun.order(&oa)["lifecycle"]["status"], "confirmed", "nothing was written");
    sun.ok(&["order", "ship", &oa, "--carrier", "顺丰", "--tracking", "SF1", "--batch", "1=B2026-09"]);
    sun.ok(&["order", "ship", &ob, "--carrier", "顺丰", "--tracking", "SF2", "--batch", "1=B2026-10"]);
    let line = sun.order(&od)["lines"][0]["id"].as_str().unwrap().to_string();
    let both = [format!("{line}=B2026-10"), format!("{line}=B2026-09")];
    sun.ok(&["order", "ship", &od, "--carrier", "德邦", "--tracking", "DB3", "--batch", &both[0], "--batch", &both[1]]);
    sun.sync();
    let shipped = sun.order(&od);
    assert_eq!(shipped["lifecycle"]["status"], "shipped");
    let ev = shipped["events"].as_array().unwrap().iter().find(|e| e["kind"] == "shipped").unwrap().clone();
    assert_eq!(ev["batches"], format!("{line}=B2026-10,B2026-09"));
    assert_eq!(count_all(&server, "SELECT COUNT(*) FROM shipped_batches WHERE batch = 'B2026-09'"), 2);

    // A critical issue of batch B2026-09 raises its recall.
    let qc = Device::logged_in(&server, "qc");
    qc.sync();
    let q = qc.ok(&[
        "quality",
        "new",
        "--title",
        "疑似假酒流入",
        "--sku",
        "SC-52-500",
        "--batch",
        "B2026-09",
        "--severity",
        "critical",
        "--source",
        "market-tracking",
        "--category",
        "anti-counterfeit",
    ]);
    qc.ok(&["quality", "recall", &q, "--note", "立即召回该批次"]);
    assert!(qc.ok(&["quality", "show", &q]).contains("召回已发起"), "the list comes from the server");
    qc.sync();
    let recall = |dev: &Device| -> BTreeSet<String> {
        let v = dev.json(&["quality", "show", &q]);
        v["recall"]["customers"]
            .as_array()
            .unwrap_or_else(|| panic!("no recall list: {v}"))
            .iter()
            .map(|c| c["customer"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(recall(&qc), set([a.as_str(), d.as_str()]));
    let shown = qc.ok(&["quality", "show", &q]);
    assert!(shown.contains("召回清单") && shown.contains("甲·遵义酒楼") && shown.contains("丁·观山湖会所"), "{shown}");
    assert!(!shown.contains("乙·花溪饭店") && !shown.contains("丙·南明餐厅"), "{shown}");
    // Raised once; logistics told once and holds the list.
    assert_eq!(count(&server, "SELECT COUNT(*) FROM effects WHERE doc_id = ?1 AND effect = 'recall'", &q), 1);
    assert_eq!(
        count(&server, "SELECT COUNT(*) FROM notifications WHERE order_id = ?1 AND department = 'logistics'", &q),
        1
    );
    sun.sync();
    let lists = sun.records("recall");
    assert_eq!(lists.as_array().map(Vec::len), Some(1), "{lists}");
    assert_eq!(lists[0]["customer_count"], 2);
    // The issue's batch is locked now.
    let err = qc.fail(&["set", &q, "batch=B2026-11"]);
    assert!(err.contains("frozen") || err.contains("锁"), "{err}");

    // A later shipment of the batch joins the list.
    let (e, oe) = order("戊·红花岗酒家", &[("SC-52-500", 3)]);
    sun.sync();
    sun.ok(&["order", "ship", &oe, "--carrier", "顺丰", "--tracking", "SF5", "--batch", "1=B2026-09"]);
    sun.sync();
    qc.sync();
    assert_eq!(recall(&qc), set([a.as_str(), d.as_str(), e.as_str()]));
    assert_eq!(
        count(&server, "SELECT COUNT(*) FROM notifications WHERE order_id = ?1 AND department = 'logistics'", &q),
        1
    );
    let _ = (b, ob);

    // Reps hold neither the issue nor the list.
    let zhang = Device::logged_in(&server, "zhang");
    zhang.sync();
    let rid = recall_id(q.parse().unwrap()).to_string();
    holds_none(&zhang, &[&q, &rid], &["疑似假酒流入"]);
}

#[test]
fn a_breach_is_recorded_once_and_escalated_while_nobody_pushes() {
    let mut server = server_with(&[
        ("boss", "manager", Some(GZ), None),
        ("li", "rep", Some(GZ), Some("boss")),
        ("as1", "after-sales", None, None),
    ]);
    // After-sales sets a one-minute acknowledgement time for critical complaints.
    let as1 = Device::logged_in(&server, "as1");
    let policy = as1.ok(&["new", "aftersales-policy", "critical_ack_minutes=1", "critical_resolve_minutes=600"]);
    as1.sync();
    let li = Device::logged_in(&server, "li");
    let c = li.add_customer("遵义名酒行", &[]);
    li.sync();
    assert_eq!(li.json(&["show", &policy])["critical_ack_minutes"], 1, "every device holds the policy");
    // The customer called 50 seconds ago about a suspected fake: 10 seconds left.
    let called = protocol::time::rfc3339(now_ms() - 50_000);
    let k = li.ok(&[
        "complaint",
        "new",
        "--customer",
        &c,
        "--channel",
        "hotline",
        "--category",
        "anti-counterfeit",
        "--severity",
        "critical",
        "--content",
        "喝完头晕，怀疑假酒",
        "--received-at",
        &called,
    ]);
    let v = li.json(&["complaint", "show", &k]);
    assert_eq!(v["clocks"]["ack"]["state"], "warning", "{v}");
    li.sync();

    // Nobody pushes anything: the server's clock runs it out.
    let breaches = "SELECT COUNT(*) FROM effects WHERE doc_id = ?1 AND effect = 'sla-breach'";
    let escalations = "SELECT COUNT(*) FROM notifications WHERE order_id = ?1 AND department = 'manager'";
    let deadline = Instant::now() + Duration::from_secs(90);
    while count(&server, breaches, &k) == 0 {
        assert!(Instant::now() < deadline, "no breach recorded");
        std::thread::sleep(Duration::from_millis(250));
    }
    assert_eq!((count(&server, breaches, &k), count(&server, escalations, &k)), (1, 1));
    let listed = server.admin_ok(&["notifications", "--department", "manager"]);
    assert!(listed.contains("超时未受理") && listed.contains("boss"), "{listed}");

    // The manager sees it escalated; so does every reader.
    let boss = Device::logged_in(&server, "boss");
    boss.sync();
    let v = boss.json(&["complaint", "show", &k]);
    assert_eq!(
        (v["clocks"]["ack"]["state"].as_str(), v["clocks"]["ack"]["recorded"].as_bool()),
        (Some("breached"), Some(true))
    );
    assert_eq!(v["track"]["escalated_to"], "boss");
    assert!(boss.ok(&["complaint", "list"]).contains("已超时"));
    boss.ok(&["complaint", "escalate", &k, "--note", "请今天内联系客户"]);
    boss.sync();

    // Reconnects, a restart and a late acknowledgement change nothing.
    for _ in 0..3 {
        li.sync();
        boss.sync();
    }
    server.restart();
    li.sync();
    as1.sync();
    as1.ok(&["complaint", "ack", &k]);
    // Its severity no longer changes (nobody escapes the breach by downgrading it).
    let err = as1.fail(&["set", &k, "severity=normal"]);
    assert!(err.contains("severity") && (err.contains("frozen") || err.contains("锁")), "{err}");
    as1.sync();
    std::thread::sleep(Duration::from_secs(1));
    li.sync();
    assert_eq!((count(&server, breaches, &k), count(&server, escalations, &k)), (1, 1));
    let v = li.json(&["complaint", "show", &k]);
    assert_eq!((v["status"].as_str(), v["clocks"]["ack"]["state"].as_str()), (Some("acknowledged"), Some("breached")));
}

#[test]
fn revisit_plans_and_care_dates_become_one_task_per_customer() {
    let server = server_with(&[
        ("li", "rep", Some(GZ), None),
        ("zhang", "rep", Some(SC), None),
        ("as1", "after-sales", None, None),
        ("ma", "market", None, None),
    ]);
    let li = Device::logged_in(&server, "li");
    let a = li.add_customer("甲·遵义名酒行", &["--class", "A"]);
    let b = li.add_customer("乙·花溪烟酒店", &["--class", "B"]);
    li.ok(&["customer", "add-contact", &a, "--name", "王总", "--birthday", "1975-08-20"]);
    li.sync();
    let zhang = Device::logged_in(&server, "zhang");
    let s = zhang.add_customer("成都锦江酒行", &["--class", "A"]);
    zhang.sync();
    let revisits_of = |d: &Device, plan: &str| -> BTreeSet<String> {
        d.sync();
        tasks(d).iter().filter(|t| t["plan"] == plan).map(|t| t["customer"].as_str().unwrap().to_string()).collect()
    };

    // A plan by rule: the A-class customers of 贵州.
    let as1 = Device::logged_in(&server, "as1");
    as1.sync();
    let p = as1.ok(&[
        "revisit",
        "plan",
        "--title",
        "A类客户满意度回访",
        "--content",
        "satisfaction-survey",
        "--method",
        "phone",
        "--due",
        "2027-02-15",
        "--scope",
        "rule",
        "--class",
        "A",
        "--territory",
        GZ,
    ]);
    as1.sync();
    assert_eq!(revisits_of(&li, &p), set([a.as_str()]));
    // Widened to every class: the new customer joins, nobody twice.
    as1.ok(&["set", &p, "class="]);
    as1.sync();
    as1.sync();
    assert_eq!(revisits_of(&li, &p), set([a.as_str(), b.as_str()]));
    assert_eq!(count(&server, "SELECT COUNT(*) FROM effects WHERE doc_id = ?1 AND effect = 'task'", &p), 2);
    assert!(revisits_of(&zhang, &p).is_empty(), "another territory is not in the rule");
    // A plan of listed customers.
    let q = as1.ok(&[
        "revisit",
        "plan",
        "--title",
        "新品试饮回访",
        "--content",
        "product-experience",
        "--method",
        "on-site",
        "--due",
        "2027-03-01",
        "--scope",
        "list",
        "--customers",
        &b,
    ]);
    as1.sync();
    assert_eq!(revisits_of(&li, &q), set([b.as_str()]));

    // The care calendar: 中秋 for A-class customers (every territory), and birthdays.
    let ma = Device::logged_in(&server, "ma");
    ma.sync();
    let moon = ma.ok(&[
        "care",
        "add",
        "--title",
        "中秋问候",
        "--occasion",
        "mid-autumn",
        "--date",
        "2027-09-15",
        "--class",
        "A",
    ]);
    let birthday = ma.ok(&["care", "add", "--title", "生日祝福", "--occasion", "birthday", "--date", "2027-01-01"]);
    ma.sync();
    assert!(ma.ok(&["care", "calendar"]).contains("中秋问候"));
    li.sync();
    let care: Vec<Value> = li.json(&["care", "tasks"]).as_array().unwrap().clone();
    let got: BTreeSet<(String, String, String)> = care
        .iter()
        .map(|t| {
            let s = |k: &str| t[k].as_str().unwrap_or_default().to_string();
            (s("event"), s("customer"), s("due"))
        })
        .collect();
    let want: BTreeSet<(String, String, String)> =
        [(moon.clone(), a.clone(), "2027-09-15".to_string()), (birthday.clone(), a.clone(), "2027-08-20".to_string())]
            .into_iter()
            .collect();
    assert_eq!(got, want, "{care:?}");
    let moon_task = care.iter().find(|t| t["event"] == moon.as_str()).unwrap()["id"].as_str().unwrap().to_string();
    li.ok(&["care", "done", &moon_task, "--note", "已送月饼"]);
    assert_eq!(li.json(&["care", "tasks"]).as_array().map(Vec::len), Some(1));
    li.sync();
    zhang.sync();
    let theirs: Vec<Value> = zhang.json(&["care", "tasks"]).as_array().unwrap().clone();
    assert_eq!(theirs.len(), 1, "{theirs:?}");
    assert_eq!((theirs[0]["customer"].as_str(), theirs[0]["assignee"].as_str()), (Some(s.as_str()), Some("zhang")));
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

// ---- raw clients --------------------------------------------------------------------

fn refusals(answer: ServerMsg) -> Vec<Refusal> {
    match answer {
        ServerMsg::Refused { refusals } => refusals,
        ServerMsg::Ack { .. } => Vec::new(),
        other => panic!("expected an answer to a push, got {other:?}"),
    }
}

/// Push several documents in one frame; what was refused, by id and rule (the others
/// must be acknowledged: the server answers `Ack` for them, then `Refused`).
async fn mixed(raw: &mut RawClient, docs: Vec<protocol::DocChunk>) -> Vec<(DocId, String)> {
    let n = docs.len();
    let (mut acked, mut refused) = (0, Vec::new());
    let mut msg = raw.push(docs).await;
    loop {
        match msg {
            ServerMsg::Ack { docs } => acked += docs.len(),
            ServerMsg::Refused { refusals } => refused.extend(refusals.into_iter().map(|r| (r.id, r.rule))),
            other => panic!("expected an answer to a push, got {other:?}"),
        }
        if acked + refused.len() >= n {
            return refused;
        }
        msg = loop {
            match raw.recv().await {
                m @ (ServerMsg::Ack { .. } | ServerMsg::Refused { .. }) => break m,
                _ => continue,
            }
        };
    }
}

/// Push `doc`'s new changes; the rule of the one refusal.
async fn refused(raw: &mut RawClient, doc: &mut LocalDoc) -> String {
    let r = refusals(raw.push(vec![doc.chunk()]).await);
    assert_eq!(r.len(), 1, "expected a refusal of {} ({})", doc.id, doc.kind);
    r[0].rule.clone()
}

/// Push `doc`'s new changes; they must be accepted.
async fn accepted(raw: &mut RawClient, doc: &mut LocalDoc) {
    let answer = raw.push(vec![doc.chunk()]).await;
    assert!(matches!(answer, ServerMsg::Ack { .. }), "{} ({}) refused: {answer:?}", doc.id, doc.kind);
}

fn complaint_of(customer: DocId, by: &str, actor: &automerge::ActorId) -> LocalDoc {
    let c = customer.to_string();
    LocalDoc::new_record(
        actor,
        DocKind::Complaint,
        &[("customer", &c), ("channel", "hotline"), ("category", "taste"), ("severity", "normal"), ("content", "发苦")],
        by,
    )
}

fn complaint_step(doc: &mut LocalDoc, event: ComplaintEvent) {
    complaint::append_event(&mut doc.doc, &event).unwrap();
    doc.doc.commit();
}

fn quality_step(doc: &mut LocalDoc, event: QualityEvent) {
    quality::append_event(&mut doc.doc, &event).unwrap();
    doc.doc.commit();
}

fn put(doc: &mut LocalDoc, field: &str, value: &str) {
    automerge::transaction::Transactable::put(&mut doc.doc, automerge::ROOT, field, value).unwrap();
    doc.doc.commit();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_after_sales_kind_refuses_a_raw_client_what_it_may_not_write() {
    let server = server_with(&[
        ("li", "rep", Some(GZ), None),
        ("zhang", "rep", Some(SC), None),
        ("as1", "after-sales", None, None),
        ("qc", "quality", None, None),
        ("ma", "market", None, None),
        ("sun", "logistics", None, None),
    ]);
    let now = now_ms();
    // li: a customer of 贵州, a complaint about it, an order.
    let (mut li, _) = RawClient::caught_up(&server, "li").await;
    let mut gz = LocalDoc::new_customer(&li.actor, "遵义名酒行");
    accepted(&mut li, &mut gz).await;
    let mut forged = complaint_of(gz.id, "as1", &li.actor);
    assert_eq!(refused(&mut li, &mut forged).await, "author", "a complaint filed in someone else's name");
    let mut k = complaint_of(gz.id, "li", &li.actor);
    accepted(&mut li, &mut k).await;
    let mut order = LocalDoc::new_order(&li.actor, gz.id, "li");
    accepted(&mut li, &mut order).await;

    // Complaint events: a rep files and notes; acknowledging is not theirs.
    let mut attempt = k.fork_as(&li.actor);
    complaint_step(&mut attempt, ComplaintEvent::new(K::Acknowledged, now, "li"));
    assert_eq!(refused(&mut li, &mut attempt).await, "event-role");
    complaint_step(
        &mut k,
        ComplaintEvent { comment: Some("店里还有两箱".into()), ..ComplaintEvent::new(K::FieldNote, now, "li") },
    );
    accepted(&mut li, &mut k).await;
    // Nor is the severity, once filed.
    let mut attempt = k.fork_as(&li.actor);
    put(&mut attempt, "severity", "critical");
    assert_eq!(refused(&mut li, &mut attempt).await, "role");

    // zhang (四川): nothing of 贵州's, but their own customer's complaint.
    let (mut zhang, up) = RawClient::caught_up(&server, "zhang").await;
    assert!(up.chunks_of(k.id).is_empty(), "zhang is not sent the complaint");
    let mut sc = LocalDoc::new_customer_in(&zhang.actor, "成都锦江酒行", SC);
    accepted(&mut zhang, &mut sc).await;
    let mut theirs = complaint_of(gz.id, "zhang", &zhang.actor);
    assert_eq!(refused(&mut zhang, &mut theirs).await, "territory");
    let mut own = complaint_of(sc.id, "zhang", &zhang.actor);
    accepted(&mut zhang, &mut own).await;
    for (kind, inputs) in [
        (DocKind::RevisitTask, vec![("content", "satisfaction-survey"), ("due", "2027-01-10")]),
        (DocKind::Revisit, vec![("method", "phone"), ("satisfaction", "4")]),
        (DocKind::CareTask, vec![("occasion", "mid-autumn"), ("due", "2027-09-15")]),
    ] {
        let gz_id = gz.id.to_string();
        let sc_id = sc.id.to_string();
        let with = |customer: &str| -> Vec<(&str, String)> {
            let mut v: Vec<(&str, String)> = inputs.iter().map(|(f, x)| (*f, x.to_string())).collect();
            v.push(("customer", customer.to_string()));
            v
        };
        let bad = with(&gz_id);
        let bad: Vec<(&str, &str)> = bad.iter().map(|(f, v)| (*f, v.as_str())).collect();
        let mut doc = LocalDoc::new_record(&zhang.actor, kind, &bad, "zhang");
        assert_eq!(refused(&mut zhang, &mut doc).await, "territory", "{kind} of another territory's customer");
        let good = with(&sc_id);
        let good: Vec<(&str, &str)> = good.iter().map(|(f, v)| (*f, v.as_str())).collect();
        let mut doc = LocalDoc::new_record(&zhang.actor, kind, &good, "zhang");
        accepted(&mut zhang, &mut doc).await;
    }

    // After-sales: steps in their own name only, values of their declared type.
    let (mut as1, up) = RawClient::caught_up(&server, "as1").await;
    let chunks = up.chunks_of(k.id);
    let mut ak = LocalDoc::from_chunks(k.id, DocKind::Complaint, &as1.actor, &chunks);
    let mut attempt = ak.fork_as(&as1.actor);
    complaint_step(&mut attempt, ComplaintEvent::new(K::Acknowledged, now, "li"));
    assert_eq!(refused(&mut as1, &mut attempt).await, "event-author");
    let mut attempt = ak.fork_as(&as1.actor);
    complaint_step(
        &mut attempt,
        ComplaintEvent { satisfaction: Some(9), ..ComplaintEvent::new(K::Feedback, now, "as1") },
    );
    assert_eq!(refused(&mut as1, &mut attempt).await, "event-value");
    let mut attempt = ak.fork_as(&as1.actor);
    complaint_step(&mut attempt, ComplaintEvent::new(K::Measures, now, "as1"));
    assert_eq!(refused(&mut as1, &mut attempt).await, "event-measures", "measures must say what");
    complaint_step(&mut ak, ComplaintEvent::new(K::Acknowledged, now, "as1"));
    put(&mut ak, "severity", "serious");
    accepted(&mut as1, &mut ak).await;
    // The server's own documents: a forged tracking document is refused, with an honest
    // step in the same push accepted.
    let mut track =
        LocalDoc::forged(&as1.actor, track_id(k.id), DocKind::ComplaintTrack, &[("complaint", &k.id.to_string())]);
    complaint_step(
        &mut ak,
        ComplaintEvent {
            comment: Some("已联系".into()),
            told_via: Some("phone".into()),
            ..ComplaintEvent::new(K::Progress, now, "as1")
        },
    );
    let r = mixed(&mut as1, vec![track.chunk(), ak.chunk()]).await;
    assert_eq!(r, vec![(track_id(k.id), "role".to_string())]);
    // The after-sales policy: theirs to write, not a rep's.
    let mut policy = LocalDoc::new_record(&li.actor, DocKind::AftersalesPolicy, &[("revisit_days", "1")], "li");
    policy.id = protocol::schema::sla::POLICY_ID;
    assert_eq!(refused(&mut li, &mut policy).await, "role");
    let mut policy = LocalDoc::new_record(&as1.actor, DocKind::AftersalesPolicy, &[("revisit_days", "5")], "as1");
    policy.id = protocol::schema::sla::POLICY_ID;
    accepted(&mut as1, &mut policy).await;
    // Revisit plans: after-sales', not a rep's.
    let plan = [
        ("title", "Q3 满意度回访"),
        ("content", "satisfaction-survey"),
        ("method", "phone"),
        ("due", "2027-01-31"),
        ("scope", "rule"),
        ("territory", "海南"),
    ];
    let mut doc = LocalDoc::new_record(&li.actor, DocKind::RevisitPlan, &plan, "li");
    assert_eq!(refused(&mut li, &mut doc).await, "role");
    let mut doc = LocalDoc::new_record(&as1.actor, DocKind::RevisitPlan, &plan, "as1");
    accepted(&mut as1, &mut doc).await;

    // Quality issues: quality control's; their steps in their own name; recall lists the
    // server's.
    let issue = [
        ("title", "酒体浑浊"),
        ("source", "complaints"),
        ("sku", "MT-53-500"),
        ("batch", "B2026-07"),
        ("severity", "serious"),
    ];
    let mut doc = LocalDoc::new_record(&as1.actor, DocKind::QualityIssue, &issue, "as1");
    assert_eq!(refused(&mut as1, &mut doc).await, "role");
    let (mut qc, _) = RawClient::caught_up(&server, "qc").await;
    let mut q = LocalDoc::new_record(&qc.actor, DocKind::QualityIssue, &issue, "qc");
    accepted(&mut qc, &mut q).await;
    let mut attempt = q.fork_as(&qc.actor);
    quality_step(
        &mut attempt,
        QualityEvent { comment: Some("x".into()), ..QualityEvent::new(Q::Analysis, now, "as1") },
    );
    assert_eq!(refused(&mut qc, &mut attempt).await, "event-author");
    let mut attempt = q.fork_as(&qc.actor);
    quality_step(&mut attempt, QualityEvent { complaint: Some(k.id), ..QualityEvent::new(Q::Action, now, "qc") });
    assert_eq!(refused(&mut qc, &mut attempt).await, "event-comment", "an action needs its plan");
    let mut list = LocalDoc::forged(&qc.actor, recall_id(q.id), DocKind::Recall, &[("issue", &q.id.to_string())]);
    quality_step(&mut q, QualityEvent { complaint: Some(k.id), ..QualityEvent::new(Q::Linked, now, "qc") });
    let r = mixed(&mut qc, vec![list.chunk(), q.chunk()]).await;
    assert_eq!(r, vec![(recall_id(q.id), "role".to_string())]);
    let mut attempt = LocalDoc::new_record(&li.actor, DocKind::QualityIssue, &issue, "li");
    assert_eq!(refused(&mut li, &mut attempt).await, "role");

    // The care calendar: after-sales' and market's, not a rep's.
    let care = [("title", "中秋问候"), ("occasion", "mid-autumn"), ("date", "2027-09-15"), ("territory", "海南")];
    let mut doc = LocalDoc::new_record(&li.actor, DocKind::CareEvent, &care, "li");
    assert_eq!(refused(&mut li, &mut doc).await, "role");
    let (mut ma, _) = RawClient::caught_up(&server, "ma").await;
    let mut doc = LocalDoc::new_record(&ma.actor, DocKind::CareEvent, &care, "ma");
    accepted(&mut ma, &mut doc).await;

    // Batch numbers on a shipment: in the one format.
    let (mut sun, up) = RawClient::caught_up(&server, "sun").await;
    let mut so = LocalDoc::from_chunks(order.id, DocKind::Order, &sun.actor, &up.chunks_of(order.id));
    let shipped = |batches: &str| protocol::schema::order::OrderEvent {
        kind: "shipped".into(),
        at: now,
        by: "sun".into(),
        carrier: Some("顺丰".into()),
        tracking: Some("SF1".into()),
        batches: Some(batches.into()),
        ..Default::default()
    };
    let mut attempt = so.fork_as(&sun.actor);
    protocol::schema::order::append_event(&mut attempt.doc, &shipped("1=B 09;x")).unwrap();
    attempt.doc.commit();
    assert_eq!(refused(&mut sun, &mut attempt).await, "event-invalid");
    protocol::schema::order::append_event(&mut so.doc, &shipped("l1=B2026-09")).unwrap();
    so.doc.commit();
    accepted(&mut sun, &mut so).await;

    for c in [li, zhang, as1, qc, ma, sun] {
        c.close().await;
    }
}
