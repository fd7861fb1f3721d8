//! Outages: a private memcached is killed, stalled and restarted. During the outage every
//! operation fails with `Error::Backend` within the configured timeout (measured); once
//! the server is back the same store works again, and the sessions the server lost are
//! gone, as a cache loses them.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

mod common;

use std::time::{Duration, Instant};

use common::Memcached;
use serde_json::json;
use session_core::{Clock, Error, Record, SessionId, SessionStore};
use session_memcache::{MemcacheOptions, MemcacheStore};

const TIMEOUT: Duration = Duration::from_millis(300);
/// Scheduling slack on a loaded 2-core machine, on top of the timeout.
const SLACK: Duration = Duration::from_millis(400);
const CONNECTIONS: usize = 4;

async fn store(server: &Memcached) -> MemcacheStore {
    let options = MemcacheOptions::new([server.addr()])
        .and_then(|o| o.with_prefix(common::random_prefix()))
        .unwrap()
        .with_timeout(TIMEOUT)
        .with_max_connections(CONNECTIONS);
    MemcacheStore::new(options).await.unwrap()
}

fn record(i: u64) -> Record {
    let now = Clock::system().now();
    let mut data = session_core::Data::new();
    data.insert("i".into(), json!(i));
    Record::new(
        SessionId::generate(),
        data,
        now,
        now.saturating_add(Duration::from_secs(600)),
    )
}

/// Runs every kind of operation once and checks each fails as a backend error in time.
async fn every_op_fails_in_time(store: &MemcacheStore, known: &Record, phase: &str) -> Duration {
    let fresh = record(99);
    let mut next = known.clone();
    next.version += 1;
    let mut slowest = Duration::ZERO;
    for op in ["load", "create", "save", "touch", "delete", "ping"] {
        let started = Instant::now();
        let result: Result<(), Error> = match op {
            "load" => store.load(&known.id.to_string()).await.map(drop),
            "create" => store.create(&fresh).await.map(drop),
            "save" => store.save(&next, known.version).await.map(drop),
            "touch" => store.touch(known).await.map(drop),
            "delete" => store.delete(&fresh.id).await,
            _ => store.ping().await,
        };
        let took = started.elapsed();
        slowest = slowest.max(took);
        match &result {
            Err(Error::Backend(source)) => {
                assert_eq!(source.store(), Some("memcache"), "{phase} {op}: {source}");
                assert!(
                    source.is_temporary(),
                    "{phase} {op}: a down or stalled server is an outage: {source}"
                );
            }
            other => panic!("{phase}: {op} must fail with Backend, got {other:?}"),
        }
        assert!(
            took <= TIMEOUT + SLACK,
            "{phase}: {op} took {took:?}, over the {TIMEOUT:?} timeout"
        );
    }
    slowest
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_server_fails_fast_and_the_store_recovers_after_restart() {
    let server = Memcached::start();
    let store = store(&server).await;
    let before: Vec<Record> = (0..5).map(record).collect();
    for r in &before {
        store.create(r).await.unwrap();
        assert_eq!(
            store.load(&r.id.to_string()).await.unwrap().as_ref(),
            Some(r)
        );
    }

    server.kill();
    let slowest = every_op_fails_in_time(&store, &before[0], "killed").await;
    eprintln!("killed server: slowest failing operation took {slowest:?}");

    server.restart();
    // The pooled connections died with the old process; the store redials by itself.
    for r in &before {
        assert_eq!(
            store.load(&r.id.to_string()).await.unwrap(),
            None,
            "a restarted memcached comes back empty: the session is gone"
        );
        let mut next = r.clone();
        next.version += 1;
        assert!(
            matches!(store.save(&next, r.version).await, Err(Error::NotFound)),
            "a lost session is not resurrected by a save"
        );
    }
    let after = record(7);
    store.create(&after).await.unwrap();
    assert_eq!(
        store.load(&after.id.to_string()).await.unwrap(),
        Some(after)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_server_times_out_every_caller_and_answers_correctly_after() {
    let server = Memcached::start();
    let store = store(&server).await;
    let records: Vec<Record> = (0..8).map(record).collect();
    for r in &records {
        store.create(r).await.unwrap();
    }

    // SIGSTOP: connections stay open but nothing answers, the case a timeout is for.
    server.stall();
    let slowest = every_op_fails_in_time(&store, &records[0], "stalled").await;
    assert!(
        slowest >= TIMEOUT.mul_f64(0.9),
        "a stalled server can only be detected by the timeout, yet the slowest call took {slowest:?}"
    );

    // Many more callers than connections: the later ones queue for a connection, and
    // all of them must still fail within the timeout.
    let started = Instant::now();
    let callers: Vec<_> = (0..CONNECTIONS * 4)
        .map(|i| {
            let store = store.clone();
            let cookie = records[i % records.len()].id.to_string();
            tokio::spawn(async move {
                let t = Instant::now();
                (store.load(&cookie).await, t.elapsed())
            })
        })
        .collect();
    for caller in callers {
        let (result, took) = caller.await.unwrap();
        assert!(matches!(result, Err(Error::Backend(_))), "{result:?}");
        assert!(took <= TIMEOUT + SLACK, "a queued caller took {took:?}");
    }
    eprintln!(
        "stalled server: {} concurrent callers all failed within {:?}",
        CONNECTIONS * 4,
        started.elapsed()
    );

    server.resume();
    // Late answers to the timed-out requests must not be read as answers to new ones:
    // every session loads as itself, and writes report what really happened.
    for r in &records {
        assert_eq!(
            store.load(&r.id.to_string()).await.unwrap().as_ref(),
            Some(r)
        );
    }
    let stale = records[1].clone();
    let mut next = stale.clone();
    next.version += 1;
    store.save(&next, stale.version).await.unwrap();
    assert!(matches!(
        store.save(&next, stale.version).await,
        Err(Error::Conflict)
    ));
    assert!(matches!(
        store.create(&records[2]).await,
        Err(Error::Collision)
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_fails_when_no_server_answers() {
    let server = Memcached::start();
    let addr = server.addr();
    server.kill();
    let options = MemcacheOptions::new([addr]).unwrap().with_timeout(TIMEOUT);
    let started = Instant::now();
    let result = MemcacheStore::connect(options.clone()).await;
    assert!(matches!(result, Err(Error::Backend(_))), "{result:?}");
    assert!(started.elapsed() <= TIMEOUT + SLACK);
    // `new` does not connect: the failure shows at the first operation instead.
    let lazy = MemcacheStore::new(options).await.unwrap();
    assert!(matches!(
        lazy.load(&SessionId::generate().to_string()).await,
        Err(Error::Backend(_))
    ));
}
