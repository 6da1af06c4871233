//! After-sales view models for the browser: the after-sales queue — open complaints by the
//! time left on their SLA clock, breached ones first — computed offline with the same pure
//! clock function as the server, ready to show.

use client_core::Replica;
use protocol::DocId;
use protocol::schema::Lang;
use protocol::schema::sla::{ClockState, format_duration};
use protocol::time::display_local;
use serde_json::{Value, json};
use std::collections::HashSet;

/// `{total, items: [{id, customer, customer_name, status, status_label, severity,
/// severity_label, category_label, content, received_local, clock: {clock, label, state,
/// state_label, remaining_ms, text}, breached, unsent}]}`, open complaints only unless `all`.
pub fn complaint_queue(replica: &Replica, unsent: &HashSet<DocId>, now: i64, all: bool, lang: Lang) -> Value {
    let items: Vec<Value> = replica
        .complaint_queue(now)
        .into_iter()
        .filter(|v| all || v.lifecycle.is_open())
        .map(|v| {
            let c = v.clocks.current();
            let left = format_duration(c.remaining_ms.abs(), lang);
            let text = match (c.state, lang) {
                (ClockState::Breached, Lang::Zh) => format!("已超时 {left}"),
                (ClockState::Breached, Lang::En) => format!("overdue by {left}"),
                (ClockState::Paused, Lang::Zh) => format!("暂停 · 剩余 {left}"),
                (ClockState::Paused, Lang::En) => format!("paused · {left} left"),
                (ClockState::Met, _) => c.state.label(lang).to_string(),
                (_, Lang::Zh) => format!("剩余 {left}"),
                (_, Lang::En) => format!("{left} left"),
            };
            json!({
                "id": v.complaint.id,
                "customer": v.complaint.customer,
                "customer_name": v.customer_name,
                "status": v.status,
                "status_label": v.status.label(lang),
                "severity": v.complaint.severity(),
                "severity_label": v.complaint.severity().label(lang),
                "category_label": v.complaint.category.map(|x| x.label(lang)),
                "content": v.complaint.content,
                "batch": v.complaint.batch,
                "received_local": display_local(v.complaint.received_at),
                "clock": {
                    "clock": c.clock,
                    "label": c.clock.label(lang),
                    "state": c.state,
                    "state_label": c.state.label(lang),
                    "remaining_ms": c.remaining_ms,
                    "text": text,
                },
                "breached": v.clocks.breached(),
                "unsent": unsent.contains(&v.complaint.id),
            })
        })
        .collect();
    json!({ "total": items.len(), "items": items })
}
