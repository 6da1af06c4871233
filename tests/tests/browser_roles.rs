//! The web app as every role's daily tool, in real headless Chromium against a real server:
//! the whole order path over four browser profiles (rep on a phone, manager, finance and
//! logistics at desks), each department's queue at the right time and the rep told without
//! a reload; one status in every view, offline and unsent included; a rejection with its
//! reason, revised and resubmitted, then approved; field errors next to the field in the
//! user's language with nothing saved; logout locking the data from the next user; and the
//! layout — no horizontal scroll at 390 px with long strings, tap targets of 44 px measured
//! from the DOM, screenshots of every screen in both languages (`target/screenshots/4x-…`,
//! `5x-…`, `6x-…`).

use jiuloop_tests::browser::{Browser, Page, js_str, screenshot_dir, web_app};
use jiuloop_tests::{Device, PASSWORD, TestServer};
use serde_json::{Value, json};
use std::time::Duration;

const LONG: Duration = Duration::from_secs(60);
const PHONE: (u32, u32, bool) = (390, 844, true);
const DESK: (u32, u32, bool) = (1366, 900, false);

/// One browser scenario at a time: each runs a server and several Chromiums on 2 cores.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// rep li and manager zhang in 贵州, rep chen in 四川, finance cai, logistics wu, market ma
/// (who publishes the example price policy from a native device).
fn company() -> TestServer {
    let web = web_app().to_str().expect("utf-8 path").to_string();
    let mut server = TestServer::with_args(&["--web", &web]);
    server.add_user("zhang", "manager", Some("贵州"));
    server.add_user_with("li", "rep", Some("贵州"), Some("zhang"));
    server.add_user("chen", "rep", Some("四川"));
    server.add_user("cai", "finance", None);
    server.add_user("wu", "logistics", None);
    server.add_user("ma", "market", None);
    server.start();
    let market = Device::logged_in(&server, "ma");
    let policy = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/policy.csv");
    assert_eq!(market.ok(&["policy", "import", policy.to_str().expect("utf-8 path")]), "1");
    market.sync();
    server
}

async fn shot(page: &Page, name: &str) {
    page.screenshot(&screenshot_dir().join(format!("{name}.png"))).await;
}

async fn open(browser: &Browser, server: &TestServer, name: &str, screen: (u32, u32, bool)) -> Page {
    let page = browser.page(name, "about:blank").await;
    page.set_viewport(screen.0, screen.1, screen.2).await;
    page.goto(&format!("{}/", server.url())).await;
    page.wait_for("typeof window.jiuloopReady === 'number'", LONG).await;
    page
}

async fn login(page: &Page, user: &str) {
    page.wait_for("!!document.querySelector('#login-form')", LONG).await;
    page.fill("#login-user", user).await;
    page.fill("#login-password", PASSWORD).await;
    page.click("#login-submit").await;
    page.wait_for("!!document.querySelector('#customer-results, #work')", LONG).await;
}

async fn go(page: &Page, hash: &str, ready: &str) {
    page.eval(&format!("location.hash = {}", js_str(hash))).await;
    page.wait_for(&format!("!!document.querySelector({})", js_str(ready)), LONG).await;
}

async fn wait_synced(page: &Page) {
    page.wait_for(
        "(() => { const s = JSON.parse(jiuloop.client.status()); return s.online && s.pending === 0 && !!s.last_sync; })()",
        LONG,
    )
    .await;
}

async fn wait_js(page: &Page, expr: &str) {
    page.wait_for(expr, LONG).await;
}

fn sel(s: &str) -> String {
    js_str(s)
}

/// The order's status chip on its own screen: `(status class, label, sync mark)`.
async fn order_status(page: &Page) -> Value {
    page.eval(
        "(() => { const s = document.querySelector('#order-status'); const m = document.querySelector('#order-status-sync');
           return [s.className.replace('status ', ''), s.textContent, m ? m.textContent : null]; })()",
    )
    .await
}

async fn wait_status(page: &Page, status: &str) {
    wait_js(page, &format!("(() => {{ const s = document.querySelector('#order-status'); return !!s && s.classList.contains({}); }})()", sel(status))).await;
}

/// A customer made through the form; returns its id.
async fn new_customer(page: &Page, name: &str, channel: &str) -> String {
    go(page, "#/customers/new", "#customer-form").await;
    page.fill("#cf-name", name).await;
    page.fill("#cf-phone", "0851-8888 6666").await;
    page.fill("#cf-channel", channel).await;
    page.fill("#cf-region", "贵阳").await;
    page.click("#customer-save").await;
    page.wait_for("location.hash.startsWith('#/customer/') && !!document.querySelector('#customer-name')", LONG).await;
    page.eval("location.hash").await.as_str().unwrap().trim_start_matches("#/customer/").to_string()
}

