//! The kind registry: everything a document kind is, declared once.
//!
//! Each kind is one file, `kinds/<kind>.rs`, holding a [`KindSpec`] value — its fields
//! (type, parser, vocabulary, labels, create-only or not, who writes them), who reads it,
//! where its territory and author come from, its append-only logs with the rule for each
//! entry — and one line in the [`registry!`] call below, which generates [`DocKind`].
//! Everything that iterates kinds or needs to know about one reads the spec: the rule
//! table ([`crate::rules`]), the server's facts, parent-first ordering and authorization,
//! the client's facts and field checks, field parsing ([`crate::schema::record`]),
//! vocabularies and labels, the command line's generic commands and the browser's forms.
//! A kind whose spec is incomplete does not compile (no field of a spec has a default).
//!
//! Kinds are appended, never reordered: the wire format names a kind by its position.

mod grants;
pub mod log;
pub mod parse;
pub mod spec;
mod steps;
mod vocab;
pub mod workflow;

pub use log::{Entry, LogCheck, Scalar, arrival_order, check_entry};
pub use parse::{FieldError, FieldErrorKind, Value};
pub use spec::{
    Effect, EntrySpec, FieldRole, FieldSpec, FieldType, Freeze, Grants, IdRule, InputRule, KindSpec, LogFold, LogSpec,
    NOBODY, Placement, Scope, Step, Workflow,
};
pub use vocab::{Vocab, VocabEntry};

/// Ids and vocabularies of the pre-sales kinds that code outside the registry names.
pub mod presales {
    pub use super::cadence_policy::CADENCE_DOC_ID;
    pub use super::partner_evaluation::evaluation_id;
    pub use super::partner_record::KINDS as PARTNER_RECORD_KINDS;
    pub use super::report_summary::summary_id;
    pub use super::violation_report::KINDS as VIOLATION_KINDS;
}

use serde::{Deserialize, Serialize};
use std::fmt;

/// How far a time a device states may lie from the server's clock when it arrives: a
/// device may have been offline for up to `max_offline_ms` (work recorded then still
/// counts at its own time), and its clock may run ahead by up to `max_skew_ms`. Decisions
/// (the price policy in force, SLA clocks) use the stated time clamped into
/// [arrival − max_offline, arrival + max_skew]; the order of log entries is the order the
/// server received them in, so nobody reorders what the server already accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeWindow {
    pub max_offline_ms: i64,
    pub max_skew_ms: i64,
}

/// The window every client-stated time ([`FieldRole::ClientTime`], log entries' times) is
/// held to.
pub const CLIENT_TIME: TimeWindow = TimeWindow { max_offline_ms: 30 * 24 * 3_600_000, max_skew_ms: 10 * 60_000 };

impl TimeWindow {
    /// `stated`, clamped into the window around `received` (the server's arrival time).
    pub fn clamp(&self, stated: i64, received: i64) -> i64 {
        stated.clamp(received.saturating_sub(self.max_offline_ms), received.saturating_add(self.max_skew_ms))
    }
}
use std::str::FromStr;

