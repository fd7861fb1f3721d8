//! A shared cache (Redis, memcached, any server-side store) in front of the durable one.

use std::sync::{Arc, Weak};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use session_core::{Data, Error, Record, SessionId, SessionStore, StorageKey, Timestamp, UserKey};
use sha2::{Digest, Sha256};

use crate::breaker::Breaker;
use crate::guard::Ticket;
use crate::pending::Pending;
use crate::stats::{Counters, TierStats};
use crate::tier::{Lookup, Tier};

/// How often a save tries to bring the cache entry up to the new version before it
/// drops the entry instead.
const CONVERGE_TRIES: usize = 3;

/// The id a session is cached under: derived from its storage key, so that the cache is
/// reachable from a storage key alone (revocations and admin deletes have no id), and
/// so that the cache, like every server store, never holds a raw session id.
pub(crate) fn cache_id(key: &StorageKey) -> SessionId {
    let digest = Sha256::new()
        .chain_update(b"session-tiered/cache-id/v1\0")
        .chain_update(key.as_bytes())
        .finalize();
    SessionId::from_bytes(digest.into())
}

/// How long a revocation's marker lives in the cache: longer than any revocation runs.
const REVOKING_FOR: Duration = Duration::from_secs(300);

/// The id of the marker a revocation of `user` leaves in the cache. While it is there,
/// a write or fill of a session bound to the user does not stay cached: the revoke's
/// listing may have missed it (bound while the revoke ran), so nothing else would
/// remove it.
fn revoking_id(user: &UserKey) -> SessionId {
    let digest = Sha256::new()
        .chain_update(b"session-tiered/revoking/v1\0")
        .chain_update(user.as_bytes())
        .finalize();
    SessionId::from_bytes(digest.into())
}

/// The same record as the cache keeps it: under its [`cache_id`].
fn as_cached(record: &Record) -> Record {
    let mut cached = record.clone();
    cached.id = cache_id(&record.id.storage_key());
    cached
}

/// The running shared tier.
pub(crate) struct SharedTier {
    cache: Arc<dyn SessionStore>,
    breaker: Breaker,
    pending: Pending,
    counters: Counters,
}

impl SharedTier {
    pub(crate) fn start(cache: Arc<dyn SessionStore>) -> Arc<SharedTier> {
        let tier = Arc::new(SharedTier {
            breaker: Breaker::new(cache.backend()),
            cache,
            pending: Pending::new(100_000),
            counters: Counters::default(),
        });
        tokio::spawn(retry(Arc::downgrade(&tier)));
        tier
    }

    /// Deletes the cache entry of `key`; `false` if the cache could not be reached.
    async fn delete_entry(&self, key: StorageKey) -> bool {
        let was_open = self.breaker.is_open();
        match self.breaker.call(self.cache.delete(&cache_id(&key))).await {
            Ok(()) => true,
            Err(e) if was_open => {
                tracing::debug!(cache = self.cache.backend(), error = %e, "session cache: down; an entry's delete waits");
                false
            }
            Err(e) => {
                tracing::warn!(cache = self.cache.backend(), error = %e, "session cache: an entry could not be deleted; retrying in the background");
                false
            }
        }
    }

    async fn forget_or_defer(&self, key: StorageKey) {
        if self.delete_entry(key).await {
            Counters::bump(&self.counters.invalidations_sent);
        } else {
            Counters::bump(&self.counters.invalidations_deferred);
            crate::cache_metrics::deferred(self.cache.backend());
            if !self.pending.push(key) {
                tracing::warn!("session cache: too many deletes waiting; the oldest is given up");
            }
        }
    }

    /// Whether a revocation of the user `record` is bound to may be running (or the
    /// cache cannot say): then the entry just written must not stay.
    async fn user_revoking(&self, record: &Record) -> bool {
        let Some(user) = record.user_key() else {
            return false;
        };
        !matches!(
            self.breaker
                .call(self.cache.load(&revoking_id(&user).to_string()))
                .await,
            Ok(None)
        )
    }

    /// After writing `record`'s entry: drops it again if its user is being revoked.
    async fn unless_revoking(&self, record: &Record) {
        if self.user_revoking(record).await {
            self.forget_or_defer(record.id.storage_key()).await;
        }
    }

    /// Brings the cache entry to `record` (the durable store's newest), never replacing
    /// a newer version; drops the entry if that does not work out.
    async fn converge(&self, record: &Record, mut expected: u64) {
        let cached = as_cached(record);
        let text = cached.id.to_string();
        for _ in 0..CONVERGE_TRIES {
            match self.breaker.call(self.cache.save(&cached, expected)).await {
                Ok(_) => return,
                // Nothing cached: the next read fills it.
                Err(Error::NotFound) => return,
                Err(Error::Conflict) => match self.breaker.call(self.cache.load(&text)).await {
                    Ok(Some(current)) if current.version >= record.version => return,
                    Ok(Some(current)) => expected = current.version,
                    Ok(None) => return,
                    Err(_) => break,
                },
                Err(_) => break,
            }
        }
        self.forget_or_defer(record.id.storage_key()).await;
    }
}

