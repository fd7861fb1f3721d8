//! Sessions in Redis or Redis Cluster: [`RedisStore`], a
//! [`SessionStore`](session_core::SessionStore) over redis-rs on tokio.
//!
//! - **One round trip per operation**: `load` is a `GET`, `create` a `SET … NX PXAT`,
//!   `save`, `touch` and `delete` one server-side script each (bound sessions on a
//!   cluster: one more, for the user index on its own node).
//! - **Compare-and-set**: `save` checks the stored version and refuses to bring back a
//!   deleted or expired record, atomically, inside Redis.
//!   An opt-in last-writer-wins mode ([`WriteMode::LastWriterWins`], URL `write=lww`)
//!   skips the script for unbound sessions and loses concurrent updates.
//! - **Native TTLs**: every key carries its record's deadline (`PXAT`), so the server
//!   drops expired sessions by itself and `delete_expired` only prunes the user indexes (it
//!   reports 0). Expiry is also checked against the store's
//!   [`Clock`](session_core::Clock) on every read and write.
//! - **Redis Cluster**: every command and script touches a single key, so the same
//!   store runs on a cluster ([`RedisStore::connect_cluster`]); `count` walks every
//!   primary.
//! - **Sessions by user** (contract rule 12): a sorted-set index per user, kept in the
//!   write scripts on a standalone server and by ordered writes on a cluster (see the
//!   README's "Sessions by user on Redis Cluster" for the race that remains there).
//! - **Connections**: a redis-rs
//!   [`ConnectionManager`](redis::aio::ConnectionManager) (multiplexed, reconnects by
//!   itself) or cluster connection, built for you or handed in. Every round trip runs
//!   under a timeout, so an outage fails requests with `Error::Backend` instead of
//!   hanging them.
//!
//! ```no_run
//! use std::time::Duration;
//! use session_redis::{RedisOptions, RedisStore};
//!
//! # async fn run() -> Result<(), session_core::Error> {
//! let options = RedisOptions::new()
//!     .with_prefix("myapp:session:")
//!     .with_timeout(Duration::from_millis(500));
//! let store = RedisStore::connect("redis://127.0.0.1:6379/", options.clone()).await?;
//!
//! // The same store on a cluster: any reachable nodes; the rest are discovered.
//! let clustered = RedisStore::connect_cluster(
//!     ["redis://10.0.0.1:7000", "redis://10.0.0.2:7000"],
//!     options,
//! )
//! .await?;
//! # Ok(())
//! # }
//! ```
//!
//! # Stored layout
//!
//! Key: the prefix followed by the 64 hex digits of the session's
//! [`StorageKey`](session_core::StorageKey) (a SHA-256 of the id; the raw id is never
//! stored). Value: a 61-byte text header (125 bytes when bound to a user: tag `2` and the
//! user key's hex follow), then the session-core envelope:
//!
//! ```text
//! 1 | version (20 digits) | accessed_at ms (±19 digits) | expires_at ms (±19 digits) | envelope
//! ```
//!
//! The scripts read only the header (`GETRANGE 0 124`), never the envelope: the version
//! check costs the same for a 100-byte session as for a 1 MiB one. `touch` overwrites the
//! two timestamps in place (`SETRANGE`) and moves the TTL (`PEXPIREAT`), so it never
//! rewrites data and cannot undo a concurrent save. The header's timestamps are the
//! authoritative ones on load.

mod cluster;
mod connection;
mod keys;
mod layout;
mod options;
mod scan;
mod scripts;
mod store;
mod store_url;
mod users;

pub use options::{RedisOptions, WriteMode, DEFAULT_PREFIX, DEFAULT_SCAN_COUNT, DEFAULT_TIMEOUT};
pub use store::{manager_config, RedisStore};
pub use store_url::RedisUrl;

/// The redis-rs this crate is built on, so apps build clients, managers and cluster
/// connections of the same version.
pub use redis;

/// Keeps the README's example compiling.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
