//! Tiered stores on real servers: durable SQL stores in a fresh table, Redis caches and
//! buses under a fresh prefix or channel, memcached caches on a private server (or the
//! one `SESSION_TEST_MEMCACHE_URL` names) under a fresh prefix. Every table and prefix
//! is removed when its guard drops. An unreachable server fails the test loudly
//! (`session_test_servers::Service::unreachable`): never a silent skip.

use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use session_core::{Clock, StoreSettings};
use session_memcache::{MemcacheOptions, MemcacheStore};
use session_redis::{RedisOptions, RedisStore};
use session_sql::{SqlStore, TableName};
use session_test_servers::{Memcached, Service};
use session_tiered::{PostgresBus, RedisBus};

use super::Dump;

/// A name no other test or run uses, stamped with the time it was made.
pub fn fresh_name(prefix: &str) -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    format!("{prefix}{secs}_{:016x}", rand::random::<u64>())
}

/// Runs `work` to completion on its own thread and runtime: guards run in `Drop`, when
/// the case's runtime may be shutting down.
fn on_own_runtime<F>(work: impl FnOnce() -> F + Send + 'static) -> Result<(), String>
where
    F: std::future::Future<Output = Result<(), String>>,
{
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        runtime.block_on(work())
    })
    .join()
    .unwrap_or_else(|_| Err("the clean-up panicked".to_owned()))
}

/// Drops a test table when dropped.
pub struct TableGuard {
    url: String,
    table: String,
}

impl Drop for TableGuard {
    fn drop(&mut self) {
        let (url, table) = (self.url.clone(), self.table.clone());
        let dropped = on_own_runtime(move || async move {
            let store = SqlStore::connect(&url).await.map_err(|e| e.to_string())?;
            // Test tables are plain lower-case names: no quoting needed.
            let sql = format!("DROP TABLE IF EXISTS {table}");
            let result = match store.pool() {
                session_sql::SqlPool::Postgres(p) => sqlx::raw_sql(&sql).execute(p).await.map(drop),
                session_sql::SqlPool::MySql(p) => sqlx::raw_sql(&sql).execute(p).await.map(drop),
                _ => Ok(()),
            };
            store.pool().close().await;
            result.map_err(|e| e.to_string())
        });
        if let Err(e) = dropped {
            eprintln!("could not drop test table {}: {e}", self.table);
        }
    }
}

/// A migrated SQL store on `service` (PostgreSQL or MariaDB) in a fresh table, its
/// raw dump and the guard that drops the table.
pub async fn sql(service: Service, clock: Clock) -> (SqlStore, Dump, TableGuard) {
    let url = service.url();
    let table = fresh_name("tieredtest_");
    let store = match SqlStore::connect(&url).await {
        Ok(store) => store,
        Err(e) => service.unreachable(&url, e),
    }
    .with_table(TableName::new(&table).unwrap())
    .with_settings(StoreSettings::new().with_clock(clock));
    let guard = TableGuard { url, table };
    store.migrate().await.unwrap();
    let view = store.clone();
    let dump: Dump = std::sync::Arc::new(move || {
        let view = view.clone();
        Box::pin(async move { super::sql_rows(&view).await })
    });
    (store, dump, guard)
}

/// Deletes every key under a Redis prefix when dropped.
pub struct PrefixGuard {
    url: String,
    prefix: String,
}

impl Drop for PrefixGuard {
    fn drop(&mut self) {
        let (url, prefix) = (self.url.clone(), self.prefix.clone());
        let cleaned = on_own_runtime(move || async move {
            let options = RedisOptions::new().with_prefix(prefix);
            let store = RedisStore::connect(&url, options)
                .await
                .map_err(|e| e.to_string())?;
            store
                .delete_all()
                .await
                .map(drop)
                .map_err(|e| e.to_string())
        });
        if let Err(e) = cleaned {
            eprintln!("could not clean test prefix {}: {e}", self.prefix);
        }
    }
}

/// A Redis store on the shared server (or `url`) under a fresh prefix, its raw dump and
/// the guard that empties the prefix.
pub async fn redis_at(url: &str, clock: Clock) -> (RedisStore, Dump, PrefixGuard) {
    let prefix = format!("{}:", fresh_name("tieredtest:"));
    let options = RedisOptions::new()
        .with_prefix(prefix.clone())
        .with_settings(StoreSettings::new().with_clock(clock));
    let store = match RedisStore::connect(url, options).await {
        Ok(store) => store,
        Err(e) => Service::Redis.unreachable(url, e),
    };
    let view = store.clone();
    let dump: Dump = std::sync::Arc::new(move || {
        let view = view.clone();
        Box::pin(async move { view.raw_entries().await.unwrap() })
    });
    let guard = PrefixGuard {
        url: url.to_owned(),
        prefix,
    };
    (store, dump, guard)
}

/// [`redis_at`] on the shared server.
pub async fn redis(clock: Clock) -> (RedisStore, Dump, PrefixGuard) {
    redis_at(&Service::Redis.url(), clock).await
}

/// The memcached servers the suite's caches use: `SESSION_TEST_MEMCACHE_URL`'s, else
/// one private server for this test binary (its watchdog stops it when the binary ends).
fn memcached_addrs() -> Vec<String> {
    if let Some(url) = Service::Memcache.external_url() {
        let options = MemcacheOptions::from_url(&url)
            .unwrap_or_else(|e| panic!("SESSION_TEST_MEMCACHE_URL={url:?}: {e}"));
        return options.servers().to_vec();
    }
    static PRIVATE: OnceLock<Memcached> = OnceLock::new();
    vec![PRIVATE.get_or_init(Memcached::start).addr()]
}

/// A memcached store under a fresh prefix. memcached cannot list its keys, so there is
/// no raw dump: the privacy case reads the durable store's rows only (the cache holds
/// the same envelope, under a key derived from the storage key, never the id).
pub async fn memcache(clock: Clock) -> MemcacheStore {
    let options = MemcacheOptions::new(memcached_addrs())
        .and_then(|o| o.with_prefix(format!("{}:", fresh_name("tieredtest-"))))
        .map(|o| o.with_settings(StoreSettings::new().with_clock(clock)))
        .unwrap();
    MemcacheStore::new(options).await.unwrap()
}

/// A Redis pub/sub bus on `url` on a channel no other test uses.
pub async fn redis_bus_at(url: &str) -> RedisBus {
    match RedisBus::connect(url).await {
        Ok(bus) => bus.with_channel(fresh_name("session-tiered-test:")),
        Err(e) => Service::Redis.unreachable(url, e),
    }
}

/// A PostgreSQL `LISTEN`/`NOTIFY` bus on a channel no other test uses.
pub async fn postgres_bus() -> PostgresBus {
    let url = Service::Postgres.url();
    match PostgresBus::connect(&url).await {
        Ok(bus) => bus.with_channel(fresh_name("tieredtest_")),
        Err(e) => Service::Postgres.unreachable(&url, e),
    }
}
