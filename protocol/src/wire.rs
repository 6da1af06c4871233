//! Binary wire messages between devices and the sync server.
//!
//! Every WebSocket binary frame is `b"JL"`, the protocol version as u16 little-endian, then
//! one postcard-encoded [`ClientMsg`] or [`ServerMsg`]. A frame is at most
//! [`MAX_MESSAGE_BYTES`]. All documents of a device travel over one connection:
//!
//! ```text
//! device                                   server
//!   Hello{cursor, actors}  ───────────────▶  (registers actors)
//!   Push{docs with local changes} ────────▶  (checks on a scratch copy, stores durably)
//!                         ◀──────────────  Changes{docs changed since cursor}*
//!                         ◀──────────────  CaughtUp{cursor}
//!                         ◀──────────────  Ack{docs, server heads, seq} / Refused{…}
//!   … later, live:        ◀──────────────  Changes{changes other devices made, cursor}
//! ```
//!
//! A device with nothing changed on either side reconnects in one round trip:
//! `Hello` → `CaughtUp`, whatever the number of documents it holds.

use crate::error_code::ErrorCode;
use crate::ids::{DocId, DocKind};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub const PROTOCOL_VERSION: u16 = 1;
const MAGIC: [u8; 2] = *b"JL";
const HEADER_LEN: usize = 4;
/// Largest frame either side accepts.
pub const MAX_MESSAGE_BYTES: usize = 4 * 1024 * 1024;
/// Senders split batches so that a frame stays under this many bytes.
pub const BATCH_BUDGET_BYTES: usize = 1024 * 1024;

/// Most documents one `Push` may carry (a device batches by size: far fewer per frame).
pub const MAX_DOCS_PER_PUSH: usize = 4_096;
/// Most heads one document may state (concurrent heads of one document are few).
pub const MAX_HEADS: usize = 64;
/// Most documents one `Resync` may ask for.
pub const MAX_RESYNC_DOCS: usize = 10_000;
/// Longest `Hello.client` text, in bytes.
pub const MAX_CLIENT_NAME_BYTES: usize = 128;
/// Most actor ids one hello may register, and the longest one, in bytes.
pub const MAX_ACTORS_PER_HELLO: usize = 256;
pub const MAX_ACTOR_BYTES: usize = 64;

/// An Automerge change hash (SHA-256).
pub type Hash = [u8; 32];

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClientMsg {
    /// First message on every connection.
    Hello(Hello),
    /// Local changes the server does not have yet.
    Push { docs: Vec<DocChunk> },
    /// Ask for whole documents (the device found it lacks a dependency).
    Resync { docs: Vec<DocId> },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    pub device_id: Uuid,
    /// The Automerge actor ids this device writes with; registered to the device.
    pub actors: Vec<Vec<u8>>,
    /// The server sequence number up to which this device has received every change it
    /// may read (0 = nothing: send everything).
    pub cursor: u64,
    /// Free text such as `jiuloop-cli/0.1.0`, for the server log.
    pub client: String,
}

