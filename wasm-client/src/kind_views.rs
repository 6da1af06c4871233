//! Generic view models of any kind, computed from its declaration in the kind registry
//! (`protocol::kinds`): what the browser's generic list, form and detail screens show.
//! A kind declared in the registry gets working screens without a line of kind-specific
//! code here or in the web app.
//!
//! * [`kinds`]: every kind this user may read, with its fields (type, labels, vocabulary,
//!   what may be set at creation and afterwards, references) and whether they may create one;
//! * [`records`]: one kind's records, searched and filtered, with display values;
//! * [`record`]: one record, every field with its raw, display and form value, and whether
//!   this user may write it;
//! * [`refusal`]: why an edit was refused, per field, in the user's language.

use crate::views::DEFAULT_LIMIT;
use client_core::{CoreError, Replica};
use protocol::kinds::{FieldRole, FieldSpec, FieldType, IdRule};
use protocol::rules;
use protocol::schema::Lang;
use protocol::schema::record::{FieldValue, Record, settable};
use protocol::{DocId, DocKind, Role};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, HashSet};

fn role(replica: &Replica) -> Option<Role> {
    replica.principal().map(|p| p.role)
}

/// Does this user's role write the field anywhere (unchecked replica: anyone listed)?
fn role_writes(replica: &Replica, f: &FieldSpec) -> bool {
    match role(replica) {
        Some(r) => f.writers.iter().any(|(w, _)| *w == r),
        None => !f.writers.is_empty(),
    }
}

/// The kinds this user may read, in registry order (not logged in: every readable kind).
pub fn visible_kinds(replica: &Replica) -> Vec<DocKind> {
    DocKind::ALL
        .iter()
        .copied()
        .filter(|k| match role(replica) {
            Some(r) => rules::read_scope(*k, r).is_some(),
            None => !k.spec().read.is_empty(),
        })
        .collect()
}

fn role_name(r: FieldRole) -> &'static str {
    match r {
        FieldRole::Data => "data",
        FieldRole::Author => "author",
        FieldRole::ClientTime => "client_time",
        FieldRole::Parent => "parent",
        FieldRole::Assignee => "assignee",
    }
}

/// The field of `kind` stating when a record was made (its create-only client time).
fn time_field(kind: DocKind) -> Option<&'static FieldSpec> {
    kind.spec().fields.iter().find(|f| f.role == FieldRole::ClientTime && f.create_only)
}

fn field_json(kind: DocKind, f: &FieldSpec, replica: &Replica, lang: Lang) -> Value {
    let writes = role_writes(replica, f);
    let mut v = json!({
        "name": f.name,
        "label": f.label(lang),
        "type": f.ty.name(),
        "required": f.required,
        "create": writes && settable(f, true),
        "edit": writes && settable(f, false),
        "role": role_name(f.role),
    });
    match f.ty {
        FieldType::Enum(vocab) => {
            let options: Vec<Value> = vocab
                .entries
                .iter()
                .map(|e| json!({ "value": e.name, "label": if lang == Lang::Zh { e.zh } else { e.en } }))
                .collect();
            v["options"] = options.into();
        }
        FieldType::Ref(target) => {
            v["ref"] = target.as_str().into();
            v["ref_label"] = target.spec().label(lang).into();
            // A reference to a child of something this kind also references (a visit of
            // the observation's customer): the picker offers the children of that one.
            if let Some((parent_kind, parent_field)) = target.spec().parent()
                && let Some(g) =
                    kind.spec().fields.iter().find(|g| matches!(g.ty, FieldType::Ref(k) if k == parent_kind))
            {
                v["scope"] = json!({ "field": g.name, "where": parent_field });
            }
        }
        FieldType::Str { max } | FieldType::Text { max } => v["max"] = max.into(),
        FieldType::Int { min, max } => {
            v["min"] = min.into();
            v["max"] = max.into();
        }
        FieldType::Money { max } => {
            v["max_fen"] = max.into();
            v["unit"] = if lang == Lang::Zh { "元" } else { "yuan" }.into();
        }
        _ => {}
    }
    v
}

