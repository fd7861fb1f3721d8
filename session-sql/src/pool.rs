//! The connection pool a store runs on: the app's own sqlx pool, of whichever database.

use crate::Backend;

/// A sqlx pool of one of the supported databases.
///
/// Typed pools rather than `sqlx::AnyPool`: apps already hold a `SqlitePool`, `PgPool`
/// or `MySqlPool` (sqlx 0.8), and cannot turn one into an `AnyPool`; the typed drivers
/// also keep native column types (`BYTEA`, `LONGBLOB`) and precise error codes, which
/// `Any` flattens. Build one with `From`: `SqlPool::from(pg_pool)`, or let
/// [`SqlStore::new`](crate::SqlStore::new) do it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum SqlPool {
    /// An SQLite pool.
    #[cfg(feature = "sqlite")]
    #[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
    Sqlite(sqlx::SqlitePool),
    /// A PostgreSQL pool.
    #[cfg(feature = "postgres")]
    #[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
    Postgres(sqlx::PgPool),
    /// A MySQL or MariaDB pool.
    #[cfg(feature = "mysql")]
    #[cfg_attr(docsrs, doc(cfg(feature = "mysql")))]
    MySql(sqlx::MySqlPool),
}

/// Runs `$body` with `$p` bound to the concrete sqlx pool inside a [`SqlPool`].
macro_rules! with_pool {
    ($pool:expr, $p:ident => $body:expr) => {
        match $pool {
            #[cfg(feature = "sqlite")]
            $crate::SqlPool::Sqlite($p) => $body,
            #[cfg(feature = "postgres")]
            $crate::SqlPool::Postgres($p) => $body,
            #[cfg(feature = "mysql")]
            $crate::SqlPool::MySql($p) => $body,
        }
    };
}
pub(crate) use with_pool;

impl SqlPool {
    /// Which database the pool talks to.
    pub fn backend(&self) -> Backend {
        match self {
            #[cfg(feature = "sqlite")]
            SqlPool::Sqlite(_) => Backend::Sqlite,
            #[cfg(feature = "postgres")]
            SqlPool::Postgres(_) => Backend::Postgres,
            #[cfg(feature = "mysql")]
            SqlPool::MySql(_) => Backend::MySql,
        }
    }

    /// Closes every connection of the pool (and of its clones) and waits for them.
    pub async fn close(&self) {
        with_pool!(self, p => p.close().await)
    }
}

#[cfg(feature = "sqlite")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
impl From<sqlx::SqlitePool> for SqlPool {
    fn from(pool: sqlx::SqlitePool) -> Self {
        SqlPool::Sqlite(pool)
    }
}

#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
impl From<sqlx::PgPool> for SqlPool {
    fn from(pool: sqlx::PgPool) -> Self {
        SqlPool::Postgres(pool)
    }
}

#[cfg(feature = "mysql")]
#[cfg_attr(docsrs, doc(cfg(feature = "mysql")))]
impl From<sqlx::MySqlPool> for SqlPool {
    fn from(pool: sqlx::MySqlPool) -> Self {
        SqlPool::MySql(pool)
    }
}
