//! A full disk under the server: its data directory is a small tmpfs the test mounts and
//! fills. Pushes get a clear `storage_full` answer (the CLI says so in zh/en and keeps the
//! changes), nothing acknowledged before is lost, other devices still catch up, and once
//! space returns pushes succeed again without a restart. The browser says so too, in the
//! user's language, until its edits get through. (`jiuloop_tests::tmpfs`: where mounting
//! is not permitted, the tests say why and pass unless `JIULOOP_REQUIRE_TMPFS=1`.)

use jiuloop_tests::browser::{Browser, web_app};
use jiuloop_tests::tmpfs::{Tmpfs, fill};
use jiuloop_tests::{Device, PASSWORD, TempDir, TestServer};
use std::time::Duration;

fn import(device: &Device, n: usize, tag: &str) {
    let dir = TempDir::new("csv");
    let csv = dir.path().join("customers.csv");
    let mut text = String::from("name,phone,channel,class,region\n");
    for i in 0..n {
        text.push_str(&format!("{tag}客户{i:05},139{i:08},distributor,A,贵阳市观山湖区长岭北路{i}号{tag}\n"));
    }
    std::fs::write(&csv, text).unwrap();
    device.ok(&["customer", "import", csv.to_str().unwrap()]);
}

#[test]
fn a_full_disk_refuses_pushes_clearly_loses_nothing_keeps_serving_and_recovers_by_itself() {
    let mut server = TestServer::new();
    let Some(_tmpfs) = Tmpfs::mount_or_skip(server.data_dir(), "16m") else { return };
    server.add_user("li", "rep", Some(TestServer::TERRITORY));
    server.add_user("wang", "rep", Some(TestServer::TERRITORY));
    server.start();
    let a = Device::logged_in(&server, "li");
    let b = Device::logged_in(&server, "wang");
    import(&a, 50, "满前");
    assert_eq!(a.sync().pushed_docs, 50);
    assert_eq!(b.sync().received_docs, 50);
    let acknowledged = server.counts().docs;

    let filler = server.data_dir().join("filler");
    let filled = fill(&filler);
    eprintln!("filled the data directory with {filled} bytes");

    // A's next pushes cannot be stored: a clear answer, in Chinese by default and in
    // English on request, and the changes stay on the device.
    import(&a, 3000, "满后");
    let zh = a.fail(&["sync"]);
    assert!(zh.contains("服务器磁盘已满") && zh.contains("storage_full"), "{zh}");
    let en = a.fail(&["--lang", "en", "sync"]);
    assert!(en.contains("disk is full") && en.contains("storage_full"), "{en}");
    assert!(a.pending_docs() > 0, "the changes not stored are kept to send later");
    assert!(server.is_running(), "the server keeps running");

    // Nothing acknowledged is lost, and another device still catches up: what A managed
    // to store before the disk ran out, and the documents from before.
    let stored = server.counts().docs;
    assert!(stored >= acknowledged, "{stored} documents, {acknowledged} acknowledged before");
    assert!(stored < 3050, "some pushes were refused");
    b.sync();
    assert_eq!(b.customers().as_array().unwrap().len() as i64, stored, "B holds what the server stored");
    assert_eq!(server.health().status, 200);

    // Space returns: the same server stores the pushes without a restart.
    std::fs::remove_file(&filler).unwrap();
    let s = a.sync();
    assert!(s.pushed_docs > 0, "{s:?}");
    assert_eq!(a.pending_docs(), 0);
    assert_eq!(server.counts().docs, 3050);
    b.sync();
    assert_eq!(b.customers().as_array().unwrap().len(), 3050);
    assert_eq!(jiuloop_tests::sort_by_id(a.customers()), jiuloop_tests::sort_by_id(b.customers()));
    server.stop();
}

const LONG: Duration = Duration::from_secs(90);

/// The browser's status line, as the user reads it.
async fn status_text(page: &jiuloop_tests::browser::Page) -> String {
    page.eval("document.getElementById('status').textContent").await.as_str().unwrap_or_default().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_browser_says_the_servers_disk_is_full_keeps_its_edits_and_sends_them_once_there_is_room() {
    let web = web_app().to_str().expect("utf-8 path").to_string();
    let mut server = TestServer::with_args(&["--web", &web]);
    let Some(_tmpfs) = Tmpfs::mount_or_skip(server.data_dir(), "16m") else { return };
    server.add_user("li", "rep", Some(TestServer::TERRITORY));
    server.add_user("wang", "rep", Some(TestServer::TERRITORY));
    server.start();
    let browser = Browser::launch().await;
    let page = browser.page("full-disk", &format!("{}/", server.url())).await;
    page.wait_for("!!document.querySelector('#login-form')", LONG).await;
    page.fill("#login-user", "li").await;
    page.fill("#login-password", PASSWORD).await;
    page.click("#login-submit").await;
    let synced = "(() => { const s = JSON.parse(jiuloop.client.status()); return s.online && s.pending === 0 && !!s.last_sync; })()";
    page.wait_for(synced, LONG).await;
    assert!(page.try_eval("document.getElementById('push-refused')").await.unwrap().is_null());

    let filler = server.data_dir().join("filler");
    fill(&filler);
    // The rep keeps working; batches of customers until the server cannot store them.
    let mut created = 0;
    let refused = "!!JSON.parse(jiuloop.client.status()).push_refused";
    while created < 6000 {
        page.eval(&format!(
            "(async () => {{ for (let i = {created}; i < {created} + 300; i++) {{
                await jiuloop.client.createCustomer(JSON.stringify({{ name: `满盘客户${{i}}`, phone: `139${{String(i).padStart(8, '0')}}`,
                    channel: 'distributor', class: 'B', region: '贵阳', fields: {{ address: `贵阳市南明区花果园${{i}}号` }} }}), Date.now());
            }} return true; }})()"
        ))
        .await;
        created += 300;
        let t0 = std::time::Instant::now();
        while t0.elapsed() < Duration::from_secs(5) && page.eval(refused).await != true {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        if page.eval(refused).await == true {
            break;
        }
    }
    page.wait_for("!!document.getElementById('push-refused')", LONG).await;
    let zh = status_text(&page).await;
    assert!(zh.contains("服务器磁盘已满") && zh.contains("保存在本机"), "{zh}");
    let status = page.status().await;
    assert_eq!(status["push_refused"], "storage_full", "{status}");
    assert!(status["pending"].as_u64() > Some(0), "the edits wait on the device: {status}");
    page.screenshot(&jiuloop_tests::browser::screenshot_dir().join("90-server-disk-full.png")).await;
    page.click("#lang").await;
    page.wait_for("document.getElementById('status').textContent.includes('disk is full')", LONG).await;
    assert!(server.is_running(), "the server keeps running");

    // Space returns: the browser sends what it kept, by itself, and the message goes.
    std::fs::remove_file(&filler).unwrap();
    page.wait_for(synced, LONG).await;
    page.wait_for("!document.getElementById('push-refused')", LONG).await;
    let wang = Device::logged_in(&server, "wang");
    wang.sync();
    let names = wang.customers();
    let held = names
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["name"].as_str().is_some_and(|n| n.starts_with("满盘客户")))
        .count();
    assert_eq!(held, created, "every customer the rep created reached the server");
    server.stop();
}
