//! The `nodes` table: the servers that use this database, each with its heartbeat.

use super::{DbError, SqliteDb};
use crate::storage::rows::NodeRow;
use rusqlite::params;

impl SqliteDb {
    /// A node starts (again): its row, beating now.
    pub fn register_node(&self, id: &str, address: &str, version: &str, now: i64) -> Result<(), DbError> {
        self.conn
            .prepare_cached(
                "INSERT INTO nodes (id, address, version, started_at, heartbeat_at, stopped_at)
                 VALUES (?1, ?2, ?3, ?4, ?4, NULL)
                 ON CONFLICT (id) DO UPDATE SET address = ?2, version = ?3, started_at = ?4,
                     heartbeat_at = ?4, stopped_at = NULL",
            )?
            .execute(params![id, address, version, now])?;
        Ok(())
    }

    /// `false` when the node has no row.
    pub fn node_heartbeat(&self, id: &str, now: i64) -> Result<bool, DbError> {
        let n =
            self.conn.prepare_cached("UPDATE nodes SET heartbeat_at = ?2 WHERE id = ?1")?.execute(params![id, now])?;
        Ok(n > 0)
    }

    pub fn node_stopped(&self, id: &str, now: i64) -> Result<(), DbError> {
        self.conn.prepare_cached("UPDATE nodes SET stopped_at = ?2 WHERE id = ?1")?.execute(params![id, now])?;
        Ok(())
    }

    /// Every node that ever used the database, the latest started first.
    pub fn nodes(&self) -> Result<Vec<NodeRow>, DbError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, address, version, started_at, heartbeat_at, stopped_at FROM nodes ORDER BY started_at DESC, id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(NodeRow {
                id: r.get(0)?,
                address: r.get(1)?,
                version: r.get(2)?,
                started_at: r.get(3)?,
                heartbeat_at: r.get(4)?,
                stopped_at: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
