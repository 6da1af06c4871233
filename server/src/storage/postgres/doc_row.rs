//! The `docs`, `changes` and `moves` tables, and the global sequence (`jiuloop_seq`).

use super::{DbError, PgStorage};
use crate::storage::rows::*;
use postgres::Row;
use postgres::types::ToSql;

impl DocRow {
    fn from_pg(r: &Row) -> Self {
        DocRow {
            id: r.get(0),
            kind: r.get(1),
            heads: r.get(2),
            snapshot_seq: r.get(3),
            last_seq: r.get(4),
            chunk_count: r.get(5),
            territory: r.get(6),
            parent: r.get(7),
            author: r.get(8),
            facts_known: r.get(9),
            assignee: r.get(10),
        }
    }
}

macro_rules! doc_select {
    ($rest:literal) => {
        concat!(
            "SELECT id, kind, heads, snapshot_seq, last_seq, chunk_count, territory, parent, author, facts_known, assignee FROM docs ",
            $rest
        )
    };
}

impl PgStorage {
    pub fn doc(&self, id: &[u8]) -> Result<Option<DocRow>, DbError> {
        Ok(self.row(doc_select!("WHERE id = $1"), &[&id])?.as_ref().map(DocRow::from_pg))
    }

    pub fn load_doc(&self, id: &[u8]) -> Result<Option<StoredDoc>, DbError> {
        let Some(row) = self.doc(id)? else {
            return Ok(None);
        };
        let bytes = self.doc_bytes(id, None)?;
        Ok(Some(StoredDoc { row, bytes }))
    }

    pub fn docs_changed_since(&self, cursor: i64) -> Result<Vec<DocSummary>, DbError> {
        let rows = self.rows(doc_select!("WHERE last_seq > $1 ORDER BY last_seq"), &[&cursor])?;
        Ok(rows.iter().map(DocRow::from_pg).collect())
    }

    /// A document's bytes, read in one statement (one snapshot of the database). Should
    /// another node have compacted the document past `after` since the caller read its
    /// row, the snapshot comes too: the caller receives every change, some twice, which
    /// Automerge ignores.
    pub fn doc_bytes(&self, id: &[u8], after: Option<i64>) -> Result<Vec<u8>, DbError> {
        let after = after.unwrap_or(-1);
        let rows = self.rows(
            "SELECT 0 AS part, snapshot_seq AS seq, CASE WHEN $2 < snapshot_seq OR $2 < 0 THEN snapshot END AS bytes
                 FROM docs WHERE id = $1
             UNION ALL
             SELECT 1, seq, bytes FROM changes WHERE doc_id = $1 AND seq > $2
             ORDER BY part, seq",
            &[&id, &after],
        )?;
        let mut out = Vec::new();
        for r in &rows {
            if let Some(bytes) = r.get::<_, Option<&[u8]>>(2) {
                out.extend_from_slice(bytes);
            }
        }
        Ok(out)
    }

    pub fn next_seq(&self) -> Result<i64, DbError> {
        let row = self.row("UPDATE jiuloop_seq SET value = value + 1 WHERE id = 1 RETURNING value", &[])?;
        row.map(|r| r.get(0)).ok_or_else(|| DbError::corrupt("jiuloop_seq", "the counter row is missing"))
    }

    pub fn store_change(&self, id: &[u8], kind: i64, heads: &[u8], bytes: &[u8], now: i64) -> Result<i64, DbError> {
        let seq = self.next_seq()?;
        self.exec("INSERT INTO changes (seq, doc_id, bytes) VALUES ($1, $2, $3)", &[&seq, &id, &bytes])?;
        self.exec(
            "INSERT INTO docs (id, kind, heads, snapshot, snapshot_seq, last_seq, chunk_count, updated_at)
             VALUES ($1, $2, $3, NULL, 0, $4, 1, $5)
             ON CONFLICT (id) DO UPDATE SET heads = excluded.heads, last_seq = excluded.last_seq,
                 chunk_count = docs.chunk_count + 1, updated_at = excluded.updated_at",
            &[&id, &kind, &heads, &seq, &now],
        )?;
        Ok(seq)
    }

    pub fn set_doc_facts(&self, id: &[u8], facts: &DocFactsRow<'_>) -> Result<(), DbError> {
        self.exec(
            "UPDATE docs SET territory = $2, parent = $3, author = $4, assignee = $5, facts_known = TRUE WHERE id = $1",
            &[&id, &facts.territory, &facts.parent, &facts.author, &facts.assignee],
        )?;
        Ok(())
    }

    pub fn children_of(&self, parent: &[u8]) -> Result<Vec<DocRow>, DbError> {
        let rows = self.rows(doc_select!("WHERE parent = $1"), &[&parent])?;
        Ok(rows.iter().map(DocRow::from_pg).collect())
    }

