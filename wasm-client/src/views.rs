//! What the screens show, computed from the replica in Rust (search, filters, labels,
//! totals, timelines) and handed to the UI as JSON: the JavaScript only lays it out.

use crate::money::yuan;
use crate::order_state::{self, OrderState};
use client_core::{OrderView, Replica, content_hash_of};
use protocol::Role;
use protocol::kinds::{FieldError, FieldErrorKind, FieldType};
use protocol::pricing::{CustomerFacts, LineFacts, PricedLine, PricedOrder, format_bp, price_order, role_label};
use protocol::schema::customer::Customer;
use protocol::schema::order_lifecycle::Lifecycle;
use protocol::schema::verdict;
use protocol::schema::visit::Visit;
use protocol::schema::{
    Channel, CustomerClass, EventKind, ExceptionKind, Lang, OrderSource, OrderStatus, PaymentMethod, VisitKind,
    VisitMethod,
};
use protocol::time::display_local;
use protocol::{DocId, DocKind};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

/// How many rows a list returns at most (the UI asks for more as the user scrolls).
pub const DEFAULT_LIMIT: usize = 200;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CustomerQuery {
    /// Free text: name, phone, region, address, contact names and phones.
    pub q: String,
    pub class: String,
    pub channel: String,
    pub region: String,
    pub limit: Option<usize>,
}

fn opt_label<T: Copy>(v: Option<T>, label: impl Fn(T) -> &'static str) -> Value {
    v.map_or(Value::Null, |v| Value::from(label(v)))
}

pub fn customer_json(c: &Customer, lang: Lang) -> Value {
    let mut v = serde_json::to_value(c).unwrap_or(Value::Null);
    if let Value::Object(m) = &mut v {
        m.insert("channel_label".into(), opt_label(c.channel, |x| x.label(lang)));
        m.insert("class_label".into(), opt_label(c.class, |x| x.label(lang)));
        m.insert("created_at_local".into(), display_local(c.created_at).into());
        let history: Vec<Value> = c
            .class_history
            .iter()
            .map(|h| {
                json!({
                    "from": h.from.map(|f| f.label(lang)),
                    "to": h.to.label(lang),
                    "at_local": display_local(h.at),
                    "by": h.by,
                })
            })
            .collect();
        m.insert("class_history".into(), history.into());
    }
    v
}

fn matches(c: &Customer, q: &CustomerQuery) -> bool {
    let eq = |want: &str, have: Option<&str>| want.is_empty() || have == Some(want);
    if !eq(&q.class, c.class.map(|x| x.as_str()))
        || !eq(&q.channel, c.channel.map(|x| x.as_str()))
        || !eq(&q.region, c.region.as_deref())
    {
        return false;
    }
    let needle = q.q.trim().to_lowercase();
    if needle.is_empty() {
        return true;
    }
    let hay = [Some(c.name.as_str()), c.phone.as_deref(), c.region.as_deref(), c.address.as_deref()];
    hay.into_iter().flatten().any(|h| h.to_lowercase().contains(&needle))
        || c.contacts.iter().any(|p| {
            p.name.to_lowercase().contains(&needle) || p.phone.as_deref().is_some_and(|ph| ph.contains(&needle))
        })
}

/// The customer list: filtered, searched, by name; `total` counts every match, `regions`
/// are the values the region filter offers.
pub fn customers(replica: &Replica, q: &CustomerQuery, lang: Lang) -> Value {
    let all = replica.customers();
    let hits: Vec<&Customer> = all.iter().filter(|c| matches(c, q)).collect();
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
    let items: Vec<Value> = hits
        .iter()
        .take(limit)
        .map(|c| {
            json!({
                "id": c.id,
                "name": c.name,
                "phone": c.phone,
                "region": c.region,
                "channel": c.channel,
                "channel_label": opt_label(c.channel, |x| x.label(lang)),
                "class": c.class,
                "class_label": opt_label(c.class, |x| x.label(lang)),
                "owner": c.owner,
                "next_follow_up": c.next_follow_up,
            })
        })
        .collect();
    let regions: BTreeSet<&str> = all.iter().filter_map(|c| c.region.as_deref()).collect();
    json!({ "total": hits.len(), "count": all.len(), "items": items, "regions": regions })
}

