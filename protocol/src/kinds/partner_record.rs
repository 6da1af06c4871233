//! 合作伙伴记录: one dated event of a partner's archive — training given, support given,
//! market feedback, a reward or a penalty (points), or an assessment (the qualitative score
//! of its quarter). The server's evaluation reads them ([`crate::presales::evaluation`]).

use super::DocKind;
use super::grants::{PARTNER_READERS, PARTNER_STAFF};
use super::spec::build::{author, created_at, field, parent};
use super::spec::{FieldType::*, IdRule, KindSpec, Placement};
use super::steps::v;
use super::vocab::Vocab;

pub const KINDS: Vocab = Vocab {
    name: "partner-record",
    entries: &[
        v("training", "培训", "Training"),
        v("support", "支持", "Support"),
        v("feedback", "市场反馈", "Market feedback"),
        v("reward", "奖励", "Reward"),
        v("penalty", "处罚", "Penalty"),
        v("assessment", "定期考评", "Assessment"),
    ],
};

const W: super::Grants = PARTNER_STAFF;

pub const SPEC: KindSpec = KindSpec {
    name: "partner-record",
    zh: "合作伙伴记录",
    en: "Partner record",
    code: 35,
    id: IdRule::Random,
    placement: Placement::Parent { kind: DocKind::Partner, field: "partner" },
    read: PARTNER_READERS,
    create: W,
    title: Some("kind"),
    server_written: false,
    freeze: None,
    fields: &[
        parent("partner", DocKind::Partner, "合作伙伴", "Partner", W),
        author("recorded_by", "记录人", "Recorded by", W),
        created_at("recorded_at", "记录时间", "Recorded at", W),
        field("kind", Enum(&KINDS), "类型", "Kind", W).required(),
        field("date", Date, "日期", "Date", W).required(),
        field("topic", Str { max: 200 }, "主题", "Topic", W),
        field("points", Int { min: 0, max: 100 }, "奖惩分", "Points (reward / penalty)", W),
        field("score", Int { min: 0, max: 100 }, "考评得分", "Assessment score", W),
        field("note", Text { max: 5_000 }, "说明", "Note", W),
    ],
};
