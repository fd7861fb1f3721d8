//! The one generic driver: create, load, save, touch and delete through any
//! [`SessionStore`], next to a backend's raw client doing the minimal equivalent I/O,
//! over a grid of concurrency levels and payload sizes. A backend module only says how
//! to open its store and supplies its [`Raw`] client.

use std::sync::Arc;

use async_trait::async_trait;
use session_core::{Codec, Error, Record, SessionStore};

use crate::measure::{
    err, loaded, measure, measure_map, plan_indices, round2, summarize, Cleanup, Grid, Op, Sample,
    Side, TaskResult, SESSIONS, TTL,
};
use crate::results::Row;
use crate::workload::{now, sample_record};
use crate::BoxResult;

/// A server's own count of the commands it has served (memcached's `stats`), read
/// around our store's rounds so that a row can say how many commands one of our
/// operations sent: the round trips of a store that sends one command per trip.
#[async_trait]
pub trait CommandCount: Send + Sync + 'static {
    /// The server's count so far (it only grows).
    async fn commands(&self) -> BoxResult<u64>;
}

/// What the raw client writes and reads for one session: the bytes our store would
/// write for it, and the columns or key it goes under.
#[derive(Debug, Clone)]
pub struct Item {
    /// The session's storage key, hex (what our server stores key by).
    pub key: String,
    /// The value, built before the clock starts.
    pub bytes: Arc<Vec<u8>>,
    /// The record's version (SQL binds it).
    pub version: u64,
    /// Last access, Unix ms.
    pub accessed_ms: i64,
    /// Deadline, Unix ms.
    pub expires_ms: i64,
}

/// A backend's raw client: the least work its client library can do for each
/// operation, on the bytes our store would move. `create` answers a handle (a key,
/// a path, a sealed value) that the other calls get back.
#[async_trait]
pub trait Raw: Send + Sync + 'static {
    /// What the raw side runs for `op`, for the docs; `None`: nothing comparable.
    fn label(&self, op: Op) -> Option<String>;
    /// The bytes our store would write for `record`.
    fn bytes(&self, record: &Record) -> BoxResult<Vec<u8>> {
        Ok(Codec::MessagePack.encode(record)?)
    }
    /// Inserts a new item.
    async fn create(&self, item: &Item) -> TaskResult<String>;
    /// Reads an item (an error if it is missing).
    async fn load(&self, handle: &str) -> TaskResult<()>;
    /// Overwrites an item.
    async fn save(&self, handle: &str, item: &Item) -> TaskResult<()>;
    /// Moves an item's deadline.
    async fn touch(&self, handle: &str, item: &Item) -> TaskResult<()>;
    /// Removes an item.
    async fn delete(&self, handle: &str) -> TaskResult<()>;
    /// What the raw compare-and-set save runs, if the backend has one measured next to
    /// the plain save (Redis: the smallest correct CAS script).
    fn cas_label(&self) -> Option<String> {
        None
    }
    /// Overwrites an item only if it still holds the version before `item.version`.
    async fn save_cas(&self, _handle: &str, _item: &Item) -> TaskResult<()> {
        Err("this raw client has no compare-and-set".into())
    }
    /// A variant of our store whose saves are measured next to ours on the same
    /// sessions (Redis: the last-writer-wins mode), if the backend has one. On the raw
    /// client because it is the backend module's one hook the driver asks about.
    fn save_variant(&self) -> Option<Arc<dyn SessionStore>> {
        None
    }
}

/// One backend to measure.
pub struct Target {
    /// Its name in rows: `redis`, `file`, ...
    pub backend: String,
    /// What "ours" is, for the docs (`RedisStore`, ...).
    pub what: String,
    /// Our store.
    pub store: Arc<dyn SessionStore>,
    /// The raw client: the physical limit.
    pub raw: Option<Arc<dyn Raw>>,
    /// The raw client on tokio's blocking pool (files): the async limit.
    pub raw_async: Option<Arc<dyn Raw>>,
    /// Removes what the run wrote (tables, keys), if anything must be.
    pub cleanup: Option<Cleanup>,
    /// The server's command counter, where it has one the bench can read.
    pub commands: Option<Arc<dyn CommandCount>>,
}

/// Our store's sessions of one payload size.
pub struct Pool {
    records: Vec<Record>,
    cookies: Arc<Vec<String>>,
}

/// The raw client's twins of them.
struct RawPool {
    items: Vec<Item>,
    handles: Arc<Vec<String>>,
}

fn item(raw: &dyn Raw, r: &Record) -> BoxResult<Item> {
    Ok(Item {
        key: r.id.storage_key().to_hex(),
        bytes: Arc::new(raw.bytes(r)?),
        version: r.version,
        accessed_ms: r.accessed_at.as_millis(),
        expires_ms: r.expires_at.as_millis(),
    })
}

