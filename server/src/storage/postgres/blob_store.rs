//! Attachments in the shared PostgreSQL database, so that a file uploaded through one node
//! is downloadable through every other (a node's own disk is not shared). An upload in
//! progress is its parts (`blob_parts`, one row per appended chunk, durable when the
//! statement commits); finishing verifies the parts' SHA-256 and size and moves them into
//! `blob_chunks` under one `blobs` row, in one transaction, so a blob that exists is whole.
//!
//! Appends and finishes of one upload take a transaction-scoped advisory lock of their own
//! (never the sync's write lock): two connections of one uploader on two nodes cannot
//! interleave parts, and attachments never hold up anyone's sync.

use super::PgStorage;
use crate::storage::DbError;
use crate::storage::blob::{BlobStore, BlobStoreError, Finished, UploadKey};
use protocol::blob::BlobHash;
use sha2::{Digest, Sha256};
use std::sync::Mutex;

/// [`BlobStore`] over one connection of its own (see the module docs).
pub struct PgBlobStore {
    db: Mutex<PgStorage>,
}

impl PgBlobStore {
    /// Connect to `url` (the schema is brought up to date like any other connection's).
    pub fn connect(url: &str) -> Result<Self, DbError> {
        Ok(PgBlobStore { db: Mutex::new(PgStorage::connect(url)?) })
    }

