//! `ShelfStore`: every session in one file, on the redb embedded database.

use std::fmt;
use std::fs::{DirBuilder, OpenOptions};
use std::ops::Bound;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use redb::{
    Database, DatabaseError, Durability, ReadableDatabase, ReadableTable, Table, TableDefinition,
    Value, WriteTransaction,
};
use session_core::Operation;
use session_core::{
    Capabilities, Codec, DeleteIf, Error, Record, Result, ScanCursor, ScanEntry, ScanPage,
    SessionId, SessionStore, StorageKey, StoreSettings, Timestamp, UserKey, UserSessionsPage,
};

use crate::error::{blocking, file_error};
use crate::layout::{DIR_MODE, FILE_MODE};
use crate::options::FileOptions;
use crate::users::listed;

/// The store name its backend errors carry.
const STORE: &str = "shelf";

/// Storage key → (version, expires_at in ms, session-core envelope). Version and
/// deadline sit beside the envelope so checks and sweeps never decode session data.
const SESSIONS: TableDefinition<[u8; 32], (u64, i64, &[u8])> = TableDefinition::new("sessions_v1");
/// (expires_at in ms, storage key) → nothing: the expiry index, so `delete_expired`
/// visits only expired records, in deadline order, a batch at a time.
const BY_EXPIRY: TableDefinition<(i64, [u8; 32]), ()> =
    TableDefinition::new("sessions_by_expiry_v1");
/// Storage key → key of the user its record is bound to, for bound records only: what a
/// write consults to move the record's user index entry without decoding the old
/// envelope.
const USER_OF: TableDefinition<[u8; 32], [u8; 32]> = TableDefinition::new("sessions_user_of_v1");
/// (user key, storage key) → nothing: the user index (contract rule 12), each user's
/// sessions in storage-key order. Written in the same transaction as the record, so it
/// is exact by construction.
const BY_USER: TableDefinition<([u8; 32], [u8; 32]), ()> =
    TableDefinition::new("sessions_by_user_v1");

/// Records removed per write transaction by `delete_expired`: small enough that a sweep
/// never holds the single writer slot for long.
const SWEEP_BATCH: usize = 1_000;

/// Sessions removed per write transaction by `revoke_user`, for the same reason.
const REVOKE_BATCH: usize = 500;

/// The largest key, to make "every key at or before this deadline" a range bound.
const LAST_KEY: [u8; 32] = [0xff; 32];
/// The smallest key, to make "every session of this user" a range bound.
const FIRST_KEY: [u8; 32] = [0; 32];

/// All sessions in one file, like web.py's `ShelfStore` on Python's `shelve`, but on
/// [redb](https://docs.rs/redb), a maintained, crash-safe (copy-on-write, checksummed)
/// embedded key-value store rather than a home-made format.
///
/// - Full contract: compare-and-set `save`, exclusive `create`, expiry on every read
///   against the store's [`Clock`](session_core::Clock), `count`, and `delete_expired` in batches of 1,000
///   through an expiry index. Records are keyed by [`SessionId::storage_key`], never
///   the raw id.
/// - **Sessions by user** (contract rule 12): a user index (two more tables) written in
///   the record's own transaction, so it is exact by construction; `revoke_user` works
///   in transactions of 500 sessions.
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

