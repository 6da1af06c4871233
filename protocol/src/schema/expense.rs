//! 销售费用: budgets per team and year (monthly split per item), expense requests before
//! spending, supplementary requests for what the budget lacks, and claims with receipts
//! after spending — each status folded from its own event log, and the budget arithmetic
//! every device and the server compute alike.
//!
//! * A **budget** (销售费用预算) is drafted by the team's manager (its `items`), and each
//!   submission appends a *version* — the lines as they were, with their hash — that the
//!   executive approves or rejects. An approved version is read-only by construction (a
//!   log entry); a revision is the next version. The version in force is the highest
//!   approved one.
//! * **Consumption**: an approved request commits its amount; an approved claim commits
//!   what its request did not; a reimbursed claim is spent (what finance sanctioned) and
//!   releases its request. `remaining = budget + approved supplements − committed − spent`,
//!   per item and month ([`usage`]).
//! * **Approval levels** by amount ([`ApprovalPolicy::required`]): a manager above one
//!   threshold, the executive above another (the executive's approval covers a manager's).

use super::access::{R, check_kind, get_bytes, get_int, get_parsed, get_str, json_time, list_items};
use super::enums::{ExpenseEventKind as E, ExpenseItem, ExpenseStatus as S};
use crate::ids::{DocId, DocKind};
use crate::kinds::{Entry, LogCheck, Scalar};
use crate::role::Role;
use automerge::{AutoCommit, ROOT};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};

// ---- the approval policy ----------------------------------------------------------

/// The fixed id of the one approval-policy document.
pub const APPROVAL_POLICY_ID: DocId = DocId(uuid::Uuid::from_u128(0x6a69_756c_6f6f_4000_8000_6170_7072_6f76));

/// When an approval or a contract is required (审批规则), set by the executive.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ApprovalPolicy {
    /// Expenses above this need a manager's approval (0: every expense).
    pub manager_above_fen: i64,
    /// Expenses above this need the executive's approval.
    pub executive_above_fen: i64,
    /// Orders above this total need a signed contract (`None`: not by amount).
    pub contract_above_fen: Option<i64>,
    /// Orders of key accounts always need a signed contract.
    pub contract_key_accounts: bool,
}

impl Default for ApprovalPolicy {
    fn default() -> Self {
        ApprovalPolicy {
            manager_above_fen: 0,
            executive_above_fen: 500_000,
            contract_above_fen: None,
            contract_key_accounts: false,
        }
    }
}

impl ApprovalPolicy {
    /// The document's settings (defaults for what it leaves empty).
    pub fn read(doc: &AutoCommit) -> Self {
        let d = ApprovalPolicy::default();
        ApprovalPolicy {
            manager_above_fen: get_int(doc, &ROOT, "manager_above").unwrap_or(d.manager_above_fen),
            executive_above_fen: get_int(doc, &ROOT, "executive_above").unwrap_or(d.executive_above_fen),
            contract_above_fen: get_int(doc, &ROOT, "contract_above"),
            contract_key_accounts: matches!(
                super::access::get_scalar(doc, &ROOT, "contract_key_accounts"),
                Some(Scalar::Bool(true))
            ),
        }
    }

    /// The roles whose approval an expense of `amount_fen` needs.
    pub fn required(&self, amount_fen: i64) -> Vec<Role> {
        let mut roles = Vec::new();
        if amount_fen > self.manager_above_fen {
            roles.push(Role::Manager);
        }
        if amount_fen > self.executive_above_fen {
            roles.push(Role::Executive);
        }
        roles
    }

    /// Does an order of `total_fen` (of a key account or not) need a signed contract?
    pub fn needs_contract(&self, total_fen: i64, key_account: bool) -> bool {
        (self.contract_key_accounts && key_account) || self.contract_above_fen.is_some_and(|t| total_fen > t)
    }
}

/// The approvals an expense document needs: a supplementary request the executive's; a
/// request or claim by its amount.
pub fn required_roles(policy: &ApprovalPolicy, x: &Expense) -> Vec<Role> {
    match x.kind {
        DocKind::ExpenseSupplement => vec![Role::Executive],
        _ => policy.required(x.amount_fen),
    }
}

/// Does an approval in `approver`'s role satisfy a requirement for `required`? The
/// executive's covers a manager's.
pub fn covers(approver: Role, required: Role) -> bool {
    approver == required || (approver == Role::Executive && required == Role::Manager) || approver == Role::Admin
}

// ---- budgets ------------------------------------------------------------------------

/// One line of a budget: an item's amount in a month.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BudgetLine {
    pub item: ExpenseItem,
    /// 1 to 12.
    pub month: u32,
    pub amount_fen: i64,
}

/// A submitted version of a budget.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BudgetVersion {
    pub version: u32,
    pub lines: Vec<BudgetLine>,
    pub hash: String,
    pub submitted_by: String,
    #[serde(with = "json_time")]
    pub submitted_at: i64,
    /// `submitted`, `approved` or `rejected`.
    pub status: String,
    pub decided_by: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Budget {
    pub id: DocId,
    pub team: String,
    pub year: i32,
    pub title: String,
    /// The draft the manager edits (the next version).
    pub draft: Vec<BudgetLine>,
    pub versions: Vec<BudgetVersion>,
    /// The highest approved version: what is in force.
    pub in_force: Option<u32>,
    pub created_by: String,
}

impl Budget {
    pub fn version(&self, n: u32) -> Option<&BudgetVersion> {
        self.versions.iter().find(|v| v.version == n)
    }

    pub fn lines_in_force(&self) -> &[BudgetLine] {
        self.in_force.and_then(|n| self.version(n)).map_or(&[], |v| v.lines.as_slice())
    }
}

/// The encoded lines a version carries (postcard; what its hash covers).
pub fn encode_lines(lines: &[BudgetLine]) -> Vec<u8> {
    let raw: Vec<(&str, u32, i64)> = lines.iter().map(|l| (l.item.as_str(), l.month, l.amount_fen)).collect();
    postcard::to_stdvec(&raw).expect("budget lines encode")
}

pub fn decode_lines(bytes: &[u8]) -> Option<Vec<BudgetLine>> {
    let raw: Vec<(String, u32, i64)> = postcard::from_bytes(bytes).ok()?;
    raw.into_iter()
        .map(|(item, month, amount_fen)| {
            let item = item.parse().ok()?;
            ((1..=12).contains(&month) && (0..=MAX_FEN).contains(&amount_fen)).then_some(BudgetLine {
                item,
                month,
                amount_fen,
            })
        })
        .collect()
}

/// Largest amount one budget line or expense may carry.
pub const MAX_FEN: i64 = 10_000_000_000;

pub fn lines_hash(body: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(b"jiuloop/budget-version/v1\n");
    h.update(body);
    crate::blob::hex(&h.finalize().into())
}

fn read_lines(doc: &AutoCommit, key: &str) -> Vec<BudgetLine> {
    list_items(doc, &ROOT, key)
        .iter()
        .filter_map(|l| {
            Some(BudgetLine {
                item: get_parsed(doc, l, "item")?,
                month: u32::try_from(get_int(doc, l, "month")?).ok()?,
                amount_fen: get_int(doc, l, "amount_fen").unwrap_or(0),
            })
        })
        .collect()
}

