//! Channel partners after sync (issue 12, part 4): violation reports reach the market
//! department and cost the partner whose goods they are its deduction exactly once, and
//! every partner's evaluation is recomputed into its server-only document whenever what it
//! depends on changes.
//!
//! One-time effects (in `effects`, unique per kind, subject and key):
//! - [`CODE`] (subject: the partner code as written on goods, normalised; key empty): the
//!   first partner stored with a code claims it — a violation report names the partner by it;
//! - [`CUSTOMER`] / [`PLAN`] (subject: the customer / channel plan; key: the partner): which
//!   partners to re-evaluate when an order of the customer or the plan's weights change;
//! - [`COUNTED`] (subject: the report): the report was counted against a partner — once,
//!   whatever is resent or edited later;
//! - [`DEDUCTION`] (subject: the partner; key: the report): what the evaluation deducts.

use super::{Changed, ValidationCx, Validator};
use crate::storage::{DbError, KindFilter, ReadFilter};
use protocol::kinds::presales::evaluation_id;
use protocol::presales::evaluation::{self, Deduction, Input, Sale};
use protocol::schema::presales_docs;
use protocol::schema::record::{self, Record};
use protocol::{DocId, DocKind};

pub const CODE: &str = "partner-code";
pub const CUSTOMER: &str = "partner-customer";
pub const PLAN: &str = "partner-plan";
pub const COUNTED: &str = "violation-counted";
pub const DEDUCTION: &str = "partner-deduction";
/// The notification the market department gets for every violation report.
pub const VIOLATION: &str = "violation";

/// A partner code as compared: trimmed, upper case, no inner spaces.
pub fn normalise_code(code: &str) -> String {
    code.split_whitespace().collect::<String>().to_uppercase()
}

fn read(cx: &mut dyn ValidationCx, id: DocId, kind: DocKind) -> Result<Option<Record>, DbError> {
    Ok(match cx.doc(id)? {
        Some((k, doc)) if k == kind => record::read(doc, id, kind).ok(),
        _ => None,
    })
}

fn reference(r: &Record, field: &str) -> Option<DocId> {
    r.str(field).and_then(|s| s.parse().ok())
}

fn effect(cx: &mut dyn ValidationCx, kind: &str, subject: &[u8], key: &str, payload: &str) -> Result<bool, DbError> {
    let now = cx.now();
    cx.storage().insert_effect(subject, kind, key, now, payload)
}

pub struct Violations;

impl Validator for Violations {
    fn name(&self) -> &'static str {
        "violations"
    }

    fn targets(&self, c: &Changed, _cx: &mut dyn ValidationCx) -> Result<Vec<DocId>, DbError> {
        let wanted = c.kind == DocKind::ViolationReport
            && (c.created || c.fields.contains("partner") || c.fields.contains("partner_code"));
        Ok(if wanted { vec![c.id] } else { Vec::new() })
    }

    fn validate(&self, id: DocId, cx: &mut dyn ValidationCx) -> Result<(), DbError> {
        let now = cx.now();
        let status = match cx.doc(id)? {
            Some((DocKind::ViolationReport, doc)) => {
                presales_docs::workflow_status(doc, DocKind::ViolationReport, "").map(|(s, _)| s)
            }
            _ => return Ok(()),
        };
        let Some(report) = read(cx, id, DocKind::ViolationReport)? else { return Ok(()) };
        let partner = resolve(cx, &report)?;
        let kind = report.str("kind").unwrap_or_default().to_string();
        let kind_label = report.display("kind", protocol::schema::Lang::Zh);
        let product = report.str("product").unwrap_or_default().to_string();
        let territory = report.str("territory").unwrap_or_default().to_string();
        let code = report.str("partner_code").unwrap_or_default().to_string();
        let mut counted = None;
        if let Some((pid, partner)) = &partner
            && status != Some("dismissed")
        {
            let points = deduction_points(cx, partner, &kind)?;
            let payload = serde_json::json!({ "partner": pid.to_string(), "points": points }).to_string();
            if effect(cx, COUNTED, id.as_bytes(), "", &payload)? {
                let payload = serde_json::json!({
                    "kind": kind, "points": points, "territory": territory, "product": product,
                })
                .to_string();
                effect(cx, DEDUCTION, pid.as_bytes(), &id.to_string(), &payload)?;
                tracing::info!(report = %id, partner = %pid, points, "violation counted against a partner");
            }
            counted = cx.storage().effect(id.as_bytes(), COUNTED, "")?;
        }
        let found = format!("产品 {product}，编码 {}，发现于 {territory}", if code.is_empty() { "—" } else { &code });
        let message = match (&partner, &counted) {
            (Some((_, p)), Some(c)) => {
                let points = serde_json::from_str::<serde_json::Value>(&c.data).ok().and_then(|v| v["points"].as_i64());
                format!(
                    "违规举报（{kind_label}）：{found}；已计入合作伙伴 {} 的评估（扣 {} 分）",
                    p.str("name").unwrap_or_default(),
                    points.unwrap_or(0)
                )
            }
            _ => format!("违规举报（{kind_label}）：{found}；未找到对应的合作伙伴，请核实后关联"),
        };
        cx.storage().insert_notification(id.as_bytes(), "market", VIOLATION, now, &message)?;
        Ok(())
    }
}

