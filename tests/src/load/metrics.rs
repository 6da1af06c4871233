//! Counters shared by the simulated devices, and the one-line JSON report of a phase.

use client_core::SyncStats;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// WebSocket traffic summed over devices, as the devices' sync engines counted it
/// (message payloads; `up` = device → server).
#[derive(Default)]
pub struct Traffic {
    frames_up: AtomicU64,
    frames_down: AtomicU64,
    bytes_up: AtomicU64,
    bytes_down: AtomicU64,
    change_bytes_up: AtomicU64,
    change_bytes_down: AtomicU64,
    docs_pushed: AtomicU64,
    docs_received: AtomicU64,
    refused: AtomicU64,
}

#[derive(Clone, Copy, Debug, Default, Serialize, PartialEq, Eq)]
pub struct TrafficSnapshot {
    pub frames_up: u64,
    pub frames_down: u64,
    pub bytes_up: u64,
    pub bytes_down: u64,
    pub change_bytes_up: u64,
    pub change_bytes_down: u64,
    pub docs_pushed: u64,
    pub docs_received: u64,
    pub refused: u64,
}

impl Traffic {
    /// Add what a sync engine counted since `last` (and remember it as the new `last`).
    pub fn add_delta(&self, now: &SyncStats, last: &mut SyncStats) {
        let pairs = [
            (&self.frames_up, now.frames_sent, last.frames_sent),
            (&self.frames_down, now.frames_received, last.frames_received),
            (&self.bytes_up, now.bytes_sent, last.bytes_sent),
            (&self.bytes_down, now.bytes_received, last.bytes_received),
            (&self.change_bytes_up, now.change_bytes_sent, last.change_bytes_sent),
            (&self.change_bytes_down, now.change_bytes_received, last.change_bytes_received),
            (&self.docs_pushed, now.pushed_docs, last.pushed_docs),
            (&self.docs_received, now.received_docs, last.received_docs),
            (&self.refused, now.refused, last.refused),
        ];
        for (counter, n, l) in pairs {
            if n > l {
                counter.fetch_add(n - l, Relaxed);
            }
        }
        *last = now.clone();
    }

    pub fn add(&self, stats: &SyncStats) {
        self.add_delta(stats, &mut SyncStats::default());
    }

    pub fn snapshot(&self) -> TrafficSnapshot {
        TrafficSnapshot {
            frames_up: self.frames_up.load(Relaxed),
            frames_down: self.frames_down.load(Relaxed),
            bytes_up: self.bytes_up.load(Relaxed),
            bytes_down: self.bytes_down.load(Relaxed),
            change_bytes_up: self.change_bytes_up.load(Relaxed),
            change_bytes_down: self.change_bytes_down.load(Relaxed),
            docs_pushed: self.docs_pushed.load(Relaxed),
            docs_received: self.docs_received.load(Relaxed),
            refused: self.refused.load(Relaxed),
        }
    }
}

impl TrafficSnapshot {
    pub fn minus(&self, before: &TrafficSnapshot) -> TrafficSnapshot {
        TrafficSnapshot {
            frames_up: self.frames_up - before.frames_up,
            frames_down: self.frames_down - before.frames_down,
            bytes_up: self.bytes_up - before.bytes_up,
            bytes_down: self.bytes_down - before.bytes_down,
            change_bytes_up: self.change_bytes_up - before.change_bytes_up,
            change_bytes_down: self.change_bytes_down - before.change_bytes_down,
            docs_pushed: self.docs_pushed - before.docs_pushed,
            docs_received: self.docs_received - before.docs_received,
            refused: self.refused - before.refused,
        }
    }

    pub fn of(stats: &SyncStats) -> TrafficSnapshot {
        let t = Traffic::default();
        t.add(stats);
        t.snapshot()
    }
}

