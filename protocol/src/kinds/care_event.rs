//! 客户关怀日历: a date of customer care — a festival (春节, 中秋, 端午), each
//! customer's anniversary or their key contact's birthday, a new-product recommendation to
//! the customers whose purchases match a series, a member event — over the customers a
//! class or territory selects. The server turns it into one care task per customer for
//! the owning rep, exactly once each.

use super::grants::EVERYONE;
use super::spec::build::{author, created_at, field};
use super::spec::{FieldType::*, Grants, IdRule, KindSpec, Placement, Scope};
use crate::role::Role;
use crate::schema::{CareOccasion, CustomerClass};

/// Who keeps the care calendar: after-sales and the market department.
pub const CARE_OWNERS: Grants =
    &[(Role::AfterSales, Scope::All), (Role::Market, Scope::All), (Role::Admin, Scope::All)];

pub const SPEC: KindSpec = KindSpec {
    name: "care-event",
    zh: "客户关怀",
    en: "Customer care",
    code: 15,
    id: IdRule::Random,
    placement: Placement::Nowhere,
    read: EVERYONE,
    create: CARE_OWNERS,
    title: Some("title"),
    server_written: false,
    freeze: None,
    fields: &[
        author("created_by", "创建人", "Created by", CARE_OWNERS),
        created_at("created_at", "创建时间", "Created at", CARE_OWNERS),
        field("title", Str { max: 100 }, "关怀主题", "Title", CARE_OWNERS).required(),
        field("occasion", Enum(&CareOccasion::VOCAB), "关怀类型", "Occasion", CARE_OWNERS).required(),
        field("date", Date, "日期", "Date", CARE_OWNERS).required(),
        field("series", Str { max: 64 }, "产品系列（新品推荐）", "Series (new products)", CARE_OWNERS),
        field("class", Enum(&CustomerClass::VOCAB), "客户分类", "Customer class", CARE_OWNERS),
        field("territory", Str { max: 50 }, "销售区域", "Territory", CARE_OWNERS),
        field("note", Text { max: 5_000 }, "关怀内容", "What to do", CARE_OWNERS),
    ],
};
