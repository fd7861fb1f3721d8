//! `SqlStore`: load, save and create at 1 and 32 concurrent tasks, next to raw sqlx
//! statements on the same pool, in the same run, on SQLite (a file in WAL mode) and,
//! when they answer, PostgreSQL and MariaDB/MySQL.
//!
//! The raw baselines are the least sqlx can do for the same job, on the same bytes:
//! load = `SELECT data … WHERE session_id = ?` on the store's own table; save and
//! create = one upsert (`INSERT … ON CONFLICT DO UPDATE`, MySQL's `ON DUPLICATE KEY
//! UPDATE`) of the five columns, with the envelope encoded before the clock starts,
//! into a twin table of the same schema. The store additionally hashes the id, encodes
//! or decodes the envelope, checks expiry and versions in its `WHERE`, and maps
//! errors: that is what the ratio shows.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use session_core::{Codec, Record, SessionStore, Timestamp, Value};
use session_sql::{ConnectOptions, SqlPool, SqlStore, TableName};

use crate::report::{self, thousands, Table};
use crate::workload::{
    concurrently, median, owned, ratio_row, sample_record, TaskResult, SESSIONS,
};
use crate::{BoxResult, Flags};

/// Distinct sessions the load and save loops cycle through.
/// Each measurement is repeated this many times, alternating store and raw; the median
/// is reported.
const ROUNDS: usize = 3;
/// The concurrency levels measured.
const TASKS: [usize; 2] = [1, 32];

/// Options of the `sql` benchmark.
pub struct Options {
    ops: usize,
    postgres: String,
    mysql: String,
}

impl Options {
    /// Parses `--ops`, `--postgres URL` and `--mysql URL`.
    pub fn parse(args: &[String]) -> BoxResult<Self> {
        let flags = Flags::new(args)?;
        flags.only(&["--ops", "--postgres", "--mysql"])?;
        let env_or = |var: &str, default: &str| std::env::var(var).unwrap_or(default.to_owned());
        Ok(Options {
            ops: flags.count("--ops", 2_000)?,
            postgres: flags
                .value("--postgres")
                .map(str::to_owned)
                .unwrap_or_else(|| {
                    env_or(
                        "SESSION_TEST_POSTGRES_URL",
                        "postgres://postgres@127.0.0.1:5432/test",
                    )
                }),
            mysql: flags
                .value("--mysql")
                .map(str::to_owned)
                .unwrap_or_else(|| {
                    env_or("SESSION_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/test")
                }),
        })
    }
}

/// The raw statements, per database.
struct RawSql {
    select: String,
    upsert: String,
}

impl RawSql {
    fn new(pool: &SqlPool, table: &TableName, twin: &TableName) -> Self {
        let cols = "session_id, atime, expires_at, version, data";
        match pool {
            SqlPool::MySql(_) => RawSql {
                select: format!("SELECT data FROM {table} WHERE session_id = ?"),
                upsert: format!(
                    "INSERT INTO {twin} ({cols}) VALUES (?, ?, ?, ?, ?) ON DUPLICATE KEY \
                     UPDATE atime = VALUES(atime), expires_at = VALUES(expires_at), \
                     version = VALUES(version), data = VALUES(data)"
                ),
            },
            _ => RawSql {
                select: format!("SELECT data FROM {table} WHERE session_id = $1"),
                upsert: format!(
                    "INSERT INTO {twin} ({cols}) VALUES ($1, $2, $3, $4, $5) ON CONFLICT \
                     (session_id) DO UPDATE SET atime = excluded.atime, \
                     expires_at = excluded.expires_at, version = excluded.version, \
                     data = excluded.data"
                ),
            },
        }
    }
}

