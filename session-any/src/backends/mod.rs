//! One backend per scheme family: the query parameters it takes, a check that needs no
//! I/O, and an opener. The scheme table in `url.rs` points at these.

use std::sync::Arc;

use session_core::{Error, MemoryStore, SessionStore};

use crate::url::{Backend, OpenContext, StoreUrl};

#[cfg(feature = "cookie")]
mod cookie;
#[cfg(feature = "cookie")]
pub(crate) use cookie::COOKIE;
#[cfg(feature = "cookie")]
pub use session_cookie::COOKIE_SECRET_ENV;

#[cfg(feature = "file")]
mod file;
#[cfg(feature = "file")]
pub(crate) use file::{FILE, SHELF};

#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
mod sql;
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
pub(crate) use sql::table as sql_table;
#[cfg(feature = "mysql")]
pub(crate) use sql::MYSQL;
#[cfg(feature = "postgres")]
pub(crate) use sql::POSTGRES;
#[cfg(feature = "sqlite")]
pub(crate) use sql::SQLITE;

#[cfg(feature = "redis")]
mod redis;
#[cfg(feature = "redis")]
pub(crate) use redis::{REDIS, REDIS_CLUSTER};

#[cfg(feature = "memcache")]
mod memcache;
#[cfg(feature = "memcache")]
pub(crate) use memcache::MEMCACHE;

/// `memory://[?max_record_size=SIZE|none]`: development and tests only.
pub(crate) static MEMORY: Backend = Backend {
    params: &["max_record_size"],
    lazy: None,
    check: check_memory,
    open: |url, ctx| {
        Box::pin(async move {
            let settings = ctx.settings(url.params().limit("max_record_size")?);
            Ok(Arc::new(MemoryStore::new().with_settings(settings)) as Arc<dyn SessionStore>)
        })
    },
};

fn check_memory(url: &StoreUrl) -> session_core::Result<()> {
    url.reject_path()?;
    url.params().limit("max_record_size")?;
    Ok(())
}

/// What `rediss://` URLs take: those of `redis://` (`session_redis::RedisUrl::URL_PARAMS`,
/// which a test keeps equal), listed here because `rediss://` is refused on every
/// build, the `redis` feature off included.
pub(crate) const REDIS_PARAMS: &[&str] =
    &["prefix", "timeout", "max_record_size", "write", "protocol"];

/// `rediss://`: Redis over TLS, which no build of this crate can open. It takes the
/// `redis://` parameters so that the message says what is wrong: TLS, not a parameter.
pub(crate) static REDISS: Backend = Backend {
    params: REDIS_PARAMS,
    lazy: None,
    check: |_| {
        Err(Error::Config(
            "`rediss://` (Redis over TLS) is not supported by this build; use `redis://` over a trusted network or a TLS tunnel".into(),
        ))
    },
    open: |_, _: OpenContext| {
        Box::pin(async {
            Err(Error::Config(
                "`rediss://` (Redis over TLS) is not supported".into(),
            ))
        })
    },
};
