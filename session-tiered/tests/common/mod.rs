//! Fixtures shared by the tiered store's tests: durable stores with a view of their raw
//! contents, and a conformance fixture that shows both tiers' raw contents.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;

use session_conformance::{Fixture, RawEntry};
use session_core::{Clock, MemoryStore, StoreSettings};
use session_file::FileStore;
use session_sql::SqlStore;
use session_tiered::TieredStore;

/// A function that dumps one store's raw keys and values.
pub type Dump = Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Vec<RawEntry>> + Send>> + Send + Sync>;

/// A migrated in-memory SQLite store on `clock`, with its dump.
pub async fn sqlite(clock: Clock) -> (SqlStore, Dump) {
    let store = SqlStore::connect("sqlite::memory:")
        .await
        .unwrap()
        .with_settings(StoreSettings::new().with_clock(clock));
    store.migrate().await.unwrap();
    let view = store.clone();
    let dump: Dump = Arc::new(move || {
        let view = view.clone();
        Box::pin(async move { sql_rows(&view).await })
    });
    (store, dump)
}

/// Every row of a SQL store's table, key and data.
pub async fn sql_rows(store: &SqlStore) -> Vec<RawEntry> {
    store.raw_entries().await.unwrap()
}

/// A file store in a fresh temp dir on `clock`, with its dump and the dir to keep.
pub async fn file(clock: Clock) -> (FileStore, Dump, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("sessions");
    let store = FileStore::open(&root)
        .await
        .unwrap()
        .with_settings(StoreSettings::new().with_clock(clock));
    let dump: Dump = Arc::new(move || {
        let root = root.clone();
        Box::pin(async move { dump_tree(&root) })
    });
    (store, dump, dir)
}

fn dump_tree(root: &Path) -> Vec<RawEntry> {
    let mut out = Vec::new();
    let mut dirs: Vec<PathBuf> = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if let Ok(bytes) = std::fs::read(&path) {
                out.push((path.to_string_lossy().into_owned().into_bytes(), bytes));
            }
        }
    }
    out
}

/// A memory store on `clock`, with its dump.
pub fn memory(clock: Clock) -> (Arc<MemoryStore>, Dump) {
    let store = Arc::new(MemoryStore::new().with_settings(StoreSettings::new().with_clock(clock)));
    let view = store.clone();
    let dump: Dump = Arc::new(move || {
        let view = view.clone();
        Box::pin(async move { view.raw_entries() })
    });
    (store, dump)
}

/// The conformance fixture of `store`, whose raw contents are every dump's.
pub fn fixture<G: Send + Sync + 'static>(
    store: TieredStore,
    dumps: Vec<Dump>,
    guard: G,
) -> Fixture {
    Fixture::new(store)
        .with_raw_dump(move || {
            let dumps = dumps.clone();
            async move {
                let mut all = Vec::new();
                for dump in &dumps {
                    all.extend(dump().await);
                }
                all
            }
        })
        .with_guard(guard)
}

pub mod servers;
