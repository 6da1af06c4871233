//! The per-day sales rollup against the facts it is derived from: on a seeded random data
//! set (orders written before and after their customers, rewritten, cancelled; customers
//! moving territory, region and channel; SKUs with and without a series or a cost; times
//! around Shanghai midnight), every revenue, volume and profit table read from the rollup
//! equals the one computed from the orders themselves, for every period kind, breakdown,
//! filter and reader's scope; and a rebuild in another order leaves the same cells.

use super::indicators::{Dim, Filters, Indicator, Query, Scope};
use super::period::PeriodKind;
use super::{run, run_on_facts};
use crate::storage::analytics::{
    AnalyticsStore, CustomerFact, LineFact, OrderCount, OrderFact, SalesDim, SalesQuery, SqliteAnalytics,
};
use chrono::NaiveDate;

/// splitmix64: a seeded generator for the data set.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }
}

const TERRITORIES: [Option<&str>; 4] = [Some("贵州"), Some("四川"), Some("云南"), None];
const REGIONS: [Option<&str>; 3] = [Some("西南"), Some("华东"), None];
const CHANNELS: [Option<&str>; 4] = [Some("restaurant"), Some("distributor"), Some("direct-store"), None];
const REPS: [&str; 5] = ["li", "wang", "zhou", "chen", "wu"];
/// SKU, series, bottles per case.
const SKUS: [(&str, Option<&str>, i64); 6] = [
    ("QY-53-500", Some("黔韵"), 6),
    ("QY-53-250", Some("黔韵"), 12),
    ("SC-52-500", Some("蜀醇"), 6),
    ("SC-52-500X6", Some("蜀醇"), 6),
    ("JX-42-500", Some("晋香"), 12),
    ("GIFT-BOX", None, 1),
];

fn opt(v: &Option<&str>) -> Option<String> {
    v.map(String::from)
}

fn customer(rng: &mut Rng, id: u8) -> CustomerFact {
    let owner = *rng.pick(&REPS);
    CustomerFact {
        id: vec![1, id],
        name: format!("客户{id}"),
        territory: opt(rng.pick(&TERRITORIES)),
        region: opt(rng.pick(&REGIONS)),
        channel: opt(rng.pick(&CHANNELS)),
        owner: (rng.below(5) > 0).then(|| owner.to_string()),
        created_by: owner.into(),
        created_at: 0,
        class: None,
        class_changes: vec![],
    }
}

fn order(rng: &mut Rng, id: u32, customers: u8) -> OrderFact {
    // 2025-01-01 … 2026-12-31 in Shanghai; a quarter of them within a minute of a midnight.
    let start = protocol::time::parse_rfc3339("2024-12-31T16:00:00Z").unwrap();
    let day = rng.below(730) as i64;
    let within =
        if rng.below(4) == 0 { 86_400_000 - 60_000 + rng.below(120_000) as i64 } else { rng.below(86_400_000) as i64 };
    let lines = (0..rng.below(5))
        .map(|n| {
            let (sku, series, per_case) = *rng.pick(&SKUS);
            let case = rng.below(2) == 0;
            let qty = 1 + rng.below(30) as i64;
            LineFact {
                line_id: n.to_string(),
                sku: sku.into(),
                series: series.map(String::from),
                unit: if case { "case" } else { "bottle" }.into(),
                qty,
                bottles: if case { qty * per_case } else { qty },
                bottles_per_case: per_case,
                amount_fen: qty * (1_000 + rng.below(100_000) as i64),
            }
        })
        .collect::<Vec<_>>();
    let counted = rng.below(5) > 0;
    OrderFact {
        id: id.to_be_bytes().to_vec(),
        // Mostly a known customer; some unknown, some none.
        customer: match rng.below(12) {
            0 => None,
            1 => Some(vec![9, 9]),
            _ => Some(vec![1, rng.below(u64::from(customers)) as u8]),
        },
        rep: rng.pick(&REPS).to_string(),
        territory: opt(rng.pick(&TERRITORIES)),
        status: if counted { "confirmed" } else { "cancelled" }.into(),
        counted,
        ordered_at: start + day * 86_400_000 + within,
        confirmed_at: None,
        cancelled_after_confirmation: !counted && rng.below(2) == 0,
        exceptions: String::new(),
        total_fen: lines.iter().map(|l| l.amount_fen).sum(),
        seq: i64::from(id),
        lines,
    }
}

