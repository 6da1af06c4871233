//! 费用追加申请: more budget for an item and month, with the reason — approved by the
//! executive before the spend; once approved it adds to the team's budget.

use super::DocKind;
use super::expense_request::EVENT_WRITERS;
use super::grants::{EXPENSE_READERS, FIELD_STAFF};
use super::spec::build::{author, created_at, entry, field, parent};
use super::spec::{FieldType::*, IdRule, InputRule, KindSpec, LogSpec, Placement};
use crate::role::Role::*;
use crate::schema::expense::MAX_FEN;
use crate::schema::{ExpenseEventKind, ExpenseItem};

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
        field("comment", Str { max: 1_000 }, "说明", "Comment", EVENT_WRITERS),
    ],
    entries: &[
        entry("submitted", &[Rep, Manager, Admin]),
        entry("approved", &[Executive, Admin]).requires(&["role", "hash"]).not_by_author(),
        entry("rejected", &[Executive, Admin]).requires(&["role", "hash"]).not_by_author(),
        entry("cancelled", &[Rep, Manager, Admin]),
    ],
    check: None,
};

pub const SPEC: KindSpec = KindSpec {
    name: "expense-supplement",
    zh: "费用追加申请",
    en: "Supplementary request",
    code: 24,
    id: IdRule::Random,
    placement: Placement::Parent { kind: DocKind::ExpenseBudget, field: "budget" },
    read: EXPENSE_READERS,
    create: FIELD_STAFF,
    title: Some("reason"),
    server_written: false,
    freeze: None,
    fields: &[
        parent("budget", DocKind::ExpenseBudget, "预算", "Budget", FIELD_STAFF),
        author("created_by", "申请人", "Requested by", FIELD_STAFF),
        created_at("created_at", "申请时间", "Requested at", FIELD_STAFF),
        field("item", Enum(&ExpenseItem::VOCAB), "费用项目", "Item", FIELD_STAFF).required(),
        field("month", Int { min: 1, max: 12 }, "月份", "Month", FIELD_STAFF).required(),
        field("amount_fen", Money { max: MAX_FEN }, "追加金额", "Amount", FIELD_STAFF).required().with_input(InputRule::Positive),
        field("reason", Str { max: 1_000 }, "追加理由", "Reason", FIELD_STAFF).required(),
        field("request", Ref(DocKind::ExpenseRequest), "费用申请", "Request", FIELD_STAFF),
        field("events", Log(&EVENTS), "审批流程", "Workflow", EVENT_WRITERS),
    ],
};
