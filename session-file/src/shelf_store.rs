//! `ShelfStore`: every session in one file, on the redb embedded database.

use std::fmt;
use std::fs::{DirBuilder, OpenOptions};
use std::ops::Bound;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use redb::{
    Database, DatabaseError, Durability, ReadableDatabase, ReadableTable, TableDefinition, Value,
    WriteTransaction,
};
use session_core::Operation;
use session_core::{
    Capabilities, Codec, DeleteIf, Error, Record, Result, ScanCursor, ScanEntry, ScanPage,
    SessionId, SessionStore, StorageKey, StoreSettings, Timestamp,
};

use crate::error::{blocking, file_error};
use crate::layout::{DIR_MODE, FILE_MODE};
use crate::options::FileOptions;

/// The store name its backend errors carry.
const STORE: &str = "shelf";

/// Storage key → (version, expires_at in ms, session-core envelope). Version and
/// deadline sit beside the envelope so checks and sweeps never decode session data.
const SESSIONS: TableDefinition<[u8; 32], (u64, i64, &[u8])> = TableDefinition::new("sessions_v1");
/// (expires_at in ms, storage key) → nothing: the expiry index, so `delete_expired`
/// visits only expired records, in deadline order, a batch at a time.
const BY_EXPIRY: TableDefinition<(i64, [u8; 32]), ()> =
    TableDefinition::new("sessions_by_expiry_v1");

/// Records removed per write transaction by `delete_expired`: small enough that a sweep
/// never holds the single writer slot for long.
const SWEEP_BATCH: usize = 1_000;

/// The largest key, to make "every key at or before this deadline" a range bound.
const LAST_KEY: [u8; 32] = [0xff; 32];

/// All sessions in one file, like web.py's `ShelfStore` on Python's `shelve`, but on
/// [redb](https://docs.rs/redb), a maintained, crash-safe (copy-on-write, checksummed)
/// embedded key-value store rather than a home-made format.
///
/// - Full contract: compare-and-set `save`, exclusive `create`, expiry on every read
///   against the store's [`Clock`](session_core::Clock), `count`, and `delete_expired` in batches of 1,000
///   through an expiry index. Records are keyed by [`SessionId::storage_key`], never
///   the raw id.
/// - Safe for any number of tasks in one process: reads run concurrently, writes are
///   serialised by redb's single write transaction.
/// - **One process at a time.** redb locks the file; while one process has it open, a
///   second [`ShelfStore::open`] (in another process, or in the same one) fails with
///   [`Error::Config`] naming the file. To share sessions between processes, use
///   [`FileStore`](crate::FileStore) or a server store.
/// - The file is created `0600` (its directory `0700` if missing).
/// - **Size**: a record whose encoding exceeds the store's limit
///   ([`DEFAULT_MAX_RECORD_SIZE`](session_core::DEFAULT_MAX_RECORD_SIZE), 256 KiB, unless
///   its [`StoreSettings`] say otherwise) is
///   [`Error::TooLarge`] before anything is written, on create, save and touch.
///
/// All database work runs on tokio's blocking pool. Clones share the open database.
#[derive(Clone)]
pub struct ShelfStore {
    shelf: Arc<Shelf>,
    settings: StoreSettings,
    durable: bool,
}

struct Shelf {
    db: Database,
    path: PathBuf,
}

/// What a stored value says without decoding the envelope.
#[derive(Clone, Copy)]
struct Meta {
    version: u64,
    expires_at: i64,
}

impl ShelfStore {
    /// Opens (or creates) the shelf file at `path`. A missing parent directory is
    /// created `0700`.
    ///
    /// Fails with [`Error::Config`] when the file is in use by another process or
    /// another `ShelfStore`, or is not a redb file.
    pub async fn open(path: impl Into<PathBuf>) -> Result<Self> {
        let path: PathBuf = path.into();
        let shelf = blocking(STORE, Operation::Connect, move || Shelf::open(path)).await?;
        Ok(ShelfStore {
            shelf: Arc::new(shelf),
            settings: StoreSettings::new(),
            durable: true,
        })
    }

