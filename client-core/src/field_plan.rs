//! Field planning on the device (issue 12, parts 5–7), computed from the documents it
//! holds, offline: the A/B/C follow-up cadence and each customer's next follow-up, overdue
//! follow-ups per rep, conversion per rep and period, visit plans completed by visits,
//! planned against actual per rep and week, development-plan progress, and the rep's
//! **today list**. Nothing here is stored: it is read from customers, visits, orders and
//! plans, so a visit logged on another device changes it wherever it syncs.
//!
//! Dates ("today", "overdue", weeks, periods) are calendar dates in Asia/Shanghai; a
//! visit counts on the date its device stated (the server's arrival time is not known to
//! devices, and nothing here is a decision the server takes).

use crate::replica::Replica;
use chrono::NaiveDate;
use protocol::kinds::presales::CADENCE_DOC_ID;
use protocol::schema::customer::Customer;
use protocol::schema::record::Record;
use protocol::schema::visit::Visit;
use protocol::schema::{CustomerClass, Lang, presales_docs};
use protocol::time::shanghai_date;
use protocol::{DocId, DocKind};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// Follow-up cadence in days when the cadence document does not say: A, B, C.
pub const DEFAULT_DAYS: [i64; 3] = [7, 14, 30];

/// The cadence policy as this device holds it (defaults for what is not set).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Cadence {
    /// Days between follow-ups of A, B, C customers.
    pub days: [i64; 3],
    pub strategy: [String; 3],
}

impl Default for Cadence {
    fn default() -> Self {
        Cadence { days: DEFAULT_DAYS, strategy: Default::default() }
    }
}

fn class_index(c: CustomerClass) -> usize {
    match c {
        CustomerClass::A => 0,
        CustomerClass::B => 1,
        CustomerClass::C => 2,
    }
}

/// A class's rank for ordering: A first, then B, C, no class.
fn class_rank(c: Option<CustomerClass>) -> usize {
    c.map_or(3, class_index)
}

impl Cadence {
    pub fn days_for(&self, c: CustomerClass) -> i64 {
        self.days[class_index(c)]
    }
}

/// Where a next follow-up date comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NextSource {
    /// The class's cadence after the last visit (or since the customer was created).
    Cadence,
    /// Set by hand (the customer's `next_follow_up`), after the last visit.
    Manual,
}

/// A customer's next follow-up: the manual date when one is set after the last visit (a
/// visit on or after it has done it), else the last visit — or, never visited, the day the
/// customer was created — plus the class's cadence. `None`: no class and no manual date.
pub fn next_follow_up(
    class: Option<CustomerClass>,
    created: NaiveDate,
    last_visit: Option<NaiveDate>,
    manual: Option<NaiveDate>,
    cadence: &Cadence,
) -> Option<(NaiveDate, NextSource)> {
    if let Some(m) = manual
        && last_visit.is_none_or(|v| m > v)
    {
        return Some((m, NextSource::Manual));
    }
    let class = class?;
    let from = last_visit.unwrap_or(created);
    Some((from + chrono::Duration::days(cadence.days_for(class)), NextSource::Cadence))
}

/// One customer's follow-up as of a day.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FollowUp {
    pub customer: DocId,
    pub name: String,
    pub owner: String,
    pub class: Option<CustomerClass>,
    pub last_visit: Option<NaiveDate>,
    pub next: NaiveDate,
    pub source: NextSource,
    /// Days past the next follow-up (0: due today; negative: days left).
    pub overdue_days: i64,
}

impl FollowUp {
    pub fn overdue(&self) -> bool {
        self.overdue_days > 0
    }
}

/// Overdue and due follow-ups of one rep.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RepFollowUps {
    pub rep: String,
    pub customers: usize,
    pub overdue: usize,
    pub due_today: usize,
    /// The most days any of them is overdue.
    pub worst_days: i64,
}

/// A visit plan and what became of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum PlanState {
    /// Today or later, not done yet.
    Open,
    /// A visit that names the plan was logged (the first one's date).
    Done {
        visit: DocId,
        on: NaiveDate,
    },
    /// Its day has passed without a visit.
    Missed,
    Cancelled,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PlanView {
    pub id: DocId,
    pub customer: DocId,
    pub customer_name: String,
    pub class: Option<CustomerClass>,
    pub rep: String,
    pub date: NaiveDate,
    pub purpose: String,
    #[serde(flatten)]
    pub state: PlanState,
}

/// Planned against actual, per rep and ISO week.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct WeekRow {
    pub rep: String,
    /// `2026-W09`.
    pub week: String,
    pub planned: usize,
    pub completed: usize,
    pub missed: usize,
    pub open: usize,
    pub cancelled: usize,
    /// Visits logged that week, and those of them that carried out no plan.
    pub visits: usize,
    pub unplanned: usize,
}