pub fn read_budget(doc: &AutoCommit, id: DocId) -> R<Budget> {
    check_kind(doc, DocKind::ExpenseBudget.as_str())?;
    let entries = super::record::log_entries(doc, "versions");
    let receipts = super::read_receipts(doc);
    let sorted = crate::kinds::arrival_order(&entries, |e| receipts.get(&e.id).copied(), |e| e.int("at").unwrap_or(0));
    let mut versions: Vec<BudgetVersion> = Vec::new();
    for e in sorted {
        let version = e.int("version").and_then(|v| u32::try_from(v).ok()).unwrap_or(0);
        match e.str("kind") {
            Some("submitted") => {
                let Some(lines) = e.bytes("body").and_then(decode_lines) else { continue };
                if versions.iter().any(|v| v.version == version) {
                    continue;
                }
                versions.push(BudgetVersion {
                    version,
                    lines,
                    hash: e.str("hash").unwrap_or_default().to_string(),
                    submitted_by: e.str("by").unwrap_or_default().to_string(),
                    submitted_at: e.int("at").unwrap_or(0),
                    status: "submitted".into(),
                    decided_by: None,
                });
            }
            Some(k @ ("approved" | "rejected")) => {
                if let Some(v) = versions
                    .iter_mut()
                    .find(|v| v.version == version && v.status == "submitted" && Some(v.hash.as_str()) == e.str("hash"))
                {
                    v.status = k.to_string();
                    v.decided_by = e.str("by").map(String::from);
                }
            }
            _ => {}
        }
    }
    versions.sort_by_key(|v| v.version);
    let in_force = versions.iter().filter(|v| v.status == "approved").map(|v| v.version).max();
    Ok(Budget {
        id,
        team: get_str(doc, &ROOT, "team"),
        year: get_int(doc, &ROOT, "year").and_then(|y| i32::try_from(y).ok()).unwrap_or(0),
        title: get_str(doc, &ROOT, "title"),
        draft: read_lines(doc, "items"),
        versions,
        in_force,
        created_by: get_str(doc, &ROOT, "created_by"),
    })
}

/// The budget log's own check: a submission is the next version with a body that decodes
/// and the hash of that body; a decision names a version still waiting, by its hash.
pub fn check_budget_entry(c: &LogCheck<'_>) -> Result<(), String> {
    let version = c.entry.int("version").unwrap_or(0);
    let earlier: Vec<&Entry> = c.earlier().collect();
    let submitted = |e: &&&Entry| e.str("kind") == Some("submitted");
    match c.entry.str("kind").unwrap_or_default() {
        "submitted" => {
            let highest = earlier.iter().filter(submitted).filter_map(|e| e.int("version")).max().unwrap_or(0);
            if version != highest + 1 {
                return Err(format!("the next version is {}, not {version}", highest + 1));
            }
            let Some(body) = c.entry.bytes("body") else { return Err("a version carries its lines".into()) };
            if decode_lines(body).is_none() {
                return Err("the version's lines do not decode".into());
            }
            if c.entry.str("hash") != Some(lines_hash(body).as_str()) {
                return Err("the version's hash is not the hash of its lines".into());
            }
            Ok(())
        }
        _ => {
            let waiting = earlier
                .iter()
                .filter(submitted)
                .any(|e| e.int("version") == Some(version) && e.str("hash") == c.entry.str("hash"));
            let decided =
                earlier.iter().any(|e| e.str("kind") != Some("submitted") && e.int("version") == Some(version));
            if !waiting || decided {
                return Err(format!("version {version} is not waiting for a decision with that hash"));
            }
            Ok(())
        }
    }
}

// ---- requests, supplements, claims --------------------------------------------------

/// One entry of an expense document's log.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ExpenseEvent {
    pub id: String,
    pub kind: String,
    #[serde(with = "json_time")]
    pub at: i64,
    pub by: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
    /// A finance check: the receipt (its record id), what is sanctioned and why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receipt: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sanctioned_fen: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", with = "super::access::json_time_opt")]
    pub received: Option<i64>,
}

pub fn event_of(e: &Entry) -> ExpenseEvent {
    let s = |k: &str| e.str(k).map(String::from);
    ExpenseEvent {
        id: e.id.clone(),
        kind: e.str("kind").unwrap_or_default().to_string(),
        at: e.int("at").unwrap_or(0),
        by: e.str("by").unwrap_or_default().to_string(),
        role: s("role"),
        hash: s("hash"),
        receipt: s("receipt"),
        sanctioned_fen: e.int("sanctioned_fen"),
        comment: s("comment"),
        received: None,
    }
}

pub fn entry_of(e: &ExpenseEvent) -> Entry {
    let mut values = BTreeMap::new();
    values.insert("kind".to_string(), Scalar::Str(e.kind.clone()));
    values.insert("at".to_string(), Scalar::Time(e.at));
    values.insert("by".to_string(), Scalar::Str(e.by.clone()));
    for (k, v) in [("role", &e.role), ("hash", &e.hash), ("receipt", &e.receipt), ("comment", &e.comment)] {
        if let Some(v) = v {
            values.insert(k.to_string(), Scalar::Str(v.clone()));
        }
    }
    if let Some(f) = e.sanctioned_fen {
        values.insert("sanctioned_fen".to_string(), Scalar::Int(f));
    }
    Entry { id: String::new(), values }
}

/// A receipt of a claim (an invoice photo or PDF, with what it claims).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Receipt {
    pub id: String,
    pub hash: String,
    pub name: String,
    pub mime: String,
    pub size: i64,
    pub amount_fen: i64,
    pub invoice_no: Option<String>,
}

/// An expense request, supplementary request or claim, as read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Expense {
    pub id: DocId,
    pub kind: DocKind,
    pub budget: Option<DocId>,
    pub item: Option<ExpenseItem>,
    /// A request's or supplement's amount; a claim's sum of receipts.
    pub amount_fen: i64,
    /// `YYYY-MM-DD` (requests and claims), or `YYYY-MM` built from a supplement's month.
    pub date: Option<String>,
    pub month: Option<u32>,
    pub purpose: String,
    pub request: Option<DocId>,
    pub contract: Option<DocId>,
    pub customer: Option<DocId>,
    pub receipts: Vec<Receipt>,
    pub events: Vec<ExpenseEvent>,
    pub created_by: String,
    #[serde(with = "json_time")]
    pub created_at: i64,
}

impl Expense {
    /// What approvals bind to (the content the approver saw).
    pub fn content_hash(&self) -> String {
        let mut receipts: Vec<String> =
            self.receipts.iter().map(|r| format!("{}|{}|{}", r.hash, r.amount_fen, r.id)).collect();
        receipts.sort();
        let parts = [
            self.kind.as_str().to_string(),
            self.budget.map(|b| b.to_string()).unwrap_or_default(),
            self.item.map(|i| i.as_str().to_string()).unwrap_or_default(),
            self.amount_fen.to_string(),
            self.date.clone().unwrap_or_default(),
            self.month.map(|m| m.to_string()).unwrap_or_default(),
            self.purpose.clone(),
            self.request.map(|r| r.to_string()).unwrap_or_default(),
            receipts.join("\n"),
        ];
        let mut h = Sha256::new();
        h.update(b"jiuloop/expense-content/v1\n");
        for p in parts {
            h.update((p.len() as u64).to_le_bytes());
            h.update(p.as_bytes());
        }
        crate::blob::hex(&h.finalize().into())
    }

