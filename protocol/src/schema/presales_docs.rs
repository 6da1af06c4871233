//! The documents the server writes for issue 12 — a published report's competitor-price
//! summary, a partner's evaluation — and the workflow and log reads every pre-sales kind
//! shares.

use super::access::{
    R, check_kind, get_int, get_str, new_list, push_entry, put_int, put_null, put_str, put_time, read_entries,
};
use super::{KIND_KEY, read_receipts};
use crate::ids::{DocId, DocKind};
use crate::kinds::{Entry, FieldType, LogSpec, Scalar, workflow};
use crate::presales::evaluation::{Deduction, Evaluation, Period};
use crate::presales::summary::SummaryRow;
use automerge::{AutoCommit, ROOT};
use std::collections::BTreeMap;

/// The entries of log `field` of a document of `kind`, with the log's declaration and the
/// server's arrival times (entry id → UTC ms).
pub fn log_of(
    doc: &AutoCommit,
    kind: DocKind,
    field: &str,
) -> Option<(&'static LogSpec, Vec<Entry>, BTreeMap<String, i64>)> {
    match kind.spec().field(field)?.ty {
        FieldType::Log(log) => Some((log, read_entries(doc, field), read_receipts(doc))),
        _ => None,
    }
}

/// The workflow status of a document (`None`: the kind has no workflow), and when the
/// server received the step that first took it to `when` (if it has).
pub fn workflow_status(doc: &AutoCommit, kind: DocKind, when: &str) -> Option<(&'static str, Option<i64>)> {
    let (field, wf) = kind.spec().workflow()?;
    let (log, entries, received) = log_of(doc, kind, field.name)?;
    let folded = workflow::fold(wf, log, &entries, &received);
    Some((folded.status, folded.reached_at(when)))
}

/// Append an entry (a step, a receipt) to log `field`.
pub fn append(doc: &mut AutoCommit, kind: DocKind, field: &str, values: &BTreeMap<String, Scalar>) -> R<()> {
    check_kind(doc, kind.as_str())?;
    push_entry(doc, field, values)
}

fn str_of(v: &str) -> Scalar {
    Scalar::Str(v.to_string())
}

