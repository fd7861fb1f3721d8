//! `FileStore`: one file per session in a directory.

use std::fmt;
use std::fs::{self, DirBuilder};
use std::io;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use session_core::Operation;
use session_core::{
    Capabilities, Clock, Codec, DeleteIf, Error, Record, Result, ScanCursor, ScanPage, SessionId,
    SessionStore, StorageKey, StoreSettings, Timestamp, UserKey, UserSessionsPage,
};

use crate::atomic::{insert_new, read_if_exists, remove_if_exists, replace, sync_dir, write_temp};
use crate::error::{blocking, file_error};
use crate::layout::{make_dir, Layout, DIR_MODE};
use crate::lock::{StripeGuard, StripeLocks};
use crate::markers;
use crate::options::FileOptions;
use crate::sweep::{walk_top, Pass, Tally};

/// The store name its backend errors carry.
const STORE: &str = "file";

/// How old a temporary file must be before the sweep treats it as abandoned.
pub const DEFAULT_TEMP_GRACE: Duration = Duration::from_secs(10 * 60);

/// Sessions as files in a directory, one file per session: Beaker's `file` backend and
/// web.py's `DiskStore`, made crash-safe and safe to share between processes.
///
/// - **Names**: a session lives at `<dir>/ab/cd/<storage key hex>`, where the storage
///   key is the SHA-256 of the id ([`SessionId::storage_key`]). The raw id is never on
///   disk, and client input never becomes a path: a cookie value that does not parse
///   as an id is answered `Ok(None)` before any I/O.
/// - **Atomic writes**: every write goes to a temporary file in the same directory,
///   is fsynced, and is renamed into place, then the directory is fsynced. A reader
///   sees the old record or the new one, never a torn one, even if the writer is
///   killed. [`FileStore::durable`]`(false)` skips both fsyncs.
/// - **Exclusive create**: `create` takes the name with a no-clobber rename and
///   answers [`Error::Collision`] if a live record is there.
/// - **Compare-and-set**: `save`, `touch`, `delete` and the sweep hold an advisory
///   lock (one of 256 `flock`ed files under `<dir>/.locks`) around their
///   read-check-write, so version checks hold across threads and across processes
///   sharing the directory.
/// - **Expiry** is the `expires_at` in the record itself, checked against the
///   store's [`Clock`] on every read; file times are never consulted.
///   [`SessionStore::delete_expired`] walks the tree with bounded memory, removes
///   expired records, and removes temporary files abandoned by crashed writers once
///   they are older than [`FileStore::with_temp_grace`] (10 minutes by default).
/// - **Sessions by user** (contract rule 12): a bound session also has an empty marker
///   at `<dir>/users/ef/<user key hex>/<storage key hex>`, written before its record and
///   removed after it, so a live bound session is never without one; a crash between
///   the two leaves a stale marker, which listings skip (each marker's record is read
///   and checked) and [`SessionStore::delete_expired`] removes.
/// - **Permissions**: directories are created `0700`, files `0600`.
/// - **Size**: a record whose encoding exceeds the store's limit
///   ([`DEFAULT_MAX_RECORD_SIZE`](session_core::DEFAULT_MAX_RECORD_SIZE), 256 KiB, unless
///   its [`StoreSettings`] say otherwise) is
///   [`Error::TooLarge`] before anything is written, on create, save and touch.
///
/// All filesystem work runs on tokio's blocking pool, so a call needs a tokio runtime.
/// Clones share the directory and the in-process side of the locks; a store keeps up to
/// 256 lock files open once it has used every stripe.
#[derive(Clone)]
pub struct FileStore {
    shared: Arc<Shared>,
    settings: StoreSettings,
    durable: bool,
    temp_grace: Duration,
}

struct Shared {
    layout: Layout,
    locks: StripeLocks,
}

/// The parts of a store a blocking task needs, owned so the task can be `'static`.
#[derive(Clone)]
struct Job {
    shared: Arc<Shared>,
    durable: bool,
}

