//! Issue 22: a cache named next to the store (`cache`, `SESSION_CACHE_URL`,
//! `AnyStore::open_with_cache`): its URL grammar, the bus each store gets by default,
//! redaction, the refusals, and sessions round-tripping through `TieredStore`.

#![cfg(feature = "tiered")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code

mod common;

use std::time::Duration;

use common::config_error;
use session_any::{AnyStore, CacheBus, CacheUrl, SessionConfig, StoreUrl};
use session_core::{Data, Record, SessionId, SessionStore, Timestamp};

fn record() -> Record {
    let now = Timestamp::from_system(std::time::SystemTime::now());
    Record::new(
        SessionId::generate(),
        Data::new(),
        now,
        now.saturating_add(Duration::from_secs(600)),
    )
}

fn sqlite_url(dir: &std::path::Path) -> String {
    format!("sqlite://{}/s.db", dir.display())
}

fn bus(cache: &str, store: &str) -> session_core::Result<Option<CacheBus>> {
    CacheUrl::parse(cache)?.bus(&StoreUrl::parse(store)?)
}

#[test]
fn local_takes_a_fixed_list_of_parameters() {
    let ok = CacheUrl::parse("local://?capacity=50000&ttl=10s&heartbeat=250ms").unwrap();
    assert!(ok.is_local());
    assert!(ok.shared_store().is_none());
    CacheUrl::parse("local://").unwrap();
    CacheUrl::parse("LOCAL:").unwrap();

    let msg = config_error(CacheUrl::parse("local://?capacty=10"));
    assert!(
        msg.contains("`capacty`; known: capacity, ttl, heartbeat, bus, bus_url, channel"),
        "{msg}"
    );
    assert_eq!(
        session_any::LOCAL_PARAMS,
        ["capacity", "ttl", "heartbeat", "bus", "bus_url", "channel"]
    );
    let msg = config_error(CacheUrl::parse("local://?ttl=1s&ttl=2s"));
    assert!(
        msg.contains("ttl") && msg.contains("more than once"),
        "{msg}"
    );

    for (url, needle) in [
        ("local://?capacity=0", "capacity"),
        ("local://?capacity=lots", "capacity"),
        ("local://?ttl=30", "ttl"),
        ("local://?ttl=0s", "ttl"),
        ("local://?heartbeat=5ms", "at least 20ms"),
        ("local://?bus=pigeon", "`none` (one instance only)"),
        ("local://?bus=store&channel=bad%20name", "channel"),
        ("local://somehost", "no host or path"),
        ("local:///var/cache", "no host or path"),
        (
            "local://?bus_url=file%3A%2F%2F%2Ftmp%2Fx",
            "redis:// or postgres://",
        ),
        ("local://?bus_url=nonsense", "bus_url"),
        ("local://?bus=none&channel=x", "bus=none has none"),
    ] {
        let msg = config_error(CacheUrl::parse(url));
        assert!(msg.contains(needle), "{url}: {msg}");
    }
}

#[test]
fn shared_caches_are_server_stores_read_by_the_scheme_table() {
    let memory = CacheUrl::parse("memory://").unwrap();
    assert!(!memory.is_local());
    assert_eq!(memory.shared_store().unwrap().scheme().name(), "memory");
    assert_eq!(bus("memory://", "memory://").unwrap(), None);

    // The store's own grammar: an unknown parameter names it and lists the known ones.
    let msg = config_error(CacheUrl::parse("memory://?bogus=1"));
    assert!(
        msg.contains("`bogus`") && msg.contains("known: max_record_size"),
        "{msg}"
    );
    let msg = config_error(CacheUrl::parse("gopher://x"));
    assert!(msg.contains("gopher"), "{msg}");

    for (url, needle) in [
        ("cookie://", "`cookie://` cannot be a session cache"),
        ("sqlite::memory:", "is the durable store"),
        ("file:///tmp/x", "is the durable store"),
    ] {
        let msg = config_error(CacheUrl::parse(url));
        assert!(msg.contains(needle), "{url}: {msg}");
    }
}

