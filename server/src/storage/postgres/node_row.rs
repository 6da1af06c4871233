//! The `nodes` table: the servers that use this database, each with its heartbeat.

use super::{DbError, PgStorage};
use crate::storage::rows::NodeRow;

impl PgStorage {
    /// A node starts (again): its row, beating now.
    pub fn register_node(&self, id: &str, address: &str, version: &str, now: i64) -> Result<(), DbError> {
        self.exec(
            "INSERT INTO nodes (id, address, version, started_at, heartbeat_at, stopped_at)
             VALUES ($1, $2, $3, $4, $4, NULL)
             ON CONFLICT (id) DO UPDATE SET address = $2, version = $3, started_at = $4,
                 heartbeat_at = $4, stopped_at = NULL",
            &[&id, &address, &version, &now],
        )?;
        Ok(())
    }

    /// `false` when the node has no row.
    pub fn node_heartbeat(&self, id: &str, now: i64) -> Result<bool, DbError> {
        Ok(self.exec("UPDATE nodes SET heartbeat_at = $2 WHERE id = $1", &[&id, &now])? > 0)
    }

    pub fn node_stopped(&self, id: &str, now: i64) -> Result<(), DbError> {
        self.exec("UPDATE nodes SET stopped_at = $2 WHERE id = $1", &[&id, &now])?;
        Ok(())
    }

    /// Every node that ever used the database, the latest started first.
    pub fn nodes(&self) -> Result<Vec<NodeRow>, DbError> {
        let rows = self.rows(
            "SELECT id, address, version, started_at, heartbeat_at, stopped_at FROM nodes ORDER BY started_at DESC, id",
            &[],
        )?;
        Ok(rows
            .iter()
            .map(|r| NodeRow {
                id: r.get(0),
                address: r.get(1),
                version: r.get(2),
                started_at: r.get(3),
                heartbeat_at: r.get(4),
                stopped_at: r.get(5),
            })
            .collect())
    }
}