/// Conversion per rep and period: class changes up (C→B, B→A; a jump from C to A counts
/// for both steps) and first orders, of the customers the rep owns.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ConversionRow {
    pub rep: String,
    pub c_to_b: usize,
    pub b_to_a: usize,
    pub first_orders: usize,
    /// Customers the rep owns now, and of them in class C, B, A.
    pub customers: usize,
    pub by_class: [usize; 3],
}

/// One prospect of a development plan, and how far it got in the plan's period.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TargetProgress {
    pub target: DocId,
    pub customer: Option<DocId>,
    pub name: String,
    pub method: Option<String>,
    pub target_class: Option<CustomerClass>,
    pub class_at_start: Option<CustomerClass>,
    pub class_now: Option<CustomerClass>,
    pub visits: usize,
    pub last_visit: Option<NaiveDate>,
    /// The class now is the target class or better.
    pub reached: bool,
    pub first_order: Option<NaiveDate>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Progress {
    pub plan: DocId,
    pub title: String,
    pub owner: String,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub targets: Vec<TargetProgress>,
    /// Targets visited in the period, that reached their class, that ordered.
    pub contacted: usize,
    pub reached: usize,
    pub ordered: usize,
}

/// Why a customer is on today's list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reason {
    /// The next follow-up was `days` ago.
    Overdue { days: i64, due: NaiveDate },
    /// A visit planned for today.
    Planned { plan: DocId, purpose: String },
    /// A visit planned for an earlier day (within the last week), not done.
    Missed { plan: DocId, date: NaiveDate, purpose: String },
    /// The next follow-up is today.
    Due,
    /// A prospect of a development plan running today, not visited since it started.
    Prospect { plan: DocId, title: String },
    /// An open revisit or care task (issue 8) assigned to the rep, due today or earlier:
    /// `what` is its revisit content or care occasion (a vocabulary value of its kind).
    Task { task: DocId, revisit: bool, what: String, due: NaiveDate },
}

impl Reason {
    /// Lower goes first: overdue follow-ups, today's planned visits (and missed ones), due
    /// follow-ups, prospects.
    pub fn rank(&self) -> u8 {
        match self {
            Reason::Overdue { .. } => 1,
            Reason::Planned { .. } | Reason::Missed { .. } | Reason::Task { .. } => 2,
            Reason::Due => 3,
            Reason::Prospect { .. } => 4,
        }
    }

    pub fn text(&self, lang: Lang) -> String {
        let zh = lang == Lang::Zh;
        match self {
            Reason::Overdue { days, due } => {
                if zh {
                    format!("跟进已逾期 {days} 天（应于 {due}）")
                } else {
                    format!("follow-up {days} days overdue (due {due})")
                }
            }
            Reason::Planned { purpose, .. } => {
                if zh {
                    format!("今日计划拜访：{purpose}")
                } else {
                    format!("visit planned today: {purpose}")
                }
            }
            Reason::Missed { date, purpose, .. } => {
                if zh {
                    format!("计划拜访未完成（{date}）：{purpose}")
                } else {
                    format!("planned visit missed ({date}): {purpose}")
                }
            }
            Reason::Due => if zh { "今日应跟进" } else { "follow-up due today" }.into(),
            Reason::Prospect { title, .. } => {
                if zh {
                    format!("开发计划目标：{title}")
                } else {
                    format!("development prospect: {title}")
                }
            }
            Reason::Task { revisit, what, due, .. } => {
                let (kind, field) =
                    if *revisit { (DocKind::RevisitTask, "content") } else { (DocKind::CareTask, "occasion") };
                let label = match kind.spec().field(field).map(|f| f.ty) {
                    Some(protocol::kinds::FieldType::Enum(v)) => v.label(what, lang).unwrap_or(what),
                    _ => what,
                };
                match (revisit, zh) {
                    (true, true) => format!("回访任务：{label}（{due} 前）"),
                    (true, false) => format!("revisit task: {label} (by {due})"),
                    (false, true) => format!("关怀任务：{label}（{due}）"),
                    (false, false) => format!("care task: {label} ({due})"),
                }
            }
        }
    }
}

/// One customer on today's list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TodayItem {
    pub customer: DocId,
    pub name: String,
    pub class: Option<CustomerClass>,
    pub phone: Option<String>,
    /// The best (lowest) rank of its reasons.
    pub rank: u8,
    pub reasons: Vec<Reason>,
    /// The class's follow-up strategy, from the cadence policy.
    pub strategy: String,
}