/// One raw single-row SELECT of the data column.
async fn raw_select(pool: &SqlPool, sql: &str, key: &str) -> TaskResult<Vec<u8>> {
    let row = match pool {
        SqlPool::Sqlite(p) => sqlx::query_scalar(sql).bind(key).fetch_one(p).await,
        SqlPool::Postgres(p) => sqlx::query_scalar(sql).bind(key).fetch_one(p).await,
        SqlPool::MySql(p) => sqlx::query_scalar(sql).bind(key).fetch_one(p).await,
        _ => return Err("unsupported pool".into()),
    };
    row.map_err(|e| e.to_string())
}

/// One raw upsert of the five columns, with `version` as given.
async fn raw_upsert(
    pool: &SqlPool,
    sql: &str,
    key: &str,
    r: &Record,
    version: i64,
    bytes: &[u8],
) -> TaskResult<()> {
    let (atime, expires) = (r.accessed_at.as_millis(), r.expires_at.as_millis());
    let done = match pool {
        SqlPool::Sqlite(p) => sqlx::query(sql)
            .bind(key)
            .bind(atime)
            .bind(expires)
            .bind(version)
            .bind(bytes)
            .execute(p)
            .await
            .map(drop),
        SqlPool::Postgres(p) => sqlx::query(sql)
            .bind(key)
            .bind(atime)
            .bind(expires)
            .bind(version)
            .bind(bytes)
            .execute(p)
            .await
            .map(drop),
        SqlPool::MySql(p) => sqlx::query(sql)
            .bind(key)
            .bind(atime)
            .bind(expires)
            .bind(version)
            .bind(bytes)
            .execute(p)
            .await
            .map(drop),
        _ => return Err("unsupported pool".into()),
    };
    done.map_err(|e| e.to_string())
}

struct Bench {
    store: SqlStore,
    raw: Arc<RawSql>,
    records: Vec<Record>,
    cookies: Arc<Vec<String>>,
    keys: Arc<Vec<String>>,
    payloads: Arc<Vec<Vec<u8>>>,
    raw_version: i64,
}

impl Bench {
    async fn setup(store: SqlStore, twin: TableName) -> BoxResult<Self> {
        store.migrate().await?;
        store.clone().with_table(twin.clone()).migrate().await?;
        let raw = RawSql::new(store.pool(), store.table(), &twin);
        let now = Timestamp::from_system(SystemTime::now());
        let (mut records, mut cookies, mut keys, mut payloads) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for i in 0..SESSIONS {
            let r = sample_record(now, i);
            cookies.push(store.create(&r).await?);
            let key = r.id.storage_key().to_hex();
            let bytes = Codec::MessagePack.encode(&r)?;
            raw_upsert(store.pool(), &raw.upsert, &key, &r, 1, &bytes).await?;
            keys.push(key);
            payloads.push(bytes);
            records.push(r);
        }
        Ok(Bench {
            store,
            raw: Arc::new(raw),
            records,
            cookies: Arc::new(cookies),
            keys: Arc::new(keys),
            payloads: Arc::new(payloads),
            raw_version: 0,
        })
    }

    async fn store_loads(&self, tasks: usize, ops: usize) -> BoxResult<f64> {
        concurrently(tasks, ops, |t, share| {
            let (store, cookies) = (self.store.clone(), self.cookies.clone());
            async move {
                for i in 0..share {
                    let cookie = &cookies[(t + i * tasks) % SESSIONS];
                    match store.load(cookie).await {
                        Ok(Some(r)) => drop(std::hint::black_box(r)),
                        Ok(None) => return Err("a session went missing".into()),
                        Err(e) => return Err(e.to_string()),
                    }
                }
                Ok(())
            }
        })
        .await
    }

    async fn raw_loads(&self, tasks: usize, ops: usize) -> BoxResult<f64> {
        concurrently(tasks, ops, |t, share| {
            let (pool, raw, keys) = (
                self.store.pool().clone(),
                self.raw.clone(),
                self.keys.clone(),
            );
            async move {
                for i in 0..share {
                    let key = &keys[(t + i * tasks) % SESSIONS];
                    std::hint::black_box(raw_select(&pool, &raw.select, key).await?);
                }
                Ok(())
            }
        })
        .await
    }

