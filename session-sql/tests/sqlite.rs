//! `SqlStore` on SQLite: the whole conformance suite on a database file (WAL) and in
//! memory, with and without a size limit (its cases include exact compare-and-set under
//! contention), plus what the suite cannot see: migrations, the connection settings, and
//! table-name validation.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

mod common;

use std::time::Duration;

use session_conformance::{suite, Fixture};
use session_core::{Clock, SessionStore, StoreSettings};
use session_sql::{Backend, ConnectOptions, SqlPool, SqlStore, Synchronous, TableName};
use tempfile::TempDir;

async fn file_store(dir: &TempDir) -> SqlStore {
    let url = format!("sqlite://{}", dir.path().join("sessions.db").display());
    let store = SqlStore::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    store
}

async fn memory_store() -> SqlStore {
    let store = SqlStore::connect("sqlite::memory:").await.unwrap();
    store.migrate().await.unwrap();
    store
}

async fn file_fixture(clock: Clock, limit: Option<usize>) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = StoreSettings::new().with_clock(clock);
    if let Some(limit) = limit {
        settings = settings.with_max_record_size(Some(limit));
    }
    let store = file_store(&dir).await.with_settings(settings);
    common::fixture(store, dir)
}

async fn memory_fixture(clock: Clock) -> Fixture {
    let store = memory_store()
        .await
        .with_settings(StoreSettings::new().with_clock(clock));
    common::fixture(store, ())
}

suite!(sqlite_file, fixture = |clock| file_fixture(clock, None));

suite!(
    sqlite_file_limited,
    fixture = |clock| file_fixture(clock, Some(16 * 1024))
);

suite!(sqlite_memory, fixture = memory_fixture);

