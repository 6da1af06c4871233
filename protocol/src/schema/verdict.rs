//! The server's verdict on an order (校验结果): written only by the server after it merges
//! order changes, bound to the order content it checked (design note 5: validation marks,
//! it never changes the order). One verdict document per order, with a derived id.

use super::KIND_KEY;
use super::access::{
    R, check_kind, get_bytes, get_int, get_opt_str, get_parsed, get_str, json_time, put_bytes, put_int, put_str,
    put_time,
};
use crate::ids::{DocId, DocKind};
use crate::pricing::PricedOrder;
use crate::role::Role;
use automerge::{AutoCommit, ROOT};
use serde::Serialize;
use uuid::Uuid;

/// The id of the verdict document of `order` (the same on every device and the server).
pub fn verdict_id(order: DocId) -> DocId {
    let mut b = *order.as_bytes();
    for (i, x) in b"jiuloop-verdict!".iter().enumerate() {
        b[i] ^= x;
    }
    DocId(Uuid::from_bytes(b))
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OrderVerdict {
    pub order: Option<DocId>,
    /// The order content this verdict is about ([`crate::pricing::approvals_hash`], hex).
    pub content_hash: String,
    /// The policy version in force at the order's date (what the server priced with).
    pub policy_version: u32,
    /// The version the rep's device priced with (0: not recorded).
    pub priced_with: u32,
    /// The rep priced with an older version than the one in force.
    pub stale: bool,
    /// `ok`, `needs_approval` or `invalid`.
    pub verdict: String,
    pub required: Vec<Role>,
    /// The full pricing as the server computed it.
    pub priced: Option<PricedOrder>,
    #[serde(with = "json_time")]
    pub checked_at: i64,
    /// When the order was first confirmed and assigned to logistics and finance (once).
    pub assigned_at: Option<i64>,
    /// Whether the order needs a signed contract: empty (not required), `needed` (none
    /// covers it yet: it cannot be confirmed unless waived) or `covered` (by `contract_id`).
    pub contract: String,
    pub contract_id: Option<DocId>,
}

/// Whether an order needs a signed contract, and which one covers it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContractGate {
    NotRequired,
    Needed,
    Covered(DocId),
}

impl ContractGate {
    /// The gate of an order of `total_fen`: required by `policy` (by amount, or for a key
    /// account), covered by the signed contract `covered_by` if any.
    pub fn of(
        policy: &super::expense::ApprovalPolicy,
        total_fen: i64,
        key_account: bool,
        covered_by: Option<DocId>,
    ) -> Self {
        match (policy.needs_contract(total_fen, key_account), covered_by) {
            (false, _) => ContractGate::NotRequired,
            (true, Some(c)) => ContractGate::Covered(c),
            (true, None) => ContractGate::Needed,
        }
    }

    /// Does the order wait for a contract (unless waived)?
    pub fn blocks(self) -> bool {
        self == ContractGate::Needed
    }

    pub fn name(self) -> &'static str {
        match self {
            ContractGate::NotRequired => "",
            ContractGate::Needed => "needed",
            ContractGate::Covered(_) => "covered",
        }
    }

    pub fn covering(self) -> Option<DocId> {
        match self {
            ContractGate::Covered(id) => Some(id),
            _ => None,
        }
    }
}

impl OrderVerdict {
    /// The approvals the order lifecycle waits for: `None` for an invalid order (no approval
    /// can make it proceed), else the required roles.
    pub fn required_approvals(&self) -> Option<Vec<Role>> {
        (self.verdict != "invalid").then(|| self.required.clone())
    }
}

/// `ok`, `needs_approval` or `invalid`: the stored name of a pricing verdict.
pub fn verdict_name(v: crate::pricing::Verdict) -> &'static str {
    match v {
        crate::pricing::Verdict::Ok => "ok",
        crate::pricing::Verdict::NeedsApproval => "needs_approval",
        crate::pricing::Verdict::Invalid => "invalid",
    }
}

