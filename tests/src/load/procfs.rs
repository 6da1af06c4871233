//! What `/proc` says about a process: CPU seconds (utime + stime) and resident memory
//! (current and peak), and resetting the peak so that it can be read per phase.

use std::sync::OnceLock;

/// Clock ticks per second (`getconf CLK_TCK`; 100 on every Linux we run on).
fn clk_tck() -> f64 {
    static TCK: OnceLock<f64> = OnceLock::new();
    *TCK.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
            .unwrap_or(100.0)
    })
}

/// CPU seconds (user + system) the process has used so far; `None` if it is gone.
pub fn cpu_secs(pid: u32) -> Option<f64> {
    cpu_secs_of(&format!("/proc/{pid}/stat"))
}

/// CPU seconds of this process (the load generator's own cost).
pub fn self_cpu_secs() -> f64 {
    cpu_secs_of("/proc/self/stat").unwrap_or(0.0)
}

fn cpu_secs_of(path: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(path).ok()?;
    // Fields after the command name (which may contain spaces) start at field 3.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / clk_tck())
}

/// Resident memory in KiB: (current VmRSS, peak VmHWM).
pub fn rss_kib(pid: u32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| -> Option<u64> {
        status.lines().find(|l| l.starts_with(name))?.split_whitespace().nth(1)?.parse().ok()
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// Reset the process's peak RSS to its current RSS (`echo 5 > /proc/PID/clear_refs`),
/// so that VmHWM read later is the peak of what happened in between.
pub fn reset_peak(pid: u32) -> bool {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").is_ok()
}

/// Peak RSS of this process so far, in KiB.
pub fn self_peak_kib() -> u64 {
    rss_kib(std::process::id()).map_or(0, |(_, hwm)| hwm)
}

/// Set by [`lean_malloc_or_reexec`] in the load generator's own environment.
pub const REEXEC_MARK: &str = "JIULOOP_LOADGEN_LEAN_MALLOC";
const TUNABLES: &str = "GLIBC_TUNABLES";

/// Thousands of simulated devices (or one holding 100,000 documents) in one process make
/// glibc's adaptive mmap threshold keep gigabytes of freed buffers (9 GB of RSS at
/// C = 2,000; 6 GB for a 20,000-document download), which squeezes the server being
/// measured on the same machine. So the load generator and the bench re-execute
/// themselves once with a fixed threshold. The server and the `jiuloop` CLI they run
/// never inherit it (see [`server_env_cleanup`]); `--server-env` sets the server's own.
pub fn lean_malloc_or_reexec() {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::process::CommandExt;
        if std::env::var_os(REEXEC_MARK).is_some() || std::env::var_os(TUNABLES).is_some() {
            return;
        }
        let Ok(exe) = std::env::current_exe() else { return };
        let err = std::process::Command::new(exe)
            .args(std::env::args_os().skip(1))
            .env(TUNABLES, "glibc.malloc.mmap_threshold=131072")
            .env(REEXEC_MARK, "1")
            .exec();
        eprintln!("cannot re-execute with a fixed mmap threshold ({err}); going on");
    }
}

/// Environment variables the server must not inherit from the load generator.
pub fn server_env_cleanup(cmd: &mut std::process::Command) {
    if std::env::var_os(REEXEC_MARK).is_some() {
        cmd.env_remove(TUNABLES).env_remove(REEXEC_MARK);
    }
}