/// Every kind this user may read: `[{name, label, title, time, author, parent: {kind,
/// field}, may_create, server_written, singleton, fields: [{name, label, type, required,
/// create, edit, role, options?, ref?, scope?, max?, unit?}]}]`.
pub fn kinds(replica: &Replica, lang: Lang) -> Value {
    visible_kinds(replica)
        .into_iter()
        .map(|kind| {
            let spec = kind.spec();
            let fields: Vec<Value> = spec.fields.iter().map(|f| field_json(kind, f, replica, lang)).collect();
            json!({
                "name": kind.as_str(),
                "label": spec.label(lang),
                "title": spec.title,
                "time": time_field(kind).map(|f| f.name),
                "author": spec.author_field().map(|f| f.name),
                "parent": spec.parent().map(|(k, f)| json!({ "kind": k.as_str(), "field": f })),
                "may_create": !spec.server_written && replica.may_create(kind),
                "server_written": spec.server_written,
                "singleton": matches!(spec.id, IdRule::Fixed(_)),
                "fields": fields,
            })
        })
        .collect()
}

/// What a list or picker asks for: free text, fields equal to values (as a form writes
/// them: enum names, ids, yuan), at most `limit` rows.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RecordQuery {
    pub q: String,
    #[serde(rename = "where")]
    pub filter: BTreeMap<String, String>,
    pub limit: Option<usize>,
}

/// A record's title: its title field as shown (a reference: the referenced record's
/// title, when held here), else its kind and the start of its id.
fn title_in(rec: &Record, replica: Option<&Replica>, lang: Lang) -> String {
    let spec = rec.kind.spec();
    let referenced = |t: &str| match (spec.field(t).map(|f| f.ty), replica) {
        (Some(FieldType::Ref(_)), Some(r)) => {
            let target = r.record(rec.str(t)?.parse().ok()?).ok()?;
            Some(target.display(target.kind.spec().title?, lang))
        }
        _ => None,
    };
    spec.title
        .map(|t| referenced(t).unwrap_or_else(|| rec.display(t, lang)))
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| format!("{} {}", spec.label(lang), &rec.id.to_string()[..8]))
}

fn title(rec: &Record, lang: Lang) -> String {
    title_in(rec, None, lang)
}

/// A record's title as lists show it, references looked up in `replica`.
pub fn record_title(replica: &Replica, rec: &Record, lang: Lang) -> String {
    title_in(rec, Some(replica), lang)
}

/// Titles of referenced records, looked up once per id.
struct Titles<'a> {
    replica: &'a Replica,
    lang: Lang,
    seen: HashMap<DocId, Option<String>>,
}

impl<'a> Titles<'a> {
    fn new(replica: &'a Replica, lang: Lang) -> Self {
        Titles { replica, lang, seen: HashMap::new() }
    }

    fn of(&mut self, kind: DocKind, id: &str) -> Option<String> {
        let id: DocId = id.parse().ok()?;
        let (replica, lang) = (self.replica, self.lang);
        self.seen
            .entry(id)
            .or_insert_with(|| replica.record(id).ok().filter(|r| r.kind == kind).map(|r| label(&r, lang)))
            .clone()
    }
}

/// How a record is named where it is picked or referred to: its title, with the date for
/// records titled by a vocabulary (a visit: "跟进 · 2026-03-02 10:00").
fn label(rec: &Record, lang: Lang) -> String {
    let spec = rec.kind.spec();
    let by_vocab = spec.title.and_then(|t| spec.field(t)).is_some_and(|f| matches!(f.ty, FieldType::Enum(_)));
    let when = time_field(rec.kind).map(|f| rec.display(f.name, lang)).filter(|w| !w.is_empty());
    match when {
        Some(w) if by_vocab => format!("{} · {w}", title(rec, lang)),
        _ => title(rec, lang),
    }
}

/// The text a form edits for a value: yuan for money, names for enums, ids for references.
fn input_text(f: &FieldSpec, v: Option<&FieldValue>) -> String {
    match (f.ty, v) {
        (_, None) => String::new(),
        (FieldType::Money { .. }, Some(FieldValue::Int(fen))) => crate::money::yuan(*fen),
        (_, Some(FieldValue::Str(s))) => s.clone(),
        (_, Some(FieldValue::Int(i))) => i.to_string(),
        (_, Some(FieldValue::Time(ms))) => protocol::time::rfc3339(*ms),
        (_, Some(FieldValue::Flag(b))) => if *b { "yes" } else { "no" }.to_string(),
        (_, Some(FieldValue::Bytes(_) | FieldValue::Records(_))) => String::new(),
    }
}

