//! The CLI's figures (issue 14 part 6), measured over real `jiuloop` processes against a
//! real server: start-up of `status`/`show`/`set` and of the lists on a profile of 10,000
//! documents, and the peak RSS of `jiuloop sync` downloading 12,000 — each as today
//! (`JIULOOP_EAGER=1`: every document loaded, as before the lazy profile) and lazily.

use super::metrics::{PhaseReport, round3};
use super::procfs;
use crate::{Device, TestServer, bins};
use anyhow::{Context, Result, bail};
use jiuloop_cli::Profile;
use protocol::DocKind;
use protocol::schema::OrderSource;
use protocol::schema::order::NewLine;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const GZ: &str = "贵州";

/// Customers and orders (half each) added to the writer's profile in-process, stored and
/// pushed with one sync.
fn add_docs(dir: &std::path::Path, n: usize, from: usize) -> Result<()> {
    let mut p = Profile::open(dir)?;
    p.load_all_docs()?;
    let now = jiuloop_cli::now_ms();
    let rows: Vec<protocol::schema::customer::NewCustomer> = (from..from + n / 2)
        .map(|i| protocol::schema::customer::NewCustomer {
            name: format!("客户{i:05}"),
            phone: Some(format!("1380{i:07}")),
            territory: Some(GZ.into()),
            ..Default::default()
        })
        .collect();
    let customers = p.replica.import_customers(&rows, now)?;
    for (i, c) in customers.iter().enumerate() {
        let line =
            NewLine { id: format!("l{i}"), sku: "SC-52-500".into(), spec: None, qty: 12, unit_price_fen: 53_900 };
        p.replica.create_order_with(*c, OrderSource::Written, &[line], &[], now)?;
    }
    p.persist()?;
    Ok(())
}

/// `jiuloop sync` of the writer, however long it takes (thousands of documents pushed),
/// again while the server drops the connection (what it acknowledged stays acknowledged).
fn push(d: &Device) -> Result<()> {
    let mut last = String::new();
    for _ in 0..20 {
        let mut cmd = d.command(&["sync"]);
        procfs::server_env_cleanup(&mut cmd);
        let out = cmd.output().context("run jiuloop sync")?;
        if out.status.success() {
            return Ok(());
        }
        last = String::from_utf8_lossy(&out.stderr).to_string();
        eprintln!("loadgen: the writer's sync failed, again: {}", last.trim());
    }
    bail!("jiuloop sync: {last}")
}

