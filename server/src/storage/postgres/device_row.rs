//! The `devices` table (ids as hyphenated UUID text, like SQLite's).

use super::{DbError, PgStorage};
use crate::storage::rows::*;
use uuid::Uuid;

impl PgStorage {
    pub fn device(&self, id: Uuid) -> Result<Option<DeviceRow>, DbError> {
        let row =
            self.row("SELECT user_name, name, created_at, revoked FROM devices WHERE id = $1", &[&id.to_string()])?;
        Ok(row.map(|r| DeviceRow { id, user: r.get(0), name: r.get(1), created_at: r.get(2), revoked: r.get(3) }))
    }

    /// Register a device to a user, or rename it if it is already theirs.
    pub fn upsert_device(&self, id: Uuid, user: &str, name: &str, now: i64) -> Result<(), DbError> {
        self.exec(
            "INSERT INTO devices (id, user_name, name, created_at, revoked) VALUES ($1, $2, $3, $4, FALSE)
             ON CONFLICT (id) DO UPDATE SET name = excluded.name WHERE devices.user_name = excluded.user_name",
            &[&id.to_string(), &user, &name, &now],
        )?;
        Ok(())
    }

    pub fn set_device_revoked(&self, id: Uuid, revoked: bool) -> Result<bool, DbError> {
        Ok(self.exec("UPDATE devices SET revoked = $2 WHERE id = $1", &[&id.to_string(), &revoked])? > 0)
    }

    pub fn devices(&self, user: Option<&str>) -> Result<Vec<DeviceRow>, DbError> {
        let rows = self.rows(
            "SELECT id, user_name, name, created_at, revoked FROM devices
             WHERE $1::text IS NULL OR user_name = $1 ORDER BY created_at, id",
            &[&user],
        )?;
        rows.iter()
            .map(|r| {
                let id: String = r.get(0);
                let id = Uuid::parse_str(&id).map_err(|e| DbError::corrupt("devices", format!("id {id:?}: {e}")))?;
                Ok(DeviceRow { id, user: r.get(1), name: r.get(2), created_at: r.get(3), revoked: r.get(4) })
            })
            .collect()
    }
}
