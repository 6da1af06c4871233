//! 销售合同: a contract of a customer — parties, the orders it covers, lines, terms and
//! the clause text co-edited by the rep and legal (Automerge Text) — and its workflow.
//!
//! The signing status is never stored: [`fold`] derives it from the `events` log in the
//! order the server received the entries (comments on clauses and their resolutions are
//! entries of the same log, so "no unresolved comment when legal approves" is decided on
//! one order everywhere):
//!
//! ```text
//! draft → submitted → in review ⇄ changes requested → revised → in review … → approved
//!       → signed (content locked: the server refuses later edits) → archived
//! refused by the customer (before signing); expired; terminated (after signing)
//! ```
//!
//! Approvals and signatures bind to the content hash ([`content_hash`]): an edit after
//! legal approved voids the approval (the contract goes back to "revised").

use super::access::{R, check_kind, get_int, get_opt_str, get_parsed, get_str, json_time, list_items};
use super::enums::{ContractEventKind as K, ContractStatus as S, ContractType, Fulfilment, OrderStatus};
use crate::ids::{DocId, DocKind};
use crate::kinds::{Entry, LogCheck};
use automerge::{AutoCommit, ROOT};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ContractLine {
    pub id: String,
    pub sku: String,
    pub spec: Option<String>,
    pub qty: i64,
    pub unit_price_fen: i64,
}

/// An attached scan (the signed paper copy, annexes).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Scan {
    pub id: String,
    pub hash: String,
    pub name: String,
    pub mime: String,
    pub size: i64,
    /// The signed copy (what the inventory looks for).
    pub signed: bool,
}

/// One entry of the contract's log.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ContractEvent {
    /// The entry's stable id (a `resolve` names the comment it resolves by it).
    pub id: String,
    pub kind: String,
    #[serde(with = "json_time")]
    pub at: i64,
    pub by: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
    /// A comment's clause (its number or heading).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clause: Option<String>,
    /// A comment's text, or the clause text as submitted or revised (a version).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The comment a `resolve` resolves.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", with = "super::access::json_time_opt")]
    pub received: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Contract {
    pub id: DocId,
    pub customer: Option<DocId>,
    pub title: String,
    pub contract_type: Option<ContractType>,
    pub amends: Option<DocId>,
    pub orders: Vec<DocId>,
    pub party_a: String,
    pub party_b: String,
    pub lines: Vec<ContractLine>,
    pub total_fen: i64,
    pub delivery_date: Option<String>,
    pub delivery_place: Option<String>,
    pub payment_terms: Option<String>,
    pub quality_standard: Option<String>,
    pub after_sales: Option<String>,
    pub valid_until: Option<String>,
    pub clauses: String,
    pub scans: Vec<Scan>,
    pub events: Vec<ContractEvent>,
    pub created_by: String,
    #[serde(with = "json_time")]
    pub created_at: i64,
}

/// The fields the content hash covers (and signing locks): everything the parties agree to.
pub const CONTENT_FIELDS: &[&str] = &[
    "title",
    "contract_type",
    "orders",
    "party_a",
    "party_b",
    "lines",
    "delivery_date",
    "delivery_place",
    "payment_terms",
    "quality_standard",
    "after_sales",
    "valid_until",
    "clauses",
];

