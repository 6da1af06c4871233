//! Sales analysis over the whole system (issue 13): a real server process with its
//! projection thread, real CLI profiles, the HTTP endpoint, the admin commands.
//!
//! - Indicator tables of a seeded company (two territories, confirmed, shipped, cancelled
//!   after confirmation, awaiting approval, draft and uncountable orders; orders a minute
//!   either side of Asia/Shanghai midnight and, when it is within the offline window, of
//!   a month's end) equal an independent computation in this test from what an
//!   executive's device shows (the client core's status, chrono's time zone) — not from the
//!   read model.
//! - Access: a rep's token is refused team figures and gets only their own; a manager gets
//!   their team's territories only; logistics none.
//! - kill -9 of the server right after a burst of changes, restart: the projection resumes
//!   from its cursor and the figures are the same; `analytics rebuild` → the same figures.

use chrono::{Datelike, TimeZone};
use jiuloop_tests::http::{HttpResponse, request};
use jiuloop_tests::process::run_with_timeout;
use jiuloop_tests::{Device, TestServer};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

const GZ: &str = "贵州";
const SC: &str = "四川";
/// The restaurant (wholesale) price of SC-52-500 in the example policy: needs no approval.
const SC_PRICE: i64 = 53_900;
const QY_CASE_PRICE: i64 = 719_400;
const QY_PRICE: i64 = 119_900;

fn example_policy() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/policy.csv").to_str().expect("utf-8").to_string()
}

struct Company {
    server: TestServer,
    li: Device,
    wang: Device,
    sun: Device,
    exec: Device,
}

impl Company {
    fn new() -> Self {
        let mut server = TestServer::new();
        server.add_user("zhang", "manager", Some(GZ));
        server.add_user("liu", "manager", Some(SC));
        server.add_user_with("li", "rep", Some(GZ), Some("zhang"));
        server.add_user_with("wang", "rep", Some(SC), Some("liu"));
        server.add_user("sun", "logistics", None);
        server.add_user("zhao", "executive", None);
        server.start();
        server.admin_ok(&["policy", "import", &example_policy()]);
        let c = Company {
            li: Device::logged_in(&server, "li"),
            wang: Device::logged_in(&server, "wang"),
            sun: Device::logged_in(&server, "sun"),
            exec: Device::logged_in(&server, "zhao"),
            server,
        };
        for d in [&c.li, &c.wang, &c.sun, &c.exec] {
            d.sync();
        }
        c
    }

    fn get(&self, user: &str, path: &str) -> HttpResponse {
        let token = self.server.token(user, uuid::Uuid::new_v4());
        let auth = format!("Bearer {token}");
        request(self.server.addr(), "GET", path, &[("Authorization", &auth)], None).expect("GET")
    }

    fn table(&self, user: &str, path: &str) -> Value {
        let r = self.get(user, path);
        assert_eq!(r.status, 200, "GET {path} as {user}: {}", r.text());
        r.json()
    }

