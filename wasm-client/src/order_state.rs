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
use protocol::DocId;
use protocol::schema::order_lifecycle::{self, Lifecycle};
use protocol::schema::{Lang, OrderStatus};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

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
pub fn all(replica: &Replica, unsent: &HashSet<DocId>) -> Vec<(Arc<OrderView>, OrderState)> {
    replica
        .order_views_shared()
        .into_iter()
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

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::ActorId;
    use protocol::Role;
    use protocol::rules::Principal;
    use protocol::schema::OrderSource;
    use protocol::schema::order::NewLine;

    #[test]
    fn an_order_checked_only_offline_is_shown_submitted_and_unsent_not_confirmed() {
        let mut r = Replica::load(ActorId::from(&[9u8; 16][..]), "li", vec![], 0, vec![]).unwrap();
        r.set_principal(Principal { user: "ma".into(), role: Role::Market, territories: vec![] });
        let csv = include_str!("../../examples/policy.csv");
        r.publish_policy(&protocol::pricing::parse_policy_csv(csv).unwrap(), 1).unwrap();
        r.set_principal(Principal { user: "li".into(), role: Role::Rep, territories: vec!["贵州".into()] });
        let inputs = [("name", "贵阳酒行"), ("channel", "distributor"), ("territory", "贵州"), ("owner", "li")];
        let c = r.create(protocol::DocKind::Customer, &inputs, 2).unwrap();
        let o = r.create_order(c, OrderSource::Electronic, 3).unwrap();
        let line = NewLine { id: "a".into(), sku: "QY-53-500".into(), spec: None, qty: 1, unit_price_fen: 96_900 };
        r.add_order_line(o, &line, 4).unwrap();
        r.submit_order(o, 5).unwrap();
        let v = r.order_view(o).unwrap();
        assert_eq!(v.lifecycle.status, OrderStatus::Confirmed, "the offline price check alone would confirm it");
        let s = state(&v, true);
        assert_eq!((s.status, s.sync), (OrderStatus::Submitted, Sync::Unsent));
        assert_eq!(state(&v, false).sync, Sync::Checking, "sent, not yet checked by the server");
        assert_eq!(s.json(Lang::Zh)["status_label"], "已提交");
    }
}
