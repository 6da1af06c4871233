//! `sku_costs`: a cost per unit of a SKU (factory cost), entered by finance, for gross
//! profit. The price policy has no cost price, so this is where it lives.

use super::{DbError, SqliteAnalytics};
use rusqlite::params;

impl SqliteAnalytics {
    pub(super) fn set_cost_impl(&self, sku: &str, cost_fen: Option<i64>) -> Result<(), DbError> {
        match cost_fen {
            Some(c) => self
                .conn
                .prepare_cached("INSERT OR REPLACE INTO sku_costs (sku, cost_fen) VALUES (?1, ?2)")?
                .execute(params![sku, c])?,
            None => self.conn.prepare_cached("DELETE FROM sku_costs WHERE sku = ?1")?.execute([sku])?,
        };
        Ok(())
    }

    pub(super) fn costs_impl(&self) -> Result<Vec<(String, i64)>, DbError> {
        let mut stmt = self.conn.prepare_cached("SELECT sku, cost_fen FROM sku_costs ORDER BY sku")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