/// Changes of one document: concatenated raw Automerge changes (as `save_after`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocChunk {
    pub id: DocId,
    pub kind: DocKind,
    /// The sender's heads once these changes are applied.
    pub heads: Vec<Hash>,
    pub changes: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ServerMsg {
    /// Changes made elsewhere. `cursor` is set on live relays: once applied, the device
    /// has every change up to that server sequence number.
    Changes { docs: Vec<DocChunk>, cursor: Option<u64> },
    /// Everything changed since the hello's cursor has been sent.
    CaughtUp { cursor: u64, docs_sent: u32 },
    /// Pushed changes are durable on the server.
    Ack { docs: Vec<DocAck> },
    /// Pushed changes were refused: not applied, not stored, not relayed.
    Refused { refusals: Vec<Refusal> },
    /// Fatal: the server closes the connection after this.
    Error { code: ErrorCode, message: String },
    /// The user may no longer read these documents (reassigned elsewhere, rights
    /// changed): the device deletes them. Local edits it had not sent go to the inbox.
    Forget { docs: Vec<DocId>, reason: String },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocAck {
    pub id: DocId,
    /// The server's heads after storing the push.
    pub heads: Vec<Hash>,
    /// Server sequence number of the stored changes (0 if nothing was new).
    pub seq: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    pub id: DocId,
    pub kind: DocKind,
    pub code: ErrorCode,
    /// The field path the refusal is about (`lines/2/unit_price_fen`), empty for the
    /// whole document.
    pub path: String,
    /// The rule that refused it, e.g. `actor-registered`.
    pub rule: String,
    pub message: String,
    /// What the server holds for this document: the device restores to it. The server
    /// sends the changes the device lacks of it first (a `Changes` frame on the same
    /// connection), so the device holds these heads when it reads the refusal.
    pub server_heads: Vec<Hash>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WireError {
    #[error("frame of {0} bytes is over the {MAX_MESSAGE_BYTES}-byte limit")]
    TooLarge(usize),
    #[error("not a jiuloop frame")]
    BadMagic,
    #[error("protocol version {0} is not supported (this side speaks {PROTOCOL_VERSION})")]
    UnsupportedVersion(u16),
    #[error("malformed message: {0}")]
    Malformed(String),
}

impl WireError {
    pub fn code(&self) -> ErrorCode {
        match self {
            WireError::TooLarge(_) => ErrorCode::TooLarge,
            WireError::UnsupportedVersion(_) => ErrorCode::UnsupportedVersion,
            WireError::BadMagic | WireError::Malformed(_) => ErrorCode::Malformed,
        }
    }
}

/// Encode a message as one frame. Fails only if the frame would be over the limit.
pub fn encode<T: Serialize>(msg: &T) -> Result<Vec<u8>, WireError> {
    encode_with_version(msg, PROTOCOL_VERSION)
}

/// Encode with an explicit version (tests of version mismatch use this).
pub fn encode_with_version<T: Serialize>(msg: &T, version: u16) -> Result<Vec<u8>, WireError> {
    let mut out = Vec::with_capacity(64);
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&version.to_le_bytes());
    let out = postcard::to_extend(msg, out).map_err(|e| WireError::Malformed(e.to_string()))?;
    if out.len() > MAX_MESSAGE_BYTES {
        return Err(WireError::TooLarge(out.len()));
    }
    Ok(out)
}

/// Decode one frame; checks size, magic and version before touching the body.
pub fn decode<T: DeserializeOwned>(frame: &[u8]) -> Result<T, WireError> {
    if frame.len() > MAX_MESSAGE_BYTES {
        return Err(WireError::TooLarge(frame.len()));
    }
    if frame.len() < HEADER_LEN || frame[..2] != MAGIC {
        return Err(WireError::BadMagic);
    }
    let version = u16::from_le_bytes([frame[2], frame[3]]);
    if version != PROTOCOL_VERSION {
        return Err(WireError::UnsupportedVersion(version));
    }
    let (msg, rest) =
        postcard::take_from_bytes(&frame[HEADER_LEN..]).map_err(|e| WireError::Malformed(e.to_string()))?;
    if !rest.is_empty() {
        return Err(WireError::Malformed(format!("{} trailing bytes", rest.len())));
    }
    Ok(msg)
}

impl Hello {
    /// The client name and the actor ids within their caps.
    pub fn check_limits(&self) -> Result<(), WireError> {
        if self.client.len() > MAX_CLIENT_NAME_BYTES {
            return Err(WireError::Malformed(format!(
                "hello client name of {} bytes is over the limit of {MAX_CLIENT_NAME_BYTES}",
                self.client.len()
            )));
        }
        if self.actors.len() > MAX_ACTORS_PER_HELLO {
            return Err(WireError::Malformed(format!("more than {MAX_ACTORS_PER_HELLO} actors")));
        }
        if let Some(a) = self.actors.iter().find(|a| a.is_empty() || a.len() > MAX_ACTOR_BYTES) {
            return Err(WireError::Malformed(format!("actor ids are 1 to {MAX_ACTOR_BYTES} bytes, got {}", a.len())));
        }
        Ok(())
    }
}

impl ClientMsg {
    /// Every count and free-text field within its cap (checked where frames are decoded,
    /// before the message goes anywhere): what a message costs is bounded by its caps, not
    /// only by its bytes.
    pub fn check_limits(&self) -> Result<(), WireError> {
        let over = |what: &str, n: usize, max: usize| {
            Err(WireError::Malformed(format!("{what}: {n} is over the limit of {max}")))
        };
        match self {
            ClientMsg::Hello(h) => {
                if h.client.len() > MAX_CLIENT_NAME_BYTES {
                    return over("hello client name bytes", h.client.len(), MAX_CLIENT_NAME_BYTES);
                }
                if h.actors.len() > MAX_ACTORS_PER_HELLO {
                    return over("actors in a hello", h.actors.len(), MAX_ACTORS_PER_HELLO);
                }
                if let Some(a) = h.actors.iter().find(|a| a.is_empty() || a.len() > MAX_ACTOR_BYTES) {
                    return Err(WireError::Malformed(format!(
                        "actor ids are 1 to {MAX_ACTOR_BYTES} bytes, got {}",
                        a.len()
                    )));
                }
            }
            ClientMsg::Push { docs } => {
                if docs.len() > MAX_DOCS_PER_PUSH {
                    return over("documents in a push", docs.len(), MAX_DOCS_PER_PUSH);
                }
                if let Some(d) = docs.iter().find(|d| d.heads.len() > MAX_HEADS) {
                    return over("heads of a document", d.heads.len(), MAX_HEADS);
                }
            }
            ClientMsg::Resync { docs } => {
                if docs.len() > MAX_RESYNC_DOCS {
                    return over("documents in a resync", docs.len(), MAX_RESYNC_DOCS);
                }
            }
        }
        Ok(())
    }
}

impl DocChunk {
    /// Rough encoded size, for batching.
    pub fn wire_size(&self) -> usize {
        self.changes.len() + self.heads.len() * 32 + 32
    }
}

/// Split chunks into batches whose frames stay under [`BATCH_BUDGET_BYTES`] (a chunk
/// larger than the budget travels alone).
pub fn batch_by_size(chunks: Vec<DocChunk>) -> Vec<Vec<DocChunk>> {
    let mut batches = Vec::new();
    let mut current = Vec::new();
    let mut size = 0;
    for c in chunks {
        let s = c.wire_size();
        if !current.is_empty() && size + s > BATCH_BUDGET_BYTES {
            batches.push(std::mem::take(&mut current));
            size = 0;
        }
        size += s;
        current.push(c);
    }
    if !current.is_empty() {
        batches.push(current);
    }
    batches
}

pub fn hashes_to_wire(h: &[automerge::ChangeHash]) -> Vec<Hash> {
    h.iter().map(|h| h.0).collect()
}

pub fn hashes_from_wire(h: &[Hash]) -> Vec<automerge::ChangeHash> {
    h.iter().map(|h| automerge::ChangeHash(*h)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples() -> (Vec<ClientMsg>, Vec<ServerMsg>) {
        let chunk = DocChunk {
            id: DocId::new_random(),
            kind: DocKind::Order,
            heads: vec![[7; 32]],
            changes: vec![1, 2, 3, 250],
        };
        let client = vec![
            ClientMsg::Hello(Hello {
                device_id: Uuid::new_v4(),
                actors: vec![vec![1; 16]],
                cursor: 42,
                client: "test".into(),
            }),
            ClientMsg::Push { docs: vec![chunk.clone(), chunk.clone()] },
            ClientMsg::Resync { docs: vec![chunk.id] },
        ];
        let server = vec![
            ServerMsg::Changes { docs: vec![chunk.clone()], cursor: Some(9) },
            ServerMsg::CaughtUp { cursor: 10, docs_sent: 3 },
            ServerMsg::Ack { docs: vec![DocAck { id: chunk.id, heads: vec![[1; 32]], seq: 5 }] },
            ServerMsg::Refused {
                refusals: vec![Refusal {
                    id: chunk.id,
                    kind: DocKind::Customer,
                    code: ErrorCode::Forbidden,
                    path: "class".into(),
                    rule: "r".into(),
                    message: "m".into(),
                    server_heads: vec![],
                }],
            },
            ServerMsg::Error { code: ErrorCode::TokenExpired, message: "x".into() },
            ServerMsg::Forget { docs: vec![chunk.id], reason: "reassigned".into() },
        ];
        (client, server)
    }

    #[test]
    fn every_message_round_trips() {
        let (client, server) = samples();
        for m in client {
            assert_eq!(decode::<ClientMsg>(&encode(&m).unwrap()).unwrap(), m);
        }
        for m in server {
            assert_eq!(decode::<ServerMsg>(&encode(&m).unwrap()).unwrap(), m);
        }
    }

    #[test]
    fn bad_frames_are_named() {
        let (client, _) = samples();
        let good = encode(&client[0]).unwrap();
        let cases: Vec<(Vec<u8>, WireError)> = vec![
            (vec![], WireError::BadMagic),
            (b"XX\x01\x00".to_vec(), WireError::BadMagic),
            (encode_with_version(&client[0], 99).unwrap(), WireError::UnsupportedVersion(99)),
            (vec![0u8; MAX_MESSAGE_BYTES + 1], WireError::TooLarge(MAX_MESSAGE_BYTES + 1)),
            ([&good[..], &[0u8][..]].concat(), WireError::Malformed("1 trailing bytes".into())),
        ];
        for (frame, want) in cases {
            assert_eq!(decode::<ClientMsg>(&frame).unwrap_err(), want);
        }
        // Unknown message type (enum tag 200) and truncation are malformed.
        let mut unknown = good[..4].to_vec();
        unknown.push(200);
        assert!(matches!(decode::<ClientMsg>(&unknown), Err(WireError::Malformed(_))));
        assert!(matches!(decode::<ClientMsg>(&good[..good.len() - 3]), Err(WireError::Malformed(_))));
    }

    #[test]
    fn batches_respect_budget() {
        let chunk = |n: usize| DocChunk {
            id: DocId::new_random(),
            kind: DocKind::Customer,
            heads: vec![],
            changes: vec![0; n],
        };
        let batches = batch_by_size((0..10).map(|_| chunk(300 * 1024)).collect());
        assert_eq!(batches.len(), 4);
        for b in &batches {
            let frame = encode(&ClientMsg::Push { docs: b.clone() }).unwrap();
            assert!(frame.len() <= BATCH_BUDGET_BYTES + 1024);
        }
        assert_eq!(batches.iter().map(Vec::len).sum::<usize>(), 10);
    }

    #[test]
    fn error_codes_map_to_close_codes() {
        for c in ErrorCode::ALL {
            assert_eq!(ErrorCode::from_close_code(c.close_code()), Some(c));
            assert_eq!(ErrorCode::parse(c.as_str()), Some(c));
        }
    }
}
