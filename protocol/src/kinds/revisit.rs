//! 回访记录: one revisit of a customer — when, by whom, how, the answers,
//! satisfaction, purchase intention and the next step. A revisit of a complaint's customer
//! names the complaint: the server writes its satisfaction back to the complaint's
//! history ([`super::complaint_track`]). A customer's records are their revisit archive.

use super::DocKind;
use super::grants::SERVICE_STAFF;
use super::spec::build::{author, created_at, field, parent};
use super::spec::{FieldType::*, Grants, IdRule, KindSpec, Placement, Scope};
use crate::role::Role;
use crate::schema::{Intention, RevisitMethod};

const READERS: Grants = &[
    (Role::Rep, Scope::Territory),
    (Role::Manager, Scope::Territory),
    (Role::AfterSales, Scope::All),
    (Role::Quality, Scope::All),
    (Role::Executive, Scope::All),
    (Role::Admin, Scope::All),
];

pub const SPEC: KindSpec = KindSpec {
    name: "revisit",
    zh: "回访记录",
    en: "Revisit",
    code: 14,
    id: IdRule::Random,
    placement: Placement::Parent { kind: DocKind::Customer, field: "customer" },
    read: READERS,
    create: SERVICE_STAFF,
    title: Some("method"),
    server_written: false,
    freeze: None,
    fields: &[
        parent("customer", DocKind::Customer, "客户", "Customer", SERVICE_STAFF),
        author("staff", "回访人", "Staff", SERVICE_STAFF),
        created_at("at", "回访时间", "Revisited at", SERVICE_STAFF),
        field("task", Ref(DocKind::RevisitTask), "回访任务", "Task", SERVICE_STAFF),
        field("complaint", Ref(DocKind::Complaint), "投诉", "Complaint", SERVICE_STAFF),
        field("method", Enum(&RevisitMethod::VOCAB), "回访方式", "Method", SERVICE_STAFF).required(),
        field("answers", Text { max: 5_000 }, "回访内容", "Answers", SERVICE_STAFF),
        field("satisfaction", Int { min: 1, max: 5 }, "满意度", "Satisfaction (1-5)", SERVICE_STAFF).required(),
        field("intention", Enum(&Intention::VOCAB), "购买意向", "Purchase intention", SERVICE_STAFF),
        field("next_step", Str { max: 500 }, "下一步", "Next step", SERVICE_STAFF),
    ],
};
