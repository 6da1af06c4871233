//! Workflows, read receipts and what the market department publishes, on the device: the
//! status of any document with a workflow log and the steps this user may take from it
//! (checked as the server checks them), read receipts, a market report's competitor-price
//! summary (the server's once published, else computed here from the observations held),
//! a partner's evaluation, and an approved product plan's SKUs as draft catalogue rows.

use crate::error::CoreError;
use crate::replica::Replica;
use protocol::kinds::{Entry, LogFold, Scalar, workflow};
use protocol::presales::evaluation::Evaluation;
use protocol::presales::summary::{self, Observation, SummaryRow};
use protocol::schema::presales_docs;
use protocol::schema::record::Record;
use protocol::{DocId, DocKind};
use serde::Serialize;
use std::collections::BTreeMap;

/// One entry of a workflow or receipts log, as shown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TimelineRow {
    /// The step (`approve`, `publish` …) or `read`.
    pub kind: String,
    pub by: String,
    pub role: String,
    /// As the device stated it (UTC ms).
    pub at: i64,
    /// When the server received it (`None`: not yet).
    pub received: Option<i64>,
    pub comment: String,
    pub applied: bool,
    pub status_after: &'static str,
}

/// A workflow log (or the read receipts) of a document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LogView {
    pub field: &'static str,
    pub receipts: bool,
    /// The folded status (receipts: empty).
    pub status: &'static str,
    /// The steps this user may take now (receipts: `read`, if they have not yet).
    pub steps: Vec<&'static str>,
    pub timeline: Vec<TimelineRow>,
}

/// A market report's competitor-price summary, with where it comes from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReportView {
    pub id: DocId,
    pub status: &'static str,
    /// The server's summary, written when the report was published (else computed here).
    pub by_server: bool,
    pub computed_at: Option<i64>,
    pub observations: i64,
    pub rows: Vec<SummaryRow>,
}

fn row(f: &workflow::Folded<'_>) -> TimelineRow {
    let s = |k: &str| f.entry.str(k).unwrap_or_default().to_string();
    TimelineRow {
        kind: f.kind.to_string(),
        by: s("by"),
        role: s("role"),
        at: f.entry.int("at").unwrap_or(0),
        received: f.received,
        comment: s("comment"),
        applied: f.applied,
        status_after: f.status_after,
    }
}

impl Replica {
    /// The workflow and receipt logs of a document held here.
    pub fn logs(&self, id: DocId) -> Vec<LogView> {
        let Some((doc, kind)) = self.doc_and_kind(id) else { return Vec::new() };
        let author = self.facts_of(id).and_then(|f| f.author);
        let me = self.principal().cloned();
        let mut out = Vec::new();
        for (f, log) in kind.spec().logs() {
            let Some((_, entries, received)) = presales_docs::log_of(doc, kind, f.name) else { continue };
            let may = |entry: &str| {
                let Some(e) = log.entry(entry) else { return false };
                let by_role = me.as_ref().is_none_or(|p| e.writers.contains(&p.role));
                let own = e.not_by_author && me.as_ref().is_some_and(|p| author.as_deref() == Some(p.user.as_str()));
                by_role && !own && self.may_write(id, f.name)
            };
            match log.fold {
                LogFold::Workflow(wf) => {
                    let folded = workflow::fold(wf, log, &entries, &received);
                    let steps = wf
                        .steps
                        .iter()
                        .filter(|s| s.from.contains(&folded.status) && may(s.entry))
                        .map(|s| s.entry)
                        .collect();
                    out.push(LogView {
                        field: f.name,
                        receipts: false,
                        status: folded.status,
                        steps,
                        timeline: folded.timeline.iter().map(row).collect(),
                    });
                }
                LogFold::Receipts => {
                    let read = workflow::receipts(log, &entries, &received);
                    let mine = read.iter().any(|r| r.entry.str("by") == Some(self.user()));
                    let steps = if !mine && may("read") { vec!["read"] } else { Vec::new() };
                    out.push(LogView {
                        field: f.name,
                        receipts: true,
                        status: "",
                        steps,
                        timeline: read.iter().map(row).collect(),
                    });
                }
                LogFold::Custom | LogFold::History => {}
            }
        }
        out
    }