    async fn store_saves(&mut self, tasks: usize, ops: usize) -> BoxResult<f64> {
        // Each task saves only its own sessions, each save the next version; the
        // records are built before the clock starts.
        let mut plans: Vec<Vec<Record>> = Vec::with_capacity(tasks);
        for t in 0..tasks {
            let mine: Vec<usize> = owned(t, tasks).collect();
            let mut plan = Vec::with_capacity(ops / tasks);
            for i in 0..ops / tasks {
                let idx = mine[i % mine.len()];
                let mut next = self.records[idx].clone();
                next.version += 1;
                next.data.insert("n".into(), Value::from(i));
                self.records[idx] = next.clone();
                plan.push(next);
            }
            plans.push(plan);
        }
        let plans = Arc::new(plans);
        concurrently(tasks, ops, |t, _| {
            let (store, plans) = (self.store.clone(), plans.clone());
            async move {
                for next in &plans[t] {
                    store
                        .save(next, next.version - 1)
                        .await
                        .map_err(|e| e.to_string())?;
                }
                Ok(())
            }
        })
        .await
    }

    async fn raw_saves(&mut self, tasks: usize, ops: usize) -> BoxResult<f64> {
        // A new version on every write, as the store writes: an upsert of identical
        // values would let MySQL skip the row change and its log flush.
        self.raw_version += 1;
        let base = self.raw_version * ops as i64;
        concurrently(tasks, ops, |t, share| {
            let pool = self.store.pool().clone();
            let (raw, keys, payloads) =
                (self.raw.clone(), self.keys.clone(), self.payloads.clone());
            let records = self.records.clone();
            async move {
                let mine: Vec<usize> = owned(t, tasks).collect();
                for i in 0..share {
                    let idx = mine[i % mine.len()];
                    let version = base + (t * share + i) as i64;
                    let (key, bytes) = (&keys[idx], &payloads[idx]);
                    raw_upsert(&pool, &raw.upsert, key, &records[idx], version, bytes).await?;
                }
                Ok(())
            }
        })
        .await
    }

    async fn store_creates(&self, tasks: usize, ops: usize) -> BoxResult<f64> {
        let now = Timestamp::from_system(SystemTime::now());
        let fresh: Arc<Vec<Record>> = Arc::new((0..ops).map(|i| sample_record(now, i)).collect());
        concurrently(tasks, ops, |t, share| {
            let (store, fresh) = (self.store.clone(), fresh.clone());
            async move {
                for r in &fresh[t * share..(t + 1) * share] {
                    store.create(r).await.map_err(|e| e.to_string())?;
                }
                Ok(())
            }
        })
        .await
    }

    async fn raw_creates(&self, tasks: usize, ops: usize) -> BoxResult<f64> {
        let now = Timestamp::from_system(SystemTime::now());
        let mut fresh = Vec::with_capacity(ops);
        for i in 0..ops {
            let r = sample_record(now, i);
            let bytes = Codec::MessagePack.encode(&r)?;
            fresh.push((r.id.storage_key().to_hex(), r, bytes));
        }
        let fresh = Arc::new(fresh);
        concurrently(tasks, ops, |t, share| {
            let (pool, raw, fresh) = (self.store.pool().clone(), self.raw.clone(), fresh.clone());
            async move {
                for (key, r, bytes) in &fresh[t * share..(t + 1) * share] {
                    raw_upsert(&pool, &raw.upsert, key, r, 1, bytes).await?;
                }
                Ok(())
            }
        })
        .await
    }

    fn mean_record_bytes(&self) -> usize {
        self.payloads.iter().map(Vec::len).sum::<usize>() / self.payloads.len()
    }
}

