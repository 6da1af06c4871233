//! The competitor observations of a report's period summarised by brand, SKU and region:
//! how many were seen, the lowest, median and highest shelf price, and the promotions seen.
//! Computed — never typed — by the server into the report's summary document when the
//! report is published, and by the market department's devices as a preview before.
//!
//! - **SKU**: the product with its spec (`普五 500ml`), spaces collapsed; brand and region
//!   likewise, so `五粮液` and ` 五粮液 ` are one brand.
//! - **region**: the customer's region, else its territory, else `—`.
//! - **median**: of an even count, the mean of the two middle prices, rounded down to the fen.
//! - **period**: observations whose date in Asia/Shanghai lies within the report's period
//!   (both ends included) — by the server, the observed time clamped around its arrival
//!   ([`crate::kinds::CLIENT_TIME`]).

use chrono::NaiveDate;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// One observation as the summary sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Observation {
    pub brand: String,
    pub product: String,
    pub spec: String,
    /// Region (or territory) of the customer it was seen at.
    pub region: String,
    pub price_fen: i64,
    pub promotion: String,
    /// When it was observed (UTC ms).
    pub at: i64,
    /// The customer's territory (for a report limited to one).
    pub territory: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SummaryRow {
    pub brand: String,
    pub sku: String,
    pub region: String,
    pub count: i64,
    pub min_fen: i64,
    pub median_fen: i64,
    pub max_fen: i64,
    pub promotions: Vec<String>,
}

fn clean(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The SKU an observation is counted under: product and spec.
pub fn sku(product: &str, spec: &str) -> String {
    clean(&format!("{product} {spec}"))
}

/// The median of sorted prices (see the module docs); 0 for none.
pub fn median(sorted: &[i64]) -> i64 {
    match sorted.len() {
        0 => 0,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2,
    }
}

/// Does the observation fall into the period (Asia/Shanghai dates, both ends included) and
/// the territory (`None`: every territory)?
pub fn selected(o: &Observation, at: i64, from: NaiveDate, to: NaiveDate, territory: Option<&str>) -> bool {
    let day = crate::time::shanghai_date(at);
    from <= day && day <= to && territory.is_none_or(|t| t.trim() == o.territory.trim())
}

/// A summary row's group: brand, SKU, region.
type Key = (String, String, String);

/// The summary rows, by brand, SKU, region.
pub fn summarize<'a>(observations: impl IntoIterator<Item = &'a Observation>) -> Vec<SummaryRow> {
    let mut groups: BTreeMap<Key, (Vec<i64>, BTreeSet<String>)> = BTreeMap::new();
    for o in observations {
        let region = Some(clean(&o.region)).filter(|r| !r.is_empty()).unwrap_or_else(|| "—".into());
        let g = groups.entry((clean(&o.brand), sku(&o.product, &o.spec), region)).or_default();
        g.0.push(o.price_fen);
        let promo = clean(&o.promotion);
        if !promo.is_empty() {
            g.1.insert(promo);
        }
    }
    groups
        .into_iter()
        .map(|((brand, sku, region), (mut prices, promos))| {
            prices.sort_unstable();
            SummaryRow {
                brand,
                sku,
                region,
                count: prices.len() as i64,
                min_fen: prices[0],
                median_fen: median(&prices),
                max_fen: prices[prices.len() - 1],
                promotions: promos.into_iter().collect(),
            }
        })
        .collect()
}

