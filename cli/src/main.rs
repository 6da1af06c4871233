//! `jiuloop`: the native command-line client. Every command except `login`, `logout` and
//! `sync` works offline: it reads and writes the local profile only.

mod aftersales;
mod contracts;
mod generic;
mod output;
mod presales;

use anyhow::{Context, Result, anyhow, bail};
use clap::{Parser, Subcommand};
use jiuloop_cli::http::{self, ServerUrl};
use jiuloop_cli::{Profile, now_ms};
use output::Out;
use protocol::schema::customer::NewCustomer;
use protocol::schema::order::NewLine;
use protocol::schema::visit::NewVisit;
use protocol::schema::{Channel, CustomerClass, ExceptionKind, Lang, OrderSource, VisitKind, VisitMethod};
use protocol::{DocId, DocKind};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "jiuloop", version, about = "jiuloop 白酒销售闭环管理 — offline-first client")]
struct Cli {
    /// Profile directory (one per device and user).
    #[arg(long, env = "JIULOOP_PROFILE", default_value = "jiuloop-profile", global = true)]
    profile: PathBuf,
    /// Language of the output: zh (default) or en.
    #[arg(long, env = "JIULOOP_LANG", default_value = "zh", global = true)]
    lang: Lang,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Log in to the sync server (password from JIULOOP_PASSWORD).
    Login {
        /// https://host[:port] (or http://host:port without TLS).
        #[arg(long)]
        server: String,
        #[arg(long)]
        user: String,
        /// Trust this company CA (PEM) besides the system's; remembered in the profile.
        #[arg(long, value_name = "FILE")]
        ca: Option<PathBuf>,
    },
    /// Log out: the server forgets the token; local data stays.
    Logout,
    /// Sync with the server until both sides hold the same data.
    Sync {
        #[arg(long)]
        json: bool,
    },
    /// What this device holds and what waits to be sent.
    Status {
        #[arg(long)]
        json: bool,
    },
    /// Customers (客户).
    #[command(subcommand)]
    Customer(CustomerCmd),
    /// Visit logs (拜访记录).
    #[command(subcommand)]
    Visit(VisitCmd),
    /// Orders (订单).
    #[command(subcommand)]
    Order(OrderCmd),
    /// The price policy (价格体系) this device holds.
    #[command(subcommand)]
    Policy(PolicyCmd),
    /// Orders waiting for an approval you can give.
    #[command(subcommand)]
    Approvals(ApprovalsCmd),
    /// Complaints (投诉): file, work each step, the after-sales queue by SLA time left.
    #[command(subcommand)]
    Complaint(aftersales::ComplaintCmd),
    /// Quality issues (质量问题) of a SKU and batch, their steps and recall lists.
    #[command(subcommand)]
    Quality(aftersales::QualityCmd),
    /// Revisits (回访): plans, tasks, records, the archive per customer.
    #[command(subcommand)]
    Revisit(aftersales::RevisitCmd),
    /// Customer care (客户关怀): the care calendar and its tasks.
    #[command(subcommand)]
    Care(aftersales::CareCmd),
    /// Sales contracts (销售合同): draft, legal's review with clause comments, signing, archive and inventory.
    #[command(subcommand)]
    Contract(contracts::ContractCmd),
    /// Expense budgets (销售费用预算) by item and month, their versions.
    #[command(subcommand)]
    Budget(contracts::BudgetCmd),
    /// Expense requests, supplementary requests and claims (费用申请 / 追加 / 报销).
    #[command(subcommand)]
    Expense(contracts::ExpenseCmd),
    /// Attachments (附件): fetch one, list those held here.
    #[command(subcommand)]
    Attach(contracts::AttachCmd),
    /// Edits the server refused, with the reason.
    Inbox {
        #[arg(long)]
        json: bool,
    },
    /// Create a record of any kind: `new KIND FIELD=VALUE…` (prints its id).
    New(generic::NewArgs),
    /// Set fields of any record: `set ID FIELD=VALUE…` (all or nothing).
    Set(generic::SetArgs),
    /// Show any record, its fields labelled in --lang.
    Show(generic::ShowArgs),
    /// List the records of a kind: `list KIND [--where FIELD=VALUE]…`.
    List(generic::ListArgs),
    /// Every kind of record: fields, types, vocabularies, who reads and creates it.
    Kinds(generic::KindsArgs),
    /// Whom to visit today, in priority order (overdue and due follow-ups, planned visits,
    /// development prospects) — offline.
    Today(presales::TodayArgs),
    /// Take a workflow step on a record (approve, publish, sign, cancel …); without a step,
    /// its status, history and the steps open to you.
    Step(presales::StepArgs),
    /// Record that you read a distributed market report or trend forecast.
    Read(presales::ReadArgs),
    /// Market reports (市场调研报告): printable page, competitor-price summary as CSV.
    #[command(subcommand)]
    Report(presales::ReportCmd),
    /// Each customer's next follow-up from the A/B/C cadence; overdue ones, per rep.
    Followups(presales::FollowUpsArgs),
    /// Conversion per rep and period: C→B, B→A, first orders.
    Conversion(presales::ConversionArgs),
    /// Visit plans (拜访计划).
    #[command(subcommand, name = "visit-plan")]
    VisitPlan(presales::VisitPlanCmd),
    /// Planned against actual visits per rep and week.
    #[command(name = "planned-vs-actual")]
    PlannedVsActual(presales::PlannedVsActualArgs),
    /// Channel partners (渠道合作伙伴): their evaluation.
    #[command(subcommand)]
    Partner(presales::PartnerCmd),
    /// Report cross-region selling (窜货) or a price violation found in the field.
    Violation(presales::ViolationArgs),
    /// Customer development plans (客户开发计划): targets and progress.
    #[command(subcommand)]
    Devplan(presales::DevPlanCmd),
    /// Product plans (产品规划): an approved plan's SKUs as draft catalogue rows.
    #[command(subcommand, name = "product-plan")]
    ProductPlan(presales::ProductPlanCmd),
    /// The A/B/C follow-up cadence policy.
    #[command(subcommand)]
    Cadence(presales::CadenceCmd),
}