#[test]
fn the_bus_follows_the_durable_store() {
    // Embedded stores: no bus by default, one instance only.
    for store in [
        "memory://",
        "sqlite::memory:",
        "file:///tmp/s",
        "shelf:///tmp/s.redb",
    ] {
        assert_eq!(
            bus("local://", store).unwrap(),
            Some(CacheBus::Off),
            "{store}"
        );
        let msg = config_error(bus("local://?bus=store", store));
        assert!(msg.contains("bus=store needs"), "{store}: {msg}");
        let msg = config_error(bus("local://?heartbeat=500ms", store));
        assert!(
            msg.contains("heartbeat and channel apply to a cache with a bus"),
            "{store}: {msg}"
        );
        let msg = config_error(bus("local://?bus=redis", store));
        assert!(msg.contains("bus=redis needs bus_url"), "{store}: {msg}");
    }
    assert_eq!(
        bus("local://?bus=none", "memory://").unwrap(),
        Some(CacheBus::Off)
    );
    assert_eq!(CacheBus::Off.name(), "none");

    if cfg!(feature = "postgres") {
        let pg = "postgres://app:pw@db/app?session_table=s&connect=lazy";
        assert_eq!(bus("local://", pg).unwrap(), Some(CacheBus::Postgres));
        assert_eq!(
            bus("local://?bus=store&channel=app1", pg).unwrap(),
            Some(CacheBus::Postgres)
        );
        assert_eq!(
            bus("local://?bus=postgres", "postgresql://db/app").unwrap(),
            Some(CacheBus::Postgres)
        );
        assert_eq!(bus("local://?bus=none", pg).unwrap(), Some(CacheBus::Off));
        let msg = config_error(bus("local://?bus=redis", pg));
        assert!(msg.contains("bus=redis needs bus_url"), "{msg}");
        // A separate PostgreSQL server for the bus, in front of SQLite.
        assert_eq!(
            bus(
                "local://?bus_url=postgres%3A%2F%2Fdb%2Fapp%3Fsslmode%3Drequire",
                "sqlite::memory:"
            )
            .unwrap(),
            Some(CacheBus::Postgres)
        );
    }
    if cfg!(feature = "redis") {
        assert_eq!(
            bus("local://", "redis://cache:6379/0?prefix=app:").unwrap(),
            Some(CacheBus::Redis)
        );
        let over_sqlite = "local://?bus_url=redis%3A%2F%2Fbus%3A6379%2F&channel=app:1";
        assert_eq!(
            bus(over_sqlite, "sqlite::memory:").unwrap(),
            Some(CacheBus::Redis)
        );
        let msg = config_error(CacheUrl::parse(
            "local://?bus=store&bus_url=redis%3A%2F%2Fbus%2F",
        ));
        assert!(msg.contains("contradict"), "{msg}");
        let msg = config_error(CacheUrl::parse(
            "local://?bus=postgres&bus_url=redis%3A%2F%2Fbus%2F",
        ));
        assert!(
            msg.contains("bus=postgres but bus_url is a redis URL"),
            "{msg}"
        );
        // The bus URL's own parameters are checked as the store's are.
        let msg = config_error(CacheUrl::parse(
            "local://?bus_url=redis%3A%2F%2Fbus%2F%3Fbogus%3D1",
        ));
        assert!(msg.contains("bus_url") && msg.contains("`bogus`"), "{msg}");
        // Redis Cluster has no bus of ours: the URL must say.
        let msg = config_error(bus("local://", "redis+cluster://a:1,b:2"));
        assert!(
            msg.contains("bus=none if this is the only instance"),
            "{msg}"
        );
        assert_eq!(
            bus("local://?bus=none", "redis+cluster://a:1,b:2").unwrap(),
            Some(CacheBus::Off)
        );
    } else {
        let msg = config_error(CacheUrl::parse("local://?bus_url=redis%3A%2F%2Fbus%2F"));
        assert!(msg.contains("`redis` feature"), "{msg}");
    }
    if cfg!(feature = "mysql") {
        let msg = config_error(bus("local://", "mysql://root@db/app"));
        assert!(
            msg.contains("`mysql://` store needs to be told") && msg.contains("bus=none"),
            "{msg}"
        );
    }
}

#[test]
fn a_cookie_store_has_nothing_to_cache() {
    for cache in ["local://", "memory://"] {
        let msg = config_error(bus(cache, "cookie://"));
        assert!(
            msg.contains("needs a server-side store") && msg.contains("`cookie://`"),
            "{cache}: {msg}"
        );
    }
    let mut cfg = SessionConfig::for_url("cookie://");
    cfg.cache = Some("local://".into());
    let msg = config_error(cfg.cache_url());
    assert!(msg.contains("cookie://"), "{msg}");
}

