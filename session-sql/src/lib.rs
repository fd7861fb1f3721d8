//! Sessions in a SQL table, on SQLite (embedded), PostgreSQL and MySQL/MariaDB, through
//! [sqlx](https://docs.rs/sqlx) 0.8.
//!
//! [`SqlStore`] keeps web.py's DBStore table (`session_id`, `atime`, `data`) plus
//! `expires_at` and `version`, and implements the whole
//! [`SessionStore`](session_core::SessionStore) contract: compare-and-set saves, expiry
//! enforced in every `WHERE`, atomic creates, batched cleanup, one round trip per
//! operation.
//!
//! ```
//! use session_core::{Record, SessionId, SessionStore, Timestamp};
//! use session_sql::SqlStore;
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let store = SqlStore::connect("sqlite::memory:").await?;
//! store.migrate().await?; // creates the `sessions` table if it is missing
//!
//! let now = Timestamp::from_system(std::time::SystemTime::now());
//! let deadline = now.saturating_add(std::time::Duration::from_secs(3600));
//! let record = Record::new(SessionId::generate(), Default::default(), now, deadline);
//! let cookie = store.create(&record).await?;
//! assert_eq!(store.load(&cookie).await?, Some(record));
//! # Ok::<(), session_core::Error>(())
//! # }).unwrap();
//! ```
//!
//! # Pools
//!
//! Hand in the app's own pool with [`SqlStore::new`]: a `sqlx::SqlitePool`,
//! `sqlx::PgPool` or `sqlx::MySqlPool` of **sqlx 0.8** (see [`SqlPool`] for why typed
//! pools and not `AnyPool`), then run [`SqlStore::migrate`] once. Or let
//! [`SqlStore::connect`] open one from a URL, with the SQLite settings described on
//! [`ConnectOptions`] (WAL, 5 s busy timeout, `synchronous = NORMAL`).
//!
//! # Features
//!
//! `sqlite`, `postgres` and `mysql` (all on by default) pick the drivers. sqlx runs on
//! tokio, without TLS; enable one of sqlx's TLS features in the app for encrypted
//! server connections.

#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(not(any(feature = "sqlite", feature = "postgres", feature = "mysql")))]
compile_error!("session-sql needs at least one of its `sqlite`, `postgres` or `mysql` features");

mod connect;
mod dialect;
mod error;
mod exec;
mod migrate;
mod options;
mod pool;
mod store;
mod table;

pub use connect::{ConnectOptions, Synchronous};
pub use dialect::Backend;
pub use options::SqlOptions;
pub use pool::SqlPool;
pub use store::{SqlStore, DEFAULT_SWEEP_BATCH};
pub use table::{TableName, MAX_NAME_LEN};

/// The sqlx this crate is built on, so apps build pools of the same version.
pub use sqlx;

/// Keeps the README's example compiling and passing.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
