//! Periods in Asia/Shanghai (day, ISO week, month, quarter, year): which period a UTC
//! instant falls in, the period before it and the one a year before. Pure.

use chrono::{Datelike, Duration, NaiveDate};
use serde::{Deserialize, Serialize};

const OFFSET_MS: i64 = 8 * 3_600_000;
const DAY_MS: i64 = 24 * 3_600_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PeriodKind {
    Day,
    Week,
    Month,
    Quarter,
    Year,
}

impl std::str::FromStr for PeriodKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "day" => PeriodKind::Day,
            "week" => PeriodKind::Week,
            "month" => PeriodKind::Month,
            "quarter" => PeriodKind::Quarter,
            "year" => PeriodKind::Year,
            _ => return Err(format!("unknown period '{s}' (day, week, month, quarter, year)")),
        })
    }
}

impl PeriodKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PeriodKind::Day => "day",
            PeriodKind::Week => "week",
            PeriodKind::Month => "month",
            PeriodKind::Quarter => "quarter",
            PeriodKind::Year => "year",
        }
    }
}

/// One period, named by its first day (Asia/Shanghai).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Period {
    pub kind: PeriodKind,
    pub start: NaiveDate,
}

/// The Shanghai calendar date of a UTC instant.
pub fn local_date(utc_ms: i64) -> NaiveDate {
    let days = (utc_ms + OFFSET_MS).div_euclid(DAY_MS);
    NaiveDate::from_num_days_from_ce_opt(719_163 + days as i32).unwrap_or(NaiveDate::MIN)
}

/// The UTC instant of Shanghai midnight starting `date`.
pub fn local_midnight(date: NaiveDate) -> i64 {
    let days = i64::from(date.num_days_from_ce()) - 719_163;
    days * DAY_MS - OFFSET_MS
}

impl Period {
    pub fn of(kind: PeriodKind, utc_ms: i64) -> Period {
        Period::containing(kind, local_date(utc_ms))
    }

    pub fn containing(kind: PeriodKind, d: NaiveDate) -> Period {
        let start = match kind {
            PeriodKind::Day => d,
            PeriodKind::Week => d - Duration::days(i64::from(d.weekday().num_days_from_monday())),
            PeriodKind::Month => d.with_day(1).unwrap_or(d),
            PeriodKind::Quarter => NaiveDate::from_ymd_opt(d.year(), (d.month0() / 3) * 3 + 1, 1).unwrap_or(d),
            PeriodKind::Year => NaiveDate::from_ymd_opt(d.year(), 1, 1).unwrap_or(d),
        };
        Period { kind, start }
    }

    /// `2026-12-01`, `2026-W49`, `2026-12`, `2026-Q4`, `2026`.
    pub fn label(&self) -> String {
        let d = self.start;
        match self.kind {
            PeriodKind::Day => d.format("%Y-%m-%d").to_string(),
            PeriodKind::Week => {
                let w = d.iso_week();
                format!("{}-W{:02}", w.year(), w.week())
            }
            PeriodKind::Month => d.format("%Y-%m").to_string(),
            PeriodKind::Quarter => format!("{}-Q{}", d.year(), d.month0() / 3 + 1),
            PeriodKind::Year => d.format("%Y").to_string(),
        }
    }

    /// Parse a label of any kind (`2026-03`, `2026-Q1`, `2026`, `2026-W09`, `2026-03-05`).
    pub fn parse(label: &str) -> Option<Period> {
        let l = label.trim();
        if let Ok(y) = l.parse::<i32>() {
            return Some(Period { kind: PeriodKind::Year, start: NaiveDate::from_ymd_opt(y, 1, 1)? });
        }
        if let Some((y, q)) = l.split_once("-Q") {
            let q: u32 = q.parse().ok().filter(|q| (1..=4).contains(q))?;
            return Some(Period {
                kind: PeriodKind::Quarter,
                start: NaiveDate::from_ymd_opt(y.parse().ok()?, q * 3 - 2, 1)?,
            });
        }
        if let Some((y, w)) = l.split_once("-W") {
            let start = NaiveDate::from_isoywd_opt(y.parse().ok()?, w.parse().ok()?, chrono::Weekday::Mon)?;
            return Some(Period { kind: PeriodKind::Week, start });
        }
        if let Ok(d) = NaiveDate::parse_from_str(l, "%Y-%m-%d") {
            return Some(Period { kind: PeriodKind::Day, start: d });
        }
        let d = NaiveDate::parse_from_str(&format!("{l}-01"), "%Y-%m-%d").ok()?;
        Some(Period { kind: PeriodKind::Month, start: d })
    }

