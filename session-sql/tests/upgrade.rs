//! Upgrading a table made by the release before the user index (no `user_key` column)
//! on SQLite, PostgreSQL and MariaDB: a store that does not migrate fails writes with
//! an error naming the column; `migrate` adds the column and its index, also from two
//! pools at once; old rows (`user_key` NULL) still load, and join the index on their
//! next save.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

mod common;

use std::time::{Duration, SystemTime};

use common::Server;
use serde_json::json;
use session_core::{
    Error, Record, SessionId, SessionStore, StoreSettings, Timestamp, UserBinding, UserKey,
};
use session_sql::{Backend, SqlPool, SqlStore};

/// The previous release's DDL for `table`.
fn old_ddl(backend: Backend, table: &str) -> String {
    match backend {
        Backend::Sqlite => format!(
            "CREATE TABLE \"{table}\" (session_id TEXT NOT NULL PRIMARY KEY, \
             atime INTEGER NOT NULL, expires_at INTEGER NOT NULL, version INTEGER NOT NULL, \
             data BLOB NOT NULL); \
             CREATE INDEX \"{table}_expires_at_idx\" ON \"{table}\" (expires_at)"
        ),
        Backend::Postgres => format!(
            "CREATE TABLE \"{table}\" (session_id VARCHAR(64) NOT NULL PRIMARY KEY, \
             atime BIGINT NOT NULL, expires_at BIGINT NOT NULL, version BIGINT NOT NULL, \
             data BYTEA NOT NULL); \
             CREATE INDEX \"{table}_expires_at_idx\" ON \"{table}\" (expires_at)"
        ),
        _ => format!(
            "CREATE TABLE `{table}` (session_id CHAR(64) CHARACTER SET ascii COLLATE ascii_bin \
             NOT NULL PRIMARY KEY, atime BIGINT NOT NULL, expires_at BIGINT NOT NULL, \
             version BIGINT NOT NULL, data LONGBLOB NOT NULL, \
             INDEX `{table}_expires_at_idx` (expires_at)) ENGINE = InnoDB"
        ),
    }
}

async fn raw(store: &SqlStore, sql: &str) {
    match store.pool() {
        SqlPool::Sqlite(p) => drop(sqlx::raw_sql(sql).execute(p).await.unwrap()),
        SqlPool::Postgres(p) => drop(sqlx::raw_sql(sql).execute(p).await.unwrap()),
        SqlPool::MySql(p) => drop(sqlx::raw_sql(sql).execute(p).await.unwrap()),
        _ => unreachable!("all backends are enabled in tests"),
    }
}

async fn scalar(store: &SqlStore, sql: &str) -> i64 {
    match store.pool() {
        SqlPool::Sqlite(p) => sqlx::query_scalar(sql).fetch_one(p).await.unwrap(),
        SqlPool::Postgres(p) => sqlx::query_scalar(sql).fetch_one(p).await.unwrap(),
        SqlPool::MySql(p) => sqlx::query_scalar(sql).fetch_one(p).await.unwrap(),
        _ => unreachable!("all backends are enabled in tests"),
    }
}

/// How many indexes named `name` the database has.
async fn indexes_named(store: &SqlStore, name: &str) -> i64 {
    let sql = match store.backend() {
        Backend::Sqlite => {
            format!("SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = '{name}'")
        }
        Backend::Postgres => format!(
            "SELECT COUNT(*) FROM pg_indexes WHERE schemaname = current_schema() \
             AND indexname = '{name}'"
        ),
        _ => format!(
            "SELECT COUNT(DISTINCT index_name) FROM information_schema.statistics \
             WHERE table_schema = DATABASE() AND index_name = '{name}'"
        ),
    };
    scalar(store, &sql).await
}

