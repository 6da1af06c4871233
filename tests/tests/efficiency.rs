//! Catching up and reconnecting exchange only what changed.

use jiuloop_tests::{Device, TempDir, TestServer};

/// Bytes a reconnect may spend beyond 1.5× the changes' own size (hello, frame headers,
/// document ids and heads of three documents, the cursor).
const ALLOWANCE: u64 = 512;

#[test]
fn a_device_offline_for_200_edits_across_50_documents_catches_up_in_one_sync() {
    let server = TestServer::started(&["li", "wang"]);
    let a = Device::logged_in(&server, "li");
    let b = Device::logged_in(&server, "wang");
    let customers: Vec<String> = (0..30).map(|i| a.add_customer(&format!("客户{i:02}"), &[])).collect();
    let visits: Vec<String> = customers[..10]
        .iter()
        .map(|c| a.ok(&["visit", "add", "--customer", c, "--kind", "follow-up", "--notes", "首次跟进"]))
        .collect();
    let orders: Vec<String> = customers[..10].iter().map(|c| a.ok(&["order", "new", "--customer", c])).collect();
    assert_eq!(a.sync().pushed_docs, 50);
    assert_eq!(b.sync().received_docs, 50);

    // B goes offline and makes 4 edits to each of the 50 documents.
    let customer_fields = ["phone", "address", "region", "notes"];
    let visit_fields = ["outcome", "feedback", "satisfaction", "next_action"];
    let value = |field: &str, i: usize| match field {
        "phone" => format!("1380000{i:04}"),
        "satisfaction" => (i % 5 + 1).to_string(),
        _ => format!("{field}-{i}"),
    };
    let mut edits = 0;
    for round in 0..4 {
        for (i, c) in customers.iter().enumerate() {
            let f = customer_fields[round];
            b.ok(&["customer", "set", c, f, &value(f, i)]);
            edits += 1;
        }
        for (i, v) in visits.iter().enumerate() {
            let f = visit_fields[round];
            b.ok(&["visit", "set", v, f, &value(f, i)]);
            edits += 1;
        }
        for (i, o) in orders.iter().enumerate() {
            match round {
                0 | 3 => b.ok(&[
                    "order",
                    "add-line",
                    o,
                    "--sku",
                    &format!("SKU-{round}"),
                    "--qty",
                    &(i + 1).to_string(),
                    "--unit-price",
                    "1000",
                ]),
                1 => b.ok(&["order", "set", o, "delivery_place", &format!("仓库{i}")]),
                _ => b.ok(&["order", "set", o, "payment_method", "bank-transfer"]),
            };
            edits += 1;
        }
    }
    assert_eq!(edits, 200);
    assert_eq!(b.pending_docs(), 50);
    // Meanwhile A changed a field B did not touch.
    a.ok(&["customer", "set", &customers[29], "purchasing_power", "强"]);
    a.sync();

    // One sync: B pushes its 200 edits and receives A's.
    let s = b.sync();
    assert_eq!((s.pushed_docs, s.received_docs), (50, 1), "{s:?}");
    assert_eq!(b.pending_docs(), 0);
    assert_eq!(b.customer(&customers[29])["purchasing_power"], "强");

    // One sync: A has all 200.
    let s = a.sync();
    assert_eq!((s.pushed_docs, s.received_docs), (0, 50), "{s:?}");
    let snap = a.snapshot();
    assert_eq!(snap, b.snapshot());
    for (i, c) in customers.iter().enumerate() {
        let got = a.customer(c);
        for f in customer_fields {
            assert_eq!(got[f].as_str(), Some(value(f, i).as_str()), "customer {i} {f}: {got}");
        }
    }
    for (i, c) in customers[..10].iter().enumerate() {
        let v = &snap["visits"][c][0];
        assert_eq!(v["outcome"], value("outcome", i).as_str());
        assert_eq!(v["feedback"], value("feedback", i).as_str());
        assert_eq!(v["satisfaction"], (i % 5 + 1) as i64);
        assert_eq!(v["next_action"], value("next_action", i).as_str());
    }
    for (i, o) in orders.iter().enumerate() {
        let got = a.order(o);
        assert_eq!(got["lines"].as_array().map(Vec::len), Some(2), "{got}");
        assert_eq!(got["total_fen"], 2 * (i as i64 + 1) * 1000);
        assert_eq!(got["delivery_place"], format!("仓库{i}").as_str());
        assert_eq!(got["payment_method"], "bank-transfer");
    }
}

