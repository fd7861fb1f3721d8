//! `RedisStore`: load, save and create at 1 and 32 concurrent tasks, next to raw
//! redis-rs commands on the same connection, on the same bytes, in the same run.
//!
//! The raw baselines are the least redis-rs can do for the same job: load = `GET` of
//! the store's own keys (the very bytes the store reads); save = `SET … PXAT` and
//! create = `SET … NX PXAT` of the value the store would write (header + envelope,
//! encoded before the clock starts) under twin keys. The store additionally hashes the
//! id, encodes or decodes the envelope, checks expiry, runs the compare-and-set script
//! (`EVALSHA`) for saves, and maps errors: that is what the ratio shows. Both go through
//! one `ConnectionManager` (one multiplexed connection), as an app would.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use session_core::{Codec, Record, SessionStore, Timestamp, Value};
use session_redis::redis::aio::ConnectionManager;
use session_redis::redis::{self as client, ConnectionAddr};
use session_redis::{manager_config, RedisOptions, RedisStore};

use crate::report::{self, thousands, Table};
use crate::workload::{concurrently, median, owned, ratio_row, sample_record, SESSIONS};
use crate::{BoxResult, Flags};

/// Distinct sessions the load and save loops cycle through.
/// Each measurement is repeated this many times, alternating store and raw; the median
/// is reported.
const ROUNDS: usize = 3;
/// The concurrency levels measured.
const TASKS: [usize; 2] = [1, 32];

/// Options of the `redis` benchmark.
pub struct Options {
    ops: usize,
    url: String,
}

impl Options {
    /// Parses `--ops` and `--url URL`.
    pub fn parse(args: &[String]) -> BoxResult<Self> {
        let flags = Flags::new(args)?;
        flags.only(&["--ops", "--url"])?;
        Ok(Options {
            ops: flags.count("--ops", 10_000)?,
            url: flags.value("--url").map(str::to_owned).unwrap_or_else(|| {
                std::env::var("SESSION_TEST_REDIS_URL")
                    .unwrap_or_else(|_| "redis://127.0.0.1:6379/".to_owned())
            }),
        })
    }
}

