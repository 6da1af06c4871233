//! A device profile's SQLite file: documents as chunks, per-document server heads, the
//! cursor and other settings, the refused-edits inbox and attachments. Only this module
//! knows SQL.
//!
//! A [`LocalStore`]: `cli/tests/store_contract.rs` checks it against the shared suite
//! (`client_core::store_contract`) on a real file, reopened, with a second connection and
//! injected failures.

use client_core::{BlobMeta, InboxItem, LocalStore, StoreOp, StoredDoc, StoredState};
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
    #[error("injected failure after {0} op(s) of the batch")]
    Injected(usize),
    /// The file is not a database (damaged, or not SQLite at all): left as it is.
    #[error("{0} is not a readable jiuloop profile (damaged or not a database); it was left untouched")]
    Damaged(String),
    /// The file is another program's database: left as it is.
    #[error("{0} is another program's database, not a jiuloop profile; it was left untouched")]
    Foreign(String),
}

impl StoreError {
    /// The profile's file was refused as it is (damaged or foreign), never written to.
    pub fn is_refused_file(&self) -> bool {
        matches!(self, StoreError::Damaged(_) | StoreError::Foreign(_))
    }
}

/// The tables of a profile: a file holding tables and not these is another program's.
const OUR_TABLES: [&str; 4] = ["meta", "docs", "chunks", "inbox"];

const SCHEMA_VERSION: i64 = 2;

/// Version 2: attachments, their bytes in the profile file (a receipt photo is a few
/// hundred KB; the profile's cap bounds the cache).
const V2: &str = "CREATE TABLE IF NOT EXISTS blobs(hash BLOB PRIMARY KEY, mime TEXT NOT NULL,
    size INTEGER NOT NULL, pending INTEGER NOT NULL, at INTEGER NOT NULL, bytes BLOB NOT NULL);";

pub struct SqliteStore {
    conn: Connection,
    /// Chunk rows this process has read or written, per document. Compaction deletes
    /// only these, so a chunk another process (a second `jiuloop` command) appended
    /// meanwhile is never lost.
    known_chunks: HashMap<DocId, Vec<i64>>,
    /// Tests: fail the next batch after this many of its ops.
    fail_after: Option<usize>,
}

impl SqliteStore {
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        // Before anything writes to it (even the journal mode is written to the header):
        // a damaged or foreign file is refused and left as it is.
        let shown = path.display().to_string();
        let tables: Vec<String> = match conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
            .and_then(|mut st| st.query_map([], |r| r.get(0))?.collect())
        {
            Ok(t) => t,
            Err(rusqlite::Error::SqliteFailure(f, _))
                if matches!(f.code, rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt) =>
            {
                return Err(StoreError::Damaged(shown));
            }
            Err(e) => return Err(e.into()),
        };
        let ours = |name: &str| tables.iter().any(|t| t == name);
        if !tables.is_empty() && !OUR_TABLES.iter().all(|t| ours(t)) {
            return Err(StoreError::Foreign(shown));
        }
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
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if version < 2 {
            conn.execute_batch(&format!("BEGIN; {V2} PRAGMA user_version = 2; COMMIT;"))?;
        }
        Ok(SqliteStore { conn, known_chunks: HashMap::new(), fail_after: None })
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

    /// Make the next batch fail after `ops` of its ops, its transaction rolled back (tests
    /// of atomicity).
    pub fn fail_next_batch_after(&mut self, ops: usize) {
        self.fail_after = Some(ops);
    }

