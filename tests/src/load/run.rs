//! The load generator's phases (issue 6), run against one server process.

use super::args::{LoadArgs, Phase, Sizes};
use super::device::{Cmd, Device, LiveCtx, LiveHandle, Prepared, live};
use super::metrics::{Buckets, Errors, PhaseReport, Traffic, TrafficSnapshot, latency_ms, round3};
use super::procfs;
use super::records;
use super::server::{Login, Mark, ServerProc};
use super::tracker::Tracker;
use crate::Rng;
use crate::tmp::TempDir;
use anyhow::{Context, Result, anyhow};
use client_core::{StoredDoc, SyncStats};
use jiuloop_cli::http::ServerUrl;
use protocol::{DocId, DocKind};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

/// What a rep created in the upload phase.
#[derive(Clone, Default)]
pub struct RepDocs {
    pub customers: Vec<DocId>,
    pub orders: Vec<DocId>,
}

/// The connected devices of the fan-out and restart phases.
struct LiveSet {
    ctx: Arc<LiveCtx>,
    handles: Vec<LiveHandle>,
    /// Device index → (territory, its fan-out documents).
    territory_of: Vec<String>,
    docs_of: HashMap<String, Vec<DocId>>,
}

/// Start of a measured interval.
pub struct Measure {
    t0: Instant,
    /// One per node.
    marks: Vec<Mark>,
    self_cpu: f64,
    traffic: TrafficSnapshot,
}

pub struct Run {
    /// The first node: admin work, restarts and the `rest` phase go to it.
    pub server: ServerProc,
    /// Further nodes on the same shared database (`--nodes`).
    pub others: Vec<ServerProc>,
    pub sizes: Sizes,
    seed: u64,
    login_parallel: usize,
    url: ServerUrl,
    reps: Vec<Device>,
    rep_docs: Vec<RepDocs>,
    cold: Option<(TempDir, Device)>,
    live: Option<LiveSet>,
    next_token: u64,
    /// Errors of all phases so far.
    pub total_errors: u64,
    /// Phases to record with `perf record -g -p SERVER_PID`.
    pub perf_phases: Vec<String>,
    perf: Option<std::process::Child>,
}

pub fn territory_of(rep: usize, per_territory: usize) -> String {
    format!("T{:03}", rep / per_territory)
}

pub fn rep_name(rep: usize) -> String {
    format!("rep{rep:04}")
}

/// The server binary: `--server-bin`, or the one cargo builds next to this executable.
pub fn server_bin(arg: &Option<PathBuf>) -> PathBuf {
    match arg {
        Some(p) => p.clone(),
        None => crate::bins().server.clone(),
    }
}

/// Warn when the open-file limit is too low for the connections asked for.
pub fn check_fd_limit(connections: usize) {
    let soft = std::fs::read_to_string("/proc/self/limits").ok().and_then(|l| {
        l.lines().find(|l| l.starts_with("Max open files"))?.split_whitespace().nth(3)?.parse::<usize>().ok()
    });
    if let Some(soft) = soft
        && soft < connections + 256
    {
        eprintln!("loadgen: warning: open-file limit {soft} is low for {connections} connections (ulimit -n)");
    }
}

impl Run {
    /// Create the users, start the server and log in one device per rep.
    pub async fn setup(
        bin: &Path,
        sizes: Sizes,
        seed: u64,
        login_parallel: usize,
        perf: &[String],
        server_env: &[String],
        nodes: usize,
    ) -> Result<Self> {
        let t0 = Instant::now();
        let serve_args = vec!["--cache-docs".to_string(), sizes.cache_docs.to_string()];
        let mut server = ServerProc::new(bin, &serve_args);
        server.set_env(server_env)?;
        let mut others = Vec::new();
        for _ in 1..nodes.max(1) {
            let mut node = ServerProc::new(bin, &serve_args);
            node.set_env(server_env)?;
            others.push(node);
        }
        let users: Vec<(String, String)> =
            (0..sizes.reps).map(|i| (rep_name(i), territory_of(i, sizes.reps_per_territory))).collect();
        let users_for_add = users.clone();
        let server_ref = &server;
        tokio::task::block_in_place(|| server_ref.add_users(&users_for_add, 2))?;
        let users_s = t0.elapsed().as_secs_f64();
        tokio::task::block_in_place(|| server.start())?;
        for node in &mut others {
            tokio::task::block_in_place(|| node.start())?;
        }
        let url = server.url();
        let mut run = Run {
            server,
            others,
            sizes,
            seed,
            login_parallel,
            url,
            reps: Vec::new(),
            rep_docs: Vec::new(),
            cold: None,
            live: None,
            next_token: 0,
            total_errors: 0,
            perf_phases: perf.to_vec(),
            perf: None,
        };
        let m = run.begin("setup", &Traffic::default());
        let t_login = Instant::now();
        let who: Vec<(String, String)> = users;
        let logins = run.logins(who.iter().map(|(u, _)| u.clone()).collect()).await?;
        for (i, ((user, territory), (device_id, login))) in who.iter().zip(logins).enumerate() {
            let mut d = Device::mem(user, territory, device_id, login, Vec::new(), 0)?;
            d.idx = i;
            run.reps.push(d);
        }
        let mut r = run.finish("setup", m, &Traffic::default(), run.reps.len(), &Errors::default());
        r.set("users", run.sizes.reps)
            .set("territories", run.sizes.reps.div_ceil(run.sizes.reps_per_territory))
            .set("user_add_s", round3(users_s))
            .set("login_s", round3(t_login.elapsed().as_secs_f64()))
            .set("server", run.server.url().authority())
            .set("nodes", 1 + run.others.len())
            .set("cache_docs", run.sizes.cache_docs);
        r.print();
        Ok(run)
    }

