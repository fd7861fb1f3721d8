//! Sessions in memcached, on one server or many: Beaker's `ext:memcached` without its
//! faults (nothing here ever runs `flush_all`; a store touches only its own keys).
//!
//! ```no_run
//! use std::time::Duration;
//! use session_memcache::{MemcacheOptions, MemcacheStore};
//!
//! # async fn run() -> session_core::Result<()> {
//! // From a URL, e.g. taken from configuration:
//! let store = MemcacheStore::open_url("memcache://10.0.0.1:11211,10.0.0.2:11211?prefix=shop:").await?;
//!
//! // Or in code:
//! let options = MemcacheOptions::new(["10.0.0.1:11211", "10.0.0.2:11211"])?
//!     .with_prefix("shop:")?
//!     .with_timeout(Duration::from_millis(250));
//! let store = MemcacheStore::connect(options).await?;
//! # Ok(()) }
//! ```
//!
//! [`MemcacheStore`] implements the whole
//! [`SessionStore`](session_core::SessionStore) contract except enumeration (memcached
//! cannot list keys): `add` for create, compare-and-swap for save and touch (one round
//! trip when this store saw the item last, else read first),
//! expiry both as the item's exptime and checked on every read against the store's
//! [`Clock`](session_core::Clock), and size limits checked before sending.
//!
//! **No index of sessions by user** ([`Capabilities::user_index`](session_core::Capabilities::user_index)
//! is false: `sessions_of`, `revoke_user` and `revoke_session` answer `Unsupported`).
//! memcached may evict an index entry while keeping its session, and cannot enumerate to
//! rebuild it, so a "log out everywhere" could silently miss a session. The binding itself
//! is stored with the record: end a user's sessions with
//! [`Session::verify_user`](session_core::Session::verify_user) and a per-user auth hash
//! the app changes instead.
//!
//! **memcached may evict sessions** under memory pressure, and loses all of them when a
//! server restarts: see [`MemcacheStore`] before choosing it.
//!
//! # Expiry and memcached's 30-day rule
//!
//! memcached reads an exptime up to 30 days as seconds from now and a larger one as an
//! absolute Unix time. The store sends relative seconds (rounded up) while a deadline
//! is at most 30 days away, so app and cache hosts need not agree on the time, and
//! absolute Unix seconds beyond that, where the protocol requires it. A deadline already
//! past is sent as a past absolute time, so the server never keeps the record.
//!
//! # The client
//!
//! Built on the `memcache` crate's async meta-protocol client (`memcache::exp`, with
//! its `tokio` feature; memcached 1.6 or later). It bounds each exchange by a deadline
//! and drops a connection after any failed or cancelled exchange, and the store routes
//! keys with a hash that is stable across Rust releases. Every store operation is
//! bounded by the operation timeout ([`MemcacheOptions::with_timeout`]). Plain TCP only:
//! no TLS, no SASL.
//!
//! The crate's blocking clients were measured against it (`session-bench memcache`,
//! loopback, 2 cores): run on `spawn_blocking`, as a blocking client must be in an async
//! server, the blocking meta client reaches about half the async client's get and set
//! rate at 32 concurrent tasks (the hand-off to a pool thread costs more than the round
//! trip), and the r2d2-pooled binary client about a sixth: it sends a `version` round
//! trip on every checkout, and as it cannot tell a broken connection, after a timeout it
//! can read a late reply as the answer to the next command.

mod error;
mod exptime;
mod keys;
mod options;
mod recent;
mod routing;
mod store;

pub use keys::{KeyPrefix, MAX_KEY_LEN, MAX_PREFIX_LEN};
pub use options::{
    MemcacheOptions, DEFAULT_ITEM_SIZE_LIMIT, DEFAULT_MAX_CONNECTIONS, DEFAULT_PORT,
    DEFAULT_TIMEOUT, ITEM_HEADER_ALLOWANCE,
};
pub use store::MemcacheStore;

/// The memcache client crate this store is built on, so tools and benchmarks talk to
/// the servers with the same client version.
pub use memcache;

/// Keeps the README's example compiling.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
