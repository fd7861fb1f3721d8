//! The store contract every backend implements.

use std::sync::Arc;

use async_trait::async_trait;

use crate::{
    DeleteIf, Record, Result, ScanCursor, ScanPage, SessionId, StorageKey, UserKey,
    UserSessionsPage,
};

/// What a store can and cannot do (contract rule 10). The conformance suite reads it:
/// a missing capability is checked to answer [`Error::Unsupported`](crate::Error),
/// never skipped.
///
/// Build one with [`Capabilities::new`] and the `with_*` methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Capabilities {
    /// `save` rejects a stale expected version with `Conflict`. Without it the store is
    /// last-writer-wins (but still never resurrects).
    pub compare_and_set: bool,
    /// `count`, `delete_expired`, `scan` and `delete_keys` work.
    pub enumerate: bool,
    /// Records live on the server, so `delete` revokes a session everywhere. The cookie
    /// store lacks this: a sealed cookie stays valid until it expires.
    pub revoke: bool,
    /// The server drops expired records by itself (Redis `PXAT`, memcached exptime).
    pub native_ttl: bool,
    /// The store may drop live records under memory pressure (a cache).
    pub may_evict: bool,
    /// The largest encoded record the store accepts, in bytes.
    pub max_record_size: Option<usize>,
    /// The cookie value is the record itself, sealed and authenticated by the store
    /// (the cookie store). The HTTP layer then does not sign it again, which would only
    /// spend bytes of the browser's 4 KiB cookie budget.
    pub self_sealed: bool,
    /// The store keeps an index of sessions by bound user (contract rule 12):
    /// [`sessions_of`](SessionStore::sessions_of),
    /// [`revoke_user`](SessionStore::revoke_user) and
    /// [`revoke_session`](SessionStore::revoke_session) work. Without it they answer
    /// `Unsupported`; the binding itself is still stored with every record.
    pub user_index: bool,
}

impl Capabilities {
    /// A server store with no optional capability; add them with the `with_*` methods.
    pub const fn new() -> Self {
        Capabilities {
            compare_and_set: false,
            enumerate: false,
            revoke: true,
            native_ttl: false,
            may_evict: false,
            max_record_size: None,
            self_sealed: false,
            user_index: false,
        }
    }

    /// Sets [`Capabilities::compare_and_set`].
    pub const fn with_compare_and_set(mut self, yes: bool) -> Self {
        self.compare_and_set = yes;
        self
    }

    /// Sets [`Capabilities::enumerate`].
    pub const fn with_enumerate(mut self, yes: bool) -> Self {
        self.enumerate = yes;
        self
    }

    /// Sets [`Capabilities::revoke`].
    pub const fn with_revoke(mut self, yes: bool) -> Self {
        self.revoke = yes;
        self
    }

    /// Sets [`Capabilities::native_ttl`].
    pub const fn with_native_ttl(mut self, yes: bool) -> Self {
        self.native_ttl = yes;
        self
    }

    /// Sets [`Capabilities::may_evict`].
    pub const fn with_may_evict(mut self, yes: bool) -> Self {
        self.may_evict = yes;
        self
    }

    /// Sets [`Capabilities::self_sealed`].
    pub const fn with_self_sealed(mut self, yes: bool) -> Self {
        self.self_sealed = yes;
        self
    }

    /// Sets [`Capabilities::user_index`].
    pub const fn with_user_index(mut self, yes: bool) -> Self {
        self.user_index = yes;
        self
    }

    /// Sets [`Capabilities::max_record_size`].
    pub const fn with_max_record_size(mut self, limit: Option<usize>) -> Self {
        self.max_record_size = limit;
        self
    }
}

impl Default for Capabilities {
    fn default() -> Self {
        Self::new()
    }
}

