//! `complaint_facts`: complaints with their resolution time and SLA breaches.

use super::{ComplaintFact, DbError, SqliteAnalytics, to_bool};
use rusqlite::params;

impl SqliteAnalytics {
    pub(super) fn put_complaint_impl(&self, c: &ComplaintFact) -> Result<(), DbError> {
        self.conn
            .prepare_cached(
                "INSERT OR REPLACE INTO complaint_facts (complaint_id, customer, filed_by, received_at, severity,
                 status, resolved_at, ack_breached, resolve_breached, satisfaction)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?
            .execute(params![
                c.id,
                c.customer,
                c.filed_by,
                c.received_at,
                c.severity,
                c.status,
                c.resolved_at,
                c.ack_breached,
                c.resolve_breached,
                c.satisfaction
            ])?;
        Ok(())
    }

    pub(super) fn complaints_between_impl(&self, from: i64, to: i64) -> Result<Vec<ComplaintFact>, DbError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT complaint_id, customer, filed_by, received_at, severity, status, resolved_at, ack_breached,
             resolve_breached, satisfaction FROM complaint_facts
             WHERE received_at >= ?1 AND received_at < ?2 ORDER BY received_at, complaint_id",
        )?;
        let rows = stmt.query_map(params![from, to], |r| {
            Ok(ComplaintFact {
                id: r.get(0)?,
                customer: r.get(1)?,
                filed_by: r.get(2)?,
                received_at: r.get(3)?,
                severity: r.get(4)?,
                status: r.get(5)?,
                resolved_at: r.get(6)?,
                ack_breached: to_bool(r.get(7)?),
                resolve_breached: to_bool(r.get(8)?),
                satisfaction: r.get(9)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
