//! The five backends the workspace's own adapters run the HTTP suite on: memory, files
//! (a temp dir), SQLite (`sqlite::memory:`, migrated), Redis (the shared server through
//! `session-test-servers`, a fresh key prefix per test, deleted afterwards; never
//! `FLUSHALL`) and the cookie store.
//!
//! Not part of the published crate: session-tower's and session-actix's
//! `tests/http_suite.rs` include it by path (`#[macro_use] #[path = ...] mod backends;`)
//! and call `every_backend!(TheirAdapter)`, so both run the same backends from one
//! place. Their dev-dependencies provide the stores.

#![allow(dead_code)]

use session_conformance_http::Fixture;
use session_core::{Clock, StoreSettings};

/// `http_suite!` once per backend, in modules `memory`, `file`, `sqlite`, `redis` and
/// `cookie`.
macro_rules! every_backend {
    ($adapter:expr) => {
        session_conformance_http::http_suite!(memory, $adapter, |clock| async move {
            session_core::MemoryStore::new()
                .with_settings(session_core::StoreSettings::new().with_clock(clock))
        });
        session_conformance_http::http_suite!(file, $adapter, fixture = crate::backends::file);
        session_conformance_http::http_suite!(sqlite, $adapter, crate::backends::sqlite);
        session_conformance_http::http_suite!(redis, $adapter, fixture = crate::backends::redis);
        session_conformance_http::http_suite!(cookie, $adapter, crate::backends::cookie);
    };
}

/// A file store in a temp dir that lives as long as the test.
pub async fn file(clock: Clock) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let options = session_file::FileOptions::new(dir.path())
        .with_settings(StoreSettings::new().with_clock(clock));
    let store = session_file::FileStore::open_with(options).await.unwrap();
    Fixture::new(store).with_guard(dir)
}

/// A migrated in-memory SQLite store.
pub async fn sqlite(clock: Clock) -> session_sql::SqlStore {
    let store = session_sql::SqlStore::connect("sqlite::memory:")
        .await
        .unwrap()
        .with_settings(StoreSettings::new().with_clock(clock));
    store.migrate().await.unwrap();
    store
}

/// The sealed cookie store.
pub async fn cookie(clock: Clock) -> session_cookie::CookieStore {
    session_cookie::CookieStore::builder()
        .secret([9u8; 32])
        .clock(clock)
        .build()
        .unwrap()
}

/// A Redis store on the shared server under a key prefix no other test or run shares,
/// whose keys are deleted when the test ends, passed or not.
pub async fn redis(clock: Clock) -> Fixture {
    let url = session_test_servers::Service::Redis.url();
    let prefix = format!(
        "sessiontest:http-suite:{}:",
        session_core::SessionId::generate()
    );
    let options = session_redis::RedisOptions::new()
        .with_prefix(prefix.clone())
        .with_settings(StoreSettings::new().with_clock(clock));
    let store = session_redis::RedisStore::connect(&url, options)
        .await
        .unwrap_or_else(|e| session_test_servers::Service::Redis.unreachable(&url, e));
    Fixture::new(store).with_guard(RedisPrefix { url, prefix })
}

/// Deletes every key under a test's Redis prefix when dropped.
struct RedisPrefix {
    url: String,
    prefix: String,
}

impl Drop for RedisPrefix {
    fn drop(&mut self) {
        let (url, prefix) = (self.url.clone(), self.prefix.clone());
        // Its own thread and runtime: the test's runtime may be shutting down.
        let cleanup = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                let options = session_redis::RedisOptions::new().with_prefix(prefix);
                if let Ok(store) = session_redis::RedisStore::connect(&url, options).await {
                    let _ = store.delete_all().await;
                }
            });
        });
        let _ = cleanup.join();
    }
}
