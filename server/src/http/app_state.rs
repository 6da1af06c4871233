//! What every HTTP handler and connection task shares.

use crate::identity::accounts::Accounts;
use crate::identity::verifier_pool::VerifierPool;
use crate::server_stats::ServerStats;
use crate::sync::blob_service::BlobService;
use crate::sync::conn_id::ConnId;
use crate::sync::hub_runner::HubHandle;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::watch;

#[derive(Clone)]
pub struct AppState {
    pub accounts: Arc<Accounts>,
    /// Where login passwords are checked.
    pub verifier: Arc<VerifierPool>,
    pub hub: HubHandle,
    pub stats: Arc<ServerStats>,
    next_conn: Arc<AtomicU64>,
    /// Becomes true when the server shuts down.
    pub shutdown: watch::Receiver<bool>,
    /// A sync connection that sends no `Hello` within this time is closed.
    pub hello_timeout: Duration,
    /// Attachments (handled on the connection tasks, not the hub).
    pub blobs: Arc<BlobService>,
    /// The analysis read model: where its store lives and how far the projection is.
    pub analytics: AnalyticsState,
}

/// What the analysis endpoints need: the data directory holding `analytics.db`, the
/// sync database (users and teams), and the projection's counters.
#[derive(Clone)]
pub struct AnalyticsState {
    pub data_dir: std::path::PathBuf,
    pub database: crate::storage::Database,
    pub projection: Arc<crate::analytics::projector::ProjectionStats>,
}

impl AppState {
    #[allow(clippy::too_many_arguments)] // each is one part of the server the routes reach
    pub fn new(
        accounts: Arc<Accounts>,
        verifier: Arc<VerifierPool>,
        hub: HubHandle,
        stats: Arc<ServerStats>,
        shutdown: watch::Receiver<bool>,
        hello_timeout: Duration,
        blobs: Arc<BlobService>,
        analytics: AnalyticsState,
    ) -> Self {
        AppState {
            accounts,
            verifier,
            hub,
            stats,
            next_conn: Arc::new(AtomicU64::new(1)),
            shutdown,
            hello_timeout,
            blobs,
            analytics,
        }
    }

    pub fn next_conn_id(&self) -> ConnId {
        ConnId(self.next_conn.fetch_add(1, Ordering::Relaxed))
    }
}
