//! Invalidations that failed and wait to be retried.

use std::collections::{HashSet, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use session_core::StorageKey;

/// A bounded first-in first-out set of storage keys whose invalidation could not be
/// written or announced (the cache or the bus was unreachable). A background task
/// retries them: an invalidation is idempotent (ids are never reused), so retrying late
/// is always safe, and it is what ends the window in which another instance could still
/// serve the session.
#[derive(Debug)]
pub(crate) struct Pending {
    inner: Mutex<Queue>,
    /// How many keys are queued, written under the lock: lets [`Pending::contains`]
    /// answer the usual case (nothing queued) on a load's hot path without locking.
    len: AtomicUsize,
    limit: usize,
}

#[derive(Debug, Default)]
struct Queue {
    order: VecDeque<StorageKey>,
    members: HashSet<StorageKey>,
}

impl Pending {
    pub(crate) fn new(limit: usize) -> Self {
        Pending {
            inner: Mutex::new(Queue::default()),
            len: AtomicUsize::new(0),
            limit: limit.max(1),
        }
    }

    /// Queues `key`; returns `false` when the queue was full and the oldest key was
    /// given up (its session's cache entries then live to their own deadline or TTL).
    pub(crate) fn push(&self, key: StorageKey) -> bool {
        let mut queue = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if !queue.members.insert(key) {
            return true;
        }
        queue.order.push_back(key);
        let kept = queue.order.len() <= self.limit;
        if !kept {
            if let Some(oldest) = queue.order.pop_front() {
                queue.members.remove(&oldest);
            }
        }
        self.len.store(queue.members.len(), Ordering::Release);
        kept
    }

    /// Takes up to `max` keys to retry.
    pub(crate) fn take(&self, max: usize) -> Vec<StorageKey> {
        let mut queue = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let n = max.min(queue.order.len());
        let keys: Vec<StorageKey> = queue.order.drain(..n).collect();
        for key in &keys {
            queue.members.remove(key);
        }
        self.len.store(queue.members.len(), Ordering::Release);
        keys
    }

    /// Up to `max` of the oldest keys, left queued: a caller that must not let go of a
    /// key until its retry worked removes it with [`Pending::remove`].
    pub(crate) fn oldest(&self, max: usize) -> Vec<StorageKey> {
        let queue = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        queue.order.iter().take(max).copied().collect()
    }

    /// Unqueues `key` (its retry worked).
    pub(crate) fn remove(&self, key: &StorageKey) {
        let mut queue = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if queue.members.remove(key) {
            // Retries go oldest first, so the key is nearly always at the front.
            if queue.order.front() == Some(key) {
                queue.order.pop_front();
            } else {
                queue.order.retain(|k| k != key);
            }
        }
        self.len.store(queue.members.len(), Ordering::Release);
    }

    /// Whether `key` waits for its retry.
    pub(crate) fn contains(&self, key: &StorageKey) -> bool {
        if self.len.load(Ordering::Acquire) == 0 {
            return false;
        }
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .members
            .contains(key)
    }

    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .order
            .is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_fifo_without_duplicates() {
        let pending = Pending::new(2);
        let key = |b| StorageKey::from_bytes([b; 32]);
        assert!(pending.push(key(1)));
        assert!(pending.push(key(1)), "a duplicate is already queued");
        assert!(pending.push(key(2)));
        assert!(!pending.push(key(3)), "full: the oldest goes");
        assert_eq!(pending.take(10), vec![key(2), key(3)]);
        assert!(pending.is_empty());
    }

    #[test]
    fn oldest_leaves_keys_queued_until_removed() {
        let pending = Pending::new(10);
        let key = |b| StorageKey::from_bytes([b; 32]);
        pending.push(key(1));
        pending.push(key(2));
        assert_eq!(pending.oldest(1), vec![key(1)]);
        assert!(pending.contains(&key(1)) && pending.contains(&key(2)));
        pending.remove(&key(1));
        assert!(!pending.contains(&key(1)));
        assert_eq!(pending.oldest(10), vec![key(2)]);
        pending.remove(&key(2));
        assert!(pending.is_empty());
    }
}
