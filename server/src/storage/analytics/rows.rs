//! The rows of the analysis read model (no SQL here). Ids are raw 16-byte UUIDs, money
//! integer fen, times UTC milliseconds.

use serde::Serialize;

/// One order as the analysis counts it: its status folded exactly as the hub folds it
/// (the server's pricing and required approvals), with its lines.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OrderFact {
    pub id: Vec<u8>,
    pub customer: Option<Vec<u8>>,
    /// Who wrote the order (the rep it counts for).
    pub rep: String,
    /// The order's territory as the server's access facts say when it was projected
    /// (queries prefer the customer's current territory).
    pub territory: Option<String>,
    /// `draft`, `submitted`, `awaiting_approval`, `confirmed`, `shipped`, `delivered`,
    /// `closed`, `rejected`, `cancelled`.
    pub status: String,
    /// Counted in revenue and volume: confirmed or later (shipped, delivered, closed), not
    /// cancelled, and nothing on it uncountable (see `problems`).
    pub counted: bool,
    /// The order's date (the device's, held to the window around its arrival), UTC ms.
    pub ordered_at: i64,
    /// When it was first confirmed (the event that confirmed it), if it was.
    pub confirmed_at: Option<i64>,
    /// Cancelled after it had been confirmed (a refund by cancellation).
    pub cancelled_after_confirmation: bool,
    /// Exceptions open on it (kinds, comma-separated; empty when none).
    pub exceptions: String,
    pub total_fen: i64,
    /// The sequence number of the document when it was projected.
    pub seq: i64,
    pub lines: Vec<LineFact>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LineFact {
    pub line_id: String,
    pub sku: String,
    /// From the catalogue of the policy in force at the order's date (`None`: unknown SKU).
    pub series: Option<String>,
    pub unit: String,
    pub qty: i64,
    /// Bottles this line is: qty × bottles per case for cases, qty otherwise.
    pub bottles: i64,
    pub bottles_per_case: i64,
    pub amount_fen: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CustomerFact {
    pub id: Vec<u8>,
    pub name: String,
    pub territory: Option<String>,
    pub region: Option<String>,
    pub channel: Option<String>,
    pub owner: Option<String>,
    pub created_by: String,
    pub created_at: i64,
    pub class: Option<String>,
    pub class_changes: Vec<ClassChangeFact>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ClassChangeFact {
    pub from: Option<String>,
    pub to: String,
    pub at: i64,
    pub by: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct VisitFact {
    pub id: Vec<u8>,
    pub customer: Option<Vec<u8>>,
    pub rep: String,
    pub at: i64,
    pub kind: Option<String>,
    pub satisfaction: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ComplaintFact {
    pub id: Vec<u8>,
    pub customer: Option<Vec<u8>>,
    pub filed_by: String,
    /// When the SLA clocks started (the complaint's received time held to its window).
    pub received_at: i64,
    pub severity: String,
    pub status: String,
    /// When the latest resolution was recorded, if it is resolved now.
    pub resolved_at: Option<i64>,
    pub ack_breached: bool,
    pub resolve_breached: bool,
    /// The customer's satisfaction (1–5): the revisit's, else the complaint's feedback.
    pub satisfaction: Option<i64>,
}

/// A record the analysis cannot count, and why (data cleaning, R-4.1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub doc_id: Vec<u8>,
    /// The kind of the document (`order`, `visit` …).
    pub kind: String,
    /// `order_without_customer`, `unknown_sku`, `missing_price`, `unreadable` …
    pub reason: String,
    /// What exactly (the line, the SKU).
    pub detail: String,
}

/// A qualitative score a manager gave a rep (attitude, teamwork, communication …).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct QualitativeScore {
    /// `2026-03`, `2026-Q1`, `2026`.
    pub period: String,
    pub rep: String,
    pub criterion: String,
    /// 0–100.
    pub score: i64,
    pub by: String,
    pub at: i64,
}

/// A recorded correction of a locked period.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Correction {
    pub period: String,
    pub rep: String,
    /// The indicator or criterion corrected.
    pub item: String,
    /// The corrected score (0–100).
    pub score: i64,
    pub reason: String,
    pub by: String,
    pub at: i64,
}

/// A reward (positive fen) or penalty (negative fen) of a rep for a period.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Sanction {
    pub period: String,
    pub rep: String,
    pub amount_fen: i64,
    pub reason: String,
    pub by: String,
    pub at: i64,
}

/// What an order's attribution takes from its customer (as the customer reads now).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CustomerAttrs {
    pub territory: Option<String>,
    pub region: Option<String>,
    pub channel: Option<String>,
}

/// One cell of the per-day sales rollup (`sales_days`): a Shanghai day × territory ×
/// region × rep × channel × series × SKU. Unknown values are `""` (an empty text counts as
/// unknown, as in the indicators).
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SalesKey {
    /// `YYYYMMDD` of the Shanghai date of the order.
    pub day: i64,
    pub territory: String,
    pub region: String,
    pub rep: String,
    pub channel: String,
    pub series: String,
    pub sku: String,
}

