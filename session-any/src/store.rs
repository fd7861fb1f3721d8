//! `AnyStore`: whichever backend the URL chose, behind the one trait.

use std::sync::Arc;

use std::ops::Deref;

use session_core::{Clock, Result, SessionStore};

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
#[derive(Clone)]
pub struct AnyStore {
    inner: Arc<dyn SessionStore>,
    scheme: String,
}

impl std::fmt::Debug for AnyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnyStore")
            .field("scheme", &self.scheme)
            .finish()
    }
}

impl AnyStore {
    /// Opens the store `url` names, on the system clock.
    ///
    /// The URL is checked first ([`StoreUrl::parse`], [`StoreUrl::check`]): an unknown
    /// scheme, a scheme whose feature is off, an unknown or repeated query parameter
    /// and a value outside the shared grammar are [`Error::Config`](session_core::Error::Config)
    /// errors that name the problem and never show a password.
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
        let inner = url.open(ctx).await?;
        Ok(AnyStore { inner, scheme })
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
