//! The generic commands — `jiuloop new|set|show|list|kinds` — over the whole system: a
//! kind that exists only in the registry (the competitor observation, 竞品价格观察) is
//! created offline, synced, read by whoever may read it and by no one else; bad commands
//! fail in one line that names the field and change nothing; the old kinds work the
//! same way.

use jiuloop_tests::{Device, LocalDoc, RawClient, TestServer};
use protocol::wire::Refusal;
use protocol::{DocKind, ErrorCode, ServerMsg};
use serde_json::Value;
use std::collections::BTreeSet;
use unicode_width::UnicodeWidthStr;

const GZ: &str = "贵州";
const SC: &str = "四川";
const OBS: &str = "competitor-observation";

/// A server with these users (name, role, territory, manager), started.
fn server_with(users: &[(&str, &str, Option<&str>, Option<&str>)]) -> TestServer {
    let mut s = TestServer::new();
    for (name, role, territory, manager) in users {
        s.add_user_with(name, role, *territory, *manager);
    }
    s.start();
    s
}

fn ids_of(list: &Value) -> BTreeSet<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("expected a list, got {list}"))
        .iter()
        .map(|r| r["id"].as_str().expect("id").to_string())
        .collect()
}

fn set<const N: usize>(items: [&str; N]) -> BTreeSet<String> {
    items.into_iter().map(String::from).collect()
}

fn refusal(answer: ServerMsg) -> Refusal {
    match answer {
        ServerMsg::Refused { refusals } if refusals.len() == 1 => refusals.into_iter().next().expect("one"),
        other => panic!("expected one refusal, got {other:?}"),
    }
}

