//! Order (订单) documents.
//!
//! Lines are a list of maps keyed by a line id; money is integer fen. Status is not a
//! register: it is folded from an append-only `events` list, so transitions made offline
//! by different people all survive a merge and resolve deterministically (design note 8).

use super::KIND_KEY;
use super::access::{
    R, SchemaError, check_kind, ensure_list, get_int, get_opt_str, get_parsed, get_str, json_time, list_items,
    push_map, put_int, put_str, put_time,
};
use super::enums::{OrderSource, OrderStatus, PaymentMethod};
use super::field::set_field;
use crate::ids::{DocId, DocKind};
use automerge::{AutoCommit, ROOT};
use serde::Serialize;

/// Largest quantity and unit price one line may carry (keeps every total far inside i64).
pub const MAX_QTY: i64 = 1_000_000;
pub const MAX_UNIT_PRICE_FEN: i64 = 10_000_000_000;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Order {
    pub id: DocId,
    pub customer: Option<DocId>,
    pub source: Option<OrderSource>,
    pub lines: Vec<OrderLine>,
    pub total_fen: i64,
    pub delivery_date: Option<String>,
    pub delivery_place: Option<String>,
    pub payment_method: Option<PaymentMethod>,
    pub notes: String,
    /// The policy version the rep's device priced the order with when submitting.
    pub priced_with: Option<i64>,
    pub status: OrderStatus,
    pub events: Vec<OrderEvent>,
    pub created_by: String,
    #[serde(with = "json_time")]
    pub created_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OrderLine {
    pub id: String,
    pub sku: String,
    pub spec: Option<String>,
    pub qty: i64,
    pub unit_price_fen: i64,
    pub amount_fen: i64,
}

/// One entry of the order's append-only event list. Which fields are set depends on the
/// kind (approvals carry the approver's role and the content hash they approved; shipping
/// carries carrier and tracking number; exceptions their kind and a note).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct OrderEvent {
    pub kind: String,
    #[serde(with = "json_time")]
    pub at: i64,
    pub by: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub carrier: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tracking: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exception: Option<String>,
}

/// The optional fields an event is written with.
pub const EVENT_FIELDS: [&str; 6] = ["role", "hash", "comment", "carrier", "tracking", "exception"];

#[derive(Clone, Debug)]
pub struct NewLine {
    pub id: String,
    pub sku: String,
    pub spec: Option<String>,
    pub qty: i64,
    pub unit_price_fen: i64,
}

pub fn init(doc: &mut AutoCommit, customer: DocId, source: OrderSource, now: i64, by: &str) -> R<()> {
    put_str(doc, &ROOT, KIND_KEY, DocKind::Order.as_str())?;
    put_str(doc, &ROOT, "customer", &customer.to_string())?;
    put_str(doc, &ROOT, "created_by", by)?;
    put_time(doc, &ROOT, "created_at", now)?;
    ensure_list(doc, &ROOT, "lines")?;
    ensure_list(doc, &ROOT, "events")?;
    set_field(doc, DocKind::Order, "source", source.as_str())?;
    set_field(doc, DocKind::Order, "notes", "")?;
    record_event(doc, "created", now, by)
}

pub fn add_line(doc: &mut AutoCommit, line: &NewLine) -> R<()> {
    check_kind(doc, DocKind::Order.as_str())?;
    let bad = |field: &str, reason: String| SchemaError::BadValue { field: format!("lines/{field}"), reason };
    if line.sku.trim().is_empty() {
        return Err(bad("sku", "may not be empty".into()));
    }
    if !(1..=MAX_QTY).contains(&line.qty) {
        return Err(bad("qty", format!("{} is not between 1 and {MAX_QTY}", line.qty)));
    }
    if !(0..=MAX_UNIT_PRICE_FEN).contains(&line.unit_price_fen) {
        return Err(bad(
            "unit_price_fen",
            format!("{} fen is not between 0 and {MAX_UNIT_PRICE_FEN}", line.unit_price_fen),
        ));
    }
    let l = push_map(doc, &ROOT, "lines")?;
    put_str(doc, &l, "id", &line.id)?;
    put_str(doc, &l, "sku", line.sku.trim())?;
    if let Some(spec) = &line.spec {
        put_str(doc, &l, "spec", spec)?;
    }
    put_int(doc, &l, "qty", line.qty)?;
    put_int(doc, &l, "unit_price_fen", line.unit_price_fen)
}

