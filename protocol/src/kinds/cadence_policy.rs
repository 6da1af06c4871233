//! 客户跟进策略: how often each class of customer is followed up (A every 7 days, B
//! every 14, C every 30 unless set otherwise) and the follow-up strategy of each class. One
//! document per installation, set by managers and the market department, read (and so
//! synced, read-only) by everyone: devices derive each customer's next follow-up from it.

use super::grants::{EVERYONE, SETTERS};
use super::spec::build::field;
use super::spec::{FieldType::*, IdRule, KindSpec, Placement};
use crate::ids::DocId;

/// The one cadence document's id.
pub const CADENCE_DOC_ID: DocId = DocId(uuid::Uuid::from_u128(0x6a69_756c_6f6f_4000_8000_6361_6465_6e63));

const W: super::Grants = SETTERS;
const DAYS: crate::kinds::FieldType = Int { min: 1, max: 365 };

pub const SPEC: KindSpec = KindSpec {
    name: "cadence-policy",
    zh: "客户跟进策略",
    en: "Follow-up cadence",
    code: 41,
    id: IdRule::Fixed(CADENCE_DOC_ID),
    placement: Placement::Nowhere,
    read: EVERYONE,
    create: W,
    title: None,
    server_written: false,
    freeze: None,
    fields: &[
        field("a_days", DAYS, "A类跟进周期（天）", "A: follow up every (days)", W),
        field("b_days", DAYS, "B类跟进周期（天）", "B: follow up every (days)", W),
        field("c_days", DAYS, "C类跟进周期（天）", "C: follow up every (days)", W),
        field("a_strategy", Text { max: 2_000 }, "A类跟进策略", "A: strategy", W),
        field("b_strategy", Text { max: 2_000 }, "B类跟进策略", "B: strategy", W),
        field("c_strategy", Text { max: 2_000 }, "C类跟进策略", "C: strategy", W),
    ],
};
