//! Turning what a person typed into a field's value, with errors that carry a code and
//! parameters so that every client renders them in the user's language next to the field.
//! The one parser for every field of every kind (command line, browser, imports).

use super::DocKind;
use super::spec::{FieldSpec, FieldType, InputRule};
use crate::ids::DocId;
use crate::schema::Lang;
use chrono::NaiveDate;
use serde::Serialize;
use std::fmt;

/// A parsed field value, ready to be written.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Value {
    /// Clear an optional field.
    Null,
    Str(String),
    Int(i64),
    /// UTC milliseconds.
    Time(i64),
    Flag(bool),
}

/// Why a value was not accepted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum FieldErrorKind {
    Required,
    TooLong {
        max: usize,
    },
    NotInVocab {
        value: String,
        allowed: Vec<String>,
    },
    NotDate {
        value: String,
    },
    DateInPast {
        value: String,
    },
    NotTime {
        value: String,
    },
    NotNumber {
        value: String,
    },
    OutOfRange {
        value: i64,
        min: i64,
        max: i64,
    },
    NotMoney {
        value: String,
    },
    MoneyOutOfRange {
        value: i64,
        max_fen: i64,
    },
    NotPositive,
    BadPhone {
        value: String,
    },
    NotRef {
        kind: String,
        value: String,
    },
    /// The referenced document is not on this device (or not of the kind).
    UnknownRef {
        kind: String,
        value: String,
    },
    /// Not a product of the price policy the device holds (an order line's SKU).
    UnknownProduct {
        value: String,
    },
    NotFlag {
        value: String,
    },
    UnknownField {
        known: Vec<String>,
    },
    /// Not a batch number (批次号).
    NotBatch {
        value: String,
    },
    /// The record names no line of its list (by id or 1-based position).
    NoSuchLine {
        value: String,
    },
    /// A list, a log, raw bytes or an identity field: not set with `FIELD=VALUE`.
    NotSettable,
    /// Written only when the record is created.
    CreateOnly,
}

/// A field and why its value was not accepted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    #[serde(flatten)]
    pub kind: FieldErrorKind,
}