fn is_id(text: &str) -> bool {
    uuid::Uuid::parse_str(text).is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_observation_made_offline_reaches_its_readers_and_no_one_else() {
    let mut server = server_with(&[
        ("boss", "manager", Some(GZ), None),
        ("li", "rep", Some(GZ), Some("boss")),
        ("mei", "market", None, None),
        ("zhang", "rep", Some(SC), None),
    ]);
    let li = Device::logged_in(&server, "li");
    let c = li.ok(&["new", "customer", "name=遵义名酒行", "channel=经销商"]);
    assert!(is_id(&c), "new printed {c:?}");
    li.sync();

    // Offline: the server is gone, the rep records what the competitor's shelf shows.
    server.kill9();
    let customer = format!("customer={c}");
    let o = li.ok(&["new", OBS, &customer, "brand=五粮液", "product=普五", "shelf_price=1099", "promotion=中秋满减"]);
    assert!(is_id(&o), "new printed {o:?}");
    let shown = li.json(&["show", &o]);
    let fields = ["kind", "customer", "brand", "product", "shelf_price", "promotion", "observed_by"];
    let got: Vec<&Value> = fields.iter().map(|f| &shown[f]).collect();
    let want: Vec<Value> = vec![
        OBS.into(),
        c.clone().into(),
        "五粮液".into(),
        "普五".into(),
        109_900.into(),
        "中秋满减".into(),
        "li".into(),
    ];
    assert_eq!(got, want.iter().collect::<Vec<_>>(), "{shown}");
    assert!(shown["observed_at"].is_string(), "{shown}");
    let human = li.ok(&["show", &o]);
    for text in ["竞品价格观察", "货架价", "1099.00", "促销活动", "中秋满减", "遵义名酒行"] {
        assert!(human.contains(text), "show lacks {text:?}:\n{human}");
    }
    let english = li.ok(&["--lang", "en", "show", &o]);
    for text in ["Competitor observation", "Shelf price", "1099.00", "Promotion"] {
        assert!(english.contains(text), "show --lang en lacks {text:?}:\n{english}");
    }
    assert_eq!(ids_of(&li.records(OBS)), set([&o]));
    assert_eq!(ids_of(&li.records("竞品价格观察")), set([&o]), "the kind's Chinese label works too");
    let table = li.ok(&["list", OBS]);
    assert!(table.contains(&o) && table.contains("五粮液") && table.contains("1099.00"), "{table}");
    assert_eq!(li.pending_docs(), 1);
    li.fail(&["sync"]);

    server.restart();
    assert_eq!(li.sync().pushed_docs, 1);
    assert_eq!(li.pending_docs(), 0);

    // The market department reads every observation, the territory's manager theirs.
    let mei = Device::logged_in(&server, "mei");
    let boss = Device::logged_in(&server, "boss");
    for reader in [&mei, &boss] {
        reader.sync();
        assert_eq!(reader.json(&["show", &o]), shown, "{} sees another record", reader.name);
        assert_eq!(ids_of(&reader.records(OBS)), set([&o]), "{}", reader.name);
    }

    // A rep of 四川 works with observations of their own …
    let zhang = Device::logged_in(&server, "zhang");
    let sc = zhang.ok(&["new", "customer", "name=成都锦江酒行"]);
    let own_customer = format!("customer={sc}");
    let own = zhang.ok(&["new", OBS, &own_customer, "brand=泸州老窖", "product=国窖1573", "shelf_price=1299"]);
    zhang.sync();
    assert_eq!(ids_of(&zhang.records(OBS)), set([&own]));
    // … and the 贵州 one is not in their SQLite file, in any form.
    let stored = zhang.stored_docs();
    assert_eq!(stored.iter().map(|d| d.id.clone()).collect::<BTreeSet<_>>(), set([&sc, &own]), "{stored:?}");
    for d in &stored {
        assert_ne!(d.customer.as_deref(), Some(c.as_str()), "{d:?}");
        assert_ne!(d.territory.as_deref(), Some(GZ), "{d:?}");
    }
    let file = std::fs::read(zhang.profile().join("jiuloop.db")).expect("read the device's database");
    for needle in ["中秋满减", "遵义名酒行", o.as_str()] {
        assert!(!file.windows(needle.len()).any(|w| w == needle.as_bytes()), "{needle} is in zhang's file");
    }

    // Refused locally: zhang cannot create one for the 贵州 customer (it is not theirs
    // to hold), and nothing changes.
    let before = zhang.all_records();
    let err = zhang.fail(&["new", OBS, &customer, "brand=五粮液", "product=普五", "shelf_price=999"]);
    assert!(err.contains("customer") && err.contains(&c), "{err}");
    assert_eq!(zhang.all_records(), before);
    assert_eq!(zhang.pending_docs(), 0);

    // Refused by the server: a raw client of zhang's pushes such a document anyway. The
    // control push of an honest observation of zhang's own customer is accepted.
    let (mut raw, up) = RawClient::caught_up(&server, "zhang").await;
    let caught: BTreeSet<String> = up.chunks.iter().map(|ch| ch.id.to_string()).collect();
    assert_eq!(caught, set([&sc, &own]));
    let stored_before = server.counts();
    let mut planted = LocalDoc::new_record(
        &raw.actor,
        DocKind::CompetitorObservation,
        &[("customer", &c), ("brand", "五粮液"), ("product", "普五"), ("shelf_price", "1")],
        "zhang",
    );
    let r = refusal(raw.push(vec![planted.chunk()]).await);
    assert_eq!((r.code, r.rule.as_str()), (ErrorCode::Forbidden, "territory"), "{r:?}");
    assert_eq!(server.counts(), stored_before, "nothing of the refused document was stored");
    let mut honest = LocalDoc::new_record(
        &raw.actor,
        DocKind::CompetitorObservation,
        &[("customer", &sc), ("brand", "郎酒"), ("product", "青花郎"), ("shelf_price", "1,099.50")],
        "zhang",
    );
    match raw.push(vec![honest.chunk()]).await {
        ServerMsg::Ack { docs } => assert_eq!(docs.len(), 1, "{docs:?}"),
        other => panic!("the honest observation is accepted, got {other:?}"),
    }
    raw.close().await;
    let honest_id = honest.id.to_string();

    mei.sync();
    assert_eq!(ids_of(&mei.records(OBS)), set([&o, &own, &honest_id]));
    assert_eq!(mei.json(&["show", &honest_id])["shelf_price"], 109_950);
    boss.sync();
    assert_eq!(ids_of(&boss.records(OBS)), set([&o]));
    zhang.sync();
    assert_eq!(ids_of(&zhang.records(OBS)), set([&own, &honest_id]));
    li.sync();
    assert_eq!(ids_of(&li.records(OBS)), set([&o]));
    assert!(!mei.all_records().to_string().contains(&planted.id.to_string()));
}

/// `(case, args, what the one-line error must mention)`. Placeholders: `{C}` a customer,
/// `{O}` an observation of it, `{X}` an id nobody has.
#[rustfmt::skip]
const BAD: &[(&str, &[&str], &[&str])] = &[
    ("unknown kind",              &["new", "widget", "name=x"], &["widget"]),
    ("unknown kind to list",      &["list", "酒单"], &["酒单"]),
    ("unknown field",             &["new", OBS, "customer={C}", "brand=五粮液", "product=普五", "shelf_price=1099", "colour=red"], &["colour"]),
    ("empty required brand",      &["new", OBS, "customer={C}", "brand=", "product=普五", "shelf_price=1099"], &["brand"]),
    ("required fields missing",   &["new", OBS, "customer={C}"], &["brand", "product", "shelf_price"]),
    ("price not money",           &["new", OBS, "customer={C}", "brand=五粮液", "product=普五", "shelf_price=lots"], &["shelf_price", "lots"]),
    ("price with three decimals", &["new", OBS, "customer={C}", "brand=五粮液", "product=普五", "shelf_price=1.234"], &["shelf_price", "1.234"]),
    ("every error at once",       &["new", OBS, "customer={C}", "brand=", "product=普五", "shelf_price=lots", "colour=red"], &["brand", "shelf_price", "lots", "colour"]),
    ("field without =",           &["new", OBS, "customer={C}", "brand", "product=普五", "shelf_price=1099"], &["brand"]),
    ("observed_by at creation",   &["new", OBS, "customer={C}", "brand=五粮液", "product=普五", "shelf_price=1099", "observed_by=wang"], &["observed_by"]),
    ("customer not held here",    &["new", OBS, "customer={X}", "brand=五粮液", "product=普五", "shelf_price=1099"], &["customer", "{X}"]),
    ("setting observed_by",       &["set", "{O}", "observed_by=wang"], &["observed_by"]),
    ("customer after creation",   &["set", "{O}", "customer={C}"], &["customer"]),
    ("setting a bad price",       &["set", "{O}", "shelf_price=lots"], &["shelf_price", "lots"]),
    ("clearing the brand",        &["set", "{O}", "brand="], &["brand"]),
    ("setting nothing",           &["set", "{O}"], &[]),
    ("set on unknown record",     &["set", "{X}", "brand=x"], &["{X}"]),
    ("show unknown record",       &["show", "{X}"], &["{X}"]),
    ("show malformed id",         &["show", "not-an-id"], &["not-an-id"]),
    ("where on unknown field",    &["list", "customer", "--where", "colour=red"], &["colour"]),
    ("where without =",           &["list", "customer", "--where", "channel"], &["channel"]),
    ("rep sets the territory",    &["set", "{C}", "territory=四川"], &["territory"]),
    ("rep creates elsewhere",     &["new", "customer", "name=某酒行", "territory=四川"], &["customer", "territory"]),
    ("bad channel",               &["new", "customer", "name=某酒行", "channel=wholesale"], &["channel", "wholesale"]),
    ("new policy",                &["new", "policy"], &["policy"]),
    ("new verdict",               &["new", "verdict"], &["verdict"]),
];

#[test]
fn bad_generic_commands_fail_in_one_line_naming_the_field_and_change_nothing() {
    let server = server_with(&[("li", "rep", Some(GZ), None), ("qian", "finance", None, None)]);
    let li = Device::logged_in(&server, "li");
    let c = li.ok(&["new", "customer", "name=清镇酒行"]);
    let o = li.ok(&["new", OBS, &format!("customer={c}"), "brand=五粮液", "product=普五", "shelf_price=1099"]);
    li.sync();
    assert_eq!(li.pending_docs(), 0);
    let x = uuid::Uuid::new_v4().to_string();
    let fill = |s: &str| s.replace("{C}", &c).replace("{O}", &o).replace("{X}", &x);

    let before = li.all_records();
    let mut failures = Vec::new();
    for (name, args, mentions) in BAD {
        let args: Vec<String> = args.iter().map(|a| fill(a)).collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = li.run(&args);
        let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
        if out.status.success() {
            failures.push(format!("{name}: exited 0 (stdout {:?})", String::from_utf8_lossy(&out.stdout)));
        } else if stderr.is_empty() || stderr.contains('\n') {
            failures.push(format!("{name}: stderr is not one line: {stderr:?}"));
        } else {
            for m in mentions.iter().map(|m| fill(m)) {
                if !stderr.contains(&m) {
                    failures.push(format!("{name}: error does not mention {m:?}: {stderr:?}"));
                }
            }
        }
        if li.all_records() != before {
            failures.push(format!("{name}: local data changed"));
            break;
        }
        if li.pending_docs() != 0 {
            failures.push(format!("{name}: left a pending change"));
            break;
        }
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));

    // The wording is the user's language: the field's label and what it accepts.
    let bad_price = ["new", OBS, &format!("customer={c}"), "brand=五粮液", "product=普五", "shelf_price=lots"];
    let zh = li.fail(&bad_price);
    assert!(zh.contains("货架价（shelf_price）") && zh.contains("不是金额（元，最多两位小数）"), "{zh}");
    let en = li.fail(&[&["--lang", "en"][..], &bad_price[..]].concat());
    assert!(en.contains("Shelf price (shelf_price)") && en.contains("is not an amount in yuan"), "{en}");
    let missing = li.fail(&["--lang", "en", "new", OBS, &format!("customer={c}")]);
    assert!(missing.contains("Brand (brand): may not be empty"), "{missing}");
    assert_eq!(li.all_records(), before);

    // A finance user may read customers but not create one: refused by the write rules.
    let qian = Device::logged_in(&server, "qian");
    qian.sync();
    let before = qian.all_records();
    let zh = qian.fail(&["new", "customer", "name=财务的客户"]);
    assert!(zh.contains("财务") && zh.contains("客户") && zh.contains("customer"), "{zh}");
    let en = qian.fail(&["--lang", "en", "new", "客户", "name=财务的客户"]);
    assert!(en.contains("finance") && en.contains("customer") && en.contains("rule role"), "{en}");
    assert_eq!(qian.all_records(), before);
    assert_eq!(qian.pending_docs(), 0);

    // Nothing reached the server either.
    let s = li.sync();
    assert_eq!((s.pushed_docs, s.received_docs), (0, 0), "{s:?}");
}

