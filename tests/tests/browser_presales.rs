//! The rep's today list in real headless Chromium against a real server (issue 12): on a
//! phone-sized window the rep's home screen is headed by whom to visit today — overdue
//! follow-ups first (A before C), then the visit the manager planned for today, then the
//! follow-ups due today — computed on the phone. With the server gone and the app reloaded
//! from the service worker it is still there, in the same order; a visit logged offline
//! carries out the plan and takes the customer off the list; once back online the plan is
//! done on the rep's other device and the manager's. In English too. Screenshots in
//! `target/screenshots/` (`60-…`).

use jiuloop_tests::browser::{Browser, Page, js_str, screenshot_dir, web_app};
use jiuloop_tests::{Device, PASSWORD, TestServer};
use serde_json::Value;
use std::time::Duration;

const LONG: Duration = Duration::from_secs(60);

async fn shot(page: &Page, name: &str) {
    page.screenshot(&screenshot_dir().join(format!("{name}.png"))).await;
}

async fn wait_synced(page: &Page) {
    page.wait_for(
        "(() => { const s = JSON.parse(jiuloop.client.status()); return s.online && s.pending === 0 && !!s.last_sync; })()",
        LONG,
    )
    .await;
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

/// Today in Asia/Shanghai and `n` days from it, as `YYYY-MM-DD`.
fn day(n: i64) -> String {
    protocol::time::shanghai_date(now_ms() + n * 86_400_000).to_string()
}

/// The today list as the phone shows it: (customer id, reasons' text).
async fn rows(page: &Page) -> Vec<(String, String)> {
    let v = page
        .eval(
            "JSON.stringify([...document.querySelectorAll('#today-list .today-row')].map((r) =>
               [r.dataset.id, r.querySelector('.today-why').textContent]))",
        )
        .await;
    serde_json::from_str(v.as_str().expect("JSON text")).expect("rows")
}

