//! Record size limits: the default 256 KiB, `None` lifting it to what fits an item, and
//! the servers' item size (`-I`) capping both. A record over the limit is `TooLarge`
//! before anything reaches the server; one exactly at the limit is stored by a real
//! memcached.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::Memcached;
use serde_json::json;
use session_core::{Clock, Codec, Error, Record, SessionId, SessionStore, DEFAULT_MAX_RECORD_SIZE};
use session_memcache::{MemcacheOptions, MemcacheStore};

/// A record whose MessagePack envelope is exactly `size` bytes.
fn record_of_size(size: usize) -> Record {
    let now = Clock::system().now();
    let mut r = Record::new(
        SessionId::generate(),
        Default::default(),
        now,
        now.saturating_add(Duration::from_secs(600)),
    );
    let mut blob = size;
    for _ in 0..8 {
        r.data.insert("blob".into(), json!("x".repeat(blob)));
        let len = Codec::MessagePack.encode(&r).unwrap().len();
        if len == size {
            return r;
        }
        blob = (blob + size).checked_sub(len).unwrap();
    }
    panic!("could not build a record of exactly {size} bytes");
}

/// Counters that move whenever a command reaches the server.
fn commands(server: &Memcached) -> HashMap<&'static str, u64> {
    let stats = server.stats();
    [
        "cmd_get",
        "cmd_set",
        "cmd_touch",
        "delete_hits",
        "delete_misses",
        "cas_misses",
        "cas_hits",
        "cas_badval",
    ]
    .into_iter()
    .map(|k| (k, stats.get(k).copied().unwrap_or(0)))
    .collect()
}

async fn store(
    server: &Memcached,
    configure: impl FnOnce(MemcacheOptions) -> Result<MemcacheOptions, Error>,
) -> MemcacheStore {
    let options = MemcacheOptions::new([server.addr()])
        .and_then(|o| o.with_prefix(common::random_prefix()))
        .and_then(configure)
        .unwrap();
    MemcacheStore::new(options).await.unwrap()
}

/// A record at `store`'s limit is stored by the real server; one byte more is
/// `TooLarge` on create and save, and no command reaches the server.
async fn limit_holds(server: &Memcached, store: &MemcacheStore) {
    let limit = store.max_record_size();
    assert_eq!(store.capabilities().max_record_size, Some(limit));

    let fits = record_of_size(limit);
    store.create(&fits).await.unwrap();
    assert_eq!(
        store.load(&fits.id.to_string()).await.unwrap().as_ref(),
        Some(&fits)
    );

    let before = commands(server);
    let over = record_of_size(limit + 1);
    match store.create(&over).await {
        Err(Error::TooLarge { limit: l, size }) => {
            assert_eq!((l, size), (limit, limit + 1));
        }
        other => panic!("expected TooLarge, got {other:?}"),
    }
    let mut grown = over.clone();
    grown.id = fits.id;
    grown.version = fits.version + 1;
    assert!(matches!(
        store.save(&grown, fits.version).await,
        Err(Error::TooLarge { .. })
    ));
    assert_eq!(before, commands(server), "a refused record sent a command");
    assert_eq!(store.load(&over.id.to_string()).await.unwrap(), None);
    assert_eq!(store.load(&fits.id.to_string()).await.unwrap(), Some(fits));
}

/// The default is the workspace's server-store default, 256 KiB, well inside
/// memcached's default 1 MiB items.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_limit_is_256_kib_and_refused_records_send_nothing() {
    let server = Memcached::start();
    let store = store(&server, Ok).await;
    assert_eq!(store.max_record_size(), DEFAULT_MAX_RECORD_SIZE);
    limit_holds(&server, &store).await;
}

/// `options` with the store's own record limit lifted (its clock kept).
fn lifted(options: MemcacheOptions) -> MemcacheOptions {
    let settings = options.settings().clone().with_max_record_size(None);
    options.with_settings(settings)
}

/// With the limit lifted, what fits an item is the limit: exactly at it the server
/// (default -I 1m) takes the record, so the allowance for memcached's item header is
/// enough.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lifted_limit_is_what_fits_an_item() {
    let server = Memcached::start();
    let store = store(&server, |o| Ok(lifted(o))).await;
    assert!(store.max_record_size() > 1000 * 1024);
    limit_holds(&server, &store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_limit_follows_the_servers_item_size() {
    let server = Memcached::start_with(&["-I", "2m"]);
    let big = record_of_size(1536 * 1024);

    // Configured like the server, limit lifted: a 1.5 MiB session round-trips.
    let matched = store(&server, |o| {
        Ok(lifted(o.with_item_size_limit(2 * 1024 * 1024)?))
    })
    .await;
    assert!(matched.max_record_size() > 2 * 1024 * 1024 - 512);
    matched.create(&big).await.unwrap();
    assert_eq!(
        matched.load(&big.id.to_string()).await.unwrap().as_ref(),
        Some(&big)
    );

    // With the defaults it is refused up front, whatever the server would take.
    let default = store(&server, Ok).await;
    assert!(matches!(
        default.create(&big).await,
        Err(Error::TooLarge { .. })
    ));
}

/// Servers with items smaller than 256 KiB: the default shrinks to what fits them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_items_lower_the_default() {
    // memcached refuses an -I below its slab chunk size (512 KiB) unless that shrinks too.
    let server = Memcached::start_with(&["-I", "128k", "-o", "slab_chunk_max=65536"]);
    let store = store(&server, |o| o.with_item_size_limit(128 * 1024)).await;
    assert!(store.max_record_size() < 128 * 1024);
    assert!(store.max_record_size() > 127 * 1024);
    limit_holds(&server, &store).await;
}
