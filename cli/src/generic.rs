//! The generic commands — `jiuloop new|set|show|list|kinds` — reach every kind the same
//! way, from its declaration in the kind registry (`protocol::kinds`): fields, types,
//! labels, vocabularies, write rules. A kind added to the registry works here without a
//! line of code. The typed commands (`customer`, `visit`, `order` …) stay beside them.
//!
//! Every failure is one line in the user's language that names the kind or field and
//! what it accepts (every field error of a command at once), and changes nothing: the
//! replica edits atomically and nothing is persisted unless the edit succeeded.

use crate::output::Out;
use anyhow::{Result, anyhow, bail};
use clap::Args;
use client_core::CoreError;
use jiuloop_cli::Profile;
use protocol::kinds::parse::{ParseContext, parse};
use protocol::kinds::{FieldError, FieldErrorKind, FieldSpec, FieldType, Grants, Placement, Value};
use protocol::schema::Lang;
use protocol::schema::record::{self, FieldValue, Record};
use protocol::{DocId, DocKind};

#[derive(Args)]
pub struct NewArgs {
    /// The kind: its name (`competitor-observation`) or its label (`竞品价格观察`).
    kind: String,
    /// The fields, `FIELD=VALUE` each (`jiuloop kinds` lists them).
    #[arg(value_name = "FIELD=VALUE")]
    fields: Vec<String>,
}

#[derive(Args)]
pub struct SetArgs {
    /// The record's id (full, or a unique prefix of at least 4 characters).
    id: String,
    #[arg(value_name = "FIELD=VALUE")]
    fields: Vec<String>,
}

