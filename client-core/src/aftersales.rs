//! After-sales on the device: complaints filed on the spot (offline too) and worked step by
//! step, their SLA clocks computed offline with the same pure function as the server,
//! quality issues of a batch with their complaints and recall list, revisits and their
//! tasks, and the care calendar's tasks. Every step is checked against the registry's
//! rules before it is committed (a rep's device refuses an acknowledgement locally, as the
//! server would).

use crate::error::CoreError;
use crate::replica::Replica;
use protocol::schema::complaint::{self, Complaint, ComplaintEvent, Track, track_id};
use protocol::schema::complaint_lifecycle::{self, Lifecycle};
use protocol::schema::quality::{self, QualityEvent, QualityIssue, QualityLifecycle, RecallList, recall_id};
use protocol::schema::record::{Input, Record};
use protocol::schema::sla::{self, POLICY_ID, Recorded, SlaClocks, SlaPolicy};
use protocol::schema::{ComplaintStatus, QualityEventKind, Severity, TaskStatus};
use protocol::{DocId, DocKind, Role};
use serde::Serialize;

/// A complaint as the after-sales queue and its detail show it.
#[derive(Clone, Debug, Serialize)]
pub struct ComplaintView {
    #[serde(flatten)]
    pub complaint: Complaint,
    pub customer_name: Option<String>,
    pub status: ComplaintStatus,
    pub lifecycle: Lifecycle,
    pub clocks: SlaClocks,
    /// What the server recorded: breaches, escalation, the revisit and its satisfaction.
    pub track: Track,
}

