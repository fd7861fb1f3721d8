//! [`RedisStore`]: the session store over a standalone Redis or a Redis Cluster.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::Value;
use session_core::Operation;
use session_core::{
    Capabilities, Codec, DeleteIf, Error, Record, Result, ScanCursor, ScanEntry, ScanPage,
    SessionId, SessionStore, StorageKey, StoreSettings, Timestamp, UserKey, UserSessionsPage,
};

use crate::cluster;
use crate::connection::{timed, unexpected, Connection};
use crate::keys::KeySpace;
use crate::layout;
use crate::options::{RedisOptions, WriteMode};
use crate::scan::{per_key, KeyScan, ScanContext};
use crate::scripts::{self, SaveReply, TouchReply, CREATE, DELETE, SAVE, TOUCH};
use crate::store_url::RedisUrl;

/// The longest pause between two reconnection attempts of a manager this crate builds:
/// short, so that a server back from an outage is used again within half a second or so.
const MAX_RECONNECT_DELAY: Duration = Duration::from_millis(500);

/// The [`ConnectionManagerConfig`] the connecting constructors use: connection and
/// response timeouts of `timeout`, reconnection attempts at most half a second apart.
///
/// Use it to build your own manager the same way, for example a lazy one that does not
/// connect until the first request:
///
/// ```no_run
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use std::time::Duration;
/// use session_redis::redis::{aio::ConnectionManager, Client};
/// use session_redis::{manager_config, RedisOptions, RedisStore};
///
/// # tokio::runtime::Runtime::new()?.block_on(async {
/// let client = Client::open("redis://127.0.0.1:6379/")?;
/// let manager = ConnectionManager::new_lazy_with_config(
///     client,
///     manager_config(Duration::from_secs(2)),
/// )?;
/// let store = RedisStore::from_manager(manager, RedisOptions::new())?;
/// # Ok::<_, Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok(())
/// # }
/// ```
pub fn manager_config(timeout: Duration) -> ConnectionManagerConfig {
    ConnectionManagerConfig::new()
        .set_connection_timeout(Some(timeout))
        .set_response_timeout(Some(timeout))
        .set_max_delay(MAX_RECONNECT_DELAY)
}

pub(crate) struct Settings {
    pub(crate) keys: KeySpace,
    /// The user indexes' key space (`prefix` + `user:` + user key hex).
    pub(crate) indexes: KeySpace,
    pub(crate) timeout: Duration,
    pub(crate) store: StoreSettings,
    scan_count: usize,
    write_mode: WriteMode,
}

/// Sessions in Redis, standalone or Cluster.
///
/// Each session is one string key, `prefix` + the 64 hex digits of its
/// [`StorageKey`](session_core::StorageKey), whose value is a fixed 61-byte header
/// (layout tag, version, accessed-at, expires-at) followed by the session-core envelope,
/// and whose native TTL is the record's deadline (`PXAT`).
///
/// | operation | what the server runs | round trips |
/// |---|---|---|
/// | `load` | `GET` | 1 |
/// | `create` | `SET … NX PXAT`; bound: the create script (cluster: file in the index first) | 1 (2 if the id is taken, or bound on a cluster) |
/// | `save` | script: version check, then `SET … PXAT` (last-writer-wins, unbound: `GETRANGE` + `SET … XX PXAT` pipelined) | 1 |
/// | `touch` | script: `SETRANGE` of the header's times, `PEXPIREAT` | 1 |
/// | `delete` | script: `UNLINK`, and unfile from the user's index | 1 (cluster, bound: 2) |
/// | `count` | `SCAN`, then `GETRANGE` of each key's deadline | 2 per batch of keys (on a cluster: per primary, the `GETRANGE`s sent concurrently) |
/// | `delete_expired` | prunes stale members of every user index: answers 0 | a `SCAN` of the indexes, 2–3 per 256 members |
/// | `sessions_of` | `ZRANGEBYLEX` of the user's index, `GET` of each member | 2 per page (more if stale members are pruned) |
/// | `revoke_user` | per 256 members: `ZRANGEBYLEX`, then the revoke script (cluster: conditional deletes, `ZREM`) | 2 per batch (cluster 3) |
/// | `scan` | `SCAN` (resumed from the cursor) until keys turn up, then `GETRANGE` of each key's deadline and `STRLEN` | 3 per page, more where the prefix is sparse (on a cluster also `CLUSTER SLOTS`) |
/// | `delete_keys` | `UNLINK` per key (pipelined); expired-only: a script per key that checks the deadline first | 1 per page; expired-only: concurrent, 1 per key |
///
/// Expiry is enforced twice: by the server, which drops a key at its `PXAT`, and on
/// every read and write against the store's [`Clock`](session_core::Clock), so a record expired by the
/// clock neither loads nor saves nor touches, even before the server drops it.
/// `delete_expired` reports 0: the server removes expired keys itself; it only prunes
/// the user indexes of members whose session is gone. The user index and its cluster
/// ordering are described in the crate's README ("Sessions by user").
///
/// A clone shares the connection. Every round trip is bounded by the configured
/// timeout ([`RedisOptions::with_timeout`]); a timeout, a dropped connection or a server
/// error is [`Error::Backend`], and the connection reconnects by itself, so the same
/// store works again once the server is back.
#[derive(Clone)]
pub struct RedisStore {
    pub(crate) conn: Connection,
    pub(crate) settings: Arc<Settings>,
}

