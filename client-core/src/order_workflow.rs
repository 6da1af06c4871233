//! Orders beyond their lines: offline pricing against the synced price policy, submission,
//! approvals bound to content, and each department's lifecycle step. The same pricing
//! function and lifecycle fold run on the server, so what a rep sees offline is what the
//! server will decide.

use crate::error::CoreError;
use crate::replica::Replica;
use crate::view_memo::{OrderContext, OrderKey};
use protocol::pricing::{CustomerFacts, LineFacts, Policy, PricedOrder, approvals_hash, price_order};
use protocol::schema::Channel;
use protocol::schema::order;
use protocol::schema::order::{Order, OrderEvent};
use protocol::schema::order_lifecycle::{self, Lifecycle};
use protocol::schema::policy_doc::{self, POLICY_DOC_ID, PublishedPolicy};
use protocol::schema::verdict::{self, ContractGate, OrderVerdict, verdict_id};
use protocol::schema::{EventKind, ExceptionKind, OrderStatus};
use protocol::{DocId, DocKind, Role};
use serde::Serialize;
use std::sync::Arc;

/// Everything a person needs to see about an order.
#[derive(Clone, Debug, Serialize)]
pub struct OrderView {
    #[serde(flatten)]
    pub order: Order,
    /// Offline pricing with the policy the device holds (None: no policy synced yet).
    pub priced: Option<PricedOrder>,
    /// The server's verdict, once it has checked this order.
    pub verdict: Option<OrderVerdict>,
    /// Does the verdict refer to the current content (false: edited since; re-checking)?
    pub verdict_current: bool,
    pub lifecycle: Lifecycle,
    /// Whether it needs a signed contract: empty, `needed` or `covered` (by `contract_id`).
    pub contract: &'static str,
    pub contract_id: Option<DocId>,
}

impl Replica {
    /// Every published price-policy version this device holds, oldest first.
    /// (Read once per revision of the policy document: every order's view reads it.)
    pub fn policy_versions(&self) -> Arc<Vec<PublishedPolicy>> {
        let read = || self.doc_ref(POLICY_DOC_ID, DocKind::Policy).map(policy_doc::read).unwrap_or_default();
        let memo = &self.memo().policy;
        memo.get_or(POLICY_DOC_ID, self.rev(POLICY_DOC_ID), || Some(read())).expect("always computed")
    }

    /// The newest policy (what new orders are priced with).
    pub fn current_policy(&self) -> Option<PublishedPolicy> {
        self.policy_versions().last().cloned()
    }

    fn pricer_role(&self) -> Role {
        self.principal().map(|p| p.role).unwrap_or(Role::Rep)
    }

    /// Whose discount authority applies to an order's prices: its author's, as the server
    /// prices it. This user's own role for their orders; for someone else's, the role the
    /// server's verdict names, else a rep's (the least authority).
    fn pricer_of(&self, o: &Order) -> Role {
        if o.created_by == self.user() {
            return self.pricer_role();
        }
        self.verdict(o.id).and_then(|v| v.priced.map(|p| p.pricer)).unwrap_or(Role::Rep)
    }

    /// Price an order offline, exactly as the server will (same function, same policy
    /// version in force at the order's date, the author's discount authority).
    pub fn price(&self, id: DocId) -> Result<Option<PricedOrder>, CoreError> {
        let o = self.order(id)?;
        let versions = self.policy_versions();
        let Some(policy) = policy_doc::in_force(&versions, o.effective_created_at()) else { return Ok(None) };
        Ok(Some(price_with(&policy.policy, self, &o, self.pricer_of(&o))))
    }

    pub fn verdict(&self, order: DocId) -> Option<OrderVerdict> {
        self.doc_ref(verdict_id(order), DocKind::Verdict).ok().and_then(|d| verdict::read(d).ok())
    }

    /// Hex content hash of the order as it is now (what an approval binds to).
    pub fn content_hash(&self, id: DocId) -> Result<String, CoreError> {
        let o = self.order(id)?;
        Ok(content_hash_of(&o))
    }

    pub fn order_view(&self, id: DocId) -> Result<OrderView, CoreError> {
        self.order_view_shared(id).map(|v| (*v).clone())
    }

