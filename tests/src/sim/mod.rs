//! A whole-system simulation in one process, in the manner of quinn-proto's `Pair` and
//! Zed's randomized tests: the real [`jiuloop_server::Hub`] over a SQLite file and several
//! real devices ([`client_core::Replica`] + [`client_core::SyncEngine`] +
//! [`client_core::MemStore`]), connected by a seeded network that delays frames, cuts
//! connections mid-batch and lets stale frames of a dead connection arrive late
//! ([`net`]), while the hub restarts from its file and devices edit offline — customers,
//! visits, orders and their lifecycle by every department, competitor observations,
//! reassignments, policy versions ([`plan`]). After each round of a plan every device
//! reconnects over a reliable network until quiescent, and the invariants are checked
//! ([`invariants`]).
//!
//! The same plans also run on two hubs over one PostgreSQL database ([`run_two_nodes`]):
//! each connection lands on either node, and every invariant must hold as on one.
//!
//! Everything a run does follows from its seed: the plan is data drawn from it, device ids,
//! actors and document ids are seeded, the clock is simulated. A failing seed replays with
//! `SIM_SEED=<seed> cargo test -p jiuloop-tests --test sim`.

pub mod invariants;
pub mod net;
pub mod plan;
pub mod world;

pub use plan::Plan;
pub use world::{Backing, Stats, World};

use std::path::PathBuf;

/// How a failure is replayed.
pub fn replay_command(seed: u64) -> String {
    replay_command_of(seed, false)
}

/// How a failure is replayed, on one node or on two.
pub fn replay_command_of(seed: u64, two_nodes: bool) -> String {
    if two_nodes {
        return format!("SIM_NODE_SEED={seed} cargo test -p jiuloop-tests --test sim two_nodes");
    }
    format!("SIM_SEED={seed} cargo test -p jiuloop-tests --test sim")
}

/// A run that broke an invariant (or panicked).
#[derive(Debug)]
pub struct SimFailure {
    pub seed: u64,
    pub round: usize,
    pub message: String,
    /// The run's log (what happened, in order) and its plan.
    pub log: Vec<String>,
    pub plan: String,
    /// The command that replays it.
    pub replay: String,
}

impl SimFailure {
    /// The report: what broke, how to replay it, then the last `tail` lines of the log.
    pub fn report(&self, tail: usize) -> String {
        let skip = self.log.len().saturating_sub(tail);
        format!(
            "simulation seed {} failed in round {}: {}\n  replay: {}\n--- log{} ---\n{}\n--- {}",
            self.seed,
            self.round,
            self.message,
            self.replay,
            if skip > 0 { format!(" (last {tail} of {} lines)", self.log.len()) } else { String::new() },
            self.log[skip..].join("\n"),
            self.plan,
        )
    }
}

/// A directory for the run's SQLite file, in memory when the machine has `/dev/shm` (the
/// hub's `synchronous=FULL` commits then cost no disk flush). Removed when dropped.
struct RunDir(PathBuf);

impl RunDir {
    fn new(seed: u64) -> RunDir {
        let base = PathBuf::from("/dev/shm");
        let base = if base.is_dir() { base } else { std::env::temp_dir() };
        let dir = base.join("jiuloop-sim").join(format!("{seed}-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
        RunDir(dir)
    }
}

impl Drop for RunDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Run the plan of `seed`: each round, then settle, then check.
pub fn run(seed: u64) -> Result<Stats, SimFailure> {
    finish(seed, false, execute(seed, None))
}

/// Run the plan of `seed` on two hubs (nodes) over the fresh PostgreSQL database `url`.
pub fn run_two_nodes(seed: u64, url: String) -> Result<Stats, SimFailure> {
    finish(seed, true, execute(seed, Some(Backing::Postgres { url, hubs: 2 })))
}

fn finish(
    seed: u64,
    two_nodes: bool,
    (result, stats, log, plan): (Outcome, Stats, Vec<String>, String),
) -> Result<Stats, SimFailure> {
    match result {
        Ok(()) => Ok(stats),
        Err((round, message)) => {
            Err(SimFailure { seed, round, message, log, plan, replay: replay_command_of(seed, two_nodes) })
        }
    }
}

/// Run the plan of `seed` and return its log, whatever the outcome (to compare two runs).
pub fn run_logged(seed: u64) -> Vec<String> {
    let (result, _, mut log, _) = execute(seed, None);
    log.push(format!("outcome: {result:?}"));
    log
}

type Outcome = Result<(), (usize, String)>;

/// `backing`: `None` for a SQLite file in a directory of the run's own.
fn execute(seed: u64, backing: Option<Backing>) -> (Outcome, Stats, Vec<String>, String) {
    let plan = Plan::generate(seed);
    let described = plan.describe();
    let dir = RunDir::new(seed);
    let backing = backing.unwrap_or_else(|| Backing::Sqlite(dir.0.join("jiuloop.db")));
    let rounds = plan.rounds.clone();
    let mut round = 0;
    let mut world: Option<World> = None;
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| -> Result<(), String> {
        let w = world.insert(World::new(plan, backing));
        for (r, steps) in rounds.iter().enumerate() {
            round = r;
            for (i, s) in steps.iter().enumerate() {
                w.step(s).map_err(|e| format!("step {r}.{i} {s:?}: {e}"))?;
            }
            w.settle()?;
            invariants::check(w)?;
        }
        Ok(())
    }));
    let result = match result {
        Ok(Ok(())) => Ok(()),
        Ok(Err(m)) => Err((round, m)),
        Err(panic) => {
            let what = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "a panic".into());
            Err((round, format!("panicked: {what}")))
        }
    };
    let (stats, log) = match world {
        Some(World { stats, log, .. }) => (stats, log),
        None => Default::default(),
    };
    // The hub (and its database) closed with the world; now the directory goes.
    drop(dir);
    (result, stats, log, described)
}
