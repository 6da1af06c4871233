//! Any kind's fields, read and written generically from its spec ([`crate::kinds`]): the
//! generic commands, the browser's forms and the typed APIs of `customer`, `visit` and
//! `order` all create and edit through here, so a field is parsed and checked in one place.
//!
//! An edit validates every field first and writes only if all are good: it is one
//! Automerge change or nothing (the caller commits; [`SchemaError::Fields`] lists every
//! field's error).

use super::KIND_KEY;
use super::access::{
    R, SchemaError, check_kind, ensure_list, get_scalar, put_null, put_scalar, put_str, put_text, put_time,
    read_entries,
};
use crate::ids::{DocId, DocKind};
use crate::kinds::parse::{ParseContext, parse};
use crate::kinds::{FieldError, FieldErrorKind, FieldRole, FieldSpec, FieldType, Scalar, Value};
use crate::schema::Lang;
use automerge::{AutoCommit, ROOT};
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use std::collections::{BTreeMap, BTreeSet};

/// Who writes, and when (UTC ms): authors and creation times are filled in from here,
/// never from what a caller typed.
#[derive(Clone, Copy, Debug)]
pub struct Writer<'a> {
    pub user: &'a str,
    pub now: i64,
}

/// A field and the text typed for it.
pub type Input<'a> = (&'a str, &'a str);

