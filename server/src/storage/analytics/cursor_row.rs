//! `projection_cursor`: the one row saying how far the change feed is projected; and
//! clearing the projected tables for a rebuild.

use super::{AnalyticsCounts, DbError, SqliteAnalytics};

impl SqliteAnalytics {
    pub(super) fn cursor_impl(&self) -> Result<i64, DbError> {
        Ok(self.conn.prepare_cached("SELECT seq FROM projection_cursor WHERE id = 1")?.query_row([], |r| r.get(0))?)
    }

    pub(super) fn set_cursor_impl(&self, seq: i64) -> Result<(), DbError> {
        self.conn.prepare_cached("UPDATE projection_cursor SET seq = ?1 WHERE id = 1")?.execute([seq])?;
        Ok(())
    }

    pub(super) fn clear_impl(&self) -> Result<(), DbError> {
        self.conn.execute_batch(
            "DELETE FROM order_facts; DELETE FROM order_lines; DELETE FROM customer_facts;
             DELETE FROM class_changes; DELETE FROM visit_facts; DELETE FROM complaint_facts;
             DELETE FROM problems; DELETE FROM sales_days; DELETE FROM sales_months; UPDATE projection_cursor SET seq = 0 WHERE id = 1;",
        )?;
        Ok(())
    }

    pub(super) fn counts_impl(&self) -> Result<AnalyticsCounts, DbError> {
        let count = |table: &str| -> Result<i64, DbError> {
            Ok(self.conn.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))?)
        };
        Ok(AnalyticsCounts {
            cursor: self.cursor_impl()?,
            orders: count("order_facts")?,
            lines: count("order_lines")?,
            customers: count("customer_facts")?,
            visits: count("visit_facts")?,
            complaints: count("complaint_facts")?,
            problems: count("problems")?,
            sales_days: count("sales_days")?,
        })
    }
}