/// Errors seen by devices or checks: a count and the first few messages.
#[derive(Default)]
pub struct Errors {
    count: AtomicU64,
    samples: Mutex<Vec<String>>,
}

const ERROR_SAMPLES: usize = 8;

impl Errors {
    pub fn push(&self, msg: impl Into<String>) {
        self.count.fetch_add(1, Relaxed);
        let mut s = self.samples.lock().unwrap_or_else(|p| p.into_inner());
        if s.len() < ERROR_SAMPLES {
            s.push(msg.into());
        }
    }

    pub fn count(&self) -> u64 {
        self.count.load(Relaxed)
    }

    /// Count and samples, emptied.
    pub fn take(&self) -> (u64, Vec<String>) {
        let n = self.count.swap(0, Relaxed);
        let s = std::mem::take(&mut *self.samples.lock().unwrap_or_else(|p| p.into_inner()));
        (n, s)
    }
}

/// One line of output: a measured phase.
#[derive(Debug, Serialize)]
pub struct PhaseReport {
    pub phase: String,
    pub wall_s: f64,
    pub devices: usize,
    #[serde(flatten)]
    pub traffic: TrafficSnapshot,
    /// Bytes on the wire (both ways) per byte of Automerge changes carried.
    pub wire_per_change_byte: Option<f64>,
    pub server_cpu_s: f64,
    pub server_peak_rss_mb: f64,
    pub server_rss_mb: f64,
    pub loadgen_cpu_s: f64,
    /// Peak RSS of the load generator process so far (all simulated devices).
    pub loadgen_peak_rss_mb: f64,
    pub errors: u64,
    pub error_samples: Vec<String>,
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

impl PhaseReport {
    pub fn new(phase: &str) -> Self {
        PhaseReport {
            phase: phase.to_string(),
            wall_s: 0.0,
            devices: 0,
            traffic: TrafficSnapshot::default(),
            wire_per_change_byte: None,
            server_cpu_s: 0.0,
            server_peak_rss_mb: 0.0,
            server_rss_mb: 0.0,
            loadgen_cpu_s: 0.0,
            loadgen_peak_rss_mb: round3(super::procfs::self_peak_kib() as f64 / 1024.0),
            errors: 0,
            error_samples: Vec::new(),
            extra: BTreeMap::new(),
        }
    }

    pub fn set(&mut self, key: &str, value: impl Serialize) -> &mut Self {
        self.extra.insert(key.to_string(), serde_json::to_value(value).unwrap_or(Value::Null));
        self
    }

    pub fn set_traffic(&mut self, t: TrafficSnapshot) {
        self.traffic = t;
        let change = t.change_bytes_up + t.change_bytes_down;
        self.wire_per_change_byte = (change > 0).then(|| round3((t.bytes_up + t.bytes_down) as f64 / change as f64));
    }

