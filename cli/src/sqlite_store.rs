//! A device profile's SQLite file: documents as chunks, per-document server heads, the
//! cursor and other settings, the refused-edits inbox and attachments. Only this module
//! knows SQL.
//!
//! A [`LocalStore`]: `cli/tests/store_contract.rs` checks it against the shared suite
//! (`client_core::store_contract`) on a real file, reopened, with a second connection and
//! injected failures.

use crate::doc_index::{self, ListedRow};
use client_core::{
    BlobMeta, DocSource, InboxItem, IndexEntry, LocalStore, SourceEntry, StoreOp, StoredDoc, StoredState,
};
use protocol::wire::Hash;
use protocol::{DocId, DocKind};
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Chunk rows a process has read or written, per document (shared by the store and its
/// [`SqliteSource`]).
type KnownChunks = Arc<Mutex<HashMap<DocId, Vec<i64>>>>;

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

const SCHEMA_VERSION: i64 = 3;

/// Version 2: attachments, their bytes in the profile file (a receipt photo is a few
/// hundred KB; the profile's cap bounds the cache).
const V2: &str = "CREATE TABLE IF NOT EXISTS blobs(hash BLOB PRIMARY KEY, mime TEXT NOT NULL,
    size INTEGER NOT NULL, pending INTEGER NOT NULL, at INTEGER NOT NULL, bytes BLOB NOT NULL);";

/// Version 3: the index of what list views show of each document (`client_core::IndexRow`),
/// written in the transaction of the document's store ops. Built from the documents on the
/// first open that finds it missing or of an older [`INDEX_VERSION`] (meta `index_version`).
const V3: &str = "CREATE TABLE IF NOT EXISTS doc_index(id BLOB PRIMARY KEY, kind INTEGER NOT NULL,
    parent BLOB, title TEXT, status TEXT, territory TEXT, updated INTEGER NOT NULL,
    in_sync INTEGER NOT NULL, unsent INTEGER NOT NULL, has_server_heads INTEGER NOT NULL,
    summary TEXT);
    CREATE INDEX IF NOT EXISTS doc_index_by_kind ON doc_index(kind);
    CREATE INDEX IF NOT EXISTS doc_index_by_parent ON doc_index(parent);";

/// What the index rows hold; a profile whose index was built by another version has it
/// rebuilt on open.
pub const INDEX_VERSION: &str = "1";

/// Meta key set, in the transaction of a batch, when a document every order's status
/// reads changed: every order's row is recomputed before the profile is used again.
pub const ORDERS_STALE: &str = "index_orders_stale";

