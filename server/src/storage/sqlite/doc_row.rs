//! The `docs` and `changes` tables.
//!
//! `changes.seq` is the server's global sequence: every stored chunk of new changes gets
//! the next one. A document's bytes are its `snapshot` (if compacted) followed by its
//! chunks in `seq` order; chunks with `seq <= snapshot_seq` are folded into the snapshot.

use super::{DbError, SqliteDb};
use crate::storage::rows::*;
use rusqlite::{OptionalExtension, Row, params};

const COLUMNS: &str =
    "id, kind, heads, snapshot_seq, last_seq, chunk_count, territory, parent, author, facts_known, assignee";

impl DocRow {
    fn from_row(r: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(DocRow {
            id: r.get(0)?,
            kind: r.get(1)?,
            heads: r.get(2)?,
            snapshot_seq: r.get(3)?,
            last_seq: r.get(4)?,
            chunk_count: r.get(5)?,
            territory: r.get(6)?,
            parent: r.get(7)?,
            author: r.get(8)?,
            facts_known: r.get(9)?,
            assignee: r.get(10)?,
        })
    }
}

impl SqliteDb {
    pub fn doc(&self, id: &[u8]) -> Result<Option<DocRow>, DbError> {
        let sql = format!("SELECT {COLUMNS} FROM docs WHERE id = ?1");
        Ok(self.conn.prepare_cached(&sql)?.query_row([id], DocRow::from_row).optional()?)
    }

    /// The row and the full bytes of a document.
    pub fn load_doc(&self, id: &[u8]) -> Result<Option<StoredDoc>, DbError> {
        let Some(row) = self.doc(id)? else {
            return Ok(None);
        };
        let bytes = self.doc_bytes(id, None)?;
        Ok(Some(StoredDoc { row, bytes }))
    }