/// What the counted orders' lines of one cell add up to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SalesSums {
    pub amount_fen: i64,
    pub bottles: i64,
    /// Each line's bottles × 100 ÷ bottles per case, rounded down per line.
    pub cases_x100: i64,
    /// Units ordered (the unit each SKU is costed in).
    pub qty: i64,
    pub lines: i64,
    /// Orders with a line in this cell.
    pub orders: i64,
    /// Orders for which this is the first cell (by SKU) of its series: summed over a
    /// series, the distinct orders with a line of it.
    pub orders_series: i64,
    /// Orders for which this is their first cell: summed over anything coarser than a
    /// series, the distinct orders.
    pub orders_all: i64,
}

impl SalesSums {
    pub fn add(&mut self, o: &SalesSums, sign: i64) {
        self.amount_fen += sign * o.amount_fen;
        self.bottles += sign * o.bottles;
        self.cases_x100 += sign * o.cases_x100;
        self.qty += sign * o.qty;
        self.lines += sign * o.lines;
        self.orders += sign * o.orders;
        self.orders_series += sign * o.orders_series;
        self.orders_all += sign * o.orders_all;
    }
}

fn text(v: &Option<String>) -> String {
    v.clone().unwrap_or_default()
}

/// The `YYYYMMDD` number of a Shanghai date.
pub fn day_number(d: chrono::NaiveDate) -> i64 {
    use chrono::Datelike;
    i64::from(d.year()) * 10_000 + i64::from(d.month()) * 100 + i64::from(d.day())
}

/// The rollup cells a counted order adds (none for an order that does not count). The
/// attribution is the indicators': the rep who wrote it; its customer's territory (else
/// the order's own), region and channel.
pub fn sales_cells(o: &OrderFact, customer: &CustomerAttrs) -> Vec<(SalesKey, SalesSums)> {
    if !o.counted {
        return Vec::new();
    }
    const SHANGHAI_MS: i64 = 8 * 3_600_000;
    let days = (o.ordered_at + SHANGHAI_MS).div_euclid(86_400_000);
    let date = chrono::NaiveDate::from_num_days_from_ce_opt(719_163 + days as i32).unwrap_or(chrono::NaiveDate::MIN);
    let territory = match customer.territory.as_deref().filter(|t| !t.is_empty()) {
        Some(t) => t.to_string(),
        None => text(&o.territory),
    };
    let mut cells: std::collections::BTreeMap<SalesKey, SalesSums> = std::collections::BTreeMap::new();
    for l in &o.lines {
        let key = SalesKey {
            day: day_number(date),
            territory: territory.clone(),
            region: text(&customer.region),
            rep: o.rep.clone(),
            channel: text(&customer.channel),
            series: text(&l.series),
            sku: l.sku.clone(),
        };
        let s = cells.entry(key).or_default();
        s.amount_fen += l.amount_fen;
        s.bottles += l.bottles;
        s.cases_x100 += l.bottles * 100 / l.bottles_per_case.max(1);
        s.qty += l.qty;
        s.lines += 1;
        s.orders = 1;
    }
    let mut out: Vec<(SalesKey, SalesSums)> = cells.into_iter().collect();
    let mut last_series: Option<String> = None;
    for (i, (k, s)) in out.iter_mut().enumerate() {
        s.orders_all = i64::from(i == 0);
        if last_series.as_deref() != Some(k.series.as_str()) {
            s.orders_series = 1;
            last_series = Some(k.series.clone());
        }
    }
    out
}

/// A breakdown of the rollup.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SalesDim {
    Total,
    Territory,
    Region,
    Rep,
    Channel,
    Series,
    Sku,
}

/// Which of a cell's order counts add up to distinct orders for a question.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderCount {
    /// By or filtered by SKU.
    Cell,
    /// By or filtered by series.
    Series,
    All,
}

/// A question to the rollup: the sums by bucket and breakdown key, over the days
/// `[from_day, to_day)` (`YYYYMMDD`), with the filters and the reader's scope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SalesQuery {
    pub from_day: i64,
    pub to_day: i64,
    /// Buckets are months (`YYYYMM`) rather than days (`YYYYMMDD`).
    pub by_month: bool,
    pub by: SalesDim,
    pub orders: OrderCount,
    /// Join the SKU costs (gross profit).
    pub costs: bool,
    pub territory: Option<String>,
    pub region: Option<String>,
    pub rep: Option<String>,
    pub channel: Option<String>,
    pub series: Option<String>,
    pub sku: Option<String>,
    /// Only these territories (a manager's).
    pub territories: Option<Vec<String>>,
}

/// The rollup's sums of one bucket and key.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SalesBucket {
    /// `YYYYMMDD` or `YYYYMM`.
    pub bucket: i64,
    /// The breakdown's value (`""`: unknown, or the total).
    pub key: String,
    pub amount_fen: i64,
    pub bottles: i64,
    pub cases_x100: i64,
    pub orders: i64,
    /// With `costs`: the amount of the lines with a cost, their cost, the lines without.
    pub costed_fen: i64,
    pub cost_fen: i64,
    pub lines_without_cost: i64,
}
