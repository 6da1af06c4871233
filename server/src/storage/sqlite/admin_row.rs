//! The `admin_commands` table: commands given on the command line (`user disable`,
//! `customer reassign`, …) while the server runs. The hub picks them up within a fraction
//! of a second and writes the outcome back.

use super::{DbError, SqliteDb};
use crate::storage::rows::*;
use rusqlite::{OptionalExtension, params};

impl SqliteDb {
    /// Queue a command; returns its id.
    pub fn enqueue_admin_command(&self, command: &str, now: i64) -> Result<i64, DbError> {
        self.conn
            .prepare_cached("INSERT INTO admin_commands (created_at, command) VALUES (?1, ?2)")?
            .execute(params![now, command])?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Commands not yet carried out, oldest first.
    pub fn admin_commands_after(&self, after: i64) -> Result<Vec<AdminCommandRow>, DbError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, command, done_at, ok, result FROM admin_commands WHERE id > ?1 ORDER BY id")?;
        let rows = stmt.query_map([after], |r| {
            Ok(AdminCommandRow {
                id: r.get(0)?,
                command: r.get(1)?,
                done_at: r.get(2)?,
                ok: r.get(3)?,
                result: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// One server per data directory: it always leads.
    pub fn try_lead(&self) -> Result<bool, DbError> {
        Ok(true)
    }

    /// Nobody else writes this file while a server has it open.
    pub fn is_shared(&self) -> bool {
        false
    }

    pub fn pending_admin_commands(&self) -> Result<Vec<AdminCommandRow>, DbError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, command, done_at, ok, result FROM admin_commands WHERE done_at IS NULL ORDER BY id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(AdminCommandRow {
                id: r.get(0)?,
                command: r.get(1)?,
                done_at: r.get(2)?,
                ok: r.get(3)?,
                result: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Record a command's outcome (only once: returns false if it was already done).
    pub fn finish_admin_command(&self, id: i64, ok: bool, result: &str, now: i64) -> Result<bool, DbError> {
        let n = self
            .conn
            .prepare_cached(
                "UPDATE admin_commands SET done_at = ?2, ok = ?3, result = ?4 WHERE id = ?1 AND done_at IS NULL",
            )?
            .execute(params![id, now, ok, result])?;
        Ok(n > 0)
    }

    pub fn admin_command(&self, id: i64) -> Result<Option<AdminCommandRow>, DbError> {
        Ok(self
            .conn
            .prepare_cached("SELECT id, command, done_at, ok, result FROM admin_commands WHERE id = ?1")?
            .query_row([id], |r| {
                Ok(AdminCommandRow {
                    id: r.get(0)?,
                    command: r.get(1)?,
                    done_at: r.get(2)?,
                    ok: r.get(3)?,
                    result: r.get(4)?,
                })
            })
            .optional()?)
    }
}
