//! After-sales on the command line: `jiuloop complaint …` (file, every step, the queue
//! sorted by SLA time left, the timeline), `jiuloop quality …` (issues by SKU and batch,
//! their steps, the recall list), `jiuloop revisit …` (plans, tasks, records, the archive
//! per customer) and `jiuloop care …` (the care calendar and its tasks). Everything works
//! offline; the generic commands (`new`, `set`, `show`, `list`) reach the same kinds.

use crate::generic::refusal;
use crate::output::{Out, Table};
use anyhow::{Result, anyhow, bail};
use clap::Subcommand;
use client_core::{ComplaintView, CoreError, QualityView};
use jiuloop_cli::Profile;
use protocol::schema::complaint::ComplaintEvent;
use protocol::schema::quality::QualityEvent;
use protocol::schema::record::Record;
use protocol::schema::sla::{Clock, ClockState, ClockView, format_duration};
use protocol::schema::{
    CareOccasion, ComplaintCategory, ComplaintChannel, ComplaintEventKind as K, CustomerClass, Intention, Lang,
    PlanScope, QualityEventKind as Q, QualitySource, ResponsibleParty, RevisitContent, RevisitMethod, Severity,
    TaskStatus, ToldVia,
};
use protocol::time::display_local;
use protocol::{DocId, DocKind};

/// (key, 中文, English)
const TEXTS: &[(&str, &str, &str)] = &[
    ("no-complaints", "（没有投诉）", "(no complaints)"),
    ("no-issues", "（没有质量问题）", "(no quality issues)"),
    ("no-tasks", "（没有待办任务）", "(no open tasks)"),
    ("no-revisits", "（没有回访记录）", "(no revisits)"),
    ("no-events", "（没有关怀日历）", "(no care dates)"),
    ("status", "状态", "Status"),
    ("severity", "严重程度", "Severity"),
    ("customer", "客户", "Customer"),
    ("sla", "时效", "SLA"),
    ("content", "内容", "Content"),
    ("left", "剩余", "left"),
    ("overdue", "已超时", "overdue by"),
    ("paused", "暂停（等待客户）", "paused (waiting on the customer)"),
    ("met", "按时完成", "met"),
    ("breached", "超时", "breached"),
    ("recorded", "服务器已记录", "recorded by the server"),
    ("escalated", "已升级至", "escalated to"),
    ("timeline", "处理记录", "History"),
    ("not-applied", "未生效", "not applied"),
    ("revisit", "回访", "Revisit"),
    ("satisfaction", "满意度", "satisfaction"),
    ("revisit-task", "回访任务", "Revisit task"),
    ("waiting", "等待客户回复", "waiting on the customer"),
    ("complaints", "相关投诉", "Complaints"),
    ("recall", "召回清单", "Recall list"),
    ("no-recall", "未召回", "no recall"),
    (
        "recall-pending",
        "召回已发起，等待服务器生成清单（请同步）",
        "recall raised; the server draws up the list (sync)",
    ),
    ("due", "期限", "Due"),
    ("assignee", "负责人", "Assigned to"),
    ("task", "任务", "Task"),
    ("kind", "类型", "Kind"),
    ("when", "时间", "When"),
    ("by", "人员", "By"),
    ("method", "方式", "Method"),
    ("next", "下一步", "Next step"),
    ("orders", "订单数", "Orders"),
    ("qty", "数量", "Quantity"),
    ("territory", "区域", "Territory"),
    ("root-cause", "原因分析", "Root cause"),
    ("containment", "遏制措施", "Containment"),
    ("action", "纠正措施", "Corrective action"),
    ("verification", "效果验证", "Verification"),
    ("expected", "预计解决", "Expected resolution"),
    ("responsible", "责任方", "Responsible"),
    ("measures", "处理措施", "Measures"),
    ("findings", "调查结果", "Findings"),
    (
        "step-refused",
        "{role}不能记录“{step}”这一步（规则 {rule}）",
        "role {role} may not record '{step}' (rule {rule})",
    ),
];

fn t(out: &Out, key: &str) -> &'static str {
    TEXTS
        .iter()
        .find(|(k, _, _)| *k == key)
        .map(|(_, zh, en)| if out.lang() == Lang::Zh { *zh } else { *en })
        .unwrap_or("?")
}

