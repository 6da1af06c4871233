//! The CLI answers bad commands with one line on stderr and a non-zero exit, and changes
//! nothing; it works offline except for sync, which fails clearly and keeps local data.

use jiuloop_tests::{Device, TempDir, TestServer};

/// `(case, args, what the one-line error must mention: the unknown id, field or value the
/// user typed; empty where any wording will do)`. Placeholders: `{C}` a customer, `{V}` a
/// visit, `{O}` an order, `{X}` an id nobody has.
#[rustfmt::skip]
const CASES: &[(&str, &[&str], &str)] = &[
    ("show unknown customer",      &["customer", "show", "{X}"], "{X}"),
    ("show malformed id",          &["customer", "show", "not-a-uuid"], "not-a-uuid"),
    ("set on unknown customer",    &["customer", "set", "{X}", "name", "新名字"], "{X}"),
    ("unknown customer field",     &["customer", "set", "{C}", "colour", "red"], "colour"),
    ("bad channel",                &["customer", "set", "{C}", "channel", "wholesale"], "wholesale"),
    ("bad class",                  &["customer", "set", "{C}", "class", "D"], "D"),
    ("bad follow-up date",         &["customer", "set", "{C}", "next_follow_up", "2026-13-01"], "2026-13-01"),
    ("empty name",                 &["customer", "set", "{C}", "name", ""], ""),
    ("order id used as customer",  &["customer", "set", "{O}", "phone", "13800000000"], ""),
    ("add with empty name",        &["customer", "add", "--name", ""], ""),
    ("add with bad channel",       &["customer", "add", "--name", "某酒行", "--channel", "wholesale"], "wholesale"),
    ("add with bad class",         &["customer", "add", "--name", "某酒行", "--class", "E"], "E"),
    ("contact on unknown customer", &["customer", "add-contact", "{X}", "--name", "张三"], "{X}"),
    ("contact with empty name",    &["customer", "add-contact", "{C}", "--name", ""], ""),
    ("visit for unknown customer", &["visit", "add", "--customer", "{X}", "--kind", "development", "--notes", "n"], "{X}"),
    ("bad visit kind",             &["visit", "add", "--customer", "{C}", "--kind", "party", "--notes", "n"], "party"),
    ("bad visit method",           &["visit", "add", "--customer", "{C}", "--kind", "revisit", "--notes", "n", "--method", "pigeon"], "pigeon"),
    ("satisfaction out of range",  &["visit", "set", "{V}", "satisfaction", "6"], "6"),
    ("satisfaction not a number",  &["visit", "set", "{V}", "satisfaction", "five"], "five"),
    ("unknown visit field",        &["visit", "set", "{V}", "mood", "happy"], "mood"),
    ("set on unknown visit",       &["visit", "set", "{X}", "outcome", "ok"], "{X}"),
    ("customer id used as visit",  &["visit", "set", "{C}", "outcome", "ok"], ""),
    ("order for unknown customer", &["order", "new", "--customer", "{X}"], "{X}"),
    ("bad order source",           &["order", "new", "--customer", "{C}", "--source", "telepathy"], "telepathy"),
    ("zero quantity",              &["order", "add-line", "{O}", "--sku", "MT-53", "--qty", "0", "--unit-price", "100"], ""),
    ("quantity over the limit",    &["order", "add-line", "{O}", "--sku", "MT-53", "--qty", "1000001", "--unit-price", "100"], "1000001"),
    ("unit price over the limit",  &["order", "add-line", "{O}", "--sku", "MT-53", "--qty", "1", "--unit-price", "10000000001"], "10000000001"),
    ("empty sku",                  &["order", "add-line", "{O}", "--sku", "", "--qty", "1", "--unit-price", "100"], ""),
    ("line on unknown order",      &["order", "add-line", "{X}", "--sku", "MT-53", "--qty", "1", "--unit-price", "100"], "{X}"),
    ("line on a customer",         &["order", "add-line", "{C}", "--sku", "MT-53", "--qty", "1", "--unit-price", "100"], ""),
    ("bad payment method",         &["order", "set", "{O}", "payment_method", "barter"], "barter"),
    ("bad delivery date",          &["order", "set", "{O}", "delivery_date", "tomorrow"], "tomorrow"),
    ("unknown order field",        &["order", "set", "{O}", "colour", "red"], "colour"),
    ("show unknown order",         &["order", "show", "{X}"], "{X}"),
];