    /// Opens the shelf `options` describe (see [`ShelfStore::open`]).
    pub async fn open_with(options: FileOptions) -> Result<Self> {
        Ok(Self::open(options.path())
            .await?
            .with_settings(options.settings().clone())
            .durable(options.durable()))
    }

    /// Opens the shelf a `shelf:///path/file?durable=…&max_record_size=…` URL names
    /// (see [`FileOptions::from_shelf_url`]), on the system clock.
    pub async fn open_url(url: &str) -> Result<Self> {
        Self::open_with(FileOptions::from_shelf_url(url)?).await
    }

    /// Takes its codec, record size limit and clock from `settings` (default
    /// [`StoreSettings::new`]). Records in any known format still load.
    pub fn with_settings(mut self, settings: StoreSettings) -> Self {
        self.settings = settings;
        self
    }

    /// The codec, record size limit and clock in use.
    pub fn settings(&self) -> &StoreSettings {
        &self.settings
    }

    /// Whether each write waits for the disk (redb `Durability::Immediate`). On by
    /// default.
    ///
    /// Off (`Durability::None`), writes are much faster, but a crash, even of the
    /// process alone, rolls the file back to the last durable commit: every write
    /// since is lost (the file itself stays consistent). Dropping the last clone of the
    /// store closes the database cleanly and makes pending writes durable.
    pub fn durable(mut self, yes: bool) -> Self {
        self.durable = yes;
        self
    }

    /// The shelf file.
    pub fn path(&self) -> &Path {
        &self.shelf.path
    }

    /// Every stored key and value as raw bytes, as a dump of the file would show them
    /// (the record table and the expiry index). For audits and the conformance suite,
    /// which checks that no raw session id is stored. Reads the whole store into memory.
    pub async fn raw_entries(&self) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let shelf = self.shelf.clone();
        blocking(STORE, Operation::Scan, move || shelf.raw_entries()).await
    }
}

impl fmt::Debug for ShelfStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ShelfStore")
            .field("path", &self.shelf.path)
            .field("settings", &self.settings)
            .field("durable", &self.durable)
            .finish()
    }
}

