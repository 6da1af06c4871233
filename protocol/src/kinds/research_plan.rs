//! 市场调研计划: what the market department sets out to learn — purpose, scope
//! (regions, channels, segments), content, methods, schedule, owner, participants — and
//! where the plan stands (draft → approved → in progress → reported). A plan names the
//! sales territory it covers: that territory's reps and managers read it.

use super::grants::{MARKET_STAFF, PLAN_READERS};
use super::spec::build::{author, created_at, entry, field};
use super::spec::{FieldRole, FieldType::*, IdRule, KindSpec, LogSpec, Placement, Step, Workflow};
use super::steps::{v, workflow_log};
use super::vocab::Vocab;
use crate::role::Role::{self, *};

pub const STATES: Vocab = Vocab {
    name: "research-status",
    entries: &[
        v("draft", "草稿", "Draft"),
        v("approved", "已批准", "Approved"),
        v("in-progress", "调研中", "In progress"),
        v("reported", "已出报告", "Reported"),
    ],
};

pub const STEPS: Vocab = Vocab {
    name: "research-step",
    entries: &[v("approve", "批准", "Approve"), v("start", "开始调研", "Start"), v("report", "报告完成", "Reported")],
};

const WORKFLOW: Workflow = Workflow {
    states: &STATES,
    steps: &[
        Step { entry: "approve", from: &["draft"], to: "approved" },
        Step { entry: "start", from: &["approved"], to: "in-progress" },
        Step { entry: "report", from: &["in-progress"], to: "reported" },
    ],
};

const MARKET: &[Role] = &[Market, Admin];

/// Approved by leadership or a market colleague — never by the plan's own author.
const STATUS: LogSpec = workflow_log(
    &STEPS,
    &[entry("approve", &[Executive, Market, Admin]).not_by_author(), entry("start", MARKET), entry("report", MARKET)],
    &WORKFLOW,
);

const STATUS_WRITERS: super::Grants =
    &[(Market, super::Scope::All), (Executive, super::Scope::All), (Admin, super::Scope::All)];

const W: super::Grants = MARKET_STAFF;

pub const SPEC: KindSpec = KindSpec {
    name: "research-plan",
    zh: "市场调研计划",
    en: "Market research plan",
    code: 27,
    id: IdRule::Random,
    placement: Placement::Own { territory: "territory" },
    read: PLAN_READERS,
    create: W,
    title: Some("title"),
    server_written: false,
    freeze: None,
    fields: &[
        author("created_by", "制定人", "Created by", W),
        created_at("created_at", "制定时间", "Created at", W),
        field("title", Str { max: 100 }, "调研主题", "Title", W).required(),
        field("territory", Str { max: 50 }, "销售区域", "Territory", W),
        field("purpose", Text { max: 2_000 }, "调研目的", "Purpose", W),
        field("regions", Str { max: 200 }, "调研地区", "Regions", W),
        field("channels", Str { max: 200 }, "调研渠道", "Channels", W),
        field("segments", Str { max: 200 }, "细分人群", "Segments", W),
        field("topic_macro", Flag, "宏观环境", "Macro environment", W),
        field("topic_industry", Flag, "行业趋势", "Industry trends", W),
        field("topic_competitors", Flag, "竞争对手", "Competitors", W),
        field("topic_consumers", Flag, "消费者需求与偏好", "Consumer needs and preferences", W),
        field("topic_channels", Flag, "渠道", "Channels (topic)", W),
        field("methods", Str { max: 500 }, "调研方法", "Methods", W),
        field("starts_on", Date, "开始日期", "Starts on", W),
        field("ends_on", Date, "结束日期", "Ends on", W),
        field("owner", Str { max: 64 }, "负责人", "Owner", W).with_role(FieldRole::Assignee),
        field("participants", Str { max: 500 }, "参与人员", "Participants", W),
        field("status", Log(&STATUS), "状态", "Status", STATUS_WRITERS),
    ],
};
