//! Pre-sales and field planning on the command line (issue 12): `today`, workflow steps
//! and read receipts of any kind, market reports as a printable page and CSV, follow-ups,
//! conversion, visit plans and planned against actual, partners' evaluations, violation
//! reports, development-plan progress, the product plan's draft catalogue, the cadence
//! policy. Records are created and edited with the generic `new` / `set` (`jiuloop kinds`
//! lists the kinds); these commands are the steps and the views. Every one works offline.

use crate::generic::field_errors;
use crate::output::{Out, Table};
use anyhow::{Context, Result, anyhow, bail};
use chrono::NaiveDate;
use clap::{Args, Subcommand};
use client_core::field_plan::{self, PlanState};
use client_core::{CoreError, Replica};
use jiuloop_cli::Profile;
use protocol::kinds::presales::CADENCE_DOC_ID;
use protocol::schema::order::format_fen;
use protocol::schema::{CustomerClass, Lang};
use protocol::time::{display_local, shanghai_date};
use protocol::{DocId, DocKind};
use std::path::PathBuf;

/// (key, 中文, English)
const TEXTS: &[(&str, &str, &str)] = &[
    ("today", "今日待办 {date} · {user}（{n} 项）", "Today {date} · {user} ({n})"),
    (
        "today-empty",
        "今天没有待办：没有逾期或到期的跟进、计划拜访或开发目标",
        "nothing today: no overdue or due follow-ups, planned visits or prospects",
    ),
    ("customer", "客户", "Customer"),
    ("class", "分类", "Class"),
    ("why", "原因", "Why"),
    ("phone", "电话", "Phone"),
    ("strategy", "跟进策略", "Strategy"),
    ("owner", "负责销售", "Owner"),
    ("last-visit", "上次拜访", "Last visit"),
    ("next", "下次跟进", "Next follow-up"),
    ("source", "来源", "Source"),
    ("overdue", "逾期天数", "Days overdue"),
    ("manual", "手动", "manual"),
    ("cadence", "周期", "cadence"),
    ("rep", "销售", "Rep"),
    ("customers", "客户数", "Customers"),
    ("n-overdue", "逾期", "Overdue"),
    ("due-today", "今日到期", "Due today"),
    ("worst", "最长逾期（天）", "Worst (days)"),
    ("date", "日期", "Date"),
    ("purpose", "目的", "Purpose"),
    ("state", "状态", "State"),
    ("open", "待拜访", "open"),
    ("done", "已完成", "done"),
    ("missed", "未完成", "missed"),
    ("cancelled", "已取消", "cancelled"),
    ("week", "周", "Week"),
    ("planned", "计划", "Planned"),
    ("completed", "完成", "Completed"),
    ("visits", "实际拜访", "Visits"),
    ("unplanned", "计划外", "Unplanned"),
    ("c-to-b", "C→B", "C→B"),
    ("b-to-a", "B→A", "B→A"),
    ("first-orders", "首单", "First orders"),
    ("abc", "A/B/C 客户", "A/B/C customers"),
    ("no-rows", "（没有记录）", "(nothing)"),
    ("status", "状态", "Status"),
    ("author", "撰写", "Written by"),
    ("plan", "调研计划", "Research plan"),
    ("period", "统计期间", "Period"),
    ("scope", "统计区域", "Territory"),
    ("all", "全部", "all"),
    ("findings", "调研发现", "Findings"),
    ("summary", "竞品价格汇总", "Competitor prices"),
    (
        "by-server",
        "服务器于 {at} 汇总（发布时），{n} 条观察",
        "summarised by the server at {at} (on publication), {n} observations",
    ),
    ("preview", "本机预览（未发布），{n} 条观察", "preview on this device (not published), {n} observations"),
    ("conclusions", "结论", "Conclusions"),
    ("recommendations", "建议", "Recommendations"),
    ("receipts", "阅读回执", "Read receipts"),
    ("none-yet", "（尚无）", "(none yet)"),
    ("not-synced", "（未同步到服务器）", "(not yet on the server)"),
    (
        "no-evaluation",
        "服务器尚未评估该合作伙伴（同步后再看）",
        "the server has not evaluated this partner yet (sync, then look again)",
    ),
    ("criteria", "评选标准得分", "Criteria score"),
    ("deductions", "违规扣分", "Deductions"),
    ("targets", "目标客户", "Targets"),
    (
        "progress",
        "已拜访 {c} / 达到目标分类 {r} / 已下首单 {o}（共 {n}）",
        "visited {c} / reached class {r} / first order {o} (of {n})",
    ),
    ("cadence-title", "客户跟进策略", "Follow-up cadence"),
    ("every", "每 {d} 天", "every {d} days"),
    ("default", "（默认）", "(default)"),
    ("steps", "可执行步骤", "Steps you may take"),
];

fn t(lang: Lang, key: &str) -> &'static str {
    TEXTS.iter().find(|(k, _, _)| *k == key).map(|(_, zh, en)| if lang == Lang::Zh { *zh } else { *en }).unwrap_or("?")
}

