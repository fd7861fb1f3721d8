//! Helpers shared by the integration tests: test servers, per-fixture tables that clean
//! up after themselves, and the checks every backend runs.

#![allow(dead_code)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rand::Rng;
use serde_json::json;
use session_conformance::{record_of_size, Fixture};
use session_core::{
    Clock, Error, Record, SessionId, SessionStore, StoreSettings, Timestamp,
    DEFAULT_MAX_RECORD_SIZE,
};
use session_sql::{Backend, ConnectOptions, SqlStore, TableName};
use session_test_servers::Service;

/// Prefix of every table the tests create; nothing else is ever dropped.
const TEST_PREFIX: &str = "sqltest_";
/// Test tables older than this are leftovers of a killed run and are swept.
const STALE_AFTER: Duration = Duration::from_secs(3600);

/// A database server the tests need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Server {
    Postgres,
    MySql,
}

impl Server {
    fn service(self) -> Service {
        match self {
            Server::Postgres => Service::Postgres,
            Server::MySql => Service::MySql,
        }
    }

    /// The server's URL: `SESSION_TEST_<KIND>_URL`, or the local default.
    pub fn url(self) -> String {
        self.service().url()
    }
}

/// Fails the test, loudly, with how to start the server: never a silent skip.
fn unreachable_server(server: Server, error: &str) -> ! {
    server.service().unreachable(&server.url(), error)
}

/// Probes `server` once per test process, with a short timeout, so that a missing
/// server fails every test at once instead of each waiting out a pool timeout.
fn ensure_reachable(server: Server) {
    static PROBES: [OnceLock<Result<(), String>>; 2] = [OnceLock::new(), OnceLock::new()];
    let probe = PROBES[server as usize].get_or_init(|| {
        // Its own thread and runtime: the caller's runtime may be single-threaded.
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime.block_on(async {
                let options = ConnectOptions::new()
                    .max_connections(1)
                    .acquire_timeout(Duration::from_secs(3));
                let store = SqlStore::connect_with(&server.url(), options)
                    .await
                    .map_err(|e| e.to_string())?;
                store.pool().close().await;
                Ok(())
            })
        })
        .join()
        .unwrap_or_else(|_| Err("the probe panicked".to_owned()))
    });
    if let Err(e) = probe {
        unreachable_server(server, e);
    }
}

/// A store on `server` with the given connection settings. An unreachable server
/// fails the test.
pub async fn server_store(server: Server, options: ConnectOptions) -> SqlStore {
    ensure_reachable(server);
    match SqlStore::connect_with(&server.url(), options).await {
        Ok(store) => store,
        Err(e) => unreachable_server(server, &e.to_string()),
    }
}

/// A fresh, unused table name that records when it was made.
pub fn fresh_table() -> TableName {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let tag: u32 = rand::thread_rng().gen();
    TableName::new(&format!("{TEST_PREFIX}{secs}_{tag:08x}")).unwrap()
}

/// Drops its table when dropped, on its own thread and connection: the fixture's pool
/// belongs to the case's runtime, which may be shutting down.
pub struct TableGuard {
    server: Server,
    table: TableName,
}

impl TableGuard {
    pub fn new(server: Server, table: TableName) -> Self {
        TableGuard { server, table }
    }
}

impl Drop for TableGuard {
    fn drop(&mut self) {
        let server = self.server;
        let table = self.table.to_string();
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(drop_tables(server, &[table]))
        })
        .join();
        if let Ok(Err(e)) = dropped {
            eprintln!("could not drop test table {}: {e}", self.table);
        }
    }
}

