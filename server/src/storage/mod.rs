//! Storage: the one seam between the server and its database. [`Storage`] is the
//! contract — global sequence numbers, cursors, chunks, facts, effects exactly once,
//! identity rows — and [`sqlite::SqliteDb`] the embedded implementation (the only code
//! that knows SQL). Every implementation runs the same suite ([`contract`]).
//!
//! Contract, in short:
//! - **Sequence numbers**: every stored chunk and every territory move takes the next
//!   number of one global sequence, in the transaction that stores it; a device's cursor
//!   covers every chunk numbered up to it, so a number is never handed out below one
//!   already visible to readers.
//! - **Transactions**: `begin` … `commit` is atomic and durable before `commit` returns;
//!   savepoints nest inside; `rollback` drops everything since `begin`.
//! - **Effects exactly once**: the `insert_*` of effect rows return `false` when the row's
//!   key exists already, in which case nothing changes. `effects` is the generic table of
//!   them (document, effect, key); `wakeups` the validators' timers.
//! - Ids are raw 16-byte UUIDs; kinds `DocKind::code()`; heads concatenated 32-byte hashes.

pub mod analytics;
pub mod backup;
pub mod blob;
pub mod copy;
mod error;
pub mod postgres;
mod rows;
pub mod sqlite;

#[cfg(test)]
pub(crate) mod contract;

pub use error::DbError;
pub use postgres::PgStorage;
pub use rows::*;
pub use sqlite::SqliteDb;

use std::path::Path;
use uuid::Uuid;