    pub fn record_move(
        &self,
        id: &[u8],
        old: Option<&str>,
        new: Option<&str>,
        seq: i64,
        now: i64,
    ) -> Result<(), DbError> {
        self.exec(
            "UPDATE docs SET territory = $2, last_seq = greatest(last_seq, $3) WHERE id = $1",
            &[&id, &new, &seq],
        )?;
        self.exec(
            "INSERT INTO moves (seq, doc_id, old_territory, new_territory, at) VALUES ($1, $2, $3, $4, $5)",
            &[&seq, &id, &old, &new, &now],
        )?;
        Ok(())
    }

    pub fn moves_since(&self, cursor: i64) -> Result<Vec<MoveRow>, DbError> {
        let rows = self.rows(
            "SELECT m.seq, m.doc_id, d.kind, m.old_territory, m.new_territory, d.territory, d.author, d.assignee
             FROM moves m JOIN docs d ON d.id = m.doc_id WHERE m.seq > $1 ORDER BY m.seq",
            &[&cursor],
        )?;
        Ok(rows
            .iter()
            .map(|r| MoveRow {
                seq: r.get(0),
                doc_id: r.get(1),
                kind: r.get(2),
                old_territory: r.get(3),
                new_territory: r.get(4),
                current_territory: r.get(5),
                author: r.get(6),
                assignee: r.get(7),
            })
            .collect())
    }

    /// Filtered by PostgreSQL, like SQLite's: one clause per readable kind.
    pub fn readable_docs_changed_since(&self, cursor: i64, filter: &ReadFilter) -> Result<Vec<DocSummary>, DbError> {
        enum Arg {
            Int(i64),
            Text(String),
            List(Vec<String>),
        }
        let mut args = vec![Arg::Int(cursor)];
        let mut clauses = Vec::new();
        for (kind, which) in &filter.kinds {
            args.push(Arg::Int(*kind));
            let k = args.len();
            match which {
                KindFilter::All => clauses.push(format!("kind = ${k}")),
                KindFilter::Territories(list) => {
                    args.push(Arg::List(list.clone()));
                    clauses.push(format!("(kind = ${k} AND territory = ANY(${}))", args.len()));
                }
                KindFilter::Own(user) => {
                    args.push(Arg::Text(user.clone()));
                    let u = args.len();
                    clauses.push(format!("(kind = ${k} AND (author = ${u} OR assignee = ${u}))"));
                }
            }
        }
        if clauses.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!("{} WHERE last_seq > $1 AND ({}) ORDER BY last_seq", doc_select!(""), clauses.join(" OR "));
        let params: Vec<&(dyn ToSql + Sync)> = args
            .iter()
            .map(|a| match a {
                Arg::Int(v) => v as &(dyn ToSql + Sync),
                Arg::Text(v) => v as &(dyn ToSql + Sync),
                Arg::List(v) => v as &(dyn ToSql + Sync),
            })
            .collect();
        let rows = self.rows_dynamic(&sql, &params)?;
        Ok(rows.iter().map(DocRow::from_pg).collect())
    }

    pub fn first_seqs_since(&self, cursor: i64) -> Result<Vec<(Vec<u8>, i64)>, DbError> {
        let rows = self.rows("SELECT doc_id, min(seq) FROM changes WHERE seq > $1 GROUP BY doc_id", &[&cursor])?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    pub fn docs_without_facts(&self) -> Result<Vec<Vec<u8>>, DbError> {
        Ok(self.rows("SELECT id FROM docs WHERE NOT facts_known", &[])?.iter().map(|r| r.get(0)).collect())
    }

    pub fn compact_doc(&self, id: &[u8], snapshot: &[u8], snapshot_seq: i64) -> Result<(), DbError> {
        self.exec("DELETE FROM changes WHERE doc_id = $1 AND seq <= $2", &[&id, &snapshot_seq])?;
        self.exec(
            "UPDATE docs SET snapshot = $2, snapshot_seq = $3,
                 chunk_count = (SELECT count(*) FROM changes WHERE doc_id = $1)
             WHERE id = $1",
            &[&id, &snapshot, &snapshot_seq],
        )?;
        Ok(())
    }

    /// The counter: every number up to it is committed or rolled back (never in flight),
    /// since numbers are only taken under the write lock.
    pub fn max_seq(&self) -> Result<i64, DbError> {
        Ok(self.row("SELECT value FROM jiuloop_seq WHERE id = 1", &[])?.map_or(0, |r| r.get(0)))
    }

    pub fn doc_count(&self) -> Result<i64, DbError> {
        Ok(self.row("SELECT count(*) FROM docs", &[])?.map_or(0, |r| r.get(0)))
    }

    pub fn chunk_rows(&self, id: &[u8]) -> Result<i64, DbError> {
        Ok(self.row("SELECT count(*) FROM changes WHERE doc_id = $1", &[&id])?.map_or(0, |r| r.get(0)))
    }

    pub fn doc_ids_of_kind(&self, kind: i64) -> Result<Vec<Vec<u8>>, DbError> {
        Ok(self.rows("SELECT id FROM docs WHERE kind = $1 ORDER BY id", &[&kind])?.iter().map(|r| r.get(0)).collect())
    }
}
