//! `sqlite:`, `postgres://` and `mysql://`: the SQL table store. session-sql reads the
//! URLs ([`SqlOptions`]), sqlx's own parameters included.

use std::sync::Arc;

#[cfg(any(feature = "postgres", feature = "mysql"))]
use std::time::Duration;

use session_core::{Result, SessionStore};
use session_sql::{SqlOptions, SqlStore, TableName};

use crate::url::{Backend, OpenContext, StoreUrl};
#[cfg(any(feature = "postgres", feature = "mysql"))]
use {crate::lazy::LazyPlan, crate::url::with_connect, session_core::Capabilities};

/// How long session-sql waits for a connection when the URL sets no `timeout`
/// (`session_sql::ConnectOptions`' default acquire timeout).
#[cfg(any(feature = "postgres", feature = "mysql"))]
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// `sqlite://path`, `sqlite::memory:`.
#[cfg(feature = "sqlite")]
pub(crate) static SQLITE: Backend = Backend {
    params: SqlOptions::SQLITE_URL_PARAMS,
    lazy: None,
    check,
    open: |url, ctx| Box::pin(open(url, ctx)),
};

#[cfg(feature = "postgres")]
static POSTGRES_PARAMS: [&str; SqlOptions::POSTGRES_URL_PARAMS.len() + 1] =
    with_connect(SqlOptions::POSTGRES_URL_PARAMS);

/// `postgres://`, `postgresql://`.
#[cfg(feature = "postgres")]
pub(crate) static POSTGRES: Backend = Backend {
    params: &POSTGRES_PARAMS,
    check,
    open: |url, ctx| Box::pin(open(url, ctx)),
    lazy: Some(plan),
};

#[cfg(feature = "mysql")]
static MYSQL_PARAMS: [&str; SqlOptions::MYSQL_URL_PARAMS.len() + 1] =
    with_connect(SqlOptions::MYSQL_URL_PARAMS);

/// `mysql://`, `mariadb://`.
#[cfg(feature = "mysql")]
pub(crate) static MYSQL: Backend = Backend {
    params: &MYSQL_PARAMS,
    check,
    open: |url, ctx| Box::pin(open(url, ctx)),
    lazy: Some(plan),
};

/// What `SqlStore::capabilities` answers on every database: only the record limit
/// comes from the URL. A test compares it with a connected store's.
#[cfg(any(feature = "postgres", feature = "mysql"))]
fn plan(url: &StoreUrl) -> Result<LazyPlan> {
    let options = SqlOptions::from_url(url.as_str())?;
    // The name `SqlStore::backend` answers once connected.
    let backend = match url.scheme().name() {
        "postgres" | "postgresql" => "postgres",
        _ => "mysql",
    };
    Ok(LazyPlan {
        store: "sql",
        backend,
        capabilities: Capabilities::new()
            .with_compare_and_set(true)
            .with_enumerate(true)
            .with_user_index(true)
            .with_max_record_size(options.settings().max_record_size()),
        connect_timeout: options.timeout().unwrap_or(DEFAULT_CONNECT_TIMEOUT),
    })
}

fn check(url: &StoreUrl) -> Result<()> {
    SqlOptions::from_url(url.as_str()).map(drop)
}

/// The table an SQL URL names.
pub(crate) fn table(url: &StoreUrl) -> Result<TableName> {
    match url.params().text("session_table") {
        Some(name) => TableName::new(name),
        None => Ok(TableName::default()),
    }
}

async fn open(url: StoreUrl, ctx: OpenContext) -> Result<Arc<dyn SessionStore>> {
    let options = SqlOptions::from_url(url.as_str())?;
    let options = options
        .clone()
        .with_settings(ctx.clocked(options.settings()));
    Ok(Arc::new(SqlStore::open_with(options).await?))
}