#[derive(Subcommand)]
enum CustomerCmd {
    Add {
        #[arg(long)]
        name: String,
        #[arg(long)]
        phone: Option<String>,
        #[arg(long)]
        channel: Option<Channel>,
        #[arg(long)]
        class: Option<CustomerClass>,
        #[arg(long)]
        region: Option<String>,
    },
    Set {
        id: String,
        field: String,
        value: String,
    },
    AddContact {
        id: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        phone: Option<String>,
        #[arg(long)]
        title: Option<String>,
        /// YYYY-MM-DD: the care calendar's birthday greetings go by it.
        #[arg(long)]
        birthday: Option<String>,
    },
    List {
        #[arg(long)]
        json: bool,
    },
    Show {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Import customers from CSV (header: name,phone,channel,class,region). All or nothing.
    Import {
        file: PathBuf,
    },
    /// Move a customer, with its visits and orders, to another territory (managers).
    Reassign {
        id: String,
        #[arg(long)]
        territory: String,
        #[arg(long)]
        owner: Option<String>,
    },
}

#[derive(Subcommand)]
enum PolicyCmd {
    /// The policy in force (and scheduled adjustments with --upcoming).
    Show {
        #[arg(long)]
        upcoming: bool,
        #[arg(long)]
        json: bool,
    },
    /// Publish a new policy version from a CSV file (market department).
    Import { file: PathBuf },
}

#[derive(Subcommand)]
enum ApprovalsCmd {
    List {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum VisitCmd {
    Add {
        #[arg(long)]
        customer: String,
        #[arg(long)]
        kind: VisitKind,
        #[arg(long, default_value = "")]
        notes: String,
        #[arg(long)]
        method: Option<VisitMethod>,
        /// The visit plan this visit carries out (it completes the plan).
        #[arg(long)]
        plan: Option<String>,
    },
    Set {
        id: String,
        field: String,
        value: String,
    },
    List {
        #[arg(long)]
        customer: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum OrderCmd {
    New {
        #[arg(long)]
        customer: String,
        #[arg(long, default_value = "electronic")]
        source: OrderSource,
    },
    AddLine {
        id: String,
        #[arg(long)]
        sku: String,
        #[arg(long)]
        qty: i64,
        #[arg(long = "unit-price")]
        unit_price: i64,
        #[arg(long)]
        spec: Option<String>,
    },
    Set {
        id: String,
        field: String,
        value: String,
    },
    /// Change a line's quantity and/or unit price (LINE: its id or 1-based position).
    SetLine {
        id: String,
        line: String,
        #[arg(long)]
        qty: Option<i64>,
        #[arg(long = "unit-price")]
        unit_price: Option<i64>,
    },
    Show {
        id: String,
        #[arg(long)]
        json: bool,
    },
    List {
        #[arg(long)]
        json: bool,
    },
    /// Offline price preview: lines, discounts, total, approvals needed.
    Price {
        id: String,
        #[arg(long)]
        json: bool,
    },
    Submit {
        id: String,
    },
    Approve {
        id: String,
        #[arg(long, default_value = "")]
        comment: String,
    },
    Reject {
        id: String,
        #[arg(long, default_value = "")]
        comment: String,
    },
    PayConfirm {
        id: String,
    },
    Ship {
        id: String,
        #[arg(long)]
        carrier: String,
        #[arg(long)]
        tracking: String,
        /// The batch number (批次号) a line ships with: LINE=BATCH, LINE its id or 1-based
        /// position; repeat for more lines or batches.
        #[arg(long = "batch", value_name = "LINE=BATCH")]
        batches: Vec<String>,
    },
    Deliver {
        id: String,
        #[arg(long)]
        feedback: Option<String>,
    },
    Exception {
        id: String,
        #[arg(long)]
        kind: ExceptionKind,
        #[arg(long, default_value = "")]
        note: String,
    },
    Resolve {
        id: String,
        #[arg(long, default_value = "")]
        note: String,
    },
    Cancel {
        id: String,
    },
    Close {
        id: String,
    },
    /// Legal or an executive: exempt an order from the signed contract it needs.
    WaiveContract {
        id: String,
        #[arg(long, default_value = "")]
        note: String,
    },
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if e.use_stderr() => {
            // One line, like every other error (the full usage is in --help).
            let text = e.to_string();
            eprintln!("{}", text.lines().next().unwrap_or("error: bad arguments"));
            return ExitCode::from(2);
        }
        Err(e) => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
    };
    let out = Out::new(cli.lang);
    match run(cli, &out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{}: {}", out.t("error"), tls_text(&e, &out).unwrap_or_else(|| format!("{e:#}")));
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli, out: &Out) -> Result<()> {
    let mut p = match Profile::open(&cli.profile) {
        Err(jiuloop_cli::ProfileError::Store(e)) if e.is_refused_file() => {
            bail!("{} ({e})", out.t("profile-refused").replace("{path}", &cli.profile.display().to_string()))
        }
        other => other.with_context(|| format!("profile {}", cli.profile.display()))?,
    };
    // JIULOOP_NOW (RFC 3339): what this device's clock says, for records dated by a device
    // whose clock is elsewhere (tests of period edges; the server holds stated times to
    // its window around their arrival either way).
    let now = std::env::var("JIULOOP_NOW").ok().and_then(|t| protocol::time::parse_rfc3339(&t)).unwrap_or_else(now_ms);
    // The commands that read the index or one document open the profile lazily; every
    // other one reads across documents and loads them all. JIULOOP_EAGER=1 loads them all
    // for every command (lists then read the documents, not the index: tests compare).
    let eager = std::env::var("JIULOOP_EAGER").is_ok_and(|v| v == "1");
    let lazy = !eager
        && matches!(
            cli.command,
            Command::Login { .. }
                | Command::Logout
                | Command::Sync { .. }
                | Command::Status { .. }
                | Command::Inbox { .. }
                | Command::Show(_)
                | Command::Set(_)
                | Command::List(_)
                | Command::Kinds(_)
                | Command::Order(OrderCmd::List { .. })
                | Command::Customer(CustomerCmd::List { .. })
        );
    if !lazy {
        p.load_all_docs()?;
    }
    match cli.command {
        Command::Login { server, user, ca } => login(&mut p, &server, &user, ca.as_deref(), out),
        Command::Logout => logout(&mut p, out),
        Command::Sync { json } => {
            let report = match runtime()?.block_on(jiuloop_cli::sync(&mut p)) {
                Err(e) if e.code() == Some(protocol::ErrorCode::StorageFull) => bail!("{}", out.t("storage-full")),
                other => other?,
            };
            if json {
                out.json(&report)
            } else {
                out.sync_summary(&report);
            }
            Ok(())
        }
        Command::Status { json } => {
            let (documents, pending) =
                if eager { (p.replica.doc_count() as u64, p.replica.unsent_docs().len() as u64) } else { p.counts()? };
            let status = serde_json::json!({
                "user": p.replica.user(),
                "server": p.meta("server")?,
                "device_id": p.device_id().to_string(),
                "documents": documents,
                "pending_docs": pending,
                "cursor": p.replica.cursor(),
                "last_sync": p.meta("last_sync")?.and_then(|s| s.parse::<i64>().ok()).map(protocol::time::rfc3339),
                "inbox": p.replica.inbox().len(),
            });
            if json {
                out.json(&status)
            } else {
                out.status(&status)
            }
            Ok(())
        }
        Command::Inbox { json } => {
            if json {
                out.json(&p.replica.inbox())
            } else {
                out.inbox(p.replica.inbox())
            }
            Ok(())
        }
        Command::Policy(PolicyCmd::Show { upcoming, json }) => {
            let Some(current) = p.replica.current_policy() else { bail!("{}", out.t("no-policy")) };
            if json {
                let upcoming: Vec<_> = if upcoming {
                    current.policy.upcoming_adjustments(now).into_iter().cloned().collect()
                } else {
                    vec![]
                };
                out.json(&serde_json::json!({
                    "version": current.version,
                    "published_at": protocol::time::rfc3339(current.published_at),
                    "published_by": current.published_by,
                    "policy": current.policy,
                    "upcoming": upcoming,
                }));
            } else {
                out.policy(&current, upcoming, now);
            }
            Ok(())
        }
        Command::Policy(PolicyCmd::Import { file }) => {
            p.require_user()?;
            let text = std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let mut policy = protocol::pricing::parse_policy_csv(&text).map_err(|errors| {
                let lines: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
                anyhow!("{}: {}", file.display(), lines.join("; "))
            })?;
            if let Some(latest) = p.replica.current_policy() {
                policy.version = policy.version.max(latest.version + 1);
            }
            p.replica.publish_policy(&policy, now)?;
            p.persist()?;
            println!("{}", policy.version);
            Ok(())
        }
        Command::Approvals(ApprovalsCmd::List { json }) => {
            let queue = p.replica.approvals_queue();
            if json {
                out.json(&queue)
            } else {
                out.approvals(&queue)
            }
            Ok(())
        }
        // A refusal of the core reads the same as in the browser: each field's reason in
        // the user's language, a refused write as who may not do what.
        Command::Customer(c) => {
            customer(&mut p, c, now, out).map_err(|e| generic::localized(&p, DocKind::Customer, e, out))
        }
        Command::Visit(c) => visit(&mut p, c, now, out).map_err(|e| generic::localized(&p, DocKind::Visit, e, out)),
        Command::Order(c) => order(&mut p, c, now, out).map_err(|e| generic::localized(&p, DocKind::Order, e, out)),
        Command::Complaint(c) => {
            aftersales::complaint(&mut p, c, now, out).map_err(|e| generic::localized(&p, DocKind::Complaint, e, out))
        }
        Command::Quality(c) => {
            aftersales::quality(&mut p, c, now, out).map_err(|e| generic::localized(&p, DocKind::QualityIssue, e, out))
        }
        Command::Revisit(c) => {
            aftersales::revisit(&mut p, c, now, out).map_err(|e| generic::localized(&p, DocKind::Revisit, e, out))
        }
        Command::Care(c) => {
            aftersales::care(&mut p, c, now, out).map_err(|e| generic::localized(&p, DocKind::CareTask, e, out))
        }
        Command::Contract(c) => {
            contracts::contract(&mut p, c, now, out).map_err(|e| generic::localized(&p, DocKind::Contract, e, out))
        }
        Command::Budget(c) => {
            contracts::budget(&mut p, c, now, out).map_err(|e| generic::localized(&p, DocKind::ExpenseBudget, e, out))
        }
        Command::Expense(c) => {
            contracts::expense(&mut p, c, now, out).map_err(|e| generic::localized(&p, DocKind::ExpenseClaim, e, out))
        }
        Command::Attach(c) => contracts::attach(&mut p, c, out),
        Command::New(a) => generic::new(&mut p, a, now, out),
        Command::Set(a) => generic::set(&mut p, a, now, out),
        Command::Show(a) => generic::show(&mut p, a, out),
        Command::List(a) => generic::list(&p, a, out),
        Command::Kinds(a) => generic::kinds(a, out),
        Command::Today(a) => presales::today(&p, a, now, out),
        Command::Step(a) => presales::step(&mut p, a, now, out),
        Command::Read(a) => presales::read(&mut p, a, now, out),
        Command::Report(c) => presales::report(&p, c, out),
        Command::Followups(a) => presales::follow_ups(&p, a, now, out),
        Command::Conversion(a) => presales::conversion(&p, a, now, out),
        Command::VisitPlan(c) => presales::visit_plan(&mut p, c, now, out),
        Command::PlannedVsActual(a) => presales::planned_vs_actual(&p, a, now, out),
        Command::Partner(c) => presales::partner(&p, c, out),
        Command::Violation(a) => presales::violation(&mut p, a, now, out),
        Command::Devplan(c) => presales::dev_plan(&mut p, c, now, out),
        Command::ProductPlan(c) => presales::product_plan(&p, c, out),
        Command::Cadence(c) => presales::cadence(&mut p, c, now, out),
    }
}

/// A failed TLS handshake, told in the user's language (rustls's words in brackets).
fn tls_text(e: &anyhow::Error, out: &Out) -> Option<String> {
    let failure = e
        .downcast_ref::<http::HttpError>()
        .and_then(http::HttpError::tls)
        .or_else(|| e.downcast_ref::<jiuloop_cli::SyncFailure>().and_then(jiuloop_cli::SyncFailure::tls))?;
    Some(format!(
        "{}: {} ({})",
        out.t("tls-failed").replace("{server}", &failure.server),
        out.t(failure.problem.key()),
        failure.detail
    ))
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread().enable_all().build()?)
}

fn login(p: &mut Profile, server: &str, user: &str, ca: Option<&std::path::Path>, out: &Out) -> Result<()> {
    let password = std::env::var("JIULOOP_PASSWORD").map_err(|_| anyhow!("set the password in JIULOOP_PASSWORD"))?;
    let url = ServerUrl::parse(server)?;
    // A company CA given now is remembered only once the login succeeded; without one, the
    // CA remembered from an earlier login still counts.
    let ca_pem = match ca {
        Some(file) => {
            let pem = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
            jiuloop_cli::tls::parse_ca(&pem).with_context(|| file.display().to_string())?;
            Some(pem)
        }
        None => None,
    };
    let tls = match &ca_pem {
        Some(pem) => jiuloop_cli::tls::client_config(Some(pem))?,
        None => p.tls_config()?,
    };
    let body = serde_json::json!({
        "user": user, "password": password,
        "device_id": p.device_id().to_string(),
        "device_name": format!("jiuloop-cli {}", p.dir().display()),
    });
    let resp = runtime()?.block_on(http::post_json_with(&tls, &url, "/api/login", None, &body))?;
    if resp.status != 200 {
        return Err(match resp.error_code() {
            Some(code) => anyhow!("login refused: {} ({code})", code.describe()),
            None => anyhow!("login failed: HTTP {}", resp.status),
        });
    }
    let v: serde_json::Value = serde_json::from_str(&resp.body).context("login answer")?;
    let token = v["token"].as_str().ok_or_else(|| anyhow!("login answer has no token"))?;
    let expires = v["expires_at"].as_str().unwrap_or_default();
    let previous = p.replica.user().to_string();
    if !previous.is_empty() && previous != user {
        bail!("this profile belongs to {previous}; use another --profile for {user}");
    }
    p.save_login(server.trim_end_matches('/'), user, token, expires)?;
    if ca_pem.is_some() {
        p.set_ca(ca_pem.as_deref())?;
    }
    p.set_meta("role", v["role"].as_str().unwrap_or_default())?;
    // An order's status depends on who prices it: every order's index row is recomputed.
    p.mark_orders_stale()?;
    p.set_meta("territory", v["territory"].as_str().unwrap_or_default())?;
    if let Some(list) = v.get("territories").filter(|t| t.is_array()) {
        p.set_meta("territories", &list.to_string())?;
    }
    println!("{}", out.t("logged-in").replace("{user}", user));
    Ok(())
}

fn logout(p: &mut Profile, out: &Out) -> Result<()> {
    let (server, token) = p.login()?;
    let url = ServerUrl::parse(&server)?;
    // Forget the token locally even if the server cannot be told now.
    let tls = p.tls_config()?;
    let told =
        runtime()?.block_on(http::post_json_with(&tls, &url, "/api/logout", Some(&token), &serde_json::json!({})));
    p.forget_token()?;
    match told {
        Ok(r) if r.status < 300 || r.status == 401 => println!("{}", out.t("logged-out")),
        Ok(r) => eprintln!("{} (HTTP {})", out.t("logged-out-locally"), r.status),
        Err(e) => eprintln!("{}: {e}", out.t("logged-out-locally")),
    }
    Ok(())
}

fn id_of(p: &Profile, text: &str, kind: DocKind) -> Result<DocId> {
    let id = p.replica.resolve_id(text, kind)?;
    Ok(id)
}

fn customer(p: &mut Profile, cmd: CustomerCmd, now: i64, out: &Out) -> Result<()> {
    match cmd {
        CustomerCmd::Add { name, phone, channel, class, region } => {
            p.require_user()?;
            let new = NewCustomer { name, phone, channel, class, region, owner: None, territory: p.territory()? };
            let id = p.replica.create_customer(&new, now)?;
            p.persist()?;
            println!("{id}");
        }
        CustomerCmd::Set { id, field, value } => {
            p.require_user()?;
            let id = id_of(p, &id, DocKind::Customer)?;
            p.replica.set_customer(id, &field, &value, now)?;
            p.persist()?;
        }
        CustomerCmd::AddContact { id, name, phone, title, birthday } => {
            p.require_user()?;
            let id = id_of(p, &id, DocKind::Customer)?;
            let mut inputs = vec![("name", name.as_str())];
            for (f, v) in [("phone", &phone), ("title", &title), ("birthday", &birthday)] {
                inputs.extend(v.as_deref().map(|v| (f, v)));
            }
            p.replica.add_record(id, "contacts", &inputs, now)?;
            p.persist()?;
        }
        CustomerCmd::Reassign { id, territory, owner } => {
            p.require_user()?;
            let id = id_of(p, &id, DocKind::Customer)?;
            p.replica.reassign_customer(id, &territory, owner.as_deref(), now)?;
            p.persist()?;
        }
        CustomerCmd::List { json } => {
            p.load_kind(DocKind::Customer)?;
            let all = p.replica.customers();
            if json { out.json(&all) } else { out.customers(&all) }
        }
        CustomerCmd::Show { id, json } => {
            let id = id_of(p, &id, DocKind::Customer)?;
            let c = p.replica.customer(id)?;
            if json {
                out.json(&c)
            } else {
                out.customer(&c, &p.replica.visits_of(id), &orders_with_status(&p.replica));
            }
        }
        CustomerCmd::Import { file } => {
            p.require_user()?;
            let text = std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let mut rows =
                parse_customer_csv(&text).map_err(|errors| anyhow!("{}: {}", file.display(), errors.join("; ")))?;
            let territory = p.territory()?;
            rows.iter_mut().for_each(|r| r.territory = territory.clone());
            let ids = p.replica.import_customers(&rows, now)?;
            p.persist()?;
            println!("{}", ids.len());
        }
    }
    Ok(())
}

/// Parse `name,phone,channel,class,region` rows. Every bad line is reported (1-based).
fn parse_customer_csv(text: &str) -> Result<Vec<NewCustomer>, Vec<String>> {
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
    let expected = ["name", "phone", "channel", "class", "region"];
    let Some((_, header)) = lines.next() else { return Err(vec!["file is empty".into()]) };
    let header: Vec<String> =
        header.trim_start_matches('\u{feff}').split(',').map(|h| h.trim().to_lowercase()).collect();
    if header != expected {
        return Err(vec![format!("line 1: header must be {}", expected.join(","))]);
    }
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for (i, line) in lines {
        let n = i + 1;
        let cells: Vec<&str> = line.split(',').map(str::trim).collect();
        if cells.len() != expected.len() {
            errors.push(format!("line {n}: {} fields, expected {}", cells.len(), expected.len()));
            continue;
        }
        let opt = |s: &str| (!s.is_empty()).then(|| s.to_string());
        let channel = match cells[2] {
            "" => Ok(None),
            s => s.parse::<Channel>().map(Some),
        };
        let class = match cells[3] {
            "" => Ok(None),
            s => s.parse::<CustomerClass>().map(Some),
        };
        match (cells[0].is_empty(), channel, class) {
            (true, _, _) => errors.push(format!("line {n}: name is empty")),
            (_, Err(e), _) => errors.push(format!("line {n}: channel {e}")),
            (_, _, Err(e)) => errors.push(format!("line {n}: class {e}")),
            (false, Ok(channel), Ok(class)) => rows.push(NewCustomer {
                name: cells[0].to_string(),
                phone: opt(cells[1]),
                channel,
                class,
                region: opt(cells[4]),
                owner: None,
                territory: None,
            }),
        }
    }
    if errors.is_empty() { Ok(rows) } else { Err(errors) }
}

fn visit(p: &mut Profile, cmd: VisitCmd, now: i64, out: &Out) -> Result<()> {
    match cmd {
        VisitCmd::Add { customer, kind, notes, method, plan: Some(plan) } => {
            p.require_user()?;
            let customer = id_of(p, &customer, DocKind::Customer)?;
            let plan = id_of(p, &plan, DocKind::VisitPlan)?;
            let method = method.map(|m| m.as_str());
            let id = presales::visit_for_plan(&mut p.replica, customer, plan, kind.as_str(), method, &notes, now)
                .map_err(|e| match e.field_errors() {
                    [] => anyhow!("{e}"),
                    errors => anyhow!("{}", generic::field_errors(DocKind::Visit, errors, out.lang())),
                })?;
            p.persist()?;
            println!("{id}");
        }
        VisitCmd::Add { customer, kind, notes, method, plan: None } => {
            p.require_user()?;
            let customer = id_of(p, &customer, DocKind::Customer)?;
            let id = p.replica.create_visit(&NewVisit { customer, kind, method, notes }, now)?;
            p.persist()?;
            println!("{id}");
        }
        VisitCmd::Set { id, field, value } => {
            p.require_user()?;
            let id = id_of(p, &id, DocKind::Visit)?;
            p.replica.set_visit(id, &field, &value, now)?;
            p.persist()?;
        }
        VisitCmd::List { customer, json } => {
            let customer = id_of(p, &customer, DocKind::Customer)?;
            p.replica.customer(customer)?;
            let visits = p.replica.visits_of(customer);
            if json { out.json(&visits) } else { out.visits(&visits) }
        }
    }
    Ok(())
}

fn order(p: &mut Profile, cmd: OrderCmd, now: i64, out: &Out) -> Result<()> {
    match cmd {
        OrderCmd::New { customer, source } => {
            p.require_user()?;
            let customer = id_of(p, &customer, DocKind::Customer)?;
            let id = p.replica.create_order(customer, source, now)?;
            p.persist()?;
            println!("{id}");
        }
        OrderCmd::AddLine { id, sku, qty, unit_price, spec } => {
            p.require_user()?;
            let id = id_of(p, &id, DocKind::Order)?;
            let line = NewLine { id: DocId::new_random().to_string(), sku, spec, qty, unit_price_fen: unit_price };
            p.replica.add_order_line(id, &line, now)?;
            p.persist()?;
        }
        OrderCmd::Set { id, field, value } => {
            p.require_user()?;
            let id = id_of(p, &id, DocKind::Order)?;
            p.replica.set_order(id, &field, &value, now)?;
            p.persist()?;
        }
        OrderCmd::SetLine { id, line, qty, unit_price } => {
            p.require_user()?;
            if qty.is_none() && unit_price.is_none() {
                bail!("give --qty and/or --unit-price");
            }
            let id = id_of(p, &id, DocKind::Order)?;
            p.replica.set_order_line(id, &line, qty, unit_price, now)?;
            p.persist()?;
        }
        OrderCmd::Show { id, json } => {
            let id = id_of(p, &id, DocKind::Order)?;
            let view = p.replica.order_view(id)?;
            if json {
                out.json(&view)
            } else {
                let customer = view.order.customer.and_then(|c| p.replica.customer(c).ok()).map(|c| c.name);
                out.order(&view, customer.as_deref());
            }
        }
        OrderCmd::Price { id, json } => {
            let id = id_of(p, &id, DocKind::Order)?;
            let Some(priced) = p.replica.price(id)? else { bail!("{}", out.t("no-policy")) };
            if json { out.json(&priced) } else { out.priced(&priced) }
        }
        OrderCmd::Submit { id } => step(p, &id, |r, id| r.submit_order(id, now))?,
        OrderCmd::Approve { id, comment } => step(p, &id, |r, id| r.decide_order(id, true, &comment, now))?,
        OrderCmd::Reject { id, comment } => step(p, &id, |r, id| r.decide_order(id, false, &comment, now))?,
        OrderCmd::PayConfirm { id } => step(p, &id, |r, id| r.confirm_payment(id, now))?,
        OrderCmd::Ship { id, carrier, tracking, batches } => {
            let batches = aftersales::batch_args(&batches)?;
            step(p, &id, |r, id| r.ship_order_with_batches(id, &carrier, &tracking, &batches, now))?
        }
        OrderCmd::Deliver { id, feedback } => step(p, &id, |r, id| r.deliver_order(id, feedback.as_deref(), now))?,
        OrderCmd::Exception { id, kind, note } => step(p, &id, |r, id| r.order_exception(id, kind, &note, now))?,
        OrderCmd::Resolve { id, note } => step(p, &id, |r, id| r.resolve_exception(id, &note, now))?,
        OrderCmd::Cancel { id } => step(p, &id, |r, id| r.cancel_order(id, now))?,
        OrderCmd::Close { id } => step(p, &id, |r, id| r.close_order(id, now))?,
        OrderCmd::WaiveContract { id, note } => step(p, &id, |r, id| r.waive_contract(id, &note, now))?,
        OrderCmd::List { json } if !p.all_loaded() => {
            // From the index: each order as `order show` has it, its status the view's.
            let mut rows: Vec<(serde_json::Value, String)> = p
                .listed(DocKind::Order)?
                .into_iter()
                .filter_map(|r| r.order)
                .map(|text| (serde_json::from_str(&text).unwrap_or_default(), text))
                .collect();
            let created = |o: &serde_json::Value| {
                o["created_at"].as_str().and_then(protocol::time::parse_rfc3339).unwrap_or_default()
            };
            rows.sort_by(|(a, _), (b, _)| created(b).cmp(&created(a)).then(a["id"].as_str().cmp(&b["id"].as_str())));
            if json {
                let texts: Vec<&str> = rows.iter().map(|(_, t)| t.as_str()).collect();
                println!("{}", jiuloop_cli::doc_index::pretty_list(&texts));
            } else {
                let listed: Vec<output::OrderRow> =
                    rows.iter().filter_map(|(o, _)| output::OrderRow::from_json(o)).collect();
                out.order_rows(&listed)
            }
        }
        OrderCmd::List { json } => {
            let all = orders_with_status(&p.replica);
            if json { out.json(&all) } else { out.orders(&all) }
        }
    }
    Ok(())
}

/// Every order with the status `order show` gives it (the lifecycle folded with the
/// approvals its verdict requires), so that lists and the order agree.
fn orders_with_status(r: &client_core::Replica) -> Vec<protocol::schema::order::Order> {
    r.orders()
        .into_iter()
        .map(|mut o| {
            if let Ok(v) = r.order_view(o.id) {
                o.status = v.lifecycle.status;
            }
            o
        })
        .collect()
}

/// One lifecycle step on an order: resolve the id, apply, persist.
fn step(
    p: &mut Profile,
    id: &str,
    f: impl FnOnce(&mut client_core::Replica, DocId) -> Result<(), client_core::CoreError>,
) -> Result<()> {
    p.require_user()?;
    let id = id_of(p, id, DocKind::Order)?;
    f(&mut p.replica, id)?;
    p.persist()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_customer_csv;

    #[test]
    fn csv_rows_are_checked_line_by_line() {
        let ok = "name,phone,channel,class,region\n贵阳酒行,0851-1,distributor,A,贵州\n\n成都餐饮,,restaurant,,四川\n";
        let rows = parse_customer_csv(ok).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].phone, None);
        let bad =
            "name,phone,channel,class,region\n,1,distributor,A,x\nok,1,wholesale,A,x\nok,1,distributor,Z,x\nok,1\n";
        let errors = parse_customer_csv(bad).unwrap_err();
        let lines: Vec<&str> = errors.iter().map(|e| e.split(':').next().unwrap()).collect();
        assert_eq!(lines, ["line 2", "line 3", "line 4", "line 5"]);
        assert!(parse_customer_csv("a,b\n").is_err());
        assert!(parse_customer_csv("").is_err());
    }
}
