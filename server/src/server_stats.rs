//! Counters shown by `GET /health`.

use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Default)]
pub struct ServerStats {
    documents: AtomicU64,
    connections: AtomicU64,
    password_checks: AtomicU64,
    logins_busy: AtomicU64,
    connections_refused: AtomicU64,
    /// Which database this node uses (`sqlite <path>` or `postgres <host/db>`).
    database: std::sync::OnceLock<String>,
    /// This node's id in the `nodes` table.
    node: std::sync::OnceLock<String>,
}

impl ServerStats {
    pub fn database(&self) -> &str {
        self.database.get().map_or("", String::as_str)
    }
    pub fn node(&self) -> &str {
        self.node.get().map_or("", String::as_str)
    }
    pub fn set_node(&self, id: String) {
        let _ = self.node.set(id);
    }
    pub fn set_database(&self, described: String) {
        let _ = self.database.set(described);
    }
    pub fn documents(&self) -> u64 {
        self.documents.load(Ordering::Relaxed)
    }
    /// Open sync (WebSocket) connections.
    pub fn connections(&self) -> u64 {
        self.connections.load(Ordering::Relaxed)
    }
    /// Argon2 password checks made since the start (unknown users' included).
    pub fn password_checks(&self) -> u64 {
        self.password_checks.load(Ordering::Relaxed)
    }
    /// Logins answered "busy" (too many checks under way) since the start.
    pub fn logins_busy(&self) -> u64 {
        self.logins_busy.load(Ordering::Relaxed)
    }
    /// TCP connections closed at once for being over a connection cap, since the start.
    pub fn connections_refused(&self) -> u64 {
        self.connections_refused.load(Ordering::Relaxed)
    }
    pub(crate) fn set_documents(&self, n: u64) {
        self.documents.store(n, Ordering::Relaxed);
    }
    pub(crate) fn add_documents(&self, n: u64) {
        self.documents.fetch_add(n, Ordering::Relaxed);
    }
    pub(crate) fn connection_opened(&self) {
        self.connections.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn connection_closed(&self) {
        self.connections.fetch_sub(1, Ordering::Relaxed);
    }
    pub(crate) fn add_password_checks(&self, n: u64) {
        self.password_checks.fetch_add(n, Ordering::Relaxed);
    }
    pub(crate) fn login_busy(&self) {
        self.logins_busy.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn connection_refused(&self) {
        self.connections_refused.fetch_add(1, Ordering::Relaxed);
    }
}
