//! `AnyStore`: whichever backend the URL chose, behind the one trait.

use std::sync::Arc;

use std::ops::Deref;

use session_core::{Clock, Result, SessionStore};

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
/// [`ConnectMode`]: crate::ConnectMode
#[derive(Clone)]
pub struct AnyStore {
    inner: Arc<dyn SessionStore>,
    /// The same store as `inner`, when it connects lazily.
    lazy: Option<Arc<LazyStore>>,
    scheme: String,
}

impl std::fmt::Debug for AnyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnyStore")
            .field("scheme", &self.scheme)
            .field("lazy", &self.lazy.is_some())
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
        })
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
    pub async fn connect(&self) -> Result<()> {
        match &self.lazy {
            Some(lazy) => lazy.connect_now().await,
            None => Ok(()),
        }
    }

    /// Whether the store has reached its backend: `true` for an eagerly opened store,
    /// and for a lazy one once an operation (or [`AnyStore::connect`]) has connected.
    /// A connected store stays connected: outages after that are the backend's own
    /// store's to ride out (each reconnects by itself).
    pub fn is_connected(&self) -> bool {
        self.lazy.as_ref().is_none_or(|l| l.is_connected())
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
