//! jiuloop's central sync server.
//!
//! - [`db`]: the only module that knows SQLite (users, devices, tokens, actors, docs,
//!   changes).
//! - [`accounts::Accounts`]: login, tokens, user administration.
//! - [`hub::Hub`]: the sync protocol (hello/catch-up, push/ack/relay, resync,
//!   compaction) as a pure event handler over storage and an LRU document cache;
//!   [`hub_runner`] runs it on its own thread.
//! - [`authorize::authorize`]: whether a pushed chunk may be applied (pure).
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

pub mod access;
pub mod account_error;
pub mod accounts;
pub mod admin;
pub mod api_error;
pub mod app_state;
pub mod audit;
pub mod authorize;
pub mod config;
pub mod conn_id;
pub mod db;
pub mod doc_cache;
pub mod doc_state;
pub mod facts;
pub mod hub;
pub mod hub_event;
pub mod hub_runner;
#[cfg(test)]
mod hub_tests;
pub mod instance_lock;
pub mod login_limiter;
pub mod notifications;
pub mod order_check;
pub mod password;
pub mod policy;
pub mod router;
pub mod server;
pub mod server_error;
pub mod server_stats;
pub mod session;
pub mod sync_socket;
pub mod token;
pub mod user_info;
pub mod web_assets;

pub use account_error::AccountError;
pub use accounts::{Accounts, LoginGrant, UserSpec};
pub use config::Config;
pub use conn_id::ConnId;
pub use db::{Db, DbError};
pub use hub::{Hub, HubSettings};
pub use hub_event::{HubEvent, Outgoing};
/// Roles live in the protocol crate (shared with the clients and the rules table).
pub use protocol::Role;
pub use server::{RunningServer, start};
pub use server_error::ServerError;
pub use session::Session;
pub use user_info::UserInfo;
