//! 费用申请: asking before spending — amount, item, purpose, date, the customer or event —
//! approved by level of amount ([`crate::schema::expense::ApprovalPolicy`]). An approved
//! request commits its amount on its team's budget.

use super::DocKind;
use super::grants::{EXPENSE_READERS, FIELD_STAFF};
use super::spec::build::{author, created_at, entry, field, parent};
use super::spec::{FieldType::*, Grants, IdRule, InputRule, KindSpec, LogSpec, Placement, Scope};
use crate::role::Role::{self, *};
use crate::schema::expense::MAX_FEN;
use crate::schema::{ExpenseEventKind, ExpenseItem};

pub const EVENT_WRITERS: Grants =
    &[(Rep, Scope::Territory), (Manager, Scope::Territory), (Executive, Scope::All), (Admin, Scope::All)];
const AUTHORS: &[Role] = &[Rep, Manager, Admin];
const APPROVERS: &[Role] = &[Manager, Executive, Admin];

pub const EVENTS: LogSpec = LogSpec {
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
        field("comment", Str { max: 1_000 }, "说明", "Comment", EVENT_WRITERS),
    ],
    entries: &[
        entry("submitted", AUTHORS),
        entry("approved", APPROVERS).requires(&["role", "hash"]).not_by_author(),
        entry("rejected", APPROVERS).requires(&["role", "hash"]).not_by_author(),
        entry("cancelled", AUTHORS),
    ],
    check: None,
};

pub const SPEC: KindSpec = KindSpec {
    name: "expense-request",
    zh: "费用申请",
    en: "Expense request",
    code: 23,
    id: IdRule::Random,
    placement: Placement::Parent { kind: DocKind::ExpenseBudget, field: "budget" },
    read: EXPENSE_READERS,
    create: FIELD_STAFF,
    title: Some("purpose"),
    server_written: false,
    freeze: None,
    fields: &[
        parent("budget", DocKind::ExpenseBudget, "预算", "Budget", FIELD_STAFF),
        author("created_by", "申请人", "Requested by", FIELD_STAFF),
        created_at("created_at", "申请时间", "Requested at", FIELD_STAFF),
        field("item", Enum(&ExpenseItem::VOCAB), "费用项目", "Item", FIELD_STAFF).required(),
        field("amount_fen", Money { max: MAX_FEN }, "金额", "Amount", FIELD_STAFF).required().with_input(InputRule::Positive),
        field("purpose", Str { max: 500 }, "用途", "Purpose", FIELD_STAFF).required(),
        field("date", Date, "预计日期", "Planned date", FIELD_STAFF).required(),
        field("customer", Ref(DocKind::Customer), "客户", "Customer", FIELD_STAFF),
        field("event", Str { max: 200 }, "活动", "Event", FIELD_STAFF),
        field("events", Log(&EVENTS), "审批流程", "Workflow", EVENT_WRITERS),
    ],
};
