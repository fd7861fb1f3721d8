//! The whole conformance suite against `FileStore` (durable, non-durable, size-limited)
//! and `ShelfStore` (plain and size-limited). Every fixture gets a fresh temp dir.

// Test code, helpers included: a panic is a failed assertion (as clippy.toml allows
// inside #[test] functions).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use session_conformance::{suite, Fixture};
use session_core::{Clock, StoreSettings};
use session_file::{FileStore, ShelfStore};

async fn file_fixture(clock: Clock, configure: fn(FileStore) -> FileStore) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("sessions");
    let store = FileStore::open(&root).await.unwrap();
    let store = configure(store.with_settings(StoreSettings::new().with_clock(clock)));
    Fixture::new(store)
        .with_raw_dump(move || {
            let root = root.clone();
            async move { common::dump_tree(&root) }
        })
        .with_guard(dir)
}

async fn shelf_fixture(clock: Clock, configure: fn(ShelfStore) -> ShelfStore) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = configure(
        ShelfStore::open(dir.path().join("sessions.redb"))
            .await
            .unwrap()
            .with_settings(StoreSettings::new().with_clock(clock)),
    );
    let view = store.clone();
    Fixture::new(store)
        .with_raw_dump(move || {
            let view = view.clone();
            async move { view.raw_entries().await.unwrap() }
        })
        .with_guard(dir)
}

suite!(file_store, fixture = |clock| file_fixture(clock, |s| s));

suite!(
    file_store_not_durable,
    fixture = |clock| file_fixture(clock, |s| s.durable(false))
);

suite!(
    file_store_limited,
    fixture = |clock| file_fixture(clock, |s| {
        let settings = s.settings().clone().with_max_record_size(Some(16 * 1024));
        s.durable(false).with_settings(settings)
    })
);

suite!(shelf_store, fixture = |clock| shelf_fixture(clock, |s| s));

suite!(
    shelf_store_limited,
    fixture = |clock| shelf_fixture(clock, |s| {
        let settings = s.settings().clone().with_max_record_size(Some(16 * 1024));
        s.durable(false).with_settings(settings)
    })
);