#[tokio::test]
async fn migrate_twice() {
    let dir = tempfile::tempdir().unwrap();
    let store = file_store(&dir).await;
    common::assert_backend(&store, Backend::Sqlite);
    common::migrate_is_idempotent(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_twice_at_once_from_two_pools() {
    let dir = tempfile::tempdir().unwrap();
    // Two pools on one file: two app instances sharing a database.
    let a = file_store(&dir).await;
    let b = file_store(&dir).await;
    let tables = (0..5)
        .map(|i| TableName::new(&format!("concurrent_{i}")).unwrap())
        .collect();
    common::migrate_concurrently(a, b, tables).await;
}

#[tokio::test]
async fn hostile_table_names_are_config_errors() {
    let store = memory_store().await;
    let SqlPool::Sqlite(pool) = store.pool() else {
        panic!("an SQLite pool");
    };
    sqlx::raw_sql("CREATE TABLE victim (x INTEGER)")
        .execute(pool)
        .await
        .unwrap();
    common::table_name_injection(&store).await;
    let victims: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM sqlite_master WHERE name = 'victim'")
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!(victims, 1);
}

#[tokio::test]
async fn reserved_word_and_schema_qualified_tables_work() {
    let store = memory_store().await;
    for name in ["order", "main.user"] {
        let store = store.clone().with_table(TableName::new(name).unwrap());
        store.migrate().await.unwrap();
        common::large_session_roundtrip(&store, 10).await;
    }
}

#[tokio::test]
async fn too_large_is_refused_before_any_io() {
    let store = memory_store().await;
    common::too_large_before_io(store).await;
}

#[tokio::test]
async fn large_sessions_roundtrip() {
    let store = memory_store().await;
    common::large_session_roundtrip(&store, 3 << 20).await;
}

#[tokio::test]
async fn file_databases_get_wal_busy_timeout_and_normal_sync() {
    let dir = tempfile::tempdir().unwrap();
    let store = file_store(&dir).await;
    let SqlPool::Sqlite(pool) = store.pool() else {
        panic!("an SQLite pool");
    };
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    let busy: i64 = sqlx::query_scalar("PRAGMA busy_timeout")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(busy, 5000);
    // 1 is NORMAL.
    let sync: i64 = sqlx::query_scalar("PRAGMA synchronous")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(sync, 1);

    let options = ConnectOptions::new()
        .sqlite_busy_timeout(Duration::from_millis(250))
        .sqlite_synchronous(Synchronous::Full);
    let url = format!("sqlite://{}", dir.path().join("other.db").display());
    let store = SqlStore::connect_with(&url, options).await.unwrap();
    let SqlPool::Sqlite(pool) = store.pool() else {
        panic!("an SQLite pool");
    };
    let busy: i64 = sqlx::query_scalar("PRAGMA busy_timeout")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(busy, 250);
    let sync: i64 = sqlx::query_scalar("PRAGMA synchronous")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(sync, 2);
}

#[tokio::test]
async fn sessions_survive_reopening_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = file_store(&dir).await;
    common::migrate_is_idempotent(&store).await;
    let before = store.count().await.unwrap();
    store.pool().close().await;
    let reopened = file_store(&dir).await;
    assert_eq!(reopened.count().await.unwrap(), before);
}

#[tokio::test]
async fn bad_urls_are_config_errors() {
    for url in ["redis://127.0.0.1", "nonsense", "sqlite://x.db?mode=bogus"] {
        match SqlStore::connect(url).await {
            Err(session_core::Error::Config(_)) => {}
            other => panic!("{url}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn expired_leftovers_and_unchanged_writes() {
    let store = memory_store().await;
    common::leftovers_and_unchanged_writes(store).await;
}

#[tokio::test]
async fn delete_expired_in_batches() {
    let dir = tempfile::tempdir().unwrap();
    common::sweep_in_batches(file_store(&dir).await).await;
}

/// The default limit (256 KiB) refuses a record one byte over it and writes no row;
/// `None` lifts it.
#[tokio::test]
async fn default_limit_writes_nothing_and_none_lifts_it() {
    let store = memory_store().await;
    let over = session_conformance::record_of_size(session_core::DEFAULT_MAX_RECORD_SIZE + 1);
    assert!(matches!(
        store.create(&over).await,
        Err(session_core::Error::TooLarge { .. })
    ));
    assert_eq!(store.count().await.unwrap(), 0);
    assert_eq!(store.load(&over.id.to_string()).await.unwrap(), None);

    let unlimited = {
        let settings = store.settings().clone().with_max_record_size(None);
        store.with_settings(settings)
    };
    assert_eq!(unlimited.capabilities().max_record_size, None);
    unlimited.create(&over).await.unwrap();
    assert_eq!(
        unlimited.load(&over.id.to_string()).await.unwrap(),
        Some(over)
    );
}

/// A row of the user whose data does not decode is skipped by `sessions_of` (the
/// listing goes on), still counted and removed by `revoke_user`; so is a row whose
/// envelope is bound to another user than its `user_key`.
#[tokio::test]
async fn sessions_of_skips_rows_that_do_not_decode() {
    use session_core::{Record, SessionId, Timestamp, UserBinding, UserKey};
    let store = memory_store().await;
    let now = Timestamp::from_system(std::time::SystemTime::now());
    let ada = UserBinding::new("ada").unwrap();
    let good = Record::new(
        SessionId::generate(),
        Default::default(),
        now,
        now.saturating_add(Duration::from_secs(60)),
    )
    .with_user(Some(ada.clone()));
    store.create(&good).await.unwrap();
    let mut bob = good
        .clone()
        .with_user(Some(UserBinding::new("bob").unwrap()));
    bob.id = SessionId::generate();
    store.create(&bob).await.unwrap();
    let SqlPool::Sqlite(pool) = store.pool() else {
        panic!("an SQLite pool");
    };
    let user = UserKey::of("ada").to_hex();
    let expires = now.as_millis() + 60_000;
    sqlx::query("INSERT INTO sessions VALUES (?1, 0, ?2, 1, X'00ff', ?3)")
        .bind(SessionId::generate().storage_key().to_hex())
        .bind(expires)
        .bind(&user)
        .execute(pool)
        .await
        .unwrap();
    // Bob's row, filed under ada by hand.
    sqlx::query("UPDATE sessions SET user_key = ?1 WHERE session_id = ?2")
        .bind(&user)
        .bind(bob.id.storage_key().to_hex())
        .execute(pool)
        .await
        .unwrap();
    let page = store.sessions_of(&ada.user_key(), None, 10).await.unwrap();
    let keys: Vec<_> = page.sessions.iter().map(|s| s.key).collect();
    assert_eq!(keys, vec![good.id.storage_key()]);
    assert_eq!(page.next, None);
    assert_eq!(store.revoke_user(&ada.user_key(), None).await.unwrap(), 3);
    assert_eq!(store.count().await.unwrap(), 0);
}
