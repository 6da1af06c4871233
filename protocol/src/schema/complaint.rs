//! Complaint (投诉) documents: the intake, the event log as typed events, and what the
//! server records of a complaint in its tracking document ([`Track`]).

use super::access::{R, check_kind, get_int, get_opt_str, get_parsed, get_str, json_time, json_time_opt};
use super::record::{self, Writer};
use super::{ComplaintCategory, ComplaintChannel, Severity};
use crate::ids::{DocId, DocKind};
use crate::kinds::parse::ParseContext;
use crate::kinds::{Entry, Scalar};
use automerge::{AutoCommit, ROOT};
use serde::Serialize;
use std::collections::BTreeMap;
use uuid::Uuid;

/// The id of the tracking document of `complaint` (the same everywhere; its own inverse).
pub fn track_id(complaint: DocId) -> DocId {
    let mut b = *complaint.as_bytes();
    for (i, x) in b"jiuloop-cptrack!".iter().enumerate() {
        b[i] ^= x;
    }
    DocId(Uuid::from_bytes(b))
}

/// One entry of a complaint's event log.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ComplaintEvent {
    /// The entry's stable id (the same on every device): what arrival times are keyed by.
    #[serde(skip)]
    pub id: String,
    pub kind: String,
    #[serde(with = "json_time")]
    pub at: i64,
    pub by: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub findings: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub responsible: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub measures: Option<String>,
    /// The expected resolution date told to the customer (`YYYY-MM-DD`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub satisfaction: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub told_via: Option<String>,
    /// When the server received it (`None` until it has).
    #[serde(skip_serializing_if = "Option::is_none", with = "json_time_opt")]
    pub received: Option<i64>,
}

impl ComplaintEvent {
    /// When it happened, for decisions (SLA clocks): the device's time held to the window
    /// around the server's arrival time ([`crate::kinds::CLIENT_TIME`]).
    pub fn effective_at(&self) -> i64 {
        match self.received {
            Some(r) => crate::kinds::CLIENT_TIME.clamp(self.at, r),
            None => self.at,
        }
    }

    pub fn new(kind: super::ComplaintEventKind, at: i64, by: &str) -> Self {
        ComplaintEvent { kind: kind.as_str().into(), at, by: by.into(), ..Default::default() }
    }

    fn from_entry(e: &Entry, received: Option<i64>) -> Self {
        let s = |k: &str| e.str(k).map(String::from);
        ComplaintEvent {
            id: e.id.clone(),
            kind: s("kind").unwrap_or_default(),
            at: e.int("at").unwrap_or(0),
            by: s("by").unwrap_or_default(),
            comment: s("comment"),
            findings: s("findings"),
            responsible: s("responsible"),
            measures: s("measures"),
            expected: s("expected"),
            satisfaction: e.int("satisfaction"),
            told_via: s("told_via"),
            received,
        }
    }

    /// The event as a log entry (what is written, and what the log check reads).
    pub fn entry(&self) -> Entry {
        let mut values = BTreeMap::new();
        values.insert("kind".to_string(), Scalar::Str(self.kind.clone()));
        values.insert("at".to_string(), Scalar::Time(self.at));
        values.insert("by".to_string(), Scalar::Str(self.by.clone()));
        let texts = [
            ("comment", &self.comment),
            ("findings", &self.findings),
            ("responsible", &self.responsible),
            ("measures", &self.measures),
            ("expected", &self.expected),
            ("told_via", &self.told_via),
        ];
        for (k, v) in texts {
            if let Some(v) = v.as_ref().filter(|v| !v.trim().is_empty()) {
                values.insert(k.to_string(), Scalar::Str(v.trim().to_string()));
            }
        }
        if let Some(n) = self.satisfaction {
            values.insert("satisfaction".to_string(), Scalar::Int(n));
        }
        Entry { id: String::new(), values }
    }
}

