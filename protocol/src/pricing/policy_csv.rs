//! The policy CSV file the market department writes (`jiuloop-server policy import FILE.csv`).
//!
//! # Format
//!
//! One UTF-8 file (a leading BOM is ignored; `\n` or `\r\n` line ends). Fields are separated
//! by commas; a field may be double-quoted to contain commas, with `""` for a quote inside;
//! a quoted field may not span lines. Spaces around fields are ignored. Blank lines, lines
//! whose fields are all empty (spreadsheet padding) and lines starting with `#` are ignored.
//! There is no header row: the **first field names the record**, and each record has fixed
//! columns (trailing empty columns are ignored; optional columns are in brackets):
//!
//! | record | columns after the record name |
//! |---|---|
//! | `policy` | version (integer ≥ 1), title, markup approver (role) — exactly once |
//! | `sku` | code, series, name, spec, alcohol, aroma, unit, bottles per case, active |
//! | `price` | sku, tier, price |
//! | `channel` | channel, tier |
//! | `agreement` | customer id (UUID), sku, price, start, end, \[note\] |
//! | `promotion` | id, name, sku, channels, start, end, kind, value, \[gift sku\] |
//! | `authority` | role, max discount |
//! | `threshold` | min order total, role |
//! | `adjustment` | id, sku, tier, new price, notice, effective, \[note\] |
//!
//! Values:
//!
//! - **price**, **min order total**: yuan with at most two decimals (`1499`, `1499.00`, `39.9`),
//!   read exactly into fen (no floats).
//! - **max discount**, percentage **value**: `3%`, `3.01%` or basis points `301bp`. A bare number
//!   is refused (is `3` three percent or three basis points?).
//! - **alcohol**: `53`, `53%`, `53%vol`, `52.5%vol` (one decimal at most).
//! - **tier**: `factory` / `wholesale` / `retail` or `出厂价` / `批发价` / `零售价`; **channel**,
//!   **aroma**, **unit**: the stable names or the Chinese labels (`distributor` or `经销商`,
//!   `jiang` or `酱香`, `case` or `箱`); **role**: `rep`, `manager`, `executive`, … ;
//!   **active**: `yes`/`no` (also `true`/`false`, `1`/`0`, `是`/`否`).
//! - **channels** (promotion): `*` or empty for every channel, else names joined by `|`.
//! - **kind** / **value** (promotion): `percent_off` / `5%`; `fixed_price` / `1299.00`;
//!   `buy_get` / `5+1` (for every 5 units ordered, 1 unit of the gift SKU free; the gift SKU
//!   defaults to the promoted SKU).
//! - **times** (start, end, notice, effective): `2026-09-15` or `2026-09-15 08:00[:00]` in
//!   Asia/Shanghai time, or RFC 3339 with an offset (`2026-09-15T00:00:00+08:00`). An **end**
//!   is inclusive of the whole unit written: `2026-10-08` ends at 23:59:59.999 that day,
//!   `… 20:00` at 20:00:59.999. Agreement start/end may be empty (unbounded).
//!
//! Nothing is applied if any row is bad: [`parse_policy_csv`] returns either a consistent
//! [`Policy`] or every error with its 1-based line number (line 0 = the file as a whole),
//! sorted by line. Besides row syntax it checks the whole policy ([`Policy::problems`]):
//! duplicates, unknown SKUs, ranges, windows.

use super::catalogue::{AromaType, MAX_ABV_TENTHS, Sku, Unit};
use super::price_policy::{
    AgreementPrice, AmountThreshold, BP_SCALE, ChannelTier, DiscountAuthority, Policy, PolicyItem, PriceAdjustment,
    PriceTier, Promotion, PromotionKind, TierPrice,
};
use crate::ids::DocId;
use crate::role::Role;
use crate::schema::Channel;
use crate::time::{UtcMillis, parse_rfc3339, shanghai};
use chrono::{NaiveDate, NaiveDateTime, TimeZone};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// One bad row: its 1-based line number (0 = the file as a whole) and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CsvError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for CsvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 { write!(f, "{}", self.message) } else { write!(f, "line {}: {}", self.line, self.message) }
    }
}

