//! Compare-and-set under contention: 16 tasks × 200 read-modify-write increments of one
//! session, through two store instances (two app processes), end at exactly 3,200.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::Memcached;
use serde_json::json;
use session_core::{Clock, Error, Record, SessionId, SessionStore};
use session_memcache::{MemcacheOptions, MemcacheStore};

const TASKS: u64 = 16;
const ROUNDS: u64 = 200;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixteen_tasks_times_two_hundred_increments_is_exactly_3200() {
    let server = Memcached::start();
    let prefix = common::random_prefix();
    let make = || async {
        let options = MemcacheOptions::new([server.addr()])
            .and_then(|o| o.with_prefix(prefix.clone()))
            .unwrap()
            .with_timeout(Duration::from_secs(5));
        Arc::new(MemcacheStore::new(options).await.unwrap())
    };
    let stores = [make().await, make().await];

    let now = Clock::system().now();
    let mut data = session_core::Data::new();
    data.insert("n".into(), json!(0u64));
    let first = Record::new(
        SessionId::generate(),
        data,
        now,
        now.saturating_add(Duration::from_secs(600)),
    );
    let cookie = stores[0].create(&first).await.unwrap();

    let conflicts = Arc::new(AtomicU64::new(0));
    let tasks: Vec<_> = (0..TASKS)
        .map(|t| {
            let store = stores[(t % 2) as usize].clone();
            let cookie = cookie.clone();
            let conflicts = conflicts.clone();
            tokio::spawn(async move {
                for _ in 0..ROUNDS {
                    loop {
                        let current = store.load(&cookie).await?.ok_or(Error::NotFound)?;
                        let n = current.data["n"]
                            .as_u64()
                            .ok_or(Error::Corrupt("n".into()))?;
                        let mut next = current.clone();
                        next.data.insert("n".into(), json!(n + 1));
                        next.version += 1;
                        match store.save(&next, current.version).await {
                            Ok(_) => break,
                            Err(Error::Conflict) => {
                                conflicts.fetch_add(1, Ordering::Relaxed);
                            }
                            Err(e) => return Err(e),
                        }
                    }
                }
                Ok::<(), Error>(())
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }

    let last = stores[1].load(&cookie).await.unwrap().unwrap();
    assert_eq!(last.data["n"], json!(TASKS * ROUNDS));
    assert_eq!(
        last.version,
        1 + TASKS * ROUNDS,
        "one version per increment"
    );
    // Sixteen writers on one key must have collided; otherwise this proved nothing.
    assert!(
        conflicts.load(Ordering::Relaxed) > 0,
        "no conflict ever happened"
    );
    eprintln!(
        "3,200 increments, {} conflicts retried",
        conflicts.load(Ordering::Relaxed)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn touches_racing_saves_never_lose_a_save_nor_fake_a_conflict() {
    let server = Memcached::start();
    let options = MemcacheOptions::new([server.addr()])
        .and_then(|o| o.with_prefix(common::random_prefix()))
        .unwrap()
        .with_timeout(Duration::from_secs(5));
    let store = Arc::new(MemcacheStore::new(options).await.unwrap());
    let now = Clock::system().now();
    let first = Record::new(
        SessionId::generate(),
        Default::default(),
        now,
        now.saturating_add(Duration::from_secs(600)),
    );
    store.create(&first).await.unwrap();

    // One writer saves 300 versions in a row; two tasks touch the session all along. A
    // touch changes the item's CAS but not the version, so the writer, whose expected
    // version is always right, must never see Conflict, and no touch may undo a save.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let touchers: Vec<_> = (0..2)
        .map(|_| {
            let store = store.clone();
            let stop = stop.clone();
            let base = first.clone();
            tokio::spawn(async move {
                let mut touches = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let t = Clock::system().now();
                    let r = base
                        .clone()
                        .with_accessed_at(t)
                        .with_expires_at(t.saturating_add(Duration::from_secs(900)));
                    store.touch(&r).await?;
                    touches += 1;
                }
                Ok::<u64, Error>(touches)
            })
        })
        .collect();
    let mut current = first.clone();
    for i in 0..300u64 {
        let mut next = current.clone();
        next.version += 1;
        next.data.insert("i".into(), json!(i));
        store.save(&next, current.version).await.unwrap();
        current = next;
    }
    stop.store(true, Ordering::Relaxed);
    let mut touches = 0;
    for t in touchers {
        touches += t.await.unwrap().unwrap();
    }
    assert!(touches > 0);
    let loaded = store.load(&first.id.to_string()).await.unwrap().unwrap();
    assert_eq!(loaded.version, 301);
    assert_eq!(loaded.data, current.data);
}
