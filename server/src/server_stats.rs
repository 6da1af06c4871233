//! Counters shown by `GET /health`.

use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Default)]
pub struct ServerStats {
    documents: AtomicU64,
    connections: AtomicU64,
}

impl ServerStats {
    pub fn documents(&self) -> u64 {
        self.documents.load(Ordering::Relaxed)
    }
    pub fn connections(&self) -> u64 {
        self.connections.load(Ordering::Relaxed)
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
}
