//! Expenses in the browser, in real headless Chromium against a real server: a rep on a
//! phone-sized screen, with the server down, photographs a hotel invoice (the file input
//! of the claim form), sees what is left of the travel budget before submitting, and
//! files the claim; it waits, marked pending, and goes — receipt file included — when the
//! server is back. The manager approves it, finance checks the receipt (fetching the very
//! bytes the phone took) and reimburses; the phone shows it reimbursed, in English too.
//! Screenshots in `target/screenshots/` (`60-…`).

use jiuloop_tests::browser::{Browser, Page, js_str, screenshot_dir, web_app};
use jiuloop_tests::{Device, PASSWORD, TempDir, TestServer};
use std::time::Duration;

const LONG: Duration = Duration::from_secs(60);
const GZ: &str = "贵州";

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

async fn login(page: &Page, user: &str) {
    page.wait_for("typeof window.jiuloopReady === 'number'", LONG).await;
    page.wait_for("!!document.querySelector('#login-form')", LONG).await;
    page.fill("#login-user", user).await;
    page.fill("#login-password", PASSWORD).await;
    page.click("#login-submit").await;
    page.wait_for("!!document.querySelector('#customer-results, #work')", LONG).await;
    wait_synced(page).await;
}

/// The JPEG the phone "photographs": the same bytes are rebuilt here to compare.
fn photo() -> Vec<u8> {
    let mut v = vec![0xFF, 0xD8, 0xFF, 0xE0];
    v.extend((0..300_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8));
    v
}

const PHOTO_JS: &str = "(() => { const v = [0xFF, 0xD8, 0xFF, 0xE0];
  for (let i = 0; i < 300000; i++) v.push(Number((BigInt(i) * 2654435761n % 4294967296n) >> 24n));
  return new Uint8Array(v); })()";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_with_a_receipt_photo_filed_offline_on_a_phone_is_synced_approved_and_reimbursed() {
    let web = web_app().to_str().expect("utf-8 path").to_string();
    let mut server = TestServer::with_args(&["--web", &web]);
    server.add_user("zhang", "manager", Some(GZ));
    server.add_user_with("li", "rep", Some(GZ), Some("zhang"));
    server.add_user("qian", "finance", None);
    server.add_user("zhao", "executive", None);
    server.start();

    // The team's budget for this year: travel, 1000 yuan a month.
    let zhang = Device::logged_in(&server, "zhang");
    let zhao = Device::logged_in(&server, "zhao");
    let qian = Device::logged_in(&server, "qian");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    // The phone's date input starts at today's UTC date; the budget covers that month.
    let today = protocol::time::rfc3339(now);
    let (year, month) = (today[..4].to_string(), today[5..7].to_string());
    let month_n = month.trim_start_matches('0').to_string();
    let b = zhang.ok(&["budget", "new", "--team", GZ, "--year", &year, "--title", "贵州销售费用"]);
    zhang.ok(&["budget", "line", &b, "--item", "travel", "--month", &month_n, "--amount", "1000"]);
    zhang.ok(&["budget", "submit", &b]);
    zhang.sync();
    zhao.sync();
    zhao.ok(&["budget", "approve", &b, "--version", "1"]);
    zhao.sync();

    let browser = Browser::launch().await;
    let phone = browser.page("li-phone", &server.url()).await;
    phone.set_viewport(390, 844, true).await;
    login(&phone, "li").await;
    phone.eval("location.hash = '#/expenses'").await;
    phone.wait_for("!!document.querySelector('#claim-form')", LONG).await;
    phone.wait_for("!!navigator.serviceWorker.controller", LONG).await;
    phone.wait_text("#budget-list", "贵州销售费用").await;

    // On the road, no signal: the server is gone.
    server.kill9();
    phone.wait_for("document.querySelector('#status').dataset.state === 'offline'", LONG).await;
    phone.fill("#claim-item", "travel").await;
    phone.fill("#claim-amount", "380").await;
    phone.fill("#claim-purpose", "遵义出差住宿").await;
    phone.wait_text("#claim-remaining", "预算剩余：¥1000.00").await;
    // The camera's photo, through the form's file input.
    phone
        .eval(&format!(
            "(() => {{ const dt = new DataTransfer(); dt.items.add(new File([{PHOTO_JS}], 'hotel.jpg', {{ type: 'image/jpeg' }}));
               const input = document.querySelector('#claim-receipt'); input.files = dt.files;
               input.dispatchEvent(new Event('change', {{ bubbles: true }})); return true; }})()"
        ))
        .await;
    phone.wait_for("document.querySelector('#claim-receipt').dataset.loaded === '300004'", LONG).await;
    shot(&phone, "60-claim-phone-offline").await;
    phone.click("#claim-submit").await;
    phone.wait_for("!!document.querySelector('#my-expenses [data-status=submitted]')", LONG).await;
    let claim = phone.eval("document.querySelector('#my-expenses .expense-row').dataset.id").await;
    let claim = claim.as_str().expect("the claim's id").to_string();
    let status = phone.status().await;
    assert_eq!(status["online"].as_bool(), Some(false), "{status}");
    assert!(status["pending"].as_u64().unwrap_or(0) >= 1, "{status}");
    phone.wait_text(&format!("#my-expenses [data-id={}] .receipts", js_str(&claim)), "hotel.jpg").await;

    // Back in coverage: the claim and its receipt go by themselves.
    server.start();
    wait_synced(&phone).await;

    // The manager approves, finance checks the receipt and reimburses.
    zhang.sync();
    zhang.ok(&["expense", "approve", &claim]);
    zhang.sync();
    qian.sync();
    let shown = qian.json(&["expense", "show", &claim]);
    let hash = shown["receipts"][0]["hash"].as_str().expect("a receipt").to_string();
    assert_eq!(hash, protocol::blob::hex(&protocol::blob::digest(&photo())), "{shown:#}");
    let dir = TempDir::new("browser-claim");
    let got = dir.path().join("receipt.jpg");
    qian.ok(&["attach", "get", &hash, "--out", got.to_str().unwrap()]);
    assert_eq!(std::fs::read(&got).unwrap(), photo(), "finance reads the very bytes the phone took");
    qian.ok(&["expense", "check", &claim, "--receipt", "1", "--sanctioned", "380"]);
    qian.ok(&["expense", "reimburse", &claim]);
    qian.sync();

    // The phone shows it reimbursed, within budget, and the budget spent.
    phone
        .wait_for(
            &format!("!!document.querySelector('#my-expenses [data-id={}][data-status=reimbursed]')", js_str(&claim)),
            LONG,
        )
        .await;
    phone.wait_text(&format!("#my-expenses [data-id={}]", js_str(&claim)), "已报销").await;
    phone.wait_text("#budget-list tr[data-item=travel]", "380.00").await;
    shot(&phone, "61-claim-reimbursed-phone").await;

    // In English.
    phone.click("#lang").await;
    phone.wait_text("#expenses h2", "Expenses").await;
    phone.wait_text(&format!("#my-expenses [data-id={}]", js_str(&claim)), "Reimbursed").await;
    phone.wait_text("#claim-form", "Budget left").await;
    shot(&phone, "62-claim-reimbursed-phone-en").await;
}