pub fn read(doc: &AutoCommit, id: DocId) -> R<Contract> {
    check_kind(doc, DocKind::Contract.as_str())?;
    let lines: Vec<ContractLine> = list_items(doc, &ROOT, "lines")
        .iter()
        .map(|l| ContractLine {
            id: get_str(doc, l, "id"),
            sku: get_str(doc, l, "sku"),
            spec: get_opt_str(doc, l, "spec"),
            qty: get_int(doc, l, "qty").unwrap_or(0),
            unit_price_fen: get_int(doc, l, "unit_price_fen").unwrap_or(0),
        })
        .collect();
    let scans = list_items(doc, &ROOT, "scans")
        .iter()
        .map(|s| Scan {
            id: get_str(doc, s, "id"),
            hash: get_str(doc, s, "hash"),
            name: get_str(doc, s, "name"),
            mime: get_str(doc, s, "mime"),
            size: get_int(doc, s, "size").unwrap_or(0),
            signed: matches!(super::access::get_scalar(doc, s, "signed"), Some(crate::kinds::Scalar::Bool(true))),
        })
        .collect();
    let orders = list_items(doc, &ROOT, "orders").iter().filter_map(|o| get_parsed(doc, o, "order")).collect();
    let receipts = super::read_receipts(doc);
    let events = super::record::log_entries(doc, "events")
        .iter()
        .map(|e| ContractEvent { received: receipts.get(&e.id).copied(), ..event_of(e) })
        .collect();
    let total_fen = lines.iter().fold(0i64, |t, l| t.saturating_add(l.qty.saturating_mul(l.unit_price_fen)));
    Ok(Contract {
        id,
        customer: get_parsed(doc, &ROOT, "customer"),
        title: get_str(doc, &ROOT, "title"),
        contract_type: get_parsed(doc, &ROOT, "contract_type"),
        amends: get_parsed(doc, &ROOT, "amends"),
        orders,
        party_a: get_str(doc, &ROOT, "party_a"),
        party_b: get_str(doc, &ROOT, "party_b"),
        lines,
        total_fen,
        delivery_date: get_opt_str(doc, &ROOT, "delivery_date"),
        delivery_place: get_opt_str(doc, &ROOT, "delivery_place"),
        payment_terms: get_opt_str(doc, &ROOT, "payment_terms"),
        quality_standard: get_opt_str(doc, &ROOT, "quality_standard"),
        after_sales: get_opt_str(doc, &ROOT, "after_sales"),
        valid_until: get_opt_str(doc, &ROOT, "valid_until"),
        clauses: get_str(doc, &ROOT, "clauses"),
        scans,
        events,
        created_by: get_str(doc, &ROOT, "created_by"),
        created_at: get_int(doc, &ROOT, "created_at").unwrap_or(0),
    })
}

/// A log entry as an event (and back: [`entry_of`]).
pub fn event_of(e: &Entry) -> ContractEvent {
    let s = |k: &str| e.str(k).map(String::from);
    ContractEvent {
        id: e.id.clone(),
        kind: e.str("kind").unwrap_or_default().to_string(),
        at: e.int("at").unwrap_or(0),
        by: e.str("by").unwrap_or_default().to_string(),
        role: s("role"),
        hash: s("hash"),
        clause: s("clause"),
        text: s("text"),
        comment: s("comment"),
        note: s("note"),
        received: None,
    }
}

/// The values an event is written with.
pub fn entry_of(e: &ContractEvent) -> Entry {
    use crate::kinds::Scalar;
    let mut values = std::collections::BTreeMap::new();
    values.insert("kind".to_string(), Scalar::Str(e.kind.clone()));
    values.insert("at".to_string(), Scalar::Time(e.at));
    values.insert("by".to_string(), Scalar::Str(e.by.clone()));
    for (k, v) in [
        ("role", &e.role),
        ("hash", &e.hash),
        ("clause", &e.clause),
        ("text", &e.text),
        ("comment", &e.comment),
        ("note", &e.note),
    ] {
        if let Some(v) = v {
            values.insert(k.to_string(), Scalar::Str(v.clone()));
        }
    }
    Entry { id: String::new(), values }
}

/// Hex SHA-256 of everything the parties agree to (see [`CONTENT_FIELDS`]).
pub fn content_hash(c: &Contract) -> String {
    let mut lines: Vec<String> = c
        .lines
        .iter()
        .map(|l| format!("{}|{}|{}|{}", l.sku, l.spec.as_deref().unwrap_or(""), l.qty, l.unit_price_fen))
        .collect();
    lines.sort();
    let mut orders: Vec<String> = c.orders.iter().map(|o| o.to_string()).collect();
    orders.sort();
    let opt = |o: &Option<String>| o.clone().unwrap_or_default();
    let parts = [
        c.customer.map(|c| c.to_string()).unwrap_or_default(),
        c.title.clone(),
        c.contract_type.map(|t| t.as_str().to_string()).unwrap_or_default(),
        orders.join(","),
        c.party_a.clone(),
        c.party_b.clone(),
        lines.join("\n"),
        opt(&c.delivery_date),
        opt(&c.delivery_place),
        opt(&c.payment_terms),
        opt(&c.quality_standard),
        opt(&c.after_sales),
        opt(&c.valid_until),
        c.clauses.clone(),
    ];
    let mut h = Sha256::new();
    h.update(b"jiuloop/contract-content/v1\n");
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p.as_bytes());
    }
    crate::blob::hex(&h.finalize().into())
}

