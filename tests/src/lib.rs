//! Harness for jiuloop's whole-system tests: real `jiuloop-server` processes on loopback,
//! real `jiuloop` CLI profiles (SQLite files), and a hostile raw-protocol client.
//!
//! Everything a test needs to set up lives here, so the tests themselves read as
//! scenarios:
//!
//! - [`bins`] builds and locates the two binaries (once per test process);
//! - [`TestServer`] runs a server in a temporary data directory, kills it with SIGKILL,
//!   restarts it on the same port and looks into its SQLite file;
//! - [`Device`] is one CLI profile (one rep's laptop);
//! - [`RawClient`] speaks the wire protocol directly (no client-core), [`RawTcp`] speaks
//!   bytes below WebSocket, and [`LocalDoc`] builds Automerge changes by hand;
//! - [`http`] is a minimal HTTP/1.1 client for `/api/login` and `/health`;
//! - [`fault_proxy::FaultProxy`] sits between clients and the server and injects latency,
//!   bandwidth caps, cuts mid-frame, stalls and duplicated connections;
//! - [`Rng`] is a small seeded generator for replayable random plans;
//! - [`browser`] drives headless Chromium over the DevTools protocol (the web app's tests);
//! - [`tls`] reads the certificate a server serves and GETs over https (tests/tls.rs).

pub mod bins;
pub mod browser;
pub mod device;
pub mod fault_proxy;
pub mod http;
pub mod load;
pub mod process;
pub mod raw;
pub mod rng;
pub mod server;
pub mod sim;
pub mod tls;
pub mod tmp;
pub mod tmpfs;

pub use bins::bins;
pub use device::{Device, StoredDoc, SyncStats, sort_by_id};
pub use fault_proxy::{ConnRecord, FaultProxy, Faults, Link};
pub use raw::{Auth, CatchUp, Incoming, LocalDoc, RawClient, RawTcp, Rejection};
pub use rng::Rng;
pub use server::{DocFactsRow, StoreCounts, TestServer};
pub use tmp::TempDir;

/// The password every test user has (the server wants at least 8 characters).
pub const PASSWORD: &str = "jiuloop-test-password";
