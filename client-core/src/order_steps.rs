//! What a person may do next with an order, asked of the same rules the server applies,
//! and the revision of an order's content (a draft, or a rejected order before it is
//! submitted again).
//!
//! * [`Replica::order_steps`]: the lifecycle events this user may record on an order now —
//!   allowed by the write rules (the `events` field in the order's territory, the log entry's
//!   own rules: the writer's role, no approval of one's own order, a resolution by the
//!   department that raised the exception) *and* taking effect where it would fall in the
//!   fold (a payment before confirmation would be kept but not applied: not offered).
//! * [`Replica::revise_order`]: lines and fields of an order rewritten as one change.
//! * [`Replica::unknown_products`]: lines whose product is not in the synced price policy.

use crate::error::CoreError;
use crate::replica::Replica;
use protocol::kinds::{FieldError, FieldErrorKind, FieldType, Value, check_entry};
use protocol::schema::order::{self, NewLine, OrderEvent};
use protocol::schema::order_lifecycle;
use protocol::schema::record::{self, Input, Writer};
use protocol::schema::{EventKind, ExceptionKind, OrderStatus, SchemaError};
use protocol::{DocId, DocKind};

/// A line of a revised order: an existing line (its id) with new values, or a new one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineRevision {
    /// The id of the line it replaces (`None`: a new line).
    pub id: Option<String>,
    pub sku: String,
    pub spec: Option<String>,
    pub qty: i64,
    pub unit_price_fen: i64,
}

/// Events a person records by hand, in the order a screen offers them.
pub const STEPS: [EventKind; 10] = [
    EventKind::Submitted,
    EventKind::Approved,
    EventKind::Rejected,
    EventKind::Paid,
    EventKind::Shipped,
    EventKind::Delivered,
    EventKind::Exception,
    EventKind::Resolved,
    EventKind::Closed,
    EventKind::Cancelled,
];

impl Replica {
    /// The steps this user may record on order `id` now (see the module docs), in
    /// [`STEPS`] order. Approving and rejecting are offered only while the order waits for
    /// an approval this user's role gives (and never on their own order).
    pub fn order_steps(&self, id: DocId, now: i64) -> Result<Vec<EventKind>, CoreError> {
        let view = self.order_view_shared(id)?;
        let Some(p) = self.principal().cloned() else { return Ok(Vec::new()) };
        if !self.may_write(id, "events") {
            return Ok(Vec::new());
        }
        let Some(FieldType::Log(log)) = DocKind::Order.spec().field("events").map(|f| f.ty) else {
            return Ok(Vec::new());
        };
        let o = &view.order;
        let hash = crate::order_workflow::content_hash_of(o);
        let before: Vec<_> = o.events.iter().map(order::event_entry).collect();
        let author = self.facts_of(id).and_then(|f| f.author);
        let versions = self.policy_versions();
        let policy = protocol::schema::policy_doc::in_force(&versions, o.effective_created_at());
        let may_approve = |a: protocol::Role, r: protocol::Role| policy.map_or(a == r, |x| x.policy.may_approve(a, r));
        let deciding = view.lifecycle.status == OrderStatus::AwaitingApproval
            && view.lifecycle.missing_approvals.iter().any(|r| may_approve(p.role, *r));
        let required = self.required_of(&view);
        let takes_effect = |event: &OrderEvent| {
            let mut events = o.events.clone();
            events.push(event.clone());
            let folded = order_lifecycle::fold(&events, required.as_deref(), &hash, &may_approve);
            folded.timeline.iter().rev().find(|t| t.event == *event).is_some_and(|t| t.applied)
        };
        let mut steps = Vec::new();
        for kind in STEPS {
            let candidate = OrderEvent {
                kind: kind.as_str().into(),
                at: now,
                by: p.user.clone(),
                role: matches!(kind, EventKind::Approved | EventKind::Rejected | EventKind::Exception)
                    .then(|| p.role.as_str().to_string()),
                hash: matches!(kind, EventKind::Approved | EventKind::Rejected).then(|| hash.clone()),
                exception: (kind == EventKind::Exception).then(|| ExceptionKind::ALL[0].as_str().to_string()),
                comment: Some("-".into()),
                ..Default::default()
            };
            let entry = order::event_entry(&candidate);
            if check_entry(log, "events", &p, author.as_deref(), &before, std::slice::from_ref(&entry)).is_err() {
                continue;
            }
            let offered = match kind {
                EventKind::Approved | EventKind::Rejected => deciding,
                EventKind::Submitted => !o.lines.is_empty() && takes_effect(&candidate),
                _ => takes_effect(&candidate),
            };
            if offered {
                steps.push(kind);
            }
        }
        Ok(steps)
    }