/// A complaint as read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Complaint {
    pub id: DocId,
    pub customer: Option<DocId>,
    pub filed_by: String,
    /// When the customer complained, as the filing device states it.
    #[serde(with = "json_time")]
    pub received_at: i64,
    pub channel: Option<ComplaintChannel>,
    pub category: Option<ComplaintCategory>,
    pub severity: Option<Severity>,
    pub content: String,
    pub order: Option<DocId>,
    pub sku: Option<String>,
    pub batch: Option<String>,
    pub production_date: Option<String>,
    pub contact_phone: Option<String>,
    pub events: Vec<ComplaintEvent>,
    /// When the server first received it: the arrival of its first entry (`None` until then).
    #[serde(skip_serializing_if = "Option::is_none", with = "json_time_opt")]
    pub arrived_at: Option<i64>,
}

impl Complaint {
    /// When the SLA clocks start: the time the device states the complaint was received,
    /// held to the window around the server's arrival time (nobody moves a deadline by
    /// stating another time than the window allows).
    pub fn clock_start(&self) -> i64 {
        match self.arrived_at {
            Some(r) => crate::kinds::CLIENT_TIME.clamp(self.received_at, r),
            None => self.received_at,
        }
    }

    pub fn severity(&self) -> Severity {
        self.severity.unwrap_or(Severity::Normal)
    }
}

/// The log entries of `field` with the server's arrival times.
pub fn entries_with_receipts(doc: &AutoCommit, field: &str) -> Vec<(Entry, Option<i64>)> {
    let receipts = super::read_receipts(doc);
    record::log_entries(doc, field)
        .into_iter()
        .map(|e| {
            let r = receipts.get(&e.id).copied();
            (e, r)
        })
        .collect()
}

pub fn read(doc: &AutoCommit, id: DocId) -> R<Complaint> {
    check_kind(doc, DocKind::Complaint.as_str())?;
    let events: Vec<ComplaintEvent> =
        entries_with_receipts(doc, "events").iter().map(|(e, r)| ComplaintEvent::from_entry(e, *r)).collect();
    let arrived_at = events.iter().find(|e| e.kind == "filed").and_then(|e| e.received);
    let s = |k| get_opt_str(doc, &ROOT, k);
    Ok(Complaint {
        id,
        customer: get_parsed(doc, &ROOT, "customer"),
        filed_by: get_str(doc, &ROOT, "filed_by"),
        received_at: get_int(doc, &ROOT, "received_at").unwrap_or(0),
        channel: get_parsed(doc, &ROOT, "channel"),
        category: get_parsed(doc, &ROOT, "category"),
        severity: get_parsed(doc, &ROOT, "severity"),
        content: get_str(doc, &ROOT, "content"),
        order: get_parsed(doc, &ROOT, "order"),
        sku: s("sku"),
        batch: s("batch"),
        production_date: s("production_date"),
        contact_phone: s("contact_phone"),
        events,
        arrived_at,
    })
}

/// File a complaint into an empty document from typed text (`received`: when the customer
/// complained; the `filed` entry comes with it).
pub fn init(doc: &mut AutoCommit, inputs: &[record::Input<'_>], received: i64, by: &str) -> R<()> {
    record::create(doc, DocKind::Complaint, inputs, &Writer { user: by, now: received }, &ParseContext::default())
}

/// Append an event to the complaint's log.
pub fn append_event(doc: &mut AutoCommit, event: &ComplaintEvent) -> R<()> {
    check_kind(doc, DocKind::Complaint.as_str())?;
    super::access::push_entry(doc, "events", &event.entry().values)
}

/// What the server recorded of a complaint ([`crate::kinds::DocKind::ComplaintTrack`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Track {
    #[serde(skip_serializing_if = "Option::is_none", with = "json_time_opt")]
    pub ack_warned_at: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none", with = "json_time_opt")]
    pub ack_breached_at: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none", with = "json_time_opt")]
    pub resolve_warned_at: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none", with = "json_time_opt")]
    pub resolve_breached_at: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub escalated_to: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revisit_task: Option<DocId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revisit: Option<DocId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub satisfaction: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revisit_comment: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", with = "json_time_opt")]
    pub revisited_at: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revisited_by: Option<String>,
}