    /// The month charged (1–12) and its year, from the date (a supplement names its month).
    pub fn charged(&self) -> Option<(i32, u32)> {
        if let Some(m) = self.month {
            return Some((0, m));
        }
        let d = self.date.as_deref()?;
        let year = d.get(0..4)?.parse().ok()?;
        let month = d.get(5..7)?.parse().ok()?;
        Some((year, month))
    }
}

pub fn read_expense(doc: &AutoCommit, id: DocId, kind: DocKind) -> R<Expense> {
    check_kind(doc, kind.as_str())?;
    let receipts: Vec<Receipt> = list_items(doc, &ROOT, "receipts")
        .iter()
        .map(|r| Receipt {
            id: get_str(doc, r, "id"),
            hash: get_str(doc, r, "hash"),
            name: get_str(doc, r, "name"),
            mime: get_str(doc, r, "mime"),
            size: get_int(doc, r, "size").unwrap_or(0),
            amount_fen: get_int(doc, r, "amount_fen").unwrap_or(0),
            invoice_no: super::access::get_opt_str(doc, r, "invoice_no"),
        })
        .collect();
    let amount_fen = match kind {
        DocKind::ExpenseClaim => receipts.iter().fold(0i64, |t, r| t.saturating_add(r.amount_fen)),
        _ => get_int(doc, &ROOT, "amount_fen").unwrap_or(0),
    };
    let stamps = super::read_receipts(doc);
    let events = super::record::log_entries(doc, "events")
        .iter()
        .map(|e| ExpenseEvent { received: stamps.get(&e.id).copied(), ..event_of(e) })
        .collect();
    Ok(Expense {
        id,
        kind,
        budget: get_parsed(doc, &ROOT, "budget"),
        item: get_parsed(doc, &ROOT, "item"),
        amount_fen,
        date: super::access::get_opt_str(doc, &ROOT, "date"),
        month: get_int(doc, &ROOT, "month").and_then(|m| u32::try_from(m).ok()),
        purpose: [get_str(doc, &ROOT, "purpose"), get_str(doc, &ROOT, "reason")].concat(),
        request: get_parsed(doc, &ROOT, "request"),
        contract: get_parsed(doc, &ROOT, "contract"),
        customer: get_parsed(doc, &ROOT, "customer"),
        receipts,
        events,
        created_by: get_str(doc, &ROOT, "created_by"),
        created_at: get_int(doc, &ROOT, "created_at").unwrap_or(0),
    })
}

/// Finance's latest check of one receipt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReceiptCheck {
    pub receipt: String,
    pub sanctioned_fen: i64,
    pub reason: Option<String>,
    pub by: String,
    #[serde(with = "json_time")]
    pub at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ExpenseLifecycle {
    pub status: S,
    /// The roles the amount needs, and those still missing.
    pub required: Vec<Role>,
    pub missing: Vec<Role>,
    pub checks: Vec<ReceiptCheck>,
    /// What was reimbursed (the sanctioned total).
    pub reimbursed_fen: Option<i64>,
    /// When the server received the first submission (orders charges on a budget).
    pub submitted_at: Option<i64>,
    /// Notes on entries that did not apply (`#3: sanctioned above claimed` …).
    pub notes: Vec<String>,
}

impl ExpenseLifecycle {
    /// Every receipt has a check.
    pub fn all_checked(&self, receipts: &[Receipt]) -> bool {
        receipts.iter().all(|r| self.checks.iter().any(|c| c.receipt == r.id))
    }

    pub fn sanctioned_fen(&self) -> i64 {
        self.checks.iter().map(|c| c.sanctioned_fen).sum()
    }
}

/// Fold an expense document's log. `required`: the approvals its amount needs.
pub fn fold(x: &Expense, required: &[Role]) -> ExpenseLifecycle {
    let hash = x.content_hash();
    let sorted = crate::kinds::arrival_order(&x.events, |e| e.received, |e| e.at);
    let current = |e: &ExpenseEvent| e.hash.as_deref() == Some(hash.as_str());
    let role_of = |e: &ExpenseEvent| e.role.as_deref().and_then(|r| r.parse::<Role>().ok());
    let mut status = S::Draft;
    let mut approvals: Vec<Role> = Vec::new();
    let mut checks: Vec<ReceiptCheck> = Vec::new();
    let mut reimbursed_fen = None;
    let mut submitted_at = None;
    let mut notes = Vec::new();
    let missing_of = |approvals: &[Role]| -> Vec<Role> {
        required.iter().copied().filter(|r| !approvals.iter().any(|a| covers(*a, *r))).collect()
    };
    for (n, e) in sorted.into_iter().enumerate() {
        let kind: Option<E> = e.kind.parse().ok();
        let mut applied = true;
        match kind {
            Some(E::Submitted) if matches!(status, S::Draft | S::Returned | S::Rejected) => {
                status = S::Submitted;
                submitted_at = submitted_at.or(e.received).or(Some(e.at));
            }
            Some(E::Approved) if status == S::Submitted && current(e) => {
                approvals.extend(role_of(e));
            }
            Some(E::Rejected) if status == S::Submitted && current(e) => {
                status = S::Rejected;
                approvals.clear();
            }
            Some(E::Cancelled) if matches!(status, S::Draft | S::Submitted | S::Approved | S::Returned) => {
                status = S::Cancelled;
            }
            Some(E::Checked) if status == S::Approved => {
                let receipt = x.receipts.iter().find(|r| Some(&r.id) == e.receipt.as_ref());
                match (receipt, e.sanctioned_fen) {
                    (Some(r), Some(s))
                        if (0..=r.amount_fen).contains(&s) && (s == r.amount_fen || e.comment.is_some()) =>
                    {
                        checks.retain(|c| c.receipt != r.id);
                        checks.push(ReceiptCheck {
                            receipt: r.id.clone(),
                            sanctioned_fen: s,
                            reason: e.comment.clone(),
                            by: e.by.clone(),
                            at: e.at,
                        });
                    }
                    _ => {
                        applied = false;
                        notes.push(format!(
                            "#{}: sanctioned above claimed, without a reason, or no such receipt",
                            n + 1
                        ));
                    }
                }
            }
            Some(E::Returned) if status == S::Approved => {
                status = S::Returned;
                approvals.clear();
                checks.clear();
            }
            Some(E::Reimbursed)
                if status == S::Approved
                    && current(e)
                    && x.receipts.iter().all(|r| checks.iter().any(|c| c.receipt == r.id)) =>
            {
                status = S::Reimbursed;
                reimbursed_fen = Some(checks.iter().map(|c| c.sanctioned_fen).sum());
            }
            _ => applied = false,
        }
        // Every required approval given (or none required): approved.
        if status == S::Submitted && missing_of(&approvals).is_empty() {
            status = S::Approved;
        }
        if !applied && !matches!(kind, Some(E::Checked)) {
            notes.push(format!("#{}: {} not applied ({})", n + 1, e.kind, status.as_str()));
        }
    }
    let missing = if status == S::Submitted { missing_of(&approvals) } else { Vec::new() };
    ExpenseLifecycle { status, required: required.to_vec(), missing, checks, reimbursed_fen, submitted_at, notes }
}

