//! One opener per feature-gated backend: URL and context in, configured store out.

#[cfg(feature = "cookie")]
mod cookie;

#[cfg(feature = "cookie")]
pub(crate) use cookie::cookie;
#[cfg(feature = "cookie")]
pub use cookie::COOKIE_SECRET_ENV;

#[cfg(feature = "file")]
mod file;

#[cfg(feature = "file")]
pub(crate) use file::{file, shelf};

#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
mod sql;

#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
pub(crate) use sql::sql;

#[cfg(feature = "redis")]
mod redis;

#[cfg(feature = "redis")]
pub(crate) use redis::{redis, redis_cluster};

#[cfg(feature = "memcache")]
mod memcache;

#[cfg(feature = "memcache")]
pub(crate) use memcache::memcache;
