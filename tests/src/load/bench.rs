//! Issue 2's figures: local edit latency, initial sync of a big territory to an empty
//! device, reconnect with 10 of 1,000 documents changed, server memory with many
//! documents stored. One JSON object per measurement on stdout.

use super::args::Sizes;
use super::device::Device;
use super::metrics::{PhaseReport, Traffic, TrafficSnapshot, latency_ms, round3};
use super::records;
use super::run::{Run, server_bin};
use super::server::ServerProc;
use crate::Rng;
use crate::tmp::TempDir;
use anyhow::Result;
use automerge::ActorId;
use clap::{Parser, ValueEnum};
use client_core::Replica;
use jiuloop_cli::Profile;
use protocol::DocId;
use protocol::schema::customer::NewCustomer;
use protocol::schema::{CustomerClass, OrderSource};
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Part {
    /// Create an order with 5 lines: core only, and with the SQLite persist.
    Edit,
    /// 2,000 customers + 10,000 orders to an empty device.
    Initial,
    /// A device holding 1,000 documents, 10 changed elsewhere, reconnects.
    Reconnect,
    /// Server RSS with 100,000 documents stored, per cache size.
    Rss,
}

/// Benchmarks of issue 2, against a real server process.
#[derive(Clone, Debug, Parser)]
#[command(name = "bench")]
pub struct BenchArgs {
    /// Small sizes (seconds, for a smoke run).
    #[arg(long)]
    pub quick: bool,
    /// Parts to run, comma-separated (default: all).
    #[arg(long, value_delimiter = ',', value_enum)]
    pub parts: Vec<Part>,
    /// Edit-latency runs.
    #[arg(long)]
    pub runs: Option<usize>,
    /// Initial sync: customers, and orders (3 lines each) of those customers.
    #[arg(long)]
    pub customers: Option<usize>,
    #[arg(long)]
    pub orders: Option<usize>,
    /// Reconnect: documents held, and documents changed elsewhere.
    #[arg(long)]
    pub held: Option<usize>,
    #[arg(long)]
    pub changed: Option<usize>,
    /// RSS: documents stored.
    #[arg(long)]
    pub stored: Option<usize>,
    /// RSS: the server's --cache-docs values to measure (a restart each).
    #[arg(long, value_delimiter = ',')]
    pub cache: Vec<usize>,
    /// RSS: documents touched after each restart.
    #[arg(long)]
    pub touch: Option<usize>,
    /// RSS: devices uploading at once.
    #[arg(long)]
    pub devices: Option<usize>,
    /// RSS: skip the full download by a fresh device after each restart.
    #[arg(long)]
    pub no_cold: bool,
    /// The jiuloop-server binary (default: built next to this one by cargo).
    #[arg(long)]
    pub server_bin: Option<PathBuf>,
}

impl BenchArgs {
    fn n(&self, v: Option<usize>, quick: usize, full: usize) -> usize {
        v.unwrap_or(if self.quick { quick } else { full })
    }
}

pub async fn main(args: BenchArgs) -> Result<u64> {
    let parts = if args.parts.is_empty() {
        vec![Part::Edit, Part::Initial, Part::Reconnect, Part::Rss]
    } else {
        args.parts.clone()
    };
    let bin = server_bin(&args.server_bin);
    let mut errors = 0;
    for part in parts {
        errors += match part {
            Part::Edit => edit_latency(args.n(args.runs, 200, 2000))?,
            Part::Initial => {
                initial_sync(&bin, args.n(args.customers, 200, 2000), args.n(args.orders, 1000, 10_000)).await?
            }
            Part::Reconnect => reconnect(&bin, args.n(args.held, 200, 1000), args.n(args.changed, 10, 10)).await?,
            Part::Rss => rss(&bin, &args).await?,
        };
    }
    Ok(errors)
}

fn line_report(phase: &str) -> PhaseReport {
    PhaseReport::new(phase)
}

