//! View models of issue 12's screens, ready to show: the rep's today list (the home
//! screen on a phone, `web/today.js`), the field reports (follow-ups and overdue per rep,
//! visit plans, planned against actual, conversion) with their CSV, a market report's page,
//! a partner's evaluation, a development plan's progress, an approved product plan's draft
//! catalogue — all computed by the client core from what the device holds, offline
//! ([`client_core::field_plan`]). Texts in the user's language.

use chrono::NaiveDate;
use client_core::Replica;
use client_core::field_plan::{self, PlanState};
use protocol::DocId;
use protocol::schema::order::format_fen;
use protocol::schema::{CustomerClass, Lang};
use protocol::time::{display_local, shanghai_date};
use serde::Deserialize;
use serde_json::{Value, json};

/// What a screen asks for: a day (default today), a period (`from`/`to` or an ISO `week`),
/// a record, a rep.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Args {
    pub date: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub week: Option<String>,
    pub id: Option<String>,
    pub rep: Option<String>,
}

fn date(s: &Option<String>) -> Option<NaiveDate> {
    s.as_deref().and_then(protocol::time::parse_date)
}

fn zh(lang: Lang) -> bool {
    lang == Lang::Zh
}

fn class(c: Option<CustomerClass>, lang: Lang) -> Value {
    match c {
        Some(c) => json!({ "value": c.as_str(), "label": c.label(lang) }),
        None => Value::Null,
    }
}

impl Args {
    fn today(&self, now: i64) -> NaiveDate {
        date(&self.date).unwrap_or_else(|| shanghai_date(now))
    }

    /// The period asked for; default this ISO week (`week_default`) or this month.
    fn period(&self, now: i64, week_default: bool) -> (NaiveDate, NaiveDate) {
        use chrono::Datelike;
        if let Some(monday) = self.week.as_deref().and_then(protocol::time::parse_iso_week) {
            return (monday, monday + chrono::Duration::days(6));
        }
        let today = shanghai_date(now);
        let from = date(&self.from).unwrap_or_else(|| {
            if week_default {
                today - chrono::Duration::days(today.weekday().num_days_from_monday() as i64)
            } else {
                today.with_day(1).unwrap_or(today)
            }
        });
        let to = date(&self.to).unwrap_or(if week_default { from + chrono::Duration::days(6) } else { today });
        (from, to)
    }

    fn id(&self) -> Result<DocId, String> {
        self.id.as_deref().unwrap_or_default().trim().parse().map_err(|_| "no record id".to_string())
    }
}

/// The rep's today list: `{date, rep, items: [{customer, name, class, phone, rank,
/// reasons: [{kind, rank, text, plan?, task?, …}], strategy}]}` in priority order.
pub fn today(r: &Replica, a: &Args, now: i64, lang: Lang) -> Value {
    let day = a.today(now);
    let rep = a.rep.clone().unwrap_or_else(|| r.user().to_string());
    let items: Vec<Value> = r
        .today(&rep, day)
        .iter()
        .map(|i| {
            let reasons: Vec<Value> = i
                .reasons
                .iter()
                .map(|x| {
                    // What the reason names (`plan`, `task`, `due` …) and its text.
                    let mut v = serde_json::to_value(x).unwrap_or_else(|_| json!({}));
                    v["rank"] = x.rank().into();
                    v["text"] = x.text(lang).into();
                    v
                })
                .collect();
            json!({
                "customer": i.customer, "name": i.name, "class": class(i.class, lang), "phone": i.phone,
                "rank": i.rank, "reasons": reasons, "strategy": i.strategy,
            })
        })
        .collect();
    json!({ "date": day.to_string(), "rep": rep, "items": items })
}

/// A table: `{title, columns, rows}` (every cell text), and the same as CSV.
struct Table {
    columns: Vec<&'static str>,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn json(self, title: String) -> Value {
        json!({ "title": title, "columns": self.columns, "rows": self.rows })
    }
}

fn pick(lang: Lang, zh_cols: &[&'static str], en_cols: &[&'static str]) -> Vec<&'static str> {
    if zh(lang) { zh_cols.to_vec() } else { en_cols.to_vec() }
}

fn class_text(c: Option<CustomerClass>, lang: Lang) -> String {
    c.map(|c| c.label(lang).to_string()).unwrap_or_default()
}

