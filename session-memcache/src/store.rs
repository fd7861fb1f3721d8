//! [`MemcacheStore`]: the session contract on memcached's meta protocol.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use memcache::exp::{AsyncMetaClient, GetStatus, Meta, MutationStatus};
use session_core::{with_timeout, Operation};
use session_core::{
    Capabilities, Codec, Error, Record, Result, SessionId, SessionStore, StoreSettings, Timestamp,
};

use crate::error::{client_error, unexpected, STORE};
use crate::exptime::Exptime;
use crate::keys::KeyPrefix;
use crate::recent::Recent;
use crate::routing::StableRendezvous;
use crate::MemcacheOptions;

/// How often `save` and `touch` re-read after losing a compare-and-swap to a write that
/// left the version alone (a concurrent touch). Every lost round means another writer
/// won, so this only bounds one caller's bad luck; the operation timeout bounds it too.
/// Past it the record is changing too fast to pin down and the caller gets `Conflict`.
const CAS_ATTEMPTS: usize = 64;

/// Sessions in memcached: one server or many, keys spread by rendezvous hashing.
///
/// - **Layout**: key = prefix + [`StorageKey`](session_core::StorageKey) hex (never the
///   raw id), value = the session-core [`Codec`] envelope, client flags 0.
/// - **`create`** is memcached `add`: an existing key is [`Error::Collision`] and is not
///   overwritten.
/// - **`save`** reads the item with its CAS token (`mg … c`), checks the stored envelope
///   (missing or expired by the store's clock → [`Error::NotFound`], another version →
///   [`Error::Conflict`]) and writes with compare-and-swap (`ms … C`), so a record that
///   was deleted or replaced in between is never written back: a logout stays a logout.
///   A lost CAS whose re-read shows the same version (a concurrent touch) is retried.
/// - **`touch`** rewrites the stored envelope with the new `accessed_at` and
///   `expires_at`, keeping the stored data and version, under the same read-then-CAS, and
///   sets the item's exptime to the new deadline in the same command. A touch therefore
///   never rolls back a concurrent save, and the next load shows the new times. When
///   this store last saw the item at the record's version and the record holds exactly
///   the stored data, the read is skipped: one compare-and-swap against the remembered
///   token (see `recent.rs`), which decides as the read would.
/// - **Expiry**: the item's exptime follows the record's deadline (see the crate docs for
///   the 30-day rule), and every read also checks the decoded `expires_at` against the
///   store's [`Clock`](session_core::Clock): an expired record does not load, save or touch.
/// - **Size**: an encoded record larger than [`MemcacheStore::max_record_size`] is
///   [`Error::TooLarge`] before anything is sent, on create, save and touch. That is
///   [`DEFAULT_MAX_RECORD_SIZE`](session_core::DEFAULT_MAX_RECORD_SIZE) (256 KiB, as
///   on every server store) unless
///   [`MemcacheOptions::with_settings`] says otherwise, and never more than fits
///   the servers' items ([`MemcacheOptions::with_item_size_limit`]).
/// - **Several servers**: a key's server depends only on the key and the configured
///   addresses. A server that is down makes its share of the sessions fail with
///   [`Error::Backend`]; keys are not moved to the others, which would split a session's
///   history between two servers.
///
/// # memcached may evict sessions
///
/// memcached is a cache. Under memory pressure it evicts the least recently used items
/// before their deadline, and a restarted server comes back empty. Either way users are
/// logged out (their session is simply gone; nothing is corrupted, and a save answers
/// `NotFound` rather than resurrecting it). [`Capabilities::may_evict`] says so. Size the
/// servers' memory for the live sessions, or pick a persistent store (SQL, Redis with
/// persistence, files) where losing sessions is not acceptable.
///
/// memcached cannot list keys, so `count` and `delete_expired` answer
/// [`Error::Unsupported`]; the servers drop expired items by themselves.
///
/// # Timeouts
///
/// Every operation, including its wait for a connection, is bounded by the operation
/// timeout: past it the caller gets [`Error::Backend`], whether the server is down,
/// stalled or overloaded, and the exchange in flight is abandoned with its connection
/// (never reused, so a late reply cannot be read as the answer to another command).
/// A `Backend` error from a write means its outcome is unknown. The store needs a tokio
/// runtime with the time and I/O drivers enabled.
#[derive(Clone)]
pub struct MemcacheStore {
    inner: Arc<Inner>,
}

