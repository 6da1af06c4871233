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
