//! `SqlStore` on a real PostgreSQL server (`SESSION_TEST_POSTGRES_URL`, default
//! `postgres://postgres@127.0.0.1:5432/test`): the whole conformance suite, each case
//! in a fresh table that is dropped afterwards (its cases include exact compare-and-set
//! under contention), plus concurrent migrations and table-name validation.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

mod common;

use common::Server;
use session_core::SessionStore;
use session_sql::{Backend, SqlPool};

common::server_tests!(
    postgres,
    postgres_limited,
    Server::Postgres,
    Backend::Postgres
);

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
        ("user_key", "character varying"),
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
