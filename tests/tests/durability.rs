//! The server is killed with SIGKILL (no shutdown code runs) and restarted between syncs:
//! nothing it acknowledged is lost, and a brand-new device downloads everything.

use jiuloop_tests::{Device, LocalDoc, RawClient, TestServer};
use protocol::ServerMsg;
use protocol::wire::hashes_to_wire;

#[test]
fn three_devices_lose_nothing_acknowledged_across_kill9_restarts() {
    // Compacting after a few changes makes restarts load snapshots, not just change logs.
    let mut server = TestServer::started_with(&["--compact-after", "4"], &["li", "wang", "zhao", "qian"]);
    let a = Device::logged_in(&server, "li");
    let b = Device::logged_in(&server, "wang");
    let c = Device::logged_in(&server, "li"); // li's second laptop: reps edit their own visits

    // Round 1: A records a customer, a visit and an order, syncs; the server dies.
    let c1 = a.add_customer(
        "贵阳名酒行",
        &["--phone", "0851-86000001", "--channel", "distributor", "--class", "A", "--region", "贵阳"],
    );
    let c2 = a.add_customer("遵义老窖坊", &["--channel", "direct-store"]);
    let v1 = a.ok(&[
        "visit",
        "add",
        "--customer",
        &c1,
        "--kind",
        "development",
        "--notes",
        "初次拜访，品鉴飞天",
        "--method",
        "on-site",
    ]);
    let o1 = a.ok(&["order", "new", "--customer", &c1, "--source", "written"]);
    a.ok(&["order", "add-line", &o1, "--sku", "MT-53-500", "--qty", "6", "--unit-price", "149900", "--spec", "500ml"]);
    a.ok(&["order", "add-line", &o1, "--sku", "XJ-52-500", "--qty", "2", "--unit-price", "89950"]);
    assert_eq!(a.sync().pushed_docs, 4);
    server.kill9();

    // While it is down A keeps working; its sync fails and changes nothing locally.
    a.ok(&["customer", "set", &c2, "notes", "服务器宕机时写的备注"]);
    let offline = a.snapshot();
    a.fail(&["sync"]);
    assert_eq!(a.snapshot(), offline);
    assert_eq!(a.pending_docs(), 1);
    server.restart();
    assert_eq!(a.sync().pushed_docs, 1);
    assert_eq!(a.pending_docs(), 0);

    // Round 2: B downloads everything, then edits c1 over several syncs (past the
    // compaction threshold) and adds a customer; the server dies right after the last ack.
    assert_eq!(b.sync().received_docs, 4);
    assert_eq!(b.snapshot(), a.snapshot());
    for i in 1..=5 {
        b.ok(&["customer", "set", &c1, "phone", &format!("1380000000{i}")]);
        assert_eq!(b.sync().pushed_docs, 1);
    }
    let c3 = b.add_customer("六盘水酒业", &["--class", "C", "--region", "六盘水"]);
    b.sync();
    server.kill9();
    server.restart();

    // Round 3: C catches up, edits the visit and the order; killed again.
    assert_eq!(c.sync().received_docs, 5);
    assert_eq!(c.snapshot(), b.snapshot());
    c.ok(&["visit", "set", &v1, "outcome", "下单6箱"]);
    c.ok(&["visit", "set", &v1, "satisfaction", "5"]);
    c.ok(&["order", "add-line", &o1, "--sku", "MT-43-500", "--qty", "1", "--unit-price", "99900"]);
    assert_eq!(c.sync().pushed_docs, 2);
    server.kill9();
    server.restart();
    a.sync();
    b.sync();
    server.kill9();
    server.restart();

    let d = Device::logged_in(&server, "qian");
    assert_eq!(d.sync().received_docs, 5);
    let want = c.snapshot();
    assert_eq!(d.snapshot(), want, "a brand-new device differs");
    assert_eq!(a.snapshot(), want, "A differs");
    assert_eq!(b.snapshot(), want, "B differs");

    // And it is the right data, not just the same everywhere.
    let cust1 = d.customer(&c1);
    assert_eq!(cust1["phone"], "13800000005");
    assert_eq!(cust1["class"], "A");
    assert_eq!(d.customer(&c2)["notes"], "服务器宕机时写的备注");
    assert_eq!(d.customer(&c3)["region"], "六盘水");
    let visit = &d.visits(&c1)[0];
    assert_eq!((visit["outcome"].as_str(), visit["satisfaction"].as_i64()), (Some("下单6箱"), Some(5)));
    let order = d.order(&o1);
    assert_eq!(order["lines"].as_array().map(Vec::len), Some(3), "{order}");
    assert_eq!(order["total_fen"], 6 * 149_900 + 2 * 89_950 + 99_900);
    assert_eq!(server.counts().docs, 5);
}

/// An ack is only sent once the change is durable: kill the server the moment the ack
/// arrives, five times over, and every acknowledged change is still there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ack_means_durable_even_when_killed_right_after() {
    let mut server = TestServer::started_with(&["--compact-after", "2"], &["li", "wang"]);
    let mut created = Vec::new();
    let mut first = None;
    for round in 0..5 {
        let (mut raw, up) = RawClient::caught_up(&server, "li").await;
        let name = format!("kill9 客户 {round}");
        let mut fresh = LocalDoc::new_customer(&raw.actor, &name);
        let mut chunks = vec![fresh.chunk()];
        let mut expect = vec![(fresh.id, hashes_to_wire(&fresh.heads()))];
        if let Some(id) = first {
            // Also a new change on the first document, on top of what the server holds.
            let mut doc = LocalDoc::from_chunks(id, protocol::DocKind::Customer, &raw.actor, &up.chunks_of(id));
            doc.set_customer("phone", &format!("1390000000{round}"));
            chunks.push(doc.chunk());
            expect.push((id, hashes_to_wire(&doc.heads())));
        }
        match raw.push(chunks).await {
            ServerMsg::Ack { docs } => {
                let mut got: Vec<_> = docs.iter().map(|d| (d.id, d.heads.clone())).collect();
                got.sort();
                expect.sort();
                assert_eq!(got, expect, "round {round}: ack does not cover the push");
                assert!(docs.iter().all(|d| d.seq > 0), "round {round}: new changes acked with seq 0: {docs:?}");
            }
            other => panic!("round {round}: expected an ack, got {other:?}"),
        }
        server.kill9();
        server.restart();
        first.get_or_insert(fresh.id);
        created.push((fresh.id, name));
    }
    let d = Device::logged_in(&server, "wang");
    assert_eq!(d.sync().received_docs, 5);
    for (id, name) in &created {
        assert_eq!(d.customer(&id.to_string())["name"], name.as_str());
    }
    let first = first.unwrap().to_string();
    assert_eq!(d.customer(&first)["phone"], "13900000004");
    assert_eq!(server.counts().docs, 5);
}
