//! 质量问题: a quality issue of one SKU and batch, opened by quality control
//! from complaints (linked) or from market tracking, worked through analysis, containment,
//! corrective action and verification to its close ([`crate::schema::quality`]). A
//! critical one can raise a recall: the server lists every customer who received the batch
//! ([`super::recall`]).

use super::DocKind;
use super::grants::{QUALITY, QUALITY_READERS};
use super::spec::build::{author, created_at, entry, field};
use super::spec::{Effect, FieldType::*, Freeze, IdRule, KindSpec, LogFold, LogSpec, Placement};
use crate::role::Role::{self, *};
use crate::schema::{ComplaintCategory, QualityEventKind, QualitySource, Severity};

const WORKERS: &[Role] = &[Quality, Admin];

pub const EVENTS: LogSpec = LogSpec {
    kind_key: Some(("kind", &QualityEventKind::VOCAB)),
    word: "event",
    invalid_rule: None,
    author_key: "by",
    role_key: None,
    time_key: "at",
    by_arrival: true,
    on_create: None,
    fields: &[
        field("complaint", Ref(DocKind::Complaint), "投诉", "Complaint", QUALITY),
        field("comment", Str { max: 2_000 }, "说明", "Comment", QUALITY),
        field("assignee", Str { max: 64 }, "责任部门", "Assigned to", QUALITY),
        field("due", Date, "完成期限", "Due", QUALITY),
        field("before", Int { min: 0, max: 1_000_000 }, "整改前投诉数", "Complaints before", QUALITY),
        field("after", Int { min: 0, max: 1_000_000 }, "整改后投诉数", "Complaints after", QUALITY),
        field("effective", Flag, "整改有效", "Effective", QUALITY),
    ],
    entries: &[
        entry("linked", WORKERS).requires(&["complaint"]),
        entry("analysis", WORKERS).requires(&["comment"]),
        entry("containment", WORKERS).requires(&["comment"]),
        entry("action", WORKERS).requires(&["comment", "assignee", "due"]),
        entry("verification", WORKERS).requires(&["before", "after", "effective"]),
        entry("closed", WORKERS),
        entry("reopened", WORKERS).requires(&["comment"]),
        entry("recall", WORKERS).requires(&["comment"]),
    ],
    check: None,
    fold: LogFold::Custom,
};

pub const SPEC: KindSpec = KindSpec {
    name: "quality-issue",
    zh: "质量问题",
    en: "Quality issue",
    code: 10,
    id: IdRule::Random,
    placement: Placement::Nowhere,
    read: QUALITY_READERS,
    create: QUALITY,
    title: Some("title"),
    server_written: false,
    freeze: Some(Freeze { fields: &["sku", "batch", "severity"], effect: Effect::Recalled }),
    fields: &[
        author("created_by", "创建人", "Created by", QUALITY),
        created_at("created_at", "创建时间", "Created at", QUALITY),
        field("title", Str { max: 100 }, "问题", "Issue", QUALITY).required(),
        field("source", Enum(&QualitySource::VOCAB), "来源", "Source", QUALITY).required(),
        field("sku", Str { max: 64 }, "产品", "Product (SKU)", QUALITY).required(),
        field("batch", Str { max: 64 }, "批次号", "Batch number", QUALITY).required(),
        field("category", Enum(&ComplaintCategory::VOCAB), "类别", "Category", QUALITY),
        field("severity", Enum(&Severity::VOCAB), "严重程度", "Severity", QUALITY).required(),
        field("description", Text { max: 5_000 }, "描述", "Description", QUALITY),
        field("events", Log(&EVENTS), "处理记录", "History", QUALITY),
    ],
};