/// Change the quantity and/or unit price of the line `line` (its id, or its 1-based
/// position). Any such change changes the content hash: approvals given before are void.
pub fn set_line(doc: &mut AutoCommit, line: &str, qty: Option<i64>, unit_price_fen: Option<i64>) -> R<()> {
    check_kind(doc, DocKind::Order.as_str())?;
    let bad = |field: &str, reason: String| SchemaError::BadValue { field: format!("lines/{field}"), reason };
    let items = list_items(doc, &ROOT, "lines");
    let by_position = line.parse::<usize>().ok().and_then(|n| n.checked_sub(1)).and_then(|i| items.get(i));
    let Some(l) = items.iter().find(|l| get_str(doc, l, "id") == line).or(by_position).cloned() else {
        return Err(SchemaError::NotFound("order line", line.to_string()));
    };
    if let Some(qty) = qty {
        if !(1..=MAX_QTY).contains(&qty) {
            return Err(bad("qty", format!("{qty} is not between 1 and {MAX_QTY}")));
        }
        put_int(doc, &l, "qty", qty)?;
    }
    if let Some(price) = unit_price_fen {
        if !(0..=MAX_UNIT_PRICE_FEN).contains(&price) {
            return Err(bad("unit_price_fen", format!("{price} fen is not between 0 and {MAX_UNIT_PRICE_FEN}")));
        }
        put_int(doc, &l, "unit_price_fen", price)?;
    }
    Ok(())
}

/// Append a lifecycle event with only kind, time and author.
pub fn record_event(doc: &mut AutoCommit, kind: &str, at: i64, by: &str) -> R<()> {
    append_event(doc, &OrderEvent { kind: kind.to_string(), at, by: by.to_string(), ..Default::default() })
}

/// Append a lifecycle event (see [`super::order_lifecycle`] for what each kind means).
pub fn append_event(doc: &mut AutoCommit, event: &OrderEvent) -> R<()> {
    check_kind(doc, DocKind::Order.as_str())?;
    let e = push_map(doc, &ROOT, "events")?;
    put_str(doc, &e, "kind", &event.kind)?;
    put_time(doc, &e, "at", event.at)?;
    put_str(doc, &e, "by", &event.by)?;
    let optional = [
        ("role", &event.role),
        ("hash", &event.hash),
        ("comment", &event.comment),
        ("carrier", &event.carrier),
        ("tracking", &event.tracking),
        ("exception", &event.exception),
    ];
    for (key, value) in optional {
        if let Some(v) = value {
            put_str(doc, &e, key, v)?;
        }
    }
    Ok(())
}

/// The status from the events alone, before the required approvals are known (the fold with
/// the policy's required approvals is [`super::order_lifecycle::fold`]).
pub fn fold_status(events: &[OrderEvent]) -> OrderStatus {
    super::order_lifecycle::fold(events, None, "", &super::order_lifecycle::same_role).status
}

/// Record the policy version the device priced with (at submission).
pub fn set_priced_with(doc: &mut AutoCommit, version: u32) -> R<()> {
    put_int(doc, &ROOT, "priced_with", i64::from(version))
}

pub fn set(doc: &mut AutoCommit, field: &str, value: &str) -> R<()> {
    set_field(doc, DocKind::Order, field, value)
}

