//! The one status of an order that every screen shows (list rows, the customer's page,
//! the status tabs and their counts, the order itself, the queues and the notifications).
//!
//! An order's status is the fold of its events ([`protocol::schema::order_lifecycle`]);
//! which approvals it waits for comes from the server's verdict on its current content.
//! Until that verdict is here the order is shown as the server last decided it (a just
//! submitted order: "submitted", not "confirmed" on the strength of the offline price
//! check), and marked: `unsent` while the device holds changes of it the server has not
//! received, `checking` while a submitted order waits for the server's verdict on its
//! current content. Events the server has not received fold last, so a step made offline
//! shows at once — with the `unsent` mark.

use client_core::{OrderView, Replica, content_hash_of};
use protocol::schema::order_lifecycle::{self, Lifecycle};
use protocol::schema::{Lang, OrderStatus};
use protocol::{DocId, Role};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};

/// Where the device stands with the server about an order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sync {
    /// Everything of it the device has was received by the server, and its verdict (if it
    /// needs one) is about its current content.
    Settled,
    /// The device holds changes of it the server has not received yet.
    Unsent,
    /// Sent; the server has not yet given its verdict on the current content.
    Checking,
}

impl Sync {
    pub fn code(self) -> Option<&'static str> {
        match self {
            Sync::Settled => None,
            Sync::Unsent => Some("unsent"),
            Sync::Checking => Some("checking"),
        }
    }
}

pub struct OrderState {
    pub status: OrderStatus,
    pub sync: Sync,
    pub lifecycle: Lifecycle,
}

impl OrderState {
    /// `{status, status_label, sync, paid, open_exceptions}`.
    pub fn json(&self, lang: Lang) -> Value {
        json!({
            "status": self.status,
            "status_label": self.status.label(lang),
            "sync": self.sync.code(),
            "paid": self.lifecycle.paid,
            "open_exceptions": self.lifecycle.open_exceptions.len(),
        })
    }
}

/// The status of the order `v` as every screen shows it (see the module docs).
pub fn state(v: &OrderView, unsent: bool) -> OrderState {
    let lifecycle = if v.verdict_current {
        v.lifecycle.clone()
    } else {
        let hash = content_hash_of(&v.order);
        order_lifecycle::fold(&v.order.events, None, &hash, &order_lifecycle::same_role)
    };
    let status = lifecycle.status;
    let sync = if unsent {
        Sync::Unsent
    } else if !v.verdict_current && status == OrderStatus::Submitted {
        Sync::Checking
    } else {
        Sync::Settled
    };
    OrderState { status, sync, lifecycle }
}

/// Every order held here, newest first, with its view and state.
pub fn all(replica: &Replica, unsent: &HashSet<DocId>) -> Vec<(OrderView, OrderState)> {
    replica
        .orders()
        .into_iter()
        .filter_map(|o| replica.order_view(o.id).ok())
        .map(|v| {
            let s = state(&v, unsent.contains(&v.order.id));
            (v, s)
        })
        .collect()
}

/// Customer names by id (what order rows show).
pub fn customer_names(replica: &Replica) -> HashMap<DocId, String> {
    replica.customers().into_iter().map(|c| (c.id, c.name)).collect()
}

/// One order as a row of any list: `{id, customer, customer_name, total, total_fen, lines,
/// created_at_local, created_by, delivery_date, status, status_label, sync, paid,
/// open_exceptions}`.
pub fn row(v: &OrderView, s: &OrderState, names: &HashMap<DocId, String>, lang: Lang) -> Value {
    let o = &v.order;
    let mut j = s.json(lang);
    let name = o.customer.and_then(|c| names.get(&c));
    j["id"] = json!(o.id);
    j["customer"] = json!(o.customer);
    j["customer_name"] = json!(name);
    j["total"] = crate::money::yuan(o.total_fen).into();
    j["total_fen"] = o.total_fen.into();
    j["lines"] = o.lines.len().into();
    j["created_at_local"] = protocol::time::display_local(o.created_at).into();
    j["created_by"] = o.created_by.clone().into();
    j["delivery_date"] = json!(o.delivery_date);
    j
}

/// The role whose approval an approver gives (their own).
pub fn role_of(replica: &Replica) -> Option<Role> {
    replica.principal().map(|p| p.role)
}
