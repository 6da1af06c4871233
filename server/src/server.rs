//! Starting a server in-process (the binary and the tests use the same path).

use crate::analytics::projector::{ProjectionThread, Projector};
use crate::config::Config;
use crate::http::app_state::AppState;
use crate::http::listener::{self, EdgeLimits};
use crate::http::router::router;
use crate::http::tls::ServerTls;
use crate::identity::accounts::Accounts;
use crate::identity::verifier_pool::VerifierPool;
use crate::server_error::ServerError;
use crate::server_stats::ServerStats;
use crate::storage::analytics::SqliteAnalytics;
use crate::sync::blob_service::BlobService;
use crate::sync::hub::{Hub, HubSettings};
use crate::sync::hub_runner::HubThread;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How long shutdown waits for open sync connections to close.
const CONNECTIONS_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

/// How often the analysis projection looks for new changes when it has nothing to do.
const PROJECTION_INTERVAL: std::time::Duration = std::time::Duration::from_millis(100);

/// A server that is listening. Dropping it without [`RunningServer::shutdown`] leaves it
/// running until the runtime stops.
pub struct RunningServer {
    addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    http: JoinHandle<std::io::Result<()>>,
    hub: HubThread,
    /// The analysis projection, on its own thread and connections (outside the sync path).
    projection: Option<ProjectionThread>,
    verifier: Arc<VerifierPool>,
    stats: Arc<ServerStats>,
    /// The TLS certificate served, when this server terminates TLS.
    tls: Option<Arc<ServerTls>>,
    /// This node's row in `nodes`.
    beat: crate::node_beat::NodeBeat,
    /// Tells admin commands in other processes that this server picks up their work.
    _lock: Option<crate::admin::instance_lock::InstanceLock>,
}

/// Open the data directory, start the sync hub and listen on `config.listen`.
pub async fn start(config: Config) -> Result<RunningServer, ServerError> {
    // A bad certificate stops the start before anything is opened.
    let tls = config.tls.clone().map(ServerTls::load).transpose()?.map(Arc::new);
    let stats = Arc::new(ServerStats::default());
    let cfg = config.clone();
    let hub_stats = stats.clone();
    let database = config.database()?;
    let db = database.clone();
    let (hub, accounts, blobs) = tokio::task::spawn_blocking(move || -> Result<_, ServerError> {
        let storage = db.open()?;
        hub_stats.set_database(storage.describe());
        let hub = Hub::new(
            storage,
            HubSettings { cache_docs: cfg.cache_docs, compact_after: u64::from(cfg.compact_after) },
            hub_stats,
        )?;
        let accounts = Accounts::new(db.open()?, cfg.token_ttl);
        // Attachments' bytes beside the SQLite file (this node's disk), or in the shared
        // PostgreSQL database where every node reads them; their rows through a
        // connection of their own.
        let store: Box<dyn crate::storage::blob::BlobStore> = match &db {
            crate::storage::Database::Sqlite(_) => Box::new(
                crate::storage::blob::FsBlobStore::open(&cfg.data_dir.join("blobs"))
                    .map_err(|e| ServerError::Blobs(e.to_string()))?,
            ),
            crate::storage::Database::Postgres(url) => Box::new(crate::storage::postgres::PgBlobStore::connect(url)?),
        };
        let blobs = BlobService::new(store, db.open()?, cfg.max_blob_bytes);
        Ok((hub, accounts, blobs))
    })
    .await
    .map_err(|e| ServerError::Task(e.to_string()))??;

    let listener = listener::bind(&config.listen)
        .await
        .map_err(|error| ServerError::Bind { addr: config.listen.clone(), error })?;
    let addr = listener.local_addr().map_err(|error| ServerError::Bind { addr: config.listen.clone(), error })?;
    // With a shared database the nodes find each other through it (see `sync::hub::peers`).
    let lock = match database.is_shared() {
        false => crate::admin::instance_lock::acquire(&config.data_dir),
        true => None,
    };
    let verifier = Arc::new(
        VerifierPool::start(config.login_threads, config.login_queue, stats.clone())
            .map_err(ServerError::VerifierThreads)?,
    );
    let node_id = uuid::Uuid::new_v4().simple().to_string()[..12].to_string();
    stats.set_node(node_id.clone());
    let (beat_db, beat_stats) = (database.clone(), stats.clone());
    let beat = tokio::task::spawn_blocking(move || {
        crate::node_beat::NodeBeat::start(beat_db, node_id, addr.to_string(), beat_stats)
    })
    .await
    .map_err(|e| ServerError::Task(e.to_string()))?
    .map_err(ServerError::HubThread)?;
    let hub = HubThread::spawn(hub).map_err(ServerError::HubThread)?;
    let projection = match config.analytics {
        true => {
            let (feed, dir) = (database.clone(), config.data_dir.clone());
            let projector = tokio::task::spawn_blocking(move || -> Result<_, ServerError> {
                Ok(Projector::new(feed.open()?, Box::new(SqliteAnalytics::open_in(&dir)?)))
            })
            .await
            .map_err(|e| ServerError::Task(e.to_string()))??;
            Some(ProjectionThread::spawn(projector, PROJECTION_INTERVAL).map_err(ServerError::AnalyticsThread)?)
        }
        false => None,
    };
    let analytics = crate::http::app_state::AnalyticsState {
        data_dir: config.data_dir.clone(),
        database: database.clone(),
        projection: projection.as_ref().map_or_else(Default::default, |p| p.stats.clone()),
    };
    let (shutdown, shutdown_rx) = watch::channel(false);
    let state = AppState::new(
        Arc::new(accounts),
        verifier.clone(),
        hub.handle(),
        stats.clone(),
        shutdown_rx.clone(),
        config.hello_timeout,
        Arc::new(blobs),
        analytics,
    );
    let app = crate::http::web_assets::with_web_app(router(state), config.web_dir.clone());
    let limits = EdgeLimits {
        max_connections: config.max_connections.max(1),
        max_connections_per_address: config.max_connections_per_address.max(1),
        header_read_timeout: config.header_read_timeout,
        request_timeout: config.request_timeout,
    };
    let http = tokio::spawn(listener::serve(listener, app, limits, stats.clone(), tls.clone(), shutdown_rx));
    let data = match &database {
        crate::storage::Database::Sqlite(dir) => dir.display().to_string(),
        crate::storage::Database::Postgres(url) => crate::storage::postgres::redact(url),
    };
    tracing::info!(%addr, data, node = stats.node(), tls = tls.is_some(), "jiuloop-server started");
    Ok(RunningServer { addr, shutdown, http, hub, projection, verifier, stats, tls, beat, _lock: lock })
}