    /// [`Replica::order_view`] without the copy.
    pub fn order_view_shared(&self, id: DocId) -> Result<Arc<OrderView>, CoreError> {
        self.memo().order_context(self.order_context());
        self.memo().orders.get_or_try(id, self.order_key(id), || {
            let order = self.order(id)?;
            Ok(self.view_of(order, &self.policy_versions(), &mut |c| self.channel_of(c)))
        })
    }

    /// Every order's view, newest first; each order is read again only once it, its
    /// verdict, its customer, a document every order reads or the user changed
    /// ([`crate::view_memo`]).
    pub fn order_views(&self) -> Vec<OrderView> {
        self.order_views_shared().iter().map(|v| (**v).clone()).collect()
    }

    /// [`Replica::order_views`] without the copies (lists of thousands of orders).
    pub fn order_views_shared(&self) -> Vec<Arc<OrderView>> {
        self.memo().order_context(self.order_context());
        let versions = self.policy_versions();
        let mut channels: std::collections::HashMap<DocId, Option<Channel>> = std::collections::HashMap::new();
        let mut channel = |c: DocId| *channels.entry(c).or_insert_with(|| self.channel_of(c));
        let memo = &self.memo().orders;
        let mut all: Vec<Arc<OrderView>> = self
            .held_of_kind(DocKind::Order)
            .filter_map(|(id, doc)| {
                memo.get_or(id, self.order_key(id), || {
                    order::read(doc, id).ok().map(|o| self.view_of(o, &versions, &mut channel))
                })
            })
            .collect();
        if memo.len() > all.len() {
            memo.retain(|id| self.kind_of(*id) == Some(DocKind::Order));
        }
        all.sort_by(|a, b| b.order.created_at.cmp(&a.order.created_at).then(a.order.id.cmp(&b.order.id)));
        all
    }

    /// Every order's view computed afresh, as [`Replica::order_views`] was before the
    /// memo (the tests compare both).
    #[cfg(test)]
    pub(crate) fn order_views_fresh(&self) -> Vec<OrderView> {
        let versions = self.doc_ref(POLICY_DOC_ID, DocKind::Policy).map(policy_doc::read).unwrap_or_default();
        self.orders().into_iter().map(|o| self.view_of(o, &versions, &mut |c| self.channel_of(c))).collect()
    }

    /// What every order's view reads besides the order, its verdict and its customer.
    fn order_context(&self) -> OrderContext {
        OrderContext {
            kinds: crate::ORDER_CONTEXT_KINDS.iter().map(|k| self.kind_rev(*k)).collect(),
            user: self.user().to_string(),
            principal: self.principal().cloned(),
        }
    }

    /// The revisions of what one order's view reads of its own: the order, its verdict,
    /// the customer it names.
    fn order_key(&self, id: DocId) -> OrderKey {
        let customer = self
            .doc_and_kind(id)
            .and_then(|(doc, _)| protocol::schema::root_string(doc, "customer"))
            .and_then(|c| c.parse::<DocId>().ok());
        [self.rev(id), self.rev(verdict_id(id)), customer.map_or(0, |c| self.rev(c))]
    }

    fn channel_of(&self, customer: DocId) -> Option<Channel> {
        self.customer(customer).ok().and_then(|c| c.channel)
    }

    fn view_of(
        &self,
        mut order: Order,
        versions: &[PublishedPolicy],
        channel: &mut dyn FnMut(DocId) -> Option<Channel>,
    ) -> OrderView {
        let verdict = self.verdict(order.id);
        let policy = policy_doc::in_force(versions, order.effective_created_at());
        let pricer = if order.created_by == self.user() {
            self.pricer_role()
        } else {
            verdict.as_ref().and_then(|v| v.priced.as_ref().map(|p| p.pricer)).unwrap_or(Role::Rep)
        };
        let priced = policy.map(|p| {
            let customer = order.customer.unwrap_or(DocId(uuid::Uuid::nil()));
            let facts = CustomerFacts { id: customer, channel: order.customer.and_then(&mut *channel) };
            let lines: Vec<LineFacts> = order.lines.iter().map(LineFacts::from).collect();
            price_order(&p.policy, &facts, &lines, order.effective_created_at(), pricer)
        });
        let hash = content_hash_of(&order);
        let verdict_current = verdict.as_ref().is_some_and(|v| v.content_hash == hash);
        // Required approvals: the server's verdict when it is about this content, else
        // the offline preview (the server will agree: same function, same policy).
        // An invalid order waits (None): no approval can make it proceed.
        let required: Option<Vec<Role>> = match (&verdict, &priced) {
            (Some(v), _) if verdict_current => v.required_approvals(),
            (_, Some(p)) => p.required_approvals(),
            _ => None,
        };
        let may_approve = |a: Role, r: Role| policy.map_or(a == r, |p| p.policy.may_approve(a, r));
        let contract = self.contract_gate(&order, priced.as_ref().and_then(|p| p.total_fen), verdict.as_ref());
        let lifecycle =
            order_lifecycle::fold_gated(&order.events, required.as_deref(), &hash, &may_approve, contract.blocks());
        // One status: the order's own field says what the lifecycle says.
        order.status = lifecycle.status;
        OrderView {
            order,
            priced,
            verdict,
            verdict_current,
            lifecycle,
            contract: contract.name(),
            contract_id: contract.covering(),
        }
    }

