//! The `audit` table: every accepted change and every refusal, written in the transaction
//! that stores (or refuses) it.

use super::{DbError, SqliteDb};
use crate::storage::rows::*;
use rusqlite::{Row, params};

const COLUMNS: &str = "id, at, user, device, doc_id, kind, seq, refused, fields, changes, code, rule, message";

impl AuditRow {
    fn from_row(r: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(AuditRow {
            id: r.get(0)?,
            at: r.get(1)?,
            user: r.get(2)?,
            device: r.get(3)?,
            doc_id: r.get(4)?,
            kind: r.get(5)?,
            seq: r.get(6)?,
            refused: r.get(7)?,
            fields: r.get(8)?,
            changes: r.get(9)?,
            code: r.get(10)?,
            rule: r.get(11)?,
            message: r.get(12)?,
        })
    }
}

impl SqliteDb {
    pub fn insert_audit(&self, a: &NewAudit<'_>) -> Result<(), DbError> {
        self.conn
            .prepare_cached(
                "INSERT INTO audit (at, user, device, doc_id, kind, seq, refused, fields, changes, code, rule, message)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )?
            .execute(params![
                a.at, a.user, a.device, a.doc_id, a.kind, a.seq, a.refused, a.fields, a.changes, a.code, a.rule,
                a.message
            ])?;
        Ok(())
    }

    /// A document's history, oldest first (the last `limit` entries).
    pub fn audit_of_doc(&self, doc_id: &[u8], limit: i64) -> Result<Vec<AuditRow>, DbError> {
        let sql = format!(
            "SELECT * FROM (SELECT {COLUMNS} FROM audit WHERE doc_id = ?1 ORDER BY id DESC LIMIT ?2) ORDER BY id"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(params![doc_id, limit], AuditRow::from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// What a user did, oldest first (the last `limit` entries).
    pub fn audit_of_user(&self, user: &str, limit: i64) -> Result<Vec<AuditRow>, DbError> {
        let sql = format!(
            "SELECT * FROM (SELECT {COLUMNS} FROM audit WHERE user = ?1 ORDER BY id DESC LIMIT ?2) ORDER BY id"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(params![user, limit], AuditRow::from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