impl std::error::Error for CsvError {}

/// Parse a policy CSV file (see the module docs for the format). All or nothing.
pub fn parse_policy_csv(text: &str) -> Result<Policy, Vec<CsvError>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut b = Builder::default();
    for (i, raw) in text.split('\n').enumerate() {
        let line = i + 1;
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        if raw.trim_start().starts_with('#') {
            continue;
        }
        let fields = match split_fields(raw) {
            Ok(f) => f,
            Err(m) => {
                b.errors.push(CsvError { line, message: m });
                continue;
            }
        };
        if fields.iter().all(|f| f.is_empty()) {
            continue;
        }
        if let Err(m) = b.row(line, &fields) {
            b.errors.push(CsvError { line, message: format!("{}: {m}", fields[0]) });
        }
    }
    b.finish()
}

/// Split one line into fields (RFC 4180 quoting, no multi-line fields), trimmed.
fn split_fields(line: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ' ' || *c == '\t') {
            chars.next();
        }
        let mut field = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    None => return Err("unterminated quoted field (a field may not span lines)".into()),
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    Some('"') => break,
                    Some(c) => field.push(c),
                }
            }
            while chars.peek().is_some_and(|c| *c == ' ' || *c == '\t') {
                chars.next();
            }
            match chars.next() {
                None => {
                    fields.push(field);
                    return Ok(fields);
                }
                Some(',') => fields.push(field),
                Some(c) => return Err(format!("unexpected '{c}' after a closing quote")),
            }
        } else {
            loop {
                match chars.next() {
                    None => {
                        fields.push(field.trim().to_string());
                        return Ok(fields);
                    }
                    Some(',') => break,
                    Some('"') => return Err("a quote inside an unquoted field (quote the whole field)".into()),
                    Some(c) => field.push(c),
                }
            }
            fields.push(field.trim().to_string());
        }
    }
}

/// The columns of each record: required names, then optional ones.
const RECORDS: &[(&str, &[&str], &[&str])] = &[
    ("policy", &["version", "title", "markup approver"], &[]),
    ("sku", &["code", "series", "name", "spec", "alcohol", "aroma", "unit", "bottles per case", "active"], &[]),
    ("price", &["sku", "tier", "price"], &[]),
    ("channel", &["channel", "tier"], &[]),
    ("agreement", &["customer id", "sku", "price", "start", "end"], &["note"]),
    ("promotion", &["id", "name", "sku", "channels", "start", "end", "kind", "value"], &["gift sku"]),
    ("authority", &["role", "max discount"], &[]),
    ("threshold", &["min order total", "role"], &[]),
    ("adjustment", &["id", "sku", "tier", "new price", "notice", "effective"], &["note"]),
];

/// Columns that may be empty (everything else is required).
const MAY_BE_EMPTY: &[(&str, &str)] = &[("agreement", "start"), ("agreement", "end"), ("promotion", "channels")];

#[derive(Default)]
struct Builder {
    errors: Vec<CsvError>,
    header: Option<(usize, u32, String, Role)>,
    skus: Vec<(usize, Sku)>,
    /// SKU codes of `sku` rows that failed: placeholders, so that they do not also cause
    /// "unknown SKU" errors on every row that refers to them.
    failed_skus: Vec<(usize, String)>,
    prices: Vec<(usize, TierPrice)>,
    channels: Vec<(usize, ChannelTier)>,
    agreements: Vec<(usize, AgreementPrice)>,
    promotions: Vec<(usize, Promotion)>,
    authorities: Vec<(usize, DiscountAuthority)>,
    thresholds: Vec<(usize, AmountThreshold)>,
    adjustments: Vec<(usize, PriceAdjustment)>,
}

/// The fields of one row, by column name.
struct Row<'a> {
    record: &'static str,
    cols: BTreeMap<&'static str, &'a str>,
}

