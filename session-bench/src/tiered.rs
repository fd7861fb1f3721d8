//! `tiered` (issue 22): `TieredStore`, a cache tier in front of a durable store, next to
//! the durable store alone and next to tower-sessions' `CachingSessionStore` with a moka
//! cache, on loads and saves.
//!
//! The stores, per durable backend:
//!
//! - SQLite: our `SqlStore` alone; `TieredStore::local(SqlStore, LocalCache::new())`;
//!   tower-sessions' `SqliteStore` alone and `CachingSessionStore<MokaStore, SqliteStore>`.
//! - PostgreSQL: our `SqlStore` alone; `TieredStore::local` without a bus (one
//!   instance, what tower-sessions' moka cache is), with a `PostgresBus` and with a
//!   `RedisBus`; `TieredStore::shared(RedisStore, SqlStore)`; tower-sessions'
//!   `PostgresStore` alone and `CachingSessionStore<MokaStore, PostgresStore>`.
//!
//! The working set is warm and stated: per payload, each store gets its own 1,024
//! sessions, created through it (which caches them, ours and tower-sessions' alike),
//! and every cached store runs one untimed load pass over them just before each load
//! cell; the cell's loads then read them in turn. The hit rate is measured over the
//! timed loads only: ours from `TieredStore::stats` (hits over hits, misses and
//! bypasses), tower-sessions' as 1 - the loads that reached its durable store over the
//! loads (a counter around its durable store: `CachingSessionStore` keeps none).
//! Saves replace each task's own sessions with their next version, as everywhere in the
//! harness ([`crate::driver::run_ours`]).
//!
//! Our stores of one durable backend are measured round by round in turn, the first
//! one rotating, so a burst of noise lands on all of them alike; tower-sessions' run
//! afterwards in the peers binary. Cached loads take about a microsecond, so load
//! cells run `--load-ops` operations (default ten times `--ops`) to last long enough
//! to time.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use session_core::SessionStore;
use session_redis::{RedisOptions, RedisStore};
use session_sql::{SqlStore, TableName};
use session_tiered::{LocalCache, PostgresBus, RedisBus, TierStats, TieredStore};

use crate::driver::{ours_pool, run_ours, Pool};
use crate::measure::{summarize, Cleanup, Grid, Op, PeerRow, Sample, SESSIONS};
use crate::peers::Peers;
use crate::results::{Report, TieredRow};
use crate::workload::{now, sample_record};
use crate::{redis, sql, BoxResult, Options};

/// Load cells run this many times `--ops` unless `--load-ops` says otherwise.
pub const LOAD_OPS_FACTOR: usize = 10;

/// The durable backends, in report order.
pub const DURABLE: &[&str] = &["sqlite", "postgres"];

/// One of our stores of a group.
struct Variant {
    /// Its name in the tables.
    name: &'static str,
    /// What it is, in full.
    what: String,
    store: Arc<dyn SessionStore>,
    /// The same store as a `TieredStore`, for its stats; `None` for the durable store
    /// alone.
    tiered: Option<TieredStore>,
    /// Its sessions of the payload being measured.
    pool: Option<Pool>,
    /// Why its figures may not be what they seem (a cache that never came up).
    note: Option<String>,
}

impl Variant {
    fn durable(what: String, store: SqlStore) -> Variant {
        Variant {
            name: "SqlStore",
            what,
            store: Arc::new(store),
            tiered: None,
            pool: None,
            note: None,
        }
    }

    async fn tiered(name: &'static str, what: String, store: TieredStore) -> Variant {
        let note = match until_serving(&store).await {
            Ok(true) => None,
            Ok(false) => Some("its cache did not serve within 5 s of being built".to_owned()),
            Err(e) => Some(format!("its cache could not be probed: {e}")),
        };
        Variant {
            name,
            what,
            store: Arc::new(store.clone()),
            tiered: Some(store),
            pool: None,
            note,
        }
    }
}

/// Our stores over one durable backend, and what removes what they wrote.
struct Group {
    durable: &'static str,
    variants: Vec<Variant>,
    cleanup: Vec<Cleanup>,
}