/// The rows as CSV (UTF-8 with a BOM so spreadsheets read the Chinese; prices in yuan).
pub fn csv(rows: &[SummaryRow], zh: bool) -> String {
    let header = if zh {
        "品牌,产品,区域,观察数,最低价,中位价,最高价,促销活动"
    } else {
        "brand,sku,region,count,min,median,max,promotions"
    };
    let mut out = format!("\u{feff}{header}\r\n");
    let fen = crate::schema::order::format_fen;
    for r in rows {
        let cells = [
            csv_cell(&r.brand),
            csv_cell(&r.sku),
            csv_cell(&r.region),
            r.count.to_string(),
            fen(r.min_fen),
            fen(r.median_fen),
            fen(r.max_fen),
            csv_cell(&r.promotions.join("；")),
        ];
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    out
}

/// A CSV field, quoted when it must be (RFC 4180); a leading `=`, `+`, `-` or `@` is
/// quoted with a `'` so spreadsheets do not run it as a formula.
pub fn csv_cell(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) { format!("'{s}") } else { s.to_string() };
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(brand: &str, product: &str, spec: &str, region: &str, price: i64, promo: &str) -> Observation {
        Observation {
            brand: brand.into(),
            product: product.into(),
            spec: spec.into(),
            region: region.into(),
            price_fen: price,
            promotion: promo.into(),
            at: 0,
            territory: "贵州".into(),
        }
    }

    /// Issue 12's test: a seeded set of observations, summarised, checked against an
    /// independent computation (every group recounted by brute force: each price compared
    /// with every other for min and max, the median from the k-th smallest prices found
    /// by counting, not sorting).
    #[test]
    fn summary_min_median_max_per_brand_sku_region_against_an_independent_computation() {
        let brands = ["五粮液", "汾酒", " 五粮液 "];
        let products = [("普五", "500ml"), ("青花20", "500ml"), ("普五", "")];
        let regions = ["贵阳", "遵义", ""];
        let promos = ["", "中秋满减", "买二送一"];
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let mut all = Vec::new();
        for _ in 0..400 {
            let (p, s) = products[next(3) as usize];
            all.push(obs(
                brands[next(3) as usize],
                p,
                s,
                regions[next(3) as usize],
                50_000 + next(120_000) as i64,
                promos[next(3) as usize],
            ));
        }
        let rows = summarize(&all);

        // Independent: group by the cleaned key with a linear scan, no sorting.
        let key = |o: &Observation| {
            let c = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
            let region = if c(&o.region).is_empty() { "—".to_string() } else { c(&o.region) };
            (c(&o.brand), c(&format!("{} {}", o.product, o.spec)), region)
        };
        let mut keys: Vec<(String, String, String)> = Vec::new();
        for o in &all {
            if !keys.contains(&key(o)) {
                keys.push(key(o));
            }
        }
        assert_eq!(rows.len(), keys.len());
        for k in &keys {
            let prices: Vec<i64> = all.iter().filter(|o| key(o) == *k).map(|o| o.price_fen).collect();
            let min = *prices.iter().find(|p| prices.iter().all(|q| *p <= q)).unwrap();
            let max = *prices.iter().find(|p| prices.iter().all(|q| *p >= q)).unwrap();
            // The k-th smallest: the price with fewer than k below it and at least k at or below.
            let n = prices.len();
            let kth = |k: usize| {
                *prices
                    .iter()
                    .find(|p| {
                        let below = prices.iter().filter(|q| q < p).count();
                        below < k && k <= prices.iter().filter(|q| q <= p).count()
                    })
                    .unwrap()
            };
            let median = if n % 2 == 1 { kth(n / 2 + 1) } else { (kth(n / 2) + kth(n / 2 + 1)) / 2 };
            let mut promos: Vec<String> =
                all.iter().filter(|o| key(o) == *k && !o.promotion.is_empty()).map(|o| o.promotion.clone()).collect();
            promos.sort();
            promos.dedup();
            let row = rows.iter().find(|r| (r.brand.clone(), r.sku.clone(), r.region.clone()) == *k).unwrap();
            assert_eq!(
                (row.count, row.min_fen, row.median_fen, row.max_fen, &row.promotions),
                (n as i64, min, median, max, &promos),
                "{k:?}"
            );
        }
        // The brand written with spaces is the same brand; a missing region reads "—".
        assert!(rows.iter().all(|r| r.brand != " 五粮液 "));
        assert!(rows.iter().any(|r| r.region == "—"));
        assert!(rows.iter().any(|r| r.sku == "普五"));
        // Small, by hand: an even count's median is the floor of the middle two's mean.
        let four = [
            obs("a", "x", "", "r", 100, ""),
            obs("a", "x", "", "r", 301, ""),
            obs("a", "x", "", "r", 200, ""),
            obs("a", "x", "", "r", 900, ""),
        ];
        let r = &summarize(&four)[0];
        assert_eq!((r.min_fen, r.median_fen, r.max_fen), (100, 250, 900));
        let csv = csv(&summarize(&four), true);
        assert!(csv.starts_with("\u{feff}品牌,产品"), "{csv}");
        assert!(csv.contains("a,x,r,4,1.00,2.50,9.00,\r\n"), "{csv}");
        assert_eq!(csv_cell("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
    }

    #[test]
    fn period_and_territory_select_in_shanghai_time() {
        let o = obs("a", "x", "", "r", 1, "");
        let from = crate::time::parse_date("2026-03-01").unwrap();
        let to = crate::time::parse_date("2026-03-31").unwrap();
        let at = |s: &str| crate::time::parse_rfc3339(s).unwrap();
        assert!(selected(&o, at("2026-02-28T16:00:00Z"), from, to, None), "00:00 on 1 March in Shanghai");
        assert!(!selected(&o, at("2026-02-28T15:59:59Z"), from, to, None));
        assert!(selected(&o, at("2026-03-31T15:59:59Z"), from, to, Some("贵州")));
        assert!(!selected(&o, at("2026-03-31T16:00:00Z"), from, to, None));
        assert!(!selected(&o, at("2026-03-10T00:00:00Z"), from, to, Some("四川")));
    }
}
