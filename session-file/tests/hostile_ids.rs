//! Hostile cookie values (path traversal, encoded slashes, NUL bytes, 10 kB strings,
//! absolute paths, storage-key names) load as `Ok(None)`, and nothing outside the store
//! is read or written.
//!
//! "Nothing read" is made observable: next to the store sits a file holding a valid,
//! live record envelope, at exactly the paths a naive store that joined the cookie value
//! onto its directory would read. Such a store would answer `Some`; ours must not.

// Test code, helpers included: a panic is a failed assertion (as clippy.toml allows
// inside #[test] functions).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::json;
use session_core::{Codec, Data, Record, SessionId, SessionStore, Timestamp};
use session_file::{FileStore, ShelfStore};

fn live_record() -> Record {
    let now = Timestamp::from_system(std::time::SystemTime::now());
    let mut data = Data::new();
    data.insert("planted".into(), json!(true));
    Record::new(
        SessionId::generate(),
        data,
        now,
        now.saturating_add(Duration::from_secs(3600)),
    )
}

/// Paths and contents of everything under `root` except `skip` (whose content may
/// legitimately change, e.g. the shelf file).
fn snapshot(root: &Path, skip: Option<&Path>) -> BTreeMap<PathBuf, Option<Vec<u8>>> {
    common::paths_under(root)
        .into_iter()
        .map(|p| {
            let content = if p.is_file() && Some(p.as_path()) != skip {
                Some(std::fs::read(&p).unwrap())
            } else {
                None
            };
            (p, content)
        })
        .collect()
}

/// Cookie values an attacker might send, relative to a store at `<outer>/store`, with a
/// planted record at `<outer>/victim` and a real session stored under `real`.
fn hostile_values(outer: &Path, real: &SessionId, real_path: &Path) -> Vec<String> {
    let victim = outer.join("victim");
    let key_hex = real.storage_key().to_hex();
    let rel_real = format!("{}/{}/{}", &key_hex[..2], &key_hex[2..4], key_hex);
    let id_text = real.to_string();
    let mut values = vec![
        "../../etc/passwd".to_owned(),
        "..%2f..%2fetc%2fpasswd".to_owned(),
        "..%2f".to_owned(),
        "%2e%2e%2fvictim".to_owned(),
        "../victim".to_owned(),
        "../../victim".to_owned(),
        "..\\victim".to_owned(),
        "/etc/passwd".to_owned(),
        victim.to_string_lossy().into_owned(),
        real_path.to_string_lossy().into_owned(),
        "\0".to_owned(),
        "victim\0".to_owned(),
        format!("{}\0", &id_text[..42]),
        format!("{id_text}\0"),
        format!("\0{id_text}"),
        "a".repeat(10 * 1024),
        "../".repeat(10 * 1024 / 3),
        "\0".repeat(10 * 1024),
        String::new(),
        ".".to_owned(),
        "..".to_owned(),
        "./".to_owned(),
        ".locks/00".to_owned(),
        // The on-disk name of a real session, and its path inside the store: a store
        // that took these as names would find the record.
        key_hex.clone(),
        rel_real,
        // 43 characters, like an id, but with path characters.
        format!("../{}", &id_text[3..]),
        format!("{}/..", &id_text[..40]),
        format!("{}%2f", &id_text[..40]),
        // The real id, mangled: wrong case, padded, URL-encoded, with whitespace.
        id_text.to_uppercase(),
        format!("{id_text}="),
        format!(" {id_text}"),
        format!("{id_text}\n"),
        id_text.replace('-', "%2D").replace('_', "%5F"),
    ];
    // Only distinct values that really differ from the real id.
    values.retain(|v| v != &id_text);
    values
}

/// Every hostile value loads as `Ok(None)` from `store`, and nothing under `outer`
/// (but `skip`) changes meanwhile.
async fn assert_hostile_values_load_nothing(
    store: &impl SessionStore,
    outer: &Path,
    real: &SessionId,
    real_path: &Path,
    skip: Option<&Path>,
) {
    let before = snapshot(outer, skip);
    for value in hostile_values(outer, real, real_path) {
        let loaded = store.load(&value).await;
        assert!(
            matches!(loaded, Ok(None)),
            "hostile value {:?} gave {loaded:?}",
            value.chars().take(60).collect::<String>()
        );
    }
    assert_eq!(before, snapshot(outer, skip), "something was written");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_store_hostile_ids_read_and_write_nothing_outside() {
    let outer = tempfile::tempdir().unwrap();
    let root = outer.path().join("store");
    let store = FileStore::open(&root).await.unwrap();
    let real = live_record();
    store.create(&real).await.unwrap();
    let planted = live_record();
    let envelope = Codec::MessagePack.encode(&planted).unwrap();
    std::fs::write(outer.path().join("victim"), &envelope).unwrap();
    let real_path = store.record_path(&real.id);

    assert_hostile_values_load_nothing(&store, outer.path(), &real.id, &real_path, None).await;
    // The real session is untouched and still loads by its real id.
    assert_eq!(store.load(&real.id.to_string()).await.unwrap(), Some(real));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shelf_store_hostile_ids_read_and_write_nothing_outside() {
    let outer = tempfile::tempdir().unwrap();
    let shelf_path = outer.path().join("store").join("sessions.redb");
    let store = ShelfStore::open(&shelf_path).await.unwrap();
    let real = live_record();
    store.create(&real).await.unwrap();
    let planted = live_record();
    std::fs::write(
        outer.path().join("victim"),
        Codec::MessagePack.encode(&planted).unwrap(),
    )
    .unwrap();

    let shelf = Some(shelf_path.as_path());
    assert_hostile_values_load_nothing(&store, outer.path(), &real.id, &shelf_path, shelf).await;
    assert_eq!(store.load(&real.id.to_string()).await.unwrap(), Some(real));
}
