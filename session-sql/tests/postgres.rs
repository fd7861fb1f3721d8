//! `SqlStore` on a real PostgreSQL server (`SESSION_TEST_POSTGRES_URL`, default
//! `postgres://postgres@127.0.0.1:5432/test`): the whole conformance suite, each case
//! in a fresh table that is dropped afterwards (its cases include exact compare-and-set
//! under contention), plus concurrent migrations and table-name validation.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

mod common;

use common::Server;
use session_conformance::suite;
use session_core::SessionStore;
use session_sql::{Backend, SqlPool, TableName};

suite!(
    postgres,
    fixture = |clock| common::server_fixture(Server::Postgres, clock, None)
);

suite!(
    postgres_limited,
    fixture = |clock| common::server_fixture(Server::Postgres, clock, Some(16 * 1024))
);

#[tokio::test]
async fn migrate_twice() {
    let (store, _guard) = common::server_table(Server::Postgres).await;
    common::assert_backend(&store, Backend::Postgres);
    common::migrate_is_idempotent(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_twice_at_once_from_two_pools() {
    let a = common::server_store(Server::Postgres, common::test_options()).await;
    let b = common::server_store(Server::Postgres, common::test_options()).await;
    let tables: Vec<TableName> = (0..5).map(|_| common::fresh_table()).collect();
    let _guards: Vec<_> = tables
        .iter()
        .map(|t| common::TableGuard::new(Server::Postgres, t.clone()))
        .collect();
    common::migrate_concurrently(a, b, tables).await;
}

#[tokio::test]
async fn hostile_table_names_are_config_errors() {
    let (store, _guard) = common::server_table(Server::Postgres).await;
    common::table_name_injection(&store).await;
}

#[tokio::test]
async fn too_large_is_refused_before_any_io() {
    let (store, _guard) = common::server_table(Server::Postgres).await;
    common::too_large_before_io(store).await;
}

#[tokio::test]
async fn large_sessions_roundtrip() {
    let (store, _guard) = common::server_table(Server::Postgres).await;
    common::large_session_roundtrip(&store, 3 << 20).await;
}

#[tokio::test]
async fn schema_has_the_documented_types() {
    let (store, _guard) = common::server_table(Server::Postgres).await;
    let SqlPool::Postgres(pool) = store.pool() else {
        panic!("a PostgreSQL pool");
    };
    let columns: Vec<(String, String)> = sqlx::query_as(
        "SELECT column_name::text, data_type::text FROM information_schema.columns \
         WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
    )
    .bind(store.table().table())
    .fetch_all(pool)
    .await
    .unwrap();
    let expected = [
        ("session_id", "character varying"),
        ("atime", "bigint"),
        ("expires_at", "bigint"),
        ("version", "bigint"),
        ("data", "bytea"),
    ];
    let columns: Vec<(&str, &str)> = columns
        .iter()
        .map(|(c, t)| (c.as_str(), t.as_str()))
        .collect();
    assert_eq!(columns, expected);
    let indexed: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM pg_indexes WHERE schemaname = current_schema() \
         AND tablename = $1 AND indexdef LIKE '%(expires_at)%'",
    )
    .bind(store.table().table())
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(indexed, 1);
    assert_eq!(store.count().await.unwrap(), 0);
}

#[tokio::test]
async fn expired_leftovers_and_unchanged_writes() {
    let (store, _guard) = common::server_table(Server::Postgres).await;
    common::leftovers_and_unchanged_writes(store).await;
}

#[tokio::test]
async fn delete_expired_in_batches() {
    let (store, _guard) = common::server_table(Server::Postgres).await;
    common::sweep_in_batches(store).await;
}
