//! The analysis endpoints for the web dashboard and the company's BI tools, each behind a
//! bearer token whose session decides the figures it may see (`analytics::scope_for`):
//!
//! - `GET /api/analytics/status`: how far the projection is behind the change feed.
//! - `GET /api/analytics/problems`: records that cannot be counted, with the reason.
//! - `GET /api/analytics/{indicator}?period=month&from=YYYY-MM-DD&to=…&by=rep&territory=…`
//!   (`&format=csv` for CSV): one indicator's table.
//! - `GET /api/reports/{period}` (`2026-03`, `2026-Q1`, `2026`; `?format=csv` every table,
//!   `?format=html` a printable page; `&lang=en`): the periodic analysis report as the
//!   reader may see it (`analytics::report`).
//! - `GET /api/scorecards?period=2026-03` (or `2026-Q1`, `2026`): the rep assessment
//!   scorecards the reader may see (a rep their own, a manager their team's, executives
//!   all); `POST /api/scorecards/scheme` (executives), `…/qualitative` (the rep's manager),
//!   `…/lock` (executives), `…/correction` (executives, locked periods only), `…/sanction`
//!   (the rep's manager or an executive: a reward or penalty in fen).

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
use axum::routing::{get, post};
use protocol::{ErrorCode, Role};
use std::sync::atomic::Ordering;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/analytics/status", get(status))
        .route("/api/analytics/problems", get(problems))
        .route("/api/analytics/{indicator}", get(indicator))
        .route("/api/reports/{period}", get(report))
        .route("/api/scorecards", get(scorecards))
        .route("/api/scorecards/scheme", post(set_scheme))
        .route("/api/scorecards/qualitative", post(qualitative))
        .route("/api/scorecards/lock", post(lock))
        .route("/api/scorecards/correction", post(correction))
        .route("/api/scorecards/sanction", post(sanction))
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
    // Every territory's records: not for a manager (whose figures are their team's).
    if !matches!(s.role, Role::Executive | Role::Finance | Role::Market | Role::Admin) {
        return Err(forbidden("the data-cleaning list is for executives, finance, market and admins"));
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

async fn report(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(label): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    use protocol::schema::Lang;
    let s = session(&app, &headers).await?;
    let period = period_of(&label)?;
    let get = |k: &str| pairs.iter().rev().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
    let lang = if get("lang") == Some("en") { Lang::En } else { Lang::Zh };
    let format = get("format").unwrap_or("json").to_string();
    let (role, user, territories) = (s.role, s.user.clone(), s.territories.clone());
    let r = with_store(&app, move |store| {
        analytics::report::build(store, period, role, &user, &territories).map_err(query_error)
    })
    .await?;
    if r.sections.is_empty() {
        return Err(forbidden(format!("the {} role has no sales figures", s.role.as_str())));
    }
    Ok(match format.as_str() {
        "csv" => ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], analytics::report::to_report_csv(&r, lang))
            .into_response(),
        "html" => {
            ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], analytics::report::to_html(&r, lang)).into_response()
        }
        _ => Json(r).into_response(),
    })
}

fn conflict(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::CONFLICT, ErrorCode::Forbidden, message)
}

fn query_error(e: QueryError) -> ApiError {
    match e {
        QueryError::Bad(m) => bad(m),
        QueryError::Db(e) => db_error(e),
    }
}

fn period_of(label: &str) -> Result<crate::analytics::period::Period, ApiError> {
    use crate::analytics::period::PeriodKind;
    crate::analytics::period::Period::parse(label)
        .filter(|p| matches!(p.kind, PeriodKind::Month | PeriodKind::Quarter | PeriodKind::Year))
        .ok_or_else(|| bad(format!("not an assessment period (2026-03, 2026-Q1, 2026): {label}")))
}

/// The store and the reps (from the sync database), on a blocking thread.
async fn with_reps<T: Send + 'static>(
    app: &AppState,
    f: impl FnOnce(&dyn AnalyticsStore, &[(String, Option<String>)]) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let database = app.analytics.database.clone();
    with_store(app, move |store| {
        let feed = database.open().map_err(db_error)?;
        let reps = analytics::assessment::reps(&*feed).map_err(db_error)?;
        f(store, &reps)
    })
    .await
}

fn body<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| bad(format!("body: {e}")))
}

fn is_executive(s: &Session) -> bool {
    matches!(s.role, Role::Executive | Role::Admin)
}

/// May `s` score or sanction `rep` (their manager, or an executive)?
fn manages(s: &Session, reps: &[(String, Option<String>)], rep: &str) -> Result<(), ApiError> {
    let Some((_, manager)) = reps.iter().find(|(r, _)| r == rep) else {
        return Err(bad(format!("no rep '{rep}'")));
    };
    if is_executive(s) || (s.role == Role::Manager && manager.as_deref() == Some(s.user.as_str())) {
        Ok(())
    } else {
        Err(forbidden(format!("{rep} is not in your team")))
    }
}

