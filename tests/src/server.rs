//! A real `jiuloop-server` process in a temporary data directory.

use crate::PASSWORD;
use crate::bins::bins;
use crate::http::{self, HttpResponse};
use crate::process::run_with_timeout;
use crate::tmp::TempDir;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

const LISTENING: &str = "jiuloop-server listening on ";

/// Row counts of the server's storage: what "nothing stored" is checked against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoreCounts {
    pub docs: i64,
    pub changes: i64,
}

/// A document's facts as the server's `docs` row holds them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocFactsRow {
    pub territory: Option<String>,
    pub parent: Option<protocol::DocId>,
    pub author: Option<String>,
}

pub struct TestServer {
    dir: TempDir,
    args: Vec<String>,
    child: Option<Child>,
    addr: Option<SocketAddr>,
    starts: u32,
    /// A shared PostgreSQL database (`JIULOOP_DATABASE_URL`) instead of the SQLite file.
    database: Option<String>,
    /// `https` when the server terminates TLS (`--tls-cert`), else `http`.
    scheme: String,
}

impl Default for TestServer {
    fn default() -> Self {
        Self::new()
    }
}

impl TestServer {
    /// A server that is not running yet, with an empty data directory.
    pub fn new() -> Self {
        Self::with_args(&[])
    }

    /// Extra `serve` arguments, e.g. `["--token-ttl-secs", "1"]`.
    pub fn with_args(args: &[&str]) -> Self {
        TestServer {
            dir: TempDir::new("server"),
            args: args.iter().map(|s| s.to_string()).collect(),
            child: None,
            addr: None,
            starts: 0,
            database: None,
            scheme: "http".to_string(),
        }
    }

    /// A node on the shared PostgreSQL database `url` (its own data directory for logs).
    pub fn on_database(url: &str) -> Self {
        let mut s = Self::new();
        s.database = Some(url.to_string());
        s
    }

    /// The territory of the reps `started` creates: they all work on the same customers.
    pub const TERRITORY: &'static str = "贵州";

    /// Users (all role `rep` in [`Self::TERRITORY`]) added, then started.
    pub fn started(users: &[&str]) -> Self {
        Self::started_with(&[], users)
    }

    pub fn started_with(args: &[&str], users: &[&str]) -> Self {
        let mut s = Self::with_args(args);
        for u in users {
            s.add_user(u, "rep", Some(Self::TERRITORY));
        }
        s.start();
        s
    }

    /// The shared database this node uses, if any.
    pub fn database_url(&self) -> Option<&str> {
        self.database.as_deref()
    }

    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    fn admin(&self, args: &[&str]) -> std::process::Output {
        let mut cmd = Command::new(&bins().server);
        cmd.arg("--data").arg(self.data_dir()).args(args);
        cmd.env("JIULOOP_PASSWORD", PASSWORD);
        match &self.database {
            Some(url) => cmd.env("JIULOOP_DATABASE_URL", url),
            None => cmd.env_remove("JIULOOP_DATABASE_URL"),
        };
        let what = format!("jiuloop-server {}", args.join(" "));
        run_with_timeout(cmd, Duration::from_secs(60), &what)
    }

    /// `jiuloop-server --data DIR user add NAME --role ROLE [--territory T]`.
    pub fn add_user(&self, name: &str, role: &str, territory: Option<&str>) {
        self.add_user_with(name, role, territory, None);
    }

