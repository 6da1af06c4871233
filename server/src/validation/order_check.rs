//! Post-sync validation of an order, as a pure function: what the server's verdict on an
//! order is, given the order as merged, its customer's channel, its author's role and the
//! published policy versions. The hub ([`crate::sync::hub`]) gathers those, calls [`check`], and
//! writes the verdict document only when [`differs`] says something a reader cares about
//! changed — so resending or re-checking the same content never produces a new change.
//!
//! The order itself is never modified (design note 5: validation quarantines, it does not
//! revert): a price that breaks policy stays as the rep wrote it, and the verdict says which
//! approval it waits for.

use protocol::Role;
use protocol::pricing::{CustomerFacts, LineFacts, price_order};
use protocol::schema::order::Order;
use protocol::schema::order_lifecycle::{self, Lifecycle};
use protocol::schema::policy_doc::{self, PublishedPolicy};
use protocol::schema::verdict::{ContractGate, OrderVerdict, verdict_name};
use protocol::schema::{Channel, EventKind, OrderStatus};
use protocol::{DocId, DocKind};

/// The server's view of an order after a check.
#[derive(Clone, Debug, PartialEq)]
pub struct Checked {
    /// The verdict as it reads now (`assigned_at` as given to [`check`]).
    pub verdict: OrderVerdict,
    /// The lifecycle folded with the server's required approvals and the current content.
    pub lifecycle: Lifecycle,
    /// The order is confirmed or beyond (shipped, delivered, closed): it belongs to
    /// logistics and finance.
    pub confirmed: bool,
}

/// Has the order been submitted (drafts are the rep's work in progress: not checked)?
pub fn is_submitted(order: &Order) -> bool {
    order.events.iter().any(|e| e.kind == EventKind::Submitted.as_str())
}

/// Check a submitted order: re-price it with the policy version in force at the order's
/// date, the customer's channel and the author's discount authority (`pricer`), and fold
/// its lifecycle with the approvals that pricing requires. `None` for a draft, or when no
/// policy has been published yet (the order waits for one).
#[cfg(test)]
pub fn check(
    order: &Order,
    channel: Option<Channel>,
    pricer: Role,
    versions: &[PublishedPolicy],
    assigned_at: Option<i64>,
    now: i64,
) -> Option<Checked> {
    check_gated(order, channel, pricer, versions, assigned_at, now, &|_| ContractGate::NotRequired)
}

/// [`check`] for an order that may need a signed contract: `gate` says, from the priced
/// total, whether it does and which signed contract covers it. An order that needs one
/// and is not covered stays unconfirmed ("awaiting contract") unless it is waived.
#[allow(clippy::too_many_arguments)]
pub fn check_gated(
    order: &Order,
    channel: Option<Channel>,
    pricer: Role,
    versions: &[PublishedPolicy],
    assigned_at: Option<i64>,
    now: i64,
    gate: &dyn Fn(i64) -> ContractGate,
) -> Option<Checked> {
    if !is_submitted(order) {
        return None;
    }
    // The order's date as the server holds it to the window around its arrival.
    let at = order.effective_created_at();
    let policy = policy_doc::in_force(versions, at)?;
    let customer = order.customer.unwrap_or(DocId(uuid::Uuid::nil()));
    let lines: Vec<LineFacts> = order.lines.iter().map(LineFacts::from).collect();
    let priced = price_order(&policy.policy, &CustomerFacts { id: customer, channel }, &lines, at, pricer);
    let content_hash = priced.content_hash.to_string();
    let required = priced.required_approvals();
    let may_approve = |a: Role, r: Role| policy.policy.may_approve(a, r);
    let gate = gate(priced.total_fen.unwrap_or(order.total_fen));
    let lifecycle =
        order_lifecycle::fold_gated(&order.events, required.as_deref(), &content_hash, &may_approve, gate.blocks());
    let confirmed = matches!(
        lifecycle.status,
        OrderStatus::Confirmed | OrderStatus::Shipped | OrderStatus::Delivered | OrderStatus::Closed
    );
    let priced_with = order.priced_with.and_then(|v| u32::try_from(v).ok()).unwrap_or(0);
    let verdict = OrderVerdict {
        order: Some(order.id),
        content_hash,
        policy_version: policy.version,
        priced_with,
        stale: priced_with < policy.version,
        verdict: verdict_name(priced.verdict).to_string(),
        required: priced.approver_roles(),
        priced: Some(priced),
        checked_at: now,
        assigned_at,
        contract: gate.name().to_string(),
        contract_id: gate.covering(),
    };
    Some(Checked { verdict, lifecycle, confirmed })
}