/// A value as a person reads it: the referenced record's title, money with ¥.
fn display(rec: &Record, f: &FieldSpec, titles: &mut Titles<'_>) -> String {
    let v = rec.fields.get(f.name);
    match (f.ty, v) {
        (FieldType::Ref(kind), Some(FieldValue::Str(id))) => {
            titles.of(kind, id).unwrap_or_else(|| id.chars().take(8).collect())
        }
        (FieldType::Money { .. }, Some(FieldValue::Int(fen))) => format!("¥{}", crate::money::yuan(*fen)),
        _ => rec.display(f.name, titles.lang),
    }
}

/// Short, one-line values a row shows besides its title: not long text, lists, identity
/// or references other than the parent (those are for the record's own screen).
fn in_summary(f: &FieldSpec) -> bool {
    match f.ty {
        FieldType::Ref(_) => f.role == FieldRole::Parent,
        FieldType::Text { .. } => false,
        ty => ty.is_scalar_input() && f.role == FieldRole::Data,
    }
}

const SUMMARY_FIELDS: usize = 5;

fn row_json(rec: &Record, unsent: bool, titles: &mut Titles<'_>) -> Value {
    let spec = rec.kind.spec();
    let lang = titles.lang;
    let mut summary = Vec::new();
    let mut values = serde_json::Map::new();
    for f in spec.fields.iter().filter(|f| f.ty.is_scalar_input()) {
        let shown = display(rec, f, titles);
        if shown.is_empty() {
            continue;
        }
        if in_summary(f) && Some(f.name) != spec.title && summary.len() < SUMMARY_FIELDS {
            summary.push(json!({ "field": f.name, "label": f.label(lang), "type": f.ty.name(), "display": shown }));
        }
        values.insert(f.name.to_string(), shown.into());
    }
    json!({
        "id": rec.id,
        "kind": rec.kind.as_str(),
        "title": title_in(rec, Some(titles.replica), lang),
        "label": label(rec, lang),
        "when": time_field(rec.kind).map(|f| rec.display(f.name, lang)),
        "by": spec.author_field().and_then(|f| rec.str(f.name)),
        "summary": summary,
        "values": values,
        "unsent": unsent,
    })
}

fn matches(rec: &Record, q: &RecordQuery, needle: &str, titles: &mut Titles<'_>) -> bool {
    let spec = rec.kind.spec();
    for (field, want) in &q.filter {
        let Some(f) = spec.field(field) else { return false };
        if want.trim().is_empty() {
            continue;
        }
        if input_text(f, rec.fields.get(f.name)) != want.trim() {
            return false;
        }
    }
    if needle.is_empty() {
        return true;
    }
    spec.fields
        .iter()
        .filter(|f| f.ty.is_scalar_input())
        .any(|f| display(rec, f, titles).to_lowercase().contains(needle))
}

/// `{kind, total, count, items: [{id, kind, title, label, when, by, summary: [{field, label,
/// type, display}], values: {field: display}, unsent}]}`, newest first (by the time the
/// records were made, else by title); `total` counts every match, `count` every record.
pub fn records(replica: &Replica, unsent: &HashSet<DocId>, kind: DocKind, q: &RecordQuery, lang: Lang) -> Value {
    let mut all = replica.records(kind);
    let when = time_field(kind).map(|f| f.name);
    all.sort_by(|a, b| {
        let t = |r: &Record| when.and_then(|w| r.int(w)).unwrap_or(0);
        t(b).cmp(&t(a)).then_with(|| title(a, lang).cmp(&title(b, lang))).then(a.id.cmp(&b.id))
    });
    let mut titles = Titles::new(replica, lang);
    let needle = q.q.trim().to_lowercase();
    let hits: Vec<&Record> = all.iter().filter(|r| matches(r, q, &needle, &mut titles)).collect();
    let items: Vec<Value> = hits
        .iter()
        .take(q.limit.unwrap_or(DEFAULT_LIMIT))
        .map(|r| row_json(r, unsent.contains(&r.id), &mut titles))
        .collect();
    json!({ "kind": kind.as_str(), "total": hits.len(), "count": all.len(), "items": items })
}

