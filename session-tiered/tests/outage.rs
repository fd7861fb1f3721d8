//! The cache's server killed (SIGKILL) under load, then restarted: every request keeps
//! succeeding from the durable store, no load sees an older version than the last save,
//! a session deleted during the outage is never served again, and the cache is used
//! again once it is back.
//!
//! - a shared Redis cache (a private, persistent server: it comes back with its data,
//!   so deletes it missed must still win) over SQLite;
//! - two instances with in-process caches, invalidated through Redis pub/sub on a
//!   private server that is killed: both fall back to the durable store once the
//!   heartbeat is missed, and hear each other again after the restart.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use session_core::{Clock, Data, Record, SessionId, SessionStore, StoreSettings};
use session_redis::{RedisOptions, RedisStore};
use session_test_servers::RedisServer;
use session_tiered::{LocalCache, RedisBus, TieredStore};

/// Sessions each load task owns (it is their only writer, so it knows their version).
const PER_TASK: usize = 8;
const TASKS: usize = 6;
const PHASE: Duration = Duration::from_millis(1500);

fn record(n: u64) -> Record {
    let now = Clock::system().now();
    Record::new(
        SessionId::generate(),
        Data::from([("n".to_owned(), json!(n))]),
        now,
        now.saturating_add(Duration::from_secs(600)),
    )
}

/// What the load tasks did.
#[derive(Default)]
struct Tally {
    ops: AtomicU64,
    errors: AtomicU64,
    stale: AtomicU64,
    slowest_us: AtomicU64,
}

impl Tally {
    fn note(&self, started: Instant) {
        self.ops.fetch_add(1, Ordering::Relaxed);
        let us = started.elapsed().as_micros() as u64;
        self.slowest_us.fetch_max(us, Ordering::Relaxed);
    }
}

