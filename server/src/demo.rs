//! `jiuloop-server demo`: a demo company in one command, so that a new user sees the whole
//! loop at once. Into an empty data directory it puts users for every role (with printed
//! passwords), two territories, the example price policy, and a few dozen customers,
//! visits (some checked in on site) and orders in every status — each made the way people
//! make them: on each role's own device (a native client profile), synced through a server
//! started for the purpose, in the order the departments act (the rep submits, the server
//! checks prices, the manager approves or rejects, finance confirms payment, logistics
//! ships, the rep delivers and closes). So verdicts, assignments and arrival times are the
//! server's own, exactly as in real use.

use anyhow::{Context, anyhow, bail};
use jiuloop_cli::Profile;
use jiuloop_cli::http::{ServerUrl, post_json};
use jiuloop_server::admin::AdminCommand;
use jiuloop_server::storage::Database;
use jiuloop_server::{Accounts, Config, Role, UserSpec};
use protocol::DocId;
use protocol::pricing::{CustomerFacts, LineFacts, price_order};
use protocol::schema::order::NewLine;
use protocol::schema::{Channel, CustomerClass, ExceptionKind, OrderSource};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

const DAY: i64 = 24 * 3600 * 1000;

/// A demo user: (name, role, territory, manager, what they do).
type DemoUser = (&'static str, Role, Option<&'static str>, Option<&'static str>, &'static str);

const USERS: &[DemoUser] = &[
    ("admin", Role::Admin, None, None, "IT: users, devices, everything"),
    ("zhang", Role::Manager, Some("贵州"), None, "sales manager 贵州: approvals, channels"),
    ("li", Role::Rep, Some("贵州"), Some("zhang"), "rep 贵州: customers, visits, orders, delivery"),
    ("wang", Role::Rep, Some("贵州"), Some("zhang"), "rep 贵州"),
    ("liu", Role::Manager, Some("四川"), None, "sales manager 四川"),
    ("chen", Role::Rep, Some("四川"), Some("liu"), "rep 四川"),
    ("cai", Role::Finance, None, None, "finance: confirms payments"),
    ("wu", Role::Logistics, None, None, "logistics: ships, resolves delivery exceptions"),
    ("zhao", Role::Executive, None, None, "executive: approves large discounts"),
    ("ma", Role::Market, None, None, "market: price policy, competitor prices"),
    ("sun", Role::AfterSales, None, None, "after-sales: exceptions"),
];

