//! The in-process cache's memory, and the rule that a fill never brings back a session
//! that changed or went while the fill was on its way.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use moka::sync::Cache;
use session_core::{Record, StorageKey, UserKey};

/// How many recent invalidations are remembered for in-flight fills. Older ones are
/// summarised by a floor: a fill older than the floor is refused (safe, only a lost fill).
const REMEMBERED: usize = 4096;

/// A ticket taken before a fill reads the durable store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ticket(u64);

impl Ticket {
    /// For tiers that order fills another way (the shared cache re-reads the durable store).
    pub(crate) const UNUSED: Ticket = Ticket(0);
}

/// The cached records and the invalidation sequence that orders them against fills.
///
/// Every change to an entry (an invalidation, a write of this instance's own, a clear)
/// takes the next sequence number under one lock and records it for the key. A fill
/// takes a [`Ticket`] (the sequence number) before it reads the durable store and is
/// refused if anything happened to its key since: so a record read before a delete can
/// never be cached after it, whatever order the two arrive in.
pub(crate) struct Guarded {
    cache: Cache<StorageKey, Arc<Record>>,
    state: Mutex<State>,
}

/// What a sequence number was taken for: one session, or every session of a user (a
/// revocation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Mark {
    Key(StorageKey),
    User(UserKey),
}

#[derive(Default)]
struct State {
    seq: u64,
    floor: u64,
    recent: HashMap<Mark, u64>,
    order: VecDeque<(Mark, u64)>,
    /// How many `Mark::User` entries `recent` holds: while none, a fill need not hash
    /// its record's user id.
    users: usize,
}

impl State {
    fn mark(&mut self, mark: Mark) {
        self.seq += 1;
        let seq = self.seq;
        if self.recent.insert(mark, seq).is_none() && matches!(mark, Mark::User(_)) {
            self.users += 1;
        }
        self.order.push_back((mark, seq));
        while self.order.len() > REMEMBERED {
            if let Some((old, old_seq)) = self.order.pop_front() {
                if self.recent.get(&old) == Some(&old_seq) {
                    self.recent.remove(&old);
                    if matches!(old, Mark::User(_)) {
                        self.users -= 1;
                    }
                }
                self.floor = self.floor.max(old_seq);
            }
        }
    }

    fn newer(&self, mark: &Mark, ticket: Ticket) -> bool {
        self.recent.get(mark).is_some_and(|&seq| seq > ticket.0)
    }

    /// Whether nothing happened to `record`'s key, or to its user, since `ticket`.
    fn admits(&self, ticket: Ticket, record: &Record) -> bool {
        if ticket.0 < self.floor || self.newer(&Mark::Key(record.id.storage_key()), ticket) {
            return false;
        }
        if self.users == 0 {
            return true;
        }
        record
            .user_key()
            .is_none_or(|user| !self.newer(&Mark::User(user), ticket))
    }
}

/// Whether two records are the same life of one id. An id can be created again once
/// its record expired (contract rule 3): versions start again at 1, so they order
/// writes only within one life, which its creation time names.
fn same_life(a: &Record, b: &Record) -> bool {
    a.created_at == b.created_at
}

/// Whether the cached copy is newer than `record`, so that caching `record` would go
/// back in time. A copy of another life never is: what was just read or written is the
/// record the durable store holds now, and the cached one expired before it was created.
fn supersedes(cached: &Record, record: &Record) -> bool {
    same_life(cached, record) && cached.version > record.version
}

