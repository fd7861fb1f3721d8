//! `sqlite:`, `postgres://` and `mysql://`: the SQL table store. session-sql reads the
//! URLs ([`SqlOptions`]), sqlx's own parameters included.

use std::sync::Arc;

use session_core::{Result, SessionStore};
use session_sql::{SqlOptions, SqlStore, TableName};

use crate::url::{Backend, OpenContext, StoreUrl};

/// `sqlite://path`, `sqlite::memory:`.
#[cfg(feature = "sqlite")]
pub(crate) static SQLITE: Backend = Backend {
    params: SqlOptions::SQLITE_URL_PARAMS,
    check,
    open: |url, ctx| Box::pin(open(url, ctx)),
};

/// `postgres://`, `postgresql://`.
#[cfg(feature = "postgres")]
pub(crate) static POSTGRES: Backend = Backend {
    params: SqlOptions::POSTGRES_URL_PARAMS,
    check,
    open: |url, ctx| Box::pin(open(url, ctx)),
};

/// `mysql://`, `mariadb://`.
#[cfg(feature = "mysql")]
pub(crate) static MYSQL: Backend = Backend {
    params: SqlOptions::MYSQL_URL_PARAMS,
    check,
    open: |url, ctx| Box::pin(open(url, ctx)),
};

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