impl FieldErrorKind {
    /// Stable machine name (the JSON `code`).
    pub fn code(&self) -> &'static str {
        match self {
            FieldErrorKind::Required => "required",
            FieldErrorKind::TooLong { .. } => "too_long",
            FieldErrorKind::NotInVocab { .. } => "not_in_vocab",
            FieldErrorKind::NotDate { .. } => "not_date",
            FieldErrorKind::DateInPast { .. } => "date_in_past",
            FieldErrorKind::NotTime { .. } => "not_time",
            FieldErrorKind::NotNumber { .. } => "not_number",
            FieldErrorKind::OutOfRange { .. } => "out_of_range",
            FieldErrorKind::NotMoney { .. } => "not_money",
            FieldErrorKind::MoneyOutOfRange { .. } => "money_out_of_range",
            FieldErrorKind::NotPositive => "not_positive",
            FieldErrorKind::BadPhone { .. } => "bad_phone",
            FieldErrorKind::NotRef { .. } => "not_ref",
            FieldErrorKind::UnknownRef { .. } => "unknown_ref",
            FieldErrorKind::UnknownProduct { .. } => "unknown_product",
            FieldErrorKind::NotFlag { .. } => "not_flag",
            FieldErrorKind::UnknownField { .. } => "unknown_field",
            FieldErrorKind::NotBatch { .. } => "not_batch",
            FieldErrorKind::NoSuchLine { .. } => "no_such_line",
            FieldErrorKind::NotSettable => "not_settable",
            FieldErrorKind::CreateOnly => "create_only",
        }
    }

    /// The reason in `lang`, without the field's name.
    pub fn text(&self, lang: Lang) -> String {
        use FieldErrorKind::*;
        let zh = lang == Lang::Zh;
        match self {
            Required => {
                if zh {
                    "不能为空".into()
                } else {
                    "may not be empty".into()
                }
            }
            TooLong { max } => {
                if zh {
                    format!("最多 {max} 个字")
                } else {
                    format!("at most {max} characters")
                }
            }
            NotInVocab { value, allowed } => {
                if zh {
                    format!("“{value}”不是可选值（{}）", allowed.join("、"))
                } else {
                    format!("'{value}' is not one of {}", allowed.join(", "))
                }
            }
            NotDate { value } => {
                if zh {
                    format!("“{value}”不是日期（格式：2026-12-31）")
                } else {
                    format!("'{value}' is not a date (YYYY-MM-DD)")
                }
            }
            DateInPast { value } => {
                if zh {
                    format!("日期 {value} 已过，不能早于今天")
                } else {
                    format!("{value} is in the past")
                }
            }
            NotTime { value } => {
                if zh {
                    format!("“{value}”不是时间")
                } else {
                    format!("'{value}' is not a time (RFC 3339)")
                }
            }
            NotNumber { value } => {
                if zh {
                    format!("“{value}”不是整数")
                } else {
                    format!("'{value}' is not a whole number")
                }
            }
            OutOfRange { value, min, max } => {
                if zh {
                    format!("{value} 应在 {min} 到 {max} 之间")
                } else {
                    format!("{value} is not between {min} and {max}")
                }
            }
            NotMoney { value } => {
                if zh {
                    format!("“{value}”不是金额（元，最多两位小数）")
                } else {
                    format!("'{value}' is not an amount in yuan")
                }
            }
            MoneyOutOfRange { value, max_fen } => {
                let (v, max) = (crate::schema::order::format_fen(*value), crate::schema::order::format_fen(*max_fen));
                if zh {
                    format!("{v} 元（{value} 分）应在 0 到 {max} 元之间")
                } else {
                    format!("{v} yuan ({value} fen) is not between 0 and {max} yuan")
                }
            }
            NotPositive => {
                if zh {
                    "必须大于 0".into()
                } else {
                    "must be more than 0".into()
                }
            }
            BadPhone { value } => {
                if zh {
                    format!("“{value}”不是电话号码")
                } else {
                    format!("'{value}' is not a phone number")
                }
            }
            NotRef { kind, value } | UnknownRef { kind, value } => {
                let label = kind.parse::<DocKind>().map(|k| k.spec().label(lang)).unwrap_or(kind.as_str());
                if zh { format!("找不到{label}“{value}”") } else { format!("no {label} '{value}' here") }
            }
            UnknownProduct { value } => {
                if zh {
                    format!("“{value}”不是价格体系中的产品")
                } else {
                    format!("'{value}' is not a product of the price policy")
                }
            }
            NotFlag { value } => {
                if zh {
                    format!("“{value}”应为 是/否")
                } else {
                    format!("'{value}' is not yes or no")
                }
            }
            UnknownField { known } => {
                if zh {
                    format!("没有这个字段（可用：{}）", known.join("、"))
                } else {
                    format!("no such field (fields: {})", known.join(", "))
                }
            }
            NotBatch { value } => {
                if zh {
                    format!("“{value}”不是批次号（字母、数字、- _ . /，最多 64 个字）")
                } else {
                    format!("'{value}' is not a batch number (letters, digits, - _ . /, at most 64)")
                }
            }
            NoSuchLine { value } => {
                if zh {
                    format!("订单没有“{value}”这一行（行号或行编号）")
                } else {
                    format!("the order has no line '{value}' (a position or a line id)")
                }
            }
            NotSettable => {
                if zh {
                    "不能直接修改".into()
                } else {
                    "cannot be set this way".into()
                }
            }
            CreateOnly => {
                if zh {
                    "只能在创建时填写".into()
                } else {
                    "is set when the record is created".into()
                }
            }
        }
    }
}

impl FieldError {
    pub fn new(field: &str, kind: FieldErrorKind) -> Self {
        FieldError { field: field.to_string(), kind }
    }

    /// `客户名称：不能为空` — the field's label in `lang` (or its name) and the reason.
    pub fn message(&self, kind: Option<DocKind>, lang: Lang) -> String {
        let label = kind.and_then(|k| field_label(k, &self.field, lang)).unwrap_or(&self.field);
        let sep = if lang == Lang::Zh { "：" } else { ": " };
        format!("{label}{sep}{}", self.kind.text(lang))
    }
}

fn field_label(kind: DocKind, path: &str, lang: Lang) -> Option<&'static str> {
    let mut parts = path.split('/');
    let top = kind.spec().field(parts.next()?)?;
    let Some(sub) = parts.next_back() else { return Some(top.label(lang)) };
    match top.ty {
        FieldType::Records(fields) => fields.iter().find(|f| f.name == sub).map(|f| f.label(lang)),
        _ => Some(top.label(lang)),
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.kind.text(Lang::En))
    }
}

impl std::error::Error for FieldError {}

/// Full-width ASCII (what Chinese input methods type: `１４９９`, `．`, `－`) and the
/// ideographic space to their ASCII forms.
pub fn normalize_width(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            '。' => '.',
            c => c,
        })
        .collect()
}

/// What parsing may need from outside the value (all optional: the server parses nothing
/// people type).
#[derive(Clone, Copy, Debug, Default)]
pub struct ParseContext {
    /// Today in Asia/Shanghai, for [`InputRule::NotPast`].
    pub today: Option<NaiveDate>,
    /// "now" in UTC ms, for a time field typed as `now`.
    pub now: Option<i64>,
}

