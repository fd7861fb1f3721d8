//! Private Redis servers for the tests: a standalone `redis-server` that can be killed
//! and restarted on its port, and a real three-primary Redis Cluster, each on free
//! loopback ports in temp dirs.
//!
//! Every process is paired with a watchdog shell that SIGKILLs it (and removes its
//! directory) once the test process is gone, so a crashed run, or a server kept in a
//! `static` whose destructor never runs, leaves nothing behind.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a server gets to answer `PING` after it is spawned.
const STARTUP: Duration = Duration::from_secs(10);
/// How long a new cluster gets to report `cluster_state:ok` on every node.
const CLUSTER_FORMATION: Duration = Duration::from_secs(30);

fn require(tool: &str) {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        found,
        "`{tool}` is not installed; the Redis tests need it (Debian: apt-get install redis-server)"
    );
}

/// Whether `port` can be listened on right now.
fn port_free(port: u16) -> bool {
    TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok()
}

/// A free loopback port chosen by the kernel. A cluster node also needs port + 10000
/// for its bus, so `with_bus` keeps looking until both are free.
fn free_port(with_bus: bool) -> u16 {
    for _ in 0..200 {
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap_or_else(|e| panic!("cannot bind a loopback port: {e}"));
        if !with_bus {
            return port;
        }
        if port <= 55_535 && port_free(port + 10_000) {
            return port;
        }
    }
    panic!("found no free loopback port (with its cluster bus port)")
}

/// Kills `pid` when the test process (this one) exits, then removes `dir`. Exits early,
/// doing nothing, if `pid` dies first.
fn watchdog(pid: u32, dir: &Path) {
    let script = r#"
        while kill -0 "$1" 2>/dev/null; do
            kill -0 "$2" 2>/dev/null || exit 0
            sleep 0.5
        done
        kill -9 "$2" 2>/dev/null
        rm -rf "$3"
    "#;
    let spawned = Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg("session-redis-watchdog")
        .arg(std::process::id().to_string())
        .arg(pid.to_string())
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    if let Err(e) = spawned {
        panic!("cannot start the watchdog for redis-server {pid}: {e}");
    }
}

