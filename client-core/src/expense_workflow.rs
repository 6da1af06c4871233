//! Expenses on the device: budgets and their versions, requests, supplementary requests
//! and claims with receipts, each step of their approval and of finance's check, and what
//! is left of the budget — offline, with the same folds and arithmetic the server uses
//! ([`protocol::schema::expense`]). What is left comes from the server's count of the
//! team's budget (a rep does not hold their colleagues' claims), or from the documents held
//! here when the server has not counted yet.

use crate::error::CoreError;
use crate::replica::Replica;
use protocol::blob::BlobRef;
use protocol::kinds::{Entry, Scalar, Value};
use protocol::schema::expense::{
    self, APPROVAL_POLICY_ID, ApprovalPolicy, Budget, Cell, Charge, ClaimVerdict, Expense, ExpenseEvent,
    ExpenseLifecycle, Usage,
};
use protocol::schema::order::format_fen;
use protocol::schema::{ExpenseEventKind as E, ExpenseItem, ExpenseStatus};
use protocol::{DocId, DocKind, Role};
use serde::Serialize;
use std::collections::BTreeMap;

/// A budget with what is left of it.
#[derive(Clone, Debug, Serialize)]
pub struct BudgetView {
    #[serde(flatten)]
    pub budget: Budget,
    pub usage: Usage,
    /// `server`: the server's count; `local`: counted from the documents held here.
    pub counted_by: &'static str,
    /// Per item, the year's totals.
    pub items: Vec<Cell>,
}

/// An expense request, supplement or claim with its status and what the budget says.
#[derive(Clone, Debug, Serialize)]
pub struct ExpenseView {
    #[serde(flatten)]
    pub expense: Expense,
    pub lifecycle: ExpenseLifecycle,
    /// What the item and month have left in the budget in force (before this one counts).
    pub remaining_fen: Option<i64>,
    /// It is more than what is left: it needs an approved supplementary request (a
    /// request's approval is refused until one covers the excess).
    pub over_budget: bool,
    /// What a supplementary request must add for it to fit, when over budget.
    pub excess_fen: Option<i64>,
    /// The server's verdict on a claim (against the budget in force), if checked.
    pub verdict: Option<ClaimVerdict>,
    pub verdict_current: bool,
}

impl Replica {
    /// When an expense needs whose approval and when an order needs a contract.
    pub fn approval_policy(&self) -> ApprovalPolicy {
        self.doc_ref(APPROVAL_POLICY_ID, DocKind::ApprovalPolicy).map(ApprovalPolicy::read).unwrap_or_default()
    }

    pub fn budget(&self, id: DocId) -> Result<Budget, CoreError> {
        Ok(expense::read_budget(self.doc_ref(id, DocKind::ExpenseBudget)?, id)?)
    }

    /// Every budget held, by team then year.
    pub fn budgets(&self) -> Vec<Budget> {
        let mut all: Vec<Budget> =
            self.records(DocKind::ExpenseBudget).iter().filter_map(|r| self.budget(r.id).ok()).collect();
        all.sort_by(|a, b| (&a.team, a.year, a.id).cmp(&(&b.team, b.year, b.id)));
        all
    }

    /// The budget of this user's team for `year` (the newest one if several).
    pub fn budget_for(&self, year: i32) -> Option<Budget> {
        let mine = self.principal().map(|p| p.territories.clone()).unwrap_or_default();
        self.budgets()
            .into_iter()
            .filter(|b| b.year == year && (mine.is_empty() || mine.contains(&b.team)))
            .max_by_key(|b| b.in_force)
    }

    pub fn create_budget(&mut self, team: &str, year: i32, title: &str, now: i64) -> Result<DocId, CoreError> {
        let y = year.to_string();
        self.create(DocKind::ExpenseBudget, &[("team", team), ("year", &y), ("title", title)], now)
    }