impl FileStore {
    /// Opens the store in `dir`, creating it (mode `0700`, with missing parents) if
    /// needed. An existing directory is used as it is; if other users can read it, a
    /// warning is logged, since the session files are what authenticates your users.
    ///
    /// Defaults: system clock, MessagePack, durable writes, records up to
    /// [`DEFAULT_MAX_RECORD_SIZE`](session_core::DEFAULT_MAX_RECORD_SIZE) (256 KiB), 10-minute grace for temporary files.
    pub async fn open(dir: impl Into<PathBuf>) -> Result<Self> {
        let root: PathBuf = dir.into();
        let layout = Layout::new(root.clone());
        let prepared = layout.clone();
        blocking(STORE, Operation::Connect, move || prepare_dir(&prepared)).await?;
        Ok(FileStore {
            shared: Arc::new(Shared {
                locks: StripeLocks::new(layout.lock_dir()),
                layout,
            }),
            settings: StoreSettings::new(),
            durable: true,
            temp_grace: DEFAULT_TEMP_GRACE,
        })
    }

    /// Opens the store `options` describe (see [`FileStore::open`]).
    pub async fn open_with(options: FileOptions) -> Result<Self> {
        Ok(Self::open(options.path())
            .await?
            .with_settings(options.settings().clone())
            .durable(options.durable()))
    }

    /// Opens the store a `file:///dir?durable=…&max_record_size=…` URL names (see
    /// [`FileOptions::from_url`]), on the system clock.
    pub async fn open_url(url: &str) -> Result<Self> {
        Self::open_with(FileOptions::from_url(url)?).await
    }

    /// Takes its codec, record size limit and clock from `settings` (default
    /// [`StoreSettings::new`]). Records in any known format still load; a record whose
    /// encoding exceeds the limit is [`Error::TooLarge`] before anything is written.
    ///
    /// ```no_run
    /// use session_core::StoreSettings;
    /// # async fn demo() -> session_core::Result<()> {
    /// let store = session_file::FileStore::open("/var/lib/myapp/sessions")
    ///     .await?
    ///     .with_settings(StoreSettings::new().with_max_record_size(Some(64 * 1024)));
    /// # Ok(()) }
    /// ```
    pub fn with_settings(mut self, settings: StoreSettings) -> Self {
        self.settings = settings;
        self
    }

    /// The codec, record size limit and clock in use.
    pub fn settings(&self) -> &StoreSettings {
        &self.settings
    }

    /// Whether writes wait for the disk (`fsync` of the file and of its directory).
    /// On by default.
    ///
    /// Off, writes are several times faster and a crash of the *process* still never
    /// tears or loses a record (the kernel has the data). A crash of the *machine* (power
    /// cut, kernel panic) can lose the writes of the last few seconds, and on some
    /// filesystems leave an empty record file that then loads as [`Error::Corrupt`].
    /// Fine for sessions you can afford to lose; not for anything else.
    pub fn durable(mut self, yes: bool) -> Self {
        self.durable = yes;
        self
    }

    /// How old a temporary file must be before [`SessionStore::delete_expired`]
    /// removes it as left over by a crash (default [`DEFAULT_TEMP_GRACE`]). Keep it well
    /// above the longest write you expect, or a slow writer in another process could
    /// lose its temporary file mid-write (its save then fails; no record is harmed).
    pub fn with_temp_grace(mut self, grace: Duration) -> Self {
        self.temp_grace = grace;
        self
    }

    /// The store's directory.
    pub fn dir(&self) -> &Path {
        self.shared.layout.root()
    }

    /// Where the record of `id` lives (whether or not it exists), for tools that
    /// inspect a store.
    pub fn record_path(&self, id: &SessionId) -> PathBuf {
        self.shared.layout.record_path(&id.storage_key())
    }

    fn job(&self) -> Job {
        Job {
            shared: self.shared.clone(),
            durable: self.durable,
        }
    }

    /// Runs one walk per first-level directory, each in its own blocking task.
    async fn walk(&self, pass: impl Fn() -> Pass) -> Result<Tally> {
        let mut tally = Tally::default();
        for first in 0..=u8::MAX {
            let shared = self.shared.clone();
            let now = self.settings.now();
            let pass = pass();
            let operation = match pass {
                Pass::Count => Operation::Count,
                _ => Operation::DeleteExpired,
            };
            let part = blocking(STORE, operation, move || {
                walk_top(&shared.layout, &shared.locks, first, now, pass)
            })
            .await?;
            tally.add(part);
        }
        if tally.undecodable > 0 {
            tracing::warn!(
                dir = %self.dir().display(),
                files = tally.undecodable,
                "session files that do not decode were left in place",
            );
        }
        Ok(tally)
    }
}

impl fmt::Debug for FileStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileStore")
            .field("dir", &self.dir())
            .field("settings", &self.settings)
            .field("durable", &self.durable)
            .finish()
    }
}