/// Values the filters offer: the regions present in the data (`customers` answers them too).
#[cfg(test)]
pub fn facets(replica: &Replica) -> Value {
    let regions: BTreeSet<String> = replica.customers().into_iter().filter_map(|c| c.region).collect();
    json!({ "regions": regions })
}

/// A visit as the customer's page lists it, with its check-in (time, position in degrees,
/// accuracy) when it has one.
fn visit_json(replica: &Replica, v: &Visit, lang: Lang) -> Value {
    let mut j = serde_json::to_value(v).unwrap_or(Value::Null);
    if let Value::Object(m) = &mut j {
        m.insert("kind_label".into(), opt_label(v.kind, |x| x.label(lang)));
        m.insert("method_label".into(), opt_label(v.method, |x| x.label(lang)));
        m.insert("at_local".into(), display_local(v.at).into());
        let rec = replica.record(v.id).ok();
        let int = |f: &str| rec.as_ref().and_then(|r| r.int(f));
        if let (Some(at), Some(lat), Some(lng)) = (int("checkin_at"), int("checkin_lat"), int("checkin_lng")) {
            m.insert(
                "checkin".into(),
                json!({
                    "at_local": display_local(at),
                    "lat": micro_degrees(lat),
                    "lng": micro_degrees(lng),
                    "accuracy_m": int("checkin_accuracy_m"),
                }),
            );
        }
    }
    j
}

/// `26647000` → `"26.647000"` (micro-degrees as degrees, exactly).
pub fn micro_degrees(v: i64) -> String {
    let sign = if v < 0 { "-" } else { "" };
    let a = v.unsigned_abs();
    format!("{sign}{}.{:06}", a / 1_000_000, a % 1_000_000)
}

/// The timeline label of an order event (the shared vocabulary; unknown kinds as they are).
fn event_label(kind: &str, lang: Lang) -> String {
    kind.parse::<EventKind>().map_or_else(|_| kind.to_string(), |k| k.label(lang).to_string())
}

/// Product names of the synced price policy, by code.
fn product_names(replica: &Replica) -> HashMap<String, String> {
    replica.current_policy().map(|p| p.policy.skus.into_iter().map(|s| (s.code, s.name)).collect()).unwrap_or_default()
}

/// May this user create a record of `kind` under `parent` (a visit or an order of that
/// customer): the kind's creation rule with the parent's territory.
pub fn may_create_under(replica: &Replica, kind: DocKind, parent: DocId) -> bool {
    let Some(p) = replica.principal() else { return true };
    let territory = replica.facts_of(parent).and_then(|f| f.territory);
    let facts = protocol::rules::DocFacts::new(kind, territory, Some(p.user.clone()));
    protocol::rules::check_write(p, protocol::schema::KIND_KEY, None, &facts).is_ok()
}

/// A customer with its visits (newest first) and orders, and what this user may do there.
pub fn customer_detail(replica: &Replica, unsent: &HashSet<DocId>, id: DocId, lang: Lang) -> Result<Value, String> {
    let c = replica.customer(id).map_err(|e| crate::kind_views::core_text(&e, Some(DocKind::Customer), lang))?;
    let mut visits: Vec<Value> = replica
        .visits_of(id)
        .iter()
        .map(|v| {
            let mut j = visit_json(replica, v, lang);
            j["unsent"] = unsent.contains(&v.id).into();
            j
        })
        .collect();
    visits.reverse();
    let names = HashMap::from([(id, c.name.clone())]);
    let orders: Vec<Value> = order_state::all(replica, unsent)
        .iter()
        .filter(|(v, _)| v.order.customer == Some(id))
        .map(|(v, s)| order_state::row(v, s, &names, lang))
        .collect();
    let w = |f: &str| replica.may_write(id, f);
    let may = json!({
        "edit": w("name"),
        "notes": w("notes"),
        "contacts": w("contacts"),
        "channel": w("channel"),
        "visit": may_create_under(replica, DocKind::Visit, id),
        "order": may_create_under(replica, DocKind::Order, id),
    });
    Ok(json!({
        "customer": customer_json(&c, lang),
        "visits": visits,
        "orders": orders,
        "may_edit": w("name"),
        "may": may,
        "unsent": unsent.contains(&id),
    }))
}