impl RedisStore {
    /// Connects to the standalone server at `url` (`redis://[user:pass@]host:port/db`,
    /// or `rediss://` when redis-rs is built with TLS) through a [`ConnectionManager`]
    /// built with [`manager_config`], and loads the scripts.
    ///
    /// A malformed URL is [`Error::Config`]; an unreachable server, after the
    /// configured timeout, is [`Error::Backend`].
    pub async fn connect(url: &str, options: RedisOptions) -> Result<Self> {
        let client = redis::Client::open(url)
            .map_err(|e| Error::Config(format!("session-redis: bad Redis URL: {e}")))?;
        Self::from_client(client, options).await
    }

    /// Connects to what a parsed store URL names: one server, or a cluster through its
    /// seed nodes, with the URL's options.
    pub async fn connect_url(url: RedisUrl) -> Result<Self> {
        let options = url.options().clone();
        match (url.is_cluster(), url.nodes()) {
            (true, nodes) => Self::connect_cluster(nodes, options).await,
            (false, [server]) => Self::connect(server, options).await,
            (false, _) => Err(Error::Config(
                "session-redis: a redis:// URL names one server".into(),
            )),
        }
    }

    /// [`RedisStore::connect_url`] on a `redis://` or `redis+cluster://` store URL (see
    /// [`RedisUrl::parse`]), on the system clock.
    pub async fn open_url(url: &str) -> Result<Self> {
        Self::connect_url(RedisUrl::parse(url)?).await
    }

    /// Like [`RedisStore::connect`], from a [`redis::Client`] the app configured itself.
    pub async fn from_client(client: redis::Client, options: RedisOptions) -> Result<Self> {
        options.validate()?;
        let manager = timed(
            Operation::Connect,
            options.timeout(),
            ConnectionManager::new_with_config(client, manager_config(options.timeout())),
        )
        .await?;
        let store = Self::build(Connection::Standalone(manager), options);
        store.load_scripts().await?;
        Ok(store)
    }

    /// A store on a [`ConnectionManager`] the app already has (clones of a manager share
    /// its connection). No I/O: the scripts load on first use.
    pub fn from_manager(manager: ConnectionManager, options: RedisOptions) -> Result<Self> {
        options.validate()?;
        Ok(Self::build(Connection::Standalone(manager), options))
    }