/// Customers: (rep, name, channel, class, region, address); phones are made up.
const CUSTOMERS: &[(&str, &str, Channel, CustomerClass, &str, &str)] = &[
    ("li", "贵阳名酒经销部", Channel::Distributor, CustomerClass::A, "贵阳", "贵阳市南明区花果园 B 区 12 号"),
    ("li", "花溪酒庄", Channel::DirectStore, CustomerClass::A, "贵阳", "贵阳市花溪区清溪路 88 号"),
    ("li", "遵义恒昌商贸", Channel::Distributor, CustomerClass::A, "遵义", "遵义市汇川区上海路 6 号"),
    ("li", "黔味轩酒楼", Channel::Restaurant, CustomerClass::B, "贵阳", "贵阳市云岩区中华北路 201 号"),
    ("li", "观山湖烟酒店", Channel::DirectStore, CustomerClass::B, "贵阳", "贵阳市观山湖区林城西路 17 号"),
    ("li", "仁怀老窖行", Channel::Distributor, CustomerClass::A, "遵义", "仁怀市茅台镇 1915 广场"),
    ("li", "安顺百货酒水部", Channel::DirectStore, CustomerClass::C, "安顺", "安顺市西秀区塔山路 3 号"),
    ("li", "黔东南农家宴", Channel::Restaurant, CustomerClass::C, "凯里", "凯里市北京东路 55 号"),
    ("li", "贵州商会团购部", Channel::GroupPurchase, CustomerClass::B, "贵阳", "贵阳市云岩区延安中路 9 号"),
    ("li", "酒香网店", Channel::ECommerce, CustomerClass::B, "贵阳", "贵阳市大数据产业园"),
    ("wang", "六盘水酒业", Channel::Distributor, CustomerClass::B, "六盘水", "六盘水市钟山区人民路 100 号"),
    ("wang", "毕节名烟名酒", Channel::DirectStore, CustomerClass::B, "毕节", "毕节市七星关区威宁路 21 号"),
    ("wang", "铜仁宴会厅", Channel::Restaurant, CustomerClass::A, "铜仁", "铜仁市碧江区南长城路 8 号"),
    ("wang", "都匀便利连锁", Channel::DirectStore, CustomerClass::C, "都匀", "都匀市剑江中路 46 号"),
    ("wang", "兴义婚宴中心", Channel::Restaurant, CustomerClass::B, "兴义", "兴义市瑞金南路 12 号"),
    ("wang", "贵阳机场免税店", Channel::DirectStore, CustomerClass::A, "贵阳", "贵阳龙洞堡机场 T2"),
    ("chen", "成都蜀香酒行", Channel::Distributor, CustomerClass::A, "成都", "成都市锦江区春熙路 77 号"),
    ("chen", "宽窄巷子老酒馆", Channel::Restaurant, CustomerClass::B, "成都", "成都市青羊区宽巷子 23 号"),
    ("chen", "绵阳烟酒批发", Channel::Distributor, CustomerClass::B, "绵阳", "绵阳市涪城区临园路 5 号"),
    ("chen", "宜宾酒都专卖", Channel::DirectStore, CustomerClass::A, "宜宾", "宜宾市翠屏区酒都路 9 号"),
    ("chen", "泸州企业团购", Channel::GroupPurchase, CustomerClass::B, "泸州", "泸州市江阳区酒城大道 3 号"),
    ("chen", "乐山火锅城", Channel::Restaurant, CustomerClass::C, "乐山", "乐山市市中区嘉定北路 66 号"),
    ("chen", "蜀醇天猫旗舰店", Channel::ECommerce, CustomerClass::A, "成都", "成都市高新区天府三街"),
    ("chen", "德阳商超酒水区", Channel::DirectStore, CustomerClass::C, "德阳", "德阳市旌阳区长江西路 2 号"),
];

/// What becomes of a demo order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Plan {
    Draft,
    /// A product no longer sold: the server finds it invalid and it waits, submitted.
    Invalid,
    /// 5 % below policy (above a rep's 3 %): waits for the manager.
    Awaiting,
    /// 7 % below policy (within a manager's 8 %): the manager rejects it, with a reason.
    Rejected,
    Confirmed,
    Paid,
    Shipped,
    /// Shipped, then logistics reports a delay (open).
    Exception,
    Delivered,
    Closed,
    Cancelled,
}

/// A demo order: (customer index, plan, lines: (sku, qty, percent below the policy price)).
type DemoOrder = (usize, Plan, &'static [(&'static str, i64, i64)]);

const ORDERS: &[DemoOrder] = &[
    (0, Plan::Closed, &[("QY-53-500X6", 20, 0), ("SC-52-500X6", 10, 0)]),
    (1, Plan::Delivered, &[("QY-53-500", 12, 0)]),
    (2, Plan::Shipped, &[("QY-53-500X6", 30, 0)]),
    (3, Plan::Awaiting, &[("SC-52-500", 24, 5), ("JX-53-475", 12, 0)]),
    (4, Plan::Paid, &[("QY-GB-500X2", 10, 0)]),
    (5, Plan::Rejected, &[("QYN-15-500", 6, 7)]),
    (6, Plan::Draft, &[("JX-42-500", 48, 0)]),
    (7, Plan::Confirmed, &[("SC-42-500", 36, 2)]),
    (8, Plan::Exception, &[("QYN-30-500", 2, 0), ("QY-GB-500X2", 5, 0)]),
    (9, Plan::Cancelled, &[("JX-42-500", 100, 0)]),
    (0, Plan::Confirmed, &[("QY-53-500X6", 5, 0)]),
    (1, Plan::Invalid, &[("QY-53-500-2019", 6, 0)]),
    (10, Plan::Closed, &[("SC-52-500X6", 8, 0)]),
    (11, Plan::Awaiting, &[("QY-53-500", 6, 5)]),
    (12, Plan::Delivered, &[("SC-GB-250X2", 20, 0)]),
    (13, Plan::Draft, &[("SC-42-500", 12, 0)]),
    (14, Plan::Shipped, &[("JX-53-475", 24, 0)]),
    (15, Plan::Paid, &[("QYN-15-500", 3, 0)]),
    (16, Plan::Closed, &[("SC-52-500X6", 40, 0)]),
    (17, Plan::Confirmed, &[("SC-52-500", 18, 0)]),
    (18, Plan::Awaiting, &[("SC-52-500X6", 12, 6)]),
    (19, Plan::Shipped, &[("QY-53-500", 6, 0)]),
    (20, Plan::Rejected, &[("SC-42-500", 60, 7)]),
    (21, Plan::Delivered, &[("SC-42-500", 24, 0)]),
    (22, Plan::Draft, &[("SC-52-500", 10, 0)]),
    (23, Plan::Cancelled, &[("JX-42-500", 24, 0)]),
];

