//! A private `memcached`.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::process::{self, PORTS};

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A private `memcached` on a loopback port, stopped when dropped. Shareable (`&self`
/// methods), so one server can sit in an `Arc` behind several fixtures.
pub struct Memcached {
    port: u16,
    extra: Vec<String>,
    child: Mutex<Option<Child>>,
}

impl Memcached {
    /// A server with 64 MiB of memory and the default item size limit (1 MiB).
    pub fn start() -> Memcached {
        Self::start_with(&[])
    }

    /// A server with extra command-line arguments (e.g. `["-I", "2m"]`).
    pub fn start_with(extra: &[&str]) -> Memcached {
        let extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        let mut last_error = String::new();
        // A port found free can be taken before memcached binds it; try a few.
        for _ in 0..5 {
            let port = process::free_port(PORTS, false);
            match spawn(port, &extra) {
                Ok(child) => {
                    return Memcached {
                        port,
                        extra,
                        child: Mutex::new(Some(child)),
                    }
                }
                Err(e) => last_error = e,
            }
        }
        panic!("memcached did not start: {last_error}");
    }

    /// `127.0.0.1:<port>`.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// `memcache://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("memcache://{}", self.addr())
    }

    fn pid(&self) -> u32 {
        match lock(&self.child).as_ref() {
            Some(child) => child.id(),
            None => panic!("memcached on port {} is not running", self.port),
        }
    }

    /// SIGKILL: the server dies at once, with everything it held.
    pub fn kill(&self) {
        if let Some(mut child) = lock(&self.child).take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port, empty.
    ///
    /// # Panics
    /// If it is running, or does not come back.
    pub fn restart(&self) {
        let mut slot = lock(&self.child);
        if slot.is_some() {
            panic!("restart of a running memcached");
        }
        let child = spawn(self.port, &self.extra)
            .unwrap_or_else(|e| panic!("memcached did not restart on port {}: {e}", self.port));
        *slot = Some(child);
    }

    /// SIGSTOP: the server keeps its sockets but answers nothing, like a hung host.
    /// Returns once every thread has stopped: the signal is asynchronous, and a worker
    /// thread that is running when it arrives can still answer a request sent right
    /// after `kill` returned.
    pub fn stall(&self) {
        let pid = self.pid();
        assert!(process::signal(pid, "STOP"), "kill -STOP {pid} failed");
        let stopped = process::wait_until(Duration::from_secs(5), || all_threads_stopped(pid));
        assert!(
            stopped,
            "memcached {pid} did not stop within 5 s of SIGSTOP"
        );
    }

    /// SIGCONT after [`Memcached::stall`].
    pub fn resume(&self) {
        let pid = self.pid();
        assert!(process::signal(pid, "CONT"), "kill -CONT {pid} failed");
    }

    /// The server's numeric `stats`.
    pub fn stats(&self) -> HashMap<String, u64> {
        stats(&self.addr()).unwrap_or_else(|e| panic!("stats from memcached {}: {e}", self.addr()))
    }
}

impl Drop for Memcached {
    fn drop(&mut self) {
        // A stalled server ignores SIGTERM but not SIGKILL.
        self.kill();
    }
}

/// Whether every thread of `pid` is in the stopped state (`T` in `/proc/.../stat`).
fn all_threads_stopped(pid: u32) -> bool {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return false;
    };
    let mut any = false;
    for task in tasks.flatten() {
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else {
            return false;
        };
        // The state follows the command name, which is in parentheses and may hold spaces.
        let state = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.trim_start().chars().next());
        if state != Some('T') {
            return false;
        }
        any = true;
    }
    any
}

fn spawn(port: u16, extra: &[String]) -> Result<Child, String> {
    let binary = process::require("memcached", "memcached");
    let mut child = Command::new(binary)
        .args([
            "-l",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-U",
            "0",
            "-m",
            "64",
        ])
        // Needed when the tests run as root; memcached ignores it otherwise.
        .args(["-u", "root"])
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("spawning memcached: {e}"))?;
    process::watchdog(child.id(), None);
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(10) {
        if let Ok(Some(status)) = child.try_wait() {
            let mut err = String::new();
            if let Some(mut stderr) = child.stderr.take() {
                let _ = stderr.read_to_string(&mut err);
            }
            return Err(format!("memcached exited ({status}): {}", err.trim()));
        }
        // Only our own process counts: another server answering on the port would
        // otherwise pass for the one just started.
        let pid = stats(&format!("127.0.0.1:{port}"))
            .ok()
            .and_then(|s| s.get("pid").copied());
        if pid == Some(u64::from(child.id())) {
            return Ok(child);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    Err(format!(
        "memcached on port {port} did not answer within 10 s"
    ))
}

/// The numeric `stats` of the memcached at `addr`, over the text protocol.
fn stats(addr: &str) -> std::io::Result<HashMap<String, u64>> {
    let sock = addr
        .parse()
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    let mut stream = TcpStream::connect_timeout(&sock, Duration::from_secs(1))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    stream.write_all(b"stats\r\n")?;
    let mut out = HashMap::new();
    for line in BufReader::new(stream).lines() {
        let line = line?;
        if line == "END" {
            return Ok(out);
        }
        let mut parts = line.split(' ');
        if let (Some("STAT"), Some(name), Some(value)) = (parts.next(), parts.next(), parts.next())
        {
            if let Ok(n) = value.parse() {
                out.insert(name.to_owned(), n);
            }
        }
    }
    Err(std::io::Error::other("stats ended without END"))
}
