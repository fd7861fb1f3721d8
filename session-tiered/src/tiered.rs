//! The tiered store: a cache tier in front of the durable store, which stays the truth.

use std::sync::Arc;

use async_trait::async_trait;
use session_core::{
    Capabilities, DeleteIf, Error, Record, Result, ScanCursor, ScanPage, SessionId, SessionStore,
    StorageKey, UserKey, UserSessionsPage,
};

use crate::local::LocalCache;
use crate::shared::SharedTier;
use crate::stats::TierStats;
use crate::tier::{Lookup, Tier};

/// How many sessions a `revoke_user` lists per page to learn which cache entries to drop.
const REVOKE_PAGE: usize = 500;

/// A cache in front of a durable store (contract rule 13): reads try the cache, then the
/// durable store, and fill the cache; writes commit to the durable store first and then
/// bring the cache along; deletes and revocations win.
///
/// Two kinds of cache tier:
/// - [`TieredStore::local`]: an in-process [`LocalCache`] in each instance, kept
///   consistent across instances by an [`InvalidationBus`](crate::InvalidationBus), with
///   a stated staleness bound (see [`LocalCache`]).
/// - [`TieredStore::shared`]: any server-side [`SessionStore`] as the cache (Redis,
///   memcached), shared by every instance; no staleness window at all.
///
/// What holds for both:
/// - The durable store's compare-and-set is the truth. A stale cached copy can only make
///   a save fail with `Conflict`; the stale copy is then dropped, so the reload the
///   session handle does on a conflict reads the durable store. No update is lost.
/// - After `delete`, `revoke_user`, `revoke_session` or `delete_keys` returns, the
///   session is gone from the cache (for a local cache: announced to the others), and a
///   fill racing the delete cannot bring it back.
/// - A cache that fails never fails a request: reads fall back to the durable store,
///   writes commit there, and a cache delete that could not be written is retried in the
///   background until it lands.
/// - [`capabilities`](SessionStore::capabilities) are the durable store's; counting,
///   scanning and listings read the durable store.
///
/// ```
/// use session_core::{Data, MemoryStore, Record, SessionId, SessionStore, Timestamp};
/// use session_tiered::{LocalCache, TieredStore};
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let durable = MemoryStore::new(); // a SqlStore, a FileStore, ... in a real app
/// let store = TieredStore::local(durable, LocalCache::new())?;
///
/// let now = Timestamp::from_system(std::time::SystemTime::now());
/// let record = Record::new(SessionId::generate(), Data::new(), now, Timestamp::MAX);
/// let cookie = store.create(&record).await?;
/// assert!(store.load(&cookie).await?.is_some()); // from memory
/// store.delete(&record.id).await?;
/// assert!(store.load(&cookie).await?.is_none());
/// assert_eq!(store.stats().hits, 1);
/// # Ok::<(), session_core::Error>(())
/// # }).unwrap();
/// ```
#[derive(Clone)]
pub struct TieredStore {
    durable: Arc<dyn SessionStore>,
    tier: Arc<dyn Tier>,
}

impl std::fmt::Debug for TieredStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TieredStore")
            .field("cache", &self.tier.kind())
            .field("durable", &self.durable.backend())
            .finish()
    }
}

fn check_durable(durable: &dyn SessionStore) -> Result<()> {
    if durable.capabilities().self_sealed {
        return Err(Error::Config(
            "a tiered store needs a server-side durable store; the cookie store keeps nothing to cache"
                .into(),
        ));
    }
    Ok(())
}

fn runtime() -> Result<()> {
    tokio::runtime::Handle::try_current()
        .map(drop)
        .map_err(|_| Error::Config("a tiered store is built inside a tokio runtime".into()))
}

impl TieredStore {
    /// `durable` behind an in-process cache. Starts the cache's bus tasks, if it has a
    /// bus, on the current tokio runtime.
    ///
    /// Fails with `Config` outside a tokio runtime, or for a cookie store as the durable
    /// store.
    pub fn local(durable: impl SessionStore, cache: LocalCache) -> Result<Self> {
        check_durable(&durable)?;
        runtime()?;
        Ok(TieredStore {
            durable: Arc::new(durable),
            tier: cache.start(),
        })
    }

    /// `durable` behind the shared cache `cache`, for instance a `RedisStore` or a
    /// `MemcacheStore` in front of a `SqlStore`. The cache keeps each session under an id
    /// derived from its storage key, so it never holds a raw id either.
    ///
    /// Fails with `Config` if the cache is not a server-side store with
    /// compare-and-set and delete (which keep it from going backwards), for a cookie
    /// store as the durable store, or outside a tokio runtime.
    pub fn shared(cache: impl SessionStore, durable: impl SessionStore) -> Result<Self> {
        check_durable(&durable)?;
        let caps = cache.capabilities();
        if caps.self_sealed || !caps.compare_and_set || !caps.revoke {
            return Err(Error::Config(format!(
                "the {} store cannot be a shared session cache: it needs a server-side store with compare-and-set and delete",
                cache.backend()
            )));
        }
        runtime()?;
        Ok(TieredStore {
            durable: Arc::new(durable),
            tier: SharedTier::start(Arc::new(cache)),
        })
    }

    /// What the cache tier did so far: hits, misses, fills, invalidations.
    pub fn stats(&self) -> TierStats {
        self.tier.stats()
    }

