//! `SqlStore`: the session contract on one SQL table.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use session_core::{with_timeout, Operation};
use session_core::{
    Capabilities, Codec, DeleteIf, Error, Record, Result, ScanCursor, ScanEntry, ScanPage,
    SessionId, SessionStore, StorageKey, StoreSettings, Timestamp, UserKey, UserSession,
    UserSessionsPage,
};

use crate::connect::{self, ConnectOptions};
use crate::dialect::Statements;
use crate::error::{from_sqlx, is_unique_violation, is_write_contention, STORE};
use crate::exec::{Arg, Exec, StoredRow};
use crate::pool::with_pool;
use crate::{migrate, Backend, SqlOptions, SqlPool, TableName};

/// Expired rows `delete_expired` removes per statement unless configured otherwise.
pub const DEFAULT_SWEEP_BATCH: u32 = 1000;

/// Keys one `delete_keys` statement names at most (well under every database's limit
/// on bound parameters).
const DELETE_KEYS_CHUNK: usize = 500;

/// Sessions in one SQL table on SQLite, PostgreSQL or MySQL/MariaDB (web.py's
/// DBStore, Beaker's `ext:database`).
///
/// Rows are keyed by the SHA-256 storage key of the session id, never the raw id.
/// `atime`, `expires_at` and `version` are columns and are authoritative: a `load`
/// overlays them on the decoded envelope, which is what lets `touch` move a deadline
/// with a small UPDATE instead of rewriting the data. The schema is described on
/// [`SqlStore::migrate`].
///
/// Every operation is one statement (one round trip) on its success path, with "now"
/// from the store's [`Clock`](session_core::Clock) passed as a parameter, never the database's own clock:
///
/// | operation | statement |
/// |---|---|
/// | `load` | `SELECT … WHERE session_id = ? AND expires_at > now` |
/// | `create` | `INSERT`; a duplicate key is `Collision`. On SQLite and PostgreSQL an expired leftover under the same key is replaced in the same statement (`ON CONFLICT … DO UPDATE … WHERE expires_at <= now`); on MySQL the failure path deletes the expired leftover and inserts once more |
/// | `save` | `UPDATE … WHERE session_id = ? AND version = expected AND expires_at > now`; if no row matched, one `SELECT version` tells `Conflict` from `NotFound` |
/// | `touch` | `UPDATE … SET atime, expires_at WHERE session_id = ? AND expires_at > now`; no row is `NotFound` |
/// | `delete` | `DELETE … WHERE session_id = ?` |
/// | `delete_expired` | `DELETE` of at most [`with_sweep_batch`](SqlStore::with_sweep_batch) expired rows per statement, repeated until a batch comes back short |
/// | `count` | `SELECT COUNT(*) … WHERE expires_at > now` |
/// | `scan` | `SELECT session_id, expires_at, LENGTH(data) … WHERE session_id > cursor ORDER BY session_id LIMIT n` (a keyset page on the primary key) |
/// | `delete_keys` | `DELETE … WHERE session_id IN (…)`, plus `AND expires_at <= now` for expired-only, per 500 keys |
/// | `sessions_of` | `SELECT … WHERE user_key = ? AND expires_at > now AND session_id > cursor ORDER BY session_id LIMIT n + 1` |
/// | `revoke_user` | `DELETE … WHERE user_key = ? AND session_id <> except` (on MySQL two: the live rows, counted, then the expired ones) |
/// | `revoke_session` | `DELETE … WHERE session_id = ? AND user_key = ? AND expires_at > now` |
///
/// The user index ([`Capabilities::user_index`]) is the nullable `user_key` column
/// (the [`UserKey`] hex of the record's binding, `NULL` when unbound), written by the
/// same `INSERT` or `UPDATE` that writes the record: it is exact and atomic by
/// construction, and rebinding, unbinding, `delete`, `delete_keys` and the sweeps need
/// nothing more.
///
/// A record whose encoding exceeds the store's limit
/// ([`DEFAULT_MAX_RECORD_SIZE`](session_core::DEFAULT_MAX_RECORD_SIZE), 256 KiB, unless
/// its [`StoreSettings`] say otherwise) is `TooLarge` before any I/O.
///
/// Cloning is cheap and shares the pool.
#[derive(Clone)]
pub struct SqlStore {
    pool: SqlPool,
    table: TableName,
    sql: Arc<Statements>,
    settings: StoreSettings,
    sweep_batch: u32,
    timeout: Option<Duration>,
}

