//! 销售费用预算: a team's expense budget for a year, per item and month. The manager drafts
//! `items`; each submission appends a version (the lines as they were, with their hash)
//! that the executive approves or rejects; an approved version never changes and a
//! revision is the next version ([`crate::schema::expense`]).

use super::grants::{BUDGET_READERS, TEAM_MANAGERS};
use super::spec::build::{author, created_at, entry, field};
use super::spec::{FieldSpec, FieldType::*, Grants, IdRule, KindSpec, LogSpec, Placement, Scope};
use crate::role::Role;
use crate::schema::expense::MAX_FEN;
use crate::schema::{BudgetEventKind, ExpenseItem};

const LINE: &[FieldSpec] = &[
    field("id", Str { max: 64 }, "编号", "Id", TEAM_MANAGERS),
    field("item", Enum(&ExpenseItem::VOCAB), "费用项目", "Item", TEAM_MANAGERS).required(),
    field("month", Int { min: 1, max: 12 }, "月份", "Month", TEAM_MANAGERS).required(),
    field("amount_fen", Money { max: MAX_FEN }, "金额", "Amount", TEAM_MANAGERS).required(),
];

const VERSION_WRITERS: Grants =
    &[(Role::Manager, Scope::Territory), (Role::Executive, Scope::All), (Role::Admin, Scope::All)];
const DECIDERS: &[Role] = &[Role::Executive, Role::Admin];

const VERSIONS: LogSpec = LogSpec {
    fold: super::spec::LogFold::History,
    kind_key: Some(("kind", &BudgetEventKind::VOCAB)),
    word: "version",
    invalid_rule: None,
    author_key: "by",
    role_key: Some("role"),
    time_key: "at",
    by_arrival: true,
    on_create: None,
    fields: &[
        field("version", Int { min: 1, max: 10_000 }, "版本", "Version", VERSION_WRITERS),
        field("body", Bytes, "预算明细", "Lines", VERSION_WRITERS),
        field("hash", Str { max: 128 }, "内容摘要", "Content hash", VERSION_WRITERS),
        field("comment", Str { max: 1_000 }, "说明", "Comment", VERSION_WRITERS),
    ],
    entries: &[
        entry("submitted", &[Role::Manager, Role::Admin]).requires(&["version", "body", "hash"]),
        entry("approved", DECIDERS).requires(&["role", "version", "hash"]).not_by_author(),
        entry("rejected", DECIDERS).requires(&["role", "version", "hash"]).not_by_author(),
    ],
    check: Some(crate::schema::expense::check_budget_entry),
};

pub const SPEC: KindSpec = KindSpec {
    name: "expense-budget",
    zh: "销售费用预算",
    en: "Expense budget",
    code: 21,
    id: IdRule::Random,
    placement: Placement::Own { territory: "team" },
    read: BUDGET_READERS,
    create: TEAM_MANAGERS,
    title: Some("title"),
    server_written: false,
    freeze: None,
    fields: &[
        author("created_by", "编制人", "Drafted by", TEAM_MANAGERS),
        created_at("created_at", "编制时间", "Drafted at", TEAM_MANAGERS),
        field("team", Str { max: 50 }, "部门/团队", "Team", TEAM_MANAGERS).required().create_only(),
        field("year", Int { min: 2000, max: 2100 }, "年度", "Year", TEAM_MANAGERS).required().create_only(),
        field("title", Str { max: 100 }, "名称", "Title", TEAM_MANAGERS).required(),
        field("items", Records(LINE), "预算明细（草稿）", "Lines (draft)", TEAM_MANAGERS),
        field("versions", Log(&VERSIONS), "预算版本", "Versions", VERSION_WRITERS),
    ],
};
