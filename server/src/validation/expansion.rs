//! Plans that become tasks, on the server, exactly once per customer:
//!
//! - a revisit plan reaches the customers of its scope — the listed ones, or those a rule
//!   selects (territory, class, complaints received in a period) — and each gets one
//!   revisit task (`effects`: `task`, key the customer), assigned to the plan's owner or
//!   the customer's rep;
//! - a date of the care calendar reaches the customers its class and territory select
//!   (for a new-product recommendation: those who ordered a SKU of the series; for a
//!   birthday: those whose key contact's birthday is known) and each gets one care task
//!   for its rep, due that day (a birthday or anniversary: that day of the event's year).
//!
//! A plan edited later reaches the customers it newly selects; nothing is ever taken back.
//! The server holds every customer, so expanding a rule is not limited by what one
//! device may read.

use super::service::{self, record_of};
use super::{Changed, ValidationCx, Validator};
use crate::storage::DbError;
use protocol::schema::complaint;
use protocol::schema::record::{FieldValue, Record};
use protocol::schema::{CareOccasion, PlanScope, TaskStatus};
use protocol::{DocId, DocKind};

pub struct Expansion;

/// At most this many tasks per plan (a rule that matches everything is a mistake).
const MAX_TASKS: usize = 5_000;

impl Validator for Expansion {
    fn name(&self) -> &'static str {
        "expansion"
    }

    fn targets(&self, c: &Changed, _cx: &mut dyn ValidationCx) -> Result<Vec<DocId>, DbError> {
        Ok(match c.kind {
            DocKind::RevisitPlan | DocKind::CareEvent => vec![c.id],
            _ => Vec::new(),
        })
    }

    fn validate(&self, id: DocId, cx: &mut dyn ValidationCx) -> Result<(), DbError> {
        if let Some(plan) = record_of(cx, id, DocKind::RevisitPlan)? {
            return expand_plan(id, &plan, cx);
        }
        if let Some(event) = record_of(cx, id, DocKind::CareEvent)? {
            return expand_care(id, &event, cx);
        }
        Ok(())
    }
}

/// Every customer the server holds, read.
fn customers(cx: &mut dyn ValidationCx) -> Result<Vec<(Record, Option<String>)>, DbError> {
    let mut out = Vec::new();
    for raw in cx.storage().doc_ids_of_kind(DocKind::Customer.code())? {
        let Some(id) = DocId::from_slice(&raw) else { continue };
        let territory = cx.storage().doc(&raw)?.and_then(|r| r.territory);
        if let Some(r) = record_of(cx, id, DocKind::Customer)? {
            out.push((r, territory));
        }
    }
    Ok(out)
}

fn selected(r: &Record, territory: &Option<String>, rule: &Record) -> bool {
    let wanted = |f: &str| rule.str(f).map(str::trim).filter(|s| !s.is_empty());
    wanted("territory").is_none_or(|t| territory.as_deref() == Some(t))
        && wanted("class").is_none_or(|c| r.str("class") == Some(c))
}

fn day(ms: i64) -> String {
    service::date_after(ms, 0)
}

fn expand_plan(id: DocId, plan: &Record, cx: &mut dyn ValidationCx) -> Result<(), DbError> {
    let scope: Option<PlanScope> = plan.str("scope").and_then(|s| s.parse().ok());
    let mut targets: Vec<DocId> = Vec::new();
    match scope {
        Some(PlanScope::List) => {
            let text = plan.str("customers").unwrap_or_default();
            for part in text.split(|c: char| c == ',' || c == ';' || c.is_whitespace()).filter(|p| !p.is_empty()) {
                if let Ok(c) = part.parse::<DocId>()
                    && record_of(cx, c, DocKind::Customer)?.is_some()
                    && !targets.contains(&c)
                {
                    targets.push(c);
                }
            }
        }
        Some(PlanScope::Rule) => {
            let (from, to) = (plan.str("complained_from"), plan.str("complained_to"));
            let complained: Option<Vec<DocId>> = if from.is_some() || to.is_some() {
                let mut who = Vec::new();
                for raw in cx.storage().doc_ids_of_kind(DocKind::Complaint.code())? {
                    let Some(cid) = DocId::from_slice(&raw) else { continue };
                    let Some((DocKind::Complaint, doc)) = cx.doc(cid)? else { continue };
                    let Ok(c) = complaint::read(doc, cid) else { continue };
                    let d = day(c.clock_start());
                    let inside = from.is_none_or(|f| d.as_str() >= f) && to.is_none_or(|t| d.as_str() <= t);
                    if inside && let Some(customer) = c.customer {
                        who.push(customer);
                    }
                }
                Some(who)
            } else {
                None
            };
            for (r, territory) in customers(cx)? {
                if selected(&r, &territory, plan) && complained.as_ref().is_none_or(|w| w.contains(&r.id)) {
                    targets.push(r.id);
                }
            }
        }
        None => return Ok(()),
    }
    let owner = plan.str("owner").map(String::from);
    for customer in targets.into_iter().take(MAX_TASKS) {
        let key = customer.to_string();
        if cx.storage().effect(id.as_bytes(), "task", &key)?.is_some() {
            continue;
        }
        let assignee = match &owner {
            Some(o) => o.clone(),
            None => service::customer_rep(cx, customer)?.unwrap_or_default(),
        };
        let mut inputs = vec![
            ("customer", key.clone()),
            ("plan", id.to_string()),
            ("content", plan.str("content").unwrap_or("satisfaction-survey").to_string()),
            ("due", plan.str("due").unwrap_or_default().to_string()),
            ("assignee", assignee),
            ("status", TaskStatus::Open.as_str().to_string()),
            ("note", plan.str("title").unwrap_or_default().to_string()),
        ];
        if let Some(m) = plan.str("method") {
            inputs.push(("method", m.to_string()));
        }
        if let Some(task) = service::create_record(cx, DocKind::RevisitTask, &inputs, "revisit plan")? {
            cx.storage().insert_effect(id.as_bytes(), "task", &key, cx.now(), &task.to_string())?;
        }
    }
    Ok(())
}

