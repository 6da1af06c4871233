//! 售后时效政策: the after-sales department's settings, one document every device holds —
//! per severity the time to acknowledge and to resolve a complaint, when the warning
//! comes, and within how many days a resolved complaint is revisited
//! ([`crate::schema::sla::SlaPolicy`]; unset values take its defaults).

use super::grants::{AFTER_SALES, EVERYONE};
use super::spec::build::field;
use super::spec::{FieldSpec, FieldType::*, IdRule, KindSpec, Placement};
use crate::schema::sla::POLICY_ID;

const MINUTES: super::FieldType = Int { min: 1, max: 525_600 };

const fn minutes(name: &'static str, zh: &'static str, en: &'static str) -> FieldSpec {
    field(name, MINUTES, zh, en, AFTER_SALES)
}

pub const SPEC: KindSpec = KindSpec {
    name: "aftersales-policy",
    zh: "售后时效政策",
    en: "After-sales policy",
    code: 9,
    id: IdRule::Fixed(POLICY_ID),
    placement: Placement::Nowhere,
    read: EVERYONE,
    create: AFTER_SALES,
    title: None,
    server_written: false,
    freeze: None,
    fields: &[
        minutes("normal_ack_minutes", "一般：受理时限（分钟）", "Normal: minutes to acknowledge"),
        minutes("normal_resolve_minutes", "一般：解决时限（分钟）", "Normal: minutes to resolve"),
        minutes("serious_ack_minutes", "严重：受理时限（分钟）", "Serious: minutes to acknowledge"),
        minutes("serious_resolve_minutes", "严重：解决时限（分钟）", "Serious: minutes to resolve"),
        minutes("critical_ack_minutes", "紧急：受理时限（分钟）", "Critical: minutes to acknowledge"),
        minutes("critical_resolve_minutes", "紧急：解决时限（分钟）", "Critical: minutes to resolve"),
        field("warn_percent", Int { min: 1, max: 99 }, "剩余时限预警（%）", "Warn when this % is left", AFTER_SALES),
        field("revisit_days", Int { min: 0, max: 90 }, "解决后回访（天内）", "Revisit within (days)", AFTER_SALES),
    ],
};