#[derive(Subcommand)]
pub enum ComplaintCmd {
    /// File a complaint (offline too); prints its id.
    New {
        #[arg(long)]
        customer: String,
        #[arg(long)]
        channel: ComplaintChannel,
        #[arg(long)]
        category: ComplaintCategory,
        #[arg(long)]
        severity: Severity,
        #[arg(long)]
        content: String,
        #[arg(long)]
        order: Option<String>,
        #[arg(long)]
        sku: Option<String>,
        #[arg(long)]
        batch: Option<String>,
        #[arg(long = "production-date")]
        production_date: Option<String>,
        #[arg(long)]
        phone: Option<String>,
        /// When the customer complained (RFC 3339; default now; at most 30 days back).
        #[arg(long = "received-at")]
        received_at: Option<String>,
    },
    /// After-sales: acknowledge (受理).
    Ack {
        id: String,
        #[arg(long)]
        note: Option<String>,
    },
    /// After-sales: record the investigation's findings and the responsible party.
    Investigate {
        id: String,
        #[arg(long)]
        findings: String,
        #[arg(long)]
        responsible: Option<ResponsibleParty>,
    },
    /// After-sales: decide the measures and the expected resolution date (told to the customer).
    Measures {
        id: String,
        #[arg(long)]
        measures: String,
        #[arg(long)]
        expected: String,
    },
    /// After-sales: tell the customer how it stands (how: phone, sms, wechat, email, visit).
    Progress {
        id: String,
        #[arg(long)]
        note: String,
        #[arg(long)]
        via: ToldVia,
    },
    /// After-sales: waiting on the customer (the SLA clocks pause).
    Wait {
        id: String,
        #[arg(long)]
        note: Option<String>,
    },
    /// After-sales: the customer replied (the clocks run again).
    Resume {
        id: String,
        #[arg(long)]
        note: Option<String>,
    },
    /// After-sales: resolved — what was done.
    Resolve {
        id: String,
        #[arg(long)]
        note: String,
    },
    /// After-sales: the customer's feedback (satisfaction 1–5).
    Feedback {
        id: String,
        #[arg(long)]
        satisfaction: i64,
        #[arg(long)]
        comment: Option<String>,
    },
    /// After-sales: close.
    Close {
        id: String,
        #[arg(long)]
        note: Option<String>,
    },
    /// After-sales: reopen (the customer is not satisfied).
    Reopen {
        id: String,
        #[arg(long)]
        reason: String,
    },
    /// A field note (reps, managers, after-sales).
    Note {
        id: String,
        #[arg(long)]
        note: String,
    },
    /// Managers: escalate.
    Escalate {
        id: String,
        #[arg(long)]
        note: String,
    },
    /// The complaint as the customer experienced it: intake, clocks, every step.
    Show {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// The after-sales queue: open complaints by SLA time left (breached first).
    List {
        /// Resolved and closed ones too.
        #[arg(long)]
        all: bool,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub enum QualityCmd {
    /// Quality control: open an issue of a SKU and batch (linked to complaints); prints its id.
    New {
        #[arg(long)]
        title: String,
        #[arg(long)]
        sku: String,
        #[arg(long)]
        batch: String,
        #[arg(long)]
        severity: Severity,
        #[arg(long, default_value = "complaints")]
        source: QualitySource,
        #[arg(long)]
        category: Option<ComplaintCategory>,
        #[arg(long)]
        description: Option<String>,
        /// A complaint it comes from (repeat).
        #[arg(long = "complaint")]
        complaints: Vec<String>,
    },
    Link {
        id: String,
        #[arg(long)]
        complaint: String,
    },
    /// The root cause.
    Analyse {
        id: String,
        #[arg(long = "root-cause")]
        root_cause: String,
    },
    Contain {
        id: String,
        #[arg(long)]
        note: String,
    },
    /// The corrective action, assigned (to production …) with a due date.
    Action {
        id: String,
        #[arg(long)]
        plan: String,
        #[arg(long, default_value = "production")]
        assignee: String,
        #[arg(long)]
        due: String,
    },
    /// Verify the action's effect: complaints of the SKU received before and since it
    /// (counted on this device unless given).
    Verify {
        id: String,
        #[arg(long)]
        effective: bool,
        #[arg(long)]
        before: Option<i64>,
        #[arg(long)]
        after: Option<i64>,
    },
    Close {
        id: String,
    },
    Reopen {
        id: String,
        #[arg(long)]
        reason: String,
    },
    /// Raise the recall of a critical issue's batch (the server lists who received it).
    Recall {
        id: String,
        #[arg(long)]
        note: String,
    },
    Show {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Quality issues by SKU and batch.
    List {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub enum RevisitCmd {
    /// After-sales: a revisit plan; the server turns it into a task per customer it reaches.
    Plan {
        #[arg(long)]
        title: String,
        #[arg(long)]
        content: RevisitContent,
        #[arg(long)]
        method: RevisitMethod,
        #[arg(long)]
        due: String,
        #[arg(long)]
        scope: PlanScope,
        /// For `--scope list`: customer ids (or unique prefixes), comma-separated.
        #[arg(long)]
        customers: Option<String>,
        #[arg(long)]
        territory: Option<String>,
        #[arg(long)]
        class: Option<CustomerClass>,
        #[arg(long = "complained-from")]
        complained_from: Option<String>,
        #[arg(long = "complained-to")]
        complained_to: Option<String>,
        #[arg(long)]
        owner: Option<String>,
    },
    /// Open revisit tasks (yours, for a rep): all, due today, or this week.
    Tasks {
        #[arg(long)]
        today: bool,
        #[arg(long)]
        week: bool,
        #[arg(long)]
        json: bool,
    },
    /// Record a revisit (a task it names is done; its complaint gets the satisfaction).
    Record {
        #[arg(long)]
        customer: String,
        #[arg(long)]
        task: Option<String>,
        #[arg(long)]
        complaint: Option<String>,
        #[arg(long)]
        method: RevisitMethod,
        #[arg(long)]
        satisfaction: i64,
        #[arg(long)]
        intention: Option<Intention>,
        #[arg(long)]
        answers: Option<String>,
        #[arg(long = "next")]
        next_step: Option<String>,
    },
    /// Every revisit of a customer.
    Archive {
        #[arg(long)]
        customer: String,
        #[arg(long)]
        json: bool,
    },
    /// Skip a revisit task, with a note.
    Skip {
        task: String,
        #[arg(long)]
        note: String,
    },
}

#[derive(Subcommand)]
pub enum CareCmd {
    /// A date of the care calendar; the server makes a task per customer it reaches.
    Add {
        #[arg(long)]
        title: String,
        #[arg(long)]
        occasion: CareOccasion,
        #[arg(long)]
        date: String,
        #[arg(long)]
        series: Option<String>,
        #[arg(long)]
        class: Option<CustomerClass>,
        #[arg(long)]
        territory: Option<String>,
        #[arg(long)]
        note: Option<String>,
    },
    /// The care calendar.
    Calendar {
        #[arg(long)]
        json: bool,
    },
    /// Open care tasks (yours, for a rep): all, or this week.
    Tasks {
        #[arg(long)]
        week: bool,
        #[arg(long)]
        json: bool,
    },
    Done {
        task: String,
        #[arg(long)]
        note: Option<String>,
    },
    Skip {
        task: String,
        #[arg(long)]
        note: String,
    },
}

/// A refused step as one line in the user's language.
fn refused(p: &Profile, kind: DocKind, step: &str, e: CoreError, out: &Out) -> anyhow::Error {
    if let CoreError::NotAllowed { rule, field, .. } = &e
        && field == "events"
        && rule.ends_with("-role")
    {
        let role = p.replica.principal().map(|pr| protocol::pricing::role_label(pr.role, out.lang())).unwrap_or("?");
        return anyhow!(
            "{}",
            t(out, "step-refused").replace("{role}", role).replace("{step}", step).replace("{rule}", rule)
        );
    }
    refusal(p, kind, &e, out)
}

fn inputs(pairs: &[(&str, Option<String>)]) -> Vec<(String, String)> {
    pairs.iter().filter_map(|(f, v)| v.clone().map(|v| (f.to_string(), v))).collect()
}

fn refs(v: &[(String, String)]) -> Vec<(&str, &str)> {
    v.iter().map(|(f, v)| (f.as_str(), v.as_str())).collect()
}

fn resolve(p: &Profile, text: &str, kind: DocKind) -> Result<DocId> {
    Ok(p.replica.resolve_id(text, kind)?)
}

fn today(now: i64, days: i64) -> String {
    let t = chrono::DateTime::from_timestamp_millis(now + days * 86_400_000)
        .unwrap_or_default()
        .with_timezone(&protocol::time::shanghai());
    t.format("%Y-%m-%d").to_string()
}

pub fn complaint(p: &mut Profile, cmd: ComplaintCmd, now: i64, out: &Out) -> Result<()> {
    let step = |kind: K| ComplaintEvent::new(kind, now, "");
    let (id, event) = match cmd {
        ComplaintCmd::New {
            customer,
            channel,
            category,
            severity,
            content,
            order,
            sku,
            batch,
            production_date,
            phone,
            received_at,
        } => {
            p.require_user()?;
            let customer = resolve(p, &customer, DocKind::Customer)?;
            let order = order.map(|o| resolve(p, &o, DocKind::Order)).transpose()?;
            let received = match received_at {
                Some(text) => {
                    protocol::time::parse_rfc3339(&text).ok_or_else(|| anyhow!("--received-at {text}: RFC 3339"))?
                }
                None => now,
            };
            let values = inputs(&[
                ("customer", Some(customer.to_string())),
                ("channel", Some(channel.as_str().into())),
                ("category", Some(category.as_str().into())),
                ("severity", Some(severity.as_str().into())),
                ("content", Some(content)),
                ("order", order.map(|o| o.to_string())),
                ("sku", sku),
                ("batch", batch),
                ("production_date", production_date),
                ("contact_phone", phone),
            ]);
            let id = p
                .replica
                .file_complaint(&refs(&values), received, now)
                .map_err(|e| refusal(p, DocKind::Complaint, &e, out))?;
            p.persist()?;
            println!("{id}");
            return Ok(());
        }
        ComplaintCmd::Ack { id, note } => (id, ComplaintEvent { comment: note, ..step(K::Acknowledged) }),
        ComplaintCmd::Investigate { id, findings, responsible } => (
            id,
            ComplaintEvent {
                findings: Some(findings),
                responsible: responsible.map(|r| r.as_str().into()),
                ..step(K::Investigating)
            },
        ),
        ComplaintCmd::Measures { id, measures, expected } => {
            let expected = protocol::time::parse_date(&expected)
                .ok_or_else(|| anyhow!("--expected {expected}: YYYY-MM-DD"))?
                .format("%Y-%m-%d")
                .to_string();
            (id, ComplaintEvent { measures: Some(measures), expected: Some(expected), ..step(K::Measures) })
        }
        ComplaintCmd::Progress { id, note, via } => {
            (id, ComplaintEvent { comment: Some(note), told_via: Some(via.as_str().into()), ..step(K::Progress) })
        }
        ComplaintCmd::Wait { id, note } => (id, ComplaintEvent { comment: note, ..step(K::Waiting) }),
        ComplaintCmd::Resume { id, note } => (id, ComplaintEvent { comment: note, ..step(K::Resumed) }),
        ComplaintCmd::Resolve { id, note } => (id, ComplaintEvent { comment: Some(note), ..step(K::Resolved) }),
        ComplaintCmd::Feedback { id, satisfaction, comment } => {
            if !(1..=5).contains(&satisfaction) {
                bail!("--satisfaction {satisfaction}: 1–5");
            }
            (id, ComplaintEvent { satisfaction: Some(satisfaction), comment, ..step(K::Feedback) })
        }
        ComplaintCmd::Close { id, note } => (id, ComplaintEvent { comment: note, ..step(K::Closed) }),
        ComplaintCmd::Reopen { id, reason } => (id, ComplaintEvent { comment: Some(reason), ..step(K::Reopened) }),
        ComplaintCmd::Note { id, note } => (id, ComplaintEvent { comment: Some(note), ..step(K::FieldNote) }),
        ComplaintCmd::Escalate { id, note } => (id, ComplaintEvent { comment: Some(note), ..step(K::Escalated) }),
        ComplaintCmd::Show { id, json } => {
            let id = resolve(p, &id, DocKind::Complaint)?;
            let v = p.replica.complaint_view(id, now)?;
            if json {
                out.json(&v);
            } else {
                show_complaint(&v, now, out);
            }
            return Ok(());
        }
        ComplaintCmd::List { all, json } => {
            let queue: Vec<ComplaintView> =
                p.replica.complaint_queue(now).into_iter().filter(|v| all || v.lifecycle.is_open()).collect();
            if json {
                out.json(&queue);
            } else {
                list_complaints(&queue, out);
            }
            return Ok(());
        }
    };
    p.require_user()?;
    let id = resolve(p, &id, DocKind::Complaint)?;
    let label = event.kind.parse::<K>().map(|k| k.label(out.lang())).unwrap_or("?");
    p.replica.complaint_step(id, event, now).map_err(|e| refused(p, DocKind::Complaint, label, e, out))?;
    p.persist()?;
    Ok(())
}

/// `剩余 3小时05分` / `已超时 2小时` / `暂停` — the clock as a person reads it.
pub fn clock_text(c: &ClockView, out: &Out) -> String {
    let lang = out.lang();
    match c.state {
        ClockState::Met => t(out, "met").to_string(),
        ClockState::Paused => {
            format!("{}，{} {}", t(out, "paused"), t(out, "left"), format_duration(c.remaining_ms, lang))
        }
        ClockState::Breached if c.stopped_at.is_some() => {
            format!("{} {}", t(out, "breached"), c.breached_at.map(display_local).unwrap_or_default())
        }
        ClockState::Breached => format!("{} {}", t(out, "overdue"), format_duration(-c.remaining_ms, lang)),
        ClockState::Running | ClockState::Warning if lang == Lang::Zh => {
            format!("{}{}", t(out, "left"), format_duration(c.remaining_ms, lang))
        }
        ClockState::Running | ClockState::Warning => {
            format!("{} {}", format_duration(c.remaining_ms, lang), t(out, "left"))
        }
    }
}

fn short(id: DocId) -> String {
    id.to_string().chars().take(8).collect()
}

fn one_line(s: &str, max: usize) -> String {
    let flat: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > max { format!("{}…", flat.chars().take(max).collect::<String>()) } else { flat }
}

fn list_complaints(queue: &[ComplaintView], out: &Out) {
    if queue.is_empty() {
        println!("{}", t(out, "no-complaints"));
        return;
    }
    let lang = out.lang();
    let mut table = Table::with_header(["id", "status", "severity", "customer", "sla", "content"].map(|k| match k {
        "id" => {
            if lang == Lang::Zh {
                "编号"
            } else {
                "Id"
            }
        }
        k => t(out, k),
    }));
    for v in queue {
        let clock = v.clocks.current();
        let sla = if v.lifecycle.is_open() || clock.state == ClockState::Breached {
            format!("{} {}", clock.clock.label(lang), clock_text(clock, out))
        } else {
            t(out, "met").to_string()
        };
        table.row([
            short(v.complaint.id),
            v.status.label(lang).to_string(),
            v.complaint.severity().label(lang).to_string(),
            v.customer_name.clone().unwrap_or_default(),
            sla,
            one_line(&v.complaint.content, 30),
        ]);
    }
    table.print();
}

fn show_complaint(v: &ComplaintView, _now: i64, out: &Out) {
    let lang = out.lang();
    let c = &v.complaint;
    let label = |f: &str| DocKind::Complaint.spec().field(f).map(|s| s.label(lang)).unwrap_or("?");
    println!("{}  {}  [{}]", DocKind::Complaint.spec().label(lang), c.id, v.status.label(lang));
    let mut table = Table::plain().indent(2);
    table.row([label("customer").to_string(), v.customer_name.clone().unwrap_or_default()]);
    table.row([label("received_at").to_string(), format!("{} · {}", display_local(c.received_at), c.filed_by)]);
    table.row([label("channel").to_string(), c.channel.map(|x| x.label(lang)).unwrap_or_default().to_string()]);
    table.row([label("category").to_string(), c.category.map(|x| x.label(lang)).unwrap_or_default().to_string()]);
    table.row([label("severity").to_string(), c.severity().label(lang).to_string()]);
    for (f, val) in [
        ("sku", &c.sku),
        ("batch", &c.batch),
        ("production_date", &c.production_date),
        ("contact_phone", &c.contact_phone),
    ] {
        if let Some(x) = val {
            table.row([label(f).to_string(), x.clone()]);
        }
    }
    if let Some(o) = c.order {
        table.row([label("order").to_string(), o.to_string()]);
    }
    table.row([label("content").to_string(), c.content.clone()]);
    if v.lifecycle.waiting {
        table.row([t(out, "status").to_string(), t(out, "waiting").to_string()]);
    }
    for (key, val) in
        [("findings", &v.lifecycle.findings), ("measures", &v.lifecycle.measures), ("expected", &v.lifecycle.expected)]
    {
        if let Some(x) = val {
            table.row([t(out, key).to_string(), x.clone()]);
        }
    }
    if let Some(r) = v.lifecycle.responsible.as_deref().and_then(|r| r.parse::<ResponsibleParty>().ok()) {
        table.row([t(out, "responsible").to_string(), r.label(lang).to_string()]);
    }
    for clock in [&v.clocks.ack, &v.clocks.resolve] {
        let mut text = clock_text(clock, out);
        if clock.recorded {
            text += &format!("（{}）", t(out, "recorded"));
        }
        table.row([clock.clock.label(lang).to_string(), text]);
    }
    if let Some(m) = &v.track.escalated_to {
        table.row([t(out, "escalated").to_string(), m.clone()]);
    }
    if let Some(task) = v.track.revisit_task {
        table.row([t(out, "revisit-task").to_string(), task.to_string()]);
    }
    if let Some(s) = v.track.satisfaction {
        let mut text = format!("{} {s}/5", t(out, "satisfaction"));
        if let Some(at) = v.track.revisited_at {
            text += &format!(" · {}", display_local(at));
        }
        if let Some(by) = &v.track.revisited_by {
            text += &format!(" · {by}");
        }
        if let Some(cm) = &v.track.revisit_comment {
            text += &format!(" · {}", one_line(cm, 60));
        }
        table.row([t(out, "revisit").to_string(), text]);
    }
    table.print();
    println!("{}", t(out, "timeline"));
    let mut tl = Table::plain().indent(2);
    for e in &v.lifecycle.timeline {
        let ev = &e.event;
        let kind = ev.kind.parse::<K>().map(|k| k.label(lang)).unwrap_or("?");
        let mut what = Vec::new();
        for x in [&ev.findings, &ev.measures, &ev.comment].into_iter().flatten() {
            what.push(x.clone());
        }
        if let Some(x) = &ev.expected {
            what.push(format!("{} {x}", t(out, "expected")));
        }
        if let Some(r) = ev.responsible.as_deref().and_then(|r| r.parse::<ResponsibleParty>().ok()) {
            what.push(format!("{} {}", t(out, "responsible"), r.label(lang)));
        }
        if let Some(s) = ev.satisfaction {
            what.push(format!("{} {s}/5", t(out, "satisfaction")));
        }
        if let Some(v) = ev.told_via.as_deref().and_then(|v| v.parse::<ToldVia>().ok()) {
            what.push(format!("（{}）", v.label(lang)));
        }
        if !e.applied {
            what.push(format!("[{}]", t(out, "not-applied")));
        }
        tl.row([display_local(e.counted_at), kind.to_string(), ev.by.clone(), what.join(" ")]);
    }
    if let Some(at) = v.track.ack_breached_at {
        tl.row([display_local(at), Clock::Ack.label(lang).to_string(), "(server)".into(), t(out, "breached").into()]);
    }
    if let Some(at) = v.track.resolve_breached_at {
        tl.row([
            display_local(at),
            Clock::Resolve.label(lang).to_string(),
            "(server)".into(),
            t(out, "breached").into(),
        ]);
    }
    if let (Some(at), Some(s)) = (v.track.revisited_at, v.track.satisfaction) {
        tl.row([
            display_local(at),
            t(out, "revisit").to_string(),
            v.track.revisited_by.clone().unwrap_or_default(),
            format!("{} {s}/5", t(out, "satisfaction")),
        ]);
    }
    tl.print();
}

pub fn quality(p: &mut Profile, cmd: QualityCmd, now: i64, out: &Out) -> Result<()> {
    let step = |kind: Q| QualityEvent::new(kind, now, "");
    let (id, event) = match cmd {
        QualityCmd::New { title, sku, batch, severity, source, category, description, complaints } => {
            p.require_user()?;
            let linked = complaints.iter().map(|c| resolve(p, c, DocKind::Complaint)).collect::<Result<Vec<_>>>()?;
            let values = inputs(&[
                ("title", Some(title)),
                ("sku", Some(sku)),
                ("batch", Some(batch)),
                ("severity", Some(severity.as_str().into())),
                ("source", Some(source.as_str().into())),
                ("category", category.map(|c| c.as_str().into())),
                ("description", description),
            ]);
            let id = p
                .replica
                .open_quality_issue(&refs(&values), &linked, now)
                .map_err(|e| refusal(p, DocKind::QualityIssue, &e, out))?;
            p.persist()?;
            println!("{id}");
            return Ok(());
        }
        QualityCmd::Link { id, complaint } => {
            let c = resolve(p, &complaint, DocKind::Complaint)?;
            (id, QualityEvent { complaint: Some(c), ..step(Q::Linked) })
        }
        QualityCmd::Analyse { id, root_cause } => (id, QualityEvent { comment: Some(root_cause), ..step(Q::Analysis) }),
        QualityCmd::Contain { id, note } => (id, QualityEvent { comment: Some(note), ..step(Q::Containment) }),
        QualityCmd::Action { id, plan, assignee, due } => {
            let due = protocol::time::parse_date(&due)
                .ok_or_else(|| anyhow!("--due {due}: YYYY-MM-DD"))?
                .format("%Y-%m-%d")
                .to_string();
            (id, QualityEvent { comment: Some(plan), assignee: Some(assignee), due: Some(due), ..step(Q::Action) })
        }
        QualityCmd::Verify { id, effective, before, after } => {
            let qid = resolve(p, &id, DocKind::QualityIssue)?;
            let (b, a) = p.replica.verification_metrics(qid)?;
            let e = QualityEvent {
                before: Some(before.unwrap_or(b)),
                after: Some(after.unwrap_or(a)),
                effective: Some(effective),
                ..step(Q::Verification)
            };
            (id, e)
        }
        QualityCmd::Close { id } => (id, step(Q::Closed)),
        QualityCmd::Reopen { id, reason } => (id, QualityEvent { comment: Some(reason), ..step(Q::Reopened) }),
        QualityCmd::Recall { id, note } => (id, QualityEvent { comment: Some(note), ..step(Q::Recall) }),
        QualityCmd::Show { id, json } => {
            let id = resolve(p, &id, DocKind::QualityIssue)?;
            let v = p.replica.quality_view(id, now)?;
            if json {
                out.json(&v);
            } else {
                show_issue(&v, out);
            }
            return Ok(());
        }
        QualityCmd::List { json } => {
            let all = p.replica.quality_issues(now);
            if json {
                out.json(&all);
            } else if all.is_empty() {
                println!("{}", t(out, "no-issues"));
            } else {
                let lang = out.lang();
                let label = |f: &str| DocKind::QualityIssue.spec().field(f).map(|s| s.label(lang)).unwrap_or("?");
                let mut table = Table::with_header([
                    if lang == Lang::Zh { "编号" } else { "Id" },
                    label("sku"),
                    label("batch"),
                    label("title"),
                    t(out, "severity"),
                    t(out, "status"),
                    t(out, "complaints"),
                    t(out, "recall"),
                ]);
                for v in &all {
                    table.row([
                        short(v.issue.id),
                        v.issue.sku.clone(),
                        v.issue.batch.clone(),
                        v.issue.title.clone(),
                        v.issue.severity.map(|s| s.label(lang)).unwrap_or_default().to_string(),
                        v.lifecycle.status.label(lang).to_string(),
                        v.complaints.len().to_string(),
                        match &v.recall {
                            Some(r) => r.customers.len().to_string(),
                            None if v.lifecycle.recall => "…".into(),
                            None => "-".into(),
                        },
                    ]);
                }
                table.print();
            }
            return Ok(());
        }
    };
    p.require_user()?;
    let id = resolve(p, &id, DocKind::QualityIssue)?;
    let label = event.kind.parse::<Q>().map(|k| k.label(out.lang())).unwrap_or("?");
    p.replica.quality_step(id, event, now).map_err(|e| refused(p, DocKind::QualityIssue, label, e, out))?;
    p.persist()?;
    Ok(())
}

fn show_issue(v: &QualityView, out: &Out) {
    let lang = out.lang();
    let i = &v.issue;
    let label = |f: &str| DocKind::QualityIssue.spec().field(f).map(|s| s.label(lang)).unwrap_or("?");
    println!("{}  {}  [{}]", DocKind::QualityIssue.spec().label(lang), i.id, v.lifecycle.status.label(lang));
    let mut table = Table::plain().indent(2);
    table.row([label("title").to_string(), i.title.clone()]);
    table.row([label("sku").to_string(), i.sku.clone()]);
    table.row([label("batch").to_string(), i.batch.clone()]);
    table.row([label("severity").to_string(), i.severity.map(|s| s.label(lang)).unwrap_or_default().to_string()]);
    if let Some(s) = i.source {
        table.row([label("source").to_string(), s.label(lang).to_string()]);
    }
    if let Some(x) = &v.lifecycle.root_cause {
        table.row([t(out, "root-cause").to_string(), x.clone()]);
    }
    if let Some(x) = &v.lifecycle.containment {
        table.row([t(out, "containment").to_string(), x.clone()]);
    }
    if let Some(a) = &v.lifecycle.action {
        table.row([
            t(out, "action").to_string(),
            format!(
                "{} · {} · {}",
                a.comment.clone().unwrap_or_default(),
                a.assignee.clone().unwrap_or_default(),
                a.due.clone().unwrap_or_default()
            ),
        ]);
    }
    if let Some(x) = &v.lifecycle.verification {
        table.row([
            t(out, "verification").to_string(),
            format!(
                "{} → {} ({})",
                x.before.unwrap_or(0),
                x.after.unwrap_or(0),
                if x.effective == Some(true) { "✓" } else { "✗" }
            ),
        ]);
    }
    table.print();
    println!("{} ({})", t(out, "complaints"), v.complaints.len());
    let mut ct = Table::plain().indent(2);
    for c in &v.complaints {
        ct.row([
            short(c.complaint.id),
            c.customer_name.clone().unwrap_or_default(),
            c.status.label(lang).to_string(),
            one_line(&c.complaint.content, 40),
        ]);
    }
    ct.print();
    match (&v.recall, v.lifecycle.recall) {
        (Some(r), _) => {
            println!("{} · {} {} ({})", t(out, "recall"), r.batch, r.sku, r.customers.len());
            let mut rt = Table::with_header([t(out, "customer"), t(out, "territory"), t(out, "orders"), t(out, "qty")])
                .indent(2);
            for c in &r.customers {
                rt.row([
                    c.name.clone(),
                    c.territory.clone().unwrap_or_default(),
                    c.orders.to_string(),
                    c.qty.to_string(),
                ]);
            }
            rt.print();
        }
        (None, true) => println!("{}", t(out, "recall-pending")),
        (None, false) => println!("{}: {}", t(out, "recall"), t(out, "no-recall")),
    }
}

pub fn revisit(p: &mut Profile, cmd: RevisitCmd, now: i64, out: &Out) -> Result<()> {
    match cmd {
        RevisitCmd::Plan {
            title,
            content,
            method,
            due,
            scope,
            customers,
            territory,
            class,
            complained_from,
            complained_to,
            owner,
        } => {
            p.require_user()?;
            let customers = match customers {
                Some(list) => Some(
                    list.split([',', ' ', ';'])
                        .filter(|s| !s.is_empty())
                        .map(|c| resolve(p, c, DocKind::Customer).map(|id| id.to_string()))
                        .collect::<Result<Vec<_>>>()?
                        .join(","),
                ),
                None => None,
            };
            let values = inputs(&[
                ("title", Some(title)),
                ("content", Some(content.as_str().into())),
                ("method", Some(method.as_str().into())),
                ("due", Some(due)),
                ("scope", Some(scope.as_str().into())),
                ("customers", customers),
                ("territory", territory),
                ("class", class.map(|c| c.as_str().into())),
                ("complained_from", complained_from),
                ("complained_to", complained_to),
                ("owner", owner),
            ]);
            let id = p
                .replica
                .create(DocKind::RevisitPlan, &refs(&values), now)
                .map_err(|e| refusal(p, DocKind::RevisitPlan, &e, out))?;
            p.persist()?;
            println!("{id}");
        }
        RevisitCmd::Tasks { today: only_today, week, json } => {
            let until = if only_today {
                Some(today(now, 0))
            } else if week {
                Some(today(now, 6))
            } else {
                None
            };
            let tasks = p.replica.open_tasks(DocKind::RevisitTask, until.as_deref());
            print_tasks(p, &tasks, json, out);
        }
        RevisitCmd::Record { customer, task, complaint, method, satisfaction, intention, answers, next_step } => {
            p.require_user()?;
            let customer = resolve(p, &customer, DocKind::Customer)?;
            let task = task.map(|x| resolve(p, &x, DocKind::RevisitTask)).transpose()?;
            let complaint = complaint.map(|x| resolve(p, &x, DocKind::Complaint)).transpose()?;
            let values = inputs(&[
                ("customer", Some(customer.to_string())),
                ("task", task.map(|x| x.to_string())),
                ("complaint", complaint.map(|x| x.to_string())),
                ("method", Some(method.as_str().into())),
                ("satisfaction", Some(satisfaction.to_string())),
                ("intention", intention.map(|x| x.as_str().into())),
                ("answers", answers),
                ("next_step", next_step),
            ]);
            let id =
                p.replica.record_revisit(&refs(&values), now).map_err(|e| refusal(p, DocKind::Revisit, &e, out))?;
            p.persist()?;
            println!("{id}");
        }
        RevisitCmd::Archive { customer, json } => {
            let customer = resolve(p, &customer, DocKind::Customer)?;
            let all = p.replica.revisit_archive(customer);
            if json {
                out.json(&all);
            } else if all.is_empty() {
                println!("{}", t(out, "no-revisits"));
            } else {
                let lang = out.lang();
                let mut table = Table::with_header([
                    t(out, "when"),
                    t(out, "by"),
                    t(out, "method"),
                    t(out, "satisfaction"),
                    DocKind::Revisit.spec().field("intention").map(|f| f.label(lang)).unwrap_or("?"),
                    t(out, "next"),
                ]);
                for r in &all {
                    table.row([
                        r.display("at", lang),
                        r.display("staff", lang),
                        r.display("method", lang),
                        r.display("satisfaction", lang),
                        r.display("intention", lang),
                        r.display("next_step", lang),
                    ]);
                }
                table.print();
            }
        }
        RevisitCmd::Skip { task, note } => {
            p.require_user()?;
            let id = resolve(p, &task, DocKind::RevisitTask)?;
            p.replica
                .finish_task(id, TaskStatus::Skipped, Some(&note), now)
                .map_err(|e| refusal(p, DocKind::RevisitTask, &e, out))?;
            p.persist()?;
        }
    }
    Ok(())
}

fn print_tasks(p: &Profile, tasks: &[Record], json: bool, out: &Out) {
    if json {
        out.json(tasks);
        return;
    }
    if tasks.is_empty() {
        println!("{}", t(out, "no-tasks"));
        return;
    }
    let lang = out.lang();
    let mut table = Table::with_header([
        if lang == Lang::Zh { "编号" } else { "Id" },
        t(out, "due"),
        t(out, "customer"),
        t(out, "kind"),
        t(out, "assignee"),
        t(out, "content"),
    ]);
    for r in tasks {
        let customer = r
            .str("customer")
            .and_then(|c| c.parse::<DocId>().ok())
            .and_then(|c| p.replica.customer(c).ok())
            .map(|c| c.name)
            .unwrap_or_default();
        let kind =
            if r.kind == DocKind::RevisitTask { r.display("content", lang) } else { r.display("occasion", lang) };
        table.row([
            short(r.id),
            r.display("due", lang),
            customer,
            kind,
            r.display("assignee", lang),
            r.display("note", lang),
        ]);
    }
    table.print();
}

pub fn care(p: &mut Profile, cmd: CareCmd, now: i64, out: &Out) -> Result<()> {
    match cmd {
        CareCmd::Add { title, occasion, date, series, class, territory, note } => {
            p.require_user()?;
            let values = inputs(&[
                ("title", Some(title)),
                ("occasion", Some(occasion.as_str().into())),
                ("date", Some(date)),
                ("series", series),
                ("class", class.map(|c| c.as_str().into())),
                ("territory", territory),
                ("note", note),
            ]);
            let id = p
                .replica
                .create(DocKind::CareEvent, &refs(&values), now)
                .map_err(|e| refusal(p, DocKind::CareEvent, &e, out))?;
            p.persist()?;
            println!("{id}");
        }
        CareCmd::Calendar { json } => {
            let mut all = p.replica.records(DocKind::CareEvent);
            all.sort_by(|a, b| (a.str("date"), a.id).cmp(&(b.str("date"), b.id)));
            if json {
                out.json(&all);
            } else if all.is_empty() {
                println!("{}", t(out, "no-events"));
            } else {
                let lang = out.lang();
                let f = |n: &str| DocKind::CareEvent.spec().field(n).map(|f| f.label(lang)).unwrap_or("?");
                let mut table = Table::with_header([f("date"), f("occasion"), f("title"), f("class"), f("territory")]);
                for r in &all {
                    table.row([
                        r.display("date", lang),
                        r.display("occasion", lang),
                        r.display("title", lang),
                        r.display("class", lang),
                        r.display("territory", lang),
                    ]);
                }
                table.print();
            }
        }
        CareCmd::Tasks { week, json } => {
            let until = week.then(|| today(now, 6));
            let tasks = p.replica.open_tasks(DocKind::CareTask, until.as_deref());
            print_tasks(p, &tasks, json, out);
        }
        CareCmd::Done { task, note } => {
            p.require_user()?;
            let id = resolve(p, &task, DocKind::CareTask)?;
            p.replica
                .finish_task(id, TaskStatus::Done, note.as_deref(), now)
                .map_err(|e| refusal(p, DocKind::CareTask, &e, out))?;
            p.persist()?;
        }
        CareCmd::Skip { task, note } => {
            p.require_user()?;
            let id = resolve(p, &task, DocKind::CareTask)?;
            p.replica
                .finish_task(id, TaskStatus::Skipped, Some(&note), now)
                .map_err(|e| refusal(p, DocKind::CareTask, &e, out))?;
            p.persist()?;
        }
    }
    Ok(())
}

/// `LINE=BATCH` arguments of `order ship --batch`.
pub fn batch_args(args: &[String]) -> Result<Vec<(String, String)>> {
    args.iter()
        .map(|a| match a.split_once('=') {
            Some((line, batch)) if !line.trim().is_empty() && protocol::schema::order::is_batch(batch.trim()) => {
                Ok((line.trim().to_string(), batch.trim().to_string()))
            }
            _ => bail!(
                "--batch {a}: LINE=BATCH (LINE: a line's id or 1-based position; BATCH: letters, digits, - _ . /)"
            ),
        })
        .collect()
}
