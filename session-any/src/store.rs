//! `AnyStore`: whichever backend the URL chose, behind the one trait.

use std::sync::Arc;

use std::ops::Deref;

use session_core::{Clock, Result, SessionStore};

#[cfg(feature = "tiered")]
use crate::cache::open::CacheParts;
#[cfg(feature = "tiered")]
use crate::cache::CacheUrl;
use crate::lazy::LazyStore;
use crate::url::{OpenContext, StoreUrl};

/// A store chosen at run time, and the scheme that chose it. Cheap to clone; derefs to
/// the backend's `dyn SessionStore`, so every store method is called on it directly.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use std::sync::Arc;
/// use session_core::SessionStore;
///
/// let store = session_any::AnyStore::open("memory://").await?;
/// assert_eq!(store.scheme(), "memory");
/// assert_eq!(store.count().await?, 0);
/// let shared: Arc<dyn SessionStore> = store.into_inner();
/// # let _ = shared;
/// # Ok::<(), session_core::Error>(())
/// # }).unwrap();
/// ```
///
/// A network backend (Redis, PostgreSQL, MySQL/MariaDB, memcached) connects on its
/// first operation unless its URL says `connect=eager` (see [`ConnectMode`]), so that
/// an app starts while its session server is down: until the server answers, every
/// operation fails at once with a temporary backend error (`503` + `Retry-After` from
/// the HTTP layer), and once it does, the store works, without a restart.
/// [`capabilities`](SessionStore::capabilities) are known before connecting.
///
/// With a cache ([`AnyStore::open_with_cache`], `cache` in [`SessionConfig`]) the
/// store is a `session_tiered::TieredStore` in front of the backend (which still opens
/// as its URL says, lazily or not): `backend()` answers `"tiered"`,
/// [`scheme`](AnyStore::scheme) is still the backend's, and [`AnyStore::tiered`] gives
/// the cache's counters.
///
/// [`ConnectMode`]: crate::ConnectMode
/// [`SessionConfig`]: crate::SessionConfig
#[derive(Clone)]
pub struct AnyStore {
    inner: Arc<dyn SessionStore>,
    /// The backend (the durable store, under a cache), when it connects lazily.
    lazy: Option<Arc<LazyStore>>,
    scheme: String,
    /// The cache in front of the backend, if any: `inner` is its tiered store.
    #[cfg(feature = "tiered")]
    cache: Option<Arc<CacheParts>>,
}

impl std::fmt::Debug for AnyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut s = f.debug_struct("AnyStore");
        s.field("scheme", &self.scheme);
        #[cfg(feature = "tiered")]
        s.field("cache", &self.cache.as_ref().map(|c| c.shown.as_str()));
        s.field("lazy", &self.lazy.is_some())
            .field("connected", &self.is_connected())
            .finish()
    }
}

impl AnyStore {
    /// Opens the store `url` names, on the system clock.
    ///
    /// The URL is checked first ([`StoreUrl::parse`], [`StoreUrl::check`]): an unknown
    /// scheme, a scheme whose feature is off, an unknown or repeated query parameter
    /// and a value outside the shared grammar are [`Error::Config`](session_core::Error::Config)
    /// errors that name the problem and never show a password, before any I/O.
    ///
    /// Then an embedded backend (memory, files, shelf, SQLite, cookie) opens now, and
    /// its failures (a directory that cannot be created) are errors here. A network
    /// backend returns at once and connects on its first operation, unless the URL says
    /// `connect=eager`: then it connects (and migrates) now, and an unreachable server
    /// is an error here ([`ConnectMode`](crate::ConnectMode)).
    pub async fn open(url: &str) -> Result<Self> {
        Self::open_with_clock(url, Clock::system()).await
    }

    /// Opens the store `url` names, deciding expiry with `clock` (tests).
    pub async fn open_with_clock(url: &str, clock: Clock) -> Result<Self> {
        Self::open_in(
            url,
            OpenContext {
                clock,
                ..OpenContext::default()
            },
        )
        .await
    }

    pub(crate) async fn open_in(url: &str, ctx: OpenContext) -> Result<Self> {
        Self::open_parsed(StoreUrl::parse(url)?, ctx).await
    }

    pub(crate) async fn open_parsed(url: StoreUrl, ctx: OpenContext) -> Result<Self> {
        let scheme = url.scheme().name().to_owned();
        let opened = url.open(ctx).await?;
        Ok(AnyStore {
            inner: opened.store,
            lazy: opened.lazy,
            scheme,
            #[cfg(feature = "tiered")]
            cache: None,
        })
    }

