//! 拜访计划 (R-3.7, planning): a visit a manager or rep plans — customer, date, purpose,
//! who goes. A visit log that names the plan ([`super::visit`] `plan`) completes it; a plan
//! whose day has passed (Asia/Shanghai) without one is missed. Both are read from the
//! documents, never stored: a visit logged offline on another device completes the plan
//! wherever it syncs.

use super::DocKind;
use super::grants::{ASSIGNERS, FIELD_STAFF, PLAN_READERS};
use super::spec::build::{author, created_at, entry, field, parent};
use super::spec::{FieldRole, FieldType::*, IdRule, KindSpec, LogSpec, Placement, Step, Workflow};
use super::steps::{v, workflow_log};
use super::vocab::Vocab;
use crate::role::Role::*;

pub const STATES: Vocab =
    Vocab { name: "visit-plan-status", entries: &[v("planned", "已计划", "Planned"), v("cancelled", "已取消", "Cancelled")] };

pub const STEPS: Vocab = Vocab { name: "visit-plan-step", entries: &[v("cancel", "取消", "Cancel")] };

const WORKFLOW: Workflow =
    Workflow { states: &STATES, steps: &[Step { entry: "cancel", from: &["planned"], to: "cancelled" }] };

const STATUS: LogSpec = workflow_log(&STEPS, &[entry("cancel", &[Rep, Manager, Admin])], &WORKFLOW);

const F: super::Grants = FIELD_STAFF;

pub const SPEC: KindSpec = KindSpec {
    name: "visit-plan",
    zh: "拜访计划",
    en: "Visit plan",
    code: 40,
    id: IdRule::Random,
    placement: Placement::Parent { kind: DocKind::Customer, field: "customer" },
    read: PLAN_READERS,
    create: F,
    title: Some("purpose"),
    server_written: false,
    freeze: None,
    fields: &[
        parent("customer", DocKind::Customer, "客户", "Customer", F),
        author("planned_by", "计划人", "Planned by", F),
        created_at("planned_at", "计划时间", "Planned at", F),
        field("rep", Str { max: 64 }, "拜访人", "Rep", ASSIGNERS).with_role(FieldRole::Assignee).required(),
        field("date", Date, "拜访日期", "Date", F).required(),
        field("purpose", Str { max: 200 }, "拜访目的", "Purpose", F).required(),
        field("status", Log(&STATUS), "状态", "Status", F),
    ],
};
