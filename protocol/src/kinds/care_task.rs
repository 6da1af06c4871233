//! 关怀任务: one act of customer care for one customer, from the care calendar, for the
//! customer's rep — done or skipped, with a note.

use super::DocKind;
use super::spec::build::{author, created_at, field, parent};
use super::spec::{FieldRole, FieldType::*, Grants, IdRule, KindSpec, Placement, Scope};
use crate::role::Role;
use crate::schema::{CareOccasion, TaskStatus};

/// The field in their territories, after-sales and market everywhere.
const STAFF: Grants = &[
    (Role::Rep, Scope::Territory),
    (Role::Manager, Scope::Territory),
    (Role::AfterSales, Scope::All),
    (Role::Market, Scope::All),
    (Role::Admin, Scope::All),
];

const READERS: Grants = &[
    (Role::Rep, Scope::Territory),
    (Role::Manager, Scope::Territory),
    (Role::AfterSales, Scope::All),
    (Role::Market, Scope::All),
    (Role::Executive, Scope::All),
    (Role::Admin, Scope::All),
];

pub const SPEC: KindSpec = KindSpec {
    name: "care-task",
    zh: "关怀任务",
    en: "Care task",
    code: 16,
    id: IdRule::Random,
    placement: Placement::Parent { kind: DocKind::Customer, field: "customer" },
    read: READERS,
    create: STAFF,
    title: Some("occasion"),
    server_written: false,
    freeze: None,
    fields: &[
        parent("customer", DocKind::Customer, "客户", "Customer", STAFF),
        author("created_by", "创建人", "Created by", STAFF),
        created_at("created_at", "创建时间", "Created at", STAFF),
        field("event", Ref(DocKind::CareEvent), "关怀日历", "Care date", STAFF),
        field("occasion", Enum(&CareOccasion::VOCAB), "关怀类型", "Occasion", STAFF).required(),
        field("due", Date, "日期", "Due", STAFF).required(),
        field("assignee", Str { max: 64 }, "负责人", "Assigned to", STAFF).with_role(FieldRole::Assignee),
        field("status", Enum(&TaskStatus::VOCAB), "任务状态", "Status", STAFF),
        field("note", Str { max: 500 }, "备注", "Note", STAFF),
    ],
};
