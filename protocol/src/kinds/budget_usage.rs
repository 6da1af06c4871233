//! 预算执行: what the server counted against a budget — per item and month the budget in
//! force, approved supplements, committed and spent — for every device of the team,
//! including reps who may not read their colleagues' claims. Written only by the server.

use super::DocKind;
use super::grants::BUDGET_READERS;
use super::spec::build::{field, parent};
use super::spec::{FieldType::*, IdRule, KindSpec, NOBODY, Placement};
use crate::schema::expense::usage_id;

pub const SPEC: KindSpec = KindSpec {
    name: "budget-usage",
    zh: "预算执行",
    en: "Budget usage",
    code: 22,
    id: IdRule::Derived(usage_id),
    placement: Placement::Parent { kind: DocKind::ExpenseBudget, field: "budget" },
    read: BUDGET_READERS,
    create: NOBODY,
    title: None,
    server_written: true,
    freeze: None,
    fields: &[
        parent("budget", DocKind::ExpenseBudget, "预算", "Budget", NOBODY),
        field("version", Int { min: 0, max: 10_000 }, "执行版本", "Version in force", NOBODY),
        field("usage", Bytes, "执行明细", "Usage", NOBODY),
    ],
};
