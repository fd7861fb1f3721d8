//! The hand-written limit of the HTTP runs: the demo's two measured routes with no
//! session library at all, as an app author would write them by hand, so that the
//! `hand-written` rows show what the session work itself costs at best.
//!
//! Per request the app reads its own cookie, checks it and calls the backend's raw
//! client once (`/`) or twice (`/counter`), nothing more:
//!
//! - server-side backends: the cookie is `<id>.<tag>`, a random 128-bit id (unpadded
//!   URL-safe base64) and its HMAC-SHA256 under a per-process key; the session's data
//!   is two typed fields, JSON-encoded for the backends that store bytes;
//!   - memory: a `Mutex<HashMap>` of id → (data, deadline);
//!   - Redis: `GET key`, `SET key value PXAT deadline` (redis-rs, one multiplexed
//!     `ConnectionManager`, keys under `--prefix`);
//!   - SQLite: one `SELECT … WHERE id = ? AND expires_at > ?` and one upsert (sqlx,
//!     WAL, `synchronous=NORMAL`, the pool size our SQLite store opens by default);
//! - cookie: the data sealed in the cookie with XChaCha20-Poly1305 (the cookie
//!   store's cipher: a random nonce, the cookie name as associated data, unpadded
//!   URL-safe base64); the AEAD authenticates it, so no separate HMAC.
//!
//! What it leaves out, and our layer does: encoding an envelope, hashing the id for
//! storage, versions and compare-and-set, touch throttling, key rotation, id cycling,
//! flash messages, user binding. Deadlines are a fixed 24 hours idle (ours' default)
//! renewed on every write; `/` never writes (ours with its default touch throttle
//! writes nothing either within a run).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use session_redis::redis;
use session_redis::redis::aio::ConnectionManager;
use sha2::Sha256;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

use crate::BoxResult;

/// The cookie's name.
pub const COOKIE: &str = "hw";

/// How long a session lives after its last write.
const IDLE: Duration = Duration::from_secs(24 * 3600);

/// SQLite connections: what `session_sql::ConnectOptions` opens by default, which is
/// what the demo's SQLite store runs with in the HTTP runs.
const SQLITE_CONNECTIONS: u32 = 10;

/// The backends the hand-written app has, by the bench's names.
pub const BACKENDS: &[&str] = &["memory", "redis", "sqlite", "cookie"];

/// Everything the two routes keep in a session.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Data {
    /// What `/` shows.
    #[serde(default)]
    pub logged_in: bool,
    /// What `/counter` increments.
    #[serde(default)]
    pub counter: u64,
}

/// A route's answer: its body and, when the session's cookie must change, the
/// `Set-Cookie` value.
#[derive(Debug)]
pub struct Reply {
    /// The body.
    pub body: String,
    /// `Set-Cookie`, if any.
    pub set_cookie: Option<String>,
}

enum Store {
    Memory(Mutex<HashMap<String, (Data, u64)>>),
    Redis {
        conn: ConnectionManager,
        prefix: String,
    },
    Sqlite {
        pool: SqlitePool,
        select: String,
        upsert: String,
    },
    Cookie(XChaCha20Poly1305),
}

/// The hand-written app's state: its store and its signing key.
pub struct App {
    store: Store,
    mac: Hmac<Sha256>,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn deadline_ms() -> u64 {
    now_ms() + IDLE.as_millis() as u64
}

/// The value of cookie `name` in a `Cookie` header.
pub fn cookie_value<'h>(header: &'h str, name: &str) -> Option<&'h str> {
    header.split(';').find_map(|pair| {
        let (k, v) = pair.trim().split_once('=')?;
        (k == name).then_some(v)
    })
}

fn set_cookie(value: &str) -> String {
    format!(
        "{COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}",
        IDLE.as_secs()
    )
}

/// A session found (or not) for a request: its id when it lives on the server, and
/// its data.
struct Loaded {
    id: Option<String>,
    data: Data,
}

