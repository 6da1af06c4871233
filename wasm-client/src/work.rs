//! Each department's work and what it is told, derived on the device from the documents
//! it holds — no server mechanism: the server already relays every order and verdict to
//! every role that may read them.
//!
//! * [`queues`]: the orders waiting for a step this user may record now (the core's
//!   [`Replica::order_steps`]: the same rules and lifecycle the server applies): to
//!   approve, to confirm payment, to ship, to deliver, exceptions to resolve, to close; and
//!   the user's own drafts and rejected orders (to submit, to revise). Only the queues of
//!   steps the user's role records at all are listed, empty or not.
//! * [`notifications`]: those queue entries plus what happened to the user's own orders
//!   (approved, rejected with the reason, payment confirmed, shipped, an exception), newest
//!   first, each with a stable id; which ones were read is kept in the profile's meta
//!   store by the client ([`crate::client`]).

use crate::order_state::{self, OrderState};
use client_core::{OrderView, Replica};
use protocol::schema::order_lifecycle::event_writers;
use protocol::schema::{EventKind, Lang, OrderStatus};
use protocol::time::display_local;
use protocol::{DocId, DocKind};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::Arc;

/// The queues, in the order a screen shows them, with the step that empties each.
const QUEUES: [(&str, Option<EventKind>); 8] = [
    ("approve", Some(EventKind::Approved)),
    ("pay", Some(EventKind::Paid)),
    ("ship", Some(EventKind::Shipped)),
    ("deliver", Some(EventKind::Delivered)),
    ("exceptions", Some(EventKind::Resolved)),
    ("close", Some(EventKind::Closed)),
    ("rejected", None),
    ("drafts", None),
];

/// Orders in a state where some department has a step to take (others need no look at
/// the rules: nothing can be recorded on them but a cancellation).
fn live(s: &OrderState) -> bool {
    matches!(
        s.status,
        OrderStatus::AwaitingApproval | OrderStatus::Confirmed | OrderStatus::Shipped | OrderStatus::Delivered
    ) || !s.lifecycle.open_exceptions.is_empty()
}

struct Work {
    orders: Vec<(Arc<OrderView>, OrderState)>,
    /// Per order (index into `orders`): the queues it is in.
    queued: Vec<Vec<&'static str>>,
    relevant: Vec<&'static str>,
}

fn work(replica: &Replica, unsent: &HashSet<DocId>, now: i64) -> Work {
    let me = replica.user().to_string();
    let role = replica.principal().map(|p| p.role);
    let creates = replica.may_create(DocKind::Order);
    let relevant: Vec<&'static str> = QUEUES
        .iter()
        .filter(|(_, step)| match (step, role) {
            (Some(k), Some(r)) => event_writers(*k).contains(&r),
            (Some(_), None) => true,
            (None, _) => creates,
        })
        .map(|(q, _)| *q)
        .collect();
    let orders = order_state::all(replica, unsent);
    let queued = orders
        .iter()
        .map(|(v, s)| {
            let mine = v.order.created_by == me;
            let mut qs = Vec::new();
            match s.status {
                OrderStatus::Draft if mine && !v.order.lines.is_empty() => qs.push("drafts"),
                OrderStatus::Rejected if mine => qs.push("rejected"),
                _ => {}
            }
            if live(s) {
                let steps = replica.order_steps(v.order.id, now).unwrap_or_default();
                for (q, step) in QUEUES {
                    if step.is_some_and(|k| steps.contains(&k)) {
                        qs.push(q);
                    }
                }
            }
            qs.retain(|q| relevant.contains(q));
            qs
        })
        .collect();
    Work { orders, queued, relevant }
}

/// `[{queue, count, items: [order rows]}]` for every queue relevant to this user's role.
pub fn queues(replica: &Replica, unsent: &HashSet<DocId>, now: i64, lang: Lang) -> Value {
    let w = work(replica, unsent, now);
    let names = order_state::customer_names(replica);
    w.relevant
        .iter()
        .map(|q| {
            let items: Vec<Value> = w
                .orders
                .iter()
                .zip(&w.queued)
                .filter(|(_, qs)| qs.contains(q))
                .map(|((v, s), _)| order_state::row(v, s, &names, lang))
                .collect();
            json!({ "queue": q, "count": items.len(), "items": items })
        })
        .collect()
}

/// The event kinds on one's own orders that the author is told about (when someone else
/// records them).
const TOLD: [EventKind; 5] =
    [EventKind::Approved, EventKind::Rejected, EventKind::Paid, EventKind::Shipped, EventKind::Exception];

/// `{unread, waiting, items: [{id, kind, order, customer_name, total, status_label, by,
/// comment, at, at_local, read}]}`, newest first; `waiting`: orders in this user's queues
/// (their drafts aside). `kind` is a queue name (`approve`, `pay`, …: an
/// order waits for this user) or `event:KIND` (something happened to this user's order).
pub fn notifications(
    replica: &Replica,
    unsent: &HashSet<DocId>,
    read: &HashSet<String>,
    now: i64,
    lang: Lang,
) -> Value {
    let w = work(replica, unsent, now);
    let me = replica.user();
    let names = order_state::customer_names(replica);
    let mut items: Vec<(i64, Value)> = Vec::new();
    for ((v, s), qs) in w.orders.iter().zip(&w.queued) {
        let o = &v.order;
        let customer = o.customer.and_then(|c| names.get(&c));
        let item = |id: String, kind: String, at: i64, by: &str, comment: Option<&str>| {
            json!({
                "id": id,
                "kind": kind,
                "order": o.id,
                "customer_name": customer,
                "total": crate::money::yuan(o.total_fen),
                "status_label": s.status.label(lang),
                "by": by,
                "comment": comment,
                "at": at,
                "at_local": display_local(at),
                "read": read.contains(&id),
            })
        };
        let latest = o.events.iter().max_by_key(|e| e.effective_at());
        for q in qs.iter().filter(|q| !matches!(**q, "drafts" | "rejected")) {
            let (at, by) = latest.map(|e| (e.effective_at(), e.by.as_str())).unwrap_or((o.created_at, ""));
            let id = match (*q, s.lifecycle.open_exceptions.first()) {
                ("exceptions", Some(e)) => format!("{q}:{}:{}", o.id, e.at),
                _ => format!("{q}:{}", o.id),
            };
            items.push((at, item(id, (*q).to_string(), at, by, None)));
        }
        if o.created_by == me {
            for e in o.events.iter().filter(|e| e.by != me) {
                let Some(kind) = TOLD.iter().find(|k| k.as_str() == e.kind) else { continue };
                let id = format!("event:{}:{}:{}:{}", o.id, e.kind, e.at, e.by);
                let at = e.effective_at();
                items.push((at, item(id, format!("event:{}", kind.as_str()), at, &e.by, e.comment.as_deref())));
            }
        }
    }
    items.sort_by_key(|(at, _)| std::cmp::Reverse(*at));
    let unread = items.iter().filter(|(_, i)| i["read"] == false).count();
    let items: Vec<Value> = items.into_iter().map(|(_, i)| i).collect();
    // Orders waiting for this user (their own drafts aside): the navigation's other badge.
    let waiting = w.queued.iter().filter(|qs| qs.iter().any(|q| *q != "drafts")).count();
    json!({ "unread": unread, "waiting": waiting, "items": items })
}

/// The ids of the notifications there are now (to forget read marks of ones that are gone).
pub fn current_ids(v: &Value) -> HashSet<String> {
    v["items"].as_array().into_iter().flatten().filter_map(|i| i["id"].as_str().map(String::from)).collect()
}
