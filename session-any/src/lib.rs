//! Swap session backends by configuration.
//!
//! [`AnyStore::open`] takes a URL and returns the store it names; [`SessionConfig`]
//! (from TOML or the environment) adds the session options and builds ready sessions
//! for either framework: [`SessionConfig::sessions`] (an
//! [`HttpSessions`](session_http::HttpSessions), which `session_actix::SessionMiddleware`
//! and `session_tower::SessionLayer` are made from) or [`SessionConfig::layer`]
//! (the tower layer directly). Each backend sits behind a cargo
//! feature; a scheme whose feature is off is a [`Config`](session_core::Error::Config)
//! error that names the feature.
//!
//! | URL | backend | feature |
//! |---|---|---|
//! | `memory://` | in-process `MemoryStore` (development only) | always |
//! | `file:///dir` | `FileStore`: one file per session | `file` |
//! | `shelf:///path/file` | `ShelfStore`: every session in one redb file | `file` |
//! | `sqlite://path`, `sqlite::memory:` | `SqlStore` on SQLite | `sqlite` |
//! | `postgres://…` | `SqlStore` on PostgreSQL | `postgres` |
//! | `mysql://…`, `mariadb://…` | `SqlStore` on MySQL/MariaDB | `mysql` |
//! | `redis://…`, `redis+cluster://h1:p1,h2:p2` | `RedisStore` | `redis` |
//! | `memcache://h1:p1,h2:p2` | `MemcacheStore` | `memcache` |
//! | `cookie://` | `CookieStore`, secrets from `SESSION_COOKIE_SECRET` | `cookie` |
//!
//! Every scheme takes a fixed list of query parameters (the README lists them; so does
//! [`Scheme::params`]): an unknown or repeated one is an error naming it and listing the
//! known ones, never ignored. Values follow one grammar
//! ([`session_core::params`]): booleans `true`/`false` (also `1`/`0`, `yes`/`no`,
//! `on`/`off`), durations with a unit (`500ms`, `2s`, `1m`), sizes in bytes or with
//! `KiB`/`MiB`/`GiB` (`262144`, `64KiB`), and `none` to lift a size limit. Wherever a
//! URL is shown (errors, `Debug`, [`StoreUrl`]'s `Display`) its password and
//! credential-bearing parameters are `***`.
//!
//! Network backends (SQL servers, Redis, memcached) connect on their first operation
//! unless the URL says `connect=eager` ([`ConnectMode`]), so an app starts while its
//! session server is down, answers `503` until it is back, then works without a
//! restart. Embedded backends (memory, files, shelf, SQLite, cookie) always open at once.
//!
//! A **cache** can stand in front of the store (feature `tiered`, on by default):
//! `cache = "…"` in the configuration, `SESSION_CACHE_URL` in the environment, or
//! `AnyStore::open_with_cache`. The store is then a session-tiered
//! `TieredStore`: the backend stays the truth, deletes and revocations win.
//!
//! | cache URL | cache |
//! |---|---|
//! | `local://?capacity=10000&ttl=30s&heartbeat=1s` | in each instance's memory, told of other instances' writes and logouts by a bus: the backend's own server for PostgreSQL and Redis (`bus=store`, the default there), none for embedded backends (`bus=none`, the default there: **one instance only**), or `bus_url=<percent-encoded redis:// or postgres:// URL>` |
//! | `redis://…`, `redis+cluster://…`, `memcache://…`, `memory://` | a store every instance shares |
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! use session_any::AnyStore;
//! let store = AnyStore::open("memory://").await?;
//! assert!(AnyStore::open("gopher://x").await.is_err());
//! assert!(AnyStore::open("memory://?bogus=1").await.is_err());
//! # #[cfg(feature = "tiered")] {
//! let cached = AnyStore::open_with_cache("memory://", "local://?ttl=10s").await?;
//! assert_eq!(cached.backend(), "tiered");
//! # }
//! # Ok::<(), session_core::Error>(()) }).unwrap();
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]

mod backends;
mod cache;
mod config;
mod lazy;
mod store;
mod url;

#[cfg(feature = "cookie")]
#[cfg_attr(docsrs, doc(cfg(feature = "cookie")))]
pub use backends::COOKIE_SECRET_ENV;
pub use cache::{CacheBus, CacheUrl, LOCAL_PARAMS};
pub use config::{SessionConfig, CACHE_URL_ENV, SECRET_ENV};
#[cfg(feature = "tiered")]
#[cfg_attr(docsrs, doc(cfg(feature = "tiered")))]
pub use session_tiered::{TierStats, TieredStore};
pub use store::AnyStore;
pub use url::{schemes, BackendKind, ConnectMode, Scheme, StoreUrl};

/// Keeps the README's example compiling and passing.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