/// Parse every input against `kind`'s fields (editable ones only: no identity fields,
/// lists, logs or bytes; `creating` also allows the parent reference and other
/// create-only data). Every error is returned, not just the first.
pub fn parse_inputs(
    kind: DocKind,
    inputs: &[Input<'_>],
    creating: bool,
    ctx: &ParseContext,
) -> Result<Vec<(&'static FieldSpec, Value)>, Vec<FieldError>> {
    let (ok, errors) = parse_inputs_all(kind, inputs, creating, ctx);
    if errors.is_empty() { Ok(ok) } else { Err(errors) }
}

/// [`parse_inputs`], keeping both the values that parsed and every error (so a caller can
/// add its own checks of the good values and report everything at once). For a creation,
/// required fields that were not given are errors too.
pub fn parse_inputs_all(
    kind: DocKind,
    inputs: &[Input<'_>],
    creating: bool,
    ctx: &ParseContext,
) -> (Vec<(&'static FieldSpec, Value)>, Vec<FieldError>) {
    let spec = kind.spec();
    let mut ok = Vec::with_capacity(inputs.len());
    let mut errors = Vec::new();
    let mut given = BTreeSet::new();
    for (name, text) in inputs {
        let Some(field) = spec.field(name.trim()) else {
            let known = spec.fields.iter().filter(|f| settable(f, true)).map(|f| f.name.to_string()).collect();
            errors.push(FieldError::new(name, FieldErrorKind::UnknownField { known }));
            continue;
        };
        given.insert(field.name);
        if !settable(field, creating) {
            let identity = matches!(field.role, FieldRole::Author | FieldRole::ClientTime);
            let once_only = field.create_only || field.role == FieldRole::Parent;
            let why = if !identity && !creating && once_only && field.ty.is_scalar_input() {
                FieldErrorKind::CreateOnly
            } else {
                FieldErrorKind::NotSettable
            };
            errors.push(FieldError::new(field.name, why));
            continue;
        }
        match parse(field, text, ctx) {
            Ok(v) => ok.push((field, v)),
            Err(e) => errors.push(FieldError::new(field.name, e)),
        }
    }
    // The last value given for a field wins (inputs were walked in order; keep the last).
    let mut last: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, (f, _)) in ok.iter().enumerate() {
        last.insert(f.name, i);
    }
    let ok: Vec<_> = ok.into_iter().enumerate().filter(|(i, (f, _))| last[f.name] == *i).map(|(_, x)| x).collect();
    if creating {
        let with_value: BTreeSet<&str> = ok.iter().filter(|(_, v)| *v != Value::Null).map(|(f, _)| f.name).collect();
        let failed: BTreeSet<String> = errors.iter().map(|e| e.field.clone()).collect();
        for f in spec.fields.iter().filter(|f| f.required && settable(f, true)) {
            let reported = given.contains(f.name) && failed.contains(f.name);
            if !with_value.contains(f.name) && !reported {
                errors.push(FieldError::new(f.name, FieldErrorKind::Required));
            }
        }
    }
    (ok, errors)
}

/// Can a person set the field with `FIELD=VALUE`?
pub fn settable(field: &FieldSpec, creating: bool) -> bool {
    let identity = matches!(field.role, FieldRole::Author | FieldRole::ClientTime);
    let once_only = field.create_only || field.role == FieldRole::Parent;
    field.ty.is_scalar_input() && !identity && (creating || !once_only) && !field.writers.is_empty()
}

/// The root fields an edit with these inputs writes (with their history lists): what the
/// write rules are asked about before anything is changed.
pub fn fields_written(kind: DocKind, inputs: &[Input<'_>]) -> Vec<&'static str> {
    let spec = kind.spec();
    let mut out = Vec::new();
    for (name, _) in inputs {
        if let Some(f) = spec.field(name.trim()) {
            out.push(f.name);
            out.extend(f.history);
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// Write a new document of `kind` into an empty `doc`: its kind, author and creation
/// time from `who`, empty texts and lists, then the inputs. Required fields must be given.
pub fn create(
    doc: &mut AutoCommit,
    kind: DocKind,
    inputs: &[Input<'_>],
    who: &Writer<'_>,
    ctx: &ParseContext,
) -> R<()> {
    let spec = kind.spec();
    let values = parse_inputs(kind, inputs, true, ctx).map_err(SchemaError::Fields)?;
    put_str(doc, &ROOT, KIND_KEY, kind.as_str())?;
    for f in spec.fields {
        match (f.role, f.ty) {
            (FieldRole::Author, _) => put_str(doc, &ROOT, f.name, who.user)?,
            (FieldRole::ClientTime, _) if f.create_only => put_time(doc, &ROOT, f.name, who.now)?,
            (_, FieldType::Text { .. }) => put_text(doc, &ROOT, f.name, "")?,
            (_, FieldType::Log(log)) => {
                ensure_list(doc, &ROOT, f.name)?;
                if let Some(first) = log.on_create {
                    super::access::push_entry(doc, f.name, &first_entry(log, first, who))?;
                }
            }
            (_, FieldType::Records(_)) => ensure_list(doc, &ROOT, f.name)?,
            _ => {}
        }
    }
    write_values(doc, &values, who)
}

/// The entry a log starts with when its record is created ([`crate::kinds::LogSpec::on_create`]).
pub fn first_entry(log: &crate::kinds::LogSpec, kind: &str, who: &Writer<'_>) -> BTreeMap<String, Scalar> {
    let mut entry = BTreeMap::new();
    if let Some((key, _)) = log.kind_key {
        entry.insert(key.to_string(), Scalar::Str(kind.to_string()));
    }
    entry.insert(log.author_key.to_string(), Scalar::Str(who.user.to_string()));
    entry.insert(log.time_key.to_string(), Scalar::Time(who.now));
    entry
}

/// Edit fields of an existing document of `kind`; returns the root fields written.
pub fn set(
    doc: &mut AutoCommit,
    kind: DocKind,
    inputs: &[Input<'_>],
    who: &Writer<'_>,
    ctx: &ParseContext,
) -> R<Vec<&'static str>> {
    check_kind(doc, kind.as_str())?;
    let values = parse_inputs(kind, inputs, false, ctx).map_err(SchemaError::Fields)?;
    let cleared: Vec<FieldError> = values
        .iter()
        .filter(|(f, v)| f.required && *v == Value::Null)
        .map(|(f, _)| FieldError::new(f.name, FieldErrorKind::Required))
        .collect();
    if !cleared.is_empty() {
        return Err(SchemaError::Fields(cleared));
    }
    write_values(doc, &values, who)?;
    Ok(fields_written(kind, inputs))
}

fn write_values(doc: &mut AutoCommit, values: &[(&'static FieldSpec, Value)], who: &Writer<'_>) -> R<()> {
    for (f, v) in values {
        if let Some(history) = f.history {
            let old = match get_scalar(doc, &ROOT, f.name) {
                Some(Scalar::Str(s)) if !s.is_empty() => Some(s),
                _ => None,
            };
            let new = match v {
                Value::Str(s) => Some(s.clone()),
                _ => None,
            };
            if old == new {
                continue;
            }
            if let Some(to) = &new {
                let mut entry = BTreeMap::new();
                if let Some(from) = old {
                    entry.insert("from".to_string(), Scalar::Str(from));
                }
                entry.insert("to".to_string(), Scalar::Str(to.clone()));
                entry.insert("at".to_string(), Scalar::Time(who.now));
                entry.insert("by".to_string(), Scalar::Str(who.user.to_string()));
                super::access::push_entry(doc, history, &entry)?;
            }
        }
        write_value(doc, f, v)?;
    }
    Ok(())
}

/// Write one parsed value into a root field.
pub(crate) fn write_value(doc: &mut AutoCommit, f: &FieldSpec, v: &Value) -> R<()> {
    match (f.ty, v) {
        (FieldType::Text { .. }, Value::Str(s)) => put_text(doc, &ROOT, f.name, s),
        (FieldType::Text { .. }, Value::Null) => put_text(doc, &ROOT, f.name, ""),
        (_, Value::Null) => put_null(doc, &ROOT, f.name),
        (_, Value::Str(s)) => put_str(doc, &ROOT, f.name, s),
        (_, Value::Int(i)) => super::access::put_int(doc, &ROOT, f.name, *i),
        (_, Value::Time(t)) => put_time(doc, &ROOT, f.name, *t),
        (_, Value::Flag(b)) => put_scalar(doc, &ROOT, f.name, &Scalar::Bool(*b)),
    }
}

/// The fields of the records in list field `list` of `kind`.
fn record_fields(kind: DocKind, list: &str) -> R<&'static [FieldSpec]> {
    match kind.spec().field(list).map(|f| f.ty) {
        Some(FieldType::Records(fields)) => Ok(fields),
        _ => Err(SchemaError::NotSettable(list.to_string())),
    }
}

/// Parse typed text for a record of list `list` (an order line, a contact).
pub fn parse_record(
    kind: DocKind,
    list: &str,
    inputs: &[Input<'_>],
    ctx: &ParseContext,
) -> R<Vec<(&'static FieldSpec, Value)>> {
    let fields = record_fields(kind, list)?;
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (name, text) in inputs {
        match fields.iter().find(|f| f.name == *name) {
            None => errors.push(FieldError::new(
                &format!("{list}/{name}"),
                FieldErrorKind::UnknownField { known: fields.iter().map(|f| f.name.to_string()).collect() },
            )),
            Some(f) => match parse(f, text, ctx) {
                Ok(v) => out.push((f, v)),
                Err(e) => errors.push(FieldError::new(&format!("{list}/{}", f.name), e)),
            },
        }
    }
    if errors.is_empty() { Ok(out) } else { Err(SchemaError::Fields(errors)) }
}

/// Check values given by code (not typed text) for a record of list `list`: strings
/// against their length and emptiness, integers and money against their range.
pub fn check_record(kind: DocKind, list: &str, values: &[(&str, Value)]) -> R<Vec<(&'static FieldSpec, Value)>> {
    let fields = record_fields(kind, list)?;
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (name, v) in values {
        let Some(f) = fields.iter().find(|f| f.name == *name) else {
            errors.push(FieldError::new(
                &format!("{list}/{name}"),
                FieldErrorKind::UnknownField { known: fields.iter().map(|f| f.name.to_string()).collect() },
            ));
            continue;
        };
        let checked = match v {
            Value::Str(s) => parse(f, s, &ParseContext::default()).map(|_| Value::Str(s.trim().to_string())),
            Value::Int(n) => crate::kinds::parse::check_int(f, *n).map(|_| v.clone()),
            Value::Null if f.required => Err(FieldErrorKind::Required),
            other => Ok(other.clone()),
        };
        match checked {
            Ok(v) => out.push((f, v)),
            Err(e) => errors.push(FieldError::new(&format!("{list}/{}", f.name), e)),
        }
    }
    if errors.is_empty() { Ok(out) } else { Err(SchemaError::Fields(errors)) }
}

/// Append a record to list field `list` (every required key of the record must be given).
pub fn add_record_values(
    doc: &mut AutoCommit,
    kind: DocKind,
    list: &str,
    values: &[(&'static FieldSpec, Value)],
) -> R<()> {
    check_kind(doc, kind.as_str())?;
    let fields = record_fields(kind, list)?;
    let missing: Vec<FieldError> = fields
        .iter()
        .filter(|f| f.required && !values.iter().any(|(g, v)| g.name == f.name && *v != Value::Null))
        .map(|f| FieldError::new(&format!("{list}/{}", f.name), FieldErrorKind::Required))
        .collect();
    if !missing.is_empty() {
        return Err(SchemaError::Fields(missing));
    }
    let entry: BTreeMap<String, Scalar> =
        values.iter().filter(|(_, v)| *v != Value::Null).map(|(f, v)| (f.name.to_string(), to_scalar(v))).collect();
    super::access::push_entry(doc, list, &entry)
}

/// Append a record from typed text.
pub fn add_record(doc: &mut AutoCommit, kind: DocKind, list: &str, inputs: &[Input<'_>]) -> R<()> {
    let values = parse_record(kind, list, inputs, &ParseContext::default())?;
    add_record_values(doc, kind, list, &values)
}

/// Change keys of the record of list `list` whose id (or 1-based position) is `record`.
pub fn set_record_values(
    doc: &mut AutoCommit,
    kind: DocKind,
    list: &str,
    record: &str,
    values: &[(&'static FieldSpec, Value)],
) -> R<()> {
    check_kind(doc, kind.as_str())?;
    for (f, v) in values {
        super::access::set_in_record(doc, list, record, f.name, &to_scalar(v))?;
    }
    Ok(())
}

/// Delete the record of list `list` whose id is `record` (an order line taken out of a draft).
pub fn remove_record(doc: &mut AutoCommit, kind: DocKind, list: &str, record: &str) -> R<()> {
    check_kind(doc, kind.as_str())?;
    record_fields(kind, list)?;
    super::access::remove_record(doc, list, record)
}

fn to_scalar(v: &Value) -> Scalar {
    match v {
        Value::Null => Scalar::Null,
        Value::Str(s) => Scalar::Str(s.clone()),
        Value::Int(i) => Scalar::Int(*i),
        Value::Time(t) => Scalar::Time(*t),
        Value::Flag(b) => Scalar::Bool(*b),
    }
}

/// A field's value as read, for JSON and display.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FieldValue {
    Str(String),
    Int(i64),
    /// UTC milliseconds (JSON: RFC 3339).
    Time(i64),
    Flag(bool),
    /// Byte length of a bytes value (its content is not shown).
    Bytes(usize),
    /// A list of records or log entries, each a map of plain values.
    Records(Vec<BTreeMap<String, FieldValue>>),
}

impl Serialize for FieldValue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            FieldValue::Str(v) => s.serialize_str(v),
            FieldValue::Int(v) => s.serialize_i64(*v),
            FieldValue::Time(ms) => s.serialize_str(&crate::time::rfc3339(*ms)),
            FieldValue::Flag(b) => s.serialize_bool(*b),
            FieldValue::Bytes(n) => s.serialize_str(&format!("<{n} bytes>")),
            FieldValue::Records(list) => list.serialize(s),
        }
    }
}

fn from_scalar(v: Scalar) -> Option<FieldValue> {
    Some(match v {
        Scalar::Str(s) if s.is_empty() => return None,
        Scalar::Str(s) => FieldValue::Str(s),
        Scalar::Int(i) => FieldValue::Int(i),
        Scalar::Time(t) => FieldValue::Time(t),
        Scalar::Bytes(b) => FieldValue::Bytes(b.len()),
        Scalar::Bool(b) => FieldValue::Flag(b),
        Scalar::Null => return None,
    })
}

/// One document read generically: every declared field that has a value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub id: DocId,
    pub kind: DocKind,
    pub fields: BTreeMap<&'static str, FieldValue>,
}

impl Serialize for Record {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.fields.len() + 2))?;
        m.serialize_entry("id", &self.id)?;
        m.serialize_entry("kind", self.kind.as_str())?;
        for (k, v) in &self.fields {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl Record {
    pub fn str(&self, field: &str) -> Option<&str> {
        match self.fields.get(field) {
            Some(FieldValue::Str(s)) => Some(s),
            _ => None,
        }
    }

    pub fn int(&self, field: &str) -> Option<i64> {
        match self.fields.get(field) {
            Some(FieldValue::Int(i) | FieldValue::Time(i)) => Some(*i),
            _ => None,
        }
    }

    /// The field as a person reads it in `lang`: labels for enums, yuan for money, local
    /// time, 是/否; lists as their length. Empty when the field has no value.
    pub fn display(&self, field: &str, lang: Lang) -> String {
        let Some(spec) = self.kind.spec().field(field) else { return String::new() };
        display_value(spec, self.fields.get(field), lang)
    }
}

/// A value as a person reads it (see [`Record::display`]).
pub fn display_value(spec: &FieldSpec, value: Option<&FieldValue>, lang: Lang) -> String {
    let Some(value) = value else { return String::new() };
    match (spec.ty, value) {
        (FieldType::Enum(vocab), FieldValue::Str(s)) => vocab.label(s, lang).unwrap_or(s).to_string(),
        (FieldType::Money { .. }, FieldValue::Int(fen)) => super::order::format_fen(*fen),
        (_, FieldValue::Time(ms)) => crate::time::display_local(*ms),
        (_, FieldValue::Flag(b)) => match (b, lang) {
            (true, Lang::Zh) => "是".into(),
            (false, Lang::Zh) => "否".into(),
            (true, Lang::En) => "yes".into(),
            (false, Lang::En) => "no".into(),
        },
        (_, FieldValue::Str(s)) => s.clone(),
        (_, FieldValue::Int(i)) => i.to_string(),
        (_, FieldValue::Bytes(n)) => format!("<{n} B>"),
        (_, FieldValue::Records(list)) => list.len().to_string(),
    }
}

/// Read every declared field of a document of `kind`.
pub fn read(doc: &AutoCommit, id: DocId, kind: DocKind) -> R<Record> {
    check_kind(doc, kind.as_str())?;
    let mut fields = BTreeMap::new();
    for f in kind.spec().fields {
        let value = match f.ty {
            FieldType::Records(_) | FieldType::Log(_) => {
                let list: Vec<BTreeMap<String, FieldValue>> = read_entries(doc, f.name)
                    .into_iter()
                    .map(|e| e.values.into_iter().filter_map(|(k, v)| Some((k, from_scalar(v)?))).collect())
                    .collect();
                Some(FieldValue::Records(list))
            }
            _ => get_scalar(doc, &ROOT, f.name).and_then(from_scalar),
        };
        if let Some(v) = value {
            fields.insert(f.name, v);
        }
    }
    Ok(Record { id, kind, fields })
}

/// The kind a document says it is (its `doc_kind`), if it names a registered kind.
pub fn kind_of(doc: &AutoCommit) -> Option<DocKind> {
    super::root_string(doc, KIND_KEY).and_then(|k| k.parse().ok())
}

/// The parent a document names (for [`crate::kinds::Placement::Parent`] kinds).
pub fn parent_of(doc: &AutoCommit, kind: DocKind) -> Option<DocId> {
    let (_, field) = kind.spec().parent()?;
    super::root_string(doc, field).and_then(|p| p.parse().ok())
}

/// The one check of what changes do to an append-only log (every log of every kind; the
/// server runs it before applying a change): only appends, and every new entry one the
/// writer may make ([`crate::kinds::check_entry`]). Returns the new entries, or the
/// violation. `before`: the document without the changes (`None`: they create it).
pub fn check_appended(
    field: &FieldSpec,
    log: &crate::kinds::LogSpec,
    p: &crate::rules::Principal,
    doc_author: Option<&str>,
    before: Option<&AutoCommit>,
    after: &mut AutoCommit,
    changes: &[automerge::Change],
) -> R<Result<Vec<crate::kinds::Entry>, crate::rules::Violation>> {
    Ok(match super::access::appended_entries(before, after, changes, field.name)? {
        Err(why) => Err(crate::rules::Violation {
            field: field.name.to_string(),
            rule: log.invalid_rule.map(String::from).unwrap_or_else(|| format!("{}-append-only", field.name)),
            message: why,
        }),
        Ok((old, new)) => crate::kinds::check_entry(log, field.name, p, doc_author, &old, &new).map(|()| new),
    })
}

/// The entries of log (or list) field `field`, in list order.
pub fn log_entries(doc: &AutoCommit, field: &str) -> Vec<crate::kinds::Entry> {
    read_entries(doc, field)
}

#[cfg(test)]
mod tests {
    use super::*;

    const WHO: Writer<'static> = Writer { user: "li", now: 1_000 };

    fn observation(inputs: &[Input<'_>]) -> R<AutoCommit> {
        let mut doc = AutoCommit::new();
        create(&mut doc, DocKind::CompetitorObservation, inputs, &WHO, &ParseContext::default())?;
        Ok(doc)
    }

    #[test]
    fn create_fills_identity_from_the_writer_and_checks_every_field() {
        let c = DocId::new_random().to_string();
        let doc = observation(&[
            ("customer", &c),
            ("brand", "五粮液"),
            ("product", "普五"),
            ("shelf_price", "1,099"),
            ("note", "中秋满减"),
        ])
        .unwrap();
        let r = read(&doc, DocId::new_random(), DocKind::CompetitorObservation).unwrap();
        assert_eq!(r.str("observed_by"), Some("li"));
        assert_eq!(r.int("observed_at"), Some(1_000));
        assert_eq!(r.int("shelf_price"), Some(109_900));
        assert_eq!(r.display("shelf_price", Lang::Zh), "1099.00");
        assert_eq!(r.str("note"), Some("中秋满减"));

        let Err(SchemaError::Fields(errors)) =
            observation(&[("brand", ""), ("shelf_price", "lots"), ("observed_by", "boss"), ("colour", "red")])
        else {
            panic!("expected field errors");
        };
        let codes: Vec<(&str, &str)> = errors.iter().map(|e| (e.field.as_str(), e.kind.code())).collect();
        assert_eq!(
            codes,
            vec![
                ("brand", "required"),
                ("shelf_price", "not_money"),
                ("observed_by", "not_settable"),
                ("colour", "unknown_field"),
                ("customer", "required"),
                ("product", "required"),
            ]
        );
        let Err(SchemaError::Fields(missing)) = observation(&[("brand", "x")]) else { panic!() };
        let missing: Vec<&str> = missing.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(missing, vec!["customer", "product", "shelf_price"]);
    }

    #[test]
    fn edits_are_all_or_nothing_and_keep_history() {
        let mut doc = AutoCommit::new();
        super::super::customer::init(
            &mut doc,
            &super::super::customer::NewCustomer { name: "贵阳酒行".into(), ..Default::default() },
            1,
            "li",
        )
        .unwrap();
        doc.commit();
        let before = doc.get_heads();
        let bad = set(&mut doc, DocKind::Customer, &[("phone", "138"), ("class", "D")], &WHO, &ParseContext::default());
        assert!(matches!(bad, Err(SchemaError::Fields(ref e)) if e.len() == 1 && e[0].field == "class"));
        doc.rollback();
        assert_eq!(doc.get_heads(), before);
        let written =
            set(&mut doc, DocKind::Customer, &[("class", "B类"), ("region", "遵义")], &WHO, &ParseContext::default())
                .unwrap();
        assert_eq!(written, vec!["class", "class_history", "region"]);
        let r = read(&doc, DocId::new_random(), DocKind::Customer).unwrap();
        assert_eq!(r.display("class", Lang::En), "B (some intention)");
        let Some(FieldValue::Records(h)) = r.fields.get("class_history") else { panic!() };
        assert_eq!(h.len(), 1);
        assert_eq!(h[0]["to"], FieldValue::Str("B".into()));
        for (field, value, code) in [("created_by", "wang", "not_settable"), ("contacts", "x", "not_settable")] {
            let Err(SchemaError::Fields(e)) =
                set(&mut doc, DocKind::Customer, &[(field, value)], &WHO, &ParseContext::default())
            else {
                panic!("{field}");
            };
            assert_eq!(e[0].kind.code(), code, "{field}");
        }
        assert!(matches!(
            set(&mut doc, DocKind::Customer, &[("name", "")], &WHO, &ParseContext::default()),
            Err(SchemaError::Fields(e)) if e[0].kind == FieldErrorKind::Required
        ));
    }
}