/// A comment on a clause, with its resolution.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Comment {
    pub id: String,
    pub clause: String,
    pub text: String,
    pub by: String,
    #[serde(with = "json_time")]
    pub at: i64,
    pub resolved_by: Option<String>,
    pub resolution: Option<String>,
}

/// A version of the clause text, as submitted or revised.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Version {
    pub number: usize,
    pub kind: String,
    pub by: String,
    #[serde(with = "json_time")]
    pub at: i64,
    pub text: String,
    pub hash: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TimelineEntry {
    pub event: ContractEvent,
    pub applied: bool,
    pub status_after: S,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Lifecycle {
    pub status: S,
    /// The content hash legal approved (current or not).
    pub approved_hash: Option<String>,
    /// The signing entry applied and the server received it: the content is locked and
    /// the copies went to finance and logistics (the server did both on its arrival).
    pub signed_at: Option<i64>,
    pub locked: bool,
    pub comments: Vec<Comment>,
    pub open_comments: usize,
    pub versions: Vec<Version>,
    pub timeline: Vec<TimelineEntry>,
}

impl Lifecycle {
    pub fn is_signed(&self) -> bool {
        matches!(self.status, S::Signed | S::Archived | S::Expired | S::Terminated) && self.signed_at.is_some()
    }
}

/// Fold the log: `content_hash` is the hash of the content as it is now.
pub fn fold(events: &[ContractEvent], content_hash: &str) -> Lifecycle {
    let sorted = crate::kinds::arrival_order(events, |e| e.received, |e| e.at);
    let mut status = S::Draft;
    let mut approved_hash: Option<String> = None;
    let mut signed_at = None;
    let mut locked = false;
    let mut comments: Vec<Comment> = Vec::new();
    let mut versions = Vec::new();
    let mut timeline = Vec::new();
    let current = |e: &ContractEvent| e.hash.as_deref() == Some(content_hash);
    for e in sorted {
        let kind: Option<K> = e.kind.parse().ok();
        let open = comments.iter().filter(|c| c.resolved_by.is_none()).count();
        let signed = matches!(status, S::Signed | S::Archived | S::Expired | S::Terminated) && signed_at.is_some();
        let mut applied = true;
        match kind {
            Some(K::Submitted) if status == S::Draft => status = S::Submitted,
            Some(K::Review) if matches!(status, S::Submitted | S::Revised) => status = S::InReview,
            Some(K::Comment) if !signed && !is_final(status) => comments.push(Comment {
                id: e.id.clone(),
                clause: e.clause.clone().unwrap_or_default(),
                text: e.text.clone().unwrap_or_default(),
                by: e.by.clone(),
                at: e.at,
                resolved_by: None,
                resolution: None,
            }),
            Some(K::Resolve) => {
                match comments.iter_mut().find(|c| Some(&c.id) == e.comment.as_ref() && c.resolved_by.is_none()) {
                    Some(c) => {
                        c.resolved_by = Some(e.by.clone());
                        c.resolution = e.note.clone();
                    }
                    None => applied = false,
                }
            }
            Some(K::ChangesRequested) if matches!(status, S::Submitted | S::InReview | S::Revised | S::Approved) => {
                status = S::ChangesRequested;
                approved_hash = None;
            }
            Some(K::Revised) if status == S::ChangesRequested => status = S::Revised,
            Some(K::Approved) if matches!(status, S::Submitted | S::InReview | S::Revised) && open == 0 => {
                status = S::Approved;
                approved_hash = e.hash.clone();
            }
            Some(K::Signed) if status == S::Approved && current(e) && e.hash == approved_hash => {
                status = S::Signed;
                signed_at = e.received;
                locked = e.received.is_some();
            }
            Some(K::Archived) if status == S::Signed => status = S::Archived,
            Some(K::Refused) if !signed && !is_final(status) => status = S::Refused,
            Some(K::Expired) if matches!(status, S::Approved | S::Signed | S::Archived) => status = S::Expired,
            Some(K::Terminated) if matches!(status, S::Signed | S::Archived) => status = S::Terminated,
            _ => applied = false,
        }
        if applied && matches!(kind, Some(K::Submitted | K::Revised)) {
            versions.push(Version {
                number: versions.len() + 1,
                kind: e.kind.clone(),
                by: e.by.clone(),
                at: e.at,
                text: e.text.clone().unwrap_or_default(),
                hash: e.hash.clone(),
            });
        }
        timeline.push(TimelineEntry { event: e.clone(), applied, status_after: status });
    }
    // Edited after legal approved: the approval no longer covers the content.
    if status == S::Approved && approved_hash.as_deref() != Some(content_hash) {
        status = S::Revised;
    }
    let open_comments = comments.iter().filter(|c| c.resolved_by.is_none()).count();
    Lifecycle { status, approved_hash, signed_at, locked, comments, open_comments, versions, timeline }
}

fn is_final(s: S) -> bool {
    matches!(s, S::Refused | S::Expired | S::Terminated)
}

/// The log's own check of each new entry, on the server before it applies a change and on
/// honest clients: no comment once signed, a resolution names an open comment, and legal
/// approves only when every comment is resolved.
pub fn check_entry(c: &LogCheck<'_>) -> Result<(), String> {
    let kind = c.entry.str("kind").unwrap_or_default();
    let earlier: Vec<&Entry> = c.earlier().collect();
    let signed = earlier.iter().any(|e| e.str("kind") == Some(K::Signed.as_str()));
    let resolved: BTreeSet<&str> = earlier
        .iter()
        .filter(|e| e.str("kind") == Some(K::Resolve.as_str()))
        .filter_map(|e| e.str("comment"))
        .collect();
    let open: Vec<&str> = earlier
        .iter()
        .filter(|e| e.str("kind") == Some(K::Comment.as_str()))
        .map(|e| e.id.as_str())
        .filter(|id| !resolved.contains(id))
        .collect();
    match kind {
        "comment" | "resolve" if signed => {
            Err("the contract is signed and locked: change it with an amendment that references it".into())
        }
        "comment" if !c.entry.has("text") => Err("a comment needs a text".into()),
        "resolve" => match c.entry.str("comment") {
            Some(id) if open.contains(&id) => Ok(()),
            _ => Err("a resolution must name a comment that is still open".into()),
        },
        "approved" if !open.is_empty() => {
            Err(format!("{} comment(s) on the clauses are unresolved: resolve them before approving", open.len()))
        }
        _ => Ok(()),
    }
}

/// A refusal of [`check_entry`] in Chinese (`None`: not one of its texts).
pub fn refusal_zh(english: &str) -> Option<String> {
    if let Some(n) = english.strip_suffix(" comment(s) on the clauses are unresolved: resolve them before approving") {
        return Some(format!("还有 {n} 条条款意见未解决：请先解决，再批准"));
    }
    Some(
        match english {
            "the contract is signed and locked: change it with an amendment that references it" => {
                "合同已签署锁定：如需修改，请签订引用它的补充协议"
            }
            "a comment needs a text" => "意见须有内容",
            "a resolution must name a comment that is still open" => "须指明一条尚未解决的意见",
            _ => return None,
        }
        .to_string(),
    )
}

/// How far the contract is fulfilled, from the statuses of the orders it covers.
pub fn fulfilment(status: S, orders: &[OrderStatus]) -> Fulfilment {
    let done = |s: &OrderStatus| matches!(s, OrderStatus::Delivered | OrderStatus::Closed);
    let started = |s: &OrderStatus| matches!(s, OrderStatus::Shipped | OrderStatus::Delivered | OrderStatus::Closed);
    let f = if !orders.is_empty() && orders.iter().all(done) {
        Fulfilment::Fulfilled
    } else if orders.iter().any(started) {
        Fulfilment::Partial
    } else {
        Fulfilment::Unfulfilled
    };
    if f != Fulfilment::Fulfilled && is_final(status) { Fulfilment::Lapsed } else { f }
}

/// A line diff from `a` to `b`: each line with `' '` (both), `'-'` (only in `a`) or `'+'`.
pub fn diff(a: &str, b: &str) -> Vec<(char, String)> {
    let (x, y): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    let (n, m) = (x.len(), y.len());
    // Longest common subsequence, table of suffixes.
    let mut l = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            l[i][j] = if x[i] == y[j] { l[i + 1][j + 1] + 1 } else { l[i + 1][j].max(l[i][j + 1]) };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < n || j < m {
        if i < n && j < m && x[i] == y[j] {
            out.push((' ', x[i].to_string()));
            i += 1;
            j += 1;
        } else if i < n && (j == m || l[i + 1][j] >= l[i][j + 1]) {
            out.push(('-', x[i].to_string()));
            i += 1;
        } else {
            out.push(('+', y[j].to_string()));
            j += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: &str = "h1";

    fn ev(kind: &str, n: i64) -> ContractEvent {
        ContractEvent {
            id: format!("{n}@a"),
            kind: kind.into(),
            at: n,
            by: "x".into(),
            received: Some(n),
            ..Default::default()
        }
    }

    fn with_hash(kind: &str, n: i64, hash: &str) -> ContractEvent {
        ContractEvent { hash: Some(hash.into()), ..ev(kind, n) }
    }

    fn comment(n: i64) -> ContractEvent {
        ContractEvent { clause: Some("3".into()), text: Some("付款期限太长".into()), ..ev("comment", n) }
    }

    fn resolve(n: i64, of: i64) -> ContractEvent {
        ContractEvent { comment: Some(format!("{of}@a")), ..ev("resolve", n) }
    }

    #[test]
    fn the_contract_fold() {
        let path = |extra: Vec<ContractEvent>| [vec![ev("submitted", 1), ev("review", 2)], extra].concat();
        // (name, events, status, signed, open comments)
        let cases: Vec<(&str, Vec<ContractEvent>, S, bool, usize)> = vec![
            ("draft", vec![], S::Draft, false, 0),
            ("submitted", vec![ev("submitted", 1)], S::Submitted, false, 0),
            ("in review", path(vec![]), S::InReview, false, 0),
            ("changes requested", path(vec![comment(3), ev("changes-requested", 4)]), S::ChangesRequested, false, 1),
            (
                "revised",
                path(vec![comment(3), ev("changes-requested", 4), ev("revised", 5), resolve(6, 3)]),
                S::Revised,
                false,
                0,
            ),
            ("approved", path(vec![with_hash("approved", 3, H)]), S::Approved, false, 0),
            (
                "no approval over an open comment",
                path(vec![comment(3), with_hash("approved", 4, H)]),
                S::InReview,
                false,
                1,
            ),
            (
                "approval after the comment is resolved",
                path(vec![comment(3), resolve(4, 3), with_hash("approved", 5, H)]),
                S::Approved,
                false,
                0,
            ),
            ("edited after approval", path(vec![with_hash("approved", 3, "old")]), S::Revised, false, 0),
            ("signed", path(vec![with_hash("approved", 3, H), with_hash("signed", 4, H)]), S::Signed, true, 0),
            ("no signing before approval", path(vec![with_hash("signed", 3, H)]), S::InReview, false, 0),
            (
                "a signature of other content",
                path(vec![with_hash("approved", 3, H), with_hash("signed", 4, "other")]),
                S::Approved,
                false,
                0,
            ),
            (
                "archived",
                path(vec![with_hash("approved", 3, H), with_hash("signed", 4, H), ev("archived", 5)]),
                S::Archived,
                true,
                0,
            ),
            (
                "no comment once signed",
                path(vec![with_hash("approved", 3, H), with_hash("signed", 4, H), comment(5)]),
                S::Signed,
                true,
                0,
            ),
            ("refused by the customer", path(vec![ev("refused", 3), ev("review", 4)]), S::Refused, false, 0),
            (
                "no refusal once signed",
                path(vec![with_hash("approved", 3, H), with_hash("signed", 4, H), ev("refused", 5)]),
                S::Signed,
                true,
                0,
            ),
            (
                "terminated",
                path(vec![with_hash("approved", 3, H), with_hash("signed", 4, H), ev("terminated", 5)]),
                S::Terminated,
                true,
                0,
            ),
            ("expired unsigned", path(vec![with_hash("approved", 3, H), ev("expired", 4)]), S::Expired, false, 0),
            ("no termination of a draft", vec![ev("terminated", 1)], S::Draft, false, 0),
        ];
        for (name, events, status, signed, open) in cases {
            let l = fold(&events, H);
            assert_eq!((l.status, l.is_signed(), l.open_comments), (status, signed, open), "{name}: {:#?}", l.timeline);
            // Stored in another list order, the entries fold the same (arrival decides).
            let reversed: Vec<ContractEvent> = events.iter().rev().cloned().collect();
            assert_eq!(fold(&reversed, H).status, status, "{name} reversed");
        }
        // A signature the server has not received yet does not lock anything.
        let unsent = ContractEvent { received: None, ..with_hash("signed", 9, H) };
        let l = fold(&path(vec![with_hash("approved", 3, H), unsent]), H);
        assert_eq!((l.status, l.locked, l.is_signed()), (S::Signed, false, false));
        // Versions: each submission and revision with its text.
        let v = |kind: &str, n: i64, text: &str| ContractEvent { text: Some(text.into()), ..ev(kind, n) };
        let l = fold(
            &[
                v("submitted", 1, "第一条"),
                ev("review", 2),
                ev("changes-requested", 3),
                v("revised", 4, "第一条\n第二条"),
            ],
            H,
        );
        assert_eq!(l.versions.iter().map(|v| v.text.as_str()).collect::<Vec<_>>(), ["第一条", "第一条\n第二条"]);
    }

    #[test]
    fn every_refusal_of_the_log_check_has_its_chinese_text() {
        let legal = crate::rules::Principal { user: "x".into(), role: crate::Role::Legal, territories: vec![] };
        let refusal = |before: &[ContractEvent], new: ContractEvent| {
            let before: Vec<Entry> = before.iter().map(entry_of).collect();
            check_entry(&LogCheck { writer: &legal, entry: &entry_of(&new), before: &before, new_before: &[] })
                .expect_err("refused")
        };
        let signed = [with_hash("approved", 1, H), with_hash("signed", 2, H)];
        let cases = [
            (refusal(&[comment(1)], with_hash("approved", 2, H)), "还有 1 条条款意见未解决：请先解决，再批准"),
            (refusal(&signed, comment(3)), "合同已签署锁定：如需修改，请签订引用它的补充协议"),
            (refusal(&[], ev("comment", 1)), "意见须有内容"),
            (refusal(&[comment(1), resolve(2, 1)], resolve(3, 1)), "须指明一条尚未解决的意见"),
        ];
        for (english, zh) in cases {
            assert_eq!(refusal_zh(&english).as_deref(), Some(zh), "{english}");
        }
        assert_eq!(refusal_zh("something else"), None);
    }

    #[test]
    fn fulfilment_follows_the_orders() {
        use OrderStatus::*;
        let cases: &[(S, &[OrderStatus], Fulfilment)] = &[
            (S::Signed, &[], Fulfilment::Unfulfilled),
            (S::Signed, &[Confirmed, Confirmed], Fulfilment::Unfulfilled),
            (S::Signed, &[Delivered, Confirmed], Fulfilment::Partial),
            (S::Signed, &[Shipped], Fulfilment::Partial),
            (S::Archived, &[Delivered, Closed], Fulfilment::Fulfilled),
            (S::Expired, &[Delivered, Confirmed], Fulfilment::Lapsed),
            (S::Terminated, &[Closed], Fulfilment::Fulfilled),
        ];
        for (status, orders, want) in cases {
            assert_eq!(fulfilment(*status, orders), *want, "{status:?} {orders:?}");
        }
    }

    #[test]
    fn versions_diff_by_line() {
        let d = diff("一\n二\n三", "一\n二改\n三\n四");
        let shown: Vec<String> = d.iter().map(|(c, l)| format!("{c}{l}")).collect();
        assert_eq!(shown, [" 一", "-二", "+二改", " 三", "+四"]);
    }
}
