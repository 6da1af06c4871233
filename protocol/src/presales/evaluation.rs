//! A channel partner's periodic evaluation (渠道合作伙伴评估), per quarter (Asia/Shanghai):
//!
//! - **criteria score** (0–100): the partner's scores against its channel plan's selection
//!   criteria, weighted by the plan's weights (criteria with weight 0 or no score left out;
//!   every criterion weighs the same without a plan or weights);
//! - **sales score** (0–100): the quarter's sales — orders of the customer it trades as,
//!   counted when the server confirmed them, at their confirmed total — against a quarter of
//!   its annual target, capped at 100 (none without a target);
//! - **qualitative score** (0–100): the score of the quarter's latest assessment record;
//! - **weighted score**: criteria 30 %, sales 40 %, qualitative 30 % of the parts there are
//!   (the weights of missing parts spread over the others);
//! - **evaluation**: the weighted score plus the quarter's reward points, minus its penalty
//!   points and the deductions for violations found in the field that arrived that quarter
//!   (not those dismissed), between 0 and 100.
//!
//! Every division rounds half up. A quarter appears when something happened in it.

use super::div_round;
use chrono::NaiveDate;
use serde::Serialize;
use std::collections::BTreeMap;

/// The selection criteria, in the order of the channel plan's `weight_*` and the
/// partner's `score_*` fields.
pub const CRITERIA: [&str; 5] = ["capital", "network", "reputation", "logistics", "service"];

/// Weights of the criteria, sales and qualitative parts of the weighted score.
pub const PART_WEIGHTS: [i64; 3] = [30, 40, 30];

/// Points a violation costs when the partner's channel plan does not say.
pub const DEFAULT_DEDUCTION_CROSS_REGION: i64 = 10;
pub const DEFAULT_DEDUCTION_PRICE: i64 = 5;

/// A sale: an order of the partner's customer, confirmed at `at` for `fen`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sale {
    pub at: i64,
    pub fen: i64,
}

/// A record of the partner's archive, as the evaluation reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// `reward`, `penalty`, `assessment` (other kinds do not count).
    pub kind: String,
    pub date: NaiveDate,
    pub points: Option<i64>,
    pub score: Option<i64>,
    /// When it was recorded (orders two assessments of one day).
    pub recorded_at: i64,
}

