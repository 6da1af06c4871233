//! The only place that knows SQLite. Every other module speaks in rows defined here and
//! converts them explicitly to its own types.

mod actor_registration;
mod admin_row;
mod audit_row;
mod db_error;
mod device_row;
mod doc_row;
mod migrations;
mod order_effects_row;
mod token_row;
mod user_row;

pub use actor_registration::ActorRegistration;
pub use admin_row::AdminCommandRow;
pub use audit_row::{AuditRow, NewAudit};
pub use db_error::DbError;
pub use device_row::DeviceRow;
pub use doc_row::{DocFactsRow, DocRow, DocSummary, KindFilter, MoveRow, ReadFilter, StoredDoc};
pub use migrations::SCHEMA_VERSION;
pub use order_effects_row::{AssignmentRow, NotificationRow};
pub use token_row::TokenRow;
pub use user_row::{NewUser, UserRow};

use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// File name of the database inside the data directory.
pub const DB_FILE: &str = "jiuloop.db";

/// How long a writer waits for another process (e.g. `user add` while serving).
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// One SQLite connection with jiuloop's settings (WAL, `synchronous=FULL`, busy timeout).
pub struct Db {
    conn: Connection,
}

impl Db {
    /// Open (creating if needed) `DIR/jiuloop.db`, creating `DIR` if it is missing.
    pub fn open_in(data_dir: &Path) -> Result<Self, DbError> {
        std::fs::create_dir_all(data_dir)
            .map_err(|error| DbError::CreateDir { path: data_dir.to_path_buf(), error })?;
        Self::open(&data_dir.join(DB_FILE))
    }

    /// Open (creating if needed) the database file and bring its schema up to date.
    pub fn open(path: &Path) -> Result<Self, DbError> {
        let open_err = |error| DbError::Open { path: PathBuf::from(path), error };
        let mut conn = Connection::open(path).map_err(open_err)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(open_err)?;
        let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0)).map_err(open_err)?;
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::warn!(mode, "SQLite did not switch to WAL mode");
        }
        conn.pragma_update(None, "synchronous", "FULL").map_err(open_err)?;
        conn.pragma_update(None, "foreign_keys", "ON").map_err(open_err)?;
        migrations::migrate(&mut conn)?;
        Ok(Db { conn })
    }

    /// Start a write transaction (taking the write lock now, not at the first write).
    pub fn begin(&self) -> Result<(), DbError> {
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        Ok(())
    }

    /// Commit the open transaction. On failure the transaction is rolled back.
    pub fn commit(&self) -> Result<(), DbError> {
        match self.conn.execute_batch("COMMIT") {
            Ok(()) => Ok(()),
            Err(e) => {
                self.rollback();
                Err(e.into())
            }
        }
    }

    /// Roll back the open transaction, if any.
    pub fn rollback(&self) {
        if !self.conn.is_autocommit()
            && let Err(e) = self.conn.execute_batch("ROLLBACK")
        {
            tracing::error!(error = %e, "rollback failed");
        }
    }

    /// Whether a transaction is open.
    pub fn in_transaction(&self) -> bool {
        !self.conn.is_autocommit()
    }

    /// Mark a point inside the open transaction that [`Db::rollback_to`] returns to.
    pub fn savepoint(&self, name: &str) -> Result<(), DbError> {
        self.conn.execute_batch(&format!("SAVEPOINT {name}"))?;
        Ok(())
    }

    /// Forget a savepoint, keeping what was written since.
    pub fn release(&self, name: &str) -> Result<(), DbError> {
        self.conn.execute_batch(&format!("RELEASE {name}"))?;
        Ok(())
    }

    /// Undo everything written since the savepoint, and forget it.
    pub fn rollback_to(&self, name: &str) -> Result<(), DbError> {
        self.conn.execute_batch(&format!("ROLLBACK TO {name}; RELEASE {name}"))?;
        Ok(())
    }

    /// Cap the file at its current size (tests use this to simulate a full disk).
    #[doc(hidden)]
    pub fn freeze_size_for_tests(&self) -> Result<(), DbError> {
        let pages: i64 = self.conn.pragma_query_value(None, "page_count", |r| r.get(0))?;
        self.conn.pragma_update(None, "max_page_count", pages)?;
        Ok(())
    }
}

pub(crate) fn i64_from_u64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

pub(crate) fn u64_from_i64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}
