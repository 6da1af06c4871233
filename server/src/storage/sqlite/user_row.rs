//! The `users` table.

use super::{DbError, SqliteDb};
use crate::storage::rows::*;
use rusqlite::{OptionalExtension, Row, params};

const COLUMNS: &str = "name, password_hash, role, territory, manager, disabled, created_at";

impl UserRow {
    fn from_row(r: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(UserRow {
            name: r.get(0)?,
            password_hash: r.get(1)?,
            role: r.get(2)?,
            territory: r.get(3)?,
            manager: r.get(4)?,
            disabled: r.get(5)?,
            created_at: r.get(6)?,
        })
    }
}

impl SqliteDb {
    pub fn insert_user(&self, user: &NewUser) -> Result<(), DbError> {
        self.conn.execute(
            "INSERT INTO users (name, password_hash, role, territory, manager, disabled, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6)",
            params![user.name, user.password_hash, user.role, user.territory, user.manager, user.created_at],
        )?;
        Ok(())
    }

    pub fn user(&self, name: &str) -> Result<Option<UserRow>, DbError> {
        let sql = format!("SELECT {COLUMNS} FROM users WHERE name = ?1");
        Ok(self.conn.prepare_cached(&sql)?.query_row([name], UserRow::from_row).optional()?)
    }

    pub fn users(&self) -> Result<Vec<UserRow>, DbError> {
        let sql = format!("SELECT {COLUMNS} FROM users ORDER BY name");
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map([], UserRow::from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Enable or disable a user; returns false if there is no such user.
    pub fn set_user_disabled(&self, name: &str, disabled: bool) -> Result<bool, DbError> {
        let n = self.conn.execute("UPDATE users SET disabled = ?2 WHERE name = ?1", params![name, disabled])?;
        Ok(n > 0)
    }
}

impl SqliteDb {
    /// The territories of the users whose manager is `manager`.
    pub fn team_territories(&self, manager: &str) -> Result<Vec<String>, DbError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT DISTINCT territory FROM users WHERE manager = ?1 AND territory IS NOT NULL ORDER BY territory",
        )?;
        let rows = stmt.query_map([manager], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
