//! One running server per data directory, visible to other processes: `serve` holds an
//! exclusive lock on `DIR/server.lock` while it runs (the OS releases it when the process
//! ends, however it ends). Admin commands use it to know whether a server will pick up
//! their queued work.

use std::fs::{File, OpenOptions};
use std::path::Path;

pub const LOCK_FILE: &str = "server.lock";

/// Held while the server runs.
#[derive(Debug)]
pub struct InstanceLock {
    _file: File,
}

/// Take the lock; `None` (with a warning) if another process holds it or it cannot be
/// taken.
pub fn acquire(data_dir: &Path) -> Option<InstanceLock> {
    let path = data_dir.join(LOCK_FILE);
    let file = match OpenOptions::new().create(true).truncate(false).write(true).open(&path) {
        Ok(f) => f,
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "cannot create the server lock file");
            return None;
        }
    };
    match file.try_lock() {
        Ok(()) => Some(InstanceLock { _file: file }),
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "another server seems to run on this data directory");
            None
        }
    }
}

/// Whether a server holds the lock of `data_dir` now.
pub fn is_server_running(data_dir: &Path) -> bool {
    let Ok(file) = OpenOptions::new().read(true).open(data_dir.join(LOCK_FILE)) else {
        return false;
    };
    match file.try_lock_shared() {
        Ok(()) => {
            let _ = file.unlock();
            false
        }
        Err(_) => true,
    }
}
