//! The in-process cache: moka in each instance, kept honest by a bus.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use rand::RngCore;
use session_core::{Clock, Record, SessionId, SessionStore, StorageKey, UserKey};
use tokio::time::Instant;

use crate::breaker::Breaker;
use crate::bus::{InvalidationBus, Message};
use crate::guard::{Guarded, Ticket};
use crate::pending::Pending;
use crate::stats::{Counters, TierStats};
use crate::tier::{Lookup, Tier};

/// The default number of sessions an instance keeps in memory.
pub const DEFAULT_CAPACITY: u64 = 10_000;
/// The default longest time a session stays in an instance's memory.
pub const DEFAULT_TTL: Duration = Duration::from_secs(30);
/// The default heartbeat: how long an instance serves from memory without hearing the bus.
pub const DEFAULT_HEARTBEAT: Duration = Duration::from_secs(1);

/// An in-process cache for a [`TieredStore`](crate::TieredStore): a bounded, concurrent
/// map (moka) of recently used sessions in each instance, kept consistent across
/// instances by an [`InvalidationBus`].
///
/// # The staleness bound
///
/// When an instance saves, deletes or revokes a session it drops the session from its own
/// memory at once and announces it on the bus before the call returns; the others drop
/// it when the message arrives. So after a `delete` returns:
///
/// - the deleting instance never serves the session again;
/// - another instance can serve it only until the announcement reaches it (the bus's
///   delivery time, measured in RELIABILITY.md), and never longer than its
///   [heartbeat](Self::with_heartbeat) (default 1 s): an instance that has heard nothing
///   on the bus for a heartbeat (not even its own heartbeats, sent four times per period)
///   stops serving from memory and clears it, since it may have missed an announcement;
/// - if the deleting instance could not publish (its link to the bus is down while the
///   others' is up), it retries in the background, and no entry outlives the
///   [TTL](Self::with_ttl) (default 30 s) in any case.
///
/// A fill never brings back a session that changed or went while it was on its way: see
/// the crate docs. Without a bus ([`LocalCache::new`] alone) the cache is for one
/// instance only: other processes writing the same durable store are not heard, and
/// their changes show here within the TTL.
///
/// ```
/// use std::time::Duration;
/// use session_tiered::{LocalCache, MemoryBus};
///
/// let cache = LocalCache::new()
///     .with_capacity(50_000)
///     .with_ttl(Duration::from_secs(10))
///     .with_bus(MemoryBus::default());
/// ```
#[derive(Clone)]
pub struct LocalCache {
    capacity: u64,
    ttl: Duration,
    heartbeat: Duration,
    bus: Option<Arc<dyn InvalidationBus>>,
    clock: Clock,
}

impl std::fmt::Debug for LocalCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalCache")
            .field("capacity", &self.capacity)
            .field("ttl", &self.ttl)
            .field("heartbeat", &self.heartbeat)
            .field("bus", &self.bus.as_ref().map(|b| b.name()))
            .finish_non_exhaustive()
    }
}

impl Default for LocalCache {
    fn default() -> Self {
        LocalCache::new()
    }
}

impl LocalCache {
    /// A cache of [`DEFAULT_CAPACITY`] sessions for at most [`DEFAULT_TTL`], with no bus
    /// (one instance).
    pub fn new() -> Self {
        LocalCache {
            capacity: DEFAULT_CAPACITY,
            ttl: DEFAULT_TTL,
            heartbeat: DEFAULT_HEARTBEAT,
            bus: None,
            clock: Clock::system(),
        }
    }

    /// Keeps at most `capacity` sessions (moka's TinyLFU decides which).
    pub fn with_capacity(mut self, capacity: u64) -> Self {
        self.capacity = capacity;
        self
    }

    /// Keeps a session at most `ttl` after it was cached, whatever its own deadline.
    ///
    /// Counted from insertion on purpose, not from the last read: it is the bound on
    /// how long an instance may serve a copy whose invalidation never reached it (the
    /// deleting instance could not publish), and a time-to-idle would never end a copy
    /// that is read often. The price is one durable read per session per `ttl`.
    pub fn with_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// Serves from memory only while the bus was heard within `heartbeat` (at least
    /// 20 ms). Smaller is a tighter staleness bound and more bus traffic: each instance
    /// publishes four heartbeats per period.
    pub fn with_heartbeat(mut self, heartbeat: Duration) -> Self {
        self.heartbeat = heartbeat.max(Duration::from_millis(20));
        self
    }

    /// Announces and hears invalidations on `bus`: needed as soon as two instances share
    /// the durable store.
    pub fn with_bus(mut self, bus: impl InvalidationBus) -> Self {
        self.bus = Some(Arc::new(bus));
        self
    }

    /// The clock cached records' deadlines are checked against (the durable store's).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The configured capacity.
    pub fn capacity(&self) -> u64 {
        self.capacity
    }

