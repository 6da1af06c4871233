//! Quality issues (质量问题) and their recall lists: the issue as read, its workflow folded
//! from its event log — analysis → containment → corrective action → verification →
//! closed, reopened when the effect does not last — and the recall flag of a critical
//! issue.

use super::access::{R, check_kind, get_int, get_opt_str, get_parsed, get_str, json_time, json_time_opt, list_items};
use super::complaint::entries_with_receipts;
use super::{QualityEventKind as K, QualitySource, QualityStatus as S, Severity};
use crate::ids::{DocId, DocKind};
use crate::kinds::{Entry, Scalar};
use automerge::{AutoCommit, ROOT};
use serde::Serialize;
use std::collections::BTreeMap;
use uuid::Uuid;

/// The id of the recall list of quality issue `issue` (its own inverse).
pub fn recall_id(issue: DocId) -> DocId {
    let mut b = *issue.as_bytes();
    for (i, x) in b"jiuloop-recall!!".iter().enumerate() {
        b[i] ^= x;
    }
    DocId(Uuid::from_bytes(b))
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct QualityEvent {
    #[serde(skip)]
    pub id: String,
    pub kind: String,
    #[serde(with = "json_time")]
    pub at: i64,
    pub by: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub complaint: Option<DocId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effective: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none", with = "json_time_opt")]
    pub received: Option<i64>,
}

impl QualityEvent {
    pub fn new(kind: K, at: i64, by: &str) -> Self {
        QualityEvent { kind: kind.as_str().into(), at, by: by.into(), ..Default::default() }
    }

    pub fn effective_at(&self) -> i64 {
        match self.received {
            Some(r) => crate::kinds::CLIENT_TIME.clamp(self.at, r),
            None => self.at,
        }
    }

    fn from_entry(e: &Entry, received: Option<i64>) -> Self {
        let s = |k: &str| e.str(k).map(String::from);
        QualityEvent {
            id: e.id.clone(),
            kind: s("kind").unwrap_or_default(),
            at: e.int("at").unwrap_or(0),
            by: s("by").unwrap_or_default(),
            complaint: e.str("complaint").and_then(|c| c.parse().ok()),
            comment: s("comment"),
            assignee: s("assignee"),
            due: s("due"),
            before: e.int("before"),
            after: e.int("after"),
            effective: match e.values.get("effective") {
                Some(Scalar::Bool(b)) => Some(*b),
                _ => None,
            },
            received,
        }
    }

    pub fn entry(&self) -> Entry {
        let mut values = BTreeMap::new();
        values.insert("kind".to_string(), Scalar::Str(self.kind.clone()));
        values.insert("at".to_string(), Scalar::Time(self.at));
        values.insert("by".to_string(), Scalar::Str(self.by.clone()));
        if let Some(c) = self.complaint {
            values.insert("complaint".to_string(), Scalar::Str(c.to_string()));
        }
        for (k, v) in [("comment", &self.comment), ("assignee", &self.assignee), ("due", &self.due)] {
            if let Some(v) = v.as_ref().filter(|v| !v.trim().is_empty()) {
                values.insert(k.to_string(), Scalar::Str(v.trim().to_string()));
            }
        }
        for (k, v) in [("before", self.before), ("after", self.after)] {
            if let Some(v) = v {
                values.insert(k.to_string(), Scalar::Int(v));
            }
        }
        if let Some(b) = self.effective {
            values.insert("effective".to_string(), Scalar::Bool(b));
        }
        Entry { id: String::new(), values }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct QualityIssue {
    pub id: DocId,
    pub title: String,
    pub source: Option<QualitySource>,
    pub sku: String,
    pub batch: String,
    pub category: Option<super::ComplaintCategory>,
    pub severity: Option<Severity>,
    pub description: String,
    pub created_by: String,
    #[serde(with = "json_time")]
    pub created_at: i64,
    pub events: Vec<QualityEvent>,
}

pub fn read(doc: &AutoCommit, id: DocId) -> R<QualityIssue> {
    check_kind(doc, DocKind::QualityIssue.as_str())?;
    Ok(QualityIssue {
        id,
        title: get_str(doc, &ROOT, "title"),
        source: get_parsed(doc, &ROOT, "source"),
        sku: get_str(doc, &ROOT, "sku"),
        batch: get_str(doc, &ROOT, "batch"),
        category: get_parsed(doc, &ROOT, "category"),
        severity: get_parsed(doc, &ROOT, "severity"),
        description: get_str(doc, &ROOT, "description"),
        created_by: get_str(doc, &ROOT, "created_by"),
        created_at: get_int(doc, &ROOT, "created_at").unwrap_or(0),
        events: entries_with_receipts(doc, "events").iter().map(|(e, r)| QualityEvent::from_entry(e, *r)).collect(),
    })
}

pub fn append_event(doc: &mut AutoCommit, event: &QualityEvent) -> R<()> {
    check_kind(doc, DocKind::QualityIssue.as_str())?;
    super::access::push_entry(doc, "events", &event.entry().values)
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct QualityTimelineEntry {
    pub event: QualityEvent,
    pub applied: bool,
    pub status_after: S,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct QualityLifecycle {
    pub status: S,
    /// The complaints linked to the issue, in the order they were linked.
    pub complaints: Vec<DocId>,
    /// A recall was raised (only a critical issue can raise one).
    pub recall: bool,
    pub root_cause: Option<String>,
    pub containment: Option<String>,
    /// The current corrective action: what, assigned to, due.
    pub action: Option<QualityEvent>,
    /// The latest verification.
    pub verification: Option<QualityEvent>,
    /// Times it was closed (a reopened issue closed again counts twice).
    pub closures: u32,
    pub timeline: Vec<QualityTimelineEntry>,
}

/// Fold a quality issue's events (in the order the server received them).
pub fn fold(events: &[QualityEvent], severity: Severity) -> QualityLifecycle {
    let sorted = crate::kinds::arrival_order(events, |e| e.received, |e| e.at);
    let mut l = QualityLifecycle {
        status: S::Open,
        complaints: Vec::new(),
        recall: false,
        root_cause: None,
        containment: None,
        action: None,
        verification: None,
        closures: 0,
        timeline: Vec::with_capacity(sorted.len()),
    };
    for e in sorted {
        let before = l.status;
        let kind: Option<K> = e.kind.parse().ok();
        let working = !matches!(before, S::Closed);
        let mut applied = true;
        let mut note = None;
        match kind {
            Some(K::Linked) => match e.complaint {
                Some(c) if !l.complaints.contains(&c) => l.complaints.push(c),
                _ => applied = false,
            },
            Some(K::Analysis) if working => {
                l.root_cause = e.comment.clone();
                if matches!(before, S::Open | S::Reopened) {
                    l.status = S::Analysed;
                }
            }
            Some(K::Containment) if working => {
                l.containment = e.comment.clone();
                if matches!(before, S::Open | S::Reopened | S::Analysed) {
                    l.status = S::Contained;
                }
            }
            Some(K::Action) if matches!(before, S::Analysed | S::Contained | S::ActionPlanned | S::Verified) => {
                l.action = Some(e.clone());
                l.status = S::ActionPlanned;
            }
            Some(K::Verification) if matches!(before, S::ActionPlanned | S::Verified) => {
                l.verification = Some(e.clone());
                // An action that did not work needs another one.
                l.status = if e.effective == Some(true) { S::Verified } else { S::ActionPlanned };
            }
            Some(K::Closed) if before == S::Verified => {
                l.status = S::Closed;
                l.closures += 1;
            }
            Some(K::Reopened) if before == S::Closed => l.status = S::Reopened,
            Some(K::Recall) if severity == Severity::Critical && !l.recall => l.recall = true,
            Some(K::Recall) if severity != Severity::Critical => {
                applied = false;
                note = Some("not applied: only a critical issue can raise a recall".to_string());
            }
            _ => applied = false,
        }
        if !applied {
            note.get_or_insert_with(|| format!("not applied: the issue was {}", before.as_str()));
        }
        l.timeline.push(QualityTimelineEntry { event: e.clone(), applied, status_after: l.status, note });
    }
    l
}

/// One customer of a recall list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RecallCustomer {
    pub customer: DocId,
    pub name: String,
    pub territory: Option<String>,
    pub orders: i64,
    pub qty: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RecallList {
    pub issue: Option<DocId>,
    pub sku: String,
    pub batch: String,
    #[serde(with = "json_time")]
    pub raised_at: i64,
    pub customers: Vec<RecallCustomer>,
}

pub fn read_recall(doc: &AutoCommit) -> R<RecallList> {
    check_kind(doc, DocKind::Recall.as_str())?;
    Ok(RecallList {
        issue: get_parsed(doc, &ROOT, "issue"),
        sku: get_str(doc, &ROOT, "sku"),
        batch: get_str(doc, &ROOT, "batch"),
        raised_at: get_int(doc, &ROOT, "raised_at").unwrap_or(0),
        customers: list_items(doc, &ROOT, "customers")
            .iter()
            .filter_map(|c| {
                Some(RecallCustomer {
                    customer: get_parsed(doc, c, "customer")?,
                    name: get_str(doc, c, "name"),
                    territory: get_opt_str(doc, c, "territory"),
                    orders: get_int(doc, c, "orders").unwrap_or(0),
                    qty: get_int(doc, c, "qty").unwrap_or(0),
                })
            })
            .collect(),
    })
}

/// Write the recall list (the server only): the list is replaced when it differs.
pub fn write_recall(doc: &mut AutoCommit, issue: DocId, list: &RecallList) -> R<()> {
    use super::access::{put_int, put_str, put_time};
    if get_str(doc, &ROOT, super::KIND_KEY).is_empty() {
        put_str(doc, &ROOT, super::KIND_KEY, DocKind::Recall.as_str())?;
        put_str(doc, &ROOT, "issue", &issue.to_string())?;
    }
    let old = read_recall(doc)?;
    if old.sku != list.sku {
        put_str(doc, &ROOT, "sku", &list.sku)?;
    }
    if old.batch != list.batch {
        put_str(doc, &ROOT, "batch", &list.batch)?;
    }
    if old.raised_at != list.raised_at {
        put_time(doc, &ROOT, "raised_at", list.raised_at)?;
    }
    if old.customers != list.customers {
        put_int(doc, &ROOT, "customer_count", list.customers.len() as i64)?;
        doc_put_list(doc, list)?;
    }
    Ok(())
}

fn doc_put_list(doc: &mut AutoCommit, list: &RecallList) -> R<()> {
    use automerge::transaction::Transactable;
    doc.put_object(ROOT, "customers", automerge::ObjType::List)?;
    for c in &list.customers {
        let mut values = BTreeMap::new();
        values.insert("id".to_string(), Scalar::Str(c.customer.to_string()));
        values.insert("customer".to_string(), Scalar::Str(c.customer.to_string()));
        values.insert("name".to_string(), Scalar::Str(c.name.clone()));
        if let Some(t) = &c.territory {
            values.insert("territory".to_string(), Scalar::Str(t.clone()));
        }
        values.insert("orders".to_string(), Scalar::Int(c.orders));
        values.insert("qty".to_string(), Scalar::Int(c.qty));
        super::access::push_entry(doc, "customers", &values)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(kind: K, i: i64) -> QualityEvent {
        QualityEvent {
            received: Some(i),
            effective: (kind == K::Verification).then_some(true),
            ..QualityEvent::new(kind, i, "qc")
        }
    }

    #[test]
    fn the_workflow_to_closed_reopened_and_the_recall_flag() {
        use K::*;
        let path = [Analysis, Containment, Action, Verification, Closed];
        let events: Vec<QualityEvent> = path.iter().enumerate().map(|(i, k)| ev(*k, i as i64)).collect();
        let l = fold(&events, Severity::Serious);
        assert_eq!((l.status, l.closures), (S::Closed, 1));
        // Reopened, a new action, verified again, closed again.
        let more: Vec<QualityEvent> = [Reopened, Analysis, Action, Verification, Closed]
            .iter()
            .enumerate()
            .map(|(i, k)| ev(*k, 10 + i as i64))
            .collect();
        let l = fold(&[events.clone(), more].concat(), Severity::Serious);
        assert_eq!((l.status, l.closures), (S::Closed, 2));
        // Not closed before a verification that found the action effective.
        let failed = QualityEvent { effective: Some(false), ..ev(Verification, 3) };
        let l = fold(&[ev(Analysis, 0), ev(Action, 1), failed, ev(Closed, 4)], Severity::Normal);
        assert_eq!(l.status, S::ActionPlanned);
        assert!(!l.timeline[3].applied);
        // Only a critical issue raises a recall.
        assert!(fold(&[ev(Recall, 0)], Severity::Critical).recall);
        let l = fold(&[ev(Recall, 0)], Severity::Serious);
        assert!(!l.recall && !l.timeline[0].applied);
        // Linked complaints, each once.
        let c = DocId::new_random();
        let link = QualityEvent { complaint: Some(c), ..ev(Linked, 0) };
        let l = fold(&[link.clone(), QualityEvent { received: Some(1), ..link }], Severity::Normal);
        assert_eq!(l.complaints, vec![c]);
    }

    #[test]
    fn recall_ids_are_their_own_inverse() {
        let i = DocId::new_random();
        assert_eq!(recall_id(recall_id(i)), i);
        assert_ne!(recall_id(i), crate::schema::complaint::track_id(i));
    }
}