#[test]
fn bad_commands_fail_in_one_line_and_change_nothing() {
    let server = TestServer::started(&["li"]);
    let d = Device::logged_in(&server, "li");
    let c = d.add_customer("清镇酒行", &["--channel", "distributor", "--class", "B"]);
    let v = d.ok(&["visit", "add", "--customer", &c, "--kind", "development", "--notes", "初访"]);
    let o = d.ok(&["order", "new", "--customer", &c]);
    d.ok(&["order", "add-line", &o, "--sku", "MT-53-500", "--qty", "1", "--unit-price", "149900"]);
    d.sync();
    assert_eq!(d.pending_docs(), 0);
    let x = uuid::Uuid::new_v4().to_string();
    let fill = |s: &str| s.replace("{C}", &c).replace("{V}", &v).replace("{O}", &o).replace("{X}", &x);

    let before = d.snapshot();
    let mut failures = Vec::new();
    for (name, args, mention) in CASES {
        let args: Vec<String> = args.iter().map(|a| fill(a)).collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = d.run(&args);
        let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
        let mention = fill(mention);
        if out.status.success() {
            failures.push(format!("{name}: exited 0 (stdout {:?})", String::from_utf8_lossy(&out.stdout)));
        } else if stderr.is_empty() || stderr.contains('\n') {
            failures.push(format!("{name}: stderr is not one line: {stderr:?}"));
        } else if !stderr.contains(&mention) {
            failures.push(format!("{name}: error does not mention {mention:?}: {stderr:?}"));
        }
        let now = d.snapshot();
        if now != before {
            failures.push(format!("{name}: local data changed:\nbefore {before}\nafter  {now}"));
            break;
        }
        if d.pending_docs() != 0 {
            failures.push(format!("{name}: left a pending change"));
            break;
        }
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
    // Still a working profile: nothing reached the server either.
    let s = d.sync();
    assert_eq!((s.pushed_docs, s.received_docs), (0, 0), "{s:?}");
}

#[test]
fn with_the_server_down_everything_but_sync_works_and_sync_fails_clearly() {
    let mut server = TestServer::started(&["li"]);
    let d = Device::logged_in(&server, "li");
    let c = d.add_customer("在线时创建", &[]);
    d.sync();
    server.kill9();

    // Every local command works offline.
    let c2 = d.add_customer(
        "离线创建",
        &["--phone", "13800000000", "--channel", "e-commerce", "--class", "A", "--region", "安顺"],
    );
    d.ok(&["customer", "set", &c, "notes", "离线备注"]);
    d.ok(&["customer", "add-contact", &c, "--name", "刘总", "--phone", "13900000000", "--title", "老板"]);
    let v = d.ok(&["visit", "add", "--customer", &c2, "--kind", "tasting", "--notes", "品鉴会", "--method", "event"]);
    d.ok(&["visit", "set", &v, "satisfaction", "4"]);
    let o = d.ok(&["order", "new", "--customer", &c2, "--source", "electronic"]);
    d.ok(&["order", "add-line", &o, "--sku", "MT-53-500", "--qty", "3", "--unit-price", "149900"]);
    d.ok(&["order", "set", &o, "payment_method", "cash"]);
    assert_eq!(d.customer(&c)["contacts"][0]["name"], "刘总");
    assert_eq!(d.order(&o)["total_fen"], 3 * 149_900);
    assert_eq!(d.json(&["inbox"]), serde_json::json!([]));
    let status = d.status();
    assert_eq!(status["user"], "li", "{status}");
    let pending = d.pending_docs();
    assert_eq!(pending, 4, "{status}");

    let before = d.snapshot();
    let err = d.fail(&["sync"]);
    assert!(!err.is_empty());
    assert_eq!(d.snapshot(), before, "a failed sync changed local data");
    assert_eq!(d.pending_docs(), pending);
    // Logging in to a dead server fails clearly too.
    Device::new("nowhere").fail(&["login", "--server", &server.url(), "--user", "li"]);

    server.restart();
    assert_eq!(d.sync().pushed_docs, pending);
    let fresh = Device::logged_in(&server, "li");
    fresh.sync();
    assert_eq!(fresh.snapshot(), d.snapshot());
}

/// All integers in a text (to find reported line numbers whatever the wording).
fn numbers(text: &str) -> Vec<u64> {
    text.split(|ch: char| !ch.is_ascii_digit()).filter_map(|t| t.parse().ok()).collect()
}

#[test]
fn customer_import_with_bad_rows_reports_every_line_and_imports_nothing() {
    let server = TestServer::started(&["li"]);
    let d = Device::logged_in(&server, "li");
    let dir = TempDir::new("import");
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_string()
    };
    let good_rows = ["好酒行,13800000001,distributor,A,贵阳", "好酒坊,13800000004,restaurant,B,铜仁", "好酒庄,,,,"];
    // File lines: 1 header, 2 good, 3 bad channel, 4 empty name, 5 good, 6 bad class,
    // 7 good (only a name), 8 too many columns.
    let bad = write(
        "bad.csv",
        &format!(
            "name,phone,channel,class,region\n{}\n坏渠道,13800000002,wholesale,B,遵义\n,13800000003,direct-store,C,安顺\n{}\n坏等级,13800000005,e-commerce,D,毕节\n{}\n多一列,1,distributor,A,x,y\n",
            good_rows[0], good_rows[1], good_rows[2]
        ),
    );
    let out = d.run(&["customer", "import", &bad]);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "import with bad rows exited 0: {}", String::from_utf8_lossy(&out.stdout));
    let reported = numbers(&stderr);
    for line in [3, 4, 6, 8] {
        assert!(reported.contains(&line), "line {line} not reported in {stderr:?}");
    }
    assert_eq!(d.customers(), serde_json::json!([]), "a failed import imported something");
    assert_eq!(d.pending_docs(), 0);

    // Not a customer file at all, or no file: one line, nothing imported.
    let wrong_header = write("header.csv", "名字,电话\n好酒行,138\n");
    d.fail(&["customer", "import", &wrong_header]);
    d.fail(&["customer", "import", dir.path().join("missing.csv").to_str().unwrap()]);
    assert_eq!(d.customers(), serde_json::json!([]));

    let good = write("good.csv", &format!("name,phone,channel,class,region\n{}\n", good_rows.join("\n")));
    let printed = d.ok(&["customer", "import", &good]);
    assert!(numbers(&printed).contains(&3), "import printed {printed:?}");
    let list = d.customers();
    assert_eq!(list.as_array().map(Vec::len), Some(3));
    let first = list.as_array().unwrap().iter().find(|c| c["name"] == "好酒行").expect("好酒行 imported");
    assert_eq!(
        (&first["phone"], &first["channel"], &first["class"], &first["region"]),
        (&"13800000001".into(), &"distributor".into(), &"A".into(), &"贵阳".into())
    );
    assert_eq!(d.sync().pushed_docs, 3);
}