/// Waits until `store`'s cache serves: a cache with a bus serves nothing until it has
/// heard the bus (and drops what it held when it subscribes), so the first loads after
/// building it would measure the durable store. `false` after 5 s.
async fn until_serving(store: &TieredStore) -> BoxResult<bool> {
    let probe = sample_record(now(), 100, 0);
    let cookie = store.create(&probe).await?;
    let started = Instant::now();
    let mut serving = false;
    while started.elapsed() < Duration::from_secs(5) {
        let before = store.stats().hits;
        // The first fills the cache if it missed; the second is a hit once it serves.
        store.load(&cookie).await?;
        store.load(&cookie).await?;
        if store.stats().hits > before {
            serving = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    store.delete(&probe.id).await?;
    Ok(serving)
}

/// A table of this run on `base`'s pool, migrated, noted in `tables` for the cleanup.
async fn table(base: &SqlStore, what: &str, tables: &mut Vec<TableName>) -> BoxResult<SqlStore> {
    let name = sql::bench_table(what)?;
    let store = base.clone().with_table(name.clone());
    store.migrate().await?;
    tables.push(name);
    Ok(store)
}

/// Drops `tables` and closes `base`'s pool.
fn drop_tables(base: &SqlStore, tables: Vec<TableName>) -> Cleanup {
    let pool = base.pool().clone();
    Box::new(move || {
        Box::pin(async move {
            sql::drop_tables(&pool, &tables).await;
            pool.close().await;
        })
    })
}

/// Deletes every key under `cache`'s prefix.
fn delete_keys(cache: RedisStore) -> Cleanup {
    Box::new(move || {
        Box::pin(async move {
            if let Err(e) = cache.delete_all().await {
                eprintln!("  could not delete the keys under {}: {e}", cache.prefix());
            }
        })
    })
}

async fn sqlite_group(scratch: &Path, report: &mut Report) -> BoxResult<Group> {
    let url = sql::sqlite_url(scratch, "tiered.db");
    let base = SqlStore::connect_with(&url, sql::pool_options()).await?;
    let version = sql::server_version(base.pool()).await;
    report.context.push(format!(
        "tiered over sqlite: SQLite {version} (a file in WAL mode, synchronous=NORMAL), one pool \
         of 32 connections shared by our stores, a table each"
    ));
    let mut tables = Vec::new();
    let durable = table(&base, "tiered_durable", &mut tables).await?;
    let local = table(&base, "tiered_local", &mut tables).await?;
    let cleanup = vec![drop_tables(&base, tables)];
    Ok(Group {
        durable: "sqlite",
        variants: vec![
            Variant::durable("SqlStore on SQLite, no cache".into(), durable),
            Variant::tiered(
                "local",
                "TieredStore::local(SqlStore, LocalCache::new()): in-process moka (capacity \
                 10,000, TTL 30 s), no bus"
                    .into(),
                TieredStore::local(local, LocalCache::new())?,
            )
            .await,
        ],
        cleanup,
    })
}

async fn postgres_group(opts: &Options, report: &mut Report) -> BoxResult<Group> {
    let base = SqlStore::connect_with(&opts.postgres, sql::pool_options()).await?;
    let version = sql::server_version(base.pool()).await;
    let pid = std::process::id();
    let mut tables = Vec::new();
    let durable = table(&base, "tiered_durable", &mut tables).await?;
    let local = table(&base, "tiered_local", &mut tables).await?;
    let pg_bus = table(&base, "tiered_pgbus", &mut tables).await?;
    let mut variants = vec![
        Variant::durable("SqlStore on PostgreSQL, no cache".into(), durable),
        Variant::tiered(
            "local",
            "TieredStore::local(SqlStore, LocalCache::new()): in-process moka, no bus (one \
             instance)"
                .into(),
            TieredStore::local(local, LocalCache::new())?,
        )
        .await,
    ];
    // A channel of this run, so that nobody else's instances hear our saves, nor we theirs.
    let bus = PostgresBus::connect(&opts.postgres)
        .await?
        .with_channel(format!("session_bench_{pid}"));
    variants.push(
        Variant::tiered(
            "local + PostgresBus",
            "TieredStore::local(SqlStore, LocalCache::new().with_bus(PostgresBus)): a \
             pg_notify per save (pool of 2), LISTEN on one connection"
                .into(),
            TieredStore::local(pg_bus, LocalCache::new().with_bus(bus))?,
        )
        .await,
    );
    let mut redis_version = None;
    let mut cleanup = Vec::new();
    match redis::connect(&opts.redis).await {
        Ok(conn) => {
            redis_version = Some(redis::server_version(&conn).await);
            let redis_bus = table(&base, "tiered_redisbus", &mut tables).await?;
            let shared = table(&base, "tiered_shared", &mut tables).await?;
            let bus = RedisBus::connect(&opts.redis)
                .await?
                .with_channel(format!("bench:{pid}:tiered-bus"));
            variants.push(
                Variant::tiered(
                    "local + RedisBus",
                    "TieredStore::local(SqlStore, LocalCache::new().with_bus(RedisBus)): a \
                     PUBLISH per save"
                        .into(),
                    TieredStore::local(redis_bus, LocalCache::new().with_bus(bus))?,
                )
                .await,
            );
            let cache = RedisStore::from_manager(
                conn,
                RedisOptions::new().with_prefix(format!("bench:{pid}:tiered:")),
            )?;
            cleanup.push(delete_keys(cache.clone()));
            variants.push(
                Variant::tiered(
                    "shared Redis",
                    "TieredStore::shared(RedisStore, SqlStore): one Redis cache for every \
                     instance (a fill re-reads PostgreSQL; a save is a compare-and-set in Redis)"
                        .into(),
                    TieredStore::shared(cache, shared)?,
                )
                .await,
            );
        }
        Err(e) => report
            .skipped
            .push(format!("tiered: the Redis bus and shared cache ({e})")),
    }
    report.context.push(format!(
        "tiered over postgres: PostgreSQL {version}, one pool of 32 connections shared by our \
         stores, a table each{}",
        redis_version
            .map(|v| format!("; Redis {v} (bus and shared cache) at {}", opts.redis))
            .unwrap_or_default()
    ));
    cleanup.push(drop_tables(&base, tables));
    Ok(Group {
        durable: "postgres",
        variants,
        cleanup,
    })
}

/// Hits over the loads between two snapshots, four decimals; `None` without loads.
fn hit_rate(before: &TierStats, after: &TierStats) -> (Option<f64>, Option<String>) {
    let hits = after.hits.saturating_sub(before.hits);
    let misses = after.misses.saturating_sub(before.misses);
    let bypasses = after.bypasses.saturating_sub(before.bypasses);
    let loads = hits + misses + bypasses;
    if loads == 0 {
        return (None, None);
    }
    let rate = (hits as f64 / loads as f64 * 10_000.0).round() / 10_000.0;
    let note = (hits < loads).then(|| format!("{misses} misses, {bypasses} bypasses"));
    (Some(rate), note)
}

/// Every load and save cell of our stores over one durable backend.
async fn bench_group(
    group: &mut Group,
    grid: &Grid,
    ops: &[Op],
    load_ops: usize,
    rows: &mut Vec<TieredRow>,
) -> BoxResult<()> {
    let count = group.variants.len();
    for &payload in &grid.payloads {
        eprintln!("  tiered over {}: {payload} B sessions", group.durable);
        for v in group.variants.iter_mut() {
            let t = now();
            let records = (0..SESSIONS)
                .map(|i| sample_record(t, payload, i))
                .collect();
            v.pool = Some(ours_pool(&v.store, records).await?);
        }
        for &op in ops {
            let n = if op == Op::Load { load_ops } else { grid.n };
            let per_round = (n / grid.rounds.max(1)).max(1);
            for &tasks in &grid.tasks {
                let mut before = Vec::with_capacity(count);
                for v in group.variants.iter_mut() {
                    let pool = v.pool.as_mut().ok_or("no sessions")?;
                    if op == Op::Load && v.tiered.is_some() {
                        // The warm pass: every session of the working set, untimed.
                        run_ours(&v.store, pool, Op::Load, 32, SESSIONS, payload).await?;
                    }
                    before.push(v.tiered.as_ref().map(TieredStore::stats));
                }
                let mut samples: Vec<Vec<Sample>> = (0..count).map(|_| Vec::new()).collect();
                for round in 0..grid.rounds.max(1) {
                    for k in 0..count {
                        let idx = (k + round) % count;
                        let v = &mut group.variants[idx];
                        let pool = v.pool.as_mut().ok_or("no sessions")?;
                        samples[idx]
                            .push(run_ours(&v.store, pool, op, tasks, per_round, payload).await?);
                    }
                }
                for ((v, sample), before) in group.variants.iter().zip(samples).zip(before) {
                    let (hit_rate, misses) = match (&v.tiered, before) {
                        (Some(t), Some(b)) if op == Op::Load => hit_rate(&b, &t.stats()),
                        _ => (None, None),
                    };
                    let note = [v.note.clone(), misses]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>()
                        .join("; ");
                    rows.push(TieredRow {
                        durable: group.durable.to_owned(),
                        store: v.name.to_owned(),
                        library: "ours".into(),
                        cached: v.tiered.is_some(),
                        op: op.name().to_owned(),
                        concurrency: tasks,
                        payload_bytes: payload,
                        what: v.what.clone(),
                        figures: summarize(sample),
                        hit_rate,
                        vs_durable: None,
                        vs_peer_cache: None,
                        note: (!note.is_empty()).then_some(note),
                    });
                }
            }
        }
        for v in group.variants.iter_mut() {
            v.pool = None;
        }
    }
    Ok(())
}

/// tower-sessions' stores over `durable`: the store alone and `CachingSessionStore` with
/// a moka cache, each op its own peers run (loads with `load_ops`).
async fn peer_rows(
    peers: &Peers,
    durable: &str,
    opts: &Options,
    ops: &[Op],
    load_ops: usize,
    report: &mut Report,
) -> Vec<TieredRow> {
    let mut rows = Vec::new();
    for backend in [durable.to_owned(), format!("moka-{durable}")] {
        for &op in ops {
            let grid = Grid {
                n: if op == Op::Load {
                    load_ops
                } else {
                    opts.grid.n
                },
                ops: vec![op],
                ..opts.grid.clone()
            };
            match peers.store_rows_on(&backend, opts, &grid).await {
                Ok(peer) => rows.extend(peer.into_iter().map(|p| from_peer(durable, p))),
                Err(e) => report
                    .skipped
                    .push(format!("tower-sessions {backend} {}: {e}", op.name())),
            }
        }
    }
    rows
}

fn from_peer(durable: &str, p: PeerRow) -> TieredRow {
    let cached = p.backend.starts_with("moka-");
    let store = if cached {
        "t-s Caching(Moka)".to_owned()
    } else if durable == "sqlite" {
        "t-s SqliteStore".to_owned()
    } else {
        "t-s PostgresStore".to_owned()
    };
    TieredRow {
        durable: durable.to_owned(),
        store,
        library: "tower-sessions".into(),
        cached,
        op: p.op,
        concurrency: p.concurrency,
        payload_bytes: p.payload_bytes,
        what: p.side.what,
        figures: p.side.figures,
        hit_rate: p.hit_rate,
        vs_durable: None,
        vs_peer_cache: None,
        note: None,
    }
}

/// Every group that answers (`--backends` may narrow them to `sqlite` or `postgres`),
/// ours then tower-sessions', with the ratios filled in.
pub async fn run(
    opts: &Options,
    scratch: &Path,
    peers: Option<&Peers>,
    report: &mut Report,
) -> BoxResult<Vec<TieredRow>> {
    let load_ops = opts
        .load_ops
        .unwrap_or(opts.grid.n.saturating_mul(LOAD_OPS_FACTOR));
    let ops: Vec<Op> = opts
        .grid
        .ops
        .iter()
        .copied()
        .filter(|op| matches!(op, Op::Load | Op::Save))
        .collect();
    if ops.len() < opts.grid.ops.len() {
        report
            .skipped
            .push("tiered: create, touch and delete (it measures load and save)".into());
    }
    report.context.push(format!(
        "tiered: per payload, each store's own {SESSIONS} sessions, created through it (which \
         caches them), then one untimed load pass over them before each load cell of a cached \
         store: a warm working set; loads {load_ops} per store per cell, saves {} (each task's \
         own sessions, the next version), over {} rounds; hit rate over the timed loads (ours: \
         TierStats; tower-sessions: 1 - loads that reached its durable store / loads)",
        opts.grid.n, opts.grid.rounds
    ));
    let mut rows = Vec::new();
    for &durable in DURABLE {
        if opts
            .backends
            .as_ref()
            .is_some_and(|b| !b.iter().any(|x| x == durable))
        {
            continue;
        }
        eprintln!("tiered over {durable}: measuring");
        let opened = match durable {
            "sqlite" => sqlite_group(scratch, report).await,
            _ => postgres_group(opts, report).await,
        };
        let mut group = match opened {
            Ok(g) => g,
            Err(e) => {
                eprintln!("  skipped: {e}");
                report
                    .skipped
                    .push(format!("tiered over {durable}: not reachable ({e})"));
                continue;
            }
        };
        let result = bench_group(&mut group, &opts.grid, &ops, load_ops, &mut rows).await;
        // The stores first (their bus tasks end with them), then their tables and keys.
        let Group {
            variants, cleanup, ..
        } = group;
        drop(variants);
        for c in cleanup {
            c().await;
        }
        result?;
        if let Some(p) = peers {
            rows.extend(peer_rows(p, durable, opts, &ops, load_ops, report).await);
        }
    }
    TieredRow::fill_ratios(&mut rows);
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::{Figures, Side};

    fn peer(backend: &str, ops_per_s: f64, hit_rate: Option<f64>) -> PeerRow {
        PeerRow {
            backend: backend.into(),
            op: "load".into(),
            concurrency: 1,
            payload_bytes: 2048,
            side: Side {
                what: backend.into(),
                figures: Figures {
                    ops_per_s,
                    p50_us: 1.0,
                    p99_us: 2.0,
                    ops: 100,
                },
            },
            hit_rate,
        }
    }

    fn ours(store: &'static str, cached: bool, ops_per_s: f64) -> TieredRow {
        let mut row = from_peer("sqlite", peer("sqlite", ops_per_s, None));
        row.store = store.into();
        row.library = "ours".into();
        row.cached = cached;
        row
    }

    #[test]
    fn ratios_compare_within_a_library_and_with_tower_sessions_cache() {
        let mut rows = vec![
            ours("SqlStore", false, 10_000.0),
            ours("local", true, 400_000.0),
            from_peer("sqlite", peer("sqlite", 8_000.0, None)),
            from_peer("sqlite", peer("moka-sqlite", 200_000.0, Some(1.0))),
        ];
        TieredRow::fill_ratios(&mut rows);
        assert_eq!(rows[0].vs_durable, None);
        assert_eq!(rows[1].vs_durable, Some(40.0));
        assert_eq!(rows[1].vs_peer_cache, Some(2.0));
        assert_eq!(rows[2].store, "t-s SqliteStore");
        assert_eq!(rows[2].vs_durable, None);
        assert_eq!(rows[3].store, "t-s Caching(Moka)");
        assert_eq!(rows[3].vs_durable, Some(25.0));
        assert_eq!(rows[3].vs_peer_cache, None);
        assert_eq!(rows[3].hit_rate, Some(1.0));
    }

    #[test]
    fn the_hit_rate_counts_only_the_loads_between_the_snapshots() {
        let mut before = TierStats::default();
        before.hits = 10;
        before.misses = 5;
        let mut after = before;
        after.hits += 999;
        after.misses += 1;
        let (rate, note) = hit_rate(&before, &after);
        assert_eq!(rate, Some(0.999));
        assert_eq!(note.as_deref(), Some("1 misses, 0 bypasses"));
        after.misses -= 1;
        assert_eq!(hit_rate(&before, &after), (Some(1.0), None));
        assert_eq!(hit_rate(&before, &before), (None, None));
    }
}
