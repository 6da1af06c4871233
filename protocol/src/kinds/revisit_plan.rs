//! 回访计划: a planned round of revisits — purpose, content, method, schedule,
//! owner — over a scope: a list of customers, or a rule (a territory, a class, complaints
//! received in a period). The server expands it into one revisit task per customer it
//! reaches, exactly once each, however many devices edit the plan.

use super::grants::{AFTER_SALES, QUALITY_READERS};
use super::spec::build::{author, created_at, field};
use super::spec::{FieldType::*, IdRule, KindSpec, Placement};
use crate::schema::{CustomerClass, PlanScope, RevisitContent, RevisitMethod};

pub const SPEC: KindSpec = KindSpec {
    name: "revisit-plan",
    zh: "回访计划",
    en: "Revisit plan",
    code: 12,
    id: IdRule::Random,
    placement: Placement::Nowhere,
    read: QUALITY_READERS,
    create: AFTER_SALES,
    title: Some("title"),
    server_written: false,
    freeze: None,
    fields: &[
        author("created_by", "创建人", "Created by", AFTER_SALES),
        created_at("created_at", "创建时间", "Created at", AFTER_SALES),
        field("title", Str { max: 100 }, "回访目的", "Purpose", AFTER_SALES).required(),
        field("content", Enum(&RevisitContent::VOCAB), "回访内容", "Content", AFTER_SALES).required(),
        field("method", Enum(&RevisitMethod::VOCAB), "回访方式", "Method", AFTER_SALES).required(),
        field("due", Date, "计划完成日期", "Due", AFTER_SALES).required(),
        field("owner", Str { max: 64 }, "负责人", "Owner", AFTER_SALES),
        field("scope", Enum(&PlanScope::VOCAB), "回访范围", "Scope", AFTER_SALES).required(),
        field("customers", Str { max: 4_000 }, "指定客户", "Customers (ids)", AFTER_SALES),
        field("territory", Str { max: 50 }, "规则：销售区域", "Rule: territory", AFTER_SALES),
        field("class", Enum(&CustomerClass::VOCAB), "规则：客户分类", "Rule: class", AFTER_SALES),
        field("complained_from", Date, "规则：投诉起始日期", "Rule: complained from", AFTER_SALES),
        field("complained_to", Date, "规则：投诉截止日期", "Rule: complained until", AFTER_SALES),
        field("notes", Text { max: 5_000 }, "备注", "Notes", AFTER_SALES),
    ],
};