    /// Opens the store `url` names behind the cache `cache_url` names, on the system
    /// clock: a `session_tiered::TieredStore` whose durable store is the backend.
    ///
    /// `cache_url` is `local://?capacity=…&ttl=…&heartbeat=…&bus=…&bus_url=…&channel=…`
    /// (an in-process cache in each instance, told of other instances' writes and
    /// logouts by a bus: by default the backend's own server for PostgreSQL and
    /// Redis, none for embedded backends, which is for one instance only), or a
    /// `redis://`, `redis+cluster://`, `memcache://` or `memory://` store URL (a cache
    /// every instance shares). The session-any README has the parameters.
    ///
    /// Everything is checked before any I/O, as for [`AnyStore::open`]: both URLs, and
    /// that they fit together (a `cookie://` backend has nothing to cache, `bus=store`
    /// needs a backend on PostgreSQL or Redis) are [`Error::Config`] errors. The
    /// backend then opens as its URL says (lazily, for a network backend), a shared
    /// cache store as its own URL says, and an in-process cache's bus connects in the
    /// background (at once with `connect=eager` on its server's URL).
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// use session_any::AnyStore;
    ///
    /// let store = AnyStore::open_with_cache("memory://", "local://?capacity=1000").await?;
    /// assert_eq!(store.backend(), "tiered");
    /// assert_eq!(store.scheme(), "memory");
    /// assert!(AnyStore::open_with_cache("memory://", "local://?bus=store").await.is_err());
    /// # Ok::<(), session_core::Error>(()) }).unwrap();
    /// ```
    ///
    /// [`Error::Config`]: session_core::Error::Config
    #[cfg(feature = "tiered")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tiered")))]
    pub async fn open_with_cache(url: &str, cache_url: &str) -> Result<Self> {
        Self::open_tiered(
            StoreUrl::parse(url)?,
            &CacheUrl::parse(cache_url)?,
            OpenContext {
                clock: Clock::system(),
                ..OpenContext::default()
            },
        )
        .await
    }

    #[cfg(feature = "tiered")]
    pub(crate) async fn open_tiered(
        url: StoreUrl,
        cache: &CacheUrl,
        ctx: OpenContext,
    ) -> Result<Self> {
        url.check()?;
        let plan = cache.plan(&url)?;
        let scheme = url.scheme().name().to_owned();
        let opened = url.open(ctx.clone()).await?;
        let parts = crate::cache::open::build(opened.store, plan, cache, ctx).await?;
        Ok(AnyStore {
            inner: Arc::new(parts.tiered.clone()),
            lazy: opened.lazy,
            scheme,
            cache: Some(Arc::new(parts)),
        })
    }

    /// The tiered store in front of the backend, if this store was opened with a cache:
    /// its [`stats`](session_tiered::TieredStore::stats) count hits, misses and
    /// invalidations (one deferred means an invalidation could not be sent yet and is
    /// being retried in the background).
    #[cfg(feature = "tiered")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tiered")))]
    pub fn tiered(&self) -> Option<&session_tiered::TieredStore> {
        self.cache.as_ref().map(|c| &c.tiered)
    }

    /// Connects now a store that connects lazily and has not yet, waiting for an
    /// attempt in flight and ignoring the pause between failed attempts: the error is
    /// the connect's (a temporary backend error while the server is down). `Ok` at once
    /// for a store that is connected or was opened eagerly. For readiness checks, and
    /// for tools that must have done the connect's work (an SQL URL's migration) before
    /// they go on.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let store = session_any::AnyStore::open("memory://").await?;
    /// store.connect().await?;
    /// assert!(store.is_connected());
    /// # Ok::<(), session_core::Error>(()) }).unwrap();
    /// ```
    ///
    /// With a cache, the cache's store or bus connects too.
    pub async fn connect(&self) -> Result<()> {
        if let Some(lazy) = &self.lazy {
            lazy.connect_now().await?;
        }
        #[cfg(feature = "tiered")]
        if let Some(cache) = &self.cache {
            cache.connect().await?;
        }
        Ok(())
    }

    /// Whether the store has reached its backend: `true` for an eagerly opened store,
    /// and for a lazy one once an operation (or [`AnyStore::connect`]) has connected.
    /// A connected store stays connected: outages after that are the backend's own
    /// store's to ride out (each reconnects by itself).
    ///
    /// With a cache, the cache's store or bus must have connected too.
    pub fn is_connected(&self) -> bool {
        let backend = self.lazy.as_ref().is_none_or(|l| l.is_connected());
        #[cfg(feature = "tiered")]
        let backend = backend && self.cache.as_ref().is_none_or(|c| c.is_connected());
        backend
    }

    /// The URL scheme that chose the backend.
    pub fn scheme(&self) -> &str {
        &self.scheme
    }

    /// The backend as a shared trait object.
    pub fn into_inner(self) -> Arc<dyn SessionStore> {
        self.inner
    }
}

/// Every [`SessionStore`] method, through the backend: `store.load(..)` works as on
/// any store. Where a `SessionStore` value is needed, pass
/// [`into_inner`](AnyStore::into_inner) (`Arc<dyn SessionStore>` is one).
impl Deref for AnyStore {
    type Target = dyn SessionStore;

    fn deref(&self) -> &Self::Target {
        &*self.inner
    }
}

impl From<AnyStore> for Arc<dyn SessionStore> {
    fn from(store: AnyStore) -> Self {
        store.inner
    }
}
