//! Contracts, expenses and attachments on the command line: `jiuloop contract …` (draft
//! from an order, each step of legal's review with clause comments, signing, the archive
//! and its inventory), `jiuloop budget …` (a team's yearly budget by item and month, its
//! versions), `jiuloop expense …` (requests, supplementary requests, claims with receipt
//! files, approvals, finance's check and reimbursement) and `jiuloop attach …` (fetch an
//! attachment). Everything but `attach get` works offline; amounts are given in yuan and
//! kept as integer fen.

use crate::output::{Out, Table};
use anyhow::{Result, anyhow, bail};
use clap::Subcommand;
use client_core::{ContractView, ExpenseView};
use jiuloop_cli::Profile;
use protocol::schema::order::format_fen;
use protocol::schema::{ContractEventKind as K, ExpenseEventKind as E, ExpenseItem, Lang, ScanCheck};
use protocol::time::display_local;
use protocol::{DocId, DocKind};
use std::path::PathBuf;

/// (key, 中文, English)
const TEXTS: &[(&str, &str, &str)] = &[
    ("no-contracts", "（没有合同）", "(no contracts)"),
    ("no-expenses", "（没有费用单）", "(no expenses)"),
    ("no-budgets", "（没有预算）", "(no budgets)"),
    ("status", "状态", "Status"),
    ("title", "标题", "Title"),
    ("locked", "已签署锁定", "signed and locked"),
    ("fulfilment", "履行状态", "Fulfilment"),
    ("comments", "未解决意见", "Open comments"),
    ("item", "项目", "Item"),
    ("amount", "金额", "Amount"),
    ("remaining", "剩余", "Remaining"),
    ("verdict", "校验", "Verdict"),
    ("over", "超预算，需追加申请", "over budget: needs a supplementary request"),
    ("budget", "预算", "Budget"),
    ("committed", "已占用", "Committed"),
    ("spent", "已报销", "Spent"),
    ("scan", "扫描件", "Scan"),
    ("flagged", "需处理", "flagged"),
    ("saved", "已保存", "saved"),
];

fn t(out: &Out, key: &str) -> &'static str {
    TEXTS
        .iter()
        .find(|(k, _, _)| *k == key)
        .map(|(_, zh, en)| if out.lang() == Lang::Zh { *zh } else { *en })
        .unwrap_or("?")
}

fn yuan(text: &str) -> Result<i64> {
    protocol::kinds::parse::parse_yuan(text).ok_or_else(|| anyhow!("{text}: an amount in yuan (e.g. 1280.50)"))
}

fn resolve(p: &Profile, text: &str, kind: DocKind) -> Result<DocId> {
    Ok(p.replica.resolve_id(text, kind)?)
}

fn read_file(path: &PathBuf) -> Result<(Vec<u8>, String)> {
    let bytes = std::fs::read(path).map_err(|e| anyhow!("{}: {e}", path.display()))?;
    let name = path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
    Ok((bytes, name))
}

