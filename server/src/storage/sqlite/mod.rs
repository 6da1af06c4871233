//! The embedded storage engine: one SQLite file (WAL, `synchronous=FULL`). The only code
//! that knows SQL; it converts SQLite rows to the storage rows explicitly.

mod actor_registration;
mod admin_row;
mod audit_row;
mod device_row;
mod doc_row;
mod effects_row;
mod migrations;
mod node_row;
mod order_effects_row;
mod token_row;
mod user_row;

pub use migrations::SCHEMA_VERSION;

use super::DbError;

use rusqlite::Connection;
use std::path::Path;
use std::time::Duration;

/// File name of the database inside the data directory.
pub const DB_FILE: &str = "jiuloop.db";

/// How long a writer waits for another process (e.g. `user add` while serving).
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// One SQLite connection with jiuloop's settings (WAL, `synchronous=FULL`, busy timeout).
pub struct SqliteDb {
    pub(crate) conn: Connection,
    path: std::path::PathBuf,
}

impl SqliteDb {
    /// Open (creating if needed) `DIR/jiuloop.db`, creating `DIR` if it is missing.
    pub fn open_in(data_dir: &Path) -> Result<Self, DbError> {
        std::fs::create_dir_all(data_dir)
            .map_err(|error| DbError::CreateDir { path: data_dir.to_path_buf(), error })?;
        Self::open(&data_dir.join(DB_FILE))
    }

    /// Open (creating if needed) the database file and bring its schema up to date.
    pub fn open(path: &Path) -> Result<Self, DbError> {
        let open_err =
            |error: rusqlite::Error| DbError::Open { target: path.display().to_string(), reason: error.to_string() };
        let mut conn = Connection::open(path).map_err(open_err)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(open_err)?;
        let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0)).map_err(open_err)?;
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::warn!(mode, "SQLite did not switch to WAL mode");
        }
        conn.pragma_update(None, "synchronous", "FULL").map_err(open_err)?;
        conn.pragma_update(None, "foreign_keys", "ON").map_err(open_err)?;
        migrations::migrate(&mut conn)?;
        Ok(SqliteDb { conn, path: path.to_path_buf() })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
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

impl From<rusqlite::Error> for DbError {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ffi::ErrorCode;
        match &e {
            rusqlite::Error::SqliteFailure(f, _)
                if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                    || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY =>
            {
                DbError::Unique(e.to_string())
            }
            rusqlite::Error::SqliteFailure(f, _) if f.code == ErrorCode::DiskFull => DbError::Full(e.to_string()),
            rusqlite::Error::SqliteFailure(f, _)
                if matches!(f.code, ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) =>
            {
                DbError::Busy(e.to_string())
            }
            _ => DbError::Backend(e.to_string()),
        }
    }
}

#[cfg(test)]
mod contract_tests {
    use super::SqliteDb;
    use crate::storage::Storage;
    use crate::storage::contract::{Factory, storage_contract};
    use std::cell::RefCell;
    use std::path::PathBuf;

    /// Fresh SQLite files in temporary directories (removed afterwards).
    #[derive(Default)]
    struct Files(RefCell<Vec<PathBuf>>);

    impl Factory for Files {
        fn fresh(&self) -> Box<dyn Storage> {
            let dir = std::env::temp_dir().join(format!("jiuloop-contract-{}", uuid::Uuid::new_v4()));
            let db = SqliteDb::open_in(&dir).expect("open a fresh database");
            self.0.borrow_mut().push(dir);
            Box::new(db)
        }

        fn reopen(&self, old: Box<dyn Storage>) -> Option<Box<dyn Storage>> {
            drop(old);
            let dir = self.0.borrow().last().cloned()?;
            Some(Box::new(SqliteDb::open_in(&dir).expect("reopen the database")))
        }
    }

    impl Drop for Files {
        fn drop(&mut self) {
            for dir in self.0.borrow().iter() {
                let _ = std::fs::remove_dir_all(dir);
            }
        }
    }

    storage_contract!(Files::default());
}