/// `YYYY-MM-DD` of `month_day` (`MM-DD` of a stored date) in the year of `date`.
fn in_year_of(date: &str, other: &str) -> Option<String> {
    let year = date.get(..4)?;
    let md = other.get(5..10)?;
    let d = format!("{year}-{md}");
    // 29 February in a year without one: the 28th.
    Some(if protocol::time::parse_date(&d).is_some() { d } else { format!("{year}-02-28") })
}

/// Customers of `customer` who ordered a SKU starting with `series`.
fn ordered_series(cx: &mut dyn ValidationCx, customer: DocId, series: &str) -> Result<bool, DbError> {
    let series = series.trim().to_lowercase();
    for row in cx.storage().children_of(customer.as_bytes())? {
        if row.kind != DocKind::Order.code() {
            continue;
        }
        let Some(oid) = DocId::from_slice(&row.id) else { continue };
        if let Some(o) = record_of(cx, oid, DocKind::Order)?
            && let Some(FieldValue::Records(lines)) = o.fields.get("lines")
            && lines
                .iter()
                .any(|l| matches!(l.get("sku"), Some(FieldValue::Str(s)) if s.to_lowercase().starts_with(&series)))
        {
            return Ok(true);
        }
    }
    Ok(false)
}

fn expand_care(id: DocId, event: &Record, cx: &mut dyn ValidationCx) -> Result<(), DbError> {
    let Some(occasion) = event.str("occasion").and_then(|s| s.parse::<CareOccasion>().ok()) else { return Ok(()) };
    let Some(date) = event.str("date").map(String::from) else { return Ok(()) };
    let mut made = 0;
    for (r, territory) in customers(cx)? {
        if made >= MAX_TASKS || !selected(&r, &territory, event) {
            continue;
        }
        let due = match occasion {
            CareOccasion::Birthday => {
                let birthday = match r.fields.get("contacts") {
                    Some(FieldValue::Records(cs)) => cs.iter().find_map(|c| match c.get("birthday") {
                        Some(FieldValue::Str(b)) => Some(b.clone()),
                        _ => None,
                    }),
                    _ => None,
                };
                match birthday.and_then(|b| in_year_of(&date, &b)) {
                    Some(d) => d,
                    None => continue,
                }
            }
            CareOccasion::Anniversary => match r.int("created_at").and_then(|t| in_year_of(&date, &day(t))) {
                Some(d) => d,
                None => continue,
            },
            CareOccasion::NewProduct => {
                let series = event.str("series").unwrap_or_default().to_string();
                if series.trim().is_empty() || !ordered_series(cx, r.id, &series)? {
                    continue;
                }
                date.clone()
            }
            _ => date.clone(),
        };
        let key = r.id.to_string();
        if cx.storage().effect(id.as_bytes(), "task", &key)?.is_some() {
            continue;
        }
        let assignee = service::customer_rep(cx, r.id)?.unwrap_or_default();
        let inputs = vec![
            ("customer", key.clone()),
            ("event", id.to_string()),
            ("occasion", occasion.as_str().to_string()),
            ("due", due),
            ("assignee", assignee),
            ("status", TaskStatus::Open.as_str().to_string()),
            ("note", event.str("title").unwrap_or_default().to_string()),
        ];
        if let Some(task) = service::create_record(cx, DocKind::CareTask, &inputs, "customer care")? {
            cx.storage().insert_effect(id.as_bytes(), "task", &key, cx.now(), &task.to_string())?;
            made += 1;
        }
    }
    Ok(())
}