/// Creates `records` through `store` (32 tasks, untimed): the sessions a cell's loads
/// read and its saves replace.
pub async fn ours_pool(store: &Arc<dyn SessionStore>, records: Vec<Record>) -> BoxResult<Pool> {
    let shared = Arc::new(records);
    let (s, r) = (store.clone(), shared.clone());
    let (_, cookies) = measure_map(32, shared.len(), move |i| {
        let (s, r) = (s.clone(), r.clone());
        async move { s.create(&r[i]).await.map_err(err) }
    })
    .await?;
    let records = Arc::try_unwrap(shared).map_err(|_| "records still shared")?;
    Ok(Pool {
        records,
        cookies: Arc::new(cookies),
    })
}

async fn raw_pool(raw: &Arc<dyn Raw>, records: &[Record]) -> BoxResult<RawPool> {
    let mut items = Vec::with_capacity(records.len());
    for r in records {
        items.push(item(raw.as_ref(), r)?);
    }
    let shared = Arc::new(items);
    let (x, it) = (raw.clone(), shared.clone());
    let (_, handles) = measure_map(32, shared.len(), move |i| {
        let (x, it) = (x.clone(), it.clone());
        async move { x.create(&it[i]).await }
    })
    .await?;
    let items = Arc::try_unwrap(shared).map_err(|_| "items still shared")?;
    Ok(RawPool {
        items,
        handles: Arc::new(handles),
    })
}

/// One timed round of `op` through our `store` on `pool`'s sessions (loads read them in
/// turn; saves replace each task's own sessions with their next version).
pub async fn run_ours(
    store: &Arc<dyn SessionStore>,
    pool: &mut Pool,
    op: Op,
    tasks: usize,
    n: usize,
    payload: usize,
) -> BoxResult<Sample> {
    let s = store.clone();
    match op {
        Op::Create => {
            let t = now();
            let fresh: Arc<Vec<Record>> =
                Arc::new((0..n).map(|i| sample_record(t, payload, i)).collect());
            measure(tasks, n, move |i| {
                let (s, f) = (s.clone(), fresh.clone());
                async move { s.create(&f[i]).await.map(drop).map_err(err) }
            })
            .await
        }
        Op::Load => {
            let cookies = pool.cookies.clone();
            measure(tasks, n, move |i| {
                let (s, c) = (s.clone(), cookies.clone());
                async move { loaded(s.load(&c[i % c.len()]).await.map_err(err)?) }
            })
            .await
        }
        Op::Save => {
            let mut plan = Vec::with_capacity(n);
            for idx in plan_indices(tasks, n) {
                let mut next = pool.records[idx].clone();
                let expected = next.version;
                next.version += 1;
                pool.records[idx].version = next.version;
                plan.push((next, expected));
            }
            let plan = Arc::new(plan);
            measure(tasks, n, move |i| {
                let (s, p) = (s.clone(), plan.clone());
                async move { s.save(&p[i].0, p[i].1).await.map(drop).map_err(err) }
            })
            .await
        }
        Op::Touch => {
            let t = now();
            let mut plan = Vec::with_capacity(n);
            for idx in plan_indices(tasks, n) {
                let mut next = pool.records[idx].clone();
                next.accessed_at = t;
                next.expires_at = t.saturating_add(TTL);
                plan.push(next);
            }
            let plan = Arc::new(plan);
            measure(tasks, n, move |i| {
                let (s, p) = (s.clone(), plan.clone());
                async move { s.touch(&p[i]).await.map(drop).map_err(err) }
            })
            .await
        }
        Op::Delete => {
            let t = now();
            let doomed: Arc<Vec<Record>> =
                Arc::new((0..n).map(|i| sample_record(t, payload, i)).collect());
            let (s2, d2) = (s.clone(), doomed.clone());
            measure(32, n, move |i| {
                let (s, d) = (s2.clone(), d2.clone());
                async move { s.create(&d[i]).await.map(drop).map_err(err) }
            })
            .await?;
            measure(tasks, n, move |i| {
                let (s, d) = (s.clone(), doomed.clone());
                async move { s.delete(&d[i].id).await.map_err(err) }
            })
            .await
        }
    }
}

/// One round of our store ([`run_ours`]), adding the server commands it took and its
/// operations to `counted` when the target counts them.
async fn ours_round(
    target: &Target,
    pool: &mut Pool,
    op: Op,
    tasks: usize,
    n: usize,
    payload: usize,
    counted: &mut Option<(Arc<dyn CommandCount>, u64, usize)>,
) -> BoxResult<Sample> {
    let Some((counter, commands, ops)) = counted else {
        return run_ours(&target.store, pool, op, tasks, n, payload).await;
    };
    let before = counter.commands().await?;
    let sample = run_ours(&target.store, pool, op, tasks, n, payload).await?;
    *commands += counter.commands().await?.saturating_sub(before);
    *ops += n;
    Ok(sample)
}