/// One record: `{id, kind, kind_label, title, when, by, unsent, may_edit, parent: {kind, id,
/// title}, fields: [{name, label, type, raw, display, input, may_write, ref?: {kind, id,
/// title}}]}` — every declared field, empty ones with an empty display.
pub fn record(replica: &Replica, unsent: &HashSet<DocId>, id: DocId, lang: Lang) -> Result<Value, String> {
    let rec = replica.record(id).map_err(|e| core_text(&e, None, lang))?;
    let spec = rec.kind.spec();
    let mut titles = Titles::new(replica, lang);
    let mut may_edit = false;
    let fields: Vec<Value> = spec
        .fields
        .iter()
        .map(|f| {
            let value = rec.fields.get(f.name);
            let may_write = settable(f, false) && role_writes(replica, f) && replica.may_write(id, f.name);
            may_edit |= may_write;
            let mut v = json!({
                "name": f.name,
                "label": f.label(lang),
                "type": f.ty.name(),
                "raw": value,
                "display": display(&rec, f, &mut titles),
                "input": input_text(f, value),
                "may_write": may_write,
            });
            if let (FieldType::Ref(kind), Some(FieldValue::Str(target))) = (f.ty, value) {
                v["ref"] = json!({ "kind": kind.as_str(), "id": target, "title": titles.of(kind, target) });
            }
            v
        })
        .collect();
    let parent = spec.parent().and_then(|(kind, field)| {
        let target = rec.str(field)?;
        Some(json!({ "kind": kind.as_str(), "field": field, "id": target, "title": titles.of(kind, target) }))
    });
    Ok(json!({
        "id": id,
        "kind": rec.kind.as_str(),
        "kind_label": spec.label(lang),
        "title": title_in(&rec, Some(replica), lang),
        "when": time_field(rec.kind).map(|f| rec.display(f.name, lang)),
        "by": spec.author_field().and_then(|f| rec.str(f.name)),
        "unsent": unsent.contains(&id),
        "may_edit": may_edit,
        "parent": parent,
        "fields": fields,
        "logs": logs_json(replica, id, rec.kind, lang),
    }))
}

/// The workflow and receipt logs of a record: `[{field, label, receipts, status,
/// status_label, steps: [{step, label}], timeline: [{label, by, role, at, received,
/// comment, applied}]}]`, times in Asia/Shanghai (`received`: when the server got it).
fn logs_json(replica: &Replica, id: DocId, kind: DocKind, lang: Lang) -> Value {
    let spec = kind.spec();
    let read = if lang == Lang::Zh { "已阅" } else { "read" };
    replica
        .logs(id)
        .into_iter()
        .map(|l| {
            let f = spec.field(l.field);
            let (vocab, states) = match f.map(|f| f.ty) {
                Some(FieldType::Log(log)) => (
                    log.kind_key.map(|(_, v)| v),
                    match log.fold {
                        protocol::kinds::LogFold::Workflow(w) => Some(w.states),
                        _ => None,
                    },
                ),
                _ => (None, None),
            };
            let step_label =
                |s: &str| vocab.and_then(|v| v.label(s, lang)).unwrap_or(if l.receipts { read } else { "" });
            let steps: Vec<Value> = l.steps.iter().map(|s| json!({ "step": s, "label": step_label(s) })).collect();
            let timeline: Vec<Value> = l
                .timeline
                .iter()
                .map(|t| {
                    json!({
                        "label": step_label(&t.kind), "by": t.by, "role": t.role,
                        "at": protocol::time::display_local(t.at),
                        "received": t.received.map(protocol::time::display_local),
                        "comment": t.comment, "applied": t.applied,
                    })
                })
                .collect();
            json!({
                "field": l.field,
                "label": f.map(|f| f.label(lang)),
                "receipts": l.receipts,
                "status": l.status,
                "status_label": states.and_then(|s| s.label(l.status, lang)),
                "steps": steps,
                "timeline": timeline,
            })
        })
        .collect()
}

/// Inputs of a creation form `{field: text}` in the kind's field order (so errors come in
/// the order the form shows them); empty optional fields are left out, empty required ones
/// kept (they are reported as required).
pub fn create_inputs(kind: DocKind, inputs: HashMap<String, String>) -> Vec<(String, String)> {
    let spec = kind.spec();
    let mut out: Vec<(String, String)> =
        inputs.into_iter().filter(|(k, v)| !v.trim().is_empty() || spec.field(k).is_none_or(|f| f.required)).collect();
    in_field_order(kind, &mut out);
    out
}