impl<'a> Row<'a> {
    fn get(&self, col: &str) -> &'a str {
        self.cols.get(col).copied().unwrap_or("")
    }

    fn parse<T>(&self, col: &str, f: impl FnOnce(&str) -> Result<T, String>) -> Result<T, String> {
        f(self.get(col)).map_err(|m| format!("{col}: {m}"))
    }

    fn opt_time(&self, col: &str, edge: Edge) -> Result<Option<UtcMillis>, String> {
        match self.get(col) {
            "" => Ok(None),
            s => parse_time(s, edge).map(Some).map_err(|m| format!("{col}: {m}")),
        }
    }
}

fn shape<'a>(fields: &'a [String]) -> Result<Row<'a>, String> {
    let name = fields[0].as_str();
    let Some(&(record, required, optional)) = RECORDS.iter().find(|r| r.0 == name) else {
        let names: Vec<&str> = RECORDS.iter().map(|r| r.0).collect();
        return Err(format!("unknown record type (one of {})", names.join(", ")));
    };
    let values = &fields[1..];
    let last_nonempty = values.iter().rposition(|v| !v.is_empty()).map_or(0, |p| p + 1);
    let max = required.len() + optional.len();
    let columns = || required.iter().chain(optional).copied().collect::<Vec<_>>().join(", ");
    if last_nonempty > max {
        return Err(format!("{} columns, expected at most {max}: {}", last_nonempty, columns()));
    }
    if values.len() < required.len() {
        return Err(format!("{} columns, expected {}: {}", values.len(), required.len(), columns()));
    }
    let mut cols = BTreeMap::new();
    for (name, v) in required.iter().chain(optional).zip(values) {
        cols.insert(*name, v.as_str());
    }
    let empty: Vec<&str> = required
        .iter()
        .copied()
        .filter(|c| cols.get(c).is_none_or(|v| v.is_empty()) && !MAY_BE_EMPTY.contains(&(record, *c)))
        .collect();
    if !empty.is_empty() {
        return Err(format!("empty {}", empty.join(", ")));
    }
    Ok(Row { record, cols })
}

impl Builder {
    fn row(&mut self, line: usize, fields: &[String]) -> Result<(), String> {
        let row = shape(fields)?;
        match row.record {
            "policy" => {
                let version =
                    row.parse("version", |s| s.parse::<u32>().map_err(|_| format!("'{s}' is not a number")))?;
                let role = row.parse("markup approver", str::parse::<Role>)?;
                if let Some((first, ..)) = self.header {
                    return Err(format!("a second policy row (the first is on line {first})"));
                }
                self.header = Some((line, version, row.get("title").to_string(), role));
            }
            "sku" => match parse_sku(&row) {
                Ok(s) => self.skus.push((line, s)),
                Err(m) => {
                    self.failed_skus.push((line, row.get("code").to_string()));
                    return Err(m);
                }
            },
            "price" => {
                let p = TierPrice {
                    sku: row.get("sku").to_string(),
                    tier: row.parse("tier", str::parse::<PriceTier>)?,
                    price_fen: row.parse("price", parse_yuan)?,
                };
                self.prices.push((line, p));
            }
            "channel" => {
                let c = ChannelTier {
                    channel: row.parse("channel", str::parse::<Channel>)?,
                    tier: row.parse("tier", str::parse::<PriceTier>)?,
                };
                self.channels.push((line, c));
            }
            "agreement" => {
                let a = AgreementPrice {
                    customer: row.parse("customer id", |s| {
                        s.parse::<DocId>().map_err(|_| format!("'{s}' is not a customer id (UUID)"))
                    })?,
                    sku: row.get("sku").to_string(),
                    price_fen: row.parse("price", parse_yuan)?,
                    start: row.opt_time("start", Edge::Start)?,
                    end: row.opt_time("end", Edge::End)?,
                    note: row.get("note").to_string(),
                };
                self.agreements.push((line, a));
            }
            "promotion" => {
                let p = parse_promotion(&row)?;
                self.promotions.push((line, p));
            }
            "authority" => {
                let a = DiscountAuthority {
                    role: row.parse("role", str::parse::<Role>)?,
                    max_discount_bp: row.parse("max discount", parse_bp)?,
                };
                self.authorities.push((line, a));
            }
            "threshold" => {
                let t = AmountThreshold {
                    min_total_fen: row.parse("min order total", parse_yuan)?,
                    role: row.parse("role", str::parse::<Role>)?,
                };
                self.thresholds.push((line, t));
            }
            "adjustment" => {
                let a = PriceAdjustment {
                    id: row.get("id").to_string(),
                    sku: row.get("sku").to_string(),
                    tier: row.parse("tier", str::parse::<PriceTier>)?,
                    price_fen: row.parse("new price", parse_yuan)?,
                    notice_at: row.parse("notice", |s| parse_time(s, Edge::Start))?,
                    effective_at: row.parse("effective", |s| parse_time(s, Edge::Start))?,
                    note: row.get("note").to_string(),
                };
                self.adjustments.push((line, a));
            }
            other => unreachable!("record {other} is in RECORDS"),
        }
        Ok(())
    }

