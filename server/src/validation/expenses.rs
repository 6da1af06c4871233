//! Expenses after sync: after any change to a budget or to a request, supplementary request
//! or claim charged on it, the budget is counted again ([`expense::usage`]) and its usage
//! document written for every device of the team (reps cannot read their colleagues'
//! claims, but they see what is left); every claim on it gets a verdict against the budget
//! in force — within budget, needs a supplementary approval, or invalid — in a document of
//! its own, never by rewriting the claim. A receipt whose file another claim claimed first
//! is flagged (the first claim of each file is recorded once, as an effect). A reimbursed
//! claim's content is locked ([`Effect::Reimbursed`]).
//!
//! One write rule lives beside it ([`over_budget_refusal`], asked by the hub before a push
//! is stored): an approval of an expense request that asks for more than its item and
//! month have left, and the reimbursement of a claim over what is left, are refused until a
//! supplementary request covering the excess is approved by the executive — the spend is
//! authorised before it happens, not flagged after.

use super::{Changed, ValidationCx, Validator};
use crate::storage::{DbError, Storage};
use crate::sync::doc_state::DocState;
use automerge::AutoCommit;
use protocol::kinds::Effect;
use protocol::schema::expense::required_roles as required;
use protocol::schema::expense::{
    self, APPROVAL_POLICY_ID, ApprovalPolicy, CHARGE_KINDS, Charge, Expense, ExpenseLifecycle,
};
use protocol::schema::{ExpenseStatus, record};
use protocol::wire::{Hash, Refusal};
use protocol::{DocId, DocKind, ErrorCode};

pub struct Expenses;

/// The effect recording which claim claimed a receipt's file first (subject: the file's hash).
pub const RECEIPT_CLAIMED: &str = "receipt-claimed";

impl Validator for Expenses {
    fn name(&self) -> &'static str {
        "expenses"
    }

    fn targets(&self, c: &Changed, cx: &mut dyn ValidationCx) -> Result<Vec<DocId>, DbError> {
        if c.kind == DocKind::ExpenseBudget {
            return Ok(vec![c.id]);
        }
        if !CHARGE_KINDS.contains(&c.kind) {
            return Ok(Vec::new());
        }
        Ok(match cx.doc(c.id)? {
            Some((kind, doc)) => record::parent_of(doc, kind).into_iter().collect(),
            None => Vec::new(),
        })
    }

    fn validate(&self, budget_id: DocId, cx: &mut dyn ValidationCx) -> Result<(), DbError> {
        let now = cx.now();
        let policy = match cx.doc(APPROVAL_POLICY_ID)? {
            Some((DocKind::ApprovalPolicy, doc)) => ApprovalPolicy::read(doc),
            _ => ApprovalPolicy::default(),
        };
        let budget = match cx.doc(budget_id)? {
            Some((DocKind::ExpenseBudget, doc)) => expense::read_budget(doc, budget_id).ok(),
            _ => None,
        };
        let mut folded: Vec<(Expense, ExpenseLifecycle)> = Vec::new();
        for row in cx.storage().children_of(budget_id.as_bytes())? {
            let (Some(id), Some(kind)) = (DocId::from_slice(&row.id), DocKind::from_code(row.kind)) else { continue };
            if !CHARGE_KINDS.contains(&kind) {
                continue;
            }
            let Some((_, doc)) = cx.doc(id)? else { continue };
            let Ok(x) = expense::read_expense(doc, id, kind) else { continue };
            let life = expense::fold(&x, &required(&policy, &x));
            folded.push((x, life));
        }
        let charges: Vec<Charge> = folded.iter().filter_map(|(x, l)| Charge::of(x, l)).collect();
        if let Some(b) = &budget {
            let usage = expense::usage(b, &charges);
            let uid = expense::usage_id(budget_id);
            let previous = match cx.doc(uid)? {
                Some((DocKind::BudgetUsage, doc)) => expense::read_usage(doc),
                _ => None,
            };
            if previous.as_ref() != Some(&usage) {
                cx.server_edit(uid, DocKind::BudgetUsage, "budget counted", &mut |doc| {
                    expense::write_usage(doc, budget_id, &usage)
                })?;
            }
        }
        for (x, life) in folded.iter().filter(|(x, _)| x.kind == DocKind::ExpenseClaim) {
            let storage = cx.storage();
            if life.status == ExpenseStatus::Reimbursed {
                storage.insert_effect(x.id.as_bytes(), Effect::Reimbursed.as_str(), "", now, "{}")?;
            }
            let counts = !matches!(life.status, ExpenseStatus::Draft | ExpenseStatus::Cancelled);
            let mut duplicates = Vec::new();
            for r in &x.receipts {
                let Some(hash) = protocol::blob::parse_hex(&r.hash) else { continue };
                let mine = x.id.to_string();
                if counts {
                    // Keyed by the receipt's hash: the first claim to count it is recorded.
                    storage.insert_effect(&hash, RECEIPT_CLAIMED, "", now, &mine)?;
                }
                if let Some(first) = storage.effect(&hash, RECEIPT_CLAIMED, "")?
                    && first.data != mine
                {
                    duplicates.push((r.id.clone(), first.data));
                }
            }
            let verdict = expense::check_claim(x, life, budget.as_ref(), &charges, duplicates);
            let vid = expense::claim_verdict_id(x.id);
            let previous = match cx.doc(vid)? {
                Some((DocKind::ClaimVerdict, doc)) => expense::read_verdict(doc).ok(),
                _ => None,
            };
            if previous.as_ref() != Some(&verdict) {
                let claim = x.id;
                cx.server_edit(vid, DocKind::ClaimVerdict, "claim checked against the budget", &mut |doc| {
                    expense::write_verdict(doc, claim, &verdict, now)
                })?;
            }
        }
        Ok(())
    }
}

