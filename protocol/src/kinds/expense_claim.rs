//! 报销: a claim after spending, with its receipts (invoice photos or PDFs as attachments),
//! linked to the request and contract where relevant; approved by level of amount, each
//! receipt checked by finance (sanctioned ≤ claimed, with a reason), then reimbursed.
//! Reimbursement locks the claim's content.

use super::DocKind;
use super::grants::{EXPENSE_READERS, FIELD_STAFF};
use super::spec::build::{author, created_at, entry, field, parent};
use super::spec::{Effect, FieldSpec, FieldType::*, Freeze, Grants, IdRule, KindSpec, LogSpec, Placement, Scope};
use crate::role::Role::{self, *};
use crate::schema::expense::MAX_FEN;
use crate::schema::{ExpenseEventKind, ExpenseItem};

const EVENT_WRITERS: Grants = &[
    (Rep, Scope::Territory),
    (Manager, Scope::Territory),
    (Finance, Scope::All),
    (Executive, Scope::All),
    (Admin, Scope::All),
];

/// A receipt: the attachment (hash, name, type, size) and what it claims.
const RECEIPT: &[FieldSpec] = &[
    field("id", Str { max: 64 }, "编号", "Id", FIELD_STAFF),
    field("hash", Blob, "票据文件", "Receipt file", FIELD_STAFF).required(),
    field("name", Str { max: 200 }, "文件名", "File name", FIELD_STAFF),
    field("mime", Str { max: 64 }, "类型", "Type", FIELD_STAFF),
    field("size", Int { min: 0, max: crate::blob::MAX_BLOB_BYTES_CAP as i64 }, "大小", "Size", FIELD_STAFF),
    field("amount_fen", Money { max: MAX_FEN }, "票据金额", "Amount", FIELD_STAFF).required(),
    field("invoice_no", Str { max: 64 }, "发票号", "Invoice number", FIELD_STAFF),
    field("date", Date, "开票日期", "Invoice date", FIELD_STAFF),
];

const AUTHORS: &[Role] = &[Rep, Manager, Admin];
const APPROVERS: &[Role] = &[Manager, Executive, Admin];
const FINANCE: &[Role] = &[Finance, Admin];

const EVENTS: LogSpec = LogSpec {
    fold: super::spec::LogFold::Custom,
    kind_key: Some(("kind", &ExpenseEventKind::VOCAB)),
    word: "event",
    invalid_rule: None,
    author_key: "by",
    role_key: Some("role"),
    time_key: "at",
    by_arrival: true,
    on_create: None,
    fields: &[
        field("hash", Str { max: 128 }, "内容摘要", "Content hash", EVENT_WRITERS),
        field("receipt", Str { max: 64 }, "票据", "Receipt", EVENT_WRITERS),
        field("sanctioned_fen", Money { max: MAX_FEN }, "核定金额", "Sanctioned", EVENT_WRITERS),
        field("comment", Str { max: 1_000 }, "说明", "Comment", EVENT_WRITERS),
    ],
    entries: &[
        entry("submitted", AUTHORS),
        entry("approved", APPROVERS).requires(&["role", "hash"]).not_by_author(),
        entry("rejected", APPROVERS).requires(&["role", "hash"]).not_by_author(),
        entry("cancelled", AUTHORS),
        entry("checked", FINANCE).requires(&["receipt", "sanctioned_fen"]).not_by_author(),
        entry("returned", FINANCE),
        entry("reimbursed", FINANCE).requires(&["hash"]).not_by_author(),
    ],
    check: None,
};

pub const SPEC: KindSpec = KindSpec {
    name: "expense-claim",
    zh: "费用报销",
    en: "Expense claim",
    code: 25,
    id: IdRule::Random,
    placement: Placement::Parent { kind: DocKind::ExpenseBudget, field: "budget" },
    read: EXPENSE_READERS,
    create: FIELD_STAFF,
    title: Some("purpose"),
    server_written: false,
    freeze: Some(Freeze {
        fields: &["item", "purpose", "date", "request", "contract", "customer", "receipts"],
        effect: Effect::Reimbursed,
    }),
    fields: &[
        parent("budget", DocKind::ExpenseBudget, "预算", "Budget", FIELD_STAFF),
        author("created_by", "报销人", "Claimed by", FIELD_STAFF),
        created_at("created_at", "报销时间", "Claimed at", FIELD_STAFF),
        field("item", Enum(&ExpenseItem::VOCAB), "费用项目", "Item", FIELD_STAFF).required(),
        field("purpose", Str { max: 500 }, "事由", "Purpose", FIELD_STAFF).required(),
        field("date", Date, "发生日期", "Date spent", FIELD_STAFF).required(),
        field("request", Ref(DocKind::ExpenseRequest), "费用申请", "Request", FIELD_STAFF),
        field("contract", Ref(DocKind::Contract), "合同", "Contract", FIELD_STAFF),
        field("customer", Ref(DocKind::Customer), "客户", "Customer", FIELD_STAFF),
        field("receipts", Records(RECEIPT), "票据", "Receipts", FIELD_STAFF),
        field("events", Log(&EVENTS), "报销流程", "Workflow", EVENT_WRITERS),
    ],
};