#[test]
fn kinds_describe_the_registry_and_generic_commands_work_for_customers_too() {
    let server = server_with(&[("li", "rep", Some(GZ), None), ("wang", "rep", Some(GZ), None)]);
    let li = Device::logged_in(&server, "li");

    // `kinds --json`: the competitor observation with its fields, types and grants.
    let kinds = li.json(&["kinds"]);
    let kind = |name: &str| -> Value {
        kinds.as_array().unwrap().iter().find(|k| k["name"] == name).unwrap_or_else(|| panic!("no {name}")).clone()
    };
    let names: BTreeSet<String> =
        kinds.as_array().unwrap().iter().map(|k| k["name"].as_str().unwrap().into()).collect();
    // Every kind of the registry (kinds are added by other features; these were first).
    assert_eq!(names, DocKind::ALL.iter().map(|k| k.as_str().to_string()).collect::<BTreeSet<_>>());
    assert!(set(["customer", "visit", "order", "policy", "verdict", OBS]).is_subset(&names), "{names:?}");
    let obs = kind(OBS);
    assert_eq!((&obs["zh"], &obs["label"]), (&"竞品价格观察".into(), &"竞品价格观察".into()), "{obs}");
    assert_eq!(obs["placement"]["parent"], "customer", "{obs}");
    let field = |k: &Value, name: &str| -> Value {
        k["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == name)
            .unwrap_or_else(|| panic!("no {name}"))
            .clone()
    };
    let typed: Vec<(String, String)> = obs["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["name"].as_str().unwrap().to_string(), f["type"].as_str().unwrap().to_string()))
        .collect();
    let want = [
        ("customer", "ref"),
        ("observed_by", "str"),
        ("observed_at", "time"),
        ("visit", "ref"),
        ("brand", "str"),
        ("product", "str"),
        ("spec", "str"),
        ("shelf_price", "money"),
        ("promotion", "str"),
        ("note", "text"),
    ];
    assert_eq!(typed, want.map(|(n, t)| (n.to_string(), t.to_string())));
    let price = field(&obs, "shelf_price");
    assert_eq!(
        (&price["required"], &price["settable_at_creation"], &price["settable_after"], &price["input_unit"]),
        (&true.into(), &true.into(), &true.into(), &"yuan".into()),
        "{price}"
    );
    let parent = field(&obs, "customer");
    assert_eq!((&parent["ref"], &parent["settable_after"]), (&"customer".into(), &false.into()), "{parent}");
    assert_eq!(field(&obs, "visit")["ref"], "visit");
    assert_eq!(field(&obs, "observed_by")["settable_at_creation"], false);
    assert!(obs["read"].as_array().unwrap().contains(&serde_json::json!({ "role": "market", "scope": "all" })));
    assert!(!obs["create"].as_array().unwrap().iter().any(|g| g["role"] == "market"), "{obs}");
    let channel = field(&kind("customer"), "channel");
    let values = channel["vocab"]["values"].as_array().unwrap();
    assert!(values.contains(&serde_json::json!({ "name": "distributor", "zh": "经销商", "en": "Distributor" })));
    let en = li.json(&["--lang", "en", "kinds"]);
    assert!(en.as_array().unwrap().iter().any(|k| k["label"] == "Competitor observation"));
    let human = li.ok(&["kinds"]);
    assert!(human.contains(OBS) && human.contains("货架价") && human.contains("money"), "{human}");

    // Customers through the generic commands: created into the rep's territory, owned
    // by the rep, like `customer add`.
    let c = li.ok(&["new", "客户", "name=贵阳名酒行", "channel=经销商", "class=B"]);
    let typed_c = li.add_customer("遵义酒坊", &["--channel", "restaurant"]);
    let shown = li.json(&["show", &c]);
    let got: Vec<&Value> =
        ["kind", "territory", "owner", "created_by", "channel", "class"].iter().map(|f| &shown[f]).collect();
    let want: [Value; 6] = ["customer".into(), GZ.into(), "li".into(), "li".into(), "distributor".into(), "B".into()];
    assert_eq!(got, want.iter().collect::<Vec<_>>(), "{shown}");

    // `set` by a unique prefix, several fields as one change; the typed view agrees.
    li.ok(&["set", &c[..8], "phone=13800000000", "class=A", "notes=老板喜欢酱香型"]);
    let typed_view = li.customer(&c);
    assert_eq!((&typed_view["phone"], &typed_view["class"]), (&"13800000000".into(), &"A".into()), "{typed_view}");
    assert_eq!(typed_view["notes"], "老板喜欢酱香型");
    assert_eq!(typed_view["class_history"].as_array().map(Vec::len), Some(2), "{typed_view}");
    li.ok(&["set", &typed_c, "region=遵义"]);
    assert_eq!(li.json(&["show", &typed_c])["region"], "遵义");

    // `list --where` compares the stored value or how it reads, in either language.
    let listed = |filters: &[&str]| {
        let mut args = vec!["list", "customer"];
        for f in filters {
            args.extend(["--where", f]);
        }
        ids_of(&li.json(&args))
    };
    for w in ["channel=经销商", "channel=distributor", "channel=Distributor"] {
        assert_eq!(listed(&[w]), set([&c]), "{w}");
    }
    assert_eq!(listed(&["channel=餐饮"]), set([&typed_c]));
    assert_eq!(listed(&["class=A", "channel=distributor"]), set([&c]));
    assert_eq!(listed(&["class=A", "channel=restaurant"]), BTreeSet::new());
    assert_eq!(listed(&["owner=li"]), set([&c, &typed_c]));
    assert_eq!(listed(&["name=遵义酒坊"]), set([&typed_c]));
    assert_eq!(listed(&["class="]), set([&typed_c]), "an empty value matches an empty field");

    // The human table lines Chinese text up by display width.
    let table = li.ok(&["list", "customer"]);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 3, "{table}");
    let column = |line: &str, cell: &str| -> usize {
        line[..line.find(cell).unwrap_or_else(|| panic!("{cell:?} not in {line:?}"))].width()
    };
    let line_with =
        |cell: &str| *lines.iter().find(|l| l.contains(cell)).unwrap_or_else(|| panic!("{cell:?}: {table}"));
    let at = [column(lines[0], "渠道类型"), column(line_with("经销商"), "经销商"), column(line_with("餐饮"), "餐饮")];
    assert!(at.iter().all(|&x| x == at[0]), "channel column not aligned {at:?}:\n{table}");
    let english = li.ok(&["--lang", "en", "list", "customer"]);
    assert!(english.contains("Channel") && english.contains("Distributor"), "{english}");
    let human = li.ok(&["show", &c]);
    for text in ["客户名称", "贵阳名酒行", "渠道类型", "经销商", "A类"] {
        assert!(human.contains(text), "show lacks {text:?}:\n{human}");
    }

    // An observation of it: the money field filters by yuan, the reference by the
    // customer's id or name.
    let o =
        li.ok(&["new", OBS, &format!("customer={}", &c[..8]), "brand=五粮液", "product=普五", "shelf_price=1,099.00"]);
    assert_eq!(li.json(&["show", &o])["customer"], c.as_str(), "a reference by prefix is stored in full");
    let observed = |w: &str| ids_of(&li.json(&["list", OBS, "--where", w]));
    for w in
        ["shelf_price=1099", "shelf_price=¥1099.00", "customer=贵阳名酒行", &format!("customer={c}"), "brand=五粮液"]
    {
        assert_eq!(observed(w), set([&o]), "{w}");
    }
    assert_eq!(observed("shelf_price=1100"), BTreeSet::new());

    // What one device set with generic commands, another sees after sync.
    li.sync();
    let wang = Device::logged_in(&server, "wang");
    wang.sync();
    assert_eq!(wang.json(&["show", &c]), li.json(&["show", &c]));
    assert_eq!(wang.json(&["show", &o]), li.json(&["show", &o]));
    wang.ok(&["set", &o, "promotion=买五送一"]);
    wang.sync();
    li.sync();
    assert_eq!(li.json(&["show", &o])["promotion"], "买五送一");
}
