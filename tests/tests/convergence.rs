//! Two reps edit the same records offline; whatever the sync order, every device (and a
//! fresh one, i.e. the server's copy) ends up with the same data and no edit is lost
//! except a same-field overwrite, which resolves the same way everywhere.

use jiuloop_tests::{Device, TestServer};
use serde_json::Value;

#[derive(Clone, Copy, Debug)]
enum Op {
    /// `customer set ID FIELD VALUE`
    Set(&'static str, &'static str),
    /// `customer add-contact ID --name NAME`
    Contact(&'static str),
}

#[derive(Debug)]
enum Expect {
    /// The field ends up with exactly this value.
    Is(&'static str, &'static str),
    /// Both reps wrote the field: one value wins, the same everywhere.
    OneOf(&'static str, [&'static str; 2]),
    /// Exactly these contact names (in any order).
    Contacts(&'static [&'static str]),
    /// This many class changes recorded.
    ClassHistory(usize),
}

struct Scenario {
    name: &'static str,
    /// Extra `customer add` arguments.
    create: &'static [&'static str],
    /// Done by rep A and synced to both before going offline.
    base: &'static [Op],
    a: &'static [Op],
    b: &'static [Op],
    expect: &'static [Expect],
}

use Expect::*;
use Op::*;

const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "different fields",
        create: &[],
        base: &[],
        a: &[Set("phone", "13800000001"), Set("address", "贵阳市观山湖区金阳南路6号")],
        b: &[Set("region", "黔南"), Set("purchasing_power", "年采购50万"), Set("next_follow_up", "2026-12-01")],
        expect: &[
            Is("phone", "13800000001"),
            Is("address", "贵阳市观山湖区金阳南路6号"),
            Is("region", "黔南"),
            Is("purchasing_power", "年采购50万"),
            Is("next_follow_up", "2026-12-01"),
        ],
    },
    Scenario {
        name: "same field",
        create: &["--channel", "direct-store"],
        base: &[],
        // (Only a manager changes a channel once the customer exists: it decides prices.)
        a: &[Set("address", "遵义市红花岗区"), Set("business_scope", "酒店供货")],
        b: &[Set("address", "六盘水市钟山区"), Set("business_scope", "批发零售")],
        expect: &[
            OneOf("address", ["遵义市红花岗区", "六盘水市钟山区"]),
            OneOf("business_scope", ["酒店供货", "批发零售"]),
        ],
    },
    Scenario {
        name: "notes text concurrently",
        create: &[],
        base: &[Set("notes", "喜欢酱香型")],
        a: &[Set("notes", "老板喜欢酱香型")],
        b: &[Set("notes", "喜欢酱香型，月底进货")],
        expect: &[Is("notes", "老板喜欢酱香型，月底进货")],
    },
    Scenario {
        name: "everything at once",
        create: &["--class", "B", "--phone", "0851-86000000"],
        base: &[Set("notes", "年底备货")],
        a: &[
            Set("class", "A"),
            Contact("张经理"),
            Set("notes", "大客户，年底备货"),
            Set("phone", "13900000002"),
            Set("purchasing_power", "li"),
        ],
        b: &[
            Set("class", "C"),
            Contact("王总"),
            Set("notes", "年底备货，要发票"),
            Set("region", "毕节"),
            Set("purchasing_power", "wang"),
        ],
        expect: &[
            OneOf("class", ["A", "C"]),
            ClassHistory(3),
            Contacts(&["张经理", "王总"]),
            Is("notes", "大客户，年底备货，要发票"),
            Is("phone", "13900000002"),
            Is("region", "毕节"),
            OneOf("purchasing_power", ["li", "wang"]),
        ],
    },
];

fn apply(device: &Device, id: &str, ops: &[Op]) {
    for op in ops {
        match *op {
            Set(field, value) => device.ok(&["customer", "set", id, field, value]),
            Contact(name) => device.ok(&["customer", "add-contact", id, "--name", name, "--title", "采购"]),
        };
    }
}

fn check(customer: &Value, expect: &Expect) -> Result<(), String> {
    let field = |f: &str| customer[f].as_str().map(str::to_string);
    match expect {
        Is(f, want) if field(f).as_deref() == Some(*want) => Ok(()),
        OneOf(f, options) if field(f).is_some_and(|v| options.contains(&v.as_str())) => Ok(()),
        Contacts(names) => {
            let mut got: Vec<&str> =
                customer["contacts"].as_array().into_iter().flatten().filter_map(|c| c["name"].as_str()).collect();
            got.sort();
            let mut want = names.to_vec();
            want.sort();
            if got == want { Ok(()) } else { Err(format!("contacts {got:?}, want {want:?}")) }
        }
        ClassHistory(n) => match customer["class_history"].as_array() {
            Some(h) if h.len() == *n => Ok(()),
            other => Err(format!("class_history {other:?}, want {n} entries")),
        },
        _ => Err(format!("{expect:?} but the customer is {customer}")),
    }
}