    /// The configured TTL.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// The configured heartbeat.
    pub fn heartbeat(&self) -> Duration {
        self.heartbeat
    }

    /// Builds the running cache and, with a bus, its listener and heartbeat tasks (on
    /// the current tokio runtime; they end when the store is dropped).
    pub(crate) fn start(self) -> Arc<LocalTier> {
        let mut instance = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut instance);
        let tier = Arc::new(LocalTier {
            guarded: Guarded::new(self.capacity, self.ttl),
            link: Link::new(self.bus.is_none()),
            breaker: Breaker::new(self.bus.as_ref().map_or("bus", |b| b.name())),
            bus: self.bus,
            instance,
            clock: self.clock,
            heartbeat: self.heartbeat,
            pending: Pending::new(100_000),
            counters: Counters::default(),
        });
        if tier.bus.is_some() {
            tokio::spawn(listen(Arc::downgrade(&tier)));
            tokio::spawn(beat(Arc::downgrade(&tier)));
        }
        tier
    }
}

/// When this instance last heard the bus.
struct Link {
    started: Instant,
    /// Milliseconds since `started` of the last message heard; [`NEVER`] while the link
    /// is not established.
    last_heard: AtomicU64,
    always: bool,
}

const NEVER: u64 = u64::MAX;

impl Link {
    fn new(always: bool) -> Self {
        Link {
            started: Instant::now(),
            last_heard: AtomicU64::new(NEVER),
            always,
        }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX - 1)
    }

    fn heard(&self) {
        self.last_heard.store(self.now_ms(), Ordering::Release);
    }

    fn lost(&self) {
        self.last_heard.store(NEVER, Ordering::Release);
    }

    fn live(&self, heartbeat: Duration) -> bool {
        if self.always {
            return true;
        }
        let last = self.last_heard.load(Ordering::Acquire);
        last != NEVER
            && self.now_ms().saturating_sub(last)
                < u64::try_from(heartbeat.as_millis()).unwrap_or(u64::MAX)
    }
}

/// The running in-process tier.
pub(crate) struct LocalTier {
    guarded: Guarded,
    bus: Option<Arc<dyn InvalidationBus>>,
    breaker: Breaker,
    instance: [u8; 16],
    link: Link,
    clock: Clock,
    heartbeat: Duration,
    pending: Pending,
    counters: Counters,
}

impl LocalTier {
    async fn announce(&self, key: StorageKey) {
        let Some(bus) = &self.bus else {
            return;
        };
        let message = Message::Invalidate {
            from: self.instance,
            key,
        }
        .encode();
        // Through the breaker: while the bus is down, writes queue their announcement at
        // once instead of each waiting out the publish timeout; the heartbeat task sends
        // what waits as soon as a publish works again.
        let was_open = self.breaker.is_open();
        match self.breaker.call(bus.publish(&message)).await {
            Ok(()) => Counters::bump(&self.counters.invalidations_sent),
            Err(e) if was_open => {
                tracing::debug!(bus = bus.name(), error = %e, "session cache: the bus is down; an invalidation waits");
                self.defer(key);
            }
            Err(e) => {
                tracing::warn!(bus = bus.name(), error = %e, "session cache: an invalidation could not be announced; retrying in the background");
                self.defer(key);
            }
        }
    }

    async fn announce_user(&self, user: UserKey) {
        let Some(bus) = &self.bus else {
            return;
        };
        let message = Message::RevokeUser {
            from: self.instance,
            user,
        }
        .encode();
        // Not through the breaker: a revocation is rare and has no key to queue.
        if let Err(e) = bus.publish(&message).await {
            // Rare (a revocation) and not keyed by session: retried once, then the TTL
            // bounds what other instances may still serve.
            tracing::warn!(bus = bus.name(), error = %e, "session cache: a user revocation could not be announced; retrying once");
            if bus.publish(&message).await.is_err() {
                Counters::bump(&self.counters.invalidations_deferred);
                crate::cache_metrics::deferred("local");
                return;
            }
        }
        Counters::bump(&self.counters.invalidations_sent);
    }

    fn defer(&self, key: StorageKey) {
        Counters::bump(&self.counters.invalidations_deferred);
        crate::cache_metrics::deferred("local");
        if !self.pending.push(key) {
            tracing::warn!("session cache: too many invalidations waiting; the oldest is given up (its entries end with the cache's TTL)");
        }
    }

    fn hear(&self, bytes: &[u8]) {
        self.link.heard();
        match Message::decode(bytes) {
            Some(Message::Invalidate { from, key }) if from != self.instance => {
                self.guarded.invalidate(&key);
                Counters::bump(&self.counters.invalidations_received);
            }
            Some(Message::RevokeUser { from, user }) if from != self.instance => {
                self.guarded.invalidate_user(&user);
                Counters::bump(&self.counters.invalidations_received);
            }
            _ => {}
        }
    }

