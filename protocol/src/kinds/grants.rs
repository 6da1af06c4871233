//! Grants several kinds share (a kind may also write its own).

use super::spec::{Grants, Scope};
use crate::role::Role;

const T: Scope = Scope::Territory;
const A: Scope = Scope::All;

/// Field staff: reps and managers in their territories, admins everywhere.
pub const FIELD_STAFF: Grants = &[(Role::Rep, T), (Role::Manager, T), (Role::Admin, A)];
/// Who moves a customer to another territory or rep.
pub const ASSIGNERS: Grants = &[(Role::Manager, T), (Role::Admin, A)];
/// Who publishes the price policy.
pub const PUBLISHERS: Grants = &[(Role::Market, A), (Role::Admin, A)];

/// Readers of customers: the field in their territories, every office role.
pub const CUSTOMER_READERS: Grants = &[
    (Role::Rep, T),
    (Role::Manager, T),
    (Role::Market, A),
    (Role::Logistics, A),
    (Role::Finance, A),
    (Role::Legal, A),
    (Role::AfterSales, A),
    (Role::Quality, A),
    (Role::Executive, A),
    (Role::Admin, A),
];

/// Readers of orders (and their verdicts).
pub const ORDER_READERS: Grants = &[
    (Role::Rep, T),
    (Role::Manager, T),
    (Role::Market, A),
    (Role::Logistics, A),
    (Role::Finance, A),
    (Role::Legal, A),
    (Role::AfterSales, A),
    (Role::Executive, A),
    (Role::Admin, A),
];

/// Everyone, everywhere (the price policy).
pub const EVERYONE: Grants = &[
    (Role::Rep, A),
    (Role::Manager, A),
    (Role::Market, A),
    (Role::Logistics, A),
    (Role::Finance, A),
    (Role::Legal, A),
    (Role::AfterSales, A),
    (Role::Quality, A),
    (Role::Executive, A),
    (Role::Admin, A),
];

/// The after-sales department (and admins): who works complaints and owns the SLA policy.
pub const AFTER_SALES: Grants = &[(Role::AfterSales, A), (Role::Admin, A)];
/// Who files complaints, records revisits and works their tasks: the field in their
/// territories, after-sales everywhere (the hotline), admins.
pub const SERVICE_STAFF: Grants = &[(Role::Rep, T), (Role::Manager, T), (Role::AfterSales, A), (Role::Admin, A)];
/// Readers of complaints: the field in their territories, after-sales and quality control
/// everywhere, executives.
pub const COMPLAINT_READERS: Grants = &[
    (Role::Rep, T),
    (Role::Manager, T),
    (Role::AfterSales, A),
    (Role::Quality, A),
    (Role::Executive, A),
    (Role::Admin, A),
];
/// Quality control (and admins): who opens and works quality issues.
pub const QUALITY: Grants = &[(Role::Quality, A), (Role::Admin, A)];
/// Readers of quality issues: quality control, after-sales, executives.
pub const QUALITY_READERS: Grants =
    &[(Role::Quality, A), (Role::AfterSales, A), (Role::Executive, A), (Role::Admin, A)];
/// Readers of revisit and care tasks, and of revisit records: the field in their
/// territories, after-sales everywhere, executives.
pub const TASK_READERS: Grants =
    &[(Role::Rep, T), (Role::Manager, T), (Role::AfterSales, A), (Role::Executive, A), (Role::Admin, A)];
/// Readers of contracts: the field in their territories, the departments that act on them.
pub const CONTRACT_READERS: Grants = &[
    (Role::Rep, T),
    (Role::Manager, T),
    (Role::Logistics, A),
    (Role::Finance, A),
    (Role::Legal, A),
    (Role::Executive, A),
    (Role::Admin, A),
];
/// Who co-edits a contract's clauses: the field in their territories and legal.
pub const CONTRACT_EDITORS: Grants = &[(Role::Rep, T), (Role::Manager, T), (Role::Legal, A), (Role::Admin, A)];
/// Legal (and admins).
pub const LEGAL: Grants = &[(Role::Legal, A), (Role::Admin, A)];

/// Readers of a team's budget: the team (reps and their manager), finance, executives.
pub const BUDGET_READERS: Grants =
    &[(Role::Rep, T), (Role::Manager, T), (Role::Finance, A), (Role::Executive, A), (Role::Admin, A)];
/// Who drafts a team's budget.
pub const TEAM_MANAGERS: Grants = &[(Role::Manager, T), (Role::Admin, A)];
/// Readers of expense requests and claims: a rep their own, the manager their team's,
/// finance and executives all.
pub const EXPENSE_READERS: Grants =
    &[(Role::Rep, Scope::Own), (Role::Manager, T), (Role::Finance, A), (Role::Executive, A), (Role::Admin, A)];

/// The market department (and admins): research, reports, forecasts, product plans.
pub const MARKET_STAFF: Grants = &[(Role::Market, A), (Role::Admin, A)];

/// Readers of a territory's plans (research, channel, development, visit plans) and of
/// what the field reports there: its reps and managers; market, leadership and admins
/// everywhere.
pub const PLAN_READERS: Grants =
    &[(Role::Rep, T), (Role::Manager, T), (Role::Market, A), (Role::Executive, A), (Role::Admin, A)];

/// Who receives what the market department publishes (reports, forecasts): leadership and
/// every department, company-wide.
pub const DEPARTMENTS: Grants = &[
    (Role::Manager, A),
    (Role::Logistics, A),
    (Role::Finance, A),
    (Role::Legal, A),
    (Role::AfterSales, A),
    (Role::Quality, A),
    (Role::Market, A),
    (Role::Executive, A),
    (Role::Admin, A),
];

/// Readers of channel partners: the sales managers of their territory, market, leadership.
pub const PARTNER_READERS: Grants = &[(Role::Manager, T), (Role::Market, A), (Role::Executive, A), (Role::Admin, A)];

/// Who keeps the partner archive: the territory's sales manager, the market department.
pub const PARTNER_STAFF: Grants = &[(Role::Manager, T), (Role::Market, A), (Role::Admin, A)];

/// Readers of product plans: sales management, market, leadership.
pub const LEADERSHIP: Grants = &[(Role::Manager, A), (Role::Market, A), (Role::Executive, A), (Role::Admin, A)];

/// Who sets company-wide sales settings (the follow-up cadence): managers and market.
pub const SETTERS: Grants = &[(Role::Manager, A), (Role::Market, A), (Role::Admin, A)];
