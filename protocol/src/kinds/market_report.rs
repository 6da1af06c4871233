//! 市场调研报告: findings by source, conclusions, recommendations — and the
//! competitor observations of its period summarised (by brand, SKU, region: min / median
//! / max shelf price, promotions seen). The summary is computed, never typed: on a device
//! from the observations it holds while the report is a draft (the market department reads
//! every observation), and by the server from the observations it stores when the report
//! is published ([`super::report_summary`]). Publishing distributes it to leadership and
//! every department, once each (notifications), who record that they read it (receipts);
//! its content is locked from then on.

use super::DocKind;
use super::grants::{DEPARTMENTS, MARKET_STAFF};
use super::spec::build::{author, created_at, entry, field};
use super::spec::{Effect, FieldType::*, Freeze, IdRule, KindSpec, LogSpec, Placement, Step, Workflow};
use super::steps::{RECEIPTS, v, workflow_log};
use super::vocab::Vocab;
use crate::role::Role::*;

pub const STATES: Vocab =
    Vocab { name: "publish-status", entries: &[v("draft", "草稿", "Draft"), v("published", "已发布", "Published")] };

pub const STEPS: Vocab = Vocab { name: "publish-step", entries: &[v("publish", "发布", "Publish")] };

pub const WORKFLOW: Workflow =
    Workflow { states: &STATES, steps: &[Step { entry: "publish", from: &["draft"], to: "published" }] };

pub const PUBLISH: LogSpec = workflow_log(&STEPS, &[entry("publish", &[Market, Admin])], &WORKFLOW);

const W: super::Grants = MARKET_STAFF;

/// What departments were given: locked once published.
const CONTENT: &[&str] = &[
    "title",
    "period_from",
    "period_to",
    "scope_territory",
    "findings_industry",
    "findings_platform",
    "findings_field",
    "findings_feedback",
    "findings_competitors",
    "conclusions",
    "recommendations",
];

pub const SPEC: KindSpec = KindSpec {
    name: "market-report",
    zh: "市场调研报告",
    en: "Market report",
    code: 28,
    id: IdRule::Random,
    placement: Placement::Nowhere,
    read: DEPARTMENTS,
    create: W,
    title: Some("title"),
    server_written: false,
    freeze: Some(Freeze { fields: CONTENT, effect: Effect::Published }),
    fields: &[
        author("created_by", "撰写人", "Written by", W),
        created_at("created_at", "撰写时间", "Written at", W),
        field("title", Str { max: 100 }, "报告标题", "Title", W).required(),
        field("plan", Ref(DocKind::ResearchPlan), "调研计划", "Research plan", W),
        field("period_from", Date, "统计开始", "Period from", W).required(),
        field("period_to", Date, "统计结束", "Period to", W).required(),
        field("scope_territory", Str { max: 50 }, "统计区域（空=全部）", "Territory (empty: all)", W),
        field("findings_industry", Text { max: 5_000 }, "行业报告", "Industry reports", W),
        field("findings_platform", Text { max: 5_000 }, "数据平台", "Data platforms", W),
        field("findings_field", Text { max: 5_000 }, "实地走访", "Field visits", W),
        field("findings_feedback", Text { max: 5_000 }, "客户反馈", "Customer feedback", W),
        field("findings_competitors", Text { max: 5_000 }, "竞品调研", "Competitor research", W),
        field("conclusions", Text { max: 5_000 }, "结论", "Conclusions", W),
        field("recommendations", Text { max: 5_000 }, "建议", "Recommendations", W),
        field("status", Log(&PUBLISH), "状态", "Status", W),
        field("receipts", Log(&RECEIPTS), "阅读回执", "Read receipts", DEPARTMENTS),
    ],
};
