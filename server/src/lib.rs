//! jiuloop's central sync server.
//!
//! - [`db`]: the only module that knows SQLite (users, devices, tokens, actors, docs,
//!   changes).
//! - [`accounts::Accounts`]: login, tokens, user administration.
//! - [`hub::Hub`]: the sync protocol (hello/catch-up, push/ack/relay, resync,
//!   compaction) as a pure event handler over storage and an LRU document cache;
//!   [`hub_runner`] runs it on its own thread.
//! - [`authorize::check_frame`], [`authorize::authorize_inspected`]: whether a pushed chunk
//!   may be applied — measured before anything is loaded, then checked on a scratch copy
//!   (pure).
//! - [`order_check`]: the server's verdict on an order after sync (pure); the hub writes it
//!   into the order's verdict document and records the order's one-time effects
//!   (assignment to logistics and finance, [`notifications`]).
//! - [`router`], [`sync_socket`]: HTTP and WebSocket.
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
pub mod server;
pub mod server_error;
pub mod server_stats;
pub mod storage;
pub(crate) mod sync;
pub(crate) mod validation;

pub use admin::audit;
pub use config::Config;
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
