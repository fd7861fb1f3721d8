//! Private `redis-server`s: a standalone server and a three-primary cluster.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::process::{self, PORTS, STARTUP};

/// How long a new cluster gets to report `cluster_state:ok` on every node.
const CLUSTER_FORMATION: Duration = Duration::from_secs(30);

/// Sends one command over a bare socket and reads one reply (simple or bulk string).
fn command(port: u16, args: &[&str]) -> Option<String> {
    let mut stream = TcpStream::connect_timeout(
        &(Ipv4Addr::LOCALHOST, port).into(),
        Duration::from_millis(500),
    )
    .ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    let mut request = format!("*{}\r\n", args.len());
    for a in args {
        request.push_str(&format!("${}\r\n{a}\r\n", a.len()));
    }
    stream.write_all(request.as_bytes()).ok()?;
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let line = line.trim_end();
    if let Some(simple) = line.strip_prefix('+') {
        return Some(simple.to_owned());
    }
    let len: usize = line.strip_prefix('$')?.parse().ok()?;
    let mut body = vec![0u8; len + 2];
    reader.read_exact(&mut body).ok()?;
    body.truncate(len);
    String::from_utf8(body).ok()
}

fn pings(port: u16) -> bool {
    command(port, &["PING"]).as_deref() == Some("PONG")
}

/// Spawns `redis-server` on `port` in `dir` and waits for `PONG`; `None` if it did not
/// come up (typically: the port was taken meanwhile).
fn spawn(port: u16, dir: &Path, extra: &[&str]) -> Option<Child> {
    let binary = process::require("redis-server", "redis-server");
    let mut child = Command::new(binary)
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", ""])
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
    process::watchdog(child.id(), Some(dir));
    let up = process::wait_until(STARTUP, || {
        pings(port) || matches!(child.try_wait(), Ok(Some(_)))
    });
    if up && pings(port) {
        return Some(child);
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

/// A private standalone `redis-server`, stopped on drop.
pub struct RedisServer {
    port: u16,
    dir: PathBuf,
    extra: Vec<&'static str>,
    child: Option<Child>,
}

impl RedisServer {
    /// A server that keeps nothing on disk (like the machine's own): a restart starts
    /// empty.
    pub fn start() -> Self {
        Self::start_with(&["--appendonly", "no"])
    }

    /// A server that writes every command to its append-only file before answering
    /// (`appendfsync always`): what it acknowledged survives SIGKILL and restart.
    pub fn start_persistent() -> Self {
        Self::start_with(&["--appendonly", "yes", "--appendfsync", "always"])
    }

    fn start_with(extra: &[&'static str]) -> Self {
        let dir = process::temp_dir("session-test-redis");
        for _ in 0..5 {
            let port = process::free_port(PORTS, false);
            if let Some(child) = spawn(port, &dir, extra) {
                return RedisServer {
                    port,
                    dir,
                    extra: extra.to_vec(),
                    child: Some(child),
                };
            }
        }
        panic!(
            "redis-server did not start; its log:\n{}",
            process::log_tail(&dir.join("redis.log"))
        )
    }

    /// `redis://127.0.0.1:<port>/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// SIGKILLs the server: no shutdown, connections drop mid-flight.
    pub fn kill(&mut self) {
        process::kill_child(self.child.take());
    }

    /// Starts the server again on the same port and data directory.
    pub fn restart(&mut self) {
        self.kill();
        let mut started = None;
        process::wait_until(STARTUP, || {
            started = spawn(self.port, &self.dir, &self.extra);
            started.is_some()
        });
        match started {
            Some(child) => self.child = Some(child),
            None => panic!(
                "redis-server did not restart on port {}; its log:\n{}",
                self.port,
                process::log_tail(&self.dir.join("redis.log"))
            ),
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
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
        let cli = process::require("redis-cli", "redis-tools");
        let mut ports = Vec::new();
        let mut children = Vec::new();
        let mut dirs = Vec::new();
        while ports.len() < 3 {
            let dir = process::temp_dir("session-test-redis-cluster");
            let conf = dir.join("nodes.conf").to_string_lossy().into_owned();
            let extra = [
                "--appendonly",
                "no",
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                &conf,
                "--cluster-node-timeout",
                "5000",
            ];
            // The bus port (port + 10000) must stay below the ephemeral range too.
            let started = (0..5).find_map(|_| {
                let port = process::free_port(PORTS.start..22_700, true);
                spawn(port, &dir, &extra).map(|child| (port, child))
            });
            let Some((port, child)) = started else {
                panic!(
                    "a cluster node did not start; its log:\n{}",
                    process::log_tail(&dir.join("redis.log"))
                )
            };
            ports.push(port);
            children.push(child);
            dirs.push(dir);
        }
        let mut create = Command::new(cli);
        create.args(["--cluster", "create"]);
        for port in &ports {
            create.arg(format!("127.0.0.1:{port}"));
        }
        process::run(create.args(["--cluster-replicas", "0", "--cluster-yes"]));
        let formed = process::wait_until(CLUSTER_FORMATION, || {
            ports.iter().all(|&port| {
                command(port, &["CLUSTER", "INFO"]).is_some_and(|info| {
                    info.contains("cluster_state:ok")
                        && info.contains("cluster_slots_ok:16384")
                        && info.contains("cluster_known_nodes:3")
                })
            })
        });
        if !formed {
            let logs: Vec<String> = dirs
                .iter()
                .map(|d| process::log_tail(&d.join("redis.log")))
                .collect();
            panic!(
                "the cluster on ports {ports:?} never reached cluster_state:ok; logs:\n{}",
                logs.join("\n---\n")
            );
        }
        RedisCluster {
            ports,
            _children: children,
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

impl Drop for RedisCluster {
    fn drop(&mut self) {
        for child in &mut self._children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
