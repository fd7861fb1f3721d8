//! What the cache tier did: hits, misses, fills, invalidations.

use std::sync::atomic::{AtomicU64, Ordering};

/// Counters of a [`TieredStore`](crate::TieredStore)'s cache tier since it was built,
/// from [`TieredStore::stats`](crate::TieredStore::stats).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TierStats {
    /// Loads answered from the cache.
    pub hits: u64,
    /// Loads the cache did not have, answered by the durable store.
    pub misses: u64,
    /// Loads that went straight to the durable store because the cache could not be
    /// trusted or reached (an in-process cache whose bus link is down, a failing
    /// shared cache).
    pub bypasses: u64,
    /// Records put into the cache after a miss.
    pub fills: u64,
    /// Fills left out because the session changed or went while they were on the way.
    pub fills_skipped: u64,
    /// Invalidations this instance announced (in-process) or wrote (shared).
    pub invalidations_sent: u64,
    /// Invalidations heard from other instances (in-process).
    pub invalidations_received: u64,
    /// Invalidations that failed at first and were queued to be retried.
    pub invalidations_deferred: u64,
    /// Times the in-process cache was cleared because its bus link was lost.
    pub clears: u64,
}

impl TierStats {
    /// Hits over all loads (`0.0` before the first load).
    pub fn hit_rate(&self) -> f64 {
        let loads = self.hits + self.misses + self.bypasses;
        if loads == 0 {
            0.0
        } else {
            self.hits as f64 / loads as f64
        }
    }
}

/// The live counters behind [`TierStats`].
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub hits: AtomicU64,
    pub misses: AtomicU64,
    pub bypasses: AtomicU64,
    pub fills: AtomicU64,
    pub fills_skipped: AtomicU64,
    pub invalidations_sent: AtomicU64,
    pub invalidations_received: AtomicU64,
    pub invalidations_deferred: AtomicU64,
    pub clears: AtomicU64,
}

impl Counters {
    pub(crate) fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> TierStats {
        let read = |c: &AtomicU64| c.load(Ordering::Relaxed);
        TierStats {
            hits: read(&self.hits),
            misses: read(&self.misses),
            bypasses: read(&self.bypasses),
            fills: read(&self.fills),
            fills_skipped: read(&self.fills_skipped),
            invalidations_sent: read(&self.invalidations_sent),
            invalidations_received: read(&self.invalidations_received),
            invalidations_deferred: read(&self.invalidations_deferred),
            clears: read(&self.clears),
        }
    }
}