pub fn read_track(doc: &AutoCommit) -> R<Track> {
    check_kind(doc, DocKind::ComplaintTrack.as_str())?;
    let t = |k| get_int(doc, &ROOT, k);
    let s = |k| get_opt_str(doc, &ROOT, k);
    Ok(Track {
        ack_warned_at: t("ack_warned_at"),
        ack_breached_at: t("ack_breached_at"),
        resolve_warned_at: t("resolve_warned_at"),
        resolve_breached_at: t("resolve_breached_at"),
        escalated_to: s("escalated_to"),
        revisit_task: get_parsed(doc, &ROOT, "revisit_task"),
        revisit: get_parsed(doc, &ROOT, "revisit"),
        satisfaction: t("satisfaction"),
        revisit_comment: s("revisit_comment"),
        revisited_at: t("revisited_at"),
        revisited_by: s("revisited_by"),
    })
}

/// Write the tracking document of `complaint` as `track` says (the server only): only the
/// fields whose value differs are written, so writing the same again changes nothing.
pub fn write_track(doc: &mut AutoCommit, complaint: DocId, track: &Track) -> R<()> {
    use super::access::{put_int, put_str, put_time};
    let kind = get_str(doc, &ROOT, super::KIND_KEY);
    if kind.is_empty() {
        put_str(doc, &ROOT, super::KIND_KEY, DocKind::ComplaintTrack.as_str())?;
        put_str(doc, &ROOT, "complaint", &complaint.to_string())?;
    }
    let old = read_track(doc)?;
    let times = [
        ("ack_warned_at", old.ack_warned_at, track.ack_warned_at),
        ("ack_breached_at", old.ack_breached_at, track.ack_breached_at),
        ("resolve_warned_at", old.resolve_warned_at, track.resolve_warned_at),
        ("resolve_breached_at", old.resolve_breached_at, track.resolve_breached_at),
        ("revisited_at", old.revisited_at, track.revisited_at),
    ];
    for (k, was, now) in times {
        if let (Some(v), true) = (now, was != now) {
            put_time(doc, &ROOT, k, v)?;
        }
    }
    let id = |d: Option<DocId>| d.map(|d| d.to_string());
    let texts = [
        ("escalated_to", old.escalated_to.clone(), track.escalated_to.clone()),
        ("revisit_task", id(old.revisit_task), id(track.revisit_task)),
        ("revisit", id(old.revisit), id(track.revisit)),
        ("revisit_comment", old.revisit_comment.clone(), track.revisit_comment.clone()),
        ("revisited_by", old.revisited_by.clone(), track.revisited_by.clone()),
    ];
    for (k, was, now) in texts {
        if let (Some(v), true) = (&now, was != now) {
            put_str(doc, &ROOT, k, v)?;
        }
    }
    if let (Some(v), true) = (track.satisfaction, old.satisfaction != track.satisfaction) {
        put_int(doc, &ROOT, "satisfaction", v)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn track_ids_are_derived_and_their_own_inverse() {
        let c = DocId::new_random();
        assert_eq!(track_id(track_id(c)), c);
        assert_ne!(track_id(c), crate::schema::verdict::verdict_id(c));
    }

    #[test]
    fn a_track_written_twice_changes_once() {
        let mut doc = AutoCommit::new();
        let c = DocId::new_random();
        let t = Track { ack_breached_at: Some(5), escalated_to: Some("boss".into()), ..Default::default() };
        write_track(&mut doc, c, &t).unwrap();
        doc.commit();
        let heads = doc.get_heads();
        write_track(&mut doc, c, &t).unwrap();
        doc.commit();
        assert_eq!(doc.get_heads(), heads, "nothing new to write");
        assert_eq!(read_track(&doc).unwrap(), t);
    }
}