pub fn write(doc: &mut AutoCommit, order: DocId, v: &OrderVerdict) -> R<()> {
    put_str(doc, &ROOT, KIND_KEY, DocKind::Verdict.as_str())?;
    put_str(doc, &ROOT, "order", &order.to_string())?;
    put_str(doc, &ROOT, "content_hash", &v.content_hash)?;
    put_int(doc, &ROOT, "policy_version", i64::from(v.policy_version))?;
    put_int(doc, &ROOT, "priced_with", i64::from(v.priced_with))?;
    put_int(doc, &ROOT, "stale", i64::from(v.stale))?;
    put_str(doc, &ROOT, "verdict", &v.verdict)?;
    let required: Vec<&str> = v.required.iter().map(|r| r.as_str()).collect();
    put_str(doc, &ROOT, "required", &required.join(","))?;
    if let Some(p) = &v.priced {
        put_bytes(doc, &ROOT, "priced", &postcard::to_stdvec(p).expect("priced orders serialize"))?;
    }
    put_time(doc, &ROOT, "checked_at", v.checked_at)?;
    if let Some(at) = v.assigned_at {
        put_time(doc, &ROOT, "assigned_at", at)?;
    }
    if !v.contract.is_empty() || !get_str(doc, &ROOT, "contract").is_empty() {
        put_str(doc, &ROOT, "contract", &v.contract)?;
    }
    match v.contract_id {
        Some(c) => put_str(doc, &ROOT, "contract_id", &c.to_string())?,
        None if !get_str(doc, &ROOT, "contract_id").is_empty() => put_str(doc, &ROOT, "contract_id", "")?,
        None => {}
    }
    Ok(())
}

pub fn read(doc: &AutoCommit) -> R<OrderVerdict> {
    check_kind(doc, DocKind::Verdict.as_str())?;
    Ok(OrderVerdict {
        order: get_parsed(doc, &ROOT, "order"),
        content_hash: get_str(doc, &ROOT, "content_hash"),
        policy_version: get_int(doc, &ROOT, "policy_version").and_then(|v| u32::try_from(v).ok()).unwrap_or(0),
        priced_with: get_int(doc, &ROOT, "priced_with").and_then(|v| u32::try_from(v).ok()).unwrap_or(0),
        stale: get_int(doc, &ROOT, "stale").unwrap_or(0) != 0,
        verdict: get_str(doc, &ROOT, "verdict"),
        required: get_opt_str(doc, &ROOT, "required")
            .map(|s| s.split(',').filter_map(|r| r.parse().ok()).collect())
            .unwrap_or_default(),
        priced: get_bytes(doc, &ROOT, "priced").and_then(|b| postcard::from_bytes(&b).ok()),
        checked_at: get_int(doc, &ROOT, "checked_at").unwrap_or(0),
        assigned_at: get_int(doc, &ROOT, "assigned_at"),
        contract: get_str(doc, &ROOT, "contract"),
        contract_id: get_parsed(doc, &ROOT, "contract_id"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdict_ids_are_derived_and_distinct() {
        let o = DocId::new_random();
        assert_eq!(verdict_id(o), verdict_id(o));
        assert_ne!(verdict_id(o), o);
    }

    #[test]
    fn round_trip() {
        let mut doc = AutoCommit::new();
        let v = OrderVerdict {
            order: Some(DocId::new_random()),
            content_hash: "ab".into(),
            policy_version: 3,
            priced_with: 2,
            stale: true,
            verdict: "needs_approval".into(),
            required: vec![Role::Manager, Role::Executive],
            priced: None,
            checked_at: 7,
            assigned_at: None,
            contract: "covered".into(),
            contract_id: Some(DocId::new_random()),
        };
        write(&mut doc, v.order.unwrap(), &v).unwrap();
        assert_eq!(read(&doc).unwrap(), v);
    }
}
