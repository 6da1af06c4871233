//! 投诉跟踪: what the server records of a complaint, in a document of its own that only the
//! server writes (the complaint itself is never rewritten): SLA breaches and to whom they
//! were escalated, the revisit it created when the complaint was resolved, and the
//! satisfaction that revisit found.

use super::DocKind;
use super::grants::COMPLAINT_READERS;
use super::spec::build::{field, parent};
use super::spec::{FieldType::*, IdRule, KindSpec, NOBODY, Placement};
use crate::schema::complaint::track_id;

pub const SPEC: KindSpec = KindSpec {
    name: "complaint-track",
    zh: "投诉跟踪",
    en: "Complaint tracking",
    code: 8,
    id: IdRule::Derived(track_id),
    placement: Placement::Parent { kind: DocKind::Complaint, field: "complaint" },
    read: COMPLAINT_READERS,
    create: NOBODY,
    title: None,
    server_written: true,
    freeze: None,
    fields: &[
        parent("complaint", DocKind::Complaint, "投诉", "Complaint", NOBODY),
        field("ack_warned_at", Time, "受理时限预警", "Acknowledgement warning at", NOBODY),
        field("ack_breached_at", Time, "受理超时", "Acknowledgement breached at", NOBODY),
        field("resolve_warned_at", Time, "解决时限预警", "Resolution warning at", NOBODY),
        field("resolve_breached_at", Time, "解决超时", "Resolution breached at", NOBODY),
        field("escalated_to", Str { max: 64 }, "已升级至", "Escalated to", NOBODY),
        field("revisit_task", Ref(DocKind::RevisitTask), "回访任务", "Revisit task", NOBODY),
        field("revisit", Ref(DocKind::Revisit), "回访记录", "Revisit", NOBODY),
        field("satisfaction", Int { min: 1, max: 5 }, "回访满意度", "Revisit satisfaction", NOBODY),
        field("revisit_comment", Str { max: 5_000 }, "回访意见", "Revisit comment", NOBODY),
        field("revisited_at", Time, "回访时间", "Revisited at", NOBODY),
        field("revisited_by", Str { max: 64 }, "回访人", "Revisited by", NOBODY),
    ],
};