struct Inner {
    client: AsyncMetaClient,
    servers: Vec<String>,
    prefix: KeyPrefix,
    /// The limit in these settings is the effective one
    /// ([`MemcacheOptions::max_record_size`]): always set, never over an item.
    settings: StoreSettings,
    timeout: Duration,
    /// CAS tokens of items recently loaded, saved or touched: one-round-trip saves and
    /// touches.
    recent: Recent,
}

/// An item as read for a compare-and-swap.
struct Stored {
    bytes: Vec<u8>,
    cas: u64,
}

impl MemcacheStore {
    /// A store with `options`. Server names are resolved here; no connection is made
    /// until the first operation, so a down server shows up there, as
    /// [`Error::Backend`]. Use [`MemcacheStore::connect`] to check the servers up front.
    pub async fn new(options: MemcacheOptions) -> Result<Self> {
        let timeout = options.timeout();
        let build = client_builder(&options)
            .connect_multiple_async(options.servers().iter().map(String::as_str));
        let build = async {
            build.await.map_err(|e| match e {
                memcache::exp::Error::Usage(why) => {
                    Error::Config(format!("memcached servers {:?}: {why}", options.servers()))
                }
                other => client_error(Operation::Connect)(other),
            })
        };
        let client = with_timeout(STORE, Operation::Connect, timeout, build).await?;
        Ok(MemcacheStore {
            inner: Arc::new(Inner {
                client,
                servers: options.servers().to_vec(),
                prefix: options.prefix().clone(),
                settings: options
                    .settings()
                    .clone()
                    .with_max_record_size(Some(options.max_record_size())),
                timeout,
                recent: Recent::new(),
            }),
        })
    }

    /// [`MemcacheStore::new`], then a check that every server answers (a no-op round
    /// trip) within the timeout.
    pub async fn connect(options: MemcacheOptions) -> Result<Self> {
        let store = Self::new(options).await?;
        store.ping().await?;
        Ok(store)
    }

    /// [`MemcacheStore::connect`] with options from a `memcache://h1:port,h2:port?...`
    /// URL (see [`MemcacheOptions::from_url`]) and the system clock.
    pub async fn open_url(url: &str) -> Result<Self> {
        Self::connect(MemcacheOptions::from_url(url)?).await
    }

    /// One no-op round trip to every server: [`Error::Backend`] if any does not answer
    /// within the timeout.
    pub async fn ping(&self) -> Result<()> {
        self.inner
            .bounded(Operation::Connect, async {
                self.inner
                    .client
                    .noop()
                    .await
                    .map_err(client_error(Operation::Connect))
            })
            .await
    }

    /// The memcached key this store files `id` under (prefix + storage key hex), for
    /// tools that inspect a server.
    pub fn key_for(&self, id: &SessionId) -> String {
        self.inner.prefix.key_for(id)
    }

    /// The servers, as `host:port`.
    pub fn servers(&self) -> &[String] {
        &self.inner.servers
    }

    /// The key prefix.
    pub fn prefix(&self) -> &KeyPrefix {
        &self.inner.prefix
    }

    /// The largest encoded record this store writes; see
    /// [`MemcacheOptions::max_record_size`].
    pub fn max_record_size(&self) -> usize {
        self.inner.max_record_size()
    }
}

/// The client settings that follow from the store's options.
fn client_builder(options: &MemcacheOptions) -> memcache::exp::MetaClientBuilder {
    let per_server = options.max_connections();
    AsyncMetaClient::builder()
        .router(StableRendezvous)
        .connect_timeout(Some(options.timeout()))
        .io_timeout(Some(options.timeout()))
        // A stalled server must not make every waiting request dial one more connection;
        // at the cap, callers queue (within the operation timeout).
        .max_connections(Some(per_server))
        // Keep what the cap allows, or every operation above the idle count dials.
        .max_idle(per_server)
}