#[derive(Subcommand)]
pub enum ContractCmd {
    /// Draft the contract of an order (customer, lines, delivery from the order); prints its id.
    Draft {
        #[arg(long)]
        order: String,
        #[arg(long)]
        title: String,
        /// A clause template of legal's to start the clauses from.
        #[arg(long)]
        template: Option<String>,
    },
    /// Draft an amendment (补充协议) of a signed contract; prints its id.
    Amend {
        id: String,
        #[arg(long)]
        title: String,
    },
    /// Cover one more order.
    Link {
        id: String,
        #[arg(long)]
        order: String,
    },
    /// Attach a scan (PDF or image); `--signed` for the signed copy. Prints its hash.
    Scan {
        id: String,
        #[arg(long)]
        file: PathBuf,
        #[arg(long)]
        signed: bool,
    },
    /// Submit to legal (or, after changes were requested, submit the revision).
    Submit { id: String },
    /// Legal: start the review.
    Review { id: String },
    /// A comment anchored to a clause.
    Comment {
        id: String,
        #[arg(long)]
        clause: String,
        #[arg(long)]
        text: String,
    },
    /// Resolve a comment (its number in `show`, or its id).
    Resolve {
        id: String,
        #[arg(long)]
        comment: String,
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Legal: ask for changes.
    Changes {
        id: String,
        #[arg(long)]
        note: String,
    },
    /// Legal: approve the content as it is (refused while a comment is unresolved).
    Approve { id: String },
    /// Both sides signed the approved version: it is locked from now on.
    Sign {
        id: String,
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Archive, or record a refusal, expiry or termination.
    Step {
        id: String,
        /// archived, refused, expired or terminated.
        #[arg(long)]
        kind: K,
        #[arg(long, default_value = "")]
        note: String,
    },
    Show {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// The clauses' changes between two submitted versions (numbers in `show --json`;
    /// default: the last two), line by line.
    Diff {
        id: String,
        #[arg(long)]
        from: Option<usize>,
        #[arg(long)]
        to: Option<usize>,
    },
    List {
        #[arg(long)]
        json: bool,
    },
    /// Legal's review queue.
    Queue {
        #[arg(long)]
        json: bool,
    },
    /// Archived contracts by customer, year and type, with their scans.
    Archive {
        #[arg(long)]
        json: bool,
    },
    /// Start an inventory (盘点) of the archive; prints its id.
    InventoryStart {
        #[arg(long)]
        period: String,
    },
    /// Record what the inventory found of a contract's scan.
    InventoryCheck {
        inventory: String,
        #[arg(long)]
        contract: String,
        #[arg(long)]
        scan: ScanCheck,
        #[arg(long, default_value = "")]
        note: String,
    },
    /// An inventory: every archived contract, its scan present or missing, who checked it.
    Inventory {
        inventory: String,
        #[arg(long)]
        json: bool,
    },
}

pub fn contract(p: &mut Profile, cmd: ContractCmd, now: i64, out: &Out) -> Result<()> {
    match cmd {
        ContractCmd::Draft { order, title, template } => {
            let order = resolve(p, &order, DocKind::Order)?;
            let template = template.map(|t| resolve(p, &t, DocKind::ClauseTemplate)).transpose()?;
            let id = p.replica.draft_contract(order, &title, template, now)?;
            p.persist()?;
            println!("{id}");
        }
        ContractCmd::Amend { id, title } => {
            let of = resolve(p, &id, DocKind::Contract)?;
            let id = p.replica.draft_amendment(of, &title, now)?;
            p.persist()?;
            println!("{id}");
        }
        ContractCmd::Link { id, order } => {
            let (id, order) = (resolve(p, &id, DocKind::Contract)?, resolve(p, &order, DocKind::Order)?);
            p.replica.link_order(id, order, now)?;
            p.persist()?;
        }
        ContractCmd::Scan { id, file, signed } => {
            let id = resolve(p, &id, DocKind::Contract)?;
            let (bytes, name) = read_file(&file)?;
            let r = p.replica.attach_scan(id, bytes, &name, signed, now)?;
            p.persist()?;
            println!("{}", r.hash);
        }
        ContractCmd::Submit { id } => step(p, &id, now, |r, id| r.submit_contract(id, now))?,
        ContractCmd::Review { id } => step(p, &id, now, |r, id| r.start_review(id, now))?,
        ContractCmd::Comment { id, clause, text } => {
            step(p, &id, now, |r, id| r.comment_clause(id, &clause, &text, now))?
        }
        ContractCmd::Resolve { id, comment, note } => {
            step(p, &id, now, |r, id| r.resolve_comment(id, &comment, &note, now))?
        }
        ContractCmd::Changes { id, note } => step(p, &id, now, |r, id| r.request_changes(id, &note, now))?,
        ContractCmd::Approve { id } => step(p, &id, now, |r, id| r.approve_contract(id, now))?,
        ContractCmd::Sign { id, note } => step(p, &id, now, |r, id| r.sign_contract(id, &note, now))?,
        ContractCmd::Step { id, kind, note } => {
            if !matches!(kind, K::Archived | K::Refused | K::Expired | K::Terminated) {
                bail!(
                    "--kind {kind}: archived, refused, expired or terminated (the other steps have their own commands)"
                );
            }
            step(p, &id, now, |r, id| r.contract_step_kind(id, kind, &note, now))?
        }
        ContractCmd::Show { id, json } => {
            let v = p.replica.contract_view(resolve(p, &id, DocKind::Contract)?)?;
            if json {
                out.json(&v);
            } else {
                show_contract(&v, out);
            }
        }
        ContractCmd::Diff { id, from, to } => {
            let v = p.replica.contract_view(resolve(p, &id, DocKind::Contract)?)?;
            let versions = &v.lifecycle.versions;
            let pick = |n: Option<usize>, default: usize| -> Result<String> {
                let n = n.unwrap_or(default);
                versions
                    .iter()
                    .find(|x| x.number == n)
                    .map(|x| x.text.clone())
                    .ok_or_else(|| anyhow!("no version {n} (there are {})", versions.len()))
            };
            let last = versions.iter().map(|x| x.number).max().unwrap_or(0);
            let (a, b) = (pick(from, last.saturating_sub(1))?, pick(to, last)?);
            for (mark, line) in protocol::schema::contract::diff(&a, &b) {
                println!("{mark} {line}");
            }
        }
        ContractCmd::List { json } => {
            let all: Vec<ContractView> =
                p.replica.contracts().into_iter().filter_map(|c| p.replica.contract_view(c.id).ok()).collect();
            list_contracts(&all, json, out);
        }
        ContractCmd::Queue { json } => list_contracts(&p.replica.legal_queue(), json, out),
        ContractCmd::Archive { json } => {
            let rows = p.replica.contract_archive();
            if json {
                out.json(&rows);
            } else {
                inventory_table(&rows, out);
            }
        }
        ContractCmd::InventoryStart { period } => {
            let id = p.replica.start_inventory(&period, now)?;
            p.persist()?;
            println!("{id}");
        }
        ContractCmd::InventoryCheck { inventory, contract, scan, note } => {
            let inv = resolve(p, &inventory, DocKind::ContractInventory)?;
            let c = resolve(p, &contract, DocKind::Contract)?;
            p.replica.check_inventory(inv, c, scan, &note, now)?;
            p.persist()?;
        }
        ContractCmd::Inventory { inventory, json } => {
            let rows = p.replica.inventory_view(resolve(p, &inventory, DocKind::ContractInventory)?)?;
            if json {
                out.json(&rows);
            } else {
                inventory_table(&rows, out);
            }
        }
    }
    Ok(())
}

fn step(
    p: &mut Profile,
    id: &str,
    _now: i64,
    f: impl FnOnce(&mut client_core::Replica, DocId) -> Result<(), client_core::CoreError>,
) -> Result<()> {
    let id = resolve(p, id, DocKind::Contract)?;
    f(&mut p.replica, id)?;
    p.persist()?;
    Ok(())
}

fn show_contract(v: &ContractView, out: &Out) {
    let lang = out.lang();
    println!("{}  {}", v.contract.title, v.contract.id);
    println!("  {}: {}", t(out, "status"), v.lifecycle.status.label(lang));
    if v.locked {
        println!("  {}", t(out, "locked"));
    }
    println!("  {}: {}", t(out, "fulfilment"), v.fulfilment.label(lang));
    println!("  {}: {}", t(out, "comments"), v.lifecycle.open_comments);
    for (i, c) in v.lifecycle.comments.iter().enumerate() {
        let mark = if c.resolved_by.is_some() { "✓" } else { "•" };
        println!("  {mark} {}. [{}] {} — {}", i + 1, c.clause, c.text, c.by);
    }
    if !v.contract.clauses.is_empty() {
        println!();
        for line in v.contract.clauses.lines() {
            println!("  {line}");
        }
    }
}

fn list_contracts(all: &[ContractView], json: bool, out: &Out) {
    if json {
        out.json(all);
        return;
    }
    if all.is_empty() {
        println!("{}", t(out, "no-contracts"));
        return;
    }
    let mut table =
        Table::with_header(["id", t(out, "title"), t(out, "status"), t(out, "fulfilment"), t(out, "comments")]);
    for v in all {
        table.row([
            v.contract.id.to_string()[..8].to_string(),
            v.contract.title.clone(),
            v.lifecycle.status.label(out.lang()).to_string(),
            v.fulfilment.label(out.lang()).to_string(),
            v.lifecycle.open_comments.to_string(),
        ]);
    }
    table.print();
}

fn inventory_table(rows: &[client_core::InventoryRow], out: &Out) {
    if rows.is_empty() {
        println!("{}", t(out, "no-contracts"));
        return;
    }
    let mut table = Table::with_header(["id", t(out, "title"), t(out, "scan"), ""]);
    for r in rows {
        let checked = match &r.checked {
            Some((s, by, at)) => format!("{} ({by}, {})", s.label(out.lang()), display_local(*at)),
            None => "-".into(),
        };
        table.row([
            r.contract.to_string()[..8].to_string(),
            r.title.clone(),
            checked,
            if r.flagged { t(out, "flagged").to_string() } else { String::new() },
        ]);
    }
    table.print();
}

#[derive(Subcommand)]
pub enum BudgetCmd {
    /// Managers: draft a team's budget for a year; prints its id.
    New {
        #[arg(long)]
        team: String,
        #[arg(long)]
        year: i32,
        #[arg(long)]
        title: String,
    },
    /// Set an item's amount for a month (1–12) of the draft.
    Line {
        id: String,
        #[arg(long)]
        item: ExpenseItem,
        #[arg(long)]
        month: u32,
        #[arg(long)]
        amount: String,
    },
    /// Submit the draft as the next version; prints the version number.
    Submit { id: String },
    /// Executives: approve (or `--reject`) a submitted version.
    Approve {
        id: String,
        #[arg(long)]
        version: u32,
        #[arg(long)]
        reject: bool,
        #[arg(long, default_value = "")]
        comment: String,
    },
    /// Used / committed / remaining per item and month.
    Show {
        id: String,
        #[arg(long)]
        json: bool,
    },
    List {
        #[arg(long)]
        json: bool,
    },
}

pub fn budget(p: &mut Profile, cmd: BudgetCmd, now: i64, out: &Out) -> Result<()> {
    match cmd {
        BudgetCmd::New { team, year, title } => {
            let id = p.replica.create_budget(&team, year, &title, now)?;
            p.persist()?;
            println!("{id}");
        }
        BudgetCmd::Line { id, item, month, amount } => {
            let id = resolve(p, &id, DocKind::ExpenseBudget)?;
            p.replica.set_budget_line(id, item, month, yuan(&amount)?, now)?;
            p.persist()?;
        }
        BudgetCmd::Submit { id } => {
            let id = resolve(p, &id, DocKind::ExpenseBudget)?;
            let v = p.replica.submit_budget(id, now)?;
            p.persist()?;
            println!("{v}");
        }
        BudgetCmd::Approve { id, version, reject, comment } => {
            let id = resolve(p, &id, DocKind::ExpenseBudget)?;
            p.replica.decide_budget(id, version, !reject, &comment, now)?;
            p.persist()?;
        }
        BudgetCmd::Show { id, json } => {
            let v = p.replica.budget_view(resolve(p, &id, DocKind::ExpenseBudget)?)?;
            if json {
                out.json(&v);
            } else {
                println!("{}  {} {}", v.budget.title, v.budget.team, v.budget.year);
                let mut table = Table::with_header([
                    t(out, "item"),
                    t(out, "budget"),
                    t(out, "committed"),
                    t(out, "spent"),
                    t(out, "remaining"),
                ]);
                for c in &v.items {
                    let item = c.item.parse::<ExpenseItem>().map(|i| i.label(out.lang())).unwrap_or("?");
                    table.row([
                        item.to_string(),
                        format_fen(c.budget_fen),
                        format_fen(c.committed_fen),
                        format_fen(c.spent_fen),
                        format_fen(c.remaining_fen()),
                    ]);
                }
                table.print();
            }
        }
        BudgetCmd::List { json } => {
            let all: Vec<_> =
                p.replica.budgets().into_iter().filter_map(|b| p.replica.budget_view(b.id).ok()).collect();
            if json {
                out.json(&all);
            } else if all.is_empty() {
                println!("{}", t(out, "no-budgets"));
            } else {
                for v in all {
                    println!(
                        "{}  {}  {} {}",
                        &v.budget.id.to_string()[..8],
                        v.budget.title,
                        v.budget.team,
                        v.budget.year
                    );
                }
            }
        }
    }
    Ok(())
}

#[derive(Subcommand)]
pub enum ExpenseCmd {
    /// A request before spending (费用申请); prints its id.
    Request {
        #[arg(long)]
        budget: String,
        #[arg(long)]
        item: ExpenseItem,
        #[arg(long)]
        amount: String,
        #[arg(long)]
        purpose: String,
        /// YYYY-MM-DD.
        #[arg(long)]
        date: String,
        #[arg(long)]
        customer: Option<String>,
    },
    /// A supplementary request (费用追加申请) for an item and month; prints its id.
    Supplement {
        #[arg(long)]
        budget: String,
        #[arg(long)]
        item: ExpenseItem,
        #[arg(long)]
        month: u32,
        #[arg(long)]
        amount: String,
        #[arg(long)]
        reason: String,
        #[arg(long)]
        request: Option<String>,
    },
    /// A claim after spending (报销); add receipts with `expense receipt`. Prints its id.
    Claim {
        #[arg(long)]
        budget: String,
        #[arg(long)]
        item: ExpenseItem,
        #[arg(long)]
        purpose: String,
        #[arg(long)]
        date: String,
        #[arg(long)]
        request: Option<String>,
    },
    /// Attach a receipt (photo or PDF of the invoice) with its amount; prints its hash.
    Receipt {
        id: String,
        #[arg(long)]
        file: PathBuf,
        #[arg(long)]
        amount: String,
        #[arg(long)]
        invoice: Option<String>,
    },
    Submit {
        id: String,
    },
    /// Approve (or `--reject`) in your role.
    Approve {
        id: String,
        #[arg(long)]
        reject: bool,
        #[arg(long, default_value = "")]
        comment: String,
    },
    Cancel {
        id: String,
    },
    /// Finance: check a receipt (its number in `show`, or its id): the sanctioned amount.
    Check {
        id: String,
        #[arg(long)]
        receipt: String,
        #[arg(long)]
        sanctioned: String,
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Finance: return a claim for correction.
    Return {
        id: String,
        #[arg(long)]
        comment: String,
    },
    /// Finance: reimburse an approved claim whose every receipt is checked.
    Reimburse {
        id: String,
    },
    Show {
        id: String,
        #[arg(long)]
        json: bool,
    },
    List {
        /// expense-request, expense-supplement or expense-claim.
        #[arg(long)]
        kind: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// What waits for an approval you give.
    Approvals {
        #[arg(long)]
        json: bool,
    },
    /// Finance: claims to check and reimburse.
    Finance {
        #[arg(long)]
        json: bool,
    },
}

fn expense_kind(p: &Profile, id: &str) -> Result<DocId> {
    for kind in [DocKind::ExpenseClaim, DocKind::ExpenseRequest, DocKind::ExpenseSupplement] {
        if let Ok(id) = p.replica.resolve_id(id, kind) {
            return Ok(id);
        }
    }
    Ok(p.replica.resolve_id(id, DocKind::ExpenseClaim)?)
}

pub fn expense(p: &mut Profile, cmd: ExpenseCmd, now: i64, out: &Out) -> Result<()> {
    match cmd {
        ExpenseCmd::Request { budget, item, amount, purpose, date, customer } => {
            let b = resolve(p, &budget, DocKind::ExpenseBudget)?;
            let c = customer.map(|c| resolve(p, &c, DocKind::Customer)).transpose()?;
            let id = p.replica.create_request(b, item, yuan(&amount)?, &purpose, &date, c, now)?;
            p.persist()?;
            println!("{id}");
        }
        ExpenseCmd::Supplement { budget, item, month, amount, reason, request } => {
            let b = resolve(p, &budget, DocKind::ExpenseBudget)?;
            let r = request.map(|r| resolve(p, &r, DocKind::ExpenseRequest)).transpose()?;
            let id = p.replica.create_supplement(b, item, month, yuan(&amount)?, &reason, r, now)?;
            p.persist()?;
            println!("{id}");
        }
        ExpenseCmd::Claim { budget, item, purpose, date, request } => {
            let b = resolve(p, &budget, DocKind::ExpenseBudget)?;
            let r = request.map(|r| resolve(p, &r, DocKind::ExpenseRequest)).transpose()?;
            let id = p.replica.create_claim(b, item, &purpose, &date, r, now)?;
            p.persist()?;
            println!("{id}");
        }
        ExpenseCmd::Receipt { id, file, amount, invoice } => {
            let id = resolve(p, &id, DocKind::ExpenseClaim)?;
            let (bytes, name) = read_file(&file)?;
            let r = p.replica.add_receipt(id, bytes, &name, yuan(&amount)?, invoice.as_deref(), now)?;
            p.persist()?;
            println!("{}", r.hash);
        }
        ExpenseCmd::Submit { id } => {
            let id = expense_kind(p, &id)?;
            p.replica.expense_simple(id, E::Submitted, "", now)?;
            p.persist()?;
        }
        ExpenseCmd::Cancel { id } => {
            let id = expense_kind(p, &id)?;
            p.replica.expense_simple(id, E::Cancelled, "", now)?;
            p.persist()?;
        }
        ExpenseCmd::Approve { id, reject, comment } => {
            let id = expense_kind(p, &id)?;
            p.replica.decide_expense(id, !reject, &comment, now)?;
            p.persist()?;
        }
        ExpenseCmd::Check { id, receipt, sanctioned, reason } => {
            let id = resolve(p, &id, DocKind::ExpenseClaim)?;
            p.replica.check_receipt(id, &receipt, yuan(&sanctioned)?, &reason, now)?;
            p.persist()?;
        }
        ExpenseCmd::Return { id, comment } => {
            let id = resolve(p, &id, DocKind::ExpenseClaim)?;
            p.replica.expense_simple(id, E::Returned, &comment, now)?;
            p.persist()?;
        }
        ExpenseCmd::Reimburse { id } => {
            let id = resolve(p, &id, DocKind::ExpenseClaim)?;
            p.replica.reimburse(id, now)?;
            p.persist()?;
        }
        ExpenseCmd::Show { id, json } => {
            let v = p.replica.expense_view(expense_kind(p, &id)?)?;
            if json {
                out.json(&v);
            } else {
                list_expenses(std::slice::from_ref(&v), out);
                for (i, r) in v.expense.receipts.iter().enumerate() {
                    println!(
                        "  {}. {} ¥{} {}",
                        i + 1,
                        r.name,
                        format_fen(r.amount_fen),
                        &r.hash[..12.min(r.hash.len())]
                    );
                }
            }
        }
        ExpenseCmd::List { kind, json } => {
            let kind = kind.map(|k| k.parse::<DocKind>().map_err(|e| anyhow!("--kind {k}: {e}"))).transpose()?;
            let all = p.replica.expenses(kind);
            if json { out.json(&all) } else { list_expenses(&all, out) }
        }
        ExpenseCmd::Approvals { json } => {
            let all = p.replica.expense_approvals();
            if json { out.json(&all) } else { list_expenses(&all, out) }
        }
        ExpenseCmd::Finance { json } => {
            let all = p.replica.reimbursement_queue();
            if json { out.json(&all) } else { list_expenses(&all, out) }
        }
    }
    Ok(())
}

fn list_expenses(all: &[ExpenseView], out: &Out) {
    if all.is_empty() {
        println!("{}", t(out, "no-expenses"));
        return;
    }
    let lang = out.lang();
    let mut table = Table::with_header([
        "id",
        t(out, "item"),
        t(out, "amount"),
        t(out, "status"),
        t(out, "remaining"),
        t(out, "verdict"),
    ]);
    for v in all {
        let x = &v.expense;
        let verdict = match (&v.verdict, v.over_budget) {
            (Some(verdict), _) => verdict.verdict.clone(),
            (None, true) => t(out, "over").to_string(),
            _ => String::new(),
        };
        table.row([
            x.id.to_string()[..8].to_string(),
            x.item.map(|i| i.label(lang)).unwrap_or("-").to_string(),
            format_fen(x.amount_fen),
            v.lifecycle.status.label(lang).to_string(),
            v.remaining_fen.map(format_fen).unwrap_or_else(|| "-".into()),
            verdict,
        ]);
    }
    table.print();
    let _ = t(out, "saved");
}

#[derive(Subcommand)]
pub enum AttachCmd {
    /// Fetch an attachment from the server (you must be able to read a document that
    /// references it) and write it to `--out`.
    Get {
        hash: String,
        #[arg(long)]
        out: PathBuf,
    },
    /// The space fetched attachments may take on this device (oldest evicted first;
    /// files waiting to be uploaded never).
    Cap {
        #[arg(long)]
        mb: f64,
    },
    /// The attachments this device holds.
    List {
        #[arg(long)]
        json: bool,
    },
}

pub fn attach(p: &mut Profile, cmd: AttachCmd, out: &Out) -> Result<()> {
    match cmd {
        AttachCmd::Get { hash, out: path } => {
            let h = protocol::blob::parse_hex(&hash).ok_or_else(|| anyhow!("{hash}: a SHA-256 in hex (64 digits)"))?;
            if p.blob_bytes(&h)?.is_none() {
                p.replica.want_blob(h);
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
                rt.block_on(jiuloop_cli::sync(p))?;
            }
            match p.blob_bytes(&h)? {
                Some(bytes) => {
                    std::fs::write(&path, &bytes).map_err(|e| anyhow!("{}: {e}", path.display()))?;
                    println!("{}", bytes.len());
                }
                None => {
                    let why = match p.replica.blob_state(&h) {
                        client_core::BlobState::Refused(why) => why,
                        other => format!("{other:?}"),
                    };
                    bail!("{hash}: {why}");
                }
            }
        }
        AttachCmd::Cap { mb } => {
            if !(mb > 0.0 && mb <= 100_000.0) {
                bail!("--mb {mb}: above 0");
            }
            let bytes = (mb * 1024.0 * 1024.0) as u64;
            p.set_meta("blob_cap_bytes", &bytes.to_string())?;
            p.replica.set_blob_cap(bytes);
        }
        AttachCmd::List { json } => {
            let all = p.replica.blobs();
            if json {
                let rows: Vec<serde_json::Value> = all
                    .iter()
                    .map(|b| serde_json::json!({"hash": protocol::blob::hex(&b.hash), "mime": b.mime, "size": b.size}))
                    .collect();
                out.json(&rows);
            } else {
                for b in all {
                    println!("{}  {}  {}", protocol::blob::hex(&b.hash), b.mime, b.size);
                }
            }
        }
    }
    Ok(())
}
