//! jiuloop in the browser: the same client core as the native CLI (replica, domain API,
//! rule checks, sync engine), driven over IndexedDB and a browser WebSocket, exported to
//! the web app's JavaScript with wasm-bindgen.
//!
//! * [`client::Client`]: the JavaScript API (reads as JSON, edits as promises resolved
//!   once durable, change notifications) and the multi-tab design.
//! * [`idb`]: the IndexedDB store (counterpart of the CLI's SQLite store).
//! * [`sync_loop`]: the WebSocket driver with reconnect and backoff.
//! * [`peer`]: what tabs of one profile tell each other.
//! * [`views`]: what the screens show (search, filters, labels, totals) as JSON.
//! * [`kind_views`]: the generic screens of any kind, from its declaration.
//! * [`field_views`]: issue 12's screens — the rep's today list, field reports, report pages.
//! * [`order_state`]: the one status of an order every screen shows.
//! * [`work`]: each department's queues and the notifications, derived on the device.
//!
//! Time: edits take `now` from JavaScript (`Date.now()`); the driver reads the same clock.
//! `std::time::Instant` is never used (it panics in the browser).

pub mod aftersales_views;
pub mod client;
pub mod field_views;
pub mod idb;
pub mod js;
pub mod kind_views;
pub mod mailbox;
pub mod money;
pub mod order_state;
pub mod peer;
pub mod session;
pub mod sync_loop;
pub mod text_merge;
pub mod views;
pub mod work;

pub use client::Client;

use wasm_bindgen::prelude::*;

/// Runs when the module is instantiated: report Rust panics on the console with their
/// message (instead of a bare "unreachable").
#[wasm_bindgen(start)]
pub fn start() {
    std::panic::set_hook(Box::new(|info| {
        web_sys::console::error_1(&format!("jiuloop panicked: {info}").into());
    }));
}

/// The crate version, shown in the app's footer.
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}