fn table(r: &Replica, name: &str, a: &Args, now: i64, lang: Lang) -> Result<(String, Table), String> {
    let zh = zh(lang);
    let today = a.today(now);
    Ok(match name {
        "followups" => {
            let rows = r
                .follow_ups(today)
                .into_iter()
                .filter(|f| a.rep.as_ref().is_none_or(|x| &f.owner == x))
                .map(|f| {
                    let source = match (f.source, zh) {
                        (field_plan::NextSource::Manual, true) => "手动",
                        (field_plan::NextSource::Manual, false) => "manual",
                        (_, true) => "周期",
                        (_, false) => "cadence",
                    };
                    vec![
                        f.name.clone(),
                        class_text(f.class, lang),
                        f.owner.clone(),
                        f.last_visit.map(|d| d.to_string()).unwrap_or_default(),
                        f.next.to_string(),
                        source.into(),
                        f.overdue_days.max(0).to_string(),
                    ]
                })
                .collect();
            let cols = pick(
                lang,
                &["客户", "分类", "负责销售", "上次拜访", "下次跟进", "来源", "逾期天数"],
                &["Customer", "Class", "Owner", "Last visit", "Next follow-up", "Source", "Days overdue"],
            );
            (format!("{} {today}", if zh { "客户跟进" } else { "Follow-ups" }), Table { columns: cols, rows })
        }
        "overdue" => {
            let rows = r
                .follow_ups_per_rep(today)
                .into_iter()
                .map(|x| {
                    vec![
                        x.rep,
                        x.customers.to_string(),
                        x.overdue.to_string(),
                        x.due_today.to_string(),
                        x.worst_days.to_string(),
                    ]
                })
                .collect();
            let cols = pick(
                lang,
                &["销售", "客户数", "逾期", "今日到期", "最长逾期（天）"],
                &["Rep", "Customers", "Overdue", "Due today", "Worst (days)"],
            );
            (
                format!("{} {today}", if zh { "逾期跟进（按销售）" } else { "Overdue follow-ups per rep" }),
                Table { columns: cols, rows },
            )
        }
        "visit-plans" => {
            let (from, to) = a.period(now, true);
            let rows = r
                .visit_plans(today)
                .into_iter()
                .filter(|p| from <= p.date && p.date <= to)
                .map(|p| {
                    let state = match (&p.state, zh) {
                        (PlanState::Open, true) => "待拜访".to_string(),
                        (PlanState::Open, false) => "open".into(),
                        (PlanState::Done { on, .. }, true) => format!("已完成 {on}"),
                        (PlanState::Done { on, .. }, false) => format!("done {on}"),
                        (PlanState::Missed, true) => "未完成".into(),
                        (PlanState::Missed, false) => "missed".into(),
                        (PlanState::Cancelled, true) => "已取消".into(),
                        (PlanState::Cancelled, false) => "cancelled".into(),
                    };
                    vec![p.date.to_string(), p.rep, p.customer_name, p.purpose, state]
                })
                .collect();
            let cols =
                pick(lang, &["日期", "销售", "客户", "目的", "状态"], &["Date", "Rep", "Customer", "Purpose", "State"]);
            (format!("{} {from} — {to}", if zh { "拜访计划" } else { "Visit plans" }), Table { columns: cols, rows })
        }
        "planned-vs-actual" => {
            let (from, to) = a.period(now, true);
            let rows = r
                .planned_vs_actual(from, to, today)
                .into_iter()
                .map(|w| {
                    vec![w.rep, w.week]
                        .into_iter()
                        .chain(
                            [w.planned, w.completed, w.missed, w.open, w.cancelled, w.visits, w.unplanned]
                                .map(|n| n.to_string()),
                        )
                        .collect()
                })
                .collect();
            let cols = pick(
                lang,
                &["销售", "周", "计划", "完成", "未完成", "待拜访", "已取消", "实际拜访", "计划外"],
                &["Rep", "Week", "Planned", "Completed", "Missed", "Open", "Cancelled", "Visits", "Unplanned"],
            );
            (
                format!("{} {from} — {to}", if zh { "计划与实际" } else { "Planned vs actual" }),
                Table { columns: cols, rows },
            )
        }
        "conversion" => {
            let (from, to) = a.period(now, false);
            let rows = r
                .conversion(from, to)
                .into_iter()
                .map(|c| {
                    vec![
                        c.rep,
                        c.c_to_b.to_string(),
                        c.b_to_a.to_string(),
                        c.first_orders.to_string(),
                        c.customers.to_string(),
                        format!("{}/{}/{}", c.by_class[2], c.by_class[1], c.by_class[0]),
                    ]
                })
                .collect();
            let cols = pick(
                lang,
                &["销售", "C→B", "B→A", "首单", "客户数", "A/B/C 客户"],
                &["Rep", "C→B", "B→A", "First orders", "Customers", "A/B/C customers"],
            );
            (format!("{} {from} — {to}", if zh { "客户转化" } else { "Conversion" }), Table { columns: cols, rows })
        }
        "report" => {
            let id = a.id()?;
            let v = r.report_summary(id).map_err(|e| e.to_string())?;
            let rows = v
                .rows
                .iter()
                .map(|x| {
                    vec![
                        x.brand.clone(),
                        x.sku.clone(),
                        x.region.clone(),
                        x.count.to_string(),
                        format_fen(x.min_fen),
                        format_fen(x.median_fen),
                        format_fen(x.max_fen),
                        x.promotions.join("；"),
                    ]
                })
                .collect();
            let cols = pick(
                lang,
                &["品牌", "产品", "区域", "观察数", "最低价", "中位价", "最高价", "促销活动"],
                &["Brand", "SKU", "Region", "Seen", "Min", "Median", "Max", "Promotions"],
            );
            (if zh { "竞品价格汇总" } else { "Competitor prices" }.to_string(), Table { columns: cols, rows })
        }
        other => return Err(format!("no table '{other}'")),
    })
}

