//! What the server checks after it merged changes (post-sync validation), the one-time
//! effects it performs, and what the command line shows of them.
//!
//! A [`Validator`] says which stored changes call for a check of which documents, checks
//! the merged documents with a pure function, and writes what follows — a server-only
//! verdict document, one-time effects — through a [`ValidationCx`], inside the transaction
//! of the change that caused it (so everything is durable before the pusher's `Ack`). The
//! hub runs every validator of [`VALIDATORS`] after every push frame and admin change.

mod contracts;
pub mod distribution;
mod expansion;
pub(crate) mod expenses;
mod loop_closing;
pub mod notifications;
pub mod order_check;
pub mod partners;
pub mod policy;
mod pricing;
mod recall;
mod service;
pub mod sla;

use crate::storage::{DbError, Storage};
use automerge::AutoCommit;
use protocol::kinds::Entry;
use protocol::schema::SchemaError;
use protocol::schema::policy_doc::PublishedPolicy;
use protocol::{DocId, DocKind};
use std::collections::BTreeSet;
use std::sync::Arc;

/// A change the hub just stored, as validators see it.
#[derive(Clone, Debug)]
pub struct Changed {
    pub kind: DocKind,
    pub id: DocId,
    /// It created the document.
    pub created: bool,
    /// The root fields it wrote.
    pub fields: BTreeSet<String>,
    /// What each append-only log gained (field name, new entries).
    pub new_entries: Vec<(&'static str, Vec<Entry>)>,
}

impl Changed {
    /// The entries log `field` gained.
    pub fn entries(&self, field: &str) -> impl Iterator<Item = &Entry> {
        self.new_entries.iter().filter(move |(f, _)| *f == field).flat_map(|(_, e)| e.iter())
    }
}

/// What a validator may use, inside the open transaction. Documents read as they now are
/// (this frame's and this batch's uncommitted state included).
pub trait ValidationCx {
    /// The time of the event being handled (the server's clock).
    fn now(&self) -> i64;
    fn storage(&self) -> &dyn Storage;
    /// A document the server holds, with its kind; `None` if it holds none with that id.
    fn doc(&mut self, id: DocId) -> Result<Option<(DocKind, &AutoCommit)>, DbError>;
    /// The published price-policy versions (decoded once per state of the policy).
    fn policy_versions(&mut self) -> Result<Arc<Vec<PublishedPolicy>>, DbError>;
    /// Change (or create) a server-written document as the server; stored and relayed
    /// with the change that caused it. `false` when the edit changed nothing.
    fn server_edit(
        &mut self,
        id: DocId,
        kind: DocKind,
        message: &str,
        edit: &mut dyn FnMut(&mut AutoCommit) -> Result<(), SchemaError>,
    ) -> Result<bool, DbError>;
}

pub trait Validator: Sync {
    /// For logs.
    fn name(&self) -> &'static str;
    /// The documents `changed` calls for re-checking (each checked once per frame).
    fn targets(&self, changed: &Changed, cx: &mut dyn ValidationCx) -> Result<Vec<DocId>, DbError>;
    /// Check one target and write what follows. Writing nothing when nothing a reader
    /// sees changed keeps resends and re-checks from producing changes.
    fn validate(&self, target: DocId, cx: &mut dyn ValidationCx) -> Result<(), DbError>;
}

/// Every validator the hub runs, in order (a later one sees what an earlier one stored:
/// the recall list is drawn from the batches just indexed).
/// Contracts come before pricing: a contract signed in a frame covers its orders when they
/// are re-checked in the same frame.
pub static VALIDATORS: &[&dyn Validator] = &[
    &contracts::Contracts,
    &pricing::OrderPricing,
    &recall::ShippedBatches,
    &recall::Recall,
    &sla::ComplaintSla,
    &loop_closing::LoopClosing,
    &expansion::Expansion,
    &expenses::Expenses,
    &partners::Violations,
    &partners::PartnerEvaluation,
    &distribution::Distribution,
];

/// Who the audit trail names for the server's own validation changes.
pub const VALIDATION_AUTHOR: &str = "(server)";

/// Run every validator for the changes of one frame: collect each one's targets (each
/// once, in a stable order), then check them.
pub fn run(changes: &[Changed], cx: &mut dyn ValidationCx) -> Result<(), DbError> {
    for v in VALIDATORS {
        let mut seen = BTreeSet::new();
        let mut targets = Vec::new();
        for c in changes {
            for t in v.targets(c, cx)? {
                if seen.insert(t) {
                    targets.push(t);
                }
            }
        }
        for t in targets {
            v.validate(t, cx)?;
        }
        if !seen.is_empty() {
            tracing::debug!(validator = v.name(), checked = seen.len(), "validated");
        }
    }
    Ok(())
}

/// Run the validators whose wake-ups are due (the hub's tick): each row is cleared, then
/// its validator looks at the document again (and sets a new wake-up if it wants one).
pub fn run_due(due: &[crate::storage::WakeupRow], cx: &mut dyn ValidationCx) -> Result<usize, DbError> {
    let mut ran = 0;
    for w in due {
        cx.storage().set_wakeup(&w.doc_id, &w.validator, None)?;
        let (Some(v), Some(id)) = (VALIDATORS.iter().find(|v| v.name() == w.validator), DocId::from_slice(&w.doc_id))
        else {
            continue;
        };
        v.validate(id, cx)?;
        ran += 1;
    }
    Ok(ran)
}

/// Has the server recorded `effect` for document `id`?
pub fn effect_recorded(storage: &dyn Storage, id: DocId, effect: protocol::kinds::Effect) -> Result<bool, DbError> {
    use protocol::kinds::Effect;
    Ok(match effect {
        Effect::Assigned => storage.assignment(id.as_bytes())?.is_some(),
        Effect::SlaBreached => !storage.effects_of(id.as_bytes(), Some("sla-breach"))?.is_empty(),
        Effect::Recalled => !storage.effects_of(id.as_bytes(), Some("recall"))?.is_empty(),
        Effect::Signed | Effect::Reimbursed => storage.effect(id.as_bytes(), effect.as_str(), "")?.is_some(),
        Effect::Published => storage.effect(id.as_bytes(), distribution::PUBLISHED, "")?.is_some(),
    })
}