    /// Connects to a Redis Cluster through any of its `nodes`
    /// (`redis://host:port` each; the rest of the cluster is discovered), and loads the
    /// scripts on every primary.
    pub async fn connect_cluster<I, S>(nodes: I, options: RedisOptions) -> Result<Self>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        options.validate()?;
        let nodes: Vec<String> = nodes.into_iter().map(|n| n.as_ref().to_owned()).collect();
        let client = cluster::client(&nodes, options.timeout())?;
        Self::from_cluster_client(client, options).await
    }

    /// Like [`RedisStore::connect_cluster`], from a [`ClusterClient`] the app configured
    /// itself.
    pub async fn from_cluster_client(client: ClusterClient, options: RedisOptions) -> Result<Self> {
        options.validate()?;
        let conn = cluster::connect(&client, options.timeout()).await?;
        let store = Self::build(Connection::Cluster(conn), options);
        store.load_scripts().await?;
        Ok(store)
    }

    /// A store on a cluster connection the app already has. No I/O: the scripts load on
    /// first use.
    pub fn from_cluster_connection(conn: ClusterConnection, options: RedisOptions) -> Result<Self> {
        options.validate()?;
        Ok(Self::build(Connection::Cluster(conn), options))
    }

    fn build(conn: Connection, options: RedisOptions) -> Self {
        RedisStore {
            conn,
            settings: Arc::new(Settings {
                keys: KeySpace::new(options.prefix()),
                indexes: KeySpace::new(options.prefix()).indexes(),
                timeout: options.timeout(),
                store: options.settings().clone(),
                scan_count: options.scan_count(),
                write_mode: options.write_mode(),
            }),
        }
    }

    /// The key prefix.
    pub fn prefix(&self) -> &str {
        self.settings.keys.prefix()
    }

    /// The per-round-trip timeout.
    pub fn timeout(&self) -> Duration {
        self.settings.timeout
    }

    /// Whether the store talks to a Redis Cluster.
    pub fn is_cluster(&self) -> bool {
        self.conn.is_cluster()
    }

    /// The Redis key `id`'s record is stored under (for inspection tools).
    pub fn key_of(&self, id: &SessionId) -> String {
        self.settings.keys.key(id)
    }

    /// Every key under this store's prefix and its raw value, as the server holds them,
    /// expired-by-the-clock ones included: for inspection tools, and for the conformance
    /// suite's check that no raw id is stored. Walks the whole prefix with `SCAN`.
    pub async fn raw_entries(&self) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let cx = self.scan_context();
        let mut scan = KeyScan::start(&cx).await?;
        let mut out = Vec::new();
        while let Some(keys) = scan.next(&cx).await? {
            let values = per_key(Operation::Scan, &cx, &keys, |k| {
                let mut c = redis::cmd("GET");
                c.arg(k);
                c
            })
            .await?;
            for (key, value) in keys.into_iter().zip(values) {
                // A key that expired between SCAN and GET is simply gone.
                if let Some(Value::BulkString(bytes)) = value {
                    out.push((key, bytes));
                }
            }
        }
        Ok(out)
    }

    /// Deletes every session under this store's prefix (everybody is logged out), then
    /// every user index, and returns how many session keys went. Walks the prefix with
    /// `SCAN` and deletes batch by batch: not atomic, and sessions created meanwhile may
    /// survive.
    pub async fn delete_all(&self) -> Result<u64> {
        let removed = self.unlink_all(&self.settings.keys).await?;
        self.unlink_all(&self.settings.indexes).await?;
        Ok(removed)
    }

    /// `UNLINK`s every key of `space`; returns how many went.
    async fn unlink_all(&self, space: &KeySpace) -> Result<u64> {
        let cx = ScanContext {
            keys: space,
            ..self.scan_context()
        };
        let mut scan = KeyScan::start(&cx).await?;
        let mut removed = 0u64;
        while let Some(keys) = scan.next(&cx).await? {
            let replies = per_key(Operation::DeleteKeys, &cx, &keys, |k| {
                let mut c = redis::cmd("UNLINK");
                c.arg(k);
                c
            })
            .await?;
            removed += replies
                .iter()
                .filter(|r| matches!(r, Some(Value::Int(1))))
                .count() as u64;
        }
        Ok(removed)
    }

    /// Where a scan stands, as the opaque text of a [`ScanCursor`]: the `SCAN` cursor,
    /// preceded on a cluster by the first slot of the primary being walked.
    fn cursor_text(&self, (slot, cursor): (u16, u64)) -> String {
        if self.conn.is_cluster() {
            format!("{slot}:{cursor}")
        } else {
            cursor.to_string()
        }
    }

    fn parse_cursor(&self, cursor: &ScanCursor) -> Result<(u16, u64)> {
        let text = cursor.as_str();
        let parsed = if self.conn.is_cluster() {
            text.split_once(':')
                .and_then(|(slot, c)| Some((slot.parse().ok()?, c.parse().ok()?)))
        } else {
            text.parse().ok().map(|c| (0, c))
        };
        parsed.ok_or_else(|| Error::Config(format!("not a RedisStore scan cursor: {text:?}")))
    }

    pub(crate) fn scan_context(&self) -> ScanContext<'_> {
        ScanContext {
            conn: &self.conn,
            keys: &self.settings.keys,
            timeout: self.settings.timeout,
            count: self.settings.scan_count,
        }
    }

    /// Loads every script now (on a cluster, on every primary), so that the first
    /// requests do not pay for `NOSCRIPT` and a reload.
    async fn load_scripts(&self) -> Result<()> {
        for script in scripts::all() {
            let mut conn = self.conn.clone();
            let hash = timed(Operation::Connect, self.settings.timeout, async move {
                script.prepare_invoke().load_async(&mut conn).await
            })
            .await?;
            if hash != script.get_hash() {
                return Err(unexpected(
                    Some(Operation::Connect),
                    "SCRIPT LOAD",
                    format_args!("the script's hash {hash}, expected {}", script.get_hash()),
                ));
            }
        }
        Ok(())
    }

    pub(crate) fn now(&self) -> Timestamp {
        self.settings.store.now()
    }

    /// The stored value for `record`, or `TooLarge` before any I/O.
    fn value(&self, record: &Record) -> Result<Vec<u8>> {
        let envelope = self.settings.store.encode(record)?;
        Ok(layout::value(record, &envelope))
    }

    /// The create script: over a leftover expired by the store's clock, or a bound
    /// create on a standalone server (record and index entry together).
    async fn create_scripted(
        &self,
        record: &Record,
        key: &str,
        value: &[u8],
        pxat: i64,
    ) -> Result<String> {
        let cluster = self.conn.is_cluster();
        let user = record.user_key();
        let mut script = CREATE.key(key);
        if let (false, Some(user)) = (cluster, &user) {
            script.key(self.settings.indexes.key_of_user(user));
        }
        script
            .arg(self.now().as_millis())
            .arg(value)
            .arg(pxat)
            .arg(user.map(|u| u.to_hex()).unwrap_or_default())
            .arg(scripts::inline(cluster));
        let mut conn = self.conn.clone();
        let reply: Value = self
            .run(Operation::Create, script.invoke_async(&mut conn))
            .await?;
        match scripts::reply(&reply) {
            Some((1, old)) => {
                if let Some(old) = old {
                    let member = record.id.storage_key();
                    self.unfile_after_write(Operation::Create, &old, &member)
                        .await?;
                }
                Ok(record.id.to_string())
            }
            Some((0, _)) => Err(Error::Collision),
            _ => Err(unexpected(
                Some(Operation::Create),
                "the create script",
                reply,
            )),
        }
    }

    /// The delete script on the session at `name`: in any case, or (`expired_by`) only
    /// if expired by then. On a cluster, a bound session leaves its index after it went.
    /// Whether it went.
    async fn delete_scripted(
        &self,
        operation: Operation,
        name: Vec<u8>,
        expired_by: Option<Timestamp>,
    ) -> Result<bool> {
        let cluster = self.conn.is_cluster();
        let mut cmd = scripts::evalsha(&DELETE, 1);
        cmd.arg(&name).arg(scripts::inline(cluster)).arg(
            expired_by
                .map(|t| t.as_millis().to_string())
                .unwrap_or_default(),
        );
        let mut conn = self.conn.clone();
        let reply: Value = self
            .run(
                operation,
                scripts::invoke::<Value, _>(&DELETE, &cmd, &mut conn),
            )
            .await?;
        let (code, user) = scripts::reply(&reply)
            .ok_or_else(|| unexpected(Some(operation), "the delete script", &reply))?;
        let member = self.settings.keys.storage_key(&name);
        if let (Some(user), Some(member)) = (user.as_deref().and_then(UserKey::from_hex), member) {
            // Unfiled after the deletion: a session never lives unlisted. Deleted
            // sessions do not come back (save never resurrects), so a plain ZREM.
            self.unfile(operation, &user, &[member]).await?;
        }
        Ok(code == 1)
    }

    /// A last-writer-wins save of an unbound record: the stored header and `SET … XX
    /// PXAT`, pipelined in one round trip (see [`RedisOptions::with_write_mode`]).
    async fn save_lww(
        &self,
        record: &Record,
        key: &str,
        value: &[u8],
        pxat: i64,
    ) -> Result<String> {
        let mut pipe = redis::pipe();
        pipe.cmd("GETRANGE")
            .arg(key)
            .arg(0)
            .arg(layout::HEADER_V2_LEN - 1)
            .cmd("SET")
            .arg(key)
            .arg(value)
            .arg("XX")
            .arg("PXAT")
            .arg(pxat);
        let mut conn = self.conn.clone();
        let (head, set): (Vec<u8>, Value) = self
            .run(Operation::Save, async { pipe.query_async(&mut conn).await })
            .await?;
        match set {
            Value::Okay => {}
            Value::SimpleString(ref s) if s == "OK" => {}
            // XX: nothing was there, nothing was written.
            Value::Nil => return Err(Error::NotFound),
            other => return Err(unexpected(Some(Operation::Save), "SET XX", other)),
        }
        // What was replaced. A value in no layout of ours was someone else's: last
        // writer wins over it too.
        let Ok((old, _)) = layout::split(&head) else {
            return Ok(record.id.to_string());
        };
        let member = record.id.storage_key();
        if old.expires_at <= self.now() {
            // Expired by the store's clock while the server still held it: the write
            // brought a dead session back, so it goes again (and with it any index
            // entry the dead one had).
            self.delete_scripted(Operation::Save, key.as_bytes().to_vec(), None)
                .await?;
            if let Some(user) = old.user {
                self.unfile(Operation::Save, &user, &[member]).await?;
            }
            return Err(Error::NotFound);
        }
        if let Some(user) = old.user {
            // Unbound by this save: out of the old user's index, after the write.
            self.unfile(Operation::Save, &user, &[member]).await?;
        }
        Ok(record.id.to_string())
    }

    pub(crate) async fn run<T>(
        &self,
        operation: Operation,
        fut: impl std::future::Future<Output = redis::RedisResult<T>>,
    ) -> Result<T> {
        timed(operation, self.settings.timeout, fut).await
    }
}

