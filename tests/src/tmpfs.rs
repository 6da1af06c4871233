//! A small tmpfs for full-disk tests: mounted on a directory by the test, filled to the
//! last byte, lazily unmounted when dropped.
//!
//! Mounting needs root (the tests run as root). Where it is not permitted a test says why
//! and passes — unless `JIULOOP_REQUIRE_TMPFS=1`, where it fails ([`Tmpfs::mount_or_skip`]).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A tmpfs mounted on a directory, lazily unmounted when dropped.
pub struct Tmpfs(PathBuf);

impl Tmpfs {
    pub fn mount(at: &Path, size: &str) -> Result<Self, String> {
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if !out.status.success() {
            return Err(format!("mount -t tmpfs failed: {}", String::from_utf8_lossy(&out.stderr).trim()));
        }
        Ok(Tmpfs(at.to_path_buf()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Write zeros to `path` until the file system refuses (ENOSPC); returns the bytes written.
pub fn fill(path: &Path) -> u64 {
    let mut f = std::fs::File::create(path).expect("create the filler file");
    let block = vec![0u8; 64 * 1024];
    let mut written = 0u64;
    loop {
        match f.write(&block) {
            Ok(0) => break,
            Ok(n) => written += n as u64,
            Err(e) => {
                assert_eq!(e.raw_os_error(), Some(28), "filling stops at ENOSPC, not {e}");
                break;
            }
        }
    }
    // The last partial block too.
    for size in [4096usize, 512, 1] {
        while f.write(&block[..size]).map(|n| n > 0).unwrap_or(false) {
            written += size as u64;
        }
    }
    written
}

impl Tmpfs {
    /// Mount one of `size` on `at`, or `None` (having said why) where that is not permitted.
    pub fn mount_or_skip(at: &Path, size: &str) -> Option<Tmpfs> {
        match Tmpfs::mount(at, size) {
            Ok(m) => Some(m),
            Err(why) => {
                if std::env::var("JIULOOP_REQUIRE_TMPFS").as_deref() == Ok("1") {
                    panic!("JIULOOP_REQUIRE_TMPFS=1 but no tmpfs could be mounted: {why}");
                }
                eprintln!(
                    "skipped: cannot mount a tmpfs for the full-disk test ({why}); set JIULOOP_REQUIRE_TMPFS=1 to fail"
                );
                None
            }
        }
    }
}