/// Whose goods a report is about: the partner market linked it to, else the one that
/// claimed the code written on the goods (and still carries it).
fn resolve(cx: &mut dyn ValidationCx, report: &Record) -> Result<Option<(DocId, Record)>, DbError> {
    if let Some(p) = reference(report, "partner")
        && let Some(r) = read(cx, p, DocKind::Partner)?
    {
        return Ok(Some((p, r)));
    }
    let code = normalise_code(report.str("partner_code").unwrap_or_default());
    if code.is_empty() {
        return Ok(None);
    }
    let Some(claim) = cx.storage().effect(code.as_bytes(), CODE, "")? else { return Ok(None) };
    let pid = serde_json::from_str::<serde_json::Value>(&claim.data)
        .ok()
        .and_then(|v| v["partner"].as_str().and_then(|s| s.parse::<DocId>().ok()));
    let Some(pid) = pid else { return Ok(None) };
    Ok(read(cx, pid, DocKind::Partner)?
        .filter(|r| normalise_code(r.str("code").unwrap_or_default()) == code)
        .map(|r| (pid, r)))
}

/// What a violation of `kind` costs the partner: its channel plan's points, else the default.
fn deduction_points(cx: &mut dyn ValidationCx, partner: &Record, kind: &str) -> Result<i64, DbError> {
    let plan = match reference(partner, "channel_plan") {
        Some(p) => read(cx, p, DocKind::ChannelPlan)?,
        None => None,
    };
    let (field, default) = match kind {
        "price" => ("deduct_price", evaluation::DEFAULT_DEDUCTION_PRICE),
        _ => ("deduct_cross_region", evaluation::DEFAULT_DEDUCTION_CROSS_REGION),
    };
    Ok(plan.and_then(|p| p.int(field)).unwrap_or(default))
}

pub struct PartnerEvaluation;

impl PartnerEvaluation {
    fn indexed(cx: &mut dyn ValidationCx, kind: &str, subject: &[u8]) -> Result<Vec<DocId>, DbError> {
        Ok(cx
            .storage()
            .effects_of(subject, None)?
            .into_iter()
            .filter(|e| e.effect == kind)
            .filter_map(|e| e.key.parse().ok())
            .collect())
    }
}

