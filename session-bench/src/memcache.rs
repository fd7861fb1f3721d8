//! `MemcacheStore`: load, save and create at 1 and 32 concurrent tasks, next to raw
//! meta-protocol commands of the same client on the same bytes, in the same run; and,
//! for the choice of client, raw get/set through the crate's three clients: the async
//! `memcache::exp::AsyncMetaClient` the store uses, the blocking `exp::MetaClient` and
//! the r2d2-pooled binary-protocol `memcache::Client`, both run on `spawn_blocking`.
//!
//! The raw baselines are the least the store's client can do for the same job: load =
//! `mg <key> v` of the store's own keys (the very bytes it reads); save =
//! `ms <key> T<exptime>` and create = `ms <key> T<exptime> ME` (add) of the envelope
//! the store writes, encoded before the clock starts, under twin keys. The store
//! additionally hashes the id, encodes or decodes the envelope, checks expiry, arms its
//! timeout and, for saves, reads with the CAS token before its compare-and-swap (two
//! round trips where the raw set makes one): that is what the ratio shows.
//!
//! Without `--url` the benchmark starts a private memcached on a free loopback port
//! and stops it at the end; with one it writes only keys under its own prefix and
//! deletes them afterwards (never `flush_all`).

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use session_core::{Codec, Record, SessionId, SessionStore, Timestamp, Value};
use session_memcache::memcache;
use session_memcache::memcache::exp::{AsyncMetaClient, GetStatus, MetaClient, MutationStatus};
use session_memcache::{MemcacheOptions, MemcacheStore};

use crate::report::{self, fmt_rate, thousands, Table};
use crate::workload::{
    concurrently, median, owned, ratio_row, sample_record, TaskResult, SESSIONS, TTL,
};
use crate::{BoxResult, Flags};

/// Distinct sessions the load and save loops cycle through.
/// Each measurement is repeated this many times, alternating store and raw; the median
/// is reported.
const ROUNDS: usize = 3;
/// The concurrency levels measured.
const TASKS: [usize; 2] = [1, 32];
/// Generous: a benchmark should report slowness, not fail on it.
const TIMEOUT: Duration = Duration::from_secs(5);

/// Options of the `memcache` benchmark.
pub struct Options {
    ops: usize,
    url: Option<String>,
}

impl Options {
    /// Parses `--ops` and `--url memcache://host:port[,host:port]`.
    pub fn parse(args: &[String]) -> BoxResult<Self> {
        let flags = Flags::new(args)?;
        flags.only(&["--ops", "--url"])?;
        Ok(Options {
            ops: flags.count("--ops", 10_000)?,
            url: flags
                .value("--url")
                .map(str::to_owned)
                .or_else(|| std::env::var("SESSION_TEST_MEMCACHE_URL").ok()),
        })
    }
}

/// A memcached started for this run, stopped when dropped.
struct PrivateServer {
    child: Child,
    addr: String,
}