/// A date in Asia/Shanghai of a time stated in UTC ms.
fn day(ms: i64) -> NaiveDate {
    shanghai_date(ms)
}

fn date_of(r: &Record, field: &str) -> Option<NaiveDate> {
    r.str(field).and_then(protocol::time::parse_date)
}

fn id_of(r: &Record, field: &str) -> Option<DocId> {
    r.str(field).and_then(|s| s.parse().ok())
}

/// What the lists below read once: customers by id, visits per customer (oldest first).
struct Book {
    customers: BTreeMap<DocId, Customer>,
    visits: HashMap<DocId, Vec<Visit>>,
}

impl Book {
    fn last_visit(&self, customer: DocId) -> Option<NaiveDate> {
        self.visits.get(&customer).and_then(|v| v.iter().map(|v| day(v.at)).max())
    }
}

impl Replica {
    fn book(&self) -> Book {
        let customers: BTreeMap<DocId, Customer> = self.customers().into_iter().map(|c| (c.id, c)).collect();
        let mut visits: HashMap<DocId, Vec<Visit>> = HashMap::new();
        for v in self.all_visits() {
            if let Some(c) = v.customer {
                visits.entry(c).or_default().push(v);
            }
        }
        for list in visits.values_mut() {
            list.sort_by_key(|v| (v.at, v.id));
        }
        Book { customers, visits }
    }

    /// The cadence policy this device holds (defaults where it says nothing).
    pub fn cadence(&self) -> Cadence {
        let mut c = Cadence::default();
        if let Ok(r) = self.record(CADENCE_DOC_ID) {
            for (i, k) in ["a", "b", "c"].iter().enumerate() {
                if let Some(d) = r.int(&format!("{k}_days")) {
                    c.days[i] = d;
                }
                c.strategy[i] = r.str(&format!("{k}_strategy")).unwrap_or_default().to_string();
            }
        }
        c
    }

    fn follow_ups_in(&self, book: &Book, today: NaiveDate) -> Vec<FollowUp> {
        let cadence = self.cadence();
        let mut out: Vec<FollowUp> = book
            .customers
            .values()
            .filter_map(|c| {
                let last = book.last_visit(c.id);
                let manual = c.next_follow_up.as_deref().and_then(protocol::time::parse_date);
                let (next, source) = next_follow_up(c.class, day(c.created_at), last, manual, &cadence)?;
                Some(FollowUp {
                    customer: c.id,
                    name: c.name.clone(),
                    owner: c.owner.clone().unwrap_or_default(),
                    class: c.class,
                    last_visit: last,
                    next,
                    source,
                    overdue_days: (today - next).num_days(),
                })
            })
            .collect();
        out.sort_by(|a, b| {
            (b.overdue_days, class_rank(a.class), &a.name, a.customer).cmp(&(
                a.overdue_days,
                class_rank(b.class),
                &b.name,
                b.customer,
            ))
        });
        out
    }

    /// Every customer with a next follow-up as of `today`, most overdue first.
    pub fn follow_ups(&self, today: NaiveDate) -> Vec<FollowUp> {
        self.follow_ups_in(&self.book(), today)
    }

    /// Overdue and due-today follow-ups per owning rep (by rep).
    pub fn follow_ups_per_rep(&self, today: NaiveDate) -> Vec<RepFollowUps> {
        let mut per: BTreeMap<String, RepFollowUps> = BTreeMap::new();
        for f in self.follow_ups(today) {
            let r = per.entry(f.owner.clone()).or_insert_with(|| RepFollowUps {
                rep: f.owner.clone(),
                customers: 0,
                overdue: 0,
                due_today: 0,
                worst_days: 0,
            });
            r.customers += 1;
            if f.overdue() {
                r.overdue += 1;
                r.worst_days = r.worst_days.max(f.overdue_days);
            } else if f.overdue_days == 0 {
                r.due_today += 1;
            }
        }
        per.into_values().collect()
    }