    fn append_log(
        &mut self,
        id: DocId,
        field: &'static str,
        mut values: BTreeMap<String, Scalar>,
        now: i64,
    ) -> Result<(), CoreError> {
        let kind = self.kind_of(id).ok_or_else(|| CoreError::Unknown(id.to_string()))?;
        values.insert("by".into(), Scalar::Str(self.user().to_string()));
        values.insert("at".into(), Scalar::Time(now));
        if let Some(p) = self.principal() {
            values.insert("role".into(), Scalar::Str(p.role.as_str().to_string()));
        }
        let entry = Entry { id: String::new(), values: values.clone() };
        self.append_entry(id, field, entry, now, |doc| presales_docs::append(doc, kind, field, &values))
    }

    /// Take workflow step `step` on a document (`approve`, `publish`, `sign` …), with an
    /// optional comment: refused here, as on the server, when this user's role may not take
    /// it; refused here (the server would keep it as not applied) when it does not apply to
    /// the status this device sees.
    pub fn step(&mut self, id: DocId, step: &str, comment: &str, now: i64) -> Result<(), CoreError> {
        let kind = self.kind_of(id).ok_or_else(|| CoreError::Unknown(id.to_string()))?;
        let Some((field, wf)) = kind.spec().workflow() else {
            return Err(CoreError::NotAllowed {
                field: String::new(),
                rule: "no-workflow".into(),
                message: format!("a {kind} has no workflow"),
            });
        };
        let status = self.status_of(id).unwrap_or(wf.initial());
        let known: Vec<&str> = wf.steps.iter().map(|s| s.entry).collect();
        let Some(s) = wf.step(step.trim()) else {
            return Err(CoreError::NotAllowed {
                field: field.name.into(),
                rule: "step".into(),
                message: format!("'{step}' is not a step of a {kind} (steps: {})", known.join(", ")),
            });
        };
        if !s.from.contains(&status) {
            return Err(CoreError::NotAllowed {
                field: field.name.into(),
                rule: "step-status".into(),
                message: format!("'{}' does not apply to a {kind} that is {status}", s.entry),
            });
        }
        let mut values = BTreeMap::new();
        values.insert("step".into(), Scalar::Str(s.entry.to_string()));
        if !comment.trim().is_empty() {
            values.insert("comment".into(), Scalar::Str(comment.trim().to_string()));
        }
        self.append_log(id, field.name, values, now)
    }

    /// Record that this user read a document that takes read receipts (a published report
    /// or forecast). Reading it again records nothing.
    pub fn mark_read(&mut self, id: DocId, now: i64) -> Result<(), CoreError> {
        let kind = self.kind_of(id).ok_or_else(|| CoreError::Unknown(id.to_string()))?;
        let field = kind.spec().logs().find(|(_, l)| matches!(l.fold, LogFold::Receipts)).map(|(f, _)| f.name);
        let Some(field) = field else {
            return Err(CoreError::NotAllowed {
                field: String::new(),
                rule: "no-receipts".into(),
                message: format!("a {kind} takes no read receipts"),
            });
        };
        if self.logs(id).iter().any(|l| l.receipts && l.timeline.iter().any(|r| r.by == self.user())) {
            return Ok(());
        }
        self.append_log(id, field, BTreeMap::new(), now)
    }

