//! tower-sessions, measured the way session-bench measures our stores.
//!
//! ```text
//! session-bench-peers store --backend memory|sqlite|postgres|mysql|redis|moka-sqlite|moka-postgres [--url URL]
//!     [--payloads 100,2048,32768] [--concurrency 1,32] [--ops 3000] [--rounds 5]
//!     [--op-list create,load,save,touch,delete]
//! session-bench-peers serve --backend memory|sqlite|postgres|mysql|redis [--url URL]
//! session-bench-peers serve --stack actix-session --backend redis|cookie [--url URL]
//! session-bench-peers cpu --path /|/counter --requests N
//! ```
//!
//! `store` prints one JSON object per line: backend, op, concurrency, payload_bytes and
//! the figures (session-bench's `PeerRow`). The operations are tower-sessions'
//! `SessionStore` calls: `create`, `load`, `save`, and `delete`; tower-sessions has no
//! touch, so `touch` is a `save` of the same record with a later `expiry_date` (what
//! its session layer does to extend a session). Payloads are sized like ours: the
//! MessagePack-encoded record (what its stores write) is `payload` bytes.
//!
//! `moka-sqlite` and `moka-postgres` are `CachingSessionStore` with a `MokaStore`
//! (tower-sessions-moka-store, capacity 10,000) in front of the SQLite or PostgreSQL
//! store (`--url` is the durable store's). Their working set is warm: the sessions are
//! created through the caching store (which caches them) and one untimed load pass
//! over them runs before each load cell; their load rows carry the hit rate, 1 - the
//! loads that reached the durable store (counted by a wrapper around it) / the loads.
//!
//! `serve` serves `GET /` (reads the session) and `GET /counter` (increments a counter
//! in it) behind `SessionManagerLayer` with the store, prints `LISTENING <addr>`, and
//! stops when its standard input closes. With `--stack actix-session` the same two
//! routes are an actix-web app behind actix-session's `SessionMiddleware`, on its
//! Redis store or its cookie store (the backends it shares with ours).
//!
//! `cpu` drives the same router over tower-sessions' `MemoryStore` in process, no
//! socket, on a current-thread runtime (session-bench's `src/shared/cpu.rs`): what
//! session-bench counts the instructions of under callgrind.
//!
//! The grid, its flags, the sample text, the timed runner, the statistics, the row
//! schema and the server's stop rule are session-bench's own source files
//! (`session-bench/src/shared/`), included here: this workspace has its own lockfile, so
//! it cannot depend on the bench crate, and the two sides cannot drift apart.

// Shared with session-bench, which uses all of it; the peers need most.
#[path = "../../src/shared/cpu.rs"]
mod cpu;
#[allow(dead_code)]
#[path = "../../src/shared/measure.rs"]
mod measure;
#[path = "../../src/shared/serve.rs"]
mod serve;
#[path = "../../src/shared/serve_actix.rs"]
mod serve_actix;

use std::collections::HashMap;
use std::io::Write as _;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use actix_session::config::{CookieContentSecurity, PersistentSession, TtlExtensionPolicy};
use actix_session::storage::{CookieSessionStore, RedisSessionStore, SessionStore as ActixStore};
use actix_web::cookie::Key;
use actix_web::{web, App, HttpResponse};
use axum::http::StatusCode;
use axum::response::Html;
use axum::routing::get;
use axum::Router;
use clap::Parser;
use time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::{
    CachingSessionStore, Expiry, MemoryStore, Session, SessionManagerLayer, SessionStore,
};
use tower_sessions_moka_store::MokaStore;
use tower_sessions_redis_store::fred::prelude::{ClientLike, Config, Pool};
use tower_sessions_redis_store::RedisStore;
use tower_sessions_sqlx_store::sqlx::mysql::MySqlPoolOptions;
use tower_sessions_sqlx_store::sqlx::postgres::PgPoolOptions;
use tower_sessions_sqlx_store::sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
};
use tower_sessions_sqlx_store::{MySqlStore, PostgresStore, SqliteStore};

use measure::{
    blob_len, err, loaded, measure, measure_map, plan_indices, summarize, text, user, BoxResult,
    Cleanup, Grid, Op, PeerRow, Sample, Side, SESSIONS, TTL,
};