/// Median and p99 of creating an order with 5 lines, core only and with the persist.
fn edit_latency(runs: usize) -> Result<u64> {
    let customer = NewCustomer {
        name: "成都锦江名酒专卖店".into(),
        class: Some(CustomerClass::A),
        territory: Some("T000".into()),
        ..Default::default()
    };
    let mut rng = Rng::new(2);
    // Core only: the replica, no storage.
    let mut replica = Replica::load(ActorId::random(), "bench", Vec::new(), 0, Vec::new())?;
    let now = jiuloop_cli::now_ms();
    let c = replica.create_customer(&customer, now)?;
    replica.take_store_ops();
    let mut core = Vec::with_capacity(runs);
    let mut op_bytes = 0usize;
    for _ in 0..runs {
        let t = Instant::now();
        let id = replica.create_order(c, OrderSource::Written, now)?;
        for _ in 0..5 {
            replica.add_order_line(id, &records::line(&mut rng, None), now)?;
        }
        core.push(t.elapsed().as_micros() as u64);
        op_bytes += replica.take_store_ops().iter().map(op_len).sum::<usize>();
    }
    let mut r = line_report("edit-latency-core");
    r.set("what", "create an order with 5 lines in client-core's Replica (no storage)")
        .set("runs", runs)
        .set("latency_ms", latency_ms(&mut core))
        .set("stored_bytes_per_order", op_bytes / runs.max(1));
    r.print();

    // With the native driver's SQLite profile: one transaction for the whole order, and
    // (as six CLI commands would) one per edit.
    let dir = TempDir::new("bench-edit");
    let mut p = logged_in_offline_profile(dir.path())?;
    let c = p.replica.create_customer(&customer, now)?;
    p.persist()?;
    let mut once = Vec::with_capacity(runs);
    let mut each = Vec::with_capacity(runs);
    for i in 0..runs * 2 {
        let per_edit = i % 2 == 1;
        let t = Instant::now();
        let id = p.replica.create_order(c, OrderSource::Written, now)?;
        if per_edit {
            p.persist()?;
        }
        for _ in 0..5 {
            p.replica.add_order_line(id, &records::line(&mut rng, None), now)?;
            if per_edit {
                p.persist()?;
            }
        }
        p.persist()?;
        let us = t.elapsed().as_micros() as u64;
        if per_edit { each.push(us) } else { once.push(us) }
    }
    let mut r = line_report("edit-latency-sqlite");
    r.set(
        "what",
        "create an order with 5 lines and make it durable in the profile's SQLite file (WAL, synchronous=FULL)",
    )
    .set("runs", runs)
    .set("one_transaction_ms", latency_ms(&mut once))
    .set("transaction_per_edit_ms", latency_ms(&mut each))
    .set("docs_held_at_end", p.replica.doc_count());
    r.print();
    drop(p);
    let t = Instant::now();
    let p = Profile::open(dir.path())?;
    let mut r = line_report("profile-open");
    r.wall_s = round3(t.elapsed().as_secs_f64());
    r.set("what", "Profile::open (what every CLI command does first): load every document")
        .set("docs", p.replica.doc_count());
    r.print();
    Ok(0)
}

fn op_len(op: &client_core::StoreOp) -> usize {
    match op {
        client_core::StoreOp::AppendChunk { bytes, .. } => bytes.len(),
        client_core::StoreOp::Compact { snapshot, .. } => snapshot.len(),
        _ => 0,
    }
}

/// A profile with a user name but no server (edits only).
fn logged_in_offline_profile(dir: &std::path::Path) -> Result<Profile> {
    let mut p = Profile::open(dir)?;
    p.save_login("http://127.0.0.1:9", "bench", "no-token", "")?;
    drop(p);
    Ok(Profile::open(dir)?)
}

struct Bench {
    server: ServerProc,
}

