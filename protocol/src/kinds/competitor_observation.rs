//! 竞品价格观察: a competitor's product a rep saw at a customer's — brand, spec,
//! shelf price, promotion — recorded during or after a visit. The market department reads
//! every one of them.

use super::DocKind;
use super::grants::FIELD_STAFF;
use super::spec::build::{author, created_at, field, parent};
use super::spec::{FieldType::*, IdRule, KindSpec, Placement, Scope};
use crate::role::Role;

pub const SPEC: KindSpec = KindSpec {
    name: "competitor-observation",
    zh: "竞品价格观察",
    en: "Competitor observation",
    code: 6,
    id: IdRule::Random,
    placement: Placement::Parent { kind: DocKind::Customer, field: "customer" },
    read: &[
        (Role::Rep, Scope::Territory),
        (Role::Manager, Scope::Territory),
        (Role::Market, Scope::All),
        (Role::Executive, Scope::All),
        (Role::Admin, Scope::All),
    ],
    create: FIELD_STAFF,
    title: Some("product"),
    server_written: false,
    freeze: None,
    fields: &[
        parent("customer", DocKind::Customer, "客户", "Customer", FIELD_STAFF),
        author("observed_by", "记录人", "Observed by", FIELD_STAFF),
        created_at("observed_at", "观察时间", "Observed at", FIELD_STAFF),
        field("visit", Ref(DocKind::Visit), "拜访记录", "Visit", FIELD_STAFF),
        field("brand", Str { max: 100 }, "品牌", "Brand", FIELD_STAFF).required(),
        field("product", Str { max: 100 }, "产品", "Product", FIELD_STAFF).required(),
        field("spec", Str { max: 64 }, "规格", "Spec", FIELD_STAFF),
        field("shelf_price", Money { max: 100_000_000 }, "货架价", "Shelf price", FIELD_STAFF).required(),
        field("promotion", Str { max: 500 }, "促销活动", "Promotion", FIELD_STAFF),
        field("note", Text { max: 5_000 }, "备注", "Note", FIELD_STAFF),
    ],
};