#[test]
fn a_damaged_or_foreign_profile_file_is_refused_clearly_and_never_overwritten() {
    // Random bytes (a damaged file), and another program's SQLite database.
    let damaged = Device::new("damaged");
    let garbage: Vec<u8> = (0u32..8192).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    std::fs::write(damaged.profile().join("jiuloop.db"), &garbage).unwrap();
    let foreign = Device::new("foreign");
    {
        let db = rusqlite::Connection::open(foreign.profile().join("jiuloop.db")).unwrap();
        db.execute_batch(
            "CREATE TABLE invoices(id INTEGER PRIMARY KEY, total INTEGER); INSERT INTO invoices VALUES (1, 100);",
        )
        .unwrap();
    }
    let foreign_bytes = std::fs::read(foreign.profile().join("jiuloop.db")).unwrap();
    for (device, before) in [(&damaged, &garbage), (&foreign, &foreign_bytes)] {
        for args in [
            &["status"][..],
            &["customer", "add", "--name", "新客户"],
            &["login", "--server", "http://127.0.0.1:9", "--user", "li"],
        ] {
            let zh = device.fail(args);
            assert!(zh.contains("已损坏或属于其他程序") && zh.contains("未作任何改动"), "[{}] {zh}", device.name);
            let mut en_args = vec!["--lang", "en"];
            en_args.extend_from_slice(args);
            let en = device.fail(&en_args);
            assert!(en.contains("damaged or belongs to another program") && en.contains("left untouched"), "{en}");
        }
        let path = device.profile().join("jiuloop.db");
        assert_eq!(&std::fs::read(&path).unwrap(), before, "[{}] the file is unchanged", device.name);
        assert!(!device.profile().join("jiuloop.db-wal").exists(), "[{}] nothing written beside it", device.name);
    }
}