    fn plans_in(&self, book: &Book, today: NaiveDate) -> Vec<PlanView> {
        let mut done: HashMap<DocId, (NaiveDate, DocId)> = HashMap::new();
        for v in book.visits.values().flatten() {
            if let Some(p) = v.plan {
                let on = (day(v.at), v.id);
                done.entry(p).and_modify(|e| *e = (*e).min(on)).or_insert(on);
            }
        }
        let mut out: Vec<PlanView> = self
            .records(DocKind::VisitPlan)
            .into_iter()
            .filter_map(|r| {
                let customer = id_of(&r, "customer")?;
                let date = date_of(&r, "date")?;
                let cancelled = self.status_of(r.id) == Some("cancelled");
                // Done by a visit of the plan's own customer that names it.
                let visit = done
                    .get(&r.id)
                    .filter(|(_, v)| book.visits.get(&customer).is_some_and(|list| list.iter().any(|x| x.id == *v)));
                let state = match (cancelled, visit) {
                    (true, _) => PlanState::Cancelled,
                    (false, Some((on, visit))) => PlanState::Done { visit: *visit, on: *on },
                    (false, None) if date < today => PlanState::Missed,
                    (false, None) => PlanState::Open,
                };
                let c = book.customers.get(&customer);
                Some(PlanView {
                    id: r.id,
                    customer,
                    customer_name: c.map(|c| c.name.clone()).unwrap_or_default(),
                    class: c.and_then(|c| c.class),
                    rep: r.str("rep").unwrap_or_default().to_string(),
                    date,
                    purpose: r.str("purpose").unwrap_or_default().to_string(),
                    state,
                })
            })
            .collect();
        out.sort_by(|a, b| (a.date, &a.rep, &a.customer_name, a.id).cmp(&(b.date, &b.rep, &b.customer_name, b.id)));
        out
    }

    /// Every visit plan held here, by date, with what became of it as of `today`.
    pub fn visit_plans(&self, today: NaiveDate) -> Vec<PlanView> {
        self.plans_in(&self.book(), today)
    }