const PASSWORD: &str = "hunter2-cache-secret";

#[test]
fn cache_urls_are_shown_redacted() {
    // A password in the bus's URL, percent-encoded inside the cache URL.
    let text = format!("local://?ttl=5s&bus_url=redis%3A%2F%2F%3A{PASSWORD}%40bus%3A6379%2F");
    let mut cfg = SessionConfig::for_url("sqlite::memory:");
    cfg.cache = Some(text.clone());
    let shown = format!("{cfg:?}");
    assert!(!shown.contains(PASSWORD), "{shown}");
    assert!(shown.contains("local://?ttl=5s&bus_url="), "{shown}");
    if cfg!(feature = "redis") {
        let url = CacheUrl::parse(&text).unwrap();
        for shown in [url.to_string(), format!("{url:?}")] {
            assert!(!shown.contains(PASSWORD), "{shown}");
            assert!(shown.contains("***"), "{shown}");
        }
    }
    // An error about the bus URL does not show its password either.
    let bad = format!("local://?bus_url=redis%3A%2F%2F%3A{PASSWORD}%40bus%2F%3Fbogus%3D1");
    let msg = config_error(CacheUrl::parse(&bad));
    assert!(!msg.contains(PASSWORD), "{msg}");
    // A shared cache's URL: as store URLs are.
    let mut cfg = SessionConfig::for_url("memory://");
    cfg.cache = Some(format!("redis://:{PASSWORD}@cache/"));
    let shown = format!("{cfg:?}");
    assert!(!shown.contains(PASSWORD), "{shown}");
}

#[test]
fn the_environment_names_the_cache_as_it_names_the_store() {
    let toml = SessionConfig::from_toml(
        "url = \"memory://\"\ncache = \"local://?capacity=100\"\n[store]\nmax_record_size = \"1KiB\"\n",
    )
    .unwrap();
    assert_eq!(toml.cache.as_deref(), Some("local://?capacity=100"));
    assert!(toml.cache_url().unwrap().unwrap().is_local());

    // SESSION_CACHE_URL overrides the file, as SESSION_URL does.
    let env = toml
        .clone()
        .with_env_overrides(|k| (k == session_any::CACHE_URL_ENV).then(|| "memory://".into()))
        .unwrap();
    assert_eq!(env.cache.as_deref(), Some("memory://"));
    assert_eq!(session_any::CACHE_URL_ENV, "SESSION_CACHE_URL");
    // Empty turns the file's cache off.
    let off = toml
        .clone()
        .with_env_overrides(|k| (k == "SESSION_CACHE_URL").then(String::new))
        .unwrap();
    assert_eq!(off.cache, None);
    // Unset leaves it.
    let kept = toml.clone().with_env_overrides(|_| None).unwrap();
    assert_eq!(kept.cache, toml.cache);

    // A cache is not a [store] parameter: the message says where it goes.
    let misplaced =
        SessionConfig::from_toml("url = \"memory://\"\n[store]\ncache = \"local://\"\n").unwrap();
    let msg = config_error(misplaced.store_url());
    assert!(msg.contains("top-level `cache` key"), "{msg}");
}

#[tokio::test]
async fn the_environment_path_opens_a_tiered_store() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(dir.path());
    let cfg = SessionConfig::default()
        .with_env_overrides(|k| match k {
            "SESSION_URL" => Some(url.clone()),
            "SESSION_CACHE_URL" => Some("local://?capacity=10&ttl=1m".into()),
            _ => None,
        })
        .unwrap();
    let store = cfg.store().await.unwrap();
    assert_eq!(store.backend(), "tiered");
    assert_eq!(store.scheme(), "sqlite");
    let r = record();
    let cookie = store.create(&r).await.unwrap();
    assert_eq!(store.load(&cookie).await.unwrap(), Some(r));
    assert!(format!("{store:?}").contains("local://?capacity=10&ttl=1m"));

    // And the layer is built over it.
    let mut cfg = cfg;
    cfg.secrets = vec!["a-cookie-signing-secret-of-32-bytes-or-more".into()];
    cfg.cookie.secure = false;
    // The first store still holds the SQLite file; a second opens it too.
    cfg.layer().await.unwrap();
}