impl Shelf {
    fn open(path: PathBuf) -> Result<Shelf> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            DirBuilder::new()
                .recursive(true)
                .mode(DIR_MODE)
                .create(parent)
                .map_err(|e| file_error("create directory", parent, e))?;
        }
        // redb creates a missing file with the default (umask) mode; creating it first
        // keeps the sessions private from the first byte. An existing file is left as is.
        OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(FILE_MODE)
            .open(&path)
            .map_err(|e| file_error("open", &path, e))?;
        let db = Database::builder()
            .create(&path)
            .map_err(|e| open_error(&path, e))?;
        let shelf = Shelf { db, path };
        // Create both tables up front so readers never meet a missing table.
        shelf.write(true, |txn| {
            txn.open_table(SESSIONS)
                .map_err(|e| shelf.err("open table", e))?;
            txn.open_table(BY_EXPIRY)
                .map_err(|e| shelf.err("open table", e))?;
            Ok(())
        })?;
        Ok(shelf)
    }

    fn err(&self, operation: &'static str, e: impl Into<redb::Error>) -> Error {
        file_error(operation, &self.path, e.into())
    }

    /// Runs `work` in one write transaction: committed if it returns `Ok`, rolled back
    /// otherwise.
    fn write<T>(
        &self,
        durable: bool,
        work: impl FnOnce(&WriteTransaction) -> Result<T>,
    ) -> Result<T> {
        let mut txn = self
            .db
            .begin_write()
            .map_err(|e| self.err("begin write", e))?;
        if !durable {
            txn.set_durability(Durability::None)
                .map_err(|e| self.err("set durability", e))?;
        }
        match work(&txn) {
            Ok(value) => {
                txn.commit().map_err(|e| self.err("commit", e))?;
                Ok(value)
            }
            Err(e) => {
                if let Err(abort) = txn.abort() {
                    tracing::warn!(path = %self.path.display(), error = %abort, "shelf rollback failed");
                }
                Err(e)
            }
        }
    }

    fn meta(
        &self,
        table: &impl ReadableTable<[u8; 32], (u64, i64, &'static [u8])>,
        key: &[u8; 32],
    ) -> Result<Option<Meta>> {
        Ok(table
            .get(key)
            .map_err(|e| self.err("read", e))?
            .map(|guard| {
                let (version, expires_at, _) = guard.value();
                Meta {
                    version,
                    expires_at,
                }
            }))
    }

    fn load(&self, id: SessionId, now: Timestamp) -> Result<Option<Record>> {
        let txn = self
            .db
            .begin_read()
            .map_err(|e| self.err("begin read", e))?;
        let table = txn
            .open_table(SESSIONS)
            .map_err(|e| self.err("open table", e))?;
        let Some(guard) = table
            .get(id.storage_key().as_bytes())
            .map_err(|e| self.err("read", e))?
        else {
            return Ok(None);
        };
        let (_, expires_at, bytes) = guard.value();
        if expires_at <= now.as_millis() {
            return Ok(None);
        }
        Codec::decode(id, bytes).map(Some)
    }

    /// Stores `bytes` under `key` and moves its expiry index entry from `old` (if any).
    fn put(
        &self,
        txn: &WriteTransaction,
        key: &[u8; 32],
        old: Option<Meta>,
        new: Meta,
        bytes: &[u8],
    ) -> Result<()> {
        let mut sessions = txn
            .open_table(SESSIONS)
            .map_err(|e| self.err("open table", e))?;
        let mut by_expiry = txn
            .open_table(BY_EXPIRY)
            .map_err(|e| self.err("open table", e))?;
        if let Some(old) = old {
            by_expiry
                .remove((old.expires_at, *key))
                .map_err(|e| self.err("write", e))?;
        }
        sessions
            .insert(key, (new.version, new.expires_at, bytes))
            .map_err(|e| self.err("write", e))?;
        by_expiry
            .insert((new.expires_at, *key), ())
            .map_err(|e| self.err("write", e))?;
        Ok(())
    }

    fn create(&self, durable: bool, record: &Record, bytes: &[u8], now: Timestamp) -> Result<()> {
        let key = *record.id.storage_key().as_bytes();
        self.write(durable, |txn| {
            let sessions = txn
                .open_table(SESSIONS)
                .map_err(|e| self.err("open table", e))?;
            let old = self.meta(&sessions, &key)?;
            drop(sessions);
            // An expired leftover does not block its id: it is replaced.
            if old.is_some_and(|m| m.expires_at > now.as_millis()) {
                return Err(Error::Collision);
            }
            let new = Meta {
                version: record.version,
                expires_at: record.expires_at.as_millis(),
            };
            self.put(txn, &key, old, new, bytes)
        })
    }

    fn save(
        &self,
        durable: bool,
        record: &Record,
        bytes: &[u8],
        expected_version: u64,
        now: Timestamp,
    ) -> Result<()> {
        let key = *record.id.storage_key().as_bytes();
        self.write(durable, |txn| {
            let sessions = txn
                .open_table(SESSIONS)
                .map_err(|e| self.err("open table", e))?;
            let old = self.meta(&sessions, &key)?;
            drop(sessions);
            let Some(old) = old.filter(|m| m.expires_at > now.as_millis()) else {
                return Err(Error::NotFound);
            };
            if old.version != expected_version {
                return Err(Error::Conflict);
            }
            let new = Meta {
                version: record.version,
                expires_at: record.expires_at.as_millis(),
            };
            self.put(txn, &key, Some(old), new, bytes)
        })
    }

    fn touch(
        &self,
        durable: bool,
        settings: &StoreSettings,
        record: &Record,
        now: Timestamp,
    ) -> Result<()> {
        let key = *record.id.storage_key().as_bytes();
        self.write(durable, |txn| {
            let sessions = txn
                .open_table(SESSIONS)
                .map_err(|e| self.err("open table", e))?;
            let (old, mut stored) = {
                let Some(guard) = sessions.get(&key).map_err(|e| self.err("read", e))? else {
                    return Err(Error::NotFound);
                };
                let (version, expires_at, bytes) = guard.value();
                if expires_at <= now.as_millis() {
                    return Err(Error::NotFound);
                }
                let old = Meta {
                    version,
                    expires_at,
                };
                (old, Codec::decode(record.id, bytes)?)
            };
            drop(sessions);
            // Only the deadline and atime of what is stored change, never its data or
            // version, so a touch racing a save cannot roll the save back.
            stored.accessed_at = record.accessed_at;
            stored.expires_at = record.expires_at;
            // A record stored under a higher limit is not rewritten past today's.
            let bytes = settings.encode(&stored)?;
            let new = Meta {
                version: old.version,
                expires_at: stored.expires_at.as_millis(),
            };
            self.put(txn, &key, Some(old), new, &bytes)
        })
    }

    fn delete(&self, durable: bool, id: &SessionId) -> Result<()> {
        let key = *id.storage_key().as_bytes();
        self.write(durable, |txn| {
            let mut sessions = txn
                .open_table(SESSIONS)
                .map_err(|e| self.err("open table", e))?;
            let removed = sessions
                .remove(&key)
                .map_err(|e| self.err("write", e))?
                .map(|guard| guard.value().1);
            drop(sessions);
            if let Some(expires_at) = removed {
                txn.open_table(BY_EXPIRY)
                    .map_err(|e| self.err("open table", e))?
                    .remove((expires_at, key))
                    .map_err(|e| self.err("write", e))?;
            }
            Ok(())
        })
    }

    /// Removes up to [`SWEEP_BATCH`] expired records in one transaction; returns how many.
    fn sweep_batch(&self, durable: bool, now: Timestamp) -> Result<usize> {
        self.write(durable, |txn| {
            let mut by_expiry = txn
                .open_table(BY_EXPIRY)
                .map_err(|e| self.err("open table", e))?;
            let mut batch = Vec::with_capacity(SWEEP_BATCH);
            for entry in by_expiry
                .range(..=(now.as_millis(), LAST_KEY))
                .map_err(|e| self.err("read", e))?
                .take(SWEEP_BATCH)
            {
                let (index_key, _) = entry.map_err(|e| self.err("read", e))?;
                batch.push(index_key.value());
            }
            let mut sessions = txn
                .open_table(SESSIONS)
                .map_err(|e| self.err("open table", e))?;
            for (expires_at, key) in &batch {
                by_expiry
                    .remove((*expires_at, *key))
                    .map_err(|e| self.err("write", e))?;
                sessions.remove(key).map_err(|e| self.err("write", e))?;
            }
            Ok(batch.len())
        })
    }

    fn count(&self, now: Timestamp) -> Result<u64> {
        let txn = self
            .db
            .begin_read()
            .map_err(|e| self.err("begin read", e))?;
        let by_expiry = txn
            .open_table(BY_EXPIRY)
            .map_err(|e| self.err("open table", e))?;
        let live = by_expiry
            .range((
                Bound::Excluded((now.as_millis(), LAST_KEY)),
                Bound::<(i64, [u8; 32])>::Unbounded,
            ))
            .map_err(|e| self.err("read", e))?;
        let mut n = 0u64;
        for entry in live {
            entry.map_err(|e| self.err("read", e))?;
            n += 1;
        }
        Ok(n)
    }

    /// Up to `limit` records after `after`, in key order, and whether the page is full.
    fn scan(&self, after: Option<[u8; 32]>, limit: usize) -> Result<(Vec<ScanEntry>, bool)> {
        let txn = self
            .db
            .begin_read()
            .map_err(|e| self.err("begin read", e))?;
        let sessions = txn
            .open_table(SESSIONS)
            .map_err(|e| self.err("open table", e))?;
        let range = match after {
            Some(a) => sessions.range((Bound::Excluded(a), Bound::Unbounded)),
            None => sessions.range::<[u8; 32]>(..),
        }
        .map_err(|e| self.err("read", e))?;
        let limit = limit.max(1);
        let mut out = Vec::new();
        for entry in range {
            let (k, v) = entry.map_err(|e| self.err("read", e))?;
            let (_, expires_at, bytes) = v.value();
            out.push(ScanEntry::new(
                StorageKey::from_bytes(k.value()),
                Some(Timestamp::from_millis(expires_at)),
                bytes.len() as u64,
            ));
            if out.len() >= limit {
                return Ok((out, true));
            }
        }
        Ok((out, false))
    }

    /// Removes the records under `keys` in one transaction (with
    /// [`DeleteIf::Expired`], only those expired at `now`); returns how many went.
    fn delete_keys(
        &self,
        durable: bool,
        keys: &[StorageKey],
        only: DeleteIf,
        now: Timestamp,
    ) -> Result<u64> {
        self.write(durable, |txn| {
            let mut sessions = txn
                .open_table(SESSIONS)
                .map_err(|e| self.err("open table", e))?;
            let mut by_expiry = txn
                .open_table(BY_EXPIRY)
                .map_err(|e| self.err("open table", e))?;
            let mut removed = 0u64;
            for key in keys {
                let key = *key.as_bytes();
                let Some(meta) = self.meta(&sessions, &key)? else {
                    continue;
                };
                let doomed = match only {
                    DeleteIf::Any => true,
                    _ => meta.expires_at <= now.as_millis(),
                };
                if !doomed {
                    continue;
                }
                sessions.remove(&key).map_err(|e| self.err("write", e))?;
                by_expiry
                    .remove((meta.expires_at, key))
                    .map_err(|e| self.err("write", e))?;
                removed += 1;
            }
            Ok(removed)
        })
    }

    fn raw_entries(&self) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let txn = self
            .db
            .begin_read()
            .map_err(|e| self.err("begin read", e))?;
        let mut out = Vec::new();
        let sessions = txn
            .open_table(SESSIONS)
            .map_err(|e| self.err("open table", e))?;
        for entry in sessions.iter().map_err(|e| self.err("read", e))? {
            let (k, v) = entry.map_err(|e| self.err("read", e))?;
            // Exactly the bytes redb stores for the value.
            let value: Vec<u8> = <(u64, i64, &[u8])>::as_bytes(&v.value());
            out.push((k.value().to_vec(), value));
        }
        let by_expiry = txn
            .open_table(BY_EXPIRY)
            .map_err(|e| self.err("open table", e))?;
        for entry in by_expiry.iter().map_err(|e| self.err("read", e))? {
            let (k, _) = entry.map_err(|e| self.err("read", e))?;
            let (expires_at, key) = k.value();
            let mut raw = expires_at.to_le_bytes().to_vec();
            raw.extend_from_slice(&key);
            out.push((raw, Vec::new()));
        }
        Ok(out)
    }
}

