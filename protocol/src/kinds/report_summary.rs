//! 竞品价格汇总: the competitor-price summary of a published market report, computed by the
//! server from the observations it stores ([`crate::presales::summary`]) when the report
//! is published, in a document of its own that only the server writes (id derived from the
//! report's), readable by whoever reads the report.

use super::DocKind;
use super::grants::DEPARTMENTS;
use super::spec::build::{field, parent};
use super::spec::{FieldSpec, FieldType::*, IdRule, KindSpec, NOBODY, Placement};
use crate::ids::DocId;

/// The summary document of `report` (its own inverse: the report of a summary).
pub fn summary_id(report: DocId) -> DocId {
    let mut b = *report.as_bytes();
    for (i, x) in b"jiuloop-summary!".iter().enumerate() {
        b[i] ^= x;
    }
    DocId(uuid::Uuid::from_bytes(b))
}

pub const ROW: &[FieldSpec] = &[
    field("brand", Str { max: 100 }, "品牌", "Brand", NOBODY),
    field("sku", Str { max: 170 }, "产品", "SKU", NOBODY),
    field("region", Str { max: 50 }, "区域", "Region", NOBODY),
    field("count", Int { min: 0, max: i64::MAX }, "观察数", "Observations", NOBODY),
    field("min", Money { max: i64::MAX }, "最低价", "Min", NOBODY),
    field("median", Money { max: i64::MAX }, "中位价", "Median", NOBODY),
    field("max", Money { max: i64::MAX }, "最高价", "Max", NOBODY),
    field("promotions", Str { max: 5_000 }, "促销活动", "Promotions seen", NOBODY),
];

pub const SPEC: KindSpec = KindSpec {
    name: "report-summary",
    zh: "竞品价格汇总",
    en: "Competitor price summary",
    code: 29,
    id: IdRule::Derived(summary_id),
    placement: Placement::Parent { kind: DocKind::MarketReport, field: "report" },
    read: DEPARTMENTS,
    create: NOBODY,
    title: None,
    server_written: true,
    freeze: None,
    fields: &[
        parent("report", DocKind::MarketReport, "调研报告", "Report", NOBODY),
        field("computed_at", Time, "汇总时间", "Computed at", NOBODY),
        field("observations", Int { min: 0, max: i64::MAX }, "观察记录数", "Observations", NOBODY),
        field("rows", Records(ROW), "汇总", "Summary", NOBODY),
    ],
};
