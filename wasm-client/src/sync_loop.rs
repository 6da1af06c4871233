//! The browser sync driver: runs the client core's `SyncEngine` over a browser WebSocket
//! for as long as the tab holds the profile's sync lock, reconnecting with exponential
//! backoff. The counterpart of `cli/src/sync_driver.rs`: it persists every batch of store
//! ops (IndexedDB) before it sends the frames that follow from them.

use crate::client::Shared;
use crate::js::{self, now_ms};
use automerge::ActorId;
use client_core::{SyncEngine, SyncError};
use js_sys::{ArrayBuffer, Uint8Array};
use protocol::ErrorCode;
use std::cell::Cell;
use std::collections::BTreeSet;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{BinaryType, CloseEvent, Event, MessageEvent, WebSocket};

/// First retry delay; doubles per failed attempt up to [`MAX_BACKOFF_MS`].
pub const FIRST_BACKOFF_MS: f64 = 500.0;
pub const MAX_BACKOFF_MS: f64 = 15_000.0;
/// A connection that has not opened by then is given up.
const CONNECT_TIMEOUT_MS: f64 = 10_000.0;
const CLIENT_NAME: &str = concat!("jiuloop-web/", env!("CARGO_PKG_VERSION"));

pub enum Ev {
    Open(u32),
    Frame(u32, Vec<u8>),
    Closed(u32, u16),
    Timer(u32),
    /// This tab or another stored an edit: push it.
    Local,
    /// Another tab started writing with a new actor id.
    Actor,
    /// Try now (login, network back, user asked).
    Wake,
    /// Every stored document is loaded: syncing may start.
    Loaded,
    Shutdown,
}

/// Exponential backoff with jitter.
pub struct Backoff {
    attempt: u32,
}

impl Backoff {
    pub fn delay_ms(&self, jitter: f64) -> f64 {
        let base = (FIRST_BACKOFF_MS * 2f64.powi(self.attempt.min(16) as i32)).min(MAX_BACKOFF_MS);
        base * (0.8 + 0.4 * jitter.clamp(0.0, 1.0))
    }
}

enum Outcome {
    /// Reconnect at once (a new actor id must be announced, the login changed).
    Now,
    /// Connection lost or failed: wait, then retry.
    Retry(String),
    /// The server refuses this login: wait for a new one (retrying slowly).
    Auth(String),
    Stop,
}

/// The WebSocket of one connection attempt, with its handlers (dropped together).
struct Socket {
    ws: WebSocket,
    _handlers: Vec<Closure<dyn FnMut(Event)>>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
}

impl Socket {
    fn open(url: &str, conn: u32, sh: &Rc<Shared>) -> Result<Socket, JsValue> {
        let ws = WebSocket::new(url)?;
        ws.set_binary_type(BinaryType::Arraybuffer);
        let mb = sh.mailbox.clone();
        let on_open = Closure::<dyn FnMut(Event)>::new(move |_| mb.post(Ev::Open(conn)));
        let mb = sh.mailbox.clone();
        let on_close = Closure::<dyn FnMut(Event)>::new(move |e: Event| {
            let code = e.dyn_ref::<CloseEvent>().map_or(1006, |c| c.code());
            mb.post(Ev::Closed(conn, code));
        });
        let mb = sh.mailbox.clone();
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            if let Ok(buf) = e.data().dyn_into::<ArrayBuffer>() {
                mb.post(Ev::Frame(conn, Uint8Array::new(&buf).to_vec()));
            }
        });
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        Ok(Socket { ws, _handlers: vec![on_open, on_close], _on_message: on_message })
    }

    fn send(&self, frames: Vec<Vec<u8>>) -> Result<(), String> {
        for f in frames {
            self.ws.send_with_u8_array(&f).map_err(|_| "the connection closed while sending".to_string())?;
        }
        Ok(())
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        self.ws.set_onopen(None);
        self.ws.set_onclose(None);
        self.ws.set_onmessage(None);
        let _ = self.ws.close();
    }
}

thread_local! {
    static NEXT: Cell<u32> = const { Cell::new(1) };
}

fn next_token() -> u32 {
    NEXT.with(|n| {
        let v = n.get();
        n.set(v.wrapping_add(1));
        v
    })
}

/// Post `Ev::Timer(token)` after `ms`.
fn timer(sh: &Rc<Shared>, ms: f64) -> u32 {
    let token = next_token();
    let mb = sh.mailbox.clone();
    let cb = Closure::once_into_js(move || mb.post(Ev::Timer(token)));
    js::set_timer(ms, cb.unchecked_ref());
    token
}

fn auth_code(code: ErrorCode) -> bool {
    matches!(code, ErrorCode::Unauthorized | ErrorCode::TokenExpired | ErrorCode::Revoked)
}

