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
    /// Field values that were not accepted (nothing was written).
    #[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))]
    Fields(Vec<crate::kinds::FieldError>),
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

pub(crate) fn put_bytes(doc: &mut AutoCommit, obj: &ObjId, key: &str, v: &[u8]) -> R<()> {
    doc.put(obj, key, ScalarValue::Bytes(v.to_vec()))?;
    Ok(())
}

pub(crate) fn get_bytes(doc: &AutoCommit, obj: &ObjId, key: &str) -> Option<Vec<u8>> {
    match doc.get(obj, key) {
        Ok(Some((Value::Scalar(s), _))) => match s.as_ref() {
            ScalarValue::Bytes(b) => Some(b.clone()),
            _ => None,
        },
        _ => None,
    }
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

/// A new, empty list at `key`, replacing whatever was there.
pub(crate) fn new_list(doc: &mut AutoCommit, key: &str) -> R<()> {
    doc.put_object(automerge::ROOT, key, ObjType::List)?;
    Ok(())
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

/// What the server recorded of arrivals ([`super::RECEIVED_KEY`]): key → UTC ms.
pub fn read_receipts(doc: &AutoCommit) -> std::collections::BTreeMap<String, i64> {
    let Some(map) = get_obj(doc, &automerge::ROOT, super::RECEIVED_KEY) else { return Default::default() };
    doc.keys(&map).filter_map(|k| get_int(doc, &map, &k).map(|t| (k, t))).collect()
}

/// Record arrivals (the server only): each key → `at` (UTC ms), the map created if needed.
pub fn write_receipts(doc: &mut AutoCommit, keys: &[String], at: i64) -> R<()> {
    let map = match doc.get(automerge::ROOT, super::RECEIVED_KEY)? {
        Some((Value::Object(ObjType::Map), id)) => id,
        _ => doc.put_object(automerge::ROOT, super::RECEIVED_KEY, ObjType::Map)?,
    };
    for k in keys {
        put_time(doc, &map, k, at)?;
    }
    Ok(())
}

/// A plain value of `obj[key]` (Text objects read as their string); `None` when absent
/// or an object other than Text.
pub(crate) fn get_scalar(doc: &AutoCommit, obj: &ObjId, key: &str) -> Option<crate::kinds::Scalar> {
    use crate::kinds::Scalar;
    match doc.get(obj, key) {
        Ok(Some((Value::Scalar(s), _))) => Some(match s.as_ref() {
            ScalarValue::Str(s) => Scalar::Str(s.to_string()),
            ScalarValue::Int(i) => Scalar::Int(*i),
            ScalarValue::Uint(u) => Scalar::Int(i64::try_from(*u).unwrap_or(i64::MAX)),
            ScalarValue::Timestamp(t) => Scalar::Time(*t),
            ScalarValue::Bytes(b) => Scalar::Bytes(b.clone()),
            ScalarValue::Boolean(b) => Scalar::Bool(*b),
            ScalarValue::Null => Scalar::Null,
            other => Scalar::Str(other.to_string()),
        }),
        Ok(Some((Value::Object(ObjType::Text), id))) => Some(Scalar::Str(doc.text(&id).unwrap_or_default())),
        _ => None,
    }
}

/// Every key of a record map with its plain value, and the record's stable id (the same
/// on every device).
pub(crate) fn read_entry(doc: &AutoCommit, obj: &ObjId) -> crate::kinds::Entry {
    let values = doc.keys(obj).filter_map(|k| get_scalar(doc, obj, &k).map(|v| (k, v))).collect();
    crate::kinds::Entry { id: obj.to_string(), values }
}

/// The records of a list field, as entries, in list order.
pub(crate) fn read_entries(doc: &AutoCommit, key: &str) -> Vec<crate::kinds::Entry> {
    list_items(doc, &automerge::ROOT, key).iter().map(|o| read_entry(doc, o)).collect()
}

/// Append a record of plain values to a list field (creating the list if needed).
pub(crate) fn push_entry(
    doc: &mut AutoCommit,
    key: &str,
    values: &std::collections::BTreeMap<String, crate::kinds::Scalar>,
) -> R<()> {
    let e = push_map(doc, &automerge::ROOT, key)?;
    for (k, v) in values {
        put_scalar(doc, &e, k, v)?;
    }
    Ok(())
}

pub(crate) fn put_scalar(doc: &mut AutoCommit, obj: &ObjId, key: &str, v: &crate::kinds::Scalar) -> R<()> {
    use crate::kinds::Scalar;
    match v {
        Scalar::Str(s) => put_str(doc, obj, key, s),
        Scalar::Int(i) => put_int(doc, obj, key, *i),
        Scalar::Time(t) => put_time(doc, obj, key, *t),
        Scalar::Bytes(b) => put_bytes(doc, obj, key, b),
        Scalar::Bool(b) => {
            doc.put(obj, key, *b)?;
            Ok(())
        }
        Scalar::Null => put_null(doc, obj, key),
    }
}

/// Set one key of the record of list `key` whose `id` key (or 1-based position) is
/// `record`; `NotFound` when there is none.
pub(crate) fn set_in_record(
    doc: &mut AutoCommit,
    key: &str,
    record: &str,
    field: &str,
    v: &crate::kinds::Scalar,
) -> R<()> {
    let items = list_items(doc, &automerge::ROOT, key);
    let by_position = record.parse::<usize>().ok().and_then(|n| n.checked_sub(1)).and_then(|i| items.get(i));
    let Some(obj) = items.iter().find(|l| get_str(doc, l, "id") == record).or(by_position).cloned() else {
        return Err(SchemaError::NotFound("record", record.to_string()));
    };
    put_scalar(doc, &obj, field, v)
}

/// Delete the record of list `key` whose `id` key is `record`; `NotFound` when there is none.
pub(crate) fn remove_record(doc: &mut AutoCommit, key: &str, record: &str) -> R<()> {
    let Some(list) = get_obj(doc, &automerge::ROOT, key) else {
        return Err(SchemaError::NotFound("record", record.to_string()));
    };
    let index = (0..doc.length(&list)).find(|i| match doc.get(&list, *i) {
        Ok(Some((Value::Object(ObjType::Map), obj))) => get_str(doc, &obj, "id") == record,
        _ => false,
    });
    let Some(i) = index else { return Err(SchemaError::NotFound("record", record.to_string())) };
    doc.delete(&list, i)?;
    Ok(())
}

/// The entries a log held before a change, and the ones it appends.
pub(crate) type OldAndNew = (Vec<crate::kinds::Entry>, Vec<crate::kinds::Entry>);

/// What new changes append to the log under root key `key`: the entries before and the
/// new ones (see [`appended_records`]), or why they do more than append.
pub(crate) fn appended_entries(
    before: Option<&AutoCommit>,
    after: &mut AutoCommit,
    changes: &[automerge::Change],
    key: &str,
) -> R<Result<OldAndNew, String>> {
    let old = before.map(|b| read_entries(b, key)).unwrap_or_default();
    Ok(appended_records(before, after, changes, key)?
        .map(|new| (old, new.iter().map(|o| read_entry(after, o)).collect())))
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

/// The root keys (top-level fields) that the operations of `changes` write. A write inside
/// a nested object (a contact, an order line, a Text) counts for the root key that holds
/// it; deleting or re-creating an object is an operation on its root key. `doc` must
/// contain the changes (e.g. the scratch copy they were loaded into). Operations are read,
/// not patches: a write that loses a conflict, or lands inside an object deleted
/// concurrently, changes nothing visible but still counts.
pub fn root_keys_written(doc: &mut AutoCommit, changes: &[automerge::Change]) -> R<std::collections::BTreeSet<String>> {
    use automerge::legacy::{Key, ObjectId};
    let mut keys = std::collections::BTreeSet::new();
    let mut tree = ObjectTree::default();
    let mut targets = std::collections::BTreeSet::new();
    for change in changes {
        let expanded = change.decode();
        tree.learn(&expanded);
        for op in &expanded.operations {
            match (&op.obj, &op.key) {
                (ObjectId::Root, Key::Map(k)) => {
                    keys.insert(k.to_string());
                }
                (ObjectId::Root, Key::Seq(_)) => {
                    return Err(SchemaError::Automerge("a list operation on the root map".into()));
                }
                (ObjectId::Id(id), _) => {
                    targets.insert(id.to_string());
                }
            }
        }
    }
    if targets.is_empty() {
        return Ok(keys);
    }
    if targets.iter().any(|t| tree.root_key(t).is_none()) {
        tree.learn_visible(doc, &targets);
    }
    if targets.iter().any(|t| tree.root_key(t).is_none()) {
        // Objects no longer visible (deleted, or lost a conflict): find where the
        // history created them.
        for change in doc.get_changes(&[]) {
            tree.learn(&change.decode());
        }
    }
    for t in &targets {
        match tree.root_key(t) {
            Some(k) => keys.insert(k),
            None => return Err(SchemaError::Automerge(format!("object {t} is not under a root key"))),
        };
    }
    Ok(keys)
}

/// What new changes do to an append-only list of records (a map per entry) under the root
/// key `key`: `Ok(new entries)` — the maps they append, in list order, as they read in
/// `after` — or `Err(why)` when they do anything else to it: delete or re-create the list,
/// delete, overwrite or change an existing entry (a write that loses a conflict counts:
/// operations are read, not patches), insert something that is not a map, or nest an
/// object inside a new entry (entries hold plain values). `before` is the document without
/// the changes (`None`: they create it, so every entry is new); `after` contains them.
pub(crate) fn appended_records(
    before: Option<&AutoCommit>,
    after: &mut AutoCommit,
    changes: &[automerge::Change],
    key: &str,
) -> R<Result<Vec<ObjId>, String>> {
    use automerge::legacy::{Key, ObjectId, OpType};
    use std::collections::HashSet;
    let Some(before) = before else {
        return Ok(Ok(list_items(after, &automerge::ROOT, key)));
    };
    let list_before = get_obj(before, &automerge::ROOT, key);
    let existing: HashSet<String> = list_items(before, &automerge::ROOT, key).iter().map(|o| o.to_string()).collect();
    let list = list_before.as_ref().map(|l| l.to_string());
    let mut tree = ObjectTree::default();
    let mut created: HashSet<String> = HashSet::new();
    let mut targets: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    for change in changes {
        let expanded = change.decode();
        tree.learn(&expanded);
        let start = expanded.start_op.get();
        for (i, op) in expanded.operations.iter().enumerate() {
            let obj = match &op.obj {
                ObjectId::Root => {
                    if matches!(&op.key, Key::Map(k) if k.as_str() == key) && list.is_some() {
                        return Ok(Err(format!("'{key}' may not be deleted or replaced: it is append-only")));
                    }
                    continue;
                }
                ObjectId::Id(id) => id.to_string(),
            };
            if Some(&obj) == list.as_ref() {
                if !(op.insert && matches!(op.action, OpType::Make(ObjType::Map))) {
                    return Ok(Err(format!(
                        "entries of '{key}' may only be appended: existing entries are never deleted or replaced"
                    )));
                }
                created.insert(format!("{}@{}", start + i as u64, expanded.actor_id));
            } else {
                if created.contains(&obj) && matches!(op.action, OpType::Make(_)) {
                    return Ok(Err(format!("entries of '{key}' hold plain values, not nested objects")));
                }
                targets.insert(obj);
            }
        }
    }
    if !targets.is_empty() {
        tree.learn_visible(after, &targets);
        if targets.iter().any(|t| tree.root_key(t).is_none()) {
            for change in after.get_changes(&[]) {
                tree.learn(&change.decode());
            }
        }
    }
    for t in &targets {
        // Walk up from the written object: is it (inside) an entry that already existed?
        let mut at = t.as_str();
        for _ in 0..=tree.parent.len() {
            if existing.contains(at) {
                return Ok(Err(format!("entries of '{key}' may not be changed once written")));
            }
            match tree.parent.get(at) {
                Some(Parent::Object(p)) => at = p,
                _ => break,
            }
        }
    }
    Ok(Ok(list_items(after, &automerge::ROOT, key)
        .into_iter()
        .filter(|o| !existing.contains(&o.to_string()))
        .collect()))
}

/// Where objects live: object id (`counter@actor`) → its parent object id, or the root key
/// for objects directly in the root map.
#[derive(Default)]
struct ObjectTree {
    parent: std::collections::HashMap<String, Parent>,
}

enum Parent {
    RootKey(String),
    Object(String),
}

impl ObjectTree {
    /// Record the objects a change creates.
    fn learn(&mut self, change: &automerge::ExpandedChange) {
        use automerge::legacy::{Key, ObjectId, OpType};
        let start = change.start_op.get();
        for (i, op) in change.operations.iter().enumerate() {
            if !matches!(op.action, OpType::Make(_)) {
                continue;
            }
            let id = format!("{}@{}", start + i as u64, change.actor_id);
            let parent = match (&op.obj, &op.key) {
                (ObjectId::Root, Key::Map(k)) => Parent::RootKey(k.to_string()),
                (ObjectId::Root, Key::Seq(_)) => continue,
                (ObjectId::Id(p), _) => Parent::Object(p.to_string()),
            };
            self.parent.insert(id, parent);
        }
    }

    /// Record the objects reachable in the current document, conflicts included, level by
    /// level from the root, until every object of `wanted` is placed under a root key: a
    /// write to a top-level list or Text reads the root's values, not the whole document
    /// (a fan-out edit of an order with many lines stays cheap).
    fn learn_visible(&mut self, doc: &AutoCommit, wanted: &std::collections::BTreeSet<String>) {
        let mut level: Vec<ObjId> = Vec::new();
        for key in doc.keys(automerge::ROOT) {
            for (value, id) in doc.get_all(automerge::ROOT, key.as_str()).unwrap_or_default() {
                if matches!(value, Value::Object(_)) {
                    self.parent.insert(id.to_string(), Parent::RootKey(key.clone()));
                    level.push(id);
                }
            }
        }
        while !level.is_empty() && wanted.iter().any(|t| self.root_key(t).is_none()) {
            let mut next = Vec::new();
            for obj in &level {
                let name = obj.to_string();
                let children: Vec<ObjId> = match doc.object_type(obj) {
                    Ok(ObjType::Map | ObjType::Table) => doc
                        .keys(obj)
                        .flat_map(|k| doc.get_all(obj, k.as_str()).unwrap_or_default())
                        .filter(|(v, _)| matches!(v, Value::Object(_)))
                        .map(|(_, id)| id)
                        .collect(),
                    Ok(ObjType::List) => (0..doc.length(obj))
                        .flat_map(|i| doc.get_all(obj, i).unwrap_or_default())
                        .filter(|(v, _)| matches!(v, Value::Object(_)))
                        .map(|(_, id)| id)
                        .collect(),
                    _ => Vec::new(),
                };
                for child in children {
                    self.parent.insert(child.to_string(), Parent::Object(name.clone()));
                    next.push(child);
                }
            }
            level = next;
        }
    }

    fn root_key(&self, id: &str) -> Option<String> {
        let mut at = id;
        for _ in 0..=self.parent.len() {
            match self.parent.get(at)? {
                Parent::RootKey(k) => return Some(k.clone()),
                Parent::Object(p) => at = p,
            }
        }
        None
    }
}

/// A root field as text, when it is a string (or number); Text objects give their
/// content. `None` when absent or empty.
pub fn root_string(doc: &AutoCommit, key: &str) -> Option<String> {
    get_opt_str(doc, &automerge::ROOT, key)
}

/// A root field's scalar value as a person reads it (times in RFC 3339 UTC); `None` for
/// objects (lists, maps, Text), null and absent fields.
pub fn root_scalar_text(doc: &AutoCommit, key: &str) -> Option<String> {
    match doc.get(automerge::ROOT, key) {
        Ok(Some((Value::Scalar(s), _))) => match s.as_ref() {
            ScalarValue::Str(s) => Some(s.to_string()),
            ScalarValue::Int(i) => Some(i.to_string()),
            ScalarValue::Uint(u) => Some(u.to_string()),
            ScalarValue::F64(f) => Some(f.to_string()),
            ScalarValue::Boolean(b) => Some(b.to_string()),
            ScalarValue::Timestamp(ms) => Some(crate::time::rfc3339(*ms)),
            ScalarValue::Null => None,
            other => Some(other.to_string()),
        },
        _ => None,
    }
}

/// Serde helper: optional UTC milliseconds as RFC 3339 strings in JSON.
pub mod json_time_opt {
    use serde::Serializer;
    pub fn serialize<S: Serializer>(ms: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
        match ms {
            Some(ms) => s.serialize_str(&crate::time::rfc3339(*ms)),
            None => s.serialize_none(),
        }
    }
}

/// Serde helper: UTC milliseconds as RFC 3339 strings in JSON.
pub mod json_time {
    use serde::Serializer;
    pub fn serialize<S: Serializer>(ms: &i64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&crate::time::rfc3339(*ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::ROOT;

    fn new_changes(doc: &mut AutoCommit, before: &[automerge::ChangeHash]) -> Vec<automerge::Change> {
        doc.get_changes(before)
    }

    fn keys(doc: &mut AutoCommit, before: &[automerge::ChangeHash]) -> Vec<String> {
        let changes = new_changes(doc, before);
        root_keys_written(doc, &changes).unwrap().into_iter().collect()
    }

    fn base() -> AutoCommit {
        let mut doc = AutoCommit::new();
        put_str(&mut doc, &ROOT, "name", "茅台专卖").unwrap();
        put_text(&mut doc, &ROOT, "notes", "喜欢酱香").unwrap();
        let c = push_map(&mut doc, &ROOT, "contacts").unwrap();
        put_str(&mut doc, &c, "name", "王经理").unwrap();
        doc.commit();
        doc
    }

    #[test]
    fn nested_writes_count_for_their_root_key() {
        let mut doc = base();
        assert_eq!(keys(&mut doc, &[]), vec!["contacts", "name", "notes"]);
        let before = doc.get_heads();
        let c = list_items(&doc, &ROOT, "contacts")[0].clone();
        put_str(&mut doc, &c, "phone", "138").unwrap();
        put_text(&mut doc, &ROOT, "notes", "喜欢浓香").unwrap();
        doc.commit();
        assert_eq!(keys(&mut doc, &before), vec!["contacts", "notes"]);
    }

    #[test]
    fn deleting_and_recreating_is_a_write_of_the_root_key() {
        let mut doc = base();
        let before = doc.get_heads();
        doc.delete(ROOT, "contacts").unwrap();
        doc.put_object(ROOT, "contacts", ObjType::List).unwrap();
        doc.commit();
        assert_eq!(keys(&mut doc, &before), vec!["contacts"]);
    }

    #[test]
    fn writes_inside_deleted_objects_and_lost_conflicts_count() {
        let mut a = base();
        let before = a.get_heads();
        let mut b = a.fork();
        // a deletes the contact and the notes; b edits inside both, concurrently.
        let list = get_obj(&a, &ROOT, "contacts").unwrap();
        a.delete(&list, 0).unwrap();
        a.delete(ROOT, "notes").unwrap();
        put_str(&mut a, &ROOT, "name", "A").unwrap();
        a.commit();
        let c = list_items(&b, &ROOT, "contacts")[0].clone();
        put_str(&mut b, &c, "title", "老板").unwrap();
        put_text(&mut b, &ROOT, "notes", "喜欢酱香，月底进货").unwrap();
        put_str(&mut b, &ROOT, "name", "B").unwrap();
        b.commit();
        let theirs = new_changes(&mut b, &before);
        a.merge(&mut b).unwrap();
        let got: Vec<String> = root_keys_written(&mut a, &theirs).unwrap().into_iter().collect();
        assert_eq!(got, vec!["contacts", "name", "notes"]);
    }
}
