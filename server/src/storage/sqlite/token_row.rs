//! The `tokens` table: only the SHA-256 (hex) of each token is stored, never the token.

use super::{DbError, SqliteDb};
use crate::storage::rows::*;
use rusqlite::{OptionalExtension, params};
use uuid::Uuid;

impl SqliteDb {
    pub fn insert_token(&self, hash: &str, user: &str, device: Uuid, now: i64, expires_at: i64) -> Result<(), DbError> {
        self.conn.execute(
            "INSERT INTO tokens (hash, user, device, created_at, expires_at, revoked)
             VALUES (?1, ?2, ?3, ?4, ?5, 0)",
            params![hash, user, device.to_string(), now, expires_at],
        )?;
        Ok(())
    }

    pub fn token(&self, hash: &str) -> Result<Option<TokenRow>, DbError> {
        let row = self
            .conn
            .prepare_cached(
                "SELECT t.user, t.device, t.expires_at, t.revoked, u.role, u.territory,
                        u.disabled, d.revoked
                 FROM tokens t JOIN users u ON u.name = t.user JOIN devices d ON d.id = t.device
                 WHERE t.hash = ?1",
            )?
            .query_row([hash], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                ))
            })
            .optional()?;
        let Some((user, device, expires_at, revoked, role, territory, disabled, dev_rev)) = row else {
            return Ok(None);
        };
        let device =
            Uuid::parse_str(&device).map_err(|e| DbError::corrupt("tokens", format!("device id {device:?}: {e}")))?;
        Ok(Some(TokenRow {
            user,
            device,
            expires_at,
            revoked,
            role,
            territory,
            user_disabled: disabled,
            device_revoked: dev_rev,
        }))
    }

    /// Revoke a token; returns false if it is unknown.
    pub fn revoke_token(&self, hash: &str) -> Result<bool, DbError> {
        let n = self.conn.execute("UPDATE tokens SET revoked = 1 WHERE hash = ?1", [hash])?;
        Ok(n > 0)
    }

    /// Revoke every token of a user; returns how many were not revoked yet.
    pub fn revoke_user_tokens(&self, user: &str) -> Result<u64, DbError> {
        let n = self.conn.execute("UPDATE tokens SET revoked = 1 WHERE user = ?1 AND revoked = 0", [user])?;
        Ok(n as u64)
    }

    /// Revoke every token of a device; returns how many were not revoked yet.
    pub fn revoke_device_tokens(&self, device: Uuid) -> Result<u64, DbError> {
        let n = self
            .conn
            .execute("UPDATE tokens SET revoked = 1 WHERE device = ?1 AND revoked = 0", [device.to_string()])?;
        Ok(n as u64)
    }
}