impl PrivateServer {
    fn start() -> BoxResult<Self> {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let child = Command::new("memcached")
            .args(["-l", "127.0.0.1", "-p", &port.to_string(), "-U", "0"])
            .args(["-m", "1024", "-c", "4096", "-u", "root"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| {
                format!(
                    "cannot start memcached ({e}): install it (apt-get install memcached, or \
                     session-memcache/ci-services.sh) or pass --url memcache://host:port"
                )
            })?;
        let mut server = PrivateServer {
            child,
            addr: format!("127.0.0.1:{port}"),
        };
        let started = Instant::now();
        loop {
            if let Some(status) = server.child.try_wait()? {
                return Err(format!("memcached exited at start: {status}").into());
            }
            let answered = MetaClient::connect(server.addr.as_str())
                .and_then(|c| c.noop())
                .is_ok();
            if answered {
                return Ok(server);
            }
            if started.elapsed() > Duration::from_secs(10) {
                return Err("memcached did not answer within 10 s".into());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for PrivateServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs one blocking client call on tokio's blocking pool, as the store runs its own.
async fn offload<T, F>(f: F) -> TaskResult<T>
where
    F: FnOnce() -> TaskResult<T> + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| e.to_string())?
}

/// The exptime the store sends for a deadline `TTL` away: relative seconds.
fn exptime() -> u32 {
    TTL.as_secs() as u32
}

struct Bench {
    store: MemcacheStore,
    /// The store's client kind, for the raw baselines.
    meta: AsyncMetaClient,
    /// The crate's blocking clients, for the client-choice table.
    blocking: MetaClient,
    pooled: memcache::Client,
    records: Vec<Record>,
    cookies: Arc<Vec<String>>,
    keys: Arc<Vec<String>>,
    raw_keys: Arc<Vec<String>>,
    values: Arc<Vec<Vec<u8>>>,
    /// Every fresh id `store_creates` wrote, and every fresh raw key, for the cleanup.
    created: Vec<SessionId>,
    created_raw: Vec<String>,
}

impl Bench {
    async fn setup(servers: &[String], prefix: &str) -> BoxResult<Self> {
        let options = MemcacheOptions::new(servers)?
            .with_prefix(prefix.to_owned())?
            .with_timeout(TIMEOUT);
        let store = MemcacheStore::connect(options).await?;
        let addrs: Vec<String> = servers.to_vec();
        let meta = AsyncMetaClient::builder()
            .io_timeout(Some(TIMEOUT))
            .connect_timeout(Some(TIMEOUT))
            .max_idle(64)
            .connect_multiple_async(addrs.iter().map(String::as_str))
            .await?;
        let blocking = MetaClient::builder()
            .io_timeout(Some(TIMEOUT))
            .connect_timeout(Some(TIMEOUT))
            .max_idle(64)
            .connect_multiple(addrs.iter().map(String::as_str))?;
        let urls: Vec<String> = addrs
            .iter()
            .map(|a| format!("memcache://{a}?timeout=5"))
            .collect();
        let pooled = tokio::task::spawn_blocking(move || {
            memcache::Client::builder()
                .add_server(urls)?
                .with_max_pool_size(32)
                .with_connection_timeout(TIMEOUT)
                .build()
        })
        .await??;

        let now = Timestamp::from_system(SystemTime::now());
        let (mut records, mut cookies, mut keys, mut raw_keys, mut values) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for i in 0..SESSIONS {
            let r = sample_record(now, i);
            cookies.push(store.create(&r).await?);
            let key = store.key_for(&r.id);
            raw_keys.push(format!("{prefix}raw:{}", r.id.storage_key().to_hex()));
            keys.push(key);
            values.push(Codec::MessagePack.encode(&r)?);
            records.push(r);
        }
        let bench = Bench {
            store,
            meta,
            blocking,
            pooled,
            records,
            cookies: Arc::new(cookies),
            keys: Arc::new(keys),
            raw_keys: Arc::new(raw_keys),
            values: Arc::new(values),
            created: Vec::new(),
            created_raw: Vec::new(),
        };
        // The raw twins, so raw sets overwrite items of the same size.
        bench.raw_sets(TASKS[1], SESSIONS).await?;
        Ok(bench)
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
            let (meta, keys) = (self.meta.clone(), self.keys.clone());
            async move {
                for i in 0..share {
                    let key = &keys[(t + i * tasks) % SESSIONS];
                    let r = meta.get(key).send().await.map_err(|e| e.to_string())?;
                    if r.status != GetStatus::Hit {
                        return Err("a key went missing".to_owned());
                    }
                    std::hint::black_box(r.value);
                }
                Ok(())
            }
        })
        .await
    }

    async fn blocking_gets(&self, tasks: usize, ops: usize) -> BoxResult<f64> {
        concurrently(tasks, ops, |t, share| {
            let (blocking, keys) = (self.blocking.clone(), self.keys.clone());
            async move {
                for i in 0..share {
                    let (blocking, keys) = (blocking.clone(), keys.clone());
                    let value = offload(move || {
                        let key = &keys[(t + i * tasks) % SESSIONS];
                        let r = blocking.get(key).send().map_err(|e| e.to_string())?;
                        match r.status {
                            GetStatus::Hit => Ok(r.value),
                            _ => Err("a key went missing".to_owned()),
                        }
                    })
                    .await?;
                    std::hint::black_box(value);
                }
                Ok(())
            }
        })
        .await
    }

    async fn pooled_gets(&self, tasks: usize, ops: usize) -> BoxResult<f64> {
        concurrently(tasks, ops, |t, share| {
            let (pooled, keys) = (self.pooled.clone(), self.keys.clone());
            async move {
                for i in 0..share {
                    let (pooled, keys) = (pooled.clone(), keys.clone());
                    let value = offload(move || {
                        let key = &keys[(t + i * tasks) % SESSIONS];
                        let v: Option<Vec<u8>> = pooled.get(key).map_err(|e| e.to_string())?;
                        v.ok_or_else(|| "a key went missing".to_owned())
                    })
                    .await?;
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
            let meta = self.meta.clone();
            let (keys, values) = (self.raw_keys.clone(), self.values.clone());
            async move {
                let mine: Vec<usize> = owned(t, tasks).collect();
                for i in 0..share {
                    let idx = mine[i % mine.len()];
                    let r = meta
                        .set(&keys[idx], &values[idx])
                        .ttl_raw(exptime())
                        .send()
                        .await
                        .map_err(|e| e.to_string())?;
                    if r.status != MutationStatus::Applied {
                        return Err(format!("raw set answered {:?}", r.status));
                    }
                }
                Ok(())
            }
        })
        .await
    }

    async fn blocking_sets(&self, tasks: usize, ops: usize) -> BoxResult<f64> {
        concurrently(tasks, ops, |t, share| {
            let blocking = self.blocking.clone();
            let (keys, values) = (self.raw_keys.clone(), self.values.clone());
            async move {
                let mine: Vec<usize> = owned(t, tasks).collect();
                for i in 0..share {
                    let idx = mine[i % mine.len()];
                    let (blocking, keys, values) = (blocking.clone(), keys.clone(), values.clone());
                    offload(move || {
                        let r = blocking
                            .set(&keys[idx], &values[idx])
                            .ttl_raw(exptime())
                            .send()
                            .map_err(|e| e.to_string())?;
                        match r.status {
                            MutationStatus::Applied => Ok(()),
                            other => Err(format!("raw set answered {other:?}")),
                        }
                    })
                    .await?;
                }
                Ok(())
            }
        })
        .await
    }

    async fn pooled_sets(&self, tasks: usize, ops: usize) -> BoxResult<f64> {
        concurrently(tasks, ops, |t, share| {
            let pooled = self.pooled.clone();
            let (keys, values) = (self.raw_keys.clone(), self.values.clone());
            async move {
                let mine: Vec<usize> = owned(t, tasks).collect();
                for i in 0..share {
                    let idx = mine[i % mine.len()];
                    let (pooled, keys, values) = (pooled.clone(), keys.clone(), values.clone());
                    offload(move || {
                        pooled
                            .set(&keys[idx], &values[idx][..], exptime())
                            .map_err(|e| e.to_string())
                    })
                    .await?;
                }
                Ok(())
            }
        })
        .await
    }

    async fn store_creates(&mut self, tasks: usize, ops: usize) -> BoxResult<f64> {
        let now = Timestamp::from_system(SystemTime::now());
        let fresh: Vec<Record> = (0..ops).map(|i| sample_record(now, i)).collect();
        self.created.extend(fresh.iter().map(|r| r.id));
        let fresh = Arc::new(fresh);
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

    async fn raw_adds(&mut self, tasks: usize, ops: usize) -> BoxResult<f64> {
        let now = Timestamp::from_system(SystemTime::now());
        let prefix = self.store.prefix().to_string();
        let mut fresh = Vec::with_capacity(ops);
        for i in 0..ops {
            let r = sample_record(now, i);
            let key = format!("{prefix}raw:{}", r.id.storage_key().to_hex());
            self.created_raw.push(key.clone());
            fresh.push((key, Codec::MessagePack.encode(&r)?));
        }
        let fresh = Arc::new(fresh);
        concurrently(tasks, ops, |t, share| {
            let (meta, fresh) = (self.meta.clone(), fresh.clone());
            async move {
                for (key, value) in &fresh[t * share..(t + 1) * share] {
                    let r = meta
                        .set(key, value)
                        .ttl_raw(exptime())
                        .add()
                        .send()
                        .await
                        .map_err(|e| e.to_string())?;
                    if r.status != MutationStatus::Applied {
                        return Err(format!("a fresh key was taken: {:?}", r.status));
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

    /// Deletes every key this run wrote, one by one (memcached cannot list them, and
    /// a shared server is never flushed).
    async fn clean(&self) {
        let mut failures = 0usize;
        let ids = self
            .records
            .iter()
            .map(|r| r.id)
            .chain(self.created.iter().copied());
        for id in ids {
            if self.store.delete(&id).await.is_err() {
                failures += 1;
            }
        }
        let mut raw_failures = 0usize;
        for key in self.raw_keys.iter().chain(&self.created_raw) {
            if self.meta.delete(key.as_str()).send().await.is_err() {
                raw_failures += 1;
            }
        }
        if failures + raw_failures > 0 {
            eprintln!("  could not delete every key under {}", self.store.prefix());
        }
    }
}

async fn measure(bench: &mut Bench, ops: usize) -> BoxResult<()> {
    println!(
        "{} sessions, envelopes of {} bytes, {ops} operations per measurement, median of \
         {ROUNDS} rounds\n",
        thousands(SESSIONS as u64),
        bench.mean_value_bytes()
    );
    // Warm the connections, the blocking pool and the server, untimed.
    bench.store_loads(TASKS[1], SESSIONS).await?;
    bench.raw_gets(TASKS[1], SESSIONS).await?;
    bench.blocking_gets(TASKS[1], SESSIONS).await?;
    bench.pooled_gets(TASKS[1], SESSIONS).await?;
    bench.store_saves(TASKS[1], SESSIONS).await?;

    let mut table = Table::new(&[
        "operation",
        "tasks",
        "ops",
        "MemcacheStore ops/s",
        "raw meta ops/s",
        "MemcacheStore / raw",
    ]);
    for tasks in TASKS {
        let (mut s, mut r) = (Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            r.push(bench.raw_gets(tasks, ops).await?);
            s.push(bench.store_loads(tasks, ops).await?);
        }
        table.row(ratio_row("load / mg", tasks, ops, median(s), median(r)));
    }
    for tasks in TASKS {
        let (mut s, mut r) = (Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            r.push(bench.raw_sets(tasks, ops).await?);
            s.push(bench.store_saves(tasks, ops).await?);
        }
        table.row(ratio_row(
            "save (mg + ms C) / ms",
            tasks,
            ops,
            median(s),
            median(r),
        ));
    }
    for tasks in TASKS {
        let (mut s, mut r) = (Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            r.push(bench.raw_adds(tasks, ops).await?);
            s.push(bench.store_creates(tasks, ops).await?);
        }
        table.row(ratio_row(
            "create / ms ME (add)",
            tasks,
            ops,
            median(s),
            median(r),
        ));
    }
    println!("{}", table.render());

    println!("### Client choice: raw get / set of the same bytes\n");
    let mut clients = Table::new(&[
        "operation",
        "tasks",
        "async exp::AsyncMetaClient ops/s",
        "blocking exp::MetaClient ops/s",
        "r2d2 binary Client ops/s",
        "async / blocking meta",
    ]);
    for (op, gets) in [("get", true), ("set", false)] {
        for tasks in TASKS {
            let (mut a, mut b, mut p) = (Vec::new(), Vec::new(), Vec::new());
            for _ in 0..ROUNDS {
                if gets {
                    p.push(bench.pooled_gets(tasks, ops).await?);
                    b.push(bench.blocking_gets(tasks, ops).await?);
                    a.push(bench.raw_gets(tasks, ops).await?);
                } else {
                    p.push(bench.pooled_sets(tasks, ops).await?);
                    b.push(bench.blocking_sets(tasks, ops).await?);
                    a.push(bench.raw_sets(tasks, ops).await?);
                }
            }
            let (a, b, p) = (median(a), median(b), median(p));
            clients.row(vec![
                op.into(),
                tasks.to_string(),
                fmt_rate(a),
                fmt_rate(b),
                fmt_rate(p),
                format!("{:.2}", a / b),
            ]);
        }
    }
    println!("{}", clients.render());
    println!(
        "The blocking clients run each call on tokio's blocking pool, as a blocking client \
         must be run in an async server; the hand-off to a pool thread and back costs more \
         than a loopback round trip. The r2d2 client also checks every connection out \
         with a `version` round trip and cannot tell a broken connection (no \
         `has_broken`), so after a timeout it may read a late reply as the answer to the \
         next command. The store uses the async meta client, which drops a connection \
         after any failed or cancelled exchange.\n"
    );
    Ok(())
}

/// Runs the whole `memcache` benchmark and prints its tables.
pub async fn run(opts: Options) -> BoxResult<()> {
    let (private, servers) = match &opts.url {
        Some(url) => (None, MemcacheOptions::from_url(url)?.servers().to_vec()),
        None => {
            let server =
                tokio::task::spawn_blocking(|| PrivateServer::start().map_err(|e| e.to_string()))
                    .await??;
            let addr = server.addr.clone();
            (Some(server), vec![addr])
        }
    };
    let version = {
        let meta = AsyncMetaClient::connect_multiple(servers.iter().map(String::as_str)).await?;
        meta.noop()
            .await
            .map_err(|e| format!("memcached does not answer: {e}"))?;
        servers[0].clone()
    };
    let binary = Command::new("memcached")
        .arg("-V")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|| "memcached (version unknown)".to_owned());
    println!("## MemcacheStore\n");
    println!("- machine: {}", report::machine());
    match &private {
        Some(_) => println!("- {binary}, private server at {version} (-m 1024), loopback TCP"),
        None => println!("- memcached at {}", servers.join(", ")),
    }
    println!(
        "- the store and the raw baselines each use their own `memcache::exp::AsyncMetaClient`\n"
    );
    let prefix = format!("bench:{}:", std::process::id());
    let mut bench = Bench::setup(&servers, &prefix).await?;
    let result = measure(&mut bench, opts.ops).await;
    if private.is_none() {
        bench.clean().await;
    }
    drop(private);
    result
}