    /// Add (or, for the same item and month, replace) a line of the draft.
    pub fn set_budget_line(
        &mut self,
        id: DocId,
        item: ExpenseItem,
        month: u32,
        amount_fen: i64,
        now: i64,
    ) -> Result<(), CoreError> {
        self.budget(id)?;
        let values = [
            ("id", Value::Str(format!("{}-{month}", item.as_str()))),
            ("item", Value::Str(item.as_str().into())),
            ("month", Value::Int(i64::from(month))),
            ("amount_fen", Value::Int(amount_fen)),
        ];
        let checked = protocol::schema::record::check_record(DocKind::ExpenseBudget, "items", &values)?;
        let key = format!("{}-{month}", item.as_str());
        let exists = self.budget(id)?.draft.iter().any(|l| l.item == item && l.month == month);
        self.edit_checked(id, DocKind::ExpenseBudget, now, &["items"], |doc| {
            if exists {
                let amount = checked.iter().filter(|(f, _)| f.name == "amount_fen").cloned().collect::<Vec<_>>();
                protocol::schema::record::set_record_values(doc, DocKind::ExpenseBudget, "items", &key, &amount)
            } else {
                protocol::schema::record::add_record_values(doc, DocKind::ExpenseBudget, "items", &checked)
            }
        })
    }

    /// Submit the draft as the next version for the executive's approval.
    pub fn submit_budget(&mut self, id: DocId, now: i64) -> Result<u32, CoreError> {
        let b = self.budget(id)?;
        let version = b.versions.iter().map(|v| v.version).max().unwrap_or(0) + 1;
        let body = expense::encode_lines(&b.draft);
        let mut values = BTreeMap::new();
        values.insert("kind".to_string(), Scalar::Str("submitted".into()));
        values.insert("version".to_string(), Scalar::Int(i64::from(version)));
        values.insert("hash".to_string(), Scalar::Str(expense::lines_hash(&body)));
        values.insert("body".to_string(), Scalar::Bytes(body));
        self.version_entry(id, values, now)?;
        Ok(version)
    }

    /// Approve or reject a submitted version.
    pub fn decide_budget(
        &mut self,
        id: DocId,
        version: u32,
        approve: bool,
        comment: &str,
        now: i64,
    ) -> Result<(), CoreError> {
        let b = self.budget(id)?;
        let v = b.version(version).ok_or_else(|| CoreError::Unknown(format!("version {version}")))?;
        let mut values = BTreeMap::new();
        values.insert("kind".to_string(), Scalar::Str(if approve { "approved" } else { "rejected" }.into()));
        values.insert("version".to_string(), Scalar::Int(i64::from(version)));
        values.insert("hash".to_string(), Scalar::Str(v.hash.clone()));
        values.insert("role".to_string(), Scalar::Str(self.my_role().as_str().into()));
        if !comment.is_empty() {
            values.insert("comment".to_string(), Scalar::Str(comment.into()));
        }
        self.version_entry(id, values, now)
    }

    fn version_entry(&mut self, id: DocId, mut values: BTreeMap<String, Scalar>, now: i64) -> Result<(), CoreError> {
        values.insert("at".to_string(), Scalar::Time(now));
        values.insert("by".to_string(), Scalar::Str(self.user().to_string()));
        let entry = Entry { id: String::new(), values: values.clone() };
        self.append_entry(id, "versions", entry, now, move |doc| {
            protocol::schema::record::push_log_entry(doc, "versions", &values)
        })
    }

    fn my_role(&self) -> Role {
        self.principal().map(|p| p.role).unwrap_or(Role::Rep)
    }

    /// Budgets with a version waiting for this user's decision (the executive's).
    pub fn budgets_awaiting(&self) -> Vec<Budget> {
        let role = self.my_role();
        if !matches!(role, Role::Executive | Role::Admin) {
            return Vec::new();
        }
        self.budgets().into_iter().filter(|b| b.versions.iter().any(|v| v.status == "submitted")).collect()
    }