impl SqlStore {
    /// A store on an existing pool (`sqlx::SqlitePool`, `sqlx::PgPool` or
    /// `sqlx::MySqlPool` from sqlx 0.8, or a [`SqlPool`]), using the table
    /// `sessions`. Does no I/O: run [`SqlStore::migrate`] once to create the table.
    pub fn new(pool: impl Into<SqlPool>) -> Self {
        let pool = pool.into();
        let table = TableName::sessions();
        SqlStore {
            sql: Arc::new(Statements::new(pool.backend(), &table)),
            pool,
            table,
            settings: StoreSettings::new(),
            sweep_batch: DEFAULT_SWEEP_BATCH,
            timeout: None,
        }
    }

    /// Opens a pool for `url` with the default [`ConnectOptions`], checking that it
    /// connects. Like [`SqlStore::new`] it creates nothing: pick the table with
    /// [`with_table`](SqlStore::with_table), then run [`migrate`](SqlStore::migrate).
    ///
    /// URLs: `sqlite://path/to/sessions.db` (created if missing), `sqlite::memory:`,
    /// `postgres://user@host/db`, `mysql://user@host/db` (`mariadb://` too). An
    /// unknown scheme, or one whose feature is off, is `Error::Config`; a server that
    /// cannot be reached is `Error::Backend`.
    pub async fn connect(url: &str) -> Result<Self> {
        Self::connect_with(url, ConnectOptions::default()).await
    }

    /// [`SqlStore::connect`] with explicit pool and SQLite settings.
    pub async fn connect_with(url: &str, options: ConnectOptions) -> Result<Self> {
        Ok(SqlStore::new(connect::connect(url, &options).await?))
    }

    /// Connects as `options` say, picks the table and creates it if missing (unless
    /// `migrate` is false; migration is idempotent and safe to run from several
    /// instances at once). A `timeout` bounds every operation, including the wait for
    /// a connection while the server is down (without one: 5 s to get a connection, no
    /// bound on a statement).
    pub async fn open_with(options: SqlOptions) -> Result<Self> {
        let store = match options.timeout() {
            Some(t) => {
                let connect = ConnectOptions::new().acquire_timeout(t);
                SqlStore::connect_with(options.driver_url(), connect)
                    .await?
                    .with_operation_timeout(t)
            }
            None => SqlStore::connect(options.driver_url()).await?,
        }
        .with_settings(options.settings().clone())
        .with_table(options.table().clone());
        if options.migrate() {
            store.migrate().await?;
        }
        Ok(store)
    }

    /// [`SqlStore::open_with`] the options of a store URL
    /// (`postgres://app@db/app?session_table=web.sessions&timeout=2s`; see
    /// [`SqlOptions::from_url`]), on the system clock.
    pub async fn open_url(url: &str) -> Result<Self> {
        Self::open_with(SqlOptions::from_url(url)?).await
    }

    /// Uses `table` instead of `sessions`. Build the name with [`TableName::new`],
    /// which refuses anything but a plain identifier.
    pub fn with_table(mut self, table: TableName) -> Self {
        self.sql = Arc::new(Statements::new(self.pool.backend(), &table));
        self.table = table;
        self
    }

    /// Takes its codec, record size limit and clock from `settings` (default
    /// [`StoreSettings::new`]: MessagePack, 256 KiB, the system clock). Records in
    /// either format always load. With the limit lifted (`None`), only the database's
    /// own cap applies (on MySQL/MariaDB the server's `max_allowed_packet`, 16 MiB by
    /// default on MariaDB).
    pub fn with_settings(mut self, settings: StoreSettings) -> Self {
        self.settings = settings;
        self
    }

    /// The codec, record size limit and clock in use.
    pub fn settings(&self) -> &StoreSettings {
        &self.settings
    }

