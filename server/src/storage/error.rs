//! Errors of the storage boundary, the same for every engine (each converts its own).

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    // Causes are part of the message (and not `source`s), so that a log line of the
    // error alone says everything and an error chain does not repeat it.
    #[error("cannot create data directory {path}: {error}")]
    CreateDir { path: PathBuf, error: std::io::Error },
    #[error("cannot open database {target}: {reason}")]
    Open { target: String, reason: String },
    #[error(
        "database schema version {found} is newer than this server understands ({supported}); upgrade jiuloop-server"
    )]
    SchemaTooNew { found: i64, supported: i64 },
    /// The file is a database of another program: it is left as it is.
    #[error(
        "the database file is not jiuloop's (it holds another program's tables); it was left untouched — point --data at jiuloop's data directory"
    )]
    NotOurs,
    /// A row with this key exists already.
    #[error("database error: {0}")]
    Unique(String),
    /// The disk (or the database's size limit) is full: nothing was stored.
    #[error("storage full: {0}")]
    Full(String),
    /// Another process holds the database's write lock longer than we waited.
    #[error("database busy: {0}")]
    Busy(String),
    #[error("database error: {0}")]
    Backend(String),
    #[error("corrupt row in table {table}: {detail}")]
    Corrupt { table: &'static str, detail: String },
}

impl DbError {
    pub(crate) fn corrupt(table: &'static str, detail: impl Into<String>) -> Self {
        DbError::Corrupt { table, detail: detail.into() }
    }

    /// True when the error is a uniqueness violation (e.g. a user name that exists).
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, DbError::Unique(_))
    }
}