    /// Documents changed after `cursor`, oldest change first.
    pub fn docs_changed_since(&self, cursor: i64) -> Result<Vec<DocSummary>, DbError> {
        let sql = format!("SELECT {COLUMNS} FROM docs WHERE last_seq > ?1 ORDER BY last_seq");
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map([cursor], DocRow::from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// A document's bytes: with `after = None` the snapshot and every chunk; with
    /// `after = Some(seq)` only the chunks stored after `seq` (the caller makes sure that
    /// `seq >= snapshot_seq`).
    pub fn doc_bytes(&self, id: &[u8], after: Option<i64>) -> Result<Vec<u8>, DbError> {
        let mut out = Vec::new();
        if after.is_none() {
            let snapshot: Option<Vec<u8>> = self
                .conn
                .prepare_cached("SELECT snapshot FROM docs WHERE id = ?1")?
                .query_row([id], |r| r.get(0))
                .optional()?
                .flatten();
            if let Some(s) = snapshot {
                out.extend_from_slice(&s);
            }
        }
        let mut stmt =
            self.conn.prepare_cached("SELECT bytes FROM changes WHERE doc_id = ?1 AND seq > ?2 ORDER BY seq")?;
        let mut rows = stmt.query(params![id, after.unwrap_or(-1)])?;
        while let Some(r) = rows.next()? {
            let bytes = r.get_ref(0)?.as_blob().map_err(rusqlite::Error::from)?;
            out.extend_from_slice(bytes);
        }
        Ok(out)
    }

    /// The next server sequence number. Every stored chunk and every territory move takes
    /// one, so a cursor covers both. Call inside the transaction that uses it.
    pub fn next_seq(&self) -> Result<i64, DbError> {
        Ok(self.conn.prepare_cached("SELECT coalesce(max(last_seq), 0) + 1 FROM docs")?.query_row([], |r| r.get(0))?)
    }

    /// Store one chunk of new changes of a document (creating its row if new) and return
    /// its sequence number. Call inside a transaction.
    pub fn store_change(&self, id: &[u8], kind: i64, heads: &[u8], bytes: &[u8], now: i64) -> Result<i64, DbError> {
        let seq = self.next_seq()?;
        self.conn
            .prepare_cached("INSERT INTO changes (seq, doc_id, bytes) VALUES (?1, ?2, ?3)")?
            .execute(params![seq, id, bytes])?;
        self.conn
            .prepare_cached(
                "INSERT INTO docs (id, kind, heads, snapshot, snapshot_seq, last_seq, chunk_count, updated_at)
                 VALUES (?1, ?2, ?3, NULL, 0, ?4, 1, ?5)
                 ON CONFLICT(id) DO UPDATE SET heads = excluded.heads, last_seq = excluded.last_seq,
                     chunk_count = docs.chunk_count + 1, updated_at = excluded.updated_at",
            )?
            .execute(params![id, kind, heads, seq, now])?;
        Ok(seq)
    }

    /// Record a document's access facts. Call inside a transaction.
    pub fn set_doc_facts(&self, id: &[u8], facts: &DocFactsRow<'_>) -> Result<(), DbError> {
        self.conn
            .prepare_cached(
                "UPDATE docs SET territory = ?2, parent = ?3, author = ?4, assignee = ?5, facts_known = 1 WHERE id = ?1",
            )?
            .execute(params![id, facts.territory, facts.parent, facts.author, facts.assignee])?;
        Ok(())
    }

    /// The visits and orders of a customer.
    pub fn children_of(&self, parent: &[u8]) -> Result<Vec<DocRow>, DbError> {
        let sql = format!("SELECT {COLUMNS} FROM docs WHERE parent = ?1");
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map([parent], DocRow::from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Move a document to another territory at sequence number `seq` (so catch-up from
    /// an older cursor sees it), remembering where it was. Call inside a transaction.
    pub fn record_move(
        &self,
        id: &[u8],
        old: Option<&str>,
        new: Option<&str>,
        seq: i64,
        now: i64,
    ) -> Result<(), DbError> {
        self.conn
            .prepare_cached("UPDATE docs SET territory = ?2, last_seq = max(last_seq, ?3) WHERE id = ?1")?
            .execute(params![id, new, seq])?;
        self.conn
            .prepare_cached(
                "INSERT INTO moves (seq, doc_id, old_territory, new_territory, at) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![seq, id, old, new, now])?;
        Ok(())
    }

    /// Moves after `cursor`, oldest first, with each document's current territory.
    pub fn moves_since(&self, cursor: i64) -> Result<Vec<MoveRow>, DbError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT m.seq, m.doc_id, d.kind, m.old_territory, m.new_territory, d.territory, d.author, d.assignee
             FROM moves m JOIN docs d ON d.id = m.doc_id WHERE m.seq > ?1 ORDER BY m.seq",
        )?;
        let rows = stmt.query_map([cursor], |r| {
            Ok(MoveRow {
                seq: r.get(0)?,
                doc_id: r.get(1)?,
                kind: r.get(2)?,
                old_territory: r.get(3)?,
                new_territory: r.get(4)?,
                current_territory: r.get(5)?,
                author: r.get(6)?,
                assignee: r.get(7)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Documents changed (or moved) after `cursor` that `filter` lets through, oldest
    /// change first. The filtering happens in SQLite, so a rep's catch-up never reads
    /// the rows of other territories.
    pub fn readable_docs_changed_since(&self, cursor: i64, filter: &ReadFilter) -> Result<Vec<DocSummary>, DbError> {
        let mut clauses = Vec::new();
        let mut args: Vec<rusqlite::types::Value> = vec![cursor.into()];
        for (kind, which) in &filter.kinds {
            args.push((*kind).into());
            let k = args.len();
            match which {
                KindFilter::All => clauses.push(format!("kind = ?{k}")),
                KindFilter::Territories(list) => {
                    let json = serde_json::to_string(list).unwrap_or_else(|_| "[]".into());
                    args.push(json.into());
                    let t = args.len();
                    clauses.push(format!("(kind = ?{k} AND territory IN (SELECT value FROM json_each(?{t})))"));
                }
                KindFilter::Own(user) => {
                    args.push(user.clone().into());
                    let u = args.len();
                    clauses.push(format!("(kind = ?{k} AND (author = ?{u} OR assignee = ?{u}))"));
                }
            }
        }
        if clauses.is_empty() {
            return Ok(Vec::new());
        }
        let sql =
            format!("SELECT {COLUMNS} FROM docs WHERE last_seq > ?1 AND ({}) ORDER BY last_seq", clauses.join(" OR "));
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(args), DocRow::from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// For every document with a chunk stored after `cursor`, the lowest such `seq` (by the
    /// primary key: only the chunks after the cursor are read).
    pub fn first_seqs_since(&self, cursor: i64) -> Result<Vec<(Vec<u8>, i64)>, DbError> {
        let mut stmt =
            self.conn.prepare_cached("SELECT doc_id, min(seq) FROM changes WHERE seq > ?1 GROUP BY doc_id")?;
        let rows = stmt.query_map([cursor], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Ids of documents whose access facts were never computed (stored before version 2).
    pub fn docs_without_facts(&self) -> Result<Vec<Vec<u8>>, DbError> {
        let mut stmt = self.conn.prepare_cached("SELECT id FROM docs WHERE facts_known = 0")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Replace a document's chunks up to `snapshot_seq` by `snapshot`. Call inside a
    /// transaction.
    pub fn compact_doc(&self, id: &[u8], snapshot: &[u8], snapshot_seq: i64) -> Result<(), DbError> {
        self.conn
            .prepare_cached("DELETE FROM changes WHERE doc_id = ?1 AND seq <= ?2")?
            .execute(params![id, snapshot_seq])?;
        self.conn
            .prepare_cached(
                "UPDATE docs SET snapshot = ?2, snapshot_seq = ?3,
                     chunk_count = (SELECT count(*) FROM changes WHERE doc_id = ?1)
                 WHERE id = ?1",
            )?
            .execute(params![id, snapshot, snapshot_seq])?;
        Ok(())
    }

    /// The highest sequence number stored (0 when empty). Survives compaction.
    pub fn max_seq(&self) -> Result<i64, DbError> {
        Ok(self.conn.query_row("SELECT coalesce(max(last_seq), 0) FROM docs", [], |r| r.get(0))?)
    }

    pub fn doc_count(&self) -> Result<i64, DbError> {
        Ok(self.conn.query_row("SELECT count(*) FROM docs", [], |r| r.get(0))?)
    }

    /// Number of chunk rows stored for a document (for tests and diagnostics).
    pub fn chunk_rows(&self, id: &[u8]) -> Result<i64, DbError> {
        Ok(self.conn.query_row("SELECT count(*) FROM changes WHERE doc_id = ?1", [id], |r| r.get(0))?)
    }
}
