//! HTTP: the routes (health, login, logout, the sync WebSocket, the web app), what they
//! share, the accept loop and its TLS.

pub mod analytics_api;
pub mod api_error;
pub mod app_state;
pub mod listener;
pub mod router;
pub mod sync_socket;
pub mod tls;
pub mod web_assets;
