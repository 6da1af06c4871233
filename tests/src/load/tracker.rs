//! Which tracked edits reached which devices, and how long they took.
//!
//! Every tracked edit carries a unique token (an order line SKU or a contact name,
//! `T:…`). The orchestrator announces it with the territory whose devices must receive
//! it; the editing device stamps the commit time; every receiving device reports the
//! token when it first shows up in the document it holds.

use protocol::DocId;
use std::collections::{HashMap, HashSet};
use std::time::Instant;

struct Pending {
    territory: String,
    /// Commit time (or the reconnect time for edits made offline).
    t0: Option<Instant>,
    /// Receivers still to see it.
    remaining: u32,
}

#[derive(Default)]
pub struct Tracker {
    pending: HashMap<String, Pending>,
    /// Every tracked token ever announced, per document (for the final check).
    pub expected: HashMap<DocId, HashSet<String>>,
    outstanding: u64,
    latencies_us: Vec<u64>,
    /// Arrivals at devices of another territory (the server relayed beyond the reader set).
    pub foreign: u64,
    /// Arrivals of an announced token at more receivers than expected.
    pub extra: u64,
}

impl Tracker {
    /// Announce an edit that `receivers` devices of `territory` must receive.
    pub fn expect(&mut self, token: &str, doc: DocId, territory: &str, receivers: u32, t0: Option<Instant>) {
        self.pending.insert(token.to_string(), Pending { territory: territory.to_string(), t0, remaining: receivers });
        self.outstanding += u64::from(receivers);
        self.expected.entry(doc).or_default().insert(token.to_string());
    }

    /// The editing device committed it.
    pub fn committed(&mut self, token: &str, _doc: DocId, at: Instant) {
        if let Some(p) = self.pending.get_mut(token)
            && p.t0.is_none()
        {
            p.t0 = Some(at);
        }
    }

    /// A device of `territory` saw the token for the first time.
    pub fn arrived(&mut self, token: &str, territory: &str, at: Instant) {
        match self.pending.get_mut(token) {
            Some(p) if p.territory == territory => {
                if p.remaining == 0 {
                    self.extra += 1;
                    return;
                }
                p.remaining -= 1;
                self.outstanding -= 1;
                if let Some(t0) = p.t0 {
                    self.latencies_us.push(at.saturating_duration_since(t0).as_micros() as u64);
                }
            }
            Some(_) => self.foreign += 1,
            // Edits of earlier phases, in documents that arrive whole.
            None => {}
        }
    }

    /// Deliveries still expected.
    pub fn outstanding(&self) -> u64 {
        self.outstanding
    }

    /// Tokens not yet everywhere (for error messages).
    pub fn missing_sample(&self, n: usize) -> Vec<String> {
        self.pending
            .iter()
            .filter(|(_, p)| p.remaining > 0)
            .take(n)
            .map(|(t, p)| format!("{t}×{}", p.remaining))
            .collect()
    }

    /// Latencies recorded since the last call, in microseconds.
    pub fn take_latencies(&mut self) -> Vec<u64> {
        std::mem::take(&mut self.latencies_us)
    }

    /// Forget delivered edits and reset the per-phase counters.
    pub fn reset_phase(&mut self) {
        self.pending.retain(|_, p| p.remaining > 0);
        self.latencies_us.clear();
        self.foreign = 0;
        self.extra = 0;
    }
}

impl Tracker {
    /// Start every pending edit's clock now (edits made offline, clocked from reconnect).
    pub fn set_all_t0(&mut self, t0: Instant) {
        for p in self.pending.values_mut() {
            p.t0 = Some(t0);
        }
    }
}
