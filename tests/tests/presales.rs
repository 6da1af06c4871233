//! Pre-sales and field planning over the whole system (issue 12) — real server processes,
//! real CLI profiles (SQLite files), the real sync:
//!
//! - market publishes a research plan → two reps record competitor observations offline →
//!   market's report shows their prices aggregated (min/median/max per brand, SKU, region,
//!   checked against a computation of this test) → the forecast is distributed exactly once
//!   to each department, read receipts once per reader;
//! - a 窜货 report filed offline by a rep of another territory reaches market and lowers
//!   the partner's evaluation exactly once, however often it is resent or edited;
//! - a planned visit is completed by a visit log from another device of the rep, offline;
//!   a missed plan is reported; planned against actual counts; the rep's today list
//!   (`jiuloop today`) in priority order, offline; the cadence is the manager's and
//!   read-only for reps.

use jiuloop_tests::{Device, TestServer};
use serde_json::Value;
use std::collections::BTreeMap;

const GZ: &str = "贵州";
const SC: &str = "四川";

fn server_with(users: &[(&str, &str, Option<&str>, Option<&str>)]) -> TestServer {
    let mut s = TestServer::new();
    for (name, role, territory, manager) in users {
        s.add_user_with(name, role, *territory, *manager);
    }
    s.start();
    s
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

/// Today in Asia/Shanghai, as `YYYY-MM-DD`, and `n` days from it.
fn day(n: i64) -> String {
    protocol::time::shanghai_date(now_ms() + n * 86_400_000).to_string()
}

/// Rows of the server's SQLite file counted by `sql`, with `id` (a document id) as ?1.
fn count(server: &TestServer, sql: &str, id: &str) -> i64 {
    let id = uuid::Uuid::parse_str(id).expect("an id");
    server.db().query_row(sql, [id.as_bytes().as_slice()], |r| r.get(0)).expect("count")
}

/// `new KIND FIELD=VALUE…` on `d`; the new id.
fn new(d: &Device, kind: &str, fields: &[&str]) -> String {
    let mut args = vec!["new", kind];
    args.extend_from_slice(fields);
    let id = d.ok(&args);
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "new {kind} printed {id:?}");
    id
}

fn status(d: &Device, id: &str) -> String {
    let v = d.json(&["step", id]);
    v["status"].as_str().unwrap_or_else(|| panic!("no status in {v}")).to_string()
}

/// A row of the summary: brand, SKU, region.
type Group = (String, String, String);
/// Count, min, median, max (fen) and the promotions seen.
type Stats = (i64, i64, i64, i64, Vec<String>);

/// Median as a buyer would take it: sort, the middle one, or the mean of the middle two
/// rounded down.
fn median_by_hand(prices: &[i64]) -> i64 {
    let mut p = prices.to_vec();
    p.sort();
    let mid = p.len() / 2;
    if p.len() % 2 == 1 { p[mid] } else { (p[mid - 1] + p[mid]).div_euclid(2) }
}