// ---- budget arithmetic --------------------------------------------------------------

/// One expense document as the arithmetic sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Charge {
    pub id: DocId,
    pub kind: DocKind,
    pub item: ExpenseItem,
    pub year: i32,
    pub month: u32,
    pub amount_fen: i64,
    pub status: S,
    pub reimbursed_fen: Option<i64>,
    pub request: Option<DocId>,
    /// When the server received its submission (then its id): the order charges count in.
    pub order: (i64, DocId),
}

impl Charge {
    /// The charge of a folded expense document (`None`: no item or month yet).
    pub fn of(x: &Expense, life: &ExpenseLifecycle) -> Option<Self> {
        let (year, month) = x.charged()?;
        Some(Charge {
            id: x.id,
            kind: x.kind,
            item: x.item?,
            year,
            month,
            amount_fen: x.amount_fen,
            status: life.status,
            reimbursed_fen: life.reimbursed_fen,
            request: x.request,
            order: (life.submitted_at.unwrap_or(i64::MAX), x.id),
        })
    }
}

/// One item in one month.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cell {
    pub item: String,
    pub month: u32,
    pub budget_fen: i64,
    pub supplement_fen: i64,
    pub committed_fen: i64,
    pub spent_fen: i64,
}

impl Cell {
    pub fn available_fen(&self) -> i64 {
        self.budget_fen.saturating_add(self.supplement_fen)
    }

    pub fn remaining_fen(&self) -> i64 {
        self.available_fen().saturating_sub(self.committed_fen).saturating_sub(self.spent_fen)
    }
}

/// A budget's consumption: per item and month, in item then month order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub version: Option<u32>,
    pub cells: Vec<Cell>,
}

impl Usage {
    pub fn cell(&self, item: ExpenseItem, month: u32) -> Option<&Cell> {
        self.cells.iter().find(|c| c.item == item.as_str() && c.month == month)
    }

    /// The item's cells summed over the year.
    pub fn item_total(&self, item: ExpenseItem) -> Cell {
        let mut t = Cell { item: item.as_str().into(), month: 0, ..Default::default() };
        for c in self.cells.iter().filter(|c| c.item == item.as_str()) {
            t.budget_fen += c.budget_fen;
            t.supplement_fen += c.supplement_fen;
            t.committed_fen += c.committed_fen;
            t.spent_fen += c.spent_fen;
        }
        t
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        postcard::to_stdvec(self).expect("usage encodes")
    }

    pub fn from_bytes(b: &[u8]) -> Option<Self> {
        postcard::from_bytes(b).ok()
    }
}

/// What one charge takes from its cell: (committed, spent). Counted: approved requests not
/// consumed by a reimbursed claim; approved claims beyond their approved request; reimbursed
/// claims (sanctioned, spent). Supplements add to the budget, not here.
fn contribution(c: &Charge, all: &[Charge]) -> (i64, i64) {
    let approved_request = |id: Option<DocId>| {
        id.and_then(|r| all.iter().find(|x| x.id == r && x.kind == DocKind::ExpenseRequest && x.status == S::Approved))
    };
    match (c.kind, c.status) {
        (DocKind::ExpenseRequest, S::Approved) => {
            let consumed = all
                .iter()
                .any(|x| x.kind == DocKind::ExpenseClaim && x.request == Some(c.id) && x.status == S::Reimbursed);
            if consumed { (0, 0) } else { (c.amount_fen, 0) }
        }
        (DocKind::ExpenseClaim, S::Approved) => match approved_request(c.request) {
            Some(r) => ((c.amount_fen - r.amount_fen).max(0), 0),
            None => (c.amount_fen, 0),
        },
        (DocKind::ExpenseClaim, S::Reimbursed) => (0, c.reimbursed_fen.unwrap_or(0)),
        _ => (0, 0),
    }
}

/// The consumption of `budget` by its expense documents.
pub fn usage(budget: &Budget, charges: &[Charge]) -> Usage {
    let mut cells: BTreeMap<(String, u32), Cell> = BTreeMap::new();
    fn cell(cells: &mut BTreeMap<(String, u32), Cell>, item: ExpenseItem, month: u32) -> &mut Cell {
        cells.entry((item.as_str().to_string(), month)).or_insert_with(|| Cell {
            item: item.as_str().into(),
            month,
            ..Default::default()
        })
    }
    for l in budget.lines_in_force() {
        cell(&mut cells, l.item, l.month).budget_fen += l.amount_fen;
    }
    for c in charges.iter().filter(|c| counts(budget, c)) {
        if c.kind == DocKind::ExpenseSupplement {
            if c.status == S::Approved {
                cell(&mut cells, c.item, c.month).supplement_fen += c.amount_fen;
            }
            continue;
        }
        let (committed, spent) = contribution(c, charges);
        if committed != 0 || spent != 0 {
            let x = cell(&mut cells, c.item, c.month);
            x.committed_fen += committed;
            x.spent_fen += spent;
        }
    }
    let mut cells: Vec<Cell> = cells.into_values().collect();
    cells.sort_by_key(|c| (ExpenseItem::NAMES.iter().position(|n| *n == c.item), c.month));
    Usage { version: budget.in_force, cells }
}

/// Does the charge fall into the budget's year (supplements name only a month)?
fn counts(budget: &Budget, c: &Charge) -> bool {
    (1..=12).contains(&c.month) && (c.year == budget.year || c.kind == DocKind::ExpenseSupplement)
}

/// An expense request asks for more than its item and month have left: its approval waits
/// for a supplementary request (费用追加申请) the executive approves first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OverBudget {
    /// What the item and month have left before this request counts (budget in force plus
    /// approved supplements, less what every other charge commits or spends).
    pub remaining_fen: i64,
    pub amount_fen: i64,
}

impl OverBudget {
    /// What a supplement must add for the request to fit.
    pub fn excess_fen(&self) -> i64 {
        self.amount_fen.saturating_sub(self.remaining_fen.max(0))
    }

    pub fn message(&self) -> String {
        self.text("the request asks for")
    }

    /// The same, for a claim's reimbursement (`amount_fen`: what it would pay).
    pub fn reimbursement_message(&self) -> String {
        self.text("the claim would pay")
    }

    fn text(&self, what: &str) -> String {
        format!(
            "{what} ¥{} but its item and month have ¥{} left: a supplementary request of at least ¥{} must be approved by the executive first",
            super::order::format_fen(self.amount_fen),
            super::order::format_fen(self.remaining_fen),
            super::order::format_fen(self.excess_fen())
        )
    }
}

/// The rule name of the refusal of an over-budget request's approval.
pub const NEEDS_SUPPLEMENT: &str = "needs-supplement";

/// The rule name of the refusal of an over-budget claim's reimbursement.
pub const CLAIM_NEEDS_SUPPLEMENT: &str = "claim-needs-supplement";

