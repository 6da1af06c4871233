//! Batches and recalls:
//!
//! - [`ShippedBatches`]: when logistics ships a confirmed order, the batch numbers it
//!   recorded per line are indexed (`shipped_batches`), from the first `shipped` event as
//!   the server received it;
//! - [`Recall`]: a critical quality issue that raised its recall gets a recall list — every
//!   customer whose shipped orders carried the issue's batch (of its SKU), from that index
//!   and the customers the server holds — in a server-written document, kept current as
//!   later shipments of the batch come in. Raising it is recorded once (`effects`:
//!   `recall`, key the batch), logistics notified once; from then on the issue's SKU, batch
//!   and severity no longer change ([`protocol::kinds::Effect::Recalled`]).

use super::service::{self, short};
use super::{Changed, ValidationCx, Validator};
use crate::storage::{DbError, ShippedBatchRow};
use protocol::schema::order::{self, parse_batches};
use protocol::schema::quality::{self, RecallCustomer, RecallList, recall_id};
use protocol::schema::{EventKind, Severity};
use protocol::{DocId, DocKind};
use std::collections::BTreeMap;

pub struct ShippedBatches;

/// The batches new `shipped` entries of a change carry.
fn shipped_batches(c: &Changed) -> Vec<String> {
    let mut out: Vec<String> = c
        .entries("events")
        .filter(|e| e.str("kind") == Some(EventKind::Shipped.as_str()))
        .filter_map(|e| e.str("batches"))
        .flat_map(|b| parse_batches(b).unwrap_or_default())
        .map(|(_, b)| b)
        .collect();
    out.sort();
    out.dedup();
    out
}

impl Validator for ShippedBatches {
    fn name(&self) -> &'static str {
        "shipped-batches"
    }

    fn targets(&self, c: &Changed, _cx: &mut dyn ValidationCx) -> Result<Vec<DocId>, DbError> {
        Ok(if c.kind == DocKind::Order && !shipped_batches(c).is_empty() { vec![c.id] } else { Vec::new() })
    }

    fn validate(&self, id: DocId, cx: &mut dyn ValidationCx) -> Result<(), DbError> {
        // Only a confirmed order ships (a `shipped` event before confirmation does not apply).
        if cx.storage().assignment(id.as_bytes())?.is_none() {
            return Ok(());
        }
        let o = match cx.doc(id)? {
            Some((DocKind::Order, doc)) => match order::read(doc, id) {
                Ok(o) => o,
                Err(_) => return Ok(()),
            },
            _ => return Ok(()),
        };
        let sorted = protocol::kinds::arrival_order(&o.events, |e| e.received, |e| e.at);
        let Some(shipped) = sorted.into_iter().find(|e| e.kind == EventKind::Shipped.as_str()) else {
            return Ok(());
        };
        let pairs = shipped.batches.as_deref().map(|b| parse_batches(b).unwrap_or_default()).unwrap_or_default();
        let at = shipped.effective_at();
        for (line, batch) in pairs {
            let by_position = line.parse::<usize>().ok().and_then(|n| n.checked_sub(1)).and_then(|i| o.lines.get(i));
            let Some(l) = o.lines.iter().find(|l| l.id == line).or(by_position) else { continue };
            let row = ShippedBatchRow {
                order_id: id.as_bytes().to_vec(),
                line: l.id.clone(),
                batch,
                customer: o.customer.map(|c| c.as_bytes().to_vec()),
                sku: l.sku.clone(),
                qty: l.qty,
                at,
            };
            cx.storage().insert_shipped_batch(&row)?;
        }
        Ok(())
    }
}

pub struct Recall;

impl Validator for Recall {
    fn name(&self) -> &'static str {
        "recall"
    }

    fn targets(&self, c: &Changed, cx: &mut dyn ValidationCx) -> Result<Vec<DocId>, DbError> {
        Ok(match c.kind {
            DocKind::QualityIssue => vec![c.id],
            // A later shipment of a recalled batch joins its list.
            DocKind::Order => {
                let mut out = Vec::new();
                for b in shipped_batches(c) {
                    out.extend(cx.storage().effect_docs("recall", &b)?.iter().filter_map(|d| DocId::from_slice(d)));
                }
                out
            }
            _ => Vec::new(),
        })
    }

    fn validate(&self, id: DocId, cx: &mut dyn ValidationCx) -> Result<(), DbError> {
        let now = cx.now();
        let issue = match cx.doc(id)? {
            Some((DocKind::QualityIssue, doc)) => match quality::read(doc, id) {
                Ok(i) => i,
                Err(_) => return Ok(()),
            },
            _ => return Ok(()),
        };
        let life = quality::fold(&issue.events, issue.severity.unwrap_or(Severity::Normal));
        let batch = issue.batch.trim().to_string();
        if !life.recall || batch.is_empty() {
            return Ok(());
        }
        let storage = cx.storage();
        if storage.insert_effect(id.as_bytes(), "recall", &batch, now, &issue.sku)? {
            let message =
                format!("质量问题 {}：批次 {batch}（{}）召回，请按召回清单联系收货客户", short(id), issue.sku);
            storage.insert_notification(id.as_bytes(), "logistics", "recall", now, &message)?;
            tracing::info!(issue = %id, batch, "recall raised");
        }
        let raised_at = storage.effect(id.as_bytes(), "recall", &batch)?.map_or(now, |e| e.at);
        let sku = issue.sku.trim().to_lowercase();
        let mut by_customer: BTreeMap<Vec<u8>, (Vec<Vec<u8>>, i64)> = BTreeMap::new();
        for row in storage.shipped_with_batch(&batch)? {
            if !sku.is_empty() && row.sku.trim().to_lowercase() != sku {
                continue;
            }
            let Some(customer) = row.customer else { continue };
            let entry = by_customer.entry(customer).or_default();
            if !entry.0.contains(&row.order_id) {
                entry.0.push(row.order_id.clone());
            }
            entry.1 = entry.1.saturating_add(row.qty);
        }
        let mut customers = Vec::new();
        for (raw, (orders, qty)) in by_customer {
            let Some(cid) = DocId::from_slice(&raw) else { continue };
            let rec = service::record_of(cx, cid, DocKind::Customer)?;
            let territory = cx.storage().doc(&raw)?.and_then(|r| r.territory);
            customers.push(RecallCustomer {
                customer: cid,
                name: rec.as_ref().and_then(|r| r.str("name")).unwrap_or_default().to_string(),
                territory,
                orders: orders.len() as i64,
                qty,
            });
        }
        let list = RecallList { issue: Some(id), sku: issue.sku.clone(), batch, raised_at, customers };
        let rid = recall_id(id);
        let old = match cx.doc(rid)? {
            Some((DocKind::Recall, doc)) => quality::read_recall(doc).ok(),
            _ => None,
        };
        if old.as_ref() != Some(&list) {
            cx.server_edit(rid, DocKind::Recall, "recall list", &mut |doc| quality::write_recall(doc, id, &list))?;
        }
        Ok(())
    }
}
