//! What every private server needs: finding its binary, a port that stays ours across
//! a restart, a watchdog, signals and waiting.

use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long a server gets to come up after it is spawned.
pub(crate) const STARTUP: Duration = Duration::from_secs(60);

/// Where `tool` is installed, or a panic naming the package that has it.
pub(crate) fn require(tool: &str, package: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/local/bin", "/usr/bin", "/sbin"].map(PathBuf::from))
        .map(|dir| dir.join(tool))
        .find(|p| p.is_file());
    match found {
        Some(p) => p,
        None => {
            let ci = crate::ci();
            panic!(
                "`{tool}` is not installed, so this test cannot start its private server{}. \
                 Install it (Debian: apt-get install -y {package}; scripts/services does)",
                if ci {
                    " (CI=true: a missing server is a failure, never a skip)"
                } else {
                    ""
                }
            )
        }
    }
}

/// Ports below Linux's ephemeral range (32768 and up): ports handed out for `bind(0)`
/// and outgoing connections never land there, so a killed server's port is still free
/// when it restarts, whatever other tests do meanwhile.
pub(crate) const PORTS: Range<u16> = 20_000..30_000;

/// A random port in `range` that is free now (and, with `bus`, whose port + 10000,
/// a Redis Cluster bus port, is free too).
pub(crate) fn free_port(range: Range<u16>, bus: bool) -> u16 {
    let span = range.end - range.start;
    for _ in 0..500 {
        let port = range.start + rand::random::<u16>() % span;
        if port_free(port) && (!bus || port.checked_add(10_000).is_some_and(port_free)) {
            return port;
        }
    }
    panic!("no free loopback port in {range:?}")
}

fn port_free(port: u16) -> bool {
    TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok()
}

/// Whether something accepts TCP connections on `port`.
pub(crate) fn accepts(port: u16) -> bool {
    TcpStream::connect_timeout(
        &(Ipv4Addr::LOCALHOST, port).into(),
        Duration::from_millis(200),
    )
    .is_ok()
}

/// Polls `ready` every 20 ms until it holds or `limit` passes.
pub(crate) fn wait_until(limit: Duration, mut ready: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if ready() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// SIGKILLs `pid` once this test process is gone (or does nothing if `pid` dies
/// first), then removes `dir` if one is given.
pub(crate) fn watchdog(pid: u32, dir: Option<&Path>) {
    let script = r#"
        while kill -0 "$1" 2>/dev/null; do
            kill -0 "$2" 2>/dev/null || exit 0
            sleep 0.5
        done
        kill -9 "$2" 2>/dev/null
        [ -n "$3" ] && rm -rf "$3"
    "#;
    let spawned = Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg("session-test-server-watchdog")
        .arg(std::process::id().to_string())
        .arg(pid.to_string())
        .arg(dir.map(|d| d.as_os_str()).unwrap_or_default())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    if let Err(e) = spawned {
        panic!("cannot start the watchdog for server process {pid}: {e}");
    }
}

/// Sends `signal` (e.g. `"KILL"`, `"STOP"`) to `pid`; false if it is gone.
pub(crate) fn signal(pid: u32, signal: &str) -> bool {
    Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Whether `pid` still exists (a zombie counts as gone).
pub(crate) fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.trim_start().chars().next())
            .is_some_and(|state| state != 'Z' && state != 'X'),
        Err(_) => false,
    }
}

/// SIGKILLs `pid` and waits until it is gone.
pub(crate) fn kill_and_wait(pid: u32) {
    signal(pid, "KILL");
    if !wait_until(Duration::from_secs(10), || !alive(pid)) {
        panic!("process {pid} survived SIGKILL for 10 s");
    }
}

/// SIGKILLs `child`, if there is one, and reaps it.
pub(crate) fn kill_child(child: Option<std::process::Child>) {
    if let Some(mut child) = child {
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// Whether this process runs as root (PostgreSQL refuses to, MariaDB needs telling).
pub(crate) fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}

/// Runs `cmd` to completion, panicking with its output if it fails.
pub(crate) fn run(cmd: &mut Command) {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    if !out.status.success() {
        panic!(
            "{cmd:?} failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// The last lines of a log file, for a panic message.
pub(crate) fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

/// A fresh temp dir for a server, kept on disk (its watchdog or `Drop` removes it).
pub(crate) fn temp_dir(prefix: &str) -> PathBuf {
    match tempfile::Builder::new().prefix(prefix).tempdir() {
        Ok(dir) => dir.keep(),
        Err(e) => panic!("cannot make a temp dir for {prefix}: {e}"),
    }
}

/// The pids whose parent is `pid`.
pub(crate) fn children(pid: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|child| {
            std::fs::read_to_string(format!("/proc/{child}/stat"))
                .ok()
                .and_then(|stat| {
                    let rest = stat.rsplit_once(')')?.1;
                    rest.split_whitespace().nth(1)?.parse::<u32>().ok()
                })
                == Some(pid)
        })
        .collect()
}