    /// The charges on a budget held here (a rep's: their own only).
    fn charges_of(&self, budget: DocId) -> Vec<(Expense, ExpenseLifecycle)> {
        let policy = self.approval_policy();
        expense::CHARGE_KINDS
            .iter()
            .flat_map(|k| self.records(*k))
            .filter(|r| r.str("budget") == Some(budget.to_string().as_str()))
            .filter_map(|r| self.expense(r.id).ok())
            .map(|x| {
                let life = expense::fold(&x, &required(&policy, &x));
                (x, life)
            })
            .collect()
    }

    pub fn budget_view(&self, id: DocId) -> Result<BudgetView, CoreError> {
        let budget = self.budget(id)?;
        let server = self
            .doc_ref(expense::usage_id(id), DocKind::BudgetUsage)
            .ok()
            .and_then(expense::read_usage)
            .filter(|u| u.version == budget.in_force);
        let (usage, counted_by) = match server {
            Some(u) => (u, "server"),
            None => {
                let charges: Vec<Charge> = self.charges_of(id).iter().filter_map(|(x, l)| Charge::of(x, l)).collect();
                (expense::usage(&budget, &charges), "local")
            }
        };
        let items = ExpenseItem::ALL
            .iter()
            .map(|i| usage.item_total(*i))
            .filter(|c| c.budget_fen != 0 || c.committed_fen != 0 || c.spent_fen != 0 || c.supplement_fen != 0)
            .collect();
        Ok(BudgetView { budget, usage, counted_by, items })
    }

    /// What `item` has left in `month` of the budget (`None`: no budget in force).
    pub fn remaining(&self, budget: DocId, item: ExpenseItem, month: u32) -> Option<i64> {
        let v = self.budget_view(budget).ok()?;
        v.budget.in_force?;
        Some(v.usage.cell(item, month).map_or(0, Cell::remaining_fen))
    }

    /// A request, supplement or claim.
    pub fn expense(&self, id: DocId) -> Result<Expense, CoreError> {
        let kind = self.kind_of(id).ok_or_else(|| CoreError::Unknown(id.to_string()))?;
        if !expense::CHARGE_KINDS.contains(&kind) {
            return Err(CoreError::WrongKind { id, expected: DocKind::ExpenseClaim, found: kind });
        }
        Ok(expense::read_expense(self.doc_ref(id, kind)?, id, kind)?)
    }

    pub fn claim_verdict(&self, claim: DocId) -> Option<ClaimVerdict> {
        self.doc_ref(expense::claim_verdict_id(claim), DocKind::ClaimVerdict)
            .ok()
            .and_then(|d| expense::read_verdict(d).ok())
    }

    pub fn expense_view(&self, id: DocId) -> Result<ExpenseView, CoreError> {
        let x = self.expense(id)?;
        let lifecycle = expense::fold(&x, &required(&self.approval_policy(), &x));
        let month = x.charged().map(|(_, m)| m);
        let mut remaining_fen = match (x.budget, x.item, month) {
            (Some(b), Some(item), Some(m)) => self.remaining(b, item, m),
            _ => None,
        };
        // What this one already takes from the count (approved or spent) is not "before it".
        let counted = matches!(lifecycle.status, ExpenseStatus::Approved | ExpenseStatus::Reimbursed);
        let mut over_budget = x.kind != DocKind::ExpenseSupplement
            && remaining_fen.is_some_and(|r| if counted { r < 0 } else { x.amount_fen > r });
        // A request is held to what the server will hold its approval to.
        if let Some(h) = self.request_headroom(&x) {
            remaining_fen = Some(h);
            over_budget = x.amount_fen > h;
        }
        let excess_fen = over_budget.then(|| x.amount_fen - remaining_fen.unwrap_or(0).max(0));
        let verdict = if x.kind == DocKind::ExpenseClaim { self.claim_verdict(id) } else { None };
        let verdict_current = verdict.as_ref().is_some_and(|v| v.content_hash == x.content_hash());
        Ok(ExpenseView { expense: x, lifecycle, remaining_fen, over_budget, excess_fen, verdict, verdict_current })
    }

