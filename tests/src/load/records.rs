//! Documents shaped like real field records: customers with Chinese names, contacts,
//! an address and notes; orders with three lines of baijiu. Deterministic from a seed.

use crate::rng::Rng;
use client_core::{CoreError, Replica};
use protocol::DocId;
use protocol::schema::customer::NewCustomer;
use protocol::schema::order::NewLine;
use protocol::schema::{Channel, CustomerClass, OrderSource};

const SURNAMES: &[&str] =
    &["王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭"];
const GIVEN: &[&str] =
    &["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "涛", "明", "超"];
const CITIES: &[(&str, &str)] = &[
    ("四川", "成都"),
    ("四川", "宜宾"),
    ("四川", "泸州"),
    ("贵州", "贵阳"),
    ("贵州", "遵义"),
    ("重庆", "重庆"),
    ("湖南", "长沙"),
    ("河南", "郑州"),
];
const DISTRICTS: &[&str] = &["锦江区", "武侯区", "青羊区", "金牛区", "高新区", "南岸区", "红花岗区"];
const ROADS: &[&str] = &["人民南路", "春熙路", "建设路", "解放路", "中山路", "滨江路", "光华大道"];
const SHOP_KINDS: &[&str] = &["烟酒商行", "酒业有限公司", "名酒专卖店", "大酒店", "餐饮管理有限公司", "商贸有限公司"];
const TITLES: &[&str] = &["老板", "采购经理", "店长", "财务", "总经理"];
const NOTES: &[&str] = &[
    "客户对53度酱香系列兴趣较大，希望春节前备货，需跟进品鉴会安排。",
    "上次拜访反馈价格偏高，建议下次带上团购政策和陈列支持方案。",
    "店面位于商圈核心位置，客流量大，可考虑做形象店，老板比较爽快。",
    "主要做宴席市场，婚宴旺季在五月和十月，提前一个月联系。",
    "有稳定的企业团购客户，对发票和账期要求严格，需财务配合。",
];
const SKUS: &[(&str, &str, i64)] = &[
    ("JL-53-500", "53度 500ml×6", 128_800),
    ("JL-52-500", "52度 浓香 500ml×6", 59_800),
    ("JL-45-500", "45度 500ml×6", 39_800),
    ("JL-53-1000", "53度 1L 礼盒", 268_800),
    ("JL-42-250", "42度 250ml×12", 19_800),
];

fn person(rng: &mut Rng) -> String {
    let mut s = rng.pick(SURNAMES).to_string();
    for _ in 0..1 + usize::from(rng.chance(50)) {
        let given = rng.pick::<&str>(GIVEN);
        s.push_str(given);
    }
    s
}

fn phone(rng: &mut Rng) -> String {
    format!("1{}{:09}", [3, 5, 7, 8, 9][rng.below(5)], rng.next_u64() % 1_000_000_000)
}

/// Create one realistic customer (five local changes, as a rep filling a form then
/// adding two contacts, the address and notes would make). Returns its id.
pub fn create_customer(
    replica: &mut Replica,
    rng: &mut Rng,
    territory: &str,
    n: usize,
    now: i64,
) -> Result<DocId, CoreError> {
    let (province, city) = *rng.pick(CITIES);
    let name = format!("{city}{}{}{n}号", person(rng), rng.pick(SHOP_KINDS));
    let channels =
        [Channel::Distributor, Channel::DirectStore, Channel::ECommerce, Channel::GroupPurchase, Channel::Restaurant];
    let new = NewCustomer {
        name,
        phone: Some(phone(rng)),
        channel: Some(*rng.pick(&channels)),
        class: Some(*rng.pick(&[CustomerClass::A, CustomerClass::B, CustomerClass::C])),
        region: Some(format!("{province}{city}")),
        territory: Some(territory.to_string()),
        ..Default::default()
    };
    let id = replica.create_customer(&new, now)?;
    for _ in 0..2 {
        let (p, t) = (phone(rng), rng.pick(TITLES).to_string());
        replica.add_contact(id, &person(rng), Some(&p), Some(&t), now)?;
    }
    let address = format!("{province}省{city}市{}{}{}号", rng.pick(DISTRICTS), rng.pick(ROADS), 1 + rng.below(300));
    replica.set_customer(id, "address", &address, now)?;
    let notes = rng.pick::<&str>(NOTES);
    replica.set_customer(id, "notes", notes, now)?;
    Ok(id)
}

/// Create one order of `customer` with `lines` lines (one change per line, as the CLI's
/// `order new` + `order add-line` make).
pub fn create_order(
    replica: &mut Replica,
    rng: &mut Rng,
    customer: DocId,
    lines: usize,
    now: i64,
) -> Result<DocId, CoreError> {
    let source = *rng.pick(&[OrderSource::Written, OrderSource::Electronic, OrderSource::Verbal]);
    let id = replica.create_order(customer, source, now)?;
    for _ in 0..lines {
        replica.add_order_line(id, &line(rng, None), now)?;
    }
    Ok(id)
}

/// A random order line; `token` (if any) becomes its id and SKU, so that its arrival on
/// another device can be recognised.
pub fn line(rng: &mut Rng, token: Option<&str>) -> NewLine {
    let (sku, spec, price) = *rng.pick(SKUS);
    NewLine {
        id: token.map_or_else(|| DocId::new_random().to_string(), str::to_string),
        sku: token.unwrap_or(sku).to_string(),
        spec: Some(spec.to_string()),
        qty: 1 + rng.below(50) as i64,
        unit_price_fen: price,
    }
}

/// Create `count` documents for a rep: half customers, half orders of those customers
/// (an odd count gets one more customer). Returns (customers, orders).
pub fn create_portfolio(
    replica: &mut Replica,
    rng: &mut Rng,
    territory: &str,
    count: usize,
    now: i64,
) -> Result<(Vec<DocId>, Vec<DocId>), CoreError> {
    let n_customers = count.div_ceil(2).max(usize::from(count > 0));
    let n_orders = count - n_customers.min(count);
    let mut customers = Vec::with_capacity(n_customers);
    for i in 0..n_customers.min(count) {
        customers.push(create_customer(replica, rng, territory, i, now)?);
    }
    let mut orders = Vec::with_capacity(n_orders);
    for i in 0..n_orders {
        orders.push(create_order(replica, rng, customers[i % customers.len()], 3, now)?);
    }
    Ok((customers, orders))
}
