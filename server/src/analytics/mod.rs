//! Sales analysis (issue 13): a read model projected from the change feed outside the
//! sync write path ([`projector`]: rows are pure functions of the documents,
//! [`project`]), indicators as pure functions over those rows ([`indicators`], periods in
//! Asia/Shanghai: [`period`]), who may ask for
//! which figures ([`scope_for`]). The SQL lives in `storage::analytics`.

pub mod assessment;
pub mod indicators;
pub mod period;
pub mod project;
pub mod projector;
pub mod report;
pub mod scorecard;

#[cfg(test)]
mod rollup_check;

use crate::storage::DbError;
use crate::storage::analytics::AnalyticsStore;
use indicators::{Data, Dim, Query, Scope, Table};
use protocol::Role;

/// Why a reader may not have the figures asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Forbidden(pub String);

/// Whose figures `user` (of `role`, working in `territories`) may see for `q`: executives,
/// finance, market and admins all; a manager their team's territories; a rep only their
/// own — a rep asking for the team's figures (a breakdown by rep or territory, another rep,
/// a territory) is refused, not silently narrowed.
pub fn scope_for(role: Role, user: &str, territories: &[String], q: &Query) -> Result<Scope, Forbidden> {
    match role {
        Role::Executive | Role::Finance | Role::Market | Role::Admin => Ok(Scope::All),
        Role::Manager => {
            if let Some(t) = &q.filters.territory
                && !territories.contains(t)
            {
                return Err(Forbidden(format!("territory {t} is not your team's")));
            }
            Ok(Scope::Territories(territories.to_vec()))
        }
        Role::Rep => {
            let team = matches!(q.by, Dim::Rep | Dim::Territory | Dim::Region)
                || q.filters.territory.is_some()
                || q.filters.region.is_some()
                || q.filters.rep.as_deref().is_some_and(|r| r != user);
            if team {
                return Err(Forbidden("a rep sees only their own figures".into()));
            }
            Ok(Scope::Own(user.to_string()))
        }
        _ => Err(Forbidden(format!("the {} role has no sales figures", role.as_str()))),
    }
}

/// The rows `q` needs, from the store.
pub fn load_data(store: &dyn AnalyticsStore, q: &Query) -> Result<Data, DbError> {
    let (from, to) = q.data_range();
    use indicators::Indicator as I;
    let mut data = Data { customers: store.customers()?, ..Default::default() };
    match q.indicator {
        I::Revenue | I::Volume | I::Profit => data.orders = store.orders_between(from, to)?,
        I::Visits => data.visits = store.visits_between(from, to)?,
        I::Complaints => data.complaints = store.complaints_between(from, to)?,
        I::NewCustomers | I::Conversion => {}
    }
    if q.indicator == I::Profit {
        data.costs = store.costs()?.into_iter().collect();
    }
    Ok(data)
}

/// Errors of a query: the store, or the question.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error("{0}")]
    Db(#[from] DbError),
    #[error("{0}")]
    Bad(String),
}

/// An indicator's table for a reader's scope: revenue, volume and profit from the per-day
/// sales rollup, the others from the facts.
pub fn run(store: &dyn AnalyticsStore, q: &Query, scope: &Scope) -> Result<Table, QueryError> {
    if indicators::from_rollup(q.indicator) {
        let buckets = match indicators::sales_query(q, scope) {
            Some(sq) => store.sales(&sq)?,
            None => Vec::new(),
        };
        return indicators::compute_from_sales(q, &buckets).map_err(QueryError::Bad);
    }
    run_on_facts(store, q, scope)
}

/// An indicator's table computed from the facts themselves (the rollup's reference).
pub fn run_on_facts(store: &dyn AnalyticsStore, q: &Query, scope: &Scope) -> Result<Table, QueryError> {
    let data = load_data(store, q)?;
    indicators::compute(q, scope, &data).map_err(QueryError::Bad)
}

/// A query from `key=value` pairs (the HTTP query string, the command line):
/// `period`, `from`, `to` (YYYY-MM-DD, Asia/Shanghai, inclusive), `by`, and the filters
/// `territory`, `region`, `rep`, `channel`, `series`, `sku`. `from`/`to` default to the
/// current year.
pub fn parse_query(indicator: &str, pairs: &[(String, String)], now: i64) -> Result<Query, String> {
    let get = |k: &str| pairs.iter().rev().find(|(key, _)| key == k).map(|(_, v)| v.clone()).filter(|v| !v.is_empty());
    let date = |k: &str| -> Result<Option<chrono::NaiveDate>, String> {
        get(k)
            .map(|v| protocol::time::parse_date(&v).ok_or_else(|| format!("{k}: not a date (YYYY-MM-DD): {v}")))
            .transpose()
    };
    let today = period::local_date(now);
    let year = period::Period::containing(period::PeriodKind::Year, today);
    let from = date("from")?.unwrap_or(year.start);
    let to = date("to")?.unwrap_or(year.end() - chrono::Duration::days(1));
    if to < from {
        return Err("to is before from".into());
    }
    if (to - from).num_days() > 3700 {
        return Err("at most ten years at a time".into());
    }
    Ok(Query {
        indicator: indicator.parse()?,
        period: get("period").as_deref().unwrap_or("month").parse()?,
        from,
        to,
        by: get("by").as_deref().unwrap_or("total").parse()?,
        filters: indicators::Filters {
            territory: get("territory"),
            region: get("region"),
            rep: get("rep"),
            channel: get("channel"),
            series: get("series"),
            sku: get("sku"),
        },
    })
}