    /// The approvals the lifecycle of this view waits for (as [`Replica::order_view`] folds it).
    fn required_of(&self, view: &crate::OrderView) -> Option<Vec<protocol::Role>> {
        match (&view.verdict, &view.priced) {
            (Some(v), _) if view.verdict_current => v.required_approvals(),
            (_, Some(p)) => p.required_approvals(),
            _ => None,
        }
    }

    /// Rewrite order `id`'s lines (kept lines by id, new ones appended, the others taken
    /// out) and fields (`inputs`: typed text) as one change. Every line and field is
    /// checked first — errors name `lines/N/field` (N = 1-based position in `lines`) —
    /// and nothing is written if any is wrong. Refused once the order is confirmed (its
    /// content is frozen) like any other edit of its lines.
    pub fn revise_order(
        &mut self,
        id: DocId,
        lines: &[LineRevision],
        inputs: &[Input<'_>],
        now: i64,
    ) -> Result<(), CoreError> {
        let current = self.order(id)?;
        let ctx = Replica::parse_context(now);
        let mut errors = Vec::new();
        if let Err(e) = record::parse_inputs(DocKind::Order, inputs, false, &ctx) {
            errors.extend(e);
        }
        if lines.is_empty() {
            errors.push(FieldError::new("lines", FieldErrorKind::Required));
        }
        let mut checked = Vec::with_capacity(lines.len());
        for (n, l) in lines.iter().enumerate() {
            let spec = l.spec.clone().filter(|s| !s.trim().is_empty()).map_or(Value::Null, Value::Str);
            let values = [
                ("sku", Value::Str(l.sku.clone())),
                ("spec", spec),
                ("qty", Value::Int(l.qty)),
                ("unit_price_fen", Value::Int(l.unit_price_fen)),
            ];
            match record::check_record(DocKind::Order, "lines", &values) {
                Ok(v) => checked.push(v),
                Err(SchemaError::Fields(e)) => errors.extend(e.into_iter().map(|mut e| {
                    e.field = e.field.replacen("lines/", &format!("lines/{}/", n + 1), 1);
                    e
                })),
                Err(other) => return Err(other.into()),
            }
        }
        if !errors.is_empty() {
            return Err(SchemaError::Fields(errors).into());
        }
        let kept: Vec<&str> = lines.iter().filter_map(|l| l.id.as_deref()).collect();
        let removed: Vec<String> =
            current.lines.iter().filter(|l| !kept.contains(&l.id.as_str())).map(|l| l.id.clone()).collect();
        let changed: Vec<(usize, &LineRevision)> = lines
            .iter()
            .enumerate()
            .filter(|(_, l)| match l.id.as_deref().and_then(|i| current.lines.iter().find(|c| c.id == i)) {
                Some(c) => {
                    c.sku != l.sku.trim()
                        || c.spec.as_deref().unwrap_or("") != l.spec.as_deref().unwrap_or("").trim()
                        || c.qty != l.qty
                        || c.unit_price_fen != l.unit_price_fen
                }
                None => true,
            })
            .collect();
        let mut fields: Vec<&str> = record::fields_written(DocKind::Order, inputs);
        if !removed.is_empty() || !changed.is_empty() {
            fields.push("lines");
        }
        if fields.is_empty() {
            return Ok(());
        }
        let user = self.user().to_string();
        self.edit_checked(id, DocKind::Order, now, &fields, |doc| {
            for line in &removed {
                record::remove_record(doc, DocKind::Order, "lines", line)?;
            }
            for (n, l) in &changed {
                let values = &checked[*n];
                match l.id.as_deref().filter(|i| current.lines.iter().any(|c| c.id == *i)) {
                    Some(line) => {
                        let mut with_nulls = values.clone();
                        if !with_nulls.iter().any(|(f, _)| f.name == "spec")
                            && let Some(f) = line_field("spec")
                        {
                            with_nulls.push((f, Value::Null));
                        }
                        record::set_record_values(doc, DocKind::Order, "lines", line, &with_nulls)?;
                    }
                    None => {
                        let new = NewLine {
                            id: DocId::new_random().to_string(),
                            sku: l.sku.trim().to_string(),
                            spec: l.spec.clone().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()),
                            qty: l.qty,
                            unit_price_fen: l.unit_price_fen,
                        };
                        order::add_line(doc, &new)?;
                    }
                }
            }
            if !inputs.is_empty() {
                record::set(doc, DocKind::Order, inputs, &Writer { user: &user, now }, &ctx)?;
            }
            Ok(())
        })
    }

