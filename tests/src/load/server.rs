//! A `jiuloop-server` process for load runs: any binary (release or debug), data in a
//! temporary directory, users added by parallel `user add` processes, SIGKILL and restart
//! on the same port, and its CPU and memory read from `/proc`.

use super::procfs;
use crate::tmp::TempDir;
use anyhow::{Context, Result, anyhow, bail};
use jiuloop_cli::http::{ServerUrl, post_json};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;
use uuid::Uuid;

const LISTENING: &str = "jiuloop-server listening on http://";
/// Password of every load user.
pub const PASSWORD: &str = "jiuloop-load-password";
/// `--max-connections` and `--max-connections-per-address` of the load server.
const LOAD_MAX_CONNECTIONS: &str = "100000";

pub struct ServerProc {
    bin: PathBuf,
    dir: TempDir,
    serve_args: Vec<String>,
    child: Option<Child>,
    addr: Option<SocketAddr>,
    starts: u32,
    /// CPU seconds of processes already killed (so phases spanning a restart add up).
    dead_cpu: f64,
    /// Extra environment of the `serve` process.
    env: Vec<(String, String)>,
}

/// CPU and memory of the server between two points.
#[derive(Clone, Copy, Debug)]
pub struct Mark {
    cpu: f64,
}

impl ServerProc {
    pub fn new(bin: &Path, serve_args: &[String]) -> Self {
        ServerProc {
            bin: bin.to_path_buf(),
            dir: TempDir::new("load-server"),
            serve_args: serve_args.to_vec(),
            child: None,
            addr: None,
            starts: 0,
            dead_cpu: 0.0,
            env: Vec::new(),
        }
    }

