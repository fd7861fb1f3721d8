//! Bounded input on both file-backed stores (issue 16, items 1 and 2): the default
//! record size limit, `None` lifting it, `touch` keeping to it, and a record file nested
//! deeper than `MAX_DEPTH` loading as `Corrupt` rather than crashing.

// Test code, helpers included: a panic is a failed assertion (as clippy.toml allows
// inside #[test] functions).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use session_conformance::record_of_size;
use session_core::{
    Error, SessionStore, StoreSettings, DEFAULT_MAX_RECORD_SIZE, FORMAT_MSGPACK_V1,
};
use session_file::{FileStore, ShelfStore};

/// Session files and temporary files under `root` (the lock stripes are not records).
fn record_files(root: &Path) -> Vec<PathBuf> {
    common::files_under(root)
        .into_iter()
        .filter(|p| !p.starts_with(root.join(".locks")))
        .collect()
}

fn assert_too_large<T: std::fmt::Debug>(result: Result<T, Error>, size: usize) {
    match result {
        Err(Error::TooLarge { limit, size: s }) => {
            assert_eq!((limit, s), (DEFAULT_MAX_RECORD_SIZE, size))
        }
        other => panic!("expected TooLarge, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_store_default_limit_refuses_a_record_just_over_it_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("s");
    let store = FileStore::open(&root).await.unwrap();
    assert_eq!(
        store.capabilities().max_record_size,
        Some(DEFAULT_MAX_RECORD_SIZE)
    );

    let over = record_of_size(DEFAULT_MAX_RECORD_SIZE + 1);
    assert_too_large(store.create(&over).await, DEFAULT_MAX_RECORD_SIZE + 1);
    assert!(record_files(&root).is_empty(), "{:?}", record_files(&root));

    let at = record_of_size(DEFAULT_MAX_RECORD_SIZE);
    store.create(&at).await.unwrap();
    let before = std::fs::read(store.record_path(&at.id)).unwrap();
    let mut grown = over;
    grown.id = at.id;
    assert_too_large(
        store.save(&grown, at.version).await,
        DEFAULT_MAX_RECORD_SIZE + 1,
    );
    assert_eq!(std::fs::read(store.record_path(&at.id)).unwrap(), before);
    assert_eq!(record_files(&root), vec![store.record_path(&at.id)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_store_none_lifts_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let store = FileStore::open(dir.path())
        .await
        .unwrap()
        .with_settings(StoreSettings::new().with_max_record_size(None));
    assert_eq!(store.capabilities().max_record_size, None);
    let over = record_of_size(DEFAULT_MAX_RECORD_SIZE + 1);
    store.create(&over).await.unwrap();
    assert_eq!(store.load(&over.id.to_string()).await.unwrap(), Some(over));
}

/// `touch` re-encodes the stored record; it used to skip the limit. A record written
/// while the limit was higher is not rewritten by a store with today's limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_store_touch_keeps_to_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let unlimited = FileStore::open(dir.path())
        .await
        .unwrap()
        .with_settings(StoreSettings::new().with_max_record_size(None));
    let big = record_of_size(DEFAULT_MAX_RECORD_SIZE + 1);
    unlimited.create(&big).await.unwrap();
    let before = std::fs::read(unlimited.record_path(&big.id)).unwrap();

    let limited = FileStore::open(dir.path()).await.unwrap();
    let mut touched = big.clone();
    touched.expires_at = touched.expires_at.saturating_add(Duration::from_secs(60));
    assert_too_large(limited.touch(&touched).await, DEFAULT_MAX_RECORD_SIZE + 1);
    assert_eq!(std::fs::read(limited.record_path(&big.id)).unwrap(), before);
    // Without the limit the same touch goes through.
    unlimited.touch(&touched).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shelf_store_default_limit_refuses_a_record_just_over_it_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = ShelfStore::open(dir.path().join("s.redb")).await.unwrap();
    assert_eq!(
        store.capabilities().max_record_size,
        Some(DEFAULT_MAX_RECORD_SIZE)
    );

    let over = record_of_size(DEFAULT_MAX_RECORD_SIZE + 1);
    assert_too_large(store.create(&over).await, DEFAULT_MAX_RECORD_SIZE + 1);
    assert!(store.raw_entries().await.unwrap().is_empty());

    let at = record_of_size(DEFAULT_MAX_RECORD_SIZE);
    store.create(&at).await.unwrap();
    let before = store.raw_entries().await.unwrap();
    let mut grown = over;
    grown.id = at.id;
    assert_too_large(
        store.save(&grown, at.version).await,
        DEFAULT_MAX_RECORD_SIZE + 1,
    );
    assert_eq!(store.raw_entries().await.unwrap(), before);
    assert_eq!(store.load(&at.id.to_string()).await.unwrap(), Some(at));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shelf_store_none_lifts_the_limit_and_touch_keeps_to_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.redb");
    let big = record_of_size(DEFAULT_MAX_RECORD_SIZE + 1);
    {
        let unlimited = ShelfStore::open(&path)
            .await
            .unwrap()
            .with_settings(StoreSettings::new().with_max_record_size(None));
        assert_eq!(unlimited.capabilities().max_record_size, None);
        unlimited.create(&big).await.unwrap();
    } // One process at a time: the file is free again once the store is dropped.

    let limited = ShelfStore::open(&path).await.unwrap();
    let before = limited.raw_entries().await.unwrap();
    let mut touched = big.clone();
    touched.expires_at = touched.expires_at.saturating_add(Duration::from_secs(60));
    assert_too_large(limited.touch(&touched).await, DEFAULT_MAX_RECORD_SIZE + 1);
    assert_eq!(limited.raw_entries().await.unwrap(), before);
    assert_eq!(limited.load(&big.id.to_string()).await.unwrap(), Some(big));
}

/// A record file whose data nests 5,000 arrays deep (written byte by byte, as anyone
/// with write access to the directory could) loads as `Corrupt`, on the runtime's own
/// threads, instead of overflowing the stack and aborting the process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_file_nested_5000_deep_is_corrupt_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let store = FileStore::open(dir.path()).await.unwrap();
    let live = record_of_size(100);
    store.create(&live).await.unwrap();

    // Version 1, created/accessed 0, expires in the far future (u64 marker 0xcf), then
    // data {"k": [[[ … null … ]]]}.
    let mut bytes = vec![FORMAT_MSGPACK_V1, 0x95, 1, 0, 0, 0xcf];
    bytes.extend_from_slice(&(i64::MAX as u64).to_be_bytes());
    bytes.extend_from_slice(&[0x81, 0xa1, b'k']);
    bytes.extend(std::iter::repeat_n(0x91, 5_000));
    bytes.push(0xc0);
    std::fs::write(store.record_path(&live.id), &bytes).unwrap();

    match store.load(&live.id.to_string()).await {
        Err(Error::Corrupt(m)) => assert!(m.contains("nested deeper"), "{m}"),
        other => panic!("expected Corrupt, got {other:?}"),
    }
    // The process is alive and the store still works.
    let other = record_of_size(100);
    store.create(&other).await.unwrap();
    assert!(store.load(&other.id.to_string()).await.unwrap().is_some());
}
