//! The indicators as pure functions over the read model's rows: revenue, volume,
//! gross profit, new customers, A/B/C conversion, complaints (resolution time, SLA breach
//! rate) and visits — by period (day/week/month/quarter/year, Asia/Shanghai), by territory,
//! region, rep, channel, series or SKU, filtered by any of them, each figure with the
//! period before and the same period a year before.
//!
//! Attribution: an order counts for the rep who wrote it; its territory, region and channel
//! are its customer's (as the customer reads now; the order's own territory when the
//! customer is unknown). Customers, their class changes and complaints count for the
//! customer's owner (else who created / filed it); visits for the visiting rep.
//!
//! Units: money integer fen; `cases_x100` is hundredths of a case (each line's bottles ×
//! 100 ÷ bottles per case, rounded down per line); `minutes` whole minutes (rounded down);
//! `bp` basis points (1/10 000, rounded down).

use super::period::{Period, PeriodKind, local_date, local_midnight};
use crate::storage::analytics::{
    ComplaintFact, CustomerFact, OrderCount, OrderFact, SalesBucket, SalesDim, SalesQuery, VisitFact, day_number,
};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Indicator {
    Revenue,
    Volume,
    Profit,
    NewCustomers,
    Conversion,
    Complaints,
    Visits,
}

impl Indicator {
    pub const ALL: [Indicator; 7] = [
        Indicator::Revenue,
        Indicator::Volume,
        Indicator::Profit,
        Indicator::NewCustomers,
        Indicator::Conversion,
        Indicator::Complaints,
        Indicator::Visits,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Indicator::Revenue => "revenue",
            Indicator::Volume => "volume",
            Indicator::Profit => "profit",
            Indicator::NewCustomers => "new_customers",
            Indicator::Conversion => "conversion",
            Indicator::Complaints => "complaints",
            Indicator::Visits => "visits",
        }
    }

    /// The columns of its table: (name, unit).
    pub fn columns(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Indicator::Revenue => &[("revenue_fen", "fen"), ("orders", "count")],
            Indicator::Volume => &[("bottles", "bottles"), ("cases_x100", "cases_x100")],
            Indicator::Profit => {
                &[("revenue_fen", "fen"), ("cost_fen", "fen"), ("profit_fen", "fen"), ("lines_without_cost", "count")]
            }
            Indicator::NewCustomers => &[("new_customers", "count")],
            Indicator::Conversion => &[
                ("to_a", "count"),
                ("to_b", "count"),
                ("to_c", "count"),
                ("upgrades", "count"),
                ("downgrades", "count"),
            ],
            Indicator::Complaints => &[
                ("filed", "count"),
                ("resolved", "count"),
                ("avg_resolution_minutes", "minutes"),
                ("ack_breaches", "count"),
                ("resolve_breaches", "count"),
                ("breach_rate_bp", "bp"),
            ],
            Indicator::Visits => &[("visits", "count"), ("customers_visited", "count")],
        }
    }

    /// Whether the rows can be broken down by product (series, SKU).
    fn by_product(self) -> bool {
        matches!(self, Indicator::Revenue | Indicator::Volume | Indicator::Profit)
    }
}

impl std::str::FromStr for Indicator {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Indicator::ALL.into_iter().find(|i| i.as_str() == s).ok_or_else(|| {
            format!("unknown indicator '{s}' (revenue, volume, profit, new_customers, conversion, complaints, visits)")
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dim {
    Total,
    Territory,
    Region,
    Rep,
    Channel,
    Series,
    Sku,
}

impl std::str::FromStr for Dim {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "" | "total" => Dim::Total,
            "territory" => Dim::Territory,
            "region" => Dim::Region,
            "rep" => Dim::Rep,
            "channel" => Dim::Channel,
            "series" => Dim::Series,
            "sku" => Dim::Sku,
            _ => return Err(format!("unknown breakdown '{s}' (total, territory, region, rep, channel, series, sku)")),
        })
    }
}