pub fn read(doc: &AutoCommit, id: DocId) -> R<Order> {
    check_kind(doc, DocKind::Order.as_str())?;
    let lines: Vec<OrderLine> = list_items(doc, &ROOT, "lines")
        .into_iter()
        .map(|l| {
            let qty = get_int(doc, &l, "qty").unwrap_or(0);
            let unit_price_fen = get_int(doc, &l, "unit_price_fen").unwrap_or(0);
            OrderLine {
                id: get_str(doc, &l, "id"),
                sku: get_str(doc, &l, "sku"),
                spec: get_opt_str(doc, &l, "spec"),
                qty,
                unit_price_fen,
                amount_fen: qty.saturating_mul(unit_price_fen),
            }
        })
        .collect();
    let events: Vec<OrderEvent> = list_items(doc, &ROOT, "events").iter().map(|e| read_event(doc, e)).collect();
    Ok(Order {
        id,
        customer: get_parsed(doc, &ROOT, "customer"),
        source: get_parsed(doc, &ROOT, "source"),
        total_fen: lines.iter().fold(0i64, |t, l| t.saturating_add(l.amount_fen)),
        lines,
        delivery_date: get_opt_str(doc, &ROOT, "delivery_date"),
        delivery_place: get_opt_str(doc, &ROOT, "delivery_place"),
        payment_method: get_parsed(doc, &ROOT, "payment_method"),
        notes: get_str(doc, &ROOT, "notes"),
        priced_with: get_int(doc, &ROOT, "priced_with"),
        status: fold_status(&events),
        events,
        created_by: get_str(doc, &ROOT, "created_by"),
        created_at: get_int(doc, &ROOT, "created_at").unwrap_or(0),
    })
}

fn read_event(doc: &AutoCommit, e: &automerge::ObjId) -> OrderEvent {
    OrderEvent {
        kind: get_str(doc, e, "kind"),
        at: get_int(doc, e, "at").unwrap_or(0),
        by: get_str(doc, e, "by"),
        role: get_opt_str(doc, e, "role"),
        hash: get_opt_str(doc, e, "hash"),
        comment: get_opt_str(doc, e, "comment"),
        carrier: get_opt_str(doc, e, "carrier"),
        tracking: get_opt_str(doc, e, "tracking"),
        exception: get_opt_str(doc, e, "exception"),
    }
}

/// The events that `changes` append to the order's list (`before`: the order without them,
/// `None` when they create it; `after`: with them), or why they do more than append — the
/// list is append-only: existing events are never changed, deleted or replaced (see
/// [`super::access`] for how operations, not patches, are read).
pub fn appended_events(
    before: Option<&AutoCommit>,
    after: &mut AutoCommit,
    changes: &[automerge::Change],
) -> R<Result<Vec<OrderEvent>, String>> {
    Ok(super::access::appended_records(before, after, changes, "events")?
        .map(|new| new.iter().map(|e| read_event(after, e)).collect()))
}

/// `12345` fen → `123.45`.
pub fn format_fen(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let a = fen.unsigned_abs();
    format!("{sign}{}.{:02}", a / 100, a % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(kind: &str, at: i64) -> OrderEvent {
        OrderEvent { kind: kind.into(), at, by: "x".into(), ..Default::default() }
    }

    #[test]
    fn status_folds_deterministically() {
        let cases: &[(&[OrderEvent], OrderStatus)] = &[
            (&[], OrderStatus::Draft),
            (&[ev("created", 1), ev("submitted", 2)], OrderStatus::Submitted),
            (&[ev("submitted", 2), ev("cancelled", 3)], OrderStatus::Cancelled),
            (&[ev("cancelled", 3), ev("submitted", 4)], OrderStatus::Cancelled),
            (&[ev("bogus", 1)], OrderStatus::Draft),
        ];
        for (events, want) in cases {
            assert_eq!(fold_status(events), *want, "{events:?}");
        }
    }

    #[test]
    fn lines_total_in_fen() {
        let mut doc = AutoCommit::new();
        init(&mut doc, DocId::new_random(), OrderSource::Verbal, 5, "li").unwrap();
        for (sku, qty, price) in [("MT-53-500", 6, 149_900), ("XJ-52-500", 2, 89_950)] {
            add_line(&mut doc, &NewLine { id: sku.into(), sku: sku.into(), spec: None, qty, unit_price_fen: price })
                .unwrap();
        }
        let o = read(&doc, DocId::new_random()).unwrap();
        assert_eq!(o.total_fen, 6 * 149_900 + 2 * 89_950);
        assert_eq!(format_fen(o.total_fen), "10793.00");
        assert_eq!(format_fen(-5), "-0.05");
        assert!(
            add_line(&mut doc, &NewLine { id: "x".into(), sku: "A".into(), spec: None, qty: 0, unit_price_fen: 1 })
                .is_err()
        );
    }
}