fn prepare_dir(layout: &Layout) -> Result<()> {
    let root = layout.root();
    let not_a_dir = || {
        Error::Config(format!(
            "FileStore path {} exists and is not a directory",
            root.display()
        ))
    };
    match fs::metadata(root) {
        Ok(meta) if !meta.is_dir() => return Err(not_a_dir()),
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => DirBuilder::new()
            .recursive(true)
            .mode(DIR_MODE)
            .create(root)
            .map_err(|e| file_error("create directory", root, e))?,
        Err(e) => return Err(file_error("stat", root, e)),
    }
    let meta = fs::metadata(root).map_err(|e| file_error("stat", root, e))?;
    if !meta.is_dir() {
        return Err(not_a_dir());
    }
    if meta.permissions().mode() & 0o077 != 0 {
        tracing::warn!(
            dir = %root.display(),
            mode = format!("{:o}", meta.permissions().mode() & 0o777),
            "session directory is accessible to other users; 0700 is recommended",
        );
    }
    let locks = layout.lock_dir();
    make_dir(&locks).map_err(|e| file_error("create directory", &locks, e))?;
    Ok(())
}

impl Job {
    fn layout(&self) -> &Layout {
        &self.shared.layout
    }

    /// Writes a temporary file for `key` in its leaf directory. `Ok(None)`: the leaf
    /// does not exist, so neither does the record.
    fn temp_in_leaf(
        &self,
        key: &StorageKey,
        bytes: &[u8],
    ) -> Result<Option<tempfile::NamedTempFile>> {
        let dir = self.layout().shard_dir(key);
        match write_temp(&dir, bytes, self.durable) {
            Ok(tmp) => Ok(Some(tmp)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(file_error("write", &dir, e)),
        }
    }

    /// As [`Job::temp_in_leaf`], creating the leaf directory when it is missing.
    fn temp_creating_leaf(
        &self,
        key: &StorageKey,
        bytes: &[u8],
    ) -> Result<tempfile::NamedTempFile> {
        if let Some(tmp) = self.temp_in_leaf(key, bytes)? {
            return Ok(tmp);
        }
        let dir = self.layout().shard_dir(key);
        self.layout()
            .create_shard_dir(key, self.durable)
            .map_err(|e| file_error("create directory", &dir, e))?;
        write_temp(&dir, bytes, self.durable).map_err(|e| file_error("write", &dir, e))
    }

    fn sync_leaf(&self, key: &StorageKey) -> Result<()> {
        if self.durable {
            let dir = self.layout().shard_dir(key);
            sync_dir(&dir).map_err(|e| file_error("fsync", &dir, e))?;
        }
        Ok(())
    }

    /// Reads the stored record of `id`; `Ok(None)` if there is none or it has expired.
    fn read_live(&self, id: SessionId, path: &Path, clock: &Clock) -> Result<Option<Record>> {
        let Some(bytes) = read_if_exists(path).map_err(|e| file_error("read", path, e))? else {
            return Ok(None);
        };
        let record = Codec::decode(id, &bytes)?;
        Ok((!record.is_expired(clock.now())).then_some(record))
    }

    /// Takes the stripe lock of `key`.
    fn lock(&self, key: &StorageKey) -> Result<StripeGuard<'_>> {
        self.shared
            .locks
            .lock(key)
            .map_err(|e| file_error("lock", &self.layout().record_path(key), e))
    }

    /// Reads the stored record under `key` whatever its deadline: `None` if there is
    /// none, `Some(Err(..))` if it does not decode. The id is not in the file (by
    /// design), so any id serves.
    fn read_any(&self, path: &Path) -> Result<Option<Result<Record>>> {
        let bytes = read_if_exists(path).map_err(|e| file_error("read", path, e))?;
        Ok(bytes.map(|bytes| Codec::decode(SessionId::from_bytes([0; 32]), &bytes)))
    }

    /// Removes the record under `key`, then the marker filing it under the user `record`
    /// (what was read of it under the lock) is bound to. Call with the key's lock held;
    /// `Ok(true)` if the record went.
    fn unlink(&self, key: &StorageKey, path: &Path, record: Option<&Record>) -> Result<bool> {
        let removed = remove_if_exists(path).map_err(|e| file_error("remove", path, e))?;
        if let Some(user) = record.and_then(Record::user_key) {
            markers::remove(self.layout(), &user, key)?;
        }
        Ok(removed)
    }

