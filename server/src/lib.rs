//! jiuloop's central sync server. The folders, by concern (ARCHITECTURE.md has the map):
//!
//! - [`storage`]: the only module that knows SQL — the `Storage` trait, its SQLite and
//!   PostgreSQL engines, and their one contract suite.
//! - `identity`: login, tokens, user administration ([`Accounts`]).
//! - `sync`: the hub — the sync protocol (hello/catch-up, push/ack/relay, resync,
//!   compaction) as a pure event handler over storage and an LRU document cache, run on
//!   its own thread; `sync/hub/peers.rs` when several nodes share a database.
//! - `access`: whether a pushed chunk may be applied — measured before anything is loaded,
//!   then checked on a scratch copy (pure) — and who may read what.
//! - `validation`: the post-sync validators (verdicts, one-time effects, SLA clocks).
//! - `http`: HTTP and WebSocket; [`admin`]: admin commands from other processes.
//!
//! Start a server in-process with [`start`]:
//!
//! ```no_run
//! # async fn demo() -> Result<(), jiuloop_server::ServerError> {
//! let config = jiuloop_server::Config::new("/tmp/jiuloop-data").listen_on("127.0.0.1:0");
//! let server = jiuloop_server::start(config).await?;
//! println!("listening on {}", server.local_addr());
//! server.shutdown().await?;
//! # Ok(()) }
//! ```

pub(crate) mod access;
pub mod admin;
pub mod analytics;
pub mod config;
pub(crate) mod http;
pub(crate) mod identity;
pub mod metrics;
pub(crate) mod node_beat;
pub mod server;
pub mod server_error;
pub mod server_stats;
pub mod storage;
pub(crate) mod sync;
pub(crate) mod validation;

pub use admin::audit;
pub use config::Config;
pub use http::tls::{ServerTls, TlsError, TlsFiles};
pub use identity::account_error::AccountError;
pub use identity::accounts::{self, Accounts, LoginGrant, UserSpec};
pub use identity::session::Session;
pub use identity::user_info::UserInfo;
/// Roles live in the protocol crate (shared with the clients and the rules table).
pub use protocol::Role;
pub use server::{RunningServer, start};
pub use server_error::ServerError;
pub use server_stats::ServerStats;
pub use storage::{DbError, SqliteDb, Storage};
pub use sync::conn_id::ConnId;
pub use sync::hub::{Hub, HubSettings};
pub use sync::hub_event::{HubEvent, Outgoing};
pub use validation::{notifications, policy};
