//! `jiuloop-server backup --to FILE`, `backup verify FILE`, `restore --from FILE`.
//!
//! A backup is one SQLite file written by `VACUUM INTO` from a connection of its own: a
//! consistent snapshot taken while the server keeps serving (WAL readers do not block the
//! writer), compacted, then verified — every document loads and its history has exactly the
//! heads the index holds. Attachments (`DIR/blobs`, when present) are copied beside it as
//! `FILE.blobs/`. A restore puts the file back as the data directory's database (the one it
//! replaces is kept, renamed); devices that synced after the backup was taken find their
//! cursor ahead of the restored server (`cursor_ahead`) and send it everything again, so
//! nothing a device still holds is lost.

use super::sqlite::SqliteDb;
use super::{DbError, Storage};
use std::path::{Path, PathBuf};

/// The database file of a data directory.
const DB_FILE: &str = "jiuloop.db";
const BLOBS: &str = "blobs";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackupReport {
    pub file: PathBuf,
    pub bytes: u64,
    pub documents: u64,
    /// Attachment files copied beside it.
    pub blobs: u64,
}

impl std::fmt::Display for BackupReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "backup {}: {} bytes, {} documents verified (heads equal), {} attachment file(s)",
            self.file.display(),
            self.bytes,
            self.documents,
            self.blobs
        )
    }
}

/// Back up the database of `data_dir` (the server may be running) into `to`, which must
/// not exist yet, and verify the copy.
pub fn backup(data_dir: &Path, to: &Path) -> Result<BackupReport, DbError> {
    if to.exists() {
        return Err(refuse(to, "exists already: back up into a new file"));
    }
    if !data_dir.join(DB_FILE).is_file() {
        return Err(refuse(data_dir, "holds no jiuloop.db"));
    }
    let db = SqliteDb::open_in(data_dir)?;
    let target = to.to_str().ok_or_else(|| refuse(to, "is not a UTF-8 path"))?;
    db.conn.execute("VACUUM INTO ?1", [target])?;
    drop(db);
    let documents = verify(to)?;
    let blobs = match data_dir.join(BLOBS) {
        dir if dir.is_dir() => copy_tree(&dir, &blobs_beside(to))?,
        _ => 0,
    };
    let bytes = std::fs::metadata(to).map(|m| m.len()).map_err(|e| io(to, e))?;
    Ok(BackupReport { file: to.to_path_buf(), bytes, documents, blobs })
}

/// Open a copy of the backup `file` (the file itself is never written) and check every
/// document; returns how many there are.
pub fn verify(file: &Path) -> Result<u64, DbError> {
    if !file.is_file() {
        return Err(refuse(file, "is not a file"));
    }
    let scratch = std::env::temp_dir().join(format!("jiuloop-verify-{}-{}", std::process::id(), uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&scratch).map_err(|e| io(&scratch, e))?;
    let result = (|| {
        std::fs::copy(file, scratch.join(DB_FILE)).map_err(|e| io(file, e))?;
        let db = SqliteDb::open_in(&scratch)?;
        check_documents(&db)
    })();
    let _ = std::fs::remove_dir_all(&scratch);
    result
}

/// Put the backup `from` back as the database of `data_dir` (no server may be running
/// there). The database it replaces is kept as `jiuloop.db.replaced-<ms>`.
pub fn restore(from: &Path, data_dir: &Path, now: i64) -> Result<String, DbError> {
    let documents = verify(from)?;
    std::fs::create_dir_all(data_dir).map_err(|e| io(data_dir, e))?;
    let current = data_dir.join(DB_FILE);
    let mut kept = None;
    if current.exists() {
        // Fold the write-ahead log into the file before moving it aside.
        SqliteDb::open_in(data_dir)?.conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")?;
        let aside = data_dir.join(format!("{DB_FILE}.replaced-{now}"));
        std::fs::rename(&current, &aside).map_err(|e| io(&current, e))?;
        kept = Some(aside);
    }
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(data_dir.join(format!("{DB_FILE}{suffix}")));
    }
    std::fs::copy(from, &current).map_err(|e| io(&current, e))?;
    let beside = blobs_beside(from);
    let blobs = if beside.is_dir() { copy_tree(&beside, &data_dir.join(BLOBS))? } else { 0 };
    Ok(format!(
        "restored {} documents from {} into {}{}; {blobs} attachment file(s); devices that synced since send their data again",
        documents,
        from.display(),
        data_dir.display(),
        kept.map(|k| format!(" (the previous database is kept as {})", k.display())).unwrap_or_default(),
    ))
}

/// Every document loads and its history's heads are the ones its row holds.
pub fn check_documents(db: &dyn Storage) -> Result<u64, DbError> {
    let mut n = 0;
    for row in db.docs_changed_since(-1)? {
        let hex = crate::identity::token::hex(&row.id);
        let Some(stored) = db.load_doc(&row.id)? else {
            return Err(DbError::corrupt("docs", format!("document {hex} has a row but no data")));
        };
        let mut doc = automerge::AutoCommit::load(&stored.bytes)
            .map_err(|e| DbError::corrupt("changes", format!("document {hex} does not load: {e}")))?;
        let mut heads: Vec<Vec<u8>> = doc.get_heads().iter().map(|h| h.0.to_vec()).collect();
        let mut expected: Vec<Vec<u8>> = row.heads.chunks(32).map(<[u8]>::to_vec).collect();
        heads.sort();
        expected.sort();
        if heads != expected {
            return Err(DbError::corrupt("docs", format!("document {hex}: its history's heads are not its row's")));
        }
        n += 1;
    }
    Ok(n)
}

fn blobs_beside(file: &Path) -> PathBuf {
    let mut name = file.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".blobs");
    file.with_file_name(name)
}

/// Copy the files under `from` into `to` (created); returns how many.
fn copy_tree(from: &Path, to: &Path) -> Result<u64, DbError> {
    std::fs::create_dir_all(to).map_err(|e| io(to, e))?;
    let mut n = 0;
    for entry in std::fs::read_dir(from).map_err(|e| io(from, e))? {
        let entry = entry.map_err(|e| io(from, e))?;
        let path = entry.path();
        let dest = to.join(entry.file_name());
        if path.is_dir() {
            n += copy_tree(&path, &dest)?;
        } else {
            std::fs::copy(&path, &dest).map_err(|e| io(&path, e))?;
            n += 1;
        }
    }
    Ok(n)
}

fn refuse(path: &Path, why: &str) -> DbError {
    DbError::Open { target: path.display().to_string(), reason: why.to_string() }
}

fn io(path: &Path, e: std::io::Error) -> DbError {
    DbError::Open { target: path.display().to_string(), reason: e.to_string() }
}
