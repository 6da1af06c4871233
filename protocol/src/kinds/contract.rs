//! 销售合同: a contract of a customer for the orders it covers, its clauses
//! co-edited by the rep and legal, comments on clauses and the signing workflow in one
//! log ([`crate::schema::contract`]). Signing locks the content: once the server recorded
//! the signature, every later edit of it is refused (changes go through an amendment, a
//! new contract that `amends` it).

use super::DocKind;
use super::grants::{CONTRACT_EDITORS, CONTRACT_READERS, FIELD_STAFF};
use super::spec::build::{author, created_at, entry, field, parent};
use super::spec::{Effect, FieldSpec, FieldType::*, Freeze, Grants, IdRule, KindSpec, LogSpec, Placement, Scope};
use crate::role::Role::{self, *};
use crate::schema::order::{MAX_QTY, MAX_UNIT_PRICE_FEN};
use crate::schema::{ContractEventKind, ContractType};

const EVENT_WRITERS: Grants = &[
    (Rep, Scope::Territory),
    (Manager, Scope::Territory),
    (Legal, Scope::All),
    (Executive, Scope::All),
    (Admin, Scope::All),
];

const ORDER_LINK: &[FieldSpec] = &[
    field("id", Str { max: 64 }, "编号", "Id", FIELD_STAFF),
    field("order", Ref(DocKind::Order), "订单", "Order", FIELD_STAFF).required(),
];

const LINE: &[FieldSpec] = &[
    field("id", Str { max: 64 }, "编号", "Id", CONTRACT_EDITORS),
    field("sku", Str { max: 64 }, "产品", "Product", CONTRACT_EDITORS).required(),
    field("spec", Str { max: 64 }, "规格", "Spec", CONTRACT_EDITORS),
    field("qty", Int { min: 1, max: MAX_QTY }, "数量", "Quantity", CONTRACT_EDITORS).required(),
    field("unit_price_fen", Money { max: MAX_UNIT_PRICE_FEN }, "单价", "Unit price", CONTRACT_EDITORS).required(),
];

/// An attachment record: the file's hash, name, type and size.
pub const SCAN: &[FieldSpec] = &[
    field("id", Str { max: 64 }, "编号", "Id", CONTRACT_EDITORS),
    field("hash", Blob, "文件摘要", "File hash", CONTRACT_EDITORS).required(),
    field("name", Str { max: 200 }, "文件名", "File name", CONTRACT_EDITORS),
    field("mime", Str { max: 64 }, "类型", "Type", CONTRACT_EDITORS),
    field("size", Int { min: 0, max: crate::blob::MAX_BLOB_BYTES_CAP as i64 }, "大小", "Size", CONTRACT_EDITORS),
    field("signed", Flag, "签署件", "Signed copy", CONTRACT_EDITORS),
];

const FIELD: &[Role] = &[Rep, Manager, Admin];
const LEGAL_ROLES: &[Role] = &[Legal, Admin];
const EVERYONE_ON_IT: &[Role] = &[Rep, Manager, Legal, Admin];

pub const EVENTS: LogSpec = LogSpec {
    fold: super::spec::LogFold::Custom,
    kind_key: Some(("kind", &ContractEventKind::VOCAB)),
    word: "event",
    invalid_rule: None,
    author_key: "by",
    role_key: Some("role"),
    time_key: "at",
    by_arrival: true,
    on_create: None,
    fields: &[
        field("hash", Str { max: 128 }, "内容摘要", "Content hash", EVENT_WRITERS),
        field("clause", Str { max: 64 }, "条款", "Clause", EVENT_WRITERS),
        field("text", Str { max: 50_000 }, "内容", "Text", EVENT_WRITERS),
        field("comment", Str { max: 64 }, "所解决的意见", "Comment resolved", EVENT_WRITERS),
        field("note", Str { max: 1_000 }, "说明", "Note", EVENT_WRITERS),
    ],
    entries: &[
        entry("submitted", FIELD),
        entry("review", LEGAL_ROLES),
        entry("comment", EVERYONE_ON_IT).requires(&["text"]),
        entry("resolve", EVERYONE_ON_IT).requires(&["comment"]),
        entry("changes-requested", LEGAL_ROLES),
        entry("revised", FIELD),
        entry("approved", LEGAL_ROLES).requires(&["role", "hash"]).not_by_author(),
        entry("signed", &[Rep, Manager, Legal, Admin]).requires(&["hash"]),
        entry("archived", &[Legal, Manager, Admin]),
        entry("refused", FIELD),
        entry("expired", EVERYONE_ON_IT),
        entry("terminated", &[Legal, Executive, Admin]),
    ],
    check: Some(crate::schema::contract::check_entry),
};

pub const SPEC: KindSpec = KindSpec {
    name: "contract",
    zh: "销售合同",
    en: "Sales contract",
    code: 17,
    id: IdRule::Random,
    placement: Placement::Parent { kind: DocKind::Customer, field: "customer" },
    read: CONTRACT_READERS,
    create: FIELD_STAFF,
    title: Some("title"),
    server_written: false,
    freeze: Some(Freeze { fields: crate::schema::contract::CONTENT_FIELDS, effect: Effect::Signed }),
    fields: &[
        parent("customer", DocKind::Customer, "客户", "Customer", FIELD_STAFF),
        author("created_by", "起草人", "Drafted by", FIELD_STAFF),
        created_at("created_at", "起草时间", "Drafted at", FIELD_STAFF),
        field("title", Str { max: 200 }, "合同名称", "Title", CONTRACT_EDITORS).required(),
        field("contract_type", Enum(&ContractType::VOCAB), "合同类型", "Type", CONTRACT_EDITORS),
        field("amends", Ref(DocKind::Contract), "所补充的合同", "Amends", FIELD_STAFF).create_only(),
        field("orders", Records(ORDER_LINK), "涉及订单", "Orders covered", FIELD_STAFF),
        field("party_a", Str { max: 200 }, "甲方", "Party A", CONTRACT_EDITORS),
        field("party_b", Str { max: 200 }, "乙方", "Party B", CONTRACT_EDITORS),
        field("lines", Records(LINE), "产品明细", "Lines", CONTRACT_EDITORS),
        field("delivery_date", Date, "交货时间", "Delivery date", CONTRACT_EDITORS),
        field("delivery_place", Str { max: 200 }, "交货地点", "Delivery place", CONTRACT_EDITORS),
        field("payment_terms", Str { max: 1_000 }, "付款方式", "Payment terms", CONTRACT_EDITORS),
        field("quality_standard", Str { max: 1_000 }, "质量标准", "Quality standard", CONTRACT_EDITORS),
        field("after_sales", Str { max: 1_000 }, "售后条款", "After-sales terms", CONTRACT_EDITORS),
        field("valid_until", Date, "有效期至", "Valid until", CONTRACT_EDITORS),
        field("clauses", Text { max: 50_000 }, "合同条款", "Clauses", CONTRACT_EDITORS),
        field("scans", Records(SCAN), "扫描件", "Scans", CONTRACT_EDITORS),
        field("events", Log(&EVENTS), "合同流程", "Workflow", EVENT_WRITERS),
    ],
};
