//! The PostgreSQL schema, kept in the table `jiuloop_schema`. The same tables as the
//! SQLite engine's (its migrations say what each version added and why), in PostgreSQL's
//! types: `BIGINT` times and numbers, `BYTEA` ids and bytes, `BOOLEAN` flags; `user` is a
//! reserved word here, so those columns are `user_name`. Versions match SQLite's, so a
//! data directory migrated from SQLite lands on the same version.

use super::DbError;
use postgres::Client;

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = 7;

/// Versions 1–5 of the SQLite engine at once (a PostgreSQL database starts at 5).
const V5: &str = "
CREATE TABLE users (
    name          TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL,
    territory     TEXT,
    manager       TEXT,
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    BIGINT NOT NULL
);
CREATE TABLE devices (
    id         TEXT PRIMARY KEY,
    user_name  TEXT NOT NULL REFERENCES users(name),
    name       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked    BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE TABLE tokens (
    hash       TEXT PRIMARY KEY,
    user_name  TEXT NOT NULL REFERENCES users(name),
    device     TEXT NOT NULL REFERENCES devices(id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked    BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX tokens_by_user ON tokens(user_name) WHERE NOT revoked;
CREATE INDEX tokens_by_device ON tokens(device) WHERE NOT revoked;
CREATE TABLE actors (
    actor      BYTEA PRIMARY KEY,
    device     TEXT NOT NULL REFERENCES devices(id),
    user_name  TEXT NOT NULL REFERENCES users(name),
    created_at BIGINT NOT NULL
);
CREATE INDEX actors_by_device ON actors(device);

-- The global sequence: one row, incremented under the write lock by the transaction
-- that uses the number.
CREATE TABLE jiuloop_seq (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    value BIGINT NOT NULL
);
INSERT INTO jiuloop_seq (id, value) VALUES (1, 0);
CREATE TABLE docs (
    id           BYTEA PRIMARY KEY,
    kind         BIGINT NOT NULL,
    heads        BYTEA NOT NULL,
    snapshot     BYTEA,
    snapshot_seq BIGINT NOT NULL DEFAULT 0,
    last_seq     BIGINT NOT NULL,
    chunk_count  BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    territory    TEXT,
    parent       BYTEA,
    author       TEXT,
    facts_known  BOOLEAN NOT NULL DEFAULT FALSE,
    assignee     TEXT
);
CREATE INDEX docs_by_last_seq ON docs(last_seq);
CREATE INDEX docs_by_parent ON docs(parent) WHERE parent IS NOT NULL;
CREATE INDEX docs_by_territory ON docs(territory, last_seq);
CREATE INDEX docs_by_author ON docs(author, last_seq) WHERE author IS NOT NULL;
CREATE INDEX docs_by_assignee ON docs(assignee, last_seq) WHERE assignee IS NOT NULL;
CREATE INDEX docs_by_kind ON docs(kind);
CREATE TABLE changes (
    seq    BIGINT PRIMARY KEY,
    doc_id BYTEA NOT NULL,
    bytes  BYTEA NOT NULL
);
CREATE INDEX changes_by_doc ON changes(doc_id, seq);
CREATE TABLE moves (
    id            BIGSERIAL PRIMARY KEY,
    seq           BIGINT NOT NULL,
    doc_id        BYTEA NOT NULL,
    old_territory TEXT,
    new_territory TEXT,
    at            BIGINT NOT NULL
);
CREATE INDEX moves_by_seq ON moves(seq);
CREATE TABLE audit (
    id        BIGSERIAL PRIMARY KEY,
    at        BIGINT NOT NULL,
    user_name TEXT NOT NULL,
    device    TEXT,
    doc_id    BYTEA NOT NULL,
    kind      BIGINT NOT NULL,
    seq       BIGINT,
    refused   BOOLEAN NOT NULL DEFAULT FALSE,
    fields    TEXT NOT NULL,
    changes   TEXT NOT NULL DEFAULT '[]',
    code      TEXT,
    rule      TEXT,
    message   TEXT
);
CREATE INDEX audit_by_doc ON audit(doc_id, id);
CREATE INDEX audit_by_user ON audit(user_name, id);
CREATE TABLE admin_commands (
    id         BIGSERIAL PRIMARY KEY,
    created_at BIGINT NOT NULL,
    command    TEXT NOT NULL,
    done_at    BIGINT,
    ok         BOOLEAN,
    result     TEXT
);
CREATE INDEX admin_commands_pending ON admin_commands(id) WHERE done_at IS NULL;
CREATE TABLE order_checks (
    order_id   BYTEA PRIMARY KEY,
    created_at BIGINT NOT NULL,
    checked_at BIGINT NOT NULL
);
CREATE INDEX order_checks_by_created ON order_checks(created_at);
CREATE TABLE assignments (
    order_id    BYTEA PRIMARY KEY,
    assigned_at BIGINT NOT NULL,
    customer    BYTEA,
    created_by  TEXT NOT NULL,
    total_fen   BIGINT
);
CREATE TABLE notifications (
    id         BIGSERIAL PRIMARY KEY,
    order_id   BYTEA NOT NULL,
    department TEXT NOT NULL,
    kind       TEXT NOT NULL,
    at         BIGINT NOT NULL,
    message    TEXT NOT NULL,
    UNIQUE (order_id, department, kind)
);
CREATE INDEX notifications_by_department ON notifications(department, id);
CREATE TABLE effects (
    doc_id BYTEA NOT NULL,
    effect TEXT NOT NULL,
    key    TEXT NOT NULL,
    at     BIGINT NOT NULL,
    data   TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (doc_id, effect, key)
);
CREATE INDEX effects_by_key ON effects(effect, key);
CREATE TABLE wakeups (
    doc_id    BYTEA NOT NULL,
    validator TEXT NOT NULL,
    at        BIGINT NOT NULL,
    PRIMARY KEY (doc_id, validator)
);
CREATE INDEX wakeups_by_at ON wakeups(at);
CREATE TABLE shipped_batches (
    order_id BYTEA NOT NULL,
    line     TEXT NOT NULL,
    batch    TEXT NOT NULL,
    customer BYTEA,
    sku      TEXT NOT NULL,
    qty      BIGINT NOT NULL,
    at       BIGINT NOT NULL,
    PRIMARY KEY (order_id, line, batch)
);
CREATE INDEX shipped_batches_by_batch ON shipped_batches(batch);
";

/// Version 6: the servers using the database (`nodes`).
const V6: &str = "
CREATE TABLE nodes (
    id           TEXT PRIMARY KEY,
    address      TEXT NOT NULL,
    version      TEXT NOT NULL,
    started_at   BIGINT NOT NULL,
    heartbeat_at BIGINT NOT NULL,
    stopped_at   BIGINT
);
";

/// Version 7: attachments in the database (`blob_store`), shared by every node.
const V7: &str = "
CREATE TABLE blob_parts (
    uploader   TEXT NOT NULL,
    hash       BYTEA NOT NULL,
    offset_at  BIGINT NOT NULL,
    bytes      BYTEA NOT NULL,
    touched_at BIGINT NOT NULL,
    PRIMARY KEY (uploader, hash, offset_at)
);
CREATE TABLE blobs (
    hash BYTEA PRIMARY KEY,
    size BIGINT NOT NULL
);
CREATE TABLE blob_chunks (
    hash      BYTEA NOT NULL REFERENCES blobs(hash),
    offset_at BIGINT NOT NULL,
    bytes     BYTEA NOT NULL,
    PRIMARY KEY (hash, offset_at)
);
";

/// Bring the schema up to [`SCHEMA_VERSION`]. Safe when several nodes start at once: the
/// check and the migration run in one transaction under the write lock.
pub fn migrate(client: &mut Client) -> Result<(), DbError> {
    let mut tx = client.transaction()?;
    tx.batch_execute(&format!("SELECT pg_advisory_xact_lock({})", super::WRITE_LOCK))?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS jiuloop_schema (version BIGINT NOT NULL)")?;
    let found: i64 = match tx.query_opt("SELECT version FROM jiuloop_schema", &[])? {
        Some(row) => row.get(0),
        None => {
            tx.execute("INSERT INTO jiuloop_schema (version) VALUES (0)", &[])?;
            0
        }
    };
    if found > SCHEMA_VERSION {
        return Err(DbError::SchemaTooNew { found, supported: SCHEMA_VERSION });
    }
    if found < 5 {
        tx.batch_execute(V5)?;
    }
    if found < 6 {
        tx.batch_execute(V6)?;
    }
    if found < 7 {
        tx.batch_execute(V7)?;
    }
    if found < SCHEMA_VERSION {
        tx.execute("UPDATE jiuloop_schema SET version = $1", &[&SCHEMA_VERSION])?;
    }
    tx.commit()?;
    Ok(())
}
