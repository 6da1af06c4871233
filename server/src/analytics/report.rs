//! The periodic analysis report: a month's, quarter's or year's tables drawn from
//! the indicators — revenue by total, territory, channel, series and rep, volume by
//! series, gross profit, new customers, A/B/C conversion, complaints and visits — each with
//! the period before and the year before, as the reader may see them (a section the
//! reader's scope refuses is left out), and exported as CSV (every table) or a printable
//! HTML page with a place for the manager's conclusions and recommendations. Pure over
//! the store; the HTTP route is `GET /api/reports/{period}`.

use super::indicators::{Dim, Filters, Indicator, Query, Table, to_csv};
use super::period::Period;
use super::{QueryError, run, scope_for};
use crate::storage::analytics::AnalyticsStore;
use protocol::Role;
use protocol::schema::Lang;

/// The report's tables: (indicator, breakdown, zh, en).
pub const SECTIONS: &[(Indicator, Dim, &str, &str)] = &[
    (Indicator::Revenue, Dim::Total, "销售额", "Revenue"),
    (Indicator::Revenue, Dim::Territory, "销售额（按区域）", "Revenue by territory"),
    (Indicator::Revenue, Dim::Channel, "销售额（按渠道）", "Revenue by channel"),
    (Indicator::Revenue, Dim::Series, "销售额（按系列）", "Revenue by series"),
    (Indicator::Revenue, Dim::Rep, "销售额（按业务员）", "Revenue by rep"),
    (Indicator::Volume, Dim::Series, "销量（按系列）", "Volume by series"),
    (Indicator::Profit, Dim::Total, "毛利", "Gross profit"),
    (Indicator::NewCustomers, Dim::Total, "新增客户", "New customers"),
    (Indicator::Conversion, Dim::Total, "客户分级转化", "A/B/C conversion"),
    (Indicator::Complaints, Dim::Total, "投诉与时效", "Complaints and SLA"),
    (Indicator::Visits, Dim::Total, "拜访", "Visits"),
];

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Section {
    pub zh: &'static str,
    pub en: &'static str,
    pub table: Table,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Report {
    /// `2026-03`, `2026-Q1`, `2026`.
    pub period: String,
    pub sections: Vec<Section>,
}

/// The report of `period` as `user` (of `role`, in `territories`) may read it.
pub fn build(
    store: &dyn AnalyticsStore,
    period: Period,
    role: Role,
    user: &str,
    territories: &[String],
) -> Result<Report, QueryError> {
    let mut sections = Vec::new();
    for &(indicator, by, zh, en) in SECTIONS {
        let q = Query {
            indicator,
            period: period.kind,
            from: period.start,
            to: period.end() - chrono::Duration::days(1),
            by,
            filters: Filters::default(),
        };
        let Ok(scope) = scope_for(role, user, territories, &q) else { continue };
        sections.push(Section { zh, en, table: run(store, &q, &scope)? });
    }
    Ok(Report { period: period.label(), sections })
}

/// Every table as CSV, one after another, each under a `# title` line.
pub fn to_report_csv(r: &Report, lang: Lang) -> String {
    let mut out = String::new();
    for s in &r.sections {
        out.push_str(&format!("# {} {}\n", r.period, title(s, lang)));
        out.push_str(&to_csv(&s.table));
        out.push('\n');
    }
    out
}

fn title(s: &Section, lang: Lang) -> &'static str {
    match lang {
        Lang::Zh => s.zh,
        Lang::En => s.en,
    }
}

/// Text for HTML: `&`, `<`, `>`, `"` and `'` escaped.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A figure as shown: fen in yuan, hundredths of a case in cases, basis points in percent.
fn figure(v: i64, unit: &str) -> String {
    let sign = if v < 0 { "-" } else { "" };
    let (whole, part) = (v.unsigned_abs() / 100, v.unsigned_abs() % 100);
    match unit {
        "fen" | "cases_x100" => format!("{sign}{whole}.{part:02}"),
        "bp" => format!("{sign}{whole}.{part:02}%"),
        _ => v.to_string(),
    }
}