impl Dim {
    pub fn as_str(self) -> &'static str {
        match self {
            Dim::Total => "total",
            Dim::Territory => "territory",
            Dim::Region => "region",
            Dim::Rep => "rep",
            Dim::Channel => "channel",
            Dim::Series => "series",
            Dim::Sku => "sku",
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filters {
    pub territory: Option<String>,
    pub region: Option<String>,
    pub rep: Option<String>,
    pub channel: Option<String>,
    pub series: Option<String>,
    pub sku: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Query {
    pub indicator: Indicator,
    pub period: PeriodKind,
    /// First and last day (inclusive, Asia/Shanghai).
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub by: Dim,
    pub filters: Filters,
}

impl Query {
    /// The periods shown: those containing `from` … `to`.
    pub fn periods(&self) -> Vec<Period> {
        let mut out = Vec::new();
        let mut p = Period::containing(self.period, self.from);
        while p.start <= self.to && out.len() < 5000 {
            out.push(p);
            p = p.next();
        }
        out
    }

    /// The UTC range of rows needed: from a year (and a period) before the first period
    /// to the end of the last.
    pub fn data_range(&self) -> (i64, i64) {
        let periods = self.periods();
        let (Some(first), Some(last)) = (periods.first(), periods.last()) else {
            return (0, 0);
        };
        let start = first.year_before().start.min(first.previous().start);
        (local_midnight(start), local_midnight(last.end()))
    }
}

/// Whose figures a reader sees.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    All,
    /// A manager: these territories.
    Territories(Vec<String>),
    /// A rep: their own.
    Own(String),
}

/// The rows an indicator is computed over.
#[derive(Clone, Debug, Default)]
pub struct Data {
    pub orders: Vec<OrderFact>,
    pub customers: Vec<CustomerFact>,
    pub visits: Vec<VisitFact>,
    pub complaints: Vec<ComplaintFact>,
    /// Cost per unit by SKU (fen).
    pub costs: HashMap<String, i64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Column {
    pub name: &'static str,
    pub unit: &'static str,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TableRow {
    pub period: String,
    /// The breakdown's value (`""` for the total; `"-"` when unknown).
    pub key: String,
    pub values: Vec<i64>,
    /// The same key in the period before (`None`: no figures then).
    pub previous: Vec<Option<i64>>,
    /// The same key in the same period a year before.
    pub year_ago: Vec<Option<i64>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Table {
    pub indicator: &'static str,
    pub period: &'static str,
    pub by: &'static str,
    pub columns: Vec<Column>,
    pub rows: Vec<TableRow>,
}

/// Attributes of one counted thing, for filters and breakdowns.
#[derive(Default)]
struct Attrs<'a> {
    territory: Option<&'a str>,
    region: Option<&'a str>,
    rep: Option<&'a str>,
    channel: Option<&'a str>,
    series: Option<&'a str>,
    sku: Option<&'a str>,
}

impl<'a> Attrs<'a> {
    fn of_customer(c: Option<&'a CustomerFact>, rep: Option<&'a str>) -> Self {
        Attrs {
            territory: c.and_then(|c| c.territory.as_deref()),
            region: c.and_then(|c| c.region.as_deref()),
            channel: c.and_then(|c| c.channel.as_deref()),
            rep,
            ..Default::default()
        }
    }

    fn passes(&self, f: &Filters, scope: &Scope) -> bool {
        let ok = |want: &Option<String>, have: Option<&str>| want.as_deref().is_none_or(|w| have == Some(w));
        let in_scope = match scope {
            Scope::All => true,
            Scope::Territories(t) => self.territory.is_some_and(|x| t.iter().any(|y| y == x)),
            Scope::Own(u) => self.rep == Some(u.as_str()),
        };
        in_scope
            && ok(&f.territory, self.territory)
            && ok(&f.region, self.region)
            && ok(&f.rep, self.rep)
            && ok(&f.channel, self.channel)
            && ok(&f.series, self.series)
            && ok(&f.sku, self.sku)
    }

    fn key(&self, by: Dim) -> String {
        let v = match by {
            Dim::Total => return String::new(),
            Dim::Territory => self.territory,
            Dim::Region => self.region,
            Dim::Rep => self.rep,
            Dim::Channel => self.channel,
            Dim::Series => self.series,
            Dim::Sku => self.sku,
        };
        v.filter(|v| !v.is_empty()).unwrap_or("-").to_string()
    }
}

/// Accumulated figures of one (period, key).
#[derive(Clone, Debug, Default)]
struct Acc {
    sums: Vec<i64>,
    /// Distinct things counted (orders, customers visited).
    distinct: BTreeSet<Vec<u8>>,
    /// Resolution minutes and how many resolved (for the average); complaints with a breach.
    resolved_minutes: i64,
    breached: i64,
}

fn class_rank(c: Option<&str>) -> i64 {
    match c {
        Some("A") => 3,
        Some("B") => 2,
        Some("C") => 1,
        _ => 0,
    }
}

/// Compute an indicator's table. Errors say what cannot be asked (a product breakdown of a
/// customer indicator).
pub fn compute(q: &Query, scope: &Scope, data: &Data) -> Result<Table, String> {
    let ind = q.indicator;
    let product = matches!(q.by, Dim::Series | Dim::Sku) || q.filters.series.is_some() || q.filters.sku.is_some();
    if product && !ind.by_product() {
        return Err(format!("{} cannot be broken down or filtered by product (series, SKU)", ind.as_str()));
    }
    let ncol = ind.columns().len();
    let customers: HashMap<&[u8], &CustomerFact> = data.customers.iter().map(|c| (c.id.as_slice(), c)).collect();
    let customer_rep = |c: &'_ CustomerFact| c.owner.clone().unwrap_or_else(|| c.created_by.clone());
    let mut acc: HashMap<(Period, String), Acc> = HashMap::new();
    let kind = q.period;
    fn slot(acc: &mut HashMap<(Period, String), Acc>, p: Period, key: String, ncol: usize) -> &mut Acc {
        let e = acc.entry((p, key)).or_default();
        if e.sums.is_empty() {
            e.sums = vec![0; ncol];
        }
        e
    }
    macro_rules! add {
        ($at:expr, $key:expr) => {
            slot(&mut acc, Period::of(kind, $at), $key, ncol)
        };
    }
    match ind {
        Indicator::Revenue | Indicator::Volume | Indicator::Profit => {
            for o in data.orders.iter().filter(|o| o.counted) {
                let c = o.customer.as_deref().and_then(|id| customers.get(id).copied());
                let mut base = Attrs::of_customer(c, Some(o.rep.as_str()));
                if base.territory.is_none_or(str::is_empty) {
                    base.territory = o.territory.as_deref();
                }
                for l in &o.lines {
                    let a = Attrs { series: l.series.as_deref(), sku: Some(l.sku.as_str()), ..base };
                    if !a.passes(&q.filters, scope) {
                        continue;
                    }
                    let e = add!(o.ordered_at, a.key(q.by));
                    match ind {
                        Indicator::Revenue => {
                            e.sums[0] += l.amount_fen;
                            e.distinct.insert(o.id.clone());
                            e.sums[1] = e.distinct.len() as i64;
                        }
                        Indicator::Volume => {
                            e.sums[0] += l.bottles;
                            e.sums[1] += l.bottles * 100 / l.bottles_per_case.max(1);
                        }
                        _ => match data.costs.get(&l.sku) {
                            Some(cost) => {
                                let c = cost.saturating_mul(l.qty);
                                e.sums[0] += l.amount_fen;
                                e.sums[1] += c;
                                e.sums[2] += l.amount_fen - c;
                            }
                            None => e.sums[3] += 1,
                        },
                    }
                }
            }
        }
        Indicator::NewCustomers | Indicator::Conversion => {
            for c in &data.customers {
                let rep = customer_rep(c);
                let a = Attrs::of_customer(Some(c), Some(rep.as_str()));
                if !a.passes(&q.filters, scope) {
                    continue;
                }
                if ind == Indicator::NewCustomers {
                    add!(c.created_at, a.key(q.by)).sums[0] += 1;
                    continue;
                }
                for ch in &c.class_changes {
                    let e = add!(ch.at, a.key(q.by));
                    match ch.to.as_str() {
                        "A" => e.sums[0] += 1,
                        "B" => e.sums[1] += 1,
                        _ => e.sums[2] += 1,
                    }
                    let (from, to) = (class_rank(ch.from.as_deref()), class_rank(Some(ch.to.as_str())));
                    if from > 0 && to > from {
                        e.sums[3] += 1;
                    } else if from > 0 && to < from {
                        e.sums[4] += 1;
                    }
                }
            }
        }
        Indicator::Complaints => {
            for k in &data.complaints {
                let c = k.customer.as_deref().and_then(|id| customers.get(id).copied());
                let rep = c.map(customer_rep).unwrap_or_else(|| k.filed_by.clone());
                let a = Attrs::of_customer(c, Some(rep.as_str()));
                if !a.passes(&q.filters, scope) {
                    continue;
                }
                let e = add!(k.received_at, a.key(q.by));
                e.sums[0] += 1;
                if let Some(r) = k.resolved_at {
                    e.sums[1] += 1;
                    e.resolved_minutes += (r - k.received_at).max(0) / 60_000;
                    e.sums[2] = e.resolved_minutes / e.sums[1];
                }
                e.sums[3] += i64::from(k.ack_breached);
                e.sums[4] += i64::from(k.resolve_breached);
                e.breached += i64::from(k.ack_breached || k.resolve_breached);
                e.sums[5] = e.breached * 10_000 / e.sums[0];
            }
        }
        Indicator::Visits => {
            for v in &data.visits {
                let c = v.customer.as_deref().and_then(|id| customers.get(id).copied());
                let a = Attrs::of_customer(c, Some(v.rep.as_str()));
                if !a.passes(&q.filters, scope) {
                    continue;
                }
                let e = add!(v.at, a.key(q.by));
                e.sums[0] += 1;
                if let Some(c) = &v.customer {
                    e.distinct.insert(c.clone());
                }
                e.sums[1] = e.distinct.len() as i64;
            }
        }
    }
    let sums = acc.into_iter().map(|(k, a)| (k, a.sums)).collect();
    Ok(table(q, sums))
}

/// The table of the periods `q` shows from the figures per (period, key) — the shown
/// periods' and those before them.
fn table(q: &Query, acc: HashMap<(Period, String), Vec<i64>>) -> Table {
    let ind = q.indicator;
    let ncol = ind.columns().len();
    let periods = q.periods();
    let shown: BTreeSet<Period> = periods.iter().copied().collect();
    let mut rows: BTreeMap<(Period, String), Vec<i64>> = BTreeMap::new();
    for ((p, k), a) in &acc {
        if shown.contains(p) {
            rows.insert((*p, k.clone()), a.clone());
        }
    }
    // The total always has a row per period (zeros when nothing happened).
    if q.by == Dim::Total {
        for p in &periods {
            rows.entry((*p, String::new())).or_insert_with(|| vec![0; ncol]);
        }
    }
    let lookup = |p: Period, k: &str| -> Vec<Option<i64>> {
        match acc.get(&(p, k.to_string())) {
            Some(a) => a.iter().map(|v| Some(*v)).collect(),
            None => vec![None; ncol],
        }
    };
    Table {
        indicator: ind.as_str(),
        period: q.period.as_str(),
        by: q.by.as_str(),
        columns: ind.columns().iter().map(|(name, unit)| Column { name, unit }).collect(),
        rows: rows
            .into_iter()
            .map(|((p, key), values)| TableRow {
                period: p.label(),
                previous: lookup(p.previous(), &key),
                year_ago: lookup(p.year_before(), &key),
                key,
                values,
            })
            .collect(),
    }
}

/// Whether an indicator is read from the per-day sales rollup (revenue, volume, profit).
pub fn from_rollup(ind: Indicator) -> bool {
    ind.by_product()
}

/// The rollup question for an order indicator's query and a reader's scope (`None`: the
/// scope and the filters exclude each other — nothing to count).
pub fn sales_query(q: &Query, scope: &Scope) -> Option<SalesQuery> {
    let (from, to) = q.data_range();
    let f = &q.filters;
    let mut rep = f.rep.clone();
    let mut territories = None;
    match scope {
        Scope::All => {}
        Scope::Territories(t) => territories = Some(t.clone()),
        Scope::Own(u) => {
            if rep.as_ref().is_some_and(|r| r != u) {
                return None;
            }
            rep = Some(u.clone());
        }
    }
    let product_grain = |d: Dim| q.by == d;
    let orders = if product_grain(Dim::Sku) || f.sku.is_some() {
        OrderCount::Cell
    } else if product_grain(Dim::Series) || f.series.is_some() {
        OrderCount::Series
    } else {
        OrderCount::All
    };
    Some(SalesQuery {
        from_day: day_number(local_date(from)),
        to_day: day_number(local_date(to)),
        by_month: matches!(q.period, PeriodKind::Month | PeriodKind::Quarter | PeriodKind::Year),
        by: match q.by {
            Dim::Total => SalesDim::Total,
            Dim::Territory => SalesDim::Territory,
            Dim::Region => SalesDim::Region,
            Dim::Rep => SalesDim::Rep,
            Dim::Channel => SalesDim::Channel,
            Dim::Series => SalesDim::Series,
            Dim::Sku => SalesDim::Sku,
        },
        orders,
        costs: q.indicator == Indicator::Profit,
        territory: f.territory.clone(),
        region: f.region.clone(),
        rep,
        channel: f.channel.clone(),
        series: f.series.clone(),
        sku: f.sku.clone(),
        territories,
    })
}

/// An order indicator's table from the rollup's buckets (what [`compute`] gives from the
/// orders themselves, to the fen: `analytics::tests` compares them on random data).
pub fn compute_from_sales(q: &Query, buckets: &[SalesBucket]) -> Result<Table, String> {
    let ind = q.indicator;
    if !from_rollup(ind) {
        return Err(format!("{} is not a sales indicator", ind.as_str()));
    }
    let mut acc: HashMap<(Period, String), Vec<i64>> = HashMap::new();
    for b in buckets {
        let date = if matches!(q.period, PeriodKind::Month | PeriodKind::Quarter | PeriodKind::Year) {
            NaiveDate::from_ymd_opt((b.bucket / 100) as i32, (b.bucket % 100) as u32, 1)
        } else {
            NaiveDate::from_ymd_opt((b.bucket / 10_000) as i32, (b.bucket / 100 % 100) as u32, (b.bucket % 100) as u32)
        };
        let Some(date) = date else { continue };
        let key = match q.by {
            Dim::Total => String::new(),
            _ if b.key.is_empty() => "-".to_string(),
            _ => b.key.clone(),
        };
        let add: [i64; 4] = match ind {
            Indicator::Revenue => [b.amount_fen, b.orders, 0, 0],
            Indicator::Volume => [b.bottles, b.cases_x100, 0, 0],
            _ => [b.costed_fen, b.cost_fen, b.costed_fen - b.cost_fen, b.lines_without_cost],
        };
        let e = acc.entry((Period::containing(q.period, date), key)).or_insert_with(|| vec![0; ind.columns().len()]);
        for (v, a) in e.iter_mut().zip(add) {
            *v += a;
        }
    }
    Ok(table(q, acc))
}

/// The table as CSV: `period,key,<columns>,<columns>_previous,<columns>_year_ago`.
pub fn to_csv(t: &Table) -> String {
    let mut out = String::from("period,");
    out.push_str(t.by);
    for suffix in ["", "_previous", "_year_ago"] {
        for c in &t.columns {
            out.push(',');
            out.push_str(c.name);
            out.push_str(suffix);
        }
    }
    out.push('\n');
    let opt = |v: &Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
    for r in &t.rows {
        out.push_str(&r.period);
        out.push(',');
        out.push_str(&csv_field(&r.key));
        for v in &r.values {
            out.push_str(&format!(",{v}"));
        }
        for v in r.previous.iter().chain(&r.year_ago) {
            out.push(',');
            out.push_str(&opt(v));
        }
        out.push('\n');
    }
    out
}

pub fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::analytics::LineFact;

    fn at(s: &str) -> i64 {
        protocol::time::parse_rfc3339(s).unwrap()
    }

    fn customer(id: u8, territory: &str, channel: &str, owner: &str) -> CustomerFact {
        CustomerFact {
            id: vec![id],
            name: format!("c{id}"),
            territory: Some(territory.into()),
            region: None,
            channel: Some(channel.into()),
            owner: Some(owner.into()),
            created_by: owner.into(),
            created_at: at("2026-01-05T00:00:00Z"),
            class: None,
            class_changes: vec![],
        }
    }

    fn line(sku: &str, series: Option<&str>, qty: i64, price: i64, per_case: i64, case: bool) -> LineFact {
        LineFact {
            line_id: sku.into(),
            sku: sku.into(),
            series: series.map(String::from),
            unit: if case { "case" } else { "bottle" }.into(),
            qty,
            bottles: if case { qty * per_case } else { qty },
            bottles_per_case: per_case,
            amount_fen: qty * price,
        }
    }

    fn order(id: u8, customer: u8, rep: &str, when: &str, counted: bool, lines: Vec<LineFact>) -> OrderFact {
        OrderFact {
            id: vec![id],
            customer: Some(vec![customer]),
            rep: rep.into(),
            territory: None,
            status: if counted { "confirmed" } else { "cancelled" }.into(),
            counted,
            ordered_at: at(when),
            confirmed_at: None,
            cancelled_after_confirmation: !counted,
            exceptions: String::new(),
            total_fen: lines.iter().map(|l| l.amount_fen).sum(),
            seq: 0,
            lines,
        }
    }

    fn query(indicator: Indicator, period: PeriodKind, by: Dim) -> Query {
        Query {
            indicator,
            period,
            from: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
            to: NaiveDate::from_ymd_opt(2026, 3, 31).unwrap(),
            by,
            filters: Filters::default(),
        }
    }

    fn rows(t: &Table) -> Vec<(String, String, Vec<i64>)> {
        t.rows.iter().map(|r| (r.period.clone(), r.key.clone(), r.values.clone())).collect()
    }

    fn data() -> Data {
        Data {
            customers: vec![customer(1, "贵州", "restaurant", "li"), customer(2, "四川", "distributor", "wang")],
            orders: vec![
                // 31 January 23:59 in Shanghai (15:59Z): January.
                order(1, 1, "li", "2026-01-31T15:59:00Z", true, vec![line("A", Some("黔韵"), 2, 10_000, 6, true)]),
                // 1 February 00:01 in Shanghai, still 31 January in UTC: February.
                order(2, 1, "li", "2026-01-31T16:01:00Z", true, vec![line("B", Some("蜀醇"), 5, 3_000, 6, false)]),
                // Cancelled after confirmation: counts nowhere.
                order(3, 1, "li", "2026-02-10T02:00:00Z", false, vec![line("A", Some("黔韵"), 9, 10_000, 6, true)]),
                order(
                    4,
                    2,
                    "wang",
                    "2026-02-11T02:00:00Z",
                    true,
                    vec![line("A", Some("黔韵"), 1, 10_000, 6, true), line("C", None, 7, 1_000, 12, false)],
                ),
            ],
            costs: [("A".to_string(), 6_000)].into_iter().collect(),
            ..Default::default()
        }
    }

    #[test]
    fn revenue_volume_and_profit_tables() {
        let d = data();
        let t = compute(&query(Indicator::Revenue, PeriodKind::Month, Dim::Rep), &Scope::All, &d).unwrap();
        assert_eq!(
            rows(&t),
            vec![
                ("2026-01".into(), "li".into(), vec![20_000, 1]),
                ("2026-02".into(), "li".into(), vec![15_000, 1]),
                ("2026-02".into(), "wang".into(), vec![17_000, 1]),
            ]
        );
        let feb = t.rows.iter().find(|r| r.period == "2026-02" && r.key == "li").unwrap();
        assert_eq!(feb.previous, vec![Some(20_000), Some(1)]);
        assert_eq!(feb.year_ago, vec![None, None]);
        // Volume by series: 2 cases of 6 + 1 case of 6 bottles = 18 bottles of 黔韵; 5 of 蜀醇;
        // the SKU without a series is "-"; 7 bottles of 12 per case = 0.58 cases.
        let t = compute(&query(Indicator::Volume, PeriodKind::Quarter, Dim::Series), &Scope::All, &d).unwrap();
        assert_eq!(
            rows(&t),
            vec![
                ("2026-Q1".into(), "-".into(), vec![7, 58]),
                ("2026-Q1".into(), "蜀醇".into(), vec![5, 83]),
                ("2026-Q1".into(), "黔韵".into(), vec![18, 300]),
            ]
        );
        // Profit where a cost exists (SKU A: 60.00 a case): (2+1) × (100.00 − 60.00); lines
        // without a cost are counted, not guessed.
        let t = compute(&query(Indicator::Profit, PeriodKind::Quarter, Dim::Total), &Scope::All, &d).unwrap();
        assert_eq!(rows(&t), vec![("2026-Q1".into(), "".into(), vec![30_000, 18_000, 12_000, 2])]);
        // By channel, filtered by territory; a manager's scope; a rep's own.
        let mut q = query(Indicator::Revenue, PeriodKind::Quarter, Dim::Channel);
        q.filters.territory = Some("四川".into());
        assert_eq!(
            rows(&compute(&q, &Scope::All, &d).unwrap()),
            vec![("2026-Q1".into(), "distributor".into(), vec![17_000, 1])]
        );
        let q = query(Indicator::Revenue, PeriodKind::Quarter, Dim::Total);
        let gz = compute(&q, &Scope::Territories(vec!["贵州".into()]), &d).unwrap();
        assert_eq!(rows(&gz), vec![("2026-Q1".into(), "".into(), vec![35_000, 2])]);
        let wang = compute(&q, &Scope::Own("wang".into()), &d).unwrap();
        assert_eq!(rows(&wang), vec![("2026-Q1".into(), "".into(), vec![17_000, 1])]);
        // A customer indicator has no product breakdown.
        assert!(compute(&query(Indicator::Visits, PeriodKind::Month, Dim::Sku), &Scope::All, &d).is_err());
    }

    #[test]
    fn complaints_visits_customers_and_conversion() {
        let complaint = |id: u8, received: &str, resolved: Option<&str>, ack: bool, res: bool| ComplaintFact {
            id: vec![id],
            customer: Some(vec![1]),
            filed_by: "kefu".into(),
            received_at: at(received),
            severity: "normal".into(),
            status: if resolved.is_some() { "resolved" } else { "open" }.into(),
            resolved_at: resolved.map(at),
            ack_breached: ack,
            resolve_breached: res,
            satisfaction: None,
        };
        let mut d = data();
        d.complaints = vec![
            complaint(1, "2026-03-01T00:00:00Z", Some("2026-03-01T02:00:00Z"), false, false),
            complaint(2, "2026-03-02T00:00:00Z", Some("2026-03-03T00:00:00Z"), false, true),
            complaint(3, "2026-03-03T00:00:00Z", None, true, true),
        ];
        let t = compute(&query(Indicator::Complaints, PeriodKind::Month, Dim::Rep), &Scope::All, &d).unwrap();
        // Resolved: 120 and 1440 minutes → 780 on average; 2 of 3 breached → 66.66 %.
        assert_eq!(rows(&t), vec![("2026-03".into(), "li".into(), vec![3, 2, 780, 1, 2, 6_666])]);
        d.visits = vec![
            VisitFact {
                id: vec![1],
                customer: Some(vec![1]),
                rep: "li".into(),
                at: at("2026-01-10T00:00:00Z"),
                kind: None,
                satisfaction: None,
            },
            VisitFact {
                id: vec![2],
                customer: Some(vec![1]),
                rep: "li".into(),
                at: at("2026-01-11T00:00:00Z"),
                kind: None,
                satisfaction: None,
            },
            VisitFact {
                id: vec![3],
                customer: Some(vec![2]),
                rep: "wang".into(),
                at: at("2026-01-11T00:00:00Z"),
                kind: None,
                satisfaction: None,
            },
        ];
        let t = compute(&query(Indicator::Visits, PeriodKind::Month, Dim::Total), &Scope::All, &d).unwrap();
        assert_eq!(
            rows(&t),
            vec![
                ("2026-01".into(), "".into(), vec![3, 2]),
                ("2026-02".into(), "".into(), vec![0, 0]),
                ("2026-03".into(), "".into(), vec![0, 0]),
            ]
        );
        let change = |from: Option<&str>, to: &str, when: &str| crate::storage::analytics::ClassChangeFact {
            from: from.map(String::from),
            to: to.into(),
            at: at(when),
            by: "li".into(),
        };
        d.customers[0].class_changes =
            vec![change(None, "C", "2026-01-05T00:00:00Z"), change(Some("C"), "A", "2026-02-05T00:00:00Z")];
        d.customers[1].class_changes = vec![change(Some("A"), "B", "2026-02-06T00:00:00Z")];
        let t = compute(&query(Indicator::Conversion, PeriodKind::Month, Dim::Total), &Scope::All, &d).unwrap();
        assert_eq!(rows(&t)[1], ("2026-02".into(), "".into(), vec![1, 1, 0, 1, 1]));
        let t = compute(&query(Indicator::NewCustomers, PeriodKind::Month, Dim::Territory), &Scope::All, &d).unwrap();
        assert_eq!(
            rows(&t),
            vec![("2026-01".into(), "四川".into(), vec![1]), ("2026-01".into(), "贵州".into(), vec![1])]
        );
        let csv = to_csv(&t);
        assert!(
            csv.starts_with("period,territory,new_customers,new_customers_previous,new_customers_year_ago\n"),
            "{csv}"
        );
    }
}