pub struct SqliteStore {
    conn: Connection,
    path: PathBuf,
    /// Chunk rows this process has read or written, per document. Compaction deletes
    /// only these, so a chunk another process (a second `jiuloop` command) appended
    /// meanwhile is never lost.
    known_chunks: KnownChunks,
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
        if version < 3 {
            conn.execute_batch(&format!("BEGIN; {V3} PRAGMA user_version = 3; COMMIT;"))?;
        }
        Ok(SqliteStore { conn, path: path.to_path_buf(), known_chunks: Default::default(), fail_after: None })
    }

    /// A second connection reading documents on demand for a lazy replica; the chunks it
    /// loads count as this store's (a later compaction replaces them).
    pub fn source(&self) -> Result<SqliteSource, StoreError> {
        let conn = Connection::open(&self.path)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        Ok(SqliteSource { conn, known_chunks: self.known_chunks.clone() })
    }

    fn known(&self) -> std::sync::MutexGuard<'_, HashMap<DocId, Vec<i64>>> {
        self.known_chunks.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The cursor, the inbox and the attachments' metas: what a lazy open reads.
    pub fn load_state_without_docs(&mut self) -> Result<StoredState, StoreError> {
        let cursor = self.meta("cursor")?.and_then(|c| c.parse().ok()).unwrap_or(0);
        Ok(StoredState { docs: Vec::new(), cursor, inbox: self.load_inbox()?, blobs: self.load_blobs()? })
    }

    /// Make a batch of store ops durable together with the index entries they change,
    /// all or nothing; `orders_stale`: also mark every order's row stale.
    pub fn apply_indexed(
        &mut self,
        ops: &[StoreOp],
        entries: &[IndexEntry],
        orders_stale: bool,
    ) -> Result<(), StoreError> {
        self.apply_batch(ops, entries, orders_stale.then_some("1"))
    }

    /// Replace the whole index (a profile without one, or built by another version).
    pub fn rebuild_index(&mut self, entries: &[IndexEntry]) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM doc_index", [])?;
        write_entries(&tx, entries)?;
        tx.execute(
            "INSERT INTO meta(key, value) VALUES ('index_version', ?1)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [INDEX_VERSION],
        )?;
        tx.execute("DELETE FROM meta WHERE key = ?1", [ORDERS_STALE])?;
        tx.commit()?;
        Ok(())
    }

    /// Rewrite order rows (after [`ORDERS_STALE`]); the last piece clears the mark.
    pub fn refresh_orders(&mut self, entries: &[IndexEntry], last: bool) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        write_entries(&tx, entries)?;
        if last {
            tx.execute("DELETE FROM meta WHERE key = ?1", [ORDERS_STALE])?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Every document of `kind` as stored.
    pub fn load_kind(&mut self, kind: DocKind) -> Result<Vec<StoredDoc>, StoreError> {
        let ids: Vec<Vec<u8>> = {
            let mut stmt = self.conn.prepare("SELECT id FROM docs WHERE kind = ?1")?;
            stmt.query_map([kind.code()], |r| r.get(0))?.collect::<Result<_, _>>()?
        };
        let mut docs = Vec::with_capacity(ids.len());
        for id in ids {
            let id = DocId::from_slice(&id).ok_or_else(|| StoreError::Corrupt("bad document id".into()))?;
            docs.extend(read_doc(&self.conn, &self.known_chunks, id)?);
        }
        Ok(docs)
    }

    /// Ids of the documents of `kind` the index holds.
    pub fn ids_of_kind(&self, kind: DocKind) -> Result<Vec<DocId>, StoreError> {
        let mut stmt = self.conn.prepare("SELECT id FROM doc_index WHERE kind = ?1 ORDER BY id")?;
        let rows = stmt.query_map([kind.code()], |r| r.get::<_, Vec<u8>>(0))?;
        rows.map(|r| DocId::from_slice(&r?).ok_or_else(|| StoreError::Corrupt("bad document id".into()))).collect()
    }

    /// Documents the index does not know to be in sync (what a connection looks at).
    pub fn not_in_sync(&self) -> Result<Vec<DocId>, StoreError> {
        let mut stmt = self.conn.prepare("SELECT id FROM doc_index WHERE in_sync = 0")?;
        let rows = stmt.query_map([], |r| r.get::<_, Vec<u8>>(0))?;
        rows.map(|r| DocId::from_slice(&r?).ok_or_else(|| StoreError::Corrupt("bad document id".into()))).collect()
    }

    /// (documents, documents with changes the server lacks), from the index.
    pub fn index_counts(&self) -> Result<(u64, u64), StoreError> {
        Ok(self.conn.query_row("SELECT count(*), coalesce(sum(unsent), 0) FROM doc_index", [], |r| {
            Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64))
        })?)
    }

    /// The documents whose id starts with `prefix` (lowercase hex and dashes), of `kind`
    /// if given: at most two (enough to tell unique from ambiguous).
    pub fn ids_with_prefix(&self, prefix: &str, kind: Option<DocKind>) -> Result<Vec<(DocId, DocKind)>, StoreError> {
        // Ids are stored as bytes: compare on the text form.
        let mut stmt = self.conn.prepare(
            "SELECT id, kind FROM doc_index WHERE (?2 IS NULL OR kind = ?2)
             AND lower(substr(hex(id),1,8)||'-'||substr(hex(id),9,4)||'-'||substr(hex(id),13,4)||'-'||
                 substr(hex(id),17,4)||'-'||substr(hex(id),21)) LIKE ?1 || '%' LIMIT 2",
        )?;
        let rows = stmt.query_map(params![prefix, kind.map(|k| k.code())], |r| {
            Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, i64>(1)?))
        })?;
        rows.map(|r| {
            let (id, kind) = r?;
            let id = DocId::from_slice(&id).ok_or_else(|| StoreError::Corrupt("bad document id".into()))?;
            let kind = DocKind::from_code(kind).ok_or_else(|| StoreError::Corrupt(format!("bad kind {kind}")))?;
            Ok((id, kind))
        })
        .collect()
    }

    /// One document's kind, from the index.
    pub fn indexed_kind(&self, id: DocId) -> Result<Option<DocKind>, StoreError> {
        let kind: Option<i64> = self
            .conn
            .query_row("SELECT kind FROM doc_index WHERE id = ?1", [&id.as_bytes()[..]], |r| r.get(0))
            .optional()?;
        Ok(kind.and_then(DocKind::from_code))
    }

    /// The index rows of `kind` (all kinds: `None`), or of one document.
    pub fn listed(&self, kind: Option<DocKind>, id: Option<DocId>) -> Result<Vec<ListedRow>, StoreError> {
        // One statement per shape, so that each uses its index (by id: the primary key); each
        // names both parameters.
        let mut stmt = match (kind, id) {
            (_, Some(_)) => self
                .conn
                .prepare_cached("SELECT id, kind, status, summary FROM doc_index WHERE id = ?2 AND ?1 IS ?1")?,
            (Some(_), None) => self
                .conn
                .prepare_cached("SELECT id, kind, status, summary FROM doc_index WHERE kind = ?1 AND ?2 IS ?2")?,
            (None, None) => self
                .conn
                .prepare_cached("SELECT id, kind, status, summary FROM doc_index WHERE ?1 IS NULL AND ?2 IS NULL")?,
        };
        let rows = stmt.query_map(params![kind.map(|k| k.code()), id.map(|i| i.as_bytes().to_vec())], |r| {
            Ok((
                r.get::<_, Vec<u8>>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, Option<String>>(3)?,
            ))
        })?;
        rows.map(|r| {
            let (id, kind, status, summary) = r?;
            let id = DocId::from_slice(&id).ok_or_else(|| StoreError::Corrupt("bad document id".into()))?;
            let kind = DocKind::from_code(kind).ok_or_else(|| StoreError::Corrupt(format!("bad kind {kind}")))?;
            doc_index::decode(id, kind, status, summary.as_deref()).map_err(StoreError::Corrupt)
        })
        .collect()
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
        let mut known = self.known_chunks.lock().unwrap_or_else(|e| e.into_inner());
        known.clear();
        for row in rows {
            let (seq, id, bytes) = row?;
            let Some(doc) = DocId::from_slice(&id).and_then(|id| docs.get_mut(&id)) else { continue };
            doc.chunks.push(bytes);
            known.entry(doc.id).or_default().push(seq);
        }
        drop(known);
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
        self.apply_batch(ops, &[], None)
    }

    fn load_all(&mut self) -> Result<StoredState, StoreError> {
        // The cursor first: another process may commit meanwhile, and the documents read
        // after it then hold at least what it covers.
        let cursor = self.meta("cursor")?.and_then(|c| c.parse().ok()).unwrap_or(0);
        Ok(StoredState { docs: self.load_docs()?, cursor, inbox: self.load_inbox()?, blobs: self.load_blobs()? })
    }

    fn load_doc(&mut self, id: DocId) -> Result<Option<StoredDoc>, StoreError> {
        read_doc(&self.conn, &self.known_chunks, id)
    }

    fn load_blob(&mut self, hash: &protocol::blob::BlobHash) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.conn.query_row("SELECT bytes FROM blobs WHERE hash = ?1", [&hash[..]], |r| r.get(0)).optional()?)
    }
}

