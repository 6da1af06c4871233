//! Visit log (拜访记录) documents. A visit hangs off a customer.

use super::access::{R, check_kind, get_int, get_opt_str, get_parsed, get_str, json_time};
use super::enums::{VisitKind, VisitMethod};
use super::record::{self, Input, Writer};
use crate::ids::{DocId, DocKind};
use crate::kinds::parse::ParseContext;
use automerge::{AutoCommit, ROOT};
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Visit {
    pub id: DocId,
    pub customer: Option<DocId>,
    pub rep: String,
    #[serde(with = "json_time")]
    pub at: i64,
    pub kind: Option<VisitKind>,
    pub method: Option<VisitMethod>,
    pub notes: String,
    pub outcome: Option<String>,
    pub feedback: Option<String>,
    pub satisfaction: Option<i64>,
    pub next_action: Option<String>,
    pub next_action_date: Option<String>,
    /// The visit plan it carries out (completes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<DocId>,
}

#[derive(Clone, Debug)]
pub struct NewVisit {
    pub customer: DocId,
    pub kind: VisitKind,
    pub method: Option<VisitMethod>,
    pub notes: String,
}

pub fn init(doc: &mut AutoCommit, new: &NewVisit, now: i64, rep: &str) -> R<()> {
    let customer = new.customer.to_string();
    let mut inputs: Vec<Input<'_>> = vec![("customer", &customer), ("kind", new.kind.as_str()), ("notes", &new.notes)];
    inputs.extend(new.method.map(|m| ("method", m.as_str())));
    record::create(doc, DocKind::Visit, &inputs, &Writer { user: rep, now }, &ParseContext::default())
}

pub fn read(doc: &AutoCommit, id: DocId) -> R<Visit> {
    check_kind(doc, DocKind::Visit.as_str())?;
    let s = |k| get_opt_str(doc, &ROOT, k);
    Ok(Visit {
        id,
        customer: get_parsed(doc, &ROOT, "customer"),
        rep: get_str(doc, &ROOT, "rep"),
        at: get_int(doc, &ROOT, "at").unwrap_or(0),
        kind: get_parsed(doc, &ROOT, "kind"),
        method: get_parsed(doc, &ROOT, "method"),
        notes: get_str(doc, &ROOT, "notes"),
        outcome: s("outcome"),
        feedback: s("feedback"),
        satisfaction: get_int(doc, &ROOT, "satisfaction"),
        next_action: s("next_action"),
        next_action_date: s("next_action_date"),
        plan: get_parsed(doc, &ROOT, "plan"),
    })
}