    /// Wait until the projection has caught up with everything the server stored.
    fn caught_up(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let max: i64 = self
                .server
                .db()
                .query_row("SELECT COALESCE(MAX(last_seq), 0) FROM docs", [], |r| r.get(0))
                .expect("max seq");
            let status = self.table("zhao", "/api/analytics/status");
            if status["cursor"].as_i64() == Some(max) {
                return;
            }
            assert!(Instant::now() < deadline, "projection stuck at {status} (feed at {max})");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// `jiuloop ARGS` on `d` with its clock saying `at` (RFC 3339).
fn ok_at(d: &Device, at: &str, args: &[&str]) -> String {
    let mut cmd = d.command(args);
    cmd.env("JIULOOP_NOW", at);
    let out = run_with_timeout(cmd, Duration::from_secs(60), &args.join(" "));
    assert!(out.status.success(), "jiuloop {} at {at}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// An order of `lines` (sku, qty, unit price) for `customer`, at `at`, submitted unless `draft`.
fn order(d: &Device, at: &str, customer: &str, lines: &[(&str, i64, i64)], submit: bool) -> String {
    let id = ok_at(d, at, &["order", "new", "--customer", customer]);
    for (sku, qty, price) in lines {
        ok_at(
            d,
            at,
            &["order", "add-line", &id, "--sku", sku, "--qty", &qty.to_string(), "--unit-price", &price.to_string()],
        );
    }
    if submit {
        ok_at(d, at, &["order", "submit", &id]);
    }
    id
}

fn rfc(ms: i64) -> String {
    chrono::Utc.timestamp_millis_opt(ms).single().expect("time").to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn ms_of(v: &Value) -> i64 {
    chrono::DateTime::parse_from_rfc3339(v.as_str().expect("a time")).expect("rfc3339").timestamp_millis()
}

/// The Shanghai calendar of a UTC instant, by chrono's fixed offset (independent of the
/// server's arithmetic).
fn shanghai(ms: i64) -> chrono::DateTime<chrono::FixedOffset> {
    let tz = chrono::FixedOffset::east_opt(8 * 3600).expect("+08:00");
    chrono::Utc.timestamp_millis_opt(ms).single().expect("time").with_timezone(&tz)
}

fn month_label(ms: i64) -> String {
    let t = shanghai(ms);
    format!("{:04}-{:02}", t.year(), t.month())
}

fn day_label(ms: i64) -> String {
    shanghai(ms).format("%Y-%m-%d").to_string()
}

/// Shanghai midnights (UTC ms) within the last `days` days, newest first.
fn recent_midnights(now: i64, days: i64) -> Vec<i64> {
    let today = shanghai(now).date_naive();
    (0..days)
        .map(|d| {
            let date = today - chrono::Duration::days(d);
            let tz = chrono::FixedOffset::east_opt(8 * 3600).expect("+08:00");
            tz.from_local_datetime(&date.and_hms_opt(0, 0, 0).expect("midnight"))
                .single()
                .expect("one")
                .timestamp_millis()
        })
        .filter(|m| *m < now - 3_600_000)
        .collect()
}

/// Revenue, orders, bottles per (period label, key) from an executive's order list: the
/// orders whose status the device shows as confirmed or later.
fn expected(
    orders: &Value,
    label: &dyn Fn(i64) -> String,
    key: &dyn Fn(&Value) -> String,
) -> BTreeMap<(String, String), (i64, i64, i64)> {
    let cases: BTreeMap<&str, i64> = [("QY-53-500X6", 6), ("SC-52-500X6", 6)].into_iter().collect();
    let mut out: BTreeMap<(String, String), (i64, i64, i64)> = BTreeMap::new();
    for o in orders.as_array().expect("orders") {
        let status = o["status"].as_str().expect("status");
        if !["confirmed", "shipped", "delivered", "closed"].contains(&status) {
            continue;
        }
        let e = out.entry((label(ms_of(&o["created_at"])), key(o))).or_default();
        e.1 += 1;
        for l in o["lines"].as_array().expect("lines") {
            let qty = l["qty"].as_i64().expect("qty");
            e.0 += qty * l["unit_price_fen"].as_i64().expect("price");
            e.2 += qty * cases.get(l["sku"].as_str().expect("sku")).copied().unwrap_or(1);
        }
    }
    out
}

fn figures(table: &Value) -> BTreeMap<(String, String), Vec<i64>> {
    table["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            let values = r["values"].as_array().expect("values").iter().map(|v| v.as_i64().expect("int")).collect();
            ((r["period"].as_str().expect("p").to_string(), r["key"].as_str().expect("k").to_string()), values)
        })
        .filter(|(_, v): &(_, Vec<i64>)| v.iter().any(|x| *x != 0))
        .collect()
}

fn status_of(d: &Device, id: &str) -> String {
    d.order(id)["lifecycle"]["status"].as_str().expect("status").to_string()
}

/// The revenue and volume tables of `q` as `user` equal `want`; the revenue table.
fn check(c: &Company, range: &str, user: &str, q: &str, want: &BTreeMap<(String, String), (i64, i64, i64)>) -> Value {
    let revenue = c.table(user, &format!("/api/analytics/revenue?{range}&{q}"));
    let volume = c.table(user, &format!("/api/analytics/volume?{range}&{q}"));
    let want_rev: BTreeMap<_, Vec<i64>> = want.iter().map(|(k, v)| (k.clone(), vec![v.0, v.1])).collect();
    let want_vol: BTreeMap<_, Vec<i64>> =
        want.iter().map(|(k, v)| (k.clone(), vec![v.2, v.2 * 100 / 6])).filter(|(_, v)| v[0] > 0).collect();
    assert_eq!(figures(&revenue), want_rev, "revenue {q} as {user}");
    // Cases: every SKU here has 6 bottles per case; per-line rounding agrees for these.
    let got_vol: BTreeMap<_, Vec<i64>> =
        figures(&volume).into_iter().map(|(k, v)| (k, vec![v[0], v[0] * 100 / 6])).collect();
    assert_eq!(got_vol, want_vol, "volume {q} as {user}");
    revenue
}

#[test]
fn indicators_access_crash_and_rebuild() {
    let mut c = Company::new();
    let now = chrono::Utc::now().timestamp_millis();
    let now_s = rfc(now);
    let midnights = recent_midnights(now, 29);
    // The latest month boundary within the window, else the latest midnight.
    let edge = midnights.iter().copied().find(|m| shanghai(*m).day() == 1).unwrap_or(midnights[0]);
    let (before, after) = (rfc(edge - 60_000), rfc(edge + 60_000));

    // li (贵州): confirmed, shipped, cancelled after confirmation, awaiting approval, draft.
    let c1 = ok_at(&c.li, &before, &["customer", "add", "--name", "川味楼", "--channel", "restaurant", "--class", "C"]);
    let c2 = ok_at(&c.li, &after, &["customer", "add", "--name", "老字号酒家", "--channel", "restaurant"]);
    ok_at(&c.li, &now_s, &["customer", "set", &c1, "class", "B"]);
    let o_before = order(&c.li, &before, &c1, &[("SC-52-500", 12, SC_PRICE)], true);
    let o_after = order(&c.li, &after, &c1, &[("QY-53-500X6", 2, QY_CASE_PRICE), ("SC-52-500", 6, SC_PRICE)], true);
    let o_ship = order(&c.li, &now_s, &c2, &[("QY-53-500", 3, QY_PRICE)], true);
    let o_cancel = order(&c.li, &now_s, &c2, &[("QY-53-500X6", 1, QY_CASE_PRICE)], true);
    let o_discount = order(&c.li, &now_s, &c2, &[("SC-52-500", 10, 30_000)], true);
    let _draft = order(&c.li, &now_s, &c2, &[("SC-52-500", 99, SC_PRICE)], false);
    let o_unknown = order(&c.li, &now_s, &c2, &[("NO-SUCH-SKU", 1, 10_000)], true);
    ok_at(&c.li, &now_s, &["visit", "add", "--customer", &c1, "--kind", "follow-up"]);
    ok_at(&c.li, &after, &["visit", "add", "--customer", &c2, "--kind", "follow-up"]);
    c.li.sync();
    ok_at(&c.li, &now_s, &["order", "cancel", &o_cancel]);
    c.li.sync();
    c.sun.sync();
    ok_at(&c.sun, &now_s, &["order", "ship", &o_ship, "--carrier", "顺丰", "--tracking", "SF1"]);
    c.sun.sync();
    // wang (四川).
    let c3 =
        ok_at(&c.wang, &before, &["customer", "add", "--name", "蓉城宴", "--channel", "restaurant", "--class", "B"]);
    let o_wang = order(&c.wang, &after, &c3, &[("SC-52-500", 6, SC_PRICE)], true);
    ok_at(&c.wang, &now_s, &["visit", "add", "--customer", &c3, "--kind", "follow-up"]);
    c.wang.sync();
    c.li.sync();
    c.exec.sync();

    for (id, want) in [
        (&o_before, "confirmed"),
        (&o_after, "confirmed"),
        (&o_ship, "shipped"),
        (&o_cancel, "cancelled"),
        (&o_discount, "awaiting-approval"),
        (&o_unknown, "submitted"),
    ] {
        assert_eq!(status_of(&c.exec, id), want, "order {id}");
    }
    assert_eq!(status_of(&c.exec, &o_wang), "confirmed");

    c.caught_up();
    let orders = c.exec.orders();
    let first = shanghai(edge - 40 * 86_400_000).date_naive();
    let last = shanghai(now).date_naive();
    let range = format!("from={first}&to={last}");
    let rep_of = |o: &Value| o["created_by"].as_str().expect("by").to_string();

    // Revenue and volume by month and rep, and by day (the midnight edge), for the executive.
    let by_month = expected(&orders, &month_label, &rep_of);
    let by_day = expected(&orders, &day_label, &|_| String::new());
    assert!(by_day.contains_key(&(day_label(edge - 60_000), String::new())), "{by_day:?}");
    // Both sides of the edge have figures of their own (li's orders a minute either side).
    assert!(by_month.contains_key(&(month_label(edge - 60_000), "li".to_string())), "{by_month:?}");
    assert!(by_month.contains_key(&(month_label(edge + 60_000), "li".to_string())), "{by_month:?}");
    assert_ne!(day_label(edge - 60_000), day_label(edge + 60_000));
    assert!(by_day.contains_key(&(day_label(edge + 60_000), String::new())), "{by_day:?}");
    let month_table = check(&c, &range, "zhao", "period=month&by=rep", &by_month);
    check(&c, &range, "zhao", "period=day", &by_day);
    // Period over period: each month's previous is the month before's figure.
    for r in month_table["rows"].as_array().expect("rows") {
        let p = r["period"].as_str().expect("p");
        let prev = chrono::NaiveDate::parse_from_str(&format!("{p}-01"), "%Y-%m-%d").expect("month")
            - chrono::Duration::days(1);
        let prev_label = format!("{:04}-{:02}", prev.year(), prev.month());
        let want = by_month.get(&(prev_label, r["key"].as_str().expect("k").to_string())).map(|v| v.0);
        assert_eq!(r["previous"][0].as_i64(), want, "previous of {r}");
    }

    // Access: li's own figures; team figures refused; the manager sees only 贵州.
    let li_only: BTreeMap<_, _> =
        by_month.iter().filter(|((_, k), _)| k == "li").map(|((p, _), v)| ((p.clone(), String::new()), *v)).collect();
    check(&c, &range, "li", "period=month", &li_only);
    for q in ["by=rep", "by=territory", "rep=wang", &format!("territory={SC}")] {
        let r = c.get("li", &format!("/api/analytics/revenue?{range}&{q}"));
        assert_eq!(r.status, 403, "li asking {q}: {}", r.text());
        assert_eq!(r.json()["code"], "forbidden");
    }
    let gz_only: BTreeMap<_, _> =
        by_month.iter().filter(|((_, k), _)| k == "li").map(|(k, v)| (k.clone(), *v)).collect();
    check(&c, &range, "zhang", "period=month&by=rep", &gz_only);
    assert_eq!(c.get("zhang", &format!("/api/analytics/revenue?{range}&territory={SC}")).status, 403);
    assert_eq!(c.get("sun", &format!("/api/analytics/revenue?{range}")).status, 403);
    assert_eq!(request(c.server.addr(), "GET", "/api/analytics/revenue", &[], None).expect("GET").status, 401);

    // New customers by month and territory; visits by rep; the class change counts.
    let customers = c.exec.customers();
    let mut want_new: BTreeMap<(String, String), Vec<i64>> = BTreeMap::new();
    for cu in customers.as_array().expect("customers") {
        let key = (month_label(ms_of(&cu["created_at"])), cu["territory"].as_str().expect("t").to_string());
        want_new.entry(key).or_insert_with(|| vec![0])[0] += 1;
    }
    assert_eq!(figures(&c.table("zhao", &format!("/api/analytics/new_customers?{range}&by=territory"))), want_new);
    let visits = c.table("zhao", &format!("/api/analytics/visits?{range}&period=year&by=rep"));
    let per_rep: BTreeMap<String, i64> = figures(&visits).into_iter().fold(BTreeMap::new(), |mut m, ((_, k), v)| {
        *m.entry(k).or_default() += v[0];
        m
    });
    assert_eq!(per_rep, [("li".to_string(), 2), ("wang".to_string(), 1)].into_iter().collect());
    let conversion = c.table("zhao", &format!("/api/analytics/conversion?{range}&period=year"));
    let sums =
        figures(&conversion).into_values().fold(vec![0; 5], |a, v| a.iter().zip(&v).map(|(x, y)| x + y).collect());
    // 川味楼 C then B, 蓉城宴 B: to_a 0, to_b 2, to_c 1, one upgrade.
    assert_eq!(sums, vec![0, 2, 1, 1, 0]);

    // CSV, and the uncountable order listed with its reason.
    let csv = c.get("zhao", &format!("/api/analytics/revenue?{range}&by=rep&format=csv"));
    assert_eq!(csv.status, 200);
    assert!(csv.text().starts_with("period,rep,revenue_fen,orders,"), "{}", csv.text());
    // The month's analysis report over HTTP: the same figures as the indicator, as each
    // reader may see them, every table in CSV, a printable page with room for conclusions.
    let month = month_label(now);
    let month_total: i64 = by_month.iter().filter(|((p, _), _)| *p == month).map(|(_, v)| v.0).sum();
    let li_total: i64 = by_month.iter().filter(|((p, k), _)| *p == month && k == "li").map(|(_, v)| v.0).sum();
    let report = c.table("zhao", &format!("/api/reports/{month}"));
    let sections = report["sections"].as_array().expect("sections");
    assert_eq!(sections[0]["table"]["rows"][0]["values"][0].as_i64(), Some(month_total), "{report}");
    assert!(sections.iter().any(|s| s["table"]["by"] == "rep"));
    let li_report = c.table("li", &format!("/api/reports/{month}"));
    let li_sections = li_report["sections"].as_array().expect("sections");
    assert_eq!(li_sections[0]["table"]["rows"][0]["values"][0].as_i64(), Some(li_total), "{li_report}");
    assert!(li_sections.iter().all(|s| s["table"]["by"] != "rep" && s["table"]["by"] != "territory"));
    let zhang_report = c.table("zhang", &format!("/api/reports/{month}"));
    for s in zhang_report["sections"].as_array().expect("sections") {
        if s["table"]["by"] == "rep" {
            assert!(s["table"]["rows"].as_array().expect("rows").iter().all(|r| r["key"] == "li"), "{s}");
        }
    }
    let csv = c.get("zhao", &format!("/api/reports/{month}?format=csv&lang=en"));
    assert_eq!(csv.status, 200);
    assert!(
        csv.text().contains(&format!("# {month} Revenue by rep\nperiod,rep,revenue_fen,orders,")),
        "{}",
        csv.text()
    );
    assert_eq!(csv.text().matches(&format!("# {month} ")).count(), sections.len());
    let html = c.get("zhao", &format!("/api/reports/{month}?format=html"));
    assert_eq!(html.status, 200);
    assert!(html.text().contains("<h2>结论</h2>") && html.text().contains("<h2>建议</h2>"), "{}", html.text());
    assert_eq!(c.get("sun", &format!("/api/reports/{month}")).status, 403);
    let cli_csv = c.server.admin_ok(&["period-report", &month, "--lang", "en"]);
    assert_eq!(cli_csv, csv.text().trim(), "the command line's report is the endpoint's");
    assert_eq!(c.get("zhao", "/api/reports/2026-13").status, 400);

    let problems = c.table("zhao", "/api/analytics/problems");
    assert!(
        problems
            .as_array()
            .expect("list")
            .iter()
            .any(|p| p["id"] == o_unknown.as_str() && p["reason"] == "unknown_sku"),
        "{problems}"
    );
    assert_eq!(c.get("li", "/api/analytics/problems").status, 403);
    assert_eq!(c.get("zhang", "/api/analytics/problems").status, 403, "every territory's records");

    // The command line agrees with the endpoint.
    let cli = c.server.admin_ok(&[
        "report",
        "revenue",
        "--period",
        "month",
        "--by",
        "rep",
        "--from",
        &first.to_string(),
        "--to",
        &last.to_string(),
        "--json",
    ]);
    let cli: Value = serde_json::from_str(&cli).expect("report --json");
    assert_eq!(figures(&cli), figures(&month_table));

    // A burst of changes, kill -9 at once, restart: the same figures once caught up.
    for n in 0..15 {
        ok_at(&c.wang, &now_s, &["customer", "set", &c3, "notes", &format!("第{n}次拜访记录")]);
    }
    let o_late = order(&c.wang, &now_s, &c3, &[("SC-52-500", 1, SC_PRICE)], true);
    c.wang.sync();
    c.server.kill9();
    c.server.start();
    c.caught_up();
    c.exec.sync();
    assert_eq!(status_of(&c.exec, &o_late), "confirmed");
    let orders = c.exec.orders();
    let by_month = expected(&orders, &month_label, &rep_of);
    let after_crash = check(&c, &range, "zhao", "period=month&by=rep", &by_month);

    // Rebuild from scratch (while the server runs): the same figures.
    let out = c.server.admin_ok(&["analytics", "rebuild"]);
    assert!(out.contains("rebuilt"), "{out}");
    c.caught_up();
    let rebuilt = check(&c, &range, "zhao", "period=month&by=rep", &by_month);
    assert_eq!(figures(&rebuilt), figures(&after_crash));
    let status = c.server.admin_ok(&["analytics", "status", "--json"]);
    let status: Value = serde_json::from_str(&status).expect("status --json");
    assert_eq!(status["counts"]["orders"].as_i64(), Some(orders.as_array().expect("orders").len() as i64));
}

fn post(c: &Company, user: &str, path: &str, body: &Value) -> HttpResponse {
    let token = c.server.token(user, uuid::Uuid::new_v4());
    let auth = format!("Bearer {token}");
    let bytes = serde_json::to_vec(body).expect("json");
    request(
        c.server.addr(),
        "POST",
        path,
        &[("Authorization", &auth), ("Content-Type", "application/json")],
        Some(&bytes),
    )
    .expect("POST")
}

fn card<'a>(cards: &'a Value, rep: &str) -> &'a Value {
    cards
        .as_array()
        .expect("cards")
        .iter()
        .find(|c| c["rep"] == rep)
        .unwrap_or_else(|| panic!("no card of {rep} in {cards}"))
}

fn reps_of(cards: &Value) -> Vec<String> {
    let mut v: Vec<String> =
        cards.as_array().expect("cards").iter().map(|c| c["rep"].as_str().expect("rep").to_string()).collect();
    v.sort();
    v
}

#[test]
fn scorecards_scheme_scores_lock_correction_and_access() {
    let c = Company::new();
    c.server.add_user_with("zhou", "rep", Some(GZ), Some("zhang"));
    let now = chrono::Utc::now().timestamp_millis();
    let t = shanghai(now);
    let month = format!("{:04}-{:02}", t.year(), t.month());
    let quarter = format!("{:04}-Q{}", t.year(), (t.month() - 1) / 3 + 1);

    let scheme = serde_json::json!({
        "period_kind": "month",
        "scheme": {
            "items": [
                {"indicator": "revenue", "column": "revenue_fen", "target": 1_000_000, "weight": 60, "threshold_pct": 10},
                {"indicator": "visits", "column": "visits", "target": 2, "weight": 20}
            ],
            "qualitative": [{"criterion": "attitude", "weight": 20}],
            "bands": [{"min_x100": 8000, "amount_fen": 100000, "label": "bonus"}]
        }
    });
    assert_eq!(post(&c, "zhang", "/api/scorecards/scheme", &scheme).status, 403, "a manager sets no scheme");
    let bad = serde_json::json!({"period_kind": "month", "scheme": {"items": [{"indicator": "revenue", "column": "revenue_fen", "target": 1, "weight": 50}]}});
    assert_eq!(post(&c, "zhao", "/api/scorecards/scheme", &bad).status, 400, "weights must sum to 100");
    assert_eq!(post(&c, "zhao", "/api/scorecards/scheme", &scheme).status, 204);
    let q_scheme = serde_json::json!({"period_kind": "quarter", "scheme": {"from_parts": true}});
    assert_eq!(post(&c, "zhao", "/api/scorecards/scheme", &q_scheme).status, 204);

    let cu = c.li.add_customer("川味楼", &["--channel", "restaurant"]);
    let o = order(&c.li, &rfc(now), &cu, &[("SC-52-500", 12, SC_PRICE)], true);
    c.li.ok(&["visit", "add", "--customer", &cu, "--kind", "follow-up"]);
    c.li.sync();
    c.exec.sync();
    assert_eq!(status_of(&c.exec, &o), "confirmed");
    c.caught_up();

    // Qualitative scores: the rep's manager only.
    let attitude = |rep: &str, score: i64| serde_json::json!({"period": month, "rep": rep, "criterion": "attitude", "score": score});
    assert_eq!(post(&c, "zhang", "/api/scorecards/qualitative", &attitude("li", 90)).status, 204);
    assert_eq!(post(&c, "zhang", "/api/scorecards/qualitative", &attitude("wang", 90)).status, 403);
    assert_eq!(post(&c, "li", "/api/scorecards/qualitative", &attitude("li", 100)).status, 403);
    assert_eq!(post(&c, "zhang", "/api/scorecards/qualitative", &attitude("li", 101)).status, 400);

    // li: revenue 12 × 539.00 of 10 000.00 → 64 %, visits 1 of 2 → 50 %, attitude 90.
    let revenue = 12 * SC_PRICE;
    let want = (revenue * 100 / 1_000_000) * 60 + 50 * 20 + 90 * 20;
    let mine = c.table("li", &format!("/api/scorecards?period={month}"));
    assert_eq!(reps_of(&mine), ["li"], "a rep reads only their own scorecard");
    assert_eq!(card(&mine, "li")["final_x100"].as_i64(), Some(want));
    assert_eq!(card(&mine, "li")["items"][0]["actual"].as_i64(), Some(revenue));
    let team = c.table("zhang", &format!("/api/scorecards?period={month}"));
    assert_eq!(reps_of(&team), ["li", "zhou"]);
    assert_eq!(card(&team, "li")["rank"], 1);
    assert_eq!(card(&team, "zhou")["rank"], 2);
    assert_eq!(card(&team, "zhou")["final_x100"], 0, "zhou: below the revenue threshold, nothing else");
    let all = c.table("zhao", &format!("/api/scorecards?period={month}"));
    assert_eq!(reps_of(&all), ["li", "wang", "zhou"]);
    assert_eq!(card(&all, "wang")["rank"], 1, "wang is ranked in liu's team");
    assert_eq!(c.get("sun", &format!("/api/scorecards?period={month}")).status, 403);

    // Close the month: later figures and scores no longer change it; corrections do.
    let period = serde_json::json!({"period": month});
    assert_eq!(post(&c, "zhang", "/api/scorecards/lock", &period).status, 403);
    assert_eq!(post(&c, "zhao", "/api/scorecards/lock", &period).status, 204);
    assert_eq!(post(&c, "zhao", "/api/scorecards/lock", &period).status, 409);
    assert_eq!(post(&c, "zhang", "/api/scorecards/qualitative", &attitude("li", 50)).status, 409);
    let o2 = order(&c.li, &rfc(now), &cu, &[("SC-52-500", 12, SC_PRICE)], true);
    c.li.sync();
    c.exec.sync();
    assert_eq!(status_of(&c.exec, &o2), "confirmed");
    c.caught_up();
    let locked = c.table("li", &format!("/api/scorecards?period={month}"));
    assert_eq!(card(&locked, "li")["final_x100"].as_i64(), Some(want));
    assert_eq!(card(&locked, "li")["locked"], true);
    let fix = serde_json::json!({"period": month, "rep": "li", "item": "visits.visits", "score": 100, "reason": "a visit logged on paper"});
    assert_eq!(post(&c, "zhang", "/api/scorecards/correction", &fix).status, 403);
    assert_eq!(post(&c, "zhao", "/api/scorecards/correction", &fix).status, 204);
    let corrected = want - 50 * 20 + 100 * 20;
    let after = c.table("li", &format!("/api/scorecards?period={month}"));
    assert_eq!(card(&after, "li")["final_x100"].as_i64(), Some(corrected));
    assert_eq!(card(&after, "li")["corrections"][0]["by"], "zhao");
    assert_eq!(card(&after, "li")["corrections"][0]["reason"], "a visit logged on paper");

    // A reward recorded by the manager; the quarter is the mean of its months.
    let reward = serde_json::json!({"period": quarter, "rep": "li", "amount_fen": 50_000, "reason": "新客户开发"});
    assert_eq!(post(&c, "zhang", "/api/scorecards/sanction", &reward).status, 201);
    assert_eq!(post(&c, "liu", "/api/scorecards/sanction", &reward).status, 403);
    let q = c.table("li", &format!("/api/scorecards?period={quarter}"));
    assert_eq!(card(&q, "li")["final_x100"].as_i64(), Some(corrected / 3), "other months of the quarter score 0");
    assert_eq!(card(&q, "li")["parts"].as_array().map(Vec::len), Some(3));
    assert_eq!(card(&q, "li")["sanctions"][0]["amount_fen"], 50_000);
    assert_eq!(card(&q, "li")["sanctions"][0]["by"], "zhang");

    // The command line gives the same scorecards (all of them).
    let cli: Value =
        serde_json::from_str(&c.server.admin_ok(&["scorecards", "--period", &month, "--json"])).expect("json");
    assert_eq!(reps_of(&cli), ["li", "wang", "zhou"]);
    assert_eq!(card(&cli, "li")["final_x100"].as_i64(), Some(corrected));
    let table = c.server.admin_ok(&["scorecards", "--period", &quarter]);
    assert!(table.lines().any(|l| l.contains("li") && l.contains("500.00")), "{table}");
}
