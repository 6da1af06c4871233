//! Command line of the load generator.

use clap::{Parser, ValueEnum};
use std::path::PathBuf;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Phase {
    /// Every rep creates its D documents offline and syncs them (all at once).
    Upload,
    /// A fresh device of one rep downloads what that rep may read.
    Cold,
    /// All reps offline, K edits each, all reconnect at once and stay connected until
    /// every edit reached every other device of its territory.
    Catchup,
    /// All reps reconnect with nothing changed (one round trip each).
    Noop,
    /// C connected devices, E tracked edits per second; commit → arrival latency.
    Fanout,
    /// The server is SIGKILLed and restarted with the C devices connected.
    Restart,
    /// N documents stored; the server restarted; documents touched; RSS vs the cache.
    Rest,
    /// `jiuloop status|show|set|list` on a profile of `--cli-docs` documents: wall time
    /// today (every document loaded) and lazily (issue 14).
    CliStartup,
    /// `jiuloop sync` of a fresh profile downloading `--cli-sync-docs`: peak RSS today and
    /// streamed (issue 14). Runs with `cli-startup` (its profile is the start).
    CliSync,
}

pub const ALL_PHASES: &[Phase] = &[
    Phase::Upload,
    Phase::Cold,
    Phase::Catchup,
    Phase::Noop,
    Phase::Fanout,
    Phase::Restart,
    Phase::Rest,
    Phase::CliStartup,
    Phase::CliSync,
];

impl Phase {
    /// The CLI's phases run on a server of their own, apart from the simulated devices.
    pub fn is_cli(self) -> bool {
        matches!(self, Phase::CliStartup | Phase::CliSync)
    }
}

/// Load generator for jiuloop-server: simulated reps (real client-core replicas and sync
/// engines over real WebSockets) against a real server process on loopback. Prints one
/// JSON object per phase on stdout; exits non-zero if any phase had errors.
#[derive(Clone, Debug, Parser)]
#[command(name = "loadgen")]
pub struct LoadArgs {
    /// Tiny sizes for a CI smoke run (under a minute, debug build included).
    #[arg(long)]
    pub quick: bool,
    /// R: reps (one user and one device each).
    #[arg(long)]
    pub reps: Option<usize>,
    /// D: documents per rep (half customers, half orders with 3 lines).
    #[arg(long)]
    pub docs: Option<usize>,
    /// K: documents each rep edits offline before the catch-up reconnect.
    #[arg(long)]
    pub edits: Option<usize>,
    /// C: connected devices in the fan-out and restart phases (logged in as the reps).
    #[arg(long)]
    pub connected: Option<usize>,
    /// E: tracked edits per second in the fan-out phase, spread over the C devices.
    #[arg(long)]
    pub rate: Option<f64>,
    /// N: documents stored in the `rest` phase (topped up from the earlier phases).
    #[arg(long)]
    pub stored: Option<usize>,
    /// Reps per territory (1 = every rep alone in its territory).
    #[arg(long)]
    pub reps_per_territory: Option<usize>,
    /// Length of the fan-out edit period, seconds.
    #[arg(long)]
    pub fanout_secs: Option<f64>,
    /// Documents per territory that the fan-out devices hold and edit.
    #[arg(long)]
    pub fanout_docs: Option<usize>,
    /// The server's `--cache-docs`.
    #[arg(long)]
    pub cache_docs: Option<usize>,
    /// In the rest phase, measure once per cache size (the server restarted with each).
    #[arg(long, value_delimiter = ',')]
    pub rest_cache: Vec<usize>,
    /// Documents touched (edited and pushed) after the restart in the rest phase.
    #[arg(long)]
    pub rest_touch: Option<usize>,
    /// Devices uploading at once in the rest phase (each receives the others' batches
    /// while every user may read everything).
    #[arg(long)]
    pub rest_devices: Option<usize>,
    /// Skip the rest phase's full download by a fresh device.
    #[arg(long)]
    pub no_rest_cold: bool,
    /// Phases to run, comma-separated (the ones they need run as well).
    #[arg(long, value_delimiter = ',', value_enum)]
    pub phases: Vec<Phase>,
    /// The jiuloop-server binary (default: built next to this one by cargo).
    #[arg(long)]
    pub server_bin: Option<PathBuf>,
    /// Environment for the server process only, KEY=VALUE (repeatable), e.g.
    /// `GLIBC_TUNABLES=glibc.malloc.mmap_threshold=131072`.
    #[arg(long, value_name = "KEY=VALUE")]
    pub server_env: Vec<String>,
    /// Server nodes (processes) sharing one PostgreSQL database; devices are spread over
    /// them round-robin. More than one needs `--postgres` or
    /// `--server-env JIULOOP_DATABASE_URL=…`.
    #[arg(long, default_value_t = 1)]
    pub nodes: usize,
    /// Start a throw-away PostgreSQL cluster (Debian's `postgresql`, `fsync` on) and run
    /// every node on a fresh database in it.
    #[arg(long)]
    pub postgres: bool,
    /// Concurrent logins (each costs the server one Argon2 verification).
    #[arg(long, default_value_t = 4)]
    pub login_parallel: usize,
    /// Record the server with `perf record -g` during these phases (comma-separated
    /// phase names as printed; files `$TMPDIR/jiuloop-perf-PHASE.data`).
    #[arg(long, value_delimiter = ',')]
    pub perf: Vec<String>,
    /// Documents of the profile the `cli-startup` phase times commands on.
    #[arg(long)]
    pub cli_docs: Option<usize>,
    /// Documents a fresh profile downloads in the `cli-sync` phase.
    #[arg(long)]
    pub cli_sync_docs: Option<usize>,
    /// Runs per command in `cli-startup` (the median is reported).
    #[arg(long, default_value_t = 3)]
    pub cli_runs: usize,
    /// Fan-out with every connected device applying and storing every change as it
    /// arrives. By default all but two devices per territory are lean receivers: they
    /// timestamp each tracked edit on arrival and apply the frames after the phase, so the
    /// latency is the server's, not the simulated replicas' (which share its cores).
    #[arg(long)]
    pub full_receivers: bool,
    /// Seed of the generated records.
    #[arg(long, default_value_t = 6)]
    pub seed: u64,
}

