//! The whole system in one process over a faulty simulated network (`jiuloop_tests::sim`):
//! many seeded plans, each checked against the invariants after every round.
//!
//! - `cargo test -p jiuloop-tests --test sim`: seeds 0..1000 (about a minute on two cores);
//! - `SIM_SEEDS=100000`: a soak run of that many seeds (`SIM_FIRST=N` starts elsewhere);
//! - `SIM_SEED=1234`: replay one seed, printing its whole log and plan when it fails
//!   (`SIM_VERBOSE=1` prints them even when it passes);
//! - the same plans on two hubs (nodes) over one PostgreSQL database of a throw-away
//!   cluster: seeds 0..40 (`SIM_NODE_SEEDS=N` for more, `SIM_NODE_SEED=1234` replays one).

use jiuloop_tests::sim::{self, SimFailure, Stats};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

const DEFAULT_SEEDS: u64 = 1000;
/// A soak run stops after this many failing seeds.
const MAX_FAILURES: usize = 5;

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().map(|v| v.trim().parse().unwrap_or_else(|_| panic!("{name}={v} is not a number")))
}

#[test]
fn simulated_seeds_hold_every_invariant() {
    if let Some(seed) = env_u64("SIM_SEED") {
        return replay(seed);
    }
    let first = env_u64("SIM_FIRST").unwrap_or(0);
    let count = env_u64("SIM_SEEDS").unwrap_or(DEFAULT_SEEDS);
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let next = AtomicU64::new(first);
    let failures: Mutex<Vec<SimFailure>> = Mutex::new(Vec::new());
    let total = Mutex::new(Stats::default());
    let started = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                let mut stats = Stats::default();
                loop {
                    let seed = next.fetch_add(1, Ordering::Relaxed);
                    if seed >= first + count || failures.lock().unwrap().len() >= MAX_FAILURES {
                        break;
                    }
                    match sim::run(seed) {
                        Ok(s) => stats += &s,
                        Err(f) => {
                            eprintln!("{}", f.report(80));
                            failures.lock().unwrap().push(f);
                        }
                    }
                }
                *total.lock().unwrap() += &stats;
            });
        }
    });
    let elapsed = started.elapsed();
    let stats = total.into_inner().unwrap();
    eprintln!("simulated seeds {first}..{} in {elapsed:.1?} on {threads} threads: {stats:?}", first + count);
    let failures = failures.into_inner().unwrap();
    if !failures.is_empty() {
        let list: Vec<String> = failures
            .iter()
            .map(|f| {
                format!("  seed {} (round {}): {}\n    replay: {}", f.seed, f.round, first_line(&f.message), f.replay)
            })
            .collect();
        panic!("{} seed(s) failed:\n{}", failures.len(), list.join("\n"));
    }
}

fn first_line(s: &str) -> &str {
    s.lines().map(str::trim).find(|l| !l.is_empty() && !l.ends_with(":")).unwrap_or(s)
}

fn replay(seed: u64) {
    let verbose = std::env::var_os("SIM_VERBOSE").is_some();
    match sim::run(seed) {
        Ok(stats) => {
            if verbose {
                eprintln!("{}\n{}", sim::run_logged(seed).join("\n"), sim::Plan::generate(seed).describe());
            }
            eprintln!("seed {seed} holds every invariant: {stats:?}");
        }
        Err(f) => panic!("{}", f.report(usize::MAX)),
    }
}

/// A seed replays exactly: two runs of it do the same things in the same order.
#[test]
fn a_seed_replays_exactly() {
    for seed in [3, 17] {
        let a = sim::run_logged(seed);
        let b = sim::run_logged(seed);
        assert_eq!(a, b, "seed {seed} did not replay the same way");
    }
}

/// The plans on two nodes: two hubs over one PostgreSQL database, each connection landing
/// on either; every invariant of one node holds (exactly-once effects, nothing acknowledged
/// lost, every device holding what it may read, no refused write stored).
#[test]
fn simulated_seeds_on_two_nodes_hold_every_invariant() {
    use jiuloop_server::storage::postgres::test_cluster::TestCluster;
    let cluster = TestCluster::shared();
    if let Some(seed) = env_u64("SIM_NODE_SEED") {
        if let Err(f) = sim::run_two_nodes(seed, cluster.fresh_database()) {
            panic!("{}", f.report(usize::MAX));
        }
        return;
    }
    let count = env_u64("SIM_NODE_SEEDS").unwrap_or(40);
    let next = AtomicU64::new(0);
    let failures: Mutex<Vec<SimFailure>> = Mutex::new(Vec::new());
    let total = Mutex::new(Stats::default());
    let started = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                let mut stats = Stats::default();
                loop {
                    let seed = next.fetch_add(1, Ordering::Relaxed);
                    if seed >= count || failures.lock().unwrap().len() >= MAX_FAILURES {
                        break;
                    }
                    match sim::run_two_nodes(seed, cluster.fresh_database()) {
                        Ok(s) => stats += &s,
                        Err(f) => {
                            eprintln!("{}", f.report(80));
                            failures.lock().unwrap().push(f);
                        }
                    }
                }
                *total.lock().unwrap() += &stats;
            });
        }
    });
    eprintln!("two-node seeds 0..{count} in {:.1?}: {:?}", started.elapsed(), total.into_inner().unwrap());
    let failures = failures.into_inner().unwrap();
    let list: Vec<String> = failures
        .iter()
        .map(|f| format!("  seed {} (round {}): {}\n    replay: {}", f.seed, f.round, first_line(&f.message), f.replay))
        .collect();
    assert!(failures.is_empty(), "{} two-node seed(s) failed:\n{}", failures.len(), list.join("\n"));
}
