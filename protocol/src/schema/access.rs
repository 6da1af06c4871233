//! Typed reads and writes of Automerge values. Nothing else in jiuloop touches object ids.

use automerge::{AutoCommit, ObjId, ObjType, ReadDoc, ScalarValue, Value, transaction::Transactable};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SchemaError {
    #[error("unknown field '{field}' (fields: {known})")]
    UnknownField { field: String, known: String },
    #[error("bad value for {field}: {reason}")]
    BadValue { field: String, reason: String },
    #[error("field '{0}' cannot be set this way")]
    NotSettable(String),
    #[error("document is not a {expected} (found {found})")]
    WrongKind { expected: String, found: String },
    #[error("no {0} with id {1}")]
    NotFound(&'static str, String),
    #[error("automerge: {0}")]
    Automerge(String),
}

impl From<automerge::AutomergeError> for SchemaError {
    fn from(e: automerge::AutomergeError) -> Self {
        SchemaError::Automerge(e.to_string())
    }
}

pub(crate) type R<T> = Result<T, SchemaError>;

pub(crate) fn get_str(doc: &AutoCommit, obj: &ObjId, key: &str) -> String {
    match doc.get(obj, key) {
        Ok(Some((Value::Scalar(s), _))) => match s.as_ref() {
            ScalarValue::Str(s) => s.to_string(),
            ScalarValue::Int(i) => i.to_string(),
            _ => String::new(),
        },
        Ok(Some((Value::Object(ObjType::Text), id))) => doc.text(&id).unwrap_or_default(),
        _ => String::new(),
    }
}

pub(crate) fn get_opt_str(doc: &AutoCommit, obj: &ObjId, key: &str) -> Option<String> {
    Some(get_str(doc, obj, key)).filter(|s| !s.is_empty())
}

pub(crate) fn get_int(doc: &AutoCommit, obj: &ObjId, key: &str) -> Option<i64> {
    match doc.get(obj, key) {
        Ok(Some((Value::Scalar(s), _))) => match s.as_ref() {
            ScalarValue::Int(i) | ScalarValue::Timestamp(i) => Some(*i),
            ScalarValue::Uint(u) => i64::try_from(*u).ok(),
            _ => None,
        },
        _ => None,
    }
}

pub(crate) fn get_parsed<T: std::str::FromStr>(doc: &AutoCommit, obj: &ObjId, key: &str) -> Option<T> {
    get_opt_str(doc, obj, key).and_then(|s| s.parse().ok())
}

pub(crate) fn get_obj(doc: &AutoCommit, obj: &ObjId, key: &str) -> Option<ObjId> {
    match doc.get(obj, key) {
        Ok(Some((Value::Object(_), id))) => Some(id),
        _ => None,
    }
}

/// The maps of a list of records, in list order.
pub(crate) fn list_items(doc: &AutoCommit, obj: &ObjId, key: &str) -> Vec<ObjId> {
    let Some(list) = get_obj(doc, obj, key) else { return Vec::new() };
    (0..doc.length(&list))
        .filter_map(|i| match doc.get(&list, i) {
            Ok(Some((Value::Object(ObjType::Map), id))) => Some(id),
            _ => None,
        })
        .collect()
}

pub(crate) fn put_str(doc: &mut AutoCommit, obj: &ObjId, key: &str, v: &str) -> R<()> {
    doc.put(obj, key, v)?;
    Ok(())
}

pub(crate) fn put_int(doc: &mut AutoCommit, obj: &ObjId, key: &str, v: i64) -> R<()> {
    doc.put(obj, key, v)?;
    Ok(())
}

pub(crate) fn put_time(doc: &mut AutoCommit, obj: &ObjId, key: &str, ms: i64) -> R<()> {
    doc.put(obj, key, ScalarValue::Timestamp(ms))?;
    Ok(())
}

pub(crate) fn put_null(doc: &mut AutoCommit, obj: &ObjId, key: &str) -> R<()> {
    doc.put(obj, key, ScalarValue::Null)?;
    Ok(())
}

/// Set a Text object's content by a minimal diff, so concurrent edits merge.
pub(crate) fn put_text(doc: &mut AutoCommit, obj: &ObjId, key: &str, v: &str) -> R<()> {
    let text = match doc.get(obj, key)? {
        Some((Value::Object(ObjType::Text), id)) => id,
        _ => doc.put_object(obj, key, ObjType::Text)?,
    };
    doc.update_text(&text, v)?;
    Ok(())
}

/// Append a map to a list (creating the list if needed) and return the new map.
pub(crate) fn push_map(doc: &mut AutoCommit, obj: &ObjId, key: &str) -> R<ObjId> {
    let list = match doc.get(obj, key)? {
        Some((Value::Object(ObjType::List), id)) => id,
        _ => doc.put_object(obj, key, ObjType::List)?,
    };
    let len = doc.length(&list);
    Ok(doc.insert_object(&list, len, ObjType::Map)?)
}

pub(crate) fn ensure_list(doc: &mut AutoCommit, obj: &ObjId, key: &str) -> R<()> {
    if get_obj(doc, obj, key).is_none() {
        doc.put_object(obj, key, ObjType::List)?;
    }
    Ok(())
}

pub(crate) fn check_kind(doc: &AutoCommit, expected: &str) -> R<()> {
    let found = get_str(doc, &automerge::ROOT, super::KIND_KEY);
    if found != expected {
        return Err(SchemaError::WrongKind { expected: expected.into(), found });
    }
    Ok(())
}

/// Copy the root fields that differ between `from` and `to` into `to`, for the fields
/// `keep` accepts: scalars are put, Text is updated by diff. Lists and maps are not
/// copied (they cannot be merged field by field); their names are returned as skipped.
/// Returns (copied, skipped).
pub fn copy_root_fields(
    from: &AutoCommit,
    to: &mut AutoCommit,
    keep: &dyn Fn(&str) -> bool,
) -> R<(Vec<String>, Vec<String>)> {
    let (mut copied, mut skipped) = (Vec::new(), Vec::new());
    for key in from.keys(automerge::ROOT) {
        if !keep(&key) {
            continue;
        }
        match from.get(automerge::ROOT, key.as_str())? {
            Some((Value::Scalar(v), _)) => {
                let same = matches!(to.get(automerge::ROOT, key.as_str())?, Some((Value::Scalar(w), _)) if w == v);
                if !same {
                    to.put(automerge::ROOT, key.as_str(), v.into_owned())?;
                    copied.push(key);
                }
            }
            Some((Value::Object(ObjType::Text), id)) => {
                let text = from.text(&id)?;
                if get_str(to, &automerge::ROOT, &key) != text {
                    put_text(to, &automerge::ROOT, &key, &text)?;
                    copied.push(key);
                }
            }
            Some((Value::Object(_), id)) => {
                let differs = match to.get(automerge::ROOT, key.as_str())? {
                    Some((Value::Object(_), other)) => from.length(&id) != to.length(&other),
                    _ => true,
                };
                if differs {
                    skipped.push(key);
                }
            }
            None => {}
        }
    }
    Ok((copied, skipped))
}

/// Serde helper: UTC milliseconds as RFC 3339 strings in JSON.
pub mod json_time {
    use serde::Serializer;
    pub fn serialize<S: Serializer>(ms: &i64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&crate::time::rfc3339(*ms))
    }
}
