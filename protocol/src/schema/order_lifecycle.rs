//! The order lifecycle (订单流程): draft → submitted → (awaiting approval) → confirmed →
//! payment confirmed / shipped → delivered → closed, with exceptions after confirmation
//! and cancellation before shipment.
//!
//! Departments append events to the order's list, offline and concurrently. The status is
//! never stored: [`fold`] derives it from the events — in the order the server received
//! them (then list position; events it has not received yet last, by their time) — so any
//! merge of any concurrent events gives the same, legal state, and no device can reorder
//! what the server already accepted by stating an earlier time. An event that is not
//! legal where it falls is kept and shown as not applied, except that a cancellation after
//! shipment becomes an exception ("cancel requested after shipment") rather than an
//! impossible state.
//!
//! Approvals bind to content: an `approved`/`rejected` event carries the content hash it
//! saw ([`crate::pricing::approvals_hash`]); only approvals of the *current* content count,
//! so any later change to customer, lines, prices or quantities voids them.

use super::enums::{EventKind, ExceptionKind, OrderStatus};
use super::order::OrderEvent;
use crate::role::Role;
use serde::Serialize;

/// Roles that may append each kind of event (the order kind's event log in the registry;
/// the server enforces it; `by` and `role` of the event must also be the writer's own).
pub fn event_writers(kind: EventKind) -> &'static [Role] {
    match crate::ids::DocKind::Order.spec().field("events").map(|f| f.ty) {
        Some(crate::kinds::FieldType::Log(log)) => log.entry(kind.as_str()).map_or(&[], |e| e.writers),
        _ => &[],
    }
}

/// Does an approval by `approver` satisfy a requirement for `required`? The price
/// policy knows (`Policy::may_approve`); without one, only the same role does.
pub type MayApprove<'a> = &'a dyn Fn(Role, Role) -> bool;

