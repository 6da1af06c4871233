//! Errors of starting and stopping a server.

use crate::storage::DbError;

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("cannot listen on {addr}: {error}")]
    Bind { addr: String, error: std::io::Error },
    #[error("cannot start the sync hub thread: {0}")]
    HubThread(std::io::Error),
    #[error("cannot start the analytics projection thread: {0}")]
    AnalyticsThread(std::io::Error),
    #[error("cannot start the password check threads: {0}")]
    VerifierThreads(std::io::Error),
    #[error("HTTP server failed: {0}")]
    Http(std::io::Error),
    #[error("a server task failed: {0}")]
    Task(String),
    #[error(transparent)]
    Tls(#[from] crate::http::tls::TlsError),
    #[error("cannot open the attachment store: {0}")]
    Blobs(String),
}
