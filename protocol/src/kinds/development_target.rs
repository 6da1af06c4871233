//! 开发目标客户: one prospect of a development plan — the customer, how to develop them
//! (phone, on-site visit, trade show, promotion event), the class the plan aims for and by
//! when.

use super::DocKind;
use super::grants::{FIELD_STAFF, PLAN_READERS};
use super::spec::build::{author, created_at, field, parent};
use super::spec::{FieldType::*, IdRule, KindSpec, Placement};
use crate::schema::{CustomerClass, VisitMethod};

const F: super::Grants = FIELD_STAFF;

pub const SPEC: KindSpec = KindSpec {
    name: "development-target",
    zh: "开发目标客户",
    en: "Development target",
    code: 39,
    id: IdRule::Random,
    placement: Placement::Parent { kind: DocKind::DevelopmentPlan, field: "plan" },
    read: PLAN_READERS,
    create: F,
    title: Some("customer"),
    server_written: false,
    freeze: None,
    fields: &[
        parent("plan", DocKind::DevelopmentPlan, "开发计划", "Development plan", F),
        author("added_by", "添加人", "Added by", F),
        created_at("added_at", "添加时间", "Added at", F),
        field("customer", Ref(DocKind::Customer), "目标客户", "Customer", F).required(),
        field("method", Enum(&VisitMethod::VOCAB), "开发方式", "Method", F),
        field("target_class", Enum(&CustomerClass::VOCAB), "目标分类", "Target class", F),
        field("due", Date, "完成日期", "Due", F),
        field("note", Str { max: 500 }, "说明", "Note", F),
    ],
};