    fn finish(mut self) -> Result<Policy, Vec<CsvError>> {
        let (header_line, version, title, markup) = match self.header.take() {
            Some(h) => h,
            None => {
                self.errors.push(CsvError {
                    line: 0,
                    message: "no policy row (policy,<version>,<title>,<markup approver>)".into(),
                });
                (0, 1, String::new(), Role::Manager)
            }
        };
        fn split<T>(v: Vec<(usize, T)>) -> (Vec<usize>, Vec<T>) {
            v.into_iter().unzip()
        }
        let placeholders: Vec<(usize, Sku)> = self
            .failed_skus
            .iter()
            .filter(|(_, code)| !code.is_empty() && code.trim() == code)
            .map(|(line, code)| (*line, placeholder_sku(code)))
            .collect();
        let real_skus = self.skus.len();
        let (sku_lines, skus) = split(self.skus.into_iter().chain(placeholders).collect());
        let (price_lines, prices) = split(self.prices);
        let (channel_lines, channel_tiers) = split(self.channels);
        let (agreement_lines, agreements) = split(self.agreements);
        let (promotion_lines, promotions) = split(self.promotions);
        let (authority_lines, authorities) = split(self.authorities);
        let (threshold_lines, thresholds) = split(self.thresholds);
        let (adjustment_lines, adjustments) = split(self.adjustments);
        let mut policy = Policy {
            version,
            title,
            markup_approver: markup,
            skus,
            prices,
            channel_tiers,
            agreements,
            promotions,
            authorities,
            thresholds,
            adjustments,
        };
        for p in policy.problems() {
            let line = match p.item {
                PolicyItem::Header => header_line,
                PolicyItem::Sku(i) => sku_lines[i],
                PolicyItem::Price(i) => price_lines[i],
                PolicyItem::ChannelTier(i) => channel_lines[i],
                PolicyItem::Agreement(i) => agreement_lines[i],
                PolicyItem::Promotion(i) => promotion_lines[i],
                PolicyItem::Authority(i) => authority_lines[i],
                PolicyItem::Threshold(i) => threshold_lines[i],
                PolicyItem::Adjustment(i) => adjustment_lines[i],
            };
            let record = match p.item {
                PolicyItem::Header => "policy",
                PolicyItem::Sku(_) => "sku",
                PolicyItem::Price(_) => "price",
                PolicyItem::ChannelTier(_) => "channel",
                PolicyItem::Agreement(_) => "agreement",
                PolicyItem::Promotion(_) => "promotion",
                PolicyItem::Authority(_) => "authority",
                PolicyItem::Threshold(_) => "threshold",
                PolicyItem::Adjustment(_) => "adjustment",
            };
            self.errors.push(CsvError { line, message: format!("{record}: {}", p.message) });
        }
        if self.errors.is_empty() {
            policy.skus.truncate(real_skus);
            Ok(policy)
        } else {
            self.errors.sort_by(|a, b| a.line.cmp(&b.line).then_with(|| a.message.cmp(&b.message)));
            self.errors.dedup();
            Err(self.errors)
        }
    }
}

