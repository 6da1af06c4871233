//! 报销校验: the server's verdict on a claim against the budget in force — within budget,
//! needs a supplementary approval, or invalid — and receipts claimed before. Written only
//! by the server; readable by whoever reads the claim (its author included).

use super::DocKind;
use super::grants::EXPENSE_READERS;
use super::spec::build::{field, parent};
use super::spec::{FieldType::*, IdRule, KindSpec, NOBODY, Placement};
use crate::schema::expense::{MAX_FEN, claim_verdict_id};

pub const SPEC: KindSpec = KindSpec {
    name: "claim-verdict",
    zh: "报销校验",
    en: "Claim verdict",
    code: 26,
    id: IdRule::Derived(claim_verdict_id),
    placement: Placement::Parent { kind: DocKind::ExpenseClaim, field: "claim" },
    read: EXPENSE_READERS,
    create: NOBODY,
    title: Some("verdict"),
    server_written: true,
    freeze: None,
    fields: &[
        parent("claim", DocKind::ExpenseClaim, "报销", "Claim", NOBODY),
        field("verdict", Str { max: 32 }, "结论", "Verdict", NOBODY),
        field("reasons", Str { max: 1_000 }, "原因", "Reasons", NOBODY),
        field("duplicates", Str { max: 4_000 }, "重复票据", "Receipts claimed before", NOBODY),
        field("budget_version", Int { min: 0, max: 10_000 }, "预算版本", "Budget version", NOBODY),
        field("available_fen", Int { min: -MAX_FEN, max: MAX_FEN }, "可用额度", "Available", NOBODY),
        field("amount_fen", Money { max: MAX_FEN }, "报销金额", "Amount", NOBODY),
        field("content_hash", Str { max: 128 }, "内容摘要", "Content hash", NOBODY),
        field("checked_at", Time, "校验时间", "Checked at", NOBODY),
    ],
};