    /// How many expired rows one `delete_expired` statement removes at most (default
    /// [`DEFAULT_SWEEP_BATCH`]). Smaller batches hold locks for less time.
    pub fn with_sweep_batch(mut self, batch: u32) -> Self {
        self.sweep_batch = batch.max(1);
        self
    }

    /// Fails any single statement that takes longer than `timeout` with
    /// `Error::Backend`, so a server that stops answering cannot hang requests. Off by
    /// default: the pool's acquire timeout already bounds the wait when the server is
    /// down or refuses connections.
    pub fn with_operation_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Creates the table and its `expires_at` index if they are missing.
    ///
    /// Idempotent, and safe when several app instances run it at once (PostgreSQL
    /// takes an advisory lock; MySQL and SQLite serialize the DDL themselves).
    ///
    /// | column | holds | SQLite | PostgreSQL | MySQL/MariaDB |
    /// |---|---|---|---|---|
    /// | `session_id` (primary key) | SHA-256 storage key, 64 hex digits, never the raw id | `TEXT` | `VARCHAR(64)` | `CHAR(64)` ASCII, binary collation |
    /// | `atime` | last write or touch, ms since the epoch | `INTEGER` | `BIGINT` | `BIGINT` |
    /// | `expires_at` (indexed: `<table>_expires_at_idx`) | deadline, ms since the epoch | `INTEGER` | `BIGINT` | `BIGINT` |
    /// | `version` | compare-and-set version | `INTEGER` | `BIGINT` | `BIGINT` |
    /// | `data` | session-core's versioned envelope | `BLOB` | `BYTEA` | `LONGBLOB` |
    /// | `user_key` (nullable; indexed with `session_id`: `<table>_user_key_idx`) | [`UserKey`] hex of the bound user, `NULL` when unbound | `TEXT` | `VARCHAR(64)` | `CHAR(64)` ASCII, binary collation |
    ///
    /// A table made by a release before the user index (no `user_key` column) is
    /// upgraded in place: the column is added (old rows get `NULL`: unbound until
    /// their next save) and indexed, under the same guarantees. A store opened without
    /// migrating on such a table fails every write with `Error::Backend` whose message
    /// names the missing `user_key` column and says to run `migrate`.
    pub async fn migrate(&self) -> Result<()> {
        self.bounded(Operation::Migrate, migrate::run(&self.pool, &self.table))
            .await
    }

    /// The pool, to share with the rest of the app or to close it.
    pub fn pool(&self) -> &SqlPool {
        &self.pool
    }

    /// The session table's name.
    pub fn table(&self) -> &TableName {
        &self.table
    }

    /// Which database the store talks to.
    pub fn backend(&self) -> Backend {
        self.pool.backend()
    }