/// Every table, opened in one write transaction.
struct Tables<'txn> {
    sessions: Table<'txn, [u8; 32], (u64, i64, &'static [u8])>,
    by_expiry: Table<'txn, (i64, [u8; 32]), ()>,
    user_of: Table<'txn, [u8; 32], [u8; 32]>,
    by_user: Table<'txn, ([u8; 32], [u8; 32]), ()>,
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
        // Create every table up front so readers never meet a missing one. A shelf
        // written before the user index existed gets empty index tables here, which is
        // exact: its records are in envelope formats without a user binding.
        shelf.write(true, |txn| shelf.tables(txn).map(drop))?;
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

    /// Opens every table in `txn`.
    fn tables<'txn>(&self, txn: &'txn WriteTransaction) -> Result<Tables<'txn>> {
        let open = |e: redb::TableError| self.err("open table", e);
        Ok(Tables {
            sessions: txn.open_table(SESSIONS).map_err(open)?,
            by_expiry: txn.open_table(BY_EXPIRY).map_err(open)?,
            user_of: txn.open_table(USER_OF).map_err(open)?,
            by_user: txn.open_table(BY_USER).map_err(open)?,
        })
    }

    /// Stores `bytes` under `key` and moves its expiry index entry from `old` (if any).
    fn put(
        &self,
        t: &mut Tables<'_>,
        key: &[u8; 32],
        old: Option<Meta>,
        new: Meta,
        bytes: &[u8],
    ) -> Result<()> {
        let write = |e: redb::StorageError| self.err("write", e);
        if let Some(old) = old {
            t.by_expiry.remove((old.expires_at, *key)).map_err(write)?;
        }
        t.sessions
            .insert(key, (new.version, new.expires_at, bytes))
            .map_err(write)?;
        t.by_expiry
            .insert((new.expires_at, *key), ())
            .map_err(write)?;
        Ok(())
    }

    /// Files `key` under `user` in the user index (`None`: under nobody), taking it out
    /// from under the user it was filed under if that differs. An unbound record that
    /// stays unbound costs one lookup.
    fn refile(&self, t: &mut Tables<'_>, key: &[u8; 32], user: Option<[u8; 32]>) -> Result<()> {
        let write = |e: redb::StorageError| self.err("write", e);
        let old = self.user_of(&t.user_of, key)?;
        if old == user {
            return Ok(());
        }
        if let Some(old) = old {
            t.by_user.remove((old, *key)).map_err(write)?;
        }
        match user {
            Some(user) => {
                t.user_of.insert(key, user).map_err(write)?;
                t.by_user.insert((user, *key), ()).map_err(write)?;
            }
            None => {
                t.user_of.remove(key).map_err(write)?;
            }
        }
        Ok(())
    }

    /// Removes the record under `key` and every index entry of it; what its value said,
    /// if it was there.
    fn remove(&self, t: &mut Tables<'_>, key: &[u8; 32]) -> Result<Option<Meta>> {
        let write = |e: redb::StorageError| self.err("write", e);
        let removed = t.sessions.remove(key).map_err(write)?.map(|guard| {
            let (version, expires_at, _) = guard.value();
            Meta {
                version,
                expires_at,
            }
        });
        if let Some(meta) = removed {
            t.by_expiry.remove((meta.expires_at, *key)).map_err(write)?;
        }
        self.refile(t, key, None)?;
        Ok(removed)
    }

    fn create(&self, durable: bool, record: &Record, bytes: &[u8], now: Timestamp) -> Result<()> {
        let key = *record.id.storage_key().as_bytes();
        let user = record.user_key().map(|u| *u.as_bytes());
        self.write(durable, |txn| {
            let mut t = self.tables(txn)?;
            let old = self.meta(&t.sessions, &key)?;
            // An expired leftover does not block its id: it is replaced.
            if old.is_some_and(|m| m.expires_at > now.as_millis()) {
                return Err(Error::Collision);
            }
            let new = Meta {
                version: record.version,
                expires_at: record.expires_at.as_millis(),
            };
            self.put(&mut t, &key, old, new, bytes)?;
            self.refile(&mut t, &key, user)
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
        let user = record.user_key().map(|u| *u.as_bytes());
        self.write(durable, |txn| {
            let mut t = self.tables(txn)?;
            let old = self.meta(&t.sessions, &key)?;
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
            self.put(&mut t, &key, Some(old), new, bytes)?;
            self.refile(&mut t, &key, user)
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
            let mut t = self.tables(txn)?;
            let (old, mut stored) = {
                let Some(guard) = t.sessions.get(&key).map_err(|e| self.err("read", e))? else {
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
            // Only the deadline and atime of what is stored change, never its data,
            // version or user, so a touch racing a save cannot roll the save back, and
            // the user index stays as it is.
            stored.accessed_at = record.accessed_at;
            stored.expires_at = record.expires_at;
            // A record stored under a higher limit is not rewritten past today's.
            let bytes = settings.encode(&stored)?;
            let new = Meta {
                version: old.version,
                expires_at: stored.expires_at.as_millis(),
            };
            self.put(&mut t, &key, Some(old), new, &bytes)
        })
    }

    fn delete(&self, durable: bool, id: &SessionId) -> Result<()> {
        let key = *id.storage_key().as_bytes();
        self.write(durable, |txn| {
            self.remove(&mut self.tables(txn)?, &key).map(drop)
        })
    }

    /// Removes up to [`SWEEP_BATCH`] expired records in one transaction; returns how many.
    fn sweep_batch(&self, durable: bool, now: Timestamp) -> Result<usize> {
        self.write(durable, |txn| {
            let mut t = self.tables(txn)?;
            let mut batch = Vec::with_capacity(SWEEP_BATCH);
            for entry in t
                .by_expiry
                .range(..=(now.as_millis(), LAST_KEY))
                .map_err(|e| self.err("read", e))?
                .take(SWEEP_BATCH)
            {
                let (index_key, _) = entry.map_err(|e| self.err("read", e))?;
                batch.push(index_key.value());
            }
            for (expires_at, key) in &batch {
                t.by_expiry
                    .remove((*expires_at, *key))
                    .map_err(|e| self.err("write", e))?;
                t.sessions.remove(key).map_err(|e| self.err("write", e))?;
                self.refile(&mut t, key, None)?;
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
            let mut t = self.tables(txn)?;
            let mut removed = 0u64;
            for key in keys {
                let key = *key.as_bytes();
                let Some(meta) = self.meta(&t.sessions, &key)? else {
                    continue;
                };
                let doomed = match only {
                    DeleteIf::Any => true,
                    _ => meta.expires_at <= now.as_millis(),
                };
                if doomed && self.remove(&mut t, &key)?.is_some() {
                    removed += 1;
                }
            }
            Ok(removed)
        })
    }

    /// Up to `limit` live sessions of `user` after `after`, in key order, read from one
    /// snapshot, and whether more follow.
    fn sessions_of(
        &self,
        user: &UserKey,
        after: Option<StorageKey>,
        limit: usize,
        now: Timestamp,
    ) -> Result<UserSessionsPage> {
        let txn = self
            .db
            .begin_read()
            .map_err(|e| self.err("begin read", e))?;
        let open = |e: redb::TableError| self.err("open table", e);
        let sessions = txn.open_table(SESSIONS).map_err(open)?;
        let by_user = txn.open_table(BY_USER).map_err(open)?;
        let u = *user.as_bytes();
        let from = match after {
            Some(a) => Bound::Excluded((u, *a.as_bytes())),
            None => Bound::Included((u, FIRST_KEY)),
        };
        let limit = limit.max(1);
        let (mut out, mut more) = (Vec::new(), false);
        for entry in by_user
            .range((from, Bound::Included((u, LAST_KEY))))
            .map_err(|e| self.err("read", e))?
        {
            let (index_key, _) = entry.map_err(|e| self.err("read", e))?;
            let key = index_key.value().1;
            let Some(guard) = sessions.get(&key).map_err(|e| self.err("read", e))? else {
                continue;
            };
            let (_, expires_at, bytes) = guard.value();
            if expires_at <= now.as_millis() {
                continue;
            }
            if out.len() >= limit {
                more = true;
                break;
            }
            out.extend(listed(&self.path, StorageKey::from_bytes(key), bytes, user));
        }
        Ok(UserSessionsPage::with_more(out, more))
    }

    /// Removes up to [`REVOKE_BATCH`] of `user`'s sessions after `after` (all but
    /// `except`) in one transaction. Returns how many live ones went, and the last key
    /// looked at if the batch was full (so more may follow).
    fn revoke_batch(
        &self,
        durable: bool,
        user: [u8; 32],
        after: Option<[u8; 32]>,
        except: Option<[u8; 32]>,
        now: Timestamp,
    ) -> Result<(u64, Option<[u8; 32]>)> {
        self.write(durable, |txn| {
            let mut t = self.tables(txn)?;
            let from = match after {
                Some(a) => Bound::Excluded((user, a)),
                None => Bound::Included((user, FIRST_KEY)),
            };
            let mut keys = Vec::with_capacity(REVOKE_BATCH);
            for entry in t
                .by_user
                .range((from, Bound::Included((user, LAST_KEY))))
                .map_err(|e| self.err("read", e))?
                .take(REVOKE_BATCH)
            {
                let (index_key, _) = entry.map_err(|e| self.err("read", e))?;
                keys.push(index_key.value().1);
            }
            let mut removed = 0u64;
            for key in keys.iter().filter(|k| Some(**k) != except) {
                if self
                    .remove(&mut t, key)?
                    .is_some_and(|m| m.expires_at > now.as_millis())
                {
                    removed += 1;
                }
            }
            let last = keys.last().copied().filter(|_| keys.len() == REVOKE_BATCH);
            Ok((removed, last))
        })
    }

    /// Removes the session under `key` if it is bound to `user`; whether a live one went.
    fn revoke_session(
        &self,
        durable: bool,
        user: [u8; 32],
        key: [u8; 32],
        now: Timestamp,
    ) -> Result<bool> {
        // A read first, so a key that is not the user's costs no (durable) commit.
        let txn = self
            .db
            .begin_read()
            .map_err(|e| self.err("begin read", e))?;
        let user_of = txn
            .open_table(USER_OF)
            .map_err(|e| self.err("open table", e))?;
        if self.user_of(&user_of, &key)? != Some(user) {
            return Ok(false);
        }
        drop((user_of, txn));
        self.write(durable, |txn| {
            let mut t = self.tables(txn)?;
            // Checked again: it may have changed since the read.
            if self.user_of(&t.user_of, &key)? != Some(user) {
                return Ok(false);
            }
            Ok(self
                .remove(&mut t, &key)?
                .is_some_and(|m| m.expires_at > now.as_millis()))
        })
    }

    /// The user `key` is filed under, if any.
    fn user_of(
        &self,
        table: &impl ReadableTable<[u8; 32], [u8; 32]>,
        key: &[u8; 32],
    ) -> Result<Option<[u8; 32]>> {
        Ok(table
            .get(key)
            .map_err(|e| self.err("read", e))?
            .map(|guard| guard.value()))
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
        let user_of = txn
            .open_table(USER_OF)
            .map_err(|e| self.err("open table", e))?;
        for entry in user_of.iter().map_err(|e| self.err("read", e))? {
            let (k, v) = entry.map_err(|e| self.err("read", e))?;
            out.push((k.value().to_vec(), v.value().to_vec()));
        }
        let by_user = txn
            .open_table(BY_USER)
            .map_err(|e| self.err("open table", e))?;
        for entry in by_user.iter().map_err(|e| self.err("read", e))? {
            let (k, _) = entry.map_err(|e| self.err("read", e))?;
            let (user, key) = k.value();
            out.push(([user, key].concat(), Vec::new()));
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
    fn backend(&self) -> &'static str {
        "shelf"
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

    /// One read transaction per page: the user's index range after the cursor, each
    /// record read to skip expired ones and to build its entry.
    async fn sessions_of(
        &self,
        user: &UserKey,
        cursor: Option<ScanCursor>,
        limit: usize,
    ) -> Result<UserSessionsPage> {
        let after = UserSessionsPage::resume_after(cursor.as_ref())?;
        let (shelf, now, user) = (self.shelf.clone(), self.settings.now(), *user);
        blocking(STORE, Operation::SessionsOf, move || {
            shelf.sessions_of(&user, after, limit, now)
        })
        .await
    }

    /// In write transactions of up to 500 sessions each, in key order: a user with
    /// more sessions does not hold the single writer slot for long. Every session bound
    /// to the user when the call starts is in one of the batches; one bound during the
    /// call may or may not be.
    async fn revoke_user(&self, user: &UserKey, except: Option<&StorageKey>) -> Result<u64> {
        let (user, except) = (*user.as_bytes(), except.map(|k| *k.as_bytes()));
        let mut removed = 0u64;
        let mut cursor = None;
        loop {
            let (shelf, now, durable) = (self.shelf.clone(), self.settings.now(), self.durable);
            let (n, last) = blocking(STORE, Operation::RevokeUser, move || {
                shelf.revoke_batch(durable, user, cursor, except, now)
            })
            .await?;
            removed += n;
            match last {
                Some(last) => cursor = Some(last),
                None => return Ok(removed),
            }
        }
    }

    async fn revoke_session(&self, user: &UserKey, key: &StorageKey) -> Result<bool> {
        let (shelf, now, durable) = (self.shelf.clone(), self.settings.now(), self.durable);
        let (user, key) = (*user.as_bytes(), *key.as_bytes());
        blocking(STORE, Operation::RevokeSession, move || {
            shelf.revoke_session(durable, user, key, now)
        })
        .await
    }
}
