//! The native sync driver: runs the client core's [`SyncEngine`] over a tokio-tungstenite
//! WebSocket until the device and the server are in sync. It persists every batch of store
//! ops before it sends the frames that follow from them.

use crate::http::{HttpError, ServerUrl};
use crate::profile::{Profile, ProfileError};
use crate::tls::TlsFailure;
use client_core::{SyncEngine, SyncError, SyncStats};
use futures_util::{SinkExt, StreamExt};
use protocol::ErrorCode;
use serde::Serialize;
use std::time::Duration;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{self, Message};

/// How long to wait for the server's next frame before giving up.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum SyncFailure {
    #[error("server unreachable at {0}: {1} (local data is untouched)")]
    Unreachable(String, String),
    #[error("the server refused the connection: {} ({code})", code.describe())]
    Rejected { code: ErrorCode },
    #[error("the server answered HTTP {0} to the sync request")]
    Http(u16),
    #[error("connection lost: {0} (everything received so far is stored; run sync again)")]
    Lost(String),
    #[error("the server did not answer within {0:?}")]
    Timeout(Duration),
    #[error(transparent)]
    Sync(#[from] SyncError),
    #[error(transparent)]
    Profile(#[from] ProfileError),
    #[error(transparent)]
    Url(#[from] HttpError),
    #[error(transparent)]
    Tls(#[from] TlsFailure),
}

impl SyncFailure {
    /// The error code the server gave, if it gave one.
    /// The failed handshake, if that is what went wrong.
    pub fn tls(&self) -> Option<&TlsFailure> {
        match self {
            SyncFailure::Tls(t) => Some(t),
            SyncFailure::Url(e) => e.tls(),
            _ => None,
        }
    }

    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            SyncFailure::Rejected { code } => Some(*code),
            SyncFailure::Sync(SyncError::Server { code, .. }) => Some(*code),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct SyncReport {
    #[serde(flatten)]
    pub stats: SyncStats,
    pub cursor: u64,
}

/// Connect, sync until quiescent, close. A server restored from a backup (`cursor_ahead`)
/// is synced again at once: this device sends it everything it lacks.
/// Documents stream through memory: each batch received is stored (with its index rows)
/// and the documents now held exactly as the server holds them are dropped from memory.
pub async fn sync(profile: &mut Profile) -> Result<SyncReport, SyncFailure> {
    profile.set_syncing(true)?;
    let result = match sync_once(profile).await {
        Err(e) if e.code() == Some(ErrorCode::CursorAhead) => sync_once(profile).await,
        other => other,
    };
    profile.set_syncing(false)?;
    result
}

async fn sync_once(profile: &mut Profile) -> Result<SyncReport, SyncFailure> {
    let (server, token) = profile.login()?;
    let url = ServerUrl::parse(&server)?;
    let mut request = url.ws_url("/sync").into_client_request().map_err(|e| SyncFailure::Lost(e.to_string()))?;
    let bearer = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|e| SyncFailure::Lost(e.to_string()))?;
    request.headers_mut().insert("authorization", bearer);
    let connector = tokio_tungstenite::Connector::Rustls(profile.tls_config()?);
    let connected = match crate::proxy::proxy_for(&url) {
        None => tokio_tungstenite::connect_async_tls_with_config(request, None, true, Some(connector)).await,
        Some(proxy) => match crate::proxy::tunnel(&proxy, &url.authority()).await {
            Ok(stream) => {
                let _ = stream.set_nodelay(true);
                tokio_tungstenite::client_async_tls_with_config(request, stream, None, Some(connector)).await
            }
            Err(e) => Err(tungstenite::Error::Io(e)),
        },
    };
    let (mut ws, _) = match connected {
        Ok(ok) => ok,
        Err(tungstenite::Error::Http(resp)) => {
            let body = resp.body().as_deref().map(String::from_utf8_lossy).unwrap_or_default().to_string();
            let code = serde_json::from_str::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v.get("code").and_then(|c| c.as_str()).and_then(ErrorCode::parse));
            if code == Some(ErrorCode::Revoked) {
                // This user or device was disabled: remove the company's data from it.
                profile.replica.wipe("this user or device was disabled by the administrator", crate::now_ms());
                profile.persist()?;
                profile.forget_token()?;
            }
            return Err(match code {
                Some(code) => SyncFailure::Rejected { code },
                None => SyncFailure::Http(resp.status().as_u16()),
            });
        }
        Err(e) => {
            return Err(match url.tls_failure(&e) {
                Some(t) => SyncFailure::Tls(t),
                None => SyncFailure::Unreachable(url.authority(), crate::http::chain(&e)),
            });
        }
    };

    let mut engine = SyncEngine::new(profile.device_id(), concat!("jiuloop-cli/", env!("CARGO_PKG_VERSION")));
    let frames = engine.connected(&mut profile.replica)?;
    profile.persist()?;
    send_all(&mut ws, frames).await?;

    while !engine.is_quiescent(&mut profile.replica) {
        let next = timeout(IDLE_TIMEOUT, ws.next()).await.map_err(|_| SyncFailure::Timeout(IDLE_TIMEOUT))?;
        match next {
            Some(Ok(Message::Binary(frame))) => {
                let result = engine.receive(&mut profile.replica, &frame, crate::now_ms());
                // Whatever was applied before an error is kept.
                profile.persist()?;
                send_all(&mut ws, result?).await?;
            }
            Some(Ok(Message::Close(frame))) => {
                let code = frame.as_ref().and_then(|f| match f.code {
                    CloseCode::Library(c) => ErrorCode::from_close_code(c),
                    _ => None,
                });
                return Err(match code {
                    Some(code) => SyncFailure::Rejected { code },
                    None => SyncFailure::Lost("the server closed the connection".into()),
                });
            }
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(SyncFailure::Lost(e.to_string())),
            None => return Err(SyncFailure::Lost("the server closed the connection".into())),
        }
    }
    let _ = ws.close(None).await;
    profile.set_meta("last_sync", &crate::now_ms().to_string())?;
    Ok(SyncReport { stats: engine.stats.clone(), cursor: profile.replica.cursor() })
}

async fn send_all<S>(ws: &mut S, frames: Vec<Vec<u8>>) -> Result<(), SyncFailure>
where
    S: SinkExt<Message, Error = tungstenite::Error> + Unpin,
{
    for frame in frames {
        ws.feed(Message::Binary(frame.into())).await.map_err(|e| SyncFailure::Lost(e.to_string()))?;
    }
    ws.flush().await.map_err(|e| SyncFailure::Lost(e.to_string()))
}
