//! tower-sessions, measured the way session-bench measures our stores.
//!
//! ```text
//! session-bench-peers store --backend memory|sqlite|postgres|mysql|redis [--url URL]
//!     [--payloads 100,2048,32768] [--concurrency 1,32] [--ops 3000] [--rounds 3]
//!     [--op-list create,load,save,touch,delete]
//! session-bench-peers serve --backend memory|sqlite|postgres|mysql|redis [--url URL]
//! ```
//!
//! `store` prints one JSON object per line: backend, op, concurrency, payload_bytes and
//! the figures (session-bench's `PeerRow`). The operations are tower-sessions'
//! `SessionStore` calls: `create`, `load`, `save`, and `delete`; tower-sessions has no
//! touch, so `touch` is a `save` of the same record with a later `expiry_date` (what
//! its session layer does to extend a session). Payloads are sized like ours: the
//! MessagePack-encoded record (what its stores write) is `payload` bytes.
//!
//! `serve` serves `GET /` (reads the session) and `GET /counter` (increments a counter
//! in it) behind `SessionManagerLayer` with the store, prints `LISTENING <addr>`, and
//! stops when its standard input closes.

use std::collections::HashMap;
use std::future::Future;
use std::io::{Read as _, Write as _};
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use axum::response::Html;
use axum::routing::get;
use axum::Router;
use serde::Serialize;
use time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::{Expiry, MemoryStore, Session, SessionManagerLayer, SessionStore};
use tower_sessions_redis_store::fred::prelude::{ClientLike, Config, Pool};
use tower_sessions_redis_store::RedisStore;
use tower_sessions_sqlx_store::sqlx::mysql::MySqlPoolOptions;
use tower_sessions_sqlx_store::sqlx::postgres::PgPoolOptions;
use tower_sessions_sqlx_store::sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
};
use tower_sessions_sqlx_store::{MySqlStore, PostgresStore, SqliteStore};

type BoxResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;
type TaskResult<T> = Result<T, String>;

const SESSIONS: usize = 1024;
const TTL: time::Duration = time::Duration::minutes(10);

#[derive(Serialize)]
struct Figures {
    ops_per_s: f64,
    p50_us: f64,
    p99_us: f64,
    ops: u64,
}

#[derive(Serialize)]
struct Side {
    what: String,
    #[serde(flatten)]
    figures: Figures,
}

#[derive(Serialize)]
struct PeerRow {
    backend: String,
    op: String,
    concurrency: usize,
    payload_bytes: usize,
    side: Side,
}

struct Args {
    command: String,
    pairs: Vec<(String, String)>,
}

impl Args {
    fn parse() -> BoxResult<Args> {
        let mut args = std::env::args().skip(1);
        let command = args.next().ok_or("no command")?;
        let rest: Vec<String> = args.collect();
        if !rest.len().is_multiple_of(2) {
            return Err("expected `--flag value` pairs".into());
        }
        let pairs = rest
            .chunks(2)
            .map(|c| (c[0].clone(), c[1].clone()))
            .collect();
        Ok(Args { command, pairs })
    }

    fn value(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn list(&self, name: &str, default: &[usize]) -> BoxResult<Vec<usize>> {
        match self.value(name) {
            None => Ok(default.to_vec()),
            Some(v) => v
                .split(',')
                .map(|x| x.trim().parse::<usize>().map_err(|e| e.into()))
                .collect(),
        }
    }
}

/// `len` bytes of pseudo-random alphanumeric text: the same generator as session-bench.
fn text(len: usize, seed: u64) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            char::from(ALPHABET[(x % ALPHABET.len() as u64) as usize])
        })
        .collect()
}

fn data(blob: usize, i: usize) -> HashMap<String, serde_json::Value> {
    let mut data = HashMap::new();
    data.insert(
        "user".into(),
        serde_json::Value::from(format!("user-{i}@example.com")),
    );
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
    let prefix = |n: usize| match n {
        0..=31 => 0,
        32..=255 => 1,
        256..=65535 => 2,
        _ => 4,
    };
    let mut blob = payload.saturating_sub(overhead);
    blob = blob.saturating_sub(prefix(blob));
    Record {
        id: bare.id,
        data: data(blob, i),
        expiry_date,
    }
}

struct Sample {
    elapsed: Duration,
    latencies: Vec<u64>,
}

async fn measure<F, Fut>(tasks: usize, n: usize, op: F) -> BoxResult<Sample>
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = TaskResult<()>> + Send + 'static,
{
    let op = Arc::new(op);
    let start = Instant::now();
    let handles: Vec<_> = (0..tasks)
        .map(|t| {
            let op = op.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(n / tasks + 1);
                let mut i = t;
                while i < n {
                    let began = Instant::now();
                    op(i).await?;
                    latencies.push(began.elapsed().as_nanos() as u64);
                    i += tasks;
                }
                TaskResult::Ok(latencies)
            })
        })
        .collect();
    let mut latencies = Vec::with_capacity(n);
    for h in handles {
        latencies.extend(h.await??);
    }
    Ok(Sample {
        elapsed: start.elapsed(),
        latencies,
    })
}