/// The rule when no policy is at hand: the same role.
pub fn same_role(approver: Role, required: Role) -> bool {
    approver == required
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TimelineEntry {
    pub event: OrderEvent,
    /// Did the event change the order (false: not legal where it fell, kept for the record)?
    pub applied: bool,
    pub status_after: OrderStatus,
    /// Why it did not apply, or what it turned into.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Lifecycle {
    pub status: OrderStatus,
    pub paid: bool,
    /// Exceptions raised and not yet resolved (oldest first).
    pub open_exceptions: Vec<OrderEvent>,
    /// Approvals of the current content that count toward what is required.
    pub valid_approvals: Vec<OrderEvent>,
    /// Required approvals not yet given (empty when unknown or satisfied).
    pub missing_approvals: Vec<Role>,
    pub timeline: Vec<TimelineEntry>,
}

fn event_role(e: &OrderEvent) -> Option<Role> {
    e.role.as_deref().and_then(|r| r.parse().ok())
}

/// Fold the events. `required` = the approvals the pricing verdict demands (`None` while
/// the verdict is not known: a submitted order then stays `submitted`); `content_hash` =
/// the hex hash of the current order content.
pub fn fold(
    events: &[OrderEvent],
    required: Option<&[Role]>,
    content_hash: &str,
    may_approve: MayApprove,
) -> Lifecycle {
    fold_gated(events, required, content_hash, may_approve, false)
}

/// [`fold`] for an order that may need a signed contract: `needs_contract` = the approval
/// policy requires one and no signed contract covers the order yet. Such an order, once
/// approved, waits in "awaiting contract" until a contract covers it or its requirement is
/// waived (a `contract-waived` event by legal or the executive).
pub fn fold_gated(
    events: &[OrderEvent],
    required: Option<&[Role]>,
    content_hash: &str,
    may_approve: MayApprove,
    needs_contract: bool,
) -> Lifecycle {
    // In the order the server received them; what it has not received yet comes last.
    let sorted = crate::kinds::arrival_order(events, |e| e.received, |e| e.at);
    let current = |e: &OrderEvent| e.hash.as_deref() == Some(content_hash) && !content_hash.is_empty();
    let valid_approvals: Vec<OrderEvent> =
        events.iter().filter(|e| e.kind == EventKind::Approved.as_str() && current(e)).cloned().collect();
    let missing: Vec<Role> = required
        .unwrap_or(&[])
        .iter()
        .copied()
        .filter(|r| !valid_approvals.iter().any(|a| event_role(a).is_some_and(|ar| may_approve(ar, *r))))
        .collect();
    let approved = required.is_some() && missing.is_empty();
    let valid_rejection = events.iter().any(|e| e.kind == EventKind::Rejected.as_str() && current(e));

    let mut status = OrderStatus::Draft;
    let mut waived = false;
    let mut paid = false;
    let mut open: Vec<OrderEvent> = Vec::new();
    let mut timeline = Vec::with_capacity(sorted.len());
    for e in sorted {
        let before = status;
        let mut note = None;
        let kind: Option<EventKind> = e.kind.parse().ok();
        let confirmed_or_later =
            matches!(status, OrderStatus::Confirmed | OrderStatus::Shipped | OrderStatus::Delivered);
        let mut applied = true;
        match kind {
            Some(EventKind::Created) => {}
            Some(EventKind::Submitted) if matches!(status, OrderStatus::Draft | OrderStatus::Rejected) => {
                status = OrderStatus::Submitted;
            }
            Some(EventKind::Approved) => applied = current(e),
            Some(EventKind::Rejected)
                if current(e) && matches!(status, OrderStatus::Submitted | OrderStatus::AwaitingApproval) =>
            {
                status = OrderStatus::Rejected;
            }
            Some(EventKind::Cancelled) => match status {
                OrderStatus::Shipped | OrderStatus::Delivered => {
                    let mut ex = e.clone();
                    ex.exception = Some(ExceptionKind::CancelAfterShipment.as_str().into());
                    open.push(ex);
                    note = Some(ExceptionKind::CancelAfterShipment.as_str().to_string());
                }
                OrderStatus::Closed | OrderStatus::Cancelled => applied = false,
                _ => status = OrderStatus::Cancelled,
            },
            Some(EventKind::Paid) if confirmed_or_later && !paid => paid = true,
            Some(EventKind::Shipped) if status == OrderStatus::Confirmed => status = OrderStatus::Shipped,
            Some(EventKind::Delivered) if status == OrderStatus::Shipped => status = OrderStatus::Delivered,
            Some(EventKind::Exception) if confirmed_or_later => open.push(e.clone()),
            Some(EventKind::Resolved) if !open.is_empty() => {
                open.remove(0);
            }
            Some(EventKind::Closed) if status == OrderStatus::Delivered && paid && open.is_empty() => {
                status = OrderStatus::Closed;
            }
            Some(EventKind::ContractWaived) if !waived => waived = true,
            _ => applied = false,
        }
        // A submitted order waits for its approvals; once they are all given it is confirmed.
        let waiting =
            matches!(status, OrderStatus::Submitted | OrderStatus::AwaitingApproval | OrderStatus::AwaitingContract);
        if waiting && required.is_some() {
            status = if approved && needs_contract && !waived {
                OrderStatus::AwaitingContract
            } else if approved {
                OrderStatus::Confirmed
            } else if valid_rejection && status != OrderStatus::Submitted {
                OrderStatus::Rejected
            } else {
                OrderStatus::AwaitingApproval
            };
        }
        if !applied {
            note.get_or_insert_with(|| format!("not applied: order was {}", before.as_str()));
        }
        timeline.push(TimelineEntry { event: e.clone(), applied, status_after: status, note });
    }
    let missing_approvals = if matches!(status, OrderStatus::AwaitingApproval) { missing } else { Vec::new() };
    Lifecycle { status, paid, open_exceptions: open, valid_approvals, missing_approvals, timeline }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: &str = "aa";

    /// Executive outranks manager, as in the example policy.
    fn covers(approver: Role, required: Role) -> bool {
        approver == required || (approver == Role::Executive && required == Role::Manager)
    }

    fn ev(kind: &str, at: i64) -> OrderEvent {
        OrderEvent { kind: kind.into(), at, by: "x".into(), ..Default::default() }
    }

    fn approval(role: Role, hash: &str, at: i64) -> OrderEvent {
        OrderEvent { role: Some(role.as_str().into()), hash: Some(hash.into()), ..ev("approved", at) }
    }

    #[test]
    fn the_full_path_and_its_exceptions() {
        let needs_manager: &[Role] = &[Role::Manager];
        let base = vec![ev("created", 1), ev("submitted", 2)];
        let with = |extra: Vec<OrderEvent>| [base.clone(), extra].concat();
        // (name, events, required approvals, status, paid, open exceptions)
        type Case<'a> = (&'a str, Vec<OrderEvent>, Option<&'a [Role]>, OrderStatus, bool, usize);
        let cases: Vec<Case> = vec![
            ("verdict unknown", with(vec![]), None, OrderStatus::Submitted, false, 0),
            ("nothing required", with(vec![]), Some(&[]), OrderStatus::Confirmed, false, 0),
            ("awaiting", with(vec![]), Some(needs_manager), OrderStatus::AwaitingApproval, false, 0),
            (
                "approved",
                with(vec![approval(Role::Manager, H, 3)]),
                Some(needs_manager),
                OrderStatus::Confirmed,
                false,
                0,
            ),
            (
                "executive covers manager",
                with(vec![approval(Role::Executive, H, 3)]),
                Some(needs_manager),
                OrderStatus::Confirmed,
                false,
                0,
            ),
            (
                "stale approval is void",
                with(vec![approval(Role::Manager, "old", 3)]),
                Some(needs_manager),
                OrderStatus::AwaitingApproval,
                false,
                0,
            ),
            (
                "manager does not cover executive",
                with(vec![approval(Role::Manager, H, 3)]),
                Some(&[Role::Executive]),
                OrderStatus::AwaitingApproval,
                false,
                0,
            ),
            (
                "two roles",
                with(vec![approval(Role::Manager, H, 3), approval(Role::Executive, H, 4)]),
                Some(&[Role::Manager, Role::Executive]),
                OrderStatus::Confirmed,
                false,
                0,
            ),
            (
                "rejected",
                with(vec![OrderEvent { hash: Some(H.into()), ..ev("rejected", 3) }]),
                Some(needs_manager),
                OrderStatus::Rejected,
                false,
                0,
            ),
            (
                "to closed",
                with(vec![ev("paid", 4), ev("shipped", 5), ev("delivered", 6), ev("closed", 7)]),
                Some(&[]),
                OrderStatus::Closed,
                true,
                0,
            ),
            (
                "not closed while unpaid",
                with(vec![ev("shipped", 5), ev("delivered", 6), ev("closed", 7)]),
                Some(&[]),
                OrderStatus::Delivered,
                false,
                0,
            ),
            (
                "ship before confirmation ignored",
                with(vec![ev("shipped", 3)]),
                Some(needs_manager),
                OrderStatus::AwaitingApproval,
                false,
                0,
            ),
            (
                "exception stays open",
                with(vec![ev("shipped", 5), ev("exception", 6)]),
                Some(&[]),
                OrderStatus::Shipped,
                false,
                1,
            ),
            (
                "exception resolved",
                with(vec![ev("exception", 5), ev("resolved", 6)]),
                Some(&[]),
                OrderStatus::Confirmed,
                false,
                0,
            ),
            (
                "cancel before shipment",
                with(vec![ev("cancelled", 4), ev("shipped", 5)]),
                Some(&[]),
                OrderStatus::Cancelled,
                false,
                0,
            ),
            (
                "cancel after shipment is an exception",
                with(vec![ev("shipped", 4), ev("cancelled", 5)]),
                Some(&[]),
                OrderStatus::Shipped,
                false,
                1,
            ),
        ];
        for (name, events, required, status, paid, open) in cases {
            let l = fold(&events, required, H, &covers);
            assert_eq!((l.status, l.paid, l.open_exceptions.len()), (status, paid, open), "{name}: {:#?}", l.timeline);
            // Any permutation of the list (a different merge order) folds the same way.
            let reversed: Vec<OrderEvent> = events.iter().rev().cloned().collect();
            assert_eq!(fold(&reversed, required, H, &covers).status, status, "{name} reversed");
        }
    }

    #[test]
    fn an_order_that_needs_a_contract_waits_for_it() {
        let events = vec![ev("created", 1), ev("submitted", 2), approval(Role::Manager, H, 3), ev("shipped", 4)];
        let needs: &[Role] = &[Role::Manager];
        let l = fold_gated(&events, Some(needs), H, &covers, true);
        assert_eq!(l.status, OrderStatus::AwaitingContract);
        assert!(!l.timeline[3].applied, "no shipping before the contract");
        assert_eq!(fold_gated(&events, Some(needs), H, &covers, false).status, OrderStatus::Shipped);
        let waived = [events.clone(), vec![ev("contract-waived", 5), ev("shipped", 6)]].concat();
        assert_eq!(fold_gated(&waived, Some(needs), H, &covers, true).status, OrderStatus::Shipped);
        // Not yet approved: approvals come first.
        assert_eq!(fold_gated(&events[..2], Some(needs), H, &covers, true).status, OrderStatus::AwaitingApproval);
    }

    #[test]
    fn writers_per_event_kind() {
        assert!(event_writers(EventKind::Paid).contains(&Role::Finance));
        assert!(!event_writers(EventKind::Paid).contains(&Role::Rep));
        assert!(!event_writers(EventKind::Shipped).contains(&Role::Finance));
        assert!(!event_writers(EventKind::Approved).contains(&Role::Rep));
    }
}