impl Validator for PartnerEvaluation {
    fn name(&self) -> &'static str {
        "partner-evaluation"
    }

    fn targets(&self, c: &Changed, cx: &mut dyn ValidationCx) -> Result<Vec<DocId>, DbError> {
        let parent = |cx: &mut dyn ValidationCx| -> Result<Option<Vec<u8>>, DbError> {
            Ok(cx.storage().doc(c.id.as_bytes())?.and_then(|r| r.parent))
        };
        Ok(match c.kind {
            DocKind::Partner => vec![c.id],
            DocKind::PartnerRecord => parent(cx)?.and_then(|p| DocId::from_slice(&p)).into_iter().collect(),
            DocKind::ChannelPlan => Self::indexed(cx, PLAN, c.id.as_bytes())?,
            DocKind::Order => match parent(cx)? {
                Some(customer) => Self::indexed(cx, CUSTOMER, &customer)?,
                None => Vec::new(),
            },
            DocKind::ViolationReport => {
                let counted = cx.storage().effect(c.id.as_bytes(), COUNTED, "")?;
                counted
                    .and_then(|e| serde_json::from_str::<serde_json::Value>(&e.data).ok())
                    .and_then(|v| v["partner"].as_str().and_then(|s| s.parse().ok()))
                    .into_iter()
                    .collect()
            }
            // A new price policy version may confirm orders of partners' customers.
            DocKind::Policy => {
                let filter = ReadFilter { kinds: vec![(DocKind::Partner.code(), KindFilter::All)] };
                cx.storage()
                    .readable_docs_changed_since(0, &filter)?
                    .iter()
                    .filter_map(|r| DocId::from_slice(&r.id))
                    .collect()
            }
            _ => Vec::new(),
        })
    }

    fn validate(&self, id: DocId, cx: &mut dyn ValidationCx) -> Result<(), DbError> {
        let now = cx.now();
        let Some(partner) = read(cx, id, DocKind::Partner)? else { return Ok(()) };
        let me = serde_json::json!({ "partner": id.to_string() }).to_string();
        let code = normalise_code(partner.str("code").unwrap_or_default());
        if !code.is_empty() && !effect(cx, CODE, code.as_bytes(), "", &me)? {
            let claim = cx.storage().effect(code.as_bytes(), CODE, "")?;
            if claim.is_some_and(|c| c.data != me) {
                tracing::warn!(partner = %id, code, "partner code already claimed by another partner");
            }
        }
        let customer = reference(&partner, "customer");
        if let Some(c) = customer {
            effect(cx, CUSTOMER, c.as_bytes(), &id.to_string(), "{}")?;
        }
        let plan_id = reference(&partner, "channel_plan");
        let plan = match plan_id {
            Some(p) => {
                effect(cx, PLAN, p.as_bytes(), &id.to_string(), "{}")?;
                read(cx, p, DocKind::ChannelPlan)?
            }
            None => None,
        };
        let criteria = evaluation::CRITERIA;
        let mut input = Input {
            weights: criteria.map(|c| plan.as_ref().and_then(|p| p.int(&format!("weight_{c}")))),
            scores: criteria.map(|c| partner.int(&format!("score_{c}"))),
            annual_target_fen: partner.int("annual_target"),
            ..Input::default()
        };
        if let Some(c) = customer {
            for row in cx.storage().children_of(c.as_bytes())? {
                if row.kind != DocKind::Order.code() {
                    continue;
                }
                if let Some(a) = cx.storage().assignment(&row.id)? {
                    input.sales.push(Sale { at: a.assigned_at, fen: a.total_fen.unwrap_or(0) });
                }
            }
        }
        for row in cx.storage().children_of(id.as_bytes())? {
            if row.kind != DocKind::PartnerRecord.code() {
                continue;
            }
            let Some(rid) = DocId::from_slice(&row.id) else { continue };
            let Some(r) = read(cx, rid, DocKind::PartnerRecord)? else { continue };
            let Some(date) = r.str("date").and_then(protocol::time::parse_date) else { continue };
            input.records.push(evaluation::Record {
                kind: r.str("kind").unwrap_or_default().to_string(),
                date,
                points: r.int("points"),
                score: r.int("score"),
                recorded_at: r.int("recorded_at").unwrap_or(0),
            });
        }
        for e in cx.storage().effects_of(id.as_bytes(), None)? {
            if e.effect != DEDUCTION {
                continue;
            }
            let v: serde_json::Value = serde_json::from_str(&e.data).unwrap_or_default();
            let s = |k: &str| v[k].as_str().unwrap_or_default().to_string();
            let status = match e.key.parse::<DocId>() {
                Ok(report) => match cx.doc(report)? {
                    Some((DocKind::ViolationReport, doc)) => {
                        presales_docs::workflow_status(doc, DocKind::ViolationReport, "").map(|(s, _)| s)
                    }
                    _ => None,
                },
                Err(_) => None,
            };
            input.deductions.push(Deduction {
                report: e.key.clone(),
                kind: s("kind"),
                points: v["points"].as_i64().unwrap_or(0),
                at: e.at,
                territory: s("territory"),
                product: s("product"),
                status: status.unwrap_or("reported").to_string(),
            });
        }
        let computed = evaluation::evaluate(&input);
        let eid = evaluation_id(id);
        let previous = match cx.doc(eid)? {
            Some((DocKind::PartnerEvaluation, doc)) => presales_docs::read_evaluation(doc).ok(),
            _ => None,
        };
        if previous.as_ref() == Some(&computed) {
            return Ok(());
        }
        cx.server_edit(eid, DocKind::PartnerEvaluation, "partner evaluated", &mut |doc| {
            presales_docs::write_evaluation(doc, id, &computed, now)
        })?;
        Ok(())
    }
}