    /// Whether an order needs a signed contract and which one held here covers it (the
    /// server's verdict may know of one this device does not hold).
    fn contract_gate(&self, o: &Order, priced_total: Option<i64>, verdict: Option<&OrderVerdict>) -> ContractGate {
        let policy = self.approval_policy();
        let key_account = o.customer.and_then(|c| self.customer(c).ok()).is_some_and(|c| c.key_account);
        let covered = self
            .contracts()
            .into_iter()
            .find(|c| {
                c.orders.contains(&o.id) && self.contract_locked(c.id) && {
                    let s = protocol::schema::contract::fold(&c.events, &protocol::schema::contract::content_hash(c))
                        .status;
                    matches!(s, protocol::schema::ContractStatus::Signed | protocol::schema::ContractStatus::Archived)
                }
            })
            .map(|c| c.id)
            .or_else(|| verdict.and_then(|v| v.contract_id));
        ContractGate::of(&policy, priced_total.unwrap_or(o.total_fen), key_account, covered)
    }

    /// Orders waiting for an approval this user's role can give.
    pub fn approvals_queue(&self) -> Vec<OrderView> {
        let role = self.pricer_role();
        let versions = self.policy_versions();
        self.order_views()
            .into_iter()
            .filter(|v| v.lifecycle.status == OrderStatus::AwaitingApproval)
            .filter(|v| {
                let policy = policy_doc::in_force(&versions, v.order.effective_created_at());
                v.lifecycle
                    .missing_approvals
                    .iter()
                    .any(|r| policy.map_or(role == *r, |p| p.policy.may_approve(role, *r)))
            })
            .collect()
    }

    fn event(&self, kind: EventKind, now: i64) -> OrderEvent {
        OrderEvent { kind: kind.as_str().into(), at: now, by: self.user().to_string(), ..Default::default() }
    }

    /// Submit: record the policy version priced with, then the `submitted` event.
    pub fn submit_order(&mut self, id: DocId, now: i64) -> Result<(), CoreError> {
        if let Some(p) = self.current_policy() {
            self.set_priced_with(id, p.version, now)?;
        }
        let e = self.event(EventKind::Submitted, now);
        self.append_order_event(id, &e, now)
    }

    /// Approve or reject the order's current content, with a comment.
    pub fn decide_order(&mut self, id: DocId, approve: bool, comment: &str, now: i64) -> Result<(), CoreError> {
        let hash = self.content_hash(id)?;
        let kind = if approve { EventKind::Approved } else { EventKind::Rejected };
        let e = OrderEvent {
            role: Some(self.pricer_role().as_str().into()),
            hash: Some(hash),
            comment: Some(comment.to_string()).filter(|c| !c.is_empty()),
            ..self.event(kind, now)
        };
        self.append_order_event(id, &e, now)
    }

    pub fn confirm_payment(&mut self, id: DocId, now: i64) -> Result<(), CoreError> {
        let e = self.event(EventKind::Paid, now);
        self.append_order_event(id, &e, now)
    }

    pub fn ship_order(&mut self, id: DocId, carrier: &str, tracking: &str, now: i64) -> Result<(), CoreError> {
        self.ship_order_with_batches(id, carrier, tracking, &[], now)
    }