    fn db(&self) -> std::sync::MutexGuard<'_, PgStorage> {
        self.db.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl From<DbError> for BlobStoreError {
    fn from(e: DbError) -> Self {
        BlobStoreError::Corrupt(e.to_string())
    }
}

/// The advisory lock of one upload: 8 bytes of SHA-256 over uploader and content hash.
fn upload_lock(u: &UploadKey) -> i64 {
    let mut h = Sha256::new();
    h.update(u.uploader.as_bytes());
    h.update([0]);
    h.update(u.hash);
    let d = h.finalize();
    i64::from_be_bytes(d[..8].try_into().expect("8 bytes"))
}

fn len_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn u64_of(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// Run `f` in a transaction holding the upload's lock; rolled back when it fails.
fn locked<T>(
    db: &PgStorage,
    u: &UploadKey,
    f: impl FnOnce(&PgStorage) -> Result<T, DbError>,
) -> Result<T, BlobStoreError> {
    db.batch(&format!("BEGIN; SELECT pg_advisory_xact_lock({})", upload_lock(u)))?;
    match f(db) {
        Ok(v) => {
            db.batch("COMMIT")?;
            Ok(v)
        }
        Err(e) => {
            if let Err(r) = db.batch("ROLLBACK") {
                tracing::error!(error = %r, "rollback failed");
            }
            Err(e.into())
        }
    }
}

fn received_in(db: &PgStorage, u: &UploadKey) -> Result<u64, DbError> {
    let row = db.row(
        "SELECT COALESCE(SUM(length(bytes)), 0)::BIGINT FROM blob_parts WHERE uploader = $1 AND hash = $2",
        &[&u.uploader, &u.hash.as_slice()],
    )?;
    Ok(row.map_or(0, |r| u64_of(r.get(0))))
}

fn drop_parts(db: &PgStorage, u: &UploadKey) -> Result<(), DbError> {
    db.exec("DELETE FROM blob_parts WHERE uploader = $1 AND hash = $2", &[&u.uploader, &u.hash.as_slice()])?;
    Ok(())
}

impl BlobStore for PgBlobStore {
    fn size(&self, hash: &BlobHash) -> Result<Option<u64>, BlobStoreError> {
        let row = self.db().row("SELECT size FROM blobs WHERE hash = $1", &[&hash.as_slice()])?;
        Ok(row.map(|r| u64_of(r.get(0))))
    }

    fn read(&self, hash: &BlobHash, offset: u64, len: usize) -> Result<Vec<u8>, BlobStoreError> {
        let start = i64::try_from(offset).unwrap_or(i64::MAX);
        let end = start.saturating_add(len_i64(len));
        let rows = self.db().rows(
            "SELECT offset_at, bytes FROM blob_chunks
             WHERE hash = $1 AND offset_at < $2 AND offset_at + length(bytes) > $3 ORDER BY offset_at",
            &[&hash.as_slice(), &end, &start],
        )?;
        let mut out = Vec::with_capacity(len);
        for r in rows {
            let at: i64 = r.get(0);
            let bytes: &[u8] = r.get(1);
            let from = usize::try_from(start.saturating_sub(at)).unwrap_or(0).min(bytes.len());
            let to = usize::try_from(end.saturating_sub(at)).unwrap_or(usize::MAX).min(bytes.len());
            out.extend_from_slice(&bytes[from..to]);
        }
        Ok(out)
    }

    fn received(&self, upload: &UploadKey) -> Result<u64, BlobStoreError> {
        Ok(received_in(&self.db(), upload)?)
    }

    fn append(&self, upload: &UploadKey, offset: u64, bytes: &[u8]) -> Result<u64, BlobStoreError> {
        let now = crate::identity::accounts::now_ms();
        locked(&self.db(), upload, |db| {
            let have = received_in(db, upload)?;
            if have != offset {
                return Ok(have);
            }
            db.exec(
                "INSERT INTO blob_parts (uploader, hash, offset_at, bytes, touched_at) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (uploader, hash, offset_at) DO NOTHING",
                &[&upload.uploader, &upload.hash.as_slice(), &i64::try_from(offset).unwrap_or(i64::MAX), &bytes, &now],
            )?;
            Ok(have + bytes.len() as u64)
        })
    }

    fn finish(&self, upload: &UploadKey, size: u64) -> Result<Finished, BlobStoreError> {
        locked(&self.db(), upload, |db| {
            let key: [&(dyn postgres::types::ToSql + Sync); 2] = [&upload.uploader, &upload.hash.as_slice()];
            let parts =
                db.rows("SELECT bytes FROM blob_parts WHERE uploader = $1 AND hash = $2 ORDER BY offset_at", &key)?;
            let mut hasher = Sha256::new();
            let mut total = 0u64;
            for p in &parts {
                let bytes: &[u8] = p.get(0);
                hasher.update(bytes);
                total += bytes.len() as u64;
            }
            drop(parts);
            let hash: BlobHash = hasher.finalize().into();
            if hash != upload.hash || total != size {
                drop_parts(db, upload)?;
                return Ok(Finished::Mismatch);
            }
            // Kept once: a blob stored already (by anyone) keeps its chunks.
            let inserted = db.exec(
                "INSERT INTO blobs (hash, size) VALUES ($1, $2) ON CONFLICT (hash) DO NOTHING",
                &[&upload.hash.as_slice(), &i64::try_from(size).unwrap_or(i64::MAX)],
            )?;
            if inserted == 1 {
                db.exec(
                    "INSERT INTO blob_chunks (hash, offset_at, bytes)
                     SELECT hash, offset_at, bytes FROM blob_parts WHERE uploader = $1 AND hash = $2",
                    &key,
                )?;
            }
            drop_parts(db, upload)?;
            Ok(Finished::Stored)
        })
    }

    fn discard(&self, upload: &UploadKey) -> Result<(), BlobStoreError> {
        locked(&self.db(), upload, |db| drop_parts(db, upload))
    }

    fn uploads_of(&self, uploader: &str) -> Result<usize, BlobStoreError> {
        let row = self.db().row("SELECT COUNT(DISTINCT hash) FROM blob_parts WHERE uploader = $1", &[&uploader])?;
        Ok(row.map_or(0, |r| usize::try_from(r.get::<_, i64>(0)).unwrap_or(0)))
    }

    fn sweep(&self, age: std::time::Duration) -> Result<usize, BlobStoreError> {
        let cutoff =
            crate::identity::accounts::now_ms().saturating_sub(i64::try_from(age.as_millis()).unwrap_or(i64::MAX));
        let rows = self.db().rows(
            "WITH old AS (
                 SELECT uploader, hash FROM blob_parts GROUP BY uploader, hash HAVING MAX(touched_at) <= $1
             ), gone AS (
                 DELETE FROM blob_parts p USING old WHERE p.uploader = old.uploader AND p.hash = old.hash
                 RETURNING p.uploader, p.hash
             )
             SELECT COUNT(*) FROM (SELECT DISTINCT uploader, hash FROM gone) g",
            &[&cutoff],
        )?;
        Ok(rows.first().map_or(0, |r| usize::try_from(r.get::<_, i64>(0)).unwrap_or(0)))
    }

    fn stored(&self) -> Result<Vec<(BlobHash, u64)>, BlobStoreError> {
        let rows = self.db().rows("SELECT hash, size FROM blobs ORDER BY hash", &[])?;
        rows.iter()
            .map(|r| {
                let h: &[u8] = r.get(0);
                let hash = BlobHash::try_from(h)
                    .map_err(|_| BlobStoreError::Corrupt("a blob hash of the wrong length".into()))?;
                Ok((hash, u64_of(r.get(1))))
            })
            .collect()
    }
}

#[cfg(test)]
mod contract_tests {
    use super::PgBlobStore;
    use crate::storage::blob::BlobStore;
    use crate::storage::blob::contract::{BlobFactory, blob_store_contract};
    use crate::storage::postgres::test_cluster::TestCluster;
    use std::cell::RefCell;

