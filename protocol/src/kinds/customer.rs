//! 客户: a customer of a territory, with contacts, A/B/C class and its history.

use super::grants::{ASSIGNERS, CUSTOMER_READERS, FIELD_STAFF};
use super::spec::build::{author, created_at, entry, field};
use super::spec::{FieldRole, FieldSpec, FieldType::*, IdRule, KindSpec, LogFold, LogSpec, Placement};
use crate::role::Role;
use crate::schema::{Channel, CustomerClass};

const CONTACT: &[FieldSpec] = &[
    field("id", Str { max: 64 }, "编号", "Id", FIELD_STAFF),
    field("name", Str { max: 100 }, "姓名", "Name", FIELD_STAFF).required(),
    field("phone", Phone, "电话", "Phone", FIELD_STAFF),
    field("title", Str { max: 100 }, "职务", "Title", FIELD_STAFF),
    // The key contact's birthday: the care calendar's birthday greetings.
    field("birthday", Date, "生日", "Birthday", FIELD_STAFF),
];

/// Every change of class, appended by whoever changes it (never rewritten).
const CLASS_HISTORY: LogSpec = LogSpec {
    kind_key: None,
    word: "class-change",
    invalid_rule: None,
    author_key: "by",
    role_key: None,
    time_key: "at",
    by_arrival: false,
    on_create: None,
    fields: &[
        field("from", Enum(&CustomerClass::VOCAB), "原分类", "From", FIELD_STAFF),
        field("to", Enum(&CustomerClass::VOCAB), "新分类", "To", FIELD_STAFF),
    ],
    entries: &[entry("change", &[Role::Rep, Role::Manager, Role::Admin])],
    check: None,
    fold: LogFold::History,
};

pub const SPEC: KindSpec = KindSpec {
    name: "customer",
    zh: "客户",
    en: "Customer",
    code: 1,
    id: IdRule::Random,
    placement: Placement::Own { territory: "territory" },
    read: CUSTOMER_READERS,
    create: FIELD_STAFF,
    title: Some("name"),
    server_written: false,
    freeze: None,
    fields: &[
        author("created_by", "创建人", "Created by", FIELD_STAFF),
        created_at("created_at", "创建时间", "Created at", FIELD_STAFF),
        field("name", Str { max: 100 }, "客户名称", "Name", FIELD_STAFF).required(),
        field("phone", Phone, "电话", "Phone", FIELD_STAFF),
        field("contacts", Records(CONTACT), "联系人", "Contacts", FIELD_STAFF),
        field("address", Str { max: 200 }, "地址", "Address", FIELD_STAFF),
        field("region", Str { max: 50 }, "区域", "Region", FIELD_STAFF),
        // The channel decides the price tier: a rep sets it at creation, a manager changes it.
        field("channel", Enum(&Channel::VOCAB), "渠道类型", "Channel", FIELD_STAFF).edited_by(ASSIGNERS),
        field("business_scope", Str { max: 200 }, "经营范围", "Business scope", FIELD_STAFF),
        field("purchase_intention", Str { max: 200 }, "购买意向", "Purchase intention", FIELD_STAFF),
        field("purchasing_power", Str { max: 200 }, "购买能力", "Purchasing power", FIELD_STAFF),
        field("class", Enum(&CustomerClass::VOCAB), "客户分类", "Class", FIELD_STAFF).with_history("class_history"),
        field("class_history", Log(&CLASS_HISTORY), "分类变更记录", "Class history", FIELD_STAFF),
        field("next_follow_up", Date, "下次跟进日期", "Next follow-up", FIELD_STAFF),
        field("notes", Text { max: 10_000 }, "备注", "Notes", FIELD_STAFF),
        field("owner", Str { max: 64 }, "负责销售", "Owning rep", ASSIGNERS).with_role(FieldRole::Assignee),
        field("territory", Str { max: 50 }, "销售区域", "Territory", ASSIGNERS),
        // Key accounts' orders may need a signed contract (the approval policy says).
        field("key_account", Flag, "重点客户", "Key account", ASSIGNERS),
    ],
};
