//! One WebSocket sync connection: reads frames, decodes them and hands them to the hub;
//! writes what the hub queues for it. Any bad frame ends this connection (with an
//! `Error` message and a close code) and nothing else.

use crate::http::app_state::AppState;
use crate::identity::session::Session;
use crate::sync::conn_id::ConnId;
use crate::sync::hub_event::HubEvent;
use crate::sync::hub_runner::{ConnOutbox, Outbound};
use axum::body::Bytes;
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use protocol::wire::MAX_MESSAGE_BYTES;
use protocol::{ClientMsg, ErrorCode, ServerMsg};
use std::time::Duration;
use tokio::time::timeout;

/// A peer that does not take a frame within this time is dropped.
const SEND_TIMEOUT: Duration = Duration::from_secs(30);
/// How long to wait for the peer's reply to our close frame.
const CLOSE_WAIT: Duration = Duration::from_secs(2);
/// WebSocket "going away".
const CLOSE_GOING_AWAY: u16 = 1001;

enum End {
    /// The peer closed or the connection broke.
    Gone,
    /// Close with this code after sending `frame` (an encoded `ServerMsg::Error`).
    Fatal {
        code: ErrorCode,
        frame: Bytes,
    },
    Shutdown,
}

pub async fn run(mut socket: WebSocket, app: AppState, conn: ConnId, session: Session) {
    app.stats.connection_opened();
    let user = session.user.clone();
    let principal = session.principal();
    tracing::debug!(%conn, user, device = %session.device_id, "connected");
    let (outbox, mut frames, kill, queued) = ConnOutbox::new();
    let mut kill = Some(kill);
    let mut shutdown = app.shutdown.clone();
    // The first frame must be a Hello, and soon: a connection that holds a slot without
    // saying who it is gets closed.
    let hello_timeout = app.hello_timeout;
    let hello_deadline = tokio::time::sleep(hello_timeout);
    tokio::pin!(hello_deadline);
    let mut said_hello = false;

    let end = if app.hub.connect(conn, session, outbox).await.is_err() {
        fatal(ErrorCode::Internal, "the sync service is stopping")
    } else {
        loop {
            tokio::select! {
                biased;
                code = async {
                    match kill.as_mut() {
                        Some(k) => k.await,
                        None => std::future::pending().await,
                    }
                } => match code {
                    Ok(code) => break fatal(code, code.describe()),
                    Err(_) => kill = None,
                },
                out = frames.recv() => match out {
                    Some(item @ Outbound::Frame { .. }) => {
                        item.written(&queued);
                        let Outbound::Frame { frame, queued_at } = item else { unreachable!() };
                        if !send(&mut socket, Message::Binary(frame)).await {
                            break End::Gone;
                        }
                        app.stats.metrics.delivery_seconds.observe(queued_at.elapsed().as_secs_f64());
                    }
                    Some(Outbound::Fatal { code, frame }) => break End::Fatal { code, frame },
                    None => {
                        let code = kill
                            .as_mut()
                            .and_then(|k| k.try_recv().ok())
                            .unwrap_or(ErrorCode::Internal);
                        break fatal(code, code.describe());
                    }
                },
                _ = stopping(&mut shutdown) => break End::Shutdown,
                _ = &mut hello_deadline, if !said_hello => {
                    tracing::info!(%conn, user, code = ErrorCode::Timeout.as_str(), "no hello in time");
                    break fatal(ErrorCode::Timeout, &format!("no Hello within {} s of connecting", hello_timeout.as_secs_f32()));
                }
                incoming = socket.recv() => match incoming {
                    None | Some(Err(_)) | Some(Ok(Message::Close(_))) => break End::Gone,
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                    Some(Ok(Message::Text(_))) => {
                        let end = fatal(ErrorCode::Malformed, "text frames are not part of the protocol; send binary frames");
                        tracing::warn!(%conn, user, code = ErrorCode::Malformed.as_str(), "text frame");
                        break end;
                    }
                    Some(Ok(Message::Binary(data))) => match decode(&data) {
                        Ok(msg @ (ClientMsg::BlobStart { .. } | ClientMsg::BlobPut { .. } | ClientMsg::BlobGet { .. })) => {
                            if !said_hello {
                                break fatal(ErrorCode::UnexpectedMessage, "attachments come after the hello");
                            }
                            // Off the hub: written (and fsynced) or read here, answered directly.
                            let (blobs, who) = (app.blobs.clone(), principal.clone());
                            let answer = tokio::task::spawn_blocking(move || {
                                blobs.handle(&who, msg, crate::identity::accounts::now_ms())
                            })
                            .await;
                            let Ok(answer) = answer else {
                                break fatal(ErrorCode::Internal, ErrorCode::Internal.describe());
                            };
                            let frame = protocol::wire::encode(&answer).unwrap_or_default();
                            if !send(&mut socket, Message::Binary(Bytes::from(frame))).await {
                                break End::Gone;
                            }
                        }
                        Ok(msg) => {
                            said_hello |= matches!(msg, ClientMsg::Hello(_));
                            if app.hub.send(HubEvent::Message { conn, msg }).await.is_err() {
                                break fatal(ErrorCode::Internal, "the sync service is stopping");
                            }
                        }
                        Err((code, message)) => {
                            tracing::warn!(%conn, user, code = code.as_str(), message, "bad frame");
                            break fatal(code, &message);
                        }
                    },
                },
            }
        }
    };

    // The hub forgets the connection before the close handshake.
    let _ = app.hub.send(HubEvent::Disconnected { conn }).await;
    match end {
        End::Gone => {}
        End::Fatal { code, frame } => {
            if send(&mut socket, Message::Binary(frame)).await {
                close(&mut socket, code.close_code(), code.as_str()).await;
            }
        }
        End::Shutdown => close(&mut socket, CLOSE_GOING_AWAY, "server shutting down").await,
    }
    tracing::debug!(%conn, user, "disconnected");
    // Counted as closed only once this task holds nothing of the server any more, so
    // that shutdown can wait for it.
    let stats = app.stats.clone();
    drop(app);
    stats.connection_closed();
}

