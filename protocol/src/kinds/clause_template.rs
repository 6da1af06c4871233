//! 合同条款模板: clause texts legal maintains, which a contract's clauses start from.

use super::grants::LEGAL;
use super::spec::build::{author, created_at, field};
use super::spec::{FieldType::*, IdRule, KindSpec, Placement, Scope};
use crate::role::Role;
use crate::schema::ContractType;

pub const SPEC: KindSpec = KindSpec {
    name: "clause-template",
    zh: "合同条款模板",
    en: "Clause template",
    code: 18,
    id: IdRule::Random,
    placement: Placement::Nowhere,
    read: &[
        (Role::Rep, Scope::All),
        (Role::Manager, Scope::All),
        (Role::Legal, Scope::All),
        (Role::Executive, Scope::All),
        (Role::Admin, Scope::All),
    ],
    create: LEGAL,
    title: Some("name"),
    server_written: false,
    freeze: None,
    fields: &[
        author("created_by", "编写人", "Written by", LEGAL),
        created_at("created_at", "编写时间", "Written at", LEGAL),
        field("name", Str { max: 100 }, "模板名称", "Name", LEGAL).required(),
        field("contract_type", Enum(&ContractType::VOCAB), "合同类型", "Contract type", LEGAL),
        field("body", Text { max: 50_000 }, "条款内容", "Clauses", LEGAL).required(),
    ],
};