impl Inner {
    /// Runs `work` under the operation timeout. Cancelling the client's future drops the
    /// connection it was using, so nothing half-read is ever reused.
    async fn bounded<T>(&self, op: Operation, work: impl Future<Output = Result<T>>) -> Result<T> {
        with_timeout(STORE, op, self.timeout, work).await
    }

    fn encode(&self, record: &Record) -> Result<Vec<u8>> {
        self.settings.encode(record)
    }

    fn max_record_size(&self) -> usize {
        // Always `Some`: `connect` sets the effective limit.
        self.settings.max_record_size().unwrap_or(usize::MAX)
    }

    /// The item under `key`, with its CAS token when `with_cas`.
    async fn fetch(&self, op: Operation, key: &str, with_cas: bool) -> Result<Option<Stored>> {
        let meta = if with_cas {
            Meta::NONE.cas()
        } else {
            Meta::NONE
        };
        let result = self
            .client
            .get(key)
            .meta(meta)
            .send()
            .await
            .map_err(client_error(op))?;
        match result.status {
            GetStatus::Hit => {}
            GetStatus::Miss => return Ok(None),
            other => {
                return Err(unexpected(
                    op,
                    format!("read status {other:?} (this store takes no leases)"),
                ))
            }
        }
        let Some(bytes) = result.value else {
            return Err(unexpected(op, "a hit without a value"));
        };
        let cas = match (with_cas, result.item.cas) {
            (false, _) => 0,
            (true, Some(cas)) => cas,
            (true, None) => return Err(unexpected(op, "a hit without the requested CAS token")),
        };
        Ok(Some(Stored { bytes, cas }))
    }

    /// Adds `bytes` (the encoding of `record`) under `key` if no live record holds it.
    ///
    /// memcached keeps an item until its exptime, in whole seconds by the server's
    /// clock, so a record expired by the store's clock (to the millisecond) may still be
    /// there: `add` refuses it, and that leftover must not block its id (an expired
    /// record is absent, contract rule 6). It is read and replaced by compare-and-swap,
    /// so a live record written in between is never overwritten.
    async fn create_item(&self, key: &str, record: &Record, bytes: &[u8]) -> Result<()> {
        let op = Operation::Create;
        for _ in 0..CAS_ATTEMPTS {
            let now = self.settings.now();
            let status = self
                .client
                .set(key, bytes)
                .ttl_raw(Exptime::for_deadline(now, record.expires_at).wire())
                .add()
                .send()
                .await
                .map_err(client_error(op))?
                .status;
            match status {
                MutationStatus::Applied => return Ok(()),
                MutationStatus::AlreadyExists => {}
                other => return Err(unexpected(op, format!("add answered {other:?}"))),
            }
            // Gone since the add: add again.
            let Some(stored) = self.fetch(op, key, true).await? else {
                continue;
            };
            // What cannot be read is not known to be garbage: it keeps its id.
            match Codec::decode(record.id, &stored.bytes) {
                Ok(current) if current.is_expired(now) => {}
                _ => return Err(Error::Collision),
            }
            self.recent.forget(key);
            match self
                .swap_known(op, key, record, bytes, stored.cas, now)
                .await
            {
                Ok(true) => return Ok(()),
                // Written or dropped since the read: decide again.
                Ok(false) | Err(Error::NotFound) => continue,
                Err(e) => return Err(e),
            }
        }
        // Every attempt lost a race against other writers of this id: someone holds it.
        Err(Error::Collision)
    }

    /// The one-round-trip save: a compare-and-swap against the CAS token of the item
    /// last seen under `key`, when that item had version `expected_version` and is live
    /// by the clock (see `recent.rs` for why that decides exactly as the read would).
    /// `Ok(false)`: no usable token, or someone wrote since; take the read-check-CAS
    /// path.
    async fn save_with_known_cas(
        &self,
        key: &str,
        bytes: &[u8],
        record: &Record,
        expected_version: u64,
    ) -> Result<bool> {
        let now = self.settings.now();
        let Some(cas) = self.recent.cas_for(key, expected_version, now) else {
            return Ok(false);
        };
        self.swap_known(Operation::Save, key, record, bytes, cas, now)
            .await
    }