#[derive(Args)]
pub struct ShowArgs {
    id: String,
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct ListArgs {
    kind: String,
    /// Only records whose FIELD holds VALUE: the stored value or how it reads in either
    /// language (`channel=经销商` and `channel=distributor` alike). Repeat to narrow.
    #[arg(long = "where", value_name = "FIELD=VALUE")]
    filters: Vec<String>,
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct KindsArgs {
    #[arg(long)]
    json: bool,
}

/// `jiuloop new KIND FIELD=VALUE…`: prints the new record's id.
pub fn new(p: &mut Profile, args: NewArgs, now: i64, out: &Out) -> Result<()> {
    p.require_user()?;
    let kind = kind_arg(&args.kind, out)?;
    let spec = kind.spec();
    if spec.server_written || !spec.fields.iter().any(|f| record::settable(f, true)) {
        bail!("{}", out.t("not-creatable").replace("{kind}", spec.label(out.lang())).replace("{name}", spec.name));
    }
    if !p.replica.may_create(kind) {
        bail!("{}", not_allowed(p, kind, protocol::schema::KIND_KEY, "role", "", out));
    }
    let mut inputs = assignments(p, kind, &args.fields, out)?;
    let given = |inputs: &[(String, String)], name: &str| inputs.iter().any(|(f, _)| f == name);
    // As `customer add` does: a kind placed by its own territory field lands in the
    // user's territory, and its assignee is the user, unless told otherwise.
    if let Placement::Own { territory } = spec.placement
        && !given(&inputs, territory)
        && let Some(mine) = p.territory()?
    {
        inputs.push((territory.to_string(), mine));
    }
    if let Some(f) = spec.assignee_field()
        && record::settable(f, true)
        && !given(&inputs, f.name)
    {
        inputs.push((f.name.to_string(), p.replica.user().to_string()));
    }
    let refs: Vec<(&str, &str)> = inputs.iter().map(|(f, v)| (f.as_str(), v.as_str())).collect();
    let id =
        p.replica.create(kind, &refs, now).map_err(|e| refusal(p, kind, &every_error(p, kind, &refs, true, e), out))?;
    p.persist()?;
    println!("{id}");
    Ok(())
}

/// `jiuloop set ID FIELD=VALUE…`: one change or nothing.
pub fn set(p: &mut Profile, args: SetArgs, now: i64, out: &Out) -> Result<()> {
    p.require_user()?;
    let (id, kind) = record_arg(p, &args.id, out)?;
    if args.fields.is_empty() {
        bail!("{}", out.t("nothing-to-set"));
    }
    let inputs = assignments(p, kind, &args.fields, out)?;
    // What the edit reads: the record, its parents and references, and the records the
    // new values name.
    p.load_doc(id)?;
    for (_, value) in &inputs {
        if let Ok(named) = value.trim().parse::<DocId>() {
            p.load_doc(named)?;
        }
    }
    let refs: Vec<(&str, &str)> = inputs.iter().map(|(f, v)| (f.as_str(), v.as_str())).collect();
    p.replica.edit(id, &refs, now).map_err(|e| refusal(p, kind, &every_error(p, kind, &refs, false, e), out))?;
    p.persist()?;
    Ok(())
}

/// `jiuloop show ID [--json]`.
pub fn show(p: &mut Profile, args: ShowArgs, out: &Out) -> Result<()> {
    let (id, kind) = record_arg(p, &args.id, out)?;
    p.load_doc(id)?;
    let rec = p.replica.record(id).map_err(|e| refusal(p, kind, &e, out))?;
    if args.json {
        out.json(&rec);
    } else {
        out.record(&rec, &|id| title_of(p, id, out.lang()));
    }
    Ok(())
}

/// `jiuloop list KIND [--where FIELD=VALUE]… [--json]`, ordered by title, then id.
pub fn list(p: &Profile, args: ListArgs, out: &Out) -> Result<()> {
    let kind = kind_arg(&args.kind, out)?;
    let spec = kind.spec();
    let mut filters = Vec::new();
    let mut errors = Vec::new();
    for arg in &args.filters {
        let (name, value) = split_assignment(arg, out)?;
        match spec.field(name) {
            Some(f) => filters.push((f, resolve_ref(p, f, value))),
            None => errors.push(FieldError::new(
                name,
                FieldErrorKind::UnknownField { known: spec.fields.iter().map(|f| f.name.to_string()).collect() },
            )),
        }
    }
    if !errors.is_empty() {
        bail!("{}", field_errors(kind, &errors, out.lang()));
    }
    let title = |r: &Record| spec.title.map(|t| r.display(t, out.lang())).unwrap_or_default();
    // From the index, unless every document is in memory anyway.
    let held = if p.all_loaded() {
        p.replica.records(kind)
    } else {
        p.listed(kind)?.into_iter().filter_map(|r| r.record).collect()
    };
    let mut records: Vec<Record> =
        held.into_iter().filter(|r| filters.iter().all(|(f, want)| matches(p, r, f, want))).collect();
    records.sort_by(|a, b| title(a).cmp(&title(b)).then(a.id.cmp(&b.id)));
    if args.json {
        out.json(&records);
    } else {
        out.records(kind, &records, &|id| title_of(p, id, out.lang()));
    }
    Ok(())
}

/// `jiuloop kinds [--json]`: the registry as the command line sees it.
pub fn kinds(args: KindsArgs, out: &Out) -> Result<()> {
    if args.json {
        let all: Vec<serde_json::Value> = DocKind::ALL.iter().map(|&k| describe_kind(k, out.lang())).collect();
        out.json(&all);
    } else {
        out.kinds(DocKind::ALL);
    }
    Ok(())
}

/// A kind named by its name or its label (Chinese, or English in any case).
fn kind_arg(text: &str, out: &Out) -> Result<DocKind> {
    let t = text.trim();
    let found = t
        .parse::<DocKind>()
        .ok()
        .or_else(|| DocKind::ALL.iter().copied().find(|k| k.spec().en.eq_ignore_ascii_case(t)));
    found.ok_or_else(|| {
        let known: Vec<String> = DocKind::ALL
            .iter()
            .map(|k| match out.lang() {
                Lang::Zh => format!("{}（{}）", k.as_str(), k.spec().zh),
                Lang::En => k.as_str().to_string(),
            })
            .collect();
        let sep = if out.lang() == Lang::Zh { "、" } else { ", " };
        anyhow!("{}", out.t("unknown-kind").replace("{kind}", t).replace("{kinds}", &known.join(sep)))
    })
}

/// A record held here, by full id or unique prefix, and its kind.
fn record_arg(p: &Profile, text: &str, out: &Out) -> Result<(DocId, DocKind)> {
    let id = p.resolve(text, None).map_err(|_| {
        let t = text.trim();
        let looks_like_id = t.len() >= 4 && t.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
        anyhow!("{}", out.t(if looks_like_id { "no-record" } else { "bad-id" }).replace("{id}", t))
    })?;
    let kind = p.kind_of(id).ok_or_else(|| anyhow!("{}", out.t("no-record").replace("{id}", text.trim())))?;
    Ok((id, kind))
}

/// `FIELD=VALUE` → (field, value); the value may be empty (clears an optional field).
fn split_assignment<'a>(arg: &'a str, out: &Out) -> Result<(&'a str, &'a str)> {
    match arg.split_once('=') {
        Some((field, value)) if !field.trim().is_empty() => Ok((field.trim(), value)),
        _ => bail!("{}", out.t("bad-assignment").replace("{arg}", arg)),
    }
}

/// The `FIELD=VALUE` arguments, with references given as a unique id prefix completed
/// to the full id (anything else is left for the kind's parser to judge).
fn assignments(p: &Profile, kind: DocKind, args: &[String], out: &Out) -> Result<Vec<(String, String)>> {
    let mut inputs = Vec::with_capacity(args.len());
    for arg in args {
        let (name, value) = split_assignment(arg, out)?;
        let value = match kind.spec().field(name) {
            Some(f) => resolve_ref(p, f, value),
            None => value.to_string(),
        };
        inputs.push((name.to_string(), value));
    }
    Ok(inputs)
}

fn resolve_ref(p: &Profile, f: &FieldSpec, value: &str) -> String {
    match f.ty {
        FieldType::Ref(target) if value.trim().parse::<DocId>().is_err() => {
            p.resolve(value.trim(), Some(target)).map(|id| id.to_string()).unwrap_or_else(|_| value.to_string())
        }
        _ => value.to_string(),
    }
}

/// The title of a record held here (a referenced customer's name …).
fn title_of(p: &Profile, id: DocId, lang: Lang) -> Option<String> {
    let r = if p.all_loaded() { p.replica.record(id).ok()? } else { p.listed_one(id)?.record? };
    let t = r.display(r.kind.spec().title?, lang);
    (!t.is_empty()).then_some(t)
}

/// Does the record's field hold `want`: its stored value (after the field's own parsing:
/// `1099` yuan, `经销商`), or the text it is stored or shown as (in either language, or a
/// referenced record's title)? An empty `want` matches an empty field.
fn matches(p: &Profile, r: &Record, f: &FieldSpec, want: &str) -> bool {
    let stored = r.fields.get(f.name);
    let want = want.trim();
    if want.is_empty() {
        return stored.is_none();
    }
    let Some(stored) = stored else { return false };
    let parsed = parse(f, want, &ParseContext::default()).ok();
    let same = match (&parsed, stored) {
        (Some(Value::Str(a)), FieldValue::Str(b)) => a == b,
        (Some(Value::Int(a) | Value::Time(a)), FieldValue::Int(b) | FieldValue::Time(b)) => a == b,
        (Some(Value::Flag(a)), FieldValue::Flag(b)) => a == b,
        _ => false,
    };
    let plain = match stored {
        FieldValue::Str(s) => s.clone(),
        FieldValue::Int(i) => i.to_string(),
        FieldValue::Time(t) => protocol::time::rfc3339(*t),
        FieldValue::Flag(b) => b.to_string(),
        _ => String::new(),
    };
    let title = match (f.ty, stored) {
        (FieldType::Ref(_), FieldValue::Str(s)) => s.parse().ok().and_then(|id| title_of(p, id, Lang::Zh)),
        _ => None,
    };
    same || [Some(plain), Some(r.display(f.name, Lang::Zh)), Some(r.display(f.name, Lang::En)), title]
        .into_iter()
        .flatten()
        .any(|t| t.eq_ignore_ascii_case(want))
}

/// Every field error on one line: `货架价（shelf_price）：“lots”不是金额…；品牌（brand）：不能为空`.
/// The field's label in `lang` (from [`FieldError::message`]) with its name for scripts.
pub fn field_errors(kind: DocKind, errors: &[FieldError], lang: Lang) -> String {
    let texts: Vec<String> = errors
        .iter()
        .map(|e| {
            let message = e.message(Some(kind), lang);
            let label = kind.spec().field(&e.field).map(|f| f.label(lang)).filter(|l| *l != e.field);
            match label.and_then(|l| message.strip_prefix(l).map(|rest| (l, rest))) {
                Some((l, rest)) if lang == Lang::Zh => format!("{l}（{}）{rest}", e.field),
                Some((l, rest)) => format!("{l} ({}){rest}", e.field),
                None => message,
            }
        })
        .collect();
    texts.join(if lang == Lang::Zh { "；" } else { "; " })
}

/// The replica checks a creation in stages (values, then references and the parent,
/// then required fields) and stops at the first stage that fails; people should hear of
/// every mistake at once. Add what the later stages would say about these inputs — the
/// required fields not given, references to records not held here — in field order.
fn every_error(p: &Profile, kind: DocKind, inputs: &[(&str, &str)], creating: bool, e: CoreError) -> CoreError {
    if e.field_errors().is_empty() {
        return e;
    }
    let spec = kind.spec();
    let mut errors = e.field_errors().to_vec();
    let has = |errors: &[FieldError], name: &str| errors.iter().any(|e| e.field == name);
    for f in spec.fields {
        let given: Vec<&str> = inputs.iter().filter(|(n, _)| n.trim() == f.name).map(|(_, v)| v.trim()).collect();
        if creating
            && f.required
            && record::settable(f, true)
            && given.iter().all(|v| v.is_empty())
            && !has(&errors, f.name)
        {
            errors.push(FieldError::new(f.name, FieldErrorKind::Required));
        }
        if let (FieldType::Ref(target), Some(value)) = (f.ty, given.last())
            && !value.is_empty()
            && !has(&errors, f.name)
            && value.parse::<DocId>().ok().and_then(|id| p.replica.kind_of(id).or_else(|| p.kind_of(id)))
                != Some(target)
        {
            let kind = FieldErrorKind::UnknownRef { kind: target.as_str().into(), value: value.to_string() };
            errors.push(FieldError::new(f.name, kind));
        }
    }
    let order = |e: &FieldError| spec.fields.iter().position(|f| f.name == e.field).unwrap_or(usize::MAX);
    errors.sort_by_key(order);
    CoreError::Schema(protocol::schema::SchemaError::Fields(errors))
}

/// An error of a typed command (`customer`, `visit`, `order`) in the user's language when
/// it is the core's refusal; other errors as they are.
pub fn localized(p: &Profile, kind: DocKind, e: anyhow::Error, out: &Out) -> anyhow::Error {
    match e.downcast_ref::<CoreError>() {
        Some(ce) => refusal(p, kind, ce, out),
        None => e,
    }
}

/// A refused command as one line in the user's language.
pub(crate) fn refusal(p: &Profile, kind: DocKind, e: &CoreError, out: &Out) -> anyhow::Error {
    let lang = out.lang();
    if !e.field_errors().is_empty() {
        return anyhow!("{}", field_errors(kind, e.field_errors(), lang));
    }
    let text = match e {
        CoreError::NotAllowed { field, rule, message } => not_allowed(p, kind, field, rule, message, out),
        CoreError::Unknown(id) | CoreError::NotFound { id, .. } => out.t("no-record").replace("{id}", id),
        CoreError::BadId(id) => out.t("bad-id").replace("{id}", id),
        CoreError::Exists { kind, .. } => out.t("exists").replace("{kind}", kind.spec().label(lang)),
        other => other.to_string(),
    };
    anyhow!("{text}")
}

/// A write the rules refuse, in the user's language: who may not do what, and the rule.
fn not_allowed(p: &Profile, kind: DocKind, field: &str, rule: &str, message: &str, out: &Out) -> String {
    let (spec, lang) = (kind.spec(), out.lang());
    let role = p.replica.principal().map(|pr| protocol::pricing::role_label(pr.role, lang)).unwrap_or("?");
    let field_label = match spec.field(field) {
        Some(f) if lang == Lang::Zh => format!("{}（{}）", f.label(lang), f.name),
        Some(f) => format!("{} ({})", f.label(lang), f.name),
        None => field.to_string(),
    };
    let zh = if lang == Lang::Zh { protocol::schema::contract::refusal_zh(message) } else { None };
    let key = match (rule, field == protocol::schema::KIND_KEY) {
        ("role", true) => "refused-role-create",
        ("role", false) => "refused-role-field",
        ("territory", true) => "refused-territory-create",
        ("territory", false) => "refused-territory-field",
        ("create-only", _) => "refused-create-only",
        (protocol::schema::expense::NEEDS_SUPPLEMENT, _) => "refused-needs-supplement",
        (protocol::schema::expense::CLAIM_NEEDS_SUPPLEMENT, _) => "refused-claim-needs-supplement",
        _ => "refused-other",
    };
    out.t(key)
        .replace("{role}", role)
        .replace("{kind}", spec.label(lang))
        .replace("{name}", spec.name)
        .replace("{field}", &field_label)
        .replace("{rule}", rule)
        .replace("{message}", &zh.unwrap_or_else(|| message.to_string()))
}

fn grants_json(grants: Grants) -> serde_json::Value {
    grants.iter().map(|(role, scope)| serde_json::json!({ "role": role.as_str(), "scope": scope.as_str() })).collect()
}

fn field_json(f: &FieldSpec, lang: Lang) -> serde_json::Value {
    let mut v = serde_json::json!({
        "name": f.name,
        "label": f.label(lang),
        "zh": f.zh,
        "en": f.en,
        "type": f.ty.name(),
        "required": f.required,
        "create_only": f.create_only,
        "settable_at_creation": record::settable(f, true),
        "settable_after": record::settable(f, false),
        "writers": grants_json(f.writers),
    });
    let m = v.as_object_mut().expect("an object");
    match f.ty {
        FieldType::Str { max } | FieldType::Text { max } => {
            m.insert("max_chars".into(), max.into());
        }
        FieldType::Int { min, max } => {
            m.insert("min".into(), min.into());
            m.insert("max".into(), max.into());
        }
        FieldType::Money { max } => {
            m.insert("unit".into(), "fen".into());
            m.insert("input_unit".into(), "yuan".into());
            m.insert("max_fen".into(), max.into());
        }
        FieldType::Enum(vocab) => {
            let values: Vec<_> =
                vocab.entries.iter().map(|e| serde_json::json!({ "name": e.name, "zh": e.zh, "en": e.en })).collect();
            m.insert("vocab".into(), serde_json::json!({ "name": vocab.name, "values": values }));
        }
        FieldType::Ref(target) => {
            m.insert("ref".into(), target.as_str().into());
        }
        FieldType::Records(fields) => {
            let sub: Vec<_> = fields.iter().map(|s| field_json(s, lang)).collect();
            m.insert("fields".into(), sub.into());
        }
        FieldType::Log(log) => {
            let entries: Vec<_> = log
                .entries
                .iter()
                .map(|e| {
                    let roles: Vec<&str> = e.writers.iter().map(|r| r.as_str()).collect();
                    serde_json::json!({ "kind": e.kind, "writers": roles })
                })
                .collect();
            m.insert("entries".into(), entries.into());
        }
        FieldType::Phone | FieldType::Date | FieldType::Time | FieldType::Flag | FieldType::Bytes | FieldType::Blob => {
        }
    }
    v
}

/// One kind as `jiuloop kinds --json` lists it.
pub fn describe_kind(kind: DocKind, lang: Lang) -> serde_json::Value {
    let spec = kind.spec();
    let placement = match spec.placement {
        Placement::Own { territory } => serde_json::json!({ "territory_field": territory }),
        Placement::Parent { kind, field } => serde_json::json!({ "parent": kind.as_str(), "parent_field": field }),
        Placement::Nowhere => serde_json::Value::Null,
    };
    serde_json::json!({
        "name": spec.name,
        "label": spec.label(lang),
        "zh": spec.zh,
        "en": spec.en,
        "placement": placement,
        "title": spec.title,
        "read": grants_json(spec.read),
        "create": grants_json(spec.create),
        "server_written": spec.server_written,
        "fields": spec.fields.iter().map(|f| field_json(f, lang)).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_errors_name_label_and_field_on_one_line() {
        let kind = DocKind::CompetitorObservation;
        let errors = [
            FieldError::new("shelf_price", FieldErrorKind::NotMoney { value: "lots".into() }),
            FieldError::new("brand", FieldErrorKind::Required),
            FieldError::new("colour", FieldErrorKind::UnknownField { known: vec!["brand".into()] }),
        ];
        let zh = field_errors(kind, &errors, Lang::Zh);
        assert_eq!(
            zh,
            "货架价（shelf_price）：“lots”不是金额（元，最多两位小数）；品牌（brand）：不能为空；colour：没有这个字段（可用：brand）"
        );
        let en = field_errors(kind, &errors, Lang::En);
        assert!(en.starts_with("Shelf price (shelf_price): 'lots' is not an amount in yuan; Brand (brand): "), "{en}");
        assert!(!zh.contains('\n') && !en.contains('\n'));
    }

    #[test]
    fn kinds_describe_types_vocabularies_and_references() {
        let obs = describe_kind(DocKind::CompetitorObservation, Lang::Zh);
        let field = |name: &str| obs["fields"].as_array().unwrap().iter().find(|f| f["name"] == name).unwrap().clone();
        assert_eq!(field("shelf_price")["type"], "money");
        assert_eq!(field("shelf_price")["required"], true);
        assert_eq!(field("customer")["ref"], "customer");
        assert_eq!(field("customer")["settable_after"], false);
        assert_eq!(field("observed_by")["settable_at_creation"], false);
        assert_eq!(obs["placement"]["parent"], "customer");
        let customer = describe_kind(DocKind::Customer, Lang::En);
        let channel = customer["fields"].as_array().unwrap().iter().find(|f| f["name"] == "channel").unwrap();
        assert!(channel["vocab"]["values"].as_array().unwrap().iter().any(|v| v["zh"] == "经销商"));
        assert_eq!(customer["label"], "Customer");
    }
}
