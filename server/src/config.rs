//! Settings of a server instance.

use std::path::PathBuf;
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct Config {
    /// Directory holding `jiuloop.db` (created if missing).
    pub data_dir: PathBuf,
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
}

impl Config {
    pub const DEFAULT_DATA_DIR: &'static str = "./jiuloop-data";
    pub const DEFAULT_LISTEN: &'static str = "127.0.0.1:8080";
    pub const DEFAULT_CACHE_DOCS: usize = 5000;
    pub const DEFAULT_TOKEN_TTL_SECS: u64 = 30 * 24 * 3600;
    pub const DEFAULT_COMPACT_AFTER: u32 = 64;

    /// Defaults with the given data directory.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Config {
            data_dir: data_dir.into(),
            listen: Self::DEFAULT_LISTEN.to_string(),
            cache_docs: Self::DEFAULT_CACHE_DOCS,
            token_ttl: Duration::from_secs(Self::DEFAULT_TOKEN_TTL_SECS),
            compact_after: Self::DEFAULT_COMPACT_AFTER,
            web_dir: None,
        }
    }

    /// Same settings listening on `addr`.
    pub fn listen_on(mut self, addr: impl Into<String>) -> Self {
        self.listen = addr.into();
        self
    }
}