    /// Writes `bytes` (the encoding of `record`) over the item under `key` if its CAS
    /// token is still `cas`; remembers the new token. `Ok(false)`: someone wrote since.
    async fn swap_known(
        &self,
        op: Operation,
        key: &str,
        record: &Record,
        bytes: &[u8],
        cas: u64,
        now: Timestamp,
    ) -> Result<bool> {
        let result = self
            .client
            .set(key, bytes)
            .ttl_raw(Exptime::for_deadline(now, record.expires_at).wire())
            .compare_cas(cas)
            .return_cas()
            .send()
            .await
            .map_err(client_error(op))?;
        match result.status {
            MutationStatus::Applied => {
                match result.cas {
                    Some(new) => self.recent.remember(key, record, bytes, new),
                    None => self.recent.forget(key),
                }
                Ok(true)
            }
            MutationStatus::NotFound => {
                self.recent.forget(key);
                Err(Error::NotFound)
            }
            MutationStatus::CasMismatch => Ok(false),
            other => Err(unexpected(
                op,
                format!("compare-and-swap answered {other:?}"),
            )),
        }
    }

    /// The one-round-trip touch: a compare-and-swap against the CAS token of the item
    /// last seen under `key`, when that item had the record's version, is live by the
    /// clock, and holds exactly the record's data (its envelope, re-encoded with the
    /// stored times, hashes as the stored one did; see `recent.rs`). Then the write
    /// changes only the times, as the read-modify-write would. `Ok(false)`: take that
    /// path.
    async fn touch_with_known_cas(&self, key: &str, record: &Record) -> Result<bool> {
        let now = self.settings.now();
        let Some(seen) = self.recent.seen(key, record.version, now) else {
            return Ok(false);
        };
        let mut touched = record.clone();
        touched.accessed_at = seen.accessed_at;
        touched.expires_at = seen.expires_at;
        match self.encode(&touched) {
            Ok(as_stored) if self.recent.digest(&as_stored) == seen.digest => {}
            // Other data than stored (or a record that does not encode): the slow
            // path writes the stored data, or reports the error.
            _ => return Ok(false),
        }
        touched.accessed_at = record.accessed_at;
        touched.expires_at = record.expires_at;
        let bytes = self.encode(&touched)?;
        self.swap_known(Operation::Touch, key, &touched, &bytes, seen.cas, now)
            .await
    }

    /// The read-check-CAS loop behind `save` and `touch`. `rewrite` gets the stored
    /// record (live by the clock) and returns the bytes and deadline to write, or the
    /// error that ends the operation.
    async fn read_modify_write<F>(&self, op: Operation, id: SessionId, mut rewrite: F) -> Result<()>
    where
        F: FnMut(Record) -> Result<(Vec<u8>, Timestamp)>,
    {
        let key = self.prefix.key_for(&id);
        for _ in 0..CAS_ATTEMPTS {
            let Some(stored) = self.fetch(op, &key, true).await? else {
                return Err(Error::NotFound);
            };
            let current = Codec::decode(id, &stored.bytes)?;
            let now = self.settings.now();
            if current.is_expired(now) {
                return Err(Error::NotFound);
            }
            let (bytes, expires_at) = rewrite(current)?;
            let status = self
                .client
                .set(&key, &bytes)
                .ttl_raw(Exptime::for_deadline(now, expires_at).wire())
                .compare_cas(stored.cas)
                .send()
                .await
                .map_err(client_error(op))?
                .status;
            match status {
                MutationStatus::Applied => return Ok(()),
                MutationStatus::NotFound => return Err(Error::NotFound),
                // Someone wrote in between; the re-read tells a new version (Conflict, from
                // `rewrite`) from a touch, a deletion or an expiry.
                MutationStatus::CasMismatch => continue,
                other => {
                    return Err(unexpected(
                        op,
                        format!("compare-and-swap answered {other:?}"),
                    ))
                }
            }
        }
        Err(Error::Conflict)
    }
}

