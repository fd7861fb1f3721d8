//! tower-sessions, measured the way session-bench measures our stores.
//!
//! ```text
//! session-bench-peers store --backend memory|sqlite|postgres|mysql|redis [--url URL]
//!     [--payloads 100,2048,32768] [--concurrency 1,32] [--ops 3000] [--rounds 5]
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
//!
//! The grid, its flags, the sample text, the timed runner, the statistics, the row
//! schema and the server's stop rule are session-bench's own source files
//! (`session-bench/src/shared/`), included here: this workspace has its own lockfile, so
//! it cannot depend on the bench crate, and the two sides cannot drift apart.

// Shared with session-bench, which uses all of it; the peers need most.
#[allow(dead_code)]
#[path = "../../src/shared/measure.rs"]
mod measure;
#[path = "../../src/shared/serve.rs"]
mod serve;

use std::collections::HashMap;
use std::io::Write as _;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use axum::response::Html;
use axum::routing::get;
use axum::Router;
use clap::Parser;
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
    /// Serve `GET /` and `GET /counter` behind `SessionManagerLayer` on the store until
    /// standard input closes.
    Serve {
        #[command(flatten)]
        target: StoreArgs,
    },
}

/// Which tower-sessions store, and where.
#[derive(Debug, clap::Args)]
struct StoreArgs {
    /// The backend.
    #[arg(long, value_parser = ["memory", "sqlite", "postgres", "mysql", "redis"])]
    backend: String,
    /// Its URL (every backend but memory needs one).
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
}

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
                    .enumerate()
                    .map(|(i, idx)| {
                        let mut r = pool[idx].clone();
                        if op == Op::Touch {
                            r.expiry_date = later;
                        } else {
                            // New bytes, as a real save writes (tower-sessions has no
                            // version to bump).
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
                    let row = PeerRow {
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
    serve::until_stdin_closes(app).await
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

async fn serve_command(target: &StoreArgs) -> BoxResult<()> {
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

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
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
            Cli::Serve { target } => serve_command(&target).await,
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
