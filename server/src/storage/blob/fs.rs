//! Attachments on the local disk: `ROOT/ab/<64 hex>` per stored blob (sharded by the
//! first byte), `ROOT/uploads/<uploader>-<64 hex>.part` per upload in progress. Every
//! append is `fsync`ed before it returns; a finished upload is verified, `fsync`ed and
//! renamed into place (the directory `fsync`ed too), so a blob that exists is whole.

use super::{BlobStore, BlobStoreError, Finished, UploadKey};
use protocol::blob::{BlobHash, hex, parse_hex};
use sha2::{Digest, Sha256};
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

pub struct FsBlobStore {
    root: PathBuf,
    /// Appends and finishes of one store are serialized (they are fast; the offsets
    /// decide, and this keeps two connections of one uploader from interleaving writes).
    lock: Mutex<()>,
}

impl FsBlobStore {
    /// Open (creating) the store in `root`.
    pub fn open(root: &Path) -> Result<Self, BlobStoreError> {
        fs::create_dir_all(root.join("uploads"))?;
        Ok(FsBlobStore { root: root.to_path_buf(), lock: Mutex::new(()) })
    }

    fn path(&self, hash: &BlobHash) -> PathBuf {
        let h = hex(hash);
        self.root.join(&h[..2]).join(h)
    }

    fn upload_path(&self, u: &UploadKey) -> PathBuf {
        self.root.join("uploads").join(format!("{}-{}.part", uploader_tag(&u.uploader), hex(&u.hash)))
    }
}

/// A file-name-safe tag for a user name (any script): 16 hex digits of its SHA-256.
fn uploader_tag(user: &str) -> String {
    hex(&Sha256::digest(user.as_bytes()).into())[..16].to_string()
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

impl BlobStore for FsBlobStore {
    fn size(&self, hash: &BlobHash) -> Result<Option<u64>, BlobStoreError> {
        match fs::metadata(self.path(hash)) {
            Ok(m) => Ok(Some(m.len())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    fn read(&self, hash: &BlobHash, offset: u64, len: usize) -> Result<Vec<u8>, BlobStoreError> {
        let mut f = File::open(self.path(hash))?;
        f.seek(SeekFrom::Start(offset))?;
        let mut out = Vec::with_capacity(len);
        f.take(len as u64).read_to_end(&mut out)?;
        Ok(out)
    }

    fn received(&self, upload: &UploadKey) -> Result<u64, BlobStoreError> {
        match fs::metadata(self.upload_path(upload)) {
            Ok(m) => Ok(m.len()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
            Err(e) => Err(e.into()),
        }
    }

    fn append(&self, upload: &UploadKey, offset: u64, bytes: &[u8]) -> Result<u64, BlobStoreError> {
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let path = self.upload_path(upload);
        let new = !path.exists();
        let mut f = OpenOptions::new().create(true).append(true).open(&path)?;
        let len = f.metadata()?.len();
        if len != offset {
            return Ok(len);
        }
        f.write_all(bytes)?;
        f.sync_data()?;
        if new {
            sync_dir(&self.root.join("uploads"))?;
        }
        Ok(len + bytes.len() as u64)
    }

    fn finish(&self, upload: &UploadKey, size: u64) -> Result<Finished, BlobStoreError> {
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let part = self.upload_path(upload);
        let mut f = File::open(&part)?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 64 * 1024];
        let mut total = 0u64;
        loop {
            let n = f.read(&mut buf)?;
            if n == 0 {
                break;
            }
            total += n as u64;
            hasher.update(&buf[..n]);
        }
        let hash: BlobHash = hasher.finalize().into();
        if hash != upload.hash || total != size {
            fs::remove_file(&part)?;
            return Ok(Finished::Mismatch);
        }
        let target = self.path(&upload.hash);
        if target.exists() {
            // The same content is stored already: kept once.
            fs::remove_file(&part)?;
            return Ok(Finished::Stored);
        }
        let dir = target.parent().expect("blob paths have a shard directory");
        fs::create_dir_all(dir)?;
        f.sync_all()?;
        fs::rename(&part, &target)?;
        sync_dir(dir)?;
        sync_dir(&self.root.join("uploads"))?;
        Ok(Finished::Stored)
    }

    fn discard(&self, upload: &UploadKey) -> Result<(), BlobStoreError> {
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        match fs::remove_file(self.upload_path(upload)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }

    fn uploads_of(&self, uploader: &str) -> Result<usize, BlobStoreError> {
        let prefix = format!("{}-", uploader_tag(uploader));
        let mut n = 0;
        for e in fs::read_dir(self.root.join("uploads"))? {
            if e?.file_name().to_string_lossy().starts_with(&prefix) {
                n += 1;
            }
        }
        Ok(n)
    }

    fn sweep(&self, age: std::time::Duration) -> Result<usize, BlobStoreError> {
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let mut n = 0;
        for e in fs::read_dir(self.root.join("uploads"))? {
            let e = e?;
            let old = e.metadata()?.modified()?.elapsed().is_ok_and(|d| d >= age);
            if old {
                fs::remove_file(e.path())?;
                n += 1;
            }
        }
        Ok(n)
    }

    fn stored(&self) -> Result<Vec<(BlobHash, u64)>, BlobStoreError> {
        let mut out = Vec::new();
        for shard in fs::read_dir(&self.root)? {
            let shard = shard?;
            let name = shard.file_name().to_string_lossy().to_string();
            if name.len() != 2 || !shard.file_type()?.is_dir() {
                continue;
            }
            for e in fs::read_dir(shard.path())? {
                let e = e?;
                let Some(h) = parse_hex(&e.file_name().to_string_lossy()) else {
                    return Err(BlobStoreError::Corrupt(format!("unexpected file {}", e.path().display())));
                };
                out.push((h, e.metadata()?.len()));
            }
        }
        out.sort();
        Ok(out)
    }
}

#[cfg(test)]
mod contract_tests {
    use super::FsBlobStore;
    use crate::storage::blob::BlobStore;
    use crate::storage::blob::contract::{BlobFactory, blob_store_contract};
    use std::cell::RefCell;
    use std::path::PathBuf;

    #[derive(Default)]
    struct Dirs(RefCell<Vec<PathBuf>>);

    impl BlobFactory for Dirs {
        fn fresh(&self) -> Box<dyn BlobStore> {
            let dir = std::env::temp_dir().join(format!("jiuloop-blobs-{}", uuid::Uuid::new_v4()));
            self.0.borrow_mut().push(dir.clone());
            Box::new(FsBlobStore::open(&dir).expect("open a fresh blob store"))
        }

        fn reopen(&self, old: Box<dyn BlobStore>) -> Option<Box<dyn BlobStore>> {
            drop(old);
            let dir = self.0.borrow().last().cloned()?;
            Some(Box::new(FsBlobStore::open(&dir).expect("reopen the blob store")))
        }
    }

    impl Drop for Dirs {
        fn drop(&mut self) {
            for dir in self.0.borrow().iter() {
                let _ = std::fs::remove_dir_all(dir);
            }
        }
    }

    blob_store_contract!(Dirs::default());
}
