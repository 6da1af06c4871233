//! What the market department publishes reaches leadership and every department once
//! (issue 12, part 2): the first time a market report's or trend forecast's workflow is
//! folded to `published`, the server records the one-time effect [`PUBLISHED`] — which
//! locks the document's content ([`protocol::kinds::Effect::Published`]) — writes a
//! report's competitor-price summary from the observations it stores, and queues one
//! notification per department. Each reader's first read receipt is recorded once
//! ([`READ`], the server's time). Competitor observations get their arrival recorded
//! ([`RECEIVED`]) so the summary places them by their time clamped around it.

use super::{Changed, ValidationCx, Validator};
use crate::storage::{DbError, KindFilter, ReadFilter};
use protocol::kinds::presales::summary_id;
use protocol::kinds::{CLIENT_TIME, workflow};
use protocol::presales::summary::{self, Observation};
use protocol::schema::presales_docs::{self, log_of};
use protocol::schema::record::{self, Record};
use protocol::{DocId, DocKind};
use std::collections::HashMap;

/// Effect: the document was published and distributed (subject: the document).
pub const PUBLISHED: &str = "published";
/// Effect: a reader's first read receipt (subject: the document, key: the reader).
pub const READ: &str = "read";
/// Effect: when the server first stored a competitor observation (subject: the observation).
pub const RECEIVED: &str = "received";
/// The notification that goes with the distribution.
pub const DISTRIBUTED: &str = "distributed";
/// Leadership and the departments a publication is distributed to (role names).
pub const DISTRIBUTE_TO: [&str; 7] =
    ["executive", "manager", "logistics", "finance", "legal", "after-sales", "quality"];

pub struct Distribution;

fn published_kind(kind: DocKind) -> bool {
    matches!(kind, DocKind::MarketReport | DocKind::TrendForecast)
}

impl Validator for Distribution {
    fn name(&self) -> &'static str {
        "distribution"
    }

    fn targets(&self, c: &Changed, _cx: &mut dyn ValidationCx) -> Result<Vec<DocId>, DbError> {
        let wanted = match c.kind {
            DocKind::CompetitorObservation => c.created,
            k if published_kind(k) => c.entries("status").next().is_some() || c.entries("receipts").next().is_some(),
            _ => false,
        };
        Ok(if wanted { vec![c.id] } else { Vec::new() })
    }

    fn validate(&self, id: DocId, cx: &mut dyn ValidationCx) -> Result<(), DbError> {
        let now = cx.now();
        let Some((kind, doc)) = cx.doc(id)? else { return Ok(()) };
        if kind == DocKind::CompetitorObservation {
            cx.storage().insert_effect(id.as_bytes(), RECEIVED, "", now, "{}")?;
            return Ok(());
        }
        if !published_kind(kind) {
            return Ok(());
        }
        let published = presales_docs::workflow_status(doc, kind, "published").is_some_and(|(s, _)| s == "published");
        let readers: Vec<(String, String)> = match log_of(doc, kind, "receipts") {
            Some((log, entries, received)) => workflow::receipts(log, &entries, &received)
                .iter()
                .map(|f| {
                    (
                        f.entry.str("by").unwrap_or_default().to_string(),
                        f.entry.str("role").unwrap_or_default().to_string(),
                    )
                })
                .collect(),
            None => Vec::new(),
        };
        let Ok(rec) = record::read(doc, id, kind) else { return Ok(()) };
        for (user, role) in readers.iter().filter(|(u, _)| !u.is_empty()) {
            let payload = serde_json::json!({ "role": role }).to_string();
            cx.storage().insert_effect(id.as_bytes(), READ, user, now, &payload)?;
        }
        if !published || cx.storage().effect(id.as_bytes(), PUBLISHED, "")?.is_some() {
            return Ok(());
        }
        let title = rec.str("title").unwrap_or_default().to_string();
        if kind == DocKind::MarketReport {
            let (rows, count) = summarize(cx, &rec)?;
            cx.server_edit(
                summary_id(id),
                DocKind::ReportSummary,
                "report published: competitor prices summarised",
                &mut |doc| presales_docs::write_summary(doc, id, &rows, count, now),
            )?;
        }
        let payload = serde_json::json!({ "title": title }).to_string();
        if cx.storage().insert_effect(id.as_bytes(), PUBLISHED, "", now, &payload)? {
            let what = if kind == DocKind::MarketReport { "市场调研报告" } else { "市场趋势预测" };
            let message = format!("{what}《{title}》已发布，请查阅并确认阅读");
            for department in DISTRIBUTE_TO {
                cx.storage().insert_notification(id.as_bytes(), department, DISTRIBUTED, now, &message)?;
            }
            tracing::info!(doc = %id, %kind, "published: distributed to {} departments", DISTRIBUTE_TO.len());
        }
        Ok(())
    }
}

/// The competitor observations the server stores in the report's period (and territory,
/// if it names one), summarised.
fn summarize(cx: &mut dyn ValidationCx, report: &Record) -> Result<(Vec<summary::SummaryRow>, i64), DbError> {
    let date = |f: &str| report.str(f).and_then(protocol::time::parse_date);
    let (Some(from), Some(to)) = (date("period_from"), date("period_to")) else { return Ok((Vec::new(), 0)) };
    let territory = report.str("scope_territory").map(str::trim).filter(|t| !t.is_empty()).map(String::from);
    let which = match &territory {
        Some(t) => KindFilter::Territories(vec![t.clone()]),
        None => KindFilter::All,
    };
    let filter = ReadFilter { kinds: vec![(DocKind::CompetitorObservation.code(), which)] };
    let rows = cx.storage().readable_docs_changed_since(0, &filter)?;
    let mut regions: HashMap<DocId, String> = HashMap::new();
    let mut selected = Vec::new();
    for row in rows {
        let Some(id) = DocId::from_slice(&row.id) else { continue };
        let obs = match cx.doc(id)? {
            Some((DocKind::CompetitorObservation, doc)) => record::read(doc, id, DocKind::CompetitorObservation).ok(),
            _ => None,
        };
        let Some(obs) = obs else { continue };
        let customer: Option<DocId> = obs.str("customer").and_then(|c| c.parse().ok());
        let region = match customer {
            Some(c) => match regions.get(&c) {
                Some(r) => r.clone(),
                None => {
                    let r = match cx.doc(c)? {
                        Some((DocKind::Customer, doc)) => record::read(doc, c, DocKind::Customer)
                            .ok()
                            .and_then(|r| r.str("region").map(String::from))
                            .unwrap_or_default(),
                        _ => String::new(),
                    };
                    regions.insert(c, r.clone());
                    r
                }
            },
            None => String::new(),
        };
        let stated = obs.int("observed_at").unwrap_or(0);
        let at = match cx.storage().effect(&row.id, RECEIVED, "")? {
            Some(e) => CLIENT_TIME.clamp(stated, e.at),
            None => stated,
        };
        let o = observation(&obs, region, row.territory.unwrap_or_default());
        if summary::selected(&o, at, from, to, territory.as_deref()) {
            selected.push(o);
        }
    }
    Ok((summary::summarize(&selected), selected.len() as i64))
}

/// An observation as the summary reads it (region: the customer's, else its territory).
pub fn observation(r: &Record, region: String, territory: String) -> Observation {
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
}
