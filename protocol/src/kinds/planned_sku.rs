//! 规划新品: one new SKU a product plan introduces — the columns of a `sku` row of the
//! price policy's CSV format ([`crate::pricing`]), so an approved plan's SKUs become draft
//! catalogue entries as they are.

use super::DocKind;
use super::grants::{LEADERSHIP, MARKET_STAFF};
use super::spec::build::{author, created_at, field, parent};
use super::spec::{FieldType::*, IdRule, KindSpec, Placement};
use crate::pricing::{AromaType, Unit};

const W: super::Grants = MARKET_STAFF;

pub const SPEC: KindSpec = KindSpec {
    name: "planned-sku",
    zh: "规划新品",
    en: "Planned SKU",
    code: 32,
    id: IdRule::Random,
    placement: Placement::Parent { kind: DocKind::ProductPlan, field: "plan" },
    read: LEADERSHIP,
    create: W,
    title: Some("name"),
    server_written: false,
    freeze: None,
    fields: &[
        parent("plan", DocKind::ProductPlan, "产品规划", "Product plan", W),
        author("created_by", "填写人", "Added by", W),
        created_at("created_at", "填写时间", "Added at", W),
        field("code", Str { max: 64 }, "产品编码", "SKU code", W).required(),
        field("name", Str { max: 100 }, "产品名称", "Name", W).required(),
        field("spec", Str { max: 64 }, "规格", "Spec", W).required(),
        field("abv", Int { min: 1, max: 100 }, "酒精度（%vol）", "Alcohol (%vol)", W).required(),
        field("aroma", Enum(&AromaType::VOCAB), "香型", "Aroma", W).required(),
        field("unit", Enum(&Unit::VOCAB), "计量单位", "Unit", W).required(),
        field("per_case", Int { min: 1, max: 1_000 }, "每箱瓶数", "Bottles per case", W).required(),
        field("retail_price", Money { max: 100_000_000 }, "建议零售价", "Suggested retail price", W),
    ],
};