/// `name`: `today`, `followups`, `overdue`, `visit-plans`, `planned-vs-actual`,
/// `conversion`, `report` (`{…, summary: {by_server, computed_at_local, observations},
/// logs}`), `evaluation`, `progress`, `catalogue` (an approved product plan's rows).
pub fn view(r: &Replica, name: &str, a: &Args, now: i64, lang: Lang) -> Result<Value, String> {
    let zh = zh(lang);
    match name {
        "today" => Ok(today(r, a, now, lang)),
        "evaluation" => {
            let id = a.id()?;
            let e = r.evaluation(id);
            let mut v = serde_json::to_value(&e).map_err(|e| e.to_string())?;
            if let Some(e) = &e {
                v["deductions"] = e
                    .deductions
                    .iter()
                    .map(|(q, d)| {
                        let kind = protocol::kinds::presales::VIOLATION_KINDS.label(&d.kind, lang).unwrap_or(&d.kind);
                        json!({ "period": q, "kind": kind, "points": d.points, "at": display_local(d.at),
                                "territory": d.territory, "product": d.product, "status": d.status })
                    })
                    .collect::<Vec<_>>()
                    .into();
            }
            Ok(v)
        }
        "progress" => {
            serde_json::to_value(r.development_progress(a.id()?).map_err(|e| e.to_string())?).map_err(|e| e.to_string())
        }
        "catalogue" => r.draft_catalogue(a.id()?).map(Value::from).map_err(|e| e.to_string()),
        _ => {
            let (title, t) = table(r, name, a, now, lang)?;
            let mut v = t.json(title);
            if name == "report" {
                let s = r.report_summary(a.id()?).map_err(|e| e.to_string())?;
                let when = s.computed_at.map(display_local);
                let note = match (s.by_server, when, zh) {
                    (true, Some(w), true) => format!("服务器于 {w} 汇总（发布时），{} 条观察", s.observations),
                    (true, Some(w), false) => {
                        format!("summarised by the server at {w} (on publication), {} observations", s.observations)
                    }
                    (_, _, true) => format!("本机预览（未发布），{} 条观察", s.observations),
                    (_, _, false) => format!("preview on this device (not published), {} observations", s.observations),
                };
                v["note"] = note.into();
                v["by_server"] = s.by_server.into();
            }
            Ok(v)
        }
    }
}

/// A table view as CSV (UTF-8 with BOM).
pub fn csv(r: &Replica, name: &str, a: &Args, now: i64, lang: Lang) -> Result<String, String> {
    let (_, t) = table(r, name, a, now, lang)?;
    Ok(field_plan::csv(&t.columns, t.rows))
}