    /// `user add NAME --role ROLE [--territory T] [--manager M]` (the manager must exist).
    pub fn add_user_with(&self, name: &str, role: &str, territory: Option<&str>, manager: Option<&str>) {
        let mut args = vec!["user", "add", name, "--role", role];
        if let Some(t) = territory {
            args.extend(["--territory", t]);
        }
        if let Some(m) = manager {
            args.extend(["--manager", m]);
        }
        let out = self.admin(&args);
        assert!(
            out.status.success(),
            "user add {name} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Start the server: on a free port the first time, on the same port afterwards.
    pub fn start(&mut self) {
        assert!(self.child.is_none(), "server already running");
        let listen = self.addr.map_or_else(|| "127.0.0.1:0".to_string(), |a| a.to_string());
        let mut last_err = String::new();
        for attempt in 0..40 {
            match self.spawn_once(&listen) {
                Ok(addr) => {
                    self.addr = Some(addr);
                    return;
                }
                Err(e) => last_err = e,
            }
            thread::sleep(Duration::from_millis(50 + 25 * attempt));
        }
        panic!("server did not start on {listen}: {last_err}");
    }

    fn spawn_once(&mut self, listen: &str) -> Result<SocketAddr, String> {
        self.starts += 1;
        let log_path = self.log_path(self.starts);
        let log = std::fs::File::create(&log_path).map_err(|e| e.to_string())?;
        let mut cmd = Command::new(&bins().server);
        match &self.database {
            Some(url) => cmd.env("JIULOOP_DATABASE_URL", url),
            None => cmd.env_remove("JIULOOP_DATABASE_URL"),
        };
        let mut child = cmd
            .arg("--data")
            .arg(self.data_dir())
            .args(["serve", "--listen", listen])
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .map_err(|e| format!("spawn: {e}"))?;
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut first = String::new();
            let _ = reader.read_line(&mut first);
            let _ = tx.send(first);
            // Keep draining so the server never blocks on a full pipe.
            let _ = std::io::copy(&mut reader, &mut std::io::sink());
        });
        let fail = |child: &mut Child, why: String| {
            let _ = child.kill();
            let _ = child.wait();
            let log = std::fs::read_to_string(&log_path).unwrap_or_default();
            Err(format!("{why}; server log:\n{log}"))
        };
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(line) => match line.trim().strip_prefix(LISTENING).and_then(|url| url.split_once("://")) {
                Some((scheme, addr)) => match addr.trim_end_matches('/').parse() {
                    Ok(addr) => {
                        self.scheme = scheme.to_string();
                        self.child = Some(child);
                        Ok(addr)
                    }
                    Err(e) => fail(&mut child, format!("bad address in {line:?}: {e}")),
                },
                None => fail(&mut child, format!("unexpected first stdout line {line:?}")),
            },
            Err(_) => fail(&mut child, "no 'listening' line within 60 s".into()),
        }
    }

    fn log_path(&self, n: u32) -> PathBuf {
        self.data_dir().join(format!("server-{n}.log"))
    }

    /// Everything the server processes wrote to stderr so far (for failure messages).
    pub fn log(&self) -> String {
        (1..=self.starts)
            .map(|n| std::fs::read_to_string(self.log_path(n)).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n--- restart ---\n")
    }

    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }

    /// SIGKILL: no shutdown code runs.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM, and wait (up to 30 s) until the server has shut down gracefully.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
            let deadline = std::time::Instant::now() + Duration::from_secs(30);
            while child.try_wait().ok().flatten().is_none() {
                if std::time::Instant::now() > deadline {
                    let _ = child.kill();
                    break;
                }
                thread::sleep(Duration::from_millis(20));
            }
            let _ = child.wait();
        }
    }

    /// Kill (if running) and start again on the same port, so devices' stored server URL
    /// stays valid.
    pub fn restart(&mut self) {
        self.kill9();
        self.start();
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr.expect("server was started")
    }

    /// `http://127.0.0.1:PORT` (`https://` with `--tls-cert`), the URL devices log in to.
    pub fn url(&self) -> String {
        format!("{}://{}", self.scheme, self.addr())
    }

    /// The server's SQLite file, opened read-only.
    pub fn db(&self) -> rusqlite::Connection {
        let path = self.data_dir().join("jiuloop.db");
        let conn = rusqlite::Connection::open_with_flags(
            &path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .unwrap_or_else(|e| panic!("open {} read-only: {e}", path.display()));
        conn.busy_timeout(Duration::from_secs(10)).expect("busy timeout");
        conn
    }

    pub fn counts(&self) -> StoreCounts {
        let db = self.db();
        let count = |table: &str| -> i64 {
            db.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
                .unwrap_or_else(|e| panic!("count rows of {table}: {e}"))
        };
        StoreCounts { docs: count("docs"), changes: count("changes") }
    }

    /// The server process's id (for `/proc`), while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// A document as the server stores it (snapshot and every chunk), `None` if it holds
    /// none with that id.
    pub fn doc_chunk(&self, id: protocol::DocId) -> Option<protocol::wire::DocChunk> {
        use rusqlite::OptionalExtension;
        let db = self.db();
        let key = id.as_bytes().as_slice();
        let row: Option<(i64, Option<Vec<u8>>)> = db
            .query_row("SELECT kind, snapshot FROM docs WHERE id = ?1", [key], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()
            .unwrap_or_else(|e| panic!("read the docs row of {id}: {e}"));
        let (kind, snapshot) = row?;
        let mut changes = snapshot.unwrap_or_default();
        let mut stmt = db.prepare("SELECT bytes FROM changes WHERE doc_id = ?1 ORDER BY seq").expect("changes");
        for bytes in stmt.query_map([key], |r| r.get::<_, Vec<u8>>(0)).expect("chunk rows") {
            changes.extend(bytes.expect("chunk bytes"));
        }
        let kind = protocol::DocKind::from_code(kind).unwrap_or_else(|| panic!("{id}: unknown kind code {kind}"));
        Some(protocol::wire::DocChunk { id, kind, heads: Vec::new(), changes })
    }

    /// What the server recorded about a document (its `docs` row), `None` if it holds none.
    pub fn doc_facts(&self, id: protocol::DocId) -> Option<DocFactsRow> {
        use rusqlite::OptionalExtension;
        self.db()
            .query_row("SELECT territory, parent, author FROM docs WHERE id = ?1", [id.as_bytes().as_slice()], |r| {
                let parent: Option<Vec<u8>> = r.get(1)?;
                Ok(DocFactsRow {
                    territory: r.get(0)?,
                    parent: parent.and_then(|p| protocol::DocId::from_slice(&p)),
                    author: r.get(2)?,
                })
            })
            .optional()
            .unwrap_or_else(|e| panic!("read the docs row of {id}: {e}"))
    }

    /// The refusals the audit trail holds for `user`, oldest first: (rule, document).
    pub fn audited_refusals(&self, user: &str) -> Vec<(String, protocol::DocId)> {
        let db = self.db();
        let mut stmt = db
            .prepare("SELECT coalesce(rule, ''), doc_id FROM audit WHERE refused = 1 AND user = ?1 ORDER BY id")
            .expect("audit query");
        stmt.query_map([user], |r| Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?)))
            .expect("audit rows")
            .map(|row| {
                let (rule, doc) = row.expect("an audit row");
                (rule, protocol::DocId::from_slice(&doc).expect("a document id"))
            })
            .collect()
    }

    pub fn health(&self) -> HttpResponse {
        http::get(self.addr(), "/health").expect("GET /health")
    }

    /// `POST /api/login` as `device_id`.
    pub fn login(&self, user: &str, password: &str, device_id: uuid::Uuid) -> HttpResponse {
        let body = serde_json::json!({
            "user": user,
            "password": password,
            "device_id": device_id.to_string(),
            "device_name": format!("raw test client {user}"),
        });
        http::post_json(self.addr(), "/api/login", &body).expect("POST /api/login")
    }

    /// A token for `user` on `device_id` (asserts the login succeeds).
    pub fn token(&self, user: &str, device_id: uuid::Uuid) -> String {
        let r = self.login(user, PASSWORD, device_id);
        assert_eq!(r.status, 200, "login of {user} failed: {}", r.text());
        r.json()["token"].as_str().unwrap_or_else(|| panic!("no token in {}", r.text())).to_string()
    }
}

