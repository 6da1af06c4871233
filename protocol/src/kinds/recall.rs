//! 召回清单: the recall of a quality issue's batch — every customer whose shipped orders
//! carried that batch (as logistics recorded it when shipping), drawn up by the server from
//! its own records and kept current as later shipments come in. Written only by the server.

use super::DocKind;
use super::spec::build::{field, parent};
use super::spec::{FieldSpec, FieldType::*, Grants, IdRule, KindSpec, NOBODY, Placement, Scope};
use crate::role::Role;
use crate::schema::quality::recall_id;

/// Quality control, after-sales, logistics (who bring the goods back), executives.
const READERS: Grants = &[
    (Role::Quality, Scope::All),
    (Role::AfterSales, Scope::All),
    (Role::Logistics, Scope::All),
    (Role::Executive, Scope::All),
    (Role::Admin, Scope::All),
];

const CUSTOMER: &[FieldSpec] = &[
    field("id", Str { max: 64 }, "编号", "Id", NOBODY),
    field("customer", Ref(DocKind::Customer), "客户", "Customer", NOBODY),
    field("name", Str { max: 100 }, "客户名称", "Name", NOBODY),
    field("territory", Str { max: 50 }, "销售区域", "Territory", NOBODY),
    field("orders", Int { min: 0, max: 1_000_000 }, "订单数", "Orders", NOBODY),
    field("qty", Int { min: 0, max: i64::MAX }, "数量", "Quantity", NOBODY),
];

pub const SPEC: KindSpec = KindSpec {
    name: "recall",
    zh: "召回清单",
    en: "Recall list",
    code: 11,
    id: IdRule::Derived(recall_id),
    placement: Placement::Parent { kind: DocKind::QualityIssue, field: "issue" },
    read: READERS,
    create: NOBODY,
    title: Some("batch"),
    server_written: true,
    freeze: None,
    fields: &[
        parent("issue", DocKind::QualityIssue, "质量问题", "Quality issue", NOBODY),
        field("sku", Str { max: 64 }, "产品", "Product (SKU)", NOBODY),
        field("batch", Str { max: 64 }, "批次号", "Batch number", NOBODY),
        field("raised_at", Time, "召回时间", "Raised at", NOBODY),
        field("customer_count", Int { min: 0, max: i64::MAX }, "客户数", "Customers", NOBODY),
        field("customers", Records(CUSTOMER), "收货客户", "Customers who received it", NOBODY),
    ],
};