async fn drop_tables(server: Server, tables: &[String]) -> Result<(), sqlx::Error> {
    // A one-connection pool, not a bare connection: a `&mut` connection executor makes
    // callers' futures fail the fixture's `Send` bound (rust-lang/rust#102211).
    let url = server.url();
    match server {
        Server::Postgres => {
            let pool = sqlx::postgres::PgPoolOptions::new()
                .max_connections(1)
                .connect(&url)
                .await?;
            for t in tables {
                let sql = format!("DROP TABLE IF EXISTS \"{t}\"");
                sqlx::raw_sql(&sql).execute(&pool).await?;
            }
            pool.close().await;
        }
        Server::MySql => {
            let pool = sqlx::mysql::MySqlPoolOptions::new()
                .max_connections(1)
                .connect(&url)
                .await?;
            for t in tables {
                let sql = format!("DROP TABLE IF EXISTS `{t}`");
                sqlx::raw_sql(&sql).execute(&pool).await?;
            }
            pool.close().await;
        }
    }
    Ok(())
}

/// Drops test tables that a killed run left behind: only names this module makes,
/// and only those older than an hour, so a concurrent run's tables are safe.
async fn sweep_stale_tables(server: Server) {
    static SWEPT: [AtomicBool; 2] = [AtomicBool::new(false), AtomicBool::new(false)];
    if SWEPT[server as usize].swap(true, Ordering::SeqCst) {
        return;
    }
    let url = server.url();
    let list = "SELECT CAST(table_name AS CHAR(128)) FROM information_schema.tables \
                WHERE table_schema = {schema} AND table_name LIKE 'sqltest\\_%'";
    let names: Vec<String> = match server {
        Server::Postgres => {
            let Ok(pool) = sqlx::PgPool::connect(&url).await else {
                return;
            };
            let sql = list
                .replace("{schema}", "current_schema()")
                .replace("CHAR(128)", "TEXT");
            let names = sqlx::query_scalar(&sql).fetch_all(&pool).await;
            pool.close().await;
            names.unwrap_or_default()
        }
        Server::MySql => {
            let Ok(pool) = sqlx::MySqlPool::connect(&url).await else {
                return;
            };
            let sql = list.replace("{schema}", "DATABASE()");
            let names = sqlx::query_scalar(&sql).fetch_all(&pool).await;
            pool.close().await;
            names.unwrap_or_default()
        }
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let stale: Vec<String> = names
        .into_iter()
        .filter(|name| {
            let made = name
                .strip_prefix(TEST_PREFIX)
                .and_then(|rest| rest.split('_').next())
                .and_then(|secs| secs.parse::<u64>().ok());
            made.is_some_and(|t| now.saturating_sub(t) > STALE_AFTER.as_secs())
        })
        .collect();
    if !stale.is_empty() {
        let _ = drop_tables(server, &stale).await;
    }
}

/// The connection settings of the server fixtures: a small pool, so 2 cores and the
/// servers' connection limits cope with cases running side by side.
pub fn test_options() -> ConnectOptions {
    ConnectOptions::new()
        .max_connections(8)
        .acquire_timeout(Duration::from_secs(10))
}

/// A store on `server` in a fresh table that is dropped with the returned guard.
pub async fn server_table(server: Server) -> (SqlStore, TableGuard) {
    ensure_reachable(server);
    sweep_stale_tables(server).await;
    let table = fresh_table();
    let store = server_store(server, test_options())
        .await
        .with_table(table.clone());
    let guard = TableGuard::new(server, table);
    store.migrate().await.unwrap();
    (store, guard)
}

/// Every `(session_id, data)` in the store's table, as raw bytes.
pub async fn raw_rows(store: &SqlStore) -> Vec<(Vec<u8>, Vec<u8>)> {
    store.raw_entries().await.unwrap()
}

/// A conformance fixture around `store`, with its raw dump and `guard`.
pub fn fixture<G: Send + Sync + 'static>(store: SqlStore, guard: G) -> Fixture {
    let view = store.clone();
    Fixture::new(store)
        .with_raw_dump(move || {
            let view = view.clone();
            async move { raw_rows(&view).await }
        })
        .with_guard(guard)
}

