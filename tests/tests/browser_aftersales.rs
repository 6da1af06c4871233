//! After-sales in the browser, in real headless Chromium against a real server: a rep on a
//! phone-sized screen files a complaint from the customer's page with the server down —
//! the complaint kind's generic form; it waits, marked unsent, and goes by itself when
//! the server is back. On an after-sales device the queue lists the open complaints by
//! the SLA time left — computed offline by the same clock function as the server — with
//! the breached one first, in red; in English too. Screenshots in `target/screenshots/`
//! (`50-…`).

use jiuloop_tests::browser::{Browser, Page, js_str, screenshot_dir, web_app};
use jiuloop_tests::{Device, PASSWORD, TestServer};
use serde_json::Value;
use std::time::Duration;

const LONG: Duration = Duration::from_secs(60);

async fn shot(page: &Page, name: &str) {
    page.screenshot(&screenshot_dir().join(format!("{name}.png"))).await;
}

async fn go(page: &Page, hash: &str, ready_selector: &str) {
    page.eval(&format!("location.hash = {}", js_str(hash))).await;
    page.wait_for(&format!("!!document.querySelector({})", js_str(ready_selector)), LONG).await;
}

async fn wait_synced(page: &Page) {
    page.wait_for(
        "(() => { const s = JSON.parse(jiuloop.client.status()); return s.online && s.pending === 0 && !!s.last_sync; })()",
        LONG,
    )
    .await;
}

async fn login(page: &Page, user: &str) {
    page.wait_for("typeof window.jiuloopReady === 'number'", LONG).await;
    page.wait_for("!!document.querySelector('#login-form')", LONG).await;
    page.fill("#login-user", user).await;
    page.fill("#login-password", PASSWORD).await;
    page.click("#login-submit").await;
    // Reps land on their customers, the other roles on their queue.
    page.wait_for("!!document.querySelector('#customer-results, #work')", LONG).await;
    wait_synced(page).await;
}

