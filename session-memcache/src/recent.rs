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
//! `touch` uses the same token, and needs one thing more: a touch writes the stored
//! data with new times, so it may skip the read only if the caller's record holds
//! exactly the stored data. Each entry keeps the stored access time and a keyed hash
//! of the stored envelope; the caller's record re-encoded with those times must hash
//! the same, or the touch reads first as before.
//!
//! Bounded: [`SHARDS`] maps of at most [`PER_SHARD`] keys each; a full shard is
//! cleared rather than tracked for recency.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Mutex, MutexGuard};

use session_core::{Record, Timestamp};

/// Independent maps, so concurrent requests rarely share a lock.
const SHARDS: usize = 64;
/// Keys per map: 64 × 512 = 32,768 sessions in flight, a few MiB at most.
const PER_SHARD: usize = 512;

/// What was stored under a key when this store last read or wrote it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Seen {
    pub(crate) version: u64,
    pub(crate) accessed_at: Timestamp,
    pub(crate) expires_at: Timestamp,
    pub(crate) cas: u64,
    /// [`Recent::digest`] of the stored envelope.
    pub(crate) digest: u64,
}

/// Recently seen CAS tokens by memcached key.
pub(crate) struct Recent {
    shards: Vec<Mutex<HashMap<String, Seen>>>,
    /// Keyed per process, so no stored data can be chosen to collide with other data.
    hasher: RandomState,
}

impl Recent {
    pub(crate) fn new() -> Self {
        Recent {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            hasher: RandomState::new(),
        }
    }

    /// The keyed hash an entry keeps of a stored envelope.
    pub(crate) fn digest(&self, bytes: &[u8]) -> u64 {
        self.hasher.hash_one(bytes)
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

    /// Notes that `key` holds `record`, encoded as `bytes`, under `cas`.
    pub(crate) fn remember(&self, key: &str, record: &Record, bytes: &[u8], cas: u64) {
        // A server started with CAS disabled (`-C`) answers 0 for every item: no hint.
        if cas == 0 {
            return;
        }
        let seen = Seen {
            version: record.version,
            accessed_at: record.accessed_at,
            expires_at: record.expires_at,
            cas,
            digest: self.digest(bytes),
        };
        let mut map = self.shard(key);
        if map.len() >= PER_SHARD && !map.contains_key(key) {
            map.clear();
        }
        map.insert(key.to_owned(), seen);
    }

    /// What was last seen under `key` if it had version `version` and is still live
    /// at `now`: what a touch of that version may compare-and-swap against.
    pub(crate) fn seen(&self, key: &str, version: u64, now: Timestamp) -> Option<Seen> {
        self.shard(key)
            .get(key)
            .filter(|s| s.version == version && s.expires_at > now)
            .copied()
    }

    /// The token to compare against for a save of `key` that expects
    /// `expected_version`, if the last item seen there had that version and is still
    /// live at `now`.
    pub(crate) fn cas_for(&self, key: &str, expected_version: u64, now: Timestamp) -> Option<u64> {
        self.seen(key, expected_version, now).map(|s| s.cas)
    }

    /// Drops what is known about `key`.
    pub(crate) fn forget(&self, key: &str) {
        self.shard(key).remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(version: u64, expires_at: Timestamp) -> Record {
        Record::new(
            session_core::SessionId::generate(),
            session_core::Data::new(),
            Timestamp::from_millis(10),
            expires_at,
        )
        .with_version(version)
    }

    #[test]
    fn hints_only_for_the_seen_version_while_live() {
        let r = Recent::new();
        let t = Timestamp::from_millis(1_000);
        r.remember("k", &record(3, t), b"bytes", 42);
        assert_eq!(r.cas_for("k", 3, Timestamp::from_millis(999)), Some(42));
        assert_eq!(r.cas_for("k", 2, Timestamp::from_millis(999)), None);
        assert_eq!(r.cas_for("k", 3, t), None, "expired by the clock");
        let seen = r.seen("k", 3, Timestamp::from_millis(999)).unwrap();
        assert_eq!(
            (seen.accessed_at, seen.expires_at, seen.cas),
            (Timestamp::from_millis(10), t, 42)
        );
        assert_eq!(seen.digest, r.digest(b"bytes"));
        assert_ne!(seen.digest, r.digest(b"bytez"));
        r.forget("k");
        assert_eq!(r.cas_for("k", 3, Timestamp::from_millis(0)), None);
        r.remember("z", &record(1, t), b"", 0);
        assert_eq!(r.cas_for("z", 1, Timestamp::from_millis(0)), None, "cas 0");
    }

    #[test]
    fn stays_bounded() {
        let r = Recent::new();
        for i in 0..(SHARDS * PER_SHARD * 3) {
            let one = record(1, Timestamp::from_millis(1));
            r.remember(&format!("key-{i:08x}"), &one, b"x", 7);
        }
        let total: usize = r
            .shards
            .iter()
            .map(|s| s.lock().map(|m| m.len()).unwrap_or(0))
            .sum();
        assert!(total <= SHARDS * PER_SHARD);
    }
}
