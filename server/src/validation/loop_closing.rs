//! The after-sales loop closes by itself, on the server, exactly once:
//!
//! - a complaint that is resolved gets a revisit task for its customer, due within the
//!   policy's `revisit_days`, assigned to the customer's rep (or the after-sales person who
//!   resolved it) — one per resolution (`effects`: `revisit`, key the resolution's number),
//!   however many devices resolved it offline;
//! - a quality issue that is closed gets a revisit task for every customer who complained
//!   about its batch (`revisit`, key the customer);
//! - a revisit of a complaint's customer that names the complaint (or a task of it) has its
//!   satisfaction written back to the complaint's tracking document — never into the
//!   complaint itself.

use super::service::{self, date_after, short};
use super::{Changed, ValidationCx, Validator};
use crate::storage::DbError;
use protocol::schema::complaint::{self, Complaint};
use protocol::schema::{ComplaintEventKind, Severity, TaskStatus, complaint_lifecycle, quality};
use protocol::{DocId, DocKind};

pub struct LoopClosing;

impl Validator for LoopClosing {
    fn name(&self) -> &'static str {
        "loop-closing"
    }

    fn targets(&self, c: &Changed, _cx: &mut dyn ValidationCx) -> Result<Vec<DocId>, DbError> {
        Ok(match c.kind {
            DocKind::Complaint | DocKind::QualityIssue if c.created || !c.new_entries.is_empty() => vec![c.id],
            DocKind::Revisit => vec![c.id],
            _ => Vec::new(),
        })
    }

    fn validate(&self, id: DocId, cx: &mut dyn ValidationCx) -> Result<(), DbError> {
        match cx.doc(id)?.map(|(k, _)| k) {
            Some(DocKind::Complaint) => complaint_resolved(id, cx),
            Some(DocKind::QualityIssue) => issue_closed(id, cx),
            Some(DocKind::Revisit) => write_back(id, cx),
            _ => Ok(()),
        }
    }
}

fn read_complaint(cx: &mut dyn ValidationCx, id: DocId) -> Result<Option<Complaint>, DbError> {
    Ok(match cx.doc(id)? {
        Some((DocKind::Complaint, doc)) => complaint::read(doc, id).ok(),
        _ => None,
    })
}

/// A resolved complaint: its revisit task, once per resolution.
fn complaint_resolved(id: DocId, cx: &mut dyn ValidationCx) -> Result<(), DbError> {
    let Some(c) = read_complaint(cx, id)? else { return Ok(()) };
    let life = complaint_lifecycle::fold(&c.events, c.clock_start());
    let (Some(resolved_at), Some(customer)) = (life.resolved_at(), c.customer) else { return Ok(()) };
    let key = life.resolutions.to_string();
    if cx.storage().effect(id.as_bytes(), "revisit", &key)?.is_some() {
        return Ok(());
    }
    let policy = service::policy(cx)?;
    let resolver = life
        .timeline
        .iter()
        .rev()
        .find(|t| t.applied && t.event.kind == ComplaintEventKind::Resolved.as_str())
        .map(|t| t.event.by.clone());
    let assignee = service::customer_rep(cx, customer)?.or(resolver).unwrap_or_default();
    let due = date_after(resolved_at.max(cx.now()), policy.revisit_days);
    let inputs = vec![
        ("customer", customer.to_string()),
        ("complaint", id.to_string()),
        ("content", "satisfaction-survey".to_string()),
        ("method", "phone".to_string()),
        ("due", due),
        ("assignee", assignee),
        ("status", TaskStatus::Open.as_str().to_string()),
        ("note", format!("投诉 {} 已解决，请回访客户满意度", short(id))),
    ];
    let Some(task) = service::create_record(cx, DocKind::RevisitTask, &inputs, "revisit of a resolved complaint")?
    else {
        return Ok(());
    };
    cx.storage().insert_effect(id.as_bytes(), "revisit", &key, cx.now(), &task.to_string())?;
    service::update_track(cx, id, "revisit planned", |t| t.revisit_task = Some(task))?;
    tracing::info!(complaint = %id, %task, "complaint resolved: revisit task created");
    Ok(())
}

