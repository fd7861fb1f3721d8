//! `RedisStore` on a real three-primary Redis Cluster on loopback, started once for this
//! binary by the helpers (or the cluster named by `SESSION_TEST_REDIS_CLUSTER_URLS`):
//! the whole conformance suite (with its compare-and-set stress case), and scans that
//! span every primary.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use session_conformance::suite;
use session_core::{Clock, Record, SessionId, SessionStore};

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
        let r = common::fresh_record(now, Duration::from_secs(600));
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

/// Binds racing revokes of the same user, many rounds: every session bound before a
/// revoke started is gone after it, and once the dust settles a session loads exactly
/// when it is listed (filing before the write, unfiling after the delete, and a
/// revoke that leaves a member alone when its session is not there yet).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn binds_racing_revokes_keep_the_index_exact() {
    use futures::future::join_all;
    use session_core::{UserBinding, UserSessionsPage};

    let target = Target::cluster();
    let store = target.store(test_options(Clock::system())).await;
    let _guard = PrefixGuard::new(target.clone(), store.prefix());
    let ada = UserBinding::new("ada").unwrap();
    let user = ada.user_key();
    let bound = || {
        let now = Clock::system().now();
        common::fresh_record(now, Duration::from_secs(600)).with_user(Some(ada.clone()))
    };
    let mut during = Vec::new();
    for _ in 0..8 {
        let before: Vec<Record> = (0..20).map(|_| bound()).collect();
        for r in &before {
            store.create(r).await.unwrap();
        }
        let racing: Vec<Record> = (0..20).map(|_| bound()).collect();
        let (revoked, created) = futures::join!(
            store.revoke_user(&user, None),
            join_all(racing.iter().map(|r| store.create(r)))
        );
        assert!(revoked.unwrap() >= 20);
        for c in created {
            c.unwrap();
        }
        for r in &before {
            assert_eq!(store.load(&r.id.to_string()).await.unwrap(), None);
        }
        during.extend(racing);
    }
    let mut listed = BTreeSet::new();
    let mut cursor = None;
    loop {
        let page: UserSessionsPage = store.sessions_of(&user, cursor, 50).await.unwrap();
        listed.extend(page.sessions.iter().map(|s| s.key));
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let mut live = BTreeSet::new();
    for r in &during {
        if store.load(&r.id.to_string()).await.unwrap().is_some() {
            live.insert(r.id.storage_key());
        }
    }
    assert_eq!(live, listed, "a session loads exactly when it is listed");
    // And a final revoke ends every one of them.
    assert_eq!(
        store.revoke_user(&user, None).await.unwrap(),
        live.len() as u64
    );
    store.delete_expired().await.unwrap();
    for r in &during {
        assert_eq!(store.load(&r.id.to_string()).await.unwrap(), None);
    }
}