    /// Every request, supplement and claim held, newest first (`kind`: one kind only).
    pub fn expenses(&self, kind: Option<DocKind>) -> Vec<ExpenseView> {
        let mut all: Vec<ExpenseView> = expense::CHARGE_KINDS
            .iter()
            .filter(|k| kind.is_none_or(|want| want == **k))
            .flat_map(|k| self.records(*k))
            .filter_map(|r| self.expense_view(r.id).ok())
            .collect();
        all.sort_by(|a, b| b.expense.created_at.cmp(&a.expense.created_at).then(a.expense.id.cmp(&b.expense.id)));
        all
    }

    /// A request before spending.
    #[allow(clippy::too_many_arguments)]
    pub fn create_request(
        &mut self,
        budget: DocId,
        item: ExpenseItem,
        amount_fen: i64,
        purpose: &str,
        date: &str,
        customer: Option<DocId>,
        now: i64,
    ) -> Result<DocId, CoreError> {
        let (b, amount, c) = (budget.to_string(), format_fen(amount_fen), customer.map(|c| c.to_string()));
        let mut inputs = vec![
            ("budget", b.as_str()),
            ("item", item.as_str()),
            ("amount_fen", &amount),
            ("purpose", purpose),
            ("date", date),
        ];
        if let Some(c) = &c {
            inputs.push(("customer", c));
        }
        self.create(DocKind::ExpenseRequest, &inputs, now)
    }

    /// A supplementary request: more budget for an item and month.
    #[allow(clippy::too_many_arguments)]
    pub fn create_supplement(
        &mut self,
        budget: DocId,
        item: ExpenseItem,
        month: u32,
        amount_fen: i64,
        reason: &str,
        request: Option<DocId>,
        now: i64,
    ) -> Result<DocId, CoreError> {
        let (b, m, amount, r) =
            (budget.to_string(), month.to_string(), format_fen(amount_fen), request.map(|r| r.to_string()));
        let mut inputs = vec![
            ("budget", b.as_str()),
            ("item", item.as_str()),
            ("month", &m),
            ("amount_fen", &amount),
            ("reason", reason),
        ];
        if let Some(r) = &r {
            inputs.push(("request", r));
        }
        self.create(DocKind::ExpenseSupplement, &inputs, now)
    }

    /// A claim after spending (receipts are added with [`Self::add_receipt`]).
    pub fn create_claim(
        &mut self,
        budget: DocId,
        item: ExpenseItem,
        purpose: &str,
        date: &str,
        request: Option<DocId>,
        now: i64,
    ) -> Result<DocId, CoreError> {
        let (b, r) = (budget.to_string(), request.map(|r| r.to_string()));
        let mut inputs = vec![("budget", b.as_str()), ("item", item.as_str()), ("purpose", purpose), ("date", date)];
        if let Some(r) = &r {
            inputs.push(("request", r));
        }
        self.create(DocKind::ExpenseClaim, &inputs, now)
    }

    /// Add a receipt to a claim: the file (stored here, uploaded on the next sync) and what
    /// it claims.
    pub fn add_receipt(
        &mut self,
        claim: DocId,
        bytes: Vec<u8>,
        name: &str,
        amount_fen: i64,
        invoice_no: Option<&str>,
        now: i64,
    ) -> Result<BlobRef, CoreError> {
        self.doc_ref(claim, DocKind::ExpenseClaim)?;
        if !self.may_write(claim, "receipts") {
            return Err(CoreError::NotAllowed {
                field: "receipts".into(),
                rule: "frozen".into(),
                message: "this claim can no longer change".into(),
            });
        }
        let r = BlobRef::of(&bytes, name, u64::MAX).map_err(|e| CoreError::NotAllowed {
            field: "attachment".into(),
            rule: "blob-type".into(),
            message: e.to_string(),
        })?;
        let mut values = vec![
            ("id", Value::Str(DocId::new_random().to_string()[..8].to_string())),
            ("hash", Value::Str(r.hash.clone())),
            ("name", Value::Str(r.name.clone())),
            ("mime", Value::Str(r.mime.clone())),
            ("size", Value::Int(r.size)),
            ("amount_fen", Value::Int(amount_fen)),
        ];
        if let Some(n) = invoice_no.filter(|n| !n.is_empty()) {
            values.push(("invoice_no", Value::Str(n.into())));
        }
        let checked = protocol::schema::record::check_record(DocKind::ExpenseClaim, "receipts", &values)?;
        let r = self.add_blob(bytes, name, now)?;
        self.edit_checked(claim, DocKind::ExpenseClaim, now, &["receipts"], |doc| {
            protocol::schema::record::add_record_values(doc, DocKind::ExpenseClaim, "receipts", &checked)
        })?;
        Ok(r)
    }