    /// The observations held here as the summary reads them (region and territory of
    /// their customer).
    fn observations(&self) -> Vec<Observation> {
        let mut customers: BTreeMap<DocId, (String, String)> = BTreeMap::new();
        self.records(DocKind::CompetitorObservation)
            .iter()
            .map(|r| {
                let c: Option<DocId> = r.str("customer").and_then(|s| s.parse().ok());
                let (region, territory) = match c {
                    Some(c) => customers
                        .entry(c)
                        .or_insert_with(|| {
                            self.customer(c)
                                .map(|c| (c.region.unwrap_or_default(), c.territory.unwrap_or_default()))
                                .unwrap_or_default()
                        })
                        .clone(),
                    None => Default::default(),
                };
                let s = |f: &str| r.str(f).unwrap_or_default().to_string();
                Observation {
                    brand: s("brand"),
                    product: s("product"),
                    spec: s("spec"),
                    region: if region.trim().is_empty() { territory.clone() } else { region },
                    price_fen: r.int("shelf_price").unwrap_or(0),
                    promotion: s("promotion"),
                    at: r.int("observed_at").unwrap_or(0),
                    territory,
                }
            })
            .collect()
    }

    /// A market report's summary: the server's, once it published it; until then computed
    /// from the observations this device holds (the market department holds them all).
    pub fn report_summary(&self, id: DocId) -> Result<ReportView, CoreError> {
        let r = self.record(id)?;
        if r.kind != DocKind::MarketReport {
            return Err(CoreError::WrongKind { id, expected: DocKind::MarketReport, found: r.kind });
        }
        let status = self.status_of(id).unwrap_or("draft");
        let summary_id = protocol::kinds::presales::summary_id(id);
        if let Some((doc, DocKind::ReportSummary)) = self.doc_and_kind(summary_id)
            && let Ok((rows, observations, at)) = presales_docs::read_summary(doc)
        {
            return Ok(ReportView { id, status, by_server: true, computed_at: Some(at), observations, rows });
        }
        let rows = self.summary_preview(&r);
        Ok(ReportView { id, status, by_server: false, computed_at: None, observations: rows.1, rows: rows.0 })
    }

    fn summary_preview(&self, r: &Record) -> (Vec<SummaryRow>, i64) {
        let date = |f: &str| r.str(f).and_then(protocol::time::parse_date);
        let (Some(from), Some(to)) = (date("period_from"), date("period_to")) else { return (Vec::new(), 0) };
        let territory = r.str("scope_territory").map(str::trim).filter(|t| !t.is_empty());
        let all = self.observations();
        let picked: Vec<&Observation> =
            all.iter().filter(|o| summary::selected(o, o.at, from, to, territory)).collect();
        (summary::summarize(picked.iter().copied()), picked.len() as i64)
    }

    /// A partner's evaluation as the server last computed it (`None`: not yet synced here).
    pub fn evaluation(&self, partner: DocId) -> Option<Evaluation> {
        let id = protocol::kinds::presales::evaluation_id(partner);
        match self.doc_and_kind(id) {
            Some((doc, DocKind::PartnerEvaluation)) => presales_docs::read_evaluation(doc).ok(),
            _ => None,
        }
    }

