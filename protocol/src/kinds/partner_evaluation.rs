//! 合作伙伴评估: a partner's evaluation per quarter — sales against target (from the orders
//! the server assigned to its customer), its criteria score (weighted by its channel plan),
//! the qualitative score of the quarter's assessment, rewards, penalties and the deductions
//! for violations found in the field, each counted once — computed by the server
//! ([`crate::presales::evaluation`]) into a document only it writes (id derived from the
//! partner's), readable like the partner.

use super::DocKind;
use super::grants::PARTNER_READERS;
use super::spec::build::{field, parent};
use super::spec::{FieldSpec, FieldType::*, IdRule, KindSpec, NOBODY, Placement};
use crate::ids::DocId;

/// The evaluation document of `partner` (its own inverse).
pub fn evaluation_id(partner: DocId) -> DocId {
    let mut b = *partner.as_bytes();
    for (i, x) in b"jiuloop-partner!".iter().enumerate() {
        b[i] ^= x;
    }
    DocId(uuid::Uuid::from_bytes(b))
}

const SCORE: crate::kinds::FieldType = Int { min: 0, max: 100 };
const POINTS: crate::kinds::FieldType = Int { min: 0, max: i64::MAX };

pub const PERIOD: &[FieldSpec] = &[
    field("period", Str { max: 8 }, "季度", "Quarter", NOBODY),
    field("sales", Money { max: i64::MAX }, "销售额", "Sales", NOBODY),
    field("target", Money { max: i64::MAX }, "季度目标", "Target", NOBODY),
    field("sales_score", SCORE, "销售得分", "Sales score", NOBODY),
    field("criteria", SCORE, "评选标准得分", "Criteria score", NOBODY),
    field("qualitative", SCORE, "定性考评", "Qualitative score", NOBODY),
    field("base", SCORE, "综合得分", "Weighted score", NOBODY),
    field("rewards", POINTS, "奖励", "Rewards", NOBODY),
    field("penalties", POINTS, "处罚", "Penalties", NOBODY),
    field("deductions", POINTS, "违规扣分", "Deductions", NOBODY),
    field("total", SCORE, "评估得分", "Evaluation", NOBODY),
];

pub const DEDUCTION: &[FieldSpec] = &[
    field("report", Str { max: 36 }, "举报", "Report", NOBODY),
    field("kind", Str { max: 32 }, "类型", "Kind", NOBODY),
    field("points", POINTS, "扣分", "Points", NOBODY),
    field("at", Time, "受理时间", "Received at", NOBODY),
    field("period", Str { max: 8 }, "季度", "Quarter", NOBODY),
    field("territory", Str { max: 50 }, "发现区域", "Found in", NOBODY),
    field("product", Str { max: 100 }, "产品", "Product", NOBODY),
    field("status", Str { max: 32 }, "状态", "Status", NOBODY),
];

pub const SPEC: KindSpec = KindSpec {
    name: "partner-evaluation",
    zh: "合作伙伴评估",
    en: "Partner evaluation",
    code: 36,
    id: IdRule::Derived(evaluation_id),
    placement: Placement::Parent { kind: DocKind::Partner, field: "partner" },
    read: PARTNER_READERS,
    create: NOBODY,
    title: Some("latest_period"),
    server_written: true,
    freeze: None,
    fields: &[
        parent("partner", DocKind::Partner, "合作伙伴", "Partner", NOBODY),
        field("evaluated_at", Time, "评估时间", "Evaluated at", NOBODY),
        field("criteria_score", SCORE, "评选标准得分", "Criteria score", NOBODY),
        field("latest_period", Str { max: 8 }, "最近季度", "Latest quarter", NOBODY),
        field("latest_total", SCORE, "最近评估得分", "Latest evaluation", NOBODY),
        field("periods", Records(PERIOD), "季度评估", "Quarters", NOBODY),
        field("deductions", Records(DEDUCTION), "违规扣分明细", "Deductions", NOBODY),
    ],
};
