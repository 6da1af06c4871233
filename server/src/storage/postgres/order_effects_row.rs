//! Orders' server-side effects: `order_checks`, `assignments`, `notifications`. Every
//! insert is `ON CONFLICT DO NOTHING` on the key that names the effect, so doing it again —
//! on this node or another — changes nothing (and leaves the transaction healthy).

use super::{DbError, PgStorage};
use crate::storage::rows::*;
use postgres::Row;

impl PgStorage {
    pub fn record_order_check(&self, order: &[u8], created_at: i64, now: i64) -> Result<(), DbError> {
        self.exec(
            "INSERT INTO order_checks (order_id, created_at, checked_at) VALUES ($1, $2, $3)
             ON CONFLICT (order_id) DO NOTHING",
            &[&order, &created_at, &now],
        )?;
        Ok(())
    }

    pub fn unassigned_orders_since(&self, since: i64) -> Result<Vec<Vec<u8>>, DbError> {
        let rows = self.rows(
            "SELECT c.order_id FROM order_checks c LEFT JOIN assignments a ON a.order_id = c.order_id
             WHERE a.order_id IS NULL AND c.created_at >= $1 ORDER BY c.created_at, c.order_id",
            &[&since],
        )?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    pub fn insert_assignment(&self, a: &AssignmentRow) -> Result<bool, DbError> {
        let n = self.exec(
            "INSERT INTO assignments (order_id, assigned_at, customer, created_by, total_fen)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (order_id) DO NOTHING",
            &[&a.order_id, &a.assigned_at, &a.customer, &a.created_by, &a.total_fen],
        )?;
        Ok(n > 0)
    }

    pub fn assignment(&self, order: &[u8]) -> Result<Option<AssignmentRow>, DbError> {
        let row = self.row(
            "SELECT order_id, assigned_at, customer, created_by, total_fen FROM assignments WHERE order_id = $1",
            &[&order],
        )?;
        Ok(row.map(|r| AssignmentRow {
            order_id: r.get(0),
            assigned_at: r.get(1),
            customer: r.get(2),
            created_by: r.get(3),
            total_fen: r.get(4),
        }))
    }

    pub fn insert_notification(
        &self,
        order: &[u8],
        department: &str,
        kind: &str,
        at: i64,
        message: &str,
    ) -> Result<bool, DbError> {
        let n = self.exec(
            "INSERT INTO notifications (order_id, department, kind, at, message) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (order_id, department, kind) DO NOTHING",
            &[&order, &department, &kind, &at, &message],
        )?;
        Ok(n > 0)
    }

    pub fn notifications(
        &self,
        department: Option<&str>,
        order: Option<&[u8]>,
        limit: i64,
    ) -> Result<Vec<NotificationRow>, DbError> {
        let rows = self.rows(
            "SELECT id, order_id, department, kind, at, message FROM (
                 SELECT * FROM notifications
                 WHERE ($1::text IS NULL OR department = $1) AND ($2::bytea IS NULL OR order_id = $2)
                 ORDER BY id DESC LIMIT $3
             ) AS recent ORDER BY id",
            &[&department, &order, &limit],
        )?;
        Ok(rows.iter().map(notification).collect())
    }
}

fn notification(r: &Row) -> NotificationRow {
    NotificationRow {
        id: r.get(0),
        order_id: r.get(1),
        department: r.get(2),
        kind: r.get(3),
        at: r.get(4),
        message: r.get(5),
    }
}
