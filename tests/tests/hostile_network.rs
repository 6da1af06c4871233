//! Hostile networks over real sockets: the real CLI and the real server with the fault
//! proxy ([`jiuloop_tests::FaultProxy`]) between them — a 20 kbit/s link with latency,
//! connections cut mid-frame, a link that flaps every few seconds, duplicated connections,
//! a long offline period. Everything converges, nothing is duplicated, and a catch-up cut
//! at 90 % resumes from where it stopped (`CatchUpMark`) instead of starting over.

use jiuloop_tests::process::run_with_timeout;
use jiuloop_tests::{Device, FaultProxy, Faults, Link, TempDir, TestServer, sort_by_id};
use std::collections::BTreeMap;
use std::time::Duration;

/// `n` customers in one CSV import on `device` (one process, so hundreds are quick).
fn import_customers(device: &Device, n: usize, tag: &str) {
    let dir = TempDir::new("csv");
    let csv = dir.path().join("customers.csv");
    let channels = ["distributor", "direct-store", "e-commerce", "group-purchase", "restaurant"];
    let mut text = String::from("name,phone,channel,class,region\n");
    for i in 0..n {
        text.push_str(&format!(
            "{tag}客户{i:04},139{i:08},{},{},遵义市红花岗区{}号\n",
            channels[i % 5],
            ["A", "B", "C"][i % 3],
            i % 9
        ));
    }
    std::fs::write(&csv, text).unwrap();
    let printed = device.ok(&["customer", "import", csv.to_str().unwrap()]);
    assert!(printed.contains(&n.to_string()), "import printed {printed:?}");
}

/// One `sync --json` with a deadline long enough for a slow link: `Ok(stats)` or the
/// one-line error.
fn sync_once(device: &Device) -> Result<serde_json::Value, String> {
    let cmd = device.command(&["sync", "--json"]);
    let out = run_with_timeout(cmd, Duration::from_secs(600), &format!("[{}] sync", device.name));
    if out.status.success() {
        Ok(serde_json::from_slice(&out.stdout).expect("sync --json prints JSON"))
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}

/// Sync until a sync succeeds; returns how many attempts failed (each a resume).
fn sync_until_done(device: &Device, max_attempts: usize) -> usize {
    for attempt in 0..max_attempts {
        match sync_once(device) {
            Ok(_) => return attempt,
            Err(e) => eprintln!("[{}] sync attempt {attempt} cut: {e}", device.name),
        }
    }
    panic!("[{}] no sync succeeded in {max_attempts} attempts", device.name);
}

/// Every document's heads as the server stores them.
fn server_heads(server: &TestServer) -> BTreeMap<Vec<u8>, Vec<Vec<u8>>> {
    let db = server.db();
    let mut stmt = db.prepare("SELECT id, heads FROM docs").unwrap();
    let rows = stmt.query_map([], |r| Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, Vec<u8>>(1)?))).unwrap();
    rows.map(|r| {
        let (id, heads) = r.unwrap();
        let mut hs: Vec<Vec<u8>> = heads.chunks(32).map(<[u8]>::to_vec).collect();
        hs.sort();
        (id, hs)
    })
    .collect()
}

/// Every document's heads as the device holds it (loaded from its SQLite file).
fn device_heads(device: &Device) -> BTreeMap<Vec<u8>, Vec<Vec<u8>>> {
    let db = device.local_db();
    let mut ids = db.prepare("SELECT DISTINCT doc_id FROM chunks").unwrap();
    let ids: Vec<Vec<u8>> = ids.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
    ids.into_iter()
        .map(|id| {
            let mut doc = automerge::AutoCommit::new();
            let mut stmt = db.prepare("SELECT bytes FROM chunks WHERE doc_id = ?1 ORDER BY seq").unwrap();
            for bytes in stmt.query_map([&id], |r| r.get::<_, Vec<u8>>(0)).unwrap() {
                doc.load_incremental(&bytes.unwrap()).unwrap();
            }
            let mut hs: Vec<Vec<u8>> = doc.get_heads().iter().map(|h| h.0.to_vec()).collect();
            hs.sort();
            (id, hs)
        })
        .collect()
}

