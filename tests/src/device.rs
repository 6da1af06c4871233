//! One `jiuloop` CLI profile: a rep's laptop with its own SQLite replica.

use crate::PASSWORD;
use crate::bins::bins;
use crate::process::{describe, run_with_timeout};
use crate::server::TestServer;
use crate::tmp::TempDir;
use serde::Deserialize;
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

/// What `sync --json` reports.
#[derive(Clone, Debug, Deserialize)]
pub struct SyncStats {
    pub pushed_docs: u64,
    pub received_docs: u64,
    pub frames_sent: u64,
    pub frames_received: u64,
    pub bytes_sent: u64,
    pub bytes_received: u64,
    pub change_bytes_sent: u64,
    pub change_bytes_received: u64,
    pub cursor: u64,
    pub refused: Value,
}

pub struct Device {
    dir: TempDir,
    pub name: String,
}

impl Device {
    /// A profile that has never logged in.
    pub fn new(name: &str) -> Self {
        Device { dir: TempDir::new(&format!("device-{name}")), name: name.to_string() }
    }

    /// A new profile logged in to `server` as `user`.
    pub fn logged_in(server: &TestServer, user: &str) -> Self {
        let d = Device::new(user);
        d.login(server, user);
        d
    }

    pub fn login(&self, server: &TestServer, user: &str) {
        self.ok(&["login", "--server", &server.url(), "--user", user]);
    }

    pub fn profile(&self) -> &Path {
        self.dir.path()
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&bins().cli);
        cmd.arg("--profile").arg(self.profile()).args(args);
        cmd.env("JIULOOP_PASSWORD", PASSWORD).env_remove("RUST_LOG");
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Output {
        let cmd = self.command(args);
        let what = format!("[{}] {}", self.name, describe(&cmd));
        run_with_timeout(cmd, cli_timeout(), &what)
    }

    /// Runs, asserts success, returns trimmed stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "[{}] jiuloop {} failed ({}):\nstdout: {}\nstderr: {}",
            self.name,
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Runs with `--json`, asserts success, parses stdout.
    pub fn json(&self, args: &[&str]) -> Value {
        let mut a = args.to_vec();
        a.push("--json");
        let out = self.ok(&a);
        serde_json::from_str(&out)
            .unwrap_or_else(|e| panic!("[{}] jiuloop {} printed no JSON ({e}): {out}", self.name, a.join(" ")))
    }

    /// Runs, asserts a non-zero exit with one non-empty line on stderr, returns that line.
    pub fn fail(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
        assert!(
            !out.status.success(),
            "[{}] jiuloop {} should have failed but exited 0; stdout: {}",
            self.name,
            args.join(" "),
            String::from_utf8_lossy(&out.stdout)
        );
        assert!(
            !stderr.is_empty() && !stderr.contains('\n'),
            "[{}] jiuloop {} should explain itself in one line on stderr, got {stderr:?}",
            self.name,
            args.join(" ")
        );
        stderr
    }

    pub fn sync(&self) -> SyncStats {
        let v = self.json(&["sync"]);
        serde_json::from_value(v.clone())
            .unwrap_or_else(|e| panic!("[{}] sync --json has not the documented fields ({e}): {v}", self.name))
    }

    pub fn status(&self) -> Value {
        self.json(&["status"])
    }

    pub fn pending_docs(&self) -> u64 {
        let s = self.status();
        s["pending_docs"].as_u64().unwrap_or_else(|| panic!("no pending_docs in status {s}"))
    }

    /// `inbox --json`: the edits the server refused, with the reasons.
    pub fn inbox(&self) -> Value {
        self.json(&["inbox"])
    }

    /// The device id the profile logs in with.
    pub fn device_id(&self) -> String {
        let s = self.status();
        s["device_id"].as_str().unwrap_or_else(|| panic!("no device_id in status {s}")).to_string()
    }

    /// The profile's SQLite file (`PROFILE/jiuloop.db`), opened read-only.
    pub fn local_db(&self) -> rusqlite::Connection {
        let path = self.profile().join("jiuloop.db");
        let conn = rusqlite::Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap_or_else(|e| panic!("open {} read-only: {e}", path.display()));
        conn.busy_timeout(Duration::from_secs(10)).expect("busy timeout");
        conn
    }

