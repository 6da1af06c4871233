//! Order (订单) documents.
//!
//! Lines are a list of maps keyed by a line id; money is integer fen. Status is not a
//! register: it is folded from an append-only `events` list, so transitions made offline
//! by different people all survive a merge and resolve deterministically (design note 8).

use super::access::{R, check_kind, get_int, get_opt_str, get_parsed, get_str, json_time, list_items, put_int};
use super::enums::{OrderSource, OrderStatus, PaymentMethod};
use super::record::{self, Writer};
use crate::ids::{DocId, DocKind};
use crate::kinds::Value;
use crate::kinds::parse::ParseContext;
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
    /// When the server first received the order: the arrival of its first event (`None`
    /// until it has).
    #[serde(skip_serializing_if = "Option::is_none", with = "super::access::json_time_opt")]
    pub received_at: Option<i64>,
}

impl Order {
    /// The order's date for decisions (which price policy is in force): the date the
    /// device states, held to the window around the server's arrival time.
    pub fn effective_created_at(&self) -> i64 {
        match self.received_at {
            Some(r) => crate::kinds::CLIENT_TIME.clamp(self.created_at, r),
            None => self.created_at,
        }
    }
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
    /// The batch numbers each line shipped with ([`format_batches`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batches: Option<String>,
    /// When the server received it (UTC ms; `None` until it has). Orders the fold.
    #[serde(skip_serializing_if = "Option::is_none", with = "super::access::json_time_opt")]
    pub received: Option<i64>,
}

impl OrderEvent {
    /// When it happened, for decisions: the device's time, held to the window around the
    /// server's arrival time ([`crate::kinds::CLIENT_TIME`]).
    pub fn effective_at(&self) -> i64 {
        match self.received {
            Some(r) => crate::kinds::CLIENT_TIME.clamp(self.at, r),
            None => self.at,
        }
    }
}

/// The optional fields an event is written with.
pub const EVENT_FIELDS: [&str; 7] = ["role", "hash", "comment", "carrier", "tracking", "exception", "batches"];

/// Longest batch number (批次号).
pub const MAX_BATCH_LEN: usize = 64;

/// Is `b` a batch number: 1 to 64 letters, digits, `-`, `_`, `.` or `/`?
pub fn is_batch(b: &str) -> bool {
    !b.is_empty()
        && b.chars().count() <= MAX_BATCH_LEN
        && b.chars().all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
}

/// `(line id, batch)` pairs as stored in a `shipped` event: `LINE=B1,B2;LINE2=B3`.
pub fn format_batches(pairs: &[(String, String)]) -> String {
    let mut by_line: Vec<(String, Vec<String>)> = Vec::new();
    for (line, batch) in pairs {
        match by_line.iter_mut().find(|(l, _)| l == line) {
            Some((_, bs)) if !bs.contains(batch) => bs.push(batch.clone()),
            Some(_) => {}
            None => by_line.push((line.clone(), vec![batch.clone()])),
        }
    }
    by_line.iter().map(|(l, bs)| format!("{l}={}", bs.join(","))).collect::<Vec<_>>().join(";")
}

/// Read the batches of a `shipped` event (`Err`: why the text is not in the format).
pub fn parse_batches(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for part in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((line, batches)) = part.split_once('=') else {
            return Err(format!("'{part}' is not LINE=BATCH"));
        };
        let line = line.trim();
        if line.is_empty() || line.contains(',') {
            return Err(format!("'{part}' names no line"));
        }
        for b in batches.split(',').map(str::trim) {
            if !is_batch(b) {
                return Err(format!("'{b}' is not a batch number (letters, digits, - _ . /, at most {MAX_BATCH_LEN})"));
            }
            out.push((line.to_string(), b.to_string()));
        }
    }
    Ok(out)
}

#[derive(Clone, Debug)]
pub struct NewLine {
    pub id: String,
    pub sku: String,
    pub spec: Option<String>,
    pub qty: i64,
    pub unit_price_fen: i64,
}

pub fn init(doc: &mut AutoCommit, customer: DocId, source: OrderSource, now: i64, by: &str) -> R<()> {
    let customer = customer.to_string();
    let inputs = [("customer", customer.as_str()), ("source", source.as_str())];
    // The `created` event comes with the record (the log's `on_create`).
    record::create(doc, DocKind::Order, &inputs, &Writer { user: by, now }, &ParseContext::default())
}