async fn scorecards(
    State(app): State<AppState>,
    headers: HeaderMap,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Json<Vec<analytics::scorecard::Scorecard>>, ApiError> {
    let s = session(&app, &headers).await?;
    let label = pairs.iter().find(|(k, _)| k == "period").map(|(_, v)| v.clone()).unwrap_or_default();
    let period = period_of(&label)?;
    let cards = with_reps(&app, move |store, reps| {
        analytics::assessment::scorecards(store, reps, period, false).map_err(query_error)
    })
    .await?;
    analytics::assessment::visible(s.role, &s.user, cards)
        .map(Json)
        .ok_or_else(|| forbidden(format!("the {} role has no scorecards", s.role.as_str())))
}

#[derive(serde::Deserialize)]
struct SchemeBody {
    period_kind: String,
    scheme: analytics::scorecard::Scheme,
}

async fn set_scheme(
    State(app): State<AppState>,
    headers: HeaderMap,
    bytes: axum::body::Bytes,
) -> Result<StatusCode, ApiError> {
    let s = session(&app, &headers).await?;
    if !is_executive(&s) {
        return Err(forbidden("only executives set the assessment scheme"));
    }
    let b: SchemeBody = body(&bytes)?;
    let kind: analytics::period::PeriodKind = b.period_kind.parse().map_err(bad)?;
    let problems = b.scheme.problems();
    if !problems.is_empty() {
        return Err(bad(problems.join("; ")));
    }
    let json = serde_json::to_string(&b.scheme).map_err(|_| ApiError::internal())?;
    with_store(&app, move |store| store.set_scheme(kind.as_str(), &json, &s.user, now_ms()).map_err(db_error)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(serde::Deserialize)]
struct QualitativeBody {
    period: String,
    rep: String,
    criterion: String,
    score: i64,
}

async fn qualitative(
    State(app): State<AppState>,
    headers: HeaderMap,
    bytes: axum::body::Bytes,
) -> Result<StatusCode, ApiError> {
    let s = session(&app, &headers).await?;
    let b: QualitativeBody = body(&bytes)?;
    let period = period_of(&b.period)?;
    if !(0..=100).contains(&b.score) {
        return Err(bad("a qualitative score is 0 to 100"));
    }
    with_reps(&app, move |store, reps| {
        manages(&s, reps, &b.rep)?;
        let q = crate::storage::analytics::QualitativeScore {
            period: period.label(),
            rep: b.rep,
            criterion: b.criterion,
            score: b.score,
            by: s.user.clone(),
            at: now_ms(),
        };
        match store.set_qualitative(&q).map_err(db_error)? {
            true => Ok(()),
            false => Err(conflict(format!("{} is locked: record a correction", q.period))),
        }
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(serde::Deserialize)]
struct PeriodBody {
    period: String,
}

async fn lock(
    State(app): State<AppState>,
    headers: HeaderMap,
    bytes: axum::body::Bytes,
) -> Result<StatusCode, ApiError> {
    let s = session(&app, &headers).await?;
    if !is_executive(&s) {
        return Err(forbidden("only executives close an assessment period"));
    }
    let b: PeriodBody = body(&bytes)?;
    let period = period_of(&b.period)?;
    let locked = with_reps(&app, move |store, reps| {
        analytics::assessment::lock(store, reps, period, &s.user, now_ms()).map_err(query_error)
    })
    .await?;
    if locked { Ok(StatusCode::NO_CONTENT) } else { Err(conflict(format!("{} is locked already", b.period))) }
}

#[derive(serde::Deserialize)]
struct CorrectionBody {
    period: String,
    rep: String,
    item: String,
    score: i64,
    reason: String,
}

async fn correction(
    State(app): State<AppState>,
    headers: HeaderMap,
    bytes: axum::body::Bytes,
) -> Result<StatusCode, ApiError> {
    let s = session(&app, &headers).await?;
    if !is_executive(&s) {
        return Err(forbidden("only executives correct a closed period"));
    }
    let b: CorrectionBody = body(&bytes)?;
    let period = period_of(&b.period)?;
    if b.reason.trim().is_empty() {
        return Err(bad("a correction needs a reason"));
    }
    with_store(&app, move |store| {
        if store.locked(&period.label()).map_err(db_error)?.is_none() {
            return Err(conflict(format!("{} is not locked: change the scores themselves", period.label())));
        }
        let c = crate::storage::analytics::Correction {
            period: period.label(),
            rep: b.rep,
            item: b.item,
            score: b.score,
            reason: b.reason,
            by: s.user.clone(),
            at: now_ms(),
        };
        store.add_correction(&c).map_err(db_error)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(serde::Deserialize)]
struct SanctionBody {
    period: String,
    rep: String,
    amount_fen: i64,
    reason: String,
}

async fn sanction(
    State(app): State<AppState>,
    headers: HeaderMap,
    bytes: axum::body::Bytes,
) -> Result<StatusCode, ApiError> {
    let s = session(&app, &headers).await?;
    let b: SanctionBody = body(&bytes)?;
    let period = period_of(&b.period)?;
    if b.reason.trim().is_empty() {
        return Err(bad("a reward or penalty needs a reason"));
    }
    with_reps(&app, move |store, reps| {
        manages(&s, reps, &b.rep)?;
        let x = crate::storage::analytics::Sanction {
            period: period.label(),
            rep: b.rep,
            amount_fen: b.amount_fen,
            reason: b.reason,
            by: s.user.clone(),
            at: now_ms(),
        };
        store.add_sanction(&x).map_err(db_error)
    })
    .await?;
    Ok(StatusCode::CREATED)
}
