//! Swap session backends by configuration.
//!
//! [`AnyStore::open`] takes a URL and returns the store it names; [`SessionConfig`]
//! (from TOML or the environment) adds the session options and builds a ready
//! [`SessionLayer`](session_tower::SessionLayer). Each backend sits behind a cargo
//! feature; a scheme whose feature is off is a [`Config`](session_core::Error::Config)
//! error that names the feature.
//!
//! | URL | backend | feature |
//! |---|---|---|
//! | `memory://` | in-process `MemoryStore` (development only) | always |
//! | `file:///dir[?durable=false]` | `FileStore`: one file per session | `file` |
//! | `shelf:///path/file[?durable=false]` | `ShelfStore`: every session in one redb file | `file` |
//! | `sqlite://path`, `sqlite::memory:` | `SqlStore` on SQLite | `sqlite` |
//! | `postgres://…` | `SqlStore` on PostgreSQL | `postgres` |
//! | `mysql://…`, `mariadb://…` | `SqlStore` on MySQL/MariaDB | `mysql` |
//! | `redis://…`, `redis+cluster://h1:p1,h2:p2` | `RedisStore` | `redis` |
//! | `memcache://h1:p1,h2:p2` | `MemcacheStore` | `memcache` |
//! | `cookie://[?secret_env=VAR]` | `CookieStore`, secrets from `SESSION_COOKIE_SECRET` | `cookie` |
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! use session_any::AnyStore;
//! let store = AnyStore::open("memory://").await?;
//! assert!(AnyStore::open("gopher://x").await.is_err());
//! # Ok::<(), session_core::Error>(()) }).unwrap();
//! ```

mod backends;
mod config;
mod store;
mod url;

#[cfg(feature = "cookie")]
pub use backends::COOKIE_SECRET_ENV;
pub use config::{SaveModeSetting, SessionConfig, TouchSetting, SECRET_ENV};
pub use store::AnyStore;

/// Keeps the README's example compiling and passing.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
