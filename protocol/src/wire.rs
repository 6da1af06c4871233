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
//!
//! Attachments ([`crate::blob`]) travel on the same connection, after the hello, apart
//! from the document changes and in chunks of at most [`crate::blob::BLOB_CHUNK_BYTES`]:
//!
//! ```text
//!   BlobStart{hash, size}  ───────────────▶  (how much of it do you hold from me?)
//!                          ◀──────────────  BlobProgress{received}
//!   BlobPut{offset, bytes}* ──────────────▶  (each chunk durable before it is acknowledged)
//!                          ◀──────────────  BlobProgress{received}* … BlobStored{mime}
//!   BlobGet{hash, offset}  ───────────────▶  (readable: referenced by a document you read)
//!                          ◀──────────────  BlobData{…} / BlobRefused{blob_unavailable}
//! ```
//!
//! A catch-up in several pieces carries `CatchUpMark{cursor}` after each piece but the last:
//! a connection cut during a long catch-up resumes from the last mark, not from the start.
//!
//! The blob messages (and `CatchUpMark`) were appended to both enums: frames of the earlier messages are
//! unchanged, so the protocol version stays 1 (a server without them answers
//! `malformed`).

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
const MAX_BLOB_CAP: usize = crate::blob::MAX_BLOB_BYTES_CAP as usize;

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
    /// Start or resume uploading an attachment of `size` bytes: the server answers with
    /// how much of it this user has uploaded already (`BlobProgress`), or `BlobStored`.
    BlobStart { hash: crate::blob::BlobHash, size: u64 },
    /// Bytes of an attachment of `size` bytes being uploaded, at `offset` (where the
    /// server said it is).
    BlobPut { hash: crate::blob::BlobHash, size: u64, offset: u64, bytes: Vec<u8> },
    /// Up to [`crate::blob::BLOB_CHUNK_BYTES`] of an attachment, from `offset`.
    BlobGet { hash: crate::blob::BlobHash, offset: u64 },
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
    /// The server holds (durably) the first `received` bytes of this user's upload.
    BlobProgress { hash: crate::blob::BlobHash, received: u64 },
    /// The whole attachment is stored (checked: its hash, size and type, `mime`).
    BlobStored { hash: crate::blob::BlobHash, size: u64, mime: String },
    /// A piece of an attachment asked for with `BlobGet`.
    BlobData { hash: crate::blob::BlobHash, size: u64, mime: String, offset: u64, bytes: Vec<u8> },
    /// An upload or download that cannot proceed (too large, wrong type, mismatch,
    /// unavailable). The connection stays open.
    BlobRefused { hash: crate::blob::BlobHash, code: ErrorCode, message: String },
    /// Sent during a catch-up after a piece of it: the device now holds every change up to
    /// `cursor` it may read (all the documents with a change in between have been sent
    /// before this frame), so it may store it as its cursor and, if the connection is cut,
    /// resume from there instead of from the hello's cursor. Never above the `CaughtUp`
    /// cursor that follows; a catch-up of one piece has none.
    CatchUpMark { cursor: u64 },
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
            ClientMsg::BlobStart { size, .. } => {
                if *size > crate::blob::MAX_BLOB_BYTES_CAP {
                    return over("attachment bytes", usize::try_from(*size).unwrap_or(usize::MAX), MAX_BLOB_CAP);
                }
            }
            ClientMsg::BlobPut { offset, bytes, size, .. } => {
                if *size > crate::blob::MAX_BLOB_BYTES_CAP {
                    return over("attachment bytes", usize::try_from(*size).unwrap_or(usize::MAX), MAX_BLOB_CAP);
                }
                if bytes.len() > crate::blob::BLOB_CHUNK_BYTES {
                    return over("bytes of an attachment chunk", bytes.len(), crate::blob::BLOB_CHUNK_BYTES);
                }
                if offset.saturating_add(bytes.len() as u64) > crate::blob::MAX_BLOB_BYTES_CAP {
                    return over("attachment bytes", usize::MAX, MAX_BLOB_CAP);
                }
            }
            ClientMsg::BlobGet { .. } => {}
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

/// A device's push frames stay under this many bytes (a document larger than it travels
/// alone): each frame is acknowledged on its own once stored, so a slow link cut every
/// few seconds still gets its pushes through piece by piece.
pub const PUSH_BUDGET_BYTES: usize = 16 * 1024;

/// Split chunks into batches whose frames stay under [`BATCH_BUDGET_BYTES`] (a chunk
/// larger than the budget travels alone).
pub fn batch_by_size(chunks: Vec<DocChunk>) -> Vec<Vec<DocChunk>> {
    batch_by_budget(chunks, BATCH_BUDGET_BYTES)
}

/// Split chunks into batches of at most `budget` bytes each (a larger chunk alone).
pub fn batch_by_budget(chunks: Vec<DocChunk>, budget: usize) -> Vec<Vec<DocChunk>> {
    let mut batches = Vec::new();
    let mut current = Vec::new();
    let mut size = 0;
    for c in chunks {
        let s = c.wire_size();
        if !current.is_empty() && size + s > budget {
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
            ClientMsg::BlobStart { hash: [3; 32], size: 1_000 },
            ClientMsg::BlobPut { hash: [3; 32], size: 1_000, offset: 256, bytes: vec![1, 2, 3] },
            ClientMsg::BlobGet { hash: [3; 32], offset: 0 },
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
            ServerMsg::BlobProgress { hash: [3; 32], received: 256 },
            ServerMsg::BlobStored { hash: [3; 32], size: 1_000, mime: "image/jpeg".into() },
            ServerMsg::BlobData { hash: [3; 32], size: 1_000, mime: "image/png".into(), offset: 0, bytes: vec![9] },
            ServerMsg::BlobRefused { hash: [3; 32], code: ErrorCode::BlobType, message: "x".into() },
            ServerMsg::CatchUpMark { cursor: 77 },
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
    fn attachment_chunks_are_capped() {
        let big =
            ClientMsg::BlobPut { hash: [0; 32], size: 1, offset: 0, bytes: vec![0; crate::blob::BLOB_CHUNK_BYTES + 1] };
        assert!(matches!(big.check_limits(), Err(WireError::Malformed(_))));
        let ok =
            ClientMsg::BlobPut { hash: [0; 32], size: 1, offset: 0, bytes: vec![0; crate::blob::BLOB_CHUNK_BYTES] };
        assert_eq!(ok.check_limits(), Ok(()));
        let huge = ClientMsg::BlobStart { hash: [0; 32], size: crate::blob::MAX_BLOB_BYTES_CAP + 1 };
        assert!(huge.check_limits().is_err());
        let past =
            ClientMsg::BlobPut { hash: [0; 32], size: 1, offset: crate::blob::MAX_BLOB_BYTES_CAP, bytes: vec![1] };
        assert!(past.check_limits().is_err());
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
