//! What the server is told about deadlines (the item's exptime, read back with the meta
//! protocol's `t` flag) on both sides of memcached's 30-day rule, and what the stored
//! bytes are.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

mod common;

use std::time::Duration;

use common::{Memcached, RawServers};
use serde_json::json;
use session_core::{Clock, Codec, Error, ManualClock, Record, SessionId, SessionStore, Timestamp};
use session_memcache::MemcacheStore;

const DAY: Duration = Duration::from_secs(24 * 60 * 60);

struct Setup {
    _server: Memcached,
    store: MemcacheStore,
    raw: RawServers,
}

async fn setup(clock: Clock) -> Setup {
    let server = Memcached::start();
    let store = common::store_on(&[server.addr()], clock).await;
    let raw = RawServers::new(&[server.addr()]).await;
    Setup {
        _server: server,
        store,
        raw,
    }
}

fn record(now: Timestamp, ttl: Duration) -> Record {
    let mut data = session_core::Data::new();
    data.insert("user".into(), json!("ada"));
    Record::new(SessionId::generate(), data, now, now.saturating_add(ttl))
}

/// The server's remaining TTL for `r`, in seconds.
async fn server_ttl(s: &Setup, r: &Record) -> i64 {
    s.raw
        .ttl(&s.store.key_for(&r.id))
        .await
        .unwrap_or_else(|| panic!("the server does not hold the record"))
}

