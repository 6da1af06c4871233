//! 合同盘点: a periodic inventory of the archived contracts — each checked for its signed
//! scan, by whom and when; the view flags every archived contract whose scan is missing
//! or that nobody checked.

use super::DocKind;
use super::spec::build::{author, created_at, entry, field};
use super::spec::{FieldType::*, Grants, IdRule, KindSpec, LogSpec, Placement, Scope};
use crate::role::Role;
use crate::schema::ScanCheck;

const RUNNERS: Grants = &[
    (Role::Manager, Scope::All),
    (Role::Legal, Scope::All),
    (Role::Executive, Scope::All),
    (Role::Admin, Scope::All),
];

const CHECKS: LogSpec = LogSpec {
    fold: super::spec::LogFold::History,
    kind_key: None,
    word: "check",
    invalid_rule: None,
    author_key: "by",
    role_key: None,
    time_key: "at",
    by_arrival: true,
    on_create: None,
    fields: &[
        field("contract", Ref(DocKind::Contract), "合同", "Contract", RUNNERS),
        field("scan", Enum(&ScanCheck::VOCAB), "扫描件", "Scan", RUNNERS),
        field("note", Str { max: 500 }, "备注", "Note", RUNNERS),
    ],
    entries: &[entry("checked", &[Role::Manager, Role::Legal, Role::Executive, Role::Admin])
        .requires(&["contract", "scan"])],
    check: None,
};

pub const SPEC: KindSpec = KindSpec {
    name: "contract-inventory",
    zh: "合同盘点",
    en: "Contract inventory",
    code: 19,
    id: IdRule::Random,
    placement: Placement::Nowhere,
    read: RUNNERS,
    create: RUNNERS,
    title: Some("period"),
    server_written: false,
    freeze: None,
    fields: &[
        author("started_by", "盘点人", "Run by", RUNNERS),
        created_at("started_at", "开始时间", "Started at", RUNNERS),
        field("period", Str { max: 32 }, "盘点期间", "Period", RUNNERS).required(),
        field("checks", Log(&CHECKS), "盘点记录", "Checks", RUNNERS),
    ],
};
