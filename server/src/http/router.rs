//! HTTP routes: health, login, logout, and the WebSocket upgrade for sync.

use crate::http::api_error::ApiError;
use crate::http::app_state::AppState;
use crate::http::sync_socket;
use crate::identity::account_error::AccountError;
use crate::identity::accounts::{LoginAttempt, now_ms};
use crate::identity::verifier_pool::PoolBusy;
use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::{ConnectInfo, State, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use protocol::ErrorCode;
use protocol::wire::MAX_MESSAGE_BYTES;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use uuid::Uuid;

/// axum's own frame limit is a little above ours, so that a frame slightly too large is
/// still read and answered with a clear `too_large` error.
const WS_LIMIT_SLACK: usize = 1024 * 1024;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .route("/api/login", post(login))
        .route("/api/logout", post(logout))
        .route("/sync", get(sync))
        .merge(crate::http::analytics_api::routes())
        .with_state(state)
}

#[derive(Serialize)]
struct Health {
    status: &'static str,
    version: &'static str,
    documents: u64,
    connections: u64,
    /// Argon2 password checks made since the start.
    password_checks: u64,
    /// Logins answered "busy" since the start.
    logins_busy: u64,
    /// TCP connections refused for being over a connection cap since the start.
    connections_refused: u64,
    /// `sqlite <path>`, or `postgres <host:port/database>` shared by several nodes.
    database: String,
    /// This node's id (`jiuloop-server nodes`).
    node: String,
}

/// Prometheus' text format (see `crate::metrics`): counts only, nobody's data.
async fn metrics(State(app): State<AppState>) -> impl axum::response::IntoResponse {
    ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], app.stats.render_metrics())
}

async fn health(State(app): State<AppState>) -> Json<Health> {
    Json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
        documents: app.stats.documents(),
        connections: app.stats.connections(),
        password_checks: app.stats.password_checks(),
        logins_busy: app.stats.logins_busy(),
        connections_refused: app.stats.connections_refused(),
        database: app.stats.database().to_string(),
        node: app.stats.node().to_string(),
    })
}

/// `POST /api/login` body.
#[derive(Deserialize)]
struct LoginRequest {
    user: String,
    password: String,
    device_id: String,
    #[serde(default)]
    device_name: String,
}

/// `POST /api/login` answer.
#[derive(Serialize)]
struct LoginResponse {
    token: String,
    /// RFC 3339, UTC.
    expires_at: String,
    user: String,
    role: &'static str,
    territory: Option<String>,
    /// Every territory whose customers the user reads: own, plus a manager's team's.
    territories: Vec<String>,
}

async fn login(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: Bytes,
) -> Result<Json<LoginResponse>, ApiError> {
    let req: LoginRequest = serde_json::from_slice(&body)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, ErrorCode::Malformed, format!("login body: {e}")))?;
    let device_id = Uuid::parse_str(req.device_id.trim())
        .map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, ErrorCode::Malformed, "device_id must be a UUID"))?;
    // The attempt is counted before its password is checked (on the verifier pool, behind
    // a bounded queue): too many under way, or a full queue, is answered at once.
    let refused = |user: &str, e: AccountError| {
        let outcome = crate::metrics::OutcomeLabel { outcome: e.code().as_str().to_string() };
        app.stats.metrics.logins.get_or_create(&outcome).inc();
        if e.code() == ErrorCode::Busy {
            app.stats.login_busy();
        }
        tracing::info!(user = clip(user), peer = %peer.ip(), code = e.code().as_str(), "login refused");
        ApiError::from(e)
    };
    let reservation = match app.accounts.reserve(&req.user, peer.ip()) {
        Ok(r) => r,
        Err(e) => return Err(refused(&req.user, e)),
    };
    let accounts = app.accounts.clone();
    let user = req.user.clone();
    let checked = app.verifier.try_run(move |memory| {
        let attempt = LoginAttempt {
            user: &req.user,
            password: &req.password,
            device_id,
            device_name: &req.device_name,
            addr: peer.ip(),
        };
        accounts.login_reserved(&attempt, reservation, memory, now_ms())
    });
    let result = match checked {
        Ok(answer) => (user, answer.await.map_err(|_| ApiError::internal())?),
        Err(PoolBusy) => return Err(refused(&user, AccountError::Busy)),
    };
    match result {
        (_, Ok(grant)) => {
            app.stats.metrics.logins.get_or_create(&crate::metrics::OutcomeLabel { outcome: "ok".into() }).inc();
            tracing::info!(user = grant.user, device = %device_id, "login");
            Ok(Json(LoginResponse {
                token: grant.token,
                expires_at: protocol::time::rfc3339(grant.expires_at),
                user: grant.user,
                role: grant.role.as_str(),
                territory: grant.territory,
                territories: grant.territories,
            }))
        }
        (user, Err(e)) => Err(refused(&user, e)),
    }
}

async fn logout(State(app): State<AppState>, headers: HeaderMap) -> Result<StatusCode, ApiError> {
    let token = bearer(&headers).ok_or_else(missing_token)?;
    let accounts = app.accounts.clone();
    let token_hash = crate::identity::token::hash(&token);
    tokio::task::spawn_blocking(move || accounts.logout(&token)).await.map_err(|_| ApiError::internal())??;
    // Connections opened with the token close now, not at their next reconnect.
    let _ = app.hub.send(crate::sync::hub_event::HubEvent::TokenRevoked { token_hash }).await;
    Ok(StatusCode::NO_CONTENT)
}

async fn sync(
    State(app): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let Some(token) = bearer(&headers).or_else(|| query_token(&uri)) else {
        return missing_token().into_response();
    };
    let accounts = app.accounts.clone();
    let session = match tokio::task::spawn_blocking(move || accounts.authenticate(&token, now_ms())).await {
        Ok(Ok(session)) => session,
        Ok(Err(e)) => {
            tracing::info!(code = e.code().as_str(), "sync connection refused");
            return ApiError::from(e).into_response();
        }
        Err(_) => return ApiError::internal().into_response(),
    };
    let upgrade = match upgrade {
        Ok(u) => u,
        Err(rejection) => return rejection.into_response(),
    };
    let conn = app.next_conn_id();
    upgrade
        .max_message_size(MAX_MESSAGE_BYTES + WS_LIMIT_SLACK)
        .max_frame_size(MAX_MESSAGE_BYTES + WS_LIMIT_SLACK)
        .on_upgrade(move |socket| sync_socket::run(socket, app, conn, session))
}

/// A user name as logged: at most 64 characters (longer ones are refused anyway).
fn clip(user: &str) -> &str {
    user.char_indices().nth(64).map_or(user, |(i, _)| &user[..i])
}

pub(crate) fn missing_token() -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized, "missing bearer token")
}

/// The token of an `Authorization: Bearer T` header.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| token.to_string())
}

/// The `token` query parameter (tokens are hex: no decoding needed).
fn query_token(uri: &Uri) -> Option<String> {
    uri.query()?
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, v)| *k == "token" && !v.is_empty())
        .map(|(_, v)| v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_found_in_header_or_query() {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, "Bearer abc".parse().unwrap());
        assert_eq!(bearer(&h).as_deref(), Some("abc"));
        h.insert(header::AUTHORIZATION, "Basic abc".parse().unwrap());
        assert_eq!(bearer(&h), None);
        let uri: Uri = "/sync?x=1&token=deadbeef".parse().unwrap();
        assert_eq!(query_token(&uri).as_deref(), Some("deadbeef"));
        let uri: Uri = "/sync?token=".parse().unwrap();
        assert_eq!(query_token(&uri), None);
    }
}
