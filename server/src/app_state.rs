//! What every HTTP handler and connection task shares.

use crate::accounts::Accounts;
use crate::conn_id::ConnId;
use crate::hub_runner::HubHandle;
use crate::server_stats::ServerStats;
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