    #[derive(Default)]
    struct Databases(RefCell<Option<String>>);

    impl BlobFactory for Databases {
        fn fresh(&self) -> Box<dyn BlobStore> {
            let url = TestCluster::shared().fresh_database();
            *self.0.borrow_mut() = Some(url.clone());
            Box::new(PgBlobStore::connect(&url).unwrap_or_else(|e| panic!("{e}\n{}", TestCluster::shared().log())))
        }

        fn reopen(&self, old: Box<dyn BlobStore>) -> Option<Box<dyn BlobStore>> {
            drop(old);
            let url = self.0.borrow().clone()?;
            Some(Box::new(PgBlobStore::connect(&url).expect("reconnect")))
        }
    }

    blob_store_contract!(Databases::default());

    /// `migrate` moves a data directory's attachments: every blob arrives whole (also one
    /// larger than a copy piece), verified by its hash; a second copy copies nothing.
    #[test]
    fn a_data_directory_s_blobs_copy_into_the_database_once() {
        use crate::storage::blob::{FsBlobStore, UploadKey, copy_all};
        let dir = std::env::temp_dir().join(format!("jiuloop-blobs-{}", uuid::Uuid::new_v4()));
        let files = FsBlobStore::open(&dir).unwrap();
        let big: Vec<u8> = (0..2_500_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let small = b"%PDF-1.7 signed".to_vec();
        for bytes in [&big, &small] {
            let k = UploadKey { uploader: "li".into(), hash: protocol::blob::digest(bytes) };
            files.append(&k, 0, bytes).unwrap();
            files.finish(&k, bytes.len() as u64).unwrap();
        }
        let db = Databases::default().fresh();
        assert_eq!(copy_all(&files, &*db).unwrap(), (2, big.len() as u64 + small.len() as u64));
        assert_eq!(db.stored().unwrap(), files.stored().unwrap());
        let hash = protocol::blob::digest(&big);
        assert_eq!(db.read(&hash, 0, big.len()).unwrap(), big);
        assert_eq!(db.read(&hash, 1_048_570, 10).unwrap(), big[1_048_570..1_048_580], "a read across two chunks");
        assert_eq!(copy_all(&files, &*db).unwrap(), (0, 0));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