fn class_label(c: Option<CustomerClass>, lang: Lang) -> String {
    c.map(|c| c.label(lang).to_string()).unwrap_or_else(|| "-".into())
}

fn date_arg(s: &str) -> Result<NaiveDate> {
    protocol::time::parse_date(s).ok_or_else(|| anyhow!("'{s}' is not a date (YYYY-MM-DD)"))
}

fn today_of(date: Option<&str>, now: i64) -> Result<NaiveDate> {
    match date {
        Some(d) => date_arg(d),
        None => Ok(shanghai_date(now)),
    }
}

fn print_csv(header: &[&str], rows: Vec<Vec<String>>) {
    print!("{}", field_plan::csv(header, rows));
}

fn core(p: &Profile, kind: DocKind, e: CoreError, out: &Out) -> anyhow::Error {
    match &e {
        CoreError::Schema(protocol::schema::SchemaError::Fields(errors)) => {
            anyhow!("{}", field_errors(kind, errors, out.lang()))
        }
        CoreError::NotAllowed { message, rule, .. } => {
            let role =
                p.replica.principal().map(|pr| protocol::pricing::role_label(pr.role, out.lang())).unwrap_or("?");
            if out.lang() == Lang::Zh {
                anyhow!("不允许（{role}，规则 {rule}）：{message}")
            } else {
                anyhow!("not allowed ({role}, rule {rule}): {message}")
            }
        }
        _ => anyhow!("{e}"),
    }
}

fn record_id(p: &Profile, text: &str) -> Result<(DocId, DocKind)> {
    let id = p.replica.resolve_any(text).map_err(|_| anyhow!("no record '{}' on this device", text.trim()))?;
    let kind = p.replica.kind_of(id).ok_or_else(|| anyhow!("no record '{}' on this device", text.trim()))?;
    Ok((id, kind))
}

fn typed_id(p: &Profile, text: &str, kind: DocKind) -> Result<DocId> {
    let (id, found) = record_id(p, text)?;
    if found != kind {
        bail!("{} is a {}, not a {}", id, found.spec().label(Lang::En), kind.spec().label(Lang::En));
    }
    Ok(id)
}

/// Create a record of `kind` from `(field, value)` inputs (empty values left out).
fn create(p: &mut Profile, kind: DocKind, inputs: &[(&str, String)], now: i64, out: &Out) -> Result<DocId> {
    p.require_user()?;
    let pairs: Vec<(&str, &str)> =
        inputs.iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| (*k, v.as_str())).collect();
    let id = p.replica.create(kind, &pairs, now).map_err(|e| core(p, kind, e, out))?;
    p.persist()?;
    Ok(id)
}

// ---- today ----------------------------------------------------------------------

#[derive(Args)]
pub struct TodayArgs {
    /// The day (YYYY-MM-DD, Asia/Shanghai); default today.
    #[arg(long)]
    date: Option<String>,
    /// Another rep's list (managers).
    #[arg(long)]
    rep: Option<String>,
    #[arg(long)]
    json: bool,
}

/// `jiuloop today`: whom to visit today, in priority order (offline).
pub fn today(p: &Profile, a: TodayArgs, now: i64, out: &Out) -> Result<()> {
    let lang = out.lang();
    let day = today_of(a.date.as_deref(), now)?;
    let user = a.rep.unwrap_or_else(|| p.replica.user().to_string());
    let items = p.replica.today(&user, day);
    if a.json {
        let list: Vec<serde_json::Value> = items
            .iter()
            .map(|i| {
                let mut v = serde_json::to_value(i).unwrap_or_default();
                v["texts"] = i.reasons.iter().map(|r| r.text(lang)).collect::<Vec<_>>().into();
                v
            })
            .collect();
        out.json(&serde_json::json!({ "date": day.to_string(), "rep": user, "items": list }));
        return Ok(());
    }
    if items.is_empty() {
        println!("{}", t(lang, "today-empty"));
        return Ok(());
    }
    println!(
        "{}",
        t(lang, "today")
            .replace("{date}", &day.to_string())
            .replace("{user}", &user)
            .replace("{n}", &items.len().to_string())
    );
    let mut table = Table::with_header(["#", t(lang, "customer"), t(lang, "class"), t(lang, "why"), t(lang, "phone")]);
    for (n, i) in items.iter().enumerate() {
        let why: Vec<String> = i.reasons.iter().map(|r| r.text(lang)).collect();
        table.row([
            (n + 1).to_string(),
            i.name.clone(),
            class_label(i.class, lang),
            why.join("\n"),
            i.phone.clone().unwrap_or_default(),
        ]);
    }
    table.indent(2).print();
    Ok(())
}

// ---- workflow steps and receipts ------------------------------------------------