fn open_error(path: &Path, e: DatabaseError) -> Error {
    match e {
        DatabaseError::DatabaseAlreadyOpen => Error::Config(format!(
            "shelf file {} is in use: another process (or another ShelfStore in this \
             process) has it open, and a shelf has one owner at a time; share sessions \
             between processes with FileStore or a server store",
            path.display()
        )),
        // redb reports a file that is not a database as invalid data.
        DatabaseError::Storage(redb::StorageError::Io(io))
            if io.kind() == std::io::ErrorKind::InvalidData =>
        {
            Error::Config(format!(
                "shelf file {} is not a redb database: {io}",
                path.display()
            ))
        }
        DatabaseError::Storage(redb::StorageError::Io(io)) => file_error("open", path, io),
        other => Error::Config(format!(
            "shelf file {} cannot be opened as a redb database: {other}",
            path.display()
        )),
    }
}

#[async_trait]
impl SessionStore for ShelfStore {
    fn capabilities(&self) -> Capabilities {
        Capabilities::new()
            .with_compare_and_set(true)
            .with_enumerate(true)
            .with_max_record_size(self.settings.max_record_size())
    }

    async fn load(&self, cookie_value: &str) -> Result<Option<Record>> {
        let Ok(id) = SessionId::parse(cookie_value) else {
            return Ok(None);
        };
        let (shelf, now) = (self.shelf.clone(), self.settings.now());
        blocking(STORE, Operation::Load, move || shelf.load(id, now)).await
    }