/// tower-sessions' stores and layer, measured like session-bench measures ours (run by
/// session-bench; see its README).
#[derive(Debug, Parser)]
#[command(name = "session-bench-peers")]
enum Cli {
    /// Measure a store over the grid; one JSON row per cell on standard output.
    Store {
        #[command(flatten)]
        target: StoreArgs,
        #[command(flatten)]
        grid: Grid,
    },
    /// Serve `GET /` and `GET /counter` behind `SessionManagerLayer` on the store (or
    /// actix-session's middleware, `--stack actix-session`) until standard input
    /// closes.
    Serve(ServeArgs),
    /// One visitor's requests of `--path` through the router of `serve --backend
    /// memory`, in process (no socket), on a current-thread runtime: what
    /// session-bench counts instructions of.
    Cpu {
        /// `/` or `/counter`.
        #[arg(long, value_parser = ["/", "/counter"])]
        path: String,
        /// Requests after the first (which creates the session).
        #[arg(long)]
        requests: usize,
    },
}

/// Which session stack serves, on which store, and where.
#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// tower-sessions' layer on axum, or actix-session's middleware on actix-web.
    #[arg(long, default_value = "tower-sessions", value_parser = ["tower-sessions", "actix-session"])]
    stack: String,
    /// The backend (tower-sessions: memory, sqlite, postgres, mysql, redis;
    /// actix-session: redis, cookie).
    #[arg(long, value_parser = ["memory", "sqlite", "postgres", "mysql", "redis", "cookie"])]
    backend: String,
    /// Its URL (every backend but memory and cookie needs one).
    #[arg(long)]
    url: Option<String>,
    /// actix-session on Redis: the prefix of its keys, so the bench can remove what
    /// the run wrote (`SCAN` on it) and nothing else [default:
    /// `bench:http:actix-session:<pid>:`].
    #[arg(long)]
    prefix: Option<String>,
}

/// Which tower-sessions store, and where.
#[derive(Debug, clap::Args)]
struct StoreArgs {
    /// The backend (`moka-B`: `CachingSessionStore` with a moka cache in front of B).
    #[arg(long, value_parser = ["memory", "sqlite", "postgres", "mysql", "redis", "moka-sqlite", "moka-postgres"])]
    backend: String,
    /// Its URL (every backend but memory needs one; `moka-B`: B's).
    #[arg(long)]
    url: Option<String>,
}

fn data(blob: usize, i: usize) -> HashMap<String, serde_json::Value> {
    let mut data = HashMap::new();
    data.insert("user".into(), serde_json::Value::from(user(i)));
    data.insert("blob".into(), serde_json::Value::from(text(blob, i as u64)));
    data
}

/// A record whose MessagePack encoding (what the stores write) is about `payload`.
fn sample(payload: usize, i: usize) -> Record {
    let expiry_date = OffsetDateTime::now_utc() + TTL;
    let bare = Record {
        id: Id::default(),
        data: data(0, i),
        expiry_date,
    };
    let overhead = rmp_serde::to_vec(&bare).map(|b| b.len()).unwrap_or(64);
    Record {
        id: bare.id,
        data: data(blob_len(payload, overhead), i),
        expiry_date,
    }
}

type DynStore = Arc<dyn SessionStore>;

/// A store plus what it takes to remove what the run wrote.
struct Opened {
    store: DynStore,
    what: String,
    cleanup: Option<Cleanup>,
    /// A caching store's loads that reached its durable store (its cache's misses).
    durable_loads: Option<Arc<AtomicU64>>,
}

/// The durable store behind a `CachingSessionStore`, counting the loads that reach it:
/// `CachingSessionStore` counts nothing, and a load reaches the durable store only when
/// the cache missed. A hit never gets here, so the count costs the hit path nothing.
#[derive(Debug, Clone)]
struct Counted {
    inner: DynStore,
    loads: Arc<AtomicU64>,
}

#[async_trait::async_trait]
impl SessionStore for Counted {
    async fn create(&self, record: &mut Record) -> tower_sessions::session_store::Result<()> {
        self.inner.create(record).await
    }
    async fn save(&self, record: &Record) -> tower_sessions::session_store::Result<()> {
        self.inner.save(record).await
    }
    async fn load(&self, id: &Id) -> tower_sessions::session_store::Result<Option<Record>> {
        self.loads.fetch_add(1, Ordering::Relaxed);
        self.inner.load(id).await
    }
    async fn delete(&self, id: &Id) -> tower_sessions::session_store::Result<()> {
        self.inner.delete(id).await
    }
}