    fn expense_step(&mut self, id: DocId, e: ExpenseEvent, now: i64) -> Result<(), CoreError> {
        let kind = self.kind_of(id).ok_or_else(|| CoreError::Unknown(id.to_string()))?;
        let entry = expense::entry_of(&e);
        let values = entry.values.clone();
        self.doc_ref(id, kind)?;
        self.append_entry(id, "events", entry, now, move |doc| {
            protocol::schema::record::push_log_entry(doc, "events", &values)
        })
    }

    fn expense_event(&self, kind: E, now: i64) -> ExpenseEvent {
        ExpenseEvent { kind: kind.as_str().into(), at: now, by: self.user().to_string(), ..Default::default() }
    }

    /// Submit, cancel or (finance) return for correction.
    pub fn expense_simple(&mut self, id: DocId, kind: E, comment: &str, now: i64) -> Result<(), CoreError> {
        let e = ExpenseEvent {
            comment: Some(comment.to_string()).filter(|c| !c.is_empty()),
            ..self.expense_event(kind, now)
        };
        self.expense_step(id, e, now)
    }

    /// What an expense request's item and month have left before it counts, as the server
    /// will count it when it is approved ([`expense::check_request_approval`]): the budget's
    /// count (the server's when current, else the documents held here) without this
    /// request's own share. `None` for other kinds, or a request without item or date.
    pub fn request_headroom(&self, x: &Expense) -> Option<i64> {
        if x.kind != DocKind::ExpenseRequest {
            return None;
        }
        let (year, month) = x.charged()?;
        let item = x.item?;
        let v = self.budget_view(x.budget?).ok()?;
        if v.budget.year != year {
            return Some(0);
        }
        let life = expense::fold(x, &required(&self.approval_policy(), x));
        let own = if life.status == ExpenseStatus::Approved { x.amount_fen } else { 0 };
        Some(v.usage.cell(item, month).map_or(0, Cell::remaining_fen).saturating_add(own))
    }

    /// Approve or reject the content as it is now, in this user's role. An expense request
    /// over what its budget has left is not approved: a supplementary request covering the
    /// excess must be approved by the executive first (the server refuses it too).
    pub fn decide_expense(&mut self, id: DocId, approve: bool, comment: &str, now: i64) -> Result<(), CoreError> {
        let x = self.expense(id)?;
        if approve
            && let Some(remaining_fen) = self.request_headroom(&x)
            && x.amount_fen > remaining_fen
        {
            let over = expense::OverBudget { remaining_fen, amount_fen: x.amount_fen };
            return Err(CoreError::NotAllowed {
                field: "events".into(),
                rule: expense::NEEDS_SUPPLEMENT.into(),
                message: over.message(),
            });
        }
        let e = ExpenseEvent {
            role: Some(self.my_role().as_str().into()),
            hash: Some(x.content_hash()),
            comment: Some(comment.to_string()).filter(|c| !c.is_empty()),
            ..self.expense_event(if approve { E::Approved } else { E::Rejected }, now)
        };
        self.expense_step(id, e, now)
    }

