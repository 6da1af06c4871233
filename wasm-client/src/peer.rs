//! What tabs of the same profile tell each other over a `BroadcastChannel`: the store ops
//! one of them has just made durable (so the others mirror them in memory), a new actor
//! id (so the tab holding the connection registers it before pushing its changes), the
//! connection status (from the tab holding the connection), and login changes.

use client_core::{InboxItem, StoreOp};
use js_sys::{Array, Object, Reflect, Uint8Array};
use protocol::{DocId, DocKind};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

/// A message between tabs.
pub enum PeerMsg {
    /// Durable store ops, with the chunk seq each append or compaction wrote.
    Ops(Vec<(StoreOp, Option<f64>)>),
    /// A tab started writing with this actor id (hex).
    Actor(String),
    /// Connection status from the tab that holds the connection (JSON).
    Status(String),
    /// Someone logged in or out: re-read the login.
    Login,
    /// A tab opened: the connection holder answers with its status.
    Hello,
}

fn set(o: &Object, k: &str, v: impl Into<JsValue>) {
    let _ = Reflect::set(o, &k.into(), &v.into());
}

fn get(o: &JsValue, k: &str) -> JsValue {
    Reflect::get(o, &k.into()).unwrap_or(JsValue::UNDEFINED)
}

fn bytes(v: &[u8]) -> JsValue {
    Uint8Array::from(v).into()
}

fn op_to_js(op: &StoreOp, seq: Option<f64>) -> Object {
    let o = Object::new();
    let (name, id, kind) = match op {
        StoreOp::AppendChunk { id, kind, bytes: b } => {
            set(&o, "bytes", bytes(b));
            ("append", Some(*id), Some(*kind))
        }
        StoreOp::Compact { id, kind, snapshot } => {
            set(&o, "bytes", bytes(snapshot));
            ("compact", Some(*id), Some(*kind))
        }
        StoreOp::SetServerHeads { id, kind, heads } => {
            set(&o, "heads", bytes(&heads.concat()));
            ("heads", Some(*id), Some(*kind))
        }
        StoreOp::SetCursor(c) => {
            set(&o, "cursor", *c as f64);
            ("cursor", None, None)
        }
        StoreOp::AddInbox(item) => {
            set(&o, "item", serde_json::to_string(item).unwrap_or_default());
            ("inbox", None, None)
        }
        StoreOp::DeleteDoc { id } => ("delete", Some(*id), None),
        StoreOp::PutBlob { hash, mime, bytes: b, pending, at } => {
            set(&o, "hash", protocol::blob::hex(hash));
            set(&o, "mime", mime.as_str());
            set(&o, "bytes", bytes(b));
            set(&o, "pending", *pending);
            set(&o, "at", *at as f64);
            ("blob", None, None)
        }
        StoreOp::BlobUploaded { hash } => {
            set(&o, "hash", protocol::blob::hex(hash));
            ("blob-uploaded", None, None)
        }
        StoreOp::DeleteBlob { hash } => {
            set(&o, "hash", protocol::blob::hex(hash));
            ("blob-delete", None, None)
        }
    };
    set(&o, "op", name);
    if let Some(id) = id {
        set(&o, "id", id.to_string());
    }
    if let Some(kind) = kind {
        set(&o, "kind", kind.code() as f64);
    }
    if let Some(s) = seq {
        set(&o, "seq", s);
    }
    o
}

fn op_from_js(v: &JsValue) -> Option<(StoreOp, Option<f64>)> {
    let id = || get(v, "id").as_string()?.parse::<DocId>().ok();
    let kind = || DocKind::from_code(get(v, "kind").as_f64()? as i64);
    let seq = get(v, "seq").as_f64();
    let hash = || protocol::blob::parse_hex(&get(v, "hash").as_string()?);
    let op = match get(v, "op").as_string()?.as_str() {
        "append" => StoreOp::AppendChunk {
            id: id()?,
            kind: kind()?,
            bytes: get(v, "bytes").dyn_into::<Uint8Array>().ok()?.to_vec(),
        },
        // A tab holding the document reloads it from the store; one that does not yet
        // takes the snapshot as it is.
        "compact" => StoreOp::Compact {
            id: id()?,
            kind: kind()?,
            snapshot: get(v, "bytes").dyn_into::<Uint8Array>().map(|b| b.to_vec()).unwrap_or_default(),
        },
        "heads" => {
            let raw = get(v, "heads").dyn_into::<Uint8Array>().ok()?.to_vec();
            if !raw.len().is_multiple_of(32) {
                return None;
            }
            StoreOp::SetServerHeads {
                id: id()?,
                kind: kind()?,
                heads: raw.chunks(32).map(|c| c.try_into().expect("32 bytes")).collect(),
            }
        }
        "cursor" => StoreOp::SetCursor(get(v, "cursor").as_f64()? as u64),
        "inbox" => StoreOp::AddInbox(serde_json::from_str::<InboxItem>(&get(v, "item").as_string()?).ok()?),
        "delete" => StoreOp::DeleteDoc { id: id()? },
        "blob" => StoreOp::PutBlob {
            hash: hash()?,
            mime: get(v, "mime").as_string()?,
            bytes: get(v, "bytes").dyn_into::<Uint8Array>().ok()?.to_vec(),
            pending: get(v, "pending").as_bool()?,
            at: get(v, "at").as_f64()? as i64,
        },
        "blob-uploaded" => StoreOp::BlobUploaded { hash: hash()? },
        "blob-delete" => StoreOp::DeleteBlob { hash: hash()? },
        _ => return None,
    };
    Some((op, seq))
}

impl PeerMsg {
    pub fn to_js(&self, from: &str) -> JsValue {
        let o = Object::new();
        set(&o, "from", from);
        match self {
            PeerMsg::Ops(ops) => {
                set(&o, "t", "ops");
                let list: Array = ops.iter().map(|(op, seq)| JsValue::from(op_to_js(op, *seq))).collect();
                set(&o, "ops", list);
            }
            PeerMsg::Actor(hex) => {
                set(&o, "t", "actor");
                set(&o, "actor", hex.as_str());
            }
            PeerMsg::Status(json) => {
                set(&o, "t", "status");
                set(&o, "status", json.as_str());
            }
            PeerMsg::Login => set(&o, "t", "login"),
            PeerMsg::Hello => set(&o, "t", "hello"),
        }
        o.into()
    }

    /// The message and the tab it came from; None for anything else on the channel.
    pub fn from_js(v: &JsValue) -> Option<(String, PeerMsg)> {
        let from = get(v, "from").as_string()?;
        let msg = match get(v, "t").as_string()?.as_str() {
            "ops" => {
                let list = Array::from(&get(v, "ops"));
                PeerMsg::Ops(list.iter().filter_map(|o| op_from_js(&o)).collect())
            }
            "actor" => PeerMsg::Actor(get(v, "actor").as_string()?),
            "status" => PeerMsg::Status(get(v, "status").as_string()?),
            "login" => PeerMsg::Login,
            "hello" => PeerMsg::Hello,
            _ => return None,
        };
        Some((from, msg))
    }
}