/// Orders, newest first, optionally of one status; with counts per status — every count
/// and every row by the one status ([`order_state`]).
pub fn orders(replica: &Replica, unsent: &HashSet<DocId>, status: &str, limit: Option<usize>, lang: Lang) -> Value {
    let names = order_state::customer_names(replica);
    let all = order_state::all(replica, unsent);
    let mut counts: HashMap<&'static str, usize> = OrderStatus::ALL.iter().map(|s| (s.as_str(), 0)).collect();
    for (_, s) in &all {
        *counts.entry(s.status.as_str()).or_default() += 1;
    }
    let hits: Vec<&(Arc<OrderView>, OrderState)> =
        all.iter().filter(|(_, s)| status.is_empty() || s.status.as_str() == status).collect();
    let items: Vec<Value> =
        hits.iter().take(limit.unwrap_or(DEFAULT_LIMIT)).map(|(v, s)| order_state::row(v, s, &names, lang)).collect();
    json!({ "total": hits.len(), "count": all.len(), "counts": counts, "items": items })
}

pub fn inbox(replica: &Replica, lang: Lang) -> Value {
    let items: Vec<Value> = replica
        .inbox()
        .iter()
        .rev()
        .map(|i| {
            let what = if i.kind == DocKind::Customer { replica.customer(i.doc).ok().map(|c| c.name) } else { None };
            let field_label = i.kind.spec().field(&i.path).map(|f| f.label(lang));
            json!({
                "doc": i.doc,
                "kind": i.kind.as_str(),
                "doc_name": what,
                "code": i.code,
                "path": i.path,
                "field_label": field_label,
                "rule": i.rule,
                "message": i.message,
                "at_local": display_local(i.at),
                "change_bytes": i.changes.len(),
            })
        })
        .collect();
    json!(items)
}

fn options<T: Copy>(all: &[T], name: fn(T) -> &'static str, label: impl Fn(T) -> &'static str) -> Value {
    all.iter().map(|v| json!({ "value": name(*v), "label": label(*v) })).collect()
}

/// The closed vocabularies and field labels for forms and filters, in `lang`.
pub fn vocab(lang: Lang) -> Value {
    let fields = |kind: DocKind| -> Value {
        kind.spec()
            .fields
            .iter()
            .filter(|f| protocol::schema::record::settable(f, false))
            .map(|f| {
                let ty = match f.ty {
                    FieldType::Str { .. } if f.required => "required",
                    FieldType::Text { .. } => "text",
                    FieldType::Enum(_) => "enum",
                    FieldType::Date => "date",
                    FieldType::Int { .. } => "int",
                    _ => "str",
                };
                json!({ "name": f.name, "label": f.label(lang), "type": ty })
            })
            .collect()
    };
    json!({
        "channel": options(Channel::ALL, Channel::as_str, |v| v.label(lang)),
        "class": options(CustomerClass::ALL, CustomerClass::as_str, |v| v.label(lang)),
        "visit_kind": options(VisitKind::ALL, VisitKind::as_str, |v| v.label(lang)),
        "visit_method": options(VisitMethod::ALL, VisitMethod::as_str, |v| v.label(lang)),
        "order_source": options(OrderSource::ALL, OrderSource::as_str, |v| v.label(lang)),
        "payment_method": options(PaymentMethod::ALL, PaymentMethod::as_str, |v| v.label(lang)),
        "order_status": options(OrderStatus::ALL, OrderStatus::as_str, |v| v.label(lang)),
        "exception": options(ExceptionKind::ALL, ExceptionKind::as_str, |v| v.label(lang)),
        "fields": {
            "customer": fields(DocKind::Customer),
            "visit": fields(DocKind::Visit),
            "order": fields(DocKind::Order),
        },
    })
}

/// A line of an order as the form holds it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LineInput {
    /// The line it revises (empty: a new line).
    pub id: String,
    pub sku: String,
    pub spec: String,
    pub qty: String,
    /// Yuan, as typed.
    pub unit_price: String,
}

/// A checked line: quantity and unit price in fen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedLine {
    pub sku: String,
    pub spec: Option<String>,
    pub qty: i64,
    pub unit_price_fen: i64,
}