    /// Files `key` under `user` (see [`markers::write`]). Call with the key's lock held.
    fn write_marker(&self, user: &UserKey, key: &StorageKey) -> Result<()> {
        markers::write(self.layout(), user, key, self.durable)
    }

    /// A bound record's marker is written before the record, under the key's lock held
    /// until the record is in place (see `markers.rs`); an unbound create takes no lock
    /// on its fast path.
    fn create(
        &self,
        id: SessionId,
        bytes: &[u8],
        user: Option<UserKey>,
        clock: &Clock,
    ) -> Result<()> {
        let key = id.storage_key();
        let path = self.layout().record_path(&key);
        let tmp = self.temp_creating_leaf(&key, bytes)?;
        let held = match &user {
            Some(user) => {
                let guard = self.lock(&key)?;
                self.write_marker(user, &key)?;
                Some(guard)
            }
            None => None,
        };
        // Fast path: the no-clobber rename is atomic on its own.
        let Err(tmp) = insert_new(tmp, &path).map_err(|e| file_error("rename", &path, e))? else {
            drop(held);
            return self.sync_leaf(&key);
        };
        // The name is taken. An expired leftover may be replaced; it is judged under the
        // lock so a concurrent save, touch or sweep cannot change it meanwhile.
        let guard = match held {
            Some(guard) => guard,
            None => self.lock(&key)?,
        };
        match self.read_any(&path)? {
            // Removed since the fast path tried. Another creator's fast path takes no
            // lock, so insert without clobbering here too.
            None => {
                if insert_new(tmp, &path)
                    .map_err(|e| file_error("rename", &path, e))?
                    .is_err()
                {
                    return Err(Error::Collision);
                }
            }
            Some(Ok(old)) if old.is_expired(clock.now()) => {
                replace(tmp, &path).map_err(|e| file_error("rename", &path, e))?;
                match old.user_key() {
                    Some(old_user) if Some(old_user) != user => {
                        markers::remove(self.layout(), &old_user, &key)?;
                    }
                    _ => {}
                }
            }
            // Live, or unreadable (perhaps a newer format): overwrite nothing. The
            // marker just written is left: the sweep removes it if it is stale.
            Some(_) => return Err(Error::Collision),
        }
        drop(guard);
        self.sync_leaf(&key)
    }

    /// A save that binds or rebinds writes the new marker before the record and removes
    /// the old one after it, all under the key's lock; one that keeps the binding (or
    /// stays unbound) touches no marker.
    fn save(
        &self,
        id: SessionId,
        bytes: &[u8],
        user: Option<UserKey>,
        expected_version: u64,
        clock: &Clock,
    ) -> Result<()> {
        let key = id.storage_key();
        let path = self.layout().record_path(&key);
        // Write and fsync before taking the lock, so the slow part does not serialise
        // writers. A missing leaf directory means the record cannot exist.
        let Some(tmp) = self.temp_in_leaf(&key, bytes)? else {
            return Err(Error::NotFound);
        };
        let guard = self.lock(&key)?;
        let Some(stored) = self.read_live(id, &path, clock)? else {
            return Err(Error::NotFound);
        };
        if stored.version != expected_version {
            return Err(Error::Conflict);
        }
        let old = stored.user_key();
        if old != user {
            if let Some(user) = &user {
                self.write_marker(user, &key)?;
            }
        }
        replace(tmp, &path).map_err(|e| file_error("rename", &path, e))?;
        if old != user {
            if let Some(old) = &old {
                markers::remove(self.layout(), old, &key)?;
            }
        }
        drop(guard);
        self.sync_leaf(&key)
    }

    fn touch(&self, record: &Record, settings: &StoreSettings) -> Result<()> {
        let key = record.id.storage_key();
        let path = self.layout().record_path(&key);
        // The new bytes depend on what is stored, so the whole read-modify-write runs
        // under the lock; with 256 stripes that rarely delays anyone else.
        let guard = self.lock(&key)?;
        let Some(mut stored) = self.read_live(record.id, &path, settings.clock())? else {
            return Err(Error::NotFound);
        };
        stored.accessed_at = record.accessed_at;
        stored.expires_at = record.expires_at;
        // The stored record may predate a lower limit: refuse to rewrite it then, as a
        // save would be refused, rather than write what the store no longer accepts.
        let bytes = settings.encode(&stored)?;
        let Some(tmp) = self.temp_in_leaf(&key, &bytes)? else {
            return Err(Error::NotFound);
        };
        replace(tmp, &path).map_err(|e| file_error("rename", &path, e))?;
        drop(guard);
        self.sync_leaf(&key)
    }