/// The capacity of the moka caches: ours' default (`session_tiered::DEFAULT_CAPACITY`).
const MOKA_CAPACITY: u64 = 10_000;

fn table_name() -> String {
    format!("ts_bench_{}", std::process::id())
}

async fn open(backend: &str, url: Option<&str>) -> BoxResult<Opened> {
    if let Some(durable) = backend.strip_prefix("moka-") {
        let inner = Box::pin(open(durable, url)).await?;
        let loads = Arc::new(AtomicU64::new(0));
        let counted = Counted {
            inner: inner.store,
            loads: loads.clone(),
        };
        return Ok(Opened {
            store: Arc::new(CachingSessionStore::new(
                MokaStore::new(Some(MOKA_CAPACITY)),
                counted,
            )),
            what: format!(
                "tower-sessions CachingSessionStore<MokaStore (capacity {MOKA_CAPACITY}), {}>",
                inner.what.trim_start_matches("tower-sessions-sqlx-store ")
            ),
            cleanup: inner.cleanup,
            durable_loads: Some(loads),
        });
    }
    let url = || url.ok_or_else(|| format!("{backend} needs --url"));
    Ok(match backend {
        "memory" => Opened {
            store: Arc::new(MemoryStore::default()),
            what: "tower-sessions MemoryStore".into(),
            cleanup: None,
            durable_loads: None,
        },
        "sqlite" => {
            let options = SqliteConnectOptions::from_str(url()?)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(5));
            let pool = SqlitePoolOptions::new()
                .max_connections(32)
                .connect_with(options)
                .await?;
            let store = SqliteStore::new(pool).with_table_name(table_name())?;
            store.migrate().await?;
            Opened {
                store: Arc::new(store),
                what: "tower-sessions-sqlx-store SqliteStore (WAL, synchronous=NORMAL, 32 connections)"
                    .into(),
                cleanup: None,
                durable_loads: None,
            }
        }
        "postgres" => {
            let pool = PgPoolOptions::new()
                .max_connections(32)
                .connect(url()?)
                .await?;
            let store = PostgresStore::new(pool.clone())
                .with_schema_name("public")?
                .with_table_name(table_name())?;
            store.migrate().await?;
            Opened {
                store: Arc::new(store),
                what: "tower-sessions-sqlx-store PostgresStore (32 connections)".into(),
                cleanup: Some(Box::new(move || {
                    Box::pin(async move {
                        let sql = format!("DROP TABLE IF EXISTS public.{}", table_name());
                        let _ = sqlx::query(&sql).execute(&pool).await;
                    })
                })),
                durable_loads: None,
            }
        }
        "mysql" => {
            let url = url()?;
            let db = url
                .rsplit('/')
                .next()
                .and_then(|d| d.split('?').next())
                .filter(|d| !d.is_empty())
                .unwrap_or("test")
                .to_owned();
            let pool = MySqlPoolOptions::new()
                .max_connections(32)
                .connect(url)
                .await?;
            let store = MySqlStore::new(pool.clone())
                .with_schema_name(&db)?
                .with_table_name(table_name())?;
            store.migrate().await?;
            Opened {
                store: Arc::new(store),
                what: "tower-sessions-sqlx-store MySqlStore (32 connections)".into(),
                cleanup: Some(Box::new(move || {
                    Box::pin(async move {
                        let sql = format!("DROP TABLE IF EXISTS `{db}`.{}", table_name());
                        let _ = sqlx::query(&sql).execute(&pool).await;
                    })
                })),
                durable_loads: None,
            }
        }
        "redis" => {
            let pool = Pool::new(Config::from_url(url()?)?, None, None, None, 6)?;
            pool.init().await?;
            Opened {
                store: Arc::new(RedisStore::new(pool)),
                what: "tower-sessions-redis-store RedisStore (fred pool of 6)".into(),
                cleanup: None,
                durable_loads: None,
            }
        }
        other => return Err(format!("no tower-sessions store for {other:?}").into()),
    })
}

