//! `RedisStore` on a real three-primary Redis Cluster on loopback, started once for this
//! binary by the helpers (or the cluster named by `SESSION_TEST_REDIS_CLUSTER_URLS`):
//! the whole conformance suite (with its compare-and-set stress case), and scans that
//! span every primary.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use session_conformance::suite;
use session_core::{Clock, Data, Record, SessionId, SessionStore};

use common::{fixture, test_options, PrefixGuard, Target};

suite!(
    cluster,
    fixture = |clock| async move { fixture(Target::cluster(), test_options(clock)).await }
);

/// Sessions spread over every primary, and `count`, the raw view and `delete_all`
/// find all of them: `SCAN` runs on each primary, not on one random node.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scans_cover_every_primary() {
    const SESSIONS: usize = 120;
    let target = Target::cluster();
    let store = target
        .store(test_options(Clock::system()).with_scan_count(10))
        .await;
    assert!(store.is_cluster());
    let _guard = PrefixGuard::new(target.clone(), store.prefix());
    let now = Clock::system().now();
    let mut keys = Vec::new();
    for _ in 0..SESSIONS {
        let r = Record::new(
            SessionId::generate(),
            Data::new(),
            now,
            now.saturating_add(Duration::from_secs(600)),
        );
        store.create(&r).await.unwrap();
        keys.push(store.key_of(&r.id));
    }

    // Ask each node directly which of the keys it holds.
    let Target::Cluster(nodes) = target else {
        unreachable!()
    };
    let mut primaries = 0;
    let mut holders = BTreeSet::new();
    let mut held = 0;
    for node in &nodes {
        let mut conn = redis::Client::open(node.as_str())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap();
        let role: Vec<redis::Value> = redis::cmd("ROLE").query_async(&mut conn).await.unwrap();
        if !matches!(role.first(), Some(redis::Value::BulkString(r)) if r == b"master") {
            continue;
        }
        primaries += 1;
        let mut here = 0;
        for key in &keys {
            // READONLY-free existence check: a key on another node answers MOVED.
            let exists: redis::RedisResult<i64> =
                redis::cmd("EXISTS").arg(key).query_async(&mut conn).await;
            if exists == Ok(1) {
                here += 1;
            }
        }
        if here > 0 {
            holders.insert(node.clone());
        }
        held += here;
    }
    assert_eq!(held, SESSIONS, "every key lives on exactly one primary");
    assert!(primaries >= 2, "a cluster of one primary proves nothing");
    assert_eq!(
        holders.len(),
        primaries,
        "120 random keys land on every primary: {holders:?}"
    );

    // A key of another type under the prefix is skipped, not fatal.
    let mut cluster = redis::cluster::ClusterClient::new(nodes.clone())
        .unwrap()
        .get_async_connection()
        .await
        .unwrap();
    let foreign = store.key_of(&SessionId::generate());
    let _: () = redis::cmd("HSET")
        .arg(&foreign)
        .arg("f")
        .arg("v")
        .query_async(&mut cluster)
        .await
        .unwrap();

    assert_eq!(store.count().await.unwrap(), SESSIONS as u64);
    assert_eq!(store.raw_entries().await.unwrap().len(), SESSIONS);
    assert_eq!(store.delete_all().await.unwrap(), SESSIONS as u64 + 1);
    assert_eq!(store.count().await.unwrap(), 0);
}
