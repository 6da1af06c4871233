//! The `users` table.

use super::{DbError, PgStorage};
use crate::storage::rows::*;
use postgres::Row;

impl UserRow {
    fn from_pg(r: &Row) -> Self {
        UserRow {
            name: r.get(0),
            password_hash: r.get(1),
            role: r.get(2),
            territory: r.get(3),
            manager: r.get(4),
            disabled: r.get(5),
            created_at: r.get(6),
        }
    }
}

impl PgStorage {
    /// A name that exists is [`DbError::Unique`] (without aborting an open transaction).
    pub fn insert_user(&self, user: &NewUser) -> Result<(), DbError> {
        let n = self.exec(
            "INSERT INTO users (name, password_hash, role, territory, manager, disabled, created_at)
             VALUES ($1, $2, $3, $4, $5, FALSE, $6) ON CONFLICT (name) DO NOTHING",
            &[&user.name, &user.password_hash, &user.role, &user.territory, &user.manager, &user.created_at],
        )?;
        if n == 0 {
            return Err(DbError::Unique(format!("user {} exists", user.name)));
        }
        Ok(())
    }

    pub fn user(&self, name: &str) -> Result<Option<UserRow>, DbError> {
        let row = self.row(
            "SELECT name, password_hash, role, territory, manager, disabled, created_at FROM users WHERE name = $1",
            &[&name],
        )?;
        Ok(row.as_ref().map(UserRow::from_pg))
    }

    pub fn users(&self) -> Result<Vec<UserRow>, DbError> {
        let rows = self.rows(
            "SELECT name, password_hash, role, territory, manager, disabled, created_at FROM users ORDER BY name",
            &[],
        )?;
        Ok(rows.iter().map(UserRow::from_pg).collect())
    }

    pub fn set_user_disabled(&self, name: &str, disabled: bool) -> Result<bool, DbError> {
        Ok(self.exec("UPDATE users SET disabled = $2 WHERE name = $1", &[&name, &disabled])? > 0)
    }

    pub fn team_territories(&self, manager: &str) -> Result<Vec<String>, DbError> {
        let rows = self.rows(
            "SELECT DISTINCT territory FROM users WHERE manager = $1 AND territory IS NOT NULL ORDER BY territory",
            &[&manager],
        )?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }
}
