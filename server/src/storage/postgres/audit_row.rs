//! The `audit` table: every accepted change and every refusal, written in the transaction
//! that stores (or refuses) it.

use super::{DbError, PgStorage};
use crate::storage::rows::*;
use postgres::Row;

impl AuditRow {
    fn from_pg(r: &Row) -> Self {
        AuditRow {
            id: r.get(0),
            at: r.get(1),
            user: r.get(2),
            device: r.get(3),
            doc_id: r.get(4),
            kind: r.get(5),
            seq: r.get(6),
            refused: r.get(7),
            fields: r.get(8),
            changes: r.get(9),
            code: r.get(10),
            rule: r.get(11),
            message: r.get(12),
        }
    }
}

impl PgStorage {
    pub fn insert_audit(&self, a: &NewAudit<'_>) -> Result<(), DbError> {
        self.exec(
            "INSERT INTO audit (at, user_name, device, doc_id, kind, seq, refused, fields, changes, code, rule, message)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            &[
                &a.at, &a.user, &a.device, &a.doc_id, &a.kind, &a.seq, &a.refused, &a.fields, &a.changes, &a.code,
                &a.rule, &a.message,
            ],
        )?;
        Ok(())
    }

    pub fn audit_of_doc(&self, doc_id: &[u8], limit: i64) -> Result<Vec<AuditRow>, DbError> {
        let rows = self.rows(
            "SELECT * FROM (SELECT id, at, user_name, device, doc_id, kind, seq, refused, fields, changes, code, rule, message
                 FROM audit WHERE doc_id = $1 ORDER BY id DESC LIMIT $2) AS recent ORDER BY id",
            &[&doc_id, &limit],
        )?;
        Ok(rows.iter().map(AuditRow::from_pg).collect())
    }

    pub fn audit_of_user(&self, user: &str, limit: i64) -> Result<Vec<AuditRow>, DbError> {
        let rows = self.rows(
            "SELECT * FROM (SELECT id, at, user_name, device, doc_id, kind, seq, refused, fields, changes, code, rule, message
                 FROM audit WHERE user_name = $1 ORDER BY id DESC LIMIT $2) AS recent ORDER BY id",
            &[&user, &limit],
        )?;
        Ok(rows.iter().map(AuditRow::from_pg).collect())
    }
}