fn unknown_layout() -> Error {
    Error::Corrupt("redis value is not in the session-redis v1 layout".into())
}

#[async_trait]
impl SessionStore for RedisStore {
    fn backend(&self) -> &'static str {
        if self.conn.is_cluster() {
            "redis-cluster"
        } else {
            "redis"
        }
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::new()
            .with_compare_and_set(self.settings.write_mode == WriteMode::CompareAndSet)
            .with_enumerate(true)
            .with_native_ttl(true)
            .with_revoke(true)
            .with_user_index(true)
            .with_max_record_size(self.settings.store.max_record_size())
    }

    async fn load(&self, cookie_value: &str) -> Result<Option<Record>> {
        let Ok(id) = SessionId::parse(cookie_value) else {
            return Ok(None);
        };
        let key = self.settings.keys.key(&id);
        let mut conn = self.conn.clone();
        let value: Option<Vec<u8>> = self
            .run(Operation::Load, async move {
                redis::cmd("GET").arg(&key).query_async(&mut conn).await
            })
            .await?;
        let Some(value) = value else {
            return Ok(None);
        };
        let (header, envelope) = layout::split(&value)?;
        if header.expires_at <= self.now() {
            return Ok(None);
        }
        let mut record = Codec::decode(id, envelope)?;
        if record.version != header.version {
            return Err(Error::Corrupt(format!(
                "redis header says version {}, the envelope {}",
                header.version, record.version
            )));
        }
        // A touch rewrites only the header's times: they are the current ones.
        record.accessed_at = header.accessed_at;
        record.expires_at = header.expires_at;
        Ok(Some(record))
    }

    async fn create(&self, record: &Record) -> Result<String> {
        let value = self.value(record)?;
        let key = self.settings.keys.key(&record.id);
        let pxat = layout::pxat(record.expires_at);
        if let Some(user) = record.user_key() {
            if !self.conn.is_cluster() {
                // Standalone: the record and its index entry in one script.
                return self.create_scripted(record, &key, &value, pxat).await;
            }
            // Cluster: filed before the session exists, so it is never live unlisted.
            let member = record.id.storage_key();
            self.file(Operation::Create, &user, Some(&member), pxat)
                .await?;
        }
        let mut conn = self.conn.clone();
        let reply: Value = self
            .run(Operation::Create, async {
                redis::cmd("SET")
                    .arg(&key)
                    .arg(&value)
                    .arg("NX")
                    .arg("PXAT")
                    .arg(pxat)
                    .query_async(&mut conn)
                    .await
            })
            .await?;
        match reply {
            Value::Okay => return Ok(record.id.to_string()),
            Value::SimpleString(ref s) if s == "OK" => return Ok(record.id.to_string()),
            Value::Nil => {}
            other => return Err(unexpected(Some(Operation::Create), "SET NX", other)),
        }
        // The id is taken. With 256-bit random ids that means the server still holds a
        // record the store's clock says has expired (or a true collision): only then is
        // the extra round trip paid.
        self.create_scripted(record, &key, &value, pxat).await
    }

    async fn save(&self, record: &Record, expected_version: u64) -> Result<String> {
        let value = self.value(record)?;
        let key = self.settings.keys.key(&record.id);
        let pxat = layout::pxat(record.expires_at);
        let user = record.user_key();
        let lww = self.settings.write_mode == WriteMode::LastWriterWins;
        if lww && user.is_none() {
            return self.save_lww(record, &key, &value, pxat).await;
        }
        let now = layout::now_field(self.now());
        let member = record.id.storage_key();
        let cluster = self.conn.is_cluster();
        if let (true, Some(user)) = (cluster, &user) {
            // Filed before the write: a bound session is never live unlisted.
            self.file(Operation::Save, user, Some(&member), pxat)
                .await?;
        }
        let index = match (cluster, &user) {
            (false, Some(user)) => Some(self.settings.indexes.key_of_user(user)),
            _ => None,
        };
        let mut cmd = scripts::evalsha(&SAVE, 1 + usize::from(index.is_some()));
        cmd.arg(&key);
        if let Some(index) = &index {
            cmd.arg(index);
        }
        let version = match lww {
            // Bound, last-writer-wins: the script for the index, any version.
            true => String::new(),
            false => layout::version_field(expected_version),
        };
        cmd.arg(version)
            .arg(now)
            .arg(&value)
            .arg(pxat)
            .arg(user.map(|u| u.to_hex()).unwrap_or_default())
            .arg(scripts::inline(cluster));
        drop(value);
        let mut conn = self.conn.clone();
        let reply: Value = self
            .run(Operation::Save, scripts::invoke(&SAVE, &cmd, &mut conn))
            .await?;
        let (code, old) = scripts::reply(&reply)
            .ok_or_else(|| unexpected(Some(Operation::Save), "the save script", &reply))?;
        match SaveReply::from_code(code) {
            Some(SaveReply::Saved) => {
                if let Some(old) = old {
                    self.unfile_after_write(Operation::Save, &old, &member)
                        .await?;
                }
                Ok(record.id.to_string())
            }
            Some(SaveReply::NotFound) => Err(Error::NotFound),
            Some(SaveReply::Conflict) => Err(Error::Conflict),
            Some(SaveReply::UnknownLayout) => Err(unknown_layout()),
            None => Err(unexpected(Some(Operation::Save), "the save script", code)),
        }
    }

    async fn touch(&self, record: &Record) -> Result<String> {
        let key = self.settings.keys.key(&record.id);
        let now = layout::now_field(self.now());
        let times = layout::times_field(record.accessed_at, record.expires_at);
        let pxat = layout::pxat(record.expires_at);
        let user = record.user_key();
        let cluster = self.conn.is_cluster();
        let mut cmd = scripts::evalsha(&TOUCH, 1);
        cmd.arg(&key)
            .arg(now)
            .arg(&times)
            .arg(pxat)
            .arg(user.map(|u| u.to_hex()).unwrap_or_default())
            .arg(scripts::inline(cluster));
        let mut conn = self.conn.clone();
        let touched = self.run(
            Operation::Touch,
            scripts::invoke::<Value, _>(&TOUCH, &cmd, &mut conn),
        );
        let reply = match (cluster, &user) {
            // Cluster: the index (another node) is stretched alongside, not after.
            (true, Some(user)) => {
                let (reply, stretched) =
                    futures::join!(touched, self.file(Operation::Touch, user, None, pxat));
                stretched?;
                reply?
            }
            _ => touched.await?,
        };
        let (code, stored_user) = scripts::reply(&reply)
            .ok_or_else(|| unexpected(Some(Operation::Touch), "the touch script", &reply))?;
        match TouchReply::from_code(code) {
            Some(TouchReply::Touched) => {
                // The stored binding is not the one the caller had: stretch its index.
                if let Some(other) = stored_user.as_deref().and_then(UserKey::from_hex) {
                    self.file(Operation::Touch, &other, None, pxat).await?;
                }
                Ok(record.id.to_string())
            }
            Some(TouchReply::NotFound) => Err(Error::NotFound),
            Some(TouchReply::UnknownLayout) => Err(unknown_layout()),
            None => Err(unexpected(Some(Operation::Touch), "the touch script", code)),
        }
    }

    async fn delete(&self, id: &SessionId) -> Result<()> {
        let key = self.settings.keys.key(id);
        self.delete_scripted(Operation::Delete, key.into_bytes(), None)
            .await?;
        Ok(())
    }

    /// Always `Ok(0)`: the server drops every session at its `PXAT` deadline by itself.
    /// What is left to sweep is the user indexes: every index (a `SCAN` of
    /// `prefix` + `user:`) loses the members whose session is gone.
    async fn delete_expired(&self) -> Result<u64> {
        self.prune_indexes().await?;
        Ok(0)
    }

    /// Live records under the prefix: a `SCAN` of the prefix (on every primary of a
    /// cluster), each key's deadline read from its header and checked against the
    /// store's clock. Not a snapshot: keys created or removed meanwhile may or may not
    /// be counted.
    async fn count(&self) -> Result<u64> {
        let now = self.now();
        let cx = self.scan_context();
        let mut scan = KeyScan::start(&cx).await?;
        let mut live = 0u64;
        while let Some(keys) = scan.next(&cx).await? {
            let fields = per_key(Operation::Count, &cx, &keys, |k| {
                let mut c = redis::cmd("GETRANGE");
                c.arg(k).arg(layout::EXPIRES_AT).arg(layout::HEADER_LEN - 1);
                c
            })
            .await?;
            live += fields
                .iter()
                .filter(|field| match field {
                    // Gone since the SCAN.
                    Some(Value::BulkString(b)) if b.is_empty() => false,
                    // A value this layout cannot read still holds its id: count it.
                    Some(Value::BulkString(b)) => {
                        layout::parse_expires_field(b).is_none_or(|deadline| deadline > now)
                    }
                    // Not a string: not a session record.
                    _ => false,
                })
                .count() as u64;
        }
        Ok(live)
    }

    /// One batch of `SCAN` (with `COUNT` = `limit`, a hint Redis may exceed a little),
    /// resumed from the cursor, then every key's deadline (`GETRANGE` of the header)
    /// and size (`STRLEN`), pipelined. Keys that went away meanwhile are left out; a
    /// value not in this layout shows without a deadline. A key may repeat if the
    /// keyspace shrinks during the walk (the `SCAN` guarantee).
    async fn scan(&self, cursor: Option<ScanCursor>, limit: usize) -> Result<ScanPage> {
        let cx = ScanContext {
            count: limit.max(1),
            ..self.scan_context()
        };
        let mut walk = match &cursor {
            None => KeyScan::start(&cx).await?,
            Some(c) => KeyScan::resume(&cx, self.parse_cursor(c)?).await?,
        };
        let Some(keys) = walk.next(&cx).await? else {
            return Ok(ScanPage::new(Vec::new(), None));
        };
        let next = walk
            .position()
            .map(|p| ScanCursor::new(self.cursor_text(p)));
        let deadlines = per_key(Operation::Scan, &cx, &keys, |k| {
            let mut c = redis::cmd("GETRANGE");
            c.arg(k).arg(layout::EXPIRES_AT).arg(layout::HEADER_LEN - 1);
            c
        })
        .await?;
        let sizes = per_key(Operation::Scan, &cx, &keys, |k| {
            let mut c = redis::cmd("STRLEN");
            c.arg(k);
            c
        })
        .await?;
        let mut entries = Vec::with_capacity(keys.len());
        for ((key, deadline), size) in keys.iter().zip(deadlines).zip(sizes) {
            let (Some(storage_key), Some(Value::BulkString(field)), Some(Value::Int(size))) =
                (self.settings.keys.storage_key(key), deadline, size)
            else {
                // Not a string (not a session record), or gone since the SCAN.
                continue;
            };
            if field.is_empty() || size <= 0 {
                continue;
            }
            entries.push(ScanEntry::new(
                storage_key,
                layout::parse_expires_field(&field),
                size.unsigned_abs(),
            ));
        }
        Ok(ScanPage::new(entries, next))
    }

    /// `DeleteIf::Any`: `UNLINK` of every key, pipelined. `DeleteIf::Expired`: a script
    /// per key that deletes it only if its header's deadline has passed by the store's
    /// clock (Redis drops keys at their `PXAT` by itself; this catches the ones the
    /// store's clock calls expired first).
    async fn delete_keys(&self, keys: &[StorageKey], only: DeleteIf) -> Result<u64> {
        use futures::{StreamExt, TryStreamExt};

        /// Scripts in flight at once.
        const FANOUT: usize = 64;

        let now = match only {
            DeleteIf::Expired => Some(self.now()),
            _ => None,
        };
        let deleted: Vec<bool> = futures::stream::iter(keys.iter().copied())
            .map(|k: StorageKey| {
                let name = self.settings.keys.key_of_storage_key(&k).into_bytes();
                self.delete_scripted(Operation::DeleteKeys, name, now)
            })
            .buffered(FANOUT)
            .try_collect()
            .await?;
        Ok(deleted.iter().filter(|&&d| d).count() as u64)
    }

    async fn sessions_of(
        &self,
        user: &UserKey,
        cursor: Option<ScanCursor>,
        limit: usize,
    ) -> Result<UserSessionsPage> {
        self.list_user(user, cursor, limit).await
    }

    async fn revoke_user(&self, user: &UserKey, except: Option<&StorageKey>) -> Result<u64> {
        self.revoke_all_of(user, except).await
    }

    async fn revoke_session(&self, user: &UserKey, key: &StorageKey) -> Result<bool> {
        self.revoke_one(user, key).await
    }
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("connection", &self.conn)
            .field("prefix", &self.settings.keys.prefix())
            .field("timeout", &self.settings.timeout)
            .field("settings", &self.settings.store)
            .finish()
    }
}
