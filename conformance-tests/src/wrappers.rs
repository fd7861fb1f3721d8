//! Store wrappers for tests: count the operations a request costs, or claim a server
//! store seals its own values.

use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use session_core::{
    Capabilities, DeleteIf, Record, Result, ScanCursor, ScanPage, SessionId, SessionStore,
    StorageKey, UserKey, UserSessionsPage,
};

/// How many times each store operation was called.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OpCounts {
    /// `load` calls.
    pub load: u64,
    /// `create` calls.
    pub create: u64,
    /// `save` calls.
    pub save: u64,
    /// `touch` calls.
    pub touch: u64,
    /// `delete` calls.
    pub delete: u64,
    /// `delete_expired`, `count`, `scan` and `delete_keys` calls.
    pub enumerate: u64,
}

impl OpCounts {
    /// All calls together.
    pub fn total(&self) -> u64 {
        self.load + self.create + self.save + self.touch + self.delete + self.enumerate
    }

    /// Calls that write: create, save, touch, delete.
    pub fn writes(&self) -> u64 {
        self.create + self.save + self.touch + self.delete
    }
}

/// Wraps a store and counts every call, so tests can check what a request costs (a
/// request that never touches its session must cost nothing).
#[derive(Debug, Default)]
pub struct CountingStore<S> {
    inner: S,
    load: AtomicU64,
    create: AtomicU64,
    save: AtomicU64,
    touch: AtomicU64,
    delete: AtomicU64,
    enumerate: AtomicU64,
}

impl<S> CountingStore<S> {
    /// Counts calls to `inner`.
    pub fn new(inner: S) -> Self {
        CountingStore {
            inner,
            load: AtomicU64::new(0),
            create: AtomicU64::new(0),
            save: AtomicU64::new(0),
            touch: AtomicU64::new(0),
            delete: AtomicU64::new(0),
            enumerate: AtomicU64::new(0),
        }
    }

    /// The counts so far.
    pub fn counts(&self) -> OpCounts {
        OpCounts {
            load: self.load.load(Ordering::SeqCst),
            create: self.create.load(Ordering::SeqCst),
            save: self.save.load(Ordering::SeqCst),
            touch: self.touch.load(Ordering::SeqCst),
            delete: self.delete.load(Ordering::SeqCst),
            enumerate: self.enumerate.load(Ordering::SeqCst),
        }
    }

    /// The wrapped store.
    pub fn inner(&self) -> &S {
        &self.inner
    }
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::SeqCst);
}

#[async_trait]
impl<S: SessionStore> SessionStore for CountingStore<S> {
    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }
    fn backend(&self) -> &'static str {
        self.inner.backend()
    }
    fn needs_refresh(&self, cookie_value: &str) -> bool {
        self.inner.needs_refresh(cookie_value)
    }
    async fn load(&self, cookie_value: &str) -> Result<Option<Record>> {
        bump(&self.load);
        self.inner.load(cookie_value).await
    }
    async fn create(&self, record: &Record) -> Result<String> {
        bump(&self.create);
        self.inner.create(record).await
    }
    async fn save(&self, record: &Record, expected_version: u64) -> Result<String> {
        bump(&self.save);
        self.inner.save(record, expected_version).await
    }
    async fn touch(&self, record: &Record) -> Result<String> {
        bump(&self.touch);
        self.inner.touch(record).await
    }
    async fn delete(&self, id: &SessionId) -> Result<()> {
        bump(&self.delete);
        self.inner.delete(id).await
    }
    async fn delete_expired(&self) -> Result<u64> {
        bump(&self.enumerate);
        self.inner.delete_expired().await
    }
    async fn count(&self) -> Result<u64> {
        bump(&self.enumerate);
        self.inner.count().await
    }
    async fn scan(&self, cursor: Option<ScanCursor>, limit: usize) -> Result<ScanPage> {
        bump(&self.enumerate);
        self.inner.scan(cursor, limit).await
    }
    async fn delete_keys(&self, keys: &[StorageKey], only: DeleteIf) -> Result<u64> {
        bump(&self.enumerate);
        self.inner.delete_keys(keys, only).await
    }
    async fn sessions_of(
        &self,
        user: &UserKey,
        cursor: Option<ScanCursor>,
        limit: usize,
    ) -> Result<UserSessionsPage> {
        bump(&self.enumerate);
        self.inner.sessions_of(user, cursor, limit).await
    }
    async fn revoke_user(&self, user: &UserKey, except: Option<&StorageKey>) -> Result<u64> {
        bump(&self.delete);
        self.inner.revoke_user(user, except).await
    }
    async fn revoke_session(&self, user: &UserKey, key: &StorageKey) -> Result<bool> {
        bump(&self.delete);
        self.inner.revoke_session(user, key).await
    }
}

/// Wraps a server store and claims [`Capabilities::self_sealed`]: for tests of what an
/// adapter does with a store whose cookie value is the record (it signs nothing and
/// needs no keys), without the cookie store's sealing in the way. Every call goes to
/// `inner` unchanged; the backend's name is `"self-sealed"`.
///
/// ```
/// use session_conformance::SelfSealed;
/// use session_core::{MemoryStore, SessionStore};
///
/// let store = SelfSealed(MemoryStore::new());
/// assert!(store.capabilities().self_sealed);
/// assert_eq!(store.backend(), "self-sealed");
/// ```
#[derive(Debug, Default)]
pub struct SelfSealed<S>(pub S);

#[async_trait]
impl<S: SessionStore> SessionStore for SelfSealed<S> {
    fn capabilities(&self) -> Capabilities {
        self.0.capabilities().with_self_sealed(true)
    }
    fn backend(&self) -> &'static str {
        "self-sealed"
    }
    async fn load(&self, cookie_value: &str) -> Result<Option<Record>> {
        self.0.load(cookie_value).await
    }
    async fn create(&self, record: &Record) -> Result<String> {
        self.0.create(record).await
    }
    async fn save(&self, record: &Record, expected_version: u64) -> Result<String> {
        self.0.save(record, expected_version).await
    }
    async fn touch(&self, record: &Record) -> Result<String> {
        self.0.touch(record).await
    }
    async fn delete(&self, id: &SessionId) -> Result<()> {
        self.0.delete(id).await
    }
}