    /// An approved product plan's new SKUs as `sku` rows of the price policy's CSV format,
    /// inactive (draft catalogue entries: the market department prices them, sets them
    /// active and imports the file with `policy import`).
    pub fn draft_catalogue(&self, plan: DocId) -> Result<String, CoreError> {
        let p = self.record(plan)?;
        if p.kind != DocKind::ProductPlan {
            return Err(CoreError::WrongKind { id: plan, expected: DocKind::ProductPlan, found: p.kind });
        }
        let status = self.status_of(plan).unwrap_or("draft");
        if status != "approved" {
            return Err(CoreError::NotAllowed {
                field: "status".into(),
                rule: "not-approved".into(),
                message: format!("the product plan is {status}: only an approved plan's SKUs become catalogue entries"),
            });
        }
        let series = p.str("series").unwrap_or_default();
        let cell = summary::csv_cell;
        let mut out = format!(
            "# 产品规划《{series}》已批准的新品：草稿目录（active = no）。定价（price 行）并改为 yes 后用 policy import 导入。\n\
             # sku,code,series,name,spec,alcohol,aroma,unit,bottles per case,active\n"
        );
        let mut skus: Vec<Record> = self
            .records(DocKind::PlannedSku)
            .into_iter()
            .filter(|s| s.str("plan").and_then(|x| x.parse::<DocId>().ok()) == Some(plan))
            .collect();
        skus.sort_by(|a, b| a.str("code").cmp(&b.str("code")));
        for s in &skus {
            let t = |f: &str| cell(s.str(f).unwrap_or_default());
            if let Some(price) = s.int("retail_price") {
                out.push_str(&format!(
                    "# {}: 建议零售价 {}\n",
                    s.str("code").unwrap_or_default(),
                    protocol::schema::order::format_fen(price)
                ));
            }
            out.push_str(&format!(
                "sku,{},{},{},{},{}%vol,{},{},{},no\n",
                t("code"),
                cell(series),
                t("name"),
                t("spec"),
                s.int("abv").unwrap_or(0),
                t("aroma"),
                t("unit"),
                s.int("per_case").unwrap_or(1),
            ));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::ActorId;
    use protocol::Role;
    use protocol::rules::Principal;

    fn replica(user: &str, role: Role) -> Replica {
        let mut r = Replica::load(ActorId::random(), user, vec![], 0, vec![]).unwrap();
        r.set_principal(Principal { user: user.into(), role, territories: vec!["贵州".into()] });
        r
    }

    #[test]
    fn steps_follow_the_workflow_and_the_roles_and_approved_plans_export_skus() {
        let mut r = replica("ma", Role::Market);
        let plan = r.create(DocKind::ProductPlan, &[("series", "黔韵·新品"), ("price_min", "299")], 1_000).unwrap();
        let sku = [
            ("plan", plan.to_string()),
            ("code", "QY-45-500".into()),
            ("name", "黔韵 清雅".into()),
            ("spec", "500ml".into()),
            ("abv", "45".into()),
            ("aroma", "酱香".into()),
            ("unit", "瓶".into()),
            ("per_case", "6".into()),
            ("retail_price", "399".into()),
        ];
        let inputs: Vec<(&str, &str)> = sku.iter().map(|(k, v)| (*k, v.as_str())).collect();
        r.create(DocKind::PlannedSku, &inputs, 1_001).unwrap();
        let steps = |r: &Replica| r.logs(plan).into_iter().find(|l| l.field == "status").unwrap();
        assert_eq!((steps(&r).status, steps(&r).steps.clone()), ("draft", vec!["submit"]));
        assert!(matches!(r.draft_catalogue(plan), Err(CoreError::NotAllowed { rule, .. }) if rule == "not-approved"));
        assert!(
            matches!(r.step(plan, "approve", "", 1_002), Err(CoreError::NotAllowed { rule, .. }) if rule == "step-status")
        );
        r.step(plan, "submit", "请审批", 1_003).unwrap();
        // Market may not approve; the executive may (not the plan's author).
        assert!(
            matches!(r.step(plan, "approve", "", 1_004), Err(CoreError::NotAllowed { rule, .. }) if rule == "step-role")
        );
        // The executive's device gets the plan (as another tab of a device would: its ops).
        let mut exec = replica("zhao", Role::Executive);
        exec.apply_peer_ops(&r.take_store_ops()).unwrap();
        let mut r = exec;
        assert_eq!(steps(&r).steps, vec!["approve", "reject"]);
        r.step(plan, "approve", "同意", 1_005).unwrap();
        let s = steps(&r);
        assert_eq!((s.status, s.timeline.len(), s.timeline[1].role.as_str()), ("approved", 2, "executive"));
        let csv = r.draft_catalogue(plan).unwrap();
        assert!(csv.contains("sku,QY-45-500,黔韵·新品,黔韵 清雅,500ml,45%vol,jiang,bottle,6,no\n"), "{csv}");
        // The rows are the policy format: with a policy header they parse.
        let policy = protocol::pricing::parse_policy_csv(&format!("policy,1,草稿,manager\n{csv}")).unwrap();
        assert_eq!((policy.skus.len(), policy.skus[0].active), (1, false));
    }
}
