//! The native driver of the client core: SQLite storage of a device profile, the tokio
//! WebSocket transport and the HTTP login (over TLS when the server URL says https://).
//! The `jiuloop` binary (main.rs) is its command line; benchmarks and the whole-system
//! tests use this library directly.

pub mod doc_index;
pub mod http;
pub mod profile;
pub mod proxy;
pub mod sqlite_store;
pub mod sync_driver;
pub mod tls;

pub use profile::{Profile, ProfileError};
pub use sync_driver::{SyncFailure, SyncReport, sync};

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
