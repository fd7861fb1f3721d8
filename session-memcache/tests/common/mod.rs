//! Private memcached servers for the tests, and the conformance fixture.
//!
//! Each test binary spawns its own `memcached` processes (`session_test_servers`)
//! and stops them on drop; fault tests kill (SIGKILL), stall (SIGSTOP) and restart them.
//! `SESSION_TEST_MEMCACHE_URL=memcache://host:port[,host:port]` points the conformance
//! suite at running servers instead (each fixture still gets its own random key prefix;
//! nothing is ever flushed). A missing `memcached` binary fails the tests loudly, with
//! how to install it; under `CI=true` the message says so too. Never a silent skip.

#![allow(dead_code)]

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use async_trait::async_trait;
use memcache::exp::{AsyncMetaClient, GetStatus};
use session_conformance::{Fixture, RawEntry};
use session_core::{Capabilities, Clock, Record, Result, SessionId, SessionStore, StoreSettings};
use session_memcache::{MemcacheOptions, MemcacheStore};
pub use session_test_servers::Memcached;
use session_test_servers::Service;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
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
    if let Some(url) = Service::Memcache.external_url() {
        let options = MemcacheOptions::from_url(&url).unwrap_or_else(|e| {
            let var = Service::Memcache.env_var();
            panic!("{var}={url:?} is not a memcache:// URL: {e}")
        });
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
        .map(|o| o.with_settings(StoreSettings::new().with_clock(clock)))
        .unwrap_or_else(|e| panic!("test store options: {e}"));
    MemcacheStore::new(options)
        .await
        .unwrap_or_else(|e| panic!("test store: {e}"))
}

/// Two stores (two app processes) on one private server, under one fresh prefix.
pub struct TwoInstances {
    pub server: Memcached,
    pub a: MemcacheStore,
    pub b: MemcacheStore,
}

/// [`TwoInstances`] on `clock`.
pub async fn two_instances(clock: Clock) -> TwoInstances {
    let server = Memcached::start();
    let prefix = random_prefix();
    let open = |clock: Clock| {
        let options = MemcacheOptions::new(&[server.addr()])
            .and_then(|o| o.with_prefix(prefix.clone()))
            .map(|o| o.with_settings(StoreSettings::new().with_clock(clock)))
            .unwrap_or_else(|e| panic!("test store options: {e}"));
        MemcacheStore::new(options)
    };
    let a = open(clock.clone())
        .await
        .unwrap_or_else(|e| panic!("store a: {e}"));
    let b = open(clock).await.unwrap_or_else(|e| panic!("store b: {e}"));
    TwoInstances { server, a, b }
}

impl TwoInstances {
    /// A ten-minute session created by `a` and loaded by `a` (so `a` holds the item's
    /// CAS token): the record as created and as loaded.
    pub async fn loaded_by_a(&self, now: session_core::Timestamp) -> (Record, Record) {
        let r = ten_minute_record(now);
        self.a
            .create(&r)
            .await
            .unwrap_or_else(|e| panic!("create: {e}"));
        let seen = self
            .a
            .load(&r.id.to_string())
            .await
            .unwrap_or_else(|e| panic!("load: {e}"))
            .unwrap_or_else(|| panic!("the session just created loads"));
        (r, seen)
    }
}

/// A new record of user "ada", live for ten minutes from `now`.
pub fn ten_minute_record(now: session_core::Timestamp) -> Record {
    let mut data = session_core::Data::new();
    data.insert("user".into(), serde_json::json!("ada"));
    Record::new(
        SessionId::generate(),
        data,
        now,
        now.saturating_add(std::time::Duration::from_secs(600)),
    )
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