    /// Environment variables for the `serve` process (`KEY=VALUE`).
    pub fn set_env(&mut self, vars: &[String]) -> Result<()> {
        self.env = vars
            .iter()
            .map(|kv| kv.split_once('=').map(|(k, v)| (k.to_string(), v.to_string())))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| anyhow!("--server-env wants KEY=VALUE"))?;
        Ok(())
    }

    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr.expect("server started")
    }

    pub fn url(&self) -> ServerUrl {
        ServerUrl::parse(&format!("http://{}", self.addr())).expect("valid url")
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Change the `serve` arguments used by the next start (e.g. another `--cache-docs`).
    pub fn set_serve_args(&mut self, args: &[String]) {
        self.serve_args = args.to_vec();
    }

    /// Add users (`role rep`, one territory each) with up to `parallel` `user add`
    /// processes at a time (each hashes a password with Argon2).
    pub fn add_users(&self, users: &[(String, String)], parallel: usize) -> Result<()> {
        // The first one alone: it creates the database (concurrent migrations collide).
        let Some((first, rest)) = users.split_first() else { return Ok(()) };
        add_user(&self.bin, self.data_dir(), &self.env, first)?;
        let queue = Arc::new(std::sync::Mutex::new(rest.to_vec()));
        let mut workers = Vec::new();
        for _ in 0..parallel.max(1) {
            let queue = queue.clone();
            let (bin, dir, env) = (self.bin.clone(), self.data_dir().to_path_buf(), self.env.clone());
            workers.push(std::thread::spawn(move || -> Result<()> {
                loop {
                    let Some(user) = queue.lock().unwrap_or_else(|p| p.into_inner()).pop() else {
                        return Ok(());
                    };
                    add_user(&bin, &dir, &env, &user)?;
                }
            }));
        }
        for w in workers {
            w.join().map_err(|_| anyhow!("user add worker panicked"))??;
        }
        Ok(())
    }

    /// Start on a free port the first time, on the same port afterwards.
    pub fn start(&mut self) -> Result<()> {
        if self.child.is_some() {
            bail!("server already running");
        }
        let listen = self.addr.map_or_else(|| "127.0.0.1:0".to_string(), |a| a.to_string());
        let mut last = String::new();
        for attempt in 0..100u64 {
            match self.spawn_once(&listen) {
                Ok(addr) => {
                    self.addr = Some(addr);
                    return Ok(());
                }
                Err(e) => last = e.to_string(),
            }
            std::thread::sleep(Duration::from_millis(20 + 10 * attempt.min(10)));
        }
        bail!("server did not start on {listen}: {last}")
    }

    fn spawn_once(&mut self, listen: &str) -> Result<SocketAddr> {
        self.starts += 1;
        let log = std::fs::File::create(self.data_dir().join(format!("server-{}.log", self.starts)))?;
        let mut cmd = Command::new(&self.bin);
        cmd.arg("--data").arg(self.data_dir()).args(["serve", "--listen", listen]);
        // Every simulated device connects from 127.0.0.1: lift the per-address cap (and the
        // total) above what a run opens.
        cmd.args(["--max-connections", LOAD_MAX_CONNECTIONS, "--max-connections-per-address", LOAD_MAX_CONNECTIONS]);
        cmd.args(&self.serve_args);
        procfs::server_env_cleanup(&mut cmd);
        let mut child = cmd
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .with_context(|| format!("spawn {}", self.bin.display()))?;
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut first = String::new();
            let _ = reader.read_line(&mut first);
            let _ = tx.send(first);
            let _ = std::io::copy(&mut reader, &mut std::io::sink());
        });
        let line = rx.recv_timeout(Duration::from_secs(60)).unwrap_or_default();
        match line.trim().strip_prefix(LISTENING).and_then(|a| a.trim_end_matches('/').parse().ok()) {
            Some(addr) => {
                self.child = Some(child);
                Ok(addr)
            }
            None => {
                let _ = child.kill();
                let _ = child.wait();
                bail!("server printed {line:?}; log: {}", self.log_tail(10))
            }
        }
    }

    /// The last lines of the current server log (for error messages).
    pub fn log_tail(&self, n: usize) -> String {
        let text =
            std::fs::read_to_string(self.data_dir().join(format!("server-{}.log", self.starts))).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }

    /// Lines of every server log so far that contain `needle`.
    pub fn log_lines_with(&self, needle: &str) -> Vec<String> {
        (1..=self.starts)
            .flat_map(|n| {
                std::fs::read_to_string(self.data_dir().join(format!("server-{n}.log")))
                    .unwrap_or_default()
                    .lines()
                    .filter(|l| l.contains(needle))
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    /// Copy the server logs out of the temporary data directory (which is removed on
    /// exit) into `dir`; returns the directory.
    pub fn keep_logs(&self, dir: &Path) -> Result<PathBuf> {
        std::fs::create_dir_all(dir)?;
        for n in 1..=self.starts {
            let name = format!("server-{n}.log");
            let _ = std::fs::copy(self.data_dir().join(&name), dir.join(&name));
        }
        Ok(dir.to_path_buf())
    }

    /// SIGKILL: no shutdown code runs.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            self.dead_cpu += procfs::cpu_secs(child.id()).unwrap_or(0.0);
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGKILL and start again on the same port.
    pub fn restart(&mut self) -> Result<()> {
        self.kill9();
        self.start()
    }

    /// Start of a measured interval: resets the peak RSS.
    pub fn mark(&self) -> Mark {
        if let Some(pid) = self.pid() {
            procfs::reset_peak(pid);
        }
        Mark { cpu: self.cpu_total() }
    }

    fn cpu_total(&self) -> f64 {
        self.dead_cpu + self.pid().and_then(procfs::cpu_secs).unwrap_or(0.0)
    }

    /// CPU seconds since `mark`, and (current, peak since mark) RSS in MiB.
    pub fn since(&self, mark: Mark) -> (f64, f64, f64) {
        let (rss, hwm) = self.pid().and_then(procfs::rss_kib).unwrap_or((0, 0));
        (self.cpu_total() - mark.cpu, rss as f64 / 1024.0, hwm as f64 / 1024.0)
    }

    /// The server's RSS now and its peak since the last mark, MiB (0 when not running).
    pub fn rss_mb(&self) -> (f64, f64) {
        let (rss, hwm) = self.pid().and_then(procfs::rss_kib).unwrap_or((0, 0));
        (rss as f64 / 1024.0, hwm as f64 / 1024.0)
    }

    /// `GET /health` → the `documents` counter.
    pub fn health_documents(&self) -> Result<u64> {
        let r = crate::http::get(self.addr(), "/health")?;
        if r.status != 200 {
            bail!("/health answered {}", r.status);
        }
        r.json()["documents"].as_u64().ok_or_else(|| anyhow!("no documents in /health: {}", r.text()))
    }

    /// Counts of the server's SQLite tables (read-only; `None` if the schema differs).
    pub fn db_counts(&self) -> Option<(i64, i64)> {
        let conn = rusqlite::Connection::open_with_flags(
            self.data_dir().join("jiuloop.db"),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .ok()?;
        conn.busy_timeout(Duration::from_secs(10)).ok()?;
        let docs = conn.query_row("SELECT count(*) FROM docs", [], |r| r.get(0)).ok()?;
        let changes = conn.query_row("SELECT count(*) FROM changes", [], |r| r.get(0)).ok()?;
        Some((docs, changes))
    }
}

/// `jiuloop-server --data DIR user add NAME --role rep --territory T` (retried a few times
/// if the database is busy).
/// `env`: the serve process's environment (`JIULOOP_DATABASE_URL`: the same database).
fn add_user(bin: &Path, dir: &Path, env: &[(String, String)], (name, territory): &(String, String)) -> Result<()> {
    let mut last = String::new();
    for attempt in 0..5u64 {
        let mut cmd = Command::new(bin);
        procfs::server_env_cleanup(&mut cmd);
        let out = cmd
            .arg("--data")
            .arg(dir)
            .args(["user", "add", name, "--role", "rep", "--territory", territory])
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("JIULOOP_PASSWORD", PASSWORD)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .output()
            .with_context(|| format!("run {}", bin.display()))?;
        if out.status.success() {
            return Ok(());
        }
        last = String::from_utf8_lossy(&out.stderr).trim().to_string();
        std::thread::sleep(Duration::from_millis(50 * (attempt + 1)));
    }
    bail!("user add {name} failed: {last}")
}

impl Drop for ServerProc {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// What a login answered.
#[derive(Clone, Debug)]
pub struct Login {
    pub token: String,
    pub territory: Option<String>,
}

/// `POST /api/login` as a new device.
pub async fn login(url: &ServerUrl, user: &str, device_id: Uuid) -> Result<Login> {
    let body = serde_json::json!({
        "user": user, "password": PASSWORD,
        "device_id": device_id.to_string(), "device_name": format!("loadgen {user}"),
    });
    let mut last = String::new();
    for attempt in 0..5u64 {
        match post_json(url, "/api/login", None, &body).await {
            Ok(r) if r.status == 200 => {
                let v: serde_json::Value = serde_json::from_str(&r.body)?;
                let token = v["token"].as_str().ok_or_else(|| anyhow!("no token in {}", r.body))?.to_string();
                let territory = v["territory"].as_str().map(str::to_string);
                return Ok(Login { token, territory });
            }
            Ok(r) => last = format!("HTTP {}: {}", r.status, r.body),
            Err(e) => last = e.to_string(),
        }
        tokio::time::sleep(Duration::from_millis(100 * (attempt + 1))).await;
    }
    bail!("login of {user} failed: {last}")
}
