//! The rows storage holds, as every storage engine reads and writes them (no SQL here:
//! each engine converts its own rows explicitly).

use uuid::Uuid;

// ---- actor_registration ----

/// Outcome of registering a device's actors.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ActorRegistration {
    /// Every actor registered to the device (the new ones and those from before).
    Registered(Vec<Vec<u8>>),
    /// This actor belongs to another device; nothing was registered.
    Conflict(Vec<u8>),
}

// ---- admin ----

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdminCommandRow {
    pub id: i64,
    /// JSON.
    pub command: String,
    pub done_at: Option<i64>,
    pub ok: Option<bool>,
    pub result: Option<String>,
}

// ---- audit ----

/// One audit entry to write. `fields` and `changes` are JSON (an array of field names;
/// an array of `{field, old, new}`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewAudit<'a> {
    pub at: i64,
    pub user: &'a str,
    pub device: Option<&'a str>,
    pub doc_id: &'a [u8],
    pub kind: i64,
    /// Sequence number of the stored chunk (None for a refusal).
    pub seq: Option<i64>,
    pub refused: bool,
    pub fields: &'a str,
    pub changes: &'a str,
    pub code: Option<&'a str>,
    pub rule: Option<&'a str>,
    pub message: Option<&'a str>,
}

/// One row of `audit`, as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditRow {
    pub id: i64,
    pub at: i64,
    pub user: String,
    pub device: Option<String>,
    pub doc_id: Vec<u8>,
    pub kind: i64,
    pub seq: Option<i64>,
    pub refused: bool,
    pub fields: String,
    pub changes: String,
    pub code: Option<String>,
    pub rule: Option<String>,
    pub message: Option<String>,
}

// ---- device ----

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceRow {
    pub id: Uuid,
    pub user: String,
    pub name: String,
    pub created_at: i64,
    pub revoked: bool,
}

// ---- doc ----

/// One row of `docs`, as stored (ids, kinds and heads are raw; the hub converts them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocRow {
    /// 16 bytes of the document's UUID.
    pub id: Vec<u8>,
    /// `DocKind::code()`.
    pub kind: i64,
    /// Concatenated 32-byte change hashes.
    pub heads: Vec<u8>,
    pub snapshot_seq: i64,
    pub last_seq: i64,
    pub chunk_count: i64,
    /// Access facts (see `crate::access::facts`): the territory the document belongs to, the
    /// customer of a visit or order (16 bytes), who created it; `facts_known` is false
    /// for rows stored before version 2 until the hub has computed them.
    pub territory: Option<String>,
    pub parent: Option<Vec<u8>>,
    pub author: Option<String>,
    pub assignee: Option<String>,
    pub facts_known: bool,
}

/// Which documents of one kind a reader may see.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KindFilter {
    /// Every document of the kind.
    All,
    /// Those in these territories.
    Territories(Vec<String>),
    /// Those this user authored or is assigned to.
    Own(String),
}

/// Which documents a reader may see, per kind (`DocKind::code()`). Kinds not listed are
/// not readable.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReadFilter {
    pub kinds: Vec<(i64, KindFilter)>,
}

/// A territory move of a document since some sequence number, with the document's current
/// territory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MoveRow {
    pub seq: i64,
    pub doc_id: Vec<u8>,
    pub kind: i64,
    pub old_territory: Option<String>,
    pub new_territory: Option<String>,
    pub current_territory: Option<String>,
    pub author: Option<String>,
    pub assignee: Option<String>,
}

/// The access facts of one document, as written to its row.
#[derive(Clone, Copy, Debug, Default)]
pub struct DocFactsRow<'a> {
    pub territory: Option<&'a str>,
    /// 16 bytes of the parent's id.
    pub parent: Option<&'a [u8]>,
    pub author: Option<&'a str>,
    pub assignee: Option<&'a str>,
}

/// A document's row and all its bytes (snapshot then chunks), for loading it.
#[derive(Clone, Debug)]
pub struct StoredDoc {
    pub row: DocRow,
    pub bytes: Vec<u8>,
}

/// What catch-up needs of a document, without its bytes.
pub type DocSummary = DocRow;

// ---- order_effects ----

/// An order confirmed and handed to logistics and finance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssignmentRow {
    pub order_id: Vec<u8>,
    pub assigned_at: i64,
    pub customer: Option<Vec<u8>>,
    pub created_by: String,
    pub total_fen: Option<i64>,
}

/// One message to a department about an order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotificationRow {
    pub id: i64,
    pub order_id: Vec<u8>,
    pub department: String,
    pub kind: String,
    pub at: i64,
    pub message: String,
}

// ---- effects ----

/// A one-time effect the server performed for a document (`effects`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EffectRow {
    pub doc_id: Vec<u8>,
    /// What it was (`sla-breach`, `revisit`, `task`, `recall` …).
    pub effect: String,
    /// Which one of its kind, within the document (`ack`, a customer's id, a batch …).
    pub key: String,
    pub at: i64,
    /// What came of it (an id it created …), free text.
    pub data: String,
}

/// When a validator wants to look at a document again (`wakeups`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WakeupRow {
    pub doc_id: Vec<u8>,
    pub validator: String,
    pub at: i64,
}

/// An order line shipped with a batch (`shipped_batches`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShippedBatchRow {
    pub order_id: Vec<u8>,
    pub line: String,
    pub batch: String,
    pub customer: Option<Vec<u8>>,
    pub sku: String,
    pub qty: i64,
    pub at: i64,
}

// ---- token ----

/// A token joined with the state of its user and device, for authentication.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenRow {
    pub user: String,
    pub device: Uuid,
    pub expires_at: i64,
    pub revoked: bool,
    pub role: String,
    pub territory: Option<String>,
    pub user_disabled: bool,
    pub device_revoked: bool,
}

// ---- user ----

/// One row of `users`, as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserRow {
    pub name: String,
    pub password_hash: String,
    /// The role's stable name (`rep`, `manager`, …).
    pub role: String,
    pub territory: Option<String>,
    pub manager: Option<String>,
    pub disabled: bool,
    /// UTC milliseconds.
    pub created_at: i64,
}

/// What `user add` inserts.
#[derive(Clone, Debug)]
pub struct NewUser {
    pub name: String,
    pub password_hash: String,
    pub role: String,
    pub territory: Option<String>,
    pub manager: Option<String>,
    pub created_at: i64,
}

// ---- nodes ----

/// A server using the database (`jiuloop-server nodes`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeRow {
    pub id: String,
    /// Where it listens (as it was told to: `--listen`).
    pub address: String,
    pub version: String,
    pub started_at: i64,
    pub heartbeat_at: i64,
    pub stopped_at: Option<i64>,
}

impl NodeRow {
    /// How long a node may miss heartbeats before it counts as gone.
    pub const LIVE_WITHIN_MS: i64 = 10_000;

    pub fn is_live(&self, now: i64) -> bool {
        self.stopped_at.is_none() && now - self.heartbeat_at <= Self::LIVE_WITHIN_MS
    }
}
