//! `RedisStore` on the shared standalone server (`SESSION_TEST_REDIS_URL`, default
//! `redis://127.0.0.1:6379/`): the whole conformance suite (with its
//! compare-and-set stress case; again in the last-writer-wins mode), the size limit, prefix
//! isolation, and what happens to values the store
//! did not write.

mod common;

use std::time::{Duration, Instant};

use serde_json::json;
use session_conformance::{cases, run_case, suite, Harness};
use session_core::{Clock, Data, Error, Record, SessionId, SessionStore};
use session_redis::{RedisOptions, RedisStore, WriteMode};

use common::{fixture, test_options, PrefixGuard, Target};

suite!(
    standalone,
    fixture = |clock| async move { fixture(Target::shared(), test_options(clock)).await }
);

// The whole suite again in the opt-in last-writer-wins mode: `compare_and_set: false`,
// so the suite checks that the stale save wins, and everything else (no resurrection,
// expiry by the store's clock, the user index) as for the default mode.
suite!(
    standalone_lww,
    fixture = |clock| async move {
        let options = test_options(clock).with_write_mode(WriteMode::LastWriterWins);
        fixture(Target::shared(), options).await
    }
);

/// The one case a size limit changes, with a limit: `TooLarge` on create and save, and
/// nothing written. (The suite above runs with the default limit, 256 KiB.)
#[test]
fn too_large_refused_with_a_limit() {
    let harness = Harness::from_fixtures(|clock| async move {
        let options = test_options(clock);
        let settings = options
            .settings()
            .clone()
            .with_max_record_size(Some(16 * 1024));
        let options = options.with_settings(settings);
        fixture(Target::shared(), options).await
    });
    run_case(harness, |h| {
        Box::pin(async move { cases::too_large_refused(&h).await })
    });
}

async fn store() -> (RedisStore, PrefixGuard) {
    let store = Target::shared().store(test_options(Clock::system())).await;
    let guard = PrefixGuard::new(Target::shared(), store.prefix());
    (store, guard)
}

