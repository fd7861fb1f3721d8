//! `save` after a `load` in the same store compares-and-swaps against the CAS token the
//! load saw, in one round trip. These pin that the shortcut decides exactly as the
//! read-check-CAS path does: whatever happened in between (another instance's save,
//! touch or delete, the store's clock passing the deadline, bytes that no longer
//! decode), the answer is the same.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

mod common;

use std::time::Duration;

use serde_json::json;
use session_core::{Clock, Error, ManualClock, Record, SessionStore};

use common::{RawServers, TwoInstances};

/// Two instances, and a raw view of what the server holds.
struct Setup {
    two: TwoInstances,
    raw: RawServers,
}

impl std::ops::Deref for Setup {
    type Target = TwoInstances;
    fn deref(&self) -> &TwoInstances {
        &self.two
    }
}

async fn setup(clock: Clock) -> Setup {
    let two = common::two_instances(clock).await;
    let raw = RawServers::new(&[two.server.addr()]).await;
    Setup { two, raw }
}

fn next(r: &Record, n: i64) -> Record {
    let mut next = r.clone();
    next.version += 1;
    next.data.insert("n".into(), json!(n));
    next
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consecutive_saves_of_one_instance_succeed_and_a_stale_one_conflicts() {
    let s = setup(Clock::system()).await;
    let (r, loaded) = s.loaded_by_a(Clock::system().now()).await;
    let v2 = next(&loaded, 2);
    s.a.save(&v2, loaded.version).await.unwrap();
    let v3 = next(&v2, 3);
    s.a.save(&v3, v2.version).await.unwrap();
    assert!(matches!(
        s.a.save(&next(&v2, 9), v2.version).await,
        Err(Error::Conflict)
    ));
    assert_eq!(s.b.load(&r.id.to_string()).await.unwrap().unwrap(), v3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_instances_save_in_between_is_a_conflict() {
    let s = setup(Clock::system()).await;
    let (r, seen_by_a) = s.loaded_by_a(Clock::system().now()).await;
    let seen_by_b = s.b.load(&r.id.to_string()).await.unwrap().unwrap();
    let by_b = next(&seen_by_b, 1);
    s.b.save(&by_b, seen_by_b.version).await.unwrap();
    assert!(matches!(
        s.a.save(&next(&seen_by_a, 2), seen_by_a.version).await,
        Err(Error::Conflict)
    ));
    assert_eq!(s.a.load(&r.id.to_string()).await.unwrap().unwrap(), by_b);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_instances_touch_in_between_does_not_block_the_save() {
    let s = setup(Clock::system()).await;
    let (r, seen) = s.loaded_by_a(Clock::system().now()).await;
    let mut touched = seen.clone();
    touched.expires_at = touched.expires_at.saturating_add(Duration::from_secs(60));
    s.b.touch(&touched).await.unwrap();
    let saved = next(&seen, 1);
    s.a.save(&saved, seen.version).await.unwrap();
    assert_eq!(s.b.load(&r.id.to_string()).await.unwrap().unwrap(), saved);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_logout_in_between_is_not_undone() {
    let s = setup(Clock::system()).await;
    let (r, seen) = s.loaded_by_a(Clock::system().now()).await;
    s.b.delete(&r.id).await.unwrap();
    assert!(matches!(
        s.a.save(&next(&seen, 1), seen.version).await,
        Err(Error::NotFound)
    ));
    assert_eq!(s.b.load(&r.id.to_string()).await.unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deadline_passed_by_the_store_clock_since_the_load_is_not_found() {
    let clock = ManualClock::new();
    let s = setup(clock.clock()).await;
    let (r, seen) = s.loaded_by_a(clock.now()).await;
    clock.advance(Duration::from_secs(601));
    // memcached still holds the item; the store's clock says it has expired.
    assert!(s.raw.get(&s.a.key_for(&r.id)).await.is_some());
    assert!(matches!(
        s.a.save(&next(&seen, 1), seen.version).await,
        Err(Error::NotFound)
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bytes_replaced_in_between_are_judged_by_the_read() {
    let s = setup(Clock::system()).await;
    let (r, seen) = s.loaded_by_a(Clock::system().now()).await;
    let key = s.a.key_for(&r.id);
    s.raw.set_everywhere(&key, b"\x09not an envelope").await;
    assert!(matches!(
        s.a.save(&next(&seen, 1), seen.version).await,
        Err(Error::Corrupt(_))
    ));
    assert_eq!(
        s.raw.get(&key).await.as_deref(),
        Some(&b"\x09not an envelope"[..])
    );
}
