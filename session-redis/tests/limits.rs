//! Bounded input on the standalone server (issue 16, items 1 and 2): the default record
//! size limit refuses a record one byte over it before anything is sent, `None` lifts
//! it, and a value nested 5,000 deep written straight into Redis (as another app
//! sharing the server could) loads as `Corrupt` instead of aborting the process.

// Test code, helpers included: a panic is a failed assertion.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use session_conformance::record_of_size;
use session_core::{Clock, Error, SessionStore, DEFAULT_MAX_RECORD_SIZE, FORMAT_MSGPACK_V1};
use session_redis::RedisStore;

use common::{test_options, PrefixGuard, Target};

async fn store(
    configure: fn(session_redis::RedisOptions) -> session_redis::RedisOptions,
) -> (RedisStore, PrefixGuard) {
    let store = Target::shared()
        .store(configure(test_options(Clock::system())))
        .await;
    let guard = PrefixGuard::new(Target::shared(), store.prefix());
    (store, guard)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_limit_refuses_a_record_just_over_it_and_sends_nothing() {
    let (store, _guard) = store(|o| o).await;
    assert_eq!(
        store.capabilities().max_record_size,
        Some(DEFAULT_MAX_RECORD_SIZE)
    );
    let at = record_of_size(DEFAULT_MAX_RECORD_SIZE);
    store.create(&at).await.unwrap();
    let before = store.raw_entries().await.unwrap();

    let over = record_of_size(DEFAULT_MAX_RECORD_SIZE + 1);
    let mut grown = over.clone();
    grown.id = at.id;
    for result in [
        store.create(&over).await,
        store.save(&grown, at.version).await,
    ] {
        match result {
            Err(Error::TooLarge { limit, size }) => {
                assert_eq!((limit, size), (DEFAULT_MAX_RECORD_SIZE, limit + 1))
            }
            other => panic!("expected TooLarge, got {other:?}"),
        }
    }
    assert_eq!(store.raw_entries().await.unwrap(), before);
    assert_eq!(store.load(&over.id.to_string()).await.unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn none_lifts_the_limit() {
    let (store, _guard) = store(|o| {
        let settings = o.settings().clone().with_max_record_size(None);
        o.with_settings(settings)
    })
    .await;
    assert_eq!(store.capabilities().max_record_size, None);
    let over = record_of_size(DEFAULT_MAX_RECORD_SIZE + 1);
    store.create(&over).await.unwrap();
    assert_eq!(store.load(&over.id.to_string()).await.unwrap(), Some(over));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_value_nested_5000_deep_is_corrupt_not_a_crash() {
    let (store, _guard) = store(|o| o).await;
    let live = record_of_size(100);
    store.create(&live).await.unwrap();

    // The v1 header of the live record, then a hand-built envelope: version 1, times
    // 0, 0 and `i64::MAX`, data {"k": [[[ … null … ]]]} 5,000 arrays deep.
    let header = format!("1{:020}{:+020}{:+020}", 1, 0, i64::MAX);
    let mut value = header.into_bytes();
    value.extend_from_slice(&[FORMAT_MSGPACK_V1, 0x95, 1, 0, 0, 0xcf]);
    value.extend_from_slice(&(i64::MAX as u64).to_be_bytes());
    value.extend_from_slice(&[0x81, 0xa1, b'k']);
    value.extend(std::iter::repeat_n(0x91, 5_000));
    value.push(0xc0);
    let mut conn = redis::Client::open(common::shared_url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let () = redis::cmd("SET")
        .arg(store.key_of(&live.id))
        .arg(&value)
        .query_async(&mut conn)
        .await
        .unwrap();

    match store.load(&live.id.to_string()).await {
        Err(Error::Corrupt(m)) => assert!(m.contains("nested deeper"), "{m}"),
        other => panic!("expected Corrupt, got {other:?}"),
    }
    // Still alive, still serving.
    let other = record_of_size(100);
    store.create(&other).await.unwrap();
    assert_eq!(
        store.load(&other.id.to_string()).await.unwrap(),
        Some(other)
    );
}