    /// Ship, recording the batch numbers (批次号) each line ships with: `(line, batch)`,
    /// a line named by its id or 1-based position, several batches per line allowed.
    pub fn ship_order_with_batches(
        &mut self,
        id: DocId,
        carrier: &str,
        tracking: &str,
        batches: &[(String, String)],
        now: i64,
    ) -> Result<(), CoreError> {
        let o = self.order(id)?;
        let mut pairs = Vec::new();
        let mut errors = Vec::new();
        for (line, batch) in batches {
            let (line, batch) = (line.trim(), batch.trim());
            let by_position = line.parse::<usize>().ok().and_then(|n| n.checked_sub(1)).and_then(|i| o.lines.get(i));
            let found = o.lines.iter().find(|l| l.id == line).or(by_position);
            match found {
                None => errors.push(protocol::kinds::FieldError::new(
                    "batches",
                    protocol::kinds::FieldErrorKind::NoSuchLine { value: line.to_string() },
                )),
                Some(_) if !protocol::schema::order::is_batch(batch) => errors.push(protocol::kinds::FieldError::new(
                    "batches",
                    protocol::kinds::FieldErrorKind::NotBatch { value: batch.to_string() },
                )),
                Some(l) => pairs.push((l.id.clone(), batch.to_string())),
            }
        }
        if !errors.is_empty() {
            return Err(protocol::schema::SchemaError::Fields(errors).into());
        }
        let e = OrderEvent {
            carrier: Some(carrier.to_string()),
            tracking: Some(tracking.to_string()),
            batches: (!pairs.is_empty()).then(|| protocol::schema::order::format_batches(&pairs)),
            ..self.event(EventKind::Shipped, now)
        };
        self.append_order_event(id, &e, now)
    }

    pub fn deliver_order(&mut self, id: DocId, feedback: Option<&str>, now: i64) -> Result<(), CoreError> {
        let e = OrderEvent { comment: feedback.map(str::to_string), ..self.event(EventKind::Delivered, now) };
        self.append_order_event(id, &e, now)
    }

    pub fn order_exception(&mut self, id: DocId, kind: ExceptionKind, note: &str, now: i64) -> Result<(), CoreError> {
        let e = OrderEvent {
            role: Some(self.pricer_role().as_str().into()),
            exception: Some(kind.as_str().into()),
            comment: Some(note.to_string()),
            ..self.event(EventKind::Exception, now)
        };
        self.append_order_event(id, &e, now)
    }

    /// Legal or an executive exempts an order from the signed contract it needs.
    pub fn waive_contract(&mut self, id: DocId, note: &str, now: i64) -> Result<(), CoreError> {
        let e = OrderEvent {
            role: Some(self.pricer_role().as_str().into()),
            comment: Some(note.to_string()).filter(|n| !n.is_empty()),
            ..self.event(EventKind::ContractWaived, now)
        };
        self.append_order_event(id, &e, now)
    }

    pub fn resolve_exception(&mut self, id: DocId, note: &str, now: i64) -> Result<(), CoreError> {
        let e = OrderEvent { comment: Some(note.to_string()), ..self.event(EventKind::Resolved, now) };
        self.append_order_event(id, &e, now)
    }

    pub fn cancel_order(&mut self, id: DocId, now: i64) -> Result<(), CoreError> {
        let e = self.event(EventKind::Cancelled, now);
        self.append_order_event(id, &e, now)
    }

    pub fn close_order(&mut self, id: DocId, now: i64) -> Result<(), CoreError> {
        let e = self.event(EventKind::Closed, now);
        self.append_order_event(id, &e, now)
    }
}

/// Price `o` with `policy`: the one pricing function, with the customer's channel.
pub fn price_with(policy: &Policy, replica: &Replica, o: &Order, pricer: Role) -> PricedOrder {
    let customer = o.customer.unwrap_or(DocId(uuid::Uuid::nil()));
    let channel = replica.customer(customer).ok().and_then(|c| c.channel);
    let lines: Vec<LineFacts> = o.lines.iter().map(LineFacts::from).collect();
    price_order(policy, &CustomerFacts { id: customer, channel }, &lines, o.effective_created_at(), pricer)
}

/// The hex content hash of an order (customer + lines).
pub fn content_hash_of(o: &Order) -> String {
    let customer = o.customer.unwrap_or(DocId(uuid::Uuid::nil()));
    let lines: Vec<LineFacts> = o.lines.iter().map(LineFacts::from).collect();
    approvals_hash(customer, &lines).to_string()
}
