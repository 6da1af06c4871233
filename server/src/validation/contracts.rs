//! Contracts after sync: when a contract's signature is first folded in (applied and
//! received), the server records the one-time effect that locks it ([`Effect::Signed`]:
//! later edits of its content are refused) and distributes its copies — one notification
//! each to finance and logistics, exactly once. The orders it covers are then re-checked
//! by the pricing validator (it runs after this one): a signed contract lets an order that
//! needs one proceed.

use super::notifications::CONTRACT_TO;
use super::{Changed, ValidationCx, Validator};
use crate::storage::DbError;
use protocol::kinds::Effect;
use protocol::schema::contract;
use protocol::{DocId, DocKind};

pub struct Contracts;

/// The effect a department's copy is recorded under (key: the department).
pub const DISTRIBUTED: &str = "contract-distributed";

impl Validator for Contracts {
    fn name(&self) -> &'static str {
        "contracts"
    }

    fn targets(&self, c: &Changed, _cx: &mut dyn ValidationCx) -> Result<Vec<DocId>, DbError> {
        Ok(if c.kind == DocKind::Contract { vec![c.id] } else { Vec::new() })
    }

    fn validate(&self, id: DocId, cx: &mut dyn ValidationCx) -> Result<(), DbError> {
        let now = cx.now();
        let Some((DocKind::Contract, doc)) = cx.doc(id)? else { return Ok(()) };
        let Ok(c) = contract::read(doc, id) else { return Ok(()) };
        let life = contract::fold(&c.events, &contract::content_hash(&c));
        if !life.is_signed() {
            return Ok(());
        }
        let storage = cx.storage();
        let payload = serde_json::json!({ "hash": life.approved_hash, "title": c.title }).to_string();
        if !storage.insert_effect(id.as_bytes(), Effect::Signed.as_str(), "", now, &payload)? {
            return Ok(());
        }
        let short: String = id.to_string().chars().take(8).collect();
        for department in CONTRACT_TO {
            let what = if department == "finance" { "请按合同跟进收款" } else { "请按合同安排交货" };
            let message = format!("合同 {short}「{}」已签署，副本已送达，{what}", c.title);
            if storage.insert_effect(id.as_bytes(), DISTRIBUTED, department, now, &message)? {
                storage.insert_notification(
                    id.as_bytes(),
                    department,
                    super::notifications::CONTRACT_SIGNED,
                    now,
                    &message,
                )?;
            }
        }
        tracing::info!(contract = %id, "contract signed: locked, copies to finance and logistics");
        Ok(())
    }
}