#[test]
fn market_plans_reps_observe_offline_the_report_aggregates_and_the_forecast_is_distributed_once() {
    let mut server = server_with(&[
        ("mk", "market", None, None),
        ("boss", "manager", Some(GZ), None),
        ("li", "rep", Some(GZ), Some("boss")),
        ("wang", "rep", Some(GZ), Some("boss")),
        ("zhang", "rep", Some(SC), None),
        ("fin", "finance", None, None),
        ("ceo", "executive", None, None),
    ]);
    let mk = Device::logged_in(&server, "mk");
    let plan = new(
        &mk,
        "research-plan",
        &[
            "title=2026年冬季贵州终端价格调研",
            &format!("territory={GZ}"),
            "purpose=摸清竞品终端价格与促销",
            "regions=贵阳,遵义",
            "channels=烟酒店,餐饮",
            "topic_competitors=true",
            "methods=实地走访",
            &format!("starts_on={}", day(-3)),
            &format!("ends_on={}", day(10)),
            "owner=mk",
            "participants=li,wang",
        ],
    );
    // Approved by leadership (not by whoever wrote it), then started.
    mk.sync();
    let ceo = Device::logged_in(&server, "ceo");
    ceo.sync();
    let err = mk.fail(&["step", &plan, "approve"]);
    assert!(err.contains("step-own"), "{err}");
    ceo.ok(&["step", &plan, "approve"]);
    ceo.sync();
    mk.sync();
    mk.ok(&["step", &plan, "start"]);
    assert_eq!(status(&mk, &plan), "in-progress");
    mk.sync();

    // The reps of the territory read the plan; the rep of another territory does not.
    let li = Device::logged_in(&server, "li");
    let wang = Device::logged_in(&server, "wang");
    let zhang = Device::logged_in(&server, "zhang");
    for d in [&li, &wang, &zhang] {
        d.sync();
    }
    assert_eq!(status(&li, &plan), "in-progress");
    let shown = li.ok(&["show", &plan]);
    assert!(shown.contains("2026年冬季贵州终端价格调研"), "{shown}");
    assert!(!zhang.stored_docs().iter().any(|d| d.id == plan), "a rep of 四川 holds 贵州's plan");

    let gy = li.add_customer("贵阳名酒行", &["--region", "贵阳", "--channel", "distributor"]);
    let zy = wang.add_customer("遵义酒业", &["--region", "遵义", "--channel", "distributor"]);
    let gy2 = wang.add_customer("贵阳老窖坊", &["--region", "贵阳", "--channel", "restaurant"]);
    let cd = zhang.add_customer("成都酒仓", &["--region", "成都", "--channel", "distributor"]);
    for d in [&li, &wang, &zhang, &li] {
        d.sync();
    }
    assert!(li.stored_docs().iter().any(|d| d.id == zy), "li holds the territory's customers");

    // In the field with no signal: both reps record what they see, offline.
    server.kill9();
    // (device, customer, brand, product, spec, price in yuan, promotion)
    let seen: Vec<(&Device, &str, &str, &str, &str, &str, &str)> = vec![
        (&li, &gy, "茅台", "飞天", "53度500ml", "2699", "买二赠一"),
        (&li, &gy, "五粮液", "普五", "52度500ml", "1099", ""),
        (&wang, &gy2, "茅台", "飞天", "53度500ml", "2799", ""),
        (&wang, &gy2, "茅台", "飞天", "53度500ml", "2650.50", "扫码红包"),
        (&wang, &gy2, "五粮液", "普五", "52度500ml", "1150", ""),
        (&wang, &zy, "茅台", "飞天", "53度500ml", "2899", ""),
        (&li, &zy, "茅台", "飞天", "53度500ml", "2999", "扫码红包"),
    ];
    for (d, customer, brand, product, spec, price, promo) in &seen {
        let mut fields = vec![
            format!("customer={customer}"),
            format!("brand={brand}"),
            format!("product={product}"),
            format!("spec={spec}"),
            format!("shelf_price={price}"),
        ];
        if !promo.is_empty() {
            fields.push(format!("promotion={promo}"));
        }
        let refs: Vec<&str> = fields.iter().map(String::as_str).collect();
        new(d, "competitor-observation", &refs);
    }
    // An observation in 四川 (outside the report's scope).
    new(
        &zhang,
        "competitor-observation",
        &[&format!("customer={cd}"), "brand=茅台", "product=飞天", "spec=53度500ml", "shelf_price=3100"],
    );
    server.restart();
    for d in [&li, &wang, &zhang] {
        d.sync();
        assert_eq!(d.pending_docs(), 0, "{} sent everything", d.name);
    }

    // Market writes the report for the period and the territory, and publishes it.
    mk.sync();
    let report = new(
        &mk,
        "market-report",
        &[
            "title=贵州终端价格调研报告",
            &format!("plan={plan}"),
            &format!("period_from={}", day(-3)),
            &format!("period_to={}", day(1)),
            &format!("scope_territory={GZ}"),
            "findings_field=飞天终端价普遍在2650元以上",
            "conclusions=高端价格坚挺",
            "recommendations=加大餐饮渠道投入",
        ],
    );
    mk.ok(&["step", &report, "publish"]);
    mk.sync();
    mk.sync();
    let view = mk.json(&["report", "show", &report]);
    assert_eq!(view["summary"]["status"], "published", "{view}");
    assert_eq!(view["summary"]["by_server"], true, "the server's summary: {view}");

    // The independent computation: group what was accepted by brand, SKU and region.
    let mut expected: BTreeMap<Group, (Vec<i64>, Vec<String>)> = BTreeMap::new();
    for (_, customer, brand, product, spec, price, promo) in &seen {
        let region = if *customer == zy { "遵义" } else { "贵阳" };
        let fen = (price.parse::<f64>().unwrap() * 100.0).round() as i64;
        let e = expected.entry((brand.to_string(), format!("{product} {spec}"), region.to_string())).or_default();
        e.0.push(fen);
        if !promo.is_empty() && !e.1.contains(&promo.to_string()) {
            e.1.push(promo.to_string());
        }
    }
    let rows = view["summary"]["rows"].as_array().expect("rows");
    let got: BTreeMap<Group, Stats> = rows
        .iter()
        .map(|r| {
            let s = |k: &str| r[k].as_str().unwrap().to_string();
            let n = |k: &str| r[k].as_i64().unwrap();
            let mut promos: Vec<String> =
                r["promotions"].as_array().unwrap().iter().map(|p| p.as_str().unwrap().to_string()).collect();
            promos.sort();
            ((s("brand"), s("sku"), s("region")), (n("count"), n("min_fen"), n("median_fen"), n("max_fen"), promos))
        })
        .collect();
    let want: BTreeMap<_, _> = expected
        .into_iter()
        .map(|(k, (prices, mut promos))| {
            promos.sort();
            let v = (
                prices.len() as i64,
                *prices.iter().min().unwrap(),
                median_by_hand(&prices),
                *prices.iter().max().unwrap(),
                promos,
            );
            (k, v)
        })
        .collect();
    assert_eq!(got, want, "the report's summary");
    let n: i64 = want.values().map(|v| v.0).sum();
    assert_eq!(view["summary"]["observations"].as_i64(), Some(n), "四川's observation left out");
    // 贵阳's 飞天: 2650.50, 2699, 2799 → median 2699.
    assert_eq!(got[&("茅台".into(), "飞天 53度500ml".into(), "贵阳".into())].2, 269_900);
    // The printable page and the CSV show the same prices.
    let page = mk.ok(&["report", "show", &report]);
    for text in [
        "贵州终端价格调研报告",
        "2026年冬季贵州终端价格调研",
        "2650.50",
        "2699.00",
        "2799.00",
        "买二赠一；扫码红包",
        "高端价格坚挺",
    ] {
        assert!(page.contains(text), "the page lacks {text:?}:\n{page}");
    }
    let csv = mk.ok(&["report", "csv", &report]);
    assert!(csv.contains("茅台") && csv.contains("2699.00"), "{csv}");
    // The server wrote the summary once; its content is locked now.
    let err = mk.fail(&["set", &report, "conclusions=改过的结论"]);
    assert!(!err.is_empty());
    assert_eq!(count(&server, "SELECT COUNT(*) FROM effects WHERE doc_id = ?1 AND effect = 'published'", &report), 1);

    // The forecast: published once, distributed to each department once.
    let forecast = new(
        &mk,
        "trend-forecast",
        &[
            "title=2027年一季度贵州高端白酒趋势预测",
            &format!("report={report}"),
            "region=贵州",
            "period=2027-Q1",
            "market_size=1200000000",
            "growth_bp=650",
            "demand_shift=宴席需求回升",
            "competition=次高端竞争加剧",
        ],
    );
    mk.ok(&["step", &forecast, "publish"]);
    mk.sync();
    // Sent again after a restart, published again from a stale copy: still once.
    server.restart();
    mk.sync();
    let again = mk.run(&["step", &forecast, "publish"]);
    assert!(!again.status.success(), "a published forecast is not published twice");
    mk.sync();
    let per_department: BTreeMap<String, i64> = {
        let db = server.db();
        let id = uuid::Uuid::parse_str(&forecast).unwrap();
        let mut st = db
            .prepare("SELECT department, COUNT(*) FROM notifications WHERE order_id = ?1 GROUP BY department")
            .unwrap();
        st.query_map([id.as_bytes().as_slice()], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect()
    };
    let departments = ["after-sales", "executive", "finance", "legal", "logistics", "manager", "quality"];
    assert_eq!(
        per_department,
        departments.iter().map(|d| (d.to_string(), 1)).collect::<BTreeMap<_, _>>(),
        "one notification per department"
    );

    // Departments read it; each reader's receipt counts once.
    let fin = Device::logged_in(&server, "fin");
    for d in [&fin, &ceo] {
        d.sync();
        assert_eq!(status(d, &forecast), "published");
        d.ok(&["read", &forecast]);
        d.sync();
    }
    // Reading again (refused or not on the device) adds no second receipt on the server.
    let _ = fin.run(&["read", &forecast]);
    fin.sync();
    assert_eq!(count(&server, "SELECT COUNT(*) FROM effects WHERE doc_id = ?1 AND effect = 'read'", &forecast), 2);
    mk.sync();
    let receipts = mk.json(&["step", &forecast]);
    let readers: Vec<String> = receipts["logs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["receipts"] == true)
        .flat_map(|l| l["timeline"].as_array().unwrap().clone())
        .map(|r| r["by"].as_str().unwrap().to_string())
        .collect();
    assert!(readers.contains(&"fin".to_string()) && readers.contains(&"ceo".to_string()), "{receipts}");
    // Reps are not among the readers of what market distributes.
    li.sync();
    assert!(!li.stored_docs().iter().any(|d| d.id == forecast || d.id == report), "reps do not hold reports");
}

/// The latest quarter's total and the deductions of a partner's evaluation, as market sees it.
fn evaluation(d: &Device, partner: &str) -> (i64, Vec<Value>) {
    let e = d.json(&["partner", "evaluation", partner]);
    let total = e["periods"].as_array().and_then(|p| p.last()).and_then(|p| p["total"].as_i64());
    (total.unwrap_or_else(|| panic!("no total in {e}")), e["deductions"].as_array().cloned().unwrap_or_default())
}

#[test]
fn a_cross_region_report_filed_offline_reaches_market_and_lowers_the_evaluation_once() {
    let mut server = server_with(&[
        ("mk", "market", None, None),
        ("boss", "manager", Some(GZ), None),
        ("zhang", "rep", Some(SC), None),
        ("li", "rep", Some(GZ), Some("boss")),
    ]);
    let mk = Device::logged_in(&server, "mk");
    let partner = new(
        &mk,
        "partner",
        &[
            "name=遵义金樽商贸",
            "code=GZ-ZY-001",
            &format!("territory={GZ}"),
            "region=遵义",
            "score_capital=80",
            "score_network=90",
            "score_reputation=70",
            "score_logistics=60",
            "score_service=100",
            &format!("agreement_from={}", day(-30)),
            &format!("agreement_to={}", day(335)),
            "rights=遵义地区独家经销",
            "duties=不得跨区域销售",
        ],
    );
    for step in ["shortlist", "negotiate", "sign"] {
        mk.ok(&["step", &partner, step]);
    }
    mk.sync();
    mk.sync();
    // This quarter's assessment: a qualitative 90.
    new(
        &mk,
        "partner-record",
        &[&format!("partner={partner}"), "kind=assessment", &format!("date={}", day(0)), "score=90", "topic=季度考核"],
    );
    new(
        &mk,
        "partner-record",
        &[&format!("partner={partner}"), "kind=training", &format!("date={}", day(0)), "topic=新品培训"],
    );
    mk.sync();
    mk.sync();
    let (before, deductions) = evaluation(&mk, &partner);
    assert!(deductions.is_empty(), "{deductions:?}");
    // Criteria 80 and qualitative 90, weighted 30:30 (no sales target): 85.
    assert_eq!(before, (80 * 30 + 90 * 30 + 30) / 60);
    // Equal weights (no channel plan): the mean of the five scores.
    let e = mk.json(&["partner", "evaluation", &partner]);
    assert_eq!(e["criteria_score"].as_i64(), Some((80 + 90 + 70 + 60 + 100) / 5), "{e}");

    // The territory's manager reads the partner; a rep does not.
    let boss = Device::logged_in(&server, "boss");
    boss.sync();
    assert!(boss.stored_docs().iter().any(|d| d.id == partner));

    // A rep in 四川 finds 贵州's goods in a shop, with no signal, and reports it.
    let zhang = Device::logged_in(&server, "zhang");
    zhang.sync();
    assert!(!zhang.stored_docs().iter().any(|d| d.id == partner), "reps do not hold partners");
    let shop = zhang.add_customer("成都春熙酒行", &["--region", "成都"]);
    zhang.sync();
    server.kill9();
    let report = zhang.ok(&[
        "violation",
        "--kind",
        "cross-region",
        "--code",
        "gz-zy-001",
        "--product",
        "飞天 53度500ml",
        "--customer",
        &shop,
        "--batch",
        "WL20261101",
        "--price",
        "2450",
        "--quantity",
        "12",
        "--evidence",
        "箱体物流码显示发往遵义",
    ]);
    assert!(uuid::Uuid::parse_str(&report).is_ok(), "{report}");
    let shown = zhang.ok(&["show", &report]);
    assert!(shown.contains("四川") && shown.contains("箱体物流码显示发往遵义"), "{shown}");
    server.restart();
    zhang.sync();
    assert_eq!(zhang.pending_docs(), 0);

    // Market receives it and the partner's evaluation drops by the deduction, once.
    mk.sync();
    mk.sync();
    assert!(mk.stored_docs().iter().any(|d| d.id == report), "market holds the report");
    let (after, deductions) = evaluation(&mk, &partner);
    assert_eq!(deductions.len(), 1, "{deductions:?}");
    let points = deductions[0][1]["points"].as_i64().expect("points");
    assert_eq!(points, protocol::presales::evaluation::DEFAULT_DEDUCTION_CROSS_REGION);
    assert_eq!(deductions[0][1]["report"].as_str(), Some(report.as_str()));
    assert_eq!(deductions[0][1]["territory"].as_str(), Some(SC));
    assert_eq!(after, before - points, "the evaluation is lowered by the deduction");
    let market_note = count(
        &server,
        "SELECT COUNT(*) FROM notifications WHERE order_id = ?1 AND department = 'market' AND kind = 'violation'",
        &report,
    );
    assert_eq!(market_note, 1, "market is notified once");

    // Edited, resent after a restart, confirmed by market: still counted once.
    zhang.ok(&["set", &report, "quantity=24"]);
    zhang.sync();
    server.restart();
    zhang.sync();
    mk.sync();
    mk.ok(&["step", &report, "confirm", "--comment", "物流码核实"]);
    mk.sync();
    mk.sync();
    let (again, deductions) = evaluation(&mk, &partner);
    assert_eq!((again, deductions.len()), (after, 1), "{deductions:?}");
    assert_eq!(deductions[0][1]["status"].as_str(), Some("confirmed"));
    assert_eq!(
        count(&server, "SELECT COUNT(*) FROM effects WHERE doc_id = ?1 AND effect = 'violation-counted'", &report),
        1
    );
    let human = mk.ok(&["partner", "evaluation", &partner]);
    assert!(human.contains("遵义金樽商贸") && human.contains(&report), "{human}");
}

#[test]
fn a_planned_visit_is_completed_from_another_device_offline_and_missed_plans_show() {
    let mut server = server_with(&[("boss", "manager", Some(GZ), None), ("li", "rep", Some(GZ), Some("boss"))]);
    let boss = Device::logged_in(&server, "boss");
    // The manager sets the cadence; reps read it only.
    boss.ok(&["cadence", "set", "a_days=7", "b_days=14", "c_days=30", "a_strategy=每周上门，重点维护"]);
    boss.sync();

    let laptop = Device::logged_in(&server, "li");
    laptop.sync();
    let shown = laptop.json(&["cadence", "show"]);
    assert_eq!(shown["days"], serde_json::json!([7, 14, 30]), "{shown}");
    let err = laptop.fail(&["cadence", "set", "a_days=3"]);
    assert!(!err.is_empty());

    let a = laptop.add_customer("花溪名酒行", &["--class", "A"]);
    let b = laptop.add_customer("观山湖酒业", &["--class", "B"]);
    let c = laptop.add_customer("白云烟酒店", &["--class", "C"]);
    laptop.sync();
    boss.sync();

    // The manager plans three visits for li: yesterday (missed), today twice.
    let missed =
        boss.ok(&["visit-plan", "add", "--customer", &c, "--date", &day(-1), "--purpose", "介绍新品", "--rep", "li"]);
    let today_a =
        boss.ok(&["visit-plan", "add", "--customer", &a, "--date", &day(0), "--purpose", "年底备货", "--rep", "li"]);
    let today_b =
        boss.ok(&["visit-plan", "add", "--customer", &b, "--date", &day(0), "--purpose", "回收货款", "--rep", "li"]);
    boss.sync();

    // The rep's phone, logged in before; no signal at the customer's.
    let phone = Device::logged_in(&server, "li");
    phone.sync();
    laptop.sync();
    server.kill9();

    // The today list works offline, in priority order: the planned visits, then due
    // follow-ups by class (none visited yet: every class is due now).
    let today = phone.json(&["today"]);
    let names: Vec<&str> = today["items"].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap()).collect();
    assert_eq!(names.len(), 3, "{today}");
    assert_eq!(
        names[..2].iter().copied().collect::<std::collections::BTreeSet<_>>(),
        ["花溪名酒行", "观山湖酒业"].into()
    );
    assert_eq!(names[0], "花溪名酒行", "A before B: {today}");
    let human = phone.ok(&["today"]);
    assert!(human.contains("花溪名酒行") && human.contains("年底备货"), "{human}");

    // The visit carries out the plan, logged on the phone offline.
    phone.ok(&["visit", "add", "--customer", &a, "--kind", "follow-up", "--plan", &today_a, "--notes", "备货20箱"]);
    let plans = phone.json(&["visit-plan", "list"]);
    let state = |plans: &Value, id: &str| -> Value {
        plans.as_array().unwrap().iter().find(|p| p["id"] == id).unwrap_or_else(|| panic!("{id} in {plans}"))["state"]
            .clone()
    };
    assert!(state(&plans, &today_a).to_string().contains("done"), "{plans}");
    assert_eq!(state(&plans, &missed), "missed", "{plans}");
    let missed_only = phone.json(&["visit-plan", "list", "--missed"]);
    assert_eq!(missed_only.as_array().unwrap().len(), 1, "{missed_only}");
    // The A customer is no longer due today: its next follow-up is a week away.
    let today = phone.json(&["today"]);
    let names: Vec<&str> = today["items"].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap()).collect();
    assert!(!names.contains(&"花溪名酒行"), "{today}");
    let follow = phone.json(&["followups"]);
    let next = follow
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "花溪名酒行")
        .unwrap_or_else(|| panic!("{follow}"))["next"]
        .clone();
    assert_eq!(next.as_str(), Some(day(7).as_str()), "{follow}");

    // Back online: the laptop and the manager see the plan done by the phone's visit.
    server.restart();
    phone.sync();
    laptop.sync();
    boss.sync();
    for d in [&laptop, &boss] {
        let plans = d.json(&["visit-plan", "list"]);
        assert!(state(&plans, &today_a).to_string().contains("done"), "{} {plans}", d.name);
        assert_eq!(state(&plans, &today_b), "open", "{plans}");
        assert_eq!(state(&plans, &missed), "missed", "{plans}");
    }
    let pva = boss.json(&["planned-vs-actual", "--from", &day(-7), "--to", &day(7)]);
    let rows = pva["rows"].as_array().unwrap();
    let sum = |k: &str| rows.iter().filter(|r| r["rep"] == "li").map(|r| r[k].as_i64().unwrap()).sum::<i64>();
    assert_eq!(
        (sum("planned"), sum("completed"), sum("missed"), sum("open"), sum("visits"), sum("unplanned")),
        (3, 1, 1, 1, 1, 0),
        "{pva}"
    );
}