fn record(data: Data) -> Record {
    let now = Clock::system().now();
    Record::new(
        SessionId::generate(),
        data,
        now,
        now.saturating_add(Duration::from_secs(600)),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stores_with_different_prefixes_do_not_see_each_other() {
    let (a, _ga) = store().await;
    let (b, _gb) = store().await;
    let in_a = record(Data::from([("owner".to_owned(), json!("a"))]));
    let cookie = a.create(&in_a).await.unwrap();

    assert_eq!(
        b.load(&cookie).await.unwrap(),
        None,
        "b cannot load a's session"
    );
    assert!(matches!(
        b.save(&in_a, in_a.version).await,
        Err(Error::NotFound)
    ));
    assert!(matches!(b.touch(&in_a).await, Err(Error::NotFound)));
    b.delete(&in_a.id).await.unwrap();
    assert_eq!(b.count().await.unwrap(), 0);
    assert!(b.raw_entries().await.unwrap().is_empty());

    // The same id may exist in both, independently.
    let mut in_b = in_a.clone();
    in_b.data = Data::from([("owner".to_owned(), json!("b"))]);
    b.create(&in_b).await.unwrap();
    assert_eq!(a.load(&cookie).await.unwrap(), Some(in_a.clone()));
    assert_eq!(b.load(&cookie).await.unwrap(), Some(in_b));
    assert_eq!(a.count().await.unwrap(), 1);
    assert_eq!(b.delete_all().await.unwrap(), 1);
    assert_eq!(a.load(&cookie).await.unwrap(), Some(in_a));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prefix_that_extends_another_is_not_counted_by_it() {
    let (outer, _g) = store().await;
    let inner = Target::shared()
        .store(RedisOptions::new().with_prefix(format!("{}x:", outer.prefix())))
        .await;
    let _gi = PrefixGuard::new(Target::shared(), inner.prefix());
    inner.create(&record(Data::new())).await.unwrap();
    outer.create(&record(Data::new())).await.unwrap();
    assert_eq!(outer.count().await.unwrap(), 1);
    assert_eq!(outer.raw_entries().await.unwrap().len(), 1);
    assert_eq!(inner.count().await.unwrap(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stored_value_is_header_then_envelope_under_a_hashed_key() {
    let (store, _guard) = store().await;
    let r = record(Data::from([("k".to_owned(), json!("v"))]));
    store.create(&r).await.unwrap();
    let entries = store.raw_entries().await.unwrap();
    assert_eq!(entries.len(), 1);
    let (key, value) = &entries[0];
    assert_eq!(
        String::from_utf8_lossy(key),
        format!("{}{}", store.prefix(), r.id.storage_key().to_hex())
    );
    let expected_header = format!(
        "1{:020}{:+020}{:+020}",
        r.version,
        r.accessed_at.as_millis(),
        r.expires_at.as_millis()
    );
    assert_eq!(&value[..61], expected_header.as_bytes());
    let envelope = session_core::Codec::MessagePack.encode(&r).unwrap();
    assert_eq!(&value[61..], &envelope[..]);

    // The native TTL is the record's deadline.
    let mut conn = redis::Client::open(common::shared_url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let expire_time: i64 = redis::cmd("PEXPIRETIME")
        .arg(store.key_of(&r.id))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(expire_time, r.expires_at.as_millis());

    // A touch moves the TTL and the header's times and leaves the envelope alone.
    let later = r.accessed_at.saturating_add(Duration::from_secs(5));
    let touched = r
        .clone()
        .with_accessed_at(later)
        .with_expires_at(later.saturating_add(Duration::from_secs(600)));
    store.touch(&touched).await.unwrap();
    let after: Vec<u8> = redis::cmd("GET")
        .arg(store.key_of(&r.id))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(&after[61..], &envelope[..], "touch never rewrites the data");
    let expire_time: i64 = redis::cmd("PEXPIRETIME")
        .arg(store.key_of(&r.id))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(expire_time, touched.expires_at.as_millis());
    assert_eq!(store.load(&r.id.to_string()).await.unwrap(), Some(touched));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foreign_values_are_corrupt_not_panics_and_are_never_overwritten() {
    let (store, _guard) = store().await;
    let mut conn = redis::Client::open(common::shared_url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let r = record(Data::new());
    let key = store.key_of(&r.id);
    for junk in [&b"not a session"[..], &[b'1'; 70], b"1"] {
        let _: () = redis::cmd("SET")
            .arg(&key)
            .arg(junk)
            .arg("EX")
            .arg(60)
            .query_async(&mut conn)
            .await
            .unwrap();
        let cookie = r.id.to_string();
        assert!(
            matches!(store.load(&cookie).await, Err(Error::Corrupt(_))),
            "load of {junk:?}"
        );
        let next = r.clone().with_version(2);
        assert!(
            matches!(store.save(&next, 1).await, Err(Error::Corrupt(_))),
            "save over {junk:?}"
        );
        assert!(
            matches!(store.create(&r).await, Err(Error::Collision)),
            "create over {junk:?}"
        );
        let still: Vec<u8> = redis::cmd("GET")
            .arg(&key)
            .query_async(&mut conn)
            .await
            .unwrap();
        assert_eq!(still, junk, "nothing overwritten");
        // A key of another type is a backend error, not a panic.
    }
    let _: () = redis::cmd("DEL")
        .arg(&key)
        .query_async(&mut conn)
        .await
        .unwrap();
    let _: () = redis::cmd("HSET")
        .arg(&key)
        .arg("f")
        .arg("v")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(matches!(
        store.load(&r.id.to_string()).await,
        Err(Error::Backend(_))
    ));
    assert!(matches!(store.touch(&r).await, Err(Error::Backend(_))));
    // A walk over the prefix skips it instead of failing.
    let live = record(Data::new());
    store.create(&live).await.unwrap();
    assert_eq!(store.count().await.unwrap(), 1);
    assert_eq!(store.raw_entries().await.unwrap().len(), 1);
    assert_eq!(store.delete_all().await.unwrap(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_leftover_does_not_block_its_id() {
    // A clock ahead of the server's: the server still holds the key, the store's clock
    // says it has expired, so a create under the same id replaces it.
    let manual = session_core::ManualClock::new();
    let store = Target::shared().store(test_options(manual.clock())).await;
    let _guard = PrefixGuard::new(Target::shared(), store.prefix());
    let now = manual.now();
    let old = Record::new(
        SessionId::generate(),
        Data::from([("v".to_owned(), json!("old"))]),
        now,
        now.saturating_add(Duration::from_secs(30)),
    );
    store.create(&old).await.unwrap();
    assert!(matches!(store.create(&old).await, Err(Error::Collision)));
    manual.advance(Duration::from_secs(31));
    assert_eq!(store.count().await.unwrap(), 0);
    let now = manual.now();
    let new = Record::new(
        old.id,
        Data::from([("v".to_owned(), json!("new"))]),
        now,
        now.saturating_add(Duration::from_secs(30)),
    );
    store.create(&new).await.unwrap();
    assert_eq!(store.load(&new.id.to_string()).await.unwrap(), Some(new));
    assert_eq!(store.count().await.unwrap(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scans_in_small_batches_see_every_key() {
    let store = Target::shared()
        .store(test_options(Clock::system()).with_scan_count(7))
        .await;
    let _guard = PrefixGuard::new(Target::shared(), store.prefix());
    for _ in 0..150 {
        store.create(&record(Data::new())).await.unwrap();
    }
    assert_eq!(store.count().await.unwrap(), 150);
    assert_eq!(store.raw_entries().await.unwrap().len(), 150);
    assert_eq!(store.delete_expired().await.unwrap(), 0);
    assert_eq!(store.delete_all().await.unwrap(), 150);
    assert_eq!(store.count().await.unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configuration_errors_are_config() {
    assert!(matches!(
        RedisStore::connect("http://nope", RedisOptions::new()).await,
        Err(Error::Config(_))
    ));
    assert!(matches!(
        RedisStore::connect(
            &common::shared_url(),
            RedisOptions::new().with_timeout(Duration::ZERO)
        )
        .await,
        Err(Error::Config(_))
    ));
    assert!(matches!(
        RedisStore::connect_cluster(Vec::<String>::new(), RedisOptions::new()).await,
        Err(Error::Config(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_server_is_a_backend_error_within_the_timeout() {
    // A port nothing listens on: bind one, learn its number, close it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let timeout = Duration::from_millis(300);
    let started = Instant::now();
    let result = RedisStore::connect(
        &format!("redis://127.0.0.1:{port}/"),
        RedisOptions::new().with_timeout(timeout),
    )
    .await;
    let elapsed = started.elapsed();
    assert!(
        matches!(result, Err(Error::Backend(_))),
        "expected a backend error, got {result:?}"
    );
    assert!(
        elapsed < timeout + Duration::from_millis(500),
        "{elapsed:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn works_over_resp3_too() {
    let base = common::shared_url();
    let sep = if base.contains('?') { '&' } else { '?' };
    let target = Target::Standalone(format!("{base}{sep}protocol=resp3"));
    let store = target.store(test_options(Clock::system())).await;
    let _guard = PrefixGuard::new(Target::shared(), store.prefix());
    let r = record(Data::from([("k".to_owned(), json!(1))]));
    let cookie = store.create(&r).await.unwrap();
    assert!(matches!(store.create(&r).await, Err(Error::Collision)));
    let mut saved = r.clone().with_version(2);
    saved.data = Data::from([("k".to_owned(), json!(2))]);
    store.save(&saved, 1).await.unwrap();
    assert!(matches!(store.save(&saved, 1).await, Err(Error::Conflict)));
    store.touch(&saved).await.unwrap();
    assert_eq!(store.load(&cookie).await.unwrap(), Some(saved));
    assert_eq!(store.count().await.unwrap(), 1);
    assert_eq!(store.raw_entries().await.unwrap().len(), 1);
    store.delete(&r.id).await.unwrap();
    assert_eq!(store.load(&cookie).await.unwrap(), None);
}

/// Last-writer-wins: no compare-and-set, and still no resurrection. A session the
/// store's clock calls expired while the server still holds it is `NotFound`, and the
/// key the `SET XX` rewrote is gone afterwards; a rebinding save moves the index entry.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn last_writer_wins_never_resurrects_and_keeps_the_index() {
    let manual = session_core::ManualClock::new();
    let options = test_options(manual.clock()).with_write_mode(WriteMode::LastWriterWins);
    let store = Target::shared().store(options).await;
    let _guard = PrefixGuard::new(Target::shared(), store.prefix());
    assert!(!store.capabilities().compare_and_set);

    let now = manual.clock().now();
    let r = common::fresh_record(now, Duration::from_secs(60));
    store.create(&r).await.unwrap();
    // A stale expected version wins.
    let first = r.clone().with_version(2);
    store.save(&first, 1).await.unwrap();
    let stale = r.clone().with_version(2);
    store.save(&stale, 1).await.unwrap();
    assert_eq!(store.load(&r.id.to_string()).await.unwrap(), Some(stale));

    // Bound by a save, then unbound by one: the index follows.
    let ada = session_core::UserBinding::new("ada").unwrap();
    let bound = r.clone().with_version(3).with_user(Some(ada.clone()));
    store.save(&bound, 2).await.unwrap();
    let listed = store.sessions_of(&ada.user_key(), None, 10).await.unwrap();
    assert_eq!(listed.sessions.len(), 1);
    let unbound = r.clone().with_version(4);
    store.save(&unbound, 3).await.unwrap();
    let listed = store.sessions_of(&ada.user_key(), None, 10).await.unwrap();
    assert!(listed.sessions.is_empty());
    assert_eq!(
        store.raw_entries().await.unwrap().len(),
        1,
        "the index went"
    );

    // Past its deadline by the store's clock; the server still holds the key.
    manual.advance(Duration::from_secs(61));
    let late = r
        .clone()
        .with_version(5)
        .with_expires_at(manual.clock().now().saturating_add(Duration::from_secs(60)));
    assert!(matches!(store.save(&late, 4).await, Err(Error::NotFound)));
    assert!(
        store.raw_entries().await.unwrap().is_empty(),
        "nothing brought back"
    );
    assert_eq!(store.load(&r.id.to_string()).await.unwrap(), None);
    // A deleted session stays deleted.
    assert!(matches!(store.save(&late, 5).await, Err(Error::NotFound)));
    assert!(store.raw_entries().await.unwrap().is_empty());
}
