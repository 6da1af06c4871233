//! 客户开发计划 (R-3.7, planning): a rep's prospects for a period — methods, schedule,
//! goal — with its targets ([`super::development_target`]). Progress is measured, not
//! typed: from the visits and class changes of the targets' customers in the period (and
//! their first orders), on the device.

use super::grants::{ASSIGNERS, FIELD_STAFF, PLAN_READERS};
use super::spec::build::{author, created_at, field};
use super::spec::{FieldRole, FieldType::*, IdRule, KindSpec, Placement};

const F: super::Grants = FIELD_STAFF;

pub const SPEC: KindSpec = KindSpec {
    name: "development-plan",
    zh: "客户开发计划",
    en: "Customer development plan",
    code: 38,
    id: IdRule::Random,
    placement: Placement::Own { territory: "territory" },
    read: PLAN_READERS,
    create: F,
    title: Some("title"),
    server_written: false,
    freeze: None,
    fields: &[
        author("created_by", "制定人", "Created by", F),
        created_at("created_at", "制定时间", "Created at", F),
        field("title", Str { max: 100 }, "计划名称", "Title", F).required(),
        field("territory", Str { max: 50 }, "销售区域", "Territory", F).required(),
        field("owner", Str { max: 64 }, "负责销售", "Owner", ASSIGNERS).with_role(FieldRole::Assignee).required(),
        field("period_from", Date, "开始日期", "From", F).required(),
        field("period_to", Date, "结束日期", "To", F).required(),
        field("methods", Str { max: 200 }, "开发方式", "Methods", F),
        field("goal", Text { max: 2_000 }, "开发目标", "Goal", F),
    ],
};
