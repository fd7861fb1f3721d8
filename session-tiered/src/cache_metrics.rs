//! The cache tier's metrics, through the `metrics` facade (free when no recorder is
//! installed), next to session-core's store metrics.

/// Cache lookups, labelled `cache` (`"local"` or the shared store's backend) and
/// `result` (`hit`, `miss`, `bypass`).
pub const CACHE_LOOKUPS: &str = "session_cache_lookups_total";
/// Invalidations (cache deletes, bus announcements) that failed at first and were queued
/// for a retry, labelled `cache`.
pub const CACHE_INVALIDATIONS_DEFERRED: &str = "session_cache_invalidations_deferred_total";

/// Registers the descriptions of the cache tier's metrics with the installed recorder
/// (call once at start-up, after installing it, like
/// `session_core::observe::describe_metrics`).
///
/// ```
/// session_tiered::describe_metrics(); // a no-op without a recorder
/// ```
pub fn describe_metrics() {
    metrics::describe_counter!(
        CACHE_LOOKUPS,
        metrics::Unit::Count,
        "Session cache lookups, by cache and result (hit, miss, bypass)"
    );
    metrics::describe_counter!(
        CACHE_INVALIDATIONS_DEFERRED,
        metrics::Unit::Count,
        "Session cache invalidations that failed at first and are retried in the background"
    );
}

pub(crate) fn lookup(cache: &'static str, result: &'static str) {
    metrics::counter!(CACHE_LOOKUPS, "cache" => cache, "result" => result).increment(1);
}

pub(crate) fn deferred(cache: &'static str) {
    metrics::counter!(CACHE_INVALIDATIONS_DEFERRED, "cache" => cache).increment(1);
}