impl RunningServer {
    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The analysis projection's counters (`None` when it does not run here).
    pub fn projection(&self) -> Option<std::sync::Arc<crate::analytics::projector::ProjectionStats>> {
        self.projection.as_ref().map(|p| p.stats.clone())
    }

    /// The TLS certificate served (to reload it), when this server terminates TLS.
    pub fn tls(&self) -> Option<Arc<ServerTls>> {
        self.tls.clone()
    }

    /// `https` when this server terminates TLS, else `http`.
    pub fn scheme(&self) -> &'static str {
        if self.tls.is_some() { "https" } else { "http" }
    }

    /// Counters shown by `/health`.
    pub fn stats(&self) -> &ServerStats {
        &self.stats
    }

    /// Run until `signal` completes (or the HTTP server fails), then shut down.
    pub async fn run_until(mut self, signal: impl Future<Output = ()>) -> Result<(), ServerError> {
        tokio::select! {
            _ = signal => self.shutdown().await,
            result = &mut self.http => {
                self.stop_hub().await;
                match result {
                    Ok(Ok(())) => Ok(()),
                    Ok(Err(e)) => Err(ServerError::Http(e)),
                    Err(e) => Err(ServerError::Task(e.to_string())),
                }
            }
        }
    }

    /// Stop accepting, close every sync connection (close code 1001), and wait until
    /// the connections and the hub have stopped and the database is closed (so another
    /// server may open the same directory). Acknowledged data is durable.
    pub async fn shutdown(self) -> Result<(), ServerError> {
        let _ = self.shutdown.send(true);
        let result = self.http.await;
        // Let the connection tasks finish their close handshakes.
        let deadline = tokio::time::Instant::now() + CONNECTIONS_GRACE;
        while self.stats.connections() > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        let (hub, verifier, beat, projection) = (self.hub, self.verifier, self.beat, self.projection);
        tokio::task::spawn_blocking(move || {
            verifier.stop();
            beat.stop();
            if let Some(p) = projection {
                p.stop();
            }
            hub.stop()
        })
        .await
        .map_err(|e| ServerError::Task(e.to_string()))?;
        tracing::info!("jiuloop-server stopped");
        match result {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(ServerError::Http(e)),
            Err(e) => Err(ServerError::Task(e.to_string())),
        }
    }

    async fn stop_hub(self) {
        let _ = self.shutdown.send(true);
        let (hub, verifier, beat, projection) = (self.hub, self.verifier, self.beat, self.projection);
        let _ = tokio::task::spawn_blocking(move || {
            verifier.stop();
            beat.stop();
            drop(projection);
            hub.stop()
        })
        .await;
    }
}
