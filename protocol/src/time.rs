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
    fn dates_parse_strictly() {
        assert!(parse_date("2026-02-28").is_some());
        assert!(parse_date("2026-02-30").is_none());
        assert!(parse_date("tomorrow").is_none());
    }
}
