//! Contracts on the device: drafting one from an order (customer, lines, delivery, priced by
//! the same engine), co-editing the clauses, comments on clauses, each step of legal's
//! review and the signing, attaching scans, the archive by category and the inventory. The
//! same fold runs on the server ([`protocol::schema::contract`]), so what the device shows
//! offline is what the server decides.

use crate::error::CoreError;
use crate::replica::Replica;
use protocol::blob::BlobRef;
use protocol::kinds::{Entry, Scalar, Value};
use protocol::pricing::{CustomerFacts, LineFacts, PricedOrder, price_order};
use protocol::schema::contract::{self, Contract, ContractEvent, Lifecycle};
use protocol::schema::policy_doc;
use protocol::schema::record;
use protocol::schema::{ContractEventKind as K, ContractStatus, Fulfilment, OrderStatus, ScanCheck};
use protocol::{DocId, DocKind};
use serde::Serialize;

/// Everything a person needs to see about a contract.
#[derive(Clone, Debug, Serialize)]
pub struct ContractView {
    #[serde(flatten)]
    pub contract: Contract,
    pub content_hash: String,
    pub lifecycle: Lifecycle,
    pub fulfilment: Fulfilment,
    /// The orders it covers, with their status as held here.
    pub order_statuses: Vec<(DocId, OrderStatus)>,
    /// The lines priced with the policy in force (the order pricing engine).
    pub priced: Option<PricedOrder>,
    /// Locked: signed, the server recorded it; the content can no longer change.
    pub locked: bool,
    /// May this user edit the clauses now?
    pub may_edit: bool,
}

/// One archived contract in the inventory, with what was found.
#[derive(Clone, Debug, Serialize)]
pub struct InventoryRow {
    pub contract: DocId,
    pub title: String,
    pub customer: Option<String>,
    pub year: String,
    pub contract_type: Option<String>,
    /// A signed scan is attached.
    pub scan_on_file: bool,
    /// The latest check in this inventory: present or missing, by whom, when.
    pub checked: Option<(ScanCheck, String, i64)>,
    /// No signed scan, found missing, or not checked yet.
    pub flagged: bool,
}

impl Replica {
    pub fn contract(&self, id: DocId) -> Result<Contract, CoreError> {
        Ok(contract::read(self.doc_ref(id, DocKind::Contract)?, id)?)
    }

