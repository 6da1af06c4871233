//! The few browser calls that are one line of JavaScript each (timers, Web Locks, a
//! reachability probe). Everything else goes through web-sys.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(inline_js = r#"
export function set_timer(ms, cb) { return setTimeout(cb, ms); }
export function clear_timer(id) { clearTimeout(id); }
export function locks_supported() {
  return typeof navigator !== 'undefined' && !!navigator.locks && typeof navigator.locks.request === 'function';
}
// Take an exclusive Web Lock if it is free; resolves to a release function, or null when
// another holder has it. Held until released or the page closes.
export function try_lock(name) {
  return new Promise((resolve) => {
    navigator.locks.request(name, { ifAvailable: true }, (lock) => {
      if (!lock) { resolve(null); return undefined; }
      return new Promise((release) => resolve(() => release()));
    }).catch(() => resolve(null));
  });
}
// Wait for an exclusive Web Lock; resolves to a release function once held.
export function wait_lock(name) {
  return new Promise((resolve) => {
    navigator.locks.request(name, () => new Promise((release) => resolve(() => release())));
  });
}
// Is the server reachable at all (to tell "down" from "refused the login token")?
export async function probe(url) {
  try { const r = await fetch(url, { cache: 'no-store' }); return r.ok; } catch (e) { return false; }
}
// Let the page render and handle input, then continue (not throttled like timers).
export function yield_now_promise() {
  return new Promise((resolve) => {
    const ch = new MessageChannel();
    ch.port1.onmessage = () => { ch.port1.close(); resolve(); };
    ch.port2.postMessage(null);
  });
}
export function random_u32() {
  const a = new Uint32Array(1); crypto.getRandomValues(a); return a[0];
}
"#)]
extern "C" {
    pub fn set_timer(ms: f64, cb: &js_sys::Function) -> JsValue;
    pub fn clear_timer(id: &JsValue);
    pub fn locks_supported() -> bool;
    /// Resolves to a release function, or null.
    pub fn try_lock(name: &str) -> js_sys::Promise;
    /// Resolves to a release function.
    pub fn wait_lock(name: &str) -> js_sys::Promise;
    pub fn probe(url: &str) -> js_sys::Promise;
    pub fn random_u32() -> u32;
    fn yield_now_promise() -> js_sys::Promise;
}

/// Current time, UTC milliseconds.
pub fn now_ms() -> i64 {
    js_sys::Date::now() as i64
}

/// A JS error value with this message (what the app's promises reject with).
pub fn err(msg: impl std::fmt::Display) -> JsValue {
    js_sys::Error::new(&msg.to_string()).into()
}

/// Give the page a turn (render, input) before continuing.
pub async fn yield_now() {
    let _ = wasm_bindgen_futures::JsFuture::from(yield_now_promise()).await;
}

/// Wait `ms` milliseconds.
pub async fn sleep(ms: f64) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        set_timer(ms, &resolve);
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}