/// The sizes of a run, with the preset filled in.
#[derive(Clone, Debug)]
pub struct Sizes {
    pub reps: usize,
    pub docs: usize,
    pub edits: usize,
    pub connected: usize,
    pub rate: f64,
    pub stored: usize,
    pub reps_per_territory: usize,
    pub fanout_secs: f64,
    pub fanout_docs: usize,
    pub cache_docs: usize,
    pub rest_cache: Vec<usize>,
    pub rest_touch: usize,
    pub rest_devices: usize,
    pub rest_cold: bool,
    /// Fan-out with lean receivers (see `--full-receivers`).
    pub lean: bool,
}

impl LoadArgs {
    pub fn sizes(&self) -> Sizes {
        let q = self.quick;
        let pick = |v: Option<usize>, quick: usize, full: usize| v.unwrap_or(if q { quick } else { full });
        let cache_docs = pick(self.cache_docs, 300, 5000);
        let s = Sizes {
            reps: pick(self.reps, 4, 50).max(1),
            docs: pick(self.docs, 20, 200).max(2),
            edits: pick(self.edits, 3, 10),
            connected: pick(self.connected, 12, 2000).max(2),
            rate: self.rate.unwrap_or(if q { 20.0 } else { 200.0 }),
            stored: pick(self.stored, 1500, 100_000),
            reps_per_territory: pick(self.reps_per_territory, 2, 2).max(1),
            fanout_secs: self.fanout_secs.unwrap_or(if q { 2.0 } else { 10.0 }),
            fanout_docs: pick(self.fanout_docs, 2, 4).max(1),
            cache_docs,
            rest_cache: if self.rest_cache.is_empty() { vec![cache_docs] } else { self.rest_cache.clone() },
            rest_touch: pick(self.rest_touch, 600, 20_000),
            rest_devices: pick(self.rest_devices, 1, 1).max(1),
            rest_cold: !self.no_rest_cold,
            lean: !self.full_receivers,
        };
        Sizes { edits: s.edits.min(s.docs), ..s }
    }

    pub fn phases(&self) -> Vec<Phase> {
        if self.phases.is_empty() { ALL_PHASES.to_vec() } else { self.phases.clone() }
    }
}
