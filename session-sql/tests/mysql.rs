//! `SqlStore` on a real MariaDB or MySQL server (`SESSION_TEST_MYSQL_URL`, default
//! `mysql://root@127.0.0.1:3306/test`): the whole conformance suite, each case
//! in a fresh table that is dropped afterwards (its cases include exact compare-and-set
//! under contention), plus concurrent migrations and table-name validation.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

mod common;

use common::Server;
use session_core::SessionStore;
use session_sql::{Backend, SqlPool};

common::server_tests!(mysql, mysql_limited, Server::MySql, Backend::MySql);

/// MySQL's BLOB stops at 64 KiB; the column is a LONGBLOB, so sessions past that
/// round-trip whole.
#[tokio::test]
async fn sessions_over_64_kib_roundtrip() {
    let (store, _guard) = common::server_table(Server::MySql).await;
    for size in [64 * 1024, 70 * 1024, 1 << 20] {
        common::large_session_roundtrip(&store, size).await;
    }
}

#[tokio::test]
async fn schema_has_the_documented_types() {
    let (store, _guard) = common::server_table(Server::MySql).await;
    let SqlPool::MySql(pool) = store.pool() else {
        panic!("a MySQL pool");
    };
    let columns: Vec<(String, String)> = sqlx::query_as(
        "SELECT CAST(column_name AS CHAR), CAST(column_type AS CHAR) \
         FROM information_schema.columns \
         WHERE table_schema = DATABASE() AND table_name = ? ORDER BY ordinal_position",
    )
    .bind(store.table().table())
    .fetch_all(pool)
    .await
    .unwrap();
    let expected = [
        ("session_id", "char(64)"),
        ("atime", "bigint(20)"),
        ("expires_at", "bigint(20)"),
        ("version", "bigint(20)"),
        ("data", "longblob"),
        ("user_key", "char(64)"),
    ];
    let columns: Vec<(&str, &str)> = columns
        .iter()
        .map(|(c, t)| (c.as_str(), t.as_str()))
        .collect();
    assert_eq!(columns, expected);
    let indexed: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM information_schema.statistics WHERE table_schema = DATABASE() \
         AND table_name = ? AND column_name = 'expires_at'",
    )
    .bind(store.table().table())
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(indexed, 1);
    assert_eq!(store.count().await.unwrap(), 0);
}
