//! What the workflow and receipt logs of many kinds share: an entry names its step, who
//! made it in which role, when, and an optional comment.

use super::grants::EVERYONE;
use super::spec::build::{entry, field};
use super::spec::{EntrySpec, FieldSpec, FieldType, LogFold, LogSpec, Workflow};
use super::vocab::Vocab;
use crate::role::Role;

/// The plain keys a step may carry besides step, by, role and at.
pub const STEP_FIELDS: &[FieldSpec] = &[field("comment", FieldType::Str { max: 500 }, "说明", "Comment", EVERYONE)];

/// A status workflow log: entries `{step, by, role, at, comment}`, folded by arrival.
pub const fn workflow_log(
    steps: &'static Vocab,
    entries: &'static [EntrySpec],
    workflow: &'static Workflow,
) -> LogSpec {
    LogSpec {
        kind_key: Some(("step", steps)),
        word: "step",
        invalid_rule: None,
        author_key: "by",
        role_key: Some("role"),
        time_key: "at",
        by_arrival: true,
        on_create: None,
        fields: STEP_FIELDS,
        entries,
        check: None,
        fold: LogFold::Workflow(workflow),
    }
}

/// Everyone a published report or forecast is distributed to (they record that they read it).
const READERS: &[Role] = &[
    Role::Manager,
    Role::Logistics,
    Role::Finance,
    Role::Legal,
    Role::AfterSales,
    Role::Quality,
    Role::Market,
    Role::Executive,
    Role::Admin,
];

/// Read receipts of what the market department distributes: `{by, role, at}`, the
/// server's arrival time recorded beside each.
pub const RECEIPTS: LogSpec = LogSpec {
    kind_key: None,
    word: "receipt",
    invalid_rule: None,
    author_key: "by",
    role_key: Some("role"),
    time_key: "at",
    by_arrival: true,
    on_create: None,
    fields: &[],
    entries: &[entry("read", READERS)],
    check: None,
    fold: LogFold::Receipts,
};

/// `VocabEntry` shorthand for the kinds' own vocabularies.
pub const fn v(name: &'static str, zh: &'static str, en: &'static str) -> super::vocab::VocabEntry {
    super::vocab::VocabEntry { name, zh, en }
}