/// Visits: (customer index, days ago, kind, notes, outcome, checked in).
const VISITS: &[(usize, i64, &str, &str, &str, bool)] = &[
    (0, 20, "development", "初次拜访，老板对黔韵珍品很感兴趣", "下周报价", true),
    (0, 9, "follow-up", "送样品两瓶，品鉴反馈好", "月底首单", true),
    (1, 14, "tasting", "店内品鉴会，来了 20 位老客户", "追加陈列位", true),
    (2, 12, "follow-up", "谈年度协议价", "签订年度协议", false),
    (3, 6, "development", "酒楼老板想做婚宴套餐", "报价蜀醇整箱", true),
    (4, 3, "follow-up", "补货，检查陈列", "陈列合格", true),
    (5, 8, "development", "年份酒需求大", "报价十五年陈酿", false),
    (6, 2, "follow-up", "电话确认促销安排", "等待回复", false),
    (8, 5, "tasting", "商会年会品鉴", "团购意向 5 箱", true),
    (10, 11, "development", "新开发经销商", "签约", true),
    (12, 4, "follow-up", "宴会季备货", "下单礼盒", true),
    (15, 1, "follow-up", "免税店陈列检查", "陈列良好", true),
    (16, 13, "development", "成都核心经销商拜访", "年度目标 500 箱", true),
    (17, 7, "tasting", "老酒馆品鉴会", "客人反馈浓香好", true),
    (19, 3, "follow-up", "宜宾专卖补货", "下单", false),
    (22, 2, "development", "天猫店促销方案", "双十一备货", false),
];

/// Where the demo's reps check in (Guiyang / Chengdu city centres, micro-degrees).
const GUIYANG: (i64, i64) = (26_647_000, 106_630_000);
const CHENGDU: (i64, i64) = (30_657_000, 104_066_000);

struct Device {
    name: &'static str,
    profile: Profile,
}

fn random_password() -> anyhow::Result<String> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut bytes = [0u8; 10];
    getrandom::fill(&mut bytes).map_err(|e| anyhow!("no randomness: {e}"))?;
    Ok(bytes.iter().map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char).collect())
}