/// The value the store writes for `r`: the 61-byte header, then the envelope. Built
/// here from the documented layout so the raw `SET`s move exactly the store's bytes.
fn stored_value(r: &Record) -> BoxResult<Vec<u8>> {
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

struct Bench {
    store: RedisStore,
    /// Twin of the store's prefix for the raw keys; also empties them at the end.
    raw_store: RedisStore,
    conn: ConnectionManager,
    records: Vec<Record>,
    cookies: Arc<Vec<String>>,
    keys: Arc<Vec<String>>,
    raw_keys: Arc<Vec<String>>,
    values: Arc<Vec<Vec<u8>>>,
}

impl Bench {
    async fn setup(conn: ConnectionManager, prefix: &str) -> BoxResult<Self> {
        let options = |prefix: String| RedisOptions::new().with_prefix(prefix);
        let store = RedisStore::from_manager(conn.clone(), options(prefix.to_owned()))?;
        let raw_store = RedisStore::from_manager(conn.clone(), options(format!("{prefix}raw:")))?;
        let now = Timestamp::from_system(SystemTime::now());
        let (mut records, mut cookies, mut keys, mut raw_keys, mut values) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut c = conn.clone();
        for i in 0..SESSIONS {
            let r = sample_record(now, i);
            cookies.push(store.create(&r).await?);
            let value = stored_value(&r)?;
            let raw_key = raw_store.key_of(&r.id);
            let _: () = client::cmd("SET")
                .arg(&raw_key)
                .arg(&value)
                .arg("PXAT")
                .arg(r.expires_at.as_millis())
                .query_async(&mut c)
                .await?;
            keys.push(store.key_of(&r.id));
            raw_keys.push(raw_key);
            values.push(value);
            records.push(r);
        }
        Ok(Bench {
            store,
            raw_store,
            conn,
            records,
            cookies: Arc::new(cookies),
            keys: Arc::new(keys),
            raw_keys: Arc::new(raw_keys),
            values: Arc::new(values),
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

    async fn raw_gets(&self, tasks: usize, ops: usize) -> BoxResult<f64> {
        concurrently(tasks, ops, |t, share| {
            let (mut conn, keys) = (self.conn.clone(), self.keys.clone());
            async move {
                for i in 0..share {
                    let key = &keys[(t + i * tasks) % SESSIONS];
                    let value: Option<Vec<u8>> = client::cmd("GET")
                        .arg(key)
                        .query_async(&mut conn)
                        .await
                        .map_err(|e| e.to_string())?;
                    if value.is_none() {
                        return Err("a key went missing".into());
                    }
                    std::hint::black_box(value);
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

    async fn raw_sets(&self, tasks: usize, ops: usize) -> BoxResult<f64> {
        concurrently(tasks, ops, |t, share| {
            let mut conn = self.conn.clone();
            let (keys, values) = (self.raw_keys.clone(), self.values.clone());
            let deadlines: Vec<i64> = self
                .records
                .iter()
                .map(|r| r.expires_at.as_millis())
                .collect();
            async move {
                let mine: Vec<usize> = owned(t, tasks).collect();
                for i in 0..share {
                    let idx = mine[i % mine.len()];
                    let _: () = client::cmd("SET")
                        .arg(&keys[idx])
                        .arg(&values[idx])
                        .arg("PXAT")
                        .arg(deadlines[idx])
                        .query_async(&mut conn)
                        .await
                        .map_err(|e| e.to_string())?;
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

    async fn raw_set_nxs(&self, tasks: usize, ops: usize) -> BoxResult<f64> {
        let now = Timestamp::from_system(SystemTime::now());
        let mut fresh = Vec::with_capacity(ops);
        for i in 0..ops {
            let r = sample_record(now, i);
            fresh.push((
                self.raw_store.key_of(&r.id),
                stored_value(&r)?,
                r.expires_at,
            ));
        }
        let fresh = Arc::new(fresh);
        concurrently(tasks, ops, |t, share| {
            let (mut conn, fresh) = (self.conn.clone(), fresh.clone());
            async move {
                for (key, value, deadline) in &fresh[t * share..(t + 1) * share] {
                    let set: Option<String> = client::cmd("SET")
                        .arg(key)
                        .arg(value)
                        .arg("NX")
                        .arg("PXAT")
                        .arg(deadline.as_millis())
                        .query_async(&mut conn)
                        .await
                        .map_err(|e| e.to_string())?;
                    if set.is_none() {
                        return Err("a fresh key was taken".into());
                    }
                }
                Ok(())
            }
        })
        .await
    }

    fn mean_value_bytes(&self) -> usize {
        self.values.iter().map(Vec::len).sum::<usize>() / self.values.len()
    }

    /// Deletes every key this run wrote.
    async fn clean(&self) {
        for store in [&self.store, &self.raw_store] {
            if let Err(e) = store.delete_all().await {
                eprintln!("  could not delete the keys under {}: {e}", store.prefix());
            }
        }
    }
}

async fn measure(bench: &mut Bench, ops: usize) -> BoxResult<()> {
    println!(
        "{} sessions, stored values of {} bytes (61-byte header + envelope), {ops} \
         operations per measurement, median of {ROUNDS} rounds\n",
        thousands(SESSIONS as u64),
        bench.mean_value_bytes()
    );
    // Warm the connection, the script cache and the server, untimed.
    bench.store_loads(TASKS[1], SESSIONS).await?;
    bench.raw_gets(TASKS[1], SESSIONS).await?;
    bench.store_saves(TASKS[1], SESSIONS).await?;

    let mut table = Table::new(&[
        "operation",
        "tasks",
        "ops",
        "RedisStore ops/s",
        "raw redis-rs ops/s",
        "RedisStore / raw",
    ]);
    for tasks in TASKS {
        let (mut s, mut r) = (Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            r.push(bench.raw_gets(tasks, ops).await?);
            s.push(bench.store_loads(tasks, ops).await?);
        }
        table.row(ratio_row("load / GET", tasks, ops, median(s), median(r)));
    }
    for tasks in TASKS {
        let (mut s, mut r) = (Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            r.push(bench.raw_sets(tasks, ops).await?);
            s.push(bench.store_saves(tasks, ops).await?);
        }
        table.row(ratio_row(
            "save / SET PXAT",
            tasks,
            ops,
            median(s),
            median(r),
        ));
    }
    for tasks in TASKS {
        let (mut s, mut r) = (Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            r.push(bench.raw_set_nxs(tasks, ops).await?);
            s.push(bench.store_creates(tasks, ops).await?);
        }
        table.row(ratio_row(
            "create / SET NX PXAT",
            tasks,
            ops,
            median(s),
            median(r),
        ));
    }
    println!("{}", table.render());
    Ok(())
}

/// Runs the whole `redis` benchmark and prints its table.
pub async fn run(opts: Options) -> BoxResult<()> {
    let redis_client = client::Client::open(opts.url.as_str())?;
    let server = match &redis_client.get_connection_info().addr() {
        ConnectionAddr::Tcp(host, port) => format!("{host}:{port}"),
        other => format!("{other}"),
    };
    let conn =
        ConnectionManager::new_with_config(redis_client, manager_config(Duration::from_secs(5)))
            .await
            .map_err(|e| format!("Redis is not reachable at {}: {e}", opts.url))?;
    let mut info_conn = conn.clone();
    let info: String = client::cmd("INFO")
        .arg("server")
        .query_async(&mut info_conn)
        .await?;
    let version = info
        .lines()
        .find_map(|l| l.strip_prefix("redis_version:"))
        .unwrap_or("unknown")
        .trim()
        .to_owned();
    println!("## RedisStore\n");
    println!("- machine: {}", report::machine());
    println!("- Redis {version} at {server}");
    println!("- one ConnectionManager (multiplexed) shared by the store and the raw commands\n");
    let prefix = format!("bench:{}:", std::process::id());
    let mut bench = Bench::setup(conn, &prefix).await?;
    let result = measure(&mut bench, opts.ops).await;
    bench.clean().await;
    result
}
