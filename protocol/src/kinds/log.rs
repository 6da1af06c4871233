//! The one check of an append-only log's new entries, used by the server before it
//! applies a change and by honest clients before they commit one.

use super::spec::{FieldSpec, FieldType, LogSpec};
use crate::rules::{Principal, Violation};
use std::collections::BTreeMap;

/// A plain value inside a log entry (entries hold no nested objects).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scalar {
    Str(String),
    Int(i64),
    /// UTC milliseconds.
    Time(i64),
    Bytes(Vec<u8>),
    Bool(bool),
    Null,
}

/// One entry of a log: its keys and values, and its stable id (the same on every device).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Entry {
    pub id: String,
    pub values: BTreeMap<String, Scalar>,
}

/// Entries in the order the server received them (by the arrival times it recorded, then
/// list position); entries it has not received yet (this device's unsent ones, or ones
/// stored before arrivals were recorded) follow, by their stated time. Every device that
/// holds the same document gets the same order.
pub fn arrival_order<T>(items: &[T], received: impl Fn(&T) -> Option<i64>, stated: impl Fn(&T) -> i64) -> Vec<&T> {
    let mut sorted: Vec<(usize, &T)> = items.iter().enumerate().collect();
    sorted.sort_by_key(|(i, t)| match received(t) {
        Some(r) => (0, r, *i),
        None => (1, stated(t), *i),
    });
    sorted.into_iter().map(|(_, t)| t).collect()
}

impl Entry {
    /// A string value (numbers as text); `None` when absent, empty or not a string.
    pub fn str(&self, key: &str) -> Option<&str> {
        match self.values.get(key) {
            Some(Scalar::Str(s)) if !s.is_empty() => Some(s),
            _ => None,
        }
    }

    pub fn int(&self, key: &str) -> Option<i64> {
        match self.values.get(key) {
            Some(Scalar::Int(i) | Scalar::Time(i)) => Some(*i),
            _ => None,
        }
    }

    pub fn bytes(&self, key: &str) -> Option<&[u8]> {
        match self.values.get(key) {
            Some(Scalar::Bytes(b)) => Some(b),
            _ => None,
        }
    }

    /// Is the key present with a non-empty value?
    pub fn has(&self, key: &str) -> bool {
        match self.values.get(key) {
            None | Some(Scalar::Null) => false,
            Some(Scalar::Str(s)) => !s.trim().is_empty(),
            Some(_) => true,
        }
    }
}

/// Does a stored value fit its declared field (the server holds every declared key of a
/// log entry to its type: a satisfaction of 9, a date that is none, a choice outside the
/// vocabulary are refused)? `Err` says why, in English.
pub fn check_value(f: &FieldSpec, v: &Scalar) -> Result<(), String> {
    let ok = match (f.ty, v) {
        (_, Scalar::Null) => true,
        (FieldType::Str { max } | FieldType::Text { max }, Scalar::Str(s)) => s.chars().count() <= max,
        (FieldType::Phone, Scalar::Str(s)) => s.chars().count() <= 32,
        (FieldType::Enum(vocab), Scalar::Str(s)) => s.is_empty() || vocab.names().any(|n| n == s),
        (FieldType::Date, Scalar::Str(s)) => s.is_empty() || crate::time::parse_date(s).is_some(),
        (FieldType::Time, Scalar::Time(_) | Scalar::Int(_)) => true,
        (FieldType::Int { min, max }, Scalar::Int(i)) => (min..=max).contains(i),
        (FieldType::Money { max }, Scalar::Int(i)) => (0..=max).contains(i),
        (FieldType::Ref(_), Scalar::Str(s)) => s.is_empty() || s.parse::<crate::ids::DocId>().is_ok(),
        (FieldType::Flag, Scalar::Bool(_)) => true,
        (FieldType::Bytes, Scalar::Bytes(_)) => true,
        _ => false,
    };
    if ok { Ok(()) } else { Err(format!("is not a valid {} value: {v:?}", f.ty.name())) }
}

/// What a log's own check sees of one new entry.
pub struct LogCheck<'a> {
    pub writer: &'a Principal,
    pub entry: &'a Entry,
    /// The entries the log held before the change, then the change's entries before this one.
    pub before: &'a [Entry],
    pub new_before: &'a [Entry],
}

impl LogCheck<'_> {
    /// Every entry before this one (stored, then new).
    pub fn earlier(&self) -> impl Iterator<Item = &Entry> {
        self.before.iter().chain(self.new_before.iter())
    }
}

/// May `p` append `new` (in order) to a log that holds `before`? Each entry must be of a
/// declared kind the writer's role may append (and not one the document's author may not,
/// such as approving their own order: `doc_author` is who created the document, as the
/// server recorded it), name the writer as its author, carry the writer's own role where
/// the log has a role key (entries that require it must carry it), carry every key its
/// kind requires, and pass the log's own check. `field` is the log's field name (refusals
/// name it as their path).
pub fn check_entry(
    log: &LogSpec,
    field: &str,
    p: &Principal,
    doc_author: Option<&str>,
    before: &[Entry],
    new: &[Entry],
) -> Result<(), Violation> {
    let violation = |rule: String, message: String| Violation {
        field: field.to_string(),
        rule: log.invalid_rule.map(String::from).unwrap_or(rule),
        message,
    };
    let word = log.word;
    for (i, e) in new.iter().enumerate() {
        let kind = match log.kind_key {
            Some((key, _)) => e.str(key).unwrap_or_default(),
            None => log.entries[0].kind,
        };
        let Some(spec) = log.entry(kind) else {
            return Err(violation(format!("{word}-kind"), format!("'{kind}' is not a {word} of {field}")));
        };
        if !spec.writers.contains(&p.role) {
            return Err(violation(format!("{word}-role"), format!("role {} may not record '{kind}'", p.role)));
        }
        if spec.not_by_author && doc_author == Some(p.user.as_str()) {
            return Err(violation(
                format!("{word}-own"),
                format!("{} may not record '{kind}' on a record they created themselves", p.user),
            ));
        }
        let author = e.str(log.author_key).unwrap_or_default();
        if author != p.user {
            return Err(violation(
                format!("{word}-author"),
                format!("an entry recorded by {} must name them, not '{author}'", p.user),
            ));
        }
        if let Some(role_key) = log.role_key {
            match e.str(role_key) {
                Some(r) if r != p.role.as_str() => {
                    return Err(violation(
                        format!("{word}-approver-role"),
                        format!("{} acts as {}, not as '{r}'", p.user, p.role.as_str()),
                    ));
                }
                None if spec.requires.contains(&role_key) => {
                    return Err(violation(
                        format!("{word}-approver-role"),
                        format!("'{kind}' must say in which role it was decided"),
                    ));
                }
                _ => {}
            }
        }
        if let Some(key) = spec.requires.iter().find(|k| !e.has(k)) {
            return Err(violation(format!("{word}-{key}"), format!("'{kind}' must carry '{key}'")));
        }
        for f in log.fields {
            if let Some(v) = e.values.get(f.name) {
                check_value(f, v).map_err(|why| violation(format!("{word}-value"), format!("'{}' {why}", f.name)))?;
            }
        }
        if let Some(check) = log.check {
            check(&LogCheck { writer: p, entry: e, before, new_before: &new[..i] })
                .map_err(|why| violation(format!("{word}-invalid"), why))?;
        }
    }
    Ok(())
}