/// Does `new` say anything `previous` does not (everything but the time of the check)?
pub fn differs(previous: Option<&OrderVerdict>, new: &OrderVerdict) -> bool {
    match previous {
        None => true,
        Some(p) => OrderVerdict { checked_at: new.checked_at, ..p.clone() } != *new,
    }
}

/// The kind of document whose changes make the hub re-check orders, and which ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recheck {
    /// This order changed.
    Order(DocId),
    /// This customer was created or its channel changed: its orders not yet assigned.
    OrdersOf(DocId),
    /// Policy versions published at or after this time: orders dated since, not yet
    /// assigned (`i64::MIN`: the first versions — every order waiting for a policy).
    OrdersSince(i64),
    /// This contract changed (signed, say): the orders it covers.
    OrdersOfContract(DocId),
}

impl Recheck {
    /// What a stored change to a document of `kind` calls for: `created` when it created the
    /// document, `fields` the root fields it wrote, `new_entries` what its logs gained,
    /// `first_policy` when it published the first policy versions.
    pub fn after_change(
        kind: DocKind,
        id: DocId,
        created: bool,
        fields: &std::collections::BTreeSet<String>,
        new_entries: &[(&'static str, Vec<protocol::kinds::Entry>)],
        first_policy: bool,
    ) -> Option<Self> {
        match kind {
            DocKind::Order => Some(Recheck::Order(id)),
            DocKind::Customer if created || fields.contains("channel") || fields.contains("key_account") => {
                Some(Recheck::OrdersOf(id))
            }
            DocKind::Contract => Some(Recheck::OrdersOfContract(id)),
            // When a contract is required changed: every order not assigned yet.
            DocKind::ApprovalPolicy => Some(Recheck::OrdersSince(i64::MIN)),
            DocKind::Policy => {
                let since = new_entries
                    .iter()
                    .filter(|(f, _)| *f == "versions")
                    .flat_map(|(_, e)| e.iter().filter_map(|v| v.int("published_at")))
                    .min()?;
                Some(Recheck::OrdersSince(if first_policy { i64::MIN } else { since }))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
#[allow(clippy::inconsistent_digit_grouping)] // `539_00` fen reads as 539.00 yuan
mod tests {
    use super::*;
    use protocol::pricing::parse_policy_csv;
    use protocol::schema::order::{OrderEvent, OrderLine};

    const T0: i64 = 1_790_000_000_000;

    fn versions() -> Vec<PublishedPolicy> {
        let v1 = parse_policy_csv(include_str!("../../../examples/policy.csv")).unwrap();
        let mut v2 = v1.clone();
        v2.version = 2;
        for p in v2.prices.iter_mut().filter(|p| p.sku == "SC-52-500") {
            p.price_fen += 30_00;
        }
        vec![
            PublishedPolicy { version: 1, published_at: T0, published_by: "market".into(), policy: v1 },
            PublishedPolicy { version: 2, published_at: T0 + 1_000, published_by: "market".into(), policy: v2 },
        ]
    }

    fn ev(kind: &str, at: i64) -> OrderEvent {
        OrderEvent { kind: kind.into(), at, by: "li".into(), ..Default::default() }
    }

    fn order(created_at: i64, unit_price_fen: i64, priced_with: Option<i64>, events: Vec<OrderEvent>) -> Order {
        Order {
            id: DocId(uuid::Uuid::from_u128(7)),
            customer: Some(DocId(uuid::Uuid::from_u128(9))),
            source: None,
            lines: vec![OrderLine {
                id: "l1".into(),
                sku: "SC-52-500".into(),
                spec: None,
                qty: 6,
                unit_price_fen,
                amount_fen: 6 * unit_price_fen,
            }],
            total_fen: 6 * unit_price_fen,
            delivery_date: None,
            delivery_place: None,
            payment_method: None,
            notes: String::new(),
            priced_with,
            status: OrderStatus::Draft,
            events,
            created_by: "li".into(),
            created_at,
            received_at: None,
        }
    }

    fn submitted() -> Vec<OrderEvent> {
        vec![ev("created", T0 + 10), ev("submitted", T0 + 20)]
    }

    #[test]
    fn drafts_and_orders_without_a_policy_are_not_checked() {
        let o = order(T0 + 10, 539_00, Some(1), vec![ev("created", T0 + 10)]);
        assert!(check(&o, Some(Channel::Restaurant), Role::Rep, &versions(), None, 5).is_none());
        let o = order(T0 + 10, 539_00, Some(1), submitted());
        assert!(check(&o, Some(Channel::Restaurant), Role::Rep, &[], None, 5).is_none());
    }

    #[test]
    fn verdicts_by_policy_in_force_price_and_authority() {
        // (name, created_at, unit price, priced_with, pricer) → (version, stale, verdict, required, confirmed)
        type Want = (u32, bool, &'static str, Vec<Role>, bool);
        type Case = (&'static str, i64, i64, Option<i64>, Role, Want);
        let cases: Vec<Case> = vec![
            ("policy price, v1 in force", T0 + 10, 539_00, Some(1), Role::Rep, (1, false, "ok", vec![], true)),
            ("rep's 2% discount", T0 + 10, 528_22, Some(1), Role::Rep, (1, false, "ok", vec![], true)),
            (
                "below the rep's floor",
                T0 + 10,
                500_00,
                Some(1),
                Role::Rep,
                (1, false, "needs_approval", vec![Role::Manager], false),
            ),
            ("the same by a manager", T0 + 10, 500_00, Some(1), Role::Manager, (1, false, "ok", vec![], true)),
            (
                "above policy",
                T0 + 10,
                600_00,
                Some(1),
                Role::Rep,
                (1, false, "needs_approval", vec![Role::Manager], false),
            ),
            (
                "one fen: only an executive grants that",
                T0 + 10,
                1,
                Some(1),
                Role::Rep,
                (1, false, "needs_approval", vec![Role::Executive], false),
            ),
            (
                "priced with yesterday's policy",
                T0 + 5_000,
                539_00,
                Some(1),
                Role::Rep,
                (2, true, "needs_approval", vec![Role::Manager], false),
            ),
            ("priced with today's", T0 + 5_000, 569_00, Some(2), Role::Rep, (2, false, "ok", vec![], true)),
            ("no version recorded", T0 + 5_000, 569_00, None, Role::Rep, (2, true, "ok", vec![], true)),
        ];
        for (name, created, price, with, pricer, want) in cases {
            let o = order(created, price, with, submitted());
            let c = check(&o, Some(Channel::Restaurant), pricer, &versions(), None, 99).unwrap();
            let v = &c.verdict;
            assert_eq!(
                (v.policy_version, v.stale, v.verdict.as_str(), v.required.clone(), c.confirmed),
                want,
                "{name}"
            );
            assert_eq!(v.priced.as_ref().unwrap().pricer, pricer, "{name}");
        }
        // A customer without a channel has no price tier: invalid, and no approval helps.
        let o = order(T0 + 10, 539_00, Some(1), submitted());
        let c = check(&o, None, Role::Rep, &versions(), None, 99).unwrap();
        assert_eq!((c.verdict.verdict.as_str(), c.confirmed), ("invalid", false));
        assert_eq!(c.verdict.required_approvals(), None);
        assert_eq!(c.lifecycle.status, OrderStatus::Submitted, "an invalid order waits");
    }

    #[test]
    fn an_approval_of_the_current_content_confirms_and_an_edit_voids_it() {
        let o = order(T0 + 10, 500_00, Some(1), submitted());
        let c = check(&o, Some(Channel::Restaurant), Role::Rep, &versions(), None, 99).unwrap();
        assert_eq!(c.lifecycle.status, OrderStatus::AwaitingApproval);
        let approval = OrderEvent {
            role: Some("manager".into()),
            hash: Some(c.verdict.content_hash.clone()),
            ..ev("approved", T0 + 30)
        };
        let mut events = submitted();
        events.push(approval);
        let approved = order(T0 + 10, 500_00, Some(1), events.clone());
        let c2 = check(&approved, Some(Channel::Restaurant), Role::Rep, &versions(), None, 99).unwrap();
        assert!(c2.confirmed);
        let edited = Order { lines: vec![OrderLine { qty: 7, ..approved.lines[0].clone() }], ..approved };
        let c3 = check(&edited, Some(Channel::Restaurant), Role::Rep, &versions(), None, 99).unwrap();
        assert!(!c3.confirmed);
        assert_eq!(c3.lifecycle.status, OrderStatus::AwaitingApproval);
        assert_ne!(c3.verdict.content_hash, c2.verdict.content_hash);
    }

    #[test]
    fn an_order_above_the_contract_threshold_waits_for_its_contract() {
        let o = order(T0 + 10, 539_00, Some(1), submitted());
        let policy =
            protocol::schema::expense::ApprovalPolicy { contract_above_fen: Some(1_000_00), ..Default::default() };
        let contract = DocId(uuid::Uuid::from_u128(77));
        let gate = |covered: Option<DocId>| {
            let policy = policy.clone();
            move |total| ContractGate::of(&policy, total, false, covered)
        };
        let c = check_gated(&o, Some(Channel::Restaurant), Role::Rep, &versions(), None, 9, &gate(None)).unwrap();
        assert_eq!(
            (c.lifecycle.status, c.confirmed, c.verdict.contract.as_str()),
            (OrderStatus::AwaitingContract, false, "needed")
        );
        let c =
            check_gated(&o, Some(Channel::Restaurant), Role::Rep, &versions(), None, 9, &gate(Some(contract))).unwrap();
        assert_eq!(
            (c.lifecycle.status, c.confirmed, c.verdict.contract_id),
            (OrderStatus::Confirmed, true, Some(contract))
        );
        let high = protocol::schema::expense::ApprovalPolicy { contract_above_fen: Some(3_500_00), ..policy.clone() };
        let below = |total| ContractGate::of(&high, total, false, None);
        let c = check_gated(&o, Some(Channel::Restaurant), Role::Rep, &versions(), None, 9, &below).unwrap();
        assert_eq!((c.confirmed, c.verdict.contract.as_str()), (true, ""), "6 × 539 is not above 3500");
    }

    #[test]
    fn only_what_readers_see_counts_as_a_difference() {
        let o = order(T0 + 10, 539_00, Some(1), submitted());
        let a = check(&o, Some(Channel::Restaurant), Role::Rep, &versions(), None, 1).unwrap().verdict;
        let b = check(&o, Some(Channel::Restaurant), Role::Rep, &versions(), None, 2).unwrap().verdict;
        assert!(differs(None, &a));
        assert!(!differs(Some(&a), &b), "a re-check at another time is no change");
        let assigned = OrderVerdict { assigned_at: Some(3), ..b.clone() };
        assert!(differs(Some(&a), &assigned));
        let other_channel = check(&o, Some(Channel::DirectStore), Role::Rep, &versions(), None, 2).unwrap().verdict;
        assert!(differs(Some(&a), &other_channel));
    }

    #[test]
    fn what_calls_for_a_recheck() {
        let id = DocId(uuid::Uuid::from_u128(1));
        let none = std::collections::BTreeSet::new();
        let channel: std::collections::BTreeSet<String> = ["channel".to_string()].into();
        let name: std::collections::BTreeSet<String> = ["name".to_string()].into();
        let r = |kind, created, fields: &std::collections::BTreeSet<String>| {
            Recheck::after_change(kind, id, created, fields, &[], false)
        };
        assert_eq!(r(DocKind::Order, false, &none), Some(Recheck::Order(id)));
        assert_eq!(r(DocKind::Customer, true, &name), Some(Recheck::OrdersOf(id)));
        assert_eq!(r(DocKind::Customer, false, &channel), Some(Recheck::OrdersOf(id)));
        assert_eq!(r(DocKind::Customer, false, &name), None);
        assert_eq!(r(DocKind::Visit, true, &name), None);
    }
}
