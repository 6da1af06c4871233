//! What every HTTP handler and connection task shares.

use crate::identity::accounts::Accounts;
use crate::server_stats::ServerStats;
use crate::sync::conn_id::ConnId;
use crate::sync::hub_runner::HubHandle;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::watch;

#[derive(Clone)]
pub struct AppState {
    pub accounts: Arc<Accounts>,
    pub hub: HubHandle,
    pub stats: Arc<ServerStats>,
    next_conn: Arc<AtomicU64>,
    /// Becomes true when the server shuts down.
    pub shutdown: watch::Receiver<bool>,
}

impl AppState {
    pub fn new(
        accounts: Arc<Accounts>,
        hub: HubHandle,
        stats: Arc<ServerStats>,
        shutdown: watch::Receiver<bool>,
    ) -> Self {
        AppState { accounts, hub, stats, next_conn: Arc::new(AtomicU64::new(1)), shutdown }
    }

    pub fn next_conn_id(&self) -> ConnId {
        ConnId(self.next_conn.fetch_add(1, Ordering::Relaxed))
    }
}
