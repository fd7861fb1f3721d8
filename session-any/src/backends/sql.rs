//! `sqlite:`, `postgres://` and `mysql://`: the SQL table store.
//!
//! Our parameters are taken out of the URL; the rest goes to sqlx, which reads them
//! itself. sqlx's own parameters are listed here one by one (both of its spellings
//! where it has two, so URLs written for sqlx keep working): sqlx ignores a parameter it
//! does not know on PostgreSQL and MySQL, so without the list a typo in `sslmode`
//! would silently connect without TLS.

use std::sync::Arc;
use std::time::Duration;

use session_core::{Result, SessionStore};
use session_sql::{ConnectOptions, SqlStore, TableName};

use crate::url::{Backend, StoreUrl};

/// `?session_table=name` (default `sessions`).
const TABLE: &str = "session_table";
/// `?migrate=BOOL`: create the table if missing (default true).
const MIGRATE: &str = "migrate";
/// `?timeout=DURATION`: bounds every operation and the wait for a connection.
const TIMEOUT: &str = "timeout";
/// `?max_record_size=SIZE|none`.
const MAX_RECORD_SIZE: &str = "max_record_size";
const OURS: [&str; 4] = [TABLE, MIGRATE, TIMEOUT, MAX_RECORD_SIZE];

/// Our parameters, then sqlx 0.8's SQLite ones.
#[cfg(feature = "sqlite")]
const SQLITE_PARAMS: &[&str] = &[
    TABLE,
    MIGRATE,
    TIMEOUT,
    MAX_RECORD_SIZE,
    "mode",
    "cache",
    "immutable",
    "vfs",
];

/// Our parameters, then sqlx 0.8's PostgreSQL ones (`options[NAME]` sets one server
/// setting).
#[cfg(feature = "postgres")]
const POSTGRES_PARAMS: &[&str] = &[
    TABLE,
    MIGRATE,
    TIMEOUT,
    MAX_RECORD_SIZE,
    "sslmode",
    "ssl-mode",
    "sslrootcert",
    "ssl-root-cert",
    "ssl-ca",
    "sslcert",
    "ssl-cert",
    "sslkey",
    "ssl-key",
    "statement-cache-capacity",
    "host",
    "hostaddr",
    "port",
    "dbname",
    "user",
    "password",
    "application_name",
    "options",
    "options[]",
];

/// Our parameters, then sqlx 0.8's MySQL/MariaDB ones. sqlx takes no password from a
/// MySQL query: it goes in the user info (`mysql://user:password@host/db`).
#[cfg(feature = "mysql")]
const MYSQL_PARAMS: &[&str] = &[
    TABLE,
    MIGRATE,
    TIMEOUT,
    MAX_RECORD_SIZE,
    "sslmode",
    "ssl-mode",
    "sslca",
    "ssl-ca",
    "sslcert",
    "ssl-cert",
    "sslkey",
    "ssl-key",
    "charset",
    "collation",
    "statement-cache-capacity",
    "socket",
    "timezone",
    "time-zone",
];

/// `sqlite://path`, `sqlite::memory:`.
#[cfg(feature = "sqlite")]
pub(crate) static SQLITE: Backend = Backend {
    params: SQLITE_PARAMS,
    check: |url| options(url).map(drop),
    open: |url, ctx| Box::pin(open(url, ctx.clock)),
};

/// `postgres://`, `postgresql://`.
#[cfg(feature = "postgres")]
pub(crate) static POSTGRES: Backend = Backend {
    params: POSTGRES_PARAMS,
    check: |url| options(url).map(drop),
    open: |url, ctx| Box::pin(open(url, ctx.clock)),
};

/// `mysql://`, `mariadb://`.
#[cfg(feature = "mysql")]
pub(crate) static MYSQL: Backend = Backend {
    params: MYSQL_PARAMS,
    check: |url| options(url).map(drop),
    open: |url, ctx| Box::pin(open(url, ctx.clock)),
};

/// What an SQL URL says besides the driver's part.
struct Options {
    table: TableName,
    migrate: bool,
    timeout: Option<Duration>,
    /// `None`: the store's default; `Some(None)`: no limit.
    max_record_size: Option<Option<usize>>,
    /// The URL without our parameters, for sqlx.
    driver_url: String,
}

/// The table an SQL URL names.
pub(crate) fn table(url: &StoreUrl) -> Result<TableName> {
    match url.params().text(TABLE) {
        Some(name) => TableName::new(name),
        None => Ok(TableName::default()),
    }
}

fn options(url: &StoreUrl) -> Result<Options> {
    let params = url.params();
    Ok(Options {
        table: table(url)?,
        migrate: params.bool(MIGRATE)?.unwrap_or(true),
        timeout: params.timeout(TIMEOUT)?,
        max_record_size: params.limit(MAX_RECORD_SIZE)?,
        driver_url: driver_url(url)?,
    })
}

/// Connects, picks the table and creates it if missing (unless `migrate` is false;
/// migration is idempotent and safe to run from several instances at once). A
/// `timeout` bounds every operation, including the wait for a connection while the
/// server is down (default: 5 s to get a connection, no bound on a statement).
async fn open(url: StoreUrl, clock: session_core::Clock) -> Result<Arc<dyn SessionStore>> {
    let o = options(&url)?;
    let mut store = match o.timeout {
        Some(t) => {
            let connect = ConnectOptions::new().acquire_timeout(t);
            SqlStore::connect_with(&o.driver_url, connect)
                .await?
                .with_operation_timeout(t)
        }
        None => SqlStore::connect(&o.driver_url).await?,
    }
    .with_clock(clock)
    .with_table(o.table);
    if let Some(limit) = o.max_record_size {
        store = store.with_max_record_size(limit);
    }
    if o.migrate {
        store.migrate().await?;
    }
    Ok(Arc::new(store))
}

/// The URL without our parameters. Left as written when it has none of them, so the
/// `url` crate never re-renders what sqlx parses (`sqlite::memory:`, relative paths).
fn driver_url(url: &StoreUrl) -> Result<String> {
    if !OURS.iter().any(|k| url.params().contains(k)) {
        return Ok(url.as_str().to_owned());
    }
    let parsed = url.parsed()?;
    let kept: Vec<(String, String)> = parsed
        .query_pairs()
        .filter(|(k, _)| !OURS.contains(&k.as_ref()))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let mut out = parsed;
    if kept.is_empty() {
        out.set_query(None);
    } else {
        out.query_pairs_mut().clear().extend_pairs(kept);
    }
    Ok(out.as_str().to_owned())
}