async fn no_sideways_scroll(page: &Page) {
    let fits = page.eval("document.documentElement.scrollWidth <= window.innerWidth + 1").await;
    assert_eq!(fits, true, "the page is wider than the phone");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reps_today_list_on_a_phone_offline_in_priority_order() {
    let web = web_app().to_str().expect("utf-8 path").to_string();
    let mut server = TestServer::with_args(&["--web", &web]);
    server.add_user("boss", "manager", Some(TestServer::TERRITORY));
    server.add_user_with("li", "rep", Some(TestServer::TERRITORY), Some("boss"));
    server.start();

    // The rep's laptop: five customers, their next follow-ups set by hand.
    let laptop = Device::logged_in(&server, "li");
    let customer = |name: &str, class: &str, next: i64| {
        let id = laptop.add_customer(name, &["--class", class]);
        laptop.ok(&["set", &id, &format!("next_follow_up={}", day(next))]);
        id
    };
    let due_b = customer("南明酒行", "B", 0);
    let late_c = customer("白云烟酒店", "C", -1);
    let late_a = customer("花溪名酒行", "A", -3);
    let later = customer("乌当酒坊", "A", 5);
    let planned = laptop.add_customer("观山湖酒业", &["--class", "B"]);
    laptop.sync();
    // The manager plans today's visit to 观山湖酒业 for li.
    let boss = Device::logged_in(&server, "boss");
    boss.sync();
    let plan = boss.ok(&[
        "visit-plan",
        "add",
        "--customer",
        &planned,
        "--date",
        &day(0),
        "--purpose",
        "年底备货",
        "--rep",
        "li",
    ]);
    boss.sync();
    laptop.sync();
    let expected = vec![late_a.clone(), late_c.clone(), planned.clone(), due_b.clone()];
    // The CLI's list is the same one.
    let cli = laptop.json(&["today"]);
    let ids: Vec<String> =
        cli["items"].as_array().unwrap().iter().map(|i| i["customer"].as_str().unwrap().into()).collect();
    assert_eq!(ids, expected, "{cli}");

    // The rep's phone: the home screen is headed by the list.
    let browser = Browser::launch().await;
    let phone = browser.page("li-phone", &server.url()).await;
    phone.set_viewport(390, 844, true).await;
    phone.wait_for("typeof window.jiuloopReady === 'number'", LONG).await;
    phone.wait_for("!!document.querySelector('#login-form')", LONG).await;
    phone.fill("#login-user", "li").await;
    phone.fill("#login-password", PASSWORD).await;
    phone.click("#login-submit").await;
    phone.wait_for("!!document.querySelector('#customer-results')", LONG).await;
    wait_synced(&phone).await;
    phone.wait_for("document.querySelectorAll('#today-list .today-row').length === 4", LONG).await;
    phone.wait_text("#today-title", &format!("今日拜访 {}", day(0))).await;
    let list = rows(&phone).await;
    assert_eq!(list.iter().map(|r| r.0.clone()).collect::<Vec<_>>(), expected, "{list:?}");
    assert!(list[0].1.contains("跟进已逾期 3 天"), "{list:?}");
    assert!(list[1].1.contains("跟进已逾期 1 天"), "{list:?}");
    assert!(list[2].1.contains("今日计划拜访：年底备货"), "{list:?}");
    assert!(list[3].1.contains("今日应跟进"), "{list:?}");
    assert!(!list.iter().any(|r| r.0 == later), "not due for five days");
    // It comes before the customer search on the screen.
    let first = phone
        .eval("document.querySelector('#today').compareDocumentPosition(document.querySelector('#search')) & Node.DOCUMENT_POSITION_FOLLOWING")
        .await;
    assert_ne!(first, 0, "the today list heads the home screen");
    no_sideways_scroll(&phone).await;
    phone.wait_for("!!navigator.serviceWorker.controller", LONG).await;
    shot(&phone, "60-today-list-phone").await;

    // No signal: the server is gone, the app is opened again from the phone.
    server.kill9();
    phone.wait_for("document.querySelector('#status').dataset.state === 'offline'", LONG).await;
    phone.reload().await;
    phone.wait_for("typeof window.jiuloopReady === 'number'", LONG).await;
    phone.wait_for("document.querySelectorAll('#today-list .today-row').length === 4", LONG).await;
    assert_eq!(rows(&phone).await, list, "the same list offline");
    shot(&phone, "61-today-list-phone-offline").await;

    // The planned visit, logged offline from the list: it carries out the plan.
    phone.click(&format!("#today-list .today-row[data-id='{planned}'] a.today-name")).await;
    phone.wait_for("!!document.querySelector('#customer-name')", LONG).await;
    phone.eval(&format!("location.hash = {}", js_str(&format!("#/customer/{planned}/visit")))).await;
    phone.wait_for("!!document.querySelector('#visit-form')", LONG).await;
    phone.wait_for(&format!("document.querySelector('#vf-plan').value === {}", js_str(&plan)), LONG).await;
    phone.fill("#vf-notes", "备货 20 箱，下周送货").await;
    phone.click("#visit-save").await;
    phone.wait_for(&format!("location.hash === '#/customer/{planned}'"), LONG).await;
    phone.eval("location.hash = '#/'").await;
    phone.wait_for("document.querySelectorAll('#today-list .today-row').length === 3", LONG).await;
    let offline = rows(&phone).await;
    assert_eq!(
        offline.iter().map(|r| r.0.clone()).collect::<Vec<_>>(),
        vec![late_a.clone(), late_c.clone(), due_b.clone()],
        "{offline:?}"
    );
    let status = phone.status().await;
    assert_eq!((status["online"].as_bool(), status["pending"].as_u64()), (Some(false), Some(1)), "{status}");

    // The list as a screen of its own, in English.
    phone.eval("location.hash = '#/today'").await;
    phone.wait_for("!!document.querySelector('#today-plans')", LONG).await;
    phone.click("#lang").await;
    phone.wait_text("#today-title", "Visit today").await;
    let en = rows(&phone).await;
    assert!(en[0].1.contains("follow-up 3 days overdue"), "{en:?}");
    assert!(en[2].1.contains("follow-up due today"), "{en:?}");
    no_sideways_scroll(&phone).await;
    shot(&phone, "62-today-screen-phone-en").await;

    // Back in coverage: the visit goes by itself; the plan is done everywhere.
    server.start();
    wait_synced(&phone).await;
    for d in [&laptop, &boss] {
        d.sync();
        let plans: Value = d.json(&["visit-plan", "list"]);
        let p = plans.as_array().unwrap().iter().find(|p| p["id"] == plan.as_str()).cloned().expect("the plan");
        assert_eq!(p["state"], "done", "on {}: {plans}", d.name);
    }
    server.kill9();
}

/// A manager at a desk: the market report as a page (the server's competitor-price
/// summary, CSV, print), the forecast's read receipt recorded from its screen, the field
/// reports' index.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manager_reads_the_market_report_page_and_confirms_reading_the_forecast() {
    let web = web_app().to_str().expect("utf-8 path").to_string();
    let mut server = TestServer::with_args(&["--web", &web]);
    server.add_user("mk", "market", None);
    server.add_user("boss", "manager", Some(TestServer::TERRITORY));
    server.add_user_with("li", "rep", Some(TestServer::TERRITORY), Some("boss"));
    server.start();
    let li = Device::logged_in(&server, "li");
    let c = li.add_customer("花溪名酒行", &["--region", "贵阳"]);
    for (price, promo) in [("2699", "买二赠一"), ("2799", "")] {
        let mut fields =
            vec![format!("customer={c}"), "brand=茅台".into(), "product=飞天".into(), format!("shelf_price={price}")];
        if !promo.is_empty() {
            fields.push(format!("promotion={promo}"));
        }
        let mut args = vec!["new", "competitor-observation"];
        args.extend(fields.iter().map(String::as_str));
        li.ok(&args);
    }
    li.sync();
    let mk = Device::logged_in(&server, "mk");
    mk.sync();
    let report = mk.ok(&[
        "new",
        "market-report",
        "title=贵阳终端价格报告",
        &format!("period_from={}", day(-1)),
        &format!("period_to={}", day(1)),
        "conclusions=价格坚挺",
    ]);
    mk.ok(&["step", &report, "publish"]);
    let forecast = mk.ok(&["new", "trend-forecast", "title=一季度预测", "region=贵州", "period=2027-Q1"]);
    mk.ok(&["step", &forecast, "publish"]);
    mk.sync();
    mk.sync();

    let browser = Browser::launch().await;
    let desk = browser.page("boss-desk", &server.url()).await;
    desk.set_viewport(1280, 900, false).await;
    desk.wait_for("typeof window.jiuloopReady === 'number'", LONG).await;
    desk.wait_for("!!document.querySelector('#login-form')", LONG).await;
    desk.fill("#login-user", "boss").await;
    desk.fill("#login-password", PASSWORD).await;
    desk.click("#login-submit").await;
    desk.wait_for("!!document.querySelector('#work')", LONG).await;
    wait_synced(&desk).await;

    // The report's record screen links to its page; the page shows the server's summary.
    desk.eval(&format!("location.hash = {}", js_str(&format!("#/r/{report}")))).await;
    desk.wait_for("!!document.querySelector('#open-report-page')", LONG).await;
    desk.wait_text("#record-status", "已发布").await;
    desk.click("#open-report-page").await;
    desk.wait_for("!!document.querySelector('#field-rows')", LONG).await;
    desk.wait_text("#field-note", "服务器于").await;
    let cells = desk
        .eval("JSON.stringify([...document.querySelectorAll('#field-rows tbody tr')].map((r) => [...r.cells].map((c) => c.textContent)))")
        .await;
    let cells: Vec<Vec<String>> = serde_json::from_str(cells.as_str().unwrap()).unwrap();
    assert_eq!(
        cells,
        vec![
            vec!["茅台", "飞天", "贵阳", "2", "2699.00", "2749.00", "2799.00", "买二赠一"]
                .into_iter()
                .map(String::from)
                .collect::<Vec<_>>()
        ],
        "one row: min, median of two, max"
    );
    assert!(
        desk.eval("!!document.querySelector('#field-print') && !!document.querySelector('#field-csv')").await == true
    );
    let csv = desk
        .eval(&format!(
            "jiuloop.client.fieldCsv('report', {}, Date.now(), 'zh')",
            js_str(&format!("{{\"id\":\"{report}\"}}"))
        ))
        .await;
    let csv = csv.as_str().unwrap();
    assert!(csv.starts_with('\u{feff}') && csv.contains("品牌") && csv.contains("2749.00"), "{csv}");
    shot(&desk, "63-market-report-page").await;

    // The forecast: read from its screen, once.
    desk.eval(&format!("location.hash = {}", js_str(&format!("#/r/{forecast}")))).await;
    desk.wait_for("!!document.querySelector('#record-workflow [data-step=read]')", LONG).await;
    desk.click("#record-workflow [data-step=read]").await;
    desk.wait_for("!document.querySelector('#record-workflow [data-step=read]')", LONG).await;
    desk.wait_text("#record-workflow [data-receipts=true] .timeline", "boss").await;
    wait_synced(&desk).await;
    mk.sync();
    let v: Value = mk.json(&["step", &forecast]);
    let readers: Vec<String> = v["logs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["receipts"] == true)
        .flat_map(|l| l["timeline"].as_array().unwrap().clone())
        .map(|r| r["by"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(readers, ["boss"], "{v}");
    shot(&desk, "64-forecast-read").await;

    // The field reports' index, in English.
    desk.eval("location.hash = '#/field'").await;
    desk.wait_for("document.querySelectorAll('#field-index a').length === 5", LONG).await;
    desk.click("#lang").await;
    desk.wait_text("#field-index", "Planned vs actual").await;
    desk.click("#field-index a[data-report=planned-vs-actual]").await;
    desk.wait_text("#field-title", "Planned vs actual").await;
    server.kill9();
}