/// Creates `records` concurrently (untimed setup), answering them with the ids the
/// store chose.
async fn create_all(store: &DynStore, records: Vec<Record>) -> BoxResult<Vec<Record>> {
    let (s, records) = (store.clone(), Arc::new(records));
    let (_, created) = measure_map(32, records.len(), move |i| {
        let (s, records) = (s.clone(), records.clone());
        async move {
            let mut record = records[i].clone();
            s.create(&mut record).await.map_err(err)?;
            Ok(record)
        }
    })
    .await?;
    Ok(created)
}

/// The sequence number of every save this process plans: see [`run_op`]'s saves.
static SAVE_SEQ: AtomicU64 = AtomicU64::new(0);

async fn run_op(
    store: &DynStore,
    pool: &[Record],
    created: &mut Vec<Id>,
    op: Op,
    tasks: usize,
    n: usize,
    payload: usize,
) -> BoxResult<Sample> {
    let s = store.clone();
    match op {
        Op::Create => {
            // Each call owns its record (`create` takes it mutably), made before the
            // clock starts.
            let fresh: Arc<Vec<std::sync::Mutex<Option<Record>>>> = Arc::new(
                (0..n)
                    .map(|i| std::sync::Mutex::new(Some(sample(payload, i))))
                    .collect(),
            );
            let (timed, ids) = measure_map(tasks, n, move |i| {
                let s = s.clone();
                let rec = fresh[i].lock().ok().and_then(|mut r| r.take());
                async move {
                    let mut rec = rec.ok_or("no record")?;
                    s.create(&mut rec).await.map_err(err)?;
                    Ok(rec.id)
                }
            })
            .await?;
            // The ids the store kept (it picks a new one on a collision).
            created.extend(ids);
            Ok(timed)
        }
        Op::Load => {
            let ids: Arc<Vec<Id>> = Arc::new(pool.iter().map(|r| r.id).collect());
            measure(tasks, n, move |i| {
                let (s, ids) = (s.clone(), ids.clone());
                async move { loaded(s.load(&ids[i % ids.len()]).await.map_err(err)?) }
            })
            .await
        }
        Op::Save | Op::Touch => {
            let later = OffsetDateTime::now_utc() + TTL;
            let plan: Arc<Vec<Record>> = Arc::new(
                plan_indices(tasks, n)
                    .into_iter()
                    .map(|idx| {
                        let mut r = pool[idx].clone();
                        if op == Op::Touch {
                            r.expiry_date = later;
                        } else {
                            // New bytes, as a real save writes (tower-sessions has no
                            // version to bump). Unique across rounds too: a round
                            // writes each session at most once, so an `i` of the
                            // round would repeat the bytes of the round before, an
                            // UPDATE that MariaDB skips as "0 rows changed".
                            let n = SAVE_SEQ.fetch_add(1, Ordering::Relaxed);
                            r.data.insert("n".into(), serde_json::Value::from(n));
                        }
                        r
                    })
                    .collect(),
            );
            measure(tasks, n, move |i| {
                let (s, p) = (s.clone(), plan.clone());
                async move { s.save(&p[i]).await.map_err(err) }
            })
            .await
        }
        Op::Delete => {
            let doomed = create_all(store, (0..n).map(|i| sample(payload, i)).collect()).await?;
            let ids: Arc<Vec<Id>> = Arc::new(doomed.iter().map(|r| r.id).collect());
            measure(tasks, n, move |i| {
                let (s, ids) = (s.clone(), ids.clone());
                async move { s.delete(&ids[i]).await.map_err(err) }
            })
            .await
        }
    }
}

