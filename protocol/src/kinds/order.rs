//! 订单: an order of a customer. Its status is folded from the append-only `events` log
//! ([`crate::schema::order_lifecycle`]); each department appends the events it owns.

use super::DocKind;
use super::grants::{FIELD_STAFF, ORDER_READERS};
use super::spec::build::{author, created_at, entry, field, parent};
use super::spec::{FieldSpec, FieldType::*, Grants, IdRule, KindSpec, LogSpec, Placement, Scope};
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
    (AfterSales, Scope::All),
    (Executive, Scope::All),
    (Admin, Scope::All),
];

const LINE: &[FieldSpec] = &[
    field("id", Str { max: 64 }, "编号", "Id", FIELD_STAFF),
    field("sku", Str { max: 64 }, "产品", "Product", FIELD_STAFF).required(),
    field("spec", Str { max: 64 }, "规格", "Spec", FIELD_STAFF),
    field("qty", Int { min: 1, max: MAX_QTY }, "数量", "Quantity", FIELD_STAFF).required(),
    field("unit_price_fen", Money { max: MAX_UNIT_PRICE_FEN }, "单价", "Unit price", FIELD_STAFF).required(),
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
    fields: &[
        field("comment", Str { max: 1_000 }, "说明", "Comment", EVENT_WRITERS),
        field("hash", Str { max: 128 }, "内容摘要", "Content hash", EVENT_WRITERS),
        field("carrier", Str { max: 100 }, "承运商", "Carrier", EVENT_WRITERS),
        field("tracking", Str { max: 100 }, "运单号", "Tracking number", EVENT_WRITERS),
        field("exception", Enum(&ExceptionKind::VOCAB), "异常类型", "Exception", EVENT_WRITERS),
    ],
    entries: &[
        entry("created", ROLES),
        entry("submitted", ROLES),
        entry("cancelled", ROLES),
        entry("closed", ROLES),
        entry("approved", APPROVERS).requires(&["role", "hash"]),
        entry("rejected", APPROVERS).requires(&["role", "hash"]),
        entry("paid", &[Finance, Admin]),
        entry("shipped", &[Logistics, Admin]),
        entry("delivered", &[Logistics, Rep, Manager, Admin]),
        entry("exception", EXCEPTION_HANDLERS),
        entry("resolved", EXCEPTION_HANDLERS),
    ],
    check: None,
};

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
    fields: &[
        parent("customer", DocKind::Customer, "客户", "Customer", FIELD_STAFF),
        author("created_by", "创建人", "Created by", FIELD_STAFF),
        created_at("created_at", "下单时间", "Created at", FIELD_STAFF),
        field("source", Enum(&OrderSource::VOCAB), "订单来源", "Source", FIELD_STAFF),
        field("lines", Records(LINE), "订单明细", "Lines", FIELD_STAFF),
        field("delivery_date", Date, "交货日期", "Delivery date", FIELD_STAFF),
        field("delivery_place", Str { max: 200 }, "交货地点", "Delivery place", FIELD_STAFF),
        field("payment_method", Enum(&PaymentMethod::VOCAB), "付款方式", "Payment method", FIELD_STAFF),
        field("notes", Text { max: 10_000 }, "备注", "Notes", FIELD_STAFF),
        field("priced_with", Int { min: 0, max: u32::MAX as i64 }, "定价版本", "Priced with version", FIELD_STAFF),
        field("events", Log(&EVENTS), "订单事件", "Events", EVENT_WRITERS),
    ],
};
