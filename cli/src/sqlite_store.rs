//! A device profile's SQLite file: documents as chunks, per-document server heads, the
//! cursor and other settings, and the refused-edits inbox. Only this module knows SQL.

use client_core::{InboxItem, StoreOp, StoredDoc};
use protocol::wire::Hash;
use protocol::{DocId, DocKind};
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::HashMap;
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("local database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("local database is damaged: {0}")]
    Corrupt(String),
}

const SCHEMA_VERSION: i64 = 1;

pub struct SqliteStore {
    conn: Connection,
    /// Chunk rows this process has read or written, per document. Compaction deletes
    /// only these, so a chunk another process (a second `jiuloop` command) appended
    /// meanwhile is never lost.
    known_chunks: HashMap<DocId, Vec<i64>>,
}

impl SqliteStore {
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if version == 0 {
            conn.execute_batch(
                "BEGIN;
                 CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
                 CREATE TABLE IF NOT EXISTS docs(id BLOB PRIMARY KEY, kind INTEGER NOT NULL,
                     server_heads BLOB NOT NULL DEFAULT x'');
                 CREATE TABLE IF NOT EXISTS chunks(seq INTEGER PRIMARY KEY AUTOINCREMENT,
                     doc_id BLOB NOT NULL, bytes BLOB NOT NULL);
                 CREATE INDEX IF NOT EXISTS chunks_by_doc ON chunks(doc_id, seq);
                 CREATE TABLE IF NOT EXISTS inbox(id INTEGER PRIMARY KEY AUTOINCREMENT, item TEXT NOT NULL);
                 PRAGMA user_version = 1;
                 COMMIT;",
            )?;
        } else if version > SCHEMA_VERSION {
            return Err(StoreError::Corrupt(format!(
                "profile was written by a newer jiuloop (schema {version}); update jiuloop"
            )));
        }
        Ok(SqliteStore { conn, known_chunks: HashMap::new() })
    }

    pub fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self.conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0)).optional()?)
    }

    pub fn set_meta(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO meta(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [key, value],
        )?;
        Ok(())
    }

    pub fn delete_meta(&self, key: &str) -> Result<(), StoreError> {
        self.conn.execute("DELETE FROM meta WHERE key = ?1", [key])?;
        Ok(())
    }

    /// Every document with its chunks, in storage order.
    pub fn load_docs(&mut self) -> Result<Vec<StoredDoc>, StoreError> {
        let mut docs: HashMap<DocId, StoredDoc> = HashMap::new();
        let mut stmt = self.conn.prepare("SELECT id, kind, server_heads FROM docs")?;
        let rows =
            stmt.query_map([], |r| Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, i64>(1)?, r.get::<_, Vec<u8>>(2)?)))?;
        for row in rows {
            let (id, kind, heads) = row?;
            let id = DocId::from_slice(&id).ok_or_else(|| StoreError::Corrupt("bad document id".into()))?;
            let kind = DocKind::from_code(kind).ok_or_else(|| StoreError::Corrupt(format!("bad kind {kind}")))?;
            docs.insert(id, StoredDoc { id, kind, chunks: Vec::new(), server_heads: split_heads(&heads)? });
        }
        let mut stmt = self.conn.prepare("SELECT seq, doc_id, bytes FROM chunks ORDER BY seq")?;
        let rows =
            stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?, r.get::<_, Vec<u8>>(2)?)))?;
        self.known_chunks.clear();
        for row in rows {
            let (seq, id, bytes) = row?;
            let Some(doc) = DocId::from_slice(&id).and_then(|id| docs.get_mut(&id)) else { continue };
            doc.chunks.push(bytes);
            self.known_chunks.entry(doc.id).or_default().push(seq);
        }
        let mut docs: Vec<StoredDoc> = docs.into_values().collect();
        docs.sort_by_key(|d| d.id);
        Ok(docs)
    }

    pub fn load_inbox(&self) -> Result<Vec<InboxItem>, StoreError> {
        let mut stmt = self.conn.prepare("SELECT item FROM inbox ORDER BY id")?;
        let items = stmt.query_map([], |r| r.get::<_, String>(0))?;
        items.map(|i| serde_json::from_str(&i?).map_err(|e| StoreError::Corrupt(format!("inbox item: {e}")))).collect()
    }

    /// Make a batch of store ops durable, all or nothing.
    pub fn apply(&mut self, ops: &[StoreOp]) -> Result<(), StoreError> {
        if ops.is_empty() {
            return Ok(());
        }
        let tx = self.conn.transaction()?;
        let mut new_chunks: Vec<(DocId, i64)> = Vec::new();
        let mut compacted: Vec<DocId> = Vec::new();
        for op in ops {
            match op {
                StoreOp::AppendChunk { id, kind, bytes } => {
                    ensure_doc(&tx, *id, *kind)?;
                    tx.execute(
                        "INSERT INTO chunks(doc_id, bytes) VALUES (?1, ?2)",
                        params![&id.as_bytes()[..], bytes],
                    )?;
                    new_chunks.push((*id, tx.last_insert_rowid()));
                }
                StoreOp::Compact { id, kind, snapshot } => {
                    ensure_doc(&tx, *id, *kind)?;
                    let mut known = self.known_chunks.get(id).cloned().unwrap_or_default();
                    known.extend(new_chunks.iter().filter(|(d, _)| d == id).map(|(_, s)| *s));
                    for seq in known {
                        tx.execute("DELETE FROM chunks WHERE seq = ?1", [seq])?;
                    }
                    new_chunks.retain(|(d, _)| d != id);
                    compacted.push(*id);
                    tx.execute(
                        "INSERT INTO chunks(doc_id, bytes) VALUES (?1, ?2)",
                        params![&id.as_bytes()[..], snapshot],
                    )?;
                    new_chunks.push((*id, tx.last_insert_rowid()));
                }
                StoreOp::SetServerHeads { id, kind, heads } => {
                    ensure_doc(&tx, *id, *kind)?;
                    tx.execute(
                        "UPDATE docs SET server_heads = ?2 WHERE id = ?1",
                        params![&id.as_bytes()[..], heads.concat()],
                    )?;
                }
                StoreOp::SetCursor(c) => {
                    tx.execute(
                        "INSERT INTO meta(key, value) VALUES ('cursor', ?1)
                         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                        [c.to_string()],
                    )?;
                }
                StoreOp::DeleteDoc { id } => {
                    tx.execute("DELETE FROM chunks WHERE doc_id = ?1", [&id.as_bytes()[..]])?;
                    tx.execute("DELETE FROM docs WHERE id = ?1", [&id.as_bytes()[..]])?;
                    new_chunks.retain(|(d, _)| d != id);
                    compacted.push(*id);
                }
                StoreOp::AddInbox(item) => {
                    let json = serde_json::to_string(item).expect("inbox items serialize");
                    tx.execute("INSERT INTO inbox(item) VALUES (?1)", [json])?;
                }
            }
        }
        tx.commit()?;
        for id in compacted {
            self.known_chunks.remove(&id);
        }
        for (id, seq) in new_chunks {
            self.known_chunks.entry(id).or_default().push(seq);
        }
        Ok(())
    }
}

fn ensure_doc(tx: &rusqlite::Transaction<'_>, id: DocId, kind: DocKind) -> Result<(), rusqlite::Error> {
    tx.execute(
        "INSERT INTO docs(id, kind) VALUES (?1, ?2) ON CONFLICT(id) DO NOTHING",
        params![&id.as_bytes()[..], kind.code()],
    )?;
    Ok(())
}

fn split_heads(bytes: &[u8]) -> Result<Vec<Hash>, StoreError> {
    if !bytes.len().is_multiple_of(32) {
        return Err(StoreError::Corrupt("bad heads".into()));
    }
    Ok(bytes.chunks(32).map(|c| c.try_into().expect("32 bytes")).collect())
}
