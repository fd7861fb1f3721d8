//! `RedisStore` next to raw redis-rs commands on the same multiplexed connection
//! (one `ConnectionManager`, as an app would share it), on the very bytes the store
//! writes (61-byte header + envelope), under twin keys:
//!
//! - create: `SET key value NX PXAT deadline`;
//! - load: `GET key`;
//! - save: `SET key value PXAT deadline` (no version check: the store's save is a
//!   compare-and-set script, `EVALSHA`, which a plain `SET` cannot be);
//! - touch: `PEXPIREAT key deadline` (the store's touch script also rewrites the
//!   header's times);
//! - delete: `DEL key`;
//! - raw CAS (saves, a column of its own): `EVALSHA` of the smallest correct
//!   compare-and-set script ([`RAW_CAS`]: the stored version field, then `SET … PXAT`),
//!   sent as one command built in place, as our store sends its save script: the floor
//!   a compare-and-set save can reach on Redis 7, where `SET` has no condition on the
//!   value.
//!
//! Saves also run through a second `RedisStore` on the same keys in its
//! last-writer-wins mode (`write=lww`): the "ours-lww" column.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use session_core::{Codec, Record, SessionStore, UserKey};
use session_redis::redis::aio::ConnectionManager;
use session_redis::redis::{self as client};
use session_redis::{manager_config, RedisOptions, RedisStore, WriteMode};

use crate::driver::{Item, Raw, Target};
use crate::measure::{Op, TaskResult};
use crate::BoxResult;

/// The value the store writes for `r`: the 61-byte header, then the envelope. Built
/// here from the documented layout so the raw `SET`s move exactly the store's bytes.
pub fn stored_value(r: &Record) -> BoxResult<Vec<u8>> {
    let mut out = format!(
        "1{:020}{:+020}{:+020}",
        r.version,
        r.accessed_at.as_millis(),
        r.expires_at.as_millis()
    )
    .into_bytes();
    out.extend_from_slice(&Codec::MessagePack.encode(r)?);
    Ok(out)
}

/// The raw CAS script: the 20 version digits after the layout tag must be the expected
/// ones (a missing key reads as `""`, so it is refused too), then the write.
pub const RAW_CAS: &str = "if redis.call('GETRANGE', KEYS[1], 1, 20) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PXAT', ARGV[3])
return 1";

struct RedisRaw {
    conn: ConnectionManager,
    prefix: String,
    /// SHA-1 of [`RAW_CAS`], loaded on the server.
    cas_sha: String,
    /// Our store on the same prefix in last-writer-wins mode.
    lww: Arc<dyn SessionStore>,
}

impl RedisRaw {
    async fn query<T: client::FromRedisValue>(&self, cmd: &client::Cmd) -> TaskResult<T> {
        let mut conn = self.conn.clone();
        cmd.query_async(&mut conn).await.map_err(|e| e.to_string())
    }
}

#[async_trait]
impl Raw for RedisRaw {
    fn label(&self, op: Op) -> Option<String> {
        Some(
            match op {
                Op::Create => "SET NX PXAT",
                Op::Load => "GET",
                Op::Save => "SET PXAT",
                Op::Touch => "PEXPIREAT",
                Op::Delete => "DEL",
            }
            .to_owned(),
        )
    }

    fn bytes(&self, record: &Record) -> BoxResult<Vec<u8>> {
        stored_value(record)
    }

    async fn create(&self, item: &Item) -> TaskResult<String> {
        let key = format!("{}{}", self.prefix, item.key);
        let set: Option<String> = self
            .query(
                client::cmd("SET")
                    .arg(&key)
                    .arg(item.bytes.as_slice())
                    .arg("NX")
                    .arg("PXAT")
                    .arg(item.expires_ms),
            )
            .await?;
        set.map(|_| key)
            .ok_or_else(|| "a fresh key was taken".into())
    }