impl SqliteStore {
    fn apply_batch(&mut self, ops: &[StoreOp], entries: &[IndexEntry], stale: Option<&str>) -> Result<(), StoreError> {
        let fail_after = self.fail_after.take();
        if ops.is_empty() && entries.is_empty() && stale.is_none() && fail_after.is_none() {
            return Ok(());
        }
        let known_chunks = self.known_chunks.clone();
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
                    let mut known =
                        known_chunks.lock().unwrap_or_else(|e| e.into_inner()).get(id).cloned().unwrap_or_default();
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
        write_entries(&tx, entries)?;
        if let Some(v) = stale {
            tx.execute(
                "INSERT INTO meta(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                [ORDERS_STALE, v],
            )?;
        }
        if fail_after.is_some() {
            return Err(StoreError::Injected(ops.len()));
        }
        tx.commit()?;
        let mut known = self.known();
        for id in compacted {
            known.remove(&id);
        }
        for (id, seq) in new_chunks {
            known.entry(id).or_default().push(seq);
        }
        Ok(())
    }
}

/// The index rows of a batch, in its transaction.
fn write_entries(tx: &rusqlite::Transaction<'_>, entries: &[IndexEntry]) -> Result<(), rusqlite::Error> {
    let mut put = tx.prepare_cached(
        "INSERT INTO doc_index(id, kind, parent, title, status, territory, updated, in_sync, unsent,
             has_server_heads, summary) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
         ON CONFLICT(id) DO UPDATE SET kind = excluded.kind, parent = excluded.parent, title = excluded.title,
             status = excluded.status, territory = excluded.territory, updated = excluded.updated,
             in_sync = excluded.in_sync, unsent = excluded.unsent,
             has_server_heads = excluded.has_server_heads, summary = excluded.summary",
    )?;
    let mut gone = tx.prepare_cached("DELETE FROM doc_index WHERE id = ?1")?;
    for e in entries {
        match e {
            IndexEntry::Row(r) => {
                put.execute(params![
                    &r.id.as_bytes()[..],
                    r.kind.code(),
                    r.parent.map(|p| p.as_bytes().to_vec()),
                    r.title,
                    r.status,
                    r.territory,
                    r.updated,
                    r.in_sync,
                    r.unsent,
                    r.has_server_heads,
                    doc_index::encode(r),
                ])?;
            }
            IndexEntry::Gone(id) => {
                gone.execute([&id.as_bytes()[..]])?;
            }
        }
    }
    Ok(())
}