    /// Every contract held, newest first.
    pub fn contracts(&self) -> Vec<Contract> {
        let mut all: Vec<Contract> =
            self.records(DocKind::Contract).iter().filter_map(|r| self.contract(r.id).ok()).collect();
        all.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(a.id.cmp(&b.id)));
        all
    }

    /// The contract is signed and the server recorded it: its content is locked.
    pub fn contract_locked(&self, id: DocId) -> bool {
        self.contract(id).is_ok_and(|c| contract::fold(&c.events, &contract::content_hash(&c)).locked)
    }

    pub fn contract_view(&self, id: DocId) -> Result<ContractView, CoreError> {
        let c = self.contract(id)?;
        let content_hash = contract::content_hash(&c);
        let lifecycle = contract::fold(&c.events, &content_hash);
        let order_statuses: Vec<(DocId, OrderStatus)> =
            c.orders.iter().filter_map(|o| self.order_view(*o).ok().map(|v| (*o, v.lifecycle.status))).collect();
        let statuses: Vec<OrderStatus> = order_statuses.iter().map(|(_, s)| *s).collect();
        let fulfilment = contract::fulfilment(lifecycle.status, &statuses);
        let locked = lifecycle.locked;
        let may_edit = !locked && self.may_write(id, "clauses");
        let priced = self.price_contract(&c);
        Ok(ContractView { contract: c, content_hash, lifecycle, fulfilment, order_statuses, priced, locked, may_edit })
    }

    fn price_contract(&self, c: &Contract) -> Option<PricedOrder> {
        let customer = c.customer?;
        let versions = self.policy_versions();
        let policy = policy_doc::in_force(&versions, c.created_at)?;
        let channel = self.customer(customer).ok().and_then(|c| c.channel);
        let lines: Vec<LineFacts> = c
            .lines
            .iter()
            .map(|l| LineFacts {
                id: l.id.clone(),
                sku: l.sku.clone(),
                spec: l.spec.clone(),
                qty: l.qty,
                unit_price_fen: l.unit_price_fen,
            })
            .collect();
        let pricer = self.principal().map(|p| p.role).unwrap_or(protocol::Role::Rep);
        Some(price_order(&policy.policy, &CustomerFacts { id: customer, channel }, &lines, c.created_at, pricer))
    }

    /// Draft a contract for an order: its customer, lines and delivery; the clauses from a
    /// template (legal's) when given. All or nothing: when a step fails (an order line the
    /// contract cannot carry, a write the rules refuse) no contract is left behind, half
    /// built, to be synced.
    pub fn draft_contract(
        &mut self,
        order: DocId,
        title: &str,
        template: Option<DocId>,
        now: i64,
    ) -> Result<DocId, CoreError> {
        self.all_or_nothing(|r| r.draft_contract_steps(order, title, template, now))
    }

    fn draft_contract_steps(
        &mut self,
        order: DocId,
        title: &str,
        template: Option<DocId>,
        now: i64,
    ) -> Result<DocId, CoreError> {
        let o = self.order(order)?;
        let customer = o.customer.ok_or_else(|| CoreError::NotFound { kind: DocKind::Customer, id: String::new() })?;
        let party_b = self.customer(customer).map(|c| c.name).unwrap_or_default();
        let clauses = match template {
            Some(t) => self.record(t)?.str("body").unwrap_or_default().to_string(),
            None => String::new(),
        };
        let customer_s = customer.to_string();
        let mut inputs: Vec<(&str, &str)> =
            vec![("customer", &customer_s), ("title", title), ("contract_type", "sales"), ("party_b", &party_b)];
        if let Some(d) = o.delivery_date.as_deref() {
            inputs.push(("delivery_date", d));
        }
        if let Some(p) = o.delivery_place.as_deref() {
            inputs.push(("delivery_place", p));
        }
        if !clauses.is_empty() {
            inputs.push(("clauses", &clauses));
        }
        let id = self.create(DocKind::Contract, &inputs, now)?;
        self.link_order(id, order, now)?;
        for l in &o.lines {
            let mut values = vec![
                ("id", Value::Str(l.id.clone())),
                ("sku", Value::Str(l.sku.clone())),
                ("qty", Value::Int(l.qty)),
                ("unit_price_fen", Value::Int(l.unit_price_fen)),
            ];
            if let Some(s) = &l.spec {
                values.push(("spec", Value::Str(s.clone())));
            }
            self.add_contract_record(id, "lines", &values, now)?;
        }
        Ok(id)
    }

    /// Draft an amendment (补充协议) of a signed contract: a new contract that `amends` it,
    /// of the same customer and orders, starting from its clauses — the signed one stays
    /// as it was signed. All or nothing, like [`Self::draft_contract`].
    pub fn draft_amendment(&mut self, of: DocId, title: &str, now: i64) -> Result<DocId, CoreError> {
        self.all_or_nothing(|r| r.draft_amendment_steps(of, title, now))
    }

    fn draft_amendment_steps(&mut self, of: DocId, title: &str, now: i64) -> Result<DocId, CoreError> {
        let c = self.contract(of)?;
        if !self.contract_locked(of) {
            return Err(CoreError::NotAllowed {
                field: "amends".into(),
                rule: "event-invalid".into(),
                message: "only a signed contract is amended; edit this one instead".into(),
            });
        }
        let customer = c.customer.ok_or_else(|| CoreError::NotFound { kind: DocKind::Customer, id: String::new() })?;
        let (customer_s, of_s) = (customer.to_string(), of.to_string());
        let mut inputs: Vec<(&str, &str)> = vec![
            ("customer", &customer_s),
            ("title", title),
            ("contract_type", "amendment"),
            ("amends", &of_s),
            ("party_b", &c.party_b),
        ];
        if !c.party_a.is_empty() {
            inputs.push(("party_a", &c.party_a));
        }
        if !c.clauses.is_empty() {
            inputs.push(("clauses", &c.clauses));
        }
        let id = self.create(DocKind::Contract, &inputs, now)?;
        for o in &c.orders {
            self.link_order(id, *o, now)?;
        }
        Ok(id)
    }

    /// Add an order the contract covers.
    pub fn link_order(&mut self, id: DocId, order: DocId, now: i64) -> Result<(), CoreError> {
        self.order(order)?;
        let values = [("id", Value::Str(DocId::new_random().to_string())), ("order", Value::Str(order.to_string()))];
        self.add_contract_record(id, "orders", &values, now)
    }

    fn add_contract_record(
        &mut self,
        id: DocId,
        list: &str,
        values: &[(&str, Value)],
        now: i64,
    ) -> Result<(), CoreError> {
        let checked = record::check_record(DocKind::Contract, list, values)?;
        let list = list.to_string();
        self.edit_checked(id, DocKind::Contract, now, &[list.as_str()], |doc| {
            record::add_record_values(doc, DocKind::Contract, &list, &checked)
        })
    }

    /// Attach a scan (the signed copy, an annex) — possible after signing too.
    pub fn attach_scan(
        &mut self,
        id: DocId,
        bytes: Vec<u8>,
        name: &str,
        signed: bool,
        now: i64,
    ) -> Result<BlobRef, CoreError> {
        self.contract(id)?;
        if !self.may_write(id, "scans") {
            return Err(CoreError::NotAllowed {
                field: "scans".into(),
                rule: "role".into(),
                message: "you may not attach files to this contract".into(),
            });
        }
        let r = self.add_blob(bytes, name, now)?;
        let values = [
            ("id", Value::Str(DocId::new_random().to_string())),
            ("hash", Value::Str(r.hash.clone())),
            ("name", Value::Str(r.name.clone())),
            ("mime", Value::Str(r.mime.clone())),
            ("size", Value::Int(r.size)),
            ("signed", Value::Flag(signed)),
        ];
        let checked = record::check_record(DocKind::Contract, "scans", &values)?;
        self.edit_checked(id, DocKind::Contract, now, &["scans"], |doc| {
            record::add_record_values(doc, DocKind::Contract, "scans", &checked)
        })?;
        Ok(r)
    }

    /// Append a workflow entry (or a comment) after the same checks the server makes.
    fn contract_step(&mut self, id: DocId, e: ContractEvent, now: i64) -> Result<(), CoreError> {
        self.contract(id)?;
        let entry: Entry = contract::entry_of(&e);
        let values = entry.values.clone();
        self.append_entry(id, "events", entry, now, move |doc| push_entry(doc, &values))
    }

    fn contract_event(&self, kind: K, now: i64) -> ContractEvent {
        ContractEvent { kind: kind.as_str().into(), at: now, by: self.user().to_string(), ..Default::default() }
    }

    /// Submit to legal (or, after changes were requested, the revision): records the clause
    /// text as this version, for the diff between versions.
    pub fn submit_contract(&mut self, id: DocId, now: i64) -> Result<(), CoreError> {
        let c = self.contract(id)?;
        let status = contract::fold(&c.events, &contract::content_hash(&c)).status;
        let kind = if status == ContractStatus::ChangesRequested { K::Revised } else { K::Submitted };
        let e = ContractEvent {
            text: Some(c.clauses.clone()),
            hash: Some(contract::content_hash(&c)),
            ..self.contract_event(kind, now)
        };
        self.contract_step(id, e, now)
    }

    pub fn start_review(&mut self, id: DocId, now: i64) -> Result<(), CoreError> {
        let e = self.contract_event(K::Review, now);
        self.contract_step(id, e, now)
    }

    /// A comment anchored to a clause (its number or heading).
    pub fn comment_clause(&mut self, id: DocId, clause: &str, text: &str, now: i64) -> Result<(), CoreError> {
        let e = ContractEvent {
            clause: Some(clause.trim().to_string()).filter(|c| !c.is_empty()),
            text: Some(text.to_string()),
            ..self.contract_event(K::Comment, now)
        };
        self.contract_step(id, e, now)
    }

    /// Resolve a comment (its id, or its 1-based number among the comments).
    pub fn resolve_comment(&mut self, id: DocId, comment: &str, note: &str, now: i64) -> Result<(), CoreError> {
        let c = self.contract(id)?;
        let life = contract::fold(&c.events, &contract::content_hash(&c));
        let found = comment
            .parse::<usize>()
            .ok()
            .and_then(|n| n.checked_sub(1))
            .and_then(|i| life.comments.get(i))
            .or_else(|| life.comments.iter().find(|x| x.id == comment))
            .map(|x| x.id.clone())
            .ok_or_else(|| CoreError::Unknown(comment.to_string()))?;
        let e = ContractEvent {
            comment: Some(found),
            note: Some(note.to_string()).filter(|n| !n.is_empty()),
            ..self.contract_event(K::Resolve, now)
        };
        self.contract_step(id, e, now)
    }

    pub fn request_changes(&mut self, id: DocId, note: &str, now: i64) -> Result<(), CoreError> {
        let e = ContractEvent {
            note: Some(note.to_string()).filter(|n| !n.is_empty()),
            ..self.contract_event(K::ChangesRequested, now)
        };
        self.contract_step(id, e, now)
    }

    /// Legal approves the content as it is now (refused while a comment is unresolved).
    pub fn approve_contract(&mut self, id: DocId, now: i64) -> Result<(), CoreError> {
        let c = self.contract(id)?;
        let role = self.principal().map(|p| p.role.as_str().to_string()).unwrap_or_else(|| "legal".into());
        let e = ContractEvent {
            role: Some(role),
            hash: Some(contract::content_hash(&c)),
            ..self.contract_event(K::Approved, now)
        };
        self.contract_step(id, e, now)
    }

    /// Both sides signed the approved version.
    pub fn sign_contract(&mut self, id: DocId, note: &str, now: i64) -> Result<(), CoreError> {
        let c = self.contract(id)?;
        let hash = contract::content_hash(&c);
        let life = contract::fold(&c.events, &hash);
        if life.status != ContractStatus::Approved {
            return Err(CoreError::NotAllowed {
                field: "events".into(),
                rule: "event-invalid".into(),
                message: format!("only a contract legal approved can be signed (it is {})", life.status.as_str()),
            });
        }
        let e = ContractEvent {
            hash: Some(hash),
            note: Some(note.to_string()).filter(|n| !n.is_empty()),
            ..self.contract_event(K::Signed, now)
        };
        self.contract_step(id, e, now)
    }

    /// Archive, refuse, expire or terminate (with a note).
    pub fn contract_step_kind(&mut self, id: DocId, kind: K, note: &str, now: i64) -> Result<(), CoreError> {
        let e =
            ContractEvent { note: Some(note.to_string()).filter(|n| !n.is_empty()), ..self.contract_event(kind, now) };
        self.contract_step(id, e, now)
    }

    /// Contracts waiting for legal: submitted, revised or in review.
    pub fn legal_queue(&self) -> Vec<ContractView> {
        self.contracts()
            .into_iter()
            .filter_map(|c| self.contract_view(c.id).ok())
            .filter(|v| {
                matches!(
                    v.lifecycle.status,
                    ContractStatus::Submitted | ContractStatus::Revised | ContractStatus::InReview
                )
            })
            .collect()
    }

    /// The archive, by customer, then year, then type.
    pub fn contract_archive(&self) -> Vec<InventoryRow> {
        let mut rows: Vec<InventoryRow> = self
            .contracts()
            .into_iter()
            .filter_map(|c| self.contract_view(c.id).ok())
            .filter(|v| v.lifecycle.status == ContractStatus::Archived)
            .map(|v| self.archive_row(&v))
            .collect();
        rows.sort_by(|a, b| (&a.customer, &a.year, &a.contract_type).cmp(&(&b.customer, &b.year, &b.contract_type)));
        rows
    }

    fn archive_row(&self, v: &ContractView) -> InventoryRow {
        let c = &v.contract;
        let scan_on_file = c.scans.iter().any(|s| s.signed);
        InventoryRow {
            contract: c.id,
            title: c.title.clone(),
            customer: c.customer.and_then(|id| self.customer(id).ok()).map(|c| c.name),
            year: protocol::time::display_local(v.lifecycle.signed_at.unwrap_or(c.created_at))
                .chars()
                .take(4)
                .collect(),
            contract_type: c.contract_type.map(|t| t.as_str().to_string()),
            scan_on_file,
            checked: None,
            flagged: !scan_on_file,
        }
    }

    /// Start an inventory of the archived contracts.
    pub fn start_inventory(&mut self, period: &str, now: i64) -> Result<DocId, CoreError> {
        self.create(DocKind::ContractInventory, &[("period", period)], now)
    }

    /// Record what was found of a contract's signed scan.
    pub fn check_inventory(
        &mut self,
        inv: DocId,
        contract: DocId,
        scan: ScanCheck,
        note: &str,
        now: i64,
    ) -> Result<(), CoreError> {
        let mut values = std::collections::BTreeMap::new();
        values.insert("contract".to_string(), Scalar::Str(contract.to_string()));
        values.insert("scan".to_string(), Scalar::Str(scan.as_str().into()));
        values.insert("at".to_string(), Scalar::Time(now));
        values.insert("by".to_string(), Scalar::Str(self.user().to_string()));
        if !note.is_empty() {
            values.insert("note".to_string(), Scalar::Str(note.to_string()));
        }
        let entry = Entry { id: String::new(), values: values.clone() };
        self.append_entry(inv, "checks", entry, now, move |doc| push_log(doc, "checks", &values))
    }

    /// Every archived contract with its scan on file or not, and what this inventory found.
    pub fn inventory_view(&self, inv: DocId) -> Result<Vec<InventoryRow>, CoreError> {
        let rec = self.record(inv)?;
        let checks = match rec.fields.get("checks") {
            Some(record::FieldValue::Records(list)) => list.clone(),
            _ => Vec::new(),
        };
        let mut rows = self.contract_archive();
        for row in &mut rows {
            let id = row.contract.to_string();
            let latest =
                checks.iter().rev().find(|e| matches!(e.get("contract"), Some(record::FieldValue::Str(c)) if *c == id));
            if let Some(e) = latest {
                let scan = match e.get("scan") {
                    Some(record::FieldValue::Str(s)) => s.parse().unwrap_or(ScanCheck::Missing),
                    _ => ScanCheck::Missing,
                };
                let by = match e.get("by") {
                    Some(record::FieldValue::Str(s)) => s.clone(),
                    _ => String::new(),
                };
                let at = match e.get("at") {
                    Some(record::FieldValue::Time(t)) => *t,
                    _ => 0,
                };
                row.checked = Some((scan, by, at));
            }
            row.flagged = !row.scan_on_file || !matches!(row.checked, Some((ScanCheck::Present, _, _)));
        }
        Ok(rows)
    }
}