/// Same documents, same heads on the server and on every device, the same values on
/// every device; `docs` documents on the server exactly.
fn assert_converged(server: &TestServer, devices: &[&Device], docs: i64) {
    assert_eq!(server.counts().docs, docs, "documents on the server");
    let on_server = server_heads(server);
    for d in devices {
        assert_eq!(d.pending_docs(), 0, "[{}] has unsent changes", d.name);
        let held = device_heads(d);
        assert_eq!(held.len(), on_server.len(), "[{}] holds {} documents", d.name, held.len());
        assert!(held == on_server, "[{}] heads differ from the server's", d.name);
    }
    // The same heads are the same values; what the CLI shows agrees too.
    let first = sort_by_id(devices[0].customers());
    for d in &devices[1..] {
        assert_eq!(sort_by_id(d.customers()), first, "[{}] values differ from [{}]", d.name, devices[0].name);
    }
}

#[test]
fn a_catch_up_cut_at_90_percent_resumes_and_sends_only_the_rest() {
    let server = TestServer::started(&["li", "wang", "zhao"]);
    let a = Device::logged_in(&server, "li");
    import_customers(&a, 600, "断点");
    a.sync();
    let proxy = FaultProxy::start(server.addr(), Faults::default(), 90);

    // A fresh device's whole catch-up, measured at the proxy.
    let c = Device::new("zhao");
    c.ok(&["login", "--server", &proxy.url(), "--user", "zhao"]);
    sync_once(&c).expect("a clean sync");
    let full = proxy.connections().last().unwrap().down_bytes;

    // The same catch-up to another fresh device, cut at 90 % of those bytes (mid-frame).
    let b = Device::new("wang");
    b.ok(&["login", "--server", &proxy.url(), "--user", "wang"]);
    proxy.update(|f| f.cut_next_down_at = Some(full * 9 / 10));
    let err = sync_once(&b).expect_err("the cut sync fails");
    assert!(proxy.connections().last().unwrap().cut, "the proxy cut it: {err}");
    let cursor = b.status()["cursor"].as_u64().unwrap();
    assert!(cursor > 0, "the marks before the cut were stored");

    // The reconnect sends only what was missing.
    let resumed = sync_once(&b).expect("the resumed sync");
    let rest = proxy.connections().last().unwrap().down_bytes;
    eprintln!(
        "full catch-up {full} bytes; cut at {}; resumed from cursor {cursor}: {rest} bytes ({:.1} %), {resumed}",
        full * 9 / 10,
        rest as f64 * 100.0 / full as f64
    );
    assert!(rest < full / 4, "the reconnect transferred {rest} of {full} bytes");
    assert_converged(&server, &[&a, &b, &c], 600);
}

#[test]
fn cli_sync_of_200_documents_through_a_20_kbit_link_with_random_cuts_converges() {
    let server = TestServer::started(&["li", "wang"]);
    let slow = Link::slow(20_000, Duration::from_millis(300));
    let proxy = FaultProxy::start(server.addr(), Faults::default(), 17);
    let a = Device::new("li");
    a.ok(&["login", "--server", &proxy.url(), "--user", "li"]);
    let b = Device::new("wang");
    b.ok(&["login", "--server", &proxy.url(), "--user", "wang"]);
    import_customers(&a, 200, "山区");
    proxy.set(Faults { up: slow, down: slow, cut_after_bytes: Some((6_000, 40_000)), ..Faults::default() });

    let up_cuts = sync_until_done(&a, 60);
    let down_cuts = sync_until_done(&b, 60);
    eprintln!(
        "200 documents up then down at 20 kbit/s: {up_cuts} + {down_cuts} resumes, {} connections, {} cut, {} bytes up, {} down",
        proxy.accepted(),
        proxy.cuts(),
        proxy.up_bytes(),
        proxy.down_bytes()
    );
    assert!(proxy.cuts() > 0, "the link was cut");
    proxy.set(Faults::default());
    sync_until_done(&a, 2);
    assert_converged(&server, &[&a, &b], 200);
}