/// Run while this tab holds the connection.
pub(crate) async fn run(sh: Rc<Shared>) {
    sh.leader.set(true);
    sh.publish_status();
    // The engine must see every stored document (what is unsent, what is lacking).
    while sh.loading.get() {
        match sh.mailbox.recv().await {
            Ev::Loaded => break,
            Ev::Shutdown => return,
            _ => {}
        }
    }
    let mut backoff = Backoff { attempt: 0 };
    loop {
        if sh.closed.get() {
            return;
        }
        let url = {
            let core = sh.core.borrow();
            if core.session.expired(now_ms()) { None } else { core.session.ws_url() }
        };
        let Some(url) = url else {
            {
                let mut net = sh.net.borrow_mut();
                net.online = false;
                net.connecting = false;
                net.retry_at = None;
            }
            sh.publish_status();
            // Not logged in (or the token expired): wait for a login.
            loop {
                match sh.mailbox.recv().await {
                    Ev::Wake => break,
                    Ev::Shutdown => return,
                    _ => {}
                }
            }
            continue;
        };
        let outcome = connect_and_sync(&sh, &url, &mut backoff).await;
        {
            let mut net = sh.net.borrow_mut();
            net.online = false;
            net.connecting = false;
        }
        let wait = match outcome {
            Outcome::Stop => return,
            Outcome::Now => {
                sh.publish_status();
                continue;
            }
            Outcome::Retry(why) => {
                sh.net.borrow_mut().error = Some(why);
                let d = backoff.delay_ms(js::random_u32() as f64 / u32::MAX as f64);
                backoff.attempt += 1;
                d
            }
            Outcome::Auth(why) => {
                let mut net = sh.net.borrow_mut();
                net.error = Some(why);
                net.auth_needed = true;
                MAX_BACKOFF_MS
            }
        };
        {
            let mut net = sh.net.borrow_mut();
            net.retry_at = Some(now_ms() + wait as i64);
            net.attempts = backoff.attempt;
        }
        sh.publish_status();
        let token = timer(&sh, wait);
        loop {
            match sh.mailbox.recv().await {
                Ev::Timer(t) if t == token => break,
                Ev::Wake => {
                    backoff.attempt = 0;
                    break;
                }
                Ev::Shutdown => return,
                // Edits wait in the store; everything unsent is pushed on connect.
                _ => {}
            }
        }
    }
}