    /// The first day after this period.
    pub fn end(&self) -> NaiveDate {
        let d = self.start;
        match self.kind {
            PeriodKind::Day => d + Duration::days(1),
            PeriodKind::Week => d + Duration::days(7),
            PeriodKind::Month => d.checked_add_months(chrono::Months::new(1)).unwrap_or(d),
            PeriodKind::Quarter => d.checked_add_months(chrono::Months::new(3)).unwrap_or(d),
            PeriodKind::Year => d.checked_add_months(chrono::Months::new(12)).unwrap_or(d),
        }
    }

    /// `[start, end)` in UTC ms.
    pub fn utc_range(&self) -> (i64, i64) {
        (local_midnight(self.start), local_midnight(self.end()))
    }

    pub fn previous(&self) -> Period {
        Period::containing(self.kind, self.start - Duration::days(1))
    }

    pub fn next(&self) -> Period {
        Period { kind: self.kind, start: self.end() }
    }

    /// The same period a year before (for weeks: the same ISO week number).
    pub fn year_before(&self) -> Period {
        match self.kind {
            PeriodKind::Week => {
                let w = self.start.iso_week();
                NaiveDate::from_isoywd_opt(w.year() - 1, w.week(), chrono::Weekday::Mon)
                    .map(|start| Period { kind: self.kind, start })
                    .unwrap_or_else(|| Period::containing(self.kind, self.start - Duration::days(364)))
            }
            _ => Period::containing(
                self.kind,
                self.start.checked_sub_months(chrono::Months::new(12)).unwrap_or(self.start),
            ),
        }
    }

    /// The periods of `kind` making this one up (the months of a quarter, the quarters of a year).
    pub fn parts(&self, kind: PeriodKind) -> Vec<Period> {
        let mut out = Vec::new();
        let mut p = Period::containing(kind, self.start);
        while p.start < self.end() {
            out.push(p);
            p = p.next();
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> i64 {
        protocol::time::parse_rfc3339(s).unwrap()
    }

    #[test]
    fn shanghai_midnight_and_month_end() {
        // 2026-01-31T15:59:59.999Z is 23:59:59.999 on 31 January in Shanghai; a millisecond
        // later it is February there (and still 31 January in UTC).
        let (before, after) = (at("2026-01-31T15:59:59.999Z"), at("2026-01-31T16:00:00Z"));
        assert_eq!(Period::of(PeriodKind::Month, before).label(), "2026-01");
        assert_eq!(Period::of(PeriodKind::Month, after).label(), "2026-02");
        assert_eq!(Period::of(PeriodKind::Day, after).label(), "2026-02-01");
        assert_eq!(Period::of(PeriodKind::Quarter, at("2026-03-31T16:00:00Z")).label(), "2026-Q2");
        assert_eq!(Period::of(PeriodKind::Year, at("2026-12-31T16:00:00Z")).label(), "2027");
        assert_eq!(Period::of(PeriodKind::Week, at("2026-12-27T16:00:00Z")).label(), "2026-W53");
        assert_eq!(local_midnight(local_date(after)), after);
        let m = Period::parse("2026-02").unwrap();
        assert_eq!(m.utc_range(), (after, at("2026-02-28T16:00:00Z")));
        assert_eq!(m.previous().label(), "2026-01");
        assert_eq!(m.year_before().label(), "2025-02");
        assert_eq!(Period::parse("2026-Q1").unwrap().parts(PeriodKind::Month).len(), 3);
        assert_eq!(Period::parse("2026").unwrap().parts(PeriodKind::Quarter).len(), 4);
        for l in ["2026-03-05", "2026-W09", "2026-03", "2026-Q1", "2026"] {
            assert_eq!(Period::parse(l).unwrap().label(), l);
        }
        // Before 1970 and far ahead still work.
        assert_eq!(Period::of(PeriodKind::Day, at("1969-12-31T16:00:00Z")).label(), "1970-01-01");
    }
}
