//! Settings of a server instance.

use std::path::PathBuf;
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct Config {
    /// Directory holding `jiuloop.db` (created if missing).
    pub data_dir: PathBuf,
    /// A PostgreSQL database shared with other nodes (`postgres://…`); None: the embedded
    /// SQLite file in `data_dir`.
    pub database_url: Option<String>,
    /// Address to listen on; port 0 picks a free port.
    pub listen: String,
    /// How many documents the sync hub keeps loaded in memory.
    pub cache_docs: usize,
    /// How long a login token is valid.
    pub token_ttl: Duration,
    /// Compact a document into a snapshot once it has more than this many chunks.
    pub compact_after: u32,
    /// The built browser app to serve at `/` (`scripts/build-web.sh`); None: a page that
    /// says how to build it.
    pub web_dir: Option<PathBuf>,
    /// Open TCP connections at most (HTTP and sync); one more is refused at once.
    pub max_connections: usize,
    /// Open TCP connections from one client address at most.
    pub max_connections_per_address: usize,
    /// A request whose headers have not all arrived within this time (or a keep-alive
    /// connection idle for as long) is closed.
    pub header_read_timeout: Duration,
    /// A request not answered within this time (its body trickling in, say) gets `408`.
    pub request_timeout: Duration,
    /// A sync connection that sends no `Hello` within this time is closed (`timeout`).
    pub hello_timeout: Duration,
    /// Threads checking login passwords (each holds 19 MiB of Argon2 memory).
    pub login_threads: usize,
    /// Logins that may wait for a password check; one more is answered "busy" at once.
    pub login_queue: usize,
    /// The largest attachment accepted, in bytes.
    pub max_blob_bytes: u64,
    /// Run the analysis projection (`analytics.db`) next to the hub (default); off, the
    /// read model stays where it is until `analytics catch-up` or a server that runs it.
    pub analytics: bool,
    /// Terminate TLS here with this PEM certificate chain and key (reloaded on SIGHUP);
    /// None: plain HTTP (IT's proxy in front terminates TLS, or none).
    pub tls: Option<crate::http::tls::TlsFiles>,
}

impl Config {
    pub const DEFAULT_DATA_DIR: &'static str = "./jiuloop-data";
    pub const DEFAULT_LISTEN: &'static str = "127.0.0.1:8080";
    pub const DEFAULT_CACHE_DOCS: usize = 5000;
    pub const DEFAULT_TOKEN_TTL_SECS: u64 = 30 * 24 * 3600;
    pub const DEFAULT_COMPACT_AFTER: u32 = 64;
    pub const DEFAULT_MAX_CONNECTIONS: usize = 10_000;
    pub const DEFAULT_MAX_CONNECTIONS_PER_ADDRESS: usize = 1_000;
    pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
    pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
    pub const DEFAULT_HELLO_TIMEOUT: Duration = Duration::from_secs(10);
    pub const DEFAULT_LOGIN_THREADS: usize = 2;
    pub const DEFAULT_LOGIN_QUEUE: usize = 32;

    /// Defaults with the given data directory.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Config {
            data_dir: data_dir.into(),
            database_url: None,
            listen: Self::DEFAULT_LISTEN.to_string(),
            cache_docs: Self::DEFAULT_CACHE_DOCS,
            token_ttl: Duration::from_secs(Self::DEFAULT_TOKEN_TTL_SECS),
            compact_after: Self::DEFAULT_COMPACT_AFTER,
            web_dir: None,
            max_connections: Self::DEFAULT_MAX_CONNECTIONS,
            max_connections_per_address: Self::DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
            header_read_timeout: Self::DEFAULT_HEADER_READ_TIMEOUT,
            request_timeout: Self::DEFAULT_REQUEST_TIMEOUT,
            hello_timeout: Self::DEFAULT_HELLO_TIMEOUT,
            login_threads: Self::DEFAULT_LOGIN_THREADS,
            login_queue: Self::DEFAULT_LOGIN_QUEUE,
            max_blob_bytes: protocol::blob::DEFAULT_MAX_BLOB_BYTES,
            analytics: true,
            tls: None,
        }
    }

    /// Where the data lives (`database_url` if given, else `data_dir`).
    pub fn database(&self) -> Result<crate::storage::Database, crate::storage::DbError> {
        crate::storage::Database::choose(self.database_url.as_deref(), &self.data_dir)
    }

    /// Same settings listening on `addr`.
    pub fn listen_on(mut self, addr: impl Into<String>) -> Self {
        self.listen = addr.into();
        self
    }
}
