//! The generic `effects`, `wakeups` and `shipped_batches` tables (see the SQLite engine's
//! `effects_row.rs` for what each holds). Inserts are `ON CONFLICT DO NOTHING`: the key
//! names the effect, so the second node to try it finds it done.

use super::{DbError, PgStorage};
use crate::storage::rows::*;
use postgres::Row;

impl EffectRow {
    fn from_pg(r: &Row) -> Self {
        EffectRow { doc_id: r.get(0), effect: r.get(1), key: r.get(2), at: r.get(3), data: r.get(4) }
    }
}

impl WakeupRow {
    fn from_pg(r: &Row) -> Self {
        WakeupRow { doc_id: r.get(0), validator: r.get(1), at: r.get(2) }
    }
}

impl PgStorage {
    pub fn insert_effect(&self, doc: &[u8], effect: &str, key: &str, at: i64, data: &str) -> Result<bool, DbError> {
        let n = self.exec(
            "INSERT INTO effects (doc_id, effect, key, at, data) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (doc_id, effect, key) DO NOTHING",
            &[&doc, &effect, &key, &at, &data],
        )?;
        Ok(n > 0)
    }

    pub fn effect(&self, doc: &[u8], effect: &str, key: &str) -> Result<Option<EffectRow>, DbError> {
        let row = self.row(
            "SELECT doc_id, effect, key, at, data FROM effects WHERE doc_id = $1 AND effect = $2 AND key = $3",
            &[&doc, &effect, &key],
        )?;
        Ok(row.as_ref().map(EffectRow::from_pg))
    }

    pub fn effects_of(&self, doc: &[u8], effect: Option<&str>) -> Result<Vec<EffectRow>, DbError> {
        let rows = self.rows(
            "SELECT doc_id, effect, key, at, data FROM effects
             WHERE doc_id = $1 AND ($2::text IS NULL OR effect = $2) ORDER BY at, effect, key",
            &[&doc, &effect],
        )?;
        Ok(rows.iter().map(EffectRow::from_pg).collect())
    }

    pub fn effect_docs(&self, effect: &str, key: &str) -> Result<Vec<Vec<u8>>, DbError> {
        let rows =
            self.rows("SELECT doc_id FROM effects WHERE effect = $1 AND key = $2 ORDER BY doc_id", &[&effect, &key])?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    pub fn set_wakeup(&self, doc: &[u8], validator: &str, at: Option<i64>) -> Result<(), DbError> {
        match at {
            Some(at) => self.exec(
                "INSERT INTO wakeups (doc_id, validator, at) VALUES ($1, $2, $3)
                 ON CONFLICT (doc_id, validator) DO UPDATE SET at = excluded.at",
                &[&doc, &validator, &at],
            )?,
            None => self.exec("DELETE FROM wakeups WHERE doc_id = $1 AND validator = $2", &[&doc, &validator])?,
        };
        Ok(())
    }

    pub fn due_wakeups(&self, now: i64, limit: i64) -> Result<Vec<WakeupRow>, DbError> {
        let rows = self.rows(
            "SELECT doc_id, validator, at FROM wakeups WHERE at <= $1 ORDER BY at, doc_id, validator LIMIT $2",
            &[&now, &limit],
        )?;
        Ok(rows.iter().map(WakeupRow::from_pg).collect())
    }

    pub fn wakeups_of(&self, validator: &str) -> Result<Vec<WakeupRow>, DbError> {
        let rows = self.rows(
            "SELECT doc_id, validator, at FROM wakeups WHERE validator = $1 ORDER BY at, doc_id",
            &[&validator],
        )?;
        Ok(rows.iter().map(WakeupRow::from_pg).collect())
    }

    pub fn insert_shipped_batch(&self, row: &ShippedBatchRow) -> Result<bool, DbError> {
        let n = self.exec(
            "INSERT INTO shipped_batches (order_id, line, batch, customer, sku, qty, at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (order_id, line, batch) DO NOTHING",
            &[&row.order_id, &row.line, &row.batch, &row.customer, &row.sku, &row.qty, &row.at],
        )?;
        Ok(n > 0)
    }

    pub fn shipped_with_batch(&self, batch: &str) -> Result<Vec<ShippedBatchRow>, DbError> {
        let rows = self.rows(
            "SELECT order_id, line, batch, customer, sku, qty, at FROM shipped_batches
             WHERE batch = $1 ORDER BY customer NULLS FIRST, order_id, line",
            &[&batch],
        )?;
        Ok(rows
            .iter()
            .map(|r| ShippedBatchRow {
                order_id: r.get(0),
                line: r.get(1),
                batch: r.get(2),
                customer: r.get(3),
                sku: r.get(4),
                qty: r.get(5),
                at: r.get(6),
            })
            .collect())
    }
}