/// An order of `qty` × 黔韵·珍品 at `price` (the product picked from the catalogue), saved
/// as a draft; returns its id.
async fn new_order(page: &Page, customer: &str, qty: &str, price: &str, note: &str) -> String {
    go(page, &format!("#/customer/{customer}/order"), "#order-form").await;
    wait_js(page, "document.querySelectorAll('#order-lines .line-pick option').length > 5").await;
    page.fill("#order-lines .line:nth-child(1) .line-pick", "QY-53-500").await;
    page.fill("#order-lines .line:nth-child(1) .line-qty", qty).await;
    page.fill("#order-lines .line:nth-child(1) .line-price", price).await;
    if !note.is_empty() {
        page.fill("#of-notes", note).await;
    }
    page.click("#order-save").await;
    page.wait_for("location.hash.startsWith('#/order/') && !!document.querySelector('#order-timeline')", LONG).await;
    page.eval("location.hash").await.as_str().unwrap().trim_start_matches("#/order/").to_string()
}

fn row(list: &str, id: &str) -> String {
    format!("#{list} [data-id=\"{id}\"]")
}

async fn has(page: &Page, selector: &str) -> bool {
    page.eval(&format!("!!document.querySelector({})", sel(selector))).await == Value::Bool(true)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_goes_from_the_rep_through_manager_finance_and_logistics_to_closed() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let server = company();

    // The rep, on a phone: a customer, an order priced below the policy.
    let rep_browser = Browser::launch().await;
    let rep = open(&rep_browser, &server, "li", PHONE).await;
    login(&rep, "li").await;
    wait_synced(&rep).await;
    wait_js(&rep, "JSON.parse(jiuloop.client.catalogue()).version === 1").await;
    let customer = new_customer(&rep, "贵阳名酒经销部", "distributor").await;
    go(&rep, &format!("#/customer/{customer}/order"), "#order-form").await;
    wait_js(&rep, "document.querySelectorAll('#order-lines .line-pick option').length > 5").await;
    // The picker names products; picking one fills the price the policy gives this customer.
    rep.wait_text("#order-lines .line-pick", "黔韵·珍品 酱香型白酒").await;
    rep.fill("#order-lines .line:nth-child(1) .line-pick", "QY-53-500").await;
    assert_eq!(rep.eval("document.querySelector('#order-lines .line-price').value").await, "969.00");
    rep.wait_text("#order-lines .line-name", "黔韵·珍品 酱香型白酒").await;
    rep.fill("#order-lines .line:nth-child(1) .line-qty", "１０").await; // full-width digits
    rep.fill("#order-lines .line:nth-child(1) .line-price", "900").await;
    rep.wait_text("#order-total", "¥9000.00").await;
    // 7.13 % below the policy: 4.13 % beyond the rep's 3 %.
    rep.wait_text("#order-lines .line-policy", "折让 7.13%").await;
    rep.wait_text("#order-lines .line-policy", "超出权限 4.13%（权限 3.00%）").await;
    rep.wait_text("#order-approval", "需要销售经理审批").await;
    rep.fill("#of-notes", "老客户，申请特价").await;
    shot(&rep, "40-rep-new-order").await;
    rep.click("#order-save").await;
    rep.wait_for("location.hash.startsWith('#/order/') && !!document.querySelector('#submit-order')", LONG).await;
    let order = rep.eval("location.hash").await.as_str().unwrap().trim_start_matches("#/order/").to_string();
    rep.wait_text("#order-line-table", "黔韵·珍品 酱香型白酒").await;

    // Finance is at its desk before the order is approved: nothing to confirm yet.
    let fin_browser = Browser::launch().await;
    let fin = open(&fin_browser, &server, "cai", DESK).await;
    login(&fin, "cai").await;
    wait_synced(&fin).await;
    assert!(!has(&fin, "#new-customer").await && !has(&fin, "#nav [data-nav=approvals]").await);
    wait_js(&fin, "document.querySelector('#q-pay').dataset.count === '0'").await;

    rep.click("#submit-order").await;
    wait_synced(&rep).await;
    wait_status(&rep, "awaiting-approval").await;
    rep.wait_text("#missing-approvals", "销售经理").await;

    // The manager, at a desk: the order waits in the approvals queue with everything to
    // decide on.
    let mgr_browser = Browser::launch().await;
    let mgr = open(&mgr_browser, &server, "zhang", DESK).await;
    login(&mgr, "zhang").await;
    wait_synced(&mgr).await;
    mgr.wait_for(&format!("!!document.querySelector({})", sel(&row("queue-approve", &order))), LONG).await;
    shot(&mgr, "41-manager-work").await;
    go(&mgr, "#/approvals", "section.approvals").await;
    let approval = row("approval-list", &order);
    mgr.wait_for(&format!("!!document.querySelector({})", sel(&approval)), LONG).await;
    for text in ["贵阳名酒经销部", "黔韵·珍品 酱香型白酒", "¥900.00", "¥969.00", "7.13%", "老客户，申请特价"]
    {
        mgr.wait_text(&approval, text).await;
    }
    mgr.fill(&format!("{approval} .decide-comment"), "同意本次让利").await;
    shot(&mgr, "42-manager-approvals").await;
    mgr.click(&format!("{approval} .approve")).await;
    mgr.wait_for("!!document.querySelector('#approvals-empty')", LONG).await;
    wait_synced(&mgr).await;
    drop(mgr_browser);

    // The rep's open page shows it confirmed and the notification arrives, no reload.
    wait_status(&rep, "confirmed").await;
    wait_js(&rep, "(() => { const b = document.querySelector('#notif-badge'); return !!b && !b.hidden && Number(b.textContent) >= 1; })()").await;
    go(&rep, "#/notifications", "#notification-list").await;
    rep.wait_text("#notification-list", "zhang 批准了 贵阳名酒经销部").await;
    shot(&rep, "43-rep-notifications").await;

    // Finance: now in the queue; payment confirmed.
    fin.wait_for(&format!("!!document.querySelector({})", sel(&row("queue-pay", &order))), LONG).await;
    shot(&fin, "44-finance-work").await;
    fin.click(&format!("{} a.row-link", row("queue-pay", &order))).await;
    fin.wait_for("!!document.querySelector('#pay-order')", LONG).await;
    assert!(!has(&fin, "#ship-order").await, "finance does not ship");
    fin.click("#pay-order").await;
    fin.wait_text("#order-timeline", "确认收款").await;
    wait_synced(&fin).await;
    go(&fin, "#/work", "#work").await;
    wait_js(&fin, "document.querySelector('#q-pay').dataset.count === '0'").await;
    drop(fin_browser);

    // Logistics ships it, with carrier and tracking number.
    let log_browser = Browser::launch().await;
    let log = open(&log_browser, &server, "wu", DESK).await;
    login(&log, "wu").await;
    wait_synced(&log).await;
    log.wait_for(&format!("!!document.querySelector({})", sel(&row("queue-ship", &order))), LONG).await;
    go(&log, &format!("#/order/{order}"), "#ship-order").await;
    log.click("#ship-order").await;
    log.wait_text("[data-step=shipped] [data-field=carrier] .field-error", "不能为空").await;
    log.fill("#ship-carrier", "顺丰速运").await;
    log.fill("#ship-tracking", "SF1234567890").await;
    shot(&log, "45-logistics-ship").await;
    log.click("#ship-order").await;
    wait_status(&log, "shipped").await;
    wait_synced(&log).await;
    drop(log_browser);

    // The rep delivers it (the customer signs on site) and closes it.
    go(&rep, &format!("#/order/{order}"), "#order-status").await;
    wait_status(&rep, "shipped").await;
    go(&rep, "#/work", "#work").await;
    rep.wait_for(&format!("!!document.querySelector({})", sel(&row("queue-deliver", &order))), LONG).await;
    go(&rep, &format!("#/order/{order}"), "#deliver-order").await;
    rep.wait_text("#order-shipping", "SF1234567890").await;
    rep.fill("#deliver-feedback", "客户已签收，包装完好").await;
    rep.click("#deliver-order").await;
    wait_status(&rep, "delivered").await;
    rep.wait_for("!!document.querySelector('#close-order')", LONG).await;
    rep.click("#close-order").await;
    wait_status(&rep, "closed").await;
    wait_synced(&rep).await;
    shot(&rep, "46-rep-order-closed").await;
    for text in ["提交", "审批通过", "确认收款", "发货", "签收", "关闭"] {
        rep.wait_text("#order-timeline", text).await;
    }
    go(&rep, "#/notifications", "#notification-list").await;
    rep.wait_text("#notification-list", "cai 确认收到").await;
    rep.wait_text("#notification-list", "wu 已发出").await;

    // The server agrees.
    let check = Device::logged_in(&server, "zhang");
    check.sync();
    assert_eq!(check.order(&order)["status"], "closed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_view_shows_the_same_status_offline_and_unsent_included() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let mut server = company();
    let browser = Browser::launch().await;
    let rep = open(&browser, &server, "li", PHONE).await;
    login(&rep, "li").await;
    wait_synced(&rep).await;
    wait_js(&rep, "JSON.parse(jiuloop.client.catalogue()).version === 1").await;
    let customer = new_customer(&rep, "花溪酒庄", "distributor").await;
    let order = new_order(&rep, &customer, "6", "969", "").await; // at the policy price
    wait_synced(&rep).await;
    rep.wait_for("!!navigator.serviceWorker.controller", LONG).await;

    // Offline: submitted here, not yet sent. Every view says so, none says "confirmed".
    server.kill9();
    rep.wait_for("document.querySelector('#status').dataset.state === 'offline'", LONG).await;
    rep.click("#submit-order").await;
    wait_js(&rep, "!!document.querySelector('#order-status-sync')").await;
    assert_eq!(order_status(&rep).await, json!(["submitted", "已提交", "未发送"]));
    assert_eq!(rep.eval("document.querySelector('#order-timeline li:last-child').dataset.pending").await, "true");
    shot(&rep, "47-order-offline-unsent").await;
    let same = |list: &str| {
        format!(
            "(() => {{ const r = document.querySelector({}); return !!r && r.querySelector('.status').textContent === '已提交'
                 && r.querySelector('.tag.sync').textContent === '未发送'; }})()",
            sel(&row(list, &order))
        )
    };
    go(&rep, "#/orders", "#order-list").await;
    wait_js(&rep, &same("order-list")).await;
    assert_eq!(rep.text(".status-tab[data-status=submitted]").await, "已提交 1");
    assert_eq!(rep.text(".status-tab[data-status=confirmed]").await, "已确认 0");
    go(&rep, "#/orders/submitted", "#order-list").await;
    wait_js(&rep, &same("order-list")).await;
    go(&rep, &format!("#/customer/{customer}"), "#customer-orders").await;
    wait_js(&rep, &same("customer-orders")).await;
    shot(&rep, "48-customer-offline-unsent").await;
    // A reload, still offline: the same.
    rep.reload().await;
    rep.wait_for("typeof window.jiuloopReady === 'number'", LONG).await;
    go(&rep, &format!("#/order/{order}"), "#order-status").await;
    assert_eq!(order_status(&rep).await, json!(["submitted", "已提交", "未发送"]));

    // Back online: the server confirms it, and every view says "confirmed", unmarked.
    server.start();
    wait_synced(&rep).await;
    wait_status(&rep, "confirmed").await;
    assert_eq!(order_status(&rep).await, json!(["confirmed", "已确认", null]));
    let confirmed = |list: &str| {
        format!(
            "(() => {{ const r = document.querySelector({}); return !!r && r.querySelector('.status').textContent === '已确认'
                 && !r.querySelector('.tag.sync'); }})()",
            sel(&row(list, &order))
        )
    };
    go(&rep, "#/orders", "#order-list").await;
    wait_js(&rep, &confirmed("order-list")).await;
    assert_eq!(rep.text(".status-tab[data-status=confirmed]").await, "已确认 1");
    assert_eq!(rep.text(".status-tab[data-status=submitted]").await, "已提交 0");
    go(&rep, &format!("#/customer/{customer}"), "#customer-orders").await;
    wait_js(&rep, &confirmed("customer-orders")).await;
    // And the command line shows the same.
    let native = Device::logged_in(&server, "zhang");
    native.sync();
    let listed = native.orders();
    let o = listed.as_array().unwrap().iter().find(|o| o["id"] == order.as_str()).expect("the order");
    assert_eq!((o["status"].as_str(), native.order(&order)["status"].as_str()), (Some("confirmed"), Some("confirmed")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejection_with_its_reason_is_revised_resubmitted_and_approved() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let server = company();
    let rep_browser = Browser::launch().await;
    let rep = open(&rep_browser, &server, "li", PHONE).await;
    login(&rep, "li").await;
    wait_synced(&rep).await;
    wait_js(&rep, "JSON.parse(jiuloop.client.catalogue()).version === 1").await;
    let customer = new_customer(&rep, "遵义老窖专卖", "distributor").await;
    let order = new_order(&rep, &customer, "10", "900", "请批特价").await;
    rep.click("#submit-order").await;
    wait_synced(&rep).await;
    wait_status(&rep, "awaiting-approval").await;

    let mgr_browser = Browser::launch().await;
    let mgr = open(&mgr_browser, &server, "zhang", DESK).await;
    login(&mgr, "zhang").await;
    go(&mgr, "#/approvals", "section.approvals").await;
    let approval = row("approval-list", &order);
    mgr.wait_for(&format!("!!document.querySelector({})", sel(&approval)), LONG).await;
    // A rejection needs a reason …
    mgr.click(&format!("{approval} .reject")).await;
    mgr.wait_text(&format!("{approval} .decide [data-field=comment] .field-error"), "不能为空").await;
    assert!(has(&mgr, &approval).await, "nothing was recorded");
    // … and a confirmation.
    mgr.fill(&format!("{approval} .decide-comment"), "折扣太大，请控制在 5.5% 以内").await;
    mgr.click(&format!("{approval} .reject")).await;
    mgr.wait_for(&format!("!!document.querySelector({})", sel(&format!("{approval} .reject-confirm"))), LONG).await;
    shot(&mgr, "49-manager-reject-confirm").await;
    mgr.click(&format!("{approval} .reject-confirm")).await;
    mgr.wait_for("!!document.querySelector('#approvals-empty')", LONG).await;
    wait_synced(&mgr).await;

    // The rep is told why, without a reload, and revises the order.
    wait_status(&rep, "rejected").await;
    rep.wait_text("#order-rejection", "折扣太大，请控制在 5.5% 以内").await;
    wait_js(&rep, "(() => { const b = document.querySelector('#notif-badge'); return !!b && !b.hidden; })()").await;
    shot(&rep, "50-rep-order-rejected").await;
    rep.click("#revise-order").await;
    rep.wait_for("!!document.querySelector('#order-resubmit')", LONG).await;
    assert_eq!(rep.eval("document.querySelector('#order-lines .line-price').value").await, "900.00");
    assert_eq!(rep.eval("document.querySelector('#of-notes').value").await, "请批特价");
    rep.fill("#order-lines .line:nth-child(1) .line-price", "920").await;
    rep.wait_text("#order-lines .line-policy", "折让 5.06%").await;
    shot(&rep, "51-rep-order-revise").await;
    rep.click("#order-resubmit").await;
    rep.wait_for(&format!("location.hash === '#/order/{order}' && !!document.querySelector('#order-status')"), LONG)
        .await;
    wait_synced(&rep).await;
    wait_status(&rep, "awaiting-approval").await;
    rep.wait_text("#order-line-table", "¥920.00").await;
    rep.wait_text("#order-timeline", "订单已修改，此审批不再适用").await;

    // Back in the manager's queue with the new price; approved.
    mgr.wait_for(&format!("!!document.querySelector({})", sel(&approval)), LONG).await;
    mgr.wait_text(&approval, "¥920.00").await;
    mgr.click(&format!("{approval} .approve")).await;
    mgr.wait_for("!!document.querySelector('#approvals-empty')", LONG).await;
    wait_synced(&mgr).await;
    wait_status(&rep, "confirmed").await;
    shot(&rep, "52-rep-order-approved").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_next_to_the_field_in_the_users_language_and_nothing_is_saved() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let server = company();
    let browser = Browser::launch().await;
    let rep = open(&browser, &server, "li", PHONE).await;
    login(&rep, "li").await;
    wait_synced(&rep).await;
    wait_js(&rep, "JSON.parse(jiuloop.client.catalogue()).version === 1").await;
    let count = |what: &str| format!("JSON.parse(jiuloop.client.{what}).total");

    // A bad phone number.
    go(&rep, "#/customers/new", "#customer-form").await;
    rep.fill("#cf-name", "测试酒行").await;
    rep.fill("#cf-phone", "call me").await;
    rep.click("#customer-save").await;
    rep.wait_text("#customer-form [data-field=phone] .field-error", "“call me”不是电话号码").await;
    assert!(has(&rep, "#customer-form [data-field=phone].invalid").await);
    rep.wait_text("#customer-error", "未保存").await;
    assert_eq!(rep.text("#customer-form [data-field=name] .field-error").await, "");
    assert_eq!(rep.eval(&count("customers('', 'zh')")).await, 0);
    shot(&rep, "53-customer-bad-phone").await;
    // Switching the language keeps the half-filled form; the errors come in English.
    rep.click("#lang").await;
    rep.wait_text("#nav", "Customers").await;
    assert_eq!(
        rep.eval("[document.querySelector('#cf-name').value, document.querySelector('#cf-phone').value]").await,
        json!(["测试酒行", "call me"])
    );
    rep.click("#customer-save").await;
    rep.wait_text("#customer-form [data-field=phone] .field-error", "'call me' is not a phone number").await;
    rep.wait_text("#customer-error", "Nothing was saved").await;
    rep.click("#lang").await;
    rep.wait_text("#nav", "客户").await;
    rep.fill("#cf-phone", "１３９００００００００").await; // full-width digits are a phone number
    rep.fill("#cf-channel", "distributor").await;
    rep.click("#customer-save").await;
    rep.wait_for("location.hash.startsWith('#/customer/') && !!document.querySelector('#customer-name')", LONG).await;
    let customer = rep.eval("location.hash").await.as_str().unwrap().trim_start_matches("#/customer/").to_string();
    rep.wait_text("[data-field=phone] a.tel", "13900000000").await;
    assert_eq!(
        rep.eval("document.querySelector('[data-field=phone] a.tel').getAttribute('href')").await,
        "tel:13900000000"
    );

    // An empty visit; the check-in refused gracefully (no permission).
    go(&rep, &format!("#/customer/{customer}/visit"), "#visit-form").await;
    rep.click("#checkin").await;
    rep.wait_for("!!document.querySelector('#checkin-state[data-error]')", LONG).await;
    rep.wait_text("#checkin-state", "可以不签到直接保存").await;
    rep.click("#visit-save").await;
    rep.wait_text("#visit-form [data-field=notes] .field-error", "不能为空").await;
    assert_eq!(
        rep.eval(&format!("JSON.parse(jiuloop.client.customer({}, 'zh')).visits.length", sel(&customer))).await,
        0
    );
    shot(&rep, "54-visit-empty").await;
    // With permission: the position and the time of the check-in are stored with the visit.
    let origin = server.url();
    rep_browser_grant(&browser, &origin).await;
    rep.command("Emulation.setGeolocationOverride", json!({ "latitude": 26.647, "longitude": 106.63, "accuracy": 20 }))
        .await;
    rep.click("#checkin").await;
    rep.wait_text("#checkin-state", "26.647000, 106.630000").await;
    rep.fill("#vf-notes", "店内陈列检查").await;
    rep.click("#visit-save").await;
    rep.wait_text("#visit-list", "店内陈列检查").await;
    rep.wait_text("#visit-list .checkin", "26.647000, 106.630000（±20 米）").await;

    // An order: an unknown product, a price of 0, a delivery date in the past.
    go(&rep, &format!("#/customer/{customer}/order"), "#order-form").await;
    rep.fill("#order-lines .line:nth-child(1) .line-sku", "XX-999").await;
    rep.fill("#order-lines .line:nth-child(1) .line-qty", "1").await;
    rep.fill("#order-lines .line:nth-child(1) .line-price", "100").await;
    rep.click("#add-line").await;
    rep.fill("#order-lines .line:nth-child(2) .line-pick", "SC-52-500").await;
    rep.fill("#order-lines .line:nth-child(2) .line-price", "0").await;
    rep.fill("#of-delivery_date", "2020-01-01").await;
    rep.click("#order-save").await;
    rep.wait_text("[data-field='lines/1/sku'] .field-error", "“XX-999”不是价格体系中的产品").await;
    rep.wait_text("[data-field='lines/2/unit_price_fen'] .field-error", "必须大于 0").await;
    rep.wait_text("#order-form [data-field=delivery_date] .field-error", "日期 2020-01-01 已过，不能早于今天").await;
    rep.wait_text("#order-error", "未保存").await;
    assert_eq!(rep.eval("JSON.parse(jiuloop.client.orders('', null, 'zh')).count").await, 0);
    shot(&rep, "55-order-bad-lines").await;
    rep.click("#lang").await;
    rep.wait_for("document.querySelectorAll('#order-lines .line').length === 2", LONG).await;
    assert_eq!(rep.eval("document.querySelector('#order-lines .line:nth-child(1) .line-sku').value").await, "XX-999");
    rep.click("#order-save").await;
    rep.wait_text("[data-field='lines/1/sku'] .field-error", "'XX-999' is not a product of the price policy").await;
    rep.wait_text("[data-field='lines/2/unit_price_fen'] .field-error", "must be more than 0").await;
    rep.wait_text("#order-form [data-field=delivery_date] .field-error", "2020-01-01 is in the past").await;
    shot(&rep, "56-order-bad-lines-en").await;
    assert_eq!(rep.eval("JSON.parse(jiuloop.client.orders('', null, 'zh')).count").await, 0);
}

async fn rep_browser_grant(browser: &Browser, origin: &str) {
    browser
        .command("Browser.grantPermissions", json!({ "permissions": ["geolocation"], "origin": origin }))
        .await
        .expect("grant geolocation");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_locks_the_data_and_the_next_user_of_the_browser_sees_none_of_it() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let mut server = company();
    let browser = Browser::launch().await;
    let page = open(&browser, &server, "shared", PHONE).await;
    login(&page, "li").await;
    wait_synced(&page).await;
    new_customer(&page, "李的老客户", "distributor").await;
    wait_synced(&page).await;
    page.wait_for("!!navigator.serviceWorker.controller", LONG).await;
    server.kill9();
    page.wait_for("document.querySelector('#status').dataset.state === 'offline'", LONG).await;
    new_customer(&page, "李的离线客户", "restaurant").await;
    server.start();
    let li_db = page.eval("jiuloop.db()").await.as_str().unwrap().to_string();

    // Logout: the data is locked, nothing of it shows.
    go(&page, "#/me", "#logout").await;
    page.click("#logout").await;
    page.wait_for("!!document.querySelector('#login-form') && !!document.querySelector('#locked')", LONG).await;
    page.wait_text("#locked", "li").await;
    assert_eq!(page.eval("document.querySelector('#login-user').value").await, "", "no name offered to the next user");
    go(&page, "#/customers", "#login-form").await;
    assert_eq!(page.eval("document.querySelector('#nav').hidden").await, true);
    assert_eq!(page.eval("document.body.innerText.includes('李的')").await, false);
    shot(&page, "57-logged-out-locked").await;

    // The next user of this browser sees none of it.
    login(&page, "chen").await;
    wait_synced(&page).await;
    go(&page, "#/customers", "#customer-results").await;
    page.wait_text("#customer-results", "共 0 个客户").await;
    assert_eq!(page.eval("document.body.innerText.includes('李的')").await, false);
    assert_ne!(page.eval("jiuloop.db()").await, li_db.as_str());
    assert_eq!(page.eval("JSON.parse(jiuloop.client.customers('', 'zh')).total").await, 0);
    shot(&page, "58-next-user-sees-nothing").await;
    go(&page, "#/me", "#logout").await;
    page.click("#logout").await;
    page.wait_for("!!document.querySelector('#login-form')", LONG).await;

    // The first user logs in again: everything is there, and the offline edit is sent.
    login(&page, "li").await;
    assert_eq!(page.eval("jiuloop.db()").await, li_db.as_str());
    page.wait_text("#customer-results", "李的离线客户").await;
    wait_synced(&page).await;
    let native = Device::logged_in(&server, "zhang");
    native.sync();
    let names: Vec<String> =
        native.customers().as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap().to_string()).collect();
    assert!(names.contains(&"李的离线客户".to_string()), "{names:?}");

    // Logout with a wipe: the profile's database is gone from the browser.
    go(&page, "#/me", "#logout-wipe").await;
    page.click("#logout-wipe").await;
    page.click("#logout-wipe-confirm").await;
    page.wait_for("!!document.querySelector('#login-form') && !document.querySelector('#locked')", LONG).await;
    let dbs = page.eval("indexedDB.databases().then((l) => l.map((d) => d.name))").await;
    assert!(!dbs.as_array().unwrap().iter().any(|d| d == li_db.as_str()), "{dbs}");
}

