//! Contract rule 8 on disk: records in envelope format 1, as the release before
//! envelope version 2 wrote them, still load, and a shelf written before the user index
//! existed gets one (empty, which is exact: format 1 has no user binding) on open. The bytes are placed the way each store
//! lays a record out, by hand rather than through `save`, so the test does not depend
//! on today's writer.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

use std::fs::{self, DirBuilder, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};

use redb::{Database, TableDefinition};
use session_conformance::legacy::{format_1_record, FORMAT_1_JSON, FORMAT_1_MSGPACK};
use session_core::{ManualClock, SessionId, SessionStore, StoreSettings, Timestamp, UserBinding};
use session_file::{FileStore, ShelfStore};

/// A minute after the fixture's last access: before its deadline, so it is live.
fn clock() -> ManualClock {
    ManualClock::at(Timestamp::from_millis(1_764_000_100_000))
}

/// The shelf's tables as `shelf_store.rs` defines them (private there, so restated).
const SESSIONS: TableDefinition<[u8; 32], (u64, i64, &[u8])> = TableDefinition::new("sessions_v1");
const BY_EXPIRY: TableDefinition<(i64, [u8; 32]), ()> =
    TableDefinition::new("sessions_by_expiry_v1");

async fn file_store_loads(envelope: &[u8]) {
    let dir = tempfile::tempdir().unwrap();
    let store = FileStore::open(dir.path().join("s"))
        .await
        .unwrap()
        .with_settings(StoreSettings::new().with_clock(clock()));
    let id = SessionId::generate();
    let path = store.record_path(&id);
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path.parent().unwrap())
        .unwrap();
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .unwrap();
    file.write_all(envelope).unwrap();
    drop(file);

    let loaded = store.load(&id.to_string()).await.unwrap();
    assert_eq!(loaded, Some(format_1_record(id)));
    // Loading does not rewrite the file.
    assert_eq!(fs::read(&path).unwrap(), envelope);
}

async fn shelf_store_loads(envelope: &[u8]) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sessions.shelf");
    let id = SessionId::generate();
    let record = format_1_record(id);
    let key = *id.storage_key().as_bytes();
    let expires = record.expires_at.as_millis();
    {
        let db = Database::create(&path).unwrap();
        let txn = db.begin_write().unwrap();
        {
            let mut sessions = txn.open_table(SESSIONS).unwrap();
            sessions
                .insert(key, (record.version, expires, envelope))
                .unwrap();
            let mut by_expiry = txn.open_table(BY_EXPIRY).unwrap();
            by_expiry.insert((expires, key), ()).unwrap();
        }
        txn.commit().unwrap();
    }

    let store = ShelfStore::open(&path)
        .await
        .unwrap()
        .with_settings(StoreSettings::new().with_clock(clock()));
    assert_eq!(
        store.load(&id.to_string()).await.unwrap(),
        Some(record.clone())
    );
    assert_eq!(store.count().await.unwrap(), 1);

    // The old file had no user index tables; they were created on open, and work.
    let ada = UserBinding::new("ada").unwrap();
    let page = store.sessions_of(&ada.user_key(), None, 10).await.unwrap();
    assert!(page.sessions.is_empty());
    let mut bound = record.clone().with_user(Some(ada.clone()));
    bound.version = record.version + 1;
    store.save(&bound, record.version).await.unwrap();
    let page = store.sessions_of(&ada.user_key(), None, 10).await.unwrap();
    assert_eq!(
        page.sessions.iter().map(|s| s.key).collect::<Vec<_>>(),
        vec![id.storage_key()]
    );
    drop(store);
    // And they persist: reopened, the binding is still indexed and revocable.
    let store = ShelfStore::open(&path)
        .await
        .unwrap()
        .with_settings(StoreSettings::new().with_clock(clock()));
    assert_eq!(store.revoke_user(&ada.user_key(), None).await.unwrap(), 1);
    assert_eq!(store.load(&id.to_string()).await.unwrap(), None);
}

#[tokio::test]
async fn file_store_loads_a_format_1_messagepack_file() {
    file_store_loads(FORMAT_1_MSGPACK).await;
}

#[tokio::test]
async fn file_store_loads_a_format_1_json_file() {
    file_store_loads(FORMAT_1_JSON).await;
}

#[tokio::test]
async fn shelf_store_loads_a_format_1_messagepack_entry() {
    shelf_store_loads(FORMAT_1_MSGPACK).await;
}

#[tokio::test]
async fn shelf_store_loads_a_format_1_json_entry() {
    shelf_store_loads(FORMAT_1_JSON).await;
}