fn record(user: Option<&str>) -> Record {
    let now = Timestamp::from_system(SystemTime::now());
    Record::new(
        SessionId::generate(),
        [("k".to_owned(), json!("v"))].into_iter().collect(),
        now,
        now.saturating_add(Duration::from_secs(600)),
    )
    .with_user(user.map(|u| UserBinding::new(u).unwrap()))
}

/// The whole upgrade story on `a` and `b`, two stores on separate pools pointing at
/// the same not yet created table.
async fn upgrades(a: SqlStore, b: SqlStore) {
    let table = a.table().to_string();
    raw(&a, &old_ddl(a.backend(), &table)).await;
    // A row the previous release wrote.
    let old = record(None);
    let insert = format!(
        "INSERT INTO {table} (session_id, atime, expires_at, version, data) \
         VALUES ('{}', {}, {}, {}, {})",
        old.id.storage_key().to_hex(),
        old.accessed_at.as_millis(),
        old.expires_at.as_millis(),
        old.version,
        match a.backend() {
            Backend::Postgres => format!(
                "decode('{}', 'hex')",
                hex(&StoreSettings::new().encode(&old).unwrap())
            ),
            _ => format!("X'{}'", hex(&StoreSettings::new().encode(&old).unwrap())),
        }
    );
    raw(&a, &insert).await;

    // migrate=false: reads work, writes say what is missing.
    assert_eq!(
        a.load(&old.id.to_string()).await.unwrap(),
        Some(old.clone())
    );
    match a.create(&record(Some("ada"))).await {
        Err(Error::Backend(e)) => {
            let text = format!("{e} {:?}", e.context());
            assert!(text.contains("user_key"), "{text}");
            assert!(text.contains("migrate"), "{text}");
        }
        other => panic!("create on an old table: {other:?}"),
    }

    // Two instances upgrade at once.
    let (ra, rb) = tokio::join!(a.migrate(), b.migrate());
    ra.unwrap();
    rb.unwrap();
    a.migrate().await.unwrap();
    let user_index = a.table().user_index();
    assert_eq!(indexes_named(&a, &user_index).await, 1);
    let nulls = format!("SELECT COUNT(*) FROM {table} WHERE user_key IS NULL");
    assert_eq!(scalar(&a, &nulls).await, 1);

    // The old row still loads, is nobody's, and joins the index when saved bound.
    let cookie = old.id.to_string();
    assert_eq!(b.load(&cookie).await.unwrap(), Some(old.clone()));
    let ada = UserKey::of("ada");
    assert!(a
        .sessions_of(&ada, None, 10)
        .await
        .unwrap()
        .sessions
        .is_empty());
    let mut bound = old
        .clone()
        .with_user(Some(UserBinding::new("ada").unwrap()));
    bound.version += 1;
    a.save(&bound, old.version).await.unwrap();
    let listed = b.sessions_of(&ada, None, 10).await.unwrap();
    let keys: Vec<_> = listed.sessions.iter().map(|s| s.key).collect();
    assert_eq!(keys, vec![old.id.storage_key()]);
    let fresh = record(Some("ada"));
    b.create(&fresh).await.unwrap();
    assert_eq!(a.revoke_user(&ada, None).await.unwrap(), 2);
    assert_eq!(a.load(&cookie).await.unwrap(), None);
    assert_eq!(scalar(&a, &nulls).await, 0);
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_upgrades_an_old_table() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("sessions.db").display());
    let a = SqlStore::connect(&url).await.unwrap();
    let b = SqlStore::connect(&url).await.unwrap();
    upgrades(a, b).await;
}

async fn server_upgrades(server: Server) {
    let table = common::fresh_table();
    let _guard = common::TableGuard::new(server, table.clone());
    let a = common::server_store(server, common::test_options())
        .await
        .with_table(table.clone());
    let b = common::server_store(server, common::test_options())
        .await
        .with_table(table);
    upgrades(a, b).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_upgrades_an_old_table() {
    server_upgrades(Server::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_upgrades_an_old_table() {
    server_upgrades(Server::MySql).await;
}
