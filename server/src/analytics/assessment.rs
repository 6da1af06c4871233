//! Scorecards from the store: the [`scorecard`](super::scorecard) functions fed with the
//! read model's figures (each item's indicator by rep for the period), the qualitative
//! scores, locks, corrections and sanctions people recorded, and the reps and their
//! managers from the users table. Who sees which scorecards: [`visible`].

use super::QueryError;
use super::indicators::{Dim, Filters, Query, Scope};
use super::period::{Period, PeriodKind};
use super::scorecard::{self, Inputs, Item, Scheme, Scorecard};
use crate::storage::analytics::AnalyticsStore;
use crate::storage::{DbError, Storage};
use protocol::Role;
use std::cell::RefCell;
use std::collections::HashMap;

/// An indicator's figures by rep, per period and indicator.
type Figures = HashMap<(Period, &'static str), HashMap<String, Vec<i64>>>;

/// Active reps and their managers.
pub fn reps(feed: &dyn Storage) -> Result<Vec<(String, Option<String>)>, DbError> {
    Ok(feed
        .users()?
        .into_iter()
        .filter(|u| !u.disabled && u.role == Role::Rep.as_str())
        .map(|u| (u.name, u.manager))
        .collect())
}

pub fn scheme(store: &dyn AnalyticsStore, kind: PeriodKind) -> Result<Option<Scheme>, QueryError> {
    match store.scheme(kind.as_str())? {
        None => Ok(None),
        Some(json) => serde_json::from_str(&json).map(Some).map_err(|e| QueryError::Bad(format!("stored scheme: {e}"))),
    }
}

/// Every rep's scorecard for `period`, ranked in their team (`lock`: as computed now, for
/// locking).
pub fn scorecards(
    store: &dyn AnalyticsStore,
    reps: &[(String, Option<String>)],
    period: Period,
    lock: bool,
) -> Result<Vec<Scorecard>, QueryError> {
    let error: RefCell<Option<QueryError>> = RefCell::new(None);
    let keep = |e: QueryError| {
        error.borrow_mut().get_or_insert(e);
    };
    let figures: RefCell<Figures> = RefCell::new(HashMap::new());
    let scheme_of = |k: PeriodKind| match scheme(store, k) {
        Ok(s) => s,
        Err(e) => {
            keep(e);
            None
        }
    };
    let actual = |p: Period, rep: &str, item: &Item| -> i64 {
        let key = (p, item.indicator.as_str());
        if !figures.borrow().contains_key(&key) {
            let q = Query {
                indicator: item.indicator,
                period: p.kind,
                from: p.start,
                to: p.end() - chrono::Duration::days(1),
                by: Dim::Rep,
                filters: Filters::default(),
            };
            let table = super::run(store, &q, &Scope::All);
            let rows = match table {
                Ok(t) => t.rows.into_iter().filter(|r| r.period == p.label()).map(|r| (r.key, r.values)).collect(),
                Err(e) => {
                    keep(e);
                    HashMap::new()
                }
            };
            figures.borrow_mut().insert(key, rows);
        }
        let col = item.indicator.columns().iter().position(|(c, _)| *c == item.column);
        let figures = figures.borrow();
        col.and_then(|i| figures.get(&key).and_then(|m| m.get(rep)).and_then(|v| v.get(i).copied())).unwrap_or(0)
    };
    let qualitative = |p: Period| {
        store.qualitative(&p.label()).unwrap_or_else(|e| {
            keep(e.into());
            Vec::new()
        })
    };
    let locked = |p: Period| -> Option<Vec<Scorecard>> {
        match store.locked(&p.label()) {
            Ok(Some(json)) => serde_json::from_str(&json).ok(),
            Ok(None) => None,
            Err(e) => {
                keep(e.into());
                None
            }
        }
    };
    let corrections = |p: Period| {
        store.corrections(&p.label()).unwrap_or_else(|e| {
            keep(e.into());
            Vec::new()
        })
    };
    let sanctions = |p: Period| {
        store.sanctions(&p.label()).unwrap_or_else(|e| {
            keep(e.into());
            Vec::new()
        })
    };
    let inputs = Inputs {
        scheme: &scheme_of,
        reps,
        actual: &actual,
        qualitative: &qualitative,
        locked: &locked,
        corrections: &corrections,
        sanctions: &sanctions,
    };
    let cards = if lock { scorecard::computed(period, &inputs) } else { scorecard::scorecards(period, &inputs) };
    if let Some(e) = error.into_inner() {
        return Err(e);
    }
    cards.map_err(QueryError::Bad)
}

/// Lock a period with its scorecards as computed now; `false` when it was locked already.
pub fn lock(
    store: &dyn AnalyticsStore,
    reps: &[(String, Option<String>)],
    period: Period,
    by: &str,
    at: i64,
) -> Result<bool, QueryError> {
    let mut cards = scorecards(store, reps, period, true)?;
    for c in &mut cards {
        c.locked = true;
    }
    let json = serde_json::to_string(&cards).map_err(|e| QueryError::Bad(e.to_string()))?;
    Ok(store.lock_period(&period.label(), &json, by, at)?)
}

/// The scorecards `user` may read: a rep their own, a manager their team's, executives and
/// admins all; `None` for any other role.
pub fn visible(role: Role, user: &str, cards: Vec<Scorecard>) -> Option<Vec<Scorecard>> {
    match role {
        Role::Executive | Role::Admin => Some(cards),
        Role::Manager => Some(cards.into_iter().filter(|c| c.team.as_deref() == Some(user)).collect()),
        Role::Rep => Some(cards.into_iter().filter(|c| c.rep == user).collect()),
        _ => None,
    }
}