    /// Log in one new device per user name (at most `login_parallel` at a time).
    async fn logins(&self, users: Vec<String>) -> Result<Vec<(uuid::Uuid, Login)>> {
        let sem = Arc::new(tokio::sync::Semaphore::new(self.login_parallel.max(1)));
        let mut tasks = Vec::new();
        for user in users {
            let (sem, url) = (sem.clone(), self.url.clone());
            tasks.push(tokio::spawn(async move {
                let _permit = sem.acquire().await.map_err(|e| anyhow!("{e}"))?;
                let device_id = uuid::Uuid::new_v4();
                super::server::login(&url, &user, device_id).await.map(|l| (device_id, l))
            }));
        }
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.context("login task")??);
        }
        Ok(out)
    }

    pub fn begin(&mut self, phase: &str, traffic: &Traffic) -> Measure {
        self.perf_stop();
        if self.perf_phases.iter().any(|p| p == phase)
            && let Some(pid) = self.server.pid()
        {
            let out = std::env::temp_dir().join(format!("jiuloop-perf-{phase}.data"));
            match std::process::Command::new("perf")
                .args(["record", "-F", "199", "--call-graph", "dwarf,65528", "-p", &pid.to_string(), "-o"])
                .arg(&out)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
            {
                Ok(child) => {
                    eprintln!("loadgen: perf recording the server during {phase} into {}", out.display());
                    self.perf = Some(child);
                    std::thread::sleep(Duration::from_millis(300));
                }
                Err(e) => eprintln!("loadgen: cannot run perf: {e}"),
            }
        }
        Measure {
            t0: Instant::now(),
            marks: self.nodes().map(ServerProc::mark).collect(),
            self_cpu: procfs::self_cpu_secs(),
            traffic: traffic.snapshot(),
        }
    }

    /// Stop a running `perf record` (SIGINT, so that it writes its file).
    fn perf_stop(&mut self) {
        if let Some(mut child) = self.perf.take() {
            let _ = std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status();
            let _ = child.wait();
        }
    }

    pub fn finish(
        &mut self,
        phase: &str,
        m: Measure,
        traffic: &Traffic,
        devices: usize,
        errors: &Errors,
    ) -> PhaseReport {
        let mut r = PhaseReport::new(phase);
        r.wall_s = round3(m.t0.elapsed().as_secs_f64());
        // Summed over the nodes (each a process of its own).
        let (mut cpu, mut rss, mut peak) = (0.0, 0.0, 0.0);
        for (node, mark) in self.nodes().zip(&m.marks) {
            let (c, r, p) = node.since(*mark);
            (cpu, rss, peak) = (cpu + c, rss + r, peak + p);
        }
        self.perf_stop();
        r.server_cpu_s = round3(cpu);
        r.server_rss_mb = round3(rss);
        r.server_peak_rss_mb = round3(peak);
        r.loadgen_cpu_s = round3(procfs::self_cpu_secs() - m.self_cpu);
        r.devices = devices;
        r.set_traffic(traffic.snapshot().minus(&m.traffic));
        let (n, samples) = errors.take();
        r.errors = n;
        r.error_samples = samples;
        r
    }

    pub fn emit(&mut self, r: &PhaseReport) {
        self.total_errors += r.errors;
        r.print();
    }

    /// Every node, the first one first.
    fn nodes(&self) -> impl Iterator<Item = &ServerProc> {
        std::iter::once(&self.server).chain(&self.others)
    }

    /// Every node's address: device `i` syncs through `addrs[i % len]`.
    fn addrs(&self) -> Vec<std::net::SocketAddr> {
        self.nodes().map(ServerProc::addr).collect()
    }

    fn territory_count(&self, territory: &str, devices: &[Device]) -> u32 {
        devices.iter().filter(|d| d.territory == territory).count() as u32
    }

    // ---- phases ---------------------------------------------------------------------

    pub async fn run_phases(&mut self, phases: &[Phase]) -> Result<()> {
        let wants = |p: Phase| phases.contains(&p);
        let needs_upload = phases.iter().any(|p| *p != Phase::Rest);
        if needs_upload {
            self.upload().await?;
        }
        if wants(Phase::Cold) {
            self.cold().await?;
        }
        if wants(Phase::Catchup) || wants(Phase::Noop) {
            self.settle().await?;
        }
        if wants(Phase::Catchup) {
            self.catchup().await?;
        }
        if wants(Phase::Noop) {
            self.noop().await?;
        }
        if wants(Phase::Fanout) || wants(Phase::Restart) {
            self.start_live().await?;
        }
        if wants(Phase::Fanout) {
            self.fanout().await?;
        }
        if wants(Phase::Restart) {
            self.restart().await?;
        }
        self.stop_live().await?;
        if wants(Phase::Rest) {
            self.rest().await?;
        }
        Ok(())
    }

    /// Sync every device once, all at once. Returns each device's stats (None on error).
    async fn sync_all(
        &mut self,
        devs: &mut Vec<Device>,
        traffic: &Arc<Traffic>,
        errors: &Errors,
    ) -> Vec<Option<SyncStats>> {
        let addrs = self.addrs();
        let tasks: Vec<_> = std::mem::take(devs)
            .into_iter()
            .map(|mut d| {
                let t = traffic.clone();
                let addr = addrs[d.idx % addrs.len()];
                tokio::spawn(async move {
                    let r = d.sync_once(addr, &t).await;
                    (d, r)
                })
            })
            .collect();
        let mut stats = Vec::new();
        for t in tasks {
            match t.await {
                Ok((d, r)) => {
                    match r {
                        Ok(s) => stats.push(Some(s)),
                        Err(e) => {
                            errors.push(format!("{} ({}): {e:#}", d.user, d.device_id));
                            stats.push(None);
                        }
                    }
                    devs.push(d);
                }
                Err(e) => errors.push(format!("sync task: {e}")),
            }
        }
        stats
    }

    async fn upload(&mut self) -> Result<()> {
        let (d, per) = (self.sizes.docs, self.sizes.reps_per_territory);
        let t_create = Instant::now();
        let now = jiuloop_cli::now_ms();
        for (i, dev) in self.reps.iter_mut().enumerate() {
            let mut rng = Rng::new(self.seed.wrapping_mul(1_000_003).wrapping_add(i as u64));
            let territory = territory_of(i, per);
            let (customers, orders) = records::create_portfolio(dev.replica(), &mut rng, &territory, d, now)?;
            dev.persist()?;
            self.rep_docs.push(RepDocs { customers, orders });
        }
        let create_s = t_create.elapsed().as_secs_f64();
        let before = self.server.health_documents()?;
        let traffic = Arc::new(Traffic::default());
        let errors = Errors::default();
        let want = (self.sizes.reps * d) as u64;
        let m = self.begin("upload", &traffic);
        let poll = poll_documents(self.server.addr(), before + want);
        let mut reps = std::mem::take(&mut self.reps);
        self.sync_all(&mut reps, &traffic, &errors).await;
        self.reps = reps;
        let mut r = self.finish("upload", m, &traffic, self.reps.len(), &errors);
        // (With several nodes the first one counts the others' documents at its next
        // heartbeat: wait for the poll.)
        r.set("server_stored_all_s", poll.join().ok().flatten().map(round3));
        let stored = self.server.health_documents()? - before;
        if stored != want {
            r.errors += 1;
            r.error_samples.push(format!("server stores {stored} new documents, {want} were uploaded"));
        }
        r.set("docs", want).set("docs_stored", stored).set("client_create_s", round3(create_s));
        if let Some((docs, changes)) = self.server.db_counts() {
            r.set("db_docs", docs).set("db_change_rows", changes);
        }
        self.emit(&r);
        Ok(())
    }

    async fn cold(&mut self) -> Result<()> {
        let dir = TempDir::new("cold-device");
        let user = self.reps[0].user.clone();
        let mut dev = Device::login_sqlite(dir.path(), &self.url, &user).await?;
        let traffic = Traffic::default();
        let errors = Errors::default();
        let m = self.begin("cold", &traffic);
        let result = dev.sync_once(self.server.addr(), &traffic).await;
        if let Err(e) = &result {
            errors.push(format!("cold download: {e:#}"));
        }
        let mut r = self.finish("cold", m, &traffic, 1, &errors);
        let held = dev.replica().held_count();
        let own = self.sizes.docs;
        let territory = self.territory_count(&self.reps[0].territory, &self.reps) as usize * own;
        if held < own {
            r.errors += 1;
            r.error_samples.push(format!("the new device holds {held} documents, the rep created {own}"));
        }
        r.set("store", "sqlite (jiuloop_cli::sync)")
            .set("docs_held", held)
            .set("docs_of_rep", own)
            .set("docs_of_territory", territory)
            .set("docs_on_server", self.server.health_documents()?);
        self.emit(&r);
        dev.idx = self.reps.len();
        self.cold = Some((dir, dev));
        Ok(())
    }

    /// Every rep device syncs once more, so that each holds what the others uploaded
    /// after its own sync (what it may read), before the reconnect phases.
    async fn settle(&mut self) -> Result<()> {
        let traffic = Arc::new(Traffic::default());
        let errors = Errors::default();
        let m = self.begin("settle", &traffic);
        let mut reps = std::mem::take(&mut self.reps);
        self.sync_all(&mut reps, &traffic, &errors).await;
        self.reps = reps;
        let mut r = self.finish("settle", m, &traffic, self.reps.len(), &errors);
        let held: usize = self.reps.iter().map(|d| d.replica_ref().doc_count()).sum();
        r.set("note", "not an issue-6 phase: every rep syncs once so that the reconnect phases start in sync")
            .set("docs_held_per_device", held / self.reps.len().max(1));
        self.emit(&r);
        Ok(())
    }

    async fn catchup(&mut self) -> Result<()> {
        let k = self.sizes.edits;
        let mut devs = std::mem::take(&mut self.reps);
        let cold = self.cold.take();
        let (cold_dir, cold_dev) = match cold {
            Some((dir, d)) => (Some(dir), Some(d)),
            None => (None, None),
        };
        devs.extend(cold_dev);
        for (i, d) in devs.iter_mut().enumerate() {
            d.idx = i;
        }
        let mut tracker = Tracker::default();
        let t0 = Instant::now();
        let mut edits = 0;
        for i in 0..self.sizes.reps {
            let mut rng = Rng::new(self.seed ^ (0xC0FFEE + i as u64));
            let docs = &self.rep_docs[i];
            let targets: Vec<(DocId, DocKind)> = docs
                .customers
                .iter()
                .map(|c| (*c, DocKind::Customer))
                .zip(docs.orders.iter().map(|o| (*o, DocKind::Order)))
                .flat_map(|(a, b)| [a, b])
                .take(k)
                .collect();
            let territory = devs[i].territory.clone();
            let receivers = self.territory_count(&territory, &devs) - 1;
            for (doc, kind) in targets {
                self.next_token += 1;
                let token = super::device::make_token("c", self.next_token);
                devs[i].edit(doc, kind, &token, &mut rng)?;
                tracker.expect(&token, doc, &territory, receivers, None);
                edits += 1;
            }
            devs[i].persist()?;
        }
        let edit_s = t0.elapsed().as_secs_f64();
        // Each device watches the documents of its territory's reps.
        let mut watch_of: HashMap<String, Vec<(DocId, DocKind)>> = HashMap::new();
        for (i, docs) in self.rep_docs.iter().enumerate() {
            let w = watch_of.entry(territory_of(i, self.sizes.reps_per_territory)).or_default();
            w.extend(docs.customers.iter().map(|c| (*c, DocKind::Customer)));
            w.extend(docs.orders.iter().map(|o| (*o, DocKind::Order)));
        }
        let prepared: Vec<Prepared> = devs
            .into_iter()
            .map(|d| {
                let watch = watch_of.get(&d.territory).cloned().unwrap_or_default();
                Prepared::new(d, &watch)
            })
            .collect();
        let ctx = Arc::new(LiveCtx::new(self.addrs(), prepared.len(), tracker));
        let m = self.begin("catchup", &ctx.traffic);
        // Reconnect time is the start of every edit's clock.
        let started = Instant::now();
        ctx.tracker().set_all_t0(started);
        let handles: Vec<LiveHandle> = prepared.into_iter().map(|d| live(d, ctx.clone())).collect();
        let done = wait_until(Duration::from_secs(300), || ctx.tracker().outstanding() == 0 && ctx.all_in_sync()).await;
        let mut r = self.finish("catchup", m, &ctx.traffic, handles.len(), &ctx.errors);
        if !done {
            r.errors += 1;
            // One lock at a time: a guard held to the end of a statement deadlocks a second.
            let (outstanding, sample) = {
                let t = ctx.tracker();
                (t.outstanding(), t.missing_sample(3))
            };
            r.error_samples.push(format!(
                "not in sync after 300 s: {outstanding} deliveries outstanding, {} devices not in sync; e.g. {sample:?}",
                ctx.status.len() - ctx.count_status(super::device::IN_SYNC),
            ));
        }
        let mut lat = ctx.tracker().take_latencies();
        r.set("edits", edits)
            .set("edits_per_rep", k)
            .set("client_edit_s", round3(edit_s))
            .set("deliveries", lat.len())
            .set("arrival_after_reconnect_ms", latency_ms(&mut lat))
            .set("doc_chunks_unwatched", ctx.unwatched.load(Relaxed));
        // Let relays still in flight land before the devices go offline.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let mut devs = stop_all(handles).await;
        self.emit(&r);
        let cold_dev = (devs.len() > self.sizes.reps).then(|| devs.pop()).flatten();
        self.reps = devs;
        if let (Some(dir), Some(d)) = (cold_dir, cold_dev) {
            self.cold = Some((dir, d));
        }
        Ok(())
    }

    async fn noop(&mut self) -> Result<()> {
        let traffic = Arc::new(Traffic::default());
        let errors = Errors::default();
        let mut devs = std::mem::take(&mut self.reps);
        let cold = self.cold.take();
        let (cold_dir, cold_dev) = match cold {
            Some((dir, d)) => (Some(dir), Some(d)),
            None => (None, None),
        };
        devs.extend(cold_dev);
        let docs_held: usize = devs.iter().map(|d| d.replica_ref().doc_count()).sum();
        let m = self.begin("noop", &traffic);
        let stats = self.sync_all(&mut devs, &traffic, &errors).await;
        let mut r = self.finish("noop", m, &traffic, devs.len(), &errors);
        let not_one_rtt: Vec<String> = stats
            .iter()
            .zip(&devs)
            .filter_map(|(s, d)| {
                let s = s.as_ref()?;
                (s.frames_sent != 1 || s.frames_received != 1)
                    .then(|| format!("{}: {} frames up, {} down", d.user, s.frames_sent, s.frames_received))
            })
            .collect();
        if !not_one_rtt.is_empty() {
            r.errors += not_one_rtt.len() as u64;
            r.error_samples.extend(not_one_rtt.into_iter().take(4).map(|s| format!("not one round trip: {s}")));
        }
        r.set("docs_held_total", docs_held).set("docs_held_per_device", docs_held / devs.len().max(1));
        self.emit(&r);
        let cold_dev = (devs.len() > self.sizes.reps).then(|| devs.pop()).flatten();
        self.reps = devs;
        if let (Some(dir), Some(d)) = (cold_dir, cold_dev) {
            self.cold = Some((dir, d));
        }
        Ok(())
    }

    /// Log in C devices (as the reps, round robin), give each the fan-out documents of
    /// its territory as its rep's device holds them, and connect them all.
    async fn start_live(&mut self) -> Result<()> {
        let c = self.sizes.connected;
        let f = self.sizes.fanout_docs;
        let errors = Errors::default();
        let m = self.begin("connect", &Traffic::default());
        // The fan-out documents of a territory: orders of its first rep.
        let mut docs_of: HashMap<String, Vec<DocId>> = HashMap::new();
        let mut stored_of: HashMap<String, (Vec<StoredDoc>, u64)> = HashMap::new();
        for (i, dev) in self.reps.iter().enumerate() {
            if docs_of.contains_key(&dev.territory) {
                continue;
            }
            let docs = &self.rep_docs[i];
            let mut ids: Vec<DocId> = docs.orders.iter().take(f).copied().collect();
            if ids.is_empty() {
                ids = docs.customers.iter().take(f).copied().collect();
            }
            stored_of.insert(dev.territory.clone(), (dev.stored(&ids), dev.cursor()));
            docs_of.insert(dev.territory.clone(), ids);
        }
        let users: Vec<usize> = (0..c).map(|j| j % self.reps.len()).collect();
        // The login storm: C logins, `--login-parallel` at a time, with the server's RSS
        // before and after (issue 14: flat in the number of logins).
        let rss_before = self.server.rss_mb().0;
        let t_login = Instant::now();
        let logins = self.logins(users.iter().map(|&r| self.reps[r].user.clone()).collect()).await?;
        let login_s = t_login.elapsed().as_secs_f64();
        let (rss_after, rss_peak) = self.server.rss_mb();
        let mut devs = Vec::with_capacity(c);
        for (j, (&rep, (device_id, login))) in users.iter().zip(logins).enumerate() {
            let territory = self.reps[rep].territory.clone();
            let (stored, cursor) = &stored_of[&territory];
            let mut d = Device::mem(&self.reps[rep].user, &territory, device_id, login, stored.clone(), *cursor)?;
            d.idx = j;
            devs.push(d);
        }
        let territory_of: Vec<String> = devs.iter().map(|d| d.territory.clone()).collect();
        let prepared: Vec<Prepared> = devs
            .into_iter()
            .map(|d| {
                let watch: Vec<(DocId, DocKind)> =
                    docs_of[&d.territory].iter().map(|id| (*id, DocKind::Order)).collect();
                Prepared::new(d, &watch)
            })
            .collect();
        let ctx = Arc::new(LiveCtx::new(self.addrs(), c, Tracker::default()));
        let t_conn = Instant::now();
        let handles: Vec<LiveHandle> = prepared.into_iter().map(|d| live(d, ctx.clone())).collect();
        let ok = wait_until(Duration::from_secs(300), || ctx.all_in_sync()).await;
        let connect_s = t_conn.elapsed().as_secs_f64();
        if !ok {
            errors
                .push(format!("only {} of {c} devices in sync after 300 s", ctx.count_status(super::device::IN_SYNC)));
        }
        let (n, samples) = ctx.errors.take();
        for s in samples {
            errors.push(s);
        }
        let mut r = self.finish("connect", m, &ctx.traffic, c, &errors);
        r.errors += n.saturating_sub(r.error_samples.len() as u64);
        r.set("note", "not an issue-6 phase: C devices log in and connect before the fan-out")
            .set("login_s", round3(login_s))
            .set("logins_per_s", round3(c as f64 / login_s.max(1e-9)))
            .set(
                "login_rss_mb",
                serde_json::json!({
                    "before": round3(rss_before), "after": round3(rss_after), "peak": round3(rss_peak)
                }),
            )
            .set("connect_s", round3(connect_s))
            .set("territories", docs_of.len())
            .set("docs_per_territory", f);
        self.emit(&r);
        self.live = Some(LiveSet { ctx, handles, territory_of, docs_of });
        Ok(())
    }

    /// Issue tracked edits at `rate` per second for `secs` on random live devices.
    async fn drive_edits(&mut self, rate: f64, secs: f64, stop_early: Option<&tokio::sync::Notify>) -> usize {
        let Some(set) = self.live.as_ref() else { return 0 };
        let period = Duration::from_secs_f64(1.0 / rate.max(0.001));
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        let mut rng = Rng::new(self.seed ^ 0xFA17 ^ self.next_token);
        let deadline = Instant::now() + Duration::from_secs_f64(secs);
        let mut sizes: HashMap<&str, u32> = HashMap::new();
        for t in &set.territory_of {
            *sizes.entry(t.as_str()).or_default() += 1;
        }
        // Lean receivers take no edits.
        let editors: Vec<usize> = (0..set.handles.len()).filter(|i| !set.ctx.lean[*i].load(Relaxed)).collect();
        let mut n = 0;
        while Instant::now() < deadline {
            if let Some(notify) = stop_early {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = notify.notified() => break,
                }
            } else {
                tick.tick().await;
            }
            let j = editors[rng.below(editors.len())];
            let territory = &set.territory_of[j];
            let doc = *rng.pick(&set.docs_of[territory]);
            self.next_token += 1;
            let token = super::device::make_token("f", self.next_token);
            set.ctx.tracker().expect(&token, doc, territory, sizes[territory.as_str()] - 1, None);
            if set.handles[j].tx.send(Cmd::Edit { doc, kind: DocKind::Order, token }).is_err() {
                set.ctx.errors.push(format!("device {j} is gone"));
            }
            n += 1;
        }
        n
    }

    async fn fanout(&mut self) -> Result<()> {
        let (rate, secs) = (self.sizes.rate, self.sizes.fanout_secs);
        let ctx = self.live.as_ref().expect("live set").ctx.clone();
        ctx.tracker().reset_phase();
        ctx.unwatched.store(0, Relaxed);
        ctx.ack_us.lock().unwrap_or_else(|p| p.into_inner()).clear();
        let served_before = tokio::task::block_in_place(|| delivery_histogram(&ctx.addrs));
        let lean = self.set_lean(self.sizes.lean);
        let m = self.begin("fanout", &ctx.traffic);
        let t0 = Instant::now();
        let edits = self.drive_edits(rate, secs, None).await;
        let edit_s = t0.elapsed().as_secs_f64();
        // (Lean receivers note what plain changes carry as they arrive; anything else is
        // read back when they apply it, after the phase.)
        let mut done = wait_until(Duration::from_secs(120), || ctx.tracker().outstanding() == 0 && ctx.all_in_sync())
            .await
            || lean > 0;
        let served = tokio::task::block_in_place(|| delivery_histogram(&ctx.addrs)).combine(&served_before, -1.0);
        // The lean receivers apply what they put aside; the phase ends when all are in sync.
        let aside = ctx.aside.load(Relaxed);
        let t_settle = Instant::now();
        if lean > 0 {
            self.set_lean(false);
            for h in &self.live.as_ref().expect("live set").handles {
                let _ = h.tx.send(Cmd::Settle);
            }
            done = wait_until(Duration::from_secs(300), || {
                ctx.aside.load(Relaxed) == 0 && ctx.all_in_sync() && ctx.tracker().outstanding() == 0
            })
            .await;
        }
        let settle_s = t_settle.elapsed().as_secs_f64();
        let mut r = self.finish("fanout", m, &ctx.traffic, ctx.status.len(), &ctx.errors);
        if !done {
            r.errors += 1;
            let (outstanding, sample) = {
                let t = ctx.tracker();
                (t.outstanding(), t.missing_sample(3))
            };
            r.error_samples.push(format!(
                "after the last edit and the settling: {outstanding} deliveries outstanding, {} frames still put \
                 aside, {} devices not in sync; e.g. {sample:?}",
                ctx.aside.load(Relaxed),
                ctx.status.len() - ctx.count_status(super::device::IN_SYNC),
            ));
        }
        let mut lat = ctx.tracker().take_latencies();
        let t = ctx.tracker();
        r.set("edits", edits)
            .set("rate_asked", rate)
            .set("rate_achieved", round3(edits as f64 / edit_s.max(1e-9)))
            .set("deliveries", lat.len())
            .set("latency_ms", latency_ms(&mut lat))
            .set("server_delivery_ms", served.summary_ms())
            .set("ack_ms", latency_ms(&mut std::mem::take(&mut *ctx.ack_us.lock().unwrap_or_else(|p| p.into_inner()))))
            .set("extra_deliveries", t.extra)
            .set("doc_chunks_unwatched", ctx.unwatched.swap(0, Relaxed))
            .set("lean_receivers", lean)
            .set("frames_put_aside", aside)
            .set("put_aside_peak_per_device", ctx.aside_peak.swap(0, Relaxed))
            .set("settle_s", round3(settle_s));
        drop(t);
        self.emit(&r);
        Ok(())
    }

    /// Make all but two devices per territory lean receivers (`on`), or none; how many are.
    fn set_lean(&self, on: bool) -> usize {
        let Some(set) = self.live.as_ref() else { return 0 };
        let mut editors: HashMap<&str, usize> = HashMap::new();
        let mut lean = 0;
        for (i, t) in set.territory_of.iter().enumerate() {
            let rank = editors.entry(t.as_str()).or_default();
            *rank += 1;
            let is_lean = on && *rank > 2;
            set.ctx.lean[i].store(is_lean, Relaxed);
            lean += is_lean as usize;
        }
        lean
    }

    async fn restart(&mut self) -> Result<()> {
        let rate = self.sizes.rate;
        let ctx = self.live.as_ref().expect("live set").ctx.clone();
        ctx.tracker().reset_phase();
        ctx.unwatched.store(0, Relaxed);
        ctx.ack_us.lock().unwrap_or_else(|p| p.into_inner()).clear();
        let before: Vec<u32> = ctx.connects.iter().map(|c| c.load(Relaxed)).collect();
        let m = self.begin("restart", &ctx.traffic);
        // Edits keep coming before, during and right after the outage.
        let pre = self.drive_edits(rate, 1.0, None).await;
        let t_kill = Instant::now();
        tokio::task::block_in_place(|| self.server.kill9());
        let during = self.drive_edits(rate, 0.3, None).await;
        tokio::task::block_in_place(|| self.server.start())?;
        let up_s = t_kill.elapsed().as_secs_f64();
        let after = self.drive_edits(rate, 0.5, None).await;
        let reconnected = wait_until(Duration::from_secs(300), || {
            // The devices of the killed (first) node reconnect; the other nodes' stay on.
            let nodes = ctx.addrs.len();
            ctx.connects.iter().zip(&before).enumerate().all(|(i, (c, b))| i % nodes != 0 || c.load(Relaxed) > *b)
        })
        .await;
        let reconnect_s = t_kill.elapsed().as_secs_f64();
        let done = wait_until(Duration::from_secs(300), || ctx.tracker().outstanding() == 0 && ctx.all_in_sync()).await;
        let in_sync_s = t_kill.elapsed().as_secs_f64();
        let mut r = self.finish("restart", m, &ctx.traffic, ctx.status.len(), &ctx.errors);
        if !reconnected || !done {
            r.errors += 1;
            r.error_samples.push(format!(
                "after 300 s: reconnected {reconnected}, {} deliveries outstanding, {} devices not in sync",
                ctx.tracker().outstanding(),
                ctx.status.len() - ctx.count_status(super::device::IN_SYNC)
            ));
        }
        let mut lat = ctx.tracker().take_latencies();
        r.set("edits", pre + during + after)
            .set("edits_while_down", during)
            .set("server_back_s", round3(up_s))
            .set("all_reconnected_s", round3(reconnect_s))
            .set("all_in_sync_s", round3(in_sync_s))
            .set("latency_ms", latency_ms(&mut lat))
            .set("ack_ms", latency_ms(&mut std::mem::take(&mut *ctx.ack_us.lock().unwrap_or_else(|p| p.into_inner()))))
            .set("doc_chunks_unwatched", ctx.unwatched.swap(0, Relaxed));
        // No lost or duplicated change: what a fresh device downloads, and what every
        // live device shows, is exactly the set of edits made.
        let (lost, dups, checked) = self.verify_live().await?;
        if lost + dups > 0 {
            r.errors += lost + dups;
            r.error_samples.push(format!("{lost} edits lost, {dups} duplicated (of {checked} documents checked)"));
        }
        r.set("docs_verified", checked).set("lost", lost).set("duplicated", dups);
        self.emit(&r);
        Ok(())
    }

    /// Compare every fan-out document on fresh devices (one per territory until every
    /// document was seen) and on every live device with the edits announced.
    async fn verify_live(&mut self) -> Result<(u64, u64, usize)> {
        let Some(set) = self.live.as_ref() else { return Ok((0, 0, 0)) };
        let expected = set.ctx.tracker().expected.clone();
        let docs_of = set.docs_of.clone();
        let mut lost = 0u64;
        let mut dups = 0u64;
        let mut checked: HashSet<DocId> = HashSet::new();
        let traffic = Traffic::default();
        let mut territories: Vec<&String> = docs_of.keys().collect();
        territories.sort();
        for territory in territories {
            if docs_of[territory].iter().all(|d| checked.contains(d)) {
                continue;
            }
            let Some(rep) = self.reps.iter().find(|d| &d.territory == territory) else { continue };
            let mut fresh = Device::login_mem(&self.url, &rep.user.clone(), territory).await?;
            fresh.sync_once(self.server.addr(), &traffic).await?;
            for ids in docs_of.values() {
                for id in ids {
                    if checked.contains(id) {
                        continue;
                    }
                    let Some(got) = fresh.tokens(*id, DocKind::Order) else { continue };
                    let (l, d) = compare(&got, expected.get(id));
                    lost += l;
                    dups += d;
                    checked.insert(*id);
                }
            }
        }
        // The live devices, once stopped, must show the same.
        let set = self.live.take().expect("live set");
        let devs = stop_all(set.handles).await;
        for d in &devs {
            for id in &docs_of[&d.territory] {
                let got = d.tokens(*id, DocKind::Order).unwrap_or_default();
                let (l, du) = compare(&got, expected.get(id));
                lost += l;
                dups += du;
            }
        }
        Ok((lost, dups, checked.len()))
    }

    async fn stop_live(&mut self) -> Result<()> {
        if let Some(set) = self.live.take() {
            stop_all(set.handles).await;
        }
        Ok(())
    }

    // ---- many documents at rest -------------------------------------------------------

    /// Top the server up to N documents (batches of 1,000 from `rest_devices` uploaders,
    /// each dropping a batch once it is synced, so the client never holds them all),
    /// then for each cache size: restart the server, touch (edit and push) documents in
    /// batches of 500 from one device, and download everything on a fresh device.
    pub async fn rest(&mut self) -> Result<()> {
        let target = self.sizes.stored;
        let w = self.sizes.rest_devices.min(self.reps.len().max(1));
        let have = self.server.health_documents()? as usize;
        let to_add = target.saturating_sub(have);
        let batch = 1000.min(to_add.max(1));
        let batches = to_add.div_ceil(batch);
        let touch_total = self.sizes.rest_touch.min(to_add);
        let keep_per_batch = touch_total.div_ceil(batches.max(1));
        let users: Vec<(String, String)> = (0..w)
            .map(|i| {
                let rep = i * self.reps.len().max(1) / w;
                match self.reps.get(rep) {
                    Some(d) => (d.user.clone(), d.territory.clone()),
                    None => (rep_name(rep), territory_of(rep, self.sizes.reps_per_territory)),
                }
            })
            .collect();
        let logins = self.logins(users.iter().map(|(u, _)| u.clone()).collect()).await?;
        let traffic = Arc::new(Traffic::default());
        let errors = Arc::new(Errors::default());
        let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let m = self.begin("rest-upload", &traffic);
        let mut tasks = Vec::new();
        for (i, ((user, territory), (device_id, login))) in users.iter().cloned().zip(logins.clone()).enumerate() {
            let (traffic, errors, next) = (traffic.clone(), errors.clone(), next.clone());
            let addr = self.server.addr();
            let seed = self.seed ^ (0x5EED_0000 + i as u64);
            tasks.push(tokio::spawn(async move {
                let mut kept: Vec<StoredDoc> = Vec::new();
                let mut cursor = 0;
                let mut rng = Rng::new(seed);
                loop {
                    let b = next.fetch_add(1, Relaxed);
                    if b >= batches {
                        return (kept, cursor);
                    }
                    let n = batch.min(to_add - b * batch);
                    let mut dev = match Device::mem(&user, &territory, device_id, login.clone(), Vec::new(), cursor) {
                        Ok(d) => d,
                        Err(e) => {
                            errors.push(format!("rest device: {e:#}"));
                            return (kept, cursor);
                        }
                    };
                    let made = records::create_portfolio(dev.replica(), &mut rng, &territory, n, jiuloop_cli::now_ms());
                    let (customers, orders) =
                        match made.map_err(anyhow::Error::from).and_then(|x| dev.persist().map(|()| x)) {
                            Ok(x) => x,
                            Err(e) => {
                                errors.push(format!("rest batch: {e:#}"));
                                return (kept, cursor);
                            }
                        };
                    if let Err(e) = dev.sync_once(addr, &traffic).await {
                        errors.push(format!("rest upload of batch {b}: {e:#}"));
                    }
                    cursor = dev.cursor();
                    let ids: Vec<DocId> = customers
                        .iter()
                        .chain(&orders)
                        .step_by((n / keep_per_batch.max(1)).max(1))
                        .take(keep_per_batch)
                        .copied()
                        .collect();
                    kept.extend(dev.stored(&ids));
                }
            }));
        }
        let mut kept: Vec<StoredDoc> = Vec::new();
        let mut cursor = 0;
        for t in tasks {
            let (k, c) = t.await.context("rest task")?;
            kept.extend(k);
            cursor = cursor.max(c);
        }
        let mut r = self.finish("rest-upload", m, &traffic, w, &errors);
        let stored = self.server.health_documents()?;
        if (stored as usize) < target {
            r.errors += 1;
            r.error_samples.push(format!("{stored} documents stored, wanted {target}"));
        }
        r.set("docs_added", to_add)
            .set("docs_stored", stored)
            .set("batch", batch)
            .set("cache_docs", self.sizes.cache_docs);
        self.emit(&r);

        // One device touches the kept documents: it is the only writer, so its cursor
        // stays current and a reconnect brings nothing back but its own acks.
        let (user, territory) = users[0].clone();
        let (device_id, login) = logins[0].clone();
        for cache in self.sizes.rest_cache.clone() {
            let errors = Errors::default();
            self.server.set_serve_args(&["--cache-docs".to_string(), cache.to_string()]);
            tokio::task::block_in_place(|| self.server.restart())?;
            let (rss0, _) = self.server.pid().and_then(procfs::rss_kib).unwrap_or((0, 0));
            let traffic = Traffic::default();
            let m = self.begin("rest", &traffic);
            let mut rng = Rng::new(self.seed ^ 0x70C4 ^ cache as u64);
            let mut touched = Vec::with_capacity(kept.len());
            for (b, part) in kept.chunks(500).enumerate() {
                let result: Result<()> = async {
                    let mut dev = Device::mem(&user, &territory, device_id, login.clone(), part.to_vec(), cursor)?;
                    for (n, d) in part.iter().enumerate() {
                        dev.edit(d.id, d.kind, &format!("R:{cache}:{b}:{n}"), &mut rng)?;
                    }
                    dev.persist()?;
                    dev.sync_once(self.server.addr(), &traffic).await?;
                    cursor = dev.cursor();
                    touched.extend(dev.stored(&part.iter().map(|d| d.id).collect::<Vec<_>>()));
                    Ok(())
                }
                .await;
                if let Err(e) = result {
                    errors.push(format!("touch batch {b}: {e:#}"));
                    touched.extend_from_slice(part);
                }
            }
            kept = touched;
            let mut r = self.finish("rest", m, &traffic, 1, &errors);
            let per_doc = (r.server_peak_rss_mb - rss0 as f64 / 1024.0) * 1024.0 / cache.min(kept.len()).max(1) as f64;
            r.set("what", "server restarted, then documents edited and pushed in batches of 500 by one device")
                .set("docs_stored", stored)
                .set("docs_touched", kept.len())
                .set("cache_docs", cache)
                .set("server_rss_after_start_mb", round3(rss0 as f64 / 1024.0))
                .set("kb_per_cached_doc", round3(per_doc));
            if r.traffic.docs_pushed < kept.len() as u64 {
                r.errors += 1;
                r.error_samples.push(format!("{} of {} touched documents pushed", r.traffic.docs_pushed, kept.len()));
            }
            self.emit(&r);
            if self.sizes.rest_cold {
                self.rest_cold(cache, &user, &territory).await?;
            }
        }
        Ok(())
    }

    /// A fresh device downloads everything it may read (catch-up from cursor 0).
    async fn rest_cold(&mut self, cache: usize, user: &str, territory: &str) -> Result<()> {
        let errors = Errors::default();
        let traffic = Traffic::default();
        let mut dev = Device::login_mem(&self.url, user, territory).await?;
        let m = self.begin("rest-cold", &traffic);
        if let Err(e) = dev.sync_once(self.server.addr(), &traffic).await {
            errors.push(format!("cold download: {e:#}"));
        }
        let mut r = self.finish("rest-cold", m, &traffic, 1, &errors);
        r.set("what", "a fresh device downloads everything it may read, right after the touches")
            .set("docs_held", dev.replica().held_count())
            .set("cache_docs", cache);
        self.emit(&r);
        Ok(())
    }
}