/// One document as stored now, its chunk rows noted as known.
fn read_doc(conn: &Connection, known_chunks: &KnownChunks, id: DocId) -> Result<Option<StoredDoc>, StoreError> {
    {
        let key = &id.as_bytes()[..];
        let row = conn
            .query_row("SELECT kind, server_heads FROM docs WHERE id = ?1", [key], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?))
            })
            .optional()?;
        let Some((kind, heads)) = row else {
            known_chunks.lock().unwrap_or_else(|e| e.into_inner()).remove(&id);
            return Ok(None);
        };
        let kind = DocKind::from_code(kind).ok_or_else(|| StoreError::Corrupt(format!("bad kind {kind}")))?;
        let mut stmt = conn.prepare_cached("SELECT seq, bytes FROM chunks WHERE doc_id = ?1 ORDER BY seq")?;
        let rows = stmt.query_map([key], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?)))?;
        let (mut seqs, mut chunks) = (Vec::new(), Vec::new());
        for row in rows {
            let (seq, bytes) = row?;
            seqs.push(seq);
            chunks.push(bytes);
        }
        known_chunks.lock().unwrap_or_else(|e| e.into_inner()).insert(id, seqs);
        Ok(Some(StoredDoc { id, kind, chunks, server_heads: split_heads(&heads)? }))
    }
}

/// The profile's documents read on demand by a lazy replica ([`SqliteStore::source`]).
pub struct SqliteSource {
    conn: Connection,
    known_chunks: KnownChunks,
}

impl DocSource for SqliteSource {
    fn load(&mut self, id: DocId) -> Result<Option<StoredDoc>, String> {
        read_doc(&self.conn, &self.known_chunks, id).map_err(|e| e.to_string())
    }

    fn entries(&mut self) -> Result<Vec<SourceEntry>, String> {
        let read = || -> Result<Vec<SourceEntry>, StoreError> {
            let mut stmt = self.conn.prepare_cached("SELECT id, kind, length(server_heads) > 0 FROM docs")?;
            let rows =
                stmt.query_map([], |r| Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, i64>(1)?, r.get::<_, bool>(2)?)))?;
            rows.map(|r| {
                let (id, kind, has_server_heads) = r?;
                let id = DocId::from_slice(&id).ok_or_else(|| StoreError::Corrupt("bad document id".into()))?;
                let kind = DocKind::from_code(kind).ok_or_else(|| StoreError::Corrupt(format!("bad kind {kind}")))?;
                Ok(SourceEntry { id, kind, has_server_heads })
            })
            .collect()
        };
        read().map_err(|e| e.to_string())
    }

    fn children(&mut self, parent: DocId) -> Result<Vec<DocId>, String> {
        let read = || -> Result<Vec<DocId>, StoreError> {
            let mut stmt = self.conn.prepare_cached("SELECT id FROM doc_index WHERE parent = ?1")?;
            let rows = stmt.query_map([&parent.as_bytes()[..]], |r| r.get::<_, Vec<u8>>(0))?;
            rows.map(|r| DocId::from_slice(&r?).ok_or_else(|| StoreError::Corrupt("bad document id".into()))).collect()
        };
        read().map_err(|e| e.to_string())
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