    async fn create(&self, record: &Record) -> Result<String> {
        let bytes = self.settings.encode(record)?;
        let (shelf, now, durable) = (self.shelf.clone(), self.settings.now(), self.durable);
        let owned = record.clone();
        blocking(STORE, Operation::Create, move || {
            shelf.create(durable, &owned, &bytes, now)
        })
        .await?;
        Ok(record.id.to_string())
    }

    async fn save(&self, record: &Record, expected_version: u64) -> Result<String> {
        let bytes = self.settings.encode(record)?;
        let (shelf, now, durable) = (self.shelf.clone(), self.settings.now(), self.durable);
        let owned = record.clone();
        blocking(STORE, Operation::Save, move || {
            shelf.save(durable, &owned, &bytes, expected_version, now)
        })
        .await?;
        Ok(record.id.to_string())
    }

    async fn touch(&self, record: &Record) -> Result<String> {
        let (shelf, now, durable) = (self.shelf.clone(), self.settings.now(), self.durable);
        let (settings, owned) = (self.settings.clone(), record.clone());
        blocking(STORE, Operation::Touch, move || {
            shelf.touch(durable, &settings, &owned, now)
        })
        .await?;
        Ok(record.id.to_string())
    }

    async fn delete(&self, id: &SessionId) -> Result<()> {
        let (shelf, durable, id) = (self.shelf.clone(), self.durable, *id);
        blocking(STORE, Operation::Delete, move || shelf.delete(durable, &id)).await
    }

