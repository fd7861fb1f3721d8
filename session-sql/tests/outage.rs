//! A private PostgreSQL instance (initdb + pg_ctl in a temp dir, on a free loopback
//! port) is stopped under a live store and started again: during the outage every
//! operation fails with `Error::Backend` within the configured timeout, and afterwards
//! the same store works again without being rebuilt.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

use std::time::{Duration, Instant, SystemTime};

use serde_json::json;
use session_core::{Error, Record, SessionId, SessionStore, Timestamp};
use session_sql::{ConnectOptions, SqlStore};
use session_test_servers::Postgres;

/// Asserts `result` is a `Backend` error that came within `limit`.
fn assert_backend_within<T: std::fmt::Debug>(
    what: &str,
    result: Result<T, Error>,
    started: Instant,
    limit: Duration,
) {
    let took = started.elapsed();
    match result {
        Err(Error::Backend(e)) => {
            assert_eq!(e.store(), Some("sql"), "{what}: {e}");
            assert!(e.operation().is_some(), "{what}: names the operation: {e}");
            assert!(
                e.is_temporary(),
                "{what}: a stopped server is an outage: {e}"
            );
        }
        other => panic!("{what} during the outage: expected Backend, got {other:?}"),
    }
    assert!(took < limit, "{what} took {took:?}, over {limit:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_fails_fast_during_an_outage_and_recovers() {
    let server = Postgres::start();
    let acquire = Duration::from_secs(1);
    let options = ConnectOptions::new()
        .max_connections(4)
        .acquire_timeout(acquire);
    let store = SqlStore::connect_with(&server.url(), options)
        .await
        .unwrap()
        .with_operation_timeout(Duration::from_secs(3));
    store.migrate().await.unwrap();

    let now = Timestamp::from_system(SystemTime::now());
    let r = Record::new(
        SessionId::generate(),
        [("user".to_owned(), json!("ada"))].into_iter().collect(),
        now,
        now.saturating_add(Duration::from_secs(600)),
    );
    let cookie = store.create(&r).await.unwrap();
    assert_eq!(store.load(&cookie).await.unwrap().as_ref(), Some(&r));

    server.stop();
    // Generous slack over the acquire timeout for a loaded 2-core machine; a hang
    // would blow well past it.
    let limit = acquire + Duration::from_secs(3);
    let t = Instant::now();
    assert_backend_within("load", store.load(&cookie).await, t, limit);
    let t = Instant::now();
    let other = Record::new(
        SessionId::generate(),
        Default::default(),
        r.created_at,
        r.expires_at,
    );
    assert_backend_within("create", store.create(&other).await, t, limit);
    let mut next = r.clone();
    next.version += 1;
    let t = Instant::now();
    assert_backend_within("save", store.save(&next, r.version).await, t, limit);
    let t = Instant::now();
    assert_backend_within("touch", store.touch(&r).await, t, limit);
    let t = Instant::now();
    assert_backend_within("count", store.count().await, t, limit);

    server.start_again();
    // The same store, not rebuilt: the pool replaces its dead connections.
    assert_eq!(store.load(&cookie).await.unwrap().as_ref(), Some(&r));
    store.save(&next, r.version).await.unwrap();
    assert_eq!(store.load(&cookie).await.unwrap(), Some(next));
    assert_eq!(store.count().await.unwrap(), 1);
}
