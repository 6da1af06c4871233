//! `cargo run --release -p jiuloop-tests --bin analytics_bench -- [--changes N] [--reps N]`:
//! issue 13's figures.
//!
//! 1. A burst of N (default 10 000) accepted changes pushed by a rep over one real sync
//!    connection to an in-process server (customers, then submitted orders priced by the
//!    example policy; the hub writes a verdict for each), once with the analysis projection
//!    off and once with it on: the pushes' ack latency (p50/p99/max) both ways, and with it
//!    on the projection's lag after the burst (time and sequence numbers until it has caught
//!    up) and its live throughput.
//! 2. A rebuild of the read model from the same feed: throughput in changes/s.
//! 3. Dashboard query times over a year of synthetic rows: R reps (default 500) × 20 orders
//!    a week × 52 weeks, two lines each, written straight into a fresh read model (the
//!    per-day rollup maintained as they are written): each query computed from the orders
//!    (as before the rollup) and from the rollup, checked equal. `--queries-only`: only this.

use clap::Parser;
use jiuloop_server::analytics::indicators::Scope;
use jiuloop_server::analytics::projector::Projector;
use jiuloop_server::analytics::{self, parse_query};
use jiuloop_server::storage::analytics::{AnalyticsStore, CustomerFact, LineFact, OrderFact, SqliteAnalytics};
use jiuloop_server::{Accounts, Config, Role, UserSpec};
use jiuloop_tests::{Auth, LocalDoc, RawClient, TempDir};
use protocol::schema::order::{self, NewLine};
use protocol::schema::policy_doc::{self, POLICY_DOC_ID};
use protocol::{DocId, DocKind, ServerMsg};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

#[derive(Parser)]
struct Args {
    /// Changes in the burst.
    #[arg(long, default_value_t = 10_000)]
    changes: usize,
    /// Documents per push frame.
    #[arg(long, default_value_t = 50)]
    frame: usize,
    /// Reps in the synthetic year.
    #[arg(long, default_value_t = 500)]
    reps: usize,
    /// Only the dashboard queries (part 3).
    #[arg(long)]
    queries_only: bool,
}

const PASSWORD: &str = "analytics-bench-password";