/// Declares the kinds: `Variant => module;` — the module `kinds/<module>.rs` holds `SPEC`.
macro_rules! registry {
    ($($(#[$meta:meta])* $variant:ident => $module:ident;)+) => {
        $(mod $module;)+

        /// What a document holds. Stored next to every document on client and server.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum DocKind {
            $($(#[$meta])* $variant),+
        }

        impl DocKind {
            /// Every kind, in registry order.
            pub const ALL: &'static [DocKind] = &[$(DocKind::$variant),+];

            /// The kind's declaration.
            pub fn spec(self) -> &'static KindSpec {
                match self {
                    $(DocKind::$variant => &$module::SPEC),+
                }
            }
        }
    };
}

registry! {
    /// 客户.
    Customer => customer;
    /// 拜访记录, of a customer.
    Visit => visit;
    /// 订单, of a customer.
    Order => order;
    /// The published price policy (one document, [`crate::schema::policy_doc::POLICY_DOC_ID`]).
    Policy => policy;
    /// The server's validation verdict of one order (written only by the server).
    Verdict => verdict;
    /// 竞品价格观察: a competitor's product seen at a customer's.
    CompetitorObservation => competitor_observation;
    /// 投诉, of a customer: worked by after-sales against its SLA clocks.
    Complaint => complaint;
    /// What the server records of a complaint (SLA breaches, its revisit; server-written).
    ComplaintTrack => complaint_track;
    /// The after-sales policy: SLA times per severity, the revisit delay (one document).
    AftersalesPolicy => aftersales_policy;
    /// 质量问题 of one SKU and batch, worked by quality control.
    QualityIssue => quality_issue;
    /// The customers who received a recalled batch (server-written).
    Recall => recall;
    /// 回访计划: revisits of the customers a scope reaches.
    RevisitPlan => revisit_plan;
    /// 回访任务, of a customer.
    RevisitTask => revisit_task;
    /// 回访记录, of a customer.
    Revisit => revisit;
    /// 客户关怀: a date of the care calendar.
    CareEvent => care_event;
    /// 关怀任务, of a customer.
    CareTask => care_task;
    /// 销售合同, of a customer.
    Contract => contract;
    /// 合同条款模板 (legal's).
    ClauseTemplate => clause_template;
    /// 合同盘点: an inventory of archived contracts and their scans.
    ContractInventory => contract_inventory;
    /// 审批规则 (one document, [`crate::schema::expense::APPROVAL_POLICY_ID`]).
    ApprovalPolicy => approval_policy;
    /// 销售费用预算 of a team and year.
    ExpenseBudget => expense_budget;
    /// 预算执行: the server's count of a budget's consumption (written only by the server).
    BudgetUsage => budget_usage;
    /// 费用申请, on a budget.
    ExpenseRequest => expense_request;
    /// 费用追加申请, on a budget.
    ExpenseSupplement => expense_supplement;
    /// 费用报销, on a budget.
    ExpenseClaim => expense_claim;
    /// 报销校验: the server's verdict on a claim (written only by the server).
    ClaimVerdict => claim_verdict;
    /// 市场调研计划 (issue 12, part 1).
    ResearchPlan => research_plan;
    /// 市场调研报告 (part 2).
    MarketReport => market_report;
    /// The competitor-price summary of a published report (written only by the server).
    ReportSummary => report_summary;
    /// 市场趋势预测 (part 2).
    TrendForecast => trend_forecast;
    /// 产品规划与定位 (part 3).
    ProductPlan => product_plan;
    /// 规划新品: a new SKU of a product plan (a draft catalogue entry once approved).
    PlannedSku => planned_sku;
    /// 渠道规划 of a territory (part 4).
    ChannelPlan => channel_plan;
    /// 渠道合作伙伴: a partner, from candidate to signed, with its archive (part 4).
    Partner => partner;
    /// 合作伙伴记录: training, support, feedback, reward, penalty, assessment of a partner.
    PartnerRecord => partner_record;
    /// A partner's periodic evaluation (written only by the server).
    PartnerEvaluation => partner_evaluation;
    /// 违规举报: cross-region selling (窜货) or a price violation found in the field.
    ViolationReport => violation_report;
    /// 客户开发计划 (part 5).
    DevelopmentPlan => development_plan;
    /// 开发目标客户: a prospect of a development plan.
    DevelopmentTarget => development_target;
    /// 拜访计划: a planned visit to a customer (part 7).
    VisitPlan => visit_plan;
    /// 客户跟进策略: the A/B/C follow-up cadence (one document, part 6).
    CadencePolicy => cadence_policy;
}

impl DocKind {
    pub fn as_str(self) -> &'static str {
        self.spec().name
    }

    /// Stable small integer used in storage columns.
    pub fn code(self) -> i64 {
        self.spec().code
    }

    pub fn from_code(c: i64) -> Option<Self> {
        DocKind::ALL.iter().copied().find(|k| k.code() == c)
    }

    /// How many parents up to a root kind (a customer 0, an order 1, its verdict 2): the
    /// server stores parents before children when both arrive in one push.
    pub fn depth(self) -> usize {
        let mut depth = 0;
        let mut kind = self;
        while let Some((parent, _)) = kind.spec().parent() {
            depth += 1;
            kind = parent;
            if depth > DocKind::ALL.len() {
                break; // a cycle in the registry; `registry_is_consistent` fails on it
            }
        }
        depth
    }
}

impl fmt::Display for DocKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DocKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        DocKind::ALL.iter().copied().find(|k| k.as_str() == s || k.spec().zh == s).ok_or_else(|| {
            let names: Vec<&str> = DocKind::ALL.iter().map(|k| k.as_str()).collect();
            format!("unknown document kind '{s}' (one of {})", names.join(", "))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn registry_is_consistent() {
        let mut codes = HashSet::new();
        let mut names = HashSet::new();
        for &kind in DocKind::ALL {
            let spec = kind.spec();
            assert!(codes.insert(spec.code), "{kind}: code {} is taken", spec.code);
            assert!(names.insert(spec.name), "{kind}: name is taken");
            assert!(kind.depth() < DocKind::ALL.len(), "{kind}: parents form a cycle");
            let mut fields = HashSet::new();
            for f in spec.fields {
                assert!(fields.insert(f.name), "{kind}.{}: declared twice", f.name);
                assert_ne!(f.name, crate::schema::KIND_KEY, "{kind}: doc_kind is implied");
                if let Some(h) = f.history {
                    assert!(spec.field(h).is_some(), "{kind}.{}: history list {h} is not a field", f.name);
                }
            }
            if let Some((_, field)) = spec.parent() {
                let f = spec.field(field).unwrap_or_else(|| panic!("{kind}: parent field {field} is not declared"));
                assert_eq!(f.role, FieldRole::Parent, "{kind}.{field}");
            }
            if let Placement::Own { territory } = spec.placement {
                assert!(spec.field(territory).is_some(), "{kind}: territory field {territory} is not declared");
            }
            if let Some(t) = spec.title {
                assert!(spec.field(t).is_some(), "{kind}: title {t} is not a field");
            }
            for (f, log) in spec.logs() {
                assert!(!log.entries.is_empty(), "{kind}.{}: a log needs entries", f.name);
                assert!(log.kind_key.is_some() || log.entries.len() == 1, "{kind}.{}", f.name);
                if let LogFold::Workflow(w) = log.fold {
                    assert!(log.by_arrival, "{kind}.{}: a workflow is folded by arrival", f.name);
                    for step in w.steps {
                        assert!(log.entry(step.entry).is_some(), "{kind}.{}: step {} is no entry", f.name, step.entry);
                        for s in step.from.iter().chain([&step.to]) {
                            assert!(w.states.names().any(|n| n == *s), "{kind}.{}: no state {s}", f.name);
                        }
                    }
                    assert_eq!(w.steps.len(), log.entries.len(), "{kind}.{}: every entry is a step", f.name);
                }
                if matches!(log.fold, LogFold::Receipts) {
                    assert!(log.by_arrival && log.kind_key.is_none(), "{kind}.{}: receipts", f.name);
                }
            }
            if let Some(freeze) = spec.freeze {
                for name in freeze.fields {
                    assert!(spec.field(name).is_some(), "{kind}: frozen field {name} is not declared");
                }
                if freeze.effect == Effect::Published {
                    let published = spec.workflow().is_some_and(|(_, w)| w.states.names().any(|n| n == "published"));
                    assert!(published, "{kind}: frozen once published, but no workflow reaches published");
                }
            }
            if spec.server_written {
                assert!(spec.create.is_empty(), "{kind}: server-written kinds are created by nobody else");
                assert!(spec.fields.iter().all(|f| f.writers.is_empty()), "{kind}: server-written");
            }
            assert_eq!(kind.as_str().parse::<DocKind>(), Ok(kind));
            assert_eq!(DocKind::from_code(kind.code()), Some(kind));
        }
    }
}
