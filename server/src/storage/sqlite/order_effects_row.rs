//! The tables of orders' server-side effects: `order_checks`, `assignments`,
//! `notifications` (schema version 3). Every insert is `INSERT OR IGNORE` on a key that
//! names the effect, so doing it again — a reconnect, a resent push, a re-check — changes
//! nothing.

use super::{DbError, SqliteDb};
use crate::storage::rows::*;
use rusqlite::{OptionalExtension, params};

impl SqliteDb {
    /// Remember a submitted order the first time it is checked (its date — set when it is
    /// created, never changed — decides which policy version applies to it). Writes nothing
    /// when it is already known.
    pub fn record_order_check(&self, order: &[u8], created_at: i64, now: i64) -> Result<(), DbError> {
        self.conn
            .prepare_cached(
                "INSERT INTO order_checks (order_id, created_at, checked_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (order_id) DO NOTHING",
            )?
            .execute(params![order, created_at, now])?;
        Ok(())
    }

    /// Checked orders dated at or after `since` that have not been assigned yet, oldest first.
    pub fn unassigned_orders_since(&self, since: i64) -> Result<Vec<Vec<u8>>, DbError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT c.order_id FROM order_checks c LEFT JOIN assignments a ON a.order_id = c.order_id
             WHERE a.order_id IS NULL AND c.created_at >= ?1 ORDER BY c.created_at, c.order_id",
        )?;
        let rows = stmt.query_map([since], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Record the assignment of an order unless it exists. Returns true if this call
    /// created it (the effect happens now), false if it already existed.
    pub fn insert_assignment(&self, a: &AssignmentRow) -> Result<bool, DbError> {
        let n = self
            .conn
            .prepare_cached(
                "INSERT OR IGNORE INTO assignments (order_id, assigned_at, customer, created_by, total_fen)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![a.order_id, a.assigned_at, a.customer, a.created_by, a.total_fen])?;
        Ok(n > 0)
    }

    pub fn assignment(&self, order: &[u8]) -> Result<Option<AssignmentRow>, DbError> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT order_id, assigned_at, customer, created_by, total_fen FROM assignments WHERE order_id = ?1",
            )?
            .query_row([order], |r| {
                Ok(AssignmentRow {
                    order_id: r.get(0)?,
                    assigned_at: r.get(1)?,
                    customer: r.get(2)?,
                    created_by: r.get(3)?,
                    total_fen: r.get(4)?,
                })
            })
            .optional()?)
    }

    /// Queue a notification unless the same (order, department, kind) was already queued.
    /// Returns true if this call added it.
    pub fn insert_notification(
        &self,
        order: &[u8],
        department: &str,
        kind: &str,
        at: i64,
        message: &str,
    ) -> Result<bool, DbError> {
        let n = self
            .conn
            .prepare_cached(
                "INSERT OR IGNORE INTO notifications (order_id, department, kind, at, message)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![order, department, kind, at, message])?;
        Ok(n > 0)
    }

    /// Notifications, oldest first, optionally of one department and/or one order.
    pub fn notifications(
        &self,
        department: Option<&str>,
        order: Option<&[u8]>,
        limit: i64,
    ) -> Result<Vec<NotificationRow>, DbError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, order_id, department, kind, at, message FROM (
                 SELECT * FROM notifications
                 WHERE (?1 IS NULL OR department = ?1) AND (?2 IS NULL OR order_id = ?2)
                 ORDER BY id DESC LIMIT ?3
             ) ORDER BY id",
        )?;
        let rows = stmt.query_map(params![department, order, limit], |r| {
            Ok(NotificationRow {
                id: r.get(0)?,
                order_id: r.get(1)?,
                department: r.get(2)?,
                kind: r.get(3)?,
                at: r.get(4)?,
                message: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