/// A place sessions live: server-side (files, SQL, Redis, memcached, memory) or
/// client-side (the sealed cookie). One trait serves both (contract rule 1): the store
/// turns the cookie value a client sent into a record, and a written record into the
/// cookie value to send back. For server stores that value is the session id's text;
/// for the cookie store it is the sealed record.
///
/// # Contract
///
/// 2. `load` answers `Ok(None)` for a missing, expired, malformed or tampered value;
///    `Err` only for real failures, including stored bytes that no longer decode
///    ([`Error::Corrupt`](crate::Error::Corrupt)).
/// 3. `create` is an atomic insert-if-absent: [`Error::Collision`](crate::Error::Collision)
///    on an existing id, and nothing is overwritten.
/// 4. `save` and `touch` never resurrect: a deleted or expired record gives
///    [`Error::NotFound`](crate::Error::NotFound).
/// 5. With [`Capabilities::compare_and_set`], `save` checks `expected_version` against
///    the stored version and answers [`Error::Conflict`](crate::Error::Conflict) when it
///    is stale.
/// 6. Expiry is enforced on every read, against the store's [`Clock`](crate::Clock).
/// 7. Ids are validated before any I/O; server stores key by
///    [`SessionId::storage_key`] and never store the raw id.
/// 8. Records are written with a [`Codec`](crate::Codec) envelope.
/// 12. With [`Capabilities::user_index`], every record bound to a user
///     ([`Record::user`]) is filed under its [`UserKey`] by `create` and `save`, moved by
///     a `save` that rebinds it, and unfiled by `delete` and by expiry: listings show
///     exactly the live records bound to the user. `revoke_user` removes every session
///     bound to the user when the call starts.
///
/// Run `session-conformance`'s suite against an implementation to check all of this.
#[async_trait]
pub trait SessionStore: Send + Sync + 'static {
    /// What this store can do.
    fn capabilities(&self) -> Capabilities;

    /// The backend's name, as metrics and traces label this store's operations
    /// ([`observe`](crate::observe)): `"memory"`, `"file"`, `"shelf"`, `"sqlite"`,
    /// `"postgres"`, `"mysql"`, `"redis"`, `"redis-cluster"`, `"memcache"`, `"cookie"`.
    /// A short, fixed, lower-case word: it becomes a label value, so it must never
    /// carry anything that varies per session or per server. Third-party stores
    /// should override the default `"custom"`; wrappers forward it.
    fn backend(&self) -> &'static str {
        "custom"
    }

    /// The record behind a cookie value, if it is valid, present and unexpired.
    async fn load(&self, cookie_value: &str) -> Result<Option<Record>>;

    /// Inserts a new record if its id is free; returns the cookie value to send.
    async fn create(&self, record: &Record) -> Result<String>;

    /// Replaces the stored record with `record` (whose `version` is the new one) if the
    /// stored version is `expected_version`; returns the cookie value to send.
    async fn save(&self, record: &Record, expected_version: u64) -> Result<String>;

    /// Extends a live record's deadline: writes `record.accessed_at` and
    /// `record.expires_at` without touching its data or version. Returns the cookie
    /// value to send (unchanged for server stores, re-sealed for the cookie store).
    async fn touch(&self, record: &Record) -> Result<String>;

    /// Whether a cookie value that loaded fine should be rewritten on this response even
    /// if nothing changed, e.g. because it was sealed with a retired key. The session
    /// handle then touches the session at the end of the request whatever its touch
    /// policy. Server stores keep the default `false`.
    fn needs_refresh(&self, _cookie_value: &str) -> bool {
        false
    }

    /// Removes a record. Deleting a missing record is not an error (idempotent).
    /// Stores without [`Capabilities::revoke`] answer `Unsupported`.
    async fn delete(&self, id: &SessionId) -> Result<()>;

    /// Removes expired records in bounded batches; returns how many went.
    /// Stores without [`Capabilities::enumerate`] answer `Unsupported`.
    async fn delete_expired(&self) -> Result<u64> {
        Err(crate::Error::Unsupported("delete_expired"))
    }

    /// The number of live (unexpired) records.
    /// Stores without [`Capabilities::enumerate`] answer `Unsupported`.
    async fn count(&self) -> Result<u64> {
        Err(crate::Error::Unsupported("count"))
    }

    /// One page of every stored record, expired ones included, by storage key, with
    /// its deadline and stored size; for admin tools. Start with `cursor` `None`, then
    /// pass each page's [`ScanPage::next`] until it is `None`.
    ///
    /// `limit` is the page size the caller wants; stores return at most that many
    /// entries, except where the backend's own cursor only takes a hint (Redis `SCAN
    /// COUNT`). A page may be empty while the walk goes on. Not a snapshot: every record
    /// present for the whole walk appears, records created or removed during it may or
    /// may not. A record appears once, except on Redis, whose `SCAN` may repeat a key
    /// when the keyspace shrinks during the walk.
    ///
    /// Stores without [`Capabilities::enumerate`] answer `Unsupported`.
    async fn scan(&self, _cursor: Option<ScanCursor>, _limit: usize) -> Result<ScanPage> {
        Err(crate::Error::Unsupported("scan"))
    }

    /// Deletes the records stored under `keys` (see [`DeleteIf`] for which) and returns
    /// how many went. Keys with no record are skipped; deleting is idempotent.
    ///
    /// Stores without [`Capabilities::enumerate`] answer `Unsupported`.
    async fn delete_keys(&self, _keys: &[StorageKey], _only: DeleteIf) -> Result<u64> {
        Err(crate::Error::Unsupported("delete_keys"))
    }

    /// One page of the live sessions bound to `user`, in storage-key order, at most
    /// `limit` of them (at least one is asked for). Start with `cursor` `None`, then pass
    /// each page's [`UserSessionsPage::next`] until it is `None`. Expired sessions are
    /// never listed.
    ///
    /// Stores without [`Capabilities::user_index`] answer `Unsupported`.
    ///
    /// ```
    /// use session_core::{
    ///     Data, MemoryStore, Record, SessionId, SessionStore, Timestamp, UserBinding,
    /// };
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let store = MemoryStore::new();
    /// let now = Timestamp::from_system(std::time::SystemTime::now());
    /// let ada = UserBinding::new("ada")?;
    /// for _ in 0..3 {
    ///     let record = Record::new(SessionId::generate(), Data::new(), now, Timestamp::MAX)
    ///         .with_user(Some(ada.clone()));
    ///     store.create(&record).await?;
    /// }
    /// let page = store.sessions_of(&ada.user_key(), None, 100).await?;
    /// assert_eq!(page.sessions.len(), 3);
    /// assert_eq!(store.revoke_user(&ada.user_key(), None).await?, 3);
    /// # Ok::<(), session_core::Error>(())
    /// # }).unwrap();
    /// ```
    async fn sessions_of(
        &self,
        _user: &UserKey,
        _cursor: Option<ScanCursor>,
        _limit: usize,
    ) -> Result<UserSessionsPage> {
        Err(crate::Error::Unsupported("sessions_of"))
    }

    /// Deletes every session bound to `user` when the call starts, except the one
    /// stored under `except` (the current session, for "log out my other devices"), and
    /// returns how many went. A session bound while the call runs may survive it.
    ///
    /// Stores without [`Capabilities::user_index`] answer `Unsupported`.
    async fn revoke_user(&self, _user: &UserKey, _except: Option<&StorageKey>) -> Result<u64> {
        Err(crate::Error::Unsupported("revoke_user"))
    }

    /// Deletes the session stored under `key` if, and only if, it is bound to `user`
    /// (so a listing's key cannot end another user's session); returns whether it went.
    ///
    /// Stores without [`Capabilities::user_index`] answer `Unsupported`.
    async fn revoke_session(&self, _user: &UserKey, _key: &StorageKey) -> Result<bool> {
        Err(crate::Error::Unsupported("revoke_session"))
    }
}