/// Parse a line as typed, with the order line's field declarations (yuan to fen, full-width
/// digits, ranges, a price above 0): every error, named `sku`, `spec`, `qty` or
/// `unit_price_fen`.
pub fn check_line(l: &LineInput) -> Result<CheckedLine, Vec<FieldError>> {
    use protocol::kinds::Value;
    let inputs = [
        ("sku", l.sku.as_str()),
        ("spec", l.spec.as_str()),
        ("qty", l.qty.as_str()),
        ("unit_price_fen", l.unit_price.as_str()),
    ];
    let ctx = protocol::kinds::parse::ParseContext::default();
    let parsed =
        protocol::schema::record::parse_record(DocKind::Order, "lines", &inputs, &ctx).map_err(|e| match e {
            protocol::schema::SchemaError::Fields(errors) => errors
                .into_iter()
                .map(|mut f| {
                    f.field = f.field.trim_start_matches("lines/").to_string();
                    f
                })
                .collect(),
            _ => vec![FieldError::new("sku", FieldErrorKind::Required)],
        })?;
    let get = |name: &str| parsed.iter().find(|(f, _)| f.name == name).map(|(_, v)| v.clone()).unwrap_or(Value::Null);
    let (Value::Str(sku), Value::Int(qty), Value::Int(unit_price_fen)) =
        (get("sku"), get("qty"), get("unit_price_fen"))
    else {
        return Err(vec![FieldError::new("sku", FieldErrorKind::Required)]);
    };
    let spec = match get("spec") {
        Value::Str(s) => Some(s),
        _ => None,
    };
    Ok(CheckedLine { sku, spec, qty, unit_price_fen })
}

/// A line's field errors as `[{field, code, message}]`, each message with the field's
/// label, in `lang` (what a line of the order form shows).
pub fn line_errors_json(errors: &[FieldError], lang: Lang) -> Value {
    errors
        .iter()
        .map(|e| {
            let labelled = FieldError::new(&format!("lines/{}", e.field), e.kind.clone());
            json!({ "field": e.field, "code": e.kind.code(), "message": labelled.message(Some(DocKind::Order), lang) })
        })
        .collect()
}

/// The role whose discount authority prices this user's orders.
fn own_role(replica: &Replica) -> Role {
    replica.principal().map(|p| p.role).unwrap_or(Role::Rep)
}

/// The active products of the synced price policy (what the product picker offers), each
/// with the unit price the policy gives `customer` now (agreement, promotion or the price
/// of its channel's tier; `null` when the policy gives none).
pub fn catalogue(replica: &Replica, customer: Option<DocId>, now: i64) -> Value {
    let Some(p) = replica.current_policy() else { return json!({ "version": null, "skus": [] }) };
    let active: Vec<_> = p.policy.skus.iter().filter(|s| s.active).collect();
    let lines: Vec<LineFacts> = active
        .iter()
        .map(|s| LineFacts { id: s.code.clone(), sku: s.code.clone(), spec: None, qty: 1, unit_price_fen: 1 })
        .collect();
    let id = customer.unwrap_or(DocId(uuid::Uuid::nil()));
    let channel = customer.and_then(|c| replica.customer(c).ok()).and_then(|c| c.channel);
    let priced = price_order(&p.policy, &CustomerFacts { id, channel }, &lines, now, own_role(replica));
    let skus: Vec<Value> = active
        .iter()
        .zip(&priced.lines)
        .map(|(s, l)| {
            json!({
                "code": s.code,
                "name": s.name,
                "spec": s.spec,
                "price": l.expected_unit_price_fen.map(yuan),
            })
        })
        .collect();
    json!({ "version": p.version, "title": p.policy.title, "skus": skus })
}

fn approvals_json(p: &PricedOrder, lang: Lang) -> Vec<Value> {
    p.approvals
        .iter()
        .map(|a| json!({ "role": a.role.as_str(), "role_label": role_label(a.role, lang), "text": a.text(lang) }))
        .collect()
}

/// How a line's price stands against the policy: `{policy_price, discount | markup,
/// notes}` — a price below the policy shows its discount, one above it its markup (never a
/// negative discount).
fn price_facts(l: &PricedLine, lang: Lang) -> Value {
    let d = l.discount_bp.filter(|d| *d != 0);
    let notes: Vec<String> = l.findings.iter().map(|f| f.text(lang)).collect();
    json!({
        "policy_price": l.expected_unit_price_fen.map(yuan),
        "discount": d.filter(|d| *d > 0).map(format_bp),
        "markup": d.filter(|d| *d < 0).map(|d| format_bp(-d)),
        "notes": notes,
    })
}