async fn run_raw(
    raw: &Arc<dyn Raw>,
    pool: &mut RawPool,
    op: Op,
    tasks: usize,
    n: usize,
    payload: usize,
) -> BoxResult<Sample> {
    let x = raw.clone();
    let fresh_items = |n: usize| -> BoxResult<Arc<Vec<Item>>> {
        let t = now();
        let mut items = Vec::with_capacity(n);
        for i in 0..n {
            items.push(item(raw.as_ref(), &sample_record(t, payload, i))?);
        }
        Ok(Arc::new(items))
    };
    match op {
        Op::Create => {
            let fresh = fresh_items(n)?;
            measure(tasks, n, move |i| {
                let (x, f) = (x.clone(), fresh.clone());
                async move { x.create(&f[i]).await.map(drop) }
            })
            .await
        }
        Op::Load => {
            let handles = pool.handles.clone();
            measure(tasks, n, move |i| {
                let (x, h) = (x.clone(), handles.clone());
                async move { x.load(&h[i % h.len()]).await }
            })
            .await
        }
        Op::Save | Op::Touch => {
            let t = now();
            let mut plan = Vec::with_capacity(n);
            for idx in plan_indices(tasks, n) {
                let mut next = pool.items[idx].clone();
                if op == Op::Save {
                    next.version += 1;
                    pool.items[idx].version = next.version;
                    // New bytes, as our save writes: the envelope carries the version.
                    // Rewriting identical bytes would let a database skip the data
                    // column (InnoDB compares old and new values), which flattered the
                    // raw SQL saves of large sessions by up to 3x.
                    let mut record = sample_record(t, payload, idx);
                    record.version = next.version;
                    next.bytes = Arc::new(raw.bytes(&record)?);
                } else {
                    next.accessed_ms = t.as_millis();
                    next.expires_ms = t.saturating_add(TTL).as_millis();
                }
                plan.push((pool.handles[idx].clone(), next));
            }
            let plan = Arc::new(plan);
            measure(tasks, n, move |i| {
                let (x, p) = (x.clone(), plan.clone());
                async move {
                    let (handle, item) = &p[i];
                    if op == Op::Save {
                        x.save(handle, item).await
                    } else {
                        x.touch(handle, item).await
                    }
                }
            })
            .await
        }
        Op::Delete => {
            let fresh = fresh_items(n)?;
            let x2 = x.clone();
            let (_, handles) = measure_map(32, n, move |i| {
                let (x, f) = (x2.clone(), fresh.clone());
                async move { x.create(&f[i]).await }
            })
            .await?;
            let handles = Arc::new(handles);
            measure(tasks, n, move |i| {
                let (x, h) = (x.clone(), handles.clone());
                async move { x.delete(&h[i]).await }
            })
            .await
        }
    }
}

/// [`run_raw`]'s saves through [`Raw::save_cas`]: the same plan of next versions.
async fn run_raw_cas(
    raw: &Arc<dyn Raw>,
    pool: &mut RawPool,
    tasks: usize,
    n: usize,
    payload: usize,
) -> BoxResult<Sample> {
    let t = now();
    let mut plan = Vec::with_capacity(n);
    for idx in plan_indices(tasks, n) {
        let mut next = pool.items[idx].clone();
        next.version += 1;
        pool.items[idx].version = next.version;
        let mut record = sample_record(t, payload, idx);
        record.version = next.version;
        next.bytes = Arc::new(raw.bytes(&record)?);
        plan.push((pool.handles[idx].clone(), next));
    }
    let plan = Arc::new(plan);
    let x = raw.clone();
    measure(tasks, n, move |i| {
        let (x, p) = (x.clone(), plan.clone());
        async move {
            let (handle, item) = &p[i];
            x.save_cas(handle, item).await
        }
    })
    .await
}

fn blank(backend: &str, op: Op, tasks: usize, payload: usize) -> Row {
    Row {
        backend: backend.to_owned(),
        op: op.name().to_owned(),
        concurrency: tasks,
        payload_bytes: payload,
        ours: None,
        raw: None,
        raw_async: None,
        peer: None,
        ours_vs_raw: None,
        ours_vs_raw_async: None,
        ours_vs_peer: None,
        note: None,
        raw_cas: None,
        ours_vs_raw_cas: None,
        ours_lww: None,
        lww_vs_raw: None,
        lww_vs_peer: None,
        ours_commands_per_op: None,
    }
}

