//! `jiuloop-server`: run the sync server, manage users.

use anyhow::Context;
use clap::{Parser, Subcommand};
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
    #[command(subcommand)]
    command: Command,
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
    },
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("jiuloop-server: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve { listen, cache_docs, token_ttl_secs, compact_after } => {
            let config = Config {
                data_dir: cli.data,
                listen,
                cache_docs,
                token_ttl: Duration::from_secs(token_ttl_secs),
                compact_after,
            };
            serve(config)
        }
        Command::User(UserCommand::Add { name, role, territory, manager }) => {
            let password = std::env::var("JIULOOP_PASSWORD").map_err(|_| {
                anyhow::anyhow!("set JIULOOP_PASSWORD to the new user's password (at least 8 characters)")
            })?;
            let accounts = open_accounts(&cli.data)?;
            let spec = UserSpec { name, password, role, territory, manager };
            accounts.add_user(&spec, jiuloop_server::accounts::now_ms())?;
            println!("added user {} ({})", spec.name.trim(), spec.role);
            Ok(())
        }
        Command::User(UserCommand::List) => {
            let users = open_accounts(&cli.data)?.list_users()?;
            println!("{:<20} {:<12} {:<16} {:<20} {:<9} CREATED", "NAME", "ROLE", "TERRITORY", "MANAGER", "STATUS");
            for u in users {
                println!(
                    "{:<20} {:<12} {:<16} {:<20} {:<9} {}",
                    u.name,
                    u.role,
                    u.territory.as_deref().unwrap_or("-"),
                    u.manager.as_deref().unwrap_or("-"),
                    if u.disabled { "disabled" } else { "active" },
                    protocol::time::rfc3339(u.created_at)
                );
            }
            Ok(())
        }
    }
}

fn open_accounts(data: &std::path::Path) -> anyhow::Result<Accounts> {
    Ok(Accounts::open_in(data, Duration::from_secs(Config::DEFAULT_TOKEN_TTL_SECS))?)
}

fn serve(config: Config) -> anyhow::Result<()> {
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the async runtime")?;
    runtime.block_on(async {
        let server = jiuloop_server::start(config).await?;
        let mut out = std::io::stdout().lock();
        writeln!(out, "jiuloop-server listening on http://{}", server.local_addr())?;
        out.flush()?;
        drop(out);
        server.run_until(shutdown_signal()).await?;
        Ok(())
    })
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