impl Bench {
    fn start(bin: &std::path::Path, users: &[&str], args: &[String]) -> Result<Self> {
        let mut server = ServerProc::new(bin, args);
        let users: Vec<(String, String)> = users.iter().map(|u| (u.to_string(), "T000".to_string())).collect();
        server.add_users(&users, 2)?;
        server.start()?;
        Ok(Bench { server })
    }

    fn report(
        &self,
        phase: &str,
        t0: Instant,
        mark: super::server::Mark,
        cpu0: f64,
        t: TrafficSnapshot,
    ) -> PhaseReport {
        let mut r = PhaseReport::new(phase);
        r.wall_s = round3(t0.elapsed().as_secs_f64());
        let (cpu, rss, peak) = self.server.since(mark);
        r.server_cpu_s = round3(cpu);
        r.server_rss_mb = round3(rss);
        r.server_peak_rss_mb = round3(peak);
        r.loadgen_cpu_s = round3(super::procfs::self_cpu_secs() - cpu0);
        r.devices = 1;
        r.set_traffic(t);
        r
    }
}

/// Create `customers` customers and `orders` orders (3 lines) on a device.
fn fill(replica: &mut Replica, customers: usize, orders: usize, seed: u64) -> Result<Vec<DocId>> {
    let mut rng = Rng::new(seed);
    let now = jiuloop_cli::now_ms();
    let mut ids = Vec::new();
    for i in 0..customers {
        ids.push(records::create_customer(replica, &mut rng, "T000", i, now)?);
    }
    for i in 0..orders {
        let c = ids[i % customers.max(1)];
        ids.push(records::create_order(replica, &mut rng, c, 3, now)?);
    }
    Ok(ids)
}

async fn initial_sync(bin: &std::path::Path, customers: usize, orders: usize) -> Result<u64> {
    let b = tokio::task::block_in_place(|| Bench::start(bin, &["zhang", "li"], &[]))?;
    let url = b.server.url();
    let mut up = Device::login_mem(&url, "zhang", "T000").await?;
    let t = Instant::now();
    fill(up.replica(), customers, orders, 7)?;
    up.persist()?;
    let create_s = t.elapsed().as_secs_f64();
    let traffic = Traffic::default();
    let (t0, mark, cpu0) = (Instant::now(), b.server.mark(), super::procfs::self_cpu_secs());
    up.sync_once(b.server.addr(), &traffic).await?;
    let mut r = b.report("initial-upload", t0, mark, cpu0, traffic.snapshot());
    r.set("docs", customers + orders).set("client_create_s", round3(create_s));
    r.print();
    drop(up);

    let dir = TempDir::new("bench-initial");
    let mut dev = Device::login_sqlite(dir.path(), &url, "li").await?;
    let traffic = Traffic::default();
    let (t0, mark, cpu0) = (Instant::now(), b.server.mark(), super::procfs::self_cpu_secs());
    let s = dev.sync_once(b.server.addr(), &traffic).await?;
    let mut r = b.report("initial-sync", t0, mark, cpu0, traffic.snapshot());
    let held = dev.replica().doc_count();
    r.set("what", "an empty device (SQLite profile, jiuloop_cli::sync) downloads everything")
        .set("customers", customers)
        .set("orders", orders)
        .set("docs_held", held);
    if held != customers + orders || s.received_docs as usize != customers + orders {
        r.errors = 1;
        r.error_samples.push(format!("received {} documents, holds {held}", s.received_docs));
    }
    r.print();
    let mut errors = r.errors;
    drop(dev);
    let t = Instant::now();
    let p = Profile::open(dir.path())?;
    let mut r = line_report("profile-open");
    r.wall_s = round3(t.elapsed().as_secs_f64());
    r.set("what", "Profile::open of that device (every CLI command starts with it)").set("docs", p.replica.doc_count());
    r.print();
    drop(p);

    // The same with the real `jiuloop` binary, as a rep would run it.
    let cli = cli_bin(bin);
    if cli.exists() && Path::new(TIME).exists() {
        let dir = TempDir::new("bench-cli");
        let profile = dir.path().to_string_lossy().to_string();
        let server = format!("http://{}", url.authority());
        tokio::task::block_in_place(|| {
            timed(&cli, &["--profile", &profile, "login", "--server", &server, "--user", "li"])
        })?;
        let mark = b.server.mark();
        let (out, wall, rss) = tokio::task::block_in_place(|| timed(&cli, &["--profile", &profile, "sync", "--json"]))?;
        let (cpu, _, _) = b.server.since(mark);
        let report: serde_json::Value = serde_json::from_str(&out).unwrap_or_default();
        let mut r = line_report("initial-sync-cli");
        r.wall_s = round3(wall);
        r.server_cpu_s = round3(cpu);
        r.devices = 1;
        r.set("what", "`jiuloop sync` of a new profile (the CLI process, login excluded)")
            .set("cli_peak_rss_mb", round3(rss))
            .set("docs_received", report["received_docs"].clone())
            .set("frames_received", report["frames_received"].clone())
            .set("bytes_received", report["bytes_received"].clone());
        if report["received_docs"].as_u64() != Some((customers + orders) as u64) {
            r.errors = 1;
            r.error_samples.push(format!("sync printed {out}"));
        }
        errors += r.errors;
        r.print();
        let (_, wall, rss) = tokio::task::block_in_place(|| timed(&cli, &["--profile", &profile, "status", "--json"]))?;
        let mut r = line_report("cli-status");
        r.wall_s = round3(wall);
        r.set("what", "`jiuloop status` on that profile: the start-up cost of every command")
            .set("docs", customers + orders)
            .set("cli_peak_rss_mb", round3(rss));
        r.print();
    }
    Ok(errors)
}

