//! The binaries under test, built once per test process with the cargo that runs the tests.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

pub struct Bins {
    pub server: PathBuf,
    pub cli: PathBuf,
}

/// `target/<profile>/jiuloop-server` and `target/<profile>/jiuloop`, fresh.
///
/// The profile directory is found from the test executable (`…/target/debug/deps/x`).
/// Set `JIULOOP_TEST_NO_BUILD=1` to use binaries that are already there.
pub fn bins() -> &'static Bins {
    static BINS: OnceLock<Bins> = OnceLock::new();
    BINS.get_or_init(|| {
        let exe = std::env::current_exe().expect("path of the test executable");
        let mut dir = exe.parent().expect("test executable has a directory").to_path_buf();
        if dir.ends_with("deps") {
            dir.pop();
        }
        if std::env::var_os("JIULOOP_TEST_NO_BUILD").is_none() {
            build(&dir);
        }
        let bins = Bins {
            server: dir.join(format!("jiuloop-server{}", std::env::consts::EXE_SUFFIX)),
            cli: dir.join(format!("jiuloop{}", std::env::consts::EXE_SUFFIX)),
        };
        for b in [&bins.server, &bins.cli] {
            assert!(b.exists(), "{} does not exist after the build", b.display());
        }
        bins
    })
}

fn build(profile_dir: &Path) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace root");
    let mut cmd = Command::new(cargo);
    cmd.current_dir(workspace).args(["build", "-q", "-p", "jiuloop-server", "-p", "jiuloop-cli"]);
    if profile_dir.file_name().is_some_and(|n| n == "release") {
        cmd.arg("--release");
    }
    let what = crate::process::describe(&cmd);
    let out = crate::process::run_with_timeout(cmd, Duration::from_secs(1800), &what);
    assert!(out.status.success(), "{what} failed:\n{}", String::from_utf8_lossy(&out.stderr));
}