#[tokio::test]
async fn local_over_sqlite_round_trips_through_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let store = AnyStore::open_with_cache(&sqlite_url(dir.path()), "local://")
        .await
        .unwrap();
    assert_eq!(store.backend(), "tiered");
    assert_eq!(store.scheme(), "sqlite");
    assert!(store.is_connected());
    let tiered = store.tiered().expect("a tiered store");
    assert_eq!(tiered.cache_kind(), "local");
    assert_eq!(tiered.durable().backend(), "sqlite");
    assert!(store.capabilities().compare_and_set, "the durable store's");

    let r = record();
    let cookie = store.create(&r).await.unwrap();
    assert_eq!(store.load(&cookie).await.unwrap(), Some(r.clone()));
    assert_eq!(store.load(&cookie).await.unwrap(), Some(r.clone()));
    assert!(tiered.stats().hits >= 1, "{:?}", tiered.stats());
    let saved = r.clone().with_version(2);
    store.save(&saved, 1).await.unwrap();
    assert_eq!(store.load(&cookie).await.unwrap(), Some(saved));
    store.delete(&r.id).await.unwrap();
    assert_eq!(store.load(&cookie).await.unwrap(), None);
    assert_eq!(tiered.durable().load(&cookie).await.unwrap(), None);
}

#[tokio::test]
async fn a_shared_memory_cache_over_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = AnyStore::open_with_cache(&sqlite_url(dir.path()), "memory://")
        .await
        .unwrap();
    assert_eq!(store.backend(), "tiered");
    assert_eq!(store.tiered().unwrap().cache_kind(), "memory");
    let r = record();
    let cookie = store.create(&r).await.unwrap();
    assert_eq!(store.load(&cookie).await.unwrap(), Some(r.clone()));
    store.delete(&r.id).await.unwrap();
    assert_eq!(store.load(&cookie).await.unwrap(), None);
}

/// What needs no I/O is checked before anything is opened: a bad cache leaves no new
/// sessions directory behind.
#[tokio::test]
async fn cache_mistakes_are_found_before_the_store_opens() {
    let dir = tempfile::tempdir().unwrap();
    let sessions = dir.path().join("sessions");
    let mut cfg = SessionConfig::for_url(format!("file://{}", sessions.display()));
    cfg.secrets = vec!["a-cookie-signing-secret-of-32-bytes-or-more".into()];
    for bad in ["local://?bogus=1", "local://?bus=store", "cookie://"] {
        cfg.cache = Some(bad.into());
        config_error(cfg.layer().await);
        config_error(cfg.store().await);
        config_error(AnyStore::open_with_cache(&cfg.url, bad).await);
    }
    assert!(!sessions.exists(), "the store was opened before the check");
    cfg.cache = Some("local://".into());
    cfg.layer().await.unwrap();
    assert!(sessions.exists());
}

/// A network store under a cache still opens lazily: the app starts while the server
/// is down, and operations fail with a temporary error until it answers.
#[cfg(feature = "postgres")]
#[tokio::test]
async fn a_cache_keeps_the_store_lazy() {
    for cache in ["local://", "memory://"] {
        let started = std::time::Instant::now();
        let store = AnyStore::open_with_cache("postgres://u@127.0.0.1:1/db?timeout=300ms", cache)
            .await
            .unwrap();
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{cache}: opened at once"
        );
        assert!(!store.is_connected(), "{cache}");
        assert!(
            store.capabilities().compare_and_set,
            "known before connecting"
        );
        let err = store
            .load(&SessionId::generate().to_string())
            .await
            .unwrap_err();
        assert!(err.is_temporary(), "{cache}: {err}");
        assert!(store.connect().await.is_err(), "{cache}");
    }
    // `connect=eager` on the store's URL connects the store and its bus when opening.
    let err = AnyStore::open_with_cache(
        "postgres://u@127.0.0.1:1/db?timeout=300ms&connect=eager",
        "local://",
    )
    .await
    .unwrap_err();
    assert!(err.is_temporary(), "{err}");
}

