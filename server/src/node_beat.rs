//! This server's row in the `nodes` table: registered at start, a heartbeat every
//! [`BEAT`] while the database is shared with other nodes, marked stopped at shutdown. On
//! its own thread and connection: the hub never waits for it. Each beat also re-reads how
//! many documents the database holds, so `/health` counts those other nodes stored too.

use crate::server_stats::ServerStats;
use crate::storage::Database;
use std::sync::Arc;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

pub const BEAT: Duration = Duration::from_secs(2);

pub struct NodeBeat {
    stop: mpsc::Sender<()>,
    thread: Option<JoinHandle<()>>,
}

impl NodeBeat {
    /// Register node `id` listening on `address` (before this returns: `nodes` lists it as
    /// soon as the server answers) and keep it beating. Blocks: call off the async threads.
    pub fn start(database: Database, id: String, address: String, stats: Arc<ServerStats>) -> std::io::Result<Self> {
        let now = crate::identity::accounts::now_ms;
        let db = match database.open() {
            Ok(db) => Some(db),
            Err(e) => {
                tracing::error!(error = %e, "cannot register this node");
                None
            }
        };
        if let Some(db) = &db
            && let Err(e) = db.register_node(&id, &address, env!("CARGO_PKG_VERSION"), now())
        {
            tracing::error!(error = %e, "cannot register this node");
        }
        let (stop, stopped) = mpsc::channel();
        let thread = std::thread::Builder::new().name("jiuloop-node".into()).spawn(move || {
            let Some(db) = db else { return };
            let shared = db.is_shared();
            loop {
                match stopped.recv_timeout(BEAT) {
                    Err(mpsc::RecvTimeoutError::Timeout) if shared => {
                        if let Err(e) = db.node_heartbeat(&id, now()) {
                            tracing::warn!(error = %e, "node heartbeat failed");
                        }
                        match db.doc_count() {
                            Ok(n) => stats.set_documents(crate::storage::u64_from_i64(n)),
                            Err(e) => tracing::warn!(error = %e, "cannot count the documents"),
                        }
                    }
                    Err(mpsc::RecvTimeoutError::Timeout) => {}
                    Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected) => break,
                }
            }
            if let Err(e) = db.node_stopped(&id, now()) {
                tracing::warn!(error = %e, "cannot mark this node stopped");
            }
        })?;
        Ok(NodeBeat { stop, thread: Some(thread) })
    }

    /// Mark the node stopped and wait for the thread.
    pub fn stop(mut self) {
        let _ = self.stop.send(());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
