//! Private memcached servers for the tests, and the conformance fixture.
//!
//! Each test binary spawns its own `memcached` processes on free loopback ports and
//! stops them on drop; fault tests kill (SIGKILL), stall (SIGSTOP) and restart them.
//! `SESSION_TEST_MEMCACHE_URL=memcache://host:port[,host:port]` points the conformance
//! suite at running servers instead (each fixture still gets its own random key prefix;
//! nothing is ever flushed). A missing `memcached` binary fails the tests loudly, with
//! how to install it; under `CI=true` the message says so too. Never a silent skip.

#![allow(dead_code)]

use std::collections::{BTreeSet, HashMap};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use memcache::exp::{AsyncMetaClient, GetStatus};
use session_conformance::{Fixture, RawEntry};
use session_core::{Capabilities, Clock, Record, Result, SessionId, SessionStore};
use session_memcache::{MemcacheOptions, MemcacheStore};

/// The environment variable that points the suite at existing servers.
pub const URL_VAR: &str = "SESSION_TEST_MEMCACHE_URL";

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Where the `memcached` binary is, or a panic that says how to get it.
pub fn memcached_binary() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin"), PathBuf::from("/usr/local/bin")])
        .map(|dir| dir.join("memcached"))
        .find(|p| p.is_file());
    match found {
        Some(p) => p,
        None => {
            let ci = std::env::var("CI").is_ok_and(|v| v == "true");
            panic!(
                "the memcached binary is not installed, so the session-memcache tests cannot \
                 run{}. Install it with `apt-get install -y memcached` (or run \
                 session-memcache/ci-services.sh), or set {URL_VAR}=memcache://host:port to run \
                 the conformance suite against a server you started",
                if ci {
                    " (CI=true: a missing server is a failure, never a skip)"
                } else {
                    ""
                }
            )
        }
    }
}