/// What `request`'s item and month have left before it counts: `usage` of `budget` by every
/// charge but the request itself (`None`: the request names no item or date yet). A request
/// dated outside the budget's year has nothing left.
pub fn headroom(request: &Expense, budget: Option<&Budget>, charges: &[Charge]) -> Option<i64> {
    let (year, month) = request.charged()?;
    let item = request.item?;
    let Some(b) = budget.filter(|b| b.year == year) else { return Some(0) };
    let others: Vec<Charge> = charges.iter().filter(|c| c.id != request.id).cloned().collect();
    Some(usage(b, &others).cell(item, month).map_or(0, Cell::remaining_fen))
}

/// May `request` be approved now? Not when it asks for more than [`headroom`] — the server
/// refuses such an approval, and honest devices do not write it.
pub fn check_request_approval(
    request: &Expense,
    budget: Option<&Budget>,
    charges: &[Charge],
) -> Result<(), OverBudget> {
    if request.kind != DocKind::ExpenseRequest {
        return Ok(());
    }
    let remaining_fen = headroom(request, budget, charges).unwrap_or(0);
    if request.amount_fen > remaining_fen {
        return Err(OverBudget { remaining_fen, amount_fen: request.amount_fen });
    }
    Ok(())
}

/// The server's verdict on a claim against the budget in force.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ClaimVerdict {
    /// `within_budget`, `needs_supplement` or `invalid`.
    pub verdict: String,
    pub reasons: Vec<String>,
    /// Receipts whose file was claimed before (receipt id → the earlier claim).
    pub duplicates: Vec<(String, String)>,
    pub budget_version: Option<u32>,
    /// What the item and month had left before this claim, and the claim's amount.
    pub available_fen: i64,
    pub amount_fen: i64,
    pub content_hash: String,
}

/// Check `claim` (with its fold) against `budget` and the budget's other charges.
/// `duplicates`: receipts whose hash another claim claimed first.
pub fn check_claim(
    claim: &Expense,
    life: &ExpenseLifecycle,
    budget: Option<&Budget>,
    charges: &[Charge],
    duplicates: Vec<(String, String)>,
) -> ClaimVerdict {
    let mut reasons = Vec::new();
    let mut verdict = "within_budget";
    let mut available = 0;
    let invalid = |r: &mut Vec<String>, why: &str| r.push(why.to_string());
    match budget {
        None => invalid(&mut reasons, "no-budget"),
        Some(b) if b.in_force.is_none() => invalid(&mut reasons, "budget-not-approved"),
        _ => {}
    }
    if claim.receipts.is_empty() {
        invalid(&mut reasons, "no-receipts");
    }
    if claim.receipts.iter().any(|r| r.amount_fen <= 0 || crate::blob::parse_hex(&r.hash).is_none()) {
        invalid(&mut reasons, "bad-receipt");
    }
    if !life.notes.iter().all(|n| !n.contains("sanctioned")) {
        invalid(&mut reasons, "sanctioned-above-claimed");
    }
    let charge = Charge::of(claim, life);
    if let (Some(b), Some(c)) = (budget, &charge)
        && c.year != b.year
    {
        invalid(&mut reasons, "outside-budget-year");
    }
    if charge.is_none() {
        invalid(&mut reasons, "no-item-or-date");
    }
    if let Some(r) = claim.request {
        match charges.iter().find(|x| x.id == r && x.kind == DocKind::ExpenseRequest) {
            Some(x) if x.status == S::Approved && Some(x.item) == claim.item => {}
            _ => invalid(&mut reasons, "request-not-approved"),
        }
    }
    if !reasons.is_empty() {
        verdict = "invalid";
    } else if let (Some(b), Some(c)) = (budget, &charge) {
        let before: Vec<&Charge> = charges
            .iter()
            .filter(|x| x.id != c.id && Some(x.id) != c.request && x.order < c.order)
            .filter(|x| x.item == c.item && x.month == c.month && counts(b, x))
            .collect();
        let budgeted: i64 =
            b.lines_in_force().iter().filter(|l| l.item == c.item && l.month == c.month).map(|l| l.amount_fen).sum();
        let supplements: i64 = charges
            .iter()
            .filter(|x| x.kind == DocKind::ExpenseSupplement && x.status == S::Approved)
            .filter(|x| x.item == c.item && x.month == c.month)
            .map(|x| x.amount_fen)
            .sum();
        let used: i64 = before
            .iter()
            .filter(|x| x.kind != DocKind::ExpenseSupplement)
            .map(|x| {
                let (committed, spent) = contribution(x, charges);
                committed + spent
            })
            .sum();
        available = budgeted + supplements - used;
        let demand = life.reimbursed_fen.unwrap_or(claim.amount_fen);
        if demand > available {
            verdict = "needs_supplement";
            reasons.push("over-budget".into());
        }
    }
    if !duplicates.is_empty() {
        reasons.push("receipt-claimed-before".into());
    }
    ClaimVerdict {
        verdict: verdict.into(),
        reasons,
        duplicates,
        budget_version: budget.and_then(|b| b.in_force),
        available_fen: available,
        amount_fen: claim.amount_fen,
        content_hash: claim.content_hash(),
    }
}

/// May `claim` be paid what finance sanctioned (`life`: its fold, before or with the
/// reimbursement; `charges`: the budget's, with or without the claim — [`check_claim`]
/// never counts a claim against itself)? Not while [`check_claim`] says
/// `needs_supplement`: a claim over what its item and month have left is paid only after a
/// supplementary request covering the excess is approved — the server refuses such a
/// reimbursement, honest devices do not write it.
pub fn check_reimbursement(
    claim: &Expense,
    life: &ExpenseLifecycle,
    budget: Option<&Budget>,
    charges: &[Charge],
) -> Result<(), OverBudget> {
    let paying = ExpenseLifecycle { reimbursed_fen: Some(life.sanctioned_fen()), ..life.clone() };
    let v = check_claim(claim, &paying, budget, charges, Vec::new());
    if v.verdict != "needs_supplement" {
        return Ok(());
    }
    Err(OverBudget { remaining_fen: v.available_fen, amount_fen: life.sanctioned_fen() })
}

/// The id of a budget's usage document, and of a claim's verdict (each its own inverse).
pub fn usage_id(budget: DocId) -> DocId {
    derive(budget, b"jiuloop-usage!!!")
}

pub fn claim_verdict_id(claim: DocId) -> DocId {
    derive(claim, b"jiuloop-claimvrd")
}

fn derive(id: DocId, salt: &[u8; 16]) -> DocId {
    let mut b = *id.as_bytes();
    for (i, x) in salt.iter().enumerate() {
        b[i] ^= x;
    }
    DocId(uuid::Uuid::from_bytes(b))
}