/// Starts `TASKS` tasks, each creating its sessions through `writer`, then loading
/// them through `reader` and saving every third one through `writer`, checking each
/// load against what it last saved, until `stop`.
fn load_tasks(
    writer: TieredStore,
    reader: TieredStore,
    stop: Arc<AtomicBool>,
    tally: Arc<Tally>,
) -> Vec<tokio::task::JoinHandle<()>> {
    (0..TASKS)
        .map(|_| {
            let (writer, reader, stop, tally) =
                (writer.clone(), reader.clone(), stop.clone(), tally.clone());
            tokio::spawn(async move {
                let mut owned = Vec::new();
                for _ in 0..PER_TASK {
                    let r = record(0);
                    let cookie = writer.create(&r).await.unwrap();
                    owned.push((cookie, r));
                }
                let mut i = 0usize;
                while !stop.load(Ordering::Relaxed) {
                    let (cookie, last) = &mut owned[i % PER_TASK];
                    let started = Instant::now();
                    if i.is_multiple_of(3) {
                        let mut next = last.clone();
                        let n = last.data["n"].as_u64().unwrap_or(0) + 1;
                        next.data.insert("n".to_owned(), json!(n));
                        next.version = last.version + 1;
                        match writer.save(&next, last.version).await {
                            Ok(_) => *last = next,
                            Err(e) => {
                                eprintln!("save failed: {e}");
                                tally.errors.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                    } else {
                        match reader.load(cookie).await {
                            Ok(Some(found)) if found.version == last.version => {}
                            Ok(found) => {
                                eprintln!(
                                    "stale load: version {:?}, last saved {}",
                                    found.map(|f| f.version),
                                    last.version
                                );
                                tally.stale.fetch_add(1, Ordering::Relaxed);
                            }
                            Err(e) => {
                                eprintln!("load failed: {e}");
                                tally.errors.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                    }
                    tally.note(started);
                    i += 1;
                    tokio::task::yield_now().await;
                }
            })
        })
        .collect()
}

/// Creates `n` sessions and loads each once (so they are cached), for deleting later.
async fn cached_sessions(store: &TieredStore, n: usize) -> Vec<String> {
    let mut cookies = Vec::new();
    for _ in 0..n {
        let cookie = store.create(&record(0)).await.unwrap();
        assert!(store.load(&cookie).await.unwrap().is_some());
        cookies.push(cookie);
    }
    cookies
}

fn report(label: &str, tally: &Tally) {
    eprintln!(
        "{label}: {} ops, {} errors, {} stale, slowest {:.1} ms",
        tally.ops.load(Ordering::Relaxed),
        tally.errors.load(Ordering::Relaxed),
        tally.stale.load(Ordering::Relaxed),
        tally.slowest_us.load(Ordering::Relaxed) as f64 / 1000.0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shared_cache_killed_under_load() {
    let mut redis = RedisServer::start_persistent();
    let cache = RedisStore::connect(
        &redis.url(),
        RedisOptions::new()
            .with_prefix("tiered-outage:")
            .with_timeout(Duration::from_millis(200))
            .with_settings(StoreSettings::new()),
    )
    .await
    .unwrap();
    let (durable, _) = common::sqlite(Clock::system()).await;
    let store = TieredStore::shared(cache, durable).unwrap();
    let doomed = cached_sessions(&store, 20).await;

    let stop = Arc::new(AtomicBool::new(false));
    let tally = Arc::new(Tally::default());
    let tasks = load_tasks(store.clone(), store.clone(), stop.clone(), tally.clone());

    tokio::time::sleep(PHASE).await;
    let before = store.stats();
    assert!(
        before.hits > 0,
        "the cache serves before the outage: {before:?}"
    );

    redis.kill();
    // Deleted while the cache is down: the cache keeps their entries (it comes back
    // from its append-only file), so only the deferred deletes stand between them and
    // a resurrection.
    for cookie in &doomed {
        store
            .delete(&SessionId::parse(cookie).unwrap())
            .await
            .unwrap();
    }
    tokio::time::sleep(PHASE).await;
    let during = store.stats();
    assert!(
        during.bypasses > before.bypasses,
        "reads go to the durable store while the cache is down: {during:?}"
    );
    assert!(
        during.invalidations_deferred >= doomed.len() as u64,
        "{during:?}"
    );

    redis.restart();
    // Right after the restart, before the retry had its turn: never served.
    for cookie in &doomed {
        assert!(
            store.load(cookie).await.unwrap().is_none(),
            "a deleted session came back"
        );
    }
    let restarted = Instant::now();
    let hits = store.stats().hits;
    while store.stats().hits == hits {
        assert!(
            restarted.elapsed() < Duration::from_secs(15),
            "the cache stays off"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    eprintln!(
        "the cache serves again {:?} after the restart",
        restarted.elapsed()
    );
    tokio::time::sleep(PHASE).await;
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        task.await.unwrap();
    }
    let after = store.stats();
    report("shared redis cache killed", &tally);
    eprintln!("stats before {before:?}\n during {during:?}\n after {after:?}");
    for cookie in &doomed {
        assert!(
            store.load(cookie).await.unwrap().is_none(),
            "a deleted session came back"
        );
    }
    assert_eq!(tally.errors.load(Ordering::Relaxed), 0, "no request failed");
    assert_eq!(
        tally.stale.load(Ordering::Relaxed),
        0,
        "no load older than the last save"
    );
    assert!(
        after.hits > during.hits,
        "the cache serves again after the restart: {after:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalidation_bus_killed_under_load() {
    const HEARTBEAT: Duration = Duration::from_millis(400);
    let mut redis = RedisServer::start();
    let (durable, _) = common::sqlite(Clock::system()).await;
    let instance = |durable| {
        let url = redis.url();
        async move {
            let bus = RedisBus::connect(&url).await.unwrap();
            let cache = LocalCache::new().with_bus(bus).with_heartbeat(HEARTBEAT);
            TieredStore::local(durable, cache).unwrap()
        }
    };
    let a = instance(durable.clone()).await;
    let b = instance(durable).await;
    // Heard each other once: both caches are live.
    tokio::time::sleep(HEARTBEAT).await;
    let doomed = cached_sessions(&a, 20).await;
    for cookie in &doomed {
        assert!(b.load(cookie).await.unwrap().is_some());
    }

    let stop = Arc::new(AtomicBool::new(false));
    // Writes on A, reads on B: B's cache is only right if it hears A, or bypasses.
    let before_tally = Arc::new(Tally::default());
    let tasks = load_tasks(a.clone(), b.clone(), stop.clone(), before_tally.clone());
    tokio::time::sleep(PHASE).await;
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        task.await.unwrap();
    }
    let before = b.stats();
    assert!(
        before.hits > 0 && before.invalidations_received > 0,
        "{before:?}"
    );

    redis.kill();
    // Past the heartbeat, B no longer trusts its cache.
    tokio::time::sleep(HEARTBEAT * 2).await;
    for cookie in &doomed {
        a.delete(&SessionId::parse(cookie).unwrap()).await.unwrap();
    }
    let outage_tally = Arc::new(Tally::default());
    stop.store(false, Ordering::Relaxed);
    let tasks = load_tasks(a.clone(), b.clone(), stop.clone(), outage_tally.clone());
    tokio::time::sleep(PHASE).await;
    for cookie in &doomed {
        assert!(
            b.load(cookie).await.unwrap().is_none(),
            "B served a deleted session"
        );
    }
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        task.await.unwrap();
    }
    let during = b.stats();
    assert!(during.bypasses > before.bypasses, "{during:?}");
    assert!(
        during.clears > before.clears,
        "B dropped what it could not keep fresh"
    );

    redis.restart();
    // The bus reconnects and the heartbeats resume: B trusts its cache again.
    let restarted = Instant::now();
    let probe = a.create(&record(0)).await.unwrap();
    loop {
        let hits = b.stats().hits;
        b.load(&probe).await.unwrap();
        b.load(&probe).await.unwrap();
        if b.stats().hits > hits {
            break;
        }
        assert!(
            restarted.elapsed() < Duration::from_secs(15),
            "B's cache stays off: {:?}",
            b.stats()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    eprintln!(
        "B serves from memory again {:?} after the restart",
        restarted.elapsed()
    );
    let after_tally = Arc::new(Tally::default());
    stop.store(false, Ordering::Relaxed);
    let tasks = load_tasks(a.clone(), b.clone(), stop.clone(), after_tally.clone());
    tokio::time::sleep(PHASE).await;
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        task.await.unwrap();
    }
    let after = b.stats();
    for (label, tally) in [
        ("bus up", &before_tally),
        ("bus killed", &outage_tally),
        ("bus restarted", &after_tally),
    ] {
        report(label, tally);
        assert_eq!(
            tally.errors.load(Ordering::Relaxed),
            0,
            "{label}: no request failed"
        );
    }
    // With the bus up, B may serve A's previous version until it hears A (the bound
    // `races.rs` measures); with the bus down it reads the durable store, always fresh.
    assert_eq!(
        outage_tally.stale.load(Ordering::Relaxed),
        0,
        "no stale load while bypassing"
    );
    eprintln!("B's stats before {before:?}\n during {during:?}\n after {after:?}");
    for cookie in &doomed {
        assert!(
            b.load(cookie).await.unwrap().is_none(),
            "B served a deleted session"
        );
    }
    assert!(
        after.hits > during.hits,
        "B's cache serves again: {after:?}"
    );
}
