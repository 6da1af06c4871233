//! The attachment tables (schema version 6): `blobs`, `blob_owners`, `blob_refs`. The
//! bytes themselves are in the blob store (`crate::storage::blob`), not in SQLite.

use super::{DbError, SqliteDb};
use crate::storage::rows::*;
use rusqlite::{OptionalExtension, params};

fn ref_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<BlobRefRow> {
    Ok(BlobRefRow { hash: r.get(0)?, doc_id: r.get(1)?, added_by: r.get(2)?, at: r.get(3)? })
}

impl SqliteDb {
    pub fn record_blob(&self, b: &BlobRow) -> Result<bool, DbError> {
        let n = self
            .conn
            .prepare_cached("INSERT OR IGNORE INTO blobs (hash, size, mime, stored_at) VALUES (?1, ?2, ?3, ?4)")?
            .execute(params![b.hash, b.size, b.mime, b.stored_at])?;
        Ok(n > 0)
    }

    pub fn blob(&self, hash: &[u8]) -> Result<Option<BlobRow>, DbError> {
        Ok(self
            .conn
            .prepare_cached("SELECT hash, size, mime, stored_at FROM blobs WHERE hash = ?1")?
            .query_row([hash], |r| {
                Ok(BlobRow { hash: r.get(0)?, size: r.get(1)?, mime: r.get(2)?, stored_at: r.get(3)? })
            })
            .optional()?)
    }

    pub fn add_blob_owner(&self, hash: &[u8], user: &str, at: i64) -> Result<bool, DbError> {
        let n = self
            .conn
            .prepare_cached("INSERT OR IGNORE INTO blob_owners (hash, user, at) VALUES (?1, ?2, ?3)")?
            .execute(params![hash, user, at])?;
        Ok(n > 0)
    }

    pub fn is_blob_owner(&self, hash: &[u8], user: &str) -> Result<bool, DbError> {
        Ok(self
            .conn
            .prepare_cached("SELECT 1 FROM blob_owners WHERE hash = ?1 AND user = ?2")?
            .query_row(params![hash, user], |_| Ok(()))
            .optional()?
            .is_some())
    }

    pub fn blob_refs(&self, hash: &[u8]) -> Result<Vec<BlobRefRow>, DbError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT hash, doc_id, added_by, at FROM blob_refs WHERE hash = ?1 ORDER BY at, doc_id")?;
        let rows = stmt.query_map([hash], ref_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn doc_blob_refs(&self, doc: &[u8]) -> Result<Vec<BlobRefRow>, DbError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT hash, doc_id, added_by, at FROM blob_refs WHERE doc_id = ?1 ORDER BY at, hash")?;
        let rows = stmt.query_map([doc], ref_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn add_blob_ref(&self, r: &BlobRefRow) -> Result<bool, DbError> {
        let n = self
            .conn
            .prepare_cached("INSERT OR IGNORE INTO blob_refs (hash, doc_id, added_by, at) VALUES (?1, ?2, ?3, ?4)")?
            .execute(params![r.hash, r.doc_id, r.added_by, r.at])?;
        Ok(n > 0)
    }

    pub fn remove_blob_ref(&self, hash: &[u8], doc: &[u8]) -> Result<(), DbError> {
        self.conn
            .prepare_cached("DELETE FROM blob_refs WHERE hash = ?1 AND doc_id = ?2")?
            .execute(params![hash, doc])?;
        Ok(())
    }
}