    async fn load(&self, handle: &str) -> TaskResult<()> {
        let value: Option<Vec<u8>> = self.query(client::cmd("GET").arg(handle)).await?;
        match value {
            Some(v) => {
                std::hint::black_box(v);
                Ok(())
            }
            None => Err("a key went missing".into()),
        }
    }

    async fn save(&self, handle: &str, item: &Item) -> TaskResult<()> {
        self.query(
            client::cmd("SET")
                .arg(handle)
                .arg(item.bytes.as_slice())
                .arg("PXAT")
                .arg(item.expires_ms),
        )
        .await
    }

    async fn touch(&self, handle: &str, item: &Item) -> TaskResult<()> {
        let done: i64 = self
            .query(client::cmd("PEXPIREAT").arg(handle).arg(item.expires_ms))
            .await?;
        if done == 1 {
            Ok(())
        } else {
            Err("a key went missing".into())
        }
    }

    async fn delete(&self, handle: &str) -> TaskResult<()> {
        let _: i64 = self.query(client::cmd("DEL").arg(handle)).await?;
        Ok(())
    }

    fn cas_label(&self) -> Option<String> {
        Some("EVALSHA: GETRANGE 1 20 = expected version, then SET PXAT".into())
    }

    async fn save_cas(&self, handle: &str, item: &Item) -> TaskResult<()> {
        let saved: i64 = self
            .query(
                client::cmd("EVALSHA")
                    .arg(&self.cas_sha)
                    .arg(1)
                    .arg(handle)
                    .arg(format!("{:020}", item.version.saturating_sub(1)))
                    .arg(item.bytes.as_slice())
                    .arg(item.expires_ms),
            )
            .await?;
        if saved == 1 {
            Ok(())
        } else {
            Err("the raw compare-and-set found another version".into())
        }
    }

    fn save_variant(&self) -> Option<Arc<dyn SessionStore>> {
        Some(self.lww.clone())
    }
}

