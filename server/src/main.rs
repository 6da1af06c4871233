//! `jiuloop-server`: run the sync server, manage users, seed a demo company.

mod demo;

use anyhow::Context;
use clap::{Parser, Subcommand};
use jiuloop_server::admin::AdminCommand;
use jiuloop_server::analytics;
use jiuloop_server::storage::Database;
use jiuloop_server::storage::analytics::{AnalyticsStore, SqliteAnalytics};
use jiuloop_server::{Accounts, Config, Role, UserSpec};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Parser)]
#[command(name = "jiuloop-server", version, about = "jiuloop central sync server")]
struct Cli {
    /// Data directory (holds jiuloop.db; created if missing).
    #[arg(long, global = true, value_name = "DIR", default_value = Config::DEFAULT_DATA_DIR)]
    data: PathBuf,
    /// A PostgreSQL database shared by several servers
    /// (postgres://user:password@host:port/database); default: the SQLite file in --data.
    #[arg(long, global = true, value_name = "URL", env = "JIULOOP_DATABASE_URL")]
    database: Option<String>,
    /// Log lines on stderr as text (default) or as one JSON object each (for a log shipper).
    #[arg(long, global = true, value_name = "FORMAT", env = "JIULOOP_LOG_FORMAT", default_value = "text")]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP/WebSocket server.
    Serve {
        /// Address to listen on (port 0 picks a free port).
        #[arg(long, value_name = "ADDR", default_value = Config::DEFAULT_LISTEN)]
        listen: String,
        /// Documents kept loaded in memory.
        #[arg(long, value_name = "N", default_value_t = Config::DEFAULT_CACHE_DOCS)]
        cache_docs: usize,
        /// Lifetime of a login token, in seconds.
        #[arg(long, value_name = "S", default_value_t = Config::DEFAULT_TOKEN_TTL_SECS)]
        token_ttl_secs: u64,
        /// Compact a document into a snapshot once it has more than N stored chunks.
        #[arg(long, value_name = "N", default_value_t = Config::DEFAULT_COMPACT_AFTER)]
        compact_after: u32,
        /// Serve the browser app built into DIR (by scripts/build-web.sh) at `/`.
        #[arg(long, value_name = "DIR", env = "JIULOOP_WEB")]
        web: Option<PathBuf>,
        /// Open connections (HTTP and sync) at most; more are refused at once.
        #[arg(long, value_name = "N", default_value_t = Config::DEFAULT_MAX_CONNECTIONS)]
        max_connections: usize,
        /// Open connections from one client address at most (raise it behind a proxy or
        /// NAT that many devices share).
        #[arg(long, value_name = "N", default_value_t = Config::DEFAULT_MAX_CONNECTIONS_PER_ADDRESS)]
        max_connections_per_address: usize,
        /// Threads checking login passwords (each holds 19 MiB of Argon2 memory).
        #[arg(long, value_name = "N", default_value_t = Config::DEFAULT_LOGIN_THREADS)]
        login_threads: usize,
        /// Logins that may wait for a password check; more are answered "busy" at once.
        #[arg(long, value_name = "N", default_value_t = Config::DEFAULT_LOGIN_QUEUE)]
        login_queue: usize,
        /// The largest attachment (receipt photo, contract scan) accepted, in MB; fractions
        /// allowed (0.5).
        #[arg(long, value_name = "MB", default_value_t = 20.0)]
        max_blob_mb: f64,
        /// Do not run the analysis projection here (another node or `analytics catch-up` does).
        #[arg(long)]
        no_analytics: bool,
        /// Terminate TLS here (https://, wss://) with this PEM certificate chain; reloaded
        /// with the key on SIGHUP.
        #[arg(long, value_name = "FILE", requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// The PEM private key of --tls-cert.
        #[arg(long, value_name = "FILE", requires = "tls_cert")]
        tls_key: Option<PathBuf>,
    },
    /// Seed a demo company into an empty data directory: users for every role (passwords
    /// printed; all of them JIULOOP_PASSWORD when set), two territories, the example price
    /// policy, customers, visits and orders in every status.
    Demo,
    /// Back the data directory's database up into a new file while the server runs
    /// (consistent, compacted, verified; attachments beside it as FILE.blobs/).
    Backup {
        #[arg(long, value_name = "FILE")]
        to: PathBuf,
    },
    /// Check a backup: every document loads and has the heads its index says.
    VerifyBackup { file: PathBuf },
    /// Put a backup back as the data directory's database (stop the server first; the
    /// database it replaces is kept). Devices that synced since send their data again.
    Restore {
        #[arg(long, value_name = "FILE")]
        from: PathBuf,
    },
    /// The servers that use the database: live ones (a heartbeat within 10 s), stopped and
    /// lost ones.
    Nodes {
        #[arg(long)]
        json: bool,
    },
    /// Copy a data directory's SQLite database into an empty PostgreSQL database (stop the
    /// server first), then check every document's heads there.
    Migrate {
        /// The data directory to copy from.
        #[arg(long, value_name = "DIR")]
        from: PathBuf,
        /// The PostgreSQL database to copy into (postgres://user:password@host:port/db).
        #[arg(long, value_name = "URL")]
        to: String,
    },
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage devices.
    #[command(subcommand)]
    Device(DeviceCommand),
    /// Customers (admin operations).
    #[command(subcommand)]
    Customer(CustomerCommand),
    /// The price policy (价格体系): import a CSV file as a new version, show the latest.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// What departments were told about orders (assignments to logistics and finance).
    Notifications {
        /// Only this department's (logistics, finance, market, executive, …).
        #[arg(long, value_name = "NAME")]
        department: Option<String>,
        /// Only those about this document (an order, a report, a forecast, a violation report).
        #[arg(long, value_name = "ID", visible_alias = "order")]
        subject: Option<String>,
        /// Show at most the N latest.
        #[arg(long, value_name = "N", default_value_t = 1000)]
        limit: i64,
        #[arg(long)]
        json: bool,
    },
    /// The one-time effects the server recorded for a document: a report's publication and
    /// read receipts, a partner's deductions, a violation report counted (times in Asia/Shanghai).
    Effects {
        #[arg(long, value_name = "ID")]
        doc: String,
        #[arg(long)]
        json: bool,
    },
    /// The analysis read model: rebuild it from the change feed, its status, the records
    /// it cannot count, SKU costs for gross profit.
    #[command(subcommand)]
    Analytics(AnalyticsCommand),
    /// An indicator's table from the read model (revenue, volume, profit, new_customers,
    /// conversion, complaints, visits), by period, with the period before and a year before.
    Report {
        indicator: String,
        /// day, week, month, quarter or year.
        #[arg(long, default_value = "month")]
        period: String,
        /// First day (YYYY-MM-DD, Asia/Shanghai); default: 1 January this year.
        #[arg(long)]
        from: Option<String>,
        /// Last day (inclusive); default: 31 December this year.
        #[arg(long)]
        to: Option<String>,
        /// Breakdown: total, territory, region, rep, channel, series, sku.
        #[arg(long, default_value = "total")]
        by: String,
        #[arg(long)]
        territory: Option<String>,
        #[arg(long)]
        region: Option<String>,
        #[arg(long)]
        rep: Option<String>,
        #[arg(long)]
        channel: Option<String>,
        #[arg(long)]
        series: Option<String>,
        #[arg(long)]
        sku: Option<String>,
        #[arg(long, conflicts_with = "csv")]
        json: bool,
        #[arg(long)]
        csv: bool,
    },
    /// The periodic analysis report of a month, quarter or year (2026-03, 2026-Q1, 2026):
    /// every table, as CSV (default), JSON or a printable HTML page.
    #[command(name = "period-report")]
    PeriodReport {
        period: String,
        #[arg(long, conflicts_with = "html")]
        json: bool,
        #[arg(long)]
        html: bool,
        /// zh (default) or en.
        #[arg(long, default_value = "zh")]
        lang: String,
    },
    /// Rep assessment scorecards of a period (2026-03, 2026-Q1, 2026), ranked in team.
    Scorecards {
        #[arg(long)]
        period: String,
        #[arg(long)]
        json: bool,
    },
    /// Who changed what, from which device, and when (times in Asia/Shanghai).
    Audit {
        /// A document's history.
        #[arg(long, value_name = "ID", conflicts_with = "user", required_unless_present = "user")]
        doc: Option<String>,
        /// What a user did.
        #[arg(long, value_name = "NAME")]
        user: Option<String>,
        /// Show at most the N latest entries.
        #[arg(long, value_name = "N", default_value_t = 1000)]
        limit: i64,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum AnalyticsCommand {
    /// Drop every projected row and project the whole change feed again (a running
    /// server's projection carries on from the rebuilt cursor).
    Rebuild,
    /// Bring the read model up to date now (what a running server does by itself).
    CatchUp,
    /// The projection's cursor against the feed, and the rows it holds.
    Status {
        #[arg(long)]
        json: bool,
    },
    /// Records that cannot be counted, with the reason.
    Problems {
        #[arg(long)]
        json: bool,
    },
    /// Set a SKU's cost per unit in fen (for gross profit); `--remove` forgets it.
    Cost {
        sku: String,
        #[arg(required_unless_present = "remove")]
        fen: Option<i64>,
        #[arg(long)]
        remove: bool,
    },
}

#[derive(Subcommand)]
enum DeviceCommand {
    /// List devices (of one user).
    List {
        #[arg(long, value_name = "NAME")]
        user: Option<String>,
    },
    /// Revoke a device: its tokens are revoked for good and its open connections close at
    /// once.
    Revoke { id: String },
}

#[derive(Subcommand)]
enum CustomerCommand {
    /// Move a customer, with its visits and orders, to another territory. Takes effect at
    /// once on a running server: devices that may no longer read them forget them.
    Reassign {
        id: String,
        #[arg(long)]
        territory: String,
        /// The new owning rep (an existing user).
        #[arg(long, value_name = "NAME")]
        owner: Option<String>,
    },
}

#[derive(Subcommand)]
enum PolicyCommand {
    /// Publish FILE.csv (format: examples/policy.csv) as a new version, numbered the file's
    /// version or one above the latest, whichever is higher. Every bad row is reported with
    /// its line number and nothing is applied. Takes effect at once on a running server:
    /// connected devices receive it, and orders it applies to are re-checked.
    Import { file: PathBuf },
    /// The latest published version (with --upcoming: announced adjustments not yet in force).
    Show {
        #[arg(long)]
        upcoming: bool,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user; the password is read from the JIULOOP_PASSWORD environment variable.
    Add {
        name: String,
        /// rep, manager, logistics, finance, legal, after-sales, quality, market,
        /// executive or admin.
        #[arg(long)]
        role: Role,
        #[arg(long)]
        territory: Option<String>,
        /// The user's manager (an existing user).
        #[arg(long, value_name = "NAME")]
        manager: Option<String>,
    },
    /// List users.
    List,
    /// Disable a user: their tokens are revoked for good and their open connections close
    /// at once.
    Disable { name: String },
    /// Enable a disabled user again (they log in anew; no old token works again).
    Enable { name: String },
}

/// How long a command waits for the running server to carry it out.
const ADMIN_WAIT: Duration = Duration::from_secs(15);

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Seeding a demo company talks to its own server: show only what goes wrong.
    init_tracing(if matches!(cli.command, Command::Demo) { "warn,automerge=off" } else { "info" }, cli.log_format);
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("jiuloop-server: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// A figure as people read it: yuan for fen, cases with two decimals, percent for bp.
fn show_value(v: i64, unit: &str) -> String {
    match unit {
        "fen" => protocol::schema::order::format_fen(v),
        "cases_x100" => format!("{}.{:02}", v / 100, (v % 100).abs()),
        "bp" => format!("{}.{:02}%", v / 100, (v % 100).abs()),
        _ => v.to_string(),
    }
}

fn analytics_command(database: &Database, data: &std::path::Path, cmd: AnalyticsCommand) -> anyhow::Result<()> {
    use analytics::projector::Projector;
    let store = SqliteAnalytics::open_in(data)?;
    match cmd {
        AnalyticsCommand::Rebuild | AnalyticsCommand::CatchUp => {
            let rebuild = matches!(cmd, AnalyticsCommand::Rebuild);
            let mut p = Projector::new(database.open()?, Box::new(store));
            let started = std::time::Instant::now();
            if rebuild {
                p.reset()?;
            }
            let docs = p.catch_up()?;
            let counts = p.store().counts()?;
            println!(
                "{} {docs} document(s) up to sequence number {} in {:.1} s: {} orders, {} customers, {} visits, {} complaints; {} uncountable",
                if rebuild { "rebuilt from" } else { "projected" },
                counts.cursor,
                started.elapsed().as_secs_f64(),
                counts.orders,
                counts.customers,
                counts.visits,
                counts.complaints,
                counts.problems
            );
            Ok(())
        }
        AnalyticsCommand::Status { json } => {
            let counts = store.counts()?;
            let feed = database.open()?.max_seq()?;
            if json {
                let v = serde_json::json!({"feed_seq": feed, "lag": (feed - counts.cursor).max(0), "counts": counts});
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                println!(
                    "cursor {} of {} ({} behind); {} orders ({} lines), {} customers, {} visits, {} complaints; {} uncountable",
                    counts.cursor,
                    feed,
                    (feed - counts.cursor).max(0),
                    counts.orders,
                    counts.lines,
                    counts.customers,
                    counts.visits,
                    counts.complaints,
                    counts.problems
                );
            }
            Ok(())
        }
        AnalyticsCommand::Problems { json } => {
            let problems = store.problems()?;
            let id = |b: &[u8]| uuid::Uuid::from_slice(b).map(|u| u.to_string()).unwrap_or_default();
            if json {
                let v: Vec<_> = problems
                    .iter()
                    .map(|p| serde_json::json!({"id": id(&p.doc_id), "kind": p.kind, "reason": p.reason, "detail": p.detail}))
                    .collect();
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                let mut rows = vec![["ID", "KIND", "REASON", "DETAIL"].map(String::from)];
                for p in &problems {
                    rows.push([id(&p.doc_id), p.kind.clone(), p.reason.clone(), p.detail.clone()]);
                }
                print!("{}", table(&rows));
            }
            Ok(())
        }
        AnalyticsCommand::Cost { sku, fen, remove } => {
            let cost = if remove { None } else { fen };
            if cost.is_some_and(|c| c < 0) {
                anyhow::bail!("a cost cannot be negative");
            }
            store.set_cost(&sku, cost)?;
            match cost {
                Some(c) => println!("cost of {sku}: {} per unit", protocol::schema::order::format_fen(c)),
                None => println!("cost of {sku} removed"),
            }
            Ok(())
        }
    }
}

fn init_tracing(default: &str, format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    // A log line that cannot be written (stderr on a full disk) is lost, nothing else: by
    // default the subscriber would report it with `eprintln!`, which panics when stderr
    // fails — in whichever thread logged, the sync hub's included.
    let logs =
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).log_internal_errors(false);
    match format {
        LogFormat::Text => logs.with_ansi(std::io::stderr().is_terminal()).init(),
        // {"timestamp", "level", "fields": {"message", …}, "target"}, one object a line.
        LogFormat::Json => logs.json().init(),
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let database = Database::choose(cli.database.as_deref(), &cli.data)?;
    match cli.command {
        Command::Serve {
            listen,
            cache_docs,
            token_ttl_secs,
            compact_after,
            web,
            max_connections,
            max_connections_per_address,
            login_threads,
            login_queue,
            max_blob_mb,
            no_analytics,
            tls_cert,
            tls_key,
        } => {
            if !(max_blob_mb > 0.0 && max_blob_mb <= 1024.0) {
                anyhow::bail!("--max-blob-mb must be above 0 and at most 1024");
            }
            let config = Config {
                listen,
                cache_docs,
                token_ttl: Duration::from_secs(token_ttl_secs),
                compact_after,
                web_dir: web,
                max_connections,
                max_connections_per_address,
                login_threads,
                login_queue,
                analytics: !no_analytics,
                database_url: cli.database.clone(),
                max_blob_bytes: (max_blob_mb * 1024.0 * 1024.0) as u64,
                tls: tls_cert.zip(tls_key).map(|(cert, key)| jiuloop_server::TlsFiles { cert, key }),
                ..Config::new(cli.data)
            };
            serve(config)
        }
        Command::Backup { to } => {
            if database.is_shared() {
                anyhow::bail!("back up a PostgreSQL database with its own tools (pg_dump); this backs up --data DIR");
            }
            println!("{}", jiuloop_server::storage::backup::backup(&cli.data, &to)?);
            Ok(())
        }
        Command::VerifyBackup { file } => {
            let n = jiuloop_server::storage::backup::verify(&file)?;
            println!("backup {} is sound: {n} documents load with the heads their index holds", file.display());
            Ok(())
        }
        Command::Restore { from } => {
            if jiuloop_server::admin::instance_lock::is_server_running(&cli.data) {
                anyhow::bail!("a server is running on {}: stop it first (nothing was restored)", cli.data.display());
            }
            let now = jiuloop_server::accounts::now_ms();
            println!("{}", jiuloop_server::storage::backup::restore(&from, &cli.data, now)?);
            Ok(())
        }
        Command::Nodes { json } => {
            let db = database.open()?;
            let now = jiuloop_server::accounts::now_ms();
            let running_here = match &database {
                Database::Sqlite(dir) => jiuloop_server::admin::instance_lock::is_server_running(dir),
                Database::Postgres(_) => false,
            };
            let rows: Vec<(jiuloop_server::storage::NodeRow, &str)> = db
                .nodes()?
                .into_iter()
                .enumerate()
                .map(|(i, n)| {
                    let status = match (&database, n.stopped_at) {
                        (_, Some(_)) => "stopped",
                        (Database::Sqlite(_), None) if i == 0 && running_here => "live",
                        (Database::Postgres(_), None) if n.is_live(now) => "live",
                        (_, None) => "lost",
                    };
                    (n, status)
                })
                .collect();
            if json {
                let list: Vec<_> = rows
                    .iter()
                    .map(|(n, status)| {
                        serde_json::json!({
                            "id": n.id, "address": n.address, "version": n.version, "status": status,
                            "started_at": protocol::time::rfc3339(n.started_at),
                            "heartbeat_at": protocol::time::rfc3339(n.heartbeat_at),
                        })
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&list)?);
                return Ok(());
            }
            let mut table_rows = vec![[
                "NODE".to_string(),
                "ADDRESS".into(),
                "VERSION".into(),
                "STATUS".into(),
                "STARTED".into(),
                "LAST HEARTBEAT".into(),
            ]];
            for (n, status) in &rows {
                table_rows.push([
                    n.id.clone(),
                    n.address.clone(),
                    n.version.clone(),
                    status.to_string(),
                    protocol::time::rfc3339(n.started_at),
                    protocol::time::rfc3339(n.heartbeat_at),
                ]);
            }
            print!("{}", table(&table_rows));
            Ok(())
        }
        Command::Migrate { from, to } => {
            if jiuloop_server::admin::instance_lock::is_server_running(&from) {
                anyhow::bail!("a server is running on {}: stop it first (nothing was copied)", from.display());
            }
            if !from.join("jiuloop.db").is_file() {
                anyhow::bail!("{} holds no jiuloop.db (nothing was copied)", from.display());
            }
            let source = jiuloop_server::storage::SqliteDb::open_in(&from)?;
            let target = jiuloop_server::storage::PgStorage::connect(&to)?;
            let report = jiuloop_server::storage::copy::sqlite_to_postgres(&source, &target)?;
            println!("{report}");
            if from.join("blobs").is_dir() {
                use jiuloop_server::storage::blob;
                let files = blob::FsBlobStore::open(&from.join("blobs"))?;
                let (n, bytes) =
                    blob::copy_all(&files, &jiuloop_server::storage::postgres::PgBlobStore::connect(&to)?)?;
                println!("copied {n} attachments ({bytes} bytes), each verified by its hash");
            }
            println!("now start the nodes with --database {}", jiuloop_server::storage::postgres::redact(&to));
            Ok(())
        }
        Command::Demo => {
            demo::run(&cli.data, &database, std::env::var("JIULOOP_PASSWORD").ok().filter(|p| !p.is_empty()))
        }
        Command::User(UserCommand::Add { name, role, territory, manager }) => {
            let password = std::env::var("JIULOOP_PASSWORD").map_err(|_| {
                anyhow::anyhow!("set JIULOOP_PASSWORD to the new user's password (at least 8 characters)")
            })?;
            let accounts = open_accounts(&database)?;
            let spec = UserSpec { name, password, role, territory, manager };
            accounts.add_user(&spec, jiuloop_server::accounts::now_ms())?;
            println!("added user {} ({})", spec.name.trim(), spec.role);
            Ok(())
        }
        Command::User(UserCommand::List) => {
            let users = open_accounts(&database)?.list_users()?;
            let mut rows = vec![["NAME", "ROLE", "TERRITORY", "MANAGER", "STATUS", "CREATED"].map(String::from)];
            for u in users {
                rows.push([
                    u.name.clone(),
                    u.role.to_string(),
                    u.territory.clone().unwrap_or_else(|| "-".into()),
                    u.manager.clone().unwrap_or_else(|| "-".into()),
                    if u.disabled { "disabled" } else { "active" }.into(),
                    protocol::time::rfc3339(u.created_at),
                ]);
            }
            print!("{}", table(&rows));
            Ok(())
        }
        Command::User(UserCommand::Disable { name }) => {
            if !open_accounts(&database)?.set_user_disabled(&name, true)? {
                anyhow::bail!("no user '{name}'");
            }
            let closed = admin(&database, AdminCommand::CloseUser { user: name.clone() })?;
            println!("disabled user {name}; {closed}");
            Ok(())
        }
        Command::User(UserCommand::Enable { name }) => {
            if !open_accounts(&database)?.set_user_disabled(&name, false)? {
                anyhow::bail!("no user '{name}'");
            }
            println!("enabled user {name}");
            Ok(())
        }
        Command::Device(DeviceCommand::List { user }) => {
            let devices = open_accounts(&database)?.list_devices(user.as_deref())?;
            println!("{:<36} {:<20} {:<24} {:<8} CREATED", "ID", "USER", "NAME", "STATUS");
            for d in devices {
                println!(
                    "{:<36} {:<20} {:<24} {:<8} {}",
                    d.id,
                    d.user,
                    d.name,
                    if d.revoked { "revoked" } else { "active" },
                    protocol::time::rfc3339(d.created_at)
                );
            }
            Ok(())
        }
        Command::Device(DeviceCommand::Revoke { id }) => {
            let device = uuid::Uuid::parse_str(id.trim()).map_err(|_| anyhow::anyhow!("'{id}' is not a device id"))?;
            if !open_accounts(&database)?.set_device_revoked(device, true)? {
                anyhow::bail!("no device {device}");
            }
            let closed = admin(&database, AdminCommand::CloseDevice { device })?;
            println!("revoked device {device}; {closed}");
            Ok(())
        }
        Command::Analytics(cmd) => analytics_command(&database, &cli.data, cmd),
        Command::Scorecards { period, json } => {
            let p = analytics::period::Period::parse(&period)
                .filter(|p| {
                    use analytics::period::PeriodKind as K;
                    matches!(p.kind, K::Month | K::Quarter | K::Year)
                })
                .ok_or_else(|| anyhow::anyhow!("not an assessment period (2026-03, 2026-Q1, 2026): {period}"))?;
            let store = SqliteAnalytics::open_in(&cli.data)?;
            let reps = analytics::assessment::reps(&*database.open()?)?;
            let cards = analytics::assessment::scorecards(&store, &reps, p, false)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&cards)?);
            } else {
                let mut rows =
                    vec![["TEAM", "RANK", "REP", "FINAL", "REWARD/PENALTY", "LOCKED"].map(String::from).to_vec()];
                for c in &cards {
                    let recorded: i64 = c.sanctions.iter().map(|s| s.amount_fen).sum();
                    rows.push(vec![
                        c.team.clone().unwrap_or_else(|| "-".into()),
                        format!("{}/{}", c.rank, c.team_size),
                        c.rep.clone(),
                        show_value(c.final_x100, "bp").trim_end_matches('%').to_string(),
                        if c.sanctions.is_empty() { "-".into() } else { protocol::schema::order::format_fen(recorded) },
                        if c.locked { "yes" } else { "no" }.into(),
                    ]);
                }
                print!("{}", table_of(&rows));
            }
            Ok(())
        }
        Command::PeriodReport { period, json, html, lang } => {
            use analytics::period::{Period, PeriodKind};
            let p = Period::parse(&period)
                .filter(|p| matches!(p.kind, PeriodKind::Month | PeriodKind::Quarter | PeriodKind::Year))
                .ok_or_else(|| anyhow::anyhow!("not a report period (2026-03, 2026-Q1, 2026): {period}"))?;
            let lang: protocol::schema::Lang = lang.parse().map_err(|e: String| anyhow::anyhow!(e))?;
            let store = SqliteAnalytics::open_in(&cli.data)?;
            let r = analytics::report::build(&store, p, Role::Admin, "admin", &[])?;
            if json {
                println!("{}", serde_json::to_string_pretty(&r)?);
            } else if html {
                print!("{}", analytics::report::to_html(&r, lang));
            } else {
                print!("{}", analytics::report::to_report_csv(&r, lang));
            }
            Ok(())
        }
        Command::Report {
            indicator,
            period,
            from,
            to,
            by,
            territory,
            region,
            rep,
            channel,
            series,
            sku,
            json,
            csv,
        } => {
            let mut pairs = vec![("period".to_string(), period), ("by".to_string(), by)];
            let opts = [
                ("from", from),
                ("to", to),
                ("territory", territory),
                ("region", region),
                ("rep", rep),
                ("channel", channel),
                ("series", series),
                ("sku", sku),
            ];
            pairs.extend(opts.into_iter().filter_map(|(k, v)| v.map(|v| (k.to_string(), v))));
            let now = jiuloop_server::accounts::now_ms();
            let q = analytics::parse_query(&indicator, &pairs, now).map_err(|e| anyhow::anyhow!(e))?;
            let store = SqliteAnalytics::open_in(&cli.data)?;
            let t = analytics::run(&store, &q, &analytics::indicators::Scope::All)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&t)?);
            } else if csv {
                print!("{}", analytics::indicators::to_csv(&t));
            } else {
                let mut head = vec!["PERIOD".to_string(), t.by.to_uppercase()];
                head.extend(t.columns.iter().map(|c| c.name.to_uppercase()));
                head.extend(t.columns.iter().map(|c| format!("{}_PREV", c.name.to_uppercase())));
                let mut rows = vec![head];
                for r in &t.rows {
                    let mut row = vec![r.period.clone(), if r.key.is_empty() { "all".into() } else { r.key.clone() }];
                    row.extend(r.values.iter().zip(&t.columns).map(|(v, c)| show_value(*v, c.unit)));
                    row.extend(
                        r.previous.iter().zip(&t.columns).map(|(v, c)| v.map_or("-".into(), |v| show_value(v, c.unit))),
                    );
                    rows.push(row);
                }
                print!("{}", table_of(&rows));
            }
            Ok(())
        }
        Command::Customer(CustomerCommand::Reassign { id, territory, owner }) => {
            let customer: protocol::DocId = id.parse().map_err(|_| anyhow::anyhow!("'{id}' is not a document id"))?;
            println!("{}", admin(&database, AdminCommand::Reassign { customer, territory, owner })?);
            Ok(())
        }
        Command::Policy(PolicyCommand::Import { file }) => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read the policy file {}", file.display()))?;
            let policy = match protocol::pricing::parse_policy_csv(&text) {
                Ok(p) => p,
                Err(errors) => {
                    for e in &errors {
                        eprintln!("{}: {e}", file.display());
                    }
                    anyhow::bail!("{} bad row(s) in {}; nothing was applied", errors.len(), file.display());
                }
            };
            println!("{}", admin(&database, AdminCommand::PublishPolicy { policy: Box::new(policy) })?);
            Ok(())
        }
        Command::Policy(PolicyCommand::Show { upcoming, json }) => {
            let db = database.open()?;
            let versions = jiuloop_server::policy::published(&*db)?;
            let Some(latest) = versions.last() else { anyhow::bail!("no price policy has been published") };
            let now = jiuloop_server::accounts::now_ms();
            if json {
                let upcoming: Vec<_> = if upcoming { latest.policy.upcoming_adjustments(now) } else { Vec::new() };
                let v = serde_json::json!({
                    "version": latest.version,
                    "versions": versions.iter().map(|v| v.version).collect::<Vec<_>>(),
                    "published_at": protocol::time::rfc3339(latest.published_at),
                    "published_by": latest.published_by,
                    "policy": latest.policy,
                    "upcoming": upcoming,
                });
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                print!("{}", jiuloop_server::policy::render(latest, upcoming, now));
            }
            Ok(())
        }
        Command::Notifications { department, subject, limit, json } => {
            let db = database.open()?;
            let subject = match subject {
                Some(o) => {
                    Some(o.parse::<protocol::DocId>().map_err(|_| anyhow::anyhow!("'{o}' is not a document id"))?)
                }
                None => None,
            };
            let list = jiuloop_server::notifications::list(&*db, department.as_deref(), subject, limit)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else if list.is_empty() {
                println!("no notifications");
            } else {
                print!("{}", jiuloop_server::notifications::render(&list));
            }
            Ok(())
        }
        Command::Effects { doc, json } => {
            let db = database.open()?;
            let id: protocol::DocId = doc.parse().map_err(|_| anyhow::anyhow!("'{doc}' is not a document id"))?;
            let rows = db.effects_of(id.as_bytes(), None)?;
            if json {
                let list: Vec<serde_json::Value> = rows
                    .iter()
                    .map(|e| {
                        serde_json::json!({
                            "kind": e.effect, "key": e.key, "at": protocol::time::rfc3339(e.at),
                            "payload": serde_json::from_str::<serde_json::Value>(&e.data).unwrap_or_default(),
                        })
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else if rows.is_empty() {
                println!("no effects");
            } else {
                for e in rows {
                    println!("{}  {:<18} {:<36} {}", protocol::time::display_local(e.at), e.effect, e.key, e.data);
                }
            }
            Ok(())
        }
        Command::Audit { doc, user, limit, json } => {
            let db = database.open()?;
            let entries = match (doc, user) {
                (Some(doc), _) => {
                    let id: protocol::DocId =
                        doc.parse().map_err(|_| anyhow::anyhow!("'{doc}' is not a document id"))?;
                    jiuloop_server::audit::of_doc(&*db, id, limit)?
                }
                (None, Some(user)) => jiuloop_server::audit::of_user(&*db, &user, limit)?,
                (None, None) => anyhow::bail!("give --doc ID or --user NAME"),
            };
            if json {
                println!("{}", serde_json::to_string_pretty(&entries)?);
            } else if entries.is_empty() {
                println!("no entries");
            } else {
                print!("{}", jiuloop_server::audit::render(&entries));
            }
            Ok(())
        }
    }
}

/// Rows as columns aligned by display width (a Chinese character takes two columns).
fn table<const N: usize>(rows: &[[String; N]]) -> String {
    let rows: Vec<Vec<String>> = rows.iter().map(|r| r.to_vec()).collect();
    table_of(&rows)
}

/// Rows of any width, columns aligned by display width.
fn table_of(rows: &[Vec<String>]) -> String {
    use unicode_width::UnicodeWidthStr;
    let n = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0usize; n];
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.width());
        }
    }
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            line.push_str(cell);
            if i + 1 < row.len() {
                line.push_str(&" ".repeat(widths[i] - cell.width() + 1));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn admin(database: &Database, command: AdminCommand) -> anyhow::Result<String> {
    let outcome = jiuloop_server::admin::submit(database, &command, ADMIN_WAIT)?;
    if outcome.ok { Ok(outcome.message) } else { Err(anyhow::anyhow!(outcome.message)) }
}

fn open_accounts(database: &Database) -> anyhow::Result<Accounts> {
    Ok(Accounts::new(database.open()?, Duration::from_secs(Config::DEFAULT_TOKEN_TTL_SECS)))
}

fn serve(config: Config) -> anyhow::Result<()> {
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the async runtime")?;
    runtime.block_on(async {
        let data = config.data_dir.clone();
        let database = config.database()?;
        // The blocking database clients stay off the async threads.
        let no_users = tokio::task::spawn_blocking(move || {
            open_accounts(&database).and_then(|a| Ok(a.list_users()?)).is_ok_and(|u| u.is_empty())
        });
        let server = jiuloop_server::start(config).await?;
        let mut out = std::io::stdout().lock();
        writeln!(out, "jiuloop-server listening on {}://{}", server.scheme(), server.local_addr())?;
        if no_users.await.unwrap_or(false) {
            writeln!(
                out,
                "no users yet: create the first admin with\n  JIULOOP_PASSWORD='…' jiuloop-server --data {} user add admin --role admin\n\
                 or seed a demo company into a new directory: scripts/run-server.sh --demo",
                data.display()
            )?;
        }
        out.flush()?;
        drop(out);
        if let Some(tls) = server.tls() {
            reload_on_hangup(tls)?;
        }
        server.run_until(shutdown_signal()).await?;
        Ok(())
    })
}

/// Read the TLS certificate and key again on each SIGHUP (new connections get them).
fn reload_on_hangup(tls: std::sync::Arc<jiuloop_server::ServerTls>) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut hangups = signal(SignalKind::hangup()).context("cannot listen for SIGHUP")?;
        tokio::spawn(async move {
            while hangups.recv().await.is_some() {
                let tls = tls.clone();
                // Reading files stays off the async threads.
                let _ = tokio::task::spawn_blocking(move || tls.reload_logged()).await;
            }
        });
    }
    #[cfg(not(unix))]
    let _ = tls;
    Ok(())
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