/// The live offline preview of an order's lines, priced by the shared pricing engine
/// with the synced policy and this user's discount authority: per line the product name,
/// the policy price, the discount or markup, what is wrong (in `lang`); the total; the
/// approvals the order will need.
pub fn preview_order(replica: &Replica, customer: Option<DocId>, lines: &[LineInput], now: i64, lang: Lang) -> Value {
    let checked: Vec<Result<CheckedLine, Vec<FieldError>>> = lines.iter().map(check_line).collect();
    let names = product_names(replica);
    let facts: Vec<(usize, LineFacts)> = checked
        .iter()
        .enumerate()
        .filter_map(|(i, c)| c.as_ref().ok().map(|c| (i, c)))
        .map(|(i, c)| {
            let f = LineFacts {
                id: i.to_string(),
                sku: c.sku.clone(),
                spec: c.spec.clone(),
                qty: c.qty,
                unit_price_fen: c.unit_price_fen,
            };
            (i, f)
        })
        .collect();
    let policy = replica.current_policy();
    let priced = match (&policy, facts.is_empty()) {
        (Some(p), false) => {
            let id = customer.unwrap_or(DocId(uuid::Uuid::nil()));
            let channel = customer.and_then(|c| replica.customer(c).ok()).and_then(|c| c.channel);
            let lf: Vec<LineFacts> = facts.iter().map(|(_, f)| f.clone()).collect();
            Some(price_order(&p.policy, &CustomerFacts { id, channel }, &lf, now, own_role(replica)))
        }
        _ => None,
    };
    let mut total: i64 = 0;
    let mut ok = true;
    let rows: Vec<Value> = checked
        .iter()
        .enumerate()
        .map(|(i, c)| match c {
            Ok(c) => {
                let amount = c.qty.saturating_mul(c.unit_price_fen);
                total = total.saturating_add(amount);
                let pl = priced.as_ref().and_then(|p| {
                    let pos = facts.iter().position(|(j, _)| *j == i)?;
                    p.lines.get(pos)
                });
                let mut j = pl.map(|l| price_facts(l, lang)).unwrap_or_else(|| json!({}));
                j["ok"] = true.into();
                j["name"] = json!(names.get(&c.sku));
                j["amount"] = yuan(amount).into();
                j["amount_fen"] = amount.into();
                j
            }
            Err(e) => {
                ok = false;
                json!({ "ok": false, "errors": line_errors_json(e, lang) })
            }
        })
        .collect();
    let (approvals, verdict, expected_total) = match &priced {
        Some(p) => {
            let v = verdict::verdict_name(p.verdict);
            (approvals_json(p, lang), Some(v), p.expected_total_fen)
        }
        None => (Vec::new(), None, None),
    };
    let warnings: Vec<String> = priced
        .as_ref()
        .map(|p| p.order_findings.iter().map(|f| f.text(lang).to_string()).collect())
        .unwrap_or_default();
    json!({
        "ok": ok && !lines.is_empty(),
        "lines": rows,
        "total_fen": total,
        "total": yuan(total),
        "expected_total": expected_total.map(yuan),
        "policy_version": policy.as_ref().map(|p| p.version),
        "verdict": verdict,
        "approvals": approvals,
        "warnings": warnings,
    })
}

/// The order's lines with product names and how each price stands against the policy
/// (the server's pricing when it is about this content, else the offline one).
fn lines_json(replica: &Replica, v: &OrderView, lang: Lang) -> Vec<Value> {
    let names = product_names(replica);
    let priced =
        v.verdict.as_ref().filter(|_| v.verdict_current).and_then(|vd| vd.priced.as_ref()).or(v.priced.as_ref());
    v.order
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let mut j =
                priced.and_then(|p| p.lines.get(i)).map(|pl| price_facts(pl, lang)).unwrap_or_else(|| json!({}));
            j["id"] = l.id.clone().into();
            j["sku"] = l.sku.clone().into();
            j["name"] = json!(names.get(&l.sku));
            j["spec"] = json!(l.spec);
            j["qty"] = l.qty.into();
            j["unit_price"] = yuan(l.unit_price_fen).into();
            j["amount"] = yuan(l.amount_fen).into();
            j
        })
        .collect()
}

