//! What the screens show, computed from the replica in Rust (search, filters, labels,
//! totals, timelines) and handed to the UI as JSON: the JavaScript only lays it out.

use crate::money::yuan;
use client_core::{OrderView, Replica};
use protocol::Role;
use protocol::kinds::FieldType;
use protocol::pricing::{CustomerFacts, LineFacts, PricedOrder, format_bp, price_order, role_label};
use protocol::schema::customer::Customer;
use protocol::schema::order::Order;
use protocol::schema::verdict;
use protocol::schema::visit::Visit;
use protocol::schema::{
    Channel, CustomerClass, EventKind, Lang, OrderSource, OrderStatus, PaymentMethod, VisitKind, VisitMethod,
};
use protocol::time::display_local;
use protocol::{DocId, DocKind};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap};

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

/// Values the filters offer: the regions present in the data.
pub fn facets(replica: &Replica) -> Value {
    let regions: BTreeSet<String> = replica.customers().into_iter().filter_map(|c| c.region).collect();
    json!({ "regions": regions })
}

fn visit_json(v: &Visit, lang: Lang) -> Value {
    let mut j = serde_json::to_value(v).unwrap_or(Value::Null);
    if let Value::Object(m) = &mut j {
        m.insert("kind_label".into(), opt_label(v.kind, |x| x.label(lang)));
        m.insert("method_label".into(), opt_label(v.method, |x| x.label(lang)));
        m.insert("at_local".into(), display_local(v.at).into());
    }
    j
}

/// The timeline label of an order event (the shared vocabulary; unknown kinds as they are).
fn event_label(kind: &str, lang: Lang) -> String {
    kind.parse::<EventKind>().map_or_else(|_| kind.to_string(), |k| k.label(lang).to_string())
}

pub fn order_json(o: &Order, customer_name: Option<&str>, lang: Lang) -> Value {
    let mut j = serde_json::to_value(o).unwrap_or(Value::Null);
    if let Value::Object(m) = &mut j {
        m.insert("customer_name".into(), customer_name.into());
        m.insert("status_label".into(), o.status.label(lang).into());
        m.insert("source_label".into(), opt_label(o.source, |x| x.label(lang)));
        m.insert("payment_method_label".into(), opt_label(o.payment_method, |x| x.label(lang)));
        m.insert("total".into(), yuan(o.total_fen).into());
        m.insert("created_at_local".into(), display_local(o.created_at).into());
        let lines: Vec<Value> = o
            .lines
            .iter()
            .map(|l| {
                let mut lj = serde_json::to_value(l).unwrap_or(Value::Null);
                if let Value::Object(lm) = &mut lj {
                    lm.insert("unit_price".into(), yuan(l.unit_price_fen).into());
                    lm.insert("amount".into(), yuan(l.amount_fen).into());
                }
                lj
            })
            .collect();
        m.insert("lines".into(), lines.into());
        let mut events = o.events.clone();
        events.sort_by_key(|e| e.at);
        let timeline: Vec<Value> = events
            .iter()
            .map(|e| json!({ "kind": e.kind, "label": event_label(&e.kind, lang), "at_local": display_local(e.at), "by": e.by }))
            .collect();
        m.insert("timeline".into(), timeline.into());
        // What the order screen offers (the replica checks the rules when it is done).
        let submittable = o.status == OrderStatus::Draft && !o.lines.is_empty();
        let cancellable =
            matches!(o.status, OrderStatus::Draft | OrderStatus::Submitted | OrderStatus::AwaitingApproval);
        m.insert("may_submit".into(), submittable.into());
        m.insert("may_cancel".into(), cancellable.into());
    }
    j
}

fn customer_names(replica: &Replica) -> HashMap<DocId, String> {
    replica.customers().into_iter().map(|c| (c.id, c.name)).collect()
}

/// A customer with its visits (newest first) and orders.
pub fn customer_detail(replica: &Replica, id: DocId, lang: Lang) -> Result<Value, String> {
    let c = replica.customer(id).map_err(|e| e.to_string())?;
    let mut visits: Vec<Value> = replica.visits_of(id).iter().map(|v| visit_json(v, lang)).collect();
    visits.reverse();
    let orders: Vec<Value> = replica
        .orders()
        .iter()
        .filter(|o| o.customer == Some(id))
        .map(|o| order_json(o, Some(&c.name), lang))
        .collect();
    let may_edit = replica.may_write(id, "name");
    Ok(json!({ "customer": customer_json(&c, lang), "visits": visits, "orders": orders, "may_edit": may_edit }))
}