// ---- raw clients: what the server takes from the session, its clock and its storage ----

mod raw {
    use jiuloop_tests::{LocalDoc, RawClient};
    use protocol::kinds::Scalar;
    use protocol::kinds::presales::{CADENCE_DOC_ID, evaluation_id, summary_id};
    use protocol::schema::presales_docs;
    use protocol::{DocKind, ServerMsg};
    use std::collections::BTreeMap;

    async fn answer(raw: &mut RawClient, doc: &mut LocalDoc) -> Option<String> {
        match raw.push(vec![doc.chunk()]).await {
            ServerMsg::Ack { .. } => None,
            ServerMsg::Refused { refusals } => Some(refusals[0].rule.clone()),
            other => panic!("expected an answer to a push, got {other:?}"),
        }
    }

    async fn refused(raw: &mut RawClient, doc: &mut LocalDoc) -> String {
        answer(raw, doc).await.unwrap_or_else(|| panic!("{} ({}) was accepted", doc.id, doc.kind))
    }

    async fn accepted(raw: &mut RawClient, doc: &mut LocalDoc) {
        if let Some(rule) = answer(raw, doc).await {
            panic!("{} ({}) refused: {rule}", doc.id, doc.kind);
        }
    }

    /// Append a workflow step `{step, by, role, at}` to the document's `status` log.
    fn step(doc: &mut LocalDoc, log: &str, step: &str, by: &str, role: &str) {
        let mut v = BTreeMap::new();
        v.insert("step".to_string(), Scalar::Str(step.into()));
        v.insert("by".to_string(), Scalar::Str(by.into()));
        v.insert("role".to_string(), Scalar::Str(role.into()));
        v.insert("at".to_string(), Scalar::Int(super::now_ms()));
        presales_docs::append(&mut doc.doc, doc.kind, log, &v).unwrap();
        doc.doc.commit();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_presales_kind_refuses_a_raw_client_what_it_may_not_write() {
        let server = super::server_with(&[
            ("li", "rep", Some(super::GZ), None),
            ("zhang", "rep", Some(super::SC), None),
            ("mk", "market", None, None),
            ("boss", "manager", Some(super::GZ), None),
        ]);
        let (mut li, _) = RawClient::caught_up(&server, "li").await;
        let (mut mk, _) = RawClient::caught_up(&server, "mk").await;
        let (mut zhang, _) = RawClient::caught_up(&server, "zhang").await;

        // Research plans are market's: not a rep's, not in someone else's name.
        let plan = [("title", "春季调研"), ("territory", super::GZ)];
        let mut doc = LocalDoc::new_record(&li.actor, DocKind::ResearchPlan, &plan, "li");
        assert_eq!(refused(&mut li, &mut doc).await, "role");
        let mut doc = LocalDoc::new_record(&mk.actor, DocKind::ResearchPlan, &plan, "li");
        assert_eq!(refused(&mut mk, &mut doc).await, "author");
        let mut rp = LocalDoc::new_record(&mk.actor, DocKind::ResearchPlan, &plan, "mk");
        accepted(&mut mk, &mut rp).await;
        // Its steps: approving your own plan, or a step in another's name or role, is refused.
        let mut attempt = rp.fork_as(&mk.actor);
        step(&mut attempt, "status", "approve", "mk", "market");
        let own = refused(&mut mk, &mut attempt).await;
        assert!(own.contains("own") || own.contains("author"), "{own}");
        let mut attempt = rp.fork_as(&mk.actor);
        step(&mut attempt, "status", "start", "li", "rep");
        let r = refused(&mut mk, &mut attempt).await;
        assert!(r.starts_with("event") || r.starts_with("step"), "{r}");

        // The server's own documents: forged summaries and evaluations are refused.
        let mut forged =
            LocalDoc::forged(&mk.actor, summary_id(rp.id), DocKind::ReportSummary, &[("report", &rp.id.to_string())]);
        assert_eq!(refused(&mut mk, &mut forged).await, "role");
        let mut partner = LocalDoc::new_record(
            &mk.actor,
            DocKind::Partner,
            &[("name", "遵义金樽"), ("code", "GZ-9"), ("territory", super::GZ)],
            "mk",
        );
        accepted(&mut mk, &mut partner).await;
        let mut forged = LocalDoc::forged(
            &mk.actor,
            evaluation_id(partner.id),
            DocKind::PartnerEvaluation,
            &[("partner", &partner.id.to_string()), ("latest_total", "100")],
        );
        assert_eq!(refused(&mut mk, &mut forged).await, "role");
        // Partners are not a rep's to keep.
        let mut doc = LocalDoc::new_record(
            &li.actor,
            DocKind::Partner,
            &[("name", "私建伙伴"), ("code", "GZ-10"), ("territory", super::GZ)],
            "li",
        );
        assert_eq!(refused(&mut li, &mut doc).await, "role");
        // Nor the cadence.
        let mut doc = LocalDoc::new_record(&li.actor, DocKind::CadencePolicy, &[("a_days", "1")], "li");
        doc.id = CADENCE_DOC_ID;
        assert_eq!(refused(&mut li, &mut doc).await, "role");

        // A violation report: in the reporter's own territory and name only.
        fn report(territory: &str) -> Vec<(&'static str, &str)> {
            vec![("kind", "cross-region"), ("partner_code", "GZ-9"), ("product", "飞天"), ("territory", territory)]
        }
        let mut doc = LocalDoc::new_record(&zhang.actor, DocKind::ViolationReport, &report(super::GZ), "zhang");
        assert_eq!(refused(&mut zhang, &mut doc).await, "territory");
        let mut doc = LocalDoc::new_record(&zhang.actor, DocKind::ViolationReport, &report(super::SC), "li");
        assert_eq!(refused(&mut zhang, &mut doc).await, "author");
        let mut doc = LocalDoc::new_record(&zhang.actor, DocKind::ViolationReport, &report(super::SC), "zhang");
        accepted(&mut zhang, &mut doc).await;
        // Reviewing it is market's, not the reporter's.
        let mut attempt = doc.fork_as(&zhang.actor);
        step(&mut attempt, "review", "confirm", "zhang", "rep");
        let r = refused(&mut zhang, &mut attempt).await;
        assert!(["role", "event-role", "step-role"].contains(&r.as_str()), "{r}");

        for c in [li, mk, zhang] {
            c.close().await;
        }
    }
}

#[test]
fn a_development_plans_prospects_are_on_the_list_and_its_progress_and_conversion_count() {
    let mut server = server_with(&[("boss", "manager", Some(GZ), None), ("li", "rep", Some(GZ), Some("boss"))]);
    let li = Device::logged_in(&server, "li");
    let p1 = li.add_customer("新店一号", &["--class", "C"]);
    let p2 = li.add_customer("新店二号", &["--class", "C"]);
    let plan = new(
        &li,
        "development-plan",
        &[
            "title=十二月新店开发",
            &format!("territory={GZ}"),
            "owner=li",
            &format!("period_from={}", day(-1)),
            &format!("period_to={}", day(30)),
            "methods=上门拜访,品鉴会",
        ],
    );
    for (c, class) in [(&p1, "A"), (&p2, "B")] {
        li.ok(&["devplan", "add-target", &plan, "--customer", c, "--method", "on-site", "--class", class]);
    }
    li.sync();

    // Offline: both prospects are on today's list, after nothing more urgent.
    server.kill9();
    let today = li.json(&["today"]);
    let items = today["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{today}");
    for i in items {
        assert_eq!(i["reasons"][0]["kind"], "prospect", "{today}");
        assert!(i["texts"][0].as_str().unwrap().contains("十二月新店开发"), "{today}");
    }
    // One is visited and moves C → B → A; the other is not visited yet.
    li.ok(&["visit", "add", "--customer", &p1, "--kind", "development", "--method", "on-site", "--notes", "首次拜访"]);
    li.ok(&["set", &p1, "class=B"]);
    li.ok(&["set", &p1, "class=A"]);
    let today = li.json(&["today"]);
    let ids: Vec<&str> = today["items"].as_array().unwrap().iter().map(|i| i["customer"].as_str().unwrap()).collect();
    assert_eq!(ids, [p2.as_str()], "the visited prospect is off the list: {today}");
    let progress = li.json(&["devplan", "progress", &plan]);
    assert_eq!((progress["contacted"].as_u64(), progress["reached"].as_u64()), (Some(1), Some(1)), "{progress}");
    let t1 = progress["targets"].as_array().unwrap().iter().find(|t| t["customer"] == p1.as_str()).unwrap().clone();
    assert_eq!(
        (t1["visits"].as_u64(), t1["class_now"].as_str(), t1["reached"].as_bool()),
        (Some(1), Some("A"), Some(true))
    );

    // Synced, the manager sees the same progress and li's conversion this month.
    server.restart();
    li.sync();
    let boss = Device::logged_in(&server, "boss");
    boss.sync();
    assert_eq!(boss.json(&["devplan", "progress", &plan])["reached"].as_u64(), Some(1));
    let conv = boss.json(&["conversion", "--from", &day(-1), "--to", &day(1)]);
    let rows = conv["rows"].as_array().unwrap_or_else(|| panic!("{conv}"));
    let mine = rows.iter().find(|r| r["rep"] == "li").unwrap_or_else(|| panic!("{conv}"));
    assert_eq!((mine["c_to_b"].as_u64(), mine["b_to_a"].as_u64()), (Some(1), Some(1)), "{conv}");
}