    fn lose_link(&self) {
        self.link.lost();
        self.guarded.clear();
        Counters::bump(&self.counters.clears);
    }
}

/// Hears the bus: invalidations from other instances, and the heartbeats that prove the
/// link. A stream that ends or stays quiet for a heartbeat is a lost link: everything
/// cached is dropped, and nothing is served from memory until the link is back.
async fn listen(tier: Weak<LocalTier>) {
    let mut backoff = Duration::from_millis(100);
    loop {
        let (bus, heartbeat) = match tier.upgrade() {
            Some(t) => match &t.bus {
                Some(bus) => (bus.clone(), t.heartbeat),
                None => return,
            },
            None => return,
        };
        match bus.subscribe().await {
            Ok(mut stream) => {
                backoff = Duration::from_millis(100);
                // Whatever was cached before this subscription may have missed messages.
                match tier.upgrade() {
                    Some(t) => t.guarded.clear(),
                    None => return,
                }
                // Ends on a closed stream or a heartbeat of silence.
                while let Ok(Some(bytes)) = tokio::time::timeout(heartbeat, stream.next()).await {
                    match tier.upgrade() {
                        Some(t) => t.hear(&bytes),
                        None => return,
                    }
                }
                match tier.upgrade() {
                    Some(t) => {
                        tracing::warn!(bus = bus.name(), "session cache: the invalidation bus went quiet or closed; serving from the durable store until it is back");
                        t.lose_link();
                    }
                    None => return,
                }
            }
            Err(e) => {
                tracing::warn!(bus = bus.name(), error = %e, "session cache: cannot subscribe to the invalidation bus; serving from the durable store");
                tokio::time::sleep(backoff).await;
                // At most half a second apart, as the Redis store reconnects: a refused
                // attempt costs nothing, and the cache is off until one works.
                backoff = (backoff * 2).min(Duration::from_millis(500));
            }
        }
    }
}

/// Publishes this instance's heartbeat four times per period, and retries deferred
/// invalidations.
async fn beat(tier: Weak<LocalTier>) {
    loop {
        let period = match tier.upgrade() {
            Some(t) => {
                if let Some(bus) = &t.bus {
                    let heartbeat = Message::Heartbeat { from: t.instance }.encode();
                    if t.breaker.probe(bus.publish(&heartbeat)).await.is_ok() {
                        for key in t.pending.take(256) {
                            t.announce(key).await;
                        }
                    }
                }
                t.heartbeat / 4
            }
            None => return,
        };
        tokio::time::sleep(period).await;
    }
}

#[async_trait]
impl Tier for LocalTier {
    fn kind(&self) -> &'static str {
        "local"
    }

    async fn get(&self, id: &SessionId) -> Lookup {
        if !self.link.live(self.heartbeat) {
            Counters::bump(&self.counters.bypasses);
            return Lookup::Bypass;
        }
        match self.guarded.get(&id.storage_key()) {
            Some(record) if !record.is_expired(self.clock.now()) => {
                Counters::bump(&self.counters.hits);
                Lookup::Hit(Box::new((*record).clone()))
            }
            _ => {
                Counters::bump(&self.counters.misses);
                // Taken here, not before the lookup: a hit needs no ticket (and so no
                // lock), and a ticket taken before the durable read is all a fill needs
                // to lose against any change made after it.
                Lookup::Miss(self.guarded.ticket())
            }
        }
    }

    async fn fill(&self, ticket: Ticket, record: &Record, _durable: &dyn SessionStore) {
        let filled = self.link.live(self.heartbeat) && self.guarded.fill(ticket, record);
        if filled {
            Counters::bump(&self.counters.fills);
        } else {
            Counters::bump(&self.counters.fills_skipped);
        }
    }

    fn ticket(&self) -> Ticket {
        self.guarded.ticket()
    }

    async fn created(&self, ticket: Ticket, record: &Record) {
        self.guarded.put(ticket, record);
    }

    async fn saved(&self, ticket: Ticket, record: &Record, _expected_version: u64) {
        self.guarded.put(ticket, record);
        self.announce(record.id.storage_key()).await;
    }

    async fn touched(&self, record: &Record) {
        self.guarded.touch(record);
    }

    async fn forget(&self, key: StorageKey) {
        self.guarded.invalidate(&key);
        self.announce(key).await;
    }

    async fn drop_stale(&self, key: StorageKey) {
        self.guarded.invalidate(&key);
    }

    async fn revoking(&self, _user: &UserKey) {}

    /// Drops the user's sessions here and announces it: entries bound to the user are
    /// dropped by their binding, so sessions bound while the revoke ran (which the
    /// listing missed) go too, and writes of them still on their way are not cached.
    async fn revoked(&self, user: &UserKey, _listed: Vec<StorageKey>) {
        self.guarded.invalidate_user(user);
        self.announce_user(*user).await;
    }

    fn stats(&self) -> TierStats {
        self.counters.snapshot()
    }
}
