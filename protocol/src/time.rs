//! Time rules: storage is UTC milliseconds since the epoch; people see Asia/Shanghai.
//!
//! Asia/Shanghai has had no daylight saving since 1991, so the display zone is the fixed
//! offset +08:00 (no time-zone database needed, also in WASM).

use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone, Utc};

/// Milliseconds since the Unix epoch, UTC. The only time representation in documents.
pub type UtcMillis = i64;

pub fn shanghai() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("valid offset")
}

/// `2026-11-27 18:04` in Asia/Shanghai.
pub fn display_local(ms: UtcMillis) -> String {
    match Utc.timestamp_millis_opt(ms).single() {
        Some(t) => t.with_timezone(&shanghai()).format("%Y-%m-%d %H:%M").to_string(),
        None => String::from("?"),
    }
}

/// RFC 3339 in UTC, for JSON output.
pub fn rfc3339(ms: UtcMillis) -> String {
    match Utc.timestamp_millis_opt(ms).single() {
        Some(t) => t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        None => String::new(),
    }
}

pub fn parse_rfc3339(s: &str) -> Option<UtcMillis> {
    DateTime::parse_from_rfc3339(s).ok().map(|t| t.timestamp_millis())
}

/// The calendar date in Asia/Shanghai at `ms` ("today" for a device whose clock says `ms`).
pub fn shanghai_date(ms: UtcMillis) -> NaiveDate {
    DateTime::from_timestamp_millis(ms).unwrap_or_default().with_timezone(&shanghai()).date_naive()
}

/// The first instant (UTC ms) of a date in Asia/Shanghai.
pub fn shanghai_midnight(d: NaiveDate) -> UtcMillis {
    shanghai().from_local_datetime(&d.and_time(chrono::NaiveTime::MIN)).single().map_or(0, |t| t.timestamp_millis())
}

/// `2026-Q1`: the quarter a date falls in.
pub fn quarter(d: NaiveDate) -> String {
    use chrono::Datelike;
    format!("{}-Q{}", d.year(), d.month0() / 3 + 1)
}

/// `2026-W09`: the ISO week a date falls in (weeks start on Monday).
pub fn iso_week(d: NaiveDate) -> String {
    let w = chrono::Datelike::iso_week(&d);
    format!("{}-W{:02}", w.year(), w.week())
}

/// The Monday of an ISO week written `2026-W09` (or `2026w9`).
pub fn parse_iso_week(s: &str) -> Option<NaiveDate> {
    let s = s.trim().to_ascii_uppercase();
    let (y, w) = s.split_once("-W").or_else(|| s.split_once('W'))?;
    NaiveDate::from_isoywd_opt(y.parse().ok()?, w.parse().ok()?, chrono::Weekday::Mon)
}

/// Calendar dates (follow-up, delivery) are plain `YYYY-MM-DD` without a zone.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shanghai_is_utc_plus_eight() {
        // 2026-11-27T16:00:00Z is midnight in Shanghai.
        let ms = parse_rfc3339("2026-11-27T16:00:00Z").unwrap();
        assert_eq!(display_local(ms), "2026-11-28 00:00");
        assert_eq!(rfc3339(ms), "2026-11-27T16:00:00.000Z");
    }

    #[test]
    fn shanghai_dates_weeks_and_quarters() {
        let ms = parse_rfc3339("2026-03-31T16:00:00Z").unwrap();
        assert_eq!(shanghai_date(ms).to_string(), "2026-04-01");
        assert_eq!(shanghai_date(ms - 1).to_string(), "2026-03-31");
        assert_eq!(shanghai_midnight(shanghai_date(ms)), ms);
        assert_eq!(quarter(shanghai_date(ms)), "2026-Q2");
        assert_eq!(quarter(shanghai_date(ms - 1)), "2026-Q1");
        let d = parse_date("2026-03-01").unwrap();
        assert_eq!(iso_week(d), "2026-W09");
        assert_eq!(parse_iso_week("2026-W09").unwrap().to_string(), "2026-02-23");
        assert_eq!(parse_iso_week("2026w9"), parse_iso_week("2026-W09"));
        assert!(parse_iso_week("2026-W60").is_none());
    }

    #[test]
    fn dates_parse_strictly() {
        assert!(parse_date("2026-02-28").is_some());
        assert!(parse_date("2026-02-30").is_none());
        assert!(parse_date("tomorrow").is_none());
    }
}