fn push_entry(
    doc: &mut automerge::AutoCommit,
    values: &std::collections::BTreeMap<String, Scalar>,
) -> Result<(), protocol::schema::SchemaError> {
    push_log(doc, "events", values)
}

fn push_log(
    doc: &mut automerge::AutoCommit,
    log: &str,
    values: &std::collections::BTreeMap<String, Scalar>,
) -> Result<(), protocol::schema::SchemaError> {
    protocol::schema::record::push_log_entry(doc, log, values)
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::transaction::Transactable;
    use automerge::{ActorId, ROOT, ReadDoc};
    use protocol::rules::Principal;
    use protocol::schema::OrderSource;
    use protocol::schema::customer::NewCustomer;
    use protocol::schema::order::NewLine;

    const T0: i64 = 1_800_000_000_000;

    fn rep() -> Replica {
        let mut r = Replica::load(ActorId::from(&[9u8; 16][..]), "li", vec![], 0, vec![]).unwrap();
        r.set_principal(Principal { user: "li".into(), role: protocol::Role::Rep, territories: vec!["贵州".into()] });
        r
    }

    fn order_with_lines(r: &mut Replica, lines: usize) -> DocId {
        let new = NewCustomer { name: "遵义酒行".into(), territory: Some("贵州".into()), ..Default::default() };
        let customer = r.create_customer(&new, T0).unwrap();
        let lines: Vec<NewLine> = (0..lines)
            .map(|n| NewLine {
                id: format!("l{n}"),
                sku: "SC-52-500".into(),
                spec: None,
                qty: 10 + n as i64,
                unit_price_fen: 56_900,
            })
            .collect();
        r.create_order_with(customer, OrderSource::Written, &lines, &[], T0).unwrap()
    }

    #[test]
    fn a_contract_drafted_from_an_order_is_whole_or_not_there() {
        let mut r = rep();
        let order = order_with_lines(&mut r, 3);
        let c = r.draft_contract(order, "遵义酒行年度供货合同", None, T0 + 1).unwrap();
        let got = r.contract(c).unwrap();
        assert_eq!((got.lines.len(), got.orders.as_slice()), (3, &[order][..]));
        r.take_store_ops();

        // The order's last line, as another device wrote it, is one the contract cannot
        // carry (no quantity): the third step fails, and nothing of the draft remains —
        // neither the document nor a store operation that would persist or push it.
        let order = order_with_lines(&mut r, 3);
        let held = r.take_store_ops();
        assert!(!held.is_empty());
        {
            let doc = &mut r.doc_mut(order).unwrap().doc;
            let (_, lines) = doc.get(ROOT, "lines").unwrap().unwrap();
            let (_, last) = doc.get(&lines, 2usize).unwrap().unwrap();
            doc.put(&last, "qty", 0i64).unwrap();
            doc.commit();
        }
        let before = r.contracts().len();
        let err = r.draft_contract(order, "半成品", None, T0 + 2).unwrap_err();
        assert!(matches!(err, CoreError::Schema(_)), "{err:?}");
        assert_eq!(r.contracts().len(), before, "no half contract is held");
        assert!(r.take_store_ops().is_empty(), "nothing of it is stored or sent");
        // Mended, the same draft goes through whole.
        {
            let doc = &mut r.doc_mut(order).unwrap().doc;
            let (_, lines) = doc.get(ROOT, "lines").unwrap().unwrap();
            let (_, last) = doc.get(&lines, 2usize).unwrap().unwrap();
            doc.put(&last, "qty", 12i64).unwrap();
            doc.commit();
        }
        let c = r.draft_contract(order, "遵义酒行补货合同", None, T0 + 3).unwrap();
        assert_eq!(r.contract(c).unwrap().lines.len(), 3);
        assert_eq!(r.contracts().len(), before + 1);
    }
}
