//! 违规举报: cross-region selling (窜货) or a price violation a rep finds in the
//! field — offline, where it was found — naming the partner by the code its goods carry.
//! It reaches the market department (a notification, once) and, once the server can tell
//! whose goods they are (the code, or the partner market links it to), costs that partner
//! the points of its channel plan in the evaluation of the quarter it arrived in, exactly
//! once. Market confirms or dismisses it (a dismissed report costs nothing).
//!
//! Evidence photos are issue 11's attachments: an attachment names its document as its
//! parent, so photos of a report hang off the report (placed, read and synced with it);
//! `evidence` is the finder's own description of what they saw (batch codes, where, how).

use super::DocKind;
use super::grants::{FIELD_STAFF, MARKET_STAFF, PLAN_READERS};
use super::spec::build::{author, created_at, entry, field};
use super::spec::{FieldType::*, IdRule, KindSpec, LogSpec, Placement, Step, Workflow};
use super::steps::{v, workflow_log};
use super::vocab::Vocab;
use crate::role::Role::*;

pub const KINDS: Vocab = Vocab {
    name: "violation-kind",
    entries: &[v("cross-region", "窜货", "Cross-region selling"), v("price", "乱价", "Price violation")],
};

pub const STATES: Vocab = Vocab {
    name: "violation-status",
    entries: &[v("reported", "已举报", "Reported"), v("confirmed", "已核实", "Confirmed"), v("dismissed", "已驳回", "Dismissed")],
};

pub const STEPS: Vocab =
    Vocab { name: "violation-step", entries: &[v("confirm", "核实", "Confirm"), v("dismiss", "驳回", "Dismiss")] };

const WORKFLOW: Workflow = Workflow {
    states: &STATES,
    steps: &[
        Step { entry: "confirm", from: &["reported"], to: "confirmed" },
        Step { entry: "dismiss", from: &["reported", "confirmed"], to: "dismissed" },
    ],
};

const REVIEW: LogSpec =
    workflow_log(&STEPS, &[entry("confirm", &[Market, Admin]), entry("dismiss", &[Market, Admin])], &WORKFLOW);

const F: super::Grants = FIELD_STAFF;

pub const SPEC: KindSpec = KindSpec {
    name: "violation-report",
    zh: "违规举报",
    en: "Violation report",
    code: 37,
    id: IdRule::Random,
    placement: Placement::Own { territory: "territory" },
    read: PLAN_READERS,
    create: F,
    title: Some("product"),
    server_written: false,
    freeze: None,
    fields: &[
        author("reported_by", "举报人", "Reported by", F),
        created_at("reported_at", "发现时间", "Found at", F),
        field("kind", Enum(&KINDS), "违规类型", "Kind", F).required(),
        field("partner_code", Str { max: 32 }, "货品上的合作伙伴编码", "Partner code on the goods", F),
        field("partner", Ref(DocKind::Partner), "合作伙伴", "Partner", MARKET_STAFF),
        field("territory", Str { max: 50 }, "发现区域", "Found in territory", F).required(),
        field("customer", Ref(DocKind::Customer), "发现地客户", "Found at customer", F),
        field("place", Str { max: 200 }, "发现地点", "Place", F),
        field("product", Str { max: 100 }, "产品", "Product", F).required(),
        field("batch", Str { max: 64 }, "批次 / 物流码", "Batch / logistics code", F),
        field("price", Money { max: 100_000_000 }, "发现价格", "Price seen", F),
        field("quantity", Int { min: 0, max: 1_000_000 }, "数量", "Quantity", F),
        field("evidence", Text { max: 5_000 }, "证据说明", "Evidence", F),
        field("review", Log(&REVIEW), "核查", "Review", MARKET_STAFF),
    ],
};
