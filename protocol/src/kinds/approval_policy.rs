//! 审批规则: when an expense needs whose approval, and when an order needs a signed
//! contract — one document the executive sets, beside the price policy; every device
//! holds it, so offline previews apply the same thresholds the server does.

use super::grants::EVERYONE;
use super::spec::build::field;
use super::spec::{FieldType::*, Grants, IdRule, KindSpec, Placement, Scope};
use crate::role::Role;
use crate::schema::expense::{APPROVAL_POLICY_ID, MAX_FEN};

const SETTERS: Grants = &[(Role::Executive, Scope::All), (Role::Admin, Scope::All)];

pub const SPEC: KindSpec = KindSpec {
    name: "approval-policy",
    zh: "审批规则",
    en: "Approval policy",
    code: 20,
    id: IdRule::Fixed(APPROVAL_POLICY_ID),
    placement: Placement::Nowhere,
    read: EVERYONE,
    create: SETTERS,
    title: None,
    server_written: false,
    freeze: None,
    fields: &[
        field("manager_above", Money { max: MAX_FEN }, "费用超过此额需经理审批", "Manager approves expenses above", SETTERS),
        field("executive_above", Money { max: MAX_FEN }, "费用超过此额需总经理审批", "Executive approves expenses above", SETTERS),
        field("contract_above", Money { max: MAX_FEN }, "订单超过此额需签合同", "Orders above need a signed contract", SETTERS),
        field("contract_key_accounts", Flag, "重点客户订单需签合同", "Key accounts' orders need a contract", SETTERS),
    ],
};