    /// Planned against actual per rep and ISO week, for plans and visits dated `from` to
    /// `to` (both included), as of `today`.
    pub fn planned_vs_actual(&self, from: NaiveDate, to: NaiveDate, today: NaiveDate) -> Vec<WeekRow> {
        let book = self.book();
        let mut rows: BTreeMap<(String, String), WeekRow> = BTreeMap::new();
        fn row<'a>(rows: &'a mut BTreeMap<(String, String), WeekRow>, rep: &str, date: NaiveDate) -> &'a mut WeekRow {
            let week = protocol::time::iso_week(date);
            let r = rows.entry((rep.to_string(), week.clone())).or_default();
            r.rep = rep.to_string();
            r.week = week;
            r
        }
        for p in self.plans_in(&book, today).iter().filter(|p| from <= p.date && p.date <= to) {
            let r = row(&mut rows, &p.rep, p.date);
            r.planned += 1;
            match p.state {
                PlanState::Done { .. } => r.completed += 1,
                PlanState::Missed => r.missed += 1,
                PlanState::Open => r.open += 1,
                PlanState::Cancelled => r.cancelled += 1,
            }
        }
        for v in book.visits.values().flatten() {
            let d = day(v.at);
            if from <= d && d <= to {
                let r = row(&mut rows, &v.rep, d);
                r.visits += 1;
                if v.plan.is_none() {
                    r.unplanned += 1;
                }
            }
        }
        rows.into_values().collect()
    }

    /// The first order of each customer: the earliest submitted one's date.
    fn first_orders(&self) -> HashMap<DocId, NaiveDate> {
        let mut first: HashMap<DocId, NaiveDate> = HashMap::new();
        for o in self.orders() {
            let (Some(c), true) = (o.customer, o.events.iter().any(|e| e.kind == "submitted")) else { continue };
            let d = day(o.created_at);
            first.entry(c).and_modify(|e| *e = (*e).min(d)).or_insert(d);
        }
        first
    }

    /// Conversion per owning rep for class changes and first orders dated `from` to `to`.
    pub fn conversion(&self, from: NaiveDate, to: NaiveDate) -> Vec<ConversionRow> {
        let first = self.first_orders();
        let mut per: BTreeMap<String, ConversionRow> = BTreeMap::new();
        let within = |d: NaiveDate| from <= d && d <= to;
        for c in self.customers() {
            let rep = c.owner.clone().unwrap_or_default();
            let r = per.entry(rep.clone()).or_insert_with(|| ConversionRow { rep, ..Default::default() });
            r.customers += 1;
            if let Some(class) = c.class {
                r.by_class[2 - class_index(class)] += 1;
            }
            for h in c.class_history.iter().filter(|h| within(day(h.at))) {
                let (from_rank, to_rank) = (class_rank(h.from), class_index(h.to));
                // C (2) or none (3) up to B or A; B or lower up to A.
                if from_rank >= 2 && to_rank <= 1 && h.from.is_some() {
                    r.c_to_b += 1;
                }
                if from_rank >= 1 && to_rank == 0 && h.from.is_some() {
                    r.b_to_a += 1;
                }
            }
            if first.get(&c.id).is_some_and(|d| within(*d)) {
                r.first_orders += 1;
            }
        }
        per.into_values().collect()
    }

    /// A development plan's targets and how far each got in the plan's period.
    pub fn development_progress(&self, plan: DocId) -> Result<Progress, crate::CoreError> {
        let p = self.record(plan)?;
        if p.kind != DocKind::DevelopmentPlan {
            return Err(crate::CoreError::WrongKind { id: plan, expected: DocKind::DevelopmentPlan, found: p.kind });
        }
        let book = self.book();
        let first = self.first_orders();
        let (from, to) = (date_of(&p, "period_from"), date_of(&p, "period_to"));
        let within = |d: NaiveDate| from.is_none_or(|f| f <= d) && to.is_none_or(|t| d <= t);
        let mut targets: Vec<TargetProgress> = self
            .records(DocKind::DevelopmentTarget)
            .into_iter()
            .filter(|t| id_of(t, "plan") == Some(plan))
            .map(|t| {
                let customer = id_of(&t, "customer");
                let c = customer.and_then(|id| book.customers.get(&id));
                let visits: Vec<NaiveDate> = customer
                    .and_then(|id| book.visits.get(&id))
                    .map(|v| v.iter().map(|v| day(v.at)).filter(|d| within(*d)).collect())
                    .unwrap_or_default();
                let target_class: Option<CustomerClass> = t.str("target_class").and_then(|s| s.parse().ok());
                let class_now = c.and_then(|c| c.class);
                let class_at_start = c.and_then(|c| {
                    let before = c.class_history.iter().rfind(|h| from.is_some_and(|f| day(h.at) < f));
                    match (before, from) {
                        (Some(h), _) => Some(h.to),
                        (None, Some(f)) if day(c.created_at) < f => c.class_history.first().and_then(|h| h.from),
                        _ => None,
                    }
                });
                TargetProgress {
                    target: t.id,
                    customer,
                    name: c.map(|c| c.name.clone()).unwrap_or_default(),
                    method: t.str("method").map(String::from),
                    target_class,
                    class_at_start,
                    class_now,
                    visits: visits.len(),
                    last_visit: visits.iter().max().copied(),
                    reached: target_class.is_some_and(|want| class_rank(class_now) <= class_index(want)),
                    first_order: customer.and_then(|id| first.get(&id).copied()).filter(|d| within(*d)),
                }
            })
            .collect();
        targets.sort_by(|a, b| (&a.name, a.target).cmp(&(&b.name, b.target)));
        Ok(Progress {
            plan,
            title: p.str("title").unwrap_or_default().to_string(),
            owner: p.str("owner").unwrap_or_default().to_string(),
            from,
            to,
            contacted: targets.iter().filter(|t| t.visits > 0).count(),
            reached: targets.iter().filter(|t| t.reached).count(),
            ordered: targets.iter().filter(|t| t.first_order.is_some()).count(),
            targets,
        })
    }

    /// The workflow status of a document held here (`None`: no workflow, or not held).
    pub fn status_of(&self, id: DocId) -> Option<&'static str> {
        let (doc, kind) = self.doc_and_kind(id)?;
        presales_docs::workflow_status(doc, kind, "").map(|(s, _)| s)
    }

    /// `user`'s list for `today`, in priority order ([`Reason::rank`]; within a rank A, B, C
    /// customers before others, then the earliest date, then the name): their customers'
    /// overdue follow-ups, the visits planned for them today (and those missed in the last
    /// week), follow-ups due today, and the prospects of their development plans running
    /// today that have not been visited since the plan started. One row per customer, with
    /// every reason it is there.
    pub fn today(&self, user: &str, today: NaiveDate) -> Vec<TodayItem> {
        let book = self.book();
        let cadence = self.cadence();
        let mut items: BTreeMap<DocId, (Vec<Reason>, NaiveDate)> = BTreeMap::new();
        let mut add = |customer: DocId, reason: Reason, date: NaiveDate| {
            let e = items.entry(customer).or_insert_with(|| (Vec::new(), date));
            e.1 = e.1.min(date);
            e.0.push(reason);
        };
        for f in self.follow_ups_in(&book, today).into_iter().filter(|f| f.owner == user) {
            match f.overdue_days {
                d if d > 0 => add(f.customer, Reason::Overdue { days: d, due: f.next }, f.next),
                0 => add(f.customer, Reason::Due, f.next),
                _ => {}
            }
        }
        let week_ago = today - chrono::Duration::days(7);
        for p in self.plans_in(&book, today).into_iter().filter(|p| p.rep == user) {
            match p.state {
                PlanState::Open if p.date == today => {
                    add(p.customer, Reason::Planned { plan: p.id, purpose: p.purpose }, p.date)
                }
                PlanState::Missed if p.date >= week_ago => {
                    add(p.customer, Reason::Missed { plan: p.id, date: p.date, purpose: p.purpose }, p.date)
                }
                _ => {}
            }
        }
        let plans: Vec<Record> = self
            .records(DocKind::DevelopmentPlan)
            .into_iter()
            .filter(|p| p.str("owner") == Some(user))
            .filter(|p| {
                date_of(p, "period_from").is_none_or(|f| f <= today)
                    && date_of(p, "period_to").is_none_or(|t| today <= t)
            })
            .collect();
        if !plans.is_empty() {
            for t in self.records(DocKind::DevelopmentTarget) {
                let (Some(plan), Some(customer)) = (id_of(&t, "plan"), id_of(&t, "customer")) else { continue };
                let Some(p) = plans.iter().find(|p| p.id == plan) else { continue };
                let start = date_of(p, "period_from");
                let visited = book.last_visit(customer).is_some_and(|v| start.is_none_or(|s| v >= s));
                if !visited && book.customers.contains_key(&customer) {
                    let title = p.str("title").unwrap_or_default().to_string();
                    add(customer, Reason::Prospect { plan, title }, date_of(&t, "due").unwrap_or(today));
                }
            }
        }
        // Issue 8's revisit and care tasks assigned to the rep, due by today.
        for (kind, field) in [(DocKind::RevisitTask, "content"), (DocKind::CareTask, "occasion")] {
            for t in self.records(kind) {
                let open = t.str("status").is_none_or(|s| s == protocol::schema::TaskStatus::Open.as_str());
                let Some(due) = date_of(&t, "due") else { continue };
                let Some(customer) = id_of(&t, "customer") else { continue };
                let mine = match t.str("assignee") {
                    Some(a) => a == user,
                    None => book.customers.get(&customer).is_some_and(|c| c.owner.as_deref() == Some(user)),
                };
                if open && mine && due <= today {
                    let what = t.str(field).unwrap_or_default().to_string();
                    add(customer, Reason::Task { task: t.id, revisit: kind == DocKind::RevisitTask, what, due }, due);
                }
            }
        }
        let mut out: Vec<(TodayItem, NaiveDate)> = items
            .into_iter()
            .filter_map(|(id, (mut reasons, date))| {
                let c = book.customers.get(&id)?;
                reasons.sort_by_key(Reason::rank);
                let item = TodayItem {
                    customer: id,
                    name: c.name.clone(),
                    class: c.class,
                    phone: c.phone.clone(),
                    rank: reasons[0].rank(),
                    reasons,
                    strategy: c.class.map(|k| cadence.strategy[class_index(k)].clone()).unwrap_or_default(),
                };
                Some((item, date))
            })
            .collect();
        out.sort_by(|(a, da), (b, db)| {
            (a.rank, class_rank(a.class), *da, &a.name, a.customer).cmp(&(
                b.rank,
                class_rank(b.class),
                *db,
                &b.name,
                b.customer,
            ))
        });
        out.into_iter().map(|(i, _)| i).collect()
    }
}