    /// Every row of the table as `(session_id, data)`, raw bytes as stored, expired
    /// rows included, in key order: for inspection tools, and for the conformance
    /// suite's check that no raw id is stored. Reads the whole table: not for a hot path.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// use session_sql::SqlStore;
    ///
    /// let store = SqlStore::connect("sqlite::memory:").await?;
    /// store.migrate().await?;
    /// assert!(store.raw_entries().await?.is_empty());
    /// # Ok::<_, session_core::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn raw_entries(&self) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let run = async {
            with_pool!(&self.pool, p => Exec(p).fetch_pairs(&self.sql.raw, &[]).await)
                .map_err(|e| from_sqlx(Operation::Scan, e))
        };
        let rows = self.bounded(Operation::Scan, run).await?;
        Ok(rows
            .into_iter()
            .map(|(key, data)| (key.into_bytes(), data))
            .collect())
    }

    async fn bounded<T>(
        &self,
        operation: Operation,
        work: impl Future<Output = Result<T>>,
    ) -> Result<T> {
        match self.timeout {
            Some(limit) => with_timeout(STORE, operation, limit, work).await,
            None => work.await,
        }
    }

    /// Runs one statement under the timeout, leaving sqlx's error as it is for callers
    /// that need to look at it.
    async fn run_statement(
        &self,
        operation: Operation,
        sql: &str,
        args: &[Arg<'_>],
    ) -> Result<Result<u64, sqlx::Error>> {
        let run = async { Ok(with_pool!(&self.pool, p => Exec(p).execute(sql, args).await)) };
        self.bounded(operation, run).await
    }

    async fn execute(&self, operation: Operation, sql: &str, args: &[Arg<'_>]) -> Result<u64> {
        self.run_statement(operation, sql, args)
            .await?
            .map_err(|e| from_sqlx(operation, e))
    }

    /// [`execute`](Self::execute) for a statement that is safe to run again (a delete,
    /// a touch): InnoDB may pick it as a deadlock victim when it races a save of the
    /// same row (found by session-any's logout-versus-slow-save race under load). The
    /// victim was rolled back, so it is retried a few times after a short pause.
    async fn execute_idempotent(
        &self,
        operation: Operation,
        sql: &str,
        args: &[Arg<'_>],
    ) -> Result<u64> {
        const ATTEMPTS: u32 = 4;
        let mut attempt = 1;
        loop {
            match self.execute(operation, sql, args).await {
                Err(e) if attempt < ATTEMPTS && is_write_contention(&e) => {
                    tracing::debug!(?operation, attempt, "statement lost a deadlock; retrying");
                    tokio::time::sleep(Duration::from_millis(u64::from(attempt))).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    async fn fetch_int(
        &self,
        operation: Operation,
        sql: &str,
        args: &[Arg<'_>],
    ) -> Result<Option<i64>> {
        let run = async {
            with_pool!(&self.pool, p => Exec(p).fetch_int(sql, args).await)
                .map_err(|e| from_sqlx(operation, e))
        };
        self.bounded(operation, run).await
    }

    async fn fetch_row(&self, key: &str, now: i64) -> Result<Option<StoredRow>> {
        let args = [Arg::Text(key), Arg::Int(now)];
        let run = async {
            with_pool!(&self.pool, p => Exec(p).fetch_row(&self.sql.load, &args).await)
                .map_err(|e| from_sqlx(Operation::Load, e))
        };
        self.bounded(Operation::Load, run).await
    }

    /// Inserts a new row; on a duplicate key, replaces the row only if it has expired
    /// (on MySQL through the failure path; elsewhere the INSERT itself does it).
    ///
    /// `args` are the insert's `key, atime, expires_at, version, data, user_key, now`.
    async fn insert(&self, args: &[Arg<'_>; 7], key: &str, now: i64) -> Result<()> {
        if self.sql.insert_replaces_expired {
            return match self
                .execute(Operation::Create, &self.sql.insert, args)
                .await?
            {
                0 => Err(Error::Collision),
                _ => Ok(()),
            };
        }
        let (row, _now) = args.split_at(6);
        for attempt in 0..2 {
            match self
                .run_statement(Operation::Create, &self.sql.insert, row)
                .await?
            {
                Ok(_) => return Ok(()),
                Err(e) if is_unique_violation(&e) && attempt == 0 => {
                    let purge = [Arg::Text(key), Arg::Int(now)];
                    let purged = self
                        .execute(Operation::Create, &self.sql.purge_expired_key, &purge)
                        .await?;
                    if purged == 0 {
                        return Err(Error::Collision);
                    }
                    tracing::debug!(table = %self.table, "create replaced an expired row");
                }
                Err(e) if is_unique_violation(&e) => return Err(Error::Collision),
                Err(e) => return Err(from_sqlx(Operation::Create, e)),
            }
        }
        Err(Error::Collision)
    }
}

fn to_db_int(what: &str, value: u64) -> Result<i64> {
    i64::try_from(value).map_err(|_| Error::Encode(format!("{what} {value} exceeds i64::MAX")))
}

/// The record in `row`: the envelope, with the authoritative columns laid over it.
fn decode(id: SessionId, row: StoredRow) -> Result<Record> {
    let mut record = Codec::decode(id, &row.data)?;
    record.accessed_at = Timestamp::from_millis(row.atime);
    record.expires_at = Timestamp::from_millis(row.expires_at);
    record.version = u64::try_from(row.version)
        .map_err(|_| Error::Corrupt(format!("negative version {} in the table", row.version)))?;
    Ok(record)
}

impl fmt::Debug for SqlStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqlStore")
            .field("backend", &self.backend())
            .field("table", &self.table)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl SessionStore for SqlStore {
    fn backend(&self) -> &'static str {
        self.pool.backend().name()
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
        let key = id.storage_key().to_hex();
        let now = self.settings.now().as_millis();
        match self.fetch_row(&key, now).await? {
            Some(row) => decode(id, row).map(Some),
            None => Ok(None),
        }
    }

    async fn create(&self, record: &Record) -> Result<String> {
        let data = self.settings.encode(record)?;
        let version = to_db_int("version", record.version)?;
        let key = record.id.storage_key().to_hex();
        let user = record.user_key().map(|u| u.to_hex());
        let now = self.settings.now().as_millis();
        let args = [
            Arg::Text(&key),
            Arg::Int(record.accessed_at.as_millis()),
            Arg::Int(record.expires_at.as_millis()),
            Arg::Int(version),
            Arg::Bytes(&data),
            Arg::MaybeText(user.as_deref()),
            Arg::Int(now),
        ];
        self.insert(&args, &key, now).await?;
        Ok(record.id.to_string())
    }

    async fn save(&self, record: &Record, expected_version: u64) -> Result<String> {
        let data = self.settings.encode(record)?;
        let version = to_db_int("version", record.version)?;
        let key = record.id.storage_key().to_hex();
        let user = record.user_key().map(|u| u.to_hex());
        let now = self.settings.now().as_millis();
        // No stored version can exceed i64::MAX, so such an expectation is stale by
        // construction; -1 matches no row and the probe below answers.
        let expected = i64::try_from(expected_version).unwrap_or(-1);
        let args = [
            Arg::Int(record.accessed_at.as_millis()),
            Arg::Int(record.expires_at.as_millis()),
            Arg::Int(version),
            Arg::Bytes(&data),
            Arg::MaybeText(user.as_deref()),
            Arg::Text(&key),
            Arg::Int(expected),
            Arg::Int(now),
        ];
        let updated = match self.execute(Operation::Save, &self.sql.save, &args).await {
            Ok(n) => n,
            // InnoDB can pick a single-row UPDATE of a hot session as a deadlock
            // victim when many requests save it at once (found by session-any's
            // reliability test). The statement was rolled back, nothing was written:
            // let the probe answer Conflict (or NotFound), so the session replays.
            Err(e) if is_write_contention(&e) => 0,
            Err(e) => return Err(e),
        };
        if updated > 0 {
            return Ok(record.id.to_string());
        }
        let probe = [Arg::Text(&key), Arg::Int(now)];
        match self
            .fetch_int(Operation::Save, &self.sql.version_probe, &probe)
            .await?
        {
            Some(_) => Err(Error::Conflict),
            None => Err(Error::NotFound),
        }
    }

    async fn touch(&self, record: &Record) -> Result<String> {
        let key = record.id.storage_key().to_hex();
        let now = self.settings.now().as_millis();
        let args = [
            Arg::Int(record.accessed_at.as_millis()),
            Arg::Int(record.expires_at.as_millis()),
            Arg::Text(&key),
            Arg::Int(now),
        ];
        match self
            .execute_idempotent(Operation::Touch, &self.sql.touch, &args)
            .await?
        {
            0 => Err(Error::NotFound),
            _ => Ok(record.id.to_string()),
        }
    }

    async fn delete(&self, id: &SessionId) -> Result<()> {
        let key = id.storage_key().to_hex();
        self.execute_idempotent(Operation::Delete, &self.sql.delete, &[Arg::Text(&key)])
            .await?;
        Ok(())
    }

    async fn delete_expired(&self) -> Result<u64> {
        // One "now" for the whole sweep, so it ends even while sessions keep expiring.
        let now = self.settings.now().as_millis();
        let batch = u64::from(self.sweep_batch);
        let args = [Arg::Int(now), Arg::Int(i64::from(self.sweep_batch))];
        let mut removed = 0;
        loop {
            let n = self
                .execute(Operation::DeleteExpired, &self.sql.sweep, &args)
                .await?;
            removed += n;
            if n < batch {
                return Ok(removed);
            }
        }
    }

    async fn count(&self) -> Result<u64> {
        let now = self.settings.now().as_millis();
        let n = self
            .fetch_int(Operation::Count, &self.sql.count, &[Arg::Int(now)])
            .await?
            .unwrap_or(0);
        u64::try_from(n).map_err(|_| Error::Corrupt(format!("negative count {n}")))
    }

    /// A keyset page on the primary key: the cursor is the last row's `session_id`.
    /// Rows whose `session_id` is not a storage key (not written by this store) are
    /// skipped.
    async fn scan(&self, cursor: Option<ScanCursor>, limit: usize) -> Result<ScanPage> {
        let after = cursor.as_ref().map_or("", ScanCursor::as_str);
        let limit = limit.clamp(1, i64::MAX as usize);
        let args = [Arg::Text(after), Arg::Int(limit as i64)];
        let run = async {
            with_pool!(&self.pool, p => Exec(p).fetch_scan(&self.sql.scan, &args).await)
                .map_err(|e| from_sqlx(Operation::Scan, e))
        };
        let rows = self.bounded(Operation::Scan, run).await?;
        let next = match rows.last() {
            Some((last, _, _)) if rows.len() >= limit => Some(ScanCursor::new(last.clone())),
            _ => None,
        };
        let entries = rows
            .into_iter()
            .filter_map(|(key, expires_at, size)| {
                let key = StorageKey::from_hex(&key)?;
                let size = u64::try_from(size).unwrap_or(0);
                Some(ScanEntry::new(
                    key,
                    Some(Timestamp::from_millis(expires_at)),
                    size,
                ))
            })
            .collect();
        Ok(ScanPage::new(entries, next))
    }

    async fn delete_keys(&self, keys: &[StorageKey], only: DeleteIf) -> Result<u64> {
        let only_expired = !matches!(only, DeleteIf::Any);
        let now = self.settings.now().as_millis();
        let mut removed = 0;
        for chunk in keys.chunks(DELETE_KEYS_CHUNK) {
            let hex: Vec<String> = chunk.iter().map(StorageKey::to_hex).collect();
            let mut args: Vec<Arg<'_>> = hex.iter().map(|k| Arg::Text(k)).collect();
            if only_expired {
                args.push(Arg::Int(now));
            }
            let sql =
                crate::dialect::delete_keys(self.backend(), &self.table, chunk.len(), only_expired);
            removed += self.execute(Operation::DeleteKeys, &sql, &args).await?;
        }
        Ok(removed)
    }

    /// One keyset page on the `user_key` index (`limit + 1` rows are read to know
    /// whether another page follows); the cursor is the last listed key's hex. The
    /// entries' `accessed_at` and `expires_at` come from the columns (a `touch` moves
    /// only those), the rest from the envelope. A row whose `data` does not decode, or
    /// whose envelope is bound to another user than its `user_key` says, is skipped
    /// with a `tracing` warning instead of failing the listing: one damaged row must
    /// not hide a user's other sessions from a "log out that device" page.
    async fn sessions_of(
        &self,
        user: &UserKey,
        cursor: Option<ScanCursor>,
        limit: usize,
    ) -> Result<UserSessionsPage> {
        let after = UserSessionsPage::resume_after(cursor.as_ref())?
            .map(|k| k.to_hex())
            .unwrap_or_default();
        let limit = limit.clamp(1, i64::MAX as usize - 1);
        let user_hex = user.to_hex();
        let now = self.settings.now().as_millis();
        let args = [
            Arg::Text(&user_hex),
            Arg::Int(now),
            Arg::Text(&after),
            Arg::Int(limit as i64 + 1),
        ];
        let run = async {
            with_pool!(&self.pool, p => Exec(p).fetch_user_rows(&self.sql.sessions_of, &args).await)
                .map_err(|e| from_sqlx(Operation::SessionsOf, e))
        };
        let mut rows = self.bounded(Operation::SessionsOf, run).await?;
        let more = rows.len() > limit;
        rows.truncate(limit);
        let next = match rows.last() {
            Some((last, ..)) if more => Some(ScanCursor::new(last.clone())),
            _ => None,
        };
        let sessions = rows
            .into_iter()
            .filter_map(|row| listing_entry(&self.table, user, row))
            .collect();
        Ok(UserSessionsPage::new(sessions, next))
    }

    /// Deletes every row bound to `user` (but `except`), expired ones included, and
    /// answers how many were live. One statement on PostgreSQL (`WITH … DELETE …
    /// RETURNING`, counted) and SQLite (`DELETE … RETURNING`); on MySQL, which has no
    /// `RETURNING`, the live rows go in one counted `DELETE` and the expired rows in a
    /// second (nothing can make an expired row live again in between, so the count is
    /// exact). Sessions created while the call runs may or may not go.
    async fn revoke_user(&self, user: &UserKey, except: Option<&StorageKey>) -> Result<u64> {
        let user_hex = user.to_hex();
        // `''` is no storage key: `session_id <> ''` spares none.
        let except = except.map(StorageKey::to_hex).unwrap_or_default();
        let now = self.settings.now().as_millis();
        let args = [Arg::Text(&user_hex), Arg::Text(&except), Arg::Int(now)];
        let op = Operation::RevokeUser;
        match self.backend() {
            Backend::Postgres => {
                let n = self
                    .fetch_int(op, &self.sql.revoke_user, &args)
                    .await?
                    .unwrap_or(0);
                u64::try_from(n).map_err(|_| Error::Corrupt(format!("negative count {n}")))
            }
            Backend::Sqlite => {
                let run = async {
                    with_pool!(&self.pool, p => Exec(p).fetch_ints(&self.sql.revoke_user, &args).await)
                        .map_err(|e| from_sqlx(op, e))
                };
                let live = self.bounded(op, run).await?;
                Ok(live.iter().filter(|&&l| l != 0).count() as u64)
            }
            Backend::MySql => {
                let n = self
                    .execute_idempotent(op, &self.sql.revoke_user, &args)
                    .await?;
                self.execute_idempotent(op, &self.sql.revoke_user_expired, &args)
                    .await?;
                Ok(n)
            }
        }
    }

    /// One `DELETE … WHERE session_id = ? AND user_key = ? AND expires_at > now`: a
    /// session of another user, or an expired one (left to the sweep), is not touched.
    async fn revoke_session(&self, user: &UserKey, key: &StorageKey) -> Result<bool> {
        let key = key.to_hex();
        let user_hex = user.to_hex();
        let now = self.settings.now().as_millis();
        let args = [Arg::Text(&key), Arg::Text(&user_hex), Arg::Int(now)];
        let n = self
            .execute_idempotent(Operation::RevokeSession, &self.sql.revoke_session, &args)
            .await?;
        Ok(n > 0)
    }
}

/// The listing entry of one `sessions_of` row, or `None` (with a warning) for a row
/// that cannot be listed: not a storage key, data that does not decode, or an envelope
/// bound to someone else than the row's `user_key`.
fn listing_entry(
    table: &TableName,
    user: &UserKey,
    (key, atime, expires_at, data): crate::exec::UserRow,
) -> Option<UserSession> {
    let Some(storage_key) = StorageKey::from_hex(&key) else {
        tracing::warn!(%table, "sessions_of skipped a row whose session_id is not a storage key");
        return None;
    };
    match UserSession::decode(storage_key, &data) {
        Ok((mut entry, bound)) if bound.as_ref() == Some(user) => {
            entry.accessed_at = Timestamp::from_millis(atime);
            entry.expires_at = Timestamp::from_millis(expires_at);
            Some(entry)
        }
        Ok(_) => {
            tracing::warn!(%table, key = %key, "sessions_of skipped a row whose envelope is bound to another user than its user_key");
            None
        }
        Err(error) => {
            tracing::warn!(%table, key = %key, %error, "sessions_of skipped a row that does not decode");
            None
        }
    }
}