#[derive(Clone, Copy, Debug)]
enum SyncOrder {
    AThenB,
    BThenA,
}

#[test]
fn concurrent_offline_customer_edits_converge_in_either_sync_order() {
    let server = TestServer::started(&["li", "wang", "zhao"]);
    let a = Device::logged_in(&server, "li");
    let b = Device::logged_in(&server, "wang");
    let mut failures = Vec::new();
    for s in SCENARIOS {
        for order in [SyncOrder::AThenB, SyncOrder::BThenA] {
            let label = format!("{} / {order:?}", s.name);
            let id = a.add_customer(&format!("{} {order:?}", s.name), s.create);
            apply(&a, &id, s.base);
            a.sync();
            b.sync();
            assert_eq!(a.customer(&id), b.customer(&id), "{label}: the base did not reach B");

            // Offline: neither device syncs while both edit.
            apply(&a, &id, s.a);
            apply(&b, &id, s.b);
            let (first, second) = match order {
                SyncOrder::AThenB => (&a, &b),
                SyncOrder::BThenA => (&b, &a),
            };
            let s1 = first.sync();
            assert_eq!((s1.pushed_docs, s1.received_docs), (1, 0), "{label}: first sync {s1:?}");
            let s2 = second.sync();
            assert_eq!((s2.pushed_docs, s2.received_docs), (1, 1), "{label}: second sync {s2:?}");
            let s3 = first.sync();
            assert_eq!((s3.pushed_docs, s3.received_docs), (0, 1), "{label}: first's catch-up {s3:?}");

            let c = Device::logged_in(&server, "zhao");
            c.sync();
            let (va, vb, vc) = (a.customer(&id), b.customer(&id), c.customer(&id));
            assert_eq!(va, vb, "{label}: A and B differ");
            assert_eq!(va, vc, "{label}: a fresh device differs from A");
            assert_eq!(a.customers(), c.customers(), "{label}: customer lists differ");
            for e in s.expect {
                if let Err(why) = check(&va, e) {
                    failures.push(format!("{label}: {why}"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "edits lost or wrong:\n{}", failures.join("\n"));
}

#[test]
fn concurrent_order_lines_and_visits_all_survive() {
    let server = TestServer::started(&["li", "wang"]);
    let a = Device::logged_in(&server, "li");
    let b = Device::logged_in(&server, "wang");
    let customer = a.add_customer("黔西南酒类批发部", &["--channel", "distributor"]);
    let order = a.ok(&["order", "new", "--customer", &customer, "--source", "verbal"]);
    a.sync();
    b.sync();

    a.ok(&["order", "add-line", &order, "--sku", "MT-53-500", "--qty", "6", "--unit-price", "149900"]);
    a.ok(&["visit", "add", "--customer", &customer, "--kind", "follow-up", "--notes", "A 跟进"]);
    b.ok(&[
        "order",
        "add-line",
        &order,
        "--sku",
        "XJ-52-500",
        "--qty",
        "2",
        "--unit-price",
        "89950",
        "--spec",
        "500ml",
    ]);
    b.ok(&["order", "set", &order, "delivery_place", "兴义仓库"]);
    b.ok(&["visit", "add", "--customer", &customer, "--kind", "tasting", "--notes", "B 品鉴会", "--method", "event"]);
    b.sync();
    a.sync();
    b.sync();

    let (oa, ob) = (a.order(&order), b.order(&order));
    assert_eq!(oa, ob);
    let mut skus: Vec<&str> = oa["lines"].as_array().unwrap().iter().filter_map(|l| l["sku"].as_str()).collect();
    skus.sort();
    assert_eq!(skus, ["MT-53-500", "XJ-52-500"], "{oa}");
    assert_eq!(oa["total_fen"], 6 * 149_900 + 2 * 89_950, "{oa}");
    assert_eq!(oa["delivery_place"], "兴义仓库");
    let visits = a.visits(&customer);
    assert_eq!(visits, b.visits(&customer));
    let mut notes: Vec<&str> = visits.as_array().unwrap().iter().filter_map(|v| v["notes"].as_str()).collect();
    notes.sort();
    assert_eq!(notes, ["A 跟进", "B 品鉴会"], "{visits}");
}