/// Sends `PING` over a bare socket; true on `+PONG`.
fn pings(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect((Ipv4Addr::LOCALHOST, port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    if stream.write_all(b"*1\r\n$4\r\nPING\r\n").is_err() {
        return false;
    }
    let mut buf = [0u8; 7];
    stream.read_exact(&mut buf).is_ok() && &buf == b"+PONG\r\n"
}

fn log_tail(dir: &Path) -> String {
    let text = std::fs::read_to_string(dir.join("redis.log")).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

/// Spawns `redis-server` on `port` in `dir` with `extra` arguments and waits for
/// `PONG`. `None` if it did not come up (typically: the port was taken meanwhile).
fn spawn_server(port: u16, dir: &Path, extra: &[&str]) -> Option<Child> {
    let mut child = Command::new("redis-server")
        .args(["--port", &port.to_string()])
        .args(["--bind", "127.0.0.1"])
        .args(["--save", ""])
        .args(["--appendonly", "no"])
        .arg("--dir")
        .arg(dir)
        .arg("--logfile")
        .arg(dir.join("redis.log"))
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot spawn redis-server: {e}"));
    watchdog(child.id(), dir);
    let deadline = Instant::now() + STARTUP;
    while Instant::now() < deadline {
        if pings(port) {
            return Some(child);
        }
        if let Ok(Some(_)) = child.try_wait() {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

/// A private standalone `redis-server`, stopped on drop.
pub struct RedisServer {
    port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl RedisServer {
    /// Starts a server on a free loopback port.
    pub fn start() -> Self {
        require("redis-server");
        let dir = tempfile::Builder::new()
            .prefix("session-redis-server")
            .tempdir()
            .unwrap_or_else(|e| panic!("cannot make a temp dir: {e}"));
        for _ in 0..5 {
            let port = free_port(false);
            if let Some(child) = spawn_server(port, dir.path(), &[]) {
                return RedisServer {
                    port,
                    dir,
                    child: Some(child),
                };
            }
        }
        panic!(
            "redis-server did not start; its log:\n{}",
            log_tail(dir.path())
        )
    }

    /// `redis://127.0.0.1:<port>/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// SIGKILLs the server: no shutdown, connections drop mid-flight.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port (empty: it persists nothing).
    pub fn restart(&mut self) {
        self.kill();
        let deadline = Instant::now() + STARTUP;
        while Instant::now() < deadline {
            if let Some(child) = spawn_server(self.port, self.dir.path(), &[]) {
                self.child = Some(child);
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "redis-server did not restart on port {}; its log:\n{}",
            self.port,
            log_tail(self.dir.path())
        )
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A three-primary Redis Cluster on loopback. Meant to live in a `static` for a whole
/// test binary: its processes end with the test process (see the module docs).
pub struct RedisCluster {
    ports: Vec<u16>,
    _children: Vec<Child>,
}

impl RedisCluster {
    /// Starts three `--cluster-enabled` servers, joins them with
    /// `redis-cli --cluster create … --cluster-replicas 0`, and waits until every node
    /// reports `cluster_state:ok`.
    pub fn start() -> Self {
        require("redis-server");
        require("redis-cli");
        let mut ports = Vec::new();
        let mut children = Vec::new();
        let mut dirs: Vec<PathBuf> = Vec::new();
        while ports.len() < 3 {
            let dir = tempfile::Builder::new()
                .prefix("session-redis-cluster")
                .tempdir()
                .unwrap_or_else(|e| panic!("cannot make a temp dir: {e}"))
                .keep();
            let mut started = None;
            for _ in 0..5 {
                let port = free_port(true);
                let conf = dir.join("nodes.conf");
                let conf = conf.to_string_lossy();
                let extra = [
                    "--cluster-enabled",
                    "yes",
                    "--cluster-config-file",
                    &conf,
                    "--cluster-node-timeout",
                    "5000",
                ];
                if let Some(child) = spawn_server(port, &dir, &extra) {
                    started = Some((port, child));
                    break;
                }
            }
            let Some((port, child)) = started else {
                panic!("a cluster node did not start; its log:\n{}", log_tail(&dir))
            };
            ports.push(port);
            children.push(child);
            dirs.push(dir);
        }
        let mut create = Command::new("redis-cli");
        create.arg("--cluster").arg("create");
        for port in &ports {
            create.arg(format!("127.0.0.1:{port}"));
        }
        let out = create
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run redis-cli --cluster create: {e}"));
        assert!(
            out.status.success(),
            "redis-cli --cluster create failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let cluster = RedisCluster {
            ports,
            _children: children,
        };
        cluster.wait_until_ok(&dirs);
        cluster
    }

    fn wait_until_ok(&self, dirs: &[PathBuf]) {
        let deadline = Instant::now() + CLUSTER_FORMATION;
        loop {
            let all_ok = self.ports.iter().all(|port| {
                let info = redis::Client::open(format!("redis://127.0.0.1:{port}/"))
                    .and_then(|c| c.get_connection())
                    .and_then(|mut c| redis::cmd("CLUSTER").arg("INFO").query::<String>(&mut c));
                info.is_ok_and(|i| {
                    i.contains("cluster_state:ok")
                        && i.contains("cluster_slots_ok:16384")
                        && i.contains("cluster_known_nodes:3")
                })
            });
            if all_ok {
                return;
            }
            if Instant::now() > deadline {
                let logs: Vec<String> = dirs.iter().map(|d| log_tail(d)).collect();
                panic!(
                    "the cluster on ports {:?} never reached cluster_state:ok; logs:\n{}",
                    self.ports,
                    logs.join("\n---\n")
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// One `redis://127.0.0.1:<port>/` URL per node.
    pub fn node_urls(&self) -> Vec<String> {
        self.ports
            .iter()
            .map(|p| format!("redis://127.0.0.1:{p}/"))
            .collect()
    }
}