/// Sort `(field, text)` inputs in the order `kind` declares its fields (unknown ones last).
pub fn in_field_order(kind: DocKind, inputs: &mut [(String, String)]) {
    let position = |name: &str| kind.spec().fields.iter().position(|f| f.name == name).unwrap_or(usize::MAX);
    inputs.sort_by(|a, b| position(&a.0).cmp(&position(&b.0)).then_with(|| a.0.cmp(&b.0)));
}

/// The reason of a refusal by the write rules, in `lang`.
fn not_allowed_text(kind: Option<DocKind>, field: &str, rule: &str, english: &str, lang: Lang) -> String {
    let zh = lang == Lang::Zh;
    let label = kind.map(|k| k.spec().label(lang)).unwrap_or("");
    match rule {
        _ if field == protocol::schema::KIND_KEY && rule == "role" => {
            if zh {
                format!("您的角色不能新建{label}")
            } else {
                format!("your role may not create a {label}")
            }
        }
        "role" => {
            if zh {
                "您的角色不能修改此项".into()
            } else {
                "your role may not change this".into()
            }
        }
        "territory" => {
            if zh {
                "不能修改您负责区域以外的记录".into()
            } else {
                "this record is outside your territory".into()
            }
        }
        "create-only" => protocol::kinds::FieldErrorKind::CreateOnly.text(lang),
        protocol::schema::expense::NEEDS_SUPPLEMENT if zh => {
            "超出预算剩余：须先由总经理批准费用追加申请，才能批准此申请".into()
        }
        protocol::schema::expense::CLAIM_NEEDS_SUPPLEMENT if zh => {
            "报销金额超出该项目本月的预算剩余：须先由总经理批准费用追加申请，才能报销".into()
        }
        _ if zh && let Some(text) = protocol::schema::contract::refusal_zh(english) => text,
        _ => english.to_string(),
    }
}

/// A core error as one sentence in `lang` (field errors: every one, one per line).
pub fn core_text(e: &CoreError, kind: Option<DocKind>, lang: Lang) -> String {
    let zh = lang == Lang::Zh;
    match e {
        CoreError::Schema(protocol::schema::SchemaError::Fields(errors)) => {
            errors.iter().map(|f| f.message(kind, lang)).collect::<Vec<_>>().join("\n")
        }
        CoreError::NotAllowed { field, rule, message } => not_allowed_text(kind, field, rule, message, lang),
        CoreError::NotFound { .. } | CoreError::Unknown(_) if zh => "找不到该记录".into(),
        other => other.to_string(),
    }
}

/// Why an edit was refused, as the JSON text the promise rejects with: `{"fields":
/// [{"field", "code", "label", "message", …parameters}], "message", "code"}` — each field's
/// reason in `lang` (without its label, for showing next to the field), and every reason
/// with its label in `message`.
pub fn refusal(e: &CoreError, kind: Option<DocKind>, lang: Lang) -> String {
    let label = |field: &str| kind.and_then(|k| field_label(k, field)).map(|f| f.label(lang));
    let mut fields: Vec<Value> = e
        .field_errors()
        .iter()
        .map(|f| {
            let mut v = serde_json::to_value(f).unwrap_or_else(|_| json!({ "field": f.field, "code": f.kind.code() }));
            v["message"] = f.kind.text(lang).into();
            v["label"] = label(&f.field).into();
            v
        })
        .collect();
    let code = match e {
        CoreError::Schema(_) if !fields.is_empty() => "invalid",
        CoreError::NotAllowed { field, rule, message } => {
            if label(field).is_some() {
                let text = not_allowed_text(kind, field, rule, message, lang);
                fields.push(json!({ "field": field, "code": "not_allowed", "rule": rule, "label": label(field), "message": text }));
            }
            "not_allowed"
        }
        CoreError::NotFound { .. } | CoreError::Unknown(_) | CoreError::BadId(_) => "not_found",
        _ => "error",
    };
    json!({ "fields": fields, "message": core_text(e, kind, lang), "code": code }).to_string()
}