#[derive(Args)]
pub struct StepArgs {
    /// The record (id or unique prefix).
    id: String,
    /// The step: approve, start, report, publish, submit, reject, revise, shortlist,
    /// negotiate, sign, terminate, drop, confirm, dismiss, cancel (as the kind allows).
    step: Option<String>,
    #[arg(long, default_value = "")]
    comment: String,
    /// Without a step: the status, the logs and the steps open to you as JSON.
    #[arg(long)]
    json: bool,
}

fn step_label(kind: DocKind, step: &str, lang: Lang) -> String {
    kind.spec()
        .workflow()
        .and_then(|(f, _)| match f.ty {
            protocol::kinds::FieldType::Log(l) => l.kind_key.and_then(|(_, v)| v.label(step, lang)),
            _ => None,
        })
        .unwrap_or(step)
        .to_string()
}

fn state_label(kind: DocKind, state: &str, lang: Lang) -> String {
    kind.spec().workflow().and_then(|(_, w)| w.states.label(state, lang)).unwrap_or(state).to_string()
}

/// `jiuloop step ID STEP [--comment C]`; without STEP, the status and the steps open to you.
pub fn step(p: &mut Profile, a: StepArgs, now: i64, out: &Out) -> Result<()> {
    let lang = out.lang();
    let (id, kind) = record_id(p, &a.id)?;
    let Some(step) = a.step else {
        let logs = p.replica.logs(id);
        if a.json {
            let status = logs.iter().find(|l| !l.receipts).map(|l| l.status).unwrap_or_default();
            out.json(
                &serde_json::json!({ "id": id.to_string(), "kind": kind.as_str(), "status": status, "logs": logs }),
            );
            return Ok(());
        }
        for l in logs.iter().filter(|l| !l.receipts) {
            println!("{}：{}", t(lang, "status"), state_label(kind, l.status, lang));
            for r in &l.timeline {
                let when = r
                    .received
                    .map(display_local)
                    .unwrap_or_else(|| format!("{} {}", display_local(r.at), t(lang, "not-synced")));
                let applied = if r.applied {
                    ""
                } else if lang == Lang::Zh {
                    "（未生效）"
                } else {
                    " (not applied)"
                };
                println!(
                    "  {when}  {}  {} ({}){applied}  {}",
                    step_label(kind, &r.kind, lang),
                    r.by,
                    r.role,
                    r.comment
                );
            }
            let steps: Vec<String> = l.steps.iter().map(|s| format!("{s}（{}）", step_label(kind, s, lang))).collect();
            println!("{}：{}", t(lang, "steps"), if steps.is_empty() { "-".into() } else { steps.join(" ") });
        }
        return Ok(());
    };
    p.require_user()?;
    p.replica.step(id, &step, &a.comment, now).map_err(|e| core(p, kind, e, out))?;
    p.persist()?;
    Ok(())
}

#[derive(Args)]
pub struct ReadArgs {
    id: String,
}

/// `jiuloop read ID`: record that you read a distributed report or forecast.
pub fn read(p: &mut Profile, a: ReadArgs, now: i64, out: &Out) -> Result<()> {
    p.require_user()?;
    let (id, kind) = record_id(p, &a.id)?;
    p.replica.mark_read(id, now).map_err(|e| core(p, kind, e, out))?;
    p.persist()?;
    Ok(())
}

// ---- market reports -------------------------------------------------------------