    /// Print as one JSON line (and flush, so a pipe sees it at once).
    pub fn print(&self) {
        use std::io::Write;
        let line = serde_json::to_string(self).expect("report serializes");
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }
}

pub fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// The `p`-th percentile (0..=100) of sorted values, nearest rank.
pub fn percentile(sorted: &[u64], p: f64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// Latency summary of microsecond samples, in milliseconds.
pub fn latency_ms(samples: &mut [u64]) -> Value {
    samples.sort_unstable();
    let ms = |p: f64| percentile(samples, p).map(|us| round3(us as f64 / 1000.0));
    serde_json::json!({
        "n": samples.len(),
        "p50": ms(50.0),
        "p90": ms(90.0),
        "p99": ms(99.0),
        "max": ms(100.0),
    })
}

/// The `(name with its labels as printed, value)` of each sample line of a `/metrics` text.
fn samples(text: &str) -> impl Iterator<Item = (&str, f64)> {
    text.lines().filter(|l| !l.starts_with('#')).filter_map(|l| {
        let (key, value) = l.rsplit_once(' ')?;
        Some((key, value.trim().parse().ok()?))
    })
}

/// The value of the sample `name` (with its labels, as printed), if present.
pub fn sample(text: &str, name: &str) -> Option<f64> {
    samples(text).find(|(key, _)| *key == name).map(|(_, v)| v)
}

/// A Prometheus histogram as scraped: cumulative counts by upper bound (`le`), in order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Buckets(pub Vec<(f64, f64)>);

impl Buckets {
    /// The `<name>_bucket{le="…"} n` samples of one `/metrics` text.
    pub fn parse(text: &str, name: &str) -> Buckets {
        let prefix = format!("{name}_bucket{{le=\"");
        let bound = |le: &str| if le == "+Inf" { f64::INFINITY } else { le.parse().unwrap_or(f64::NAN) };
        Buckets(
            samples(text)
                .filter_map(|(key, n)| Some((bound(key.strip_prefix(&prefix)?.strip_suffix("\"}")?), n)))
                .collect(),
        )
    }

    /// Bucket-wise sum (several nodes) or difference (after − before a phase); an empty
    /// side (a node that did not answer) counts as zero.
    pub fn combine(&self, other: &Buckets, sign: f64) -> Buckets {
        match (self.0.is_empty(), other.0.is_empty()) {
            (_, true) => self.clone(),
            (true, false) => Buckets(other.0.iter().map(|(le, n)| (*le, sign * n)).collect()),
            (false, false) => {
                Buckets(self.0.iter().zip(&other.0).map(|((le, a), (_, b))| (*le, a + sign * b)).collect())
            }
        }
    }

    /// Count and the upper bound (ms) of the bucket holding each percentile: the server's
    /// own figure, read off its histogram (so no finer than its buckets).
    pub fn summary_ms(&self) -> Value {
        let total = self.0.last().map_or(0.0, |(_, n)| *n);
        let at = |p: f64| {
            let rank = (p / 100.0 * total).ceil().max(1.0);
            self.0
                .iter()
                .find(|(_, n)| *n >= rank)
                .map(|(le, _)| if le.is_finite() { round3(le * 1000.0) } else { f64::INFINITY })
        };
        let ms = |p: f64| {
            if total > 0.0 {
                at(p).map(|v| if v.is_finite() { Value::from(v) } else { Value::from("over") })
            } else {
                None
            }
        };
        serde_json::json!({ "n": total, "p50_le": ms(50.0), "p90_le": ms(90.0), "p99_le": ms(99.0) })
    }
}

#[cfg(test)]
mod buckets_tests {
    use super::Buckets;

    #[test]
    fn percentiles_come_from_the_bucket_that_holds_them() {
        let text = "x_bucket{le=\"0.001\"} 50\nx_bucket{le=\"0.002\"} 98\nx_bucket{le=\"0.004\"} 100\nx_bucket{le=\"+Inf\"} 100\nx_count 100\n";
        let before = Buckets::parse(
            "x_bucket{le=\"0.001\"} 10\nx_bucket{le=\"0.002\"} 10\nx_bucket{le=\"0.004\"} 10\nx_bucket{le=\"+Inf\"} 10\n",
            "x",
        );
        let after = Buckets::parse(text, "x");
        assert_eq!(after.0.len(), 4);
        let phase = after.combine(&before, -1.0);
        let s = phase.summary_ms();
        assert_eq!(s["n"], 90.0);
        assert_eq!(s["p50_le"], 2.0, "{s}");
        assert_eq!(s["p99_le"], 4.0, "{s}");
        assert!(Buckets::default().summary_ms()["p50_le"].is_null());
        // A node that did not answer adds nothing and takes nothing away.
        assert_eq!(phase.combine(&Buckets::default(), 1.0), phase);
        assert_eq!(super::sample(text, "x_count"), Some(100.0));
        assert_eq!(super::sample(text, "x_bucket{le=\"+Inf\"}"), Some(100.0));
    }
}