const TIME: &str = "/usr/bin/time";

/// The `jiuloop` binary next to the server binary.
fn cli_bin(server: &Path) -> PathBuf {
    server.with_file_name(format!("jiuloop{}", std::env::consts::EXE_SUFFIX))
}

/// Run `bin args` under `/usr/bin/time -v`: (stdout, wall seconds, peak RSS MiB).
fn timed(bin: &Path, args: &[&str]) -> Result<(String, f64, f64)> {
    let mut cmd = std::process::Command::new(TIME);
    cmd.arg("-v").arg(bin).args(args).env("JIULOOP_PASSWORD", super::server::PASSWORD);
    super::procfs::server_env_cleanup(&mut cmd);
    let t = Instant::now();
    let out = cmd.output()?;
    let wall = t.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        anyhow::bail!("{} {} failed: {stderr}", bin.display(), args.join(" "));
    }
    let rss_kb: f64 = stderr
        .lines()
        .find_map(|l| l.trim().strip_prefix("Maximum resident set size (kbytes):"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0.0);
    Ok((String::from_utf8_lossy(&out.stdout).into_owned(), wall, rss_kb / 1024.0))
}

async fn reconnect(bin: &std::path::Path, held: usize, changed: usize) -> Result<u64> {
    let b = tokio::task::block_in_place(|| Bench::start(bin, &["zhang", "li"], &[]))?;
    let url = b.server.url();
    let (dir_a, dir_b) = (TempDir::new("bench-a"), TempDir::new("bench-b"));
    let mut a = Device::login_sqlite(dir_a.path(), &url, "zhang").await?;
    let mut bdev = Device::login_sqlite(dir_b.path(), &url, "li").await?;
    let ids = fill(a.replica(), held / 2, held - held / 2, 11)?;
    a.persist()?;
    let traffic = Traffic::default();
    a.sync_once(b.server.addr(), &traffic).await?;
    bdev.sync_once(b.server.addr(), &traffic).await?;
    // Elsewhere (device B), `changed` documents change: a field of a customer, a line of
    // an order.
    let mut rng = Rng::new(5);
    let now = jiuloop_cli::now_ms();
    let step = (ids.len() / changed.max(1)).max(1);
    let targets: Vec<DocId> = ids.iter().step_by(step).take(changed).copied().collect();
    for (n, id) in targets.iter().enumerate() {
        if n % 2 == 0 && bdev.replica().customer(*id).is_ok() {
            bdev.replica().set_customer(*id, "phone", &format!("1390000{n:04}"), now)?;
        } else if bdev.replica().order(*id).is_ok() {
            bdev.replica().add_order_line(*id, &records::line(&mut rng, None), now)?;
        } else {
            bdev.replica().set_customer(*id, "phone", &format!("1390000{n:04}"), now)?;
        }
    }
    bdev.persist()?;
    let pushed = bdev.sync_once(b.server.addr(), &Traffic::default()).await?;

    let traffic = Traffic::default();
    let (t0, mark, cpu0) = (Instant::now(), b.server.mark(), super::procfs::self_cpu_secs());
    let s = a.sync_once(b.server.addr(), &traffic).await?;
    let mut r = b.report("reconnect", t0, mark, cpu0, traffic.snapshot());
    // The fixed part: the hello, and the CaughtUp frame with its header.
    let noop_traffic = Traffic::default();
    let (t1, mark1, cpu1) = (Instant::now(), b.server.mark(), super::procfs::self_cpu_secs());
    let noop = a.sync_once(b.server.addr(), &noop_traffic).await?;
    let mut rn = b.report("reconnect-nothing-changed", t1, mark1, cpu1, noop_traffic.snapshot());
    let fixed_down = noop.bytes_received;
    let ratio = |num: u64, den: u64| (den > 0).then(|| round3(num as f64 / den as f64));
    r.set("what", "a device holding N documents reconnects; M changed elsewhere (SQLite profile, jiuloop_cli::sync)")
        .set("docs_held", a.replica().doc_count())
        .set("docs_changed", changed)
        .set("change_bytes_pushed_elsewhere", pushed.change_bytes_sent)
        .set("down_bytes_per_change_byte", ratio(s.bytes_received, s.change_bytes_received))
        .set(
            "down_bytes_minus_handshake_per_change_byte",
            ratio(s.bytes_received.saturating_sub(fixed_down), s.change_bytes_received),
        );
    let mut errors = 0;
    if s.received_docs != changed as u64 || s.frames_sent != 1 {
        r.errors += 1;
        r.error_samples.push(format!("{} documents received, {} frames sent", s.received_docs, s.frames_sent));
    }
    errors += r.errors;
    r.print();
    rn.set("docs_held", a.replica().doc_count());
    if (noop.frames_sent, noop.frames_received) != (1, 1) {
        rn.errors += 1;
        rn.error_samples.push(format!("{} frames up, {} down", noop.frames_sent, noop.frames_received));
    }
    errors += rn.errors;
    rn.print();
    Ok(errors)
}

async fn rss(bin: &std::path::Path, args: &BenchArgs) -> Result<u64> {
    let stored = args.n(args.stored, 3000, 100_000);
    let devices = args.n(args.devices, 1, 1);
    let cache = if args.cache.is_empty() {
        if args.quick { vec![200, 1000] } else { vec![1000, 5000, 20000] }
    } else {
        args.cache.clone()
    };
    let touch = args.n(args.touch, 2000, 30_000);
    let first = *cache.first().unwrap_or(&5000);
    let sizes = Sizes {
        reps: devices,
        docs: 2,
        edits: 0,
        connected: devices,
        rate: 0.0,
        stored,
        reps_per_territory: devices,
        fanout_secs: 0.0,
        fanout_docs: 1,
        cache_docs: first,
        rest_cache: cache,
        rest_touch: touch,
        rest_devices: devices,
        rest_cold: !args.no_cold,
        lean: false,
    };
    let mut run = Run::setup(bin, sizes, 3, 4, &[], &[], 1).await?;
    run.rest().await?;
    Ok(run.total_errors)
}