#[derive(Subcommand)]
pub enum ReportCmd {
    /// The report as a printable page: findings, the competitor-price summary (the
    /// server's once published, else a preview from this device), conclusions, receipts.
    Show {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// The competitor-price summary as CSV (UTF-8 with BOM; prices in yuan).
    Csv { id: String },
}

pub fn report(p: &Profile, cmd: ReportCmd, out: &Out) -> Result<()> {
    let lang = out.lang();
    let (id, json, csv) = match &cmd {
        ReportCmd::Show { id, json } => (id, *json, false),
        ReportCmd::Csv { id } => (id, false, true),
    };
    let id = typed_id(p, id, DocKind::MarketReport)?;
    let view = p.replica.report_summary(id).map_err(|e| core(p, DocKind::MarketReport, e, out))?;
    if csv {
        print!("{}", protocol::presales::summary::csv(&view.rows, lang == Lang::Zh));
        return Ok(());
    }
    let r = p.replica.record(id)?;
    let receipts: Vec<client_core::TimelineRow> =
        p.replica.logs(id).into_iter().filter(|l| l.receipts).flat_map(|l| l.timeline).collect();
    if json {
        out.json(&serde_json::json!({ "report": r, "summary": view, "receipts": receipts }));
        return Ok(());
    }
    let kind = DocKind::MarketReport;
    let text = |f: &str| r.display(f, lang);
    println!("{}：{}", kind.spec().label(lang), text("title"));
    println!(
        "{}：{} · {}：{} {}",
        t(lang, "status"),
        state_label(kind, view.status, lang),
        t(lang, "author"),
        text("created_by"),
        text("created_at")
    );
    if let Some(plan) = r.str("plan").and_then(|s| s.parse::<DocId>().ok()) {
        let title = p
            .replica
            .record(plan)
            .ok()
            .and_then(|p| p.str("title").map(String::from))
            .unwrap_or_else(|| plan.to_string());
        println!("{}：{title}", t(lang, "plan"));
    }
    let scope = r.str("scope_territory").unwrap_or(t(lang, "all")).to_string();
    println!("{}：{} — {} · {}：{scope}", t(lang, "period"), text("period_from"), text("period_to"), t(lang, "scope"));
    println!("\n{}", t(lang, "findings"));
    for f in ["findings_industry", "findings_platform", "findings_field", "findings_feedback", "findings_competitors"] {
        let v = text(f);
        if !v.trim().is_empty() {
            let label = kind.spec().field(f).map(|s| s.label(lang)).unwrap_or(f);
            println!("  {label}：{}", v.trim());
        }
    }
    println!("\n{}", t(lang, "summary"));
    let n = view.observations.to_string();
    match view.computed_at {
        Some(at) if view.by_server => {
            println!("  {}", t(lang, "by-server").replace("{at}", &display_local(at)).replace("{n}", &n))
        }
        _ => println!("  {}", t(lang, "preview").replace("{n}", &n)),
    }
    let header = if lang == Lang::Zh {
        ["品牌", "产品", "区域", "观察数", "最低价", "中位价", "最高价", "促销活动"]
    } else {
        ["Brand", "SKU", "Region", "Seen", "Min", "Median", "Max", "Promotions"]
    };
    let mut table = Table::with_header(header);
    for row in &view.rows {
        table.row([
            row.brand.clone(),
            row.sku.clone(),
            row.region.clone(),
            row.count.to_string(),
            format_fen(row.min_fen),
            format_fen(row.median_fen),
            format_fen(row.max_fen),
            row.promotions.join("；"),
        ]);
    }
    table.indent(2).print();
    for (key, f) in [("conclusions", "conclusions"), ("recommendations", "recommendations")] {
        println!("\n{}\n  {}", t(lang, key), text(f).trim());
    }
    println!("\n{}", t(lang, "receipts"));
    if receipts.is_empty() {
        println!("  {}", t(lang, "none-yet"));
    }
    for r in receipts {
        let when = r.received.map(display_local).unwrap_or_else(|| t(lang, "not-synced").to_string());
        println!("  {} ({})  {when}", r.by, r.role);
    }
    Ok(())
}

// ---- follow-ups and conversion --------------------------------------------------

#[derive(Args)]
pub struct FollowUpsArgs {
    #[arg(long)]
    date: Option<String>,
    /// Only this rep's customers.
    #[arg(long)]
    rep: Option<String>,
    /// Only overdue ones.
    #[arg(long)]
    overdue: bool,
    /// Overdue and due counts per rep instead of one row per customer.
    #[arg(long = "per-rep")]
    per_rep: bool,
    #[arg(long)]
    csv: bool,
    #[arg(long)]
    json: bool,
}

/// `jiuloop followups`: every customer's next follow-up (class cadence after the last
/// visit, or the manual date), overdue ones first; `--per-rep` for overdue per rep.
pub fn follow_ups(p: &Profile, a: FollowUpsArgs, now: i64, out: &Out) -> Result<()> {
    let lang = out.lang();
    let day = today_of(a.date.as_deref(), now)?;
    if a.per_rep {
        let rows = p.replica.follow_ups_per_rep(day);
        if a.json {
            out.json(&rows);
            return Ok(());
        }
        let header =
            [t(lang, "rep"), t(lang, "customers"), t(lang, "n-overdue"), t(lang, "due-today"), t(lang, "worst")];
        let cells: Vec<Vec<String>> = rows
            .iter()
            .map(|r| {
                vec![
                    r.rep.clone(),
                    r.customers.to_string(),
                    r.overdue.to_string(),
                    r.due_today.to_string(),
                    r.worst_days.to_string(),
                ]
            })
            .collect();
        return table_or_csv(&header, cells, a.csv, lang);
    }
    let rows: Vec<_> = p
        .replica
        .follow_ups(day)
        .into_iter()
        .filter(|f| a.rep.as_ref().is_none_or(|r| &f.owner == r))
        .filter(|f| !a.overdue || f.overdue())
        .collect();
    if a.json {
        out.json(&rows);
        return Ok(());
    }
    let header = [
        t(lang, "customer"),
        t(lang, "class"),
        t(lang, "owner"),
        t(lang, "last-visit"),
        t(lang, "next"),
        t(lang, "source"),
        t(lang, "overdue"),
    ];
    let cells = rows
        .iter()
        .map(|f| {
            vec![
                f.name.clone(),
                class_label(f.class, lang),
                f.owner.clone(),
                f.last_visit.map(|d| d.to_string()).unwrap_or_else(|| "-".into()),
                f.next.to_string(),
                t(lang, if f.source == field_plan::NextSource::Manual { "manual" } else { "cadence" }).to_string(),
                f.overdue_days.max(0).to_string(),
            ]
        })
        .collect();
    table_or_csv(&header, cells, a.csv, lang)
}

fn table_or_csv(header: &[&str], rows: Vec<Vec<String>>, csv: bool, lang: Lang) -> Result<()> {
    if csv {
        print_csv(header, rows);
    } else if rows.is_empty() {
        println!("{}", t(lang, "no-rows"));
    } else {
        let mut table = Table::with_header(header.iter().copied());
        for r in rows {
            table.row(r);
        }
        table.print();
    }
    Ok(())
}

/// `--from`/`--to`, or `--week`, or this month.
fn period(
    from: Option<&str>,
    to: Option<&str>,
    week: Option<&str>,
    now: i64,
    whole_week: bool,
) -> Result<(NaiveDate, NaiveDate)> {
    use chrono::Datelike;
    if let Some(w) = week {
        let monday = protocol::time::parse_iso_week(w).ok_or_else(|| anyhow!("'{w}' is not an ISO week (2026-W09)"))?;
        return Ok((monday, monday + chrono::Duration::days(6)));
    }
    let today = shanghai_date(now);
    let default_from = if whole_week {
        today - chrono::Duration::days(today.weekday().num_days_from_monday() as i64)
    } else {
        today.with_day(1).unwrap_or(today)
    };
    let from = from.map(date_arg).transpose()?.unwrap_or(default_from);
    let to = match to {
        Some(t) => date_arg(t)?,
        None if whole_week => from + chrono::Duration::days(6),
        None => today,
    };
    Ok((from, to))
}

#[derive(Args)]
pub struct ConversionArgs {
    /// First day (default: the 1st of this month).
    #[arg(long)]
    from: Option<String>,
    /// Last day (default: today).
    #[arg(long)]
    to: Option<String>,
    #[arg(long)]
    csv: bool,
    #[arg(long)]
    json: bool,
}

/// `jiuloop conversion`: C→B, B→A and first orders per rep in a period.
pub fn conversion(p: &Profile, a: ConversionArgs, now: i64, out: &Out) -> Result<()> {
    let lang = out.lang();
    let (from, to) = period(a.from.as_deref(), a.to.as_deref(), None, now, false)?;
    let rows = p.replica.conversion(from, to);
    if a.json {
        out.json(&serde_json::json!({ "from": from.to_string(), "to": to.to_string(), "rows": rows }));
        return Ok(());
    }
    if !a.csv {
        println!("{}：{from} — {to}", t(lang, "period"));
    }
    let header = [
        t(lang, "rep"),
        t(lang, "c-to-b"),
        t(lang, "b-to-a"),
        t(lang, "first-orders"),
        t(lang, "customers"),
        t(lang, "abc"),
    ];
    let cells = rows
        .iter()
        .map(|r| {
            vec![
                r.rep.clone(),
                r.c_to_b.to_string(),
                r.b_to_a.to_string(),
                r.first_orders.to_string(),
                r.customers.to_string(),
                format!("{}/{}/{}", r.by_class[2], r.by_class[1], r.by_class[0]),
            ]
        })
        .collect();
    table_or_csv(&header, cells, a.csv, lang)
}

// ---- visit plans ------------------------------------------------------------------

#[derive(Subcommand)]
pub enum VisitPlanCmd {
    /// Plan a visit (the rep defaults to you; managers plan for their reps).
    Add {
        #[arg(long)]
        customer: String,
        #[arg(long)]
        date: String,
        #[arg(long)]
        purpose: String,
        #[arg(long)]
        rep: Option<String>,
    },
    /// Visit plans with what became of them (done by a visit that names the plan, missed
    /// once the day has passed).
    List {
        #[arg(long)]
        week: Option<String>,
        #[arg(long)]
        from: Option<String>,
        #[arg(long)]
        to: Option<String>,
        #[arg(long)]
        rep: Option<String>,
        /// Only missed ones.
        #[arg(long)]
        missed: bool,
        #[arg(long)]
        json: bool,
    },
    /// Cancel a planned visit.
    Cancel {
        id: String,
        #[arg(long, default_value = "")]
        comment: String,
    },
}

pub fn visit_plan(p: &mut Profile, cmd: VisitPlanCmd, now: i64, out: &Out) -> Result<()> {
    let lang = out.lang();
    match cmd {
        VisitPlanCmd::Add { customer, date, purpose, rep } => {
            let customer = typed_id(p, &customer, DocKind::Customer)?;
            let rep = rep.unwrap_or_else(|| p.replica.user().to_string());
            let inputs = [("customer", customer.to_string()), ("date", date), ("purpose", purpose), ("rep", rep)];
            println!("{}", create(p, DocKind::VisitPlan, &inputs, now, out)?);
        }
        VisitPlanCmd::Cancel { id, comment } => {
            let id = typed_id(p, &id, DocKind::VisitPlan)?;
            p.require_user()?;
            p.replica.step(id, "cancel", &comment, now).map_err(|e| core(p, DocKind::VisitPlan, e, out))?;
            p.persist()?;
        }
        VisitPlanCmd::List { week, from, to, rep, missed, json } => {
            let today = shanghai_date(now);
            let range = match (&week, &from, &to) {
                (None, None, None) => None,
                _ => Some(period(from.as_deref(), to.as_deref(), week.as_deref(), now, true)?),
            };
            let plans: Vec<_> = p
                .replica
                .visit_plans(today)
                .into_iter()
                .filter(|v| range.is_none_or(|(f, t)| f <= v.date && v.date <= t))
                .filter(|v| rep.as_ref().is_none_or(|r| &v.rep == r))
                .filter(|v| !missed || v.state == PlanState::Missed)
                .collect();
            if json {
                out.json(&plans);
                return Ok(());
            }
            let header =
                [t(lang, "date"), t(lang, "rep"), t(lang, "customer"), t(lang, "purpose"), t(lang, "state"), "id"];
            let cells = plans
                .iter()
                .map(|v| {
                    let state = match &v.state {
                        PlanState::Open => t(lang, "open").to_string(),
                        PlanState::Done { on, .. } => format!("{} {on}", t(lang, "done")),
                        PlanState::Missed => t(lang, "missed").to_string(),
                        PlanState::Cancelled => t(lang, "cancelled").to_string(),
                    };
                    vec![
                        v.date.to_string(),
                        v.rep.clone(),
                        v.customer_name.clone(),
                        v.purpose.clone(),
                        state,
                        v.id.to_string(),
                    ]
                })
                .collect();
            table_or_csv(&header, cells, false, lang)?;
        }
    }
    Ok(())
}

#[derive(Args)]
pub struct PlannedVsActualArgs {
    /// An ISO week (2026-W09); default this week.
    #[arg(long)]
    week: Option<String>,
    #[arg(long)]
    from: Option<String>,
    #[arg(long)]
    to: Option<String>,
    #[arg(long)]
    csv: bool,
    #[arg(long)]
    json: bool,
}

/// `jiuloop planned-vs-actual`: per rep and week, visits planned, completed, missed,
/// still open, cancelled, and the visits logged (those without a plan apart).
pub fn planned_vs_actual(p: &Profile, a: PlannedVsActualArgs, now: i64, out: &Out) -> Result<()> {
    let lang = out.lang();
    let (from, to) = period(a.from.as_deref(), a.to.as_deref(), a.week.as_deref(), now, true)?;
    let rows = p.replica.planned_vs_actual(from, to, shanghai_date(now));
    if a.json {
        out.json(&serde_json::json!({ "from": from.to_string(), "to": to.to_string(), "rows": rows }));
        return Ok(());
    }
    if !a.csv {
        println!("{}：{from} — {to}", t(lang, "period"));
    }
    let header = [
        t(lang, "rep"),
        t(lang, "week"),
        t(lang, "planned"),
        t(lang, "completed"),
        t(lang, "missed"),
        t(lang, "open"),
        t(lang, "cancelled"),
        t(lang, "visits"),
        t(lang, "unplanned"),
    ];
    let cells = rows
        .iter()
        .map(|r| {
            [&r.rep, &r.week]
                .into_iter()
                .cloned()
                .chain(
                    [r.planned, r.completed, r.missed, r.open, r.cancelled, r.visits, r.unplanned]
                        .map(|n| n.to_string()),
                )
                .collect()
        })
        .collect();
    table_or_csv(&header, cells, a.csv, lang)
}

// ---- partners and violations ----------------------------------------------------

#[derive(Subcommand)]
pub enum PartnerCmd {
    /// The partner's evaluation per quarter, as the server computed it.
    Evaluation {
        id: String,
        #[arg(long)]
        json: bool,
    },
}

pub fn partner(p: &Profile, cmd: PartnerCmd, out: &Out) -> Result<()> {
    let lang = out.lang();
    let PartnerCmd::Evaluation { id, json } = cmd;
    let id = typed_id(p, &id, DocKind::Partner)?;
    let Some(e) = p.replica.evaluation(id) else { bail!("{}", t(lang, "no-evaluation")) };
    if json {
        out.json(&e);
        return Ok(());
    }
    let name = p.replica.record(id)?.str("name").unwrap_or_default().to_string();
    let score = e.criteria_score.map(|s| s.to_string()).unwrap_or_else(|| "-".into());
    println!("{name} · {}：{score}", t(lang, "criteria"));
    let spec = DocKind::PartnerEvaluation.spec();
    let sub = |list: &str| match spec.field(list).map(|f| f.ty) {
        Some(protocol::kinds::FieldType::Records(fields)) => fields,
        _ => &[],
    };
    let opt = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_else(|| "-".into());
    let mut table = Table::with_header(sub("periods").iter().map(|f| f.label(lang)));
    for q in &e.periods {
        table.row([
            q.period.clone(),
            format_fen(q.sales_fen),
            q.target_fen.map(format_fen).unwrap_or_else(|| "-".into()),
            opt(q.sales_score),
            opt(q.criteria),
            opt(q.qualitative),
            opt(q.base),
            q.rewards.to_string(),
            q.penalties.to_string(),
            q.deductions.to_string(),
            opt(q.total),
        ]);
    }
    table.indent(2).print();
    if !e.deductions.is_empty() {
        println!("{}", t(lang, "deductions"));
        let mut table = Table::with_header(sub("deductions").iter().map(|f| f.label(lang)));
        for (period, d) in &e.deductions {
            let kind = protocol::kinds::presales::VIOLATION_KINDS.label(&d.kind, lang).unwrap_or(&d.kind).to_string();
            let status = state_label(DocKind::ViolationReport, &d.status, lang);
            table.row([
                d.report.clone(),
                kind,
                d.points.to_string(),
                display_local(d.at),
                period.clone(),
                d.territory.clone(),
                d.product.clone(),
                status,
            ]);
        }
        table.indent(2).print();
    }
    Ok(())
}

#[derive(Args)]
pub struct ViolationArgs {
    /// cross-region (窜货) or price (乱价).
    #[arg(long)]
    kind: String,
    /// The partner code the goods carry.
    #[arg(long)]
    code: Option<String>,
    #[arg(long)]
    product: String,
    /// The customer where they were found (id or prefix).
    #[arg(long)]
    customer: Option<String>,
    #[arg(long)]
    place: Option<String>,
    #[arg(long)]
    batch: Option<String>,
    /// The price seen, in yuan.
    #[arg(long)]
    price: Option<String>,
    #[arg(long)]
    quantity: Option<String>,
    /// What you saw (photos: attach them to the report).
    #[arg(long)]
    evidence: Option<String>,
}

/// `jiuloop violation …`: report cross-region selling or a price violation found here.
pub fn violation(p: &mut Profile, a: ViolationArgs, now: i64, out: &Out) -> Result<()> {
    let customer = match &a.customer {
        Some(c) => typed_id(p, c, DocKind::Customer)?.to_string(),
        None => String::new(),
    };
    let territory = p.territory()?.unwrap_or_default();
    let o = |v: &Option<String>| v.clone().unwrap_or_default();
    let inputs = [
        ("kind", a.kind.clone()),
        ("partner_code", o(&a.code)),
        ("product", a.product.clone()),
        ("territory", territory),
        ("customer", customer),
        ("place", o(&a.place)),
        ("batch", o(&a.batch)),
        ("price", o(&a.price)),
        ("quantity", o(&a.quantity)),
        ("evidence", o(&a.evidence)),
    ];
    println!("{}", create(p, DocKind::ViolationReport, &inputs, now, out)?);
    Ok(())
}

// ---- development plans, product plans, cadence ----------------------------------

#[derive(Subcommand)]
pub enum DevPlanCmd {
    /// Add a prospect to a development plan.
    AddTarget {
        plan: String,
        #[arg(long)]
        customer: String,
        /// phone, on-site, trade-show, event.
        #[arg(long)]
        method: Option<String>,
        /// The class to reach (A, B, C).
        #[arg(long)]
        class: Option<String>,
        #[arg(long)]
        due: Option<String>,
    },
    /// Progress: each target's visits and class in the plan's period, and first orders.
    Progress {
        plan: String,
        #[arg(long)]
        json: bool,
    },
}

pub fn dev_plan(p: &mut Profile, cmd: DevPlanCmd, now: i64, out: &Out) -> Result<()> {
    let lang = out.lang();
    match cmd {
        DevPlanCmd::AddTarget { plan, customer, method, class, due } => {
            let plan = typed_id(p, &plan, DocKind::DevelopmentPlan)?;
            let customer = typed_id(p, &customer, DocKind::Customer)?;
            let inputs = [
                ("plan", plan.to_string()),
                ("customer", customer.to_string()),
                ("method", method.unwrap_or_default()),
                ("target_class", class.unwrap_or_default()),
                ("due", due.unwrap_or_default()),
            ];
            println!("{}", create(p, DocKind::DevelopmentTarget, &inputs, now, out)?);
        }
        DevPlanCmd::Progress { plan, json } => {
            let plan = typed_id(p, &plan, DocKind::DevelopmentPlan)?;
            let g = p.replica.development_progress(plan).map_err(|e| core(p, DocKind::DevelopmentPlan, e, out))?;
            if json {
                out.json(&g);
                return Ok(());
            }
            let range = |d: Option<NaiveDate>| d.map(|d| d.to_string()).unwrap_or_else(|| "…".into());
            println!("{} · {} · {} — {}", g.title, g.owner, range(g.from), range(g.to));
            let n = g.targets.len().to_string();
            println!(
                "{}",
                t(lang, "progress")
                    .replace("{c}", &g.contacted.to_string())
                    .replace("{r}", &g.reached.to_string())
                    .replace("{o}", &g.ordered.to_string())
                    .replace("{n}", &n)
            );
            let header = if lang == Lang::Zh {
                ["客户", "开发方式", "目标分类", "期初", "现在", "拜访次数", "上次拜访", "达成", "首单"]
            } else {
                ["Customer", "Method", "Target", "At start", "Now", "Visits", "Last visit", "Reached", "First order"]
            };
            let method = |m: &Option<String>| {
                m.as_deref()
                    .map(|m| protocol::schema::VisitMethod::VOCAB.label(m, lang).unwrap_or(m).to_string())
                    .unwrap_or_default()
            };
            let cells = g
                .targets
                .iter()
                .map(|x| {
                    vec![
                        x.name.clone(),
                        method(&x.method),
                        class_label(x.target_class, lang),
                        class_label(x.class_at_start, lang),
                        class_label(x.class_now, lang),
                        x.visits.to_string(),
                        range(x.last_visit),
                        if x.reached { "✓".into() } else { "".into() },
                        x.first_order.map(|d| d.to_string()).unwrap_or_default(),
                    ]
                })
                .collect();
            table_or_csv(&header, cells, false, lang)?;
        }
    }
    Ok(())
}

#[derive(Subcommand)]
pub enum ProductPlanCmd {
    /// An approved plan's new SKUs as draft catalogue rows of the policy CSV format.
    Skus {
        id: String,
        /// Write them to this file instead of the standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

pub fn product_plan(p: &Profile, cmd: ProductPlanCmd, out: &Out) -> Result<()> {
    let ProductPlanCmd::Skus { id, out: file } = cmd;
    let id = typed_id(p, &id, DocKind::ProductPlan)?;
    let rows = p.replica.draft_catalogue(id).map_err(|e| core(p, DocKind::ProductPlan, e, out))?;
    match file {
        Some(f) => std::fs::write(&f, rows).with_context(|| format!("cannot write {}", f.display()))?,
        None => print!("{rows}"),
    }
    Ok(())
}

#[derive(Subcommand)]
pub enum CadenceCmd {
    /// The cadence per class and each class's follow-up strategy.
    Show {
        #[arg(long)]
        json: bool,
    },
    /// Set it (managers, market): `a_days=7 b_days=14 c_days=30 a_strategy=…`.
    Set {
        #[arg(value_name = "FIELD=VALUE")]
        fields: Vec<String>,
    },
}

pub fn cadence(p: &mut Profile, cmd: CadenceCmd, now: i64, out: &Out) -> Result<()> {
    let lang = out.lang();
    match cmd {
        CadenceCmd::Show { json } => {
            let c = p.replica.cadence();
            if json {
                out.json(&c);
                return Ok(());
            }
            let set = p.replica.record(CADENCE_DOC_ID).ok();
            println!("{}", t(lang, "cadence-title"));
            for (i, class) in CustomerClass::ALL.iter().enumerate() {
                let stated =
                    set.as_ref().is_some_and(|r| r.int(&format!("{}_days", class.as_str().to_lowercase())).is_some());
                let default = if stated { "" } else { t(lang, "default") };
                let every = t(lang, "every").replace("{d}", &c.days[i].to_string());
                println!("  {}  {every}{default}  {}", class.label(lang), c.strategy[i]);
            }
        }
        CadenceCmd::Set { fields } => {
            p.require_user()?;
            let mut inputs = Vec::new();
            for f in &fields {
                let (k, v) = f.split_once('=').ok_or_else(|| anyhow!("'{f}' is not FIELD=VALUE"))?;
                inputs.push((k.trim(), v));
            }
            if inputs.is_empty() {
                bail!("give FIELD=VALUE (a_days, b_days, c_days, a_strategy, b_strategy, c_strategy)");
            }
            let kind = DocKind::CadencePolicy;
            let done = if p.replica.kind_of(CADENCE_DOC_ID).is_some() {
                p.replica.edit(CADENCE_DOC_ID, &inputs, now)
            } else {
                p.replica.create(kind, &inputs, now).map(|_| ())
            };
            done.map_err(|e| core(p, kind, e, out))?;
            p.persist()?;
        }
    }
    Ok(())
}

/// `visit add --plan P`: a visit that carries out a plan, as one change.
pub fn visit_for_plan(
    r: &mut Replica,
    customer: DocId,
    plan: DocId,
    kind: &str,
    method: Option<&str>,
    notes: &str,
    now: i64,
) -> Result<DocId, CoreError> {
    let (c, pl) = (customer.to_string(), plan.to_string());
    let mut inputs = vec![("customer", c.as_str()), ("kind", kind), ("plan", pl.as_str())];
    inputs.extend(method.map(|m| ("method", m)));
    if !notes.is_empty() {
        inputs.push(("notes", notes));
    }
    r.create(DocKind::Visit, &inputs, now)
}