/// Declares the storage API once: the trait, and each engine's implementation of it (the
/// engine's inherent methods of the same names).
macro_rules! storage_api {
    ($( $(#[$doc:meta])* fn $name:ident(&self $(, $arg:ident: $ty:ty)* $(,)?) -> $ret:ty; )+) => {
        /// What the server needs of a database (see the module docs for the contract).
        pub trait Storage: Send {
            $( $(#[$doc])* fn $name(&self $(, $arg: $ty)*) -> $ret; )+

            /// Tests: make every later write fail as if the disk were full.
            #[doc(hidden)]
            fn freeze_size_for_tests(&self) -> Result<(), DbError> {
                Err(DbError::Backend("not supported by this storage".into()))
            }

            /// Which engine and database, for `/health` and logs (never a password).
            fn describe(&self) -> String;
        }

        impl Storage for SqliteDb {
            $( fn $name(&self $(, $arg: $ty)*) -> $ret { SqliteDb::$name(self $(, $arg)*) } )+

            fn freeze_size_for_tests(&self) -> Result<(), DbError> {
                SqliteDb::freeze_size_for_tests(self)
            }

            fn describe(&self) -> String {
                format!("sqlite {}", self.path().display())
            }
        }

        impl Storage for PgStorage {
            $( fn $name(&self $(, $arg: $ty)*) -> $ret { PgStorage::$name(self $(, $arg)*) } )+

            fn describe(&self) -> String {
                format!("postgres {}", self.target())
            }
        }
    };
}

storage_api! {
    // ---- nodes ----
    /// Whether other servers may write this database too (then the hub reads what they
    /// stored before each write and on every tick).
    fn is_shared(&self) -> bool;
    /// Whether this server leads: carries out queued admin commands and wake-ups. Always
    /// true for an engine that is not shared.
    fn try_lead(&self) -> Result<bool, DbError>;
    /// A node starts (again): its row, beating now.
    fn register_node(&self, id: &str, address: &str, version: &str, now: i64) -> Result<(), DbError>;
    /// `false` when the node has no row.
    fn node_heartbeat(&self, id: &str, now: i64) -> Result<bool, DbError>;
    fn node_stopped(&self, id: &str, now: i64) -> Result<(), DbError>;
    /// Every node that ever used the database, the latest started first.
    fn nodes(&self) -> Result<Vec<NodeRow>, DbError>;

    // ---- transactions ----
    /// Start a write transaction (taking the write lock now, not at the first write).
    fn begin(&self) -> Result<(), DbError>;
    /// Commit the open transaction, durably. On failure it is rolled back.
    fn commit(&self) -> Result<(), DbError>;
    /// Roll back the open transaction, if any.
    fn rollback(&self) -> ();
    fn in_transaction(&self) -> bool;
    /// Mark a point inside the open transaction that `rollback_to` returns to.
    fn savepoint(&self, name: &str) -> Result<(), DbError>;
    /// Forget a savepoint, keeping what was written since.
    fn release(&self, name: &str) -> Result<(), DbError>;
    /// Undo everything written since the savepoint, and forget it.
    fn rollback_to(&self, name: &str) -> Result<(), DbError>;

    // ---- documents, chunks, sequence ----
    fn doc(&self, id: &[u8]) -> Result<Option<DocRow>, DbError>;
    /// The row and the full bytes of a document (snapshot, then every later chunk).
    fn load_doc(&self, id: &[u8]) -> Result<Option<StoredDoc>, DbError>;
    /// Documents changed after `cursor`, oldest change first.
    fn docs_changed_since(&self, cursor: i64) -> Result<Vec<DocSummary>, DbError>;
    /// A document's bytes: with `after = None` the snapshot and every chunk; with
    /// `Some(seq)` only the chunks stored after `seq` (callers ensure `seq >= snapshot_seq`).
    fn doc_bytes(&self, id: &[u8], after: Option<i64>) -> Result<Vec<u8>, DbError>;
    /// Take the next sequence number (inside the transaction that uses it).
    fn next_seq(&self) -> Result<i64, DbError>;
    /// Store one chunk of new changes of a document (creating its row if new); returns its
    /// sequence number.
    fn store_change(&self, id: &[u8], kind: i64, heads: &[u8], bytes: &[u8], now: i64) -> Result<i64, DbError>;
    /// Record a document's access facts.
    fn set_doc_facts(&self, id: &[u8], facts: &DocFactsRow<'_>) -> Result<(), DbError>;
    /// The documents whose parent is `parent`.
    fn children_of(&self, parent: &[u8]) -> Result<Vec<DocRow>, DbError>;
    /// Move a document to another territory at sequence number `seq`, remembering where it was.
    fn record_move(&self, id: &[u8], old: Option<&str>, new: Option<&str>, seq: i64, now: i64) -> Result<(), DbError>;
    /// Moves after `cursor`, oldest first, with each document's current facts.
    fn moves_since(&self, cursor: i64) -> Result<Vec<MoveRow>, DbError>;
    /// Documents changed (or moved) after `cursor` that `filter` lets through, oldest
    /// change first — filtered by the engine, so a reader never reads others' rows.
    fn readable_docs_changed_since(&self, cursor: i64, filter: &ReadFilter) -> Result<Vec<DocSummary>, DbError>;
    /// For every document with a chunk stored after `cursor`: the lowest such sequence
    /// number (a catch-up resumed from a lower cursor covers the document).
    fn first_seqs_since(&self, cursor: i64) -> Result<Vec<(Vec<u8>, i64)>, DbError>;
    /// Ids of documents whose access facts were never computed.
    fn docs_without_facts(&self) -> Result<Vec<Vec<u8>>, DbError>;
    /// Replace a document's chunks up to `snapshot_seq` by `snapshot`.
    fn compact_doc(&self, id: &[u8], snapshot: &[u8], snapshot_seq: i64) -> Result<(), DbError>;
    /// The highest sequence number stored (0 when empty); survives compaction.
    fn max_seq(&self) -> Result<i64, DbError>;
    fn doc_count(&self) -> Result<i64, DbError>;
    /// Chunk rows stored for a document (tests, diagnostics).
    fn chunk_rows(&self, id: &[u8]) -> Result<i64, DbError>;

    // ---- one-time effects ----
    /// Remember that a submitted order was checked (its date decides which policy
    /// versions re-check it); idempotent.
    fn record_order_check(&self, order: &[u8], created_at: i64, now: i64) -> Result<(), DbError>;
    /// Checked orders dated at or after `since` that are not assigned yet.
    fn unassigned_orders_since(&self, since: i64) -> Result<Vec<Vec<u8>>, DbError>;
    /// `false` when the order is assigned already (nothing changes).
    fn insert_assignment(&self, a: &AssignmentRow) -> Result<bool, DbError>;
    fn assignment(&self, order: &[u8]) -> Result<Option<AssignmentRow>, DbError>;
    /// `false` when (subject, department, kind) was notified already (nothing changes).
    fn insert_notification(&self, order: &[u8], department: &str, kind: &str, at: i64, message: &str) -> Result<bool, DbError>;
    fn notifications(&self, department: Option<&str>, order: Option<&[u8]>, limit: i64) -> Result<Vec<NotificationRow>, DbError>;
    /// `false` when the effect (doc, effect, key) is recorded already (nothing changes).
    fn insert_effect(&self, doc: &[u8], effect: &str, key: &str, at: i64, data: &str) -> Result<bool, DbError>;
    fn effect(&self, doc: &[u8], effect: &str, key: &str) -> Result<Option<EffectRow>, DbError>;
    /// A document's effects (of one effect, when given), oldest first.
    fn effects_of(&self, doc: &[u8], effect: Option<&str>) -> Result<Vec<EffectRow>, DbError>;
    /// The documents `effect` was recorded for with `key`.
    fn effect_docs(&self, effect: &str, key: &str) -> Result<Vec<Vec<u8>>, DbError>;
    /// When `validator` wants to look at `doc` again, though nothing changed (`None`: never).
    fn set_wakeup(&self, doc: &[u8], validator: &str, at: Option<i64>) -> Result<(), DbError>;
    /// Wake-ups due at `now`, earliest first.
    fn due_wakeups(&self, now: i64, limit: i64) -> Result<Vec<WakeupRow>, DbError>;
    fn wakeups_of(&self, validator: &str) -> Result<Vec<WakeupRow>, DbError>;
    /// `false` when this (order, line, batch) is recorded already.
    fn insert_shipped_batch(&self, row: &ShippedBatchRow) -> Result<bool, DbError>;
    fn shipped_with_batch(&self, batch: &str) -> Result<Vec<ShippedBatchRow>, DbError>;
    /// Ids of every document of a kind.
    fn doc_ids_of_kind(&self, kind: i64) -> Result<Vec<Vec<u8>>, DbError>;

    // ---- audit ----
    fn insert_audit(&self, a: &NewAudit<'_>) -> Result<(), DbError>;
    fn audit_of_doc(&self, doc_id: &[u8], limit: i64) -> Result<Vec<AuditRow>, DbError>;
    fn audit_of_user(&self, user: &str, limit: i64) -> Result<Vec<AuditRow>, DbError>;

    // ---- admin commands ----
    fn enqueue_admin_command(&self, command: &str, now: i64) -> Result<i64, DbError>;
    fn pending_admin_commands(&self) -> Result<Vec<AdminCommandRow>, DbError>;
    /// Every command queued after id `after` (done or not), oldest first.
    fn admin_commands_after(&self, after: i64) -> Result<Vec<AdminCommandRow>, DbError>;
    fn finish_admin_command(&self, id: i64, ok: bool, result: &str, now: i64) -> Result<bool, DbError>;
    fn admin_command(&self, id: i64) -> Result<Option<AdminCommandRow>, DbError>;

    // ---- identity ----
    fn insert_user(&self, user: &NewUser) -> Result<(), DbError>;
    fn user(&self, name: &str) -> Result<Option<UserRow>, DbError>;
    fn users(&self) -> Result<Vec<UserRow>, DbError>;
    fn set_user_disabled(&self, name: &str, disabled: bool) -> Result<bool, DbError>;
    /// The territories of a manager's reps.
    fn team_territories(&self, manager: &str) -> Result<Vec<String>, DbError>;
    fn device(&self, id: Uuid) -> Result<Option<DeviceRow>, DbError>;
    fn upsert_device(&self, id: Uuid, user: &str, name: &str, now: i64) -> Result<(), DbError>;
    fn set_device_revoked(&self, id: Uuid, revoked: bool) -> Result<bool, DbError>;
    fn devices(&self, user: Option<&str>) -> Result<Vec<DeviceRow>, DbError>;
    fn insert_token(&self, hash: &str, user: &str, device: Uuid, now: i64, expires_at: i64) -> Result<(), DbError>;
    fn token(&self, hash: &str) -> Result<Option<TokenRow>, DbError>;
    fn revoke_token(&self, hash: &str) -> Result<bool, DbError>;
    /// Revoke every token of a user (when disabling them); returns how many were revoked.
    fn revoke_user_tokens(&self, user: &str) -> Result<u64, DbError>;
    /// Revoke every token of a device (when revoking it); returns how many were revoked.
    fn revoke_device_tokens(&self, device: Uuid) -> Result<u64, DbError>;
    /// Register actor ids to a device of a user; an actor registered to another device
    /// is a conflict (nothing is registered then).
    fn register_actors(&self, device: Uuid, user: &str, actors: &[Vec<u8>], now: i64) -> Result<ActorRegistration, DbError>;
    fn device_actors(&self, device: Uuid) -> Result<Vec<Vec<u8>>, DbError>;
}

/// The embedded database in `data_dir` (created if needed), as storage.
pub fn open_sqlite(data_dir: &Path) -> Result<Box<dyn Storage>, DbError> {
    Ok(Box::new(SqliteDb::open_in(data_dir)?))
}

/// Where the server keeps its data: the embedded SQLite file of a data directory (the
/// default), or a PostgreSQL database shared by several nodes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Database {
    Sqlite(std::path::PathBuf),
    Postgres(String),
}

impl Database {
    /// `--database URL` when given (`postgres://…` or `postgresql://…`), else `data_dir`.
    pub fn choose(url: Option<&str>, data_dir: &Path) -> Result<Self, DbError> {
        match url.map(str::trim).filter(|u| !u.is_empty()) {
            None => Ok(Database::Sqlite(data_dir.to_path_buf())),
            Some(u) if u.starts_with("postgres://") || u.starts_with("postgresql://") => {
                Ok(Database::Postgres(u.to_string()))
            }
            Some(u) => Err(DbError::Open {
                target: u.to_string(),
                reason: "not a PostgreSQL URL (postgres://user@host:port/database)".into(),
            }),
        }
    }

    /// A new connection to it (each caller — the hub, logins, an admin command — has its own).
    pub fn open(&self) -> Result<Box<dyn Storage>, DbError> {
        match self {
            Database::Sqlite(dir) => open_sqlite(dir),
            Database::Postgres(url) => Ok(Box::new(PgStorage::connect(url)?)),
        }
    }

    pub fn is_shared(&self) -> bool {
        matches!(self, Database::Postgres(_))
    }
}

pub(crate) fn i64_from_u64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

pub(crate) fn u64_from_i64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}
