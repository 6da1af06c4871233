//! A kind declared only in the registry (竞品价格观察, `competitor-observation`) works in
//! the browser through the generic screens, in real headless Chromium against a real
//! server: a rep records one from the customer page with the server down, the record
//! survives a reload marked unsent and goes by itself when the server returns; the market
//! department's native device receives it with every field (the shelf price in fen); a
//! bad input is refused next to its fields, in Chinese, and nothing is saved; an edit
//! goes through the same form and checks.
//! Screenshots in `target/screenshots/` (`30-…`).

use jiuloop_tests::browser::{Browser, Page, js_str, screenshot_dir, web_app};
use jiuloop_tests::{Device, PASSWORD, TestServer};
use protocol::DocKind;
use serde_json::Value;
use std::time::Duration;

const LONG: Duration = Duration::from_secs(60);
const KIND: &str = "competitor-observation";

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

/// `client.records(KIND)` as the page's client answers it.
async fn observations(page: &Page) -> Value {
    let v = page.eval(&format!("jiuloop.client.records({}, '', 'zh')", js_str(KIND))).await;
    serde_json::from_str(v.as_str().expect("records() returns JSON text")).expect("records JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rep_records_a_competitor_price_offline_and_the_market_department_receives_it() {
    let web = web_app().to_str().expect("utf-8 path").to_string();
    let mut server = TestServer::with_args(&["--web", &web]);
    server.add_user("li", "rep", Some(TestServer::TERRITORY));
    server.add_user("ma", "market", None);
    server.start();

    let browser = Browser::launch().await;
    let page = browser.page("li-kinds", &server.url()).await;
    page.wait_for("typeof window.jiuloopReady === 'number'", LONG).await;
    page.wait_for("!!document.querySelector('#login-form')", LONG).await;
    page.fill("#login-user", "li").await;
    page.fill("#login-password", PASSWORD).await;
    page.click("#login-submit").await;
    page.wait_for("!!document.querySelector('#customer-results')", LONG).await;
    wait_synced(&page).await;

    // The kind has no screens of its own, yet it is in the rep's navigation.
    page.wait_text(&format!("#nav [data-nav='k:{KIND}']"), "竞品").await;

    // A customer and a visit, while online.
    go(&page, "#/customers/new", "#customer-form").await;
    page.fill("#cf-name", "花溪名酒行").await;
    page.fill("#cf-channel", "distributor").await;
    page.click("#customer-save").await;
    page.wait_for("location.hash.startsWith('#/customer/') && !!document.querySelector('#customer-name')", LONG).await;
    let customer = page.eval("location.hash").await.as_str().unwrap().trim_start_matches("#/customer/").to_string();
    go(&page, &format!("#/customer/{customer}/visit"), "#visit-form").await;
    page.fill("#vf-kind", "follow-up").await;
    page.fill("#vf-notes", "查看货架").await;
    page.click("#visit-save").await;
    page.wait_for("!!document.querySelector('#visit-list .visit-row')", LONG).await;
    let visit = page.eval("document.querySelector('#visit-list .visit-row').dataset.id").await;
    let visit = visit.as_str().expect("visit id").to_string();
    wait_synced(&page).await;
    page.wait_for("!!navigator.serviceWorker.controller", LONG).await;

    // The server goes away; the rep records what the shop's shelf shows.
    server.kill9();
    page.wait_for("document.querySelector('#status').dataset.state === 'offline'", LONG).await;
    page.wait_text(&format!("#new-{KIND}"), "记录竞品").await;
    page.click(&format!("#new-{KIND}")).await;
    page.wait_for("!!document.querySelector('#kind-form')", LONG).await;
    page.wait_text(".field[data-field=customer] .ref-fixed", "花溪名酒行").await;
    for (field, label) in [("brand", "品牌"), ("shelf_price", "货架价"), ("note", "备注"), ("visit", "拜访记录")]
    {
        page.wait_text(&format!(".field[data-field={field}] label"), label).await;
    }
    // The right input per declared type.
    let types = page
        .eval(
            "['brand','shelf_price','note','visit'].map((f) => { const el = document.querySelector('#kf-' + f);
               return el.tagName.toLowerCase() + ':' + (el.getAttribute('inputmode') || el.type || ''); }).join(' ')",
        )
        .await;
    assert_eq!(types, "input:text input:decimal textarea:textarea select:select-one");

    // A bad input: no brand, a price that is not an amount. Refused next to each field,
    // in Chinese; nothing saved.
    page.fill("#kf-brand", "").await;
    page.fill("#kf-product", "普五").await;
    page.fill("#kf-shelf_price", "lots").await;
    page.click("#kind-save").await;
    page.wait_text("#kf-err-brand", "不能为空").await;
    page.wait_text("#kf-err-shelf_price", "“lots”不是金额").await;
    assert_eq!(page.text("#kf-err-product").await, "", "a good field shows no error");
    page.wait_text("#kind-error", "未保存").await;
    assert_eq!(
        page.eval("document.querySelector('.field[data-field=brand]').classList.contains('invalid')").await,
        true
    );
    shot(&page, "30-competitor-form-refused").await;
    assert!(page.eval("location.hash").await.as_str().unwrap().contains("/new"), "still on the form");
    assert_eq!(observations(&page).await["count"], 0, "nothing was saved");
    assert_eq!(page.status().await["pending"], 0);

    // Corrected, with the visit it was seen on.
    page.fill("#kf-brand", "五粮液").await;
    page.fill("#kf-spec", "500ml").await;
    page.fill("#kf-shelf_price", "1,099").await;
    page.fill("#kf-promotion", "中秋买二送一").await;
    page.fill("#kf-note", "店主说下月涨价").await;
    page.wait_for(
        &format!("[...document.querySelectorAll('#kf-visit option')].some((o) => o.value === {})", js_str(&visit)),
        LONG,
    )
    .await;
    page.fill("#kf-visit", &visit).await;
    shot(&page, "31-competitor-form").await;
    page.click("#kind-save").await;

    // Back on the customer page: listed, waiting to be sent.
    let row = format!("section.child-records[data-kind='{KIND}'] .record-row");
    page.wait_for(
        &format!("location.hash === '#/customer/{customer}' && !!document.querySelector({})", js_str(&row)),
        LONG,
    )
    .await;
    page.wait_text(&row, "普五").await;
    page.wait_text(&row, "¥1099.00").await;
    page.wait_text(&format!("{row} .tag.unsent"), "未发送").await;
    let status = page.status().await;
    assert_eq!((status["online"].as_bool(), status["pending"].as_u64()), (Some(false), Some(1)), "{status}");
    let id = observations(&page).await["items"][0]["id"].as_str().expect("an observation").to_string();
    shot(&page, "32-customer-with-competitor-price").await;

    // A reload, still offline: it is there, still marked unsent.
    page.reload().await;
    page.wait_for("typeof window.jiuloopReady === 'number'", LONG).await;
    page.wait_for("document.querySelector('#status').dataset.state === 'offline'", LONG).await;
    go(&page, &format!("#/customer/{customer}"), "#customer-name").await;
    page.wait_for(&format!("!!document.querySelector({})", js_str(&format!("{row}[data-unsent=true]"))), LONG).await;
    go(&page, &format!("#/k/{KIND}"), "#kind-results").await;
    page.wait_text(&format!("#record-list [data-id='{id}']"), "五粮液").await;
    page.wait_text(&format!("#record-list [data-id='{id}'] .tag.unsent"), "未发送").await;
    assert_eq!(
        page.eval(&format!("document.querySelector(\"#nav [data-nav='k:{KIND}']\").classList.contains('active')"))
            .await,
        true
    );
    shot(&page, "33-competitor-list-offline").await;
    page.click(&format!("#record-list [data-id='{id}'] a")).await;
    page.wait_for("!!document.querySelector('#record-title')", LONG).await;
    page.wait_text("#record-unsent", "未发送").await;
    page.wait_text("[data-field=shelf_price]", "¥1099.00").await;
    page.wait_text("[data-field=customer]", "花溪名酒行").await;
    page.wait_text("[data-field=visit]", "跟进").await;
    page.wait_text("[data-field=note]", "店主说下月涨价").await;
    shot(&page, "34-competitor-detail-unsent").await;

    // The server returns: it goes by itself, and the mark goes away on the open page.
    server.start();
    wait_synced(&page).await;
    page.wait_for("!document.querySelector('#record-unsent')", LONG).await;

    // Edited: the form offers what may still change (not the customer), checks it alike.
    page.click("#record-edit").await;
    page.wait_for("!!document.querySelector('#kind-form[data-mode=edit]')", LONG).await;
    assert_eq!(page.eval("!!document.querySelector('.field[data-field=customer]')").await, false);
    assert_eq!(page.eval("document.querySelector('#kf-shelf_price').value").await, "1099.00");
    page.wait_for(&format!("document.querySelector('#kf-visit').value === {}", js_str(&visit)), LONG).await;
    page.fill("#kf-shelf_price", "1.234").await;
    page.fill("#kf-promotion", "中秋买二送一，送礼袋").await;
    page.click("#kind-save").await;
    page.wait_text("#kf-err-shelf_price", "“1.234”不是金额").await;
    assert_eq!(observations(&page).await["items"][0]["values"]["shelf_price"], "¥1099.00", "nothing was saved");
    page.fill("#kf-shelf_price", "1,199").await;
    page.click("#kind-save").await;
    page.wait_for(&format!("location.hash === '#/r/{id}'"), LONG).await;
    page.wait_text("[data-field=shelf_price]", "¥1199.00").await;
    page.wait_text("[data-field=promotion]", "送礼袋").await;
    wait_synced(&page).await;

    // The market department's native device receives it, with the right fields.
    let market = Device::logged_in(&server, "ma");
    market.sync();
    let dir = market.profile().to_path_buf();
    let seen = tokio::task::spawn_blocking(move || {
        let mut p = jiuloop_cli::Profile::open(&dir).expect("market profile");
        p.load_all_docs().expect("load the market profile");
        p.replica.records(DocKind::CompetitorObservation)
    })
    .await
    .expect("read the market profile");
    assert_eq!(seen.len(), 1, "exactly the corrected observation: {seen:?}");
    let o = serde_json::to_value(&seen[0]).expect("a record serializes");
    assert_eq!(o["id"], id.as_str());
    assert_eq!(o["kind"], KIND);
    assert_eq!(o["customer"], customer.as_str());
    assert_eq!(o["visit"], visit.as_str());
    assert_eq!(
        (o["brand"].as_str(), o["product"].as_str(), o["spec"].as_str()),
        (Some("五粮液"), Some("普五"), Some("500ml"))
    );
    assert_eq!(o["shelf_price"], 119_900, "money is stored in fen: {o}");
    assert_eq!((o["promotion"].as_str(), o["note"].as_str()), (Some("中秋买二送一，送礼袋"), Some("店主说下月涨价")));
    assert_eq!(o["observed_by"], "li");
    assert!(o["observed_at"].is_string(), "{o}");

    // In English the same form explains itself in English.
    page.click("#lang").await;
    page.wait_text(&format!("#nav [data-nav='k:{KIND}']"), "Competitors").await;
    go(&page, &format!("#/customer/{customer}"), "#customer-name").await;
    page.wait_text(&format!("#new-{KIND}"), "Record competitor price").await;
    page.click(&format!("#new-{KIND}")).await;
    page.wait_for("!!document.querySelector('#kind-form')", LONG).await;
    page.fill("#kf-shelf_price", "-5").await;
    page.click("#kind-save").await;
    page.wait_text("#kf-err-brand", "may not be empty").await;
    page.wait_text("#kf-err-shelf_price", "not an amount in yuan").await;
    page.wait_text("#kind-error", "Nothing was saved").await;
    shot(&page, "35-competitor-form-refused-en").await;
    assert_eq!(observations(&page).await["count"], 1);
    go(&page, &format!("#/r/{id}"), "#record-title").await;
    page.wait_text("[data-field=shelf_price]", "¥1199.00").await;
    page.set_viewport(1280, 900, false).await;
    shot(&page, "36-competitor-detail-desktop-en").await;
}