/// Tables as CSV: UTF-8 with a BOM (spreadsheets then read the Chinese), quoted where
/// needed, one header row.
pub fn csv(header: &[&str], rows: impl IntoIterator<Item = Vec<String>>) -> String {
    let cell = protocol::presales::summary::csv_cell;
    let mut out = format!("\u{feff}{}\r\n", header.iter().map(|h| cell(h)).collect::<Vec<_>>().join(","));
    for r in rows {
        out.push_str(&r.iter().map(|c| cell(c)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::ActorId;
    use protocol::Role;
    use protocol::rules::Principal;

    fn d(s: &str) -> NaiveDate {
        protocol::time::parse_date(s).unwrap()
    }

    /// UTC ms of a local time in Asia/Shanghai (`2026-03-01 23:30`).
    fn local(s: &str) -> i64 {
        protocol::time::parse_rfc3339(&format!("{}:00+08:00", s.replace(' ', "T"))).unwrap()
    }

    fn replica(user: &str, role: Role) -> Replica {
        let mut r = Replica::load(ActorId::random(), user, vec![], 0, vec![]).unwrap();
        r.set_principal(Principal { user: user.into(), role, territories: vec!["贵州".into()] });
        r
    }

    fn customer(r: &mut Replica, name: &str, class: &str, at: i64) -> DocId {
        let owner = r.user().to_string();
        let mut inputs = vec![("name", name), ("territory", "贵州"), ("owner", owner.as_str())];
        if !class.is_empty() {
            inputs.push(("class", class));
        }
        r.create(DocKind::Customer, &inputs, at).unwrap()
    }

    fn visit(r: &mut Replica, c: DocId, at: i64, plan: Option<DocId>) -> DocId {
        let c = c.to_string();
        let plan = plan.map(|p| p.to_string());
        let mut inputs = vec![("customer", c.as_str()), ("kind", "follow-up")];
        if let Some(p) = &plan {
            inputs.push(("plan", p));
        }
        r.create(DocKind::Visit, &inputs, at).unwrap()
    }

    /// Issue 12's cadence table: the next follow-up from class and last visit, a class
    /// change moving it, a manual override (and a visit after it doing it), overdue edges
    /// across midnight in Asia/Shanghai.
    #[test]
    fn cadence_table_class_change_manual_override_and_overdue_edges_in_shanghai() {
        let cadence = Cadence::default();
        type Case<'a> =
            (Option<CustomerClass>, &'a str, Option<&'a str>, Option<&'a str>, Option<(&'a str, NextSource)>);
        let cases: &[Case] = &[
            // (class, created, last visit, manual, next)
            (Some(CustomerClass::A), "2026-01-01", Some("2026-03-01"), None, Some(("2026-03-08", NextSource::Cadence))),
            (Some(CustomerClass::B), "2026-01-01", Some("2026-03-01"), None, Some(("2026-03-15", NextSource::Cadence))),
            (Some(CustomerClass::C), "2026-01-01", Some("2026-03-01"), None, Some(("2026-03-31", NextSource::Cadence))),
            (Some(CustomerClass::A), "2026-02-20", None, None, Some(("2026-02-27", NextSource::Cadence))),
            (None, "2026-01-01", Some("2026-03-01"), None, None),
            // A manual date after the last visit wins, earlier or later than the cadence's.
            (
                Some(CustomerClass::A),
                "2026-01-01",
                Some("2026-03-01"),
                Some("2026-03-20"),
                Some(("2026-03-20", NextSource::Manual)),
            ),
            (
                Some(CustomerClass::C),
                "2026-01-01",
                Some("2026-03-01"),
                Some("2026-03-03"),
                Some(("2026-03-03", NextSource::Manual)),
            ),
            (None, "2026-01-01", None, Some("2026-03-03"), Some(("2026-03-03", NextSource::Manual))),
            // A visit on or after the manual date has done it: back to the cadence.
            (
                Some(CustomerClass::A),
                "2026-01-01",
                Some("2026-03-20"),
                Some("2026-03-20"),
                Some(("2026-03-27", NextSource::Cadence)),
            ),
        ];
        for (i, (class, created, last, manual, want)) in cases.iter().enumerate() {
            let got = next_follow_up(*class, d(created), last.map(d), manual.map(d), &cadence);
            assert_eq!(got, want.map(|(w, s)| (d(w), s)), "case {i}");
        }
        let custom = Cadence { days: [3, 10, 20], strategy: Default::default() };
        assert_eq!(
            next_follow_up(Some(CustomerClass::A), d("2026-01-01"), Some(d("2026-03-01")), None, &custom).unwrap().0,
            d("2026-03-04")
        );

        // Through documents: a visit at 00:30 on 1 March in Shanghai (still 28 February in
        // UTC) counts for 1 March.
        let mut r = replica("li", Role::Rep);
        let c = customer(&mut r, "贵阳名酒行", "A", local("2026-01-05 09:00"));
        visit(&mut r, c, local("2026-03-01 00:30"), None);
        let f = |r: &Replica, today: &str| r.follow_ups(d(today)).into_iter().find(|f| f.customer == c).unwrap();
        let a = f(&r, "2026-03-08");
        assert_eq!((a.last_visit, a.next, a.overdue_days), (Some(d("2026-03-01")), d("2026-03-08"), 0));
        // Overdue edges: the device's clock at 23:59:59 and at 00:00 in Shanghai.
        let today_at = |s: &str| shanghai_date(local(s));
        assert_eq!(
            f(&r, &today_at("2026-03-08 23:59").to_string()).overdue_days,
            0,
            "due, not overdue, until midnight"
        );
        assert_eq!(today_at("2026-03-08 23:59"), d("2026-03-08"));
        assert_eq!(shanghai_date(local("2026-03-08 23:59") + 59_999), d("2026-03-08"));
        assert_eq!(shanghai_date(local("2026-03-09 00:00")), d("2026-03-09"));
        assert_eq!(f(&r, "2026-03-09").overdue_days, 1);
        assert!(f(&r, "2026-03-09").overdue());
        // The class changes from A to C: the next follow-up moves from 8 to 31 March.
        r.edit(c, &[("class", "C")], local("2026-03-02 10:00")).unwrap();
        assert_eq!((f(&r, "2026-03-09").next, f(&r, "2026-03-09").overdue_days), (d("2026-03-31"), -22));
        // A manual override, then a visit that does it.
        r.edit(c, &[("next_follow_up", "2026-03-12")], local("2026-03-02 10:01")).unwrap();
        assert_eq!((f(&r, "2026-03-13").next, f(&r, "2026-03-13").source), (d("2026-03-12"), NextSource::Manual));
        visit(&mut r, c, local("2026-03-12 16:00"), None);
        assert_eq!((f(&r, "2026-03-13").next, f(&r, "2026-03-13").source), (d("2026-04-11"), NextSource::Cadence));
        // A manager sets the cadence document: C every 10 days.
        r.set_principal(Principal { user: "li".into(), role: Role::Manager, territories: vec!["贵州".into()] });
        r.create(
            DocKind::CadencePolicy,
            &[("c_days", "10"), ("c_strategy", "电话回访为主")],
            local("2026-03-13 09:00"),
        )
        .unwrap();
        assert_eq!(f(&r, "2026-03-13").next, d("2026-03-22"));
        // Overdue per rep.
        let per = r.follow_ups_per_rep(d("2026-03-23"));
        assert_eq!((per[0].rep.as_str(), per[0].overdue, per[0].worst_days), ("li", 1, 1));
    }

    #[test]
    fn todays_list_is_ordered_by_priority() {
        let mut r = replica("li", Role::Rep);
        let created = local("2026-01-05 09:00");
        // Overdue: A by 2 days, C by 10 days; due today: B; planned today: an unclassed one.
        let a = customer(&mut r, "A 逾期", "A", created);
        visit(&mut r, a, local("2026-03-01 10:00"), None);
        let c = customer(&mut r, "C 逾期", "C", created);
        visit(&mut r, c, local("2026-01-30 10:00"), None);
        let b = customer(&mut r, "B 今日", "B", created);
        visit(&mut r, b, local("2026-02-24 10:00"), None);
        let n = customer(&mut r, "计划拜访", "", created);
        let nid = n.to_string();
        let plan = r
            .create(
                DocKind::VisitPlan,
                &[("customer", &nid), ("rep", "li"), ("date", "2026-03-10"), ("purpose", "新品品鉴")],
                created,
            )
            .unwrap();
        // A revisit task (issue 8) due yesterday, assigned to li; a done one and one due
        // tomorrow stay off the list.
        let t = customer(&mut r, "回访客户", "", created);
        let tid = t.to_string();
        let task = r
            .create(
                DocKind::RevisitTask,
                &[("customer", &tid), ("content", "satisfaction-survey"), ("due", "2026-03-09"), ("assignee", "li")],
                created,
            )
            .unwrap();
        for (due, status) in [("2026-03-08", "done"), ("2026-03-11", "open")] {
            r.create(
                DocKind::RevisitTask,
                &[
                    ("customer", &nid),
                    ("content", "service-evaluation"),
                    ("due", due),
                    ("assignee", "li"),
                    ("status", status),
                ],
                created,
            )
            .unwrap();
        }
        // Not li's: someone else's customer, overdue too.
        let other = r
            .create(
                DocKind::Customer,
                &[("name", "别人的"), ("territory", "贵州"), ("class", "A"), ("owner", "li")],
                created,
            )
            .unwrap();
        r.set_principal(Principal { user: "zhang".into(), role: Role::Manager, territories: vec!["贵州".into()] });
        r.edit(other, &[("owner", "wang")], created).unwrap();
        let today = r.today("li", d("2026-03-10"));
        let names: Vec<(&str, u8)> = today.iter().map(|i| (i.name.as_str(), i.rank)).collect();
        assert_eq!(names, [("A 逾期", 1), ("C 逾期", 1), ("回访客户", 2), ("计划拜访", 2), ("B 今日", 3)]);
        assert!(matches!(today[2].reasons[0], Reason::Task { task: k, revisit: true, .. } if k == task));
        assert_eq!(today[2].reasons[0].text(Lang::Zh), "回访任务：满意度调查（2026-03-09 前）");
        assert_eq!(today[2].reasons[0].text(Lang::En), "revisit task: Satisfaction survey (by 2026-03-09)");
        assert_eq!(today[3].reasons.len(), 1, "the done task and tomorrow's are not reasons: {:?}", today[3]);
        assert!(matches!(today[3].reasons[0], Reason::Planned { plan: p, .. } if p == plan));
        // Done by a visit: off the list; the next day a missed plan would show.
        visit(&mut r, n, local("2026-03-10 15:00"), Some(plan));
        assert!(r.today("li", d("2026-03-10")).iter().all(|i| i.customer != n));
    }
}