/// Measures one database and prints its table.
async fn measure(name: &str, store: SqlStore, ops: usize) -> BoxResult<()> {
    let mut bench = Bench::setup(store, bench_table("raw")?).await?;
    println!(
        "### {name}\n\n{} sessions of {} bytes (encoded), {ops} operations per \
         measurement, median of {ROUNDS} rounds\n",
        thousands(SESSIONS as u64),
        bench.mean_record_bytes()
    );
    // Warm the pool, the statement caches and the server's buffers, untimed.
    bench.store_loads(TASKS[1], SESSIONS).await?;
    bench.raw_loads(TASKS[1], SESSIONS).await?;

    let mut table = Table::new(&[
        "operation",
        "tasks",
        "ops",
        "SqlStore ops/s",
        "raw sqlx ops/s",
        "SqlStore / raw",
    ]);
    for tasks in TASKS {
        let (mut s, mut r) = (Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            r.push(bench.raw_loads(tasks, ops).await?);
            s.push(bench.store_loads(tasks, ops).await?);
        }
        table.row(ratio_row("load / SELECT", tasks, ops, median(s), median(r)));
    }
    for tasks in TASKS {
        let (mut s, mut r) = (Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            r.push(bench.raw_saves(tasks, ops).await?);
            s.push(bench.store_saves(tasks, ops).await?);
        }
        table.row(ratio_row("save / upsert", tasks, ops, median(s), median(r)));
    }
    for tasks in TASKS {
        let (mut s, mut r) = (Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            r.push(bench.raw_creates(tasks, ops).await?);
            s.push(bench.store_creates(tasks, ops).await?);
        }
        table.row(ratio_row(
            "create / upsert",
            tasks,
            ops,
            median(s),
            median(r),
        ));
    }
    println!("{}", table.render());
    Ok(())
}

/// A table name of this run: `bench_<what>_<pid>`, dropped at the end.
fn bench_table(what: &str) -> BoxResult<TableName> {
    Ok(TableName::new(&format!(
        "bench_{what}_{}",
        std::process::id()
    ))?)
}

async fn drop_tables(store: &SqlStore) {
    for what in ["sessions", "raw"] {
        let Ok(table) = bench_table(what) else {
            continue;
        };
        let sql = format!("DROP TABLE IF EXISTS {table}");
        let dropped = match store.pool() {
            SqlPool::Sqlite(p) => sqlx::raw_sql(&sql).execute(p).await.map(drop),
            SqlPool::Postgres(p) => sqlx::raw_sql(&sql).execute(p).await.map(drop),
            SqlPool::MySql(p) => sqlx::raw_sql(&sql).execute(p).await.map(drop),
            _ => Ok(()),
        };
        if let Err(e) = dropped {
            eprintln!("  could not drop {table}: {e}");
        }
    }
}

/// Runs the whole `sql` benchmark and prints its tables.
pub async fn run(opts: Options) -> BoxResult<()> {
    let scratch = tempfile::tempdir()?;
    println!("## SqlStore\n");
    println!("- machine: {}", report::machine());
    println!(
        "- SQLite file: {} ({}), WAL, synchronous=NORMAL",
        scratch.path().display(),
        report::filesystem(scratch.path())
    );
    println!("- pools of 32 connections; raw statements on the same pool\n");
    let options = || {
        ConnectOptions::new()
            .max_connections(32)
            .acquire_timeout(Duration::from_secs(5))
    };
    let sqlite = format!("sqlite://{}", scratch.path().join("bench.db").display());
    let targets = [
        ("SQLite", sqlite),
        ("PostgreSQL", opts.postgres.clone()),
        ("MariaDB/MySQL", opts.mysql.clone()),
    ];
    for (name, url) in targets {
        let store = match SqlStore::connect_with(&url, options()).await {
            Ok(store) => store.with_table(bench_table("sessions")?),
            Err(e) => {
                println!("### {name}\n\nskipped: not reachable ({e})\n");
                continue;
            }
        };
        let result = measure(name, store.clone(), opts.ops).await;
        drop_tables(&store).await;
        store.pool().close().await;
        result?;
    }
    Ok(())
}