/// Parse `input` for `field`. An empty input clears an optional field ([`Value::Null`]).
pub fn parse(field: &FieldSpec, input: &str, ctx: &ParseContext) -> Result<Value, FieldErrorKind> {
    use FieldErrorKind::*;
    let raw = input.trim_end_matches(['\n', '\r']);
    let trimmed = raw.trim();
    if trimmed.is_empty() && !matches!(field.ty, FieldType::Text { .. }) {
        return if field.required { Err(Required) } else { Ok(Value::Null) };
    }
    let value = match field.ty {
        FieldType::Str { max } => {
            if trimmed.chars().count() > max {
                return Err(TooLong { max });
            }
            Value::Str(trimmed.to_string())
        }
        FieldType::Text { max } => {
            if field.required && trimmed.is_empty() {
                return Err(Required);
            }
            if raw.chars().count() > max {
                return Err(TooLong { max });
            }
            Value::Str(raw.to_string())
        }
        FieldType::Phone => Value::Str(parse_phone(trimmed)?),
        FieldType::Enum(vocab) => match vocab.parse(&normalize_width(trimmed)) {
            Some(name) => Value::Str(name.to_string()),
            None => {
                return Err(NotInVocab {
                    value: trimmed.to_string(),
                    allowed: vocab.names().map(String::from).collect(),
                });
            }
        },
        FieldType::Date => {
            let norm = normalize_width(trimmed).replace(['/', '.'], "-");
            let d = crate::time::parse_date(&norm).ok_or_else(|| NotDate { value: trimmed.to_string() })?;
            let text = d.format("%Y-%m-%d").to_string();
            if field.input == InputRule::NotPast && ctx.today.is_some_and(|t| d < t) {
                return Err(DateInPast { value: text });
            }
            Value::Str(text)
        }
        FieldType::Time => {
            let norm = normalize_width(trimmed);
            match (norm.as_str(), ctx.now) {
                ("now", Some(now)) => Value::Time(now),
                _ => Value::Time(crate::time::parse_rfc3339(&norm).ok_or(NotTime { value: trimmed.to_string() })?),
            }
        }
        FieldType::Int { min, max } => {
            let n: i64 = normalize_width(trimmed)
                .replace(',', "")
                .parse()
                .map_err(|_| NotNumber { value: trimmed.to_string() })?;
            if !(min..=max).contains(&n) {
                return Err(OutOfRange { value: n, min, max });
            }
            Value::Int(n)
        }
        FieldType::Money { max } => {
            let fen = parse_yuan(trimmed).ok_or_else(|| NotMoney { value: trimmed.to_string() })?;
            check_money(field, fen, max)?;
            Value::Int(fen)
        }
        FieldType::Ref(kind) => {
            let id: DocId = normalize_width(trimmed)
                .parse()
                .map_err(|_| NotRef { kind: kind.as_str().to_string(), value: trimmed.to_string() })?;
            Value::Str(id.to_string())
        }
        FieldType::Flag => match normalize_width(trimmed).to_lowercase().as_str() {
            "yes" | "y" | "true" | "1" | "是" => Value::Flag(true),
            "no" | "n" | "false" | "0" | "否" => Value::Flag(false),
            _ => return Err(NotFlag { value: trimmed.to_string() }),
        },
        FieldType::Bytes | FieldType::Records(_) | FieldType::Log(_) => return Err(NotSettable),
    };
    Ok(value)
}

/// Check a value given in fen (typed APIs pass integers, not text).
pub fn check_money(field: &FieldSpec, fen: i64, max: i64) -> Result<(), FieldErrorKind> {
    if !(0..=max).contains(&fen) {
        return Err(FieldErrorKind::MoneyOutOfRange { value: fen, max_fen: max });
    }
    if field.input == InputRule::Positive && fen == 0 {
        return Err(FieldErrorKind::NotPositive);
    }
    Ok(())
}

/// Check an integer given by code against the field's range.
pub fn check_int(field: &FieldSpec, n: i64) -> Result<(), FieldErrorKind> {
    match field.ty {
        FieldType::Int { min, max } if !(min..=max).contains(&n) => {
            Err(FieldErrorKind::OutOfRange { value: n, min, max })
        }
        FieldType::Money { max } => check_money(field, n, max),
        _ => Ok(()),
    }
}

/// `1499`, `1,499.5`, `¥1499.50`, `１４９９元` → fen. At most two decimals.
pub fn parse_yuan(input: &str) -> Option<i64> {
    let s = normalize_width(input);
    let s = s.trim().trim_start_matches(['¥', '￥']).trim_end_matches('元').trim().replace([',', '，'], "");
    if s.is_empty() || s.starts_with('-') || s.starts_with('+') {
        return None;
    }
    let (whole, frac) = match s.split_once('.') {
        Some((w, f)) => (w, f),
        None => (s.as_str(), ""),
    };
    if whole.is_empty() && frac.is_empty() {
        return None;
    }
    if !whole.chars().all(|c| c.is_ascii_digit()) || !frac.chars().all(|c| c.is_ascii_digit()) || frac.len() > 2 {
        return None;
    }
    let whole: i64 = if whole.is_empty() { 0 } else { whole.parse().ok()? };
    let frac: i64 = format!("{frac:0<2}").parse().ok()?;
    whole.checked_mul(100)?.checked_add(frac)
}