impl Guarded {
    pub(crate) fn new(capacity: u64, ttl: Duration) -> Self {
        Guarded {
            cache: Cache::builder()
                .max_capacity(capacity)
                .time_to_live(ttl)
                .support_invalidation_closures()
                .build(),
            state: Mutex::new(State::default()),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn get(&self, key: &StorageKey) -> Option<Arc<Record>> {
        self.cache.get(key)
    }

    pub(crate) fn ticket(&self) -> Ticket {
        Ticket(self.state().seq)
    }

    /// Caches `record` read from the durable store under `ticket`, unless its key
    /// changed since; returns whether it was cached.
    pub(crate) fn fill(&self, ticket: Ticket, record: &Record) -> bool {
        let key = record.id.storage_key();
        let state = self.state();
        if !state.admits(ticket, record) {
            return false;
        }
        if self
            .cache
            .get(&key)
            .is_some_and(|cached| supersedes(&cached, record))
        {
            return false;
        }
        self.cache.insert(key, Arc::new(record.clone()));
        true
    }

    /// Caches this instance's own write of `record` (it is the newest the durable store
    /// has, as of the write), unless a newer version is already here, or the session or
    /// its user was invalidated since `ticket` (taken before the write: a revocation may
    /// have removed what was just written); in-flight fills of the key are refused.
    pub(crate) fn put(&self, ticket: Ticket, record: &Record) {
        let key = record.id.storage_key();
        let mut state = self.state();
        let admitted = state.admits(ticket, record);
        state.mark(Mark::Key(key));
        if !admitted {
            self.cache.invalidate(&key);
            return;
        }
        if self
            .cache
            .get(&key)
            .is_some_and(|cached| supersedes(&cached, record))
        {
            return;
        }
        self.cache.insert(key, Arc::new(record.clone()));
    }

    /// Moves a cached record's deadline after a touch, as the durable store's touch did
    /// (whatever version the touch was made from: it writes only the deadline). A cached
    /// copy of an earlier life of the id is dropped, not revived with the new deadline.
    pub(crate) fn touch(&self, record: &Record) {
        let key = record.id.storage_key();
        let _state = self.state();
        if let Some(cached) = self.cache.get(&key) {
            if !same_life(&cached, record) {
                self.cache.invalidate(&key);
                return;
            }
            let mut touched = (*cached).clone();
            touched.accessed_at = record.accessed_at;
            touched.expires_at = record.expires_at;
            self.cache.insert(key, Arc::new(touched));
        }
    }

    /// Drops `key`, and refuses fills that were on their way.
    pub(crate) fn invalidate(&self, key: &StorageKey) {
        let mut state = self.state();
        state.mark(Mark::Key(*key));
        self.cache.invalidate(key);
    }

    /// Drops every session bound to `user`, and refuses fills and writes of them that
    /// were on their way.
    pub(crate) fn invalidate_user(&self, user: &UserKey) {
        let mut state = self.state();
        state.mark(Mark::User(*user));
        let user = *user;
        if self
            .cache
            .invalidate_entries_if(move |_, record| record.user_key() == Some(user))
            .is_err()
        {
            // Only if closures were not enabled at build time: drop everything instead.
            self.cache.invalidate_all();
        }
    }

    /// Drops everything, and refuses every fill on its way.
    pub(crate) fn clear(&self) {
        let mut state = self.state();
        state.seq += 1;
        state.floor = state.seq;
        state.recent.clear();
        state.order.clear();
        self.cache.invalidate_all();
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> u64 {
        self.cache.run_pending_tasks();
        self.cache.entry_count()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use session_core::{Data, SessionId, Timestamp};

    fn record(version: u64) -> Record {
        Record::new(
            SessionId::generate(),
            Data::new(),
            Timestamp::from_millis(0),
            Timestamp::MAX,
        )
        .with_version(version)
    }

    fn guarded() -> Guarded {
        Guarded::new(1000, Duration::from_secs(60))
    }

    #[test]
    fn a_fill_older_than_an_invalidation_is_refused() {
        let g = guarded();
        let r = record(1);
        let ticket = g.ticket();
        g.invalidate(&r.id.storage_key());
        assert!(!g.fill(ticket, &r));
        assert!(g.get(&r.id.storage_key()).is_none());
        assert!(
            g.fill(g.ticket(), &r),
            "a fill that started after it is fine"
        );
    }

    #[test]
    fn an_invalidation_of_another_key_does_not_refuse_a_fill() {
        let g = guarded();
        let (a, b) = (record(1), record(1));
        let ticket = g.ticket();
        g.invalidate(&b.id.storage_key());
        assert!(g.fill(ticket, &a));
    }

    #[test]
    fn a_clear_refuses_every_fill_on_its_way() {
        let g = guarded();
        let r = record(1);
        let ticket = g.ticket();
        g.clear();
        assert!(!g.fill(ticket, &r));
    }

    #[test]
    fn forgotten_invalidations_still_refuse_old_fills() {
        let g = guarded();
        let r = record(1);
        let ticket = g.ticket();
        for _ in 0..REMEMBERED + 10 {
            g.invalidate(&record(1).id.storage_key());
        }
        assert!(!g.fill(ticket, &r), "the floor passed the ticket");
    }

    #[test]
    fn older_versions_never_replace_newer_ones() {
        let g = guarded();
        let v2 = record(2);
        let mut v1 = v2.clone();
        v1.version = 1;
        g.put(g.ticket(), &v2);
        g.put(g.ticket(), &v1);
        assert!(!g.fill(g.ticket(), &v1));
        assert_eq!(g.get(&v2.id.storage_key()).map(|r| r.version), Some(2));
    }

    #[test]
    fn a_new_life_of_an_id_replaces_an_earlier_one_whatever_its_version() {
        let g = guarded();
        let old = record(5);
        let reborn = Record::new(
            old.id,
            Data::new(),
            Timestamp::from_millis(10_000),
            Timestamp::MAX,
        );
        g.put(g.ticket(), &old);
        g.put(g.ticket(), &reborn);
        let cached = g.get(&old.id.storage_key()).unwrap();
        assert_eq!((cached.version, cached.created_at), (1, reborn.created_at));

        g.put(g.ticket(), &old);
        assert!(
            g.fill(g.ticket(), &reborn),
            "a fill of the new life is cached"
        );
        assert_eq!(g.get(&old.id.storage_key()).unwrap().version, 1);
    }

    #[test]
    fn a_touch_of_a_new_life_drops_an_earlier_one() {
        let g = guarded();
        let old = record(5);
        g.put(g.ticket(), &old);
        let reborn = Record::new(
            old.id,
            Data::new(),
            Timestamp::from_millis(10_000),
            Timestamp::MAX,
        );
        g.touch(&reborn);
        assert!(
            g.get(&old.id.storage_key()).is_none(),
            "the earlier life is not revived with the new deadline"
        );
    }

    #[test]
    fn touch_moves_the_deadline_and_nothing_else() {
        let g = guarded();
        let r = record(3);
        g.put(g.ticket(), &r);
        let mut stale = r.clone();
        stale.version = 1;
        stale.data.insert("k".into(), serde_json::json!(1));
        stale.expires_at = Timestamp::from_millis(7);
        g.touch(&stale);
        let cached = g.get(&r.id.storage_key()).unwrap();
        assert_eq!(
            cached.expires_at,
            Timestamp::from_millis(7),
            "the deadline moved"
        );
        assert_eq!(
            (cached.version, cached.data.len()),
            (3, 0),
            "nothing else did"
        );
        assert_eq!(g.len(), 1);
    }

    #[test]
    fn a_user_revocation_drops_and_refuses_that_users_sessions_only() {
        let g = guarded();
        let ada = session_core::UserBinding::new("ada").unwrap();
        let bob = session_core::UserBinding::new("bob").unwrap();
        let cached = record(1).with_user(Some(ada.clone()));
        let other = record(1).with_user(Some(bob));
        g.put(g.ticket(), &cached);
        g.put(g.ticket(), &other);
        let before = g.ticket();
        let written_meanwhile = record(1).with_user(Some(ada.clone()));
        g.invalidate_user(&ada.user_key());
        assert!(g.get(&cached.id.storage_key()).is_none());
        assert!(g.get(&other.id.storage_key()).is_some());
        g.put(before, &written_meanwhile);
        assert!(
            g.get(&written_meanwhile.id.storage_key()).is_none(),
            "a write that started before the revocation is not cached"
        );
        assert!(!g.fill(before, &written_meanwhile));
        assert!(g.fill(g.ticket(), &written_meanwhile), "a later fill is");
    }
}
