//! The `devices` table. Device ids are stored as hyphenated UUID text.

use super::{DbError, SqliteDb};
use crate::storage::rows::*;
use rusqlite::{OptionalExtension, params};
use uuid::Uuid;

impl SqliteDb {
    pub fn device(&self, id: Uuid) -> Result<Option<DeviceRow>, DbError> {
        let row = self
            .conn
            .prepare_cached("SELECT user, name, created_at, revoked FROM devices WHERE id = ?1")?
            .query_row([id.to_string()], |r| {
                Ok(DeviceRow { id, user: r.get(0)?, name: r.get(1)?, created_at: r.get(2)?, revoked: r.get(3)? })
            })
            .optional()?;
        Ok(row)
    }

    /// Register a device to a user, or rename it if it is already theirs.
    pub fn upsert_device(&self, id: Uuid, user: &str, name: &str, now: i64) -> Result<(), DbError> {
        self.conn.execute(
            "INSERT INTO devices (id, user, name, created_at, revoked) VALUES (?1, ?2, ?3, ?4, 0)
             ON CONFLICT(id) DO UPDATE SET name = excluded.name WHERE devices.user = excluded.user",
            params![id.to_string(), user, name, now],
        )?;
        Ok(())
    }

    /// Revoke (or restore) a device; returns false if there is no such device.
    pub fn set_device_revoked(&self, id: Uuid, revoked: bool) -> Result<bool, DbError> {
        let n = self.conn.execute("UPDATE devices SET revoked = ?2 WHERE id = ?1", params![id.to_string(), revoked])?;
        Ok(n > 0)
    }
}

impl SqliteDb {
    /// Devices, of one user or of everyone, oldest first.
    pub fn devices(&self, user: Option<&str>) -> Result<Vec<DeviceRow>, DbError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, user, name, created_at, revoked FROM devices
             WHERE ?1 IS NULL OR user = ?1 ORDER BY created_at, id",
        )?;
        let rows =
            stmt.query_map([user], |r| Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))?;
        let mut out = Vec::new();
        for row in rows {
            let (id, user, name, created_at, revoked) = row?;
            let id = Uuid::parse_str(&id).map_err(|e| DbError::corrupt("devices", format!("id {id:?}: {e}")))?;
            out.push(DeviceRow { id, user, name, created_at, revoked });
        }
        Ok(out)
    }
}