/// Write a claim's verdict document (the server only).
pub fn write_verdict(doc: &mut AutoCommit, claim: DocId, v: &ClaimVerdict, now: i64) -> R<()> {
    use super::access::{put_int, put_str, put_time};
    put_str(doc, &ROOT, super::KIND_KEY, DocKind::ClaimVerdict.as_str())?;
    put_str(doc, &ROOT, "claim", &claim.to_string())?;
    put_str(doc, &ROOT, "verdict", &v.verdict)?;
    put_str(doc, &ROOT, "reasons", &v.reasons.join(","))?;
    let dups: Vec<String> = v.duplicates.iter().map(|(r, c)| format!("{r}:{c}")).collect();
    put_str(doc, &ROOT, "duplicates", &dups.join(","))?;
    put_int(doc, &ROOT, "budget_version", i64::from(v.budget_version.unwrap_or(0)))?;
    put_int(doc, &ROOT, "available_fen", v.available_fen)?;
    put_int(doc, &ROOT, "amount_fen", v.amount_fen)?;
    put_str(doc, &ROOT, "content_hash", &v.content_hash)?;
    put_time(doc, &ROOT, "checked_at", now)
}

pub fn read_verdict(doc: &AutoCommit) -> R<ClaimVerdict> {
    check_kind(doc, DocKind::ClaimVerdict.as_str())?;
    let list = |k: &str| -> Vec<String> {
        get_str(doc, &ROOT, k).split(',').filter(|s| !s.is_empty()).map(String::from).collect()
    };
    Ok(ClaimVerdict {
        verdict: get_str(doc, &ROOT, "verdict"),
        reasons: list("reasons"),
        duplicates: list("duplicates")
            .into_iter()
            .filter_map(|d| d.split_once(':').map(|(r, c)| (r.to_string(), c.to_string())))
            .collect(),
        budget_version: get_int(doc, &ROOT, "budget_version").and_then(|v| u32::try_from(v).ok()).filter(|v| *v > 0),
        available_fen: get_int(doc, &ROOT, "available_fen").unwrap_or(0),
        amount_fen: get_int(doc, &ROOT, "amount_fen").unwrap_or(0),
        content_hash: get_str(doc, &ROOT, "content_hash"),
    })
}

/// Write a budget's usage document (the server only).
pub fn write_usage(doc: &mut AutoCommit, budget: DocId, u: &Usage) -> R<()> {
    use super::access::{put_bytes, put_int, put_str};
    put_str(doc, &ROOT, super::KIND_KEY, DocKind::BudgetUsage.as_str())?;
    put_str(doc, &ROOT, "budget", &budget.to_string())?;
    put_int(doc, &ROOT, "version", i64::from(u.version.unwrap_or(0)))?;
    put_bytes(doc, &ROOT, "usage", &u.to_bytes())
}

pub fn read_usage(doc: &AutoCommit) -> Option<Usage> {
    check_kind(doc, DocKind::BudgetUsage.as_str()).ok()?;
    get_bytes(doc, &ROOT, "usage").and_then(|b| Usage::from_bytes(&b))
}

/// The kinds whose documents charge a budget.
pub const CHARGE_KINDS: [DocKind; 3] = [DocKind::ExpenseRequest, DocKind::ExpenseSupplement, DocKind::ExpenseClaim];

