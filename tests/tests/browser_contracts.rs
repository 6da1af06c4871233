//! Expenses in the browser, in real headless Chromium against a real server: a rep on a
//! phone-sized screen, with the server down, photographs a hotel invoice (the file input
//! of the claim form), sees what is left of the travel budget before submitting, and
//! files the claim; it waits, marked pending, and goes — receipt file included — when the
//! server is back. The manager approves it; finance's queue in the browser shows the
//! receipt photo (fetched from the server); finance checks the receipt (fetching the very
//! bytes the phone took) and reimburses; the phone shows it reimbursed, in English too.
//! Screenshots in `target/screenshots/` (`60-…`).
//!
//! An expense request over what is left: the rep's form says so before it is submitted;
//! the manager's approvals queue marks it and the approval is refused there; the rep asks
//! for the supplement from its own form (the excess filled in), the executive approves it
//! from the approvals queue in the browser, and the manager's approval goes through — zh
//! and en.
//!
//! A contract drafted in the browser from an order, its clauses from legal's template;
//! the rep's textarea edit and legal's concurrent edit both kept (the save merges from the
//! text the edit started from); legal asks for changes, the rep revises and inserts another
//! of legal's templates at the cursor, the revision shows what changed
//! against the first version; signed, the lock shows and the clauses are read-only; the
//! fulfilment shows — zh and en. Its scan attached and archived, legal's inventory (盘点)
//! flags it until it is checked.
//!
//! A budget drafted in the browser by the manager (items × months), submitted, approved by
//! the executive in the browser, then shown read-only as the version in force with what is
//! left per item.

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

    // Finance's queue in the browser: the receipt viewer shows the very photo, fetched
    // from the server.
    let fin_browser = Browser::launch().await;
    let fin = fin_browser.page("qian-laptop", &server.url()).await;
    login(&fin, "qian").await;
    fin.eval("location.hash = '#/expenses'").await;
    fin.wait_for(&format!("!!document.querySelector('#x-view-{claim}-1')"), LONG).await;
    fin.click(&format!("#x-view-{claim}-1")).await;
    fin.wait_for(&format!("document.querySelector('#rv-{claim}-1').dataset.bytes === '300004'"), LONG).await;
    fin.wait_for(
        &format!("(() => {{ const i = document.querySelector('#rv-{claim}-1 img.receipt-image'); return !!i && i.complete; }})()"),
        LONG,
    )
    .await;
    shot(&fin, "62b-receipt-viewer").await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_over_budget_request_waits_in_the_browser_for_its_supplement() {
    let web = web_app().to_str().expect("utf-8 path").to_string();
    let mut server = TestServer::with_args(&["--web", &web]);
    server.add_user("zhang", "manager", Some(GZ));
    server.add_user_with("li", "rep", Some(GZ), Some("zhang"));
    server.add_user("zhao", "executive", None);
    server.start();
    let zhang = Device::logged_in(&server, "zhang");
    let zhao = Device::logged_in(&server, "zhao");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    let today = protocol::time::rfc3339(now);
    let (year, month) = (today[..4].to_string(), today[5..7].trim_start_matches('0').to_string());
    let b = zhang.ok(&["budget", "new", "--team", GZ, "--year", &year, "--title", "贵州销售费用"]);
    zhang.ok(&["budget", "line", &b, "--item", "travel", "--month", &month, "--amount", "1000"]);
    zhang.ok(&["budget", "submit", &b]);
    zhang.sync();
    zhao.sync();
    zhao.ok(&["budget", "approve", &b, "--version", "1"]);
    zhao.sync();

    let browser = Browser::launch().await;
    let rep = browser.page("li-laptop", &server.url()).await;
    login(&rep, "li").await;
    rep.eval("location.hash = '#/expenses'").await;
    rep.wait_for("!!document.querySelector('#req-form')", LONG).await;
    rep.wait_text("#budget-list", "贵州销售费用").await;
    rep.fill("#req-item", "travel").await;
    rep.fill("#req-amount", "1500").await;
    rep.fill("#req-text", "全国糖酒会差旅").await;
    // What is left, and that this is more, before anything is submitted.
    rep.wait_text("#req-remaining", "预算剩余：¥1000.00").await;
    rep.wait_text("#req-remaining", "须先申请追加").await;
    shot(&rep, "63-request-over-budget").await;
    rep.click("#req-submit").await;
    rep.wait_for("!!document.querySelector('#my-expenses .expense-row[data-status=submitted]')", LONG).await;
    let id = rep.eval("document.querySelector('#my-expenses .expense-row').dataset.id").await;
    let id = id.as_str().expect("the request's id").to_string();
    rep.wait_text(&format!("#my-expenses [data-id={}] .over-budget", js_str(&id)), "¥500.00").await;
    wait_synced(&rep).await;

    // The manager's queue marks it; the approval is refused there, with the reason.
    let mgr_browser = Browser::launch().await;
    let mgr = mgr_browser.page("zhang-laptop", &server.url()).await;
    login(&mgr, "zhang").await;
    mgr.eval("location.hash = '#/expenses'").await;
    let row = format!("#expense-approvals [data-id={}]", js_str(&id));
    mgr.wait_text(&format!("{row} .over-budget"), "¥500.00").await;
    mgr.click(&format!("#x-approve-{id}")).await;
    mgr.wait_text(&format!("{row} .form-error"), "须先由总经理批准费用追加申请").await;
    shot(&mgr, "64-approval-refused-over-budget").await;

    // The rep asks for the supplement for that request: the excess is filled in.
    rep.fill("#sup-request", &id).await;
    rep.wait_for("document.querySelector('#sup-amount').value === '500.00'", LONG).await;
    rep.fill("#sup-text", "糖酒会期间房价上涨").await;
    rep.click("#sup-submit").await;
    rep.wait_for("document.querySelectorAll('#my-expenses .expense-row').length === 2", LONG).await;
    wait_synced(&rep).await;
    let sup = rep
        .eval(&format!(
            "[...document.querySelectorAll('#my-expenses .expense-row')].map((e) => e.dataset.id).find((i) => i !== {})",
            js_str(&id)
        ))
        .await
        .as_str()
        .expect("the supplement's id")
        .to_string();
    // The executive approves it from the approvals queue in the browser (the manager may
    // not: a supplement is the executive's).
    let exec_browser = Browser::launch().await;
    let exec = exec_browser.page("zhao-laptop", &server.url()).await;
    login(&exec, "zhao").await;
    exec.eval("location.hash = '#/expenses'").await;
    exec.wait_text(&format!("#expense-approvals [data-id={}]", js_str(&sup)), "糖酒会期间房价上涨").await;
    exec.click(&format!("#x-approve-{sup}")).await;
    wait_synced(&exec).await;

    // Now the manager's approval goes through, and the rep sees the request approved.
    mgr.wait_for(&format!("!document.querySelector('{row} .over-budget')"), LONG).await;
    mgr.click(&format!("#x-approve-{id}")).await;
    rep.wait_for(
        &format!("!!document.querySelector('#my-expenses [data-id={}][data-status=approved]')", js_str(&id)),
        LONG,
    )
    .await;
    rep.click("#lang").await;
    rep.wait_text("#req-form", "Expense request").await;
    rep.wait_text("#sup-form", "Supplementary request").await;
    shot(&rep, "65-request-approved-en").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_contract_is_drafted_from_a_template_co_edited_diffed_and_signed_in_the_browser() {
    let web = web_app().to_str().expect("utf-8 path").to_string();
    let mut server = TestServer::with_args(&["--web", &web]);
    server.add_user("zhang", "manager", Some(GZ));
    server.add_user_with("li", "rep", Some(GZ), Some("zhang"));
    server.add_user("lv", "legal", None);
    server.start();
    let policy = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/policy.csv");
    server.admin_ok(&["policy", "import", policy.to_str().unwrap()]);
    let lv = Device::logged_in(&server, "lv");
    let li_cli = Device::logged_in(&server, "li");
    lv.sync();
    let body = "第一条 供货范围：以订单所列产品为准。\n第二条 付款：货到30日内付款。";
    let template = lv.ok(&["new", "clause-template", "name=标准供货条款", &format!("body={body}")]);
    let disputes = "第四条 争议解决：协商不成的，提交遵义仲裁委员会仲裁。";
    let template2 = lv.ok(&["new", "clause-template", "name=争议解决条款", &format!("body={disputes}")]);
    lv.sync();
    let customer = li_cli.add_customer("赤水河酒楼", &["--channel", "restaurant"]);
    let order = li_cli.ok(&["order", "new", "--customer", &customer]);
    li_cli.ok(&["order", "add-line", &order, "--sku", "SC-52-500", "--qty", "6", "--unit-price", "53900"]);
    li_cli.sync();

    let browser = Browser::launch().await;
    let rep = browser.page("li-laptop", &server.url()).await;
    login(&rep, "li").await;
    rep.eval("location.hash = '#/contracts'").await;
    rep.wait_for("!!document.querySelector('#draft-form')", LONG).await;
    rep.fill("#draft-order", &order).await;
    rep.fill("#draft-title", "赤水河酒楼供货合同").await;
    rep.fill("#draft-template", &template).await;
    rep.click("#draft-submit").await;
    rep.wait_text("#contract-title", "赤水河酒楼供货合同").await;
    rep.wait_for(&format!("document.querySelector('#contract-clauses').value === {}", js_str(body)), LONG).await;
    rep.wait_text("#contract-fulfilment", "未履行").await;
    let c = rep.eval("location.hash.split('/').pop()").await.as_str().expect("the contract's id").to_string();
    rep.click("#c-submit").await;
    rep.wait_for("document.querySelector('#contract-status').dataset.status === 'submitted'", LONG).await;
    wait_synced(&rep).await;

    // The rep edits the second clause in the textarea; meanwhile legal adds a clause.
    let mine = "第一条 供货范围：以订单所列产品为准。\n第二条 付款：货到15日内付款。";
    rep.fill("#contract-clauses", mine).await;
    lv.sync();
    lv.ok(&["set", &c, &format!("clauses={body}\n第三条 争议解决：提交遵义仲裁委员会。")]);
    lv.sync();
    rep.wait_for(
        "JSON.parse(jiuloop.client.contractDetail(location.hash.split('/').pop(), 'zh')).clauses.includes('第三条')",
        LONG,
    )
    .await;
    // The live update kept what the rep typed; saving merges both.
    rep.wait_for(&format!("document.querySelector('#contract-clauses').value === {}", js_str(mine)), LONG).await;
    rep.click("#c-clauses").await;
    let both =
        "第一条 供货范围：以订单所列产品为准。\n第二条 付款：货到15日内付款。\n第三条 争议解决：提交遵义仲裁委员会。";
    rep.wait_for(&format!("document.querySelector('#contract-clauses').value === {}", js_str(both)), LONG).await;
    wait_synced(&rep).await;
    lv.sync();
    assert_eq!(lv.json(&["contract", "show", &c])["clauses"], both, "legal holds both edits");

    // Legal asks for a change; the rep revises; the diff shows what changed.
    lv.ok(&["contract", "review", &c]);
    lv.ok(&["contract", "changes", &c, "--note", "付款期限请写明节假日顺延"]);
    lv.sync();
    rep.wait_for("document.querySelector('#contract-status').dataset.status === 'changes-requested'", LONG).await;
    let revised = both.replace("货到15日内付款。", "货到15日内付款，节假日顺延。");
    rep.fill("#contract-clauses", &revised).await;
    // And inserts legal's dispute clause at the end, from the template list.
    rep.eval("(() => { const ta = document.querySelector('#contract-clauses'); ta.selectionStart = ta.selectionEnd = ta.value.length; return true; })()")
        .await;
    rep.fill("#clause-template", &template2).await;
    let revised = format!("{revised}\n{disputes}");
    rep.wait_for(&format!("document.querySelector('#contract-clauses').value === {}", js_str(&revised)), LONG).await;
    rep.click("#c-clauses").await;
    rep.wait_for(
        &format!(
            "JSON.parse(jiuloop.client.contractDetail(location.hash.split('/').pop(), 'zh')).clauses === {}",
            js_str(&revised)
        ),
        LONG,
    )
    .await;
    rep.wait_for(&format!("document.querySelector('#contract-clauses').value === {}", js_str(&revised)), LONG).await;
    rep.click("#c-submit").await;
    rep.wait_for("document.querySelector('#contract-status').dataset.status === 'revised'", LONG).await;
    rep.wait_text("#contract-diff del", "- 第二条 付款：货到30日内付款。").await;
    rep.wait_text("#contract-diff ins", "+ 第二条 付款：货到15日内付款，节假日顺延。").await;
    shot(&rep, "66-contract-diff").await;
    wait_synced(&rep).await;

    // Legal reviews in the browser: the contract waits in the review queue; a comment on a
    // clause; approving is refused while it is open (in Chinese); resolved, legal approves.
    let legal_browser = Browser::launch().await;
    let legal = legal_browser.page("lv-laptop", &server.url()).await;
    login(&legal, "lv").await;
    legal.eval("location.hash = '#/contracts'").await;
    legal.wait_for(&format!("!!document.querySelector('#review-queue [data-id={}]')", js_str(&c)), LONG).await;
    legal.eval(&format!("location.hash = '#/contract/{c}'")).await;
    legal.wait_for("document.querySelector('#contract-status')?.dataset.status === 'revised'", LONG).await;
    legal.fill("#comment-clause", "第四条").await;
    legal.fill("#comment-text", "仲裁委员会请写全称").await;
    legal.click("#c-comment").await;
    legal.wait_for("document.querySelectorAll('#contract-comments li[data-resolved=false]').length === 1", LONG).await;
    legal.click("#c-approve").await;
    legal.wait_text("#contract-error", "还有 1 条条款意见未解决").await;
    assert_eq!(
        legal.eval("document.querySelector('#contract-status').dataset.status").await,
        "revised",
        "nothing was approved"
    );
    legal.fill("#comment-text", "已改为遵义仲裁委员会").await;
    legal.click("#c-resolve-1").await;
    legal.wait_for("document.querySelector('#contract-comments li[data-resolved=true]') !== null", LONG).await;
    legal.wait_text("#contract-comments", "已改为遵义仲裁委员会").await;
    legal.click("#c-approve").await;
    legal.wait_for("document.querySelector('#contract-status').dataset.status === 'approved'", LONG).await;
    legal.wait_for("document.querySelector('#contract-error').textContent === ''", LONG).await;
    shot(&legal, "69-contract-approved-by-legal").await;
    wait_synced(&legal).await;

    // The rep signs; the lock shows and the clauses are read-only.
    rep.wait_for("!!document.querySelector('#c-sign')", LONG).await;
    rep.click("#c-sign").await;
    rep.wait_for("!!document.querySelector('#contract-locked')", LONG).await;
    rep.wait_for("document.querySelector('#contract-clauses').readOnly === true", LONG).await;
    rep.wait_text("#contract-fulfilment", "未履行").await;
    shot(&rep, "67-contract-signed").await;
    rep.click("#lang").await;
    rep.wait_text("#contract-fulfilment", "Unfulfilled").await;
    rep.wait_text("#contract-locked", "Signed and locked").await;

    // Its signed scan attached and archived, legal's inventory in the browser lists it,
    // flagged until checked; checked present, the flag goes and who checked it shows.
    li_cli.sync();
    let dir = TempDir::new("browser-contract");
    let scan = dir.path().join("signed.pdf");
    std::fs::write(&scan, b"%PDF-1.7 signed by both parties").unwrap();
    li_cli.ok(&["contract", "scan", &c, "--file", scan.to_str().unwrap(), "--signed"]);
    li_cli.sync();
    lv.sync();
    lv.ok(&["contract", "step", &c, "--kind", "archived"]);
    lv.sync();
    legal.eval("location.hash = '#/contracts'").await;
    legal.wait_for("!!document.querySelector('#inventory-form')", LONG).await;
    legal.fill("#inventory-period", "2026-Q4").await;
    legal.click("#inventory-start").await;
    let row = format!("#inventory-rows tr[data-contract={}]", js_str(&c));
    legal.wait_for(&format!("document.querySelector('{row}')?.dataset.flagged === 'true'"), LONG).await;
    legal.wait_text(&row, "已存档").await;
    legal.click(&format!("#inv-present-{c}")).await;
    legal.wait_for(&format!("document.querySelector('{row}')?.dataset.flagged === 'false'"), LONG).await;
    legal.wait_text(&row, "扫描件齐全 · lv").await;
    shot(&legal, "70-contract-inventory").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_budget_is_drafted_by_month_and_approved_by_the_executive_in_the_browser() {
    let web = web_app().to_str().expect("utf-8 path").to_string();
    let mut server = TestServer::with_args(&["--web", &web]);
    server.add_user("zhang", "manager", Some(GZ));
    server.add_user("zhao", "executive", None);
    server.start();
    let year = protocol::time::rfc3339(
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64,
    )[..4]
        .to_string();

    let browser = Browser::launch().await;
    let mgr = browser.page("zhang-laptop", &server.url()).await;
    login(&mgr, "zhang").await;
    mgr.eval("location.hash = '#/expenses'").await;
    mgr.wait_for("!!document.querySelector('#budget-form')", LONG).await;
    mgr.fill("#budget-year", &year).await;
    mgr.fill("#budget-title", "贵州年度销售费用").await;
    mgr.click("#budget-new").await;
    mgr.wait_text("#budget-list", "贵州年度销售费用").await;
    let id = mgr.eval("document.querySelector('#budget-list .budget').dataset.id").await.as_str().unwrap().to_string();
    let cell = |item: &str, m: u32| format!("#bl-{}-{item}-{m}", &id[..8]);
    mgr.fill(&cell("travel", 3), "1000").await;
    mgr.fill(&cell("travel", 4), "800").await;
    mgr.fill(&cell("entertainment", 3), "2500").await;
    mgr.click(&format!("#b-save-{id}")).await;
    mgr.wait_for(&format!("document.querySelector('{}').dataset.was === '800.00'", cell("travel", 4)), LONG).await;
    mgr.click(&format!("#b-submit-{id}")).await;
    wait_synced(&mgr).await;
    shot(&mgr, "68-budget-draft").await;

    let exec_browser = Browser::launch().await;
    let exec = exec_browser.page("zhao-laptop", &server.url()).await;
    login(&exec, "zhao").await;
    exec.eval("location.hash = '#/expenses'").await;
    exec.wait_for(&format!("!!document.querySelector('#b-approve-{id}-1')"), LONG).await;
    exec.click(&format!("#b-approve-{id}-1")).await;
    wait_synced(&exec).await;

    // In force, read-only, on the manager's screen: 1800 yuan of travel left.
    mgr.wait_for(
        &format!("document.querySelector('#budget-list [data-id={}]').dataset.inForce === '1'", js_str(&id)),
        LONG,
    )
    .await;
    mgr.wait_text("#budget-list tr[data-item=travel]", "1800.00").await;
    mgr.wait_text("#budget-list table.in-force tr[data-item=entertainment]", "2500.00").await;
    let inputs = mgr.eval("document.querySelectorAll('#budget-list table.in-force input').length").await;
    assert_eq!(inputs.as_u64(), Some(0), "the version in force is read-only");
    mgr.click("#lang").await;
    mgr.wait_text("#budget-list", "Budget in force").await;
    shot(&mgr, "69-budget-in-force-en").await;
}
