//! `problems`: records the analysis cannot count, with the reason (data cleaning).

use super::{DbError, Problem, SqliteAnalytics};
use rusqlite::params;

impl SqliteAnalytics {
    pub(super) fn set_problems_impl(&self, doc: &[u8], problems: &[Problem]) -> Result<(), DbError> {
        self.conn.prepare_cached("DELETE FROM problems WHERE doc_id = ?1")?.execute([doc])?;
        let mut insert = self
            .conn
            .prepare_cached("INSERT INTO problems (doc_id, n, kind, reason, detail) VALUES (?1, ?2, ?3, ?4, ?5)")?;
        for (n, p) in problems.iter().enumerate() {
            insert.execute(params![doc, n as i64, p.kind, p.reason, p.detail])?;
        }
        Ok(())
    }

    pub(super) fn problems_impl(&self) -> Result<Vec<Problem>, DbError> {
        let mut stmt =
            self.conn.prepare_cached("SELECT doc_id, kind, reason, detail FROM problems ORDER BY kind, doc_id, n")?;
        let rows = stmt.query_map([], |r| {
            Ok(Problem { doc_id: r.get(0)?, kind: r.get(1)?, reason: r.get(2)?, detail: r.get(3)? })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