/// The queue as its rows show it: (id, breached, SLA text).
async fn queue(page: &Page) -> Vec<(String, bool, String)> {
    let v = page
        .eval(
            "JSON.stringify([...document.querySelectorAll('#complaint-queue .complaint-row')].map((r) =>
               [r.dataset.id, r.dataset.breached === 'true', r.querySelector('.sla').textContent]))",
        )
        .await;
    let rows: Vec<(String, bool, String)> = serde_json::from_str(v.as_str().expect("JSON text")).expect("rows");
    rows
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rep_files_a_complaint_offline_on_a_phone_and_after_sales_sees_its_sla_time_left() {
    let web = web_app().to_str().expect("utf-8 path").to_string();
    let mut server = TestServer::with_args(&["--web", &web]);
    server.add_user("li", "rep", Some(TestServer::TERRITORY));
    server.add_user("as1", "after-sales", None);
    server.start();

    // The rep's laptop: a customer, and a critical complaint taken by phone two hours ago
    // (acknowledgement allowed one hour: breached when it arrives).
    let laptop = Device::logged_in(&server, "li");
    let c = laptop.add_customer("花溪名酒行", &["--channel", "distributor"]);
    let two_hours_ago = protocol::time::rfc3339(
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64 - 7_200_000,
    );
    let late = laptop.ok(&[
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
        "防伪码查询无效，怀疑假酒",
        "--received-at",
        &two_hours_ago,
    ]);
    laptop.sync();

    // The rep's phone.
    let rep_browser = Browser::launch().await;
    let phone = rep_browser.page("li-phone", &server.url()).await;
    phone.set_viewport(390, 844, true).await;
    login(&phone, "li").await;
    page_has_no_sideways_scroll(&phone).await;
    go(&phone, &format!("#/customer/{c}"), "#customer-name").await;
    phone.wait_text("#new-complaint", "登记投诉").await;
    wait_synced(&phone).await;
    phone.wait_for("!!navigator.serviceWorker.controller", LONG).await;

    // No signal in the village shop: the server is gone.
    server.kill9();
    phone.wait_for("document.querySelector('#status').dataset.state === 'offline'", LONG).await;
    phone.click("#new-complaint").await;
    phone.wait_for("!!document.querySelector('#kind-form')", LONG).await;
    phone.wait_text(".field[data-field=customer] .ref-fixed", "花溪名酒行").await;
    for (field, label) in
        [("channel", "投诉渠道"), ("category", "投诉类别"), ("severity", "严重程度"), ("batch", "批次号")]
    {
        phone.wait_text(&format!(".field[data-field={field}] label"), label).await;
    }
    // Without the content: refused next to the field, nothing saved.
    phone.fill("#kf-channel", "field-rep").await;
    phone.fill("#kf-category", "packaging").await;
    phone.fill("#kf-severity", "serious").await;
    phone.click("#kind-save").await;
    phone.wait_text("#kf-err-content", "不能为空").await;
    phone.fill("#kf-content", "礼盒包装破损两盒，客户要求补发").await;
    phone.fill("#kf-sku", "QY-GB-500X2").await;
    phone.fill("#kf-batch", "B2026-05").await;
    page_has_no_sideways_scroll(&phone).await;
    shot(&phone, "50-complaint-intake-phone-offline").await;
    phone.click("#kind-save").await;
    let row = "section.child-records[data-kind='complaint'] .record-row";
    phone
        .wait_for(&format!("location.hash === '#/customer/{c}' && !!document.querySelector({})", js_str(row)), LONG)
        .await;
    phone.wait_text(&format!("{row}[data-unsent=true]"), "礼盒包装破损").await;
    let status = phone.status().await;
    assert_eq!((status["online"].as_bool(), status["pending"].as_u64()), (Some(false), Some(1)), "{status}");

    // Offline, the rep's queue already counts down (the same clock function, on the phone).
    go(&phone, "#/k/complaint", "#complaint-queue").await;
    let rows = queue(&phone).await;
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!((rows[0].0.as_str(), rows[0].1), (late.as_str(), true), "breached first: {rows:?}");
    assert!(rows[0].2.contains("已超时"), "{rows:?}");
    let filed = rows[1].0.clone();
    assert!(!rows[1].1 && rows[1].2.contains("受理时限") && rows[1].2.contains("剩余"), "{rows:?}");
    shot(&phone, "51-complaint-queue-phone-offline").await;

    // Back in coverage: it goes by itself.
    server.start();
    wait_synced(&phone).await;
    phone.wait_for("!document.querySelector('#complaint-queue [data-unsent=true]')", LONG).await;

    // After-sales: the queue by SLA time left, the breached one in red.
    let office = Browser::launch().await;
    let desk = office.page("as1", &server.url()).await;
    login(&desk, "as1").await;
    go(&desk, "#/k/complaint", "#complaint-queue").await;
    desk.wait_for("document.querySelectorAll('#complaint-queue .complaint-row').length === 2", LONG).await;
    let rows = queue(&desk).await;
    assert_eq!(rows.iter().map(|r| r.0.clone()).collect::<Vec<_>>(), vec![late.clone(), filed.clone()], "{rows:?}");
    assert!(rows[0].1 && rows[0].2.contains("已超时"), "{rows:?}");
    // Serious: 4 hours to acknowledge; it was filed moments ago.
    assert!(rows[1].2.contains("剩余 3小时") || rows[1].2.contains("剩余 4小时"), "{rows:?}");
    let red = desk
        .eval(&format!("getComputedStyle(document.querySelector('#complaint-queue [data-id=\"{late}\"] .sla')).color"))
        .await;
    assert_eq!(red, "rgb(198, 40, 40)", "breached is red");
    let calm = desk
        .eval(&format!("getComputedStyle(document.querySelector('#complaint-queue [data-id=\"{filed}\"] .sla')).color"))
        .await;
    assert_ne!(calm, red);
    desk.wait_text(&format!("#complaint-queue [data-id='{filed}']"), "花溪名酒行").await;
    desk.wait_text(&format!("#complaint-queue [data-id='{filed}']"), "B2026-05").await;
    shot(&desk, "52-aftersales-queue").await;
    // A complaint's screen: its clocks and its history as the customer experienced it.
    desk.click(&format!("#complaint-queue [data-id='{late}'] a")).await;
    desk.wait_for("!!document.querySelector('#complaint-timeline')", LONG).await;
    desk.wait_text("#complaint-timeline [data-kind=filed]", "登记投诉").await;
    desk.wait_text("#complaint-clocks [data-clock=ack]", "已超时").await;
    desk.wait_text("[data-field=severity]", "紧急").await;
    shot(&desk, "52b-complaint-detail").await;

    // What the server holds is what the phone filed, as the rep.
    let as1 = Device::logged_in(&server, "as1");
    as1.sync();
    let v: Value = as1.json(&["complaint", "show", &filed]);
    assert_eq!(
        (v["filed_by"].as_str(), v["channel"].as_str(), v["severity"].as_str(), v["batch"].as_str()),
        (Some("li"), Some("field-rep"), Some("serious"), Some("B2026-05")),
        "{v}"
    );
    assert_eq!(v["content"], "礼盒包装破损两盒，客户要求补发");
    assert_eq!(v["clocks"]["ack"]["state"], "running");

    // In English.
    desk.click("#lang").await;
    desk.wait_text("#nav [data-nav='k:complaint']", "Complaints").await;
    go(&desk, "#/k/complaint", "#complaint-queue").await;
    let rows = queue(&desk).await;
    assert!(rows[0].2.contains("overdue by") && rows[1].2.contains("left"), "{rows:?}");
    desk.set_viewport(1280, 900, false).await;
    shot(&desk, "53-aftersales-queue-desktop-en").await;
}

