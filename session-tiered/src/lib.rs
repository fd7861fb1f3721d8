//! A cache in front of a durable session store that never serves a logged-out session.
//!
//! [`TieredStore`] is Django's `cached_db` and tower-sessions' `CachingSessionStore`,
//! correct by construction: the durable store (SQL, files) stays the truth, the cache
//! (in-process memory, or Redis and memcached shared by every instance) only saves
//! reads, and deletes win.
//!
//! ```
//! use std::sync::Arc;
//!
//! use session_core::MemoryStore;
//! use session_tiered::{LocalCache, MemoryBus, TieredStore};
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! // Two instances of an app on one durable store, each with its own memory, told of
//! // each other's writes and logouts by a bus (Redis pub/sub or PostgreSQL NOTIFY in
//! // production: `RedisBus`, `PostgresBus`).
//! let durable = Arc::new(MemoryStore::new());
//! let bus = MemoryBus::default();
//! let a = TieredStore::local(durable.clone(), LocalCache::new().with_bus(bus.clone()))?;
//! let b = TieredStore::local(durable, LocalCache::new().with_bus(bus))?;
//! # let _ = (a, b);
//! # Ok::<(), session_core::Error>(())
//! # }).unwrap();
//! ```
//!
//! # Why a fill cannot bring back a deleted session
//!
//! The classic race: a request misses the cache and reads the durable store; a logout
//! deletes the session from both; the first request then writes what it read into the
//! cache, and the logged-out session is served again. Here:
//!
//! - **In-process cache**: every change to an entry (this instance's write, an
//!   invalidation heard on the bus, a clear) takes a sequence number under one lock. A
//!   fill takes the current number before it reads the durable store, and is refused if
//!   its key changed since. Deletes announce on the bus before they return.
//! - **Shared cache**: a fill inserts only if absent, then reads the durable store once
//!   more; if the session went (or changed) in between, the fill deletes (or updates)
//!   its entry itself. A delete runs on the durable store first, then on the cache. Any
//!   interleaving ends with the entry gone: either the second read sees the delete, or
//!   the delete's cache step comes after the insert.
//!
//! The figures (races run, loads served after a logout, the invalidation delay
//! measured) are in the workspace's RELIABILITY.md.

mod breaker;
mod bus;
mod cache_metrics;
mod guard;
mod local;
mod pending;
mod shared;
mod stats;
mod tier;
mod tiered;

pub use bus::{InvalidationBus, MemoryBus};
#[cfg(feature = "postgres")]
pub use bus::{PostgresBus, DEFAULT_POSTGRES_CHANNEL};
#[cfg(feature = "redis")]
pub use bus::{RedisBus, DEFAULT_REDIS_CHANNEL};
pub use cache_metrics::{describe_metrics, CACHE_INVALIDATIONS_DEFERRED, CACHE_LOOKUPS};
pub use local::{LocalCache, DEFAULT_CAPACITY, DEFAULT_HEARTBEAT, DEFAULT_TTL};
pub use stats::TierStats;
pub use tiered::TieredStore;

/// Keeps the README's example compiling and passing.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