/// The declaration of a field path: `name`, or `list/N/name` / `list/name` inside a list
/// of records (an order line's `lines/2/qty`).
fn field_label(kind: DocKind, path: &str) -> Option<&'static FieldSpec> {
    let mut parts = path.split('/');
    let top = kind.spec().field(parts.next()?)?;
    match (top.ty, parts.next_back()) {
        (_, None) => Some(top),
        (FieldType::Records(fields), Some(sub)) => fields.iter().find(|f| f.name == sub),
        _ => Some(top),
    }
}

/// A refusal that is not about a field (bad JSON, an unknown kind), in the same shape.
pub fn refusal_text(message: impl Into<String>) -> String {
    json!({ "fields": [], "message": message.into(), "code": "error" }).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::ActorId;
    use protocol::rules::Principal;

    fn replica(role: Role) -> Replica {
        let mut r = Replica::load(ActorId::from(&[7u8; 16][..]), "li", vec![], 0, vec![]).unwrap();
        r.set_principal(Principal { user: "li".into(), role, territories: vec!["贵州".into()] });
        r
    }

    fn customer(r: &mut Replica, name: &str) -> DocId {
        r.create(DocKind::Customer, &[("name", name), ("territory", "贵州"), ("owner", "li")], 1_000).unwrap()
    }

    fn kind<'a>(all: &'a Value, name: &str) -> &'a Value {
        all.as_array().unwrap().iter().find(|k| k["name"] == name).unwrap_or_else(|| panic!("no {name} in {all}"))
    }

    fn field<'a>(k: &'a Value, name: &str) -> &'a Value {
        k["fields"].as_array().unwrap().iter().find(|f| f["name"] == name).unwrap()
    }

    #[test]
    fn kinds_follow_the_declarations_and_the_role() {
        let rep = kinds(&replica(Role::Rep), Lang::Zh);
        let obs = kind(&rep, "competitor-observation");
        assert_eq!((obs["label"].as_str(), obs["may_create"].as_bool()), (Some("竞品价格观察"), Some(true)));
        assert_eq!(obs["parent"], json!({ "kind": "customer", "field": "customer" }));
        let price = field(obs, "shelf_price");
        assert_eq!(
            (price["type"].as_str(), price["unit"].as_str(), price["required"].as_bool()),
            (Some("money"), Some("元"), Some(true))
        );
        let c = field(obs, "customer");
        assert_eq!(
            (c["create"].as_bool(), c["edit"].as_bool(), c["ref"].as_str()),
            (Some(true), Some(false), Some("customer"))
        );
        assert_eq!(field(obs, "visit")["scope"], json!({ "field": "customer", "where": "customer" }));
        assert_eq!(
            (field(obs, "observed_by")["create"].as_bool(), field(obs, "note")["type"].as_str()),
            (Some(false), Some("text"))
        );
        let visit = kind(&rep, "visit");
        assert_eq!(field(visit, "kind")["options"][0], json!({ "value": "development", "label": "开发" }));

        let market = kinds(&replica(Role::Market), Lang::En);
        let obs = kind(&market, "competitor-observation");
        assert_eq!((obs["label"].as_str(), obs["may_create"].as_bool()), (Some("Competitor observation"), Some(false)));
        assert_eq!(field(obs, "brand")["edit"], false);
        let quality = kinds(&replica(Role::Quality), Lang::Zh);
        assert!(quality.as_array().unwrap().iter().all(|k| k["name"] != "competitor-observation"));
    }

    #[test]
    fn records_search_filter_and_show_display_values() {
        let mut r = replica(Role::Rep);
        let c1 = customer(&mut r, "贵阳酒行");
        let c2 = customer(&mut r, "遵义烟酒店");
        let obs = |r: &mut Replica, c: DocId, brand: &str, price: &str, now: i64| {
            let c = c.to_string();
            r.create(
                DocKind::CompetitorObservation,
                &[("customer", &c), ("brand", brand), ("product", "普五"), ("shelf_price", price)],
                now,
            )
            .unwrap()
        };
        let a = obs(&mut r, c1, "五粮液", "1,099", 2_000);
        let b = obs(&mut r, c2, "汾酒", "399.5", 3_000);
        let unsent: HashSet<DocId> = [b].into();
        let list = |q: RecordQuery| records(&r, &unsent, DocKind::CompetitorObservation, &q, Lang::Zh);
        let all = list(RecordQuery::default());
        assert_eq!((all["total"].as_u64(), all["count"].as_u64()), (Some(2), Some(2)));
        assert_eq!(all["items"][0]["id"], b.to_string(), "newest first");
        assert_eq!(
            (all["items"][0]["unsent"].as_bool(), all["items"][1]["unsent"].as_bool()),
            (Some(true), Some(false))
        );
        let row = &all["items"][1];
        assert_eq!(row["title"], "普五");
        assert_eq!(row["values"]["customer"], "贵阳酒行");
        assert_eq!(row["values"]["shelf_price"], "¥1099.00");
        assert_eq!(row["by"], "li");
        assert_eq!(list(RecordQuery { q: "遵义".into(), ..Default::default() })["items"][0]["id"], b.to_string());
        let mut filter = BTreeMap::new();
        filter.insert("customer".to_string(), c1.to_string());
        let of_c1 = list(RecordQuery { filter, ..Default::default() });
        assert_eq!(
            (of_c1["total"].as_u64(), of_c1["items"][0]["id"].as_str()),
            (Some(1), Some(a.to_string().as_str()))
        );

        let d = record(&r, &unsent, a, Lang::En).unwrap();
        assert_eq!((d["kind_label"].as_str(), d["may_edit"].as_bool()), (Some("Competitor observation"), Some(true)));
        assert_eq!(d["parent"]["title"], "贵阳酒行");
        let f = |name: &str| d["fields"].as_array().unwrap().iter().find(|f| f["name"] == name).unwrap().clone();
        assert_eq!(
            (f("shelf_price")["raw"].as_i64(), f("shelf_price")["input"].as_str()),
            (Some(109_900), Some("1099.00"))
        );
        assert_eq!(
            (f("customer")["may_write"].as_bool(), f("brand")["may_write"].as_bool()),
            (Some(false), Some(true))
        );
        assert_eq!(f("customer")["ref"]["title"], "贵阳酒行");
        assert!(record(&replica(Role::Rep), &unsent, a, Lang::Zh).is_err());
    }

    #[test]
    fn a_refusal_names_each_field_in_the_users_language() {
        let mut r = replica(Role::Rep);
        let c = customer(&mut r, "贵阳酒行").to_string();
        let inputs: HashMap<String, String> =
            [("customer", c.as_str()), ("brand", " "), ("product", "普五"), ("shelf_price", "lots"), ("spec", "")]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
        let inputs = create_inputs(DocKind::CompetitorObservation, inputs);
        let names: Vec<&str> = inputs.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["customer", "brand", "product", "shelf_price"], "form order, empty optional left out");
        let pairs: Vec<(&str, &str)> = inputs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let e = r.create(DocKind::CompetitorObservation, &pairs, 2_000).unwrap_err();
        let j: Value = serde_json::from_str(&refusal(&e, Some(DocKind::CompetitorObservation), Lang::Zh)).unwrap();
        let fields: Vec<(&str, &str, &str)> = j["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| (f["field"].as_str().unwrap(), f["code"].as_str().unwrap(), f["message"].as_str().unwrap()))
            .collect();
        assert_eq!(
            fields,
            [("brand", "required", "不能为空"), ("shelf_price", "not_money", "“lots”不是金额（元，最多两位小数）")]
        );
        assert_eq!(j["message"], "品牌：不能为空\n货架价：“lots”不是金额（元，最多两位小数）");
        assert_eq!(j["fields"][1]["value"], "lots", "the parameters come along");
        assert!(r.records(DocKind::CompetitorObservation).is_empty());

        // The market department reads observations but does not record them.
        r.set_principal(Principal { user: "ma".into(), role: Role::Market, territories: vec![] });
        let ok: Vec<(&str, &str)> =
            vec![("customer", &c), ("brand", "汾酒"), ("product", "青花"), ("shelf_price", "99")];
        let e = r.create(DocKind::CompetitorObservation, &ok, 2_000).unwrap_err();
        let j: Value = serde_json::from_str(&refusal(&e, Some(DocKind::CompetitorObservation), Lang::Zh)).unwrap();
        assert_eq!(
            (j["code"].as_str(), j["message"].as_str()),
            (Some("not_allowed"), Some("您的角色不能新建竞品价格观察"))
        );
    }
}