async fn store_command(target: &StoreArgs, grid: &Grid) -> BoxResult<()> {
    let backend = target.backend.as_str();
    let opened = open(backend, target.url.as_deref()).await?;
    let per_round = grid.per_round();
    let mut created: Vec<Id> = Vec::new();
    let result: BoxResult<()> = async {
        for &payload in &grid.payloads {
            let pool = create_all(
                &opened.store,
                (0..SESSIONS).map(|i| sample(payload, i)).collect(),
            )
            .await?;
            created.extend(pool.iter().map(|r| r.id));
            for &op in &grid.ops {
                for &tasks in &grid.tasks {
                    let counted = opened.durable_loads.as_ref().filter(|_| op == Op::Load);
                    if counted.is_some() {
                        // The warm pass: every session of the working set, untimed.
                        run_op(
                            &opened.store,
                            &pool,
                            &mut created,
                            Op::Load,
                            32,
                            SESSIONS,
                            payload,
                        )
                        .await?;
                    }
                    let misses_before = counted.map(|c| c.load(Ordering::Relaxed));
                    let mut samples = Vec::new();
                    for _ in 0..grid.rounds {
                        samples.push(
                            run_op(
                                &opened.store,
                                &pool,
                                &mut created,
                                op,
                                tasks,
                                per_round,
                                payload,
                            )
                            .await?,
                        );
                    }
                    let mut row = PeerRow {
                        backend: backend.to_owned(),
                        op: op.name().to_owned(),
                        concurrency: tasks,
                        payload_bytes: payload,
                        side: Side {
                            what: if op == Op::Touch {
                                format!("{} (save with a later expiry)", opened.what)
                            } else {
                                opened.what.clone()
                            },
                            figures: summarize(samples),
                        },
                        hit_rate: None,
                    };
                    if let (Some(c), Some(before)) = (counted, misses_before) {
                        let loads = row.side.figures.ops;
                        let misses = c.load(Ordering::Relaxed).saturating_sub(before);
                        if loads > 0 {
                            let hits = loads.saturating_sub(misses) as f64;
                            row.hit_rate =
                                Some((hits / loads as f64 * 10_000.0).round() / 10_000.0);
                        }
                    }
                    println!("{}", serde_json::to_string(&row)?);
                    std::io::stdout().flush()?;
                }
            }
        }
        Ok(())
    }
    .await;
    // Redis keys are the raw ids: remove every one this run wrote.
    if backend == "redis" {
        let ids = Arc::new(created);
        let s = opened.store.clone();
        let n = ids.len();
        let _ = measure(32, n, move |i| {
            let (s, ids) = (s.clone(), ids.clone());
            async move { s.delete(&ids[i]).await.map_err(err) }
        })
        .await;
    }
    if let Some(cleanup) = opened.cleanup {
        cleanup().await;
    }
    result
}

async fn index(session: Session) -> Result<Html<String>, StatusCode> {
    let logged_in = session
        .get::<bool>("logged_in")
        .await
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?
        .unwrap_or(false);
    Ok(serve::login_page(logged_in))
}

async fn counter(session: Session) -> Result<String, StatusCode> {
    let n = session
        .get::<u64>("counter")
        .await
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?
        .unwrap_or(0)
        + 1;
    session
        .insert("counter", n)
        .await
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    Ok(n.to_string())
}

/// The two routes behind tower-sessions' layer on `store`.
fn router<S: SessionStore + Clone>(store: S) -> Router {
    // A fixed deadline an hour away: sessions are written only when they change (the
    // default layer behaviour), and leftovers in a shared Redis expire by themselves.
    let layer = SessionManagerLayer::new(store)
        .with_secure(false)
        .with_expiry(Expiry::AtDateTime(
            OffsetDateTime::now_utc() + time::Duration::hours(1),
        ));
    Router::new()
        .route("/", get(index))
        .route("/counter", get(counter))
        .layer(layer)
}

async fn serve_store<S: SessionStore + Clone>(store: S) -> BoxResult<()> {
    serve::until_stdin_closes(router(store)).await
}

/// `Arc<dyn SessionStore>` is not `Clone + SessionStore` itself; this is.
#[derive(Clone, Debug)]
struct Shared(DynStore);

#[async_trait::async_trait]
impl SessionStore for Shared {
    async fn create(&self, record: &mut Record) -> tower_sessions::session_store::Result<()> {
        self.0.create(record).await
    }
    async fn save(&self, record: &Record) -> tower_sessions::session_store::Result<()> {
        self.0.save(record).await
    }
    async fn load(&self, id: &Id) -> tower_sessions::session_store::Result<Option<Record>> {
        self.0.load(id).await
    }
    async fn delete(&self, id: &Id) -> tower_sessions::session_store::Result<()> {
        self.0.delete(id).await
    }
}

