//! Contract rule 8 in SQL: rows whose `data` is in envelope format 1, as the release
//! before envelope version 2 wrote them, still load, on SQLite, PostgreSQL and MariaDB.
//! Rows are inserted with plain sqlx, not through `save`, so the test does not depend
//! on today's writer. The columns carry the same values as the envelope (they win).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

mod common;

use common::Server;
use session_conformance::legacy::{format_1_record, FORMAT_1_JSON, FORMAT_1_MSGPACK};
use session_core::{ManualClock, SessionId, SessionStore, StoreSettings, Timestamp};
use session_sql::{SqlPool, SqlStore};

/// A minute after the fixture's last access: before its deadline, so it is live.
fn settings() -> StoreSettings {
    StoreSettings::new().with_clock(ManualClock::at(Timestamp::from_millis(1_764_000_100_000)))
}

/// Inserts the row the previous release wrote for `id`, then loads it through `store`.
async fn loads(store: SqlStore, envelope: &[u8]) {
    let store = store.with_settings(settings());
    let id = SessionId::generate();
    let record = format_1_record(id);
    let key = id.storage_key().to_hex();
    let atime = record.accessed_at.as_millis();
    let expires = record.expires_at.as_millis();
    let version = i64::try_from(record.version).unwrap();
    let table = store.table().to_string();
    let question = format!(
        "INSERT INTO {table} (session_id, atime, expires_at, version, data) VALUES (?, ?, ?, ?, ?)"
    );
    let dollar = format!(
        "INSERT INTO {table} (session_id, atime, expires_at, version, data) \
         VALUES ($1, $2, $3, $4, $5)"
    );
    let inserted = match store.pool() {
        SqlPool::Sqlite(p) => sqlx::query(&question)
            .bind(&key)
            .bind(atime)
            .bind(expires)
            .bind(version)
            .bind(envelope)
            .execute(p)
            .await
            .unwrap()
            .rows_affected(),
        SqlPool::Postgres(p) => sqlx::query(&dollar)
            .bind(&key)
            .bind(atime)
            .bind(expires)
            .bind(version)
            .bind(envelope)
            .execute(p)
            .await
            .unwrap()
            .rows_affected(),
        SqlPool::MySql(p) => sqlx::query(&question)
            .bind(&key)
            .bind(atime)
            .bind(expires)
            .bind(version)
            .bind(envelope)
            .execute(p)
            .await
            .unwrap()
            .rows_affected(),
        other => panic!("no raw insert for {:?}", other.backend()),
    };
    assert_eq!(inserted, 1);

    assert_eq!(store.load(&id.to_string()).await.unwrap(), Some(record));
    // Loading leaves the row's bytes as they were.
    assert_eq!(
        common::raw_rows(&store).await,
        vec![(key.into_bytes(), envelope.to_vec())]
    );
}

async fn sqlite_loads(envelope: &[u8]) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("sessions.db").display());
    let store = SqlStore::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    loads(store, envelope).await;
}

async fn server_loads(server: Server, envelope: &[u8]) {
    let (store, _guard) = common::server_table(server).await;
    loads(store, envelope).await;
}

#[tokio::test]
async fn sqlite_loads_a_format_1_messagepack_row() {
    sqlite_loads(FORMAT_1_MSGPACK).await;
}

#[tokio::test]
async fn sqlite_loads_a_format_1_json_row() {
    sqlite_loads(FORMAT_1_JSON).await;
}

#[tokio::test]
async fn postgres_loads_a_format_1_messagepack_row() {
    server_loads(Server::Postgres, FORMAT_1_MSGPACK).await;
}

#[tokio::test]
async fn postgres_loads_a_format_1_json_row() {
    server_loads(Server::Postgres, FORMAT_1_JSON).await;
}

#[tokio::test]
async fn mysql_loads_a_format_1_messagepack_row() {
    server_loads(Server::MySql, FORMAT_1_MSGPACK).await;
}

#[tokio::test]
async fn mysql_loads_a_format_1_json_row() {
    server_loads(Server::MySql, FORMAT_1_JSON).await;
}