/// A closed quality issue: a revisit of every customer who complained about its batch.
fn issue_closed(id: DocId, cx: &mut dyn ValidationCx) -> Result<(), DbError> {
    let issue = match cx.doc(id)? {
        Some((DocKind::QualityIssue, doc)) => match quality::read(doc, id) {
            Ok(i) => i,
            Err(_) => return Ok(()),
        },
        _ => return Ok(()),
    };
    let life = quality::fold(&issue.events, issue.severity.unwrap_or(Severity::Normal));
    if life.status != protocol::schema::QualityStatus::Closed {
        return Ok(());
    }
    // The linked complaints, and every complaint about the batch.
    let mut complaints: Vec<DocId> = life.complaints.clone();
    if !issue.batch.trim().is_empty() {
        for raw in cx.storage().doc_ids_of_kind(DocKind::Complaint.code())? {
            let Some(cid) = DocId::from_slice(&raw) else { continue };
            if complaints.contains(&cid) {
                continue;
            }
            if read_complaint(cx, cid)?.is_some_and(|c| c.batch.as_deref().map(str::trim) == Some(issue.batch.trim())) {
                complaints.push(cid);
            }
        }
    }
    let policy = service::policy(cx)?;
    for cid in complaints {
        let Some(c) = read_complaint(cx, cid)? else { continue };
        let Some(customer) = c.customer else { continue };
        let key = customer.to_string();
        if cx.storage().effect(id.as_bytes(), "revisit", &key)?.is_some() {
            continue;
        }
        let assignee = service::customer_rep(cx, customer)?.unwrap_or_default();
        let inputs = vec![
            ("customer", customer.to_string()),
            ("complaint", cid.to_string()),
            ("quality_issue", id.to_string()),
            ("content", "product-experience".to_string()),
            ("method", "phone".to_string()),
            ("due", date_after(cx.now(), policy.revisit_days)),
            ("assignee", assignee),
            ("status", TaskStatus::Open.as_str().to_string()),
            ("note", format!("批次 {} 的质量问题已整改关闭，请回访客户", issue.batch)),
        ];
        let Some(task) = service::create_record(cx, DocKind::RevisitTask, &inputs, "revisit after a quality issue")?
        else {
            continue;
        };
        cx.storage().insert_effect(id.as_bytes(), "revisit", &key, cx.now(), &task.to_string())?;
        tracing::info!(issue = %id, %customer, %task, "quality issue closed: revisit task created");
    }
    Ok(())
}

/// A revisit's satisfaction, written back to its complaint's tracking document.
fn write_back(id: DocId, cx: &mut dyn ValidationCx) -> Result<(), DbError> {
    let Some(r) = service::record_of(cx, id, DocKind::Revisit)? else { return Ok(()) };
    let Some(satisfaction) = r.int("satisfaction") else { return Ok(()) };
    let customer: Option<DocId> = r.str("customer").and_then(|c| c.parse().ok());
    let mut complaint: Option<DocId> = r.str("complaint").and_then(|c| c.parse().ok());
    if complaint.is_none()
        && let Some(task) = r.str("task").and_then(|t| t.parse::<DocId>().ok())
    {
        complaint = service::record_of(cx, task, DocKind::RevisitTask)?
            .and_then(|t| t.str("complaint").and_then(|c| c.parse().ok()));
    }
    let Some(cid) = complaint else { return Ok(()) };
    // Only a revisit of the complaint's own customer speaks for it.
    match read_complaint(cx, cid)? {
        Some(c) if c.customer.is_some() && c.customer == customer => {}
        _ => return Ok(()),
    }
    let storage = cx.storage();
    let by = storage.doc(id.as_bytes())?.and_then(|row| row.author);
    let now = cx.now();
    let at = r.int("at").map(|at| protocol::kinds::CLIENT_TIME.clamp(at, now));
    let comment = r.str("answers").map(String::from);
    service::update_track(cx, cid, "revisit satisfaction", |t| {
        t.revisit = Some(id);
        t.satisfaction = Some(satisfaction);
        t.revisit_comment = comment;
        t.revisited_at = at;
        t.revisited_by = by;
    })?;
    Ok(())
}