/// The set of receipt hashes of a claim.
pub fn receipt_hashes(x: &Expense) -> BTreeSet<String> {
    x.receipts.iter().map(|r| r.hash.clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ExpenseItem::*;

    fn id(n: u128) -> DocId {
        DocId(uuid::Uuid::from_u128(n))
    }

    type Lines<'a> = &'a [(ExpenseItem, u32, i64)];

    fn budget(versions: &[(u32, &str, Lines<'_>)]) -> Budget {
        let versions = versions
            .iter()
            .map(|(v, status, lines)| BudgetVersion {
                version: *v,
                lines: lines
                    .iter()
                    .map(|(item, month, f)| BudgetLine { item: *item, month: *month, amount_fen: *f })
                    .collect(),
                hash: String::new(),
                submitted_by: "m".into(),
                submitted_at: 0,
                status: status.to_string(),
                decided_by: None,
            })
            .collect::<Vec<_>>();
        let in_force = versions.iter().filter(|v| v.status == "approved").map(|v| v.version).max();
        Budget {
            id: id(1),
            team: "贵州".into(),
            year: 2026,
            title: String::new(),
            draft: vec![],
            versions,
            in_force,
            created_by: "m".into(),
        }
    }

    fn charge(n: u128, kind: DocKind, item: ExpenseItem, month: u32, fen: i64, status: S) -> Charge {
        Charge {
            id: id(n),
            kind,
            item,
            year: 2026,
            month,
            amount_fen: fen,
            status,
            reimbursed_fen: None,
            request: None,
            order: (n as i64, id(n)),
        }
    }

    const REQ: DocKind = DocKind::ExpenseRequest;
    const CLAIM: DocKind = DocKind::ExpenseClaim;
    const SUPP: DocKind = DocKind::ExpenseSupplement;

    #[test]
    fn budget_arithmetic() {
        let v1: &[(ExpenseItem, u32, i64)] = &[(Travel, 3, 100_000), (Travel, 4, 50_000), (Entertainment, 3, 80_000)];
        let v2: &[(ExpenseItem, u32, i64)] = &[(Travel, 3, 150_000), (Entertainment, 3, 80_000)];
        let reimbursed = |n, fen, sanctioned, request| Charge {
            reimbursed_fen: Some(sanctioned),
            request,
            ..charge(n, CLAIM, Travel, 3, fen, S::Reimbursed)
        };
        // (name, budget versions, charges, item, month) → (budget, supplement, committed, spent, remaining)
        type Case = (&'static str, Budget, Vec<Charge>, ExpenseItem, u32, (i64, i64, i64, i64, i64));
        let cases: Vec<Case> = vec![
            ("nothing spent", budget(&[(1, "approved", v1)]), vec![], Travel, 3, (100_000, 0, 0, 0, 100_000)),
            ("monthly split", budget(&[(1, "approved", v1)]), vec![], Travel, 4, (50_000, 0, 0, 0, 50_000)),
            ("not approved yet: no budget", budget(&[(1, "submitted", v1)]), vec![], Travel, 3, (0, 0, 0, 0, 0)),
            (
                "an approved request commits",
                budget(&[(1, "approved", v1)]),
                vec![charge(10, REQ, Travel, 3, 30_000, S::Approved)],
                Travel,
                3,
                (100_000, 0, 30_000, 0, 70_000),
            ),
            (
                "a submitted request does not",
                budget(&[(1, "approved", v1)]),
                vec![charge(10, REQ, Travel, 3, 30_000, S::Submitted)],
                Travel,
                3,
                (100_000, 0, 0, 0, 100_000),
            ),
            (
                "reimbursement spends the sanctioned amount and releases the request",
                budget(&[(1, "approved", v1)]),
                vec![charge(10, REQ, Travel, 3, 30_000, S::Approved), reimbursed(11, 28_000, 25_000, Some(id(10)))],
                Travel,
                3,
                (100_000, 0, 0, 25_000, 75_000),
            ),
            (
                "an approved claim beyond its request commits the difference",
                budget(&[(1, "approved", v1)]),
                vec![
                    charge(10, REQ, Travel, 3, 30_000, S::Approved),
                    Charge { request: Some(id(10)), ..charge(11, CLAIM, Travel, 3, 36_000, S::Approved) },
                ],
                Travel,
                3,
                (100_000, 0, 36_000, 0, 64_000),
            ),
            (
                "a claim without request commits at approval",
                budget(&[(1, "approved", v1)]),
                vec![
                    charge(11, CLAIM, Travel, 3, 12_000, S::Approved),
                    charge(12, CLAIM, Travel, 4, 9_000, S::Approved),
                ],
                Travel,
                3,
                (100_000, 0, 12_000, 0, 88_000),
            ),
            (
                "an approved supplement adds to the budget",
                budget(&[(1, "approved", v1)]),
                vec![
                    charge(20, SUPP, Travel, 3, 40_000, S::Approved),
                    charge(21, SUPP, Travel, 3, 99_000, S::Submitted),
                ],
                Travel,
                3,
                (100_000, 40_000, 0, 0, 140_000),
            ),
            (
                "a revision replaces the amounts",
                budget(&[(1, "approved", v1), (2, "approved", v2)]),
                vec![charge(10, REQ, Travel, 3, 30_000, S::Approved)],
                Travel,
                3,
                (150_000, 0, 30_000, 0, 120_000),
            ),
            (
                "a revision not approved yet leaves the old one in force",
                budget(&[(1, "approved", v1), (2, "submitted", v2)]),
                vec![],
                Travel,
                4,
                (50_000, 0, 0, 0, 50_000),
            ),
            (
                "other items and rejected or cancelled ones do not count",
                budget(&[(1, "approved", v1)]),
                vec![
                    charge(10, REQ, Entertainment, 3, 30_000, S::Approved),
                    charge(11, REQ, Travel, 3, 1, S::Rejected),
                    charge(12, REQ, Travel, 3, 2, S::Cancelled),
                ],
                Travel,
                3,
                (100_000, 0, 0, 0, 100_000),
            ),
        ];
        for (name, b, charges, item, month, want) in cases {
            let u = usage(&b, &charges);
            let c = u.cell(item, month).cloned().unwrap_or_default();
            let got = (c.budget_fen, c.supplement_fen, c.committed_fen, c.spent_fen, c.remaining_fen());
            assert_eq!(got, want, "{name}: {u:?}");
        }
        let u = usage(&budget(&[(1, "approved", v1)]), &[]);
        assert_eq!(u.item_total(Travel).budget_fen, 150_000);
        assert_eq!(Usage::from_bytes(&u.to_bytes()), Some(u));
    }

    #[test]
    fn approval_levels_by_amount() {
        let p = ApprovalPolicy { manager_above_fen: 50_000, executive_above_fen: 500_000, ..Default::default() };
        let cases: &[(i64, &[Role])] = &[
            (30_000, &[]),
            (50_000, &[]),
            (50_001, &[Role::Manager]),
            (500_000, &[Role::Manager]),
            (500_001, &[Role::Manager, Role::Executive]),
        ];
        for (amount, want) in cases {
            assert_eq!(p.required(*amount), want.to_vec(), "{amount}");
        }
        assert_eq!(ApprovalPolicy::default().required(1), vec![Role::Manager]);
        assert!(covers(Role::Executive, Role::Manager));
        assert!(!covers(Role::Manager, Role::Executive));
        let c = ApprovalPolicy { contract_above_fen: Some(100_000), contract_key_accounts: true, ..Default::default() };
        assert!(c.needs_contract(100_001, false) && !c.needs_contract(100_000, false) && c.needs_contract(1, true));
        assert!(!ApprovalPolicy::default().needs_contract(i64::MAX, true));
    }

    fn claim(amount: i64, events: Vec<ExpenseEvent>) -> Expense {
        Expense {
            id: id(50),
            kind: CLAIM,
            budget: Some(id(1)),
            item: Some(Travel),
            amount_fen: amount,
            date: Some("2026-03-15".into()),
            month: None,
            purpose: "出差".into(),
            request: None,
            contract: None,
            customer: None,
            receipts: vec![Receipt {
                id: "r1".into(),
                hash: "ab".repeat(32),
                name: "hotel.jpg".into(),
                mime: "image/jpeg".into(),
                size: 10,
                amount_fen: amount,
                invoice_no: None,
            }],
            events,
            created_by: "li".into(),
            created_at: 0,
        }
    }

    fn ev(kind: &str, n: i64, x: &Expense) -> ExpenseEvent {
        ExpenseEvent {
            id: format!("{n}@a"),
            kind: kind.into(),
            at: n,
            by: "x".into(),
            hash: Some(x.content_hash()),
            received: Some(n),
            ..Default::default()
        }
    }

    #[test]
    fn a_claim_is_approved_by_level_checked_per_receipt_and_reimbursed() {
        let base = claim(60_000, vec![]);
        let approve = |role: Role, n| ExpenseEvent { role: Some(role.as_str().into()), ..ev("approved", n, &base) };
        let check = |n, fen, reason: Option<&str>| ExpenseEvent {
            receipt: Some("r1".into()),
            sanctioned_fen: Some(fen),
            comment: reason.map(String::from),
            ..ev("checked", n, &base)
        };
        let both: &[Role] = &[Role::Manager, Role::Executive];
        type Case = (&'static str, Vec<ExpenseEvent>, &'static [Role], S, Option<i64>);
        let cases: Vec<Case> = vec![
            ("submitted", vec![ev("submitted", 1, &base)], both, S::Submitted, None),
            ("one of two", vec![ev("submitted", 1, &base), approve(Role::Manager, 2)], both, S::Submitted, None),
            (
                "both levels",
                vec![ev("submitted", 1, &base), approve(Role::Manager, 2), approve(Role::Executive, 3)],
                both,
                S::Approved,
                None,
            ),
            (
                "executive covers manager",
                vec![ev("submitted", 1, &base), approve(Role::Executive, 2)],
                &[Role::Manager],
                S::Approved,
                None,
            ),
            (
                "reimbursed at the sanctioned amount",
                vec![
                    ev("submitted", 1, &base),
                    approve(Role::Manager, 2),
                    check(3, 50_000, Some("超标准")),
                    ev("reimbursed", 4, &base),
                ],
                &[Role::Manager],
                S::Reimbursed,
                Some(50_000),
            ),
            (
                "no reimbursement before every receipt is checked",
                vec![ev("submitted", 1, &base), approve(Role::Manager, 2), ev("reimbursed", 3, &base)],
                &[Role::Manager],
                S::Approved,
                None,
            ),
            (
                "sanctioned above claimed does not count",
                vec![
                    ev("submitted", 1, &base),
                    approve(Role::Manager, 2),
                    check(3, 70_000, Some("x")),
                    ev("reimbursed", 4, &base),
                ],
                &[Role::Manager],
                S::Approved,
                None,
            ),
            (
                "a reduction needs a reason",
                vec![
                    ev("submitted", 1, &base),
                    approve(Role::Manager, 2),
                    check(3, 10_000, None),
                    ev("reimbursed", 4, &base),
                ],
                &[Role::Manager],
                S::Approved,
                None,
            ),
            (
                "rejected",
                vec![
                    ev("submitted", 1, &base),
                    ExpenseEvent { role: Some("manager".into()), ..ev("rejected", 2, &base) },
                ],
                &[Role::Manager],
                S::Rejected,
                None,
            ),
        ];
        for (name, events, required, status, reimbursed) in cases {
            let x = claim(60_000, events);
            let l = fold(&x, required);
            assert_eq!((l.status, l.reimbursed_fen), (status, reimbursed), "{name}: {:?}", l.notes);
        }
        // An approval of other content (edited since) does not count.
        let mut x = claim(60_000, vec![ev("submitted", 1, &base), approve(Role::Manager, 2)]);
        x.receipts[0].amount_fen = 90_000;
        x.amount_fen = 90_000;
        assert_eq!(fold(&x, &[Role::Manager]).status, S::Submitted);
    }

    #[test]
    fn a_claim_over_budget_needs_an_approved_supplement() {
        let b = budget(&[(1, "approved", &[(Travel, 3, 100_000)])]);
        let x = claim(60_000, vec![]);
        let life = |x: &Expense| ExpenseLifecycle { submitted_at: Some(100), ..fold(x, &[]) };
        let earlier = charge(10, REQ, Travel, 3, 50_000, S::Approved);
        let v = check_claim(&x, &life(&x), Some(&b), std::slice::from_ref(&earlier), vec![]);
        assert_eq!((v.verdict.as_str(), v.available_fen), ("needs_supplement", 50_000));
        let supp = charge(20, SUPP, Travel, 3, 20_000, S::Approved);
        let v = check_claim(&x, &life(&x), Some(&b), &[earlier.clone(), supp.clone()], vec![]);
        assert_eq!((v.verdict.as_str(), v.available_fen), ("within_budget", 70_000));
        let pending = Charge { status: S::Submitted, ..supp };
        assert_eq!(
            check_claim(&x, &life(&x), Some(&b), &[earlier.clone(), pending], vec![]).verdict,
            "needs_supplement"
        );
        // Its own approved request is not counted against it.
        let own = Charge { id: id(60), ..charge(60, REQ, Travel, 3, 60_000, S::Approved) };
        let with_request = Expense { request: Some(id(60)), ..x.clone() };
        assert_eq!(check_claim(&with_request, &life(&with_request), Some(&b), &[own], vec![]).verdict, "within_budget");
        // Invalid: no approved budget, a date outside its year.
        let draft = budget(&[(1, "submitted", &[(Travel, 3, 100_000)])]);
        assert_eq!(check_claim(&x, &life(&x), Some(&draft), &[], vec![]).verdict, "invalid");
        let other_year = Expense { date: Some("2025-03-01".into()), ..x.clone() };
        let v = check_claim(&other_year, &life(&other_year), Some(&b), &[], vec![]);
        assert_eq!((v.verdict.as_str(), v.reasons.as_slice()), ("invalid", &["outside-budget-year".to_string()][..]));
        // A receipt claimed before is flagged, whatever the budget says.
        let v = check_claim(&x, &life(&x), Some(&b), &[], vec![("r1".into(), "other".into())]);
        assert_eq!(v.verdict, "within_budget");
        assert!(v.reasons.contains(&"receipt-claimed-before".to_string()));
    }

    #[test]
    fn an_over_budget_claim_is_paid_only_after_its_supplement() {
        let b = budget(&[(1, "approved", &[(Travel, 3, 100_000)])]);
        let x = claim(60_000, vec![]);
        let earlier = charge(10, REQ, Travel, 3, 50_000, S::Approved);
        // What it pays is the sanctioned total: finance cutting it to what is left fits.
        let paying = |fen: i64| ExpenseLifecycle {
            status: S::Approved,
            checks: vec![ReceiptCheck {
                receipt: x.receipts[0].id.clone(),
                sanctioned_fen: fen,
                reason: None,
                by: "finance".into(),
                at: 100,
            }],
            submitted_at: Some(100),
            ..fold(&x, &[])
        };
        let over = check_reimbursement(&x, &paying(60_000), Some(&b), std::slice::from_ref(&earlier)).unwrap_err();
        assert_eq!((over.remaining_fen, over.amount_fen, over.excess_fen()), (50_000, 60_000, 10_000));
        assert!(over.reimbursement_message().contains("¥100.00"), "{}", over.reimbursement_message());
        assert_eq!(check_reimbursement(&x, &paying(50_000), Some(&b), std::slice::from_ref(&earlier)), Ok(()));
        let supp = charge(20, SUPP, Travel, 3, 10_000, S::Approved);
        assert_eq!(check_reimbursement(&x, &paying(60_000), Some(&b), &[earlier, supp]), Ok(()));
    }

    #[test]
    fn a_request_over_what_is_left_waits_for_an_approved_supplement() {
        let b = budget(&[(1, "approved", &[(Travel, 3, 100_000)])]);
        let request = |fen: i64, date: &str| Expense {
            id: id(70),
            kind: REQ,
            receipts: vec![],
            amount_fen: fen,
            date: Some(date.into()),
            ..claim(fen, vec![])
        };
        let earlier = charge(10, REQ, Travel, 3, 50_000, S::Approved);
        let supp = |status| charge(20, SUPP, Travel, 3, 20_000, status);
        // (name, request, charges) → Ok, or what is left
        type Case = (&'static str, Expense, Vec<Charge>, Result<(), i64>);
        let cases: Vec<Case> = vec![
            ("within what is left", request(50_000, "2026-03-02"), vec![earlier.clone()], Ok(())),
            ("over it", request(60_000, "2026-03-02"), vec![earlier.clone()], Err(50_000)),
            (
                "a submitted supplement does not count",
                request(60_000, "2026-03-02"),
                vec![earlier.clone(), supp(S::Submitted)],
                Err(50_000),
            ),
            (
                "an approved supplement covers it",
                request(60_000, "2026-03-02"),
                vec![earlier.clone(), supp(S::Approved)],
                Ok(()),
            ),
            (
                "a supplement too small does not",
                request(80_000, "2026-03-02"),
                vec![earlier.clone(), supp(S::Approved)],
                Err(70_000),
            ),
            ("another month has its own budget", request(10_000, "2026-04-02"), vec![], Err(0)),
            ("outside the budget's year", request(10_000, "2025-03-02"), vec![], Err(0)),
            (
                "its own earlier approval is not counted against it",
                request(100_000, "2026-03-02"),
                vec![Charge { id: id(70), ..charge(70, REQ, Travel, 3, 100_000, S::Approved) }],
                Ok(()),
            ),
        ];
        for (name, x, charges, want) in cases {
            let got = check_request_approval(&x, Some(&b), &charges).map_err(|o| o.remaining_fen);
            assert_eq!(got, want, "{name}");
        }
        let over = check_request_approval(&request(60_000, "2026-03-02"), Some(&b), &[earlier]).unwrap_err();
        assert_eq!(over.excess_fen(), 10_000);
        // Claims and supplements are not held to it here (the claim's verdict is).
        assert!(check_request_approval(&claim(9_999_999, vec![]), Some(&b), &[]).is_ok());
    }

    #[test]
    fn budget_versions_are_checked() {
        let lines = vec![BudgetLine { item: Travel, month: 1, amount_fen: 5 }];
        let body = encode_lines(&lines);
        assert_eq!(decode_lines(&body), Some(lines));
        assert_eq!(decode_lines(&postcard::to_stdvec(&vec![("travel", 13u32, 5i64)]).unwrap()), None);
        assert!(decode_lines(b"\xff\xff").is_none());
    }
}