#[test]
fn a_flapping_link_with_duplicated_connections_while_two_devices_edit_the_same_documents_converges() {
    let server = TestServer::started(&["li", "wang"]);
    let a = Device::logged_in(&server, "li");
    let ids: Vec<String> = (0..20).map(|i| a.add_customer(&format!("摇摆客户{i:02}"), &[])).collect();
    a.sync();
    let proxy = FaultProxy::start(server.addr(), Faults::default(), 5);
    let b = Device::new("wang");
    b.ok(&["login", "--server", &proxy.url(), "--user", "wang"]);
    sync_until_done(&b, 3);
    proxy.set(Faults {
        up: Link { latency: Duration::from_millis(150), bits_per_sec: Some(200_000) },
        down: Link { latency: Duration::from_millis(150), bits_per_sec: Some(200_000) },
        cut_after_time: Some((Duration::from_millis(700), Duration::from_secs(3))),
        stall: Some((Duration::from_millis(400), Duration::from_millis(300))),
        duplicate: true,
        ..Faults::default()
    });
    for round in 0..4 {
        for (i, id) in ids.iter().enumerate() {
            // The same documents, the same and different fields, on both devices.
            a.ok(&["customer", "set", id, "notes", &format!("A{round}-{i}")]);
            b.ok(&["customer", "set", id, "notes", &format!("B{round}-{i}")]);
            if i % 2 == 0 {
                b.ok(&["customer", "set", id, "address", &format!("仁怀市{round}-{i}")]);
            }
        }
        a.sync();
        // Flapping: a sync may or may not get through before its connection is cut.
        for _ in 0..2 {
            let _ = sync_once(&b);
        }
    }
    eprintln!("flapping: {} connections, {} cut, {} duplicated", proxy.accepted(), proxy.cuts(), proxy.duplicates());
    assert!(proxy.cuts() > 0 && proxy.duplicates() > 0, "the link flapped and connections were duplicated");
    proxy.set(Faults::default());
    sync_until_done(&b, 2);
    a.sync();
    assert_converged(&server, &[&a, &b], 20);
    for (i, id) in ids.iter().enumerate() {
        if i % 2 == 0 {
            assert_eq!(a.customer(id)["address"], format!("仁怀市3-{i}").as_str());
        }
    }
}

#[test]
fn weeks_offline_then_a_sync_through_the_slow_link() {
    let server = TestServer::started(&["li", "wang"]);
    let a = Device::logged_in(&server, "li");
    let proxy = FaultProxy::start(server.addr(), Faults::default(), 23);
    let b = Device::new("wang");
    b.ok(&["login", "--server", &proxy.url(), "--user", "wang"]);
    // Weeks in the mountains: new customers, then many edits to each, a visit per
    // customer, all offline.
    import_customers(&b, 120, "离线");
    let ids: Vec<String> =
        b.customers().as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_string()).collect();
    for week in 0..3 {
        for (i, id) in ids.iter().enumerate().take(40) {
            b.ok(&["customer", "set", id, "notes", &format!("第{week}周 拜访记录 {i}")]);
        }
    }
    for id in ids.iter().take(20) {
        b.ok(&["visit", "add", "--customer", id, "--kind", "follow-up", "--notes", "山区回访"]);
    }
    // Then one sync through the slow link, cut at random.
    let slow = Link::slow(20_000, Duration::from_millis(500));
    proxy.set(Faults { up: slow, down: slow, cut_after_bytes: Some((8_000, 50_000)), ..Faults::default() });
    let resumes = sync_until_done(&b, 60);
    eprintln!(
        "weeks offline through 20 kbit/s: {resumes} resumes, {} bytes up, {} down, {} connections",
        proxy.up_bytes(),
        proxy.down_bytes(),
        proxy.accepted()
    );
    a.sync();
    assert_converged(&server, &[&a, &b], 140);
    for (i, id) in ids.iter().enumerate().take(40) {
        assert_eq!(a.customer(id)["notes"], format!("第2周 拜访记录 {i}").as_str());
    }
}