impl fmt::Debug for MemcacheStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemcacheStore")
            .field("servers", &self.inner.servers)
            .field("prefix", &self.inner.prefix)
            .field("max_record_size", &self.inner.max_record_size())
            .field("timeout", &self.inner.timeout)
            .field("clock", self.inner.settings.clock())
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl SessionStore for MemcacheStore {
    fn backend(&self) -> &'static str {
        "memcache"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::new()
            .with_compare_and_set(true)
            .with_enumerate(false)
            .with_revoke(true)
            .with_native_ttl(true)
            .with_may_evict(true)
            .with_max_record_size(self.inner.settings.max_record_size())
    }

    async fn load(&self, cookie_value: &str) -> Result<Option<Record>> {
        let Ok(id) = SessionId::parse(cookie_value) else {
            return Ok(None);
        };
        let inner = &self.inner;
        let key = inner.prefix.key_for(&id);
        // With the CAS token, so that a save of this version can skip its read.
        let stored = inner
            .bounded(Operation::Load, inner.fetch(Operation::Load, &key, true))
            .await?;
        let Some(stored) = stored else {
            return Ok(None);
        };
        let record = Codec::decode(id, &stored.bytes)?;
        if record.is_expired(inner.settings.now()) {
            return Ok(None);
        }
        inner
            .recent
            .remember(&key, &record, &stored.bytes, stored.cas);
        Ok(Some(record))
    }

    async fn create(&self, record: &Record) -> Result<String> {
        let inner = &self.inner;
        let bytes = inner.encode(record)?;
        let key = inner.prefix.key_for(&record.id);
        inner
            .bounded(Operation::Create, inner.create_item(&key, record, &bytes))
            .await?;
        Ok(record.id.to_string())
    }

    async fn save(&self, record: &Record, expected_version: u64) -> Result<String> {
        let inner = &self.inner;
        let bytes = inner.encode(record)?;
        let key = inner.prefix.key_for(&record.id);
        let write = async {
            if inner
                .save_with_known_cas(&key, &bytes, record, expected_version)
                .await?
            {
                return Ok(());
            }
            inner.recent.forget(&key);
            inner
                .read_modify_write(Operation::Save, record.id, |current| {
                    if current.version != expected_version {
                        return Err(Error::Conflict);
                    }
                    Ok((bytes.clone(), record.expires_at))
                })
                .await
        };
        inner.bounded(Operation::Save, write).await?;
        Ok(record.id.to_string())
    }

    async fn touch(&self, record: &Record) -> Result<String> {
        let inner = &self.inner;
        let key = inner.prefix.key_for(&record.id);
        let write = async {
            if inner.touch_with_known_cas(&key, record).await? {
                return Ok(());
            }
            inner.recent.forget(&key);
            inner
                .read_modify_write(Operation::Touch, record.id, |mut current| {
                    // Only the times move: data and version stay what is stored, so a
                    // touch racing a save cannot undo it.
                    current.accessed_at = record.accessed_at;
                    current.expires_at = record.expires_at;
                    Ok((inner.encode(&current)?, record.expires_at))
                })
                .await
        };
        inner.bounded(Operation::Touch, write).await?;
        Ok(record.id.to_string())
    }

    async fn delete(&self, id: &SessionId) -> Result<()> {
        let inner = &self.inner;
        let key = inner.prefix.key_for(id);
        let status = inner
            .bounded(Operation::Delete, async {
                inner
                    .client
                    .delete(&key)
                    .send()
                    .await
                    .map(|r| r.status)
                    .map_err(client_error(Operation::Delete))
            })
            .await?;
        match status {
            MutationStatus::Applied | MutationStatus::NotFound => Ok(()),
            other => Err(unexpected(
                Operation::Delete,
                format!("delete answered {other:?}"),
            )),
        }
    }
}
