//! What the after-sales validators share: the after-sales policy as the server holds it,
//! who a customer's rep and a territory's manager are (from the server's own rows), the
//! complaint's tracking document, and creating a task document as the server.

use super::{VALIDATION_AUTHOR, ValidationCx};
use crate::storage::DbError;
use protocol::kinds::parse::ParseContext;
use protocol::schema::complaint::{self, Track, track_id};
use protocol::schema::record::{self, Record, Writer};
use protocol::schema::sla::{POLICY_ID, SlaPolicy};
use protocol::{DocId, DocKind};

/// The after-sales policy in force (the defaults while none is published).
pub fn policy(cx: &mut dyn ValidationCx) -> Result<SlaPolicy, DbError> {
    let rec = match cx.doc(POLICY_ID)? {
        Some((DocKind::AftersalesPolicy, doc)) => record::read(doc, POLICY_ID, DocKind::AftersalesPolicy).ok(),
        _ => None,
    };
    Ok(SlaPolicy::from_record(rec.as_ref()))
}

/// A document of `kind` the server holds, read generically.
pub fn record_of(cx: &mut dyn ValidationCx, id: DocId, kind: DocKind) -> Result<Option<Record>, DbError> {
    Ok(match cx.doc(id)? {
        Some((k, doc)) if k == kind => record::read(doc, id, kind).ok(),
        _ => None,
    })
}

/// Who works with a customer: the rep it is assigned to, else whoever created it (as the
/// server recorded it).
pub fn customer_rep(cx: &mut dyn ValidationCx, customer: DocId) -> Result<Option<String>, DbError> {
    let owner = record_of(cx, customer, DocKind::Customer)?.and_then(|c| c.str("owner").map(String::from));
    if owner.is_some() {
        return Ok(owner);
    }
    Ok(cx.storage().doc(customer.as_bytes())?.and_then(|r| r.author))
}

/// The manager of a territory: a manager whose own territory it is, else one whose reps
/// work in it (the users table).
pub fn territory_manager(cx: &mut dyn ValidationCx, territory: Option<&str>) -> Result<Option<String>, DbError> {
    let Some(t) = territory else { return Ok(None) };
    let storage = cx.storage();
    let managers: Vec<_> = storage.users()?.into_iter().filter(|u| u.role == "manager" && !u.disabled).collect();
    if let Some(m) = managers.iter().find(|u| u.territory.as_deref() == Some(t)) {
        return Ok(Some(m.name.clone()));
    }
    for m in &managers {
        if storage.team_territories(&m.name)?.iter().any(|x| x == t) {
            return Ok(Some(m.name.clone()));
        }
    }
    Ok(None)
}

/// The complaint's tracking document as the server holds it (empty before the first write).
pub fn track(cx: &mut dyn ValidationCx, complaint: DocId) -> Result<Track, DbError> {
    Ok(match cx.doc(track_id(complaint))? {
        Some((DocKind::ComplaintTrack, doc)) => complaint::read_track(doc).unwrap_or_default(),
        _ => Track::default(),
    })
}

/// Change the complaint's tracking document with `change`; written only when it differs.
pub fn update_track(
    cx: &mut dyn ValidationCx,
    id: DocId,
    message: &str,
    change: impl FnOnce(&mut Track),
) -> Result<bool, DbError> {
    let old = track(cx, id)?;
    let mut new = old.clone();
    change(&mut new);
    if new == old {
        return Ok(false);
    }
    cx.server_edit(track_id(id), DocKind::ComplaintTrack, message, &mut |doc| complaint::write_track(doc, id, &new))
}

/// Create a document of `kind` as the server, from typed text checked like anyone's
/// (the kind's parser; the server is its author). Returns its id, or `None` if it could
/// not be created (logged).
pub fn create_record(
    cx: &mut dyn ValidationCx,
    kind: DocKind,
    inputs: &[(&str, String)],
    message: &str,
) -> Result<Option<DocId>, DbError> {
    let id = DocId::new_random();
    let now = cx.now();
    let refs: Vec<(&str, &str)> = inputs.iter().map(|(f, v)| (*f, v.as_str())).collect();
    if let Err(e) = record::parse_inputs(kind, &refs, true, &ParseContext::default()) {
        tracing::error!(%kind, errors = ?e, "the server could not create a record");
        return Ok(None);
    }
    let created = cx.server_edit(id, kind, message, &mut |doc| {
        record::create(doc, kind, &refs, &Writer { user: VALIDATION_AUTHOR, now }, &ParseContext::default())
    })?;
    Ok(created.then_some(id))
}

/// `YYYY-MM-DD` in Asia/Shanghai of `ms` plus `days`.
pub fn date_after(ms: i64, days: i64) -> String {
    let t = chrono::DateTime::from_timestamp_millis(ms.saturating_add(days.saturating_mul(86_400_000)))
        .unwrap_or_default()
        .with_timezone(&protocol::time::shanghai());
    t.format("%Y-%m-%d").to_string()
}

/// The first eight characters of an id (what people read in messages).
pub fn short(id: DocId) -> String {
    id.to_string().chars().take(8).collect()
}