/// Retries deferred deletes until the cache takes them.
async fn retry(tier: Weak<SharedTier>) {
    loop {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let Some(t) = tier.upgrade() else {
            return;
        };
        // A key stays queued until its delete worked: until then `get` keeps bypassing
        // the cache for it.
        for key in t.pending.oldest(256) {
            let deleted = t.breaker.probe(t.cache.delete(&cache_id(&key))).await;
            if deleted.is_err() {
                break;
            }
            t.pending.remove(&key);
            Counters::bump(&t.counters.invalidations_sent);
        }
    }
}

#[async_trait]
impl Tier for SharedTier {
    fn kind(&self) -> &'static str {
        self.cache.backend()
    }

    async fn get(&self, id: &SessionId) -> Lookup {
        // A deleted session whose cache entry could not be removed yet (the cache was
        // down, then came back with its data) is read from the durable store, which no
        // longer has it: this instance never serves it again.
        if self.pending.contains(&id.storage_key()) {
            Counters::bump(&self.counters.bypasses);
            return Lookup::Bypass;
        }
        let text = cache_id(&id.storage_key()).to_string();
        match self.breaker.call(self.cache.load(&text)).await {
            Ok(Some(mut record)) => {
                Counters::bump(&self.counters.hits);
                record.id = *id;
                Lookup::Hit(Box::new(record))
            }
            Ok(None) => {
                Counters::bump(&self.counters.misses);
                Lookup::Miss(Ticket::UNUSED)
            }
            Err(e) => {
                tracing::debug!(cache = self.cache.backend(), error = %e, "session cache: read failed; reading the durable store");
                Counters::bump(&self.counters.bypasses);
                Lookup::Bypass
            }
        }
    }

    /// Inserts if absent, then reads the durable store again. If the session went in
    /// between, the entry is deleted; if it changed, the entry is brought up to date.
    /// Either way a writer that finished before the second read is seen by it, and one
    /// that finished after the insert overwrote or deleted the entry itself: no fill
    /// outlives a delete.
    async fn fill(&self, _ticket: Ticket, record: &Record, durable: &dyn SessionStore) {
        match self
            .breaker
            .call(self.cache.create(&as_cached(record)))
            .await
        {
            Ok(_) | Err(Error::Collision) => {}
            Err(_) => {
                Counters::bump(&self.counters.fills_skipped);
                return;
            }
        }
        let key = record.id.storage_key();
        match durable.load(&record.id.to_string()).await {
            Ok(Some(now)) if now.version == record.version => {
                Counters::bump(&self.counters.fills);
                self.unless_revoking(record).await;
            }
            Ok(Some(now)) => {
                Counters::bump(&self.counters.fills_skipped);
                self.converge(&now, record.version).await;
            }
            Ok(None) | Err(_) => {
                Counters::bump(&self.counters.fills_skipped);
                self.forget_or_defer(key).await;
            }
        }
    }

    fn ticket(&self) -> Ticket {
        Ticket::UNUSED
    }

    async fn created(&self, _ticket: Ticket, record: &Record) {
        // A failure only costs a miss later.
        let _ = self
            .breaker
            .call(self.cache.create(&as_cached(record)))
            .await;
        self.unless_revoking(record).await;
    }

    async fn saved(&self, _ticket: Ticket, record: &Record, expected_version: u64) {
        self.converge(record, expected_version).await;
        self.unless_revoking(record).await;
    }

    async fn touched(&self, record: &Record) {
        // A failed touch leaves an earlier deadline in the cache: a miss later, no harm.
        let _ = self
            .breaker
            .call(self.cache.touch(&as_cached(record)))
            .await;
    }

    async fn forget(&self, key: StorageKey) {
        self.forget_or_defer(key).await;
    }

    async fn drop_stale(&self, key: StorageKey) {
        self.forget_or_defer(key).await;
    }

    /// Leaves the marker (or extends it) before the listing and the revoke.
    async fn revoking(&self, user: &UserKey) {
        let now = Timestamp::from_system(SystemTime::now());
        let marker = Record::new(
            revoking_id(user),
            Data::new(),
            now,
            now.saturating_add(REVOKING_FOR),
        );
        let written = match self.breaker.call(self.cache.create(&marker)).await {
            Err(Error::Collision) => self.breaker.call(self.cache.touch(&marker)).await.map(drop),
            other => other.map(drop),
        };
        if let Err(e) = written {
            // Writers that cannot read the marker drop their entries anyway.
            tracing::warn!(cache = self.cache.backend(), error = %e, "session cache: the revocation marker could not be written");
        }
    }

    /// Deletes the entries of the sessions the listing found. Sessions bound while the
    /// revoke ran were written while the marker was there, and their writers dropped
    /// their entries themselves.
    async fn revoked(&self, _user: &UserKey, listed: Vec<StorageKey>) {
        for key in listed {
            self.forget_or_defer(key).await;
        }
    }

    fn stats(&self) -> TierStats {
        self.counters.snapshot()
    }
}