async fn serve_command(target: &ServeArgs) -> BoxResult<()> {
    let opened = open(&target.backend, target.url.as_deref()).await?;
    let result = match target.backend.as_str() {
        // The concrete types, so the layer is exactly what an app would build.
        "memory" => serve_store(MemoryStore::default()).await,
        _ => serve_store(Shared(opened.store.clone())).await,
    };
    if let Some(cleanup) = opened.cleanup {
        cleanup().await;
    }
    result
}

async fn actix_index(session: actix_session::Session) -> actix_web::Result<HttpResponse> {
    let logged_in = session.get::<bool>("logged_in")?.unwrap_or(false);
    Ok(serve_actix::login_response(logged_in))
}

async fn actix_counter(session: actix_session::Session) -> actix_web::Result<String> {
    let n = session.get::<u64>("counter")?.unwrap_or(0) + 1;
    session.insert("counter", n)?;
    Ok(n.to_string())
}

/// actix-session's middleware as close to ours as it goes: a persistent cookie
/// (`Max-Age`) for a 24-hour session, extended only when the state changes (ours: 24 h
/// idle, a touch at most once a minute, so a read-only page writes nothing), not
/// `Secure` (plain HTTP on loopback), `security` as ours: the Redis store's cookie
/// signed, the cookie store's encrypted.
fn actix_session_middleware<S: ActixStore>(
    store: S,
    key: Key,
    security: CookieContentSecurity,
) -> actix_session::SessionMiddleware<S> {
    actix_session::SessionMiddleware::builder(store, key)
        .cookie_secure(false)
        .cookie_content_security(security)
        .session_lifecycle(
            PersistentSession::default()
                .session_ttl(actix_web::cookie::time::Duration::hours(24))
                .session_ttl_extension_policy(TtlExtensionPolicy::OnStateChanges),
        )
        .build()
}

/// Serves the two routes; `store` makes each worker's store (the cookie store is not
/// `Clone`; the Redis one shares its connection), all under one key.
async fn serve_actix_store<S: ActixStore + 'static>(
    store: impl Fn() -> S + Clone + Send + 'static,
    security: CookieContentSecurity,
) -> BoxResult<()> {
    let key = Key::generate();
    serve_actix::serve!(move || {
        App::new()
            .wrap(actix_session_middleware(store(), key.clone(), security))
            .route("/", web::get().to(actix_index))
            .route("/counter", web::get().to(actix_counter))
    })
    .await
}

/// `serve --stack actix-session`: its own actix system (actix-web runs its workers'
/// runtimes itself), not the tokio runtime the other commands share.
fn serve_actix_session(target: &ServeArgs) -> BoxResult<()> {
    actix_web::rt::System::new().block_on(async {
        match target.backend.as_str() {
            "redis" => {
                let url = target.url.as_deref().ok_or("redis needs --url")?;
                let prefix = target
                    .prefix
                    .clone()
                    .unwrap_or_else(|| format!("bench:http:actix-session:{}:", std::process::id()));
                let store = RedisSessionStore::builder(url)
                    .cache_keygen(move |key| format!("{prefix}{key}"))
                    .build()
                    .await
                    .map_err(|e| e.to_string())?;
                serve_actix_store(move || store.clone(), CookieContentSecurity::Signed).await
            }
            "cookie" => {
                serve_actix_store(CookieSessionStore::default, CookieContentSecurity::Private).await
            }
            other => Err(format!("actix-session has no store for {other:?} here").into()),
        }
    })
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    if let Cli::Serve(target) = &cli {
        if target.stack == "actix-session" {
            return exit_code(serve_actix_session(target));
        }
        if target.backend == "cookie" {
            return exit_code(Err("tower-sessions has no cookie store".into()));
        }
    }
    if let Cli::Cpu { path, requests } = &cli {
        // One thread, so the instruction count is this visitor's work and no
        // scheduler's.
        let result = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(Into::into)
            .and_then(|rt| rt.block_on(cpu::drive(router(MemoryStore::default()), path, *requests)))
            .map(|bytes| println!("{bytes}"));
        return exit_code(result);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("session-bench-peers: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli {
            Cli::Store { target, grid } => store_command(&target, &grid).await,
            Cli::Serve(target) => serve_command(&target).await,
            Cli::Cpu { .. } => Err("cpu runs on its own runtime".into()),
        }
    });
    exit_code(result)
}

fn exit_code(result: BoxResult<()>) -> std::process::ExitCode {
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("session-bench-peers: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
