//! From documents to analysis rows, pure: what an order, customer, visit or complaint
//! counts as, and what about it cannot be counted (R-4.1: listed with the reason, never
//! silently dropped).
//!
//! **Which orders count** (revenue 销售额 and volume): confirmed or later — `confirmed`,
//! `shipped`, `delivered`, `closed` — folded exactly as the hub folds them (the server's
//! pricing of the order, its required approvals and the current content's approvals).
//! Drafts, submitted orders waiting for a verdict or an approval, rejected and cancelled
//! orders do not; an order cancelled after it was confirmed (a refund by cancellation)
//! leaves the figures of its period. A cancellation requested after shipment is an
//! exception on a shipped order, which still counts (and is flagged). An order counts in
//! the period of its date (the device's `created_at`, held to the window around the
//! server's arrival time), in Asia/Shanghai.

use crate::storage::analytics::{
    ClassChangeFact, ComplaintFact, CustomerFact, LineFact, OrderFact, Problem, VisitFact,
};
use crate::validation::order_check;
use protocol::Role;
use protocol::pricing::catalogue::Unit;
use protocol::schema::complaint::{Complaint, Track};
use protocol::schema::complaint_lifecycle;
use protocol::schema::customer::Customer;
use protocol::schema::order::Order;
use protocol::schema::policy_doc::{self, PublishedPolicy};
use protocol::schema::visit::Visit;
use protocol::schema::{Channel, OrderStatus};

/// Statuses whose orders count in revenue and volume.
pub const COUNTED_STATUSES: [OrderStatus; 4] =
    [OrderStatus::Confirmed, OrderStatus::Shipped, OrderStatus::Delivered, OrderStatus::Closed];

fn problem(id: &[u8], kind: &str, reason: &str, detail: impl Into<String>) -> Problem {
    Problem { doc_id: id.to_vec(), kind: kind.into(), reason: reason.into(), detail: detail.into() }
}

/// What an order is counted with besides itself.
pub struct OrderContext<'a> {
    /// Its customer's channel.
    pub channel: Option<Channel>,
    /// Whether its customer document exists.
    pub customer_known: bool,
    /// Its author's role (their discount authority).
    pub pricer: Role,
    /// The published policy versions.
    pub versions: &'a [PublishedPolicy],
    /// The server's access facts.
    pub territory: Option<String>,
    pub seq: i64,
    pub now: i64,
    /// Whether it needs a signed contract (from the hub's verdict on it).
    pub contract_gate: protocol::schema::verdict::ContractGate,
}

/// An order as the analysis counts it.
pub fn order_fact(order: &Order, cx: OrderContext<'_>) -> (OrderFact, Vec<Problem>) {
    let OrderContext { channel, customer_known, pricer, versions, territory, seq, now, contract_gate } = cx;
    let id = order.id.as_bytes().to_vec();
    let checked = order_check::check_gated(order, channel, pricer, versions, None, now, &|_| contract_gate);
    let (status, timeline, open) = match &checked {
        Some(c) => (c.lifecycle.status, c.lifecycle.timeline.clone(), c.lifecycle.open_exceptions.clone()),
        None => (protocol::schema::order::fold_status(&order.events), Vec::new(), Vec::new()),
    };
    let confirmed_at =
        timeline.iter().find(|t| t.applied && t.status_after == OrderStatus::Confirmed).map(|t| t.event.effective_at());
    let ordered_at = order.effective_created_at();
    let policy = policy_doc::in_force(versions, ordered_at);
    let mut problems = Vec::new();
    let in_play = status != OrderStatus::Draft;
    if order.customer.is_none() || !customer_known {
        problems.push(problem(
            &id,
            "order",
            "order_without_customer",
            order.customer.map(|c| c.to_string()).unwrap_or_default(),
        ));
    }
    if in_play && policy.is_none() {
        problems.push(problem(&id, "order", "no_policy", "no price policy in force at the order's date"));
    }
    if in_play && order.lines.is_empty() {
        problems.push(problem(&id, "order", "no_lines", ""));
    }
    let mut lines = Vec::with_capacity(order.lines.len());
    for (n, l) in order.lines.iter().enumerate() {
        let sku = policy.and_then(|p| p.policy.sku(&l.sku));
        if sku.is_none() && policy.is_some() {
            problems.push(problem(&id, "order", "unknown_sku", format!("line {}: {}", n + 1, l.sku)));
        }
        if l.unit_price_fen <= 0 || l.qty <= 0 {
            problems.push(problem(
                &id,
                "order",
                "missing_price",
                format!("line {}: {} × {} fen", n + 1, l.qty, l.unit_price_fen),
            ));
        }
        let per_case = sku.map_or(1, |s| i64::from(s.bottles_per_case.max(1)));
        let unit = sku.map_or(Unit::Bottle, |s| s.unit);
        let bottles = match unit {
            Unit::Case => l.qty.saturating_mul(per_case),
            Unit::Bottle | Unit::Box => l.qty,
        };
        lines.push(LineFact {
            line_id: l.id.clone(),
            sku: l.sku.clone(),
            series: sku.map(|s| s.series.clone()),
            unit: unit.as_str().to_string(),
            qty: l.qty,
            bottles,
            bottles_per_case: per_case,
            amount_fen: l.amount_fen,
        });
    }
    let counted_status = COUNTED_STATUSES.contains(&status);
    // Only what would count is a problem worth listing (a draft is work in progress).
    if !in_play {
        problems.clear();
    }
    let cancelled_after_confirmation = status == OrderStatus::Cancelled && confirmed_at.is_some();
    let exceptions: Vec<String> =
        open.iter().map(|e| e.exception.clone().unwrap_or_else(|| "exception".into())).collect();
    let fact = OrderFact {
        id,
        customer: order.customer.map(|c| c.as_bytes().to_vec()),
        rep: order.created_by.clone(),
        territory,
        status: status.as_str().to_string(),
        counted: counted_status && problems.is_empty(),
        ordered_at,
        confirmed_at,
        cancelled_after_confirmation,
        exceptions: exceptions.join(","),
        total_fen: order.total_fen,
        seq,
        lines,
    };
    (fact, problems)
}