/// The tests every database server runs, written once: the conformance suite in a
/// fresh table per case (as `$name`, and with a 16 KiB record limit as `$limited`),
/// then migrations, table-name validation, size limits, leftovers and batched sweeps.
#[allow(unused_macros)] // sqlite.rs has no server
macro_rules! server_tests {
    ($name:ident, $limited:ident, $server:expr, $backend:expr) => {
        session_conformance::suite!(
            $name,
            fixture = |clock| crate::common::server_fixture($server, clock, None)
        );

        session_conformance::suite!(
            $limited,
            fixture = |clock| crate::common::server_fixture($server, clock, Some(16 * 1024))
        );

        #[tokio::test]
        async fn migrate_twice() {
            let (store, _guard) = crate::common::server_table($server).await;
            crate::common::assert_backend(&store, $backend);
            crate::common::migrate_is_idempotent(&store).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn migrate_twice_at_once_from_two_pools() {
            let a = crate::common::server_store($server, crate::common::test_options()).await;
            let b = crate::common::server_store($server, crate::common::test_options()).await;
            let tables: Vec<session_sql::TableName> =
                (0..5).map(|_| crate::common::fresh_table()).collect();
            let _guards: Vec<_> = tables
                .iter()
                .map(|t| crate::common::TableGuard::new($server, t.clone()))
                .collect();
            crate::common::migrate_concurrently(a, b, tables).await;
        }

        #[tokio::test]
        async fn hostile_table_names_are_config_errors() {
            let (store, _guard) = crate::common::server_table($server).await;
            crate::common::table_name_injection(&store).await;
        }

        #[tokio::test]
        async fn too_large_is_refused_before_any_io() {
            let (store, _guard) = crate::common::server_table($server).await;
            crate::common::too_large_before_io(store).await;
        }

        #[tokio::test]
        async fn large_sessions_roundtrip() {
            let (store, _guard) = crate::common::server_table($server).await;
            crate::common::large_session_roundtrip(&store, 3 << 20).await;
        }

        #[tokio::test]
        async fn expired_leftovers_and_unchanged_writes() {
            let (store, _guard) = crate::common::server_table($server).await;
            crate::common::leftovers_and_unchanged_writes(store).await;
        }

        #[tokio::test]
        async fn delete_expired_in_batches() {
            let (store, _guard) = crate::common::server_table($server).await;
            crate::common::sweep_in_batches(store).await;
        }
    };
}
#[allow(unused_imports)]
pub(crate) use server_tests;

/// A conformance fixture on `server`, in a fresh table, on `clock`.
pub async fn server_fixture(server: Server, clock: Clock, limit: Option<usize>) -> Fixture {
    let (store, guard) = server_table(server).await;
    let mut settings = StoreSettings::new().with_clock(clock);
    if let Some(limit) = limit {
        settings = settings.with_max_record_size(Some(limit));
    }
    let store = store.with_settings(settings);
    fixture(store, guard)
}

/// `migrate` on an already migrated table changes nothing and keeps the data.
pub async fn migrate_is_idempotent(store: &SqlStore) {
    store.migrate().await.unwrap();
    let now = Timestamp::from_system(SystemTime::now());
    let r = Record::new(
        SessionId::generate(),
        [("k".to_owned(), json!("v"))].into_iter().collect(),
        now,
        now.saturating_add(Duration::from_secs(60)),
    );
    let cookie = store.create(&r).await.unwrap();
    store.migrate().await.unwrap();
    store.migrate().await.unwrap();
    assert_eq!(store.load(&cookie).await.unwrap(), Some(r));
}

/// Two stores on separate pools migrate the same new table at the same instant, a
/// few times over: both succeed and the table works.
pub async fn migrate_concurrently(a: SqlStore, b: SqlStore, tables: Vec<TableName>) {
    for table in tables {
        let a = a.clone().with_table(table.clone());
        let b = b.clone().with_table(table);
        let (ra, rb) = tokio::join!(a.migrate(), b.migrate());
        ra.unwrap();
        rb.unwrap();
        let now = Timestamp::from_system(SystemTime::now());
        let r = Record::new(
            SessionId::generate(),
            Default::default(),
            now,
            now.saturating_add(Duration::from_secs(60)),
        );
        let cookie = a.create(&r).await.unwrap();
        assert_eq!(b.load(&cookie).await.unwrap(), Some(r));
        assert_eq!(b.count().await.unwrap(), 1);
    }
}

/// Hostile table names are refused as `Config` before any SQL runs, and the table
/// a successful injection would have dropped is still there.
pub async fn table_name_injection(store: &SqlStore) {
    let hostile = [
        "sessions; DROP TABLE victim",
        "sessions\"; DROP TABLE victim; --",
        "sessions`; DROP TABLE victim; --",
        "sessions' OR '1'='1",
        "victim --",
        "x.y.z",
        "Sessions",
        "sess ions",
        "sessions\0",
        "sessions/**/",
        "",
    ];
    for name in hostile {
        match TableName::new(name) {
            Err(Error::Config(msg)) => assert!(msg.contains("table name"), "{msg}"),
            other => panic!("{name:?} gave {other:?}"),
        }
        match name.parse::<TableName>() {
            Err(Error::Config(_)) => {}
            other => panic!("{name:?} parsed to {other:?}"),
        }
    }
    // The store's own table is untouched and still answers.
    assert_eq!(store.count().await.unwrap(), 0);
}

/// A record over the store's limit is `TooLarge` before any I/O: the store points at
/// a table that does not exist, so any statement would have failed with `Backend`.
/// First with the default limit (no setter called), then with a configured one.
pub async fn too_large_before_io(store: SqlStore) {
    let store = store.with_table(TableName::new("sqltest_never_created").unwrap());
    assert_eq!(
        store.capabilities().max_record_size,
        Some(DEFAULT_MAX_RECORD_SIZE)
    );
    let over_default = record_of_size(DEFAULT_MAX_RECORD_SIZE + 1);
    for result in [
        store.create(&over_default).await,
        store.save(&over_default, 1).await,
    ] {
        match result {
            Err(Error::TooLarge { limit, size }) => {
                assert_eq!((limit, size), (DEFAULT_MAX_RECORD_SIZE, limit + 1))
            }
            other => panic!("default limit: {other:?}"),
        }
    }

    let settings = store.settings().clone().with_max_record_size(Some(1024));
    let store = store.with_settings(settings);
    let now = Timestamp::from_system(SystemTime::now());
    let big = Record::new(
        SessionId::generate(),
        [("blob".to_owned(), json!("x".repeat(4096)))]
            .into_iter()
            .collect(),
        now,
        now.saturating_add(Duration::from_secs(60)),
    );
    match store.create(&big).await {
        Err(Error::TooLarge { limit: 1024, size }) => assert!(size > 4096),
        other => panic!("create: {other:?}"),
    }
    match store.save(&big, 1).await {
        Err(Error::TooLarge { limit: 1024, .. }) => {}
        other => panic!("save: {other:?}"),
    }
    assert_eq!(store.capabilities().max_record_size, Some(1024));
    // Malformed cookies are answered before any I/O too.
    assert_eq!(store.load("not an id").await.unwrap(), None);
    // And the missing table really would have failed, with a hint.
    match store.count().await {
        Err(Error::Backend(e)) => assert!(e.to_string().contains("migrate"), "{e}"),
        other => panic!("count on a missing table: {other:?}"),
    }
}

/// A session of `size` bytes of payload round-trips, and the stored bytes are the
/// whole envelope. The store's own limit is lifted: this is about what the database
/// and the driver take.
pub async fn large_session_roundtrip(store: &SqlStore, size: usize) {
    let settings = store.settings().clone().with_max_record_size(None);
    let store = &store.clone().with_settings(settings);
    let now = Timestamp::from_system(SystemTime::now());
    // Varied text so that nothing in the path can shrink it.
    let payload: String = (0..size)
        .map(|i| char::from(b'a' + ((i * 7 + i / 13) % 26) as u8))
        .collect();
    let r = Record::new(
        SessionId::generate(),
        [("blob".to_owned(), json!(payload))].into_iter().collect(),
        now,
        now.saturating_add(Duration::from_secs(60)),
    );
    let cookie = store.create(&r).await.unwrap();
    assert_eq!(store.load(&cookie).await.unwrap().as_ref(), Some(&r));
    let mut grown = r.clone();
    grown
        .data
        .insert("more".to_owned(), json!("y".repeat(size / 2)));
    grown.version += 1;
    store.save(&grown, r.version).await.unwrap();
    assert_eq!(store.load(&cookie).await.unwrap(), Some(grown));
}

/// The backend of `store`, checked.
pub fn assert_backend(store: &SqlStore, backend: Backend) {
    assert_eq!(store.backend(), backend);
    assert_eq!(store.pool().backend(), backend);
}

/// What the suite leaves open, pinned down: an expired leftover under a new record's
/// key is replaced (never a live one), and writes that change no value still count
/// as matched (MySQL reports changed rows unless asked for found rows).
pub async fn leftovers_and_unchanged_writes(store: SqlStore) {
    let clock = session_core::ManualClock::new();
    let store = store.with_settings(StoreSettings::new().with_clock(clock.clone()));
    let now = clock.now();
    let old = Record::new(
        SessionId::generate(),
        [("gen".to_owned(), json!(1))].into_iter().collect(),
        now,
        now.saturating_add(Duration::from_secs(10)),
    );
    let cookie = store.create(&old).await.unwrap();
    // Live: a second create collides and changes nothing.
    let mut rival = old.clone();
    rival.data.insert("gen".to_owned(), json!("rival"));
    assert!(matches!(store.create(&rival).await, Err(Error::Collision)));
    assert_eq!(store.load(&cookie).await.unwrap().as_ref(), Some(&old));

    // Touch and save with exactly the stored values: still success, not NotFound or
    // Conflict.
    store.touch(&old).await.unwrap();
    store.touch(&old).await.unwrap();
    store.save(&old, old.version).await.unwrap();
    assert_eq!(store.load(&cookie).await.unwrap().as_ref(), Some(&old));

    // Expired: the same key can be created afresh.
    clock.advance(Duration::from_secs(11));
    let now = clock.now();
    let new = Record::new(
        old.id,
        [("gen".to_owned(), json!(2))].into_iter().collect(),
        now,
        now.saturating_add(Duration::from_secs(60)),
    );
    store.create(&new).await.unwrap();
    assert_eq!(store.load(&cookie).await.unwrap(), Some(new));
    assert_eq!(store.count().await.unwrap(), 1);
    assert_eq!(store.delete_expired().await.unwrap(), 0);
}

/// `delete_expired` goes through many batches and counts them all.
pub async fn sweep_in_batches(store: SqlStore) {
    let clock = session_core::ManualClock::new();
    let store = store
        .with_settings(StoreSettings::new().with_clock(clock.clone()))
        .with_sweep_batch(7);
    let now = clock.now();
    for i in 0..40 {
        let ttl = if i < 30 { 5 } else { 600 };
        let r = Record::new(
            SessionId::generate(),
            [("i".to_owned(), json!(i))].into_iter().collect(),
            now,
            now.saturating_add(Duration::from_secs(ttl)),
        );
        store.create(&r).await.unwrap();
    }
    assert_eq!(store.count().await.unwrap(), 40);
    clock.advance(Duration::from_secs(6));
    assert_eq!(store.count().await.unwrap(), 10);
    assert_eq!(store.delete_expired().await.unwrap(), 30);
    assert_eq!(store.delete_expired().await.unwrap(), 0);
    assert_eq!(raw_rows(&store).await.len(), 10);
}
