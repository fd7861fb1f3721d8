//! Two servers: sessions spread over both, every one loads back, from a store configured
//! with the servers in either order.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

mod common;

use std::time::Duration;

use common::{Memcached, RawServers};
use serde_json::json;
use session_core::{Clock, Record, SessionId, SessionStore, Timestamp};
use session_memcache::{MemcacheOptions, MemcacheStore};

const SESSIONS: usize = 200;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_spread_over_both_servers_and_all_load_back() {
    let a = Memcached::start();
    let b = Memcached::start();
    let addrs = vec![a.addr(), b.addr()];
    let prefix = common::random_prefix();
    let options = MemcacheOptions::new(&addrs)
        .and_then(|o| o.with_prefix(prefix.clone()))
        .unwrap();
    let store = MemcacheStore::new(options).await.unwrap();

    let now = Clock::system().now();
    let mut records = Vec::new();
    for i in 0..SESSIONS {
        let mut data = session_core::Data::new();
        data.insert("i".into(), json!(i));
        let r = Record::new(
            SessionId::generate(),
            data,
            now,
            now.saturating_add(Duration::from_secs(600)),
        );
        assert_eq!(store.create(&r).await.unwrap(), r.id.to_string());
        records.push(r);
    }

    // Where each key really is, asking each server directly.
    let raw = RawServers::new(&addrs).await;
    let mut per_server = [0usize; 2];
    for r in &records {
        let held = raw.get_everywhere(&store.key_for(&r.id)).await;
        let holders: Vec<usize> = (0..2).filter(|&s| held[s].is_some()).collect();
        assert_eq!(holders.len(), 1, "a session is on exactly one server");
        per_server[holders[0]] += 1;
    }
    // Binomial(200, 1/2): below 60 on one side is a one-in-ten-million event.
    assert!(
        per_server.iter().all(|&n| n >= 60),
        "sessions not spread over both servers: {per_server:?}"
    );
    // The servers' own item counts agree (each server is private to this test).
    assert_eq!(a.stats()["curr_items"], per_server[0] as u64);
    assert_eq!(b.stats()["curr_items"], per_server[1] as u64);

    for r in &records {
        assert_eq!(
            store.load(&r.id.to_string()).await.unwrap().as_ref(),
            Some(r)
        );
    }

    // Another app process listing the servers in the other order finds every session:
    // routing depends on the addresses, not their order.
    let reversed = MemcacheOptions::new([b.addr(), a.addr()])
        .and_then(|o| o.with_prefix(prefix))
        .unwrap();
    let other = MemcacheStore::new(reversed).await.unwrap();
    for r in &records {
        assert_eq!(
            other.load(&r.id.to_string()).await.unwrap().as_ref(),
            Some(r)
        );
    }

    // Writes through one store land where the other reads them.
    let first = &records[0];
    let mut next = first.clone();
    next.version += 1;
    next.data.insert("saved_by".into(), json!("other"));
    next.accessed_at = Timestamp::from_millis(now.as_millis() + 1);
    other.save(&next, first.version).await.unwrap();
    assert_eq!(store.load(&first.id.to_string()).await.unwrap(), Some(next));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_server_down_fails_only_its_own_sessions() {
    let a = Memcached::start();
    let b = Memcached::start();
    let addrs = vec![a.addr(), b.addr()];
    let options = MemcacheOptions::new(&addrs)
        .and_then(|o| o.with_prefix(common::random_prefix()))
        .unwrap()
        .with_timeout(Duration::from_millis(500));
    let store = MemcacheStore::new(options).await.unwrap();
    let now = Clock::system().now();
    let mut records = Vec::new();
    for _ in 0..40 {
        let r = Record::new(
            SessionId::generate(),
            Default::default(),
            now,
            now.saturating_add(Duration::from_secs(600)),
        );
        store.create(&r).await.unwrap();
        records.push(r);
    }
    let raw = RawServers::new(&addrs).await;
    let mut on_b = Vec::new();
    for r in &records {
        on_b.push(raw.get_everywhere(&store.key_for(&r.id)).await[1].is_some());
    }
    assert!(on_b.iter().any(|&x| x) && on_b.iter().any(|&x| !x));

    b.kill();
    for (r, on_b) in records.iter().zip(on_b) {
        let result = store.load(&r.id.to_string()).await;
        if on_b {
            assert!(
                matches!(result, Err(session_core::Error::Backend(_))),
                "a session on the dead server must fail, not vanish: {result:?}"
            );
        } else {
            assert_eq!(
                result.unwrap().as_ref(),
                Some(r),
                "a live server keeps serving"
            );
        }
    }
}
