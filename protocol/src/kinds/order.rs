//! 订单: an order of a customer. Its status is folded from the append-only `events` log
//! ([`crate::schema::order_lifecycle`]); each department appends the events it owns.

use super::DocKind;
use super::grants::{FIELD_STAFF, ORDER_READERS};
use super::spec::build::{author, created_at, entry, field, parent};
use super::log::LogCheck;
use super::spec::{
    Effect, FieldSpec, FieldType::*, Freeze, Grants, IdRule, InputRule, KindSpec, LogFold, LogSpec, Placement, Scope,
};
use crate::role::Role::{self, *};
use crate::schema::order::{MAX_QTY, MAX_UNIT_PRICE_FEN};
use crate::schema::{EventKind, ExceptionKind, OrderSource, PaymentMethod};

/// Everyone who appends some kind of event (which kinds each role may append is
/// [`EVENTS`]' entries, checked per event).
const EVENT_WRITERS: Grants = &[
    (Rep, Scope::Territory),
    (Manager, Scope::Territory),
    (Logistics, Scope::All),
    (Finance, Scope::All),
    (Legal, Scope::All),
    (AfterSales, Scope::All),
    (Executive, Scope::All),
    (Admin, Scope::All),
];

const LINE: &[FieldSpec] = &[
    field("id", Str { max: 64 }, "编号", "Id", FIELD_STAFF),
    field("sku", Str { max: 64 }, "产品", "Product", FIELD_STAFF).required(),
    field("spec", Str { max: 64 }, "规格", "Spec", FIELD_STAFF),
    field("qty", Int { min: 1, max: MAX_QTY }, "数量", "Quantity", FIELD_STAFF).required(),
    field("unit_price_fen", Money { max: MAX_UNIT_PRICE_FEN }, "单价", "Unit price", FIELD_STAFF)
        .required()
        .with_input(InputRule::Positive),
];

const ROLES: &[Role] = &[Rep, Manager, Admin];
const APPROVERS: &[Role] = &[Manager, Executive, Admin];
const EXCEPTION_HANDLERS: &[Role] = &[Rep, Manager, Logistics, Finance, AfterSales, Admin];

/// The event log: who may append which event.
pub const EVENTS: LogSpec = LogSpec {
    kind_key: Some(("kind", &EventKind::VOCAB)),
    word: "event",
    invalid_rule: None,
    author_key: "by",
    role_key: Some("role"),
    time_key: "at",
    by_arrival: true,
    on_create: Some("created"),
    fields: &[
        field("comment", Str { max: 1_000 }, "说明", "Comment", EVENT_WRITERS),
        field("hash", Str { max: 128 }, "内容摘要", "Content hash", EVENT_WRITERS),
        field("carrier", Str { max: 100 }, "承运商", "Carrier", EVENT_WRITERS),
        field("tracking", Str { max: 100 }, "运单号", "Tracking number", EVENT_WRITERS),
        field("exception", Enum(&ExceptionKind::VOCAB), "异常类型", "Exception", EVENT_WRITERS),
        // The batch numbers each line shipped with (`LINE=BATCH,BATCH;LINE=BATCH`): what a
        // recall lists its customers by.
        field("batches", Str { max: 4_000 }, "批次号", "Batch numbers", EVENT_WRITERS),
    ],
    entries: &[
        entry("created", ROLES),
        entry("submitted", ROLES),
        entry("cancelled", ROLES),
        entry("closed", ROLES),
        entry("approved", APPROVERS).requires(&["role", "hash"]).not_by_author(),
        entry("rejected", APPROVERS).requires(&["role", "hash"]).not_by_author(),
        entry("paid", &[Finance, Admin]),
        entry("shipped", &[Logistics, Admin]),
        entry("delivered", &[Logistics, Rep, Manager, Admin]),
        entry("exception", EXCEPTION_HANDLERS).requires(&["role"]),
        entry("resolved", EXCEPTION_HANDLERS),
        // An order that needs a signed contract may proceed without one by exemption.
        entry("contract-waived", &[Legal, Executive, Admin]).requires(&["role"]).not_by_author(),
    ],
    check: Some(check_event),
    fold: LogFold::Custom,
};

/// What an order event must be beyond its kind and author: batches in the one format, a
/// resolution by the department that raised the exception.
fn check_event(c: &LogCheck<'_>) -> Result<(), String> {
    if let Some(text) = c.entry.str("batches") {
        crate::schema::order::parse_batches(text)?;
    }
    check_resolution(c)
}

/// A department resolves its own exceptions: a resolution is recorded in the role that
/// raised an open exception, by logistics for a cancellation requested after shipment
/// (the goods come back to them), or by a manager or an admin.
fn check_resolution(c: &LogCheck<'_>) -> Result<(), String> {
    if c.entry.str("kind") != Some("resolved") || matches!(c.writer.role, Manager | Admin) {
        return Ok(());
    }
    let mut open: Vec<Option<&str>> = Vec::new();
    for e in c.earlier() {
        match e.str("kind") {
            Some("exception") => open.push(e.str("role")),
            Some("cancelled") if !open.is_empty() || c.earlier().any(|x| x.str("kind") == Some("shipped")) => {
                open.push(Some(Logistics.as_str()))
            }
            Some("resolved") if !open.is_empty() => {
                open.remove(0);
            }
            _ => {}
        }
    }
    let mine = c.writer.role.as_str();
    if open.contains(&Some(mine)) {
        Ok(())
    } else {
        Err(format!("role {mine} may not resolve an exception another department raised (ask them or a manager)"))
    }
}

pub const SPEC: KindSpec = KindSpec {
    name: "order",
    zh: "订单",
    en: "Order",
    code: 3,
    id: IdRule::Random,
    placement: Placement::Parent { kind: DocKind::Customer, field: "customer" },
    read: ORDER_READERS,
    create: FIELD_STAFF,
    title: None,
    server_written: false,
    freeze: Some(Freeze {
        fields: &["source", "lines", "delivery_date", "delivery_place", "payment_method", "priced_with"],
        effect: Effect::Assigned,
    }),
    fields: &[
        parent("customer", DocKind::Customer, "客户", "Customer", FIELD_STAFF),
        author("created_by", "创建人", "Created by", FIELD_STAFF),
        created_at("created_at", "下单时间", "Created at", FIELD_STAFF),
        field("source", Enum(&OrderSource::VOCAB), "订单来源", "Source", FIELD_STAFF),
        field("lines", Records(LINE), "订单明细", "Lines", FIELD_STAFF),
        field("delivery_date", Date, "交货日期", "Delivery date", FIELD_STAFF).with_input(InputRule::NotPast),
        field("delivery_place", Str { max: 200 }, "交货地点", "Delivery place", FIELD_STAFF),
        field("payment_method", Enum(&PaymentMethod::VOCAB), "付款方式", "Payment method", FIELD_STAFF),
        field("notes", Text { max: 10_000 }, "备注", "Notes", FIELD_STAFF),
        field("priced_with", Int { min: 0, max: u32::MAX as i64 }, "定价版本", "Priced with version", FIELD_STAFF),
        field("events", Log(&EVENTS), "订单事件", "Events", EVENT_WRITERS),
    ],
};
