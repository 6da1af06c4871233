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