pub fn customer_fact(c: &Customer) -> (CustomerFact, Vec<Problem>) {
    let id = c.id.as_bytes().to_vec();
    let mut problems = Vec::new();
    if c.territory.is_none() {
        problems.push(problem(&id, "customer", "no_territory", c.name.clone()));
    }
    let fact = CustomerFact {
        id,
        name: c.name.clone(),
        territory: c.territory.clone(),
        region: c.region.clone(),
        channel: c.channel.map(|ch| ch.as_str().to_string()),
        owner: c.owner.clone(),
        created_by: c.created_by.clone(),
        created_at: c.created_at,
        class: c.class.map(|k| k.as_str().to_string()),
        class_changes: c
            .class_history
            .iter()
            .map(|h| ClassChangeFact {
                from: h.from.map(|k| k.as_str().to_string()),
                to: h.to.as_str().to_string(),
                at: h.at,
                by: h.by.clone(),
            })
            .collect(),
    };
    (fact, problems)
}

pub fn visit_fact(v: &Visit) -> (VisitFact, Vec<Problem>) {
    let id = v.id.as_bytes().to_vec();
    let mut problems = Vec::new();
    if v.customer.is_none() {
        problems.push(problem(&id, "visit", "visit_without_customer", ""));
    }
    let fact = VisitFact {
        id,
        customer: v.customer.map(|c| c.as_bytes().to_vec()),
        rep: v.rep.clone(),
        at: v.at,
        kind: v.kind.map(|k| k.as_str().to_string()),
        satisfaction: v.satisfaction,
    };
    (fact, problems)
}

pub fn complaint_fact(c: &Complaint, track: Option<&Track>) -> (ComplaintFact, Vec<Problem>) {
    let id = c.id.as_bytes().to_vec();
    let mut problems = Vec::new();
    if c.customer.is_none() {
        problems.push(problem(&id, "complaint", "complaint_without_customer", ""));
    }
    let life = complaint_lifecycle::fold(&c.events, c.clock_start());
    let fact = ComplaintFact {
        id,
        customer: c.customer.map(|x| x.as_bytes().to_vec()),
        filed_by: c.filed_by.clone(),
        received_at: c.clock_start(),
        severity: c.severity().as_str().to_string(),
        status: life.status.as_str().to_string(),
        resolved_at: life.resolved_at(),
        ack_breached: track.is_some_and(|t| t.ack_breached_at.is_some()),
        resolve_breached: track.is_some_and(|t| t.resolve_breached_at.is_some()),
        satisfaction: track.and_then(|t| t.satisfaction).or(life.satisfaction),
    };
    (fact, problems)
}