/// The values of a new line, checked against the line's field specs.
fn line_values(line: &NewLine) -> R<Vec<(&'static crate::kinds::FieldSpec, Value)>> {
    let spec = line.spec.clone().map_or(Value::Null, Value::Str);
    record::check_record(
        DocKind::Order,
        "lines",
        &[
            ("id", Value::Str(line.id.clone())),
            ("sku", Value::Str(line.sku.clone())),
            ("spec", spec),
            ("qty", Value::Int(line.qty)),
            ("unit_price_fen", Value::Int(line.unit_price_fen)),
        ],
    )
}

pub fn add_line(doc: &mut AutoCommit, line: &NewLine) -> R<()> {
    check_kind(doc, DocKind::Order.as_str())?;
    let values = line_values(line)?;
    record::add_record_values(doc, DocKind::Order, "lines", &values)
}

/// Change the quantity and/or unit price of the line `line` (its id, or its 1-based
/// position). Any such change changes the content hash: approvals given before are void.
pub fn set_line(doc: &mut AutoCommit, line: &str, qty: Option<i64>, unit_price_fen: Option<i64>) -> R<()> {
    check_kind(doc, DocKind::Order.as_str())?;
    let mut values = Vec::new();
    values.extend(qty.map(|q| ("qty", Value::Int(q))));
    values.extend(unit_price_fen.map(|p| ("unit_price_fen", Value::Int(p))));
    let checked = record::check_record(DocKind::Order, "lines", &values)?;
    record::set_record_values(doc, DocKind::Order, "lines", line, &checked)
}

/// Append a lifecycle event with only kind, time and author.
pub fn record_event(doc: &mut AutoCommit, kind: &str, at: i64, by: &str) -> R<()> {
    append_event(doc, &OrderEvent { kind: kind.to_string(), at, by: by.to_string(), ..Default::default() })
}

/// The event as a log entry (what the log check reads).
pub fn event_entry(event: &OrderEvent) -> crate::kinds::Entry {
    use crate::kinds::Scalar;
    let mut values = std::collections::BTreeMap::new();
    values.insert("kind".to_string(), Scalar::Str(event.kind.clone()));
    values.insert("at".to_string(), Scalar::Time(event.at));
    values.insert("by".to_string(), Scalar::Str(event.by.clone()));
    let optional = [
        ("role", &event.role),
        ("hash", &event.hash),
        ("comment", &event.comment),
        ("carrier", &event.carrier),
        ("tracking", &event.tracking),
        ("exception", &event.exception),
        ("batches", &event.batches),
    ];
    for (key, value) in optional {
        if let Some(v) = value {
            values.insert(key.to_string(), Scalar::Str(v.clone()));
        }
    }
    crate::kinds::Entry { id: String::new(), values }
}

/// Append a lifecycle event (see [`super::order_lifecycle`] for what each kind means).
pub fn append_event(doc: &mut AutoCommit, event: &OrderEvent) -> R<()> {
    check_kind(doc, DocKind::Order.as_str())?;
    super::access::push_entry(doc, "events", &event_entry(event).values)
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
    let who = Writer { user: "", now: 0 };
    record::set(doc, DocKind::Order, &[(field, value)], &who, &ParseContext::default()).map(|_| ())
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
    let receipts = super::read_receipts(doc);
    let events: Vec<OrderEvent> = list_items(doc, &ROOT, "events")
        .iter()
        .map(|e| OrderEvent { received: receipts.get(&e.to_string()).copied(), ..read_event(doc, e) })
        .collect();
    let received_at = events.first().and_then(|e| e.received);
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
        received_at,
    })
}

/// Has the order been submitted (it holds a `submitted` event)? Reads only the events'
/// kinds, so a draft with many lines is told apart without decoding them.
pub fn is_submitted_doc(doc: &AutoCommit) -> bool {
    list_items(doc, &ROOT, "events").iter().any(|e| get_str(doc, e, "kind") == super::EventKind::Submitted.as_str())
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
        batches: get_opt_str(doc, e, "batches"),
        received: None,
    }
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
    fn batches_round_trip_and_are_checked() {
        let pairs = vec![
            ("l1".to_string(), "B2026-03".to_string()),
            ("l1".to_string(), "B2026-04".to_string()),
            ("l2".to_string(), "B2026-03".to_string()),
        ];
        let text = format_batches(&pairs);
        assert_eq!(text, "l1=B2026-03,B2026-04;l2=B2026-03");
        assert_eq!(parse_batches(&text).unwrap(), pairs);
        for bad in ["l1", "=B1", "l1=", "l1=B 1", "l1=B1;l2=x;y"] {
            assert!(parse_batches(bad).is_err(), "{bad}");
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
