//! Rep assessment (R-4.4–4.6): a scheme per period kind — quantitative indicators with a
//! target, a weight, a threshold and a cap (scored linearly to the target: `actual ÷
//! target`, in percent, 0 below the threshold, at most the cap), qualitative criteria with
//! a weight scored 0–100 by the manager, and reward/penalty bands — and the scorecards it
//! gives, pure.
//!
//! - **Points**: each item's score (percent) × its weight (weights sum to 100), so the final
//!   score is in hundredths of a point: `final_x100` 10 000 = 100.00 points.
//! - **Quarter from months, year from quarters**: a scheme marked `from_parts` makes a
//!   period's final score the mean of its parts' (months of a quarter, quarters of a year),
//!   each part as it stands — locked, with its corrections, or computed now.
//! - **Rank in team**: by final score among the reps of the same manager, ties sharing a rank.
//! - **Locking**: a locked period's scorecards are what they were when it was locked; a
//!   correction recorded afterwards replaces one item's score (who, when, why kept), and the
//!   final score and rank are computed again.

use super::indicators::Indicator;
use super::period::{Period, PeriodKind};
use crate::storage::analytics::{Correction, QualitativeScore, Sanction};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

fn default_cap() -> i64 {
    120
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scheme {
    /// The period's final score is the mean of its parts' (quarter: months; year: quarters).
    #[serde(default)]
    pub from_parts: bool,
    #[serde(default)]
    pub items: Vec<Item>,
    #[serde(default)]
    pub qualitative: Vec<Criterion>,
    /// Rewards (positive) and penalties (negative) by final score, highest `min_x100` first
    /// applies.
    #[serde(default)]
    pub bands: Vec<Band>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    pub indicator: Indicator,
    /// The indicator's column (`revenue_fen`, `new_customers`, `visits` …).
    pub column: String,
    pub target: i64,
    /// Percent of the final score.
    pub weight: i64,
    /// Highest score, in percent of target (default 120).
    #[serde(default = "default_cap")]
    pub cap_pct: i64,
    /// Below this percent of target the item scores 0.
    #[serde(default)]
    pub threshold_pct: i64,
    /// Less is better (complaints, SLA breaches): score = target ÷ actual.
    #[serde(default)]
    pub lower_is_better: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Criterion {
    pub criterion: String,
    pub weight: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Band {
    pub min_x100: i64,
    pub amount_fen: i64,
    pub label: String,
}

impl Scheme {
    /// What is wrong with it (weights not summing to 100, a target of 0, a column the
    /// indicator does not have, a cap below the threshold).
    pub fn problems(&self) -> Vec<String> {
        let mut p = Vec::new();
        if !self.from_parts {
            let total: i64 = self.items.iter().map(|i| i.weight).sum::<i64>()
                + self.qualitative.iter().map(|q| q.weight).sum::<i64>();
            if total != 100 {
                p.push(format!("weights sum to {total}, not 100"));
            }
        }
        for i in &self.items {
            if i.target <= 0 {
                p.push(format!("{}: target must be above 0", i.column));
            }
            if i.weight < 0 || i.cap_pct <= 0 || i.threshold_pct < 0 || i.threshold_pct > i.cap_pct {
                p.push(format!("{}: weight, cap or threshold out of range", i.column));
            }
            if !i.indicator.columns().iter().any(|(c, _)| *c == i.column) {
                p.push(format!("{} has no column {}", i.indicator.as_str(), i.column));
            }
        }
        for q in &self.qualitative {
            if q.weight < 0 || q.criterion.trim().is_empty() {
                p.push(format!("criterion '{}': a name and a weight of 0 or more", q.criterion));
            }
        }
        p
    }

    fn reward(&self, final_x100: i64) -> Option<&Band> {
        self.bands.iter().filter(|b| final_x100 >= b.min_x100).max_by_key(|b| b.min_x100)
    }
}

/// An item's score in percent: linear to the target, 0 below the threshold, capped.
pub fn item_score(item: &Item, actual: i64) -> i64 {
    let pct = if item.lower_is_better {
        if actual <= 0 { item.cap_pct } else { item.target.saturating_mul(100) / actual }
    } else {
        actual.max(0).saturating_mul(100) / item.target.max(1)
    };
    if pct < item.threshold_pct { 0 } else { pct.min(item.cap_pct) }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemScore {
    /// `indicator.column`.
    pub item: String,
    pub target: i64,
    pub actual: i64,
    pub score: i64,
    pub weight: i64,
    pub points_x100: i64,
    /// A correction replaced the computed score.
    #[serde(default)]
    pub corrected: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QualScore {
    pub criterion: String,
    /// `None`: not scored yet (counts 0).
    pub score: Option<i64>,
    pub weight: i64,
    pub points_x100: i64,
    pub by: Option<String>,
    #[serde(default)]
    pub corrected: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scorecard {
    pub period: String,
    pub rep: String,
    /// The rep's manager (the team ranked together).
    pub team: Option<String>,
    pub items: Vec<ItemScore>,
    pub qualitative: Vec<QualScore>,
    /// For a period made of parts: each part's final score.
    pub parts: Vec<(String, i64)>,
    pub final_x100: i64,
    pub rank: usize,
    pub team_size: usize,
    /// What the scheme's bands give for the final score (positive reward, negative penalty).
    pub band: Option<Band>,
    pub locked: bool,
    pub corrections: Vec<Correction>,
    /// Rewards and penalties recorded for the rep and period.
    pub sanctions: Vec<Sanction>,
}

/// Everything an assessment reads, as functions (the server passes the store's; tests data).
pub struct Inputs<'a> {
    pub scheme: &'a dyn Fn(PeriodKind) -> Option<Scheme>,
    /// Reps and their managers.
    pub reps: &'a [(String, Option<String>)],
    /// An indicator column's figure for a rep in a period.
    pub actual: &'a dyn Fn(Period, &str, &Item) -> i64,
    pub qualitative: &'a dyn Fn(Period) -> Vec<QualitativeScore>,
    /// The scorecards a locked period was locked with.
    pub locked: &'a dyn Fn(Period) -> Option<Vec<Scorecard>>,
    pub corrections: &'a dyn Fn(Period) -> Vec<Correction>,
    pub sanctions: &'a dyn Fn(Period) -> Vec<Sanction>,
}

/// The kind whose periods make up `kind` (quarter: months, year: quarters).
pub fn part_kind(kind: PeriodKind) -> Option<PeriodKind> {
    match kind {
        PeriodKind::Quarter => Some(PeriodKind::Month),
        PeriodKind::Year => Some(PeriodKind::Quarter),
        _ => None,
    }
}

/// Every rep's scorecard for `period` (ranked), as it stands now.
pub fn scorecards(period: Period, inp: &Inputs<'_>) -> Result<Vec<Scorecard>, String> {
    let mut cards = match (inp.locked)(period) {
        Some(cards) => cards,
        None => computed(period, inp)?,
    };
    let corrections = (inp.corrections)(period);
    for c in &mut cards {
        c.corrections = corrections.iter().filter(|x| x.rep == c.rep).cloned().collect();
        apply_corrections(c);
    }
    rank(&mut cards);
    let sanctions = (inp.sanctions)(period);
    let scheme = (inp.scheme)(period.kind);
    for c in &mut cards {
        c.sanctions = sanctions.iter().filter(|s| s.rep == c.rep).cloned().collect();
        c.band = scheme.as_ref().and_then(|s| s.reward(c.final_x100).cloned());
    }
    Ok(cards)
}

/// The scorecards computed from the figures (what a lock records).
pub fn computed(period: Period, inp: &Inputs<'_>) -> Result<Vec<Scorecard>, String> {
    let scheme = (inp.scheme)(period.kind)
        .ok_or_else(|| format!("no assessment scheme for {} periods", period.kind.as_str()))?;
    let label = period.label();
    let mut cards = Vec::with_capacity(inp.reps.len());
    if scheme.from_parts {
        let kind = part_kind(period.kind).ok_or_else(|| format!("a {} has no parts", period.kind.as_str()))?;
        let mut by_part: Vec<(String, BTreeMap<String, i64>)> = Vec::new();
        for part in period.parts(kind) {
            let finals = scorecards(part, inp)?.into_iter().map(|c| (c.rep, c.final_x100)).collect();
            by_part.push((part.label(), finals));
        }
        for (rep, team) in inp.reps {
            let parts: Vec<(String, i64)> =
                by_part.iter().map(|(l, f)| (l.clone(), f.get(rep).copied().unwrap_or(0))).collect();
            let n = parts.len().max(1) as i64;
            let final_x100 = parts.iter().map(|(_, v)| v).sum::<i64>() / n;
            cards.push(card(&label, rep, team, Vec::new(), Vec::new(), parts, final_x100));
        }
        return Ok(cards);
    }
    let qual = (inp.qualitative)(period);
    for (rep, team) in inp.reps {
        let items: Vec<ItemScore> = scheme
            .items
            .iter()
            .map(|i| {
                let actual = (inp.actual)(period, rep, i);
                let score = item_score(i, actual);
                ItemScore {
                    item: format!("{}.{}", i.indicator.as_str(), i.column),
                    target: i.target,
                    actual,
                    score,
                    weight: i.weight,
                    points_x100: score * i.weight,
                    corrected: false,
                }
            })
            .collect();
        let qualitative: Vec<QualScore> = scheme
            .qualitative
            .iter()
            .map(|c| {
                let given = qual.iter().find(|q| q.rep == *rep && q.criterion == c.criterion);
                let score = given.map(|q| q.score.clamp(0, 100));
                QualScore {
                    criterion: c.criterion.clone(),
                    score,
                    weight: c.weight,
                    points_x100: score.unwrap_or(0) * c.weight,
                    by: given.map(|q| q.by.clone()),
                    corrected: false,
                }
            })
            .collect();
        let final_x100 =
            items.iter().map(|i| i.points_x100).sum::<i64>() + qualitative.iter().map(|q| q.points_x100).sum::<i64>();
        cards.push(card(&label, rep, team, items, qualitative, Vec::new(), final_x100));
    }
    Ok(cards)
}

fn card(
    period: &str,
    rep: &str,
    team: &Option<String>,
    items: Vec<ItemScore>,
    qualitative: Vec<QualScore>,
    parts: Vec<(String, i64)>,
    final_x100: i64,
) -> Scorecard {
    Scorecard {
        period: period.to_string(),
        rep: rep.to_string(),
        team: team.clone(),
        items,
        qualitative,
        parts,
        final_x100,
        rank: 0,
        team_size: 0,
        band: None,
        locked: false,
        corrections: Vec::new(),
        sanctions: Vec::new(),
    }
}

/// Replace the corrected items' scores (latest correction of an item wins) and sum again.
fn apply_corrections(c: &mut Scorecard) {
    if c.corrections.is_empty() {
        return;
    }
    for x in &c.corrections {
        if let Some(i) = c.items.iter_mut().find(|i| i.item == x.item) {
            i.score = x.score.max(0);
            i.points_x100 = i.score * i.weight;
            i.corrected = true;
        } else if let Some(q) = c.qualitative.iter_mut().find(|q| q.criterion == x.item) {
            q.score = Some(x.score.clamp(0, 100));
            q.points_x100 = x.score.clamp(0, 100) * q.weight;
            q.corrected = true;
        } else if x.item == "final" {
            c.final_x100 = x.score.max(0) * 100;
            return;
        }
    }
    if c.parts.is_empty() {
        c.final_x100 = c.items.iter().map(|i| i.points_x100).sum::<i64>()
            + c.qualitative.iter().map(|q| q.points_x100).sum::<i64>();
    }
}

/// Rank within each team by final score (descending; equal scores share a rank).
fn rank(cards: &mut [Scorecard]) {
    let mut teams: BTreeMap<Option<String>, Vec<i64>> = BTreeMap::new();
    for c in cards.iter() {
        teams.entry(c.team.clone()).or_default().push(c.final_x100);
    }
    for c in cards.iter_mut() {
        let scores = &teams[&c.team];
        c.rank = 1 + scores.iter().filter(|s| **s > c.final_x100).count();
        c.team_size = scores.len();
    }
    cards.sort_by(|a, b| a.team.cmp(&b.team).then(a.rank.cmp(&b.rank)).then(a.rep.cmp(&b.rep)));
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn item(indicator: Indicator, column: &str, target: i64, weight: i64) -> Item {
        Item {
            indicator,
            column: column.into(),
            target,
            weight,
            cap_pct: 120,
            threshold_pct: 0,
            lower_is_better: false,
        }
    }

    #[test]
    fn item_scores_are_linear_to_target_with_threshold_and_cap() {
        let mut i = item(Indicator::Revenue, "revenue_fen", 1_000_000, 50);
        i.threshold_pct = 60;
        // (actual, score %)
        for (actual, want) in
            [(0, 0), (599_999, 0), (600_000, 60), (1_000_000, 100), (1_150_000, 115), (5_000_000, 120)]
        {
            assert_eq!(item_score(&i, actual), want, "actual {actual}");
        }
        let mut breaches = item(Indicator::Complaints, "resolve_breaches", 2, 10);
        breaches.lower_is_better = true;
        for (actual, want) in [(0, 120), (1, 120), (2, 100), (4, 50)] {
            assert_eq!(item_score(&breaches, actual), want, "breaches {actual}");
        }
    }

    struct World {
        schemes: HashMap<PeriodKind, Scheme>,
        actual: HashMap<(String, String, String), i64>,
        qual: Vec<QualitativeScore>,
        locked: HashMap<String, Vec<Scorecard>>,
        corrections: Vec<Correction>,
        sanctions: Vec<Sanction>,
    }

    fn cards(w: &World, reps: &[(String, Option<String>)], period: &str) -> Vec<Scorecard> {
        let scheme = |k: PeriodKind| w.schemes.get(&k).cloned();
        let actual = |p: Period, rep: &str, i: &Item| {
            w.actual.get(&(p.label(), rep.to_string(), i.column.clone())).copied().unwrap_or(0)
        };
        let qual = |p: Period| w.qual.iter().filter(|q| q.period == p.label()).cloned().collect();
        let locked = |p: Period| w.locked.get(&p.label()).cloned();
        let corrections = |p: Period| w.corrections.iter().filter(|c| c.period == p.label()).cloned().collect();
        let sanctions = |p: Period| w.sanctions.iter().filter(|c| c.period == p.label()).cloned().collect();
        let inp = Inputs {
            scheme: &scheme,
            reps,
            actual: &actual,
            qualitative: &qual,
            locked: &locked,
            corrections: &corrections,
            sanctions: &sanctions,
        };
        scorecards(Period::parse(period).unwrap(), &inp).unwrap()
    }

    fn final_of(cards: &[Scorecard], rep: &str) -> (i64, usize) {
        let c = cards.iter().find(|c| c.rep == rep).unwrap();
        (c.final_x100, c.rank)
    }

    #[test]
    fn scorecard_table() {
        let month = Scheme {
            from_parts: false,
            items: vec![
                item(Indicator::Revenue, "revenue_fen", 1_000_000, 60),
                item(Indicator::NewCustomers, "new_customers", 4, 20),
            ],
            qualitative: vec![Criterion { criterion: "attitude".into(), weight: 20 }],
            bands: vec![
                Band { min_x100: 0, amount_fen: -50_000, label: "penalty".into() },
                Band { min_x100: 6_000, amount_fen: 0, label: "pass".into() },
                Band { min_x100: 10_000, amount_fen: 200_000, label: "reward".into() },
            ],
        };
        assert!(month.problems().is_empty(), "{:?}", month.problems());
        let quarter = Scheme { from_parts: true, items: vec![], qualitative: vec![], bands: vec![] };
        let mut w = World {
            schemes: [
                (PeriodKind::Month, month.clone()),
                (PeriodKind::Quarter, quarter.clone()),
                (PeriodKind::Year, quarter),
            ]
            .into_iter()
            .collect(),
            actual: HashMap::new(),
            qual: Vec::new(),
            locked: HashMap::new(),
            corrections: Vec::new(),
            sanctions: Vec::new(),
        };
        let set = |w: &mut World, m: &str, rep: &str, rev: i64, new: i64| {
            w.actual.insert((m.into(), rep.into(), "revenue_fen".into()), rev);
            w.actual.insert((m.into(), rep.into(), "new_customers".into()), new);
        };
        // January: li over target (capped at 120), wang at 50%; li's attitude 90, wang's 100.
        set(&mut w, "2026-01", "li", 2_000_000, 4);
        set(&mut w, "2026-01", "wang", 500_000, 2);
        set(&mut w, "2026-02", "li", 1_000_000, 2);
        set(&mut w, "2026-02", "wang", 1_000_000, 4);
        set(&mut w, "2026-03", "li", 0, 0);
        set(&mut w, "2026-03", "wang", 800_000, 5);
        let q = |rep: &str, period: &str, score: i64| QualitativeScore {
            period: period.into(),
            rep: rep.into(),
            criterion: "attitude".into(),
            score,
            by: "zhang".into(),
            at: 0,
        };
        w.qual = vec![q("li", "2026-01", 90), q("wang", "2026-01", 100), q("li", "2026-02", 80)];
        let team = Some("zhang".to_string());
        let reps =
            vec![("li".to_string(), team.clone()), ("wang".to_string(), team.clone()), ("sun".to_string(), None)];

        // li Jan: 120×60 + 100×20 + 90×20 = 7200+2000+1800 = 11000; wang: 50×60 + 50×20 + 100×20 = 6000.
        let jan = cards(&w, &reps, "2026-01");
        assert_eq!(final_of(&jan, "li"), (11_000, 1));
        assert_eq!(final_of(&jan, "wang"), (6_000, 2));
        assert_eq!(final_of(&jan, "sun"), (0, 1)); // a team of one
        let li = jan.iter().find(|c| c.rep == "li").unwrap();
        assert_eq!(li.band.as_ref().map(|b| b.amount_fen), Some(200_000));
        assert_eq!(li.team_size, 2);
        // Feb: li 100×60 + 50×20 + 80×20 = 8600; wang 6000+2000+0 (not scored) = 8000.
        let feb = cards(&w, &reps, "2026-02");
        assert_eq!(final_of(&feb, "li"), (8_600, 1));
        assert_eq!(final_of(&feb, "wang"), (8_000, 2));
        assert_eq!(feb.iter().find(|c| c.rep == "wang").unwrap().qualitative[0].score, None);
        // Mar: li 0; wang 80×60 + 120×20 (5/4 capped) = 4800+2400 = 7200.
        let mar = cards(&w, &reps, "2026-03");
        assert_eq!(final_of(&mar, "wang"), (7_200, 1));
        assert_eq!(mar.iter().find(|c| c.rep == "li").unwrap().band.as_ref().unwrap().amount_fen, -50_000);
        // Q1 from months: li (11000+8600+0)/3 = 6533; wang (6000+8000+7200)/3 = 7066.
        let q1 = cards(&w, &reps, "2026-Q1");
        assert_eq!(final_of(&q1, "li"), (6_533, 2));
        assert_eq!(final_of(&q1, "wang"), (7_066, 1));
        assert_eq!(q1[0].parts.len(), 3);
        // The year from its quarters (Q2–Q4 have no figures: 0).
        let year = cards(&w, &reps, "2026");
        assert_eq!(final_of(&year, "wang"), (7_066 / 4, 1));

        // Lock January as it is; later figures or scores do not change it; a correction does.
        let locked = computed(
            Period::parse("2026-01").unwrap(),
            &Inputs {
                scheme: &|k| w.schemes.get(&k).cloned(),
                reps: &reps,
                actual: &|p, rep, i| {
                    w.actual.get(&(p.label(), rep.to_string(), i.column.clone())).copied().unwrap_or(0)
                },
                qualitative: &|p| w.qual.iter().filter(|q| q.period == p.label()).cloned().collect(),
                locked: &|_| None,
                corrections: &|_| Vec::new(),
                sanctions: &|_| Vec::new(),
            },
        )
        .unwrap()
        .into_iter()
        .map(|mut c| {
            c.locked = true;
            c
        })
        .collect();
        w.locked.insert("2026-01".into(), locked);
        set(&mut w, "2026-01", "wang", 5_000_000, 9);
        let jan = cards(&w, &reps, "2026-01");
        assert_eq!(final_of(&jan, "wang"), (6_000, 2));
        assert!(jan.iter().all(|c| c.locked));
        w.corrections.push(Correction {
            period: "2026-01".into(),
            rep: "wang".into(),
            item: "revenue.revenue_fen".into(),
            score: 120,
            reason: "a returned order was booked to the wrong rep".into(),
            by: "zhao".into(),
            at: 1,
        });
        w.corrections.push(Correction {
            period: "2026-01".into(),
            rep: "wang".into(),
            item: "attitude".into(),
            score: 100,
            reason: "unchanged".into(),
            by: "zhao".into(),
            at: 2,
        });
        // wang: 120×60 + 50×20 + 100×20 = 10200, still behind li; the quarter follows.
        let jan = cards(&w, &reps, "2026-01");
        assert_eq!(final_of(&jan, "wang"), (10_200, 2));
        assert_eq!(final_of(&jan, "li"), (11_000, 1));
        assert_eq!(jan.iter().find(|c| c.rep == "wang").unwrap().corrections.len(), 2);
        assert!(jan.iter().find(|c| c.rep == "wang").unwrap().items[0].corrected);
        let q1 = cards(&w, &reps, "2026-Q1");
        assert_eq!(final_of(&q1, "wang"), ((10_200 + 8_000 + 7_200) / 3, 1));
        // Rewards and penalties recorded for a rep and period come with the card.
        w.sanctions.push(Sanction {
            period: "2026-Q1".into(),
            rep: "wang".into(),
            amount_fen: 300_000,
            reason: "quarter's best".into(),
            by: "zhao".into(),
            at: 3,
        });
        let q1 = cards(&w, &reps, "2026-Q1");
        assert_eq!(q1.iter().find(|c| c.rep == "wang").unwrap().sanctions.len(), 1);
        assert!(q1.iter().find(|c| c.rep == "li").unwrap().sanctions.is_empty());

        let mut bad = month;
        bad.items[0].weight = 10;
        bad.items[1].column = "nope".into();
        assert_eq!(bad.problems().len(), 2, "{:?}", bad.problems());
    }
}