impl TestServer {
    /// `jiuloop-server --data DIR ARGS…` from a second process (the server may be running);
    /// asserts success, returns trimmed stdout.
    pub fn admin_ok(&self, args: &[&str]) -> String {
        let out = self.admin(args);
        assert!(
            out.status.success(),
            "jiuloop-server {} failed ({}):\nstdout: {}\nstderr: {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Like [`Self::admin_ok`] but asserts failure; returns stderr.
    pub fn admin_fail(&self, args: &[&str]) -> String {
        let out = self.admin(args);
        assert!(
            !out.status.success(),
            "jiuloop-server {} should have failed; stdout: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8_lossy(&out.stderr).trim().to_string()
    }

    /// `customer reassign ID --territory T [--owner NAME]`.
    pub fn reassign(&self, id: &str, territory: &str, owner: Option<&str>) -> String {
        let mut args = vec!["customer", "reassign", id, "--territory", territory];
        if let Some(o) = owner {
            args.extend(["--owner", o]);
        }
        self.admin_ok(&args)
    }

    /// `audit ARGS… --json`, parsed.
    pub fn audit_json(&self, args: &[&str]) -> serde_json::Value {
        let mut a = vec!["audit"];
        a.extend_from_slice(args);
        a.push("--json");
        let out = self.admin_ok(&a);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("audit --json printed no JSON ({e}): {out}"))
    }

    /// `POST /api/logout` with the token: revokes it.
    pub fn logout(&self, token: &str) -> HttpResponse {
        let auth = format!("Bearer {token}");
        http::request(self.addr(), "POST", "/api/logout", &[("Authorization", &auth)], Some(b""))
            .expect("POST /api/logout")
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if std::thread::panicking() && self.starts > 0 {
            let log = self.log();
            let tail: String =
                log.lines().rev().take(40).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("\n");
            eprintln!("--- last server log lines ---\n{tail}");
        }
        self.kill9();
    }
}
