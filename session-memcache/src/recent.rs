//! The CAS tokens of items this store recently read or wrote, so that `save` can
//! compare-and-swap in one round trip instead of reading first.
//!
//! memcached changes an item's CAS token on every modification. If the token of the
//! item we last saw (with version `v` and deadline `d`) still matches, the item is
//! byte-for-byte what we saw: a save expecting `v`, with `d` still in the future by the
//! store's clock, would pass the read-then-check of the slow path, so `ms … C<token>`
//! alone is the same decision. A mismatch means someone wrote in between; the caller
//! then takes the slow path (read, check, CAS), which tells a conflict from a touch,
//! a deletion or an expiry. The cache is only a hint: a stale or evicted entry costs
//! the second round trip, never correctness.
//!
//! Bounded: [`SHARDS`] maps of at most [`PER_SHARD`] keys each; a full shard is
//! cleared rather than tracked for recency.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use session_core::Timestamp;

/// Independent maps, so concurrent requests rarely share a lock.
const SHARDS: usize = 64;
/// Keys per map: 64 × 512 = 32,768 sessions in flight, a few MiB at most.
const PER_SHARD: usize = 512;

#[derive(Debug, Clone, Copy)]
struct Seen {
    version: u64,
    expires_at: Timestamp,
    cas: u64,
}

/// Recently seen CAS tokens by memcached key.
pub(crate) struct Recent {
    shards: Vec<Mutex<HashMap<String, Seen>>>,
}

impl Recent {
    pub(crate) fn new() -> Self {
        Recent {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
        }
    }

    fn shard(&self, key: &str) -> MutexGuard<'_, HashMap<String, Seen>> {
        // Keys end in the hex of a SHA-256: their last bytes are uniformly spread.
        let h = key.bytes().rev().take(4).fold(0usize, |h, b| {
            h.wrapping_mul(31).wrapping_add(usize::from(b))
        });
        // Every mutation is one insert or remove: a poisoned map is still sound.
        self.shards[h % SHARDS]
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    /// Notes that `key` holds version `version`, live until `expires_at`, under `cas`.
    pub(crate) fn remember(&self, key: &str, version: u64, expires_at: Timestamp, cas: u64) {
        // A server started with CAS disabled (`-C`) answers 0 for every item: no hint.
        if cas == 0 {
            return;
        }
        let mut map = self.shard(key);
        if map.len() >= PER_SHARD && !map.contains_key(key) {
            map.clear();
        }
        map.insert(
            key.to_owned(),
            Seen {
                version,
                expires_at,
                cas,
            },
        );
    }

    /// The token to compare against for a save of `key` that expects
    /// `expected_version`, if the last item seen there had that version and is still
    /// live at `now`.
    pub(crate) fn cas_for(&self, key: &str, expected_version: u64, now: Timestamp) -> Option<u64> {
        self.shard(key)
            .get(key)
            .filter(|s| s.version == expected_version && s.expires_at > now)
            .map(|s| s.cas)
    }

    /// Drops what is known about `key`.
    pub(crate) fn forget(&self, key: &str) {
        self.shard(key).remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_only_for_the_seen_version_while_live() {
        let r = Recent::new();
        let t = Timestamp::from_millis(1_000);
        r.remember("k", 3, t, 42);
        assert_eq!(r.cas_for("k", 3, Timestamp::from_millis(999)), Some(42));
        assert_eq!(r.cas_for("k", 2, Timestamp::from_millis(999)), None);
        assert_eq!(r.cas_for("k", 3, t), None, "expired by the clock");
        r.forget("k");
        assert_eq!(r.cas_for("k", 3, Timestamp::from_millis(0)), None);
        r.remember("z", 1, t, 0);
        assert_eq!(r.cas_for("z", 1, Timestamp::from_millis(0)), None, "cas 0");
    }

    #[test]
    fn stays_bounded() {
        let r = Recent::new();
        for i in 0..(SHARDS * PER_SHARD * 3) {
            r.remember(&format!("key-{i:08x}"), 1, Timestamp::from_millis(1), 7);
        }
        let total: usize = r
            .shards
            .iter()
            .map(|s| s.lock().map(|m| m.len()).unwrap_or(0))
            .sum();
        assert!(total <= SHARDS * PER_SHARD);
    }
}
