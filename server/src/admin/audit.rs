//! The audit trail, as people and scripts read it: `jiuloop-server audit --doc ID` and
//! `--user NAME`. Every accepted change is recorded (in the transaction that stores it)
//! with the verified user and device, the time the server received it, the top-level
//! fields it wrote and, for plain values, old → new; every refusal with its rule.

use crate::storage::{AuditRow, DbError, Storage};
use protocol::time::{display_local, rfc3339};
use protocol::{DocId, DocKind};
use serde::{Deserialize, Serialize};
use std::fmt::Write;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValueChange {
    pub field: String,
    pub old: Option<String>,
    pub new: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    /// When the server received it, RFC 3339 UTC.
    #[serde(serialize_with = "ser_time")]
    pub at: i64,
    pub user: String,
    pub device: Option<String>,
    pub doc: DocId,
    #[serde(serialize_with = "ser_kind")]
    pub kind: DocKind,
    /// `accepted` or `refused`.
    pub outcome: &'static str,
    /// Server sequence number of the stored changes (accepted only).
    pub seq: Option<i64>,
    pub fields: Vec<String>,
    pub changes: Vec<ValueChange>,
    pub code: Option<String>,
    pub rule: Option<String>,
    pub message: Option<String>,
}

fn ser_kind<S: serde::Serializer>(kind: &DocKind, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(kind.as_str())
}

fn ser_time<S: serde::Serializer>(ms: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&rfc3339(*ms))
}

impl TryFrom<AuditRow> for AuditEntry {
    type Error = DbError;
    fn try_from(r: AuditRow) -> Result<Self, DbError> {
        let doc =
            DocId::from_slice(&r.doc_id).ok_or_else(|| DbError::corrupt("audit", format!("doc {:?}", r.doc_id)))?;
        let kind = DocKind::from_code(r.kind).ok_or_else(|| DbError::corrupt("audit", format!("kind {}", r.kind)))?;
        let fields = serde_json::from_str(&r.fields).map_err(|e| DbError::corrupt("audit", e.to_string()))?;
        let changes = serde_json::from_str(&r.changes).map_err(|e| DbError::corrupt("audit", e.to_string()))?;
        Ok(AuditEntry {
            at: r.at,
            user: r.user,
            device: r.device,
            doc,
            kind,
            outcome: if r.refused { "refused" } else { "accepted" },
            seq: r.seq,
            fields,
            changes,
            code: r.code,
            rule: r.rule,
            message: r.message,
        })
    }
}

/// The history of one document, oldest first (at most `limit` entries, the latest).
pub fn of_doc(db: &dyn Storage, id: DocId, limit: i64) -> Result<Vec<AuditEntry>, DbError> {
    db.audit_of_doc(id.as_bytes(), limit)?.into_iter().map(AuditEntry::try_from).collect()
}

/// What a user did, oldest first (at most `limit` entries, the latest).
pub fn of_user(db: &dyn Storage, user: &str, limit: i64) -> Result<Vec<AuditEntry>, DbError> {
    db.audit_of_user(user, limit)?.into_iter().map(AuditEntry::try_from).collect()
}

/// One line per entry, times in Asia/Shanghai.
pub fn render(entries: &[AuditEntry]) -> String {
    let mut out = String::new();
    for e in entries {
        let who = match &e.device {
            Some(d) => format!("{} (device {d})", e.user),
            None => e.user.clone(),
        };
        let _ = write!(out, "{}  {who}  ", display_local(e.at));
        if e.outcome == "refused" {
            let _ = write!(out, "REFUSED {} {}", e.kind, e.doc);
            let field = e.fields.first().map(String::as_str).unwrap_or("(whole document)");
            let _ = write!(
                out,
                ": {field} [{} / rule {}] {}",
                e.code.as_deref().unwrap_or("?"),
                e.rule.as_deref().unwrap_or("?"),
                e.message.as_deref().unwrap_or("")
            );
        } else {
            let _ = write!(out, "changed {} {}", e.kind, e.doc);
            let mut parts = Vec::new();
            for f in &e.fields {
                match e.changes.iter().find(|c| &c.field == f) {
                    Some(c) => parts.push(format!("{f}: {} → {}", shown(&c.old), shown(&c.new))),
                    None => parts.push(f.clone()),
                }
            }
            if !parts.is_empty() {
                let _ = write!(out, ": {}", parts.join("; "));
            }
        }
        out.push('\n');
    }
    out
}

fn shown(v: &Option<String>) -> String {
    match v {
        None => "(none)".into(),
        Some(s) => {
            let mut short: String = s.chars().take(60).collect();
            if s.chars().count() > 60 {
                short.push('…');
            }
            format!("\"{short}\"")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_read_like_sentences() {
        let doc = DocId::new_random();
        let entries = vec![
            AuditEntry {
                at: protocol::time::parse_rfc3339("2026-11-27T10:04:00Z").unwrap(),
                user: "li".into(),
                device: Some("d1".into()),
                doc,
                kind: DocKind::Order,
                outcome: "accepted",
                seq: Some(7),
                fields: vec!["delivery_place".into(), "lines".into()],
                changes: vec![ValueChange { field: "delivery_place".into(), old: None, new: Some("成都".into()) }],
                code: None,
                rule: None,
                message: None,
            },
            AuditEntry {
                at: protocol::time::parse_rfc3339("2026-11-27T10:05:00Z").unwrap(),
                user: "wang".into(),
                device: Some("d2".into()),
                doc,
                kind: DocKind::Order,
                outcome: "refused",
                seq: None,
                fields: vec!["customer".into()],
                changes: vec![],
                code: Some("forbidden".into()),
                rule: Some("create-only".into()),
                message: Some("order.customer is set when the record is created and never changed".into()),
            },
        ];
        let text = render(&entries);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            format!("2026-11-27 18:04  li (device d1)  changed order {doc}: delivery_place: (none) → \"成都\"; lines")
        );
        assert!(lines[1].starts_with("2026-11-27 18:05  wang (device d2)  REFUSED order"), "{}", lines[1]);
        assert!(lines[1].contains("customer [forbidden / rule create-only]"), "{}", lines[1]);
        let json = serde_json::to_value(&entries).unwrap();
        assert_eq!(json[0]["at"], "2026-11-27T10:04:00.000Z");
        assert_eq!(json[1]["outcome"], "refused");
    }
}