/// The timeline of an order's events as the one status folds them: when, who (in which
/// role), what it carried (comment, carrier and tracking number, exception kind), whether
/// it took effect (`note`: `superseded` for a decision on content changed since,
/// `not_applied`, or what it turned into), and whether it is still to be sent.
fn timeline(l: &Lifecycle, hash: &str, unsent: bool, lang: Lang) -> Value {
    l.timeline
        .iter()
        .map(|t| {
            let e = &t.event;
            let decision = e.kind == EventKind::Approved.as_str() || e.kind == EventKind::Rejected.as_str();
            let note = match (&t.note, t.applied) {
                _ if decision && e.hash.as_deref() != Some(hash) => Some("superseded".to_string()),
                (Some(n), true) => Some(n.clone()),
                (_, false) => Some("not_applied".to_string()),
                (None, true) => None,
            };
            json!({
                "kind": e.kind,
                "label": event_label(&e.kind, lang),
                "at_local": display_local(e.at),
                "by": e.by,
                "role": e.role.as_deref().and_then(|r| r.parse::<Role>().ok()).map(|r| role_label(r, lang)),
                "comment": e.comment,
                "carrier": e.carrier,
                "tracking": e.tracking,
                "exception": e.exception.as_deref().and_then(|x| x.parse::<ExceptionKind>().ok()).map(|x| x.label(lang)),
                "applied": t.applied,
                "note": note,
                "pending": unsent && e.received.is_none(),
                "status_after": t.status_after,
                "status_after_label": t.status_after.label(lang),
            })
        })
        .collect()
}

/// An order: its facts and lines (product names, prices against the policy), the one
/// status with its sync mark, the server's verdict (or, before it, the offline pricing),
/// the timeline, the open exceptions, and what this user may do now (`steps`: the events
/// the rules and the lifecycle let them record; `may_revise`: change its content).
pub fn order_detail(
    replica: &Replica,
    unsent: &HashSet<DocId>,
    id: DocId,
    now: i64,
    lang: Lang,
) -> Result<Value, String> {
    let v = replica.order_view(id).map_err(|e| crate::kind_views::core_text(&e, Some(DocKind::Order), lang))?;
    let o = &v.order;
    let is_unsent = unsent.contains(&id);
    let st = order_state::state(&v, is_unsent);
    let name = o.customer.and_then(|c| replica.customer(c).ok()).map(|c| c.name);
    let names: HashMap<DocId, String> = o.customer.zip(name.clone()).into_iter().collect();
    let mut j = order_state::row(&v, &st, &names, lang);
    let hash = content_hash_of(o);
    j["source"] = json!(o.source);
    j["payment_method"] = json!(o.payment_method);
    j["source_label"] = opt_label(o.source, |x| x.label(lang));
    j["payment_method_label"] = opt_label(o.payment_method, |x| x.label(lang));
    j["delivery_place"] = json!(o.delivery_place);
    j["notes"] = o.notes.clone().into();
    j["lines"] = lines_json(replica, &v, lang).into();
    j["timeline"] = timeline(&st.lifecycle, &hash, is_unsent, lang);
    let missing: Vec<&str> = st.lifecycle.missing_approvals.iter().map(|r| role_label(*r, lang)).collect();
    j["missing_approvals"] = json!(missing);
    j["exceptions"] = st
        .lifecycle
        .open_exceptions
        .iter()
        .map(|e| {
            json!({
                "kind": e.exception.as_deref().and_then(|x| x.parse::<ExceptionKind>().ok()).map(|x| x.label(lang)),
                "comment": e.comment,
                "by": e.by,
                "at_local": display_local(e.at),
            })
        })
        .collect();
    let last =
        |kind: EventKind| st.lifecycle.timeline.iter().rev().find(|t| t.applied && t.event.kind == kind.as_str());
    if st.status == OrderStatus::Rejected
        && let Some(r) = last(EventKind::Rejected)
    {
        j["rejection"] = json!({ "comment": r.event.comment, "by": r.event.by, "at_local": display_local(r.event.at) });
    }
    if let Some(s) = last(EventKind::Shipped) {
        j["shipping"] = json!({ "carrier": s.event.carrier, "tracking": s.event.tracking });
    }
    j["verdict"] = v
        .verdict
        .as_ref()
        .map(|vd| {
            json!({
                "verdict": vd.verdict,
                "stale": vd.stale,
                "current": v.verdict_current,
                "policy_version": vd.policy_version,
                "priced_with": vd.priced_with,
                "assigned": vd.assigned_at.is_some(),
                "approvals": vd.priced.as_ref().map(|p| approvals_json(p, lang)).unwrap_or_default(),
                "checked_at_local": display_local(vd.checked_at),
            })
        })
        .unwrap_or(Value::Null);
    j["preview"] = v
        .priced
        .as_ref()
        .map(|p| {
            json!({
                "verdict": verdict::verdict_name(p.verdict),
                "policy_version": p.policy_version,
                "approvals": approvals_json(p, lang),
            })
        })
        .unwrap_or(Value::Null);
    let steps: Vec<&str> = replica.order_steps(id, now).unwrap_or_default().iter().map(|k| k.as_str()).collect();
    let revisable = matches!(
        st.status,
        OrderStatus::Draft | OrderStatus::Submitted | OrderStatus::AwaitingApproval | OrderStatus::Rejected
    );
    j["steps"] = json!(steps);
    j["may_revise"] = (revisable && replica.may_write(id, "lines")).into();
    j["may_notes"] = replica.may_write(id, "notes").into();
    j["resubmit"] = (st.status == OrderStatus::Rejected).into();
    Ok(j)
}