/// `redis://` shared by every instance, in front of PostgreSQL.
#[cfg(all(feature = "redis", feature = "postgres"))]
#[tokio::test]
async fn shared_redis_over_postgres_round_trips() {
    use session_test_servers::Service;
    let durable = format!(
        "{}?session_table=session_any_tiered_test",
        Service::Postgres.url()
    );
    let cache = format!(
        "{}?prefix=session-any-tiered-test:{}:",
        Service::Redis.url(),
        std::process::id()
    );
    let store = AnyStore::open_with_cache(&durable, &cache).await.unwrap();
    assert!(!store.is_connected(), "lazy until the first operation");
    store
        .connect()
        .await
        .expect("scripts/services runs PostgreSQL and Redis");
    assert!(store.is_connected());
    assert_eq!(store.backend(), "tiered");
    assert_eq!(store.scheme(), "postgres");
    let tiered = store.tiered().unwrap();
    assert_eq!(tiered.cache_kind(), "redis");

    let r = record();
    let cookie = store.create(&r).await.unwrap();
    assert_eq!(store.load(&cookie).await.unwrap(), Some(r.clone()));
    assert_eq!(store.load(&cookie).await.unwrap(), Some(r.clone()));
    assert!(tiered.stats().hits >= 1, "{:?}", tiered.stats());

    // A second instance shares the cache: it is told nothing, and serves no deleted session.
    let other = AnyStore::open_with_cache(&durable, &cache).await.unwrap();
    assert_eq!(other.load(&cookie).await.unwrap(), Some(r.clone()));
    store.delete(&r.id).await.unwrap();
    assert_eq!(other.load(&cookie).await.unwrap(), None);
    assert_eq!(store.load(&cookie).await.unwrap(), None);
}

/// Two instances with `local://` caches over `durable`: once B serves the session from
/// memory, a delete on A reaches B's memory within B's heartbeat (500 ms).
#[cfg(any(feature = "postgres", feature = "redis"))]
async fn a_logout_reaches_the_other_instance(durable: &str, cache: &str) {
    let a = AnyStore::open_with_cache(durable, cache).await.unwrap();
    let b = AnyStore::open_with_cache(durable, cache).await.unwrap();
    a.connect()
        .await
        .expect("scripts/services runs the servers");
    b.connect().await.unwrap();

    let r = record();
    let cookie = a.create(&r).await.unwrap();
    // B serves from memory once its bus link is up: wait for a hit.
    let hits = || b.tiered().unwrap().stats().hits;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while hits() == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "b never served from memory"
        );
        assert_eq!(b.load(&cookie).await.unwrap(), Some(r.clone()));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    a.delete(&r.id).await.unwrap();
    // Gone on B within the stated bound: the message's delivery, at most a heartbeat.
    let deadline = std::time::Instant::now() + Duration::from_millis(500);
    loop {
        match b.load(&cookie).await.unwrap() {
            None => break,
            Some(_) => assert!(
                std::time::Instant::now() < deadline,
                "b still served the deleted session after its heartbeat"
            ),
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(a.load(&cookie).await.unwrap(), None);
    assert!(b.tiered().unwrap().stats().invalidations_received >= 1);
}

/// `local://` over PostgreSQL: the default bus is the store's own server (NOTIFY).
#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_over_postgres_hears_logouts_on_its_notify_bus() {
    let durable = format!(
        "{}?session_table=session_any_tiered_test",
        session_test_servers::Service::Postgres.url()
    );
    let cache = format!(
        "local://?heartbeat=500ms&channel=session_any_test_{}",
        std::process::id()
    );
    a_logout_reaches_the_other_instance(&durable, &cache).await;
}

/// `local://` over SQLite, two instances on one file, told by Redis pub/sub (`bus_url`).
#[cfg(feature = "redis")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_over_sqlite_hears_logouts_on_a_redis_bus() {
    let dir = tempfile::tempdir().unwrap();
    let bus: String =
        url::form_urlencoded::byte_serialize(session_test_servers::Service::Redis.url().as_bytes())
            .collect();
    let cache = format!(
        "local://?heartbeat=500ms&bus_url={bus}&channel=session-any-test:{}",
        std::process::id()
    );
    a_logout_reaches_the_other_instance(&sqlite_url(dir.path()), &cache).await;
}

/// `local://` over Redis: the default bus is the store's own server (pub/sub), reached
/// without the store's own parameters (`prefix`, `timeout`).
#[cfg(feature = "redis")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_over_redis_hears_logouts_on_its_own_server() {
    let durable = format!(
        "{}?prefix=session-any-tiered-test:{}:&timeout=2s",
        session_test_servers::Service::Redis.url(),
        std::process::id()
    );
    a_logout_reaches_the_other_instance(&durable, "local://?heartbeat=500ms").await;
}
