//! 产品规划与定位: a series' price range, quality positioning, packaging, target
//! customers and core selling points, with the new SKUs it plans ([`super::planned_sku`]).
//! Once leadership approves it (submitted → approved), its SKUs are draft catalogue
//! entries for the price policy: `jiuloop product-plan skus ID` writes them as `sku` rows of
//! the policy CSV format (inactive), for the market department to price and import.

use super::DocKind;
use super::grants::{LEADERSHIP, MARKET_STAFF};
use super::spec::build::{author, created_at, entry, field};
use super::spec::{FieldType::*, IdRule, KindSpec, LogSpec, Placement, Scope, Step, Workflow};
use super::steps::{v, workflow_log};
use super::vocab::Vocab;
use crate::role::Role::*;

pub const STATES: Vocab = Vocab {
    name: "product-plan-status",
    entries: &[
        v("draft", "草稿", "Draft"),
        v("submitted", "待审批", "Submitted"),
        v("approved", "已批准", "Approved"),
        v("rejected", "已驳回", "Rejected"),
    ],
};

pub const STEPS: Vocab = Vocab {
    name: "product-plan-step",
    entries: &[
        v("submit", "提交审批", "Submit"),
        v("approve", "批准", "Approve"),
        v("reject", "驳回", "Reject"),
        v("revise", "重新修改", "Revise"),
    ],
};

const WORKFLOW: Workflow = Workflow {
    states: &STATES,
    steps: &[
        Step { entry: "submit", from: &["draft"], to: "submitted" },
        Step { entry: "approve", from: &["submitted"], to: "approved" },
        Step { entry: "reject", from: &["submitted"], to: "rejected" },
        Step { entry: "revise", from: &["rejected"], to: "draft" },
    ],
};

const STATUS: LogSpec = workflow_log(
    &STEPS,
    &[
        entry("submit", &[Market, Admin]),
        entry("approve", &[Executive, Admin]).not_by_author(),
        entry("reject", &[Executive, Admin]).not_by_author(),
        entry("revise", &[Market, Admin]),
    ],
    &WORKFLOW,
);

const W: super::Grants = MARKET_STAFF;

pub const SPEC: KindSpec = KindSpec {
    name: "product-plan",
    zh: "产品规划",
    en: "Product plan",
    code: 31,
    id: IdRule::Random,
    placement: Placement::Nowhere,
    read: LEADERSHIP,
    create: W,
    title: Some("series"),
    server_written: false,
    freeze: None,
    fields: &[
        author("created_by", "制定人", "Created by", W),
        created_at("created_at", "制定时间", "Created at", W),
        field("series", Str { max: 100 }, "产品系列", "Series", W).required(),
        field("report", Ref(DocKind::MarketReport), "依据报告", "Based on report", W),
        field("price_min", Money { max: 100_000_000 }, "价格区间（低）", "Price from", W),
        field("price_max", Money { max: 100_000_000 }, "价格区间（高）", "Price to", W),
        field("quality", Str { max: 200 }, "质量定位", "Quality positioning", W),
        field("packaging", Str { max: 200 }, "包装设计", "Packaging", W),
        field("target_group", Str { max: 200 }, "目标客户群", "Target customers", W),
        field("selling_points", Text { max: 2_000 }, "核心卖点", "Core selling points", W),
        field("status", Log(&STATUS), "状态", "Status", &[(Market, Scope::All), (Executive, Scope::All), (Admin, Scope::All)]),
    ],
};
