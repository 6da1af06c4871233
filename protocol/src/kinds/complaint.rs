//! 投诉: a customer's complaint, filed by the hotline or by a rep on the
//! spot, worked by after-sales. Its status is folded from the append-only `events` log
//! ([`crate::schema::complaint_lifecycle`]) and its SLA clocks are a pure function of that
//! log and the after-sales policy ([`crate::schema::sla`]).

use super::DocKind;
use super::grants::{AFTER_SALES, COMPLAINT_READERS, SERVICE_STAFF};
use super::spec::build::{author, created_at, entry, field, parent};
use super::spec::{Effect, FieldType::*, Freeze, IdRule, KindSpec, LogFold, LogSpec, Placement};
use crate::role::Role::{self, *};
use crate::schema::{ComplaintCategory, ComplaintChannel, ComplaintEventKind, ResponsibleParty, Severity, ToldVia};

/// Who files a complaint and adds field notes.
const FIELD: &[Role] = &[Rep, Manager, AfterSales, Admin];
/// Who works it: every step of the workflow is after-sales'.
const WORKERS: &[Role] = &[AfterSales, Admin];

/// The complaint's history: who may append which step.
pub const EVENTS: LogSpec = LogSpec {
    kind_key: Some(("kind", &ComplaintEventKind::VOCAB)),
    word: "event",
    invalid_rule: None,
    author_key: "by",
    role_key: None,
    time_key: "at",
    by_arrival: true,
    on_create: Some("filed"),
    fields: &[
        field("comment", Str { max: 2_000 }, "说明", "Comment", SERVICE_STAFF),
        field("findings", Str { max: 2_000 }, "调查结果", "Findings", SERVICE_STAFF),
        field("responsible", Enum(&ResponsibleParty::VOCAB), "责任方", "Responsible party", SERVICE_STAFF),
        field("measures", Str { max: 2_000 }, "处理措施", "Measures", SERVICE_STAFF),
        field("expected", Date, "预计解决日期", "Expected resolution", SERVICE_STAFF),
        field("satisfaction", Int { min: 1, max: 5 }, "满意度", "Satisfaction (1-5)", SERVICE_STAFF),
        field("told_via", Enum(&ToldVia::VOCAB), "告知方式", "Told via", SERVICE_STAFF),
    ],
    entries: &[
        entry("filed", FIELD),
        entry("acknowledged", WORKERS),
        entry("investigating", WORKERS).requires(&["findings"]),
        entry("measures", WORKERS).requires(&["measures", "expected"]),
        entry("resolved", WORKERS).requires(&["comment"]),
        entry("feedback", WORKERS).requires(&["satisfaction"]),
        entry("closed", WORKERS),
        entry("reopened", WORKERS).requires(&["comment"]),
        entry("waiting", WORKERS),
        entry("resumed", WORKERS),
        entry("progress", WORKERS).requires(&["comment", "told_via"]),
        entry("field-note", FIELD).requires(&["comment"]),
        entry("escalated", &[Manager, Admin]).requires(&["comment"]),
    ],
    check: None,
    fold: LogFold::Custom,
};

pub const SPEC: KindSpec = KindSpec {
    name: "complaint",
    zh: "投诉",
    en: "Complaint",
    code: 7,
    id: IdRule::Random,
    placement: Placement::Parent { kind: DocKind::Customer, field: "customer" },
    read: COMPLAINT_READERS,
    create: SERVICE_STAFF,
    title: Some("content"),
    server_written: false,
    freeze: Some(Freeze { fields: &["severity"], effect: Effect::SlaBreached }),
    fields: &[
        parent("customer", DocKind::Customer, "客户", "Customer", SERVICE_STAFF),
        author("filed_by", "登记人", "Filed by", SERVICE_STAFF),
        created_at("received_at", "接收时间", "Received at", SERVICE_STAFF),
        field("channel", Enum(&ComplaintChannel::VOCAB), "投诉渠道", "Channel", SERVICE_STAFF).required(),
        // Category and severity decide who looks at it and how fast: after-sales corrects them.
        field("category", Enum(&ComplaintCategory::VOCAB), "投诉类别", "Category", SERVICE_STAFF)
            .required()
            .edited_by(AFTER_SALES),
        field("severity", Enum(&Severity::VOCAB), "严重程度", "Severity", SERVICE_STAFF)
            .required()
            .edited_by(AFTER_SALES),
        field("content", Text { max: 5_000 }, "投诉内容", "Content", SERVICE_STAFF).required(),
        field("order", Ref(DocKind::Order), "相关订单", "Order", SERVICE_STAFF),
        field("sku", Str { max: 64 }, "产品", "Product (SKU)", SERVICE_STAFF),
        field("batch", Str { max: 64 }, "批次号", "Batch number", SERVICE_STAFF),
        field("production_date", Date, "生产日期", "Production date", SERVICE_STAFF),
        field("contact_phone", Phone, "联系电话", "Contact phone", SERVICE_STAFF),
        field("events", Log(&EVENTS), "处理记录", "History", SERVICE_STAFF),
    ],
};
