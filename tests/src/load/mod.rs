//! The load generator and benchmarks (issues 6 and 2): simulated devices — real
//! client-core replicas and sync engines, with in-memory or SQLite storage — against a
//! real `jiuloop-server` process over loopback WebSockets, with the server's CPU and
//! memory read from `/proc`. Binaries: `loadgen` and `bench` (`tests/src/bin/`).

pub mod args;
pub mod bench;
pub mod cli_phases;
pub mod device;
pub mod metrics;
pub mod procfs;
pub mod records;
pub mod run;
pub mod server;
pub mod tracker;