/// The page fits the phone's width (nothing to scroll sideways).
async fn page_has_no_sideways_scroll(page: &Page) {
    let fits = page.eval("document.documentElement.scrollWidth <= window.innerWidth + 1").await;
    assert_eq!(fits, true, "the page is wider than the phone");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logistics_ships_from_the_order_screen_with_the_batch_numbers_of_each_line() {
    let web = web_app().to_str().expect("utf-8 path").to_string();
    let mut server = TestServer::with_args(&["--web", &web]);
    server.add_user("li", "rep", Some(TestServer::TERRITORY));
    server.add_user("sun", "logistics", None);
    server.start();
    let policy = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/policy.csv");
    server.admin_ok(&["policy", "import", policy.to_str().expect("utf-8")]);
    let li = Device::logged_in(&server, "li");
    li.sync();
    let c = li.add_customer("观山湖酒楼", &["--channel", "restaurant"]);
    let o = li.ok(&["order", "new", "--customer", &c]);
    li.ok(&["order", "add-line", &o, "--sku", "SC-52-500", "--qty", "12", "--unit-price", "53900"]);
    li.ok(&["order", "add-line", &o, "--sku", "SC-42-500", "--qty", "6", "--unit-price", "22900"]);
    li.ok(&["order", "submit", &o]);
    li.sync();
    assert_eq!(li.order(&o)["lifecycle"]["status"], "confirmed", "{}", li.order(&o));

    let browser = Browser::launch().await;
    let page = browser.page("sun", &server.url()).await;
    page.set_viewport(1280, 900, false).await;
    login(&page, "sun").await;
    go(&page, &format!("#/order/{o}"), "#ship-form").await;
    page.fill("#ship-carrier", "顺丰").await;
    page.fill("#ship-tracking", "SF1234567").await;
    // A batch number that is none: refused, nothing saved.
    page.fill("#ship-batch-1", "B#2026").await;
    page.click("#ship-order").await;
    page.wait_text("#ship-form [data-field=batches] .field-error", "“B#2026”不是批次号").await;
    assert_eq!(page.text("#order-status").await, "已确认");
    page.fill("#ship-batch-1", "B2026-09，B2026-10").await;
    page.fill("#ship-batch-2", "B2026-11").await;
    shot(&page, "54-ship-with-batches").await;
    page.click("#ship-order").await;
    page.wait_text("#order-status", "已发货").await;
    wait_synced(&page).await;

    li.sync();
    let v = li.order(&o);
    let shipped = v["events"].as_array().unwrap().iter().find(|e| e["kind"] == "shipped").expect("shipped").clone();
    let lines: Vec<String> =
        v["lines"].as_array().unwrap().iter().map(|l| l["id"].as_str().unwrap().to_string()).collect();
    assert_eq!(shipped["batches"], format!("{}=B2026-09,B2026-10;{}=B2026-11", lines[0], lines[1]), "{v}");
    assert_eq!((shipped["by"].as_str(), shipped["carrier"].as_str()), (Some("sun"), Some("顺丰")));
    server.kill9();
}