/// Seed the demo company into `data` (which must hold no users yet). Passwords are
/// `password` when given (JIULOOP_PASSWORD), else random, and printed.
pub fn run(data: &Path, database: &Database, password: Option<String>) -> anyhow::Result<()> {
    let accounts = Accounts::new(database.open()?, Duration::from_secs(Config::DEFAULT_TOKEN_TTL_SECS));
    if !accounts.list_users()?.is_empty() {
        bail!(
            "{} already has users: the demo company goes into an empty data directory (--data NEW_DIR)",
            data.display()
        );
    }
    let now = jiuloop_server::accounts::now_ms();
    let mut passwords = Vec::new();
    for (name, role, territory, manager, _) in USERS {
        let pw = match &password {
            Some(p) => p.clone(),
            None => random_password()?,
        };
        let spec = UserSpec {
            name: (*name).to_string(),
            password: pw.clone(),
            role: *role,
            territory: territory.map(String::from),
            manager: manager.map(String::from),
        };
        accounts.add_user(&spec, now).with_context(|| format!("adding user {name}"))?;
        passwords.push(pw);
    }
    drop(accounts);
    let policy = protocol::pricing::parse_policy_csv(include_str!("../../examples/policy.csv"))
        .map_err(|e| anyhow!("the example policy does not parse: {e:?}"))?;
    let outcome = jiuloop_server::admin::submit(
        database,
        &AdminCommand::PublishPolicy { policy: Box::new(policy) },
        Duration::from_secs(15),
    )?;
    if !outcome.ok {
        bail!("publishing the example policy: {}", outcome.message);
    }

    let devices = data.join("demo-devices");
    let _ = std::fs::remove_dir_all(&devices);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let counts = runtime.block_on(seed(data, database, &devices, &passwords));
    let _ = std::fs::remove_dir_all(&devices);
    let counts = counts?;

    println!("demo company seeded in {}: {counts}", data.display());
    println!();
    println!("{:<8} {:<12} {:<8} {:<14} WHAT THEY DO", "USER", "ROLE", "TERRITORY", "PASSWORD");
    for ((name, role, territory, _, what), pw) in USERS.iter().zip(&passwords) {
        println!("{name:<8} {:<12} {}{:<14} {what}", role.as_str(), pad(territory.unwrap_or("-"), 9), pw);
    }
    println!();
    println!("start it:  scripts/run-server.sh --data {}", data.display());
    Ok(())
}

/// `s` padded to `width` display columns (a Chinese character takes two).
fn pad(s: &str, width: usize) -> String {
    let w: usize = s.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum();
    format!("{s}{}", " ".repeat(width.saturating_sub(w)))
}

async fn seed(data: &Path, database: &Database, devices: &Path, passwords: &[String]) -> anyhow::Result<String> {
    let database_url = match database {
        Database::Postgres(url) => Some(url.clone()),
        Database::Sqlite(_) => None,
    };
    let config = Config { database_url, ..Config::new(data).listen_on("127.0.0.1:0") };
    let server = jiuloop_server::start(config).await?;
    let url = format!("http://{}", server.local_addr());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(server.run_until(async move {
        let _ = stopped.await;
    }));
    let result = seed_with(&url, devices, passwords).await;
    let _ = stop.send(());
    running.await.map_err(|e| anyhow!("server task: {e}"))??;
    result
}

async fn login(url: &str, dir: PathBuf, name: &'static str, password: &str) -> anyhow::Result<Device> {
    let profile = Profile::open(&dir)?;
    let server = ServerUrl::parse(url)?;
    let body = serde_json::json!({
        "user": name, "password": password,
        "device_id": profile.device_id().to_string(), "device_name": "jiuloop demo seeding",
    });
    let resp = post_json(&server, "/api/login", None, &body).await?;
    if resp.status != 200 {
        bail!("demo login of {name} failed: HTTP {} {}", resp.status, resp.body);
    }
    let v: serde_json::Value = serde_json::from_str(&resp.body)?;
    let mut profile = profile;
    profile.save_login(url, name, v["token"].as_str().unwrap_or_default(), v["expires_at"].as_str().unwrap_or(""))?;
    profile.set_meta("role", v["role"].as_str().unwrap_or_default())?;
    profile.set_meta("territory", v["territory"].as_str().unwrap_or_default())?;
    if let Some(list) = v.get("territories").filter(|t| t.is_array()) {
        profile.set_meta("territories", &list.to_string())?;
    }
    drop(profile);
    // Reopened: the replica now checks edits as this user's role.
    // Every document loaded: the demo's steps read across them (a lazy profile loads on demand).
    let mut profile = Profile::open(&dir)?;
    profile.load_all_docs()?;
    Ok(Device { name, profile })
}

async fn sync(d: &mut Device) -> anyhow::Result<()> {
    d.profile.persist()?;
    jiuloop_cli::sync(&mut d.profile).await.map_err(|e| anyhow!("sync of {}: {e}", d.name))?;
    Ok(())
}