#[test]
fn reconnecting_with_1000_documents_exchanges_only_the_3_that_changed() {
    let server = TestServer::started(&["li", "wang"]);
    let a = Device::logged_in(&server, "li");
    let b = Device::logged_in(&server, "wang");
    let dir = TempDir::new("csv");
    let csv = dir.path().join("customers.csv");
    let channels = ["distributor", "direct-store", "e-commerce", "group-purchase", "restaurant"];
    let mut text = String::from("name,phone,channel,class,region\n");
    for i in 0..1000 {
        text.push_str(&format!(
            "批量客户{i:04},139{i:08},{},{},区域{}\n",
            channels[i % 5],
            ["A", "B", "C"][i % 3],
            i % 9
        ));
    }
    std::fs::write(&csv, text).unwrap();
    let printed = a.ok(&["customer", "import", csv.to_str().unwrap()]);
    assert!(printed.contains("1000"), "import printed {printed:?}");
    assert_eq!(a.sync().pushed_docs, 1000);
    assert_eq!(b.sync().received_docs, 1000);

    // Elsewhere, three documents change.
    let all = b.customers();
    let ids: Vec<String> = [7, 500, 993].iter().map(|&i| all[i]["id"].as_str().unwrap().to_string()).collect();
    for (n, id) in ids.iter().enumerate() {
        b.ok(&["customer", "set", id, "phone", &format!("1700000000{n}")]);
    }
    let pushed = b.sync();
    assert_eq!(pushed.pushed_docs, 3, "{pushed:?}");

    // A (holding 1,000 documents) reconnects: hello, then at most two replies carrying
    // only those three documents.
    let s = a.sync();
    eprintln!("reconnect with 3 of 1000 changed: {s:?}");
    assert_eq!((s.received_docs, s.pushed_docs), (3, 0), "{s:?}");
    assert_eq!(s.frames_sent, 1, "only the hello goes up: {s:?}");
    assert!((1..=2).contains(&s.frames_received), "{s:?}");
    assert!(s.change_bytes_received > 0, "{s:?}");
    // Only the new changes travel, not the documents' whole history.
    assert!(
        s.change_bytes_received <= pushed.change_bytes_sent * 3 / 2,
        "received {} change bytes, B pushed {}: {s:?}",
        s.change_bytes_received,
        pushed.change_bytes_sent
    );
    assert!(
        s.bytes_received <= s.change_bytes_received * 3 / 2 + ALLOWANCE,
        "received {} bytes for {} bytes of changes: {s:?}",
        s.bytes_received,
        s.change_bytes_received
    );
    assert!(s.bytes_sent < 1024, "the hello must not grow with the number of documents: {s:?}");
    for (n, id) in ids.iter().enumerate() {
        assert_eq!(a.customer(id)["phone"], format!("1700000000{n}").as_str());
    }

    // Nothing changed anywhere: exactly one frame each way.
    for device in [&a, &b] {
        let s = device.sync();
        assert_eq!((s.frames_sent, s.frames_received), (1, 1), "[{}] {s:?}", device.name);
        assert_eq!((s.pushed_docs, s.received_docs), (0, 0), "[{}] {s:?}", device.name);
        assert!(s.bytes_sent < 1024 && s.bytes_received < 256, "[{}] {s:?}", device.name);
    }
}