    fn delete(&self, id: &SessionId) -> Result<()> {
        self.delete_key(&id.storage_key(), DeleteIf::Any, Timestamp::from_millis(0))
            .map(drop)
    }

    /// Removes the record under `key` (with [`DeleteIf::Expired`], only if it has
    /// expired at `now`, judged under the key's lock), then its marker; `Ok(true)` if
    /// it went.
    fn delete_key(&self, key: &StorageKey, only: DeleteIf, now: Timestamp) -> Result<bool> {
        let path = self.layout().record_path(key);
        let guard = self.lock(key)?;
        // Read first, to learn whose marker goes with it.
        let stored = self.read_any(&path)?;
        let doomed = match (only, &stored) {
            (_, None) => false,
            (DeleteIf::Any, _) => true,
            // Expired, and anything added later: only what has expired goes. A file
            // that does not decode is left for the operator, as the sweep leaves it.
            (_, Some(record)) => record.as_ref().is_ok_and(|r| r.is_expired(now)),
        };
        let removed =
            doomed && self.unlink(key, &path, stored.as_ref().and_then(|r| r.as_ref().ok()))?;
        drop(guard);
        if removed {
            self.sync_leaf(key)?;
        }
        Ok(removed)
    }

    /// Removes the record under `key` if it is bound to `user` (a marker of `user` whose
    /// record is gone or bound to someone else is removed too); whether a live one went.
    fn revoke_key(&self, user: &UserKey, key: &StorageKey, now: Timestamp) -> Result<bool> {
        let path = self.layout().record_path(key);
        let guard = self.lock(key)?;
        let live = match self.read_any(&path)? {
            Some(Ok(record)) if record.user_key().as_ref() == Some(user) => {
                self.unlink(key, &path, Some(&record))? && !record.is_expired(now)
            }
            // Does not decode: left for the operator, marker and all.
            Some(Err(_)) => return Ok(false),
            // Gone, or not this user's: the marker (if any) is stale.
            _ => {
                markers::remove(self.layout(), user, key)?;
                return Ok(false);
            }
        };
        drop(guard);
        self.sync_leaf(key)?;
        Ok(live)
    }

    /// Revokes every session `user` has a marker for when the listing is taken, except
    /// `except`; returns how many live ones went.
    fn revoke_user(
        &self,
        user: &UserKey,
        except: Option<&StorageKey>,
        now: Timestamp,
    ) -> Result<u64> {
        let mut removed = 0u64;
        for key in markers::keys(self.layout(), user)? {
            if Some(&key) != except {
                removed += u64::from(self.revoke_key(user, &key, now)?);
            }
        }
        Ok(removed)
    }
}