/// Measures `target` over `grid`; rows come back without the peer column.
pub async fn bench_target(target: &Target, grid: &Grid) -> BoxResult<Vec<Row>> {
    let mut rows = Vec::new();
    let caps = target.store.capabilities();
    let per_round = grid.per_round();
    for &payload in &grid.payloads {
        let t = now();
        let records: Vec<Record> = (0..SESSIONS)
            .map(|i| sample_record(t, payload, i))
            .collect();
        // A payload the store refuses (the cookie store's 4 KiB) is reported, not run.
        match target.store.create(&records[0]).await {
            Ok(_) => {}
            Err(Error::TooLarge { limit, size }) => {
                for &op in &grid.ops {
                    for &tasks in &grid.tasks {
                        let mut row = blank(&target.backend, op, tasks, payload);
                        row.note = Some(format!("over the store's limit ({size} > {limit} bytes)"));
                        rows.push(row);
                    }
                }
                continue;
            }
            Err(e) => return Err(e.into()),
        }
        if target.store.delete(&records[0].id).await.is_err() {
            // The cookie store cannot delete; a leftover does not matter.
        }
        eprintln!("  {}: {} B sessions", target.backend, payload);
        let mut pool = ours_pool(&target.store, records.clone()).await?;
        let mut raw_pools = Vec::new();
        for raw in [&target.raw, &target.raw_async].into_iter().flatten() {
            raw_pools.push((raw.clone(), raw_pool(raw, &records).await?));
        }
        drop(records);
        for &op in &grid.ops {
            for &tasks in &grid.tasks {
                let mut row = blank(&target.backend, op, tasks, payload);
                if op == Op::Delete && !caps.revoke {
                    row.note = Some("the store cannot revoke (delete answers Unsupported)".into());
                    rows.push(row);
                    continue;
                }
                let mut ours = Vec::new();
                let mut raws: Vec<Vec<Sample>> = raw_pools.iter().map(|_| Vec::new()).collect();
                // Saves: the raw compare-and-set and our store's variant, where there are.
                let cas = raw_pools
                    .first()
                    .filter(|(raw, _)| op == Op::Save && raw.cas_label().is_some())
                    .map(|(raw, _)| raw.clone());
                let variant = raw_pools
                    .first()
                    .filter(|_| op == Op::Save)
                    .and_then(|(raw, _)| raw.save_variant());
                let (mut cas_samples, mut variant_samples) = (Vec::new(), Vec::new());
                // The server's commands during our rounds, where it counts them; not
                // for deletes, whose rounds first create what they delete.
                let mut counted = target
                    .commands
                    .as_ref()
                    .filter(|_| op != Op::Delete)
                    .map(|c| (c.clone(), 0, 0));
                for round in 0..grid.rounds.max(1) {
                    // Alternating which side goes first, so a burst of noise from other
                    // processes lands on both sides alike; the rates are the rounds'
                    // median.
                    let ours_first = round % 2 == 1;
                    for ours_turn in [ours_first, !ours_first] {
                        if ours_turn {
                            ours.push(
                                ours_round(
                                    target,
                                    &mut pool,
                                    op,
                                    tasks,
                                    per_round,
                                    payload,
                                    &mut counted,
                                )
                                .await?,
                            );
                            continue;
                        }
                        for (k, (raw, rp)) in raw_pools.iter_mut().enumerate() {
                            if raw.label(op).is_some() {
                                raws[k]
                                    .push(run_raw(raw, rp, op, tasks, per_round, payload).await?);
                            }
                        }
                    }
                    if let (Some(raw), Some((_, rp))) = (&cas, raw_pools.first_mut()) {
                        cas_samples.push(run_raw_cas(raw, rp, tasks, per_round, payload).await?);
                    }
                    if let Some(store) = &variant {
                        variant_samples
                            .push(run_ours(store, &mut pool, op, tasks, per_round, payload).await?);
                    }
                }
                if let Some(raw) = &cas {
                    row.raw_cas = Some(Side {
                        what: raw.cas_label().unwrap_or_default(),
                        figures: summarize(cas_samples),
                    });
                }
                if variant.is_some() {
                    row.ours_lww = Some(Side {
                        what: format!("{} (last-writer-wins)", target.what),
                        figures: summarize(variant_samples),
                    });
                }
                row.ours = Some(Side {
                    what: target.what.clone(),
                    figures: summarize(ours),
                });
                row.ours_commands_per_op = counted
                    .filter(|&(_, _, ops)| ops > 0)
                    .map(|(_, commands, ops)| round2(commands as f64 / ops as f64));
                let mut sides = raws.into_iter().zip(&raw_pools).map(|(samples, (raw, _))| {
                    (!samples.is_empty()).then(|| Side {
                        what: raw.label(op).unwrap_or_default(),
                        figures: summarize(samples),
                    })
                });
                if target.raw.is_some() {
                    row.raw = sides.next().flatten();
                }
                if target.raw_async.is_some() {
                    row.raw_async = sides.next().flatten();
                }
                rows.push(row.with_ratios());
            }
        }
    }
    Ok(rows)
}
