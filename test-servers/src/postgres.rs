//! A private PostgreSQL: `initdb` into a temp dir, `pg_ctl` to start and stop.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::process::{self, PORTS, STARTUP};

/// A PostgreSQL server of our own on a loopback port, with trust authentication for
/// the `postgres` user; stopped (immediately) and removed on drop.
pub struct Postgres {
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
}

impl Postgres {
    /// Runs `initdb` (no fsync: test data) and starts the server.
    pub fn start() -> Self {
        let bin = bin_dir();
        let dir = process::temp_dir("session-test-postgres");
        // PostgreSQL refuses to run as root; hand the directory to `postgres` then.
        if process::is_root() {
            process::run(Command::new("chown").arg("-R").arg("postgres").arg(&dir));
        }
        let data = dir.join("data");
        let mut initdb = as_owner(&bin.join("initdb"));
        initdb.arg("-D").arg(&data).args([
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
            "-E",
            "UTF8",
        ]);
        process::run(&mut initdb);
        let port = process::free_port(PORTS, false);
        let server = Postgres { dir, bin, port };
        server.start_again();
        server
    }

    /// `postgres://postgres@127.0.0.1:<port>/postgres`.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn pg_ctl(&self) -> Command {
        let mut cmd = as_owner(&self.bin.join("pg_ctl"));
        cmd.arg("-D").arg(self.dir.join("data"));
        cmd
    }

    /// Starts the stopped (or killed) server on the same port and data directory,
    /// waiting until it accepts connections. After a SIGKILL this runs crash recovery.
    pub fn start_again(&self) {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {}",
            self.port,
            self.dir.display()
        );
        let log = self.dir.join("server.log");
        // After a kill, the old server's backends may hold its shared memory for a
        // moment, and `pg_ctl` refuses to start; try until they are gone.
        let mut last = String::new();
        let started = process::wait_until(STARTUP, || {
            let out = self
                .pg_ctl()
                .args(["-w", "-t", "60", "-o", &options, "-l"])
                .arg(&log)
                .arg("start")
                .output();
            match out {
                Ok(o) if o.status.success() => true,
                Ok(o) => {
                    last = String::from_utf8_lossy(&o.stderr).into_owned();
                    std::thread::sleep(Duration::from_millis(200));
                    false
                }
                Err(e) => panic!("cannot run pg_ctl: {e}"),
            }
        });
        if !started {
            panic!(
                "PostgreSQL did not start on port {}: {last}\n{}",
                self.port,
                process::log_tail(&log)
            );
        }
        if let Some(pid) = self.postmaster_pid() {
            process::watchdog(pid, None);
        }
    }

    /// Fast shutdown: the server ends every client connection and stops.
    pub fn stop(&self) {
        process::run(self.pg_ctl().args(["-w", "-m", "fast", "stop"]));
    }

    /// SIGKILL to the postmaster and every backend at once, as when the machine or
    /// its cgroup dies: no shutdown checkpoint, connections drop mid-flight.
    pub fn kill(&self) {
        let Some(pid) = self.postmaster_pid() else {
            return;
        };
        let backends = process::children(pid);
        process::kill_and_wait(pid);
        for child in backends {
            process::kill_and_wait(child);
        }
    }

    fn postmaster_pid(&self) -> Option<u32> {
        let text = std::fs::read_to_string(self.dir.join("data").join("postmaster.pid")).ok()?;
        let pid: u32 = text.lines().next()?.trim().parse().ok()?;
        process::alive(pid).then_some(pid)
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = self
            .pg_ctl()
            .args(["-w", "-m", "immediate", "stop"])
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn as_owner(program: &Path) -> Command {
    if process::is_root() {
        let mut cmd = Command::new("runuser");
        cmd.args(["-u", "postgres", "--"]).arg(program);
        cmd
    } else {
        Command::new(program)
    }
}

/// Where `initdb` and `pg_ctl` live: `pg_config --bindir`, else Debian's layout.
fn bin_dir() -> PathBuf {
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if dir.join("initdb").exists() {
            return dir;
        }
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| d.flatten().map(|e| e.path().join("bin")).collect())
        .unwrap_or_default();
    versions.sort();
    match versions
        .into_iter()
        .rev()
        .find(|d| d.join("initdb").exists())
    {
        Some(dir) => dir,
        None => {
            process::require("initdb", "postgresql");
            PathBuf::from("/usr/local/bin")
        }
    }
}