    async fn delete_expired(&self) -> Result<u64> {
        let mut removed = 0u64;
        loop {
            let (shelf, now, durable) = (self.shelf.clone(), self.settings.now(), self.durable);
            let n = blocking(STORE, Operation::DeleteExpired, move || {
                shelf.sweep_batch(durable, now)
            })
            .await?;
            removed += n as u64;
            if n < SWEEP_BATCH {
                return Ok(removed);
            }
        }
    }

    async fn count(&self) -> Result<u64> {
        let (shelf, now) = (self.shelf.clone(), self.settings.now());
        blocking(STORE, Operation::Count, move || shelf.count(now)).await
    }

    /// Pages in storage-key order, from the record table (data is not decoded); the
    /// cursor is the last key's hex.
    async fn scan(&self, cursor: Option<ScanCursor>, limit: usize) -> Result<ScanPage> {
        let after = match &cursor {
            None => None,
            Some(c) => Some(
                *StorageKey::from_hex(c.as_str())
                    .ok_or_else(|| Error::Config("not a ShelfStore scan cursor".into()))?
                    .as_bytes(),
            ),
        };
        let shelf = self.shelf.clone();
        let (entries, full) =
            blocking(STORE, Operation::Scan, move || shelf.scan(after, limit)).await?;
        let next = match entries.last() {
            Some(last) if full => Some(ScanCursor::new(last.key.to_hex())),
            _ => None,
        };
        Ok(ScanPage::new(entries, next))
    }

    async fn delete_keys(&self, keys: &[StorageKey], only: DeleteIf) -> Result<u64> {
        let (shelf, now, durable) = (self.shelf.clone(), self.settings.now(), self.durable);
        let keys = keys.to_vec();
        blocking(STORE, Operation::DeleteKeys, move || {
            shelf.delete_keys(durable, &keys, only, now)
        })
        .await
    }
}