fn placeholder_sku(code: &str) -> Sku {
    Sku {
        code: code.to_string(),
        series: String::new(),
        name: code.to_string(),
        spec: String::new(),
        abv_tenths: 1,
        aroma: AromaType::Jiang,
        unit: Unit::Bottle,
        bottles_per_case: 1,
        active: false,
    }
}

fn parse_sku(row: &Row) -> Result<Sku, String> {
    Ok(Sku {
        code: row.get("code").to_string(),
        series: row.get("series").to_string(),
        name: row.get("name").to_string(),
        spec: row.get("spec").to_string(),
        abv_tenths: row.parse("alcohol", parse_abv)?,
        aroma: row.parse("aroma", str::parse::<AromaType>)?,
        unit: row.parse("unit", str::parse::<Unit>)?,
        bottles_per_case: row.parse("bottles per case", |s| {
            s.parse::<u16>().ok().filter(|n| *n >= 1).ok_or_else(|| format!("'{s}' is not a whole number from 1"))
        })?,
        active: row.parse("active", parse_bool)?,
    })
}

fn parse_promotion(row: &Row) -> Result<Promotion, String> {
    let channels = match row.get("channels") {
        "" | "*" => Vec::new(),
        s => s
            .split('|')
            .map(|c| c.parse::<Channel>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|m| format!("channels: {m}"))?,
    };
    let value = row.get("value");
    let gift = row.get("gift sku");
    let kind = match row.get("kind") {
        "percent_off" => PromotionKind::PercentOff { bp: row.parse("value", parse_bp)? },
        "fixed_price" => PromotionKind::FixedPrice { price_fen: row.parse("value", parse_yuan)? },
        "buy_get" => {
            let (buy, free) = value
                .split_once('+')
                .and_then(|(b, f)| Some((b.trim().parse::<u32>().ok()?, f.trim().parse::<u32>().ok()?)))
                .ok_or_else(|| format!("value: '{value}' is not N+M (e.g. 5+1: buy 5, get 1 free)"))?;
            PromotionKind::BuyGet { buy, free, gift_sku: Some(gift.to_string()).filter(|g| !g.is_empty()) }
        }
        k => return Err(format!("kind: '{k}' is not one of percent_off, fixed_price, buy_get")),
    };
    if !gift.is_empty() && !matches!(kind, PromotionKind::BuyGet { .. }) {
        return Err("gift sku: only a buy_get promotion has a gift SKU".into());
    }
    Ok(Promotion {
        id: row.get("id").to_string(),
        name: row.get("name").to_string(),
        sku: row.get("sku").to_string(),
        channels,
        start: row.parse("start", |s| parse_time(s, Edge::Start))?,
        end: row.parse("end", |s| parse_time(s, Edge::End))?,
        kind,
    })
}

/// A non-negative decimal with at most `max_decimals` decimals, scaled by 10^`max_decimals`.
fn parse_decimal(s: &str, max_decimals: u32) -> Option<i64> {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if int.is_empty() || int.len() > 15 || !int.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if frac.len() > max_decimals as usize
        || (s.contains('.') && frac.is_empty())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let scale = 10i64.pow(max_decimals);
    let frac_val =
        if frac.is_empty() { 0 } else { frac.parse::<i64>().ok()? * 10i64.pow(max_decimals - frac.len() as u32) };
    int.parse::<i64>().ok()?.checked_mul(scale)?.checked_add(frac_val)
}

/// `1499`, `1499.5`, `1499.00` yuan → fen.
pub fn parse_yuan(s: &str) -> Result<i64, String> {
    parse_decimal(s, 2).ok_or_else(|| format!("'{s}' is not an amount in yuan with at most two decimals"))
}

/// `3%`, `3.01%` or `301bp` → basis points (at most 100%).
pub fn parse_bp(s: &str) -> Result<u32, String> {
    let v = if let Some(p) = s.strip_suffix('%') {
        parse_decimal(p.trim(), 2)
    } else if let Some(b) = s.strip_suffix("bp") {
        b.trim().parse::<i64>().ok()
    } else {
        return Err(format!("'{s}': write a percentage (3%, 3.01%) or basis points (301bp)"));
    };
    v.filter(|v| *v <= BP_SCALE)
        .and_then(|v| u32::try_from(v).ok())
        .ok_or_else(|| format!("'{s}' is not a percentage between 0% and 100%"))
}