impl ComplaintView {
    /// The time left on the clock that matters now (negative: breached).
    pub fn time_left_ms(&self) -> i64 {
        self.clocks.current().remaining_ms
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct QualityView {
    #[serde(flatten)]
    pub issue: QualityIssue,
    pub lifecycle: QualityLifecycle,
    /// The complaints about the issue's batch this device holds (linked or not).
    pub complaints: Vec<ComplaintView>,
    /// The server's recall list, once the recall is raised.
    pub recall: Option<RecallList>,
}

impl Replica {
    /// The after-sales policy this device holds (the defaults while none is synced).
    pub fn sla_policy(&self) -> SlaPolicy {
        SlaPolicy::from_record(self.record(POLICY_ID).ok().filter(|r| r.kind == DocKind::AftersalesPolicy).as_ref())
    }

    pub fn complaint(&self, id: DocId) -> Result<Complaint, CoreError> {
        Ok(complaint::read(self.doc_ref(id, DocKind::Complaint)?, id)?)
    }

    /// What the server recorded of a complaint, once this device has it.
    pub fn track(&self, complaint: DocId) -> Option<Track> {
        self.doc_ref(track_id(complaint), DocKind::ComplaintTrack).ok().and_then(|d| complaint::read_track(d).ok())
    }

    fn complaint_view_of(&self, c: Complaint, policy: &SlaPolicy, now: i64) -> ComplaintView {
        let lifecycle = complaint_lifecycle::fold(&c.events, c.clock_start());
        let track = self.track(c.id).unwrap_or_default();
        let recorded =
            Recorded { ack_breached_at: track.ack_breached_at, resolve_breached_at: track.resolve_breached_at };
        let clocks = sla::clocks(&lifecycle, c.severity(), policy, &recorded, now);
        let customer_name = c.customer.and_then(|id| self.customer(id).ok()).map(|c| c.name);
        ComplaintView { status: lifecycle.status, complaint: c, customer_name, lifecycle, clocks, track }
    }

    /// A complaint with its folded history and its clocks at `now`.
    pub fn complaint_view(&self, id: DocId, now: i64) -> Result<ComplaintView, CoreError> {
        let c = self.complaint(id)?;
        Ok(self.complaint_view_of(c, &self.sla_policy(), now))
    }

    /// Every complaint held here, the after-sales queue's order: open ones by the time left
    /// on their clock (breached first), then the resolved and closed ones, newest first.
    pub fn complaint_queue(&self, now: i64) -> Vec<ComplaintView> {
        let policy = self.sla_policy();
        let mut all: Vec<ComplaintView> = self
            .records(DocKind::Complaint)
            .iter()
            .filter_map(|r| self.complaint(r.id).ok())
            .map(|c| self.complaint_view_of(c, &policy, now))
            .collect();
        all.sort_by(|a, b| {
            let key = |v: &ComplaintView| {
                (
                    !v.lifecycle.is_open(),
                    if v.lifecycle.is_open() { v.time_left_ms() } else { -v.complaint.received_at },
                )
            };
            key(a).cmp(&key(b)).then(a.complaint.id.cmp(&b.complaint.id))
        });
        all
    }

    /// File a complaint from typed text (the kind's fields), received from the customer at
    /// `received_at` (at most [`protocol::kinds::CLIENT_TIME`] back).
    pub fn file_complaint(&mut self, inputs: &[Input<'_>], received_at: i64, now: i64) -> Result<DocId, CoreError> {
        self.create_stated(DocKind::Complaint, inputs, received_at.min(now), now)
    }

    /// Append a step to a complaint's history (its author and time are this user and now),
    /// checked against who may record it.
    pub fn complaint_step(&mut self, id: DocId, mut event: ComplaintEvent, now: i64) -> Result<(), CoreError> {
        self.doc_ref(id, DocKind::Complaint)?;
        event.by = self.user().to_string();
        event.at = now;
        let entry = event.entry();
        self.append_entry(id, "events", entry, now, |doc| complaint::append_event(doc, &event))
    }

    // ---- quality issues --------------------------------------------------------

    pub fn quality_issue(&self, id: DocId) -> Result<QualityIssue, CoreError> {
        Ok(quality::read(self.doc_ref(id, DocKind::QualityIssue)?, id)?)
    }

    pub fn recall_list(&self, issue: DocId) -> Option<RecallList> {
        self.doc_ref(recall_id(issue), DocKind::Recall).ok().and_then(|d| quality::read_recall(d).ok())
    }

    pub fn quality_view(&self, id: DocId, now: i64) -> Result<QualityView, CoreError> {
        let issue = self.quality_issue(id)?;
        let lifecycle = quality::fold(&issue.events, issue.severity.unwrap_or(Severity::Normal));
        let policy = self.sla_policy();
        let batch = issue.batch.trim().to_string();
        let complaints = self
            .records(DocKind::Complaint)
            .iter()
            .filter_map(|r| self.complaint(r.id).ok())
            .filter(|c| {
                lifecycle.complaints.contains(&c.id) || (!batch.is_empty() && c.batch.as_deref() == Some(&batch))
            })
            .map(|c| self.complaint_view_of(c, &policy, now))
            .collect();
        Ok(QualityView { recall: self.recall_list(id), issue, lifecycle, complaints })
    }

    /// Every quality issue held here, by SKU and batch.
    pub fn quality_issues(&self, now: i64) -> Vec<QualityView> {
        let mut all: Vec<QualityView> =
            self.records(DocKind::QualityIssue).iter().filter_map(|r| self.quality_view(r.id, now).ok()).collect();
        all.sort_by(|a, b| (&a.issue.sku, &a.issue.batch, a.issue.id).cmp(&(&b.issue.sku, &b.issue.batch, b.issue.id)));
        all
    }

    /// Open a quality issue from typed text, linked to `complaints`.
    pub fn open_quality_issue(
        &mut self,
        inputs: &[Input<'_>],
        complaints: &[DocId],
        now: i64,
    ) -> Result<DocId, CoreError> {
        for c in complaints {
            self.complaint(*c)?;
        }
        let id = self.create(DocKind::QualityIssue, inputs, now)?;
        for c in complaints {
            let e = QualityEvent { complaint: Some(*c), ..QualityEvent::new(QualityEventKind::Linked, now, "") };
            self.quality_step(id, e, now)?;
        }
        Ok(id)
    }

    /// Append a step to a quality issue's history, as this user, now.
    pub fn quality_step(&mut self, id: DocId, mut event: QualityEvent, now: i64) -> Result<(), CoreError> {
        self.doc_ref(id, DocKind::QualityIssue)?;
        event.by = self.user().to_string();
        event.at = now;
        let entry = event.entry();
        self.append_entry(id, "events", entry, now, |doc| quality::append_event(doc, &event))
    }

    /// The verification metrics of an issue: complaints about its SKU (held here) received
    /// before its current corrective action, and since.
    pub fn verification_metrics(&self, id: DocId) -> Result<(i64, i64), CoreError> {
        let issue = self.quality_issue(id)?;
        let life = quality::fold(&issue.events, issue.severity.unwrap_or(Severity::Normal));
        let since = life.action.as_ref().map_or(issue.created_at, |a| a.effective_at());
        let sku = issue.sku.trim().to_lowercase();
        let (mut before, mut after) = (0, 0);
        for r in self.records(DocKind::Complaint) {
            let Ok(c) = self.complaint(r.id) else { continue };
            if c.sku.as_deref().map(|s| s.trim().to_lowercase()) != Some(sku.clone()) {
                continue;
            }
            if c.clock_start() >= since {
                after += 1;
            } else {
                before += 1;
            }
        }
        Ok((before, after))
    }

    // ---- revisits and tasks ----------------------------------------------------

    /// Record a revisit from typed text (the kind's fields); a task it names is marked done.
    pub fn record_revisit(&mut self, inputs: &[Input<'_>], now: i64) -> Result<DocId, CoreError> {
        let task = inputs.iter().find(|(f, _)| *f == "task").and_then(|(_, v)| v.trim().parse::<DocId>().ok());
        let mut inputs = inputs.to_vec();
        // A revisit of a complaint's task names the complaint too (its satisfaction goes back).
        let complaint = task.and_then(|t| self.record(t).ok()).and_then(|t| t.str("complaint").map(String::from));
        if let Some(c) = &complaint
            && !inputs.iter().any(|(f, _)| *f == "complaint")
        {
            inputs.push(("complaint", c.as_str()));
        }
        let id = self.create(DocKind::Revisit, &inputs, now)?;
        if let Some(t) = task
            && self.may_write(t, "status")
        {
            self.finish_task(t, TaskStatus::Done, None, now)?;
        }
        Ok(id)
    }

    /// Mark a revisit or care task done or skipped, with a note.
    pub fn finish_task(
        &mut self,
        id: DocId,
        status: TaskStatus,
        note: Option<&str>,
        now: i64,
    ) -> Result<(), CoreError> {
        match self.kind_of(id) {
            Some(DocKind::RevisitTask | DocKind::CareTask) => {}
            Some(found) => return Err(CoreError::WrongKind { id, expected: DocKind::RevisitTask, found }),
            None => return Err(CoreError::Unknown(id.to_string())),
        }
        let mut inputs = vec![("status", status.as_str())];
        if let Some(n) = note {
            inputs.push(("note", n));
        }
        self.edit(id, &inputs, now)
    }

    /// Open tasks of `kind` (revisit or care tasks) due on or before `until` (`YYYY-MM-DD`;
    /// `None`: all), earliest first. A rep sees the ones assigned to them.
    pub fn open_tasks(&self, kind: DocKind, until: Option<&str>) -> Vec<Record> {
        let mine_only = self.principal().is_some_and(|p| p.role == Role::Rep);
        let me = self.user().to_string();
        let mut all: Vec<Record> = self
            .records(kind)
            .into_iter()
            .filter(|r| r.str("status").is_none_or(|s| s == TaskStatus::Open.as_str()))
            .filter(|r| until.is_none_or(|u| r.str("due").is_some_and(|d| d <= u)))
            .filter(|r| !mine_only || r.str("assignee").is_none_or(|a| a == me))
            .collect();
        all.sort_by(|a, b| (a.str("due"), a.id).cmp(&(b.str("due"), b.id)));
        all
    }

    /// A customer's revisit archive: every revisit record of the customer, oldest first.
    pub fn revisit_archive(&self, customer: DocId) -> Vec<Record> {
        let id = customer.to_string();
        let mut all: Vec<Record> =
            self.records(DocKind::Revisit).into_iter().filter(|r| r.str("customer") == Some(id.as_str())).collect();
        all.sort_by_key(|r| (r.int("at"), r.id));
        all
    }
}
