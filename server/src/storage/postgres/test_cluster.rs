//! A throw-away PostgreSQL cluster for tests: Debian's `initdb` and `pg_ctl` (package
//! `postgresql`) run as the `postgres` user when the tests run as root, in a temporary
//! directory, on a free loopback port, with `fsync` off. One cluster per test process
//! ([`TestCluster::shared`]); every test takes a database of its own
//! ([`TestCluster::fresh_database`]). A watcher process stops the cluster and removes its
//! directory when the test process is gone, however it ended.
//!
//! Not a mock: the tests talk to a real server over TCP.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

/// A running cluster.
pub struct TestCluster {
    dir: PathBuf,
    port: u16,
}

/// Where the PostgreSQL server binaries are: `JIULOOP_PG_BIN`, else the newest
/// `/usr/lib/postgresql/*/bin` holding `initdb`.
pub fn pg_bin() -> Result<PathBuf, String> {
    if let Ok(dir) = std::env::var("JIULOOP_PG_BIN") {
        return Ok(PathBuf::from(dir));
    }
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .map_err(|e| format!("PostgreSQL is not installed (/usr/lib/postgresql: {e}); apt-get install postgresql"))?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let version: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin).ok_or_else(|| "no initdb under /usr/lib/postgresql/*/bin".to_string())
}

fn is_root() -> bool {
    // The effective uid, from /proc (no fork, no libc binding).
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("Uid:")).map(|l| l.split_whitespace().nth(2) == Some("0")))
        .unwrap_or(false)
}

/// A command run as the `postgres` user when we are root (PostgreSQL refuses to run as
/// root), as ourselves otherwise.
fn as_postgres(program: &Path) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

fn run(mut c: Command, what: &str) -> Result<(), String> {
    let out = c.stdin(Stdio::null()).output().map_err(|e| format!("{what}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{what} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

fn free_port() -> Result<u16, String> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free port: {e}"))?;
    Ok(l.local_addr().map_err(|e| e.to_string())?.port())
}

impl TestCluster {
    /// The cluster of this test process, started on first use.
    pub fn shared() -> &'static TestCluster {
        static CLUSTER: OnceLock<TestCluster> = OnceLock::new();
        CLUSTER.get_or_init(|| TestCluster::start().unwrap_or_else(|e| panic!("cannot start PostgreSQL: {e}")))
    }

    /// `initdb` + `pg_ctl start` in a new temporary directory, without `fsync` (tests).
    pub fn start() -> Result<TestCluster, String> {
        Self::start_with(false)
    }

    /// [`Self::start`], with `fsync` on when `durable` (benchmarks comparing engines: every
    /// commit reaches the disk, as SQLite's `synchronous=FULL` does).
    pub fn start_with(durable: bool) -> Result<TestCluster, String> {
        let bin = pg_bin()?;
        let dir = std::env::temp_dir().join(format!("jiuloop-pg-{}-{}", std::process::id(), uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        if is_root() {
            run(
                {
                    let mut c = Command::new("chown");
                    c.args(["postgres:postgres"]).arg(&dir);
                    c
                },
                "chown the cluster directory",
            )?;
        }
        let data = dir.join("data");
        let mut initdb = as_postgres(&bin.join("initdb"));
        initdb.arg("-D").arg(&data).args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync", "--locale=C"]);
        run(initdb, "initdb")?;
        let mut last = String::new();
        for _ in 0..5 {
            let port = free_port()?;
            let opts = format!(
                "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync={} -c max_connections=200",
                dir.display(),
                if durable { "on" } else { "off" }
            );
            let mut start = as_postgres(&bin.join("pg_ctl"));
            start.arg("-D").arg(&data).arg("-o").arg(&opts).arg("-l").arg(dir.join("server.log")).args(["-w", "start"]);
            match run(start, "pg_ctl start") {
                Ok(()) => {
                    let cluster = TestCluster { dir, port };
                    cluster.watch_parent(&bin);
                    return Ok(cluster);
                }
                // Another process took the port between our check and the start: again.
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    /// Stop the cluster and remove its directory once this process has ended.
    fn watch_parent(&self, bin: &Path) {
        let script = format!(
            "while [ -d /proc/{pid} ]; do sleep 0.5; done; {pg_ctl} -D {data} -m immediate stop >/dev/null 2>&1; rm -rf {dir}",
            pid = std::process::id(),
            pg_ctl = bin.join("pg_ctl").display(),
            data = self.dir.join("data").display(),
            dir = self.dir.display(),
        );
        let mut c = as_postgres(Path::new("/bin/sh"));
        c.arg("-c").arg(script).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
        if let Err(e) = c.spawn() {
            eprintln!("cannot watch the PostgreSQL test cluster ({e}); stop it by hand: {}", self.dir.display());
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The URL of a database of this cluster.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// A new, empty database; returns its URL.
    pub fn fresh_database(&self) -> String {
        static N: AtomicU32 = AtomicU32::new(0);
        let name = format!("t{}_{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed));
        let mut admin = postgres::Client::connect(&self.url("postgres"), postgres::NoTls)
            .unwrap_or_else(|e| panic!("connect to the test cluster: {e}"));
        admin.batch_execute(&format!("CREATE DATABASE {name}")).unwrap_or_else(|e| panic!("create database: {e}"));
        self.url(&name)
    }

    /// The server's log so far (for a failing test's message).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
    }
}