/// A printable page: every table with the period before and the year before, and an empty
/// place for the manager's conclusions and recommendations.
pub fn to_html(r: &Report, lang: Lang) -> String {
    let zh = lang == Lang::Zh;
    let t = |z: &'static str, e: &'static str| if zh { z } else { e };
    let mut h = String::new();
    h.push_str(&format!(
        "<!doctype html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\"><title>{} {}</title>\
         <style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse;margin:0 0 1.5em}}\
         th,td{{border:1px solid #999;padding:2px 8px;text-align:right}}th:first-child,td:first-child,\
         td:nth-child(2){{text-align:left}}.notes{{border:1px solid #999;min-height:8em;margin:0 0 1em}}\
         @media print{{section{{break-inside:avoid}}}}</style></head><body>\n",
        if zh { "zh-CN" } else { "en" },
        t("经营分析报告", "Sales analysis report"),
        escape(&r.period)
    ));
    h.push_str(&format!("<h1>{} {}</h1>\n", t("经营分析报告", "Sales analysis report"), escape(&r.period)));
    h.push_str(&format!(
        "<p>{}</p>\n",
        t(
            "金额单位：元；上期、同期为上一期与去年同期。",
            "Money in yuan; previous and a year ago are the period before and the same period a year before."
        )
    ));
    for s in &r.sections {
        h.push_str(&format!("<section><h2>{}</h2>\n<table><thead><tr>", escape(title(s, lang))));
        h.push_str(&format!("<th>{}</th><th>{}</th>", t("期间", "Period"), escape(s.table.by)));
        for c in &s.table.columns {
            h.push_str(&format!(
                "<th>{0}</th><th>{0} ({1})</th><th>{0} ({2})</th>",
                escape(c.name),
                t("上期", "previous"),
                t("同期", "a year ago")
            ));
        }
        h.push_str("</tr></thead><tbody>\n");
        for row in &s.table.rows {
            h.push_str(&format!("<tr><td>{}</td><td>{}</td>", escape(&row.period), escape(&row.key)));
            for (i, c) in s.table.columns.iter().enumerate() {
                let opt = |v: Option<i64>| v.map(|v| figure(v, c.unit)).unwrap_or_else(|| "—".into());
                h.push_str(&format!(
                    "<td>{}</td><td>{}</td><td>{}</td>",
                    figure(row.values[i], c.unit),
                    opt(row.previous[i]),
                    opt(row.year_ago[i])
                ));
            }
            h.push_str("</tr>\n");
        }
        h.push_str("</tbody></table></section>\n");
    }
    for (z, e) in [("结论", "Conclusions"), ("建议", "Recommendations")] {
        h.push_str(&format!("<section><h2>{}</h2><div class=\"notes\"></div></section>\n", t(z, e)));
    }
    h.push_str("</body></html>\n");
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::period::PeriodKind;
    use crate::storage::analytics::{CustomerFact, LineFact, OrderFact, SqliteAnalytics};

    #[test]
    fn a_month_report_as_the_reader_may_see_it_in_csv_and_html() {
        let dir = std::env::temp_dir().join(format!("jiuloop-report-{}", uuid::Uuid::new_v4()));
        let store = SqliteAnalytics::open_in(&dir).unwrap();
        let at = |s: &str| protocol::time::parse_rfc3339(s).unwrap();
        for (id, territory, owner) in [(1u8, "贵州<b>", "li"), (2, "四川", "wang")] {
            store
                .put_customer(&CustomerFact {
                    id: vec![id],
                    name: format!("c{id}"),
                    territory: Some(territory.into()),
                    region: None,
                    channel: Some("restaurant".into()),
                    owner: Some(owner.into()),
                    created_by: owner.into(),
                    created_at: at("2026-03-02T00:00:00Z"),
                    class: None,
                    class_changes: vec![],
                })
                .unwrap();
        }
        for (id, customer, rep, when, fen) in
            [(1u8, 1u8, "li", "2026-03-05T02:00:00Z", 12_345), (2, 2, "wang", "2026-03-06T02:00:00Z", 50_000)]
        {
            store
                .put_order(&OrderFact {
                    id: vec![id],
                    customer: Some(vec![customer]),
                    rep: rep.into(),
                    territory: None,
                    status: "confirmed".into(),
                    counted: true,
                    ordered_at: at(when),
                    confirmed_at: None,
                    cancelled_after_confirmation: false,
                    exceptions: String::new(),
                    total_fen: fen,
                    seq: 1,
                    lines: vec![LineFact {
                        line_id: "1".into(),
                        sku: "QY-53-500".into(),
                        series: Some("黔韵".into()),
                        unit: "bottle".into(),
                        qty: 1,
                        bottles: 1,
                        bottles_per_case: 6,
                        amount_fen: fen,
                    }],
                })
                .unwrap();
        }
        let march = Period::parse("2026-03").unwrap();
        assert_eq!(march.kind, PeriodKind::Month);
        let exec = build(&store, march, Role::Executive, "zhao", &[]).unwrap();
        assert_eq!(exec.sections.len(), SECTIONS.len());
        let revenue = &exec.sections[0].table;
        assert_eq!(revenue.rows.len(), 1);
        assert_eq!(revenue.rows[0].values, vec![62_345, 2]);
        // A rep's report: their own figures, no team breakdowns.
        let li = build(&store, march, Role::Rep, "li", &["贵州<b>".into()]).unwrap();
        assert!(li.sections.iter().all(|s| !matches!(s.table.by, "territory" | "rep")));
        assert_eq!(li.sections[0].table.rows[0].values, vec![12_345, 1]);
        // CSV: every table under its title.
        let csv = to_report_csv(&exec, Lang::En);
        assert_eq!(csv.matches("\n# 2026-03 ").count() + usize::from(csv.starts_with("# 2026-03 ")), SECTIONS.len());
        assert!(csv.contains("# 2026-03 Revenue by rep\nperiod,rep,revenue_fen,orders,"), "{csv}");
        assert!(csv.contains("\n2026-03,wang,50000,1,"), "{csv}");
        // HTML: the figures in yuan, text escaped, the place for conclusions.
        let html = to_html(&exec, Lang::Zh);
        assert!(html.contains("<td>623.45</td>"), "{html}");
        assert!(html.contains("贵州&lt;b&gt;") && !html.contains("贵州<b>"));
        assert!(html.contains("<h2>结论</h2>") && html.contains("<h2>建议</h2>"));
        assert!(to_html(&exec, Lang::En).contains("<h2>Recommendations</h2>"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
