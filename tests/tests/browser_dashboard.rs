//! The sales dashboard in real headless Chromium against a real server (issue 13): an
//! executive's dashboard draws its uPlot charts (canvas elements) from the read model with
//! the company's figures; a territory filter changes them to that territory's; a manager's
//! dashboard shows only their team's; a rep has no dashboard. Screenshots:
//! `target/screenshots/13-dashboard-*.png`.

use jiuloop_tests::browser::{Browser, Page, js_str, screenshot_dir, web_app};
use jiuloop_tests::{Device, PASSWORD, TestServer};
use std::time::Duration;

const LONG: Duration = Duration::from_secs(60);
const SC_PRICE: i64 = 53_900;

fn yuan(fen: i64) -> String {
    let y = fen / 100;
    let mut digits = y.to_string();
    let mut out = String::new();
    while digits.len() > 3 {
        let tail = digits.split_off(digits.len() - 3);
        out = format!(",{tail}{out}");
    }
    format!("¥{digits}{out}.{:02}", fen % 100)
}

async fn open_as(browser: &Browser, server: &TestServer, user: &str) -> Page {
    let page = browser.page(user, "about:blank").await;
    page.set_viewport(1366, 900, false).await;
    page.goto(&format!("{}/", server.url())).await;
    page.wait_for("typeof window.jiuloopReady === 'number'", LONG).await;
    page.wait_for("!!document.querySelector('#login-form')", LONG).await;
    page.fill("#login-user", user).await;
    page.fill("#login-password", PASSWORD).await;
    page.click("#login-submit").await;
    page.wait_for("!!document.querySelector('#customer-results, #work')", LONG).await;
    page
}

async fn dashboard(page: &Page) {
    page.eval("location.hash = '#/dashboard'").await;
    page.wait_for(
        "!!document.querySelector('#dashboard') && !!document.querySelector('#dashboard').dataset.loaded",
        LONG,
    )
    .await;
    page.wait_for("document.querySelectorAll('#dashboard .chart[data-drawn] canvas').length >= 3", LONG).await;
}

async fn revenue(page: &Page) -> String {
    page.text("#dash-revenue").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_draws_its_charts_and_filters_change_the_figures() {
    let web = web_app().to_str().expect("utf-8 path").to_string();
    let mut server = TestServer::with_args(&["--web", &web]);
    server.add_user("zhang", "manager", Some("贵州"));
    server.add_user_with("li", "rep", Some("贵州"), Some("zhang"));
    server.add_user("chen", "rep", Some("四川"));
    server.add_user("ma", "market", None);
    server.add_user("zhao", "executive", None);
    server.start();
    let market = Device::logged_in(&server, "ma");
    let policy = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/policy.csv");
    market.ok(&["policy", "import", policy.to_str().expect("utf-8 path")]);
    market.sync();
    let mut want = 0;
    let mut want_gz = 0;
    for (user, qty) in [("li", 12), ("li", 3), ("chen", 6)] {
        let d = Device::logged_in(&server, user);
        d.sync();
        let c = d.add_customer(&format!("{user}的客户{qty}"), &["--channel", "restaurant", "--class", "C"]);
        let o = d.ok(&["order", "new", "--customer", &c]);
        d.ok(&[
            "order",
            "add-line",
            &o,
            "--sku",
            "SC-52-500",
            "--qty",
            &qty.to_string(),
            "--unit-price",
            &SC_PRICE.to_string(),
        ]);
        d.ok(&["order", "submit", &o]);
        d.ok(&["customer", "set", &c, "class", "B"]);
        d.sync();
        want += qty * SC_PRICE;
        if user == "li" {
            want_gz += qty * SC_PRICE;
        }
    }

    let browser = Browser::launch().await;
    let exec = open_as(&browser, &server, "zhao").await;
    assert!(exec.eval("!!document.querySelector('#nav a[href=\"#/dashboard\"]')").await.as_bool().unwrap_or(false));
    // The projection catches up within seconds: reload the dashboard until it shows them all.
    let deadline = std::time::Instant::now() + LONG;
    loop {
        dashboard(&exec).await;
        if revenue(&exec).await == yuan(want) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "dashboard shows {} not {}", revenue(&exec).await, yuan(want));
        exec.eval("location.hash = '#/work'").await;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert_eq!(exec.text("#dash-orders").await, "3");
    assert_eq!(exec.text("#dash-bottles").await, "21");
    assert_eq!(exec.text("#dash-new").await, "3");
    let rows = exec.eval("[...document.querySelectorAll('#dash-table tbody tr')].map(r => r.dataset.key)").await;
    assert_eq!(rows, serde_json::json!(["li", "chen"]), "the breakdown by rep, largest first");
    exec.screenshot(&screenshot_dir().join("13-dashboard-executive.png")).await;

    // A territory filter: only 贵州's figures.
    exec.fill("#dash-territory", "贵州").await;
    exec.wait_for(
        &format!("(document.querySelector('#dash-revenue') || {{}}).textContent === {}", js_str(&yuan(want_gz))),
        LONG,
    )
    .await;
    exec.wait_for("document.querySelectorAll('#dashboard .chart[data-drawn] canvas').length >= 3", LONG).await;
    assert_eq!(exec.text("#dash-orders").await, "2");
    exec.screenshot(&screenshot_dir().join("13-dashboard-territory.png")).await;
    // In English.
    exec.click("#lang").await;
    exec.wait_text("#dashboard h2", "Dashboard").await;

    // The manager sees their team's territory only; a rep has no dashboard.
    let mgr_browser = Browser::launch().await;
    let manager = open_as(&mgr_browser, &server, "zhang").await;
    dashboard(&manager).await;
    assert_eq!(revenue(&manager).await, yuan(want_gz));
    manager.screenshot(&screenshot_dir().join("13-dashboard-manager.png")).await;
    let rep_browser = Browser::launch().await;
    let rep = open_as(&rep_browser, &server, "li").await;
    assert!(!rep.eval("!!document.querySelector('#nav a[href=\"#/dashboard\"]')").await.as_bool().unwrap_or(true));
}