/// Wall seconds of `jiuloop ARGS` on `d`'s profile (median of `runs`), eager or lazy.
fn time_command(d: &Device, args: &[&str], eager: bool, runs: usize) -> Result<f64> {
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let mut cmd = d.command(args);
        procfs::server_env_cleanup(&mut cmd);
        if eager {
            cmd.env("JIULOOP_EAGER", "1");
        }
        let t = Instant::now();
        let out = cmd.output().context("run jiuloop")?;
        times.push(t.elapsed().as_secs_f64());
        if !out.status.success() {
            bail!("jiuloop {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        }
    }
    times.sort_by(f64::total_cmp);
    Ok(times[times.len() / 2])
}

/// `jiuloop sync` of a fresh profile: (wall s, peak RSS MB, documents held after).
fn measured_sync(server: &TestServer, eager: bool) -> Result<(f64, f64, u64)> {
    let d = Device::logged_in(server, "li");
    let mut cmd = Command::new(&bins().cli);
    cmd.arg("--profile").arg(d.profile()).arg("sync").stdout(Stdio::null()).stderr(Stdio::piped());
    procfs::server_env_cleanup(&mut cmd);
    if eager {
        cmd.env("JIULOOP_EAGER", "1");
    }
    let t = Instant::now();
    let mut child = cmd.spawn().context("spawn jiuloop sync")?;
    let pid = child.id();
    let mut peak_kib = 0;
    let status = loop {
        if let Some((_, hwm)) = procfs::rss_kib(pid) {
            peak_kib = peak_kib.max(hwm);
        }
        if let Some(status) = child.try_wait()? {
            break status;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let wall = t.elapsed().as_secs_f64();
    if !status.success() {
        bail!("jiuloop sync failed: {status}");
    }
    let docs = d.status()["documents"].as_u64().unwrap_or(0);
    Ok((wall, round3(peak_kib as f64 / 1024.0), docs))
}

/// Both CLI phases: `cli-startup` (a profile of `profile_docs`) then `cli-sync` (a fresh
/// profile downloading `sync_docs`, unless `with_sync` is false); each report is printed
/// when its phase ends.
pub fn run(profile_docs: usize, sync_docs: usize, runs: usize, with_sync: bool) -> Result<Vec<PhaseReport>> {
    let mut server = TestServer::new();
    server.add_user_with("li", "rep", Some(GZ), None);
    server.start();
    let policy = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/policy.csv");
    server.admin_ok(&["policy", "import", policy.to_str().context("utf-8 path")?]);
    let writer = Device::logged_in(&server, "li");
    let t = Instant::now();
    add_docs(writer.profile(), profile_docs, 0)?;
    push(&writer)?;
    let setup_s = t.elapsed().as_secs_f64();

    let mut startup = PhaseReport::new("cli-startup");
    let held = writer.status()["documents"].as_u64().unwrap_or(0);
    let customer = {
        let p = Profile::open(writer.profile())?;
        p.listed(DocKind::Customer)?.first().map(|r| r.id.to_string()).context("a customer")?
    };
    let prefix = &customer[..8];
    let set_arg = "phone=13900000000";
    let commands: [(&str, Vec<&str>, f64); 6] = [
        ("status", vec!["status"], 0.1),
        ("show", vec!["show", prefix], 0.1),
        ("set", vec!["set", prefix, set_arg], 0.1),
        ("list_customer", vec!["list", "customer"], 0.3),
        ("list_order", vec!["list", "order"], 0.3),
        ("order_list", vec!["order", "list"], 0.3),
    ];
    let wall = Instant::now();
    for (name, args, target) in commands {
        let today = time_command(&writer, &args, true, runs)?;
        let lazy = time_command(&writer, &args, false, runs)?;
        startup.set(
            name,
            serde_json::json!({"today_s": round3(today), "now_s": round3(lazy), "target_s": target, "met": lazy < target}),
        );
    }
    startup.wall_s = round3(wall.elapsed().as_secs_f64());
    // `SyncEngine::connected` with nothing changed: the replica loaded whole (as the
    // browser and the simulations hold it) and the lazy one of the CLI.
    let connected_ms = |replica: &mut client_core::Replica| -> Result<f64> {
        let mut engine = client_core::SyncEngine::new(uuid::Uuid::new_v4(), "loadgen");
        let t = Instant::now();
        engine.connected(replica)?;
        Ok(round3(t.elapsed().as_secs_f64() * 1000.0))
    };
    push(&writer)?;
    let whole_ms = {
        use client_core::LocalStore;
        let mut store = jiuloop_cli::sqlite_store::SqliteStore::open(&writer.profile().join("jiuloop.db"))?;
        let mut replica = store.load_all()?.into_replica(automerge::ActorId::random(), "li")?;
        connected_ms(&mut replica)?
    };
    let lazy_ms = connected_ms(&mut Profile::open(writer.profile())?.replica)?;
    startup.set("sync_engine_connected_ms", serde_json::json!({"whole": whole_ms, "lazy": lazy_ms, "target": 5}));
    startup.set("documents", held).set("setup_s", round3(setup_s)).set("runs_per_command", runs);
    startup
        .set("note", "today = JIULOOP_EAGER=1 (every document loaded, as before the lazy profile); median of the runs");
    startup.print();
    if !with_sync {
        server.stop();
        return Ok(vec![startup]);
    }

    let t = Instant::now();
    add_docs(writer.profile(), sync_docs.saturating_sub(profile_docs), profile_docs)?;
    push(&writer)?;
    let mut sync = PhaseReport::new("cli-sync");
    sync.set("setup_s", round3(t.elapsed().as_secs_f64()));
    let (today_s, today_mb, today_docs) = measured_sync(&server, true)?;
    let (now_s, now_mb, now_docs) = measured_sync(&server, false)?;
    if today_docs != now_docs || (now_docs as usize) < sync_docs {
        sync.errors += 1;
        sync.error_samples.push(format!("documents held: {today_docs} (today) vs {now_docs} (now), want {sync_docs}"));
    }
    sync.wall_s = round3(today_s + now_s);
    sync.set("documents", now_docs);
    sync.set(
        "peak_rss_mb",
        serde_json::json!({"today": today_mb, "now": now_mb, "target": 200, "met": now_mb < 200.0}),
    );
    sync.set("wall_s", serde_json::json!({"today": round3(today_s), "now": round3(now_s)}));
    sync.set("note", "today = JIULOOP_EAGER=1 (every document held until the end); peak = VmHWM polled every 5 ms");
    sync.print();
    server.stop();
    Ok(vec![startup, sync])
}