/// Everything wider than the screen, and every tap target under 44 px (visible `a`,
/// `button`, inputs, selects, textareas, summaries).
const LAYOUT_CHECK: &str = r#"(() => {
  const out = { width: window.innerWidth, scroll: document.documentElement.scrollWidth, wide: [], small: [] };
  const seen = (el) => { const r = el.getBoundingClientRect(); const s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none'; };
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if (r.right > window.innerWidth + 1 && seen(el)) out.wide.push(`${el.tagName}.${el.className} ${Math.round(r.right)}`);
  }
  for (const el of document.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea, summary')) {
    if (!seen(el)) continue;
    const r = el.getBoundingClientRect();
    if (r.height < 43.5 || r.width < 43.5) out.small.push(`${el.tagName}#${el.id}.${el.className} ${Math.round(r.width)}x${Math.round(r.height)} ${(el.textContent || el.value || '').slice(0, 24)}`);
  }
  out.wide = out.wide.slice(0, 8);
  return out;
})()"#;

async fn check_layout(page: &Page, name: &str) {
    let v = page.eval(LAYOUT_CHECK).await;
    assert!(
        v["scroll"].as_u64() <= v["width"].as_u64() && v["wide"].as_array().is_some_and(|w| w.is_empty()),
        "[{name}] wider than the screen: {v}"
    );
    assert!(v["small"].as_array().is_some_and(|s| s.is_empty()), "[{name}] tap targets under 44 px: {v}");
}

