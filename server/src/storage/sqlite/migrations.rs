//! Schema versions, kept in `PRAGMA user_version`.

use super::DbError;
use rusqlite::Connection;

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = 6;

const V1: &str = "
CREATE TABLE users (
    name          TEXT PRIMARY KEY NOT NULL,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL,
    territory     TEXT,
    manager       TEXT,
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL
);
CREATE TABLE devices (
    id         TEXT PRIMARY KEY NOT NULL,
    user       TEXT NOT NULL REFERENCES users(name),
    name       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    revoked    INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE tokens (
    hash       TEXT PRIMARY KEY NOT NULL,
    user       TEXT NOT NULL REFERENCES users(name),
    device     TEXT NOT NULL REFERENCES devices(id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked    INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE actors (
    actor      BLOB PRIMARY KEY NOT NULL,
    device     TEXT NOT NULL REFERENCES devices(id),
    user       TEXT NOT NULL REFERENCES users(name),
    created_at INTEGER NOT NULL
);
CREATE INDEX actors_by_device ON actors(device);
CREATE TABLE docs (
    id           BLOB PRIMARY KEY NOT NULL,
    kind         INTEGER NOT NULL,
    heads        BLOB NOT NULL,
    snapshot     BLOB,
    snapshot_seq INTEGER NOT NULL DEFAULT 0,
    last_seq     INTEGER NOT NULL,
    chunk_count  INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX docs_by_last_seq ON docs(last_seq);
CREATE TABLE changes (
    seq    INTEGER PRIMARY KEY AUTOINCREMENT,
    doc_id BLOB NOT NULL,
    bytes  BLOB NOT NULL
);
CREATE INDEX changes_by_doc ON changes(doc_id, seq);
";

/// Version 2: who may read what. Each document's access facts (its territory — for visits
/// and orders their customer's —, its customer, its author), territory moves (so a device
/// whose cursor predates a move is told to forget), the audit trail, and the queue of
/// admin commands that the running server picks up.
const V2: &str = "
ALTER TABLE docs ADD COLUMN territory TEXT;
ALTER TABLE docs ADD COLUMN parent BLOB;
ALTER TABLE docs ADD COLUMN author TEXT;
ALTER TABLE docs ADD COLUMN facts_known INTEGER NOT NULL DEFAULT 0;
CREATE INDEX docs_by_parent ON docs(parent) WHERE parent IS NOT NULL;
CREATE INDEX docs_by_territory ON docs(territory, last_seq);
CREATE TABLE moves (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    seq           INTEGER NOT NULL,
    doc_id        BLOB NOT NULL,
    old_territory TEXT,
    new_territory TEXT,
    at            INTEGER NOT NULL
);
CREATE INDEX moves_by_seq ON moves(seq);
CREATE TABLE audit (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    at       INTEGER NOT NULL,
    user     TEXT NOT NULL,
    device   TEXT,
    doc_id   BLOB NOT NULL,
    kind     INTEGER NOT NULL,
    seq      INTEGER,
    refused  INTEGER NOT NULL DEFAULT 0,
    fields   TEXT NOT NULL,
    changes  TEXT NOT NULL DEFAULT '[]',
    code     TEXT,
    rule     TEXT,
    message  TEXT
);
CREATE INDEX audit_by_doc ON audit(doc_id, id);
CREATE INDEX audit_by_user ON audit(user, id);
CREATE TABLE admin_commands (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at INTEGER NOT NULL,
    command    TEXT NOT NULL,
    done_at    INTEGER,
    ok         INTEGER,
    result     TEXT
);
CREATE INDEX admin_commands_pending ON admin_commands(id) WHERE done_at IS NULL;
";

/// Version 3: orders' server-side effects. `order_checks`: every submitted order the hub
/// has validated, with its date and when it was first checked (so a newly published policy
/// version re-checks only the orders it can apply to). `assignments`: an order confirmed and handed to logistics and
/// finance — at most one row per order, ever. `notifications`: what each department is told,
/// at most once per (order, department, kind). Rows are inserted with `INSERT OR IGNORE`, so
/// reconnects and resent pushes cannot duplicate them.
const V3: &str = "
CREATE TABLE order_checks (
    order_id   BLOB PRIMARY KEY NOT NULL,
    created_at INTEGER NOT NULL,
    checked_at INTEGER NOT NULL
);
CREATE INDEX order_checks_by_created ON order_checks(created_at);
CREATE TABLE assignments (
    order_id    BLOB PRIMARY KEY NOT NULL,
    assigned_at INTEGER NOT NULL,
    customer    BLOB,
    created_by  TEXT NOT NULL,
    total_fen   INTEGER
);
CREATE TABLE notifications (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id   BLOB NOT NULL,
    department TEXT NOT NULL,
    kind       TEXT NOT NULL,
    at         INTEGER NOT NULL,
    message    TEXT NOT NULL,
    UNIQUE (order_id, department, kind)
);
CREATE INDEX notifications_by_department ON notifications(department, id);
";

/// Version 4: the person a document is assigned to (readers with scope `own` see the
/// documents they authored or are assigned to).
const V4: &str = "
ALTER TABLE docs ADD COLUMN assignee TEXT;
CREATE INDEX docs_by_author ON docs(author, last_seq) WHERE author IS NOT NULL;
CREATE INDEX docs_by_assignee ON docs(assignee, last_seq) WHERE assignee IS NOT NULL;
UPDATE docs SET facts_known = 0;
";

/// Version 5: the generic tables of one-time effects (`effects`, one row per document,
/// effect and key, `INSERT OR IGNORE`), validators' timers (`wakeups`: look at a document
/// again at a time, though nothing changed) and the batch numbers order lines shipped with
/// (`shipped_batches`, what recalls are drawn from).
const V5: &str = "
CREATE TABLE effects (
    doc_id BLOB NOT NULL,
    effect TEXT NOT NULL,
    key    TEXT NOT NULL,
    at     INTEGER NOT NULL,
    data   TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (doc_id, effect, key)
);
CREATE INDEX effects_by_key ON effects(effect, key);
CREATE TABLE wakeups (
    doc_id    BLOB NOT NULL,
    validator TEXT NOT NULL,
    at        INTEGER NOT NULL,
    PRIMARY KEY (doc_id, validator)
);
CREATE INDEX wakeups_by_at ON wakeups(at);
CREATE TABLE shipped_batches (
    order_id BLOB NOT NULL,
    line     TEXT NOT NULL,
    batch    TEXT NOT NULL,
    customer BLOB,
    sku      TEXT NOT NULL,
    qty      INTEGER NOT NULL,
    at       INTEGER NOT NULL,
    PRIMARY KEY (order_id, line, batch)
);
CREATE INDEX shipped_batches_by_batch ON shipped_batches(batch);
CREATE INDEX docs_by_kind ON docs(kind);
";

/// Version 6: the servers using the database (`nodes`: `jiuloop-server nodes`, `/health`).
const V6: &str = "
CREATE TABLE nodes (
    id           TEXT PRIMARY KEY NOT NULL,
    address      TEXT NOT NULL,
    version      TEXT NOT NULL,
    started_at   INTEGER NOT NULL,
    heartbeat_at INTEGER NOT NULL,
    stopped_at   INTEGER
);
";

/// Bring the schema up to [`SCHEMA_VERSION`]. Safe when several processes open the same
/// file at once: the check and the migration happen in one write transaction.
pub fn migrate(conn: &mut Connection) -> Result<(), DbError> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let found: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if found > SCHEMA_VERSION {
        return Err(DbError::SchemaTooNew { found, supported: SCHEMA_VERSION });
    }
    if found < 1 {
        tx.execute_batch(V1)?;
    }
    if found < 2 {
        tx.execute_batch(V2)?;
    }
    if found < 3 {
        tx.execute_batch(V3)?;
    }
    if found < 4 {
        tx.execute_batch(V4)?;
    }
    if found < 5 {
        tx.execute_batch(V5)?;
    }
    if found < 6 {
        tx.execute_batch(V6)?;
    }
    if found < SCHEMA_VERSION {
        tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    }
    tx.commit()?;
    Ok(())
}
