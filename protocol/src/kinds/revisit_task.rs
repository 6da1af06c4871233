//! 回访任务: one revisit to make, of one customer — from a revisit plan, from a resolved
//! complaint or a closed quality issue (created by the server, exactly once), or by hand.
//! Assigned to the customer's rep (or after-sales); done when the revisit is recorded.

use super::DocKind;
use super::grants::{SERVICE_STAFF, TASK_READERS};
use super::spec::build::{author, created_at, field, parent};
use super::spec::{FieldRole, FieldType::*, IdRule, KindSpec, Placement};
use crate::schema::{RevisitContent, RevisitMethod, TaskStatus};

pub const SPEC: KindSpec = KindSpec {
    name: "revisit-task",
    zh: "回访任务",
    en: "Revisit task",
    code: 13,
    id: IdRule::Random,
    placement: Placement::Parent { kind: DocKind::Customer, field: "customer" },
    read: TASK_READERS,
    create: SERVICE_STAFF,
    title: Some("content"),
    server_written: false,
    freeze: None,
    fields: &[
        parent("customer", DocKind::Customer, "客户", "Customer", SERVICE_STAFF),
        author("created_by", "创建人", "Created by", SERVICE_STAFF),
        created_at("created_at", "创建时间", "Created at", SERVICE_STAFF),
        field("plan", Ref(DocKind::RevisitPlan), "回访计划", "Plan", SERVICE_STAFF),
        field("complaint", Ref(DocKind::Complaint), "投诉", "Complaint", SERVICE_STAFF),
        field("quality_issue", Ref(DocKind::QualityIssue), "质量问题", "Quality issue", SERVICE_STAFF),
        field("content", Enum(&RevisitContent::VOCAB), "回访内容", "Content", SERVICE_STAFF).required(),
        field("method", Enum(&RevisitMethod::VOCAB), "回访方式", "Method", SERVICE_STAFF),
        field("due", Date, "回访期限", "Due", SERVICE_STAFF).required(),
        field("assignee", Str { max: 64 }, "负责人", "Assigned to", SERVICE_STAFF).with_role(FieldRole::Assignee),
        field("status", Enum(&TaskStatus::VOCAB), "任务状态", "Status", SERVICE_STAFF),
        field("note", Str { max: 500 }, "备注", "Note", SERVICE_STAFF),
    ],
};
