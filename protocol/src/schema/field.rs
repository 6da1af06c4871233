//! The settable scalar fields of each document kind, with types and labels. This table
//! drives `customer set ID FIELD VALUE`, the forms of the clients, and (later) the
//! field-level write rules.

use super::access::{R, SchemaError, check_kind, put_int, put_null, put_str, put_text};
use super::enums::{Channel, CustomerClass, OrderSource, PaymentMethod, VisitKind, VisitMethod};
use crate::ids::DocKind;
use automerge::{AutoCommit, ROOT};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldType {
    /// A last-writer-wins string.
    Str,
    /// A string that may not be empty.
    RequiredStr,
    /// Collaborative text (Automerge Text): concurrent edits merge character-wise.
    Text,
    /// One of the listed names.
    Enum(&'static [&'static str]),
    /// `YYYY-MM-DD`.
    Date,
    /// An integer in `min..=max`.
    Int { min: i64, max: i64 },
}

#[derive(Clone, Copy, Debug)]
pub struct FieldSpec {
    pub name: &'static str,
    pub ty: FieldType,
    pub zh: &'static str,
    pub en: &'static str,
}

const fn f(name: &'static str, ty: FieldType, zh: &'static str, en: &'static str) -> FieldSpec {
    FieldSpec { name, ty, zh, en }
}

use FieldType::*;

const CUSTOMER: &[FieldSpec] = &[
    f("name", RequiredStr, "客户名称", "Name"),
    f("phone", Str, "电话", "Phone"),
    f("address", Str, "地址", "Address"),
    f("region", Str, "区域", "Region"),
    f("channel", Enum(Channel::NAMES), "渠道类型", "Channel"),
    f("business_scope", Str, "经营范围", "Business scope"),
    f("purchase_intention", Str, "购买意向", "Purchase intention"),
    f("purchasing_power", Str, "购买能力", "Purchasing power"),
    f("class", Enum(CustomerClass::NAMES), "客户分类", "Class"),
    f("owner", Str, "负责销售", "Owning rep"),
    f("next_follow_up", Date, "下次跟进日期", "Next follow-up"),
    f("notes", Text, "备注", "Notes"),
];

const VISIT: &[FieldSpec] = &[
    f("kind", Enum(VisitKind::NAMES), "拜访类型", "Kind"),
    f("method", Enum(VisitMethod::NAMES), "拜访方式", "Method"),
    f("notes", Text, "拜访记录", "Notes"),
    f("outcome", Str, "拜访结果", "Outcome"),
    f("feedback", Str, "客户反馈", "Customer feedback"),
    f("satisfaction", Int { min: 1, max: 5 }, "满意度", "Satisfaction (1-5)"),
    f("next_action", Str, "下一步行动", "Next action"),
    f("next_action_date", Date, "下一步日期", "Next action date"),
];

const ORDER: &[FieldSpec] = &[
    f("source", Enum(OrderSource::NAMES), "订单来源", "Source"),
    f("delivery_date", Date, "交货日期", "Delivery date"),
    f("delivery_place", Str, "交货地点", "Delivery place"),
    f("payment_method", Enum(PaymentMethod::NAMES), "付款方式", "Payment method"),
    f("notes", Text, "备注", "Notes"),
];

pub fn fields_of(kind: DocKind) -> &'static [FieldSpec] {
    match kind {
        DocKind::Customer => CUSTOMER,
        DocKind::Visit => VISIT,
        DocKind::Order => ORDER,
        DocKind::Policy | DocKind::Verdict => &[],
    }
}

pub fn find_field(kind: DocKind, name: &str) -> R<&'static FieldSpec> {
    let fields = fields_of(kind);
    fields.iter().find(|f| f.name == name).ok_or_else(|| SchemaError::UnknownField {
        field: name.to_string(),
        known: fields.iter().map(|f| f.name).collect::<Vec<_>>().join(", "),
    })
}

/// Parse and write one field. An empty value clears an optional field.
///
/// The customer's `class` also appends to its class history, so it goes through
/// [`super::customer::set_class`]; callers use that (this returns `NotSettable`).
pub fn set_field(doc: &mut AutoCommit, kind: DocKind, name: &str, value: &str) -> R<()> {
    check_kind(doc, kind.as_str())?;
    let spec = find_field(kind, name)?;
    if kind == DocKind::Customer && name == "class" {
        return Err(SchemaError::NotSettable(name.into()));
    }
    let bad = |reason: String| SchemaError::BadValue { field: name.to_string(), reason };
    let value = value.trim_end_matches(['\n', '\r']);
    match spec.ty {
        Text => put_text(doc, &ROOT, name, value),
        _ if value.is_empty() => match spec.ty {
            RequiredStr => Err(bad("may not be empty".into())),
            _ => put_null(doc, &ROOT, name),
        },
        Str | RequiredStr => put_str(doc, &ROOT, name, value.trim()),
        Enum(names) => {
            let canonical = canonical_enum(name, value)
                .ok_or_else(|| bad(format!("'{value}' is not one of {}", names.join(", "))))?;
            put_str(doc, &ROOT, name, canonical)
        }
        Date => {
            let d = crate::time::parse_date(value).ok_or_else(|| bad(format!("'{value}' is not a date YYYY-MM-DD")))?;
            put_str(doc, &ROOT, name, &d.format("%Y-%m-%d").to_string())
        }
        Int { min, max } => {
            let n: i64 = value.trim().parse().map_err(|_| bad(format!("'{value}' is not a whole number")))?;
            if !(min..=max).contains(&n) {
                return Err(bad(format!("{n} is not between {min} and {max}")));
            }
            put_int(doc, &ROOT, name, n)
        }
    }
}

/// Accept the English name or the Chinese label; store the English name.
fn canonical_enum(field: &str, value: &str) -> Option<&'static str> {
    fn p<T: std::str::FromStr<Err = String> + Copy>(v: &str, f: fn(T) -> &'static str) -> Option<&'static str> {
        v.parse::<T>().ok().map(f)
    }
    match field {
        "channel" => p::<Channel>(value, Channel::as_str),
        "class" => p::<CustomerClass>(value, CustomerClass::as_str),
        "kind" => p::<VisitKind>(value, VisitKind::as_str),
        "method" => p::<VisitMethod>(value, VisitMethod::as_str),
        "source" => p::<OrderSource>(value, OrderSource::as_str),
        "payment_method" => p::<PaymentMethod>(value, PaymentMethod::as_str),
        _ => None,
    }
}
