//! The order pricing verdict, the first validator: after a change to a submitted order (or
//! to what its price depends on: its customer's channel, a newly published policy version)
//! the order is re-priced ([`super::order_check`]) and the verdict written into the order's
//! verdict document ([`protocol::schema::verdict`]) — only when what it says changed. When
//! an order's lifecycle first reaches "confirmed" it is assigned to logistics and finance
//! and they are notified — `INSERT OR IGNORE` on keys that name the effect — and the
//! verdict's `assigned_at` says when.

use super::notifications::{ASSIGNED, ASSIGNED_TO, assigned_message};
use super::order_check::{self, Recheck};
use super::{Changed, ValidationCx, Validator};
use crate::storage::{AssignmentRow, DbError};
use protocol::schema::expense::{APPROVAL_POLICY_ID, ApprovalPolicy};
use protocol::schema::verdict::{self, ContractGate, verdict_id};
use protocol::schema::{ContractStatus, contract, customer, order};
use protocol::{DocId, DocKind, Role};

pub struct OrderPricing;

impl Validator for OrderPricing {
    fn name(&self) -> &'static str {
        "order-pricing"
    }

    fn targets(&self, c: &Changed, cx: &mut dyn ValidationCx) -> Result<Vec<DocId>, DbError> {
        let first_policy = c.kind == DocKind::Policy && cx.policy_versions()?.len() == c.entries("versions").count();
        let Some(recheck) = Recheck::after_change(c.kind, c.id, c.created, &c.fields, &c.new_entries, first_policy)
        else {
            return Ok(Vec::new());
        };
        let storage = cx.storage();
        Ok(match recheck {
            Recheck::Order(id) => vec![id],
            Recheck::OrdersOf(customer) => {
                let mut out = Vec::new();
                for row in storage.children_of(customer.as_bytes())? {
                    if row.kind == DocKind::Order.code() && storage.assignment(&row.id)?.is_none() {
                        out.extend(DocId::from_slice(&row.id));
                    }
                }
                out
            }
            Recheck::OrdersSince(since) => {
                storage.unassigned_orders_since(since)?.iter().filter_map(|raw| DocId::from_slice(raw)).collect()
            }
            Recheck::OrdersOfContract(cid) => {
                let orders = match cx.doc(cid)? {
                    Some((DocKind::Contract, doc)) => contract::read(doc, cid).map(|c| c.orders).unwrap_or_default(),
                    _ => Vec::new(),
                };
                let storage = cx.storage();
                let mut out = Vec::new();
                for o in orders {
                    if storage.assignment(o.as_bytes())?.is_none() {
                        out.push(o);
                    }
                }
                out
            }
        })
    }

    fn validate(&self, id: DocId, cx: &mut dyn ValidationCx) -> Result<(), DbError> {
        let now = cx.now();
        let order = match cx.doc(id)? {
            // Drafts are the rep's work in progress: not checked (nor decoded).
            Some((DocKind::Order, doc)) if !order::is_submitted_doc(doc) => return Ok(()),
            Some((DocKind::Order, doc)) => match order::read(doc, id) {
                Ok(o) => o,
                Err(e) => {
                    tracing::debug!(doc = %id, error = %e, "not an order that can be checked");
                    return Ok(());
                }
            },
            _ => return Ok(()),
        };
        // Its date as the server holds it (clamped to the window around its arrival): a new
        // policy version re-checks the orders it applies to by that date, not the stated one.
        cx.storage().record_order_check(id.as_bytes(), order.effective_created_at(), now)?;
        let versions = cx.policy_versions()?;
        if versions.is_empty() {
            return Ok(());
        }
        // An order whose customer the server does not hold gets no verdict and no effects
        // until it does (it would be priced with nothing the server knows).
        let customer = match order.customer {
            Some(c) => match cx.doc(c)? {
                Some((DocKind::Customer, doc)) => customer::read(doc, c).ok(),
                _ => return Ok(()),
            },
            None => return Ok(()),
        };
        // Whether it needs a signed contract (the approval policy), and which one covers it.
        let approval = match cx.doc(APPROVAL_POLICY_ID)? {
            Some((DocKind::ApprovalPolicy, doc)) => ApprovalPolicy::read(doc),
            _ => ApprovalPolicy::default(),
        };
        let key_account = customer.as_ref().is_some_and(|c| c.key_account);
        let may_need = approval.contract_above_fen.is_some() || (approval.contract_key_accounts && key_account);
        let covered = match (may_need, order.customer) {
            (true, Some(c)) => covering_contract(cx, c, id)?,
            _ => None,
        };
        // Whose discount authority prices it: the author the server recorded from the
        // session that created the order, never what the order says.
        let storage = cx.storage();
        let author = storage.doc(id.as_bytes())?.and_then(|row| row.author);
        let pricer = match &author {
            Some(a) => storage.user(a)?.and_then(|u| u.role.parse::<Role>().ok()).unwrap_or(Role::Rep),
            None => Role::Rep,
        };
        let mut assigned_at = storage.assignment(id.as_bytes())?.map(|a| a.assigned_at);
        let channel = customer.as_ref().and_then(|c| c.channel);
        let gate = |total| ContractGate::of(&approval, total, key_account, covered);
        let Some(mut checked) = order_check::check_gated(&order, channel, pricer, &versions, assigned_at, now, &gate)
        else {
            return Ok(());
        };
        if checked.confirmed && assigned_at.is_none() {
            let total = checked.verdict.priced.as_ref().and_then(|p| p.total_fen);
            let row = AssignmentRow {
                order_id: id.as_bytes().to_vec(),
                assigned_at: now,
                customer: order.customer.map(|c| c.as_bytes().to_vec()),
                // The recorded author, not what the order says (it may name no one).
                created_by: author.clone().unwrap_or_else(|| order.created_by.clone()),
                total_fen: total,
            };
            if storage.insert_assignment(&row)? {
                let name = customer.as_ref().map(|c| c.name.as_str());
                for department in ASSIGNED_TO {
                    let message = assigned_message(department, id, name, total);
                    storage.insert_notification(id.as_bytes(), department, ASSIGNED, now, &message)?;
                }
                tracing::info!(order = %id, "order confirmed: assigned to logistics and finance");
            }
            assigned_at = storage.assignment(id.as_bytes())?.map(|a| a.assigned_at);
            checked.verdict.assigned_at = assigned_at;
        }
        let vid = verdict_id(id);
        let previous = match cx.doc(vid)? {
            Some((DocKind::Verdict, doc)) => verdict::read(doc).ok(),
            _ => None,
        };
        if !order_check::differs(previous.as_ref(), &checked.verdict) {
            return Ok(());
        }
        let v = checked.verdict;
        tracing::debug!(order = %id, verdict = v.verdict, version = v.policy_version, stale = v.stale, "order checked");
        cx.server_edit(vid, DocKind::Verdict, "order checked against the price policy", &mut |doc| {
            verdict::write(doc, id, &v)
        })?;
        Ok(())
    }
}

/// A contract of `customer` that covers `order`: signed (the server recorded it), still in
/// force (signed or archived), listing the order.
fn covering_contract(cx: &mut dyn ValidationCx, customer: DocId, order: DocId) -> Result<Option<DocId>, DbError> {
    let mut signed = Vec::new();
    for row in cx.storage().children_of(customer.as_bytes())? {
        if row.kind == DocKind::Contract.code()
            && cx.storage().effect(&row.id, protocol::kinds::Effect::Signed.as_str(), "")?.is_some()
        {
            signed.extend(DocId::from_slice(&row.id));
        }
    }
    for cid in signed {
        if let Some((DocKind::Contract, doc)) = cx.doc(cid)?
            && let Ok(c) = contract::read(doc, cid)
        {
            let status = contract::fold(&c.events, &contract::content_hash(&c)).status;
            if c.orders.contains(&order) && matches!(status, ContractStatus::Signed | ContractStatus::Archived) {
                return Ok(Some(cid));
            }
        }
    }
    Ok(None)
}
