//! `AnyStore`: whichever backend the URL chose, behind the one trait.

use std::sync::Arc;

use async_trait::async_trait;
use session_core::{
    Capabilities, Clock, DeleteIf, Record, Result, ScanCursor, ScanPage, SessionId, SessionStore,
    StorageKey,
};

use crate::url::{OpenContext, StoreUrl};

/// A store chosen at run time. Cheap to clone; implements [`SessionStore`] by
/// delegating to the backend.
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
        let url = StoreUrl::parse(url)?;
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

#[async_trait]
impl SessionStore for AnyStore {
    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }
    fn needs_refresh(&self, cookie_value: &str) -> bool {
        self.inner.needs_refresh(cookie_value)
    }
    async fn load(&self, cookie_value: &str) -> Result<Option<Record>> {
        self.inner.load(cookie_value).await
    }
    async fn create(&self, record: &Record) -> Result<String> {
        self.inner.create(record).await
    }
    async fn save(&self, record: &Record, expected_version: u64) -> Result<String> {
        self.inner.save(record, expected_version).await
    }
    async fn touch(&self, record: &Record) -> Result<String> {
        self.inner.touch(record).await
    }
    async fn delete(&self, id: &SessionId) -> Result<()> {
        self.inner.delete(id).await
    }
    async fn delete_expired(&self) -> Result<u64> {
        self.inner.delete_expired().await
    }
    async fn count(&self) -> Result<u64> {
        self.inner.count().await
    }
    async fn scan(&self, cursor: Option<ScanCursor>, limit: usize) -> Result<ScanPage> {
        self.inner.scan(cursor, limit).await
    }
    async fn delete_keys(&self, keys: &[StorageKey], only: DeleteIf) -> Result<u64> {
        self.inner.delete_keys(keys, only).await
    }
}