struct Dir(std::path::PathBuf);
impl Dir {
    fn new() -> Self {
        let p = std::env::temp_dir().join(format!("jiuloop-rollup-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&p).unwrap();
        Dir(p)
    }
}
impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Every cell of the rollup, by day and SKU with every dimension in the key.
fn cells(s: &dyn AnalyticsStore) -> Vec<String> {
    let mut out = Vec::new();
    for by in [SalesDim::Territory, SalesDim::Region, SalesDim::Rep, SalesDim::Channel, SalesDim::Sku] {
        for (orders, by_month) in
            [(OrderCount::Cell, false), (OrderCount::Series, false), (OrderCount::All, false), (OrderCount::All, true)]
        {
            let q = SalesQuery {
                from_day: 10_000_101,
                to_day: 30_000_101,
                by_month,
                by,
                orders,
                costs: true,
                territory: None,
                region: None,
                rep: None,
                channel: None,
                series: None,
                sku: None,
                territories: None,
            };
            out.extend(s.sales(&q).unwrap().into_iter().map(|b| format!("{by:?} {orders:?} {by_month} {b:?}")));
        }
    }
    out
}

#[test]
fn the_rollup_gives_the_figures_of_the_facts() {
    let dir = Dir::new();
    let store = SqliteAnalytics::open_in(&dir.0).unwrap();
    let mut rng = Rng(13);
    let n_customers = 24u8;
    let mut customers: Vec<CustomerFact> = (0..n_customers).map(|i| customer(&mut rng, i)).collect();
    let mut orders: Vec<OrderFact> = (0..900).map(|i| order(&mut rng, i, n_customers)).collect();
    store.begin().unwrap();
    // Half the customers before the orders, half after (orders arriving first).
    for c in &customers[..12] {
        store.put_customer(c).unwrap();
    }
    for o in &orders {
        store.put_order(o).unwrap();
    }
    for c in &customers[12..] {
        store.put_customer(c).unwrap();
    }
    // Rewrites: orders changing date, lines, customer and whether they count; customers
    // moving (or only renamed).
    for _ in 0..300 {
        let i = rng.below(orders.len() as u64) as usize;
        let mut o = order(&mut rng, i as u32, n_customers);
        if rng.below(2) == 0 {
            o.lines = orders[i].lines.clone();
        }
        orders[i] = o;
        store.put_order(&orders[i]).unwrap();
        if rng.below(4) == 0 {
            let k = rng.below(u64::from(n_customers)) as usize;
            let mut c = customer(&mut rng, k as u8);
            if rng.below(3) == 0 {
                c = CustomerFact { name: "改名".into(), ..customers[k].clone() };
            }
            customers[k] = c;
            store.put_customer(&customers[k]).unwrap();
        }
    }
    store.commit().unwrap();
    for (sku, cost) in [("QY-53-500", 40_000), ("SC-52-500", 9_000), ("GIFT-BOX", 500)] {
        store.set_cost(sku, Some(cost)).unwrap();
    }
    assert!(store.counts().unwrap().sales_days > 500);

    let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
    let filters = [
        Filters::default(),
        Filters { territory: Some("贵州".into()), ..Default::default() },
        Filters { region: Some("西南".into()), ..Default::default() },
        Filters { rep: Some("li".into()), ..Default::default() },
        Filters { channel: Some("restaurant".into()), ..Default::default() },
        Filters { series: Some("黔韵".into()), ..Default::default() },
        Filters { sku: Some("SC-52-500".into()), ..Default::default() },
        Filters { series: Some("蜀醇".into()), channel: Some("distributor".into()), ..Default::default() },
    ];
    let scopes = [Scope::All, Scope::Territories(vec!["贵州".into(), "四川".into()]), Scope::Own("wang".into())];
    let dims = [Dim::Total, Dim::Territory, Dim::Region, Dim::Rep, Dim::Channel, Dim::Series, Dim::Sku];
    let mut compared = 0;
    let mut rows = 0;
    for indicator in [Indicator::Revenue, Indicator::Volume, Indicator::Profit] {
        for period in [PeriodKind::Day, PeriodKind::Week, PeriodKind::Month, PeriodKind::Quarter, PeriodKind::Year] {
            // Days over a month, weeks over a quarter (their year before included), the
            // others over 2026.
            let (from, to) = match period {
                PeriodKind::Day => (d(2026, 1, 1), d(2026, 1, 31)),
                PeriodKind::Week => (d(2026, 1, 1), d(2026, 3, 31)),
                _ => (d(2026, 1, 1), d(2026, 12, 31)),
            };
            for by in dims {
                for f in &filters {
                    for scope in &scopes {
                        let q = Query { indicator, period, from, to, by, filters: f.clone() };
                        let want = run_on_facts(&store, &q, scope).unwrap();
                        let got = run(&store, &q, scope).unwrap();
                        assert_eq!(got, want, "{q:?} {scope:?}");
                        compared += 1;
                        rows += want.rows.len();
                    }
                }
            }
        }
    }
    assert_eq!(compared, 3 * 5 * 7 * 8 * 3);
    assert!(rows > 10_000, "the comparison saw figures: {rows} rows");

    // A rebuild in another order (customers first, each order once as it is now) leaves
    // the same cells.
    let before = cells(&store);
    store.begin().unwrap();
    store.clear().unwrap();
    assert_eq!(store.counts().unwrap().sales_days, 0);
    for c in &customers {
        store.put_customer(c).unwrap();
    }
    for o in orders.iter().rev() {
        store.put_order(o).unwrap();
    }
    store.commit().unwrap();
    assert_eq!(cells(&store), before);
}
