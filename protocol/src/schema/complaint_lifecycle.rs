//! The complaint workflow (投诉处理流程): received → acknowledged → investigating → measures
//! decided → resolved → customer feedback → closed, reopened when the customer is not
//! satisfied; progress told to the customer and field notes at any step; waiting on the
//! customer pauses the clocks.
//!
//! Like an order's, a complaint's status is never stored: [`fold`] derives it from the
//! event log in the order the server received the entries (then list position; entries
//! not received yet last, by their time), so concurrent offline steps by several devices
//! merge into the same legal state everywhere. A step that is not legal where it falls is
//! kept and shown as not applied (two devices resolving the same complaint: the second
//! resolution does not apply).
//!
//! Each step's time for the SLA clocks ([`TimelineEntry::counted_at`]) is its stated time
//! held to the window around its arrival, never before the complaint was received nor
//! before the step it follows: nobody moves a clock back by stating an earlier time.

use super::complaint::ComplaintEvent;
use super::{ComplaintEventKind as K, ComplaintStatus as S};
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TimelineEntry {
    pub event: ComplaintEvent,
    pub applied: bool,
    pub status_after: S,
    /// Waiting on the customer after this step (the clocks are paused).
    pub waiting_after: bool,
    /// The step's time for the clocks (UTC ms).
    #[serde(with = "super::access::json_time")]
    pub counted_at: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Lifecycle {
    pub status: S,
    /// Waiting on the customer now.
    pub waiting: bool,
    /// The clocks start here (the complaint's received time, held to its window).
    #[serde(with = "super::access::json_time")]
    pub start: i64,
    /// Applied resolutions so far (a reopened complaint resolved again counts twice).
    pub resolutions: u32,
    pub reopened: u32,
    /// The latest findings, responsible party, measures and expected date.
    pub findings: Option<String>,
    pub responsible: Option<String>,
    pub measures: Option<String>,
    pub expected: Option<String>,
    /// The customer's latest feedback (1–5).
    pub satisfaction: Option<i64>,
    pub timeline: Vec<TimelineEntry>,
}

impl Lifecycle {
    /// Open: not resolved, fed back or closed (the resolution clock runs).
    pub fn is_open(&self) -> bool {
        is_open(self.status)
    }

    /// The time of the latest applied resolution, if the complaint is resolved now.
    pub fn resolved_at(&self) -> Option<i64> {
        if self.is_open() {
            return None;
        }
        self.timeline.iter().rev().find(|t| t.applied && t.event.kind == K::Resolved.as_str()).map(|t| t.counted_at)
    }
}

pub fn is_open(s: S) -> bool {
    !matches!(s, S::Resolved | S::Feedback | S::Closed)
}

/// Fold the events of a complaint received at `start` (see [`super::complaint::Complaint::clock_start`]).
pub fn fold(events: &[ComplaintEvent], start: i64) -> Lifecycle {
    let sorted = crate::kinds::arrival_order(events, |e| e.received, |e| e.at);
    let mut l = Lifecycle {
        status: S::Received,
        waiting: false,
        start,
        resolutions: 0,
        reopened: 0,
        findings: None,
        responsible: None,
        measures: None,
        expected: None,
        satisfaction: None,
        timeline: Vec::with_capacity(sorted.len()),
    };
    let mut last = start;
    for e in sorted {
        let before = l.status;
        let counted_at = e.effective_at().max(last);
        last = counted_at;
        let kind: Option<K> = e.kind.parse().ok();
        let working = matches!(before, S::Acknowledged | S::Investigating | S::MeasuresDecided | S::Reopened);
        let mut applied = true;
        let mut moved = true;
        match kind {
            Some(K::Filed) => {
                applied = !l.timeline.iter().any(|t: &TimelineEntry| t.event.kind == K::Filed.as_str());
                moved = false;
            }
            Some(K::Acknowledged) if before == S::Received => l.status = S::Acknowledged,
            Some(K::Investigating) if working => {
                l.status = S::Investigating;
                l.findings = e.findings.clone().or(l.findings.take());
                l.responsible = e.responsible.clone().or(l.responsible.take());
            }
            Some(K::Measures) if matches!(before, S::Investigating | S::MeasuresDecided) => {
                l.status = S::MeasuresDecided;
                l.measures = e.measures.clone();
                l.expected = e.expected.clone();
            }
            Some(K::Resolved) if matches!(before, S::Investigating | S::MeasuresDecided) => {
                l.status = S::Resolved;
                l.resolutions += 1;
            }
            Some(K::Feedback) if matches!(before, S::Resolved | S::Feedback) => {
                l.status = S::Feedback;
                l.satisfaction = e.satisfaction;
            }
            Some(K::Closed) if matches!(before, S::Resolved | S::Feedback) => l.status = S::Closed,
            Some(K::Reopened) if !is_open(before) => {
                l.status = S::Reopened;
                l.reopened += 1;
            }
            Some(K::Waiting) if is_open(before) && !l.waiting => {
                l.waiting = true;
                moved = false;
            }
            Some(K::Resumed) if l.waiting => {
                l.waiting = false;
                moved = false;
            }
            Some(K::Progress | K::FieldNote | K::Escalated) => moved = false,
            _ => applied = false,
        }
        // Any step that moves the complaint on ends a wait on the customer.
        if applied && moved {
            l.waiting = false;
        }
        let note = (!applied).then(|| format!("not applied: the complaint was {}", before.as_str()));
        l.timeline.push(TimelineEntry {
            event: e.clone(),
            applied,
            status_after: l.status,
            waiting_after: l.waiting,
            counted_at,
            note,
        });
    }
    l
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(kind: K, at: i64) -> ComplaintEvent {
        ComplaintEvent { satisfaction: (kind == K::Feedback).then_some(4), ..ComplaintEvent::new(kind, at, "x") }
    }

    /// Received in this order by the server (arrival times 1, 2, 3 …).
    fn arrived(kinds: &[(K, i64)]) -> Vec<ComplaintEvent> {
        kinds
            .iter()
            .enumerate()
            .map(|(i, (k, at))| ComplaintEvent { received: Some(100 + i as i64), ..ev(*k, *at) })
            .collect()
    }

    #[test]
    fn the_workflow_with_reopen_and_steps_that_do_not_apply() {
        use K::*;
        // (name, events in arrival order, status, waiting, resolutions, not applied)
        type Case = (&'static str, Vec<(K, i64)>, S, bool, u32, usize);
        let cases: Vec<Case> = vec![
            ("just filed", vec![(Filed, 1)], S::Received, false, 0, 0),
            ("acknowledged", vec![(Filed, 1), (Acknowledged, 2)], S::Acknowledged, false, 0, 0),
            (
                "to closed",
                vec![
                    (Filed, 1),
                    (Acknowledged, 2),
                    (Investigating, 3),
                    (Measures, 4),
                    (Progress, 5),
                    (Resolved, 6),
                    (Feedback, 7),
                    (Closed, 8),
                ],
                S::Closed,
                false,
                1,
                0,
            ),
            (
                "reopened when not satisfied, resolved again",
                vec![
                    (Filed, 1),
                    (Acknowledged, 2),
                    (Investigating, 3),
                    (Resolved, 4),
                    (Feedback, 5),
                    (Reopened, 6),
                    (Investigating, 7),
                    (Resolved, 8),
                ],
                S::Resolved,
                false,
                2,
                0,
            ),
            (
                "reopen of an open complaint",
                vec![(Filed, 1), (Acknowledged, 2), (Reopened, 3)],
                S::Acknowledged,
                false,
                0,
                1,
            ),
            (
                "resolve before investigating",
                vec![(Filed, 1), (Acknowledged, 2), (Resolved, 3)],
                S::Acknowledged,
                false,
                0,
                1,
            ),
            ("close before resolving", vec![(Filed, 1), (Acknowledged, 2), (Closed, 3)], S::Acknowledged, false, 0, 1),
            ("waiting pauses", vec![(Filed, 1), (Acknowledged, 2), (Waiting, 3)], S::Acknowledged, true, 0, 0),
            ("resumed", vec![(Filed, 1), (Waiting, 2), (Resumed, 3)], S::Received, false, 0, 0),
            ("a step ends the wait", vec![(Filed, 1), (Waiting, 2), (Acknowledged, 3)], S::Acknowledged, false, 0, 0),
            (
                "no waiting once resolved",
                vec![(Filed, 1), (Acknowledged, 2), (Investigating, 3), (Resolved, 4), (Waiting, 5)],
                S::Resolved,
                false,
                1,
                1,
            ),
            (
                "notes never move it",
                vec![(Filed, 1), (FieldNote, 2), (Escalated, 3), (Progress, 4)],
                S::Received,
                false,
                0,
                0,
            ),
            ("filed twice", vec![(Filed, 1), (Filed, 2)], S::Received, false, 0, 1),
        ];
        for (name, kinds, status, waiting, resolutions, not_applied) in cases {
            let l = fold(&arrived(&kinds), 0);
            let skipped = l.timeline.iter().filter(|t| !t.applied).count();
            assert_eq!(
                (l.status, l.waiting, l.resolutions, skipped),
                (status, waiting, resolutions, not_applied),
                "{name}: {:#?}",
                l.timeline
            );
        }
    }

    #[test]
    fn concurrent_offline_steps_take_effect_in_arrival_order() {
        // Two after-sales devices offline: A investigates and resolves, B (which had not
        // seen A's steps) resolves too. Whatever the list order after the merge, the
        // server's arrival order decides: one resolution applies.
        let base = arrived(&[(K::Filed, 1), (K::Acknowledged, 2), (K::Investigating, 3)]);
        let a = ComplaintEvent { received: Some(200), comment: Some("换货".into()), ..ev(K::Resolved, 10) };
        let b = ComplaintEvent { received: Some(201), comment: Some("退款".into()), ..ev(K::Resolved, 5) };
        for events in
            [[base.clone(), vec![a.clone(), b.clone()]].concat(), [base.clone(), vec![b.clone(), a.clone()]].concat()]
        {
            let l = fold(&events, 0);
            assert_eq!((l.status, l.resolutions), (S::Resolved, 1));
            let applied: Vec<&str> = l
                .timeline
                .iter()
                .filter(|t| t.event.kind == "resolved" && t.applied)
                .filter_map(|t| t.event.comment.as_deref())
                .collect();
            assert_eq!(applied, ["换货"], "the first to arrive");
        }
        // Not received yet (this device's own unsent steps) come last, by their time.
        let local = ComplaintEvent { received: None, ..ev(K::Measures, 50) };
        let l = fold(&[base.clone(), vec![local]].concat(), 0);
        assert_eq!(l.status, S::MeasuresDecided);
    }

    #[test]
    fn counted_times_never_go_back() {
        // A step stating a time before the complaint was received, or before the step it
        // follows, counts at that earlier bound.
        let events = arrived(&[(K::Filed, 1_000), (K::Acknowledged, 500), (K::Investigating, 400)]);
        let l = fold(&events, 900);
        let counted: Vec<i64> = l.timeline.iter().map(|t| t.counted_at).collect();
        assert_eq!(counted, [1_000, 1_000, 1_000]);
    }
}