/// Completes once the server shuts down.
async fn stopping(rx: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = rx.wait_for(|stop| *stop).await;
}

fn decode(data: &[u8]) -> Result<ClientMsg, (ErrorCode, String)> {
    if data.len() > MAX_MESSAGE_BYTES {
        return Err((
            ErrorCode::TooLarge,
            format!("frame of {} bytes is over the {MAX_MESSAGE_BYTES}-byte limit", data.len()),
        ));
    }
    let msg = protocol::wire::decode::<ClientMsg>(data).map_err(|e| (e.code(), e.to_string()))?;
    // Counts and free text within their caps (the texts themselves are not echoed: they
    // never reach the log).
    msg.check_limits().map_err(|e| (e.code(), e.to_string()))?;
    // The work a push represents, measured here on the connection's task from the chunks'
    // headers: a hostile push never reaches the sync thread (which checks again, cheaply).
    if let ClientMsg::Push { docs } = &msg
        && let Err((id, e)) = crate::access::authorize::check_frame(docs, &protocol::inspect::Limits::DEFAULT)
    {
        return Err((e.code(), format!("document {id}: {e}")));
    }
    Ok(msg)
}

fn fatal(code: ErrorCode, message: &str) -> End {
    let msg = ServerMsg::Error { code, message: message.to_string() };
    let frame = protocol::wire::encode(&msg).unwrap_or_default();
    End::Fatal { code, frame: Bytes::from(frame) }
}

async fn send(socket: &mut WebSocket, msg: Message) -> bool {
    matches!(timeout(SEND_TIMEOUT, socket.send(msg)).await, Ok(Ok(())))
}

/// Send a close frame and wait (briefly) for the peer's, so the peer reads everything.
async fn close(socket: &mut WebSocket, code: u16, reason: &'static str) {
    let frame = CloseFrame { code, reason: reason.into() };
    if !send(socket, Message::Close(Some(frame))).await {
        return;
    }
    let _ = timeout(CLOSE_WAIT, async {
        while let Some(Ok(msg)) = socket.recv().await {
            if matches!(msg, Message::Close(_)) {
                break;
            }
        }
    })
    .await;
}
