//! The generic tables of the server's one-time effects and timers (schema version 5):
//!
//! - `effects(doc_id, effect, key)`: an effect the server performed for a document — a
//!   complaint's SLA breach (`sla-breach`, key `ack`/`resolve`), the revisit a resolution
//!   created (`revisit`, key `1`, `2` … per resolution), a task a plan or care date created
//!   for a customer (`task`, key the customer), a recall raised (`recall`, key the batch).
//!   The primary key names the effect, and every insert is `INSERT OR IGNORE`: doing it
//!   again (a reconnect, a resend, a re-check, a second device) changes nothing. `data`
//!   says what came of it (the id of the task it created …). Any validator may use it.
//! - `wakeups(doc_id, validator)`: when a validator wants to look at a document again
//!   although nothing changed (an SLA clock runs out): the hub's tick runs the validator
//!   for every due row.
//! - `shipped_batches`: which batch numbers each order line shipped with, from logistics'
//!   `shipped` events (an index the recall list is drawn from).

use super::{DbError, SqliteDb};
use crate::storage::rows::*;
use rusqlite::{OptionalExtension, params};

impl SqliteDb {
    /// Record an effect unless it is recorded already; true if this call recorded it.
    pub fn insert_effect(&self, doc: &[u8], effect: &str, key: &str, at: i64, data: &str) -> Result<bool, DbError> {
        let n = self
            .conn
            .prepare_cached(
                "INSERT OR IGNORE INTO effects (doc_id, effect, key, at, data) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![doc, effect, key, at, data])?;
        Ok(n > 0)
    }

    pub fn effect(&self, doc: &[u8], effect: &str, key: &str) -> Result<Option<EffectRow>, DbError> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT doc_id, effect, key, at, data FROM effects WHERE doc_id = ?1 AND effect = ?2 AND key = ?3",
            )?
            .query_row(params![doc, effect, key], EffectRow::from_row)
            .optional()?)
    }

    /// The effects recorded for a document (of one effect, when given), oldest first.
    pub fn effects_of(&self, doc: &[u8], effect: Option<&str>) -> Result<Vec<EffectRow>, DbError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT doc_id, effect, key, at, data FROM effects
             WHERE doc_id = ?1 AND (?2 IS NULL OR effect = ?2) ORDER BY at, effect, key",
        )?;
        let rows = stmt.query_map(params![doc, effect], EffectRow::from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The documents for which `effect` was recorded with `key`.
    pub fn effect_docs(&self, effect: &str, key: &str) -> Result<Vec<Vec<u8>>, DbError> {
        let mut stmt =
            self.conn.prepare_cached("SELECT doc_id FROM effects WHERE effect = ?1 AND key = ?2 ORDER BY doc_id")?;
        let rows = stmt.query_map(params![effect, key], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// When `validator` wants to look at `doc` again (`None`: no more).
    pub fn set_wakeup(&self, doc: &[u8], validator: &str, at: Option<i64>) -> Result<(), DbError> {
        match at {
            Some(at) => self
                .conn
                .prepare_cached(
                    "INSERT INTO wakeups (doc_id, validator, at) VALUES (?1, ?2, ?3)
                     ON CONFLICT (doc_id, validator) DO UPDATE SET at = excluded.at",
                )?
                .execute(params![doc, validator, at])?,
            None => self
                .conn
                .prepare_cached("DELETE FROM wakeups WHERE doc_id = ?1 AND validator = ?2")?
                .execute(params![doc, validator])?,
        };
        Ok(())
    }

    /// Wake-ups due at `now`, earliest first (at most `limit`).
    pub fn due_wakeups(&self, now: i64, limit: i64) -> Result<Vec<WakeupRow>, DbError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT doc_id, validator, at FROM wakeups WHERE at <= ?1 ORDER BY at LIMIT ?2")?;
        let rows = stmt.query_map(params![now, limit], WakeupRow::from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Every wake-up of `validator`, earliest first.
    pub fn wakeups_of(&self, validator: &str) -> Result<Vec<WakeupRow>, DbError> {
        let mut stmt =
            self.conn.prepare_cached("SELECT doc_id, validator, at FROM wakeups WHERE validator = ?1 ORDER BY at")?;
        let rows = stmt.query_map([validator], WakeupRow::from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Record that an order line shipped with a batch; false if recorded already.
    pub fn insert_shipped_batch(&self, row: &ShippedBatchRow) -> Result<bool, DbError> {
        let n = self
            .conn
            .prepare_cached(
                "INSERT OR IGNORE INTO shipped_batches (order_id, line, batch, customer, sku, qty, at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![row.order_id, row.line, row.batch, row.customer, row.sku, row.qty, row.at])?;
        Ok(n > 0)
    }

    /// Every order line that shipped with `batch`.
    pub fn shipped_with_batch(&self, batch: &str) -> Result<Vec<ShippedBatchRow>, DbError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT order_id, line, batch, customer, sku, qty, at FROM shipped_batches
             WHERE batch = ?1 ORDER BY customer, order_id, line",
        )?;
        let rows = stmt.query_map([batch], |r| {
            Ok(ShippedBatchRow {
                order_id: r.get(0)?,
                line: r.get(1)?,
                batch: r.get(2)?,
                customer: r.get(3)?,
                sku: r.get(4)?,
                qty: r.get(5)?,
                at: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Ids of every document of a kind (`DocKind::code()`).
    pub fn doc_ids_of_kind(&self, kind: i64) -> Result<Vec<Vec<u8>>, DbError> {
        let mut stmt = self.conn.prepare_cached("SELECT id FROM docs WHERE kind = ?1 ORDER BY id")?;
        let rows = stmt.query_map([kind], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

impl EffectRow {
    fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(EffectRow { doc_id: r.get(0)?, effect: r.get(1)?, key: r.get(2)?, at: r.get(3)?, data: r.get(4)? })
    }
}

impl WakeupRow {
    fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(WakeupRow { doc_id: r.get(0)?, validator: r.get(1)?, at: r.get(2)? })
    }
}