async fn connect_and_sync(sh: &Rc<Shared>, url: &str, backoff: &mut Backoff) -> Outcome {
    // Every actor id of the profile, including tabs closed long ago whose changes may not
    // have reached the server yet.
    // Registered ones the server knows already; the hello carries the others (a hello
    // may carry at most a few hundred).
    let stored = sh.store.actors().await.unwrap_or_default();
    let registered: BTreeSet<String> = stored.iter().filter(|(_, r)| *r).map(|(h, _)| h.clone()).collect();
    let (announced, to_send): (BTreeSet<String>, Vec<String>) = {
        let mut core = sh.core.borrow_mut();
        core.actors.extend(stored.into_iter().map(|(h, _)| h));
        let to_send = core.actors.iter().filter(|a| !registered.contains(*a)).cloned().collect();
        (core.actors.clone(), to_send)
    };
    let mut engine = SyncEngine::new(sh.device_id, CLIENT_NAME);
    engine.announce_actors(to_send.iter().filter_map(|h| ActorId::try_from(h.as_str()).ok()));
    let mut marked = to_send.is_empty();
    {
        let mut net = sh.net.borrow_mut();
        net.connecting = true;
        net.retry_at = None;
    }
    sh.publish_status();

    let conn = next_token();
    let socket = match Socket::open(url, conn, sh) {
        Ok(s) => s,
        Err(_) => return Outcome::Retry("cannot open a WebSocket".into()),
    };
    let deadline = timer(sh, CONNECT_TIMEOUT_MS);
    loop {
        match sh.mailbox.recv().await {
            Ev::Open(c) if c == conn => break,
            Ev::Closed(c, code) if c == conn => return refused_or_down(sh, code).await,
            Ev::Timer(t) if t == deadline => return Outcome::Retry("the server did not answer".into()),
            Ev::Shutdown => return Outcome::Stop,
            _ => {}
        }
    }

    let frames = {
        let mut core = sh.core.borrow_mut();
        engine.connected(&mut core.replica)
    };
    if sh.persist().await.is_err() {
        return Outcome::Retry("local storage failed".into());
    }
    let frames = match frames {
        Ok(f) => f,
        Err(e) => return Outcome::Retry(e.to_string()),
    };
    if let Err(e) = socket.send(frames) {
        return Outcome::Retry(e);
    }
    loop {
        match sh.mailbox.recv().await {
            Ev::Frame(c, bytes) if c == conn => {
                if sh.unannounced(&announced) {
                    return Outcome::Now;
                }
                let result = {
                    let mut core = sh.core.borrow_mut();
                    engine.receive(&mut core.replica, &bytes, now_ms())
                };
                // Whatever was applied before an error is kept.
                if sh.persist().await.is_err() {
                    return Outcome::Retry("local storage failed".into());
                }
                match result {
                    Ok(frames) => {
                        if let Err(e) = socket.send(frames) {
                            return Outcome::Retry(e);
                        }
                    }
                    Err(SyncError::Server { code, message }) if auth_code(code) => {
                        sh.notify("data");
                        return Outcome::Auth(format!("{} ({code}): {message}", code.describe()));
                    }
                    Err(e) => {
                        if let SyncError::Server { code: ErrorCode::StorageFull, .. } = e {
                            sh.net.borrow_mut().push_refused = Some(ErrorCode::StorageFull);
                        }
                        sh.notify("data");
                        return Outcome::Retry(e.to_string());
                    }
                }
                if !marked && engine.is_live() {
                    // The server answered the hello: every actor in it is registered.
                    marked = sh.store.mark_registered(&to_send).await.is_ok();
                }
                after_progress(sh, &mut engine, backoff).await;
                sh.notify("data");
            }
            Ev::Closed(c, code) if c == conn => {
                return match ErrorCode::from_close_code(code) {
                    Some(code) if auth_code(code) => Outcome::Auth(code.describe().to_string()),
                    Some(ErrorCode::StorageFull) => {
                        sh.net.borrow_mut().push_refused = Some(ErrorCode::StorageFull);
                        Outcome::Retry(ErrorCode::StorageFull.describe().to_string())
                    }
                    Some(code) => Outcome::Retry(code.describe().to_string()),
                    None => Outcome::Retry("connection lost".into()),
                };
            }
            Ev::Local | Ev::Actor => {
                if sh.unannounced(&announced) {
                    return Outcome::Now;
                }
                let frames = {
                    let mut core = sh.core.borrow_mut();
                    engine.local_changes(&mut core.replica)
                };
                match frames {
                    Ok(frames) => {
                        if let Err(e) = socket.send(frames) {
                            return Outcome::Retry(e);
                        }
                    }
                    Err(e) => return Outcome::Retry(e.to_string()),
                }
                sh.publish_status();
            }
            Ev::Wake => {
                // A new login (or a logout) replaces this connection.
                let now_url = sh.core.borrow().session.ws_url().unwrap_or_default();
                if now_url != url {
                    return Outcome::Now;
                }
            }
            Ev::Shutdown => return Outcome::Stop,
            _ => {}
        }
    }
}

/// After a frame: online once caught up; "last synced" once nothing is left either way.
async fn after_progress(sh: &Rc<Shared>, engine: &mut SyncEngine, backoff: &mut Backoff) {
    let (live, quiescent) = {
        let mut core = sh.core.borrow_mut();
        (engine.is_live(), engine.is_quiescent(&mut core.replica))
    };
    if live {
        let mut net = sh.net.borrow_mut();
        // Back in touch — but a server that could not store the last pushes is not asked
        // again at once: the backoff goes on growing until they get through.
        if net.push_refused.is_none() {
            backoff.attempt = 0;
        }
        net.online = true;
        net.connecting = false;
        net.error = None;
        net.auth_needed = false;
        net.attempts = 0;
    }
    if quiescent {
        let now = now_ms();
        {
            let mut net = sh.net.borrow_mut();
            net.last_sync = Some(now);
            // Everything got through: whatever stopped the pushes is over.
            net.push_refused = None;
        }
        let _ = sh.store.set_meta(&[("last_sync", Some(&now.to_string()))]).await;
    }
    sh.publish_status();
}

/// The connection closed before it opened: the server is down, or it refused the token
/// (a browser cannot read the HTTP status of a refused WebSocket upgrade, so ask
/// `/health`: if the server answers, it was the login).
async fn refused_or_down(sh: &Rc<Shared>, _code: u16) -> Outcome {
    let health = sh.core.borrow().session.health_url();
    let up = match health {
        Some(url) => wasm_bindgen_futures::JsFuture::from(js::probe(&url)).await.ok().and_then(|v| v.as_bool()),
        None => None,
    };
    if up == Some(true) {
        Outcome::Auth("the server refused this login: log in again".into())
    } else {
        Outcome::Retry("server unreachable".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let d = |attempt| Backoff { attempt }.delay_ms(0.5);
        assert_eq!((d(0), d(1), d(2)), (500.0, 1000.0, 2000.0));
        assert_eq!(d(10), MAX_BACKOFF_MS);
        assert_eq!(d(u32::MAX), MAX_BACKOFF_MS);
        let jittered = |j| Backoff { attempt: 0 }.delay_ms(j).round();
        assert_eq!((jittered(0.0), jittered(1.0)), (400.0, 600.0));
    }
}