async fn seed_with(url: &str, devices: &Path, passwords: &[String]) -> anyhow::Result<String> {
    let pw: HashMap<&str, &str> = USERS.iter().zip(passwords).map(|(u, p)| (u.0, p.as_str())).collect();
    let mut dev: HashMap<&str, Device> = HashMap::new();
    for name in ["li", "wang", "chen", "zhang", "liu", "cai", "wu"] {
        let mut d = login(url, devices.join(name), name, pw[name]).await?;
        sync(&mut d).await?;
        dev.insert(name, d);
    }
    let now = jiuloop_cli::now_ms();

    // The reps' customers and visits, over the last three weeks.
    let mut customers: Vec<DocId> = Vec::new();
    for (i, (rep, name, channel, class, region, address)) in CUSTOMERS.iter().enumerate() {
        let d = dev.get_mut(rep).expect("a rep's device");
        let at = now - (21 - (i as i64 % 7)) * DAY;
        let phone = format!("0851-8{:03}{:04}", i * 7 % 1000, 1000 + i * 37);
        let territory = d.profile.territory()?.unwrap_or_default();
        let inputs: Vec<(&str, &str)> = vec![
            ("name", name),
            ("phone", &phone),
            ("channel", channel.as_str()),
            ("class", class.as_str()),
            ("region", region),
            ("address", address),
            ("owner", rep),
            ("territory", &territory),
        ];
        customers.push(d.profile.replica.create(protocol::DocKind::Customer, &inputs, at)?);
    }
    for (c, days, kind, notes, outcome, checked_in) in VISITS {
        let rep = CUSTOMERS[*c].0;
        let d = dev.get_mut(rep).expect("a rep's device");
        let at = now - days * DAY;
        let customer = customers[*c].to_string();
        let (lat, lng) = if rep == "chen" { CHENGDU } else { GUIYANG };
        let checkin_at = protocol::time::rfc3339(at);
        let (lat, lng) = ((lat + *c as i64 * 1_731).to_string(), (lng - *c as i64 * 2_113).to_string());
        let mut inputs: Vec<(&str, &str)> = vec![
            ("customer", &customer),
            ("kind", kind),
            ("method", "on-site"),
            ("notes", notes),
            ("outcome", outcome),
        ];
        if *checked_in {
            inputs.extend([("checkin_at", checkin_at.as_str()), ("checkin_lat", &lat), ("checkin_lng", &lng)]);
            inputs.push(("checkin_accuracy_m", "18"));
        }
        d.profile.replica.create(protocol::DocKind::Visit, &inputs, at)?;
    }

    // The orders, priced against the policy for each customer's channel.
    let mut orders: Vec<(DocId, &'static str, Plan)> = Vec::new();
    for (n, (c, plan, lines)) in ORDERS.iter().enumerate() {
        let rep = CUSTOMERS[*c].0;
        let d = dev.get_mut(rep).expect("a rep's device");
        let at = now - (12 - n as i64 % 10) * DAY;
        let policy = d.profile.replica.current_policy().ok_or_else(|| anyhow!("the policy did not reach {rep}"))?;
        let facts = CustomerFacts { id: customers[*c], channel: Some(CUSTOMERS[*c].2) };
        let probe: Vec<LineFacts> = lines
            .iter()
            .map(|(sku, _, _)| LineFacts {
                id: (*sku).into(),
                sku: (*sku).into(),
                spec: None,
                qty: 1,
                unit_price_fen: 1,
            })
            .collect();
        let priced = price_order(&policy.policy, &facts, &probe, at, Role::Rep);
        let new_lines: Vec<NewLine> = lines
            .iter()
            .zip(&priced.lines)
            .enumerate()
            .map(|(i, ((sku, qty, off), p))| {
                let list = p.expected_unit_price_fen.unwrap_or(10_000);
                NewLine {
                    id: format!("demo-{n}-{i}"),
                    sku: (*sku).into(),
                    spec: None,
                    qty: *qty,
                    unit_price_fen: list - list * off / 100,
                }
            })
            .collect();
        let delivery = chrono::DateTime::from_timestamp_millis(now + (3 + n as i64 % 9) * DAY)
            .map(|t| t.with_timezone(&protocol::time::shanghai()).format("%Y-%m-%d").to_string())
            .unwrap_or_default();
        let notes = match plan {
            Plan::Awaiting => "老客户，量大，申请特价",
            Plan::Rejected => "客户要求更低价格",
            _ => "",
        };
        let mut fields: Vec<(&str, &str)> = vec![
            ("delivery_date", &delivery),
            ("delivery_place", CUSTOMERS[*c].5),
            ("payment_method", "bank-transfer"),
        ];
        if !notes.is_empty() {
            fields.push(("notes", notes));
        }
        let id =
            d.profile.replica.create_order_with(customers[*c], OrderSource::Electronic, &new_lines, &fields, at)?;
        match plan {
            Plan::Draft => {}
            Plan::Cancelled => d.profile.replica.cancel_order(id, at + 3_600_000)?,
            _ => d.profile.replica.submit_order(id, at + 600_000)?,
        }
        orders.push((id, rep, *plan));
    }
    for rep in ["li", "wang", "chen"] {
        sync(dev.get_mut(rep).expect("rep")).await?;
    }

    // Managers decide.
    let step_at = now - 2 * DAY;
    for manager in ["zhang", "liu"] {
        let d = dev.get_mut(manager).expect("manager");
        sync(d).await?;
        for (id, _, plan) in &orders {
            if d.profile.replica.order(*id).is_err() {
                continue;
            }
            let waiting = d.profile.replica.approvals_queue().iter().any(|v| v.order.id == *id);
            match plan {
                Plan::Rejected if waiting => {
                    d.profile.replica.decide_order(*id, false, "折扣超出本季度政策，请按批发价重新报价", step_at)?
                }
                Plan::Awaiting | Plan::Rejected | Plan::Invalid | Plan::Draft | Plan::Cancelled => {}
                _ if waiting => d.profile.replica.decide_order(*id, true, "同意", step_at)?,
                _ => {}
            }
        }
        sync(d).await?;
    }

    // Finance confirms payments; logistics ships (and reports a delay on one).
    let paid = |p: Plan| matches!(p, Plan::Paid | Plan::Closed | Plan::Delivered | Plan::Exception);
    let shipped = |p: Plan| matches!(p, Plan::Shipped | Plan::Exception | Plan::Delivered | Plan::Closed);
    let d = dev.get_mut("cai").expect("finance");
    sync(d).await?;
    for (id, _, plan) in &orders {
        if paid(*plan) {
            d.profile.replica.confirm_payment(*id, step_at + 3_600_000)?;
        }
    }
    sync(d).await?;
    let d = dev.get_mut("wu").expect("logistics");
    sync(d).await?;
    for (n, (id, _, plan)) in orders.iter().enumerate() {
        if shipped(*plan) {
            let tracking = format!("SF{:010}", 1_234_567 + n * 7_919);
            d.profile.replica.ship_order(*id, "顺丰速运", &tracking, step_at + 7_200_000)?;
        }
        if *plan == Plan::Exception {
            d.profile.replica.order_exception(
                *id,
                ExceptionKind::Delayed,
                "暴雨封路，预计晚到两天",
                step_at + 10_800_000,
            )?;
        }
    }
    sync(d).await?;

    // The reps deliver (the customer signs on site) and close what is paid.
    for rep in ["li", "wang", "chen"] {
        let d = dev.get_mut(rep).expect("rep");
        sync(d).await?;
        for (id, owner, plan) in &orders {
            if owner != &rep {
                continue;
            }
            if matches!(plan, Plan::Delivered | Plan::Closed) {
                d.profile.replica.deliver_order(*id, Some("客户已签收，包装完好"), now - DAY)?;
            }
            if *plan == Plan::Closed {
                d.profile.replica.close_order(*id, now - DAY + 3_600_000)?;
            }
        }
        sync(d).await?;
    }
    Ok(format!(
        "{} users, {} customers, {} visits, {} orders",
        USERS.len(),
        CUSTOMERS.len(),
        VISITS.len(),
        ORDERS.len()
    ))
}