/// Check the layout and take a screenshot of the screen at `hash`, in Chinese and English
/// (switched with the app's own button).
async fn screen(page: &Page, n: &mut u32, who: &str, what: &str, hash: &str, ready: &str) {
    go(page, hash, ready).await;
    for (lang, html) in [("zh", "zh-CN"), ("en", "en")] {
        if page.eval("document.documentElement.lang").await != html {
            page.click("#lang").await;
            page.wait_for(
                &format!("document.documentElement.lang === '{html}' && !!document.querySelector({})", sel(ready)),
                LONG,
            )
            .await;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        let name = format!("6{n:02}-{who}-{what}-{lang}");
        check_layout(page, &name).await;
        shot(page, &name).await;
    }
    *n += 1;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_screen_fits_a_phone_with_long_strings_and_taps_are_44_px_in_both_languages() {
    let _serial = ONE_AT_A_TIME.lock().await;
    // The demo company: every role, every order status.
    let web = web_app().to_str().expect("utf-8 path").to_string();
    let mut server = TestServer::with_args(&["--web", &web]);
    let seeded = server.admin_ok(&["demo"]);
    assert!(seeded.contains("24 customers") && seeded.contains("26 orders"), "{seeded}");
    server.start();
    // Long unbroken strings, from a native device.
    let li = Device::logged_in(&server, "li");
    li.sync();
    let long = "A".repeat(100);
    let id = li.ok(&[
        "customer",
        "add",
        "--name",
        &long,
        "--channel",
        "distributor",
        "--class",
        "A",
        "--region",
        &"区".repeat(50),
    ]);
    li.ok(&["customer", "set", &id, "address", &"x".repeat(200)]);
    li.ok(&["customer", "set", &id, "notes", &"长".repeat(400)]);
    li.ok(&["visit", "add", "--customer", &id, "--kind", "follow-up", "--notes", &"y".repeat(600)]);
    li.sync();

    let browser = Browser::launch().await;
    let rep = open(&browser, &server, "li", PHONE).await;
    shot(&rep, "600-login-zh").await;
    check_layout(&rep, "login").await;
    login(&rep, "li").await;
    wait_synced(&rep).await;
    let orders: Value =
        serde_json::from_str(rep.eval("jiuloop.client.orders('', null, 'zh')").await.as_str().unwrap()).unwrap();
    let of = |status: &str| {
        orders["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["status"] == status)
            .map(|o| o["id"].as_str().unwrap().to_string())
    };
    for s in [
        "draft",
        "submitted",
        "awaiting-approval",
        "rejected",
        "confirmed",
        "shipped",
        "delivered",
        "closed",
        "cancelled",
    ] {
        assert!(of(s).is_some(), "the demo has a {s} order: {orders}");
    }
    let mut n = 1;
    screen(&rep, &mut n, "rep", "customers", "#/customers", "#customer-list").await;
    screen(&rep, &mut n, "rep", "customer-long-strings", &format!("#/customer/{id}"), "#customer-name").await;
    screen(&rep, &mut n, "rep", "customer-edit", &format!("#/customer/{id}/edit"), "#customer-form").await;
    screen(&rep, &mut n, "rep", "visit-form", &format!("#/customer/{id}/visit"), "#visit-form").await;
    screen(&rep, &mut n, "rep", "order-form", &format!("#/customer/{id}/order"), "#order-form").await;
    screen(&rep, &mut n, "rep", "orders", "#/orders", "#order-list").await;
    for s in ["rejected", "shipped", "closed"] {
        screen(&rep, &mut n, "rep", &format!("order-{s}"), &format!("#/order/{}", of(s).unwrap()), "#order-timeline")
            .await;
    }
    screen(&rep, &mut n, "rep", "order-revise", &format!("#/order/{}/edit", of("rejected").unwrap()), "#order-form")
        .await;
    screen(&rep, &mut n, "rep", "work", "#/work", "#work").await;
    screen(&rep, &mut n, "rep", "notifications", "#/notifications", "section.notifications").await;
    screen(&rep, &mut n, "rep", "inbox", "#/inbox", "#inbox-empty").await;
    screen(&rep, &mut n, "rep", "me", "#/me", "#logout").await;
    screen(&rep, &mut n, "rep", "competitor-list", "#/k/competitor-observation", "#kind-results").await;
    screen(
        &rep,
        &mut n,
        "rep",
        "competitor-form",
        &format!("#/k/competitor-observation/new/customer={id}"),
        "#kind-form",
    )
    .await;
    drop(browser);

    // The manager and finance at their desks (tables), and on a phone.
    for (user, screens) in [
        (
            "zhang",
            vec![
                ("#/work", "#work"),
                ("#/approvals", "#approval-list"),
                ("#/orders", "#order-list"),
                ("#/customers", "#customer-list"),
            ],
        ),
        ("cai", vec![("#/work", "#work"), ("#/notifications", "section.notifications")]),
        ("wu", vec![("#/work", "#work")]),
    ] {
        let browser = Browser::launch().await;
        let page = open(&browser, &server, user, DESK).await;
        login(&page, user).await;
        wait_synced(&page).await;
        for (hash, ready) in &screens {
            screen(&page, &mut n, &format!("{user}-desk"), hash.trim_start_matches("#/"), hash, ready).await;
        }
        if user == "zhang" {
            // The manager sees where and when the rep checked in.
            let q = sel(&json!({ "q": "贵阳名酒经销部" }).to_string());
            let c = page.eval(&format!("JSON.parse(jiuloop.client.customers({q}, 'zh')).items[0].id")).await;
            let hash = format!("#/customer/{}", c.as_str().unwrap());
            screen(&page, &mut n, "zhang-desk", "customer-visits-checkin", &hash, "#visit-list").await;
            page.wait_text("#visit-list .checkin", "26.64").await;
            page.wait_text("#visit-list .checkin a.map-link", "").await;
        }
        // The desk layout lists orders as a table.
        go(&page, "#/orders", "#order-list").await;
        assert_eq!(
            page.eval("getComputedStyle(document.querySelector('#order-list thead')).display").await,
            "table-header-group"
        );
        // An order with this role's step on it.
        let queue = if user == "zhang" {
            "approve"
        } else if user == "cai" {
            "pay"
        } else {
            "ship"
        };
        let first = page
            .eval(&format!("JSON.parse(jiuloop.client.work('zh')).find((q) => q.queue === '{queue}').items[0].id"))
            .await;
        screen(
            &page,
            &mut n,
            &format!("{user}-desk"),
            &format!("order-{queue}"),
            &format!("#/order/{}", first.as_str().unwrap()),
            "#order-steps",
        )
        .await;
        page.set_viewport(PHONE.0, PHONE.1, PHONE.2).await;
        screen(&page, &mut n, &format!("{user}-phone"), "work", "#/work", "#work").await;
        screen(
            &page,
            &mut n,
            &format!("{user}-phone"),
            &format!("order-{queue}"),
            &format!("#/order/{}", first.as_str().unwrap()),
            "#order-steps",
        )
        .await;
    }
}