fn parse_phone(s: &str) -> Result<String, FieldErrorKind> {
    let norm = normalize_width(s);
    let ok_chars = norm.chars().all(|c| c.is_ascii_digit() || " +-()".contains(c));
    let digits = norm.chars().filter(char::is_ascii_digit).count();
    if !ok_chars || !(3..=20).contains(&digits) {
        return Err(FieldErrorKind::BadPhone { value: s.to_string() });
    }
    Ok(norm.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::DocKind;

    fn customer_field(name: &str) -> &'static FieldSpec {
        DocKind::Customer.spec().field(name).unwrap()
    }

    #[test]
    fn inputs_people_type() {
        let ctx = ParseContext { today: NaiveDate::from_ymd_opt(2026, 12, 1), now: Some(7) };
        let p = |kind: DocKind, field: &str, input: &str| parse(kind.spec().field(field).unwrap(), input, &ctx);
        let cases: Vec<(DocKind, &str, &str, Result<Value, &str>)> = vec![
            (DocKind::Customer, "name", "  贵阳名酒行 ", Ok(Value::Str("贵阳名酒行".into()))),
            (DocKind::Customer, "name", "", Err("required")),
            (DocKind::Customer, "phone", "138-0851-0000", Ok(Value::Str("138-0851-0000".into()))),
            (DocKind::Customer, "phone", "１３８０８５１００００", Ok(Value::Str("13808510000".into()))),
            (DocKind::Customer, "phone", "call me", Err("bad_phone")),
            (DocKind::Customer, "phone", "", Ok(Value::Null)),
            (DocKind::Customer, "channel", "经销商", Ok(Value::Str("distributor".into()))),
            (DocKind::Customer, "channel", "Distributor", Ok(Value::Str("distributor".into()))),
            (DocKind::Customer, "channel", "wholesale", Err("not_in_vocab")),
            (DocKind::Customer, "next_follow_up", "2026/12/31", Ok(Value::Str("2026-12-31".into()))),
            (DocKind::Customer, "next_follow_up", "2026-02-30", Err("not_date")),
            (DocKind::Visit, "satisfaction", "５", Ok(Value::Int(5))),
            (DocKind::Visit, "satisfaction", "6", Err("out_of_range")),
            (DocKind::Visit, "satisfaction", "good", Err("not_number")),
            (DocKind::CompetitorObservation, "shelf_price", "1,499.5", Ok(Value::Int(149_950))),
            (DocKind::CompetitorObservation, "shelf_price", "￥１４９９元", Ok(Value::Int(149_900))),
            (DocKind::CompetitorObservation, "shelf_price", "1499.999", Err("not_money")),
            (DocKind::CompetitorObservation, "shelf_price", "-5", Err("not_money")),
            (DocKind::CompetitorObservation, "observed_at", "now", Ok(Value::Time(7))),
            (DocKind::CompetitorObservation, "visit", "nope", Err("not_ref")),
            (DocKind::Order, "lines", "x", Err("not_settable")),
        ];
        for (kind, field, input, want) in cases {
            let got = p(kind, field, input).map_err(|e| e.code());
            assert_eq!(got, want, "{kind}.{field} = {input:?}");
        }
        let long = "酒".repeat(101);
        assert_eq!(parse(customer_field("name"), &long, &ctx), Err(FieldErrorKind::TooLong { max: 100 }));
    }

    #[test]
    fn errors_read_in_both_languages() {
        let e = FieldError::new("name", FieldErrorKind::Required);
        assert_eq!(e.message(Some(DocKind::Customer), Lang::Zh), "客户名称：不能为空");
        assert_eq!(e.message(Some(DocKind::Customer), Lang::En), "Name: may not be empty");
        let e = FieldError::new("lines/qty", FieldErrorKind::OutOfRange { value: -5, min: 1, max: 1_000_000 });
        assert_eq!(e.message(Some(DocKind::Order), Lang::Zh), "数量：-5 应在 1 到 1000000 之间");
    }

    #[test]
    fn yuan() {
        assert_eq!(parse_yuan("0.5"), Some(50));
        assert_eq!(parse_yuan(".05"), Some(5));
        assert_eq!(parse_yuan("1499"), Some(149_900));
        assert_eq!(parse_yuan("abc"), None);
        assert_eq!(parse_yuan("1.2.3"), None);
        assert_eq!(parse_yuan("99999999999999999999"), None);
    }
}