    /// Every document the device's SQLite file holds anything of (rows of `docs` and of
    /// `chunks`), loaded from the stored bytes: what is on the disk, not what the API shows.
    pub fn stored_docs(&self) -> Vec<StoredDoc> {
        let db = self.local_db();
        let mut ids: Vec<Vec<u8>> = Vec::new();
        for sql in ["SELECT id FROM docs", "SELECT DISTINCT doc_id FROM chunks"] {
            let mut stmt = db.prepare(sql).expect("query the device's tables");
            let rows = stmt.query_map([], |r| r.get::<_, Vec<u8>>(0)).expect("rows");
            for id in rows {
                let id = id.expect("an id");
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
        }
        ids.into_iter()
            .map(|raw| {
                let id = uuid::Uuid::from_slice(&raw).unwrap_or_else(|_| panic!("bad doc id {raw:?}")).to_string();
                let mut doc = automerge::AutoCommit::new();
                let mut stmt = db.prepare("SELECT bytes FROM chunks WHERE doc_id = ?1 ORDER BY seq").expect("chunks");
                let rows = stmt.query_map([&raw], |r| r.get::<_, Vec<u8>>(0)).expect("chunk rows");
                for bytes in rows {
                    let _ = doc.load_incremental(&bytes.expect("chunk bytes"));
                }
                let text = |k: &str| protocol::schema::root_string(&doc, k);
                StoredDoc {
                    kind: text("doc_kind").unwrap_or_default(),
                    territory: text("territory"),
                    customer: text("customer"),
                    name: text("name"),
                    id,
                }
            })
            .collect()
    }

    /// `customer add --name NAME EXTRA…`, returns the new id.
    pub fn add_customer(&self, name: &str, extra: &[&str]) -> String {
        let mut args = vec!["customer", "add", "--name", name];
        args.extend_from_slice(extra);
        let id = self.ok(&args);
        assert!(uuid::Uuid::parse_str(&id).is_ok(), "customer add printed {id:?}, not an id");
        id
    }

    pub fn customer(&self, id: &str) -> Value {
        self.json(&["customer", "show", id])
    }

    pub fn order(&self, id: &str) -> Value {
        self.json(&["order", "show", id])
    }

    /// `customer list --json`, sorted by id.
    pub fn customers(&self) -> Value {
        sort_by_id(self.json(&["customer", "list"]))
    }

    /// `order list --json`, sorted by id.
    pub fn orders(&self) -> Value {
        sort_by_id(self.json(&["order", "list"]))
    }

    pub fn visits(&self, customer: &str) -> Value {
        sort_by_id(self.json(&["visit", "list", "--customer", customer]))
    }

    /// `list KIND --json` (the generic command), sorted by id.
    pub fn records(&self, kind: &str) -> Value {
        sort_by_id(self.json(&["list", kind]))
    }

    /// Every record of every kind the generic commands list (`kinds --json`), by kind,
    /// and the number of stored chunks: what "nothing changed" is checked against for
    /// the generic commands, kinds the typed commands do not know included.
    pub fn all_records(&self) -> Value {
        let kinds = self.json(&["kinds"]);
        let mut all = serde_json::Map::new();
        for k in kinds.as_array().unwrap_or_else(|| panic!("kinds --json is not a list: {kinds}")) {
            let name = k["name"].as_str().unwrap_or_else(|| panic!("a kind without a name: {k}"));
            all.insert(name.to_string(), self.records(name));
        }
        let chunks: i64 =
            self.local_db().query_row("SELECT COUNT(*) FROM chunks", [], |r| r.get(0)).expect("count chunks");
        all.insert("stored_chunks".into(), chunks.into());
        Value::Object(all)
    }

    /// Everything the device shows: customers, orders, and every customer's visits.
    pub fn snapshot(&self) -> Value {
        let customers = self.customers();
        let mut visits = serde_json::Map::new();
        for c in customers.as_array().into_iter().flatten() {
            let id = c["id"].as_str().expect("customer id");
            visits.insert(id.to_string(), self.visits(id));
        }
        serde_json::json!({ "customers": customers, "orders": self.orders(), "visits": visits })
    }
}

/// A document as found in a device's SQLite file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredDoc {
    pub id: String,
    /// `customer`, `visit`, `order` (empty if its first changes are missing).
    pub kind: String,
    pub territory: Option<String>,
    /// Visits and orders: their customer's id.
    pub customer: Option<String>,
    pub name: Option<String>,
}

/// A JSON array of records sorted by their `id` (list order is not part of the contract).
pub fn sort_by_id(v: Value) -> Value {
    match v {
        Value::Array(mut items) => {
            items.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
            Value::Array(items)
        }
        other => panic!("expected a JSON array, got {other}"),
    }
}

/// How long one CLI command may run before the test is failed as hung: 600 s (a debug
/// build syncing the figures tests' thousands of documents on a loaded 2-core machine
/// takes minutes), or `JIULOOP_TEST_CLI_TIMEOUT` seconds.
fn cli_timeout() -> Duration {
    let secs = std::env::var("JIULOOP_TEST_CLI_TIMEOUT").ok().and_then(|v| v.parse().ok()).unwrap_or(600);
    Duration::from_secs(secs)
}
