//! Complaint SLA clocks on the server: after every change to a complaint (or to
//! the after-sales policy), and again whenever a clock is due to warn or run out
//! (`wakeups`, the hub's tick), the complaint's clocks are computed with the one pure
//! function devices use ([`protocol::schema::sla::clocks`]) at the server's clock. A
//! warning and a breach are each recorded once per clock (`effects`: `sla-warning` /
//! `sla-breach`, key `ack` or `resolve`), a breach escalated to the territory's manager
//! (a notification row, department `manager`), and both written into the complaint's
//! tracking document, which every reader of the complaint receives. Reconnects, resends,
//! re-checks and later steps stating earlier times change nothing recorded.

use super::service::{self, short};
use super::{Changed, ValidationCx, Validator};
use crate::storage::DbError;
use protocol::schema::complaint::{self, Track};
use protocol::schema::complaint_lifecycle;
use protocol::schema::sla::{self, Clock, ClockState, Recorded};
use protocol::schema::{Lang, Severity};
use protocol::{DocId, DocKind};

pub struct ComplaintSla;

pub const NAME: &str = "complaint-sla";
/// The wake-up of a complaint whose clocks are all paused: looked at again when something
/// changes (a policy change re-checks it too).
const PAUSED: i64 = i64::MAX / 4;

/// The notification kinds, per clock.
fn kind_of(clock: Clock, breach: bool) -> &'static str {
    match (clock, breach) {
        (Clock::Ack, true) => "sla-breach-ack",
        (Clock::Resolve, true) => "sla-breach-resolve",
        (Clock::Ack, false) => "sla-warning-ack",
        (Clock::Resolve, false) => "sla-warning-resolve",
    }
}

impl Validator for ComplaintSla {
    fn name(&self) -> &'static str {
        NAME
    }

    fn targets(&self, c: &Changed, cx: &mut dyn ValidationCx) -> Result<Vec<DocId>, DbError> {
        Ok(match c.kind {
            DocKind::Complaint => vec![c.id],
            // New times for every complaint whose clocks still run (or wait).
            DocKind::AftersalesPolicy => {
                cx.storage().wakeups_of(NAME)?.iter().filter_map(|w| DocId::from_slice(&w.doc_id)).collect()
            }
            _ => Vec::new(),
        })
    }

    fn validate(&self, id: DocId, cx: &mut dyn ValidationCx) -> Result<(), DbError> {
        let now = cx.now();
        let c = match cx.doc(id)? {
            Some((DocKind::Complaint, doc)) => match complaint::read(doc, id) {
                Ok(c) => c,
                Err(_) => return Ok(()),
            },
            _ => return Ok(()),
        };
        let policy = service::policy(cx)?;
        let track = service::track(cx, id)?;
        let recorded =
            Recorded { ack_breached_at: track.ack_breached_at, resolve_breached_at: track.resolve_breached_at };
        let life = complaint_lifecycle::fold(&c.events, c.clock_start());
        let clocks = sla::clocks(&life, c.severity(), &policy, &recorded, now);
        let storage = cx.storage();
        let territory = storage.doc(id.as_bytes())?.and_then(|r| r.territory);
        let customer = match c.customer {
            Some(cid) => service::record_of(cx, cid, DocKind::Customer)?.and_then(|r| r.str("name").map(String::from)),
            None => None,
        };
        let mut new = track.clone();
        let mut next: Option<i64> = None;
        for which in Clock::BOTH {
            let clock = clocks.get(which);
            let key = which.as_str();
            match clock.state {
                ClockState::Breached if !clock.recorded => {
                    let at = clock.breached_at.unwrap_or(now);
                    let manager = service::territory_manager(cx, territory.as_deref())?;
                    let storage = cx.storage();
                    if storage.insert_effect(id.as_bytes(), "sla-breach", key, at, manager.as_deref().unwrap_or(""))? {
                        let message = breach_message(id, which, c.severity(), customer.as_deref(), manager.as_deref());
                        storage.insert_notification(id.as_bytes(), "manager", kind_of(which, true), now, &message)?;
                        storage.insert_notification(
                            id.as_bytes(),
                            "after-sales",
                            kind_of(which, true),
                            now,
                            &message,
                        )?;
                        tracing::info!(complaint = %id, clock = key, manager = ?manager, "SLA breached: escalated");
                    }
                    let row = cx.storage().effect(id.as_bytes(), "sla-breach", key)?;
                    let at = row.as_ref().map_or(at, |r| r.at);
                    set_breached(&mut new, which, at);
                    if let Some(m) = row.map(|r| r.data).filter(|m| !m.is_empty()) {
                        new.escalated_to = Some(m);
                    }
                }
                ClockState::Warning => {
                    let storage = cx.storage();
                    if storage.insert_effect(id.as_bytes(), "sla-warning", key, now, "")? {
                        let left = sla::format_duration(clock.remaining_ms, Lang::Zh);
                        let message = format!(
                            "投诉 {} {}仅剩 {left}（{}{}）",
                            short(id),
                            which.label(Lang::Zh),
                            c.severity().label(Lang::Zh),
                            customer.as_deref().map(|n| format!(" · 客户 {n}")).unwrap_or_default()
                        );
                        storage.insert_notification(
                            id.as_bytes(),
                            "after-sales",
                            kind_of(which, false),
                            now,
                            &message,
                        )?;
                    }
                    let at = cx.storage().effect(id.as_bytes(), "sla-warning", key)?.map_or(now, |r| r.at);
                    set_warned(&mut new, which, at);
                    next = earliest(next, clock.due_at.map(|d| d + 1));
                }
                ClockState::Running => {
                    let warned = cx.storage().effect(id.as_bytes(), "sla-warning", key)?.is_some();
                    next = earliest(next, if warned { None } else { clock.warn_at });
                    next = earliest(next, clock.due_at.map(|d| d + 1));
                }
                ClockState::Paused => next = earliest(next, Some(PAUSED)),
                ClockState::Met | ClockState::Breached => {}
            }
        }
        cx.storage().set_wakeup(id.as_bytes(), NAME, next)?;
        if new != track {
            service::update_track(cx, id, "SLA clocks", |t| *t = new)?;
        }
        Ok(())
    }
}

fn earliest(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, y) => x.or(y),
    }
}

fn set_breached(t: &mut Track, clock: Clock, at: i64) {
    match clock {
        Clock::Ack => t.ack_breached_at = Some(at),
        Clock::Resolve => t.resolve_breached_at = Some(at),
    }
}

fn set_warned(t: &mut Track, clock: Clock, at: i64) {
    match clock {
        Clock::Ack => t.ack_warned_at = t.ack_warned_at.or(Some(at)),
        Clock::Resolve => t.resolve_warned_at = t.resolve_warned_at.or(Some(at)),
    }
}

/// What the manager is told.
pub fn breach_message(
    id: DocId,
    clock: Clock,
    severity: Severity,
    customer: Option<&str>,
    manager: Option<&str>,
) -> String {
    let what = match clock {
        Clock::Ack => "超时未受理",
        Clock::Resolve => "超时未解决",
    };
    let mut m = format!("投诉 {} {what}（{}", short(id), severity.label(Lang::Zh));
    if let Some(n) = customer {
        m += &format!(" · 客户 {n}");
    }
    m += "）";
    match manager {
        Some(name) => m += &format!("，已升级至区域经理 {name}"),
        None => m += "，该区域没有经理",
    }
    m
}