/// Orders waiting for an approval this user's role can give (not their own), with
/// everything an approver decides on: the lines with product names, prices against the
/// policy and discounts, the total, the rep's note, why approval is needed.
pub fn approvals(replica: &Replica, unsent: &HashSet<DocId>, now: i64, lang: Lang) -> Value {
    let names = order_state::customer_names(replica);
    let items: Vec<Value> = order_state::all(replica, unsent)
        .iter()
        .filter(|(_, s)| s.status == OrderStatus::AwaitingApproval)
        .filter(|(v, _)| replica.order_steps(v.order.id, now).is_ok_and(|steps| steps.contains(&EventKind::Approved)))
        .map(|(v, s)| {
            let reasons = v
                .verdict
                .as_ref()
                .filter(|_| v.verdict_current)
                .and_then(|vd| vd.priced.as_ref())
                .or(v.priced.as_ref())
                .map(|p| approvals_json(p, lang))
                .unwrap_or_default();
            let mut j = order_state::row(v, s, &names, lang);
            j["line_items"] = lines_json(replica, v, lang).into();
            j["notes"] = v.order.notes.clone().into();
            j["missing"] =
                json!(s.lifecycle.missing_approvals.iter().map(|r| role_label(*r, lang)).collect::<Vec<_>>());
            j["reasons"] = reasons.into();
            j
        })
        .collect();
    json!(items)
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::ActorId;
    use protocol::schema::customer::NewCustomer;
    use protocol::schema::order::NewLine;

    fn replica() -> Replica {
        Replica::load(ActorId::from(&[1u8; 16][..]), "li", vec![], 0, vec![]).unwrap()
    }

    #[test]
    fn customers_filter_by_class_channel_region_and_search() {
        let mut r = replica();
        let add = |r: &mut Replica, name: &str, class, channel, region: &str| {
            let new = NewCustomer {
                name: name.into(),
                class,
                channel,
                region: Some(region.into()),
                phone: Some("0851-1234".into()),
                ..Default::default()
            };
            r.create_customer(&new, 1).unwrap()
        };
        add(&mut r, "贵阳酒行", Some(CustomerClass::A), Some(Channel::Distributor), "贵州");
        add(&mut r, "遵义烟酒店", Some(CustomerClass::B), Some(Channel::DirectStore), "贵州");
        let cd = add(&mut r, "成都餐饮", Some(CustomerClass::A), Some(Channel::Restaurant), "四川");
        r.add_contact(cd, "王经理", Some("13900000000"), None, 2).unwrap();
        let names = |q: CustomerQuery| -> Vec<String> {
            let v = customers(&r, &q, Lang::Zh);
            v["items"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap().to_string()).collect()
        };
        assert_eq!(names(CustomerQuery { class: "A".into(), ..Default::default() }), ["成都餐饮", "贵阳酒行"]);
        assert_eq!(
            names(CustomerQuery { region: "贵州".into(), channel: "direct-store".into(), ..Default::default() }),
            ["遵义烟酒店"]
        );
        assert_eq!(names(CustomerQuery { q: "王经理".into(), ..Default::default() }), ["成都餐饮"]);
        assert_eq!(names(CustomerQuery { q: "酒".into(), limit: Some(1), ..Default::default() }).len(), 1);
        assert_eq!(customers(&r, &CustomerQuery { q: "酒".into(), ..Default::default() }, Lang::En)["total"], 2);
        assert_eq!(facets(&r)["regions"], json!(["四川", "贵州"]));
        let row = &customers(&r, &CustomerQuery { q: "贵阳".into(), ..Default::default() }, Lang::En)["items"][0];
        assert_eq!(
            (row["class_label"].as_str(), row["channel_label"].as_str()),
            (Some("A (strong intention)"), Some("Distributor"))
        );
    }

    #[test]
    fn orders_show_yuan_totals_status_and_timeline() {
        let mut r = replica();
        let c = r.create_customer(&NewCustomer { name: "贵阳酒行".into(), ..Default::default() }, 1).unwrap();
        let o = r.create_order(c, OrderSource::Verbal, 1_700_000_000_000).unwrap();
        for (sku, qty, price) in [("MT-53-500", 6, 149_900), ("XJ-52-500", 2, 89_950)] {
            let line = NewLine { id: sku.into(), sku: sku.into(), spec: None, qty, unit_price_fen: price };
            r.add_order_line(o, &line, 2).unwrap();
        }
        let none = HashSet::new();
        let list = orders(&r, &none, "draft", None, Lang::Zh);
        assert_eq!(list["total"], 1);
        assert_eq!(list["items"][0]["total"], "10793.00");
        assert_eq!(list["items"][0]["customer_name"], "贵阳酒行");
        assert_eq!(orders(&r, &none, "submitted", None, Lang::Zh)["total"], 0);
        let d = order_detail(&r, &none, o, 3, Lang::Zh).unwrap();
        assert_eq!(d["lines"][1]["amount"], "1799.00");
        assert_eq!(d["timeline"][0]["label"], "创建");
        assert_eq!(d["timeline"][0]["at_local"], "2023-11-15 06:13");
        let detail = customer_detail(&r, &none, c, Lang::En).unwrap();
        assert_eq!(detail["orders"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn the_order_preview_totals_in_fen_and_explains_bad_lines() {
        let line = |sku: &str, qty: &str, price: &str| LineInput {
            sku: sku.into(),
            qty: qty.into(),
            unit_price: price.into(),
            ..Default::default()
        };
        let r = replica();
        let p =
            preview_order(&r, None, &[line("MT-53-500", "6", "1499"), line("XJ-52-500", "2", "899.5")], 0, Lang::En);
        assert_eq!(
            (p["ok"].as_bool(), p["total"].as_str(), p["total_fen"].as_i64()),
            (Some(true), Some("10793.00"), Some(1_079_300))
        );
        let bad =
            preview_order(&r, None, &[line("", "1", "1"), line("A", "0", "1"), line("A", "1", "1.001")], 0, Lang::En);
        assert_eq!(bad["ok"], false);
        assert!(bad["lines"].as_array().unwrap().iter().all(|l| l["errors"][0]["message"].is_string()));
        let wide = preview_order(&r, None, &[line("MT-53-500", "６", "１４９９．５")], 0, Lang::Zh);
        assert_eq!(wide["total"], "8997.00", "full-width digits: {wide}");
        let zero = preview_order(&r, None, &[line("MT-53-500", "1", "0")], 0, Lang::Zh);
        assert_eq!(zero["lines"][0]["errors"][0]["message"], "单价：必须大于 0");
        assert_eq!(preview_order(&r, None, &[], 0, Lang::En)["ok"], false);
    }

    #[test]
    fn vocab_has_labels_in_both_languages() {
        assert_eq!(vocab(Lang::Zh)["channel"][0], json!({ "value": "distributor", "label": "经销商" }));
        assert_eq!(vocab(Lang::En)["fields"]["customer"][0]["label"], "Name");
    }
}
