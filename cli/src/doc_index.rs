//! The profile's index rows as the list views read them: what `client_core::IndexRow`
//! holds, its record and order kept as JSON in the `summary` column (the SQL is in
//! `sqlite_store.rs`).

use client_core::IndexRow;
use protocol::schema::record::{FieldValue, Record};
use protocol::{DocId, DocKind};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A field value, tagged so that it reads back as the same [`FieldValue`] (times and
/// strings would look alike in the record's own JSON).
#[derive(Serialize, Deserialize)]
enum V {
    S(String),
    I(i64),
    T(i64),
    F(bool),
    B(usize),
    R(Vec<BTreeMap<String, V>>),
}

impl From<&FieldValue> for V {
    fn from(v: &FieldValue) -> Self {
        match v {
            FieldValue::Str(s) => V::S(s.clone()),
            FieldValue::Int(i) => V::I(*i),
            FieldValue::Time(t) => V::T(*t),
            FieldValue::Flag(b) => V::F(*b),
            FieldValue::Bytes(n) => V::B(*n),
            FieldValue::Records(rs) => {
                V::R(rs.iter().map(|r| r.iter().map(|(k, v)| (k.clone(), V::from(v))).collect()).collect())
            }
        }
    }
}

impl From<V> for FieldValue {
    fn from(v: V) -> Self {
        match v {
            V::S(s) => FieldValue::Str(s),
            V::I(i) => FieldValue::Int(i),
            V::T(t) => FieldValue::Time(t),
            V::F(b) => FieldValue::Flag(b),
            V::B(n) => FieldValue::Bytes(n),
            V::R(rs) => FieldValue::Records(
                rs.into_iter().map(|r| r.into_iter().map(|(k, v)| (k, v.into())).collect()).collect(),
            ),
        }
    }
}

#[derive(Serialize, Deserialize)]
struct Summary {
    record: Option<BTreeMap<String, V>>,
    /// An order as `order list --json` prints it (pretty JSON, fields in their order).
    order: Option<String>,
}

/// One row as a list reads it back.
#[derive(Clone, Debug)]
pub struct ListedRow {
    pub id: DocId,
    pub kind: DocKind,
    pub status: Option<String>,
    /// `None` while the document's first changes have not all arrived (lists skip it).
    pub record: Option<Record>,
    /// The order's pretty JSON ([`pretty_list`] prints a list of them).
    pub order: Option<String>,
}

/// The `summary` column of a row.
pub fn encode(row: &IndexRow) -> Option<String> {
    if row.record.is_none() && row.order.is_none() {
        return None;
    }
    let summary = Summary {
        record: row.record.as_ref().map(|r| r.fields.iter().map(|(k, v)| (k.to_string(), V::from(v))).collect()),
        order: row.order.as_ref().map(|o| serde_json::to_string_pretty(o).expect("orders serialize")),
    };
    Some(serde_json::to_string(&summary).expect("summaries serialize"))
}

/// A row read back.
pub fn decode(id: DocId, kind: DocKind, status: Option<String>, summary: Option<&str>) -> Result<ListedRow, String> {
    let Some(summary) = summary else { return Ok(ListedRow { id, kind, status, record: None, order: None }) };
    let s: Summary = serde_json::from_str(summary).map_err(|e| format!("index row of {id}: {e}"))?;
    let record = match s.record {
        Some(fields) => {
            let spec = kind.spec();
            let mut out = BTreeMap::new();
            for (name, v) in fields {
                let f = spec.field(&name).ok_or_else(|| format!("index row of {id}: no field {name} in {kind}"))?;
                out.insert(f.name, FieldValue::from(v));
            }
            Some(Record { id, kind, fields: out })
        }
        None => None,
    };
    Ok(ListedRow { id, kind, status, record, order: s.order })
}

/// A list of values already printed as pretty JSON, printed as `serde_json` prints the
/// list of them.
pub fn pretty_list(items: &[&str]) -> String {
    if items.is_empty() {
        return "[]".to_string();
    }
    let inner: Vec<String> = items.iter().map(|i| format!("  {}", i.replace('\n', "\n  "))).collect();
    format!("[\n{}\n]", inner.join(",\n"))
}