#[async_trait]
impl SessionStore for FileStore {
    fn backend(&self) -> &'static str {
        "file"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::new()
            .with_compare_and_set(true)
            .with_enumerate(true)
            .with_user_index(true)
            .with_max_record_size(self.settings.max_record_size())
    }

    async fn load(&self, cookie_value: &str) -> Result<Option<Record>> {
        let Ok(id) = SessionId::parse(cookie_value) else {
            return Ok(None);
        };
        let job = self.job();
        let clock = self.settings.clock().clone();
        blocking(STORE, Operation::Load, move || {
            let path = job.layout().record_path(&id.storage_key());
            job.read_live(id, &path, &clock)
        })
        .await
    }

    async fn create(&self, record: &Record) -> Result<String> {
        let bytes = self.settings.encode(record)?;
        let (job, clock, id) = (self.job(), self.settings.clock().clone(), record.id);
        let user = record.user_key();
        blocking(STORE, Operation::Create, move || {
            job.create(id, &bytes, user, &clock)
        })
        .await?;
        Ok(record.id.to_string())
    }

    async fn save(&self, record: &Record, expected_version: u64) -> Result<String> {
        let bytes = self.settings.encode(record)?;
        let (job, clock, id) = (self.job(), self.settings.clock().clone(), record.id);
        let user = record.user_key();
        blocking(STORE, Operation::Save, move || {
            job.save(id, &bytes, user, expected_version, &clock)
        })
        .await?;
        Ok(record.id.to_string())
    }

    async fn touch(&self, record: &Record) -> Result<String> {
        let (job, settings) = (self.job(), self.settings.clone());
        let owned = record.clone();
        blocking(STORE, Operation::Touch, move || {
            job.touch(&owned, &settings)
        })
        .await?;
        Ok(record.id.to_string())
    }

    async fn delete(&self, id: &SessionId) -> Result<()> {
        let (job, id) = (self.job(), *id);
        blocking(STORE, Operation::Delete, move || job.delete(&id)).await
    }

    async fn delete_expired(&self) -> Result<u64> {
        let grace = self.temp_grace;
        let tally = self
            .walk(|| Pass::Sweep {
                // Temp files carry real file times, so this compares against the real
                // clock, not the store's (possibly manual) session clock.
                temp_cutoff: SystemTime::now()
                    .checked_sub(grace)
                    .unwrap_or(SystemTime::UNIX_EPOCH),
            })
            .await?;
        if tally.markers_removed > 0 {
            tracing::info!(
                dir = %self.dir().display(),
                files = tally.markers_removed,
                "removed user index markers whose session was gone (left by interrupted writes)",
            );
        }
        if tally.temp_removed > 0 {
            tracing::info!(
                dir = %self.dir().display(),
                files = tally.temp_removed,
                "removed temporary files left by interrupted writes",
            );
        }
        Ok(tally.removed)
    }

    async fn count(&self) -> Result<u64> {
        Ok(self.walk(|| Pass::Count).await?.live)
    }

    /// Pages in storage-key order (the fan-out directories' order); the cursor is the
    /// last key's hex. Each record on a page is read once to learn its deadline; a
    /// record that does not decode shows without one.
    async fn scan(&self, cursor: Option<ScanCursor>, limit: usize) -> Result<ScanPage> {
        let after = match &cursor {
            None => None,
            Some(c) => Some(
                StorageKey::from_hex(c.as_str())
                    .ok_or_else(|| Error::Config("not a FileStore scan cursor".into()))?,
            ),
        };
        let shared = self.shared.clone();
        let (entries, full) = blocking(STORE, Operation::Scan, move || {
            crate::scan::page(&shared.layout, after, limit)
        })
        .await?;
        let next = match entries.last() {
            Some(last) if full => Some(ScanCursor::new(last.key.to_hex())),
            _ => None,
        };
        Ok(ScanPage::new(entries, next))
    }

    async fn delete_keys(&self, keys: &[StorageKey], only: DeleteIf) -> Result<u64> {
        let (job, now, keys) = (self.job(), self.settings.now(), keys.to_vec());
        blocking(STORE, Operation::DeleteKeys, move || {
            let mut removed = 0u64;
            for key in &keys {
                removed += u64::from(job.delete_key(key, only, now)?);
            }
            Ok(removed)
        })
        .await
    }

    /// Reads the user's marker directory (sorted in memory: a user has a handful of
    /// sessions, or thousands at most), then each record from the cursor on, listing
    /// those that exist, are live and are still bound to the user.
    async fn sessions_of(
        &self,
        user: &UserKey,
        cursor: Option<ScanCursor>,
        limit: usize,
    ) -> Result<UserSessionsPage> {
        let after = UserSessionsPage::resume_after(cursor.as_ref())?;
        let (shared, now, user) = (self.shared.clone(), self.settings.now(), *user);
        blocking(STORE, Operation::SessionsOf, move || {
            markers::sessions_of(&shared.layout, &user, after, limit, now)
        })
        .await
    }

    /// Lists the user's markers once, then for each (but `except`), under the record's
    /// lock: deletes the record if it is still bound to the user, then the marker. A
    /// durable store fsyncs each record's directory, as `delete` does.
    async fn revoke_user(&self, user: &UserKey, except: Option<&StorageKey>) -> Result<u64> {
        let (job, now, user, except) = (self.job(), self.settings.now(), *user, except.copied());
        blocking(STORE, Operation::RevokeUser, move || {
            job.revoke_user(&user, except.as_ref(), now)
        })
        .await
    }

    async fn revoke_session(&self, user: &UserKey, key: &StorageKey) -> Result<bool> {
        let (job, now, user, key) = (self.job(), self.settings.now(), *user, *key);
        blocking(STORE, Operation::RevokeSession, move || {
            job.revoke_key(&user, &key, now)
        })
        .await
    }
}
