//! `GET /metrics`: the server's counters in Prometheus' text format (`prometheus-client`).
//! Counted where the work happens — the hub runner (events, batches, what it sends), the
//! login route, the connection listener — and read from `ServerStats` for the gauges.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use protocol::ServerMsg;
use std::sync::atomic::AtomicU64;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RuleLabel {
    pub rule: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabel {
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CodeLabel {
    pub code: String,
}

pub struct Metrics {
    registry: Registry,
    pub connections: Gauge,
    pub documents: Gauge,
    pub cached_documents: Gauge,
    pub hub_queue_depth: Gauge,
    pub hub_events: Counter,
    pub hub_batch_seconds: Histogram,
    pub delivery_seconds: Histogram,
    pub push_frames: Counter,
    pub pushed_documents: Counter,
    pub acked_documents: Counter,
    pub refusals: Family<RuleLabel, Counter>,
    pub closed: Family<CodeLabel, Counter>,
    pub change_frames_sent: Counter,
    pub change_bytes_sent: Counter,
    pub forgets_sent: Counter,
    pub logins: Family<OutcomeLabel, Counter>,
    pub password_checks: Counter<u64, AtomicU64>,
    pub connections_refused: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("jiuloop");
        let m = Metrics {
            connections: Gauge::default(),
            documents: Gauge::default(),
            cached_documents: Gauge::default(),
            hub_queue_depth: Gauge::default(),
            hub_events: Counter::default(),
            hub_batch_seconds: Histogram::new(exponential_buckets(0.0005, 2.0, 14)),
            delivery_seconds: Histogram::new(exponential_buckets(0.0001, 2.0, 18)),
            push_frames: Counter::default(),
            pushed_documents: Counter::default(),
            acked_documents: Counter::default(),
            refusals: Family::default(),
            closed: Family::default(),
            change_frames_sent: Counter::default(),
            change_bytes_sent: Counter::default(),
            forgets_sent: Counter::default(),
            logins: Family::default(),
            password_checks: Counter::default(),
            connections_refused: Counter::default(),
            registry: Registry::default(),
        };
        registry.register("connections", "Open sync (WebSocket) connections", m.connections.clone());
        registry.register("documents", "Documents stored (written through this node)", m.documents.clone());
        registry.register("cached_documents", "Documents loaded in the hub's cache", m.cached_documents.clone());
        registry.register("hub_queue_depth", "Events waiting for the hub", m.hub_queue_depth.clone());
        registry.register("hub_events", "Events handled by the hub", m.hub_events.clone());
        registry.register(
            "hub_batch_seconds",
            "Time the hub took for one batch of events, commit included",
            m.hub_batch_seconds.clone(),
        );
        registry.register(
            "delivery_seconds",
            "From the hub queueing a frame (its part committed) to the frame written on the socket",
            m.delivery_seconds.clone(),
        );
        registry.register("push_frames", "Push frames received", m.push_frames.clone());
        registry.register("pushed_documents", "Document chunks received in pushes", m.pushed_documents.clone());
        registry.register("acked_documents", "Documents acknowledged (durable)", m.acked_documents.clone());
        registry.register("refusals", "Pushed chunks refused, by rule", m.refusals.clone());
        registry.register("connections_closed", "Connections closed by the server, by error code", m.closed.clone());
        registry.register(
            "change_frames_sent",
            "Change frames sent (relays, catch-ups, resyncs)",
            m.change_frames_sent.clone(),
        );
        registry.register("change_bytes_sent", "Automerge change bytes sent", m.change_bytes_sent.clone());
        registry.register("forgets_sent", "Forget messages sent", m.forgets_sent.clone());
        registry.register("logins", "Login attempts, by outcome", m.logins.clone());
        registry.register("password_checks", "Argon2 password checks", m.password_checks.clone());
        registry.register("connections_refused", "TCP connections refused over a cap", m.connections_refused.clone());
        Metrics { registry, ..m }
    }
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Metrics {
    /// What the hub sends, counted once per recipient.
    pub fn sent(&self, msg: &ServerMsg, recipients: usize) {
        let n = recipients as u64;
        match msg {
            ServerMsg::Ack { docs } => {
                self.acked_documents.inc_by(docs.len() as u64 * n);
            }
            ServerMsg::Refused { refusals } => {
                for r in refusals {
                    self.refusals.get_or_create(&RuleLabel { rule: r.rule.clone() }).inc_by(n);
                }
            }
            ServerMsg::Changes { docs, .. } => {
                self.change_frames_sent.inc_by(n);
                self.change_bytes_sent.inc_by(docs.iter().map(|d| d.changes.len() as u64).sum::<u64>() * n);
            }
            ServerMsg::Forget { .. } => {
                self.forgets_sent.inc_by(n);
            }
            ServerMsg::Error { code, .. } => {
                self.closed.get_or_create(&CodeLabel { code: code.as_str().to_string() }).inc_by(n);
            }
            _ => {}
        }
    }

    /// The text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            tracing::error!(error = %e, "cannot encode the metrics");
        }
        out
    }
}
