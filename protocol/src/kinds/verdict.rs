//! 校验结果: the server's verdict on an order, in a document of its own that only the
//! server writes (validation marks, it never changes the order).

use super::DocKind;
use super::grants::ORDER_READERS;
use super::spec::build::{field, parent};
use super::spec::{FieldType::*, IdRule, KindSpec, NOBODY, Placement};
use crate::schema::verdict::verdict_id;

pub const SPEC: KindSpec = KindSpec {
    name: "verdict",
    zh: "校验结果",
    en: "Verdict",
    code: 5,
    id: IdRule::Derived(verdict_id),
    placement: Placement::Parent { kind: DocKind::Order, field: "order" },
    read: ORDER_READERS,
    create: NOBODY,
    title: Some("verdict"),
    server_written: true,
    freeze: None,
    fields: &[
        parent("order", DocKind::Order, "订单", "Order", NOBODY),
        field("content_hash", Str { max: 128 }, "内容摘要", "Content hash", NOBODY),
        field("policy_version", Int { min: 0, max: u32::MAX as i64 }, "价格版本", "Policy version", NOBODY),
        field("priced_with", Int { min: 0, max: u32::MAX as i64 }, "定价版本", "Priced with", NOBODY),
        field("stale", Int { min: 0, max: 1 }, "版本过期", "Stale", NOBODY),
        field("verdict", Str { max: 32 }, "结论", "Verdict", NOBODY),
        field("required", Str { max: 200 }, "需审批", "Approvals required", NOBODY),
        field("priced", Bytes, "定价明细", "Pricing", NOBODY),
        field("checked_at", Time, "校验时间", "Checked at", NOBODY),
        field("assigned_at", Time, "分配时间", "Assigned at", NOBODY),
        field("contract", Str { max: 16 }, "合同要求", "Contract", NOBODY),
        field("contract_id", Ref(DocKind::Contract), "所依合同", "Covered by", NOBODY),
    ],
};