fn quantile(sorted: &[u64], q: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn summarize(samples: Vec<Sample>) -> Figures {
    let mut rates: Vec<f64> = samples
        .iter()
        .map(|s| s.latencies.len() as f64 / s.elapsed.as_secs_f64().max(f64::MIN_POSITIVE))
        .collect();
    rates.sort_by(f64::total_cmp);
    let rate = rates.get(rates.len() / 2).copied().unwrap_or(0.0);
    let mut all: Vec<u64> = samples.into_iter().flat_map(|s| s.latencies).collect();
    all.sort_unstable();
    let us = |ns: u64| (ns as f64 / 100.0).round() / 10.0;
    Figures {
        ops_per_s: rate.round(),
        p50_us: us(quantile(&all, 0.5)),
        p99_us: us(quantile(&all, 0.99)),
        ops: all.len() as u64,
    }
}

fn owned_session(t: usize, tasks: usize, k: usize) -> usize {
    let count = (SESSIONS - t.min(SESSIONS - 1)).div_ceil(tasks).max(1);
    t + tasks * (k % count)
}

type DynStore = Arc<dyn SessionStore>;

/// A store plus what it takes to remove what the run wrote.
struct Opened {
    store: DynStore,
    what: String,
    cleanup: Option<Cleanup>,
}

type Cleanup = Box<dyn FnOnce() -> std::pin::Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

fn table_name() -> String {
    format!("ts_bench_{}", std::process::id())
}

async fn open(backend: &str, url: Option<&str>) -> BoxResult<Opened> {
    let url = || url.ok_or_else(|| format!("{backend} needs --url"));
    Ok(match backend {
        "memory" => Opened {
            store: Arc::new(MemoryStore::default()),
            what: "tower-sessions MemoryStore".into(),
            cleanup: None,
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
            }
        }
        "redis" => {
            let pool = Pool::new(Config::from_url(url()?)?, None, None, None, 6)?;
            pool.init().await?;
            Opened {
                store: Arc::new(RedisStore::new(pool)),
                what: "tower-sessions-redis-store RedisStore (fred pool of 6)".into(),
                cleanup: None,
            }
        }
        other => return Err(format!("no tower-sessions store for {other:?}").into()),
    })
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// Creates `records` concurrently (untimed setup), writing back the ids the store chose.
async fn create_all(store: &DynStore, records: Vec<Record>) -> BoxResult<Vec<Record>> {
    let shared = Arc::new(std::sync::Mutex::new(records));
    let n = shared.lock().map_err(|_| "poisoned")?.len();
    let (s, r) = (store.clone(), shared.clone());
    measure(32.min(n.max(1)), n, move |i| {
        let (s, r) = (s.clone(), r.clone());
        async move {
            let mut rec = r.lock().map_err(|_| "poisoned".to_owned())?[i].clone();
            s.create(&mut rec).await.map_err(err)?;
            r.lock().map_err(|_| "poisoned".to_owned())?[i] = rec;
            Ok(())
        }
    })
    .await?;
    let out = shared.lock().map_err(|_| "poisoned")?.drain(..).collect();
    Ok(out)
}

async fn run_op(
    store: &DynStore,
    pool: &[Record],
    created: &mut Vec<Id>,
    op: &str,
    tasks: usize,
    n: usize,
    payload: usize,
) -> BoxResult<Sample> {
    let s = store.clone();
    match op {
        "create" => {
            let fresh: Vec<Record> = (0..n).map(|i| sample(payload, i)).collect();
            let fresh = Arc::new(std::sync::Mutex::new(fresh));
            let f = fresh.clone();
            // The record is cloned before the clock starts; `create` takes it mutably.
            let prepared: Arc<Vec<std::sync::Mutex<Option<Record>>>> = Arc::new(
                f.lock()
                    .map_err(|_| "poisoned")?
                    .iter()
                    .map(|r| std::sync::Mutex::new(Some(r.clone())))
                    .collect(),
            );
            let p = prepared.clone();
            let sample = measure(tasks, n, move |i| {
                let (s, p) = (s.clone(), p.clone());
                let rec = p[i].lock().ok().and_then(|mut r| r.take());
                async move {
                    let mut rec = rec.ok_or("no record")?;
                    s.create(&mut rec).await.map_err(err)?;
                    drop(std::hint::black_box(rec));
                    Ok(())
                }
            })
            .await?;
            created.extend(fresh.lock().map_err(|_| "poisoned")?.iter().map(|r| r.id));
            Ok(sample)
        }
        "load" => {
            let ids: Arc<Vec<Id>> = Arc::new(pool.iter().map(|r| r.id).collect());
            measure(tasks, n, move |i| {
                let (s, ids) = (s.clone(), ids.clone());
                async move {
                    match s.load(&ids[i % ids.len()]).await.map_err(err)? {
                        Some(r) => {
                            drop(std::hint::black_box(r));
                            Ok(())
                        }
                        None => Err("a session went missing".into()),
                    }
                }
            })
            .await
        }
        "save" | "touch" => {
            let later = OffsetDateTime::now_utc() + TTL;
            let plan: Arc<Vec<Record>> = Arc::new(
                (0..n)
                    .map(|i| {
                        let mut r = pool[owned_session(i % tasks, tasks, i / tasks)].clone();
                        if op == "touch" {
                            r.expiry_date = later;
                        } else {
                            r.data.insert("n".into(), serde_json::Value::from(i));
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
        "delete" => {
            let doomed = create_all(store, (0..n).map(|i| sample(payload, i)).collect()).await?;
            let ids: Arc<Vec<Id>> = Arc::new(doomed.iter().map(|r| r.id).collect());
            measure(tasks, n, move |i| {
                let (s, ids) = (s.clone(), ids.clone());
                async move { s.delete(&ids[i]).await.map_err(err) }
            })
            .await
        }
        other => Err(format!("unknown operation {other:?}").into()),
    }
}

async fn store_command(args: &Args) -> BoxResult<()> {
    let backend = args.value("--backend").ok_or("--backend is required")?;
    let opened = open(backend, args.value("--url")).await?;
    let payloads = args.list("--payloads", &[100, 2048, 32768])?;
    let concurrency = args.list("--concurrency", &[1, 32])?;
    let n = args
        .list("--ops", &[3000])?
        .first()
        .copied()
        .unwrap_or(3000);
    let rounds = args
        .list("--rounds", &[3])?
        .first()
        .copied()
        .unwrap_or(3)
        .max(1);
    let ops: Vec<String> = args
        .value("--op-list")
        .unwrap_or("create,load,save,touch,delete")
        .split(',')
        .map(str::to_owned)
        .collect();
    let per_round = (n / rounds).max(1);
    let mut created: Vec<Id> = Vec::new();
    let result: BoxResult<()> = async {
        for &payload in &payloads {
            let pool = create_all(
                &opened.store,
                (0..SESSIONS).map(|i| sample(payload, i)).collect(),
            )
            .await?;
            created.extend(pool.iter().map(|r| r.id));
            for op in &ops {
                for &tasks in &concurrency {
                    let mut samples = Vec::new();
                    for _ in 0..rounds {
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
                    let row = PeerRow {
                        backend: backend.to_owned(),
                        op: op.clone(),
                        concurrency: tasks,
                        payload_bytes: payload,
                        side: Side {
                            what: if op == "touch" {
                                format!("{} (save with a later expiry)", opened.what)
                            } else {
                                opened.what.clone()
                            },
                            figures: summarize(samples),
                        },
                    };
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

fn page(body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>session demo</title></head>\
         <body>{body}</body></html>\n"
    ))
}

async fn index(session: Session) -> Result<Html<String>, StatusCode> {
    let logged_in = session
        .get::<bool>("logged_in")
        .await
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?
        .unwrap_or(false);
    Ok(if logged_in {
        page("<h1>You are logged in</h1><a id=\"logout\" href=\"/logout\">Logout</a>")
    } else {
        page("<h1>You are not logged in.</h1><a id=\"login\" href=\"/login\">Login now</a>")
    })
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

async fn serve_store<S: SessionStore + Clone>(store: S) -> BoxResult<()> {
    // A fixed deadline an hour away: sessions are written only when they change (the
    // default layer behaviour), and leftovers in a shared Redis expire by themselves.
    let layer = SessionManagerLayer::new(store)
        .with_secure(false)
        .with_expiry(Expiry::AtDateTime(
            OffsetDateTime::now_utc() + time::Duration::hours(1),
        ));
    let app = Router::new()
        .route("/", get(index))
        .route("/counter", get(counter))
        .layer(layer);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    println!("LISTENING {}", listener.local_addr()?);
    std::io::stdout().flush()?;
    let stop = async {
        let _ = tokio::task::spawn_blocking(|| {
            let mut sink = Vec::new();
            let _ = std::io::stdin().read_to_end(&mut sink);
        })
        .await;
    };
    axum::serve(listener, app)
        .with_graceful_shutdown(stop)
        .await?;
    Ok(())
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

async fn serve_command(args: &Args) -> BoxResult<()> {
    let backend = args.value("--backend").ok_or("--backend is required")?;
    let opened = open(backend, args.value("--url")).await?;
    let result = match backend {
        // The concrete types, so the layer is exactly what an app would build.
        "memory" => serve_store(MemoryStore::default()).await,
        _ => serve_store(Shared(opened.store.clone())).await,
    };
    if let Some(cleanup) = opened.cleanup {
        cleanup().await;
    }
    result
}

fn main() -> std::process::ExitCode {
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
        let args = Args::parse()?;
        match args.command.as_str() {
            "store" => store_command(&args).await,
            "serve" => serve_command(&args).await,
            other => Err(format!("unknown command {other:?}").into()),
        }
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("session-bench-peers: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