/// The refusal of a push to expense document `id` of `kind` (`after`: with the push
/// applied) that spends beyond the budget, counted over every other charge on its budget as
/// the server stores them — within the open transaction, so what this batch stored counts:
/// an approval of a request asking for more than its item and month have left
/// ([`expense::check_request_approval`]), or a claim's reimbursement while its verdict is
/// `needs_supplement` ([`expense::check_reimbursement`]). The caller asks only when the push
/// adds such an entry ([`guarded_entry`]).
pub fn over_budget_refusal(
    db: &dyn Storage,
    id: DocId,
    kind: DocKind,
    after: &AutoCommit,
    server_heads: &[Hash],
) -> Result<Option<Refusal>, DbError> {
    let Ok(x) = expense::read_expense(after, id, kind) else { return Ok(None) };
    let Some(budget_id) = x.budget else { return Ok(None) };
    let load = |doc: DocId| -> Result<Option<DocState>, DbError> {
        match db.load_doc(doc.as_bytes())? {
            Some(stored) => Ok(Some(DocState::load(stored)?.1)),
            None => Ok(None),
        }
    };
    let policy = match load(APPROVAL_POLICY_ID)? {
        Some(s) if s.kind == DocKind::ApprovalPolicy => ApprovalPolicy::read(&s.doc),
        _ => ApprovalPolicy::default(),
    };
    let budget = match load(budget_id)? {
        Some(s) if s.kind == DocKind::ExpenseBudget => expense::read_budget(&s.doc, budget_id).ok(),
        _ => None,
    };
    let mut charges = Vec::new();
    for row in db.children_of(budget_id.as_bytes())? {
        let (Some(cid), Some(k)) = (DocId::from_slice(&row.id), DocKind::from_code(row.kind)) else { continue };
        if cid == id || !CHARGE_KINDS.contains(&k) {
            continue;
        }
        let Some(state) = load(cid)? else { continue };
        let Ok(c) = expense::read_expense(&state.doc, cid, k) else { continue };
        charges.extend(Charge::of(&c, &expense::fold(&c, &required(&policy, &c))));
    }
    let (over, rule, message): (_, _, fn(&expense::OverBudget) -> String) = match kind {
        DocKind::ExpenseRequest => (
            expense::check_request_approval(&x, budget.as_ref(), &charges).err(),
            expense::NEEDS_SUPPLEMENT,
            expense::OverBudget::message,
        ),
        DocKind::ExpenseClaim => (
            expense::check_reimbursement(&x, &expense::fold(&x, &required(&policy, &x)), budget.as_ref(), &charges)
                .err(),
            expense::CLAIM_NEEDS_SUPPLEMENT,
            expense::OverBudget::reimbursement_message,
        ),
        _ => (None, "", expense::OverBudget::message),
    };
    Ok(over.map(|over| Refusal {
        id,
        kind,
        code: ErrorCode::Forbidden,
        path: "events".into(),
        rule: rule.into(),
        message: message(&over),
        server_heads: server_heads.to_vec(),
    }))
}

/// The log entry whose arrival [`over_budget_refusal`] guards, per kind: an approval of a
/// request, a claim's reimbursement.
pub fn guarded_entry(kind: DocKind) -> Option<&'static str> {
    match kind {
        DocKind::ExpenseRequest => Some("approved"),
        DocKind::ExpenseClaim => Some("reimbursed"),
        _ => None,
    }
}
