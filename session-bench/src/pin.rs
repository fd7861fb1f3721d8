//! Which CPUs the server processes the bench starts run on (`--server-cpus`).
//!
//! On a small VM the scheduler moves a single-task client and a server thread between
//! CPUs, and each placement has its own wake-up cost: one memcached round trip took
//! 25 µs in one cell and 70 µs in the next, so ours/raw at one task swung between 0.3
//! and 3.0 for the same code. `pinned.sh` fixes one placement for a whole run: the
//! client on one CPU, the servers on the others. The servers the bench starts itself
//! (the private memcached, the HTTP apps under test) get the server CPUs here, through
//! util-linux's `taskset`, as an external program: the affinity must be set before the
//! server's first thread exists.

use std::process::Command;
use std::sync::OnceLock;

static SERVER_CPUS: OnceLock<String> = OnceLock::new();

/// Starts every later [`server_command`] on `cpus` (a `taskset -c` list such as `1` or
/// `1-3`). Only the first call counts.
pub fn set_server_cpus(cpus: &str) {
    let _ = SERVER_CPUS.set(cpus.to_owned());
}

/// The CPU list servers run on, if one was set.
pub fn server_cpus() -> Option<&'static str> {
    SERVER_CPUS.get().map(String::as_str)
}

/// A command that runs `program` as a server: under `taskset -c <cpus>` when
/// `--server-cpus` was given, plainly otherwise.
pub fn server_command(program: impl AsRef<std::ffi::OsStr>) -> Command {
    match server_cpus() {
        Some(cpus) => {
            let mut cmd = Command::new("taskset");
            cmd.args(["-c", cpus]).arg(program);
            cmd
        }
        None => Command::new(program),
    }
}

/// Where this run's processes are allowed to run, for the report: the bench's own CPU
/// list (set by `taskset` in `pinned.sh`) and the servers'.
pub fn placement() -> String {
    let own = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
                .map(|v| v.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned());
    match server_cpus() {
        Some(cpus) => format!("CPUs: client (this process) {own}, servers {cpus} (pinned)"),
        None => format!("CPUs: client (this process) {own}, servers unpinned"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_in_taskset_once_set() {
        let plain = server_command("memcached");
        assert_eq!(plain.get_program(), "memcached");
        set_server_cpus("1");
        let pinned = server_command("memcached");
        assert_eq!(pinned.get_program(), "taskset");
        let args: Vec<_> = pinned.get_args().collect();
        assert_eq!(args, ["-c", "1", "memcached"]);
    }
}
