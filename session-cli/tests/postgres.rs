//! `session-admin` against PostgreSQL (`SESSION_TEST_POSTGRES_URL`, default
//! `postgres://postgres@127.0.0.1:5432/test`), in a table of its own.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code

mod common;

use common::*;
use session_any::AnyStore;
use session_sql::sqlx;
use session_test_servers::Service;

fn server_url() -> String {
    Service::Postgres.url()
}

/// The server's URL with the session table `table`.
fn table_url(table: &str) -> String {
    let base = server_url();
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}session_table={table}")
}

/// Drops the test's table when dropped, on its own thread and runtime.
struct TableGuard(String);

impl Drop for TableGuard {
    fn drop(&mut self) {
        let table = self.0.clone();
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                let pool = sqlx::postgres::PgPoolOptions::new()
                    .max_connections(1)
                    .connect(&server_url())
                    .await?;
                sqlx::raw_sql(&format!("DROP TABLE IF EXISTS \"{table}\""))
                    .execute(&pool)
                    .await?;
                pool.close().await;
                Ok::<(), sqlx::Error>(())
            })
        })
        .join();
    }
}

#[tokio::test]
async fn postgres_store() {
    let table = format!("admintest_{}", fresh_tag());
    let _guard = TableGuard(table.clone());
    let base = server_url();
    let url = table_url(&table);

    // An admin command never creates the table; `migrate` does.
    let missing = admin(&url, &["stats"]);
    if missing.stderr.contains("connect") {
        Service::Postgres.unreachable(&base, &missing.stderr);
    }
    missing.expect(FAILURE);
    assert_eq!(admin_json(&url, &["migrate"])["table"], table.as_str());
    assert_stats(&url, 0, 0);

    let seeded = {
        let store = AnyStore::open(&url).await.unwrap();
        seed(&store, 8, 6, None).await
    };
    scenario(&url, &seeded, || async {
        AnyStore::open(&url).await.unwrap()
    })
    .await;
}

#[tokio::test]
async fn postgres_store_user_sessions() {
    let table = format!("admintest_{}", fresh_tag());
    let _guard = TableGuard(table.clone());
    let url = table_url(&table);
    admin_json(&url, &["migrate"]);
    let store = AnyStore::open(&url).await.unwrap();
    user_scenario(&url, store, &fresh_tag()).await;
}
