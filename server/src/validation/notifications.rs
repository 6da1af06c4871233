//! What departments are told, once each: when an order is first confirmed the hub assigns
//! it to logistics (发货) and finance (收款) and queues one notification for each; when the
//! market department publishes a report or forecast, every department is told
//! ([`super::distribution`]); a violation report found in the field reaches market
//! ([`super::partners`]). Rows are unique per subject document, department and kind
//! ([`crate::storage`] `notifications`). People and scripts read them with
//! `jiuloop-server notifications [--department D] [--subject ID]`.

use crate::storage::{DbError, NotificationRow, Storage};
use protocol::DocId;
use protocol::time::{display_local, rfc3339};
use serde::Serialize;
use std::fmt::Write;

/// The departments an order is handed to once it is confirmed.
pub const ASSIGNED_TO: [&str; 2] = ["logistics", "finance"];
/// The kind of notification that goes with the assignment.
pub const ASSIGNED: &str = "assigned";
/// The departments a signed contract's copies go to, and the kind of their notification.
pub const CONTRACT_TO: [&str; 2] = ["finance", "logistics"];
pub const CONTRACT_SIGNED: &str = "contract-signed";

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Notification {
    pub id: i64,
    /// The document it is about (an order, a report, a forecast, a violation report).
    pub subject: DocId,
    pub department: String,
    pub kind: String,
    /// When it was queued, RFC 3339 UTC.
    #[serde(serialize_with = "ser_time")]
    pub at: i64,
    pub message: String,
}

fn ser_time<S: serde::Serializer>(ms: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&rfc3339(*ms))
}

impl TryFrom<NotificationRow> for Notification {
    type Error = DbError;
    fn try_from(r: NotificationRow) -> Result<Self, DbError> {
        let subject = DocId::from_slice(&r.order_id)
            .ok_or_else(|| DbError::corrupt("notifications", format!("subject {:?}", r.order_id)))?;
        Ok(Notification { id: r.id, subject, department: r.department, kind: r.kind, at: r.at, message: r.message })
    }
}

/// The message a department gets when an order is assigned to it.
pub fn assigned_message(department: &str, order: DocId, customer: Option<&str>, total_fen: Option<i64>) -> String {
    let what = match department {
        "logistics" => "请安排发货",
        "finance" => "请跟进收款",
        _ => "请处理",
    };
    let short: String = order.to_string().chars().take(8).collect();
    let mut m = format!("订单 {short} 已确认，{what}");
    let details: Vec<String> = customer
        .map(|c| format!("客户 {c}"))
        .into_iter()
        .chain(total_fen.map(|t| format!("合计 ¥{}", protocol::schema::order::format_fen(t))))
        .collect();
    if !details.is_empty() {
        let _ = write!(m, "（{}）", details.join("，"));
    }
    m
}

/// Notifications, oldest first (at most `limit`, the latest), of one department and/or subject.
pub fn list(
    db: &dyn Storage,
    department: Option<&str>,
    subject: Option<DocId>,
    limit: i64,
) -> Result<Vec<Notification>, DbError> {
    let subject = subject.map(|o| o.as_bytes().to_vec());
    db.notifications(department, subject.as_deref(), limit)?.into_iter().map(Notification::try_from).collect()
}

/// One line per notification, times in Asia/Shanghai.
pub fn render(list: &[Notification]) -> String {
    let mut out = String::new();
    for n in list {
        let _ =
            writeln!(out, "{}  {:<10} {:<9} {}  {}", display_local(n.at), n.department, n.kind, n.subject, n.message);
    }
    out
}