/// `53`, `53%`, `53%vol`, `52.5%vol` → tenths of a percent.
fn parse_abv(s: &str) -> Result<u16, String> {
    let lower = s.to_ascii_lowercase();
    let n = lower.strip_suffix("vol").unwrap_or(&lower).trim();
    let n = n.strip_suffix('%').unwrap_or(n).trim();
    parse_decimal(n, 1)
        .and_then(|v| u16::try_from(v).ok())
        .filter(|v| (1..=MAX_ABV_TENTHS).contains(v))
        .ok_or_else(|| format!("'{s}' is not an alcohol content like 53%vol or 42.5%vol"))
}

fn parse_bool(s: &str) -> Result<bool, String> {
    match s.to_ascii_lowercase().as_str() {
        "yes" | "y" | "true" | "1" | "是" => Ok(true),
        "no" | "n" | "false" | "0" | "否" => Ok(false),
        _ => Err(format!("'{s}' is not yes or no")),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Edge {
    Start,
    End,
}

/// A time in the CSV → UTC ms. An `End` covers the whole unit written (day, minute, second).
fn parse_time(s: &str, edge: Edge) -> Result<UtcMillis, String> {
    let bad = || format!("'{s}' is not a date or time (2026-09-15, 2026-09-15 08:00, or RFC 3339)");
    let widen = |ms: i64, unit: i64| if edge == Edge::End { ms.checked_add(unit - 1) } else { Some(ms) };
    if let Some(ms) = parse_rfc3339(s) {
        let unit = if s.contains('.') { 1 } else { 1000 };
        return widen(ms, unit).ok_or_else(bad);
    }
    let local = |t: NaiveDateTime| shanghai().from_local_datetime(&t).single().map(|t| t.timestamp_millis());
    for (fmt, unit) in [
        ("%Y-%m-%d %H:%M:%S", 1000),
        ("%Y-%m-%dT%H:%M:%S", 1000),
        ("%Y-%m-%d %H:%M", 60_000),
        ("%Y-%m-%dT%H:%M", 60_000),
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
            return local(t).and_then(|ms| widen(ms, unit)).ok_or_else(bad);
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return d.and_hms_opt(0, 0, 0).and_then(local).and_then(|ms| widen(ms, 86_400_000)).ok_or_else(bad);
    }
    Err(bad())
}

#[cfg(test)]
#[allow(clippy::inconsistent_digit_grouping)] // `100_00` fen reads as 100.00 yuan
mod tests {
    use super::*;
    use crate::pricing::engine::{CustomerFacts, LineFacts, Verdict, price_order};
    use crate::time::parse_rfc3339;

    const EXAMPLE: &str = include_str!("../../../examples/policy.csv");

    fn ms(s: &str) -> i64 {
        parse_rfc3339(s).unwrap()
    }

    #[test]
    fn fields_split_with_quotes() {
        let cases: &[(&str, Result<&[&str], &str>)] = &[
            ("a,b,c", Ok(&["a", "b", "c"])),
            (" a , b ,", Ok(&["a", "b", ""])),
            ("\"a,b\",c", Ok(&["a,b", "c"])),
            ("\"say \"\"hi\"\"\" , x", Ok(&["say \"hi\"", "x"])),
            ("\" padded \"", Ok(&[" padded "])),
            ("\"open", Err("unterminated")),
            ("\"a\"b", Err("after a closing quote")),
            ("a\"b", Err("quote inside")),
        ];
        for (line, want) in cases {
            match (split_fields(line), want) {
                (Ok(got), Ok(w)) => assert_eq!(got, w.iter().map(|s| s.to_string()).collect::<Vec<_>>(), "{line}"),
                (Err(got), Err(w)) => assert!(got.contains(w), "{line}: {got}"),
                (got, want) => panic!("{line}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn values_parse_exactly() {
        assert_eq!(parse_yuan("1499"), Ok(149_900));
        assert_eq!(parse_yuan("39.9"), Ok(3_990));
        assert_eq!(parse_yuan("0.01"), Ok(1));
        for bad in ["", "1.234", "-1", "1,000", "1.", ".5", "1e3", "¥5", "9999999999999999"] {
            assert!(parse_yuan(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_bp("3%"), Ok(300));
        assert_eq!(parse_bp("3.01%"), Ok(301));
        assert_eq!(parse_bp("301bp"), Ok(301));
        assert_eq!(parse_bp("100%"), Ok(10_000));
        for bad in ["3", "100.01%", "3.001%", "-1%", "x%"] {
            assert!(parse_bp(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_abv("53%vol"), Ok(530));
        assert_eq!(parse_abv("42.5%VOL"), Ok(425));
        assert_eq!(parse_abv("53"), Ok(530));
        assert!(parse_abv("0").is_err() && parse_abv("53.25").is_err() && parse_abv("101").is_err());
    }

    #[test]
    fn times_are_shanghai_and_ends_cover_their_unit() {
        let cases: &[(&str, Edge, &str)] = &[
            ("2026-09-15", Edge::Start, "2026-09-14T16:00:00.000Z"),
            ("2026-09-15", Edge::End, "2026-09-15T15:59:59.999Z"),
            ("2026-09-15 08:30", Edge::Start, "2026-09-15T00:30:00.000Z"),
            ("2026-09-15 08:30", Edge::End, "2026-09-15T00:30:59.999Z"),
            ("2026-09-15T08:30:10", Edge::End, "2026-09-15T00:30:10.999Z"),
            ("2026-09-15T00:00:00Z", Edge::Start, "2026-09-15T00:00:00.000Z"),
            ("2026-09-15T00:00:00+08:00", Edge::End, "2026-09-14T16:00:00.999Z"),
            ("2026-09-15T00:00:00.250Z", Edge::End, "2026-09-15T00:00:00.250Z"),
        ];
        for (s, edge, want) in cases {
            assert_eq!(parse_time(s, *edge), Ok(ms(want)), "{s} {edge:?}");
        }
        assert!(parse_time("2026-02-30", Edge::Start).is_err());
        assert!(parse_time("tomorrow", Edge::End).is_err());
    }

    const MINIMAL: &str = "\
policy,3,测试,manager
sku,A,S,Name A,500ml,53%vol,酱香,瓶,6,yes
price,A,retail,100
channel,direct-store,retail
authority,rep,3%
";

    #[test]
    fn minimal_file_parses() {
        let p = parse_policy_csv(MINIMAL).unwrap();
        assert_eq!((p.version, p.title.as_str(), p.markup_approver), (3, "测试", Role::Manager));
        assert_eq!(p.skus.len(), 1);
        assert_eq!(p.prices[0].price_fen, 10_000);
        assert_eq!(p.tier_for(Channel::DirectStore), Some(PriceTier::Retail));
        assert_eq!(p.authority_bp(Role::Rep), Some(300));
        // BOM, CRLF, comments, blank and padded lines are fine.
        let dressed = format!("\u{feff}# comment\r\n\r\n,,,\r\n{}", MINIMAL.replace('\n', ",,\r\n"));
        assert_eq!(parse_policy_csv(&dressed), Ok(p));
    }

    #[test]
    fn every_bad_row_is_reported_with_its_line_and_nothing_applied() {
        let text = "\
policy,1,bad file,manager
sku,A,S,Name A,500ml,53%vol,酱香,瓶,6,yes
sku,B,S,Name B,500ml,53%vol,whisky,瓶,6,yes
price,B,retail,100
price,A,retail,1.234
price,A,wholesale,80,extra
price,Z,retail,50
channel,direct-store,retail
channel,direct-store,wholesale
agreement,not-a-uuid,A,90,,
promotion,P1,p,A,*,2026-10-08,2026-09-15,percent_off,5%
promotion,P2,p,A,bogus-channel,2026-09-15,2026-10-08,percent_off,5%
promotion,P3,p,A,*,2026-09-15,2026-10-08,buy_get,five
authority,rep,3
threshold,100000,boss
adjustment,J1,A,retail,120,2027-01-01,2026-12-01
frobnicate,1
sku,\"unterminated
price,A
";
        let errs = parse_policy_csv(text).unwrap_err();
        let lines: Vec<usize> = errs.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![3, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19], "{errs:#?}");
        let text_of = |line| errs.iter().find(|e| e.line == line).unwrap().to_string();
        assert!(text_of(3).contains("aroma"), "{}", text_of(3));
        assert!(text_of(5).contains("two decimals"));
        assert!(text_of(6).contains("at most 3"));
        assert!(text_of(7).contains("unknown SKU Z"));
        assert!(text_of(9).contains("twice"));
        assert!(text_of(11).contains("ends before it starts"));
        assert!(text_of(14).contains("301bp"));
        assert!(text_of(16).contains("notice date is after"));
        assert!(text_of(19).contains("empty") || text_of(19).contains("columns"));
        // Line 4 refers to SKU B whose row (line 3) is bad: reported once, on line 3 only.
        assert!(!lines.contains(&4));
        let missing = parse_policy_csv("sku,A,S,N,500ml,53,酱香,瓶,6,yes\n").unwrap_err();
        assert_eq!(
            missing,
            vec![CsvError { line: 0, message: "no policy row (policy,<version>,<title>,<markup approver>)".into() }]
        );
        let twice = parse_policy_csv("policy,1,a,manager\npolicy,2,b,manager\n").unwrap_err();
        assert_eq!(twice[0].line, 2);
    }

    #[test]
    fn example_policy_parses_and_prices() {
        let p = parse_policy_csv(EXAMPLE).unwrap_or_else(|e| panic!("{e:#?}"));
        assert!(p.skus.len() >= 8, "a realistic catalogue");
        for aroma in [AromaType::Jiang, AromaType::Nong, AromaType::Qing] {
            assert!(p.skus.iter().any(|s| s.aroma == aroma), "{aroma}");
        }
        assert!(p.skus.iter().any(|s| s.unit == Unit::Box), "gift boxes");
        assert!(p.skus.iter().any(|s| !s.active), "a discontinued SKU");
        for c in Channel::ALL {
            assert!(p.tier_for(*c).is_some(), "{c} is priced");
        }
        // Every active SKU has all three tier prices.
        for s in p.skus.iter().filter(|s| s.active) {
            for t in PriceTier::ALL {
                assert!(p.base_price(&s.code, *t).is_some(), "{} {t}", s.code);
            }
        }
        assert!(!p.agreements.is_empty() && !p.promotions.is_empty() && !p.adjustments.is_empty());
        assert!(p.promotions.iter().any(|x| matches!(x.kind, PromotionKind::BuyGet { .. })));
        // Serialized for publication and back.
        assert_eq!(Policy::from_bytes(&p.to_bytes()).unwrap(), p);

        // The flagship at retail, before and after the scheduled adjustment.
        let adj = &p.adjustments[0];
        let flagship = adj.sku.clone();
        let before = p.list_price(&flagship, adj.tier, adj.effective_at - 1).unwrap();
        assert_ne!(before, adj.price_fen);
        assert_eq!(p.list_price(&flagship, adj.tier, adj.effective_at), Some(adj.price_fen));
        assert!(p.upcoming_adjustments(adj.notice_at).iter().any(|a| a.id == adj.id));
        assert!(p.upcoming_adjustments(adj.notice_at - 1).iter().all(|a| a.id != adj.id));

        // The agreement customer gets the agreement price.
        let a = &p.agreements[0];
        let customer = CustomerFacts { id: a.customer, channel: Some(Channel::Distributor) };
        let at = a.start.unwrap_or(0);
        let line = LineFacts { id: "1".into(), sku: a.sku.clone(), spec: None, qty: 10, unit_price_fen: a.price_fen };
        let priced = price_order(&p, &customer, &[line], at, Role::Rep);
        assert_eq!(priced.lines[0].expected_unit_price_fen, Some(a.price_fen), "{priced:#?}");
        assert_eq!(priced.verdict, Verdict::Ok, "{priced:#?}");
    }
}
