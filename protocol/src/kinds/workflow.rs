//! The one fold of every status workflow ([`LogFold::Workflow`]) and of read receipts
//! ([`LogFold::Receipts`]), used by devices (what a screen shows, which steps it offers)
//! and by the server (when a report is published, who read it).
//!
//! Entries apply in the order the server received them (then list position; entries it
//! has not received yet last, by their stated time — [`super::arrival_order`]), so every
//! device that holds the same document folds it to the same status, and nobody reorders
//! what the server already accepted by stating an earlier time. A step that does not
//! apply where it falls (approving what is approved, publishing twice) is kept and shown
//! as not applied, never refused: offline steps by different people must all merge.

use super::log::{Entry, arrival_order};
use super::spec::{LogSpec, Workflow};
use std::collections::BTreeMap;

/// One entry of a folded log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Folded<'a> {
    pub entry: &'a Entry,
    /// The step (or `read`) the entry records.
    pub kind: &'a str,
    /// When the server received it (`None`: not yet).
    pub received: Option<i64>,
    /// Did it change the status (receipts: is it the reader's first)?
    pub applied: bool,
    /// The status after it (receipts: empty).
    pub status_after: &'static str,
}

/// A workflow log folded: the status, and every entry in the order it took effect.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkflowState<'a> {
    pub status: &'static str,
    pub timeline: Vec<Folded<'a>>,
}

impl WorkflowState<'_> {
    /// When the server received the entry that took the document into `state` (the
    /// first time), if it has.
    pub fn reached_at(&self, state: &str) -> Option<i64> {
        self.timeline.iter().find(|f| f.applied && f.status_after == state).and_then(|f| f.received)
    }
}

fn kind_of<'a>(log: &LogSpec, e: &'a Entry) -> &'a str {
    match log.kind_key {
        Some((key, _)) => e.str(key).unwrap_or_default(),
        None => log.entries[0].kind,
    }
}

fn ordered<'a>(log: &LogSpec, entries: &'a [Entry], received: &BTreeMap<String, i64>) -> Vec<&'a Entry> {
    arrival_order(entries, |e| received.get(&e.id).copied(), |e| e.int(log.time_key).unwrap_or(0))
}

/// Fold `entries` of a log with workflow `wf` (`received`: the server's arrival times by
/// entry id, [`crate::schema::read_receipts`]).
pub fn fold<'a>(
    wf: &Workflow,
    log: &LogSpec,
    entries: &'a [Entry],
    received: &BTreeMap<String, i64>,
) -> WorkflowState<'a> {
    let mut status = wf.initial();
    let mut timeline = Vec::with_capacity(entries.len());
    for e in ordered(log, entries, received) {
        let kind = kind_of(log, e);
        let applied = match wf.step(kind) {
            Some(step) if step.from.contains(&status) => {
                status = step.to;
                true
            }
            _ => false,
        };
        timeline.push(Folded { entry: e, kind, received: received.get(&e.id).copied(), applied, status_after: status });
    }
    WorkflowState { status, timeline }
}

/// Read receipts: each reader's first entry (by arrival), in that order.
pub fn receipts<'a>(log: &LogSpec, entries: &'a [Entry], received: &BTreeMap<String, i64>) -> Vec<Folded<'a>> {
    let mut seen = std::collections::BTreeSet::new();
    ordered(log, entries, received)
        .into_iter()
        .filter(|e| seen.insert(e.str(log.author_key).unwrap_or_default().to_string()))
        .map(|e| Folded {
            entry: e,
            kind: kind_of(log, e),
            received: received.get(&e.id).copied(),
            applied: true,
            status_after: "",
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::spec::{LogFold, Step};
    use crate::kinds::{Scalar, Vocab, VocabEntry};

    const STATES: Vocab = Vocab {
        name: "t",
        entries: &[
            VocabEntry { name: "draft", zh: "草稿", en: "Draft" },
            VocabEntry { name: "approved", zh: "已批准", en: "Approved" },
            VocabEntry { name: "done", zh: "完成", en: "Done" },
        ],
    };
    const WF: Workflow = Workflow {
        states: &STATES,
        steps: &[
            Step { entry: "approve", from: &["draft"], to: "approved" },
            Step { entry: "finish", from: &["approved"], to: "done" },
        ],
    };

    fn log() -> &'static LogSpec {
        match crate::ids::DocKind::ResearchPlan.spec().field("status").map(|f| f.ty) {
            Some(crate::kinds::FieldType::Log(l)) => l,
            _ => unreachable!(),
        }
    }

    fn entry(id: &str, step: &str, at: i64) -> Entry {
        let mut e = Entry { id: id.into(), values: BTreeMap::new() };
        e.values.insert("step".into(), Scalar::Str(step.into()));
        e.values.insert("at".into(), Scalar::Time(at));
        e.values.insert("by".into(), Scalar::Str(id.into()));
        e
    }

    #[test]
    fn steps_apply_by_arrival_and_out_of_place_ones_are_kept() {
        assert!(matches!(log().fold, LogFold::Workflow(_)));
        // Stated times claim "finish" came first; the server received "approve" first.
        let entries = vec![entry("b", "finish", 1), entry("a", "approve", 5)];
        let received: BTreeMap<String, i64> = [("a".to_string(), 100), ("b".to_string(), 200)].into();
        let s = fold(&WF, log(), &entries, &received);
        assert_eq!(s.status, "done");
        assert_eq!(s.reached_at("approved"), Some(100));
        // Not received: by stated time, so "finish" (at 1) does not apply before approval.
        let s = fold(&WF, log(), &entries, &BTreeMap::new());
        assert_eq!(s.status, "approved");
        assert_eq!(
            s.timeline.iter().map(|f| (f.kind, f.applied)).collect::<Vec<_>>(),
            [("finish", false), ("approve", true)]
        );
        // An unknown step, a repeated one: kept, not applied.
        let entries = vec![entry("a", "approve", 1), entry("c", "approve", 2), entry("d", "fly", 3)];
        let s = fold(&WF, log(), &entries, &BTreeMap::new());
        assert_eq!((s.status, s.timeline.iter().filter(|f| f.applied).count()), ("approved", 1));
    }
}