fn now_ms() -> i64 {
    jiuloop_server::accounts::now_ms()
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

async fn client(addr: std::net::SocketAddr, user: &str) -> RawClient {
    let device = uuid::Uuid::new_v4();
    let body = serde_json::json!({"user": user, "password": PASSWORD, "device_id": device.to_string()});
    let r = jiuloop_tests::http::post_json(addr, "/api/login", &body).expect("login");
    assert_eq!(r.status, 200, "login {user}: {}", r.text());
    let token = r.json()["token"].as_str().expect("token").to_string();
    let mut c = RawClient::connect(addr, Auth::Bearer(&token), device).await;
    c.hello(0).await;
    c.catch_up().await;
    c
}

struct Burst {
    acks: Vec<Duration>,
    elapsed: Duration,
    /// Lag after the last ack: time until the projection had caught up, and sequence
    /// numbers behind at the last ack.
    lag: Option<(Duration, i64)>,
    feed_seq: i64,
    dir: TempDir,
}

async fn burst(args: &Args, with_analytics: bool) -> Burst {
    let dir = TempDir::new("analytics-bench");
    let accounts = Accounts::open_in(dir.path(), Duration::from_secs(3600)).expect("accounts");
    for (name, role) in [("li", Role::Rep), ("ma", Role::Market)] {
        let spec = UserSpec {
            name: name.into(),
            password: PASSWORD.into(),
            role,
            territory: Some("贵州".into()),
            manager: None,
        };
        accounts.add_user(&spec, now_ms()).expect("add user");
    }
    drop(accounts);
    let config = Config { analytics: with_analytics, ..Config::new(dir.path()).listen_on("127.0.0.1:0") };
    let server = jiuloop_server::start(config).await.expect("server");
    let addr = server.local_addr();

    // The market department publishes the example policy.
    let mut market = client(addr, "ma").await;
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/policy.csv")).expect("policy");
    let policy = protocol::pricing::parse_policy_csv(&text).expect("example policy");
    let mut doc = automerge::AutoCommit::new().with_actor(market.actor.clone());
    policy_doc::publish(&mut doc, &policy, now_ms(), "ma").expect("publish");
    let mut policy_doc = LocalDoc::from_doc(POLICY_DOC_ID, DocKind::Policy, doc);
    let answer = market.push(vec![policy_doc.chunk()]).await;
    assert!(matches!(answer, ServerMsg::Ack { .. }), "policy: {answer:?}");

    let mut rep = client(addr, "li").await;
    let customers = (args.changes / 5).max(1);
    let mut docs: Vec<LocalDoc> = Vec::with_capacity(args.changes);
    let mut ids: Vec<DocId> = Vec::new();
    for n in 0..customers {
        let mut c = LocalDoc::new_customer_in(&rep.actor, &format!("客户{n}"), "贵州");
        c.set_customer("channel", "restaurant");
        ids.push(c.id);
        docs.push(c);
    }
    for n in 0..args.changes.saturating_sub(customers) {
        let mut o = LocalDoc::new_order(&rep.actor, ids[n % ids.len()], "li");
        let line = NewLine {
            id: "l1".into(),
            sku: "SC-52-500".into(),
            spec: None,
            qty: 1 + (n as i64 % 12),
            unit_price_fen: 53_900,
        };
        order::add_line(&mut o.doc, &line).expect("line");
        order::record_event(&mut o.doc, "submitted", now_ms(), "li").expect("submit");
        docs.push(o);
    }
    let projection = server.projection();
    let started = Instant::now();
    let mut acks = Vec::new();
    for frame in docs.chunks_mut(args.frame.max(1)) {
        let chunks = frame.iter_mut().map(|d| d.chunk()).collect();
        let sent = Instant::now();
        let answer = rep.push(chunks).await;
        assert!(matches!(answer, ServerMsg::Ack { .. }), "push: {answer:?}");
        acks.push(sent.elapsed());
    }
    let elapsed = started.elapsed();
    let feed = jiuloop_server::storage::open_sqlite(dir.path()).expect("feed");
    let feed_seq = feed.max_seq().expect("max seq");
    let lag = match projection {
        Some(p) => {
            let behind = feed_seq - p.cursor.load(Ordering::Relaxed);
            let t = Instant::now();
            while p.cursor.load(Ordering::Relaxed) < feed_seq {
                assert!(t.elapsed() < Duration::from_secs(600), "projection did not catch up");
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            Some((t.elapsed(), behind))
        }
        None => None,
    };
    rep.close().await;
    market.close().await;
    server.shutdown().await.expect("shutdown");
    acks.sort();
    Burst { acks, elapsed, lag, feed_seq, dir }
}

fn print_acks(label: &str, b: &Burst) {
    println!(
        "  {label:<22} {} frames in {:.2} s: ack p50 {}, p99 {}, max {}",
        b.acks.len(),
        b.elapsed.as_secs_f64(),
        ms(pct(&b.acks, 0.5)),
        ms(pct(&b.acks, 0.99)),
        ms(pct(&b.acks, 1.0))
    );
}

fn synthetic_year(store: &SqliteAnalytics, reps: usize) -> (usize, Duration) {
    let started = Instant::now();
    let year = analytics::period::Period::parse("2026").expect("year");
    let (start, _) = year.utc_range();
    store.begin().expect("begin");
    let territories = 20;
    let customers_per_rep = 10;
    for r in 0..reps {
        for k in 0..customers_per_rep {
            let id = ((r * customers_per_rep + k) as u64).to_be_bytes().to_vec();
            store
                .put_customer(&CustomerFact {
                    id,
                    name: format!("客户{r}-{k}"),
                    territory: Some(format!("T{}", r % territories)),
                    region: Some(format!("R{}", r % 5)),
                    channel: Some(["restaurant", "distributor", "direct-store"][k % 3].into()),
                    owner: Some(format!("rep{r}")),
                    created_by: format!("rep{r}"),
                    created_at: start + (k as i64) * 86_400_000,
                    class: None,
                    class_changes: vec![],
                })
                .expect("customer");
        }
    }
    let mut orders = 0;
    let skus = [("SC-52-500", "蜀醇", 53_900, 6), ("QY-53-500", "黔韵", 119_900, 6), ("JX-42-500", "晋香", 8_900, 12)];
    for week in 0..52i64 {
        for r in 0..reps {
            for n in 0..20 {
                let i = orders as u64;
                let (sku, series, price, per_case) = skus[(n + r) % 3];
                let qty = 1 + (i % 24) as i64;
                let lines = vec![
                    LineFact {
                        line_id: "1".into(),
                        sku: sku.into(),
                        series: Some(series.into()),
                        unit: "bottle".into(),
                        qty,
                        bottles: qty,
                        bottles_per_case: per_case,
                        amount_fen: qty * price,
                    },
                    LineFact {
                        line_id: "2".into(),
                        sku: "SC-52-500X6".into(),
                        series: Some("蜀醇".into()),
                        unit: "case".into(),
                        qty: 1,
                        bottles: 6,
                        bottles_per_case: 6,
                        amount_fen: 323_400,
                    },
                ];
                let at = start + week * 7 * 86_400_000 + (n as i64) * 3_600_000 * 7;
                let customer = ((r * customers_per_rep + n % customers_per_rep) as u64).to_be_bytes().to_vec();
                store
                    .put_order(&OrderFact {
                        id: (i | 1 << 63).to_be_bytes().to_vec(),
                        customer: Some(customer),
                        rep: format!("rep{r}"),
                        territory: None,
                        status: "confirmed".into(),
                        counted: !i.is_multiple_of(50),
                        ordered_at: at,
                        confirmed_at: Some(at),
                        cancelled_after_confirmation: i.is_multiple_of(50),
                        exceptions: String::new(),
                        total_fen: lines.iter().map(|l| l.amount_fen).sum(),
                        seq: 0,
                        lines,
                    })
                    .expect("order");
                orders += 1;
            }
        }
    }
    store.commit().expect("commit");
    (orders, started.elapsed())
}

fn bursts(runtime: &tokio::runtime::Runtime, args: &Args) {
    println!("1. a burst of {} accepted changes, {} documents a frame, one connection", args.changes, args.frame);
    let off = runtime.block_on(burst(args, false));
    print_acks("projection off:", &off);
    let on = runtime.block_on(burst(args, true));
    print_acks("projection on:", &on);
    if let Some((t, behind)) = on.lag {
        println!("  lag after the burst: {behind} sequence numbers behind at the last ack, caught up {} later", ms(t));
        let total = on.elapsed + t;
        println!(
            "  live projection: {} sequence numbers (the hub's verdicts included) in {:.2} s = {:.0} changes/s",
            on.feed_seq,
            total.as_secs_f64(),
            on.feed_seq as f64 / total.as_secs_f64()
        );
    }

    println!("2. rebuild from the same feed");
    let store = SqliteAnalytics::open_in(on.dir.path()).expect("store");
    let feed = jiuloop_server::storage::open_sqlite(on.dir.path()).expect("feed");
    let mut p = Projector::new(feed, Box::new(store));
    let t = Instant::now();
    p.reset().expect("reset");
    let docs = p.catch_up().expect("catch up");
    let e = t.elapsed();
    let counts = p.store().counts().expect("counts");
    println!(
        "  {} sequence numbers ({docs} documents: {} orders, {} customers) in {:.2} s = {:.0} changes/s",
        counts.cursor,
        counts.orders,
        counts.customers,
        e.as_secs_f64(),
        counts.cursor as f64 / e.as_secs_f64()
    );
}

fn main() {
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    println!("analytics bench: {} cores", std::thread::available_parallelism().map_or(0, |n| n.get()));

    if !args.queries_only {
        bursts(&runtime, &args);
    }

    println!("3. dashboard queries over a year of {} reps × 20 orders a week", args.reps);
    let dir = TempDir::new("analytics-year");
    let store = SqliteAnalytics::open_in(dir.path()).expect("store");
    let (orders, took) = synthetic_year(&store, args.reps);
    let cells = store.counts().expect("counts").sales_days;
    println!("  wrote {orders} orders (2 lines each; {cells} rollup cells) in {:.1} s", took.as_secs_f64());
    let queries: [(&str, &str, Scope); 6] = [
        ("revenue", "period=month", Scope::All),
        ("revenue", "period=month&by=rep", Scope::All),
        ("revenue", "period=quarter&by=territory", Scope::All),
        ("volume", "period=month&by=series", Scope::All),
        ("revenue", "period=week&by=channel", Scope::Territories(vec!["T1".into(), "T2".into()])),
        ("revenue", "period=month", Scope::Own("rep7".into())),
    ];
    for (indicator, q, scope) in queries {
        let mut pairs: Vec<(String, String)> =
            q.split('&').filter_map(|kv| kv.split_once('=')).map(|(k, v)| (k.into(), v.into())).collect();
        pairs.push(("from".into(), "2026-01-01".into()));
        pairs.push(("to".into(), "2026-12-31".into()));
        let query = parse_query(indicator, &pairs, now_ms()).expect("query");
        // The same question from the orders themselves (the query before the rollup) and
        // from the per-day rollup.
        let t = Instant::now();
        let facts = analytics::run_on_facts(&store, &query, &scope).expect("run on facts");
        let on_facts = t.elapsed();
        let t = Instant::now();
        let table = analytics::run(&store, &query, &scope).expect("run");
        let on_rollup = t.elapsed();
        assert_eq!(table, facts, "the rollup's figures are the facts'");
        println!(
            "  {indicator:<8} {q:<30} {:?}: {} rows: from the orders {}, from the rollup {}",
            scope,
            table.rows.len(),
            ms(on_facts),
            ms(on_rollup)
        );
    }
}
