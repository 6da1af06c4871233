//! 渠道合作伙伴: a channel partner of a territory, from candidate to signed
//! agreement — scored against its channel plan's criteria, its agreement's rights, duties
//! and dates (no contract machinery in this tree: the terms live here), its annual sales
//! target. Its archive is around it: the orders of the customer it trades as (sales
//! performance), its records ([`super::partner_record`]: training, support, feedback,
//! rewards, penalties, assessments) and the server's periodic evaluation
//! ([`super::partner_evaluation`]). The code is what its goods carry: a rep who finds them
//! in another territory reports it ([`super::violation_report`]). Read by the sales
//! managers of its territory, the market department and leadership.

use super::DocKind;
use super::grants::{PARTNER_READERS, PARTNER_STAFF};
use super::spec::build::{author, created_at, entry, field};
use super::spec::{FieldType::*, IdRule, KindSpec, LogSpec, Placement, Step, Workflow};
use super::steps::{v, workflow_log};
use super::vocab::Vocab;
use crate::role::Role::{self, *};

pub const STAGES: Vocab = Vocab {
    name: "partner-stage",
    entries: &[
        v("candidate", "候选", "Candidate"),
        v("shortlisted", "入围", "Shortlisted"),
        v("negotiating", "洽谈中", "Negotiating"),
        v("signed", "已签约", "Signed"),
        v("terminated", "已终止", "Terminated"),
        v("dropped", "未入选", "Dropped"),
    ],
};

pub const STEPS: Vocab = Vocab {
    name: "partner-step",
    entries: &[
        v("shortlist", "入围", "Shortlist"),
        v("negotiate", "开始洽谈", "Negotiate"),
        v("sign", "签约", "Sign"),
        v("terminate", "终止合作", "Terminate"),
        v("drop", "不予选用", "Drop"),
    ],
};

const WORKFLOW: Workflow = Workflow {
    states: &STAGES,
    steps: &[
        Step { entry: "shortlist", from: &["candidate"], to: "shortlisted" },
        Step { entry: "negotiate", from: &["shortlisted"], to: "negotiating" },
        Step { entry: "sign", from: &["negotiating"], to: "signed" },
        Step { entry: "terminate", from: &["signed"], to: "terminated" },
        Step { entry: "drop", from: &["candidate", "shortlisted", "negotiating"], to: "dropped" },
    ],
};

const STAFF: &[Role] = &[Manager, Market, Admin];

const STAGE: LogSpec = workflow_log(
    &STEPS,
    &[
        entry("shortlist", STAFF),
        entry("negotiate", STAFF),
        entry("sign", STAFF),
        entry("terminate", STAFF),
        entry("drop", STAFF),
    ],
    &WORKFLOW,
);

const W: super::Grants = PARTNER_STAFF;
const SCORE: crate::kinds::FieldType = Int { min: 0, max: 100 };

pub const SPEC: KindSpec = KindSpec {
    name: "partner",
    zh: "渠道合作伙伴",
    en: "Channel partner",
    code: 34,
    id: IdRule::Random,
    placement: Placement::Own { territory: "territory" },
    read: PARTNER_READERS,
    create: W,
    title: Some("name"),
    server_written: false,
    freeze: None,
    fields: &[
        author("created_by", "建档人", "Created by", W),
        created_at("created_at", "建档时间", "Created at", W),
        field("name", Str { max: 100 }, "名称", "Name", W).required(),
        field("code", Str { max: 32 }, "合作伙伴编码", "Partner code", W).required(),
        field("territory", Str { max: 50 }, "销售区域", "Territory", W).required(),
        field("region", Str { max: 50 }, "区域", "Region", W),
        field("channel_plan", Ref(DocKind::ChannelPlan), "渠道规划", "Channel plan", W),
        field("customer", Ref(DocKind::Customer), "对应客户（订单）", "Trades as customer", W),
        field("contact", Str { max: 100 }, "联系人", "Contact", W),
        field("phone", Phone, "电话", "Phone", W),
        field("address", Str { max: 200 }, "地址", "Address", W),
        field("score_capital", SCORE, "资金实力评分", "Score: capital", W),
        field("score_network", SCORE, "渠道网络评分", "Score: network", W),
        field("score_reputation", SCORE, "商业信誉评分", "Score: reputation", W),
        field("score_logistics", SCORE, "仓储配送评分", "Score: logistics", W),
        field("score_service", SCORE, "团队服务评分", "Score: team and service", W),
        field("annual_target", Money { max: 100_000_000_000_000 }, "年度销售目标", "Annual sales target", W),
        field("rights", Text { max: 5_000 }, "协议权利", "Rights", W),
        field("duties", Text { max: 5_000 }, "协议义务", "Duties", W),
        field("agreement_from", Date, "协议开始", "Agreement from", W),
        field("agreement_to", Date, "协议结束", "Agreement to", W),
        field("feedback", Text { max: 5_000 }, "市场反馈", "Market feedback", W),
        field("stage", Log(&STAGE), "合作阶段", "Stage", W),
    ],
};
