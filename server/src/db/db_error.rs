//! Errors of the storage boundary.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    // Causes are part of the message (and not `source`s), so that a log line of the
    // error alone says everything and an error chain does not repeat it.
    #[error("cannot create data directory {path}: {error}")]
    CreateDir { path: PathBuf, error: std::io::Error },
    #[error("cannot open database {path}: {error}")]
    Open { path: PathBuf, error: rusqlite::Error },
    #[error(
        "database schema version {found} is newer than this server understands ({supported}); upgrade jiuloop-server"
    )]
    SchemaTooNew { found: i64, supported: i64 },
    #[error("database error: {0}")]
    Sqlite(rusqlite::Error),
    #[error("corrupt row in table {table}: {detail}")]
    Corrupt { table: &'static str, detail: String },
}

impl From<rusqlite::Error> for DbError {
    fn from(e: rusqlite::Error) -> Self {
        DbError::Sqlite(e)
    }
}

impl DbError {
    pub(crate) fn corrupt(table: &'static str, detail: impl Into<String>) -> Self {
        DbError::Corrupt { table, detail: detail.into() }
    }

    /// True when the error is a uniqueness violation (e.g. a user name that exists).
    pub fn is_unique_violation(&self) -> bool {
        matches!(
            self,
            DbError::Sqlite(rusqlite::Error::SqliteFailure(e, _))
                if e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                    || e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
        )
    }
}