/// Orders, newest first, optionally of one status; with counts per status.
pub fn orders(replica: &Replica, status: &str, limit: Option<usize>, lang: Lang) -> Value {
    let names = customer_names(replica);
    let all = replica.orders();
    let mut counts: HashMap<&'static str, usize> = OrderStatus::ALL.iter().map(|s| (s.as_str(), 0)).collect();
    for o in &all {
        *counts.entry(o.status.as_str()).or_default() += 1;
    }
    let hits: Vec<&Order> = all.iter().filter(|o| status.is_empty() || o.status.as_str() == status).collect();
    let items: Vec<Value> = hits
        .iter()
        .take(limit.unwrap_or(DEFAULT_LIMIT))
        .map(|o| {
            let name = o.customer.and_then(|c| names.get(&c)).map(String::as_str);
            json!({
                "id": o.id,
                "customer": o.customer,
                "customer_name": name,
                "status": o.status,
                "status_label": o.status.label(lang),
                "total": yuan(o.total_fen),
                "total_fen": o.total_fen,
                "lines": o.lines.len(),
                "created_at_local": display_local(o.created_at),
                "created_by": o.created_by,
            })
        })
        .collect();
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
        "fields": {
            "customer": fields(DocKind::Customer),
            "visit": fields(DocKind::Visit),
            "order": fields(DocKind::Order),
        },
    })
}

/// A line of a new order as the form holds it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LineInput {
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
/// digits, ranges); the first error's reason in English.
pub fn check_line(l: &LineInput) -> Result<CheckedLine, String> {
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
            protocol::schema::SchemaError::Fields(errors) => {
                errors.first().map(|f| f.message(Some(DocKind::Order), Lang::En)).unwrap_or_default()
            }
            other => other.to_string(),
        })?;
    let get = |name: &str| parsed.iter().find(|(f, _)| f.name == name).map(|(_, v)| v.clone()).unwrap_or(Value::Null);
    let (Value::Str(sku), Value::Int(qty), Value::Int(unit_price_fen)) =
        (get("sku"), get("qty"), get("unit_price_fen"))
    else {
        return Err("a line needs a product, a quantity and a unit price".into());
    };
    let spec = match get("spec") {
        Value::Str(s) => Some(s),
        _ => None,
    };
    Ok(CheckedLine { sku, spec, qty, unit_price_fen })
}

/// The role whose discount authority prices this user's orders.
fn own_role(replica: &Replica) -> Role {
    replica.principal().map(|p| p.role).unwrap_or(Role::Rep)
}

/// The active products of the synced price policy (what the product picker offers).
pub fn catalogue(replica: &Replica) -> Value {
    let Some(p) = replica.current_policy() else { return json!({ "version": null, "skus": [] }) };
    let skus: Vec<Value> = p
        .policy
        .skus
        .iter()
        .filter(|s| s.active)
        .map(|s| json!({ "code": s.code, "name": s.name, "spec": s.spec }))
        .collect();
    json!({ "version": p.version, "title": p.policy.title, "skus": skus })
}

fn approvals_json(p: &PricedOrder, lang: Lang) -> Vec<Value> {
    p.approvals
        .iter()
        .map(|a| json!({ "role": a.role.as_str(), "role_label": role_label(a.role, lang), "text": a.text(lang) }))
        .collect()
}

fn verdict_label(v: &str, lang: Lang) -> &'static str {
    let zh = lang == Lang::Zh;
    match v {
        "ok" => {
            if zh {
                "价格符合政策"
            } else {
                "prices within policy"
            }
        }
        "needs_approval" => {
            if zh {
                "需要审批"
            } else {
                "needs approval"
            }
        }
        "invalid" => {
            if zh {
                "订单无效"
            } else {
                "invalid"
            }
        }
        _ => "?",
    }
}

/// The live offline preview of a new order's lines, priced by the shared pricing engine
/// with the synced policy and this user's discount authority: per line the policy price,
/// the discount and what is wrong; the total; the approvals the order will need.
pub fn preview_order(replica: &Replica, customer: Option<DocId>, lines: &[LineInput], now: i64, lang: Lang) -> Value {
    let checked: Vec<Result<CheckedLine, String>> = lines.iter().map(check_line).collect();
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
                let expected = pl.and_then(|l| l.expected_unit_price_fen);
                let discount = pl.and_then(|l| l.discount_bp).filter(|d| *d != 0);
                let note: Vec<String> =
                    pl.map(|l| l.findings.iter().map(|f| f.text(lang)).collect()).unwrap_or_default();
                json!({
                    "ok": true,
                    "amount_fen": amount,
                    "amount": yuan(amount),
                    "unit_price_fen": c.unit_price_fen,
                    "policy_price": expected.map(yuan),
                    "discount_bp": discount,
                    "discount": discount.map(format_bp),
                    "note": if note.is_empty() { Value::Null } else { note.join("; ").into() },
                })
            }
            Err(e) => {
                ok = false;
                json!({ "ok": false, "error": e, "note": null })
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
        "verdict_label": verdict.map(|v| verdict_label(v, lang)),
        "approvals": approvals,
        "warnings": warnings,
    })
}

fn lifecycle_timeline(v: &OrderView, lang: Lang) -> Value {
    v.lifecycle
        .timeline
        .iter()
        .map(|t| {
            let e = &t.event;
            json!({
                "kind": e.kind,
                "label": event_label(&e.kind, lang),
                "at_local": display_local(e.at),
                "by": e.by,
                "role": e.role.as_deref().and_then(|r| r.parse::<Role>().ok()).map(|r| role_label(r, lang)),
                "comment": e.comment,
                "applied": t.applied,
                "note": t.note,
                "status_after": t.status_after,
                "status_after_label": t.status_after.label(lang),
            })
        })
        .collect()
}