impl App {
    /// Opens `backend` (`memory`, `redis`, `sqlite`, `cookie`): `url` is the Redis or
    /// SQLite URL, `prefix` the Redis key prefix or the SQLite table name.
    pub async fn open(backend: &str, url: Option<&str>, prefix: &str) -> BoxResult<App> {
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        let mac = <Hmac<Sha256> as Mac>::new_from_slice(&key).map_err(|e| e.to_string())?;
        let need_url = || url.ok_or_else(|| format!("the hand-written {backend} app needs --url"));
        let store = match backend {
            "memory" => Store::Memory(Mutex::new(HashMap::new())),
            "redis" => Store::Redis {
                conn: crate::redis::connect(need_url()?).await?,
                prefix: prefix.to_owned(),
            },
            "sqlite" => {
                let table = prefix;
                if table.is_empty()
                    || !table
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_')
                {
                    return Err(format!("bad SQLite table name {table:?}").into());
                }
                let options = need_url()?
                    .parse::<SqliteConnectOptions>()?
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(5));
                let pool = SqlitePoolOptions::new()
                    .max_connections(SQLITE_CONNECTIONS)
                    .connect_with(options)
                    .await?;
                sqlx::raw_sql(&format!(
                    "CREATE TABLE IF NOT EXISTS {table} \
                     (id TEXT PRIMARY KEY, data BLOB NOT NULL, expires_at INTEGER NOT NULL)"
                ))
                .execute(&pool)
                .await?;
                Store::Sqlite {
                    pool,
                    select: format!("SELECT data FROM {table} WHERE id = ? AND expires_at > ?"),
                    upsert: format!(
                        "INSERT INTO {table} (id, data, expires_at) VALUES (?, ?, ?) \
                         ON CONFLICT(id) DO UPDATE SET data = excluded.data, \
                         expires_at = excluded.expires_at"
                    ),
                }
            }
            "cookie" => Store::Cookie(XChaCha20Poly1305::new(&key.into())),
            other => return Err(format!("no hand-written app for {other:?}").into()),
        };
        Ok(App { store, mac })
    }

    /// The tag of `id` under the app's key.
    fn tag(&self, id: &str) -> String {
        let mut mac = self.mac.clone();
        mac.update(id.as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    /// The id a signed cookie value carries, if its tag is right.
    fn verified_id<'c>(&self, value: &'c str) -> Option<&'c str> {
        let (id, tag) = value.split_once('.')?;
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        let mut mac = self.mac.clone();
        mac.update(id.as_bytes());
        mac.verify_slice(&tag).ok()?;
        Some(id)
    }

    fn seal(cipher: &XChaCha20Poly1305, data: &Data) -> BoxResult<String> {
        let plain = serde_json::to_vec(data)?;
        let mut nonce = [0u8; 24];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let sealed = cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: &plain,
                    aad: COOKIE.as_bytes(),
                },
            )
            .map_err(|e| e.to_string())?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(URL_SAFE_NO_PAD.encode(out))
    }

    fn open_sealed(cipher: &XChaCha20Poly1305, value: &str) -> Option<Data> {
        let bytes = URL_SAFE_NO_PAD.decode(value).ok()?;
        if bytes.len() < 24 {
            return None;
        }
        let (nonce, sealed) = bytes.split_at(24);
        let plain = cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: COOKIE.as_bytes(),
                },
            )
            .ok()?;
        serde_json::from_slice(&plain).ok()
    }

    /// The request's session: what its cookie names, if it is valid and still there.
    async fn load(&self, cookie: Option<&str>) -> BoxResult<Option<Loaded>> {
        let Some(value) = cookie else {
            return Ok(None);
        };
        if let Store::Cookie(cipher) = &self.store {
            return Ok(Self::open_sealed(cipher, value).map(|data| Loaded { id: None, data }));
        }
        let Some(id) = self.verified_id(value) else {
            return Ok(None);
        };
        let data = match &self.store {
            Store::Memory(map) => {
                let map = map.lock().map_err(|_| "poisoned")?;
                map.get(id)
                    .filter(|(_, deadline)| *deadline > now_ms())
                    .map(|(data, _)| *data)
            }
            Store::Redis { conn, prefix } => {
                let bytes: Option<Vec<u8>> = redis::cmd("GET")
                    .arg(format!("{prefix}{id}"))
                    .query_async(&mut conn.clone())
                    .await?;
                bytes.and_then(|b| serde_json::from_slice(&b).ok())
            }
            Store::Sqlite { pool, select, .. } => {
                let bytes: Option<Vec<u8>> = sqlx::query_scalar(select)
                    .bind(id)
                    .bind(now_ms() as i64)
                    .fetch_optional(pool)
                    .await?;
                bytes.and_then(|b| serde_json::from_slice(&b).ok())
            }
            Store::Cookie(_) => None,
        };
        Ok(data.map(|data| Loaded {
            id: Some(id.to_owned()),
            data,
        }))
    }

    /// Writes `data` under `id` (a new id when `None`); the `Set-Cookie` value when the
    /// cookie changes.
    async fn save(&self, id: Option<String>, data: &Data) -> BoxResult<Option<String>> {
        if let Store::Cookie(cipher) = &self.store {
            return Ok(Some(set_cookie(&Self::seal(cipher, data)?)));
        }
        let (id, new) = match id {
            Some(id) => (id, false),
            None => {
                let mut raw = [0u8; 16];
                rand::rngs::OsRng.fill_bytes(&mut raw);
                (URL_SAFE_NO_PAD.encode(raw), true)
            }
        };
        let deadline = deadline_ms();
        match &self.store {
            Store::Memory(map) => {
                map.lock()
                    .map_err(|_| "poisoned")?
                    .insert(id.clone(), (*data, deadline));
            }
            Store::Redis { conn, prefix } => {
                let () = redis::cmd("SET")
                    .arg(format!("{prefix}{id}"))
                    .arg(serde_json::to_vec(data)?)
                    .arg("PXAT")
                    .arg(deadline)
                    .query_async(&mut conn.clone())
                    .await?;
            }
            Store::Sqlite { pool, upsert, .. } => {
                sqlx::query(upsert)
                    .bind(&id)
                    .bind(serde_json::to_vec(data)?)
                    .bind(deadline as i64)
                    .execute(pool)
                    .await?;
            }
            Store::Cookie(_) => {}
        }
        Ok(new.then(|| set_cookie(&format!("{id}.{}", self.tag(&id)))))
    }

    /// `GET /`: the login page, as the session says; never writes.
    pub async fn index(&self, cookie: Option<&str>) -> BoxResult<Reply> {
        let logged_in = self
            .load(cookie)
            .await?
            .is_some_and(|loaded| loaded.data.logged_in);
        Ok(Reply {
            body: crate::serve::login_html(logged_in),
            set_cookie: None,
        })
    }

    /// `GET /counter`: the session's counter, one more than last time.
    pub async fn counter(&self, cookie: Option<&str>) -> BoxResult<Reply> {
        let (id, mut data) = match self.load(cookie).await? {
            Some(loaded) => (loaded.id, loaded.data),
            None => (None, Data::default()),
        };
        data.counter += 1;
        let set_cookie = self.save(id, &data).await?;
        Ok(Reply {
            body: data.counter.to_string(),
            set_cookie,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // test code
    use super::*;

    fn pair(set_cookie: &str) -> &str {
        let first = set_cookie.split(';').next().unwrap();
        first.split_once('=').unwrap().1
    }

    async fn counts(backend: &str) {
        let app = App::open(backend, None, "").await.unwrap();
        let first = app.counter(None).await.unwrap();
        assert_eq!(first.body, "1");
        let cookie = pair(first.set_cookie.as_deref().unwrap()).to_owned();
        let second = app.counter(Some(&cookie)).await.unwrap();
        assert_eq!(second.body, "2");
        // The cookie store reseals on every write; a server-side session keeps its id.
        let cookie = match second.set_cookie {
            Some(c) => pair(&c).to_owned(),
            None => cookie,
        };
        assert_eq!(app.counter(Some(&cookie)).await.unwrap().body, "3");
        assert!(app.index(Some(&cookie)).await.unwrap().set_cookie.is_none());
    }

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn memory_and_cookie_count_per_session() {
        block_on(counts("memory"));
        block_on(counts("cookie"));
    }

    #[test]
    fn sqlite_counts_per_session_in_its_table() {
        let dir = tempfile::tempdir().unwrap();
        let url = crate::sql::sqlite_url(dir.path(), "hw.db");
        block_on(async {
            let app = App::open("sqlite", Some(&url), "hw_test").await.unwrap();
            let first = app.counter(None).await.unwrap();
            let cookie = pair(first.set_cookie.as_deref().unwrap()).to_owned();
            assert_eq!(app.counter(Some(&cookie)).await.unwrap().body, "2");
            let Store::Sqlite { pool, .. } = &app.store else {
                panic!("not sqlite")
            };
            let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM hw_test")
                .fetch_one(pool)
                .await
                .unwrap();
            assert_eq!(rows, 1);
            assert!(App::open("sqlite", Some(&url), "no; drop").await.is_err());
        });
    }

    #[test]
    fn a_forged_or_foreign_cookie_starts_a_new_session() {
        block_on(forged());
    }

    async fn forged() {
        let app = App::open("memory", None, "").await.unwrap();
        let first = app.counter(None).await.unwrap();
        let cookie = pair(first.set_cookie.as_deref().unwrap()).to_owned();
        let (id, _) = cookie.split_once('.').unwrap();
        let forged = format!("{id}.{}", URL_SAFE_NO_PAD.encode([0u8; 32]));
        let reply = app.counter(Some(&forged)).await.unwrap();
        assert_eq!(reply.body, "1");
        assert!(reply.set_cookie.is_some());
        let other = App::open("memory", None, "").await.unwrap();
        assert_eq!(other.counter(Some(&cookie)).await.unwrap().body, "1");
        let sealed = App::open("cookie", None, "").await.unwrap();
        assert_eq!(sealed.counter(Some("garbage")).await.unwrap().body, "1");
    }

    #[test]
    fn the_cookie_is_found_among_others() {
        assert_eq!(cookie_value("a=1; hw=x.y; b=2", COOKIE), Some("x.y"));
        assert_eq!(cookie_value("hwx=1", COOKIE), None);
    }
}