/// In the background, poll `/health` until the server counts `want` documents; the
/// thread returns the seconds that took (None if not within 10 minutes).
fn poll_documents(addr: std::net::SocketAddr, want: u64) -> std::thread::JoinHandle<Option<f64>> {
    let t0 = Instant::now();
    std::thread::spawn(move || {
        while t0.elapsed() < Duration::from_secs(600) {
            let n = crate::http::get(addr, "/health").ok().and_then(|r| r.json()["documents"].as_u64());
            if n.is_some_and(|n| n >= want) {
                return Some(t0.elapsed().as_secs_f64());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        None
    })
}

/// (lost, duplicated) of a document's tokens against the announced edits.
fn compare(got: &[String], expected: Option<&HashSet<String>>) -> (u64, u64) {
    let mut seen = HashSet::new();
    let dups = got.iter().filter(|t| !seen.insert(t.as_str())).count() as u64;
    let lost = expected.map_or(0, |e| e.iter().filter(|t| !seen.contains(t.as_str())).count()) as u64;
    (lost, dups)
}

async fn stop_all(handles: Vec<LiveHandle>) -> Vec<Device> {
    for h in &handles {
        let _ = h.tx.send(Cmd::Stop);
    }
    let mut out = Vec::new();
    for h in handles {
        if let Ok(d) = h.join.await {
            out.push(d);
        }
    }
    out.sort_by_key(|d| d.idx);
    out
}

/// Poll `cond` every 5 ms until true or `limit`; false on timeout.
pub async fn wait_until(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// The whole load generator: parse sizes, run the phases, return the error count.
pub async fn main(args: LoadArgs) -> Result<u64> {
    let mut phases = args.phases();
    let mut cli_errors = 0;
    if phases.iter().any(|p| p.is_cli()) {
        let (docs, sync_docs) = (
            args.cli_docs.unwrap_or(if args.quick { 1000 } else { 10_000 }),
            args.cli_sync_docs.unwrap_or(if args.quick { 1200 } else { 12_000 }),
        );
        let runs = args.cli_runs.max(1);
        let with_sync = phases.contains(&Phase::CliSync);
        let reports =
            tokio::task::spawn_blocking(move || super::cli_phases::run(docs, sync_docs, runs, with_sync)).await??;
        cli_errors += reports.iter().map(|r| r.errors).sum::<u64>();
        phases.retain(|p| !p.is_cli());
        if phases.is_empty() {
            return Ok(cli_errors);
        }
    }
    let sizes = args.sizes();
    check_fd_limit(sizes.connected.max(sizes.reps) + 16);
    let bin = server_bin(&args.server_bin);
    if args.nodes > 1 && !args.postgres && !args.server_env.iter().any(|kv| kv.starts_with("JIULOOP_DATABASE_URL=")) {
        anyhow::bail!(
            "--nodes {} needs a shared database: --postgres, or --server-env JIULOOP_DATABASE_URL=…",
            args.nodes
        );
    }
    let mut server_env = args.server_env.clone();
    // Kept until the run ends (its cluster stops when this process does).
    let _cluster = match args.postgres {
        true => {
            let cluster = tokio::task::block_in_place(|| {
                jiuloop_server::storage::postgres::test_cluster::TestCluster::start_with(true)
            })
            .map_err(|e| anyhow!("cannot start PostgreSQL: {e}"))?;
            let url = tokio::task::block_in_place(|| cluster.fresh_database());
            eprintln!("loadgen: PostgreSQL (fsync on) at {}", jiuloop_server::storage::postgres::redact(&url));
            server_env.push(format!("JIULOOP_DATABASE_URL={url}"));
            Some(cluster)
        }
        false => None,
    };
    let mut run = Run::setup(&bin, sizes, args.seed, args.login_parallel, &args.perf, &server_env, args.nodes).await?;
    run.total_errors += cli_errors;
    if let Err(e) = run.run_phases(&phases).await {
        eprintln!("loadgen: {e:#}\nlast server log lines:\n{}", run.server.log_tail(20));
        return Err(e);
    }
    let panics: Vec<String> = run.nodes().flat_map(|n| n.log_lines_with("panicked")).collect();
    if !panics.is_empty() {
        eprintln!("loadgen: the server logged panics: {panics:?}");
        run.total_errors += panics.len() as u64;
    }
    if run.total_errors > 0 {
        let dir = std::env::temp_dir().join(format!("jiuloop-loadgen-logs-{}", std::process::id()));
        if let Ok(dir) = run.server.keep_logs(&dir) {
            eprintln!("loadgen: server logs kept in {}", dir.display());
        }
    }
    Ok(run.total_errors)
}

/// The servers' own commit → socket-write histogram (`jiuloop_delivery_seconds`), summed over
/// the nodes: the fan-out figure of the server, apart from the simulated devices' work.
fn delivery_histogram(addrs: &[std::net::SocketAddr]) -> Buckets {
    addrs.iter().fold(Buckets::default(), |sum, addr| match crate::http::get(*addr, "/metrics") {
        Ok(r) if r.status == 200 => {
            sum.combine(&Buckets::parse(&String::from_utf8_lossy(&r.body), "jiuloop_delivery_seconds"), 1.0)
        }
        _ => sum,
    })
}
