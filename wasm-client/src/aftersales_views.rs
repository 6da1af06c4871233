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

/// One complaint as the customer experienced it: `{status_label, waiting, clocks: [{clock,
/// label, state, state_label, text, recorded}], timeline: [{kind, label, at_local, by,
/// text, applied}], revisit: {satisfaction, comment, at_local, by}?, escalated_to}`.
pub fn complaint_detail(replica: &Replica, id: DocId, now: i64, lang: Lang) -> Result<Value, String> {
    use protocol::schema::{ComplaintEventKind, ResponsibleParty, ToldVia};
    let v = replica.complaint_view(id, now).map_err(|e| e.to_string())?;
    let clocks: Vec<Value> = [&v.clocks.ack, &v.clocks.resolve]
        .into_iter()
        .map(|c| {
            let left = format_duration(c.remaining_ms.abs(), lang);
            let text = match (c.state, lang) {
                (ClockState::Met, _) => c.state.label(lang).to_string(),
                (ClockState::Breached, Lang::Zh) => format!("已超时 {left}"),
                (ClockState::Breached, Lang::En) => format!("overdue by {left}"),
                (_, Lang::Zh) => format!("{} · 剩余 {left}", c.state.label(lang)),
                (_, Lang::En) => format!("{} · {left} left", c.state.label(lang)),
            };
            json!({ "clock": c.clock, "label": c.clock.label(lang), "state": c.state,
                    "state_label": c.state.label(lang), "text": text, "recorded": c.recorded })
        })
        .collect();
    let mut timeline: Vec<Value> = v
        .lifecycle
        .timeline
        .iter()
        .map(|t| {
            let e = &t.event;
            let mut parts: Vec<String> =
                [&e.findings, &e.measures, &e.comment].into_iter().flatten().cloned().collect();
            if let Some(r) = e.responsible.as_deref().and_then(|r| r.parse::<ResponsibleParty>().ok()) {
                parts.push(r.label(lang).to_string());
            }
            if let Some(x) = &e.expected {
                parts.push(if lang == Lang::Zh { format!("预计 {x} 解决") } else { format!("expected by {x}") });
            }
            if let Some(s) = e.satisfaction {
                parts.push(format!("{s}/5"));
            }
            if let Some(via) = e.told_via.as_deref().and_then(|x| x.parse::<ToldVia>().ok()) {
                parts.push(format!("({})", via.label(lang)));
            }
            json!({
                "kind": e.kind,
                "label": e.kind.parse::<ComplaintEventKind>().map(|k| k.label(lang)).unwrap_or("?"),
                "at": t.counted_at,
                "at_local": display_local(t.counted_at),
                "by": e.by,
                "text": parts.join(" · "),
                "applied": t.applied,
            })
        })
        .collect();
    if let (Some(at), Some(s)) = (v.track.revisited_at, v.track.satisfaction) {
        let label = if lang == Lang::Zh { "回访" } else { "Revisit" };
        let text = [Some(format!("{s}/5")), v.track.revisit_comment.clone()].into_iter().flatten().collect::<Vec<_>>();
        timeline.push(json!({ "kind": "revisit", "label": label, "at": at, "at_local": display_local(at),
                              "by": v.track.revisited_by, "text": text.join(" · "), "applied": true }));
    }
    timeline.sort_by_key(|t| t["at"].as_i64().unwrap_or(0));
    Ok(json!({
        "status_label": v.status.label(lang),
        "waiting": v.lifecycle.waiting,
        "clocks": clocks,
        "timeline": timeline,
        "escalated_to": v.track.escalated_to,
        "satisfaction": v.track.satisfaction,
    }))
}
