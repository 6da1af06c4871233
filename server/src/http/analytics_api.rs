//! The analysis endpoints for the web dashboard and the company's BI tools, each behind a
//! bearer token whose session decides the figures it may see (`analytics::scope_for`):
//!
//! - `GET /api/analytics/status`: how far the projection is behind the change feed.
//! - `GET /api/analytics/problems`: records that cannot be counted, with the reason.
//! - `GET /api/analytics/{indicator}?period=month&from=YYYY-MM-DD&to=…&by=rep&territory=…`
//!   (`&format=csv` for CSV): one indicator's table.

use crate::analytics::{self, QueryError};
use crate::http::api_error::ApiError;
use crate::http::app_state::AppState;
use crate::http::router::{bearer, missing_token};
use crate::identity::accounts::now_ms;
use crate::identity::session::Session;
use crate::storage::analytics::{AnalyticsStore, SqliteAnalytics};
use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use protocol::{ErrorCode, Role};
use std::sync::atomic::Ordering;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/analytics/status", get(status))
        .route("/api/analytics/problems", get(problems))
        .route("/api/analytics/{indicator}", get(indicator))
}

/// The session of the request's bearer token.
pub(crate) async fn session(app: &AppState, headers: &HeaderMap) -> Result<Session, ApiError> {
    let token = bearer(headers).ok_or_else(missing_token)?;
    let accounts = app.accounts.clone();
    tokio::task::spawn_blocking(move || accounts.authenticate(&token, now_ms()))
        .await
        .map_err(|_| ApiError::internal())?
        .map_err(ApiError::from)
}

pub(crate) fn forbidden(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, ErrorCode::Forbidden, message)
}

fn bad(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, ErrorCode::Malformed, message)
}

fn db_error(e: impl std::fmt::Display) -> ApiError {
    tracing::warn!(error = %e, "analytics query failed");
    ApiError::internal()
}

/// Run `f` on a blocking thread with the analysis store.
pub(crate) async fn with_store<T: Send + 'static>(
    app: &AppState,
    f: impl FnOnce(&dyn AnalyticsStore) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let dir = app.analytics.data_dir.clone();
    tokio::task::spawn_blocking(move || {
        let store = SqliteAnalytics::open_in(&dir).map_err(db_error)?;
        f(&store)
    })
    .await
    .map_err(|_| ApiError::internal())?
}

#[derive(serde::Serialize)]
struct Status {
    cursor: i64,
    feed_seq: i64,
    /// Sequence numbers not projected yet.
    lag: i64,
    docs_projected: i64,
    counts: crate::storage::analytics::AnalyticsCounts,
}

async fn status(State(app): State<AppState>, headers: HeaderMap) -> Result<Json<Status>, ApiError> {
    session(&app, &headers).await?;
    let p = app.analytics.projection.clone();
    let counts = with_store(&app, |s| s.counts().map_err(db_error)).await?;
    let feed_seq = p.feed_seq.load(Ordering::Relaxed);
    Ok(Json(Status {
        cursor: counts.cursor,
        feed_seq,
        lag: (feed_seq - counts.cursor).max(0),
        docs_projected: p.docs_projected.load(Ordering::Relaxed),
        counts,
    }))
}

#[derive(serde::Serialize)]
struct ProblemOut {
    id: String,
    kind: String,
    reason: String,
    detail: String,
}

async fn problems(State(app): State<AppState>, headers: HeaderMap) -> Result<Json<Vec<ProblemOut>>, ApiError> {
    let s = session(&app, &headers).await?;
    if !matches!(s.role, Role::Executive | Role::Finance | Role::Market | Role::Admin | Role::Manager) {
        return Err(forbidden("the data-cleaning list is for managers, executives, finance and market"));
    }
    let rows = with_store(&app, |s| s.problems().map_err(db_error)).await?;
    Ok(Json(
        rows.into_iter()
            .map(|p| ProblemOut {
                id: uuid::Uuid::from_slice(&p.doc_id).map(|u| u.to_string()).unwrap_or_default(),
                kind: p.kind,
                reason: p.reason,
                detail: p.detail,
            })
            .collect(),
    ))
}

async fn indicator(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(name): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let s = session(&app, &headers).await?;
    let q = analytics::parse_query(&name, &pairs, now_ms()).map_err(bad)?;
    let scope = analytics::scope_for(s.role, &s.user, &s.territories, &q).map_err(|f| forbidden(f.0))?;
    let csv = pairs.iter().any(|(k, v)| k == "format" && v == "csv");
    let table = with_store(&app, move |store| {
        analytics::run(store, &q, &scope).map_err(|e| match e {
            QueryError::Bad(m) => bad(m),
            QueryError::Db(e) => db_error(e),
        })
    })
    .await?;
    if csv {
        let body = analytics::indicators::to_csv(&table);
        return Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], body).into_response());
    }
    Ok(Json(table).into_response())
}