/// The server's `redis_version`.
pub async fn server_version(conn: &ConnectionManager) -> String {
    let mut c = conn.clone();
    let info: Result<String, _> = client::cmd("INFO").arg("server").query_async(&mut c).await;
    info.ok()
        .and_then(|i| {
            i.lines()
                .find_map(|l| l.strip_prefix("redis_version:"))
                .map(|v| v.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into())
}

/// A connection manager to `url`, or an error saying Redis is not there.
pub async fn connect(url: &str) -> BoxResult<ConnectionManager> {
    let redis_client = client::Client::open(url)?;
    let conn = tokio::time::timeout(
        Duration::from_secs(5),
        ConnectionManager::new_with_config(redis_client, manager_config(Duration::from_secs(5))),
    )
    .await
    .map_err(|_| format!("Redis did not answer at {url} within 5 s"))?
    .map_err(|e| format!("Redis is not reachable at {url}: {e}"))?;
    Ok(conn)
}

/// The Redis target on `url`, and the server's version.
pub async fn target(url: &str) -> BoxResult<(Target, String)> {
    let conn = connect(url).await?;
    let version = server_version(&conn).await;
    let prefix = format!("bench:{}:", std::process::id());
    let raw_prefix = format!("{prefix}raw:");
    let store = RedisStore::from_manager(
        conn.clone(),
        RedisOptions::new().with_prefix(prefix.clone()),
    )?;
    let lww = RedisStore::from_manager(
        conn.clone(),
        RedisOptions::new()
            .with_prefix(prefix)
            .with_write_mode(WriteMode::LastWriterWins),
    )?;
    let cas_sha: String = client::cmd("SCRIPT")
        .arg("LOAD")
        .arg(RAW_CAS)
        .query_async(&mut conn.clone())
        .await?;
    let raw_store = RedisStore::from_manager(
        conn.clone(),
        RedisOptions::new().with_prefix(raw_prefix.clone()),
    )?;
    let cleanup_stores = [store.clone(), raw_store];
    Ok((
        Target {
            backend: "redis".into(),
            what: "RedisStore".into(),
            store: Arc::new(store),
            raw: Some(Arc::new(RedisRaw {
                conn,
                prefix: raw_prefix,
                cas_sha,
                lww: Arc::new(lww),
            })),
            raw_async: None,
            cleanup: Some(Box::new(move || {
                Box::pin(async move {
                    for s in cleanup_stores {
                        if let Err(e) = s.delete_all().await {
                            eprintln!("  could not delete the keys under {}: {e}", s.prefix());
                        }
                    }
                })
            })),
            commands: None,
        },
        version,
    ))
}

/// The sessions-by-user target on `url`: a store under a prefix of its own (deleted
/// after the run) and the raw commands that read and delete its user index.
pub async fn index_target(url: &str) -> BoxResult<crate::users::IndexTarget> {
    let conn = connect(url).await?;
    let prefix = format!("bench:{}:users:", std::process::id());
    let store = RedisStore::from_manager(
        conn.clone(),
        RedisOptions::new().with_prefix(prefix.clone()),
    )?;
    let cleanup_store = store.clone();
    Ok(crate::users::IndexTarget {
        backend: "redis".into(),
        store: Arc::new(store),
        raw: Some(Box::new(RedisIndexRaw { conn, prefix })),
        cleanup: Some(Box::new(move || {
            Box::pin(async move {
                if let Err(e) = cleanup_store.delete_all().await {
                    eprintln!(
                        "  could not delete the keys under {}: {e}",
                        cleanup_store.prefix()
                    );
                }
            })
        })),
    })
}

/// Raw redis-rs commands over the store's user index.
struct RedisIndexRaw {
    conn: ConnectionManager,
    prefix: String,
}

impl RedisIndexRaw {
    fn index_key(&self, user: &UserKey) -> String {
        format!("{}user:{}", self.prefix, user.to_hex())
    }
}

#[async_trait]
impl crate::users::RawIndex for RedisIndexRaw {
    fn label(&self, op: &str) -> String {
        match op {
            "list" => "ZRANGEBYLEX + MGET, by page".into(),
            _ => "ZRANGE + DEL".into(),
        }
    }

    async fn list(&self, user: &UserKey) -> TaskResult<usize> {
        let mut conn = self.conn.clone();
        let index = self.index_key(user);
        let (mut from, mut n) = ("-".to_owned(), 0);
        loop {
            let members: Vec<String> = client::cmd("ZRANGEBYLEX")
                .arg(&index)
                .arg(&from)
                .arg("+")
                .arg("LIMIT")
                .arg(0)
                .arg(crate::users::PAGE)
                .query_async(&mut conn)
                .await
                .map_err(|e| e.to_string())?;
            if members.is_empty() {
                return Ok(n);
            }
            let keys: Vec<String> = members
                .iter()
                .map(|m| format!("{}{m}", self.prefix))
                .collect();
            let values: Vec<Option<Vec<u8>>> = client::cmd("MGET")
                .arg(&keys)
                .query_async(&mut conn)
                .await
                .map_err(|e| e.to_string())?;
            n += values.iter().filter(|v| v.is_some()).count();
            if members.len() < crate::users::PAGE {
                return Ok(n);
            }
            from = format!(
                "({}",
                members.last().map(String::as_str).unwrap_or_default()
            );
        }
    }

    async fn revoke(&self, user: &UserKey) -> TaskResult<u64> {
        let mut conn = self.conn.clone();
        let index = self.index_key(user);
        let members: Vec<String> = client::cmd("ZRANGE")
            .arg(&index)
            .arg(0)
            .arg(-1)
            .query_async(&mut conn)
            .await
            .map_err(|e| e.to_string())?;
        let mut keys: Vec<String> = members
            .iter()
            .map(|m| format!("{}{m}", self.prefix))
            .collect();
        keys.push(index);
        let gone: u64 = client::cmd("DEL")
            .arg(&keys)
            .query_async(&mut conn)
            .await
            .map_err(|e| e.to_string())?;
        Ok(gone.saturating_sub(1))
    }
}