/// An order with the server's verdict, the offline pricing and the lifecycle timeline.
pub fn order_detail(replica: &Replica, id: DocId, lang: Lang) -> Result<Value, String> {
    let v = replica.order_view(id).map_err(|e| e.to_string())?;
    let o = &v.order;
    let name = o.customer.and_then(|c| replica.customer(c).ok()).map(|c| c.name);
    let mut j = order_json(o, name.as_deref(), lang);
    if let Value::Object(m) = &mut j {
        let status = v.lifecycle.status;
        m.insert("status".into(), json!(status));
        m.insert("status_label".into(), status.label(lang).into());
        m.insert("timeline".into(), lifecycle_timeline(&v, lang));
        let missing: Vec<&str> = v.lifecycle.missing_approvals.iter().map(|r| role_label(*r, lang)).collect();
        m.insert("missing_approvals".into(), json!(missing));
        let verdict = v.verdict.as_ref().map(|vd| {
            json!({
                "verdict": vd.verdict,
                "label": verdict_label(&vd.verdict, lang),
                "stale": vd.stale,
                "current": v.verdict_current,
                "policy_version": vd.policy_version,
                "priced_with": vd.priced_with,
                "required": vd.required.iter().map(|r| role_label(*r, lang)).collect::<Vec<_>>(),
                "approvals": vd.priced.as_ref().map(|p| approvals_json(p, lang)).unwrap_or_default(),
                "checked_at_local": display_local(vd.checked_at),
            })
        });
        m.insert("verdict".into(), verdict.unwrap_or(Value::Null));
        let preview = v.priced.as_ref().map(|p| {
            let vn = verdict::verdict_name(p.verdict);
            json!({
                "verdict": vn,
                "label": verdict_label(vn, lang),
                "policy_version": p.policy_version,
                "approvals": approvals_json(p, lang),
            })
        });
        m.insert("preview".into(), preview.unwrap_or(Value::Null));
        let may_submit = status == OrderStatus::Draft && !o.lines.is_empty();
        let may_cancel = matches!(status, OrderStatus::Draft | OrderStatus::Submitted | OrderStatus::AwaitingApproval);
        m.insert("may_submit".into(), may_submit.into());
        m.insert("may_cancel".into(), may_cancel.into());
        let may_decide =
            status == OrderStatus::AwaitingApproval && replica.approvals_queue().iter().any(|q| q.order.id == id);
        m.insert("may_decide".into(), may_decide.into());
        // Logistics ships a confirmed order, with the batch numbers of its lines.
        let ships = replica
            .principal()
            .is_none_or(|p| protocol::schema::order_lifecycle::event_writers(EventKind::Shipped).contains(&p.role));
        m.insert(
            "may_ship".into(),
            (status == OrderStatus::Confirmed && ships && replica.may_write(id, "events")).into(),
        );
    }
    Ok(j)
}

/// Orders waiting for an approval this user's role can give.
pub fn approvals(replica: &Replica, lang: Lang) -> Value {
    let names = customer_names(replica);
    let items: Vec<Value> = replica
        .approvals_queue()
        .iter()
        .map(|v| {
            let o = &v.order;
            let reasons = v
                .verdict
                .as_ref()
                .filter(|_| v.verdict_current)
                .and_then(|vd| vd.priced.as_ref())
                .or(v.priced.as_ref())
                .map(|p| approvals_json(p, lang))
                .unwrap_or_default();
            json!({
                "id": o.id,
                "customer_name": o.customer.and_then(|c| names.get(&c)),
                "total": yuan(o.total_fen),
                "lines": o.lines.len(),
                "created_by": o.created_by,
                "created_at_local": display_local(o.created_at),
                "missing": v.lifecycle.missing_approvals.iter().map(|r| role_label(*r, lang)).collect::<Vec<_>>(),
                "reasons": reasons,
            })
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
        let list = orders(&r, "draft", None, Lang::Zh);
        assert_eq!(list["total"], 1);
        assert_eq!(list["items"][0]["total"], "10793.00");
        assert_eq!(list["items"][0]["customer_name"], "贵阳酒行");
        assert_eq!(orders(&r, "submitted", None, Lang::Zh)["total"], 0);
        let d = order_detail(&r, o, Lang::Zh).unwrap();
        assert_eq!(d["lines"][1]["amount"], "1799.00");
        assert_eq!(d["timeline"][0]["label"], "创建");
        assert_eq!(d["timeline"][0]["at_local"], "2023-11-15 06:13");
        let detail = customer_detail(&r, c, Lang::En).unwrap();
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
        assert!(bad["lines"].as_array().unwrap().iter().all(|l| l["error"].is_string()));
        assert_eq!(preview_order(&r, None, &[], 0, Lang::En)["ok"], false);
    }

    #[test]
    fn vocab_has_labels_in_both_languages() {
        assert_eq!(vocab(Lang::Zh)["channel"][0], json!({ "value": "distributor", "label": "经销商" }));
        assert_eq!(vocab(Lang::En)["fields"]["customer"][0]["label"], "Name");
    }
}