    /// Every document with its chunks, in storage order.
    fn load_docs(&mut self) -> Result<Vec<StoredDoc>, StoreError> {
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

    fn load_blobs(&self) -> Result<Vec<BlobMeta>, StoreError> {
        let mut stmt = self.conn.prepare("SELECT hash, mime, size, pending, at FROM blobs ORDER BY hash")?;
        let rows = stmt.query_map([], |r| {
            Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?, r.get::<_, bool>(3)?, r.get(4)?))
        })?;
        rows.map(|row| {
            let (hash, mime, size, pending, at) = row?;
            let hash = hash.try_into().map_err(|_| StoreError::Corrupt("bad attachment hash".into()))?;
            Ok(BlobMeta { hash, mime, size: size as u64, pending, at })
        })
        .collect()
    }

    fn load_inbox(&self) -> Result<Vec<InboxItem>, StoreError> {
        let mut stmt = self.conn.prepare("SELECT item FROM inbox ORDER BY id")?;
        let items = stmt.query_map([], |r| r.get::<_, String>(0))?;
        items.map(|i| serde_json::from_str(&i?).map_err(|e| StoreError::Corrupt(format!("inbox item: {e}")))).collect()
    }
}

impl LocalStore for SqliteStore {
    type Error = StoreError;

    /// Make a batch of store ops durable, all or nothing (one transaction).
    fn apply(&mut self, ops: &[StoreOp]) -> Result<(), StoreError> {
        let fail_after = self.fail_after.take();
        if ops.is_empty() && fail_after.is_none() {
            return Ok(());
        }
        let tx = self.conn.transaction()?;
        let mut new_chunks: Vec<(DocId, i64)> = Vec::new();
        let mut compacted: Vec<DocId> = Vec::new();
        for (i, op) in ops.iter().enumerate() {
            if fail_after == Some(i) {
                return Err(StoreError::Injected(i));
            }
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
                StoreOp::PutBlob { hash, mime, bytes, pending, at } => {
                    tx.execute(
                        "INSERT INTO blobs(hash, mime, size, pending, at, bytes) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                         ON CONFLICT(hash) DO UPDATE SET mime = excluded.mime, size = excluded.size,
                             pending = excluded.pending, at = excluded.at, bytes = excluded.bytes",
                        params![&hash[..], mime, bytes.len() as i64, pending, at, bytes],
                    )?;
                }
                StoreOp::BlobUploaded { hash } => {
                    tx.execute("UPDATE blobs SET pending = 0 WHERE hash = ?1", [&hash[..]])?;
                }
                StoreOp::DeleteBlob { hash } => {
                    tx.execute("DELETE FROM blobs WHERE hash = ?1", [&hash[..]])?;
                }
            }
        }
        if fail_after.is_some() {
            return Err(StoreError::Injected(ops.len()));
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

    fn load_all(&mut self) -> Result<StoredState, StoreError> {
        // The cursor first: another process may commit meanwhile, and the documents read
        // after it then hold at least what it covers.
        let cursor = self.meta("cursor")?.and_then(|c| c.parse().ok()).unwrap_or(0);
        Ok(StoredState { docs: self.load_docs()?, cursor, inbox: self.load_inbox()?, blobs: self.load_blobs()? })
    }

    fn load_doc(&mut self, id: DocId) -> Result<Option<StoredDoc>, StoreError> {
        let key = &id.as_bytes()[..];
        let row = self
            .conn
            .query_row("SELECT kind, server_heads FROM docs WHERE id = ?1", [key], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?))
            })
            .optional()?;
        let Some((kind, heads)) = row else {
            self.known_chunks.remove(&id);
            return Ok(None);
        };
        let kind = DocKind::from_code(kind).ok_or_else(|| StoreError::Corrupt(format!("bad kind {kind}")))?;
        let mut stmt = self.conn.prepare("SELECT seq, bytes FROM chunks WHERE doc_id = ?1 ORDER BY seq")?;
        let rows = stmt.query_map([key], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?)))?;
        let (mut seqs, mut chunks) = (Vec::new(), Vec::new());
        for row in rows {
            let (seq, bytes) = row?;
            seqs.push(seq);
            chunks.push(bytes);
        }
        self.known_chunks.insert(id, seqs);
        Ok(Some(StoredDoc { id, kind, chunks, server_heads: split_heads(&heads)? }))
    }

    fn load_blob(&mut self, hash: &protocol::blob::BlobHash) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.conn.query_row("SELECT bytes FROM blobs WHERE hash = ?1", [&hash[..]], |r| r.get(0)).optional()?)
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