    /// The durable store.
    pub fn durable(&self) -> &Arc<dyn SessionStore> {
        &self.durable
    }

    /// The cache tier's kind: `"local"`, or the shared cache store's backend name.
    pub fn cache_kind(&self) -> &'static str {
        self.tier.kind()
    }

    /// Keys of every session bound to `user` now, to drop from the cache after a revoke.
    async fn keys_of(&self, user: &UserKey) -> Result<Vec<StorageKey>> {
        let mut keys = Vec::new();
        let mut cursor = None;
        loop {
            let page = self.durable.sessions_of(user, cursor, REVOKE_PAGE).await?;
            keys.extend(page.sessions.iter().map(|s| s.key));
            match page.next {
                Some(next) => cursor = Some(next),
                None => return Ok(keys),
            }
        }
    }

    /// Drops the cached copy after the durable store said it is stale or gone.
    async fn on_write_error(&self, record: &Record, err: &Error) {
        if matches!(err, Error::Conflict | Error::NotFound) {
            self.tier.drop_stale(record.id.storage_key()).await;
        }
    }
}

#[async_trait]
impl SessionStore for TieredStore {
    fn capabilities(&self) -> Capabilities {
        self.durable.capabilities()
    }

    fn backend(&self) -> &'static str {
        "tiered"
    }

    async fn load(&self, cookie_value: &str) -> Result<Option<Record>> {
        // Validated before any I/O (rule 7): junk reaches neither tier.
        let Ok(id) = SessionId::parse(cookie_value) else {
            return Ok(None);
        };
        match self.tier.get(&id).await {
            Lookup::Hit(record) => {
                crate::cache_metrics::lookup(self.tier.kind(), "hit");
                Ok(Some(*record))
            }
            Lookup::Miss(ticket) => {
                crate::cache_metrics::lookup(self.tier.kind(), "miss");
                let record = self.durable.load(cookie_value).await?;
                if let Some(record) = &record {
                    self.tier.fill(ticket, record, &*self.durable).await;
                }
                Ok(record)
            }
            Lookup::Bypass => {
                crate::cache_metrics::lookup(self.tier.kind(), "bypass");
                self.durable.load(cookie_value).await
            }
        }
    }

    async fn create(&self, record: &Record) -> Result<String> {
        let ticket = self.tier.ticket();
        let cookie = self.durable.create(record).await?;
        self.tier.created(ticket, record).await;
        Ok(cookie)
    }

    async fn save(&self, record: &Record, expected_version: u64) -> Result<String> {
        let ticket = self.tier.ticket();
        match self.durable.save(record, expected_version).await {
            Ok(cookie) => {
                self.tier.saved(ticket, record, expected_version).await;
                Ok(cookie)
            }
            Err(e) => {
                self.on_write_error(record, &e).await;
                Err(e)
            }
        }
    }

    async fn touch(&self, record: &Record) -> Result<String> {
        match self.durable.touch(record).await {
            Ok(cookie) => {
                self.tier.touched(record).await;
                Ok(cookie)
            }
            Err(e) => {
                self.on_write_error(record, &e).await;
                Err(e)
            }
        }
    }

    async fn delete(&self, id: &SessionId) -> Result<()> {
        // The durable store first: a fill that read it before the delete is refused or
        // undone by the tier; forgetting first would leave a window for one after it.
        let result = self.durable.delete(id).await;
        if !matches!(result, Err(Error::Unsupported(_))) {
            self.tier.forget(id.storage_key()).await;
        }
        result
    }

    async fn delete_expired(&self) -> Result<u64> {
        // Cached copies carry their deadline and are checked on every read.
        self.durable.delete_expired().await
    }

    async fn count(&self) -> Result<u64> {
        self.durable.count().await
    }

    async fn scan(&self, cursor: Option<ScanCursor>, limit: usize) -> Result<ScanPage> {
        self.durable.scan(cursor, limit).await
    }

    async fn delete_keys(&self, keys: &[StorageKey], only: DeleteIf) -> Result<u64> {
        let deleted = self.durable.delete_keys(keys, only).await?;
        for key in keys {
            self.tier.forget(*key).await;
        }
        Ok(deleted)
    }

    async fn sessions_of(
        &self,
        user: &UserKey,
        cursor: Option<ScanCursor>,
        limit: usize,
    ) -> Result<UserSessionsPage> {
        self.durable.sessions_of(user, cursor, limit).await
    }

    async fn revoke_user(&self, user: &UserKey, except: Option<&StorageKey>) -> Result<u64> {
        // Marked first, listed before the revoke: the tier drops what the listing found
        // after the revoke, and sessions bound while it ran by their binding (in-process)
        // or by their writers seeing the mark (shared).
        self.tier.revoking(user).await;
        let keys = self.keys_of(user).await?;
        let revoked = self.durable.revoke_user(user, except).await?;
        let listed = keys.into_iter().filter(|k| Some(k) != except).collect();
        self.tier.revoked(user, listed).await;
        Ok(revoked)
    }

    async fn revoke_session(&self, user: &UserKey, key: &StorageKey) -> Result<bool> {
        let revoked = self.durable.revoke_session(user, key).await?;
        if revoked {
            self.tier.forget(*key).await;
        }
        Ok(revoked)
    }
}