    /// Finance's check of one receipt (its id, or 1-based number): what is sanctioned —
    /// at most what it claims — and, when less, why.
    pub fn check_receipt(
        &mut self,
        claim: DocId,
        receipt: &str,
        sanctioned_fen: i64,
        reason: &str,
        now: i64,
    ) -> Result<(), CoreError> {
        let x = self.expense(claim)?;
        let r = receipt
            .parse::<usize>()
            .ok()
            .and_then(|n| n.checked_sub(1))
            .and_then(|i| x.receipts.get(i))
            .or_else(|| x.receipts.iter().find(|r| r.id == receipt))
            .ok_or_else(|| CoreError::Unknown(receipt.to_string()))?;
        let bad = |message: String| CoreError::NotAllowed {
            field: "events".into(),
            rule: "event-sanctioned".into(),
            message,
        };
        if !(0..=r.amount_fen).contains(&sanctioned_fen) {
            return Err(bad(format!(
                "the sanctioned amount ¥{} may not be above what the receipt claims (¥{})",
                format_fen(sanctioned_fen),
                format_fen(r.amount_fen)
            )));
        }
        if sanctioned_fen < r.amount_fen && reason.trim().is_empty() {
            return Err(bad("sanctioning less than the receipt claims needs a reason".into()));
        }
        let e = ExpenseEvent {
            receipt: Some(r.id.clone()),
            sanctioned_fen: Some(sanctioned_fen),
            comment: Some(reason.to_string()).filter(|c| !c.trim().is_empty()),
            ..self.expense_event(E::Checked, now)
        };
        self.expense_step(claim, e, now)
    }

    /// Reimburse a claim whose every receipt finance checked — not while what it pays is
    /// over what its budget has left, counted over the charges held here as the server
    /// will count them ([`expense::check_reimbursement`]; the server refuses it too).
    pub fn reimburse(&mut self, claim: DocId, now: i64) -> Result<(), CoreError> {
        let v = self.expense_view(claim)?;
        if !v.lifecycle.all_checked(&v.expense.receipts) || v.lifecycle.status != ExpenseStatus::Approved {
            return Err(CoreError::NotAllowed {
                field: "events".into(),
                rule: "event-invalid".into(),
                message: "only an approved claim whose every receipt is checked can be reimbursed".into(),
            });
        }
        if let Some(budget_id) = v.expense.budget
            && let Ok(budget) = self.budget(budget_id)
        {
            let charges: Vec<Charge> =
                self.charges_of(budget_id).iter().filter_map(|(x, l)| Charge::of(x, l)).collect();
            if let Err(over) = expense::check_reimbursement(&v.expense, &v.lifecycle, Some(&budget), &charges) {
                return Err(CoreError::NotAllowed {
                    field: "events".into(),
                    rule: expense::CLAIM_NEEDS_SUPPLEMENT.into(),
                    message: over.reimbursement_message(),
                });
            }
        }
        let e = ExpenseEvent { hash: Some(v.expense.content_hash()), ..self.expense_event(E::Reimbursed, now) };
        self.expense_step(claim, e, now)
    }

    /// The claim is reimbursed and the server received it: its content is locked.
    pub fn claim_reimbursed(&self, id: DocId) -> bool {
        self.expense(id).is_ok_and(|x| {
            let life = expense::fold(&x, &required(&self.approval_policy(), &x));
            life.status == ExpenseStatus::Reimbursed
                && x.events.iter().any(|e| e.kind == E::Reimbursed.as_str() && e.received.is_some())
        })
    }

    /// Requests, supplements and claims waiting for an approval this user's role gives.
    pub fn expense_approvals(&self) -> Vec<ExpenseView> {
        let role = self.my_role();
        let me = self.user().to_string();
        self.expenses(None)
            .into_iter()
            .filter(|v| v.lifecycle.status == ExpenseStatus::Submitted && v.expense.created_by != me)
            .filter(|v| v.lifecycle.missing.iter().any(|r| expense::covers(role, *r)))
            .collect()
    }

    /// Claims approved and waiting for finance's check and reimbursement.
    pub fn reimbursement_queue(&self) -> Vec<ExpenseView> {
        self.expenses(Some(DocKind::ExpenseClaim))
            .into_iter()
            .filter(|v| v.lifecycle.status == ExpenseStatus::Approved)
            .collect()
    }
}

use protocol::schema::expense::required_roles as required;