fn assert_near(actual: i64, expected: Duration, what: &str) {
    let expected = i64::try_from(expected.as_secs()).unwrap();
    // memcached converts an absolute exptime with its own coarse clock (whole seconds,
    // ticked by a timer, started a little before the process), so the TTL it reports
    // for one can read up to 2-3 s long: seen 2 s over on a loaded machine.
    assert!(
        (expected - 3..=expected + 3).contains(&actual),
        "{what}: server TTL {actual} s, expected about {expected} s"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deadlines_on_both_sides_of_thirty_days_reach_the_server_right() {
    let s = setup(Clock::system()).await;
    let now = Clock::system().now();
    for (ttl, what) in [
        (Duration::from_secs(90), "90 s (relative)"),
        (30 * DAY, "exactly 30 days (the largest relative exptime)"),
        (
            30 * DAY + Duration::from_secs(1),
            "30 days + 1 s (absolute)",
        ),
        (40 * DAY, "40 days (absolute)"),
        (365 * DAY, "a year (absolute)"),
    ] {
        let r = record(now, ttl);
        s.store.create(&r).await.unwrap();
        // Sent as a relative 3,456,000 s, 40 days would be read as a date in 1970 and
        // the item would already be gone.
        assert_eq!(
            s.store.load(&r.id.to_string()).await.unwrap().as_ref(),
            Some(&r),
            "{what}"
        );
        assert_near(server_ttl(&s, &r).await, ttl, what);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn touch_moves_the_server_deadline_and_the_stored_times_only() {
    let s = setup(Clock::system()).await;
    let now = Clock::system().now();
    let r = record(now, Duration::from_secs(60));
    s.store.create(&r).await.unwrap();
    assert_near(server_ttl(&s, &r).await, Duration::from_secs(60), "created");

    for ttl in [Duration::from_secs(900), 45 * DAY] {
        let later = Clock::system().now();
        let mut touched = r
            .clone()
            .with_accessed_at(later)
            .with_expires_at(later.saturating_add(ttl));
        // A touch carries data that must not be written.
        touched.data = Default::default();
        s.store.touch(&touched).await.unwrap();
        assert_near(server_ttl(&s, &r).await, ttl, "touched");
        let loaded = s.store.load(&r.id.to_string()).await.unwrap().unwrap();
        assert_eq!(loaded.accessed_at, touched.accessed_at);
        assert_eq!(loaded.expires_at, touched.expires_at);
        assert_eq!((loaded.data, loaded.version), (r.data.clone(), r.version));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_already_past_its_deadline_is_not_kept_by_the_server() {
    let s = setup(Clock::system()).await;
    let now = Clock::system().now();
    let mut r = record(
        now.saturating_sub(Duration::from_secs(60)),
        Duration::from_secs(30),
    );
    r.data.insert("late".into(), json!(true));
    s.store.create(&r).await.unwrap();
    assert_eq!(s.store.load(&r.id.to_string()).await.unwrap(), None);
    assert_eq!(
        s.raw.get(&s.store.key_for(&r.id)).await,
        None,
        "the server kept an expired record"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_clock_decides_even_while_the_server_still_holds_the_item() {
    let clock = ManualClock::new();
    let s = setup(clock.clock()).await;
    let r = record(clock.now(), Duration::from_secs(60));
    s.store.create(&r).await.unwrap();
    clock.advance(Duration::from_secs(61));
    // memcached's clock has not moved a minute; the store's has.
    assert!(s.raw.get(&s.store.key_for(&r.id)).await.is_some());
    assert_eq!(s.store.load(&r.id.to_string()).await.unwrap(), None);
    let mut next = r.clone();
    next.version += 1;
    assert!(matches!(
        s.store.save(&next, r.version).await,
        Err(Error::NotFound)
    ));
    assert!(matches!(s.store.touch(&r).await, Err(Error::NotFound)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_holds_the_envelope_under_prefix_and_hashed_id() {
    let s = setup(Clock::system()).await;
    let r = record(Clock::system().now(), Duration::from_secs(600));
    s.store.create(&r).await.unwrap();
    let key = format!("{}{}", s.store.prefix(), r.id.storage_key().to_hex());
    assert_eq!(s.store.key_for(&r.id), key);
    let held = s.raw.get(&key).await.unwrap();
    assert_eq!(held, Codec::MessagePack.encode(&r).unwrap());
    assert_eq!(Codec::decode(r.id, &held).unwrap(), r);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undecodable_stored_bytes_are_corrupt_not_a_session_and_not_overwritten() {
    let s = setup(Clock::system()).await;
    let r = record(Clock::system().now(), Duration::from_secs(600));
    let key = s.store.key_for(&r.id);
    s.raw.set_everywhere(&key, b"\x09not an envelope").await;
    assert!(matches!(
        s.store.load(&r.id.to_string()).await,
        Err(Error::Corrupt(_))
    ));
    let mut next = r.clone();
    next.version += 1;
    assert!(matches!(
        s.store.save(&next, r.version).await,
        Err(Error::Corrupt(_))
    ));
    assert!(matches!(s.store.touch(&r).await, Err(Error::Corrupt(_))));
    assert_eq!(
        s.raw.get(&key).await.as_deref(),
        Some(&b"\x09not an envelope"[..])
    );
    // Deleting clears it, as for any record.
    s.store.delete(&r.id).await.unwrap();
    assert_eq!(s.raw.get(&key).await, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_opened_by_url_keeps_the_urls_prefix_and_reaches_its_server() {
    let server = Memcached::start();
    let prefix = common::random_prefix();
    let url = format!("memcache://{}?prefix={prefix}", server.addr());
    let store = MemcacheStore::open_url(&url).await.unwrap();
    assert_eq!(store.prefix().as_str(), prefix);
    assert_eq!(store.servers(), [server.addr().to_string()]);
    let r = record(Clock::system().now(), Duration::from_secs(600));
    store.create(&r).await.unwrap();
    let raw = RawServers::new(&[server.addr().to_string()]).await;
    let key = format!("{prefix}{}", r.id.storage_key().to_hex());
    assert!(
        raw.get(&key).await.is_some(),
        "the record is under the URL's prefix"
    );
    assert_eq!(store.load(&r.id.to_string()).await.unwrap(), Some(r));
    assert!(matches!(
        MemcacheStore::open_url(&format!("memcache://{}?prefx=x", server.addr())).await,
        Err(Error::Config(_))
    ));
}
