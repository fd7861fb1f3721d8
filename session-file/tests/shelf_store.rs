//! `ShelfStore` behaviour the shared suite cannot see: exclusive opening, file mode,
//! persistence across reopening, batched expiry sweeps, and corrupt content.

// Test code, helpers included: a panic is a failed assertion (as clippy.toml allows
// inside #[test] functions).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use serde_json::json;
use session_core::{Data, Error, ManualClock, Record, SessionId, SessionStore, StoreSettings};
use session_file::ShelfStore;

const HOUR: Duration = Duration::from_secs(3600);

fn record(clock: &ManualClock, ttl: Duration, value: u64) -> Record {
    let now = clock.now();
    let mut data = Data::new();
    data.insert("v".into(), json!(value));
    Record::new(SessionId::generate(), data, now, now.saturating_add(ttl))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn second_open_in_one_process_is_a_config_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sessions.redb");
    let first = ShelfStore::open(&path).await.unwrap();
    match ShelfStore::open(&path).await {
        Err(Error::Config(message)) => {
            assert!(message.contains(path.to_str().unwrap()), "{message}");
            assert!(message.contains("in use"), "{message}");
        }
        other => panic!("expected Error::Config, got {other:?}"),
    }
    // The refused opener did not disturb the owner.
    let clock = ManualClock::new();
    first.create(&record(&clock, HOUR, 1)).await.unwrap();
    drop(first);
    ShelfStore::open(&path).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_is_0600_and_a_missing_parent_0700() {
    let dir = tempfile::tempdir().unwrap();
    let parent = dir.path().join("state");
    let path = parent.join("sessions.redb");
    let _store = ShelfStore::open(&path).await.unwrap();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(&parent), 0o700);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sessions.redb");
    let clock = ManualClock::new();
    let r = record(&clock, HOUR, 42);
    {
        let store = ShelfStore::open(&path)
            .await
            .unwrap()
            .with_settings(StoreSettings::new().with_clock(clock.clone()))
            // Non-durable writes still reach the disk when the store closes cleanly.
            .durable(false);
        store.create(&r).await.unwrap();
    }
    let store = ShelfStore::open(&path)
        .await
        .unwrap()
        .with_settings(StoreSettings::new().with_clock(clock.clone()));
    assert_eq!(store.load(&r.id.to_string()).await.unwrap(), Some(r));
    assert_eq!(store.count().await.unwrap(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_expired_works_through_several_batches() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new();
    let store = ShelfStore::open(dir.path().join("s.redb"))
        .await
        .unwrap()
        .with_settings(StoreSettings::new().with_clock(clock.clone()))
        .durable(false);
    let mut live = Vec::new();
    for i in 0..2_510u64 {
        let ttl = if i % 251 == 0 {
            HOUR
        } else {
            Duration::from_secs(1 + i % 50)
        };
        let r = record(&clock, ttl, i);
        store.create(&r).await.unwrap();
        if ttl == HOUR {
            live.push(r);
        }
    }
    assert_eq!(live.len(), 10);
    clock.advance(Duration::from_secs(60));
    assert_eq!(store.count().await.unwrap(), 10);
    assert_eq!(store.delete_expired().await.unwrap(), 2_500);
    assert_eq!(store.delete_expired().await.unwrap(), 0);
    for r in &live {
        assert_eq!(
            store.load(&r.id.to_string()).await.unwrap().as_ref(),
            Some(r)
        );
    }
    // Only the live records and their index entries are left.
    assert_eq!(store.raw_entries().await.unwrap().len(), 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_that_is_not_a_shelf_is_a_config_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    std::fs::write(&path, vec![b'x'; 8192]).unwrap();
    match ShelfStore::open(&path).await {
        Err(Error::Config(message)) => assert!(message.contains("notes.txt"), "{message}"),
        other => panic!("expected Error::Config, got {other:?}"),
    }
    assert_eq!(
        std::fs::read(&path).unwrap(),
        vec![b'x'; 8192],
        "left as it was"
    );
}

/// Writes a garbage envelope straight into the shelf's table (same name and types as
/// the store's own definition), as a disk or tool fault might.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupt_envelope_is_an_error_never_a_panic() {
    const SESSIONS: redb::TableDefinition<[u8; 32], (u64, i64, &[u8])> =
        redb::TableDefinition::new("sessions_v1");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.redb");
    let clock = ManualClock::new();
    let r = record(&clock, HOUR, 1);
    let store = ShelfStore::open(&path)
        .await
        .unwrap()
        .with_settings(StoreSettings::new().with_clock(clock.clone()));
    store.create(&r).await.unwrap();
    drop(store);

    let db = redb::Database::create(&path).unwrap();
    let txn = db.begin_write().unwrap();
    {
        let mut table = txn.open_table(SESSIONS).unwrap();
        let garbage: &[u8] = &[0x01, 0xc1, 0xff];
        table
            .insert(
                r.id.storage_key().as_bytes(),
                (1u64, r.expires_at.as_millis(), garbage),
            )
            .unwrap();
    }
    txn.commit().unwrap();
    drop(db);

    let store = ShelfStore::open(&path)
        .await
        .unwrap()
        .with_settings(StoreSettings::new().with_clock(clock.clone()));
    let cookie = r.id.to_string();
    assert!(matches!(store.load(&cookie).await, Err(Error::Corrupt(_))));
    assert!(matches!(store.touch(&r).await, Err(Error::Corrupt(_))));
    assert!(matches!(store.create(&r).await, Err(Error::Collision)));
    store.delete(&r.id).await.unwrap();
    assert_eq!(store.load(&cookie).await.unwrap(), None);
    assert_eq!(store.count().await.unwrap(), 0);
}
