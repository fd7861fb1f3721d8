//! `touch` after a `load` (or a `save` or `touch`) in the same store is one
//! compare-and-swap against the CAS token last seen, without reading the item first;
//! memcached's own command counters show it. Whatever happened in between (another
//! instance's save or delete, the store's clock passing the deadline, a caller record
//! whose data is not what is stored), the answer is what the read-modify-write path
//! gives.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::Memcached;
use serde_json::json;
use session_core::{Clock, Error, ManualClock, Record, SessionStore};

use common::{ten_minute_record as record, two_instances as setup};

/// memcached's `cmd_get` and `cmd_set` counters (meta `mg` and `ms` count there).
fn commands(server: &Memcached) -> (u64, u64) {
    let mut conn = TcpStream::connect(server.addr()).unwrap();
    conn.write_all(b"stats\r\n").unwrap();
    let (mut get, mut set) = (None, None);
    for line in BufReader::new(conn).lines() {
        let line = line.unwrap();
        if line == "END" {
            break;
        }
        let mut words = line.split_whitespace().skip(1);
        match (words.next(), words.next()) {
            (Some("cmd_get"), Some(n)) => get = n.parse().ok(),
            (Some("cmd_set"), Some(n)) => set = n.parse().ok(),
            _ => {}
        }
    }
    (get.unwrap(), set.unwrap())
}

fn later(r: &Record, secs: u64) -> Record {
    let mut t = r.clone();
    t.accessed_at = t.accessed_at.saturating_add(Duration::from_secs(secs));
    t.expires_at = t.expires_at.saturating_add(Duration::from_secs(secs));
    t
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_touch_after_a_load_or_save_is_one_command() {
    let s = setup(Clock::system()).await;
    let r = record(Clock::system().now());
    s.a.create(&r).await.unwrap();

    // A create remembers no token, as before: the first touch reads. (So a save or
    // touch sent during an outage right after a create reads first and leaves no
    // write to land late; outage.rs relies on that.)
    let before = commands(&s.server);
    let t1 = later(&r, 10);
    s.a.touch(&t1).await.unwrap();
    assert_eq!(
        commands(&s.server),
        (before.0 + 1, before.1 + 1),
        "touch after create"
    );

    // After a load by another instance, which then touches.
    let seen = s.b.load(&r.id.to_string()).await.unwrap().unwrap();
    assert_eq!(seen, t1);
    let before = commands(&s.server);
    let t2 = later(&seen, 10);
    s.b.touch(&t2).await.unwrap();
    assert_eq!(
        commands(&s.server),
        (before.0, before.1 + 1),
        "touch after load"
    );

    // After a save, and touches in a row.
    let mut saved = t2.clone();
    saved.version += 1;
    saved.data.insert("n".into(), json!(1));
    s.b.save(&saved, t2.version).await.unwrap();
    let before = commands(&s.server);
    let t3 = later(&saved, 10);
    s.b.touch(&t3).await.unwrap();
    let t4 = later(&t3, 10);
    s.b.touch(&t4).await.unwrap();
    assert_eq!(
        commands(&s.server),
        (before.0, before.1 + 2),
        "touches after save"
    );
    assert_eq!(s.a.load(&r.id.to_string()).await.unwrap().unwrap(), t4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_touch_never_writes_the_callers_data() {
    let s = setup(Clock::system()).await;
    let (r, seen) = s.loaded_by_a(Clock::system().now()).await;
    // Same version, other data: only the times may move.
    let mut odd = later(&seen, 30);
    odd.data.insert("user".into(), json!("mallory"));
    s.a.touch(&odd).await.unwrap();
    let back = s.b.load(&r.id.to_string()).await.unwrap().unwrap();
    assert_eq!(back.data, seen.data);
    assert_eq!(back.expires_at, odd.expires_at);
    assert_eq!(back.accessed_at, odd.accessed_at);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_instances_save_in_between_is_kept() {
    let s = setup(Clock::system()).await;
    let (r, seen) = s.loaded_by_a(Clock::system().now()).await;
    let mut by_b = seen.clone();
    by_b.version += 1;
    by_b.data.insert("n".into(), json!(2));
    s.b.save(&by_b, seen.version).await.unwrap();
    // a touches what it loaded: the CAS fails, the read-modify-write keeps b's data.
    let touched = later(&seen, 30);
    s.a.touch(&touched).await.unwrap();
    let back = s.b.load(&r.id.to_string()).await.unwrap().unwrap();
    assert_eq!((back.version, &back.data), (by_b.version, &by_b.data));
    assert_eq!(back.expires_at, touched.expires_at);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_touch_after_a_logout_or_past_the_deadline_resurrects_nothing() {
    let s = setup(Clock::system()).await;
    let (r, seen) = s.loaded_by_a(Clock::system().now()).await;
    s.b.delete(&r.id).await.unwrap();
    assert!(matches!(
        s.a.touch(&later(&seen, 30)).await,
        Err(Error::NotFound)
    ));
    assert_eq!(s.b.load(&r.id.to_string()).await.unwrap(), None);

    let clock = ManualClock::new();
    let s = setup(clock.clock()).await;
    let (_, seen) = s.loaded_by_a(clock.now()).await;
    clock.advance(Duration::from_secs(601));
    assert!(matches!(
        s.a.touch(&later(&seen, 3600)).await,
        Err(Error::NotFound)
    ));
}
