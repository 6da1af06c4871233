//! 拜访记录: a visit to a customer, logged by the rep, with an optional on-site check-in
//! (time and position). Photos will be attachments (issue 11) of the visit.

use super::DocKind;
use super::grants::FIELD_STAFF;
use super::spec::build::{author, created_at, field, parent};
use super::spec::{FieldType::*, IdRule, KindSpec, Placement, Scope};
use crate::role::Role;
use crate::schema::{VisitKind, VisitMethod};

/// Reps may complete each other's visit logs in their territory (see the closing note of
/// issue 3: flip to authors only here if the company wants it stricter).
const VISIT_STAFF: super::Grants = FIELD_STAFF;

pub const SPEC: KindSpec = KindSpec {
    name: "visit",
    zh: "拜访记录",
    en: "Visit",
    code: 2,
    id: IdRule::Random,
    placement: Placement::Parent { kind: DocKind::Customer, field: "customer" },
    read: &[
        (Role::Rep, Scope::Territory),
        (Role::Manager, Scope::Territory),
        (Role::Market, Scope::All),
        (Role::AfterSales, Scope::All),
        (Role::Executive, Scope::All),
        (Role::Admin, Scope::All),
    ],
    create: VISIT_STAFF,
    title: Some("kind"),
    server_written: false,
    freeze: None,
    fields: &[
        parent("customer", DocKind::Customer, "客户", "Customer", VISIT_STAFF),
        author("rep", "拜访人", "Rep", VISIT_STAFF),
        created_at("at", "拜访时间", "Visited at", VISIT_STAFF),
        field("kind", Enum(&VisitKind::VOCAB), "拜访类型", "Kind", VISIT_STAFF).required(),
        field("method", Enum(&VisitMethod::VOCAB), "拜访方式", "Method", VISIT_STAFF),
        field("notes", Text { max: 10_000 }, "拜访记录", "Notes", VISIT_STAFF),
        field("outcome", Str { max: 500 }, "拜访结果", "Outcome", VISIT_STAFF),
        field("feedback", Str { max: 500 }, "客户反馈", "Customer feedback", VISIT_STAFF),
        field("satisfaction", Int { min: 1, max: 5 }, "满意度", "Satisfaction (1-5)", VISIT_STAFF),
        field("next_action", Str { max: 500 }, "下一步行动", "Next action", VISIT_STAFF),
        field("next_action_date", Date, "下一步日期", "Next action date", VISIT_STAFF),
        // The check-in on site: when (the device's clock) and where (the browser's
        // geolocation, in micro-degrees, with its accuracy in metres).
        field("checkin_at", Time, "签到时间", "Checked in at", VISIT_STAFF),
        field("checkin_lat", Int { min: -90_000_000, max: 90_000_000 }, "签到纬度", "Check-in latitude", VISIT_STAFF),
        field("checkin_lng", Int { min: -180_000_000, max: 180_000_000 }, "签到经度", "Check-in longitude", VISIT_STAFF),
        field("checkin_accuracy_m", Int { min: 0, max: 1_000_000 }, "定位精度（米）", "Location accuracy (m)", VISIT_STAFF),
        // The visit plan this visit carries out (it completes the plan, issue 12).
        field("plan", Ref(DocKind::VisitPlan), "拜访计划", "Visit plan", VISIT_STAFF),
    ],
};
