//! `visit_facts`: visits (拜访) by rep and date.

use super::{DbError, SqliteAnalytics, VisitFact};
use rusqlite::params;

impl SqliteAnalytics {
    pub(super) fn put_visit_impl(&self, v: &VisitFact) -> Result<(), DbError> {
        self.conn
            .prepare_cached(
                "INSERT OR REPLACE INTO visit_facts (visit_id, customer, rep, at, kind, satisfaction)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![v.id, v.customer, v.rep, v.at, v.kind, v.satisfaction])?;
        Ok(())
    }

    pub(super) fn visits_between_impl(&self, from: i64, to: i64) -> Result<Vec<VisitFact>, DbError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT visit_id, customer, rep, at, kind, satisfaction FROM visit_facts
             WHERE at >= ?1 AND at < ?2 ORDER BY at, visit_id",
        )?;
        let rows = stmt.query_map(params![from, to], |r| {
            Ok(VisitFact {
                id: r.get(0)?,
                customer: r.get(1)?,
                rep: r.get(2)?,
                at: r.get(3)?,
                kind: r.get(4)?,
                satisfaction: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
