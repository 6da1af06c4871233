//! The `admin_commands` table: commands given on the command line while servers run.

use super::{DbError, PgStorage};
use crate::storage::rows::*;
use postgres::Row;

impl AdminCommandRow {
    fn from_pg(r: &Row) -> Self {
        AdminCommandRow { id: r.get(0), command: r.get(1), done_at: r.get(2), ok: r.get(3), result: r.get(4) }
    }
}

impl PgStorage {
    pub fn enqueue_admin_command(&self, command: &str, now: i64) -> Result<i64, DbError> {
        let row = self
            .row("INSERT INTO admin_commands (created_at, command) VALUES ($1, $2) RETURNING id", &[&now, &command])?;
        row.map(|r| r.get(0)).ok_or_else(|| DbError::Backend("INSERT … RETURNING gave no row".into()))
    }

    pub fn pending_admin_commands(&self) -> Result<Vec<AdminCommandRow>, DbError> {
        let rows = self.rows(
            "SELECT id, command, done_at, ok, result FROM admin_commands WHERE done_at IS NULL ORDER BY id",
            &[],
        )?;
        Ok(rows.iter().map(AdminCommandRow::from_pg).collect())
    }

    pub fn admin_commands_after(&self, after: i64) -> Result<Vec<AdminCommandRow>, DbError> {
        let rows = self
            .rows("SELECT id, command, done_at, ok, result FROM admin_commands WHERE id > $1 ORDER BY id", &[&after])?;
        Ok(rows.iter().map(AdminCommandRow::from_pg).collect())
    }

    /// Only once: false if it was done already (by this node or another).
    pub fn finish_admin_command(&self, id: i64, ok: bool, result: &str, now: i64) -> Result<bool, DbError> {
        let n = self.exec(
            "UPDATE admin_commands SET done_at = $2, ok = $3, result = $4 WHERE id = $1 AND done_at IS NULL",
            &[&id, &now, &ok, &result],
        )?;
        Ok(n > 0)
    }

    pub fn admin_command(&self, id: i64) -> Result<Option<AdminCommandRow>, DbError> {
        let row = self.row("SELECT id, command, done_at, ok, result FROM admin_commands WHERE id = $1", &[&id])?;
        Ok(row.as_ref().map(AdminCommandRow::from_pg))
    }
}