/// A deduction for a violation found in the field, as the server recorded it (once).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Deduction {
    pub report: String,
    pub kind: String,
    pub points: i64,
    /// When the server received the report.
    pub at: i64,
    pub territory: String,
    pub product: String,
    /// The report's review status (`reported`, `confirmed`, `dismissed`).
    pub status: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Input {
    /// The channel plan's weights (`None`: not set).
    pub weights: [Option<i64>; 5],
    pub scores: [Option<i64>; 5],
    pub annual_target_fen: Option<i64>,
    pub sales: Vec<Sale>,
    pub records: Vec<Record>,
    pub deductions: Vec<Deduction>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Period {
    /// `2026-Q1`.
    pub period: String,
    pub sales_fen: i64,
    pub target_fen: Option<i64>,
    pub sales_score: Option<i64>,
    pub criteria: Option<i64>,
    pub qualitative: Option<i64>,
    pub base: Option<i64>,
    pub rewards: i64,
    pub penalties: i64,
    pub deductions: i64,
    pub total: Option<i64>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Evaluation {
    pub criteria_score: Option<i64>,
    /// Oldest quarter first.
    pub periods: Vec<Period>,
    /// With the quarter each counts in.
    pub deductions: Vec<(String, Deduction)>,
}

impl Evaluation {
    pub fn latest(&self) -> Option<&Period> {
        self.periods.last()
    }
}

/// The weighted criteria score (see the module docs).
pub fn criteria_score(weights: &[Option<i64>; 5], scores: &[Option<i64>; 5]) -> Option<i64> {
    let any_weight = weights.iter().any(|w| w.is_some_and(|w| w > 0));
    let (mut sum, mut total) = (0, 0);
    for (w, s) in weights.iter().zip(scores) {
        let w = if any_weight { w.unwrap_or(0) } else { 1 };
        if let (true, Some(s)) = (w > 0, s) {
            sum += w * s;
            total += w;
        }
    }
    (total > 0).then(|| div_round(sum, total))
}

/// The weighted score of the parts there are (criteria, sales, qualitative).
pub fn weighted(parts: [Option<i64>; 3]) -> Option<i64> {
    let (mut sum, mut total) = (0, 0);
    for (p, w) in parts.iter().zip(PART_WEIGHTS) {
        if let Some(p) = p {
            sum += p * w;
            total += w;
        }
    }
    (total > 0).then(|| div_round(sum, total))
}

pub fn evaluate(input: &Input) -> Evaluation {
    let criteria = criteria_score(&input.weights, &input.scores);
    let quarter_ms = |ms: i64| crate::time::quarter(crate::time::shanghai_date(ms));
    let mut periods: BTreeMap<String, Period> = BTreeMap::new();
    fn at(periods: &mut BTreeMap<String, Period>, q: String) -> &mut Period {
        let p = periods.entry(q.clone()).or_default();
        p.period = q;
        p
    }
    for s in &input.sales {
        at(&mut periods, quarter_ms(s.at)).sales_fen += s.fen;
    }
    let mut assessments: BTreeMap<String, (NaiveDate, i64, i64)> = BTreeMap::new();
    for r in &input.records {
        let q = crate::time::quarter(r.date);
        match r.kind.as_str() {
            "reward" => at(&mut periods, q).rewards += r.points.unwrap_or(0),
            "penalty" => at(&mut periods, q).penalties += r.points.unwrap_or(0),
            "assessment" => {
                if let Some(score) = r.score {
                    at(&mut periods, q.clone());
                    let key = (r.date, r.recorded_at, score);
                    let e = assessments.entry(q).or_insert(key);
                    if (key.0, key.1) >= (e.0, e.1) {
                        *e = key;
                    }
                }
            }
            _ => {}
        }
    }
    let mut deductions = Vec::new();
    for d in &input.deductions {
        let q = quarter_ms(d.at);
        if d.status != "dismissed" {
            at(&mut periods, q.clone()).deductions += d.points;
        }
        deductions.push((q, d.clone()));
    }
    let target = input.annual_target_fen.filter(|t| *t > 0).map(|t| div_round(t, 4));
    let periods = periods
        .into_values()
        .map(|mut p| {
            p.target_fen = target;
            p.sales_score = target.map(|t| div_round(p.sales_fen.saturating_mul(100), t).min(100));
            p.criteria = criteria;
            p.qualitative = assessments.get(&p.period).map(|a| a.2);
            p.base = weighted([p.criteria, p.sales_score, p.qualitative]);
            p.total = p.base.map(|b| (b + p.rewards - p.penalties - p.deductions).clamp(0, 100));
            p
        })
        .collect();
    Evaluation { criteria_score: criteria, periods, deductions }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        crate::time::parse_date(s).unwrap()
    }

    fn ms(s: &str) -> i64 {
        crate::time::shanghai_midnight(d(s)) + 3_600_000
    }

    fn record(kind: &str, date: &str, points: Option<i64>, score: Option<i64>, recorded_at: i64) -> Record {
        Record { kind: kind.into(), date: d(date), points, score, recorded_at }
    }

    fn deduction(report: &str, points: i64, at: &str, status: &str) -> Deduction {
        Deduction {
            report: report.into(),
            kind: "cross-region".into(),
            points,
            at: ms(at),
            territory: "四川".into(),
            product: "黔韵".into(),
            status: status.into(),
        }
    }

    /// Issue 12's table: weighted scores and deductions.
    #[test]
    fn weighted_scores_and_deductions_table() {
        let w = |ws: [i64; 5]| ws.map(Some);
        let s = |ss: [i64; 5]| ss.map(Some);
        // (weights, scores, criteria score)
        type Case = ([Option<i64>; 5], [Option<i64>; 5], Option<i64>);
        let criteria: &[Case] = &[
            (w([30, 25, 20, 15, 10]), s([80, 60, 90, 70, 50]), Some(73)), // 7250 / 100 = 72.5
            (w([1, 1, 1, 1, 1]), s([80, 60, 90, 70, 50]), Some(70)),
            ([None; 5], s([80, 60, 90, 70, 50]), Some(70)),
            (w([50, 50, 0, 0, 0]), s([81, 60, 0, 0, 0]), Some(71)), // 70.5 rounds half up
            (w([50, 50, 0, 0, 0]), [Some(80), None, None, None, None], Some(80)),
            (w([0, 0, 0, 0, 0]), [None; 5], None),
        ];
        for (i, (weights, scores, want)) in criteria.iter().enumerate() {
            assert_eq!(criteria_score(weights, scores), *want, "criteria case {i}");
        }

        // (criteria, sales score, qualitative) → weighted score
        let parts: &[([Option<i64>; 3], Option<i64>)] = &[
            ([Some(80), Some(100), Some(60)], Some(82)), // 24 + 40 + 18
            ([Some(80), None, Some(60)], Some(70)),      // (2400 + 1800) / 60
            ([None, Some(50), None], Some(50)),
            ([Some(75), Some(50), None], Some(61)), // (2250 + 2000) / 70 = 60.7
            ([None, None, None], None),
        ];
        for (p, want) in parts {
            assert_eq!(weighted(*p), *want, "{p:?}");
        }

        // Whole quarters: sales against a quarter of the target, assessments, rewards,
        // penalties, deductions (a dismissed one costs nothing), the total clamped.
        let input = Input {
            weights: w([30, 25, 20, 15, 10]),
            scores: s([80, 60, 90, 70, 50]),
            annual_target_fen: Some(40_000_000),
            sales: vec![
                Sale { at: ms("2026-01-15"), fen: 6_000_000 },
                Sale { at: ms("2026-03-31"), fen: 2_000_000 },
                Sale { at: ms("2026-04-01"), fen: 15_000_000 },
            ],
            records: vec![
                record("assessment", "2026-02-01", None, Some(60), 1),
                record("assessment", "2026-03-01", None, Some(90), 2),
                record("reward", "2026-02-10", Some(5), None, 3),
                record("penalty", "2026-05-10", Some(8), None, 4),
                record("training", "2026-05-11", None, None, 5),
            ],
            deductions: vec![
                deduction("r1", 10, "2026-05-01", "reported"),
                deduction("r2", 10, "2026-05-02", "dismissed"),
                deduction("r3", 50, "2026-05-03", "confirmed"),
            ],
        };
        let e = evaluate(&input);
        type Row<'a> = (&'a str, i64, Option<i64>, Option<i64>, Option<i64>, i64, i64, i64, Option<i64>);
        let got: Vec<Row> = e
            .periods
            .iter()
            .map(|p| {
                (
                    p.period.as_str(),
                    p.sales_fen,
                    p.sales_score,
                    p.qualitative,
                    p.base,
                    p.rewards,
                    p.penalties,
                    p.deductions,
                    p.total,
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                // 80,000 of 100,000 → 80; latest assessment 90; 0.3·73 + 0.4·80 + 0.3·90 = 80.9 → 81; +5.
                ("2026-Q1", 8_000_000, Some(80), Some(90), Some(81), 5, 0, 0, Some(86)),
                // 150,000 → capped at 100; no assessment: (30·73 + 40·100) / 70 = 88.4 → 88;
                // −8 penalty, −60 deductions (r2 dismissed) → 20.
                ("2026-Q2", 15_000_000, Some(100), None, Some(88), 0, 8, 60, Some(20)),
            ]
        );
        assert_eq!(e.deductions.len(), 3);
        assert_eq!(e.latest().map(|p| p.period.as_str()), Some("2026-Q2"));
        // Clamped at 0: one more heavy deduction.
        let mut worse = input.clone();
        worse.deductions.push(deduction("r4", 100, "2026-06-01", "reported"));
        assert_eq!(evaluate(&worse).latest().and_then(|p| p.total), Some(0));
        // Without a target there is no sales score: the weighted score is of the other parts.
        let no_target = Input { annual_target_fen: None, ..input };
        assert_eq!(evaluate(&no_target).periods[0].base, Some(div_round(30 * 73 + 30 * 90, 60)));
    }
}