macro_rules! forward_store {
    ($($ptr:ty),*) => {$(
        #[async_trait]
        impl<S: SessionStore + ?Sized> SessionStore for $ptr {
            fn capabilities(&self) -> Capabilities {
                (**self).capabilities()
            }
            fn backend(&self) -> &'static str {
                (**self).backend()
            }
            fn needs_refresh(&self, cookie_value: &str) -> bool {
                (**self).needs_refresh(cookie_value)
            }
            async fn load(&self, cookie_value: &str) -> Result<Option<Record>> {
                (**self).load(cookie_value).await
            }
            async fn create(&self, record: &Record) -> Result<String> {
                (**self).create(record).await
            }
            async fn save(&self, record: &Record, expected_version: u64) -> Result<String> {
                (**self).save(record, expected_version).await
            }
            async fn touch(&self, record: &Record) -> Result<String> {
                (**self).touch(record).await
            }
            async fn delete(&self, id: &SessionId) -> Result<()> {
                (**self).delete(id).await
            }
            async fn delete_expired(&self) -> Result<u64> {
                (**self).delete_expired().await
            }
            async fn count(&self) -> Result<u64> {
                (**self).count().await
            }
            async fn scan(&self, cursor: Option<ScanCursor>, limit: usize) -> Result<ScanPage> {
                (**self).scan(cursor, limit).await
            }
            async fn delete_keys(&self, keys: &[StorageKey], only: DeleteIf) -> Result<u64> {
                (**self).delete_keys(keys, only).await
            }
            async fn sessions_of(
                &self,
                user: &UserKey,
                cursor: Option<ScanCursor>,
                limit: usize,
            ) -> Result<UserSessionsPage> {
                (**self).sessions_of(user, cursor, limit).await
            }
            async fn revoke_user(&self, user: &UserKey, except: Option<&StorageKey>) -> Result<u64> {
                (**self).revoke_user(user, except).await
            }
            async fn revoke_session(&self, user: &UserKey, key: &StorageKey) -> Result<bool> {
                (**self).revoke_session(user, key).await
            }
        }
    )*};
}

forward_store!(Arc<S>, Box<S>);