    /// The lines (1-based positions) whose product the synced price policy does not know,
    /// as field errors on `lines/N/sku`. Empty when no policy has been synced yet (nothing
    /// to check against).
    pub fn unknown_products<'a>(&self, skus: impl IntoIterator<Item = &'a str>) -> Vec<FieldError> {
        let Some(policy) = self.current_policy() else { return Vec::new() };
        skus.into_iter()
            .enumerate()
            .filter(|(_, sku)| !sku.trim().is_empty() && policy.policy.sku(sku.trim()).is_none())
            .map(|(i, sku)| {
                FieldError::new(
                    &format!("lines/{}/sku", i + 1),
                    FieldErrorKind::UnknownProduct { value: sku.trim().to_string() },
                )
            })
            .collect()
    }
}

fn line_field(name: &str) -> Option<&'static protocol::kinds::FieldSpec> {
    match DocKind::Order.spec().field("lines").map(|f| f.ty) {
        Some(FieldType::Records(fields)) => fields.iter().find(|f| f.name == name),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::ActorId;
    use protocol::Role;
    use protocol::rules::Principal;
    use protocol::schema::OrderSource;
    use protocol::schema::customer::NewCustomer;

    fn replica(user: &str, role: Role) -> Replica {
        let mut r = Replica::load(ActorId::from(&[3u8; 16][..]), user, vec![], 0, vec![]).unwrap();
        r.set_principal(Principal { user: user.into(), role, territories: vec!["贵州".into()] });
        r
    }

    fn line(id: Option<&str>, sku: &str, qty: i64, price: i64) -> LineRevision {
        LineRevision { id: id.map(String::from), sku: sku.into(), spec: None, qty, unit_price_fen: price }
    }

    #[test]
    fn a_draft_is_revised_as_one_change_and_bad_lines_change_nothing() {
        let mut r = replica("li", Role::Rep);
        let new = NewCustomer { name: "贵阳酒行".into(), territory: Some("贵州".into()), ..Default::default() };
        let c = r.create_customer(&new, 1).unwrap();
        let o = r.create_order(c, OrderSource::Verbal, 2).unwrap();
        for (id, sku) in [("a", "MT-53-500"), ("b", "XJ-52-500")] {
            let l = NewLine { id: id.into(), sku: sku.into(), spec: None, qty: 1, unit_price_fen: 100 };
            r.add_order_line(o, &l, 3).unwrap();
        }
        let _ = r.take_store_ops();
        let e = r.revise_order(o, &[line(Some("a"), "MT-53-500", 0, 100), line(None, "", 1, 0)], &[], 4).unwrap_err();
        let fields: Vec<&str> = e.field_errors().iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["lines/1/qty", "lines/2/sku", "lines/2/unit_price_fen"]);
        assert!(r.take_store_ops().is_empty(), "nothing written");

        let revised = [line(Some("b"), "XJ-52-500", 3, 200), line(None, "GZ-53-500", 2, 150)];
        r.revise_order(o, &revised, &[("notes", "改为三箱")], 5).unwrap();
        let ops = r.take_store_ops();
        assert_eq!(ops.len(), 1, "one change: {ops:?}");
        let got = r.order(o).unwrap();
        let lines: Vec<(&str, i64, i64)> =
            got.lines.iter().map(|l| (l.sku.as_str(), l.qty, l.unit_price_fen)).collect();
        assert_eq!(lines, [("XJ-52-500", 3, 200), ("GZ-53-500", 2, 150)]);
        assert_eq!(got.notes, "改为三箱");
        r.revise_order(
            o,
            &[line(Some("b"), "XJ-52-500", 3, 200), line(Some(&got.lines[1].id), "GZ-53-500", 2, 150)],
            &[],
            6,
        )
        .unwrap();
        assert!(r.take_store_ops().is_empty(), "no change, no write");
    }

    #[test]
    fn steps_follow_the_rules_and_the_lifecycle() {
        let mut r = replica("li", Role::Rep);
        let new = NewCustomer { name: "贵阳酒行".into(), territory: Some("贵州".into()), ..Default::default() };
        let c = r.create_customer(&new, 1).unwrap();
        let o = r.create_order(c, OrderSource::Verbal, 2).unwrap();
        assert_eq!(r.order_steps(o, 3).unwrap(), [EventKind::Cancelled], "no lines: nothing to submit");
        let l = NewLine { id: "a".into(), sku: "MT-53-500".into(), spec: None, qty: 1, unit_price_fen: 100 };
        r.add_order_line(o, &l, 3).unwrap();
        assert_eq!(r.order_steps(o, 4).unwrap(), [EventKind::Submitted, EventKind::Cancelled]);
        r.submit_order(o, 5).unwrap();
        // No policy, no verdict: the order waits for the server; only cancelling is possible.
        assert_eq!(r.order_steps(o, 6).unwrap(), [EventKind::Cancelled]);
        // Finance may pay, but not before confirmation: nothing offered.
        r.set_principal(Principal { user: "cai".into(), role: Role::Finance, territories: vec![] });
        assert!(r.order_steps(o, 7).unwrap().is_empty());
    }
}