/// Write the summary of `report` into its (new or existing) summary document.
pub fn write_summary(doc: &mut AutoCommit, report: DocId, rows: &[SummaryRow], observations: i64, at: i64) -> R<()> {
    put_str(doc, &ROOT, KIND_KEY, DocKind::ReportSummary.as_str())?;
    put_str(doc, &ROOT, "report", &report.to_string())?;
    put_time(doc, &ROOT, "computed_at", at)?;
    put_int(doc, &ROOT, "observations", observations)?;
    new_list(doc, "rows")?;
    for r in rows {
        let values: BTreeMap<String, Scalar> = [
            ("brand", str_of(&r.brand)),
            ("sku", str_of(&r.sku)),
            ("region", str_of(&r.region)),
            ("count", Scalar::Int(r.count)),
            ("min", Scalar::Int(r.min_fen)),
            ("median", Scalar::Int(r.median_fen)),
            ("max", Scalar::Int(r.max_fen)),
            ("promotions", str_of(&r.promotions.join("；"))),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        push_entry(doc, "rows", &values)?;
    }
    Ok(())
}

/// A summary document: its rows, how many observations it counts, when it was computed.
pub fn read_summary(doc: &AutoCommit) -> R<(Vec<SummaryRow>, i64, i64)> {
    check_kind(doc, DocKind::ReportSummary.as_str())?;
    let rows = read_entries(doc, "rows")
        .iter()
        .map(|e| SummaryRow {
            brand: e.str("brand").unwrap_or_default().into(),
            sku: e.str("sku").unwrap_or_default().into(),
            region: e.str("region").unwrap_or_default().into(),
            count: e.int("count").unwrap_or(0),
            min_fen: e.int("min").unwrap_or(0),
            median_fen: e.int("median").unwrap_or(0),
            max_fen: e.int("max").unwrap_or(0),
            promotions: e.str("promotions").map(|p| p.split('；').map(String::from).collect()).unwrap_or_default(),
        })
        .collect();
    Ok((rows, get_int(doc, &ROOT, "observations").unwrap_or(0), get_int(doc, &ROOT, "computed_at").unwrap_or(0)))
}

fn opt_int(values: &mut BTreeMap<String, Scalar>, key: &str, v: Option<i64>) {
    if let Some(v) = v {
        values.insert(key.to_string(), Scalar::Int(v));
    }
}

/// Write `partner`'s evaluation into its (new or existing) evaluation document.
pub fn write_evaluation(doc: &mut AutoCommit, partner: DocId, e: &Evaluation, at: i64) -> R<()> {
    put_str(doc, &ROOT, KIND_KEY, DocKind::PartnerEvaluation.as_str())?;
    put_str(doc, &ROOT, "partner", &partner.to_string())?;
    put_time(doc, &ROOT, "evaluated_at", at)?;
    let latest = e.latest();
    match e.criteria_score {
        Some(c) => put_int(doc, &ROOT, "criteria_score", c)?,
        None => put_null(doc, &ROOT, "criteria_score")?,
    }
    match latest {
        Some(p) => put_str(doc, &ROOT, "latest_period", &p.period)?,
        None => put_null(doc, &ROOT, "latest_period")?,
    }
    match latest.and_then(|p| p.total) {
        Some(t) => put_int(doc, &ROOT, "latest_total", t)?,
        None => put_null(doc, &ROOT, "latest_total")?,
    }
    new_list(doc, "periods")?;
    for p in &e.periods {
        let mut v = BTreeMap::new();
        v.insert("period".to_string(), str_of(&p.period));
        v.insert("sales".to_string(), Scalar::Int(p.sales_fen));
        opt_int(&mut v, "target", p.target_fen);
        opt_int(&mut v, "sales_score", p.sales_score);
        opt_int(&mut v, "criteria", p.criteria);
        opt_int(&mut v, "qualitative", p.qualitative);
        opt_int(&mut v, "base", p.base);
        v.insert("rewards".to_string(), Scalar::Int(p.rewards));
        v.insert("penalties".to_string(), Scalar::Int(p.penalties));
        v.insert("deductions".to_string(), Scalar::Int(p.deductions));
        opt_int(&mut v, "total", p.total);
        push_entry(doc, "periods", &v)?;
    }
    new_list(doc, "deductions")?;
    for (period, d) in &e.deductions {
        let v: BTreeMap<String, Scalar> = [
            ("report", str_of(&d.report)),
            ("kind", str_of(&d.kind)),
            ("points", Scalar::Int(d.points)),
            ("at", Scalar::Time(d.at)),
            ("period", str_of(period)),
            ("territory", str_of(&d.territory)),
            ("product", str_of(&d.product)),
            ("status", str_of(&d.status)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        push_entry(doc, "deductions", &v)?;
    }
    Ok(())
}

/// An evaluation document, as written.
pub fn read_evaluation(doc: &AutoCommit) -> R<Evaluation> {
    check_kind(doc, DocKind::PartnerEvaluation.as_str())?;
    let periods = read_entries(doc, "periods")
        .iter()
        .map(|e| Period {
            period: e.str("period").unwrap_or_default().into(),
            sales_fen: e.int("sales").unwrap_or(0),
            target_fen: e.int("target"),
            sales_score: e.int("sales_score"),
            criteria: e.int("criteria"),
            qualitative: e.int("qualitative"),
            base: e.int("base"),
            rewards: e.int("rewards").unwrap_or(0),
            penalties: e.int("penalties").unwrap_or(0),
            deductions: e.int("deductions").unwrap_or(0),
            total: e.int("total"),
        })
        .collect();
    let deductions = read_entries(doc, "deductions")
        .iter()
        .map(|e| {
            let s = |k: &str| e.str(k).unwrap_or_default().to_string();
            let d = Deduction {
                report: s("report"),
                kind: s("kind"),
                points: e.int("points").unwrap_or(0),
                at: e.int("at").unwrap_or(0),
                territory: s("territory"),
                product: s("product"),
                status: s("status"),
            };
            (s("period"), d)
        })
        .collect();
    Ok(Evaluation { criteria_score: get_int(doc, &ROOT, "criteria_score"), periods, deductions })
}

/// The partner an evaluation document is of.
pub fn evaluation_partner(doc: &AutoCommit) -> Option<DocId> {
    get_str(doc, &ROOT, "partner").parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::presales::evaluation::{Input, evaluate};

    #[test]
    fn summaries_and_evaluations_read_back_as_written() {
        let rows = vec![SummaryRow {
            brand: "五粮液".into(),
            sku: "普五 500ml".into(),
            region: "贵阳".into(),
            count: 3,
            min_fen: 100,
            median_fen: 200,
            max_fen: 300,
            promotions: vec!["中秋满减".into(), "买二送一".into()],
        }];
        let mut doc = AutoCommit::new();
        write_summary(&mut doc, DocId::new_random(), &rows, 3, 7).unwrap();
        assert_eq!(read_summary(&doc).unwrap(), (rows, 3, 7));

        let input = Input {
            weights: [Some(1); 5],
            scores: [Some(60); 5],
            annual_target_fen: Some(400),
            sales: vec![crate::presales::evaluation::Sale { at: 0, fen: 50 }],
            ..Default::default()
        };
        let e = evaluate(&input);
        let mut doc = AutoCommit::new();
        write_evaluation(&mut doc, DocId::new_random(), &e, 9).unwrap();
        assert_eq!(read_evaluation(&doc).unwrap(), e);
        // Writing the same again over it changes what it says in nothing.
        write_evaluation(&mut doc, DocId::new_random(), &e, 10).unwrap();
        assert_eq!(read_evaluation(&doc).unwrap(), e);
    }
}
