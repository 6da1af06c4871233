//! The profile's SQLite store keeps the `LocalStore` contract: every scenario of
//! `client_core::store_contract` on a real file — reopened, with a second connection as a
//! second `jiuloop` process holds, and with failures injected mid-transaction.

use client_core::store_contract::{self, StoreFactory};
use jiuloop_cli::sqlite_store::SqliteStore;
use std::path::{Path, PathBuf};

/// One directory per run, one database file per scenario; removed at the end.
struct Files {
    dir: PathBuf,
    current: Option<PathBuf>,
    made: usize,
}

impl Files {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("jiuloop-store-contract-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        Files { dir, current: None, made: 0 }
    }

    fn open(path: &Path) -> Result<SqliteStore, String> {
        SqliteStore::open(path).map_err(|e| e.to_string())
    }

    fn path(&self) -> &Path {
        self.current.as_deref().expect("a scenario is running")
    }
}

impl Drop for Files {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl StoreFactory for &mut Files {
    type Store = SqliteStore;

    fn create(&mut self, _scenario: &str) -> Result<SqliteStore, String> {
        self.made += 1;
        let path = self.dir.join(format!("scenario-{}.db", self.made));
        let store = Files::open(&path);
        self.current = Some(path);
        store
    }

    fn reopen(&mut self, store: &mut SqliteStore) -> Option<Result<(), String>> {
        Some(Files::open(self.path()).map(|reopened| *store = reopened))
    }

    fn open_other(&mut self, _store: &SqliteStore) -> Option<Result<SqliteStore, String>> {
        Some(Files::open(self.path()))
    }

    fn fail_next_batch_after(&mut self, store: &mut SqliteStore, after: usize) -> bool {
        store.fail_next_batch_after(after);
        true
    }

    fn finish(&mut self, store: SqliteStore) {
        drop(store);
        if let Some(path) = self.current.take() {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
        }
    }
}

#[test]
fn the_sqlite_store_keeps_the_store_contract() {
    let mut files = Files::new();
    let report = store_contract::run(&mut files).unwrap();
    assert_eq!(report.scenarios.len(), store_contract::scenarios().len());
    assert_eq!(report.skipped(), Vec::<String>::new(), "the SQLite store runs every step");
}
