//! The `tokens` table: only the SHA-256 (hex) of each token, never the token.

use super::{DbError, PgStorage};
use crate::storage::rows::*;
use uuid::Uuid;

impl PgStorage {
    pub fn insert_token(&self, hash: &str, user: &str, device: Uuid, now: i64, expires_at: i64) -> Result<(), DbError> {
        let n = self.exec(
            "INSERT INTO tokens (hash, user_name, device, created_at, expires_at, revoked)
             VALUES ($1, $2, $3, $4, $5, FALSE) ON CONFLICT (hash) DO NOTHING",
            &[&hash, &user, &device.to_string(), &now, &expires_at],
        )?;
        if n == 0 {
            return Err(DbError::Unique("token exists".into()));
        }
        Ok(())
    }

    pub fn token(&self, hash: &str) -> Result<Option<TokenRow>, DbError> {
        let Some(r) = self.row(
            "SELECT t.user_name, t.device, t.expires_at, t.revoked, u.role, u.territory, u.disabled, d.revoked
             FROM tokens t JOIN users u ON u.name = t.user_name JOIN devices d ON d.id = t.device
             WHERE t.hash = $1",
            &[&hash],
        )?
        else {
            return Ok(None);
        };
        let device: String = r.get(1);
        let device =
            Uuid::parse_str(&device).map_err(|e| DbError::corrupt("tokens", format!("device id {device:?}: {e}")))?;
        Ok(Some(TokenRow {
            user: r.get(0),
            device,
            expires_at: r.get(2),
            revoked: r.get(3),
            role: r.get(4),
            territory: r.get(5),
            user_disabled: r.get(6),
            device_revoked: r.get(7),
        }))
    }

    pub fn revoke_token(&self, hash: &str) -> Result<bool, DbError> {
        Ok(self.exec("UPDATE tokens SET revoked = TRUE WHERE hash = $1", &[&hash])? > 0)
    }

    pub fn revoke_user_tokens(&self, user: &str) -> Result<u64, DbError> {
        self.exec("UPDATE tokens SET revoked = TRUE WHERE user_name = $1 AND NOT revoked", &[&user])
    }

    pub fn revoke_device_tokens(&self, device: Uuid) -> Result<u64, DbError> {
        self.exec("UPDATE tokens SET revoked = TRUE WHERE device = $1 AND NOT revoked", &[&device.to_string()])
    }
}