/// A port that is free now, from below Linux's ephemeral range (32768 and up): ports
/// handed out for `bind(0)` and outgoing connections never land there, so a port stays
/// ours across a kill and restart while other tests (and other programs) come and go.
fn free_port() -> u16 {
    for _ in 0..100 {
        let port = 20_000 + rand::random::<u16>() % 10_000;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free loopback port for memcached in 20000..30000");
}

/// A private `memcached` on a loopback port, stopped when dropped.
pub struct Memcached {
    port: u16,
    extra: Vec<String>,
    child: Mutex<Option<Child>>,
}

impl Memcached {
    /// A server with 64 MiB of memory and default item size (1 MiB).
    pub fn start() -> Memcached {
        Self::start_with(&[])
    }

    /// A server with extra command-line arguments (e.g. `["-I", "2m"]`).
    pub fn start_with(extra: &[&str]) -> Memcached {
        let extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        let mut last_error = String::new();
        // A port found free can be taken before memcached binds it; try a few.
        for _ in 0..5 {
            let port = free_port();
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

    /// `127.0.0.1:port`.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
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
        signal(pid, "STOP");
        let started = Instant::now();
        while !all_threads_stopped(pid) {
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "memcached {pid} did not stop within 5 s of SIGSTOP"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// SIGCONT after [`Memcached::stall`].
    pub fn resume(&self) {
        signal(self.pid(), "CONT");
    }

    /// The server's `stats`.
    pub fn stats(&self) -> HashMap<String, u64> {
        stats(&self.addr())
    }
}

impl Drop for Memcached {
    fn drop(&mut self) {
        if let Some(mut child) = lock(&self.child).take() {
            // A stalled server ignores SIGTERM but not SIGKILL.
            let _ = child.kill();
            let _ = child.wait();
        }
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

fn signal(pid: u32, sig: &str) {
    let status = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .status()
        .unwrap_or_else(|e| panic!("kill -{sig} {pid}: {e}"));
    assert!(status.success(), "kill -{sig} {pid} failed: {status}");
}

fn spawn(port: u16, extra: &[String]) -> std::result::Result<Child, String> {
    let mut child = Command::new(memcached_binary())
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
        if server_pid(&format!("127.0.0.1:{port}")) == Some(child.id()) {
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

fn connect(addr: &str) -> std::io::Result<TcpStream> {
    let sock = addr
        .parse()
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    let stream = TcpStream::connect_timeout(&sock, Duration::from_secs(1))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    Ok(stream)
}

/// The pid of the memcached answering at `addr`, if one answers.
fn server_pid(addr: &str) -> Option<u32> {
    let pid = try_stats(addr).ok()?.get("pid").copied()?;
    u32::try_from(pid).ok()
}

fn try_stats(addr: &str) -> std::io::Result<HashMap<String, u64>> {
    let mut stream = connect(addr)?;
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

/// The numeric `stats` of the server at `addr`, over the text protocol.
pub fn stats(addr: &str) -> HashMap<String, u64> {
    try_stats(addr).unwrap_or_else(|e| panic!("stats from memcached at {addr}: {e}"))
}

/// The servers the conformance suite runs against, and what keeps them alive.
#[derive(Clone)]
pub enum Servers {
    /// From `SESSION_TEST_MEMCACHE_URL`.
    External(Vec<String>),
    /// A private server shared by the fixtures alive at the same time.
    Private(Arc<Memcached>),
}

impl Servers {
    /// The addresses.
    pub fn addrs(&self) -> Vec<String> {
        match self {
            Servers::External(addrs) => addrs.clone(),
            Servers::Private(m) => vec![m.addr()],
        }
    }
}

static SHARED: Mutex<Weak<Memcached>> = Mutex::new(Weak::new());

/// The suite's servers: the URL's, or one private server shared while any fixture holds
/// it (the last fixture to go stops it; the next one starts a fresh one).
pub fn suite_servers() -> Servers {
    if let Ok(url) = std::env::var(URL_VAR) {
        let options = MemcacheOptions::from_url(&url)
            .unwrap_or_else(|e| panic!("{URL_VAR}={url:?} is not a memcache:// URL: {e}"));
        return Servers::External(options.servers().to_vec());
    }
    let mut shared = lock(&SHARED);
    if let Some(server) = shared.upgrade() {
        return Servers::Private(server);
    }
    let server = Arc::new(Memcached::start());
    *shared = Arc::downgrade(&server);
    Servers::Private(server)
}

/// A key prefix no other fixture or run uses.
pub fn random_prefix() -> String {
    format!("sess-test-{:016x}:", rand::random::<u64>())
}

/// A store on `servers` under a fresh random prefix.
pub async fn store_on(servers: &[String], clock: Clock) -> MemcacheStore {
    let options = MemcacheOptions::new(servers)
        .and_then(|o| o.with_prefix(random_prefix()))
        .map(|o| o.with_clock(clock))
        .unwrap_or_else(|e| panic!("test store options: {e}"));
    MemcacheStore::new(options)
        .await
        .unwrap_or_else(|e| panic!("test store: {e}"))
}

/// The conformance fixture: a store in a fresh namespace, with a raw dump of what the
/// servers hold for it.
pub async fn suite_fixture(clock: Clock) -> Fixture {
    let servers = suite_servers();
    let store = RecordingStore::new(
        store_on(&servers.addrs(), clock).await,
        RawServers::new(&servers.addrs()).await,
    );
    let dump = store.clone();
    Fixture::new(store)
        .with_raw_dump(move || {
            let dump = dump.clone();
            async move { dump.raw_entries().await }
        })
        .with_guard(servers)
}

/// Reads keys straight from each server, bypassing the store: what the servers hold.
#[derive(Clone)]
pub struct RawServers {
    clients: Arc<Vec<AsyncMetaClient>>,
}

impl RawServers {
    /// One plain client per server (each routes everything to its own server).
    pub async fn new(addrs: &[String]) -> RawServers {
        let mut clients = Vec::new();
        for a in addrs {
            let client = AsyncMetaClient::connect(a.as_str())
                .await
                .unwrap_or_else(|e| panic!("raw client for {a}: {e}"));
            clients.push(client);
        }
        RawServers {
            clients: Arc::new(clients),
        }
    }

    /// For each server, the value it holds under `key`.
    pub async fn get_everywhere(&self, key: &str) -> Vec<Option<Vec<u8>>> {
        let mut out = Vec::new();
        for c in self.clients.iter() {
            let r = c
                .get(key)
                .send()
                .await
                .unwrap_or_else(|e| panic!("raw get {key}: {e}"));
            out.push(match r.status {
                GetStatus::Hit => r.value,
                _ => None,
            });
        }
        out
    }

    /// The one value held under `key` on any server (panics if two servers hold it).
    pub async fn get(&self, key: &str) -> Option<Vec<u8>> {
        let mut found = self.get_everywhere(key).await.into_iter().flatten();
        let first = found.next();
        assert!(found.next().is_none(), "{key} is stored on two servers");
        first
    }

    /// The remaining server-side TTL of `key` in seconds (-1: none), if it is held.
    pub async fn ttl(&self, key: &str) -> Option<i64> {
        for c in self.clients.iter() {
            let r = c
                .get(key)
                .meta(memcache::exp::Meta::NONE.ttl())
                .without_value()
                .send()
                .await
                .unwrap_or_else(|e| panic!("raw ttl {key}: {e}"));
            if r.status == GetStatus::Hit {
                return r.item.ttl;
            }
        }
        None
    }

    /// Writes raw bytes under `key` on every server, bypassing the store.
    pub async fn set_everywhere(&self, key: &str, value: &[u8]) {
        for c in self.clients.iter() {
            c.set(key, value)
                .ttl_raw(600)
                .send()
                .await
                .unwrap_or_else(|e| panic!("raw set {key}: {e}"));
        }
    }
}

/// Wraps the store under test and remembers every id it was asked to write, so the
/// fixture can list the keys memcached cannot enumerate. Test-only: the store itself
/// keeps no such list.
#[derive(Clone)]
pub struct RecordingStore {
    inner: MemcacheStore,
    ids: Arc<Mutex<BTreeSet<[u8; 32]>>>,
    raw: RawServers,
}

impl RecordingStore {
    pub fn new(inner: MemcacheStore, raw: RawServers) -> RecordingStore {
        RecordingStore {
            inner,
            ids: Arc::new(Mutex::new(BTreeSet::new())),
            raw,
        }
    }

    fn remember(&self, id: &SessionId) {
        lock(&self.ids).insert(*id.as_bytes());
    }

    /// Every key the store wrote that a server still holds, with the held bytes.
    pub async fn raw_entries(&self) -> Vec<RawEntry> {
        let ids: Vec<SessionId> = lock(&self.ids)
            .iter()
            .map(|b| SessionId::from_bytes(*b))
            .collect();
        let mut entries = Vec::new();
        for id in ids {
            let key = self.inner.key_for(&id);
            if let Some(value) = self.raw.get(&key).await {
                entries.push((key.into_bytes(), value));
            }
        }
        entries
    }
}

#[async_trait]
impl SessionStore for RecordingStore {
    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }
    async fn load(&self, cookie_value: &str) -> Result<Option<Record>> {
        self.inner.load(cookie_value).await
    }
    async fn create(&self, record: &Record) -> Result<String> {
        self.remember(&record.id);
        self.inner.create(record).await
    }
    async fn save(&self, record: &Record, expected_version: u64) -> Result<String> {
        self.remember(&record.id);
        self.inner.save(record, expected_version).await
    }
    async fn touch(&self, record: &Record) -> Result<String> {
        self.remember(&record.id);
        self.inner.touch(record).await
    }
    async fn delete(&self, id: &SessionId) -> Result<()> {
        self.inner.delete(id).await
    }
}
