//! Scale: many sessions in the file store, SQLite and Redis. Seeded through the store's
//! own `create` (32 tasks) with 100-byte sessions that live one hour on a manual clock;
//! load latency (random live sessions, one task, 20,000 loads) at 10,000 sessions and
//! at the full size; then everything is synced to disk (`sync`), the clock moves past
//! every deadline and one `delete_expired` is timed, with the peak resident memory it
//! adds.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use session_core::{ManualClock, Record, SessionId, SessionStore, StoreSettings, Timestamp};
use session_file::FileStore;
use session_redis::{RedisOptions, RedisStore};
use session_sql::SqlStore;

use crate::measure::{measure, round2, summarize, Figures};
use crate::report;
use crate::results::{Report, ScaleRow};
use crate::workload::sample_record;
use crate::{BoxResult, Options};

const LIFETIME: Duration = Duration::from_secs(3600);
const SMALL: usize = 10_000;
const LOADS: usize = 20_000;
const PAYLOAD: usize = 100;

/// Creates sessions `from..to` in `store` (32 tasks), appending their ids.
async fn seed(
    store: &Arc<dyn SessionStore>,
    clock: &ManualClock,
    ids: &mut Vec<SessionId>,
    from: usize,
    to: usize,
) -> BoxResult<f64> {
    let started = Instant::now();
    let now = clock.now();
    // In chunks, so a million records are never all in memory at once.
    let chunk = 50_000;
    let mut at = from;
    while at < to {
        let end = (at + chunk).min(to);
        let records: Arc<Vec<Record>> = Arc::new(
            (at..end)
                .map(|i| {
                    let mut r = sample_record(now, PAYLOAD, i);
                    r.expires_at = now.saturating_add(LIFETIME);
                    r
                })
                .collect(),
        );
        ids.extend(records.iter().map(|r| r.id));
        let (s, r) = (store.clone(), records.clone());
        measure(32, records.len(), move |i| {
            let (s, r) = (s.clone(), r.clone());
            async move { s.create(&r[i]).await.map(drop).map_err(|e| e.to_string()) }
        })
        .await?;
        at = end;
        eprintln!(
            "  {} sessions ({:.0} s)",
            report::thousands(at as u64),
            started.elapsed().as_secs_f64()
        );
    }
    Ok(started.elapsed().as_secs_f64())
}

/// Loads random sessions among `ids`, one task.
async fn loads(store: &Arc<dyn SessionStore>, ids: &[SessionId]) -> BoxResult<Figures> {
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let cookies: Arc<Vec<String>> = Arc::new(
        (0..LOADS)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                ids[(x % ids.len() as u64) as usize].to_string()
            })
            .collect(),
    );
    let s = store.clone();
    let sample = measure(1, LOADS, move |i| {
        let (s, c) = (s.clone(), cookies.clone());
        async move {
            match s.load(&c[i]).await.map_err(|e| e.to_string())? {
                Some(_) => Ok(()),
                None => Err("a seeded session did not load".into()),
            }
        }
    })
    .await?;
    Ok(summarize(vec![sample]))
}

fn blank(backend: &str, sessions: usize, op: &str) -> ScaleRow {
    ScaleRow {
        backend: backend.into(),
        sessions: sessions as u64,
        op: op.into(),
        figures: None,
        removed: None,
        seconds: None,
        peak_rss_growth_kib: None,
        process_peak_rss_kib: None,
        seed_seconds: None,
        note: None,
    }
}

async fn one(
    backend: &str,
    store: Arc<dyn SessionStore>,
    clock: ManualClock,
    total: usize,
) -> BoxResult<Vec<ScaleRow>> {
    let mut rows = Vec::new();
    let mut ids = Vec::with_capacity(total);
    let small = SMALL.min(total);
    let seeded = seed(&store, &clock, &mut ids, 0, small).await?;
    let mut r = blank(backend, small, "load");
    r.figures = Some(loads(&store, &ids).await?);
    r.seed_seconds = Some(round2(seeded));
    rows.push(r);
    if total > small {
        let seeded = seed(&store, &clock, &mut ids, small, total).await?;
        let mut r = blank(backend, total, "load");
        r.figures = Some(loads(&store, &ids).await?);
        r.seed_seconds = Some(round2(seeded));
        rows.push(r);
    }
    drop(ids);
    // Let the kernel finish writing back what seeding wrote (files written without
    // fsync, SQLite's WAL): otherwise every unlink of a page still under writeback
    // waits for the disk, and the sweep measures the writeback instead of itself.
    let synced = Instant::now();
    let _ = tokio::task::spawn_blocking(|| std::process::Command::new("sync").status()).await;
    eprintln!("  sync: {:.1} s", synced.elapsed().as_secs_f64());
    clock.advance(LIFETIME + Duration::from_secs(1));
    let reset = report::reset_peak();
    let before = report::memory().ok_or("no /proc/self/status")?;
    let started = Instant::now();
    let removed = store.delete_expired().await?;
    let seconds = started.elapsed().as_secs_f64();
    let after = report::memory().ok_or("no /proc/self/status")?;
    let mut r = blank(backend, total, "delete_expired");
    r.removed = Some(removed);
    r.seconds = Some(round2(seconds));
    r.figures = Some(Figures {
        ops_per_s: (removed as f64 / seconds.max(f64::MIN_POSITIVE)).round(),
        p50_us: 0.0,
        p99_us: 0.0,
        ops: removed,
    });
    r.peak_rss_growth_kib = Some(after.peak_kib.saturating_sub(before.rss_kib));
    r.process_peak_rss_kib = Some(after.peak_kib);
    if !reset {
        r.note = Some("peak not resettable: growth is an upper bound".into());
    }
    if backend == "redis" {
        r.note = Some(
            "nothing to sweep: the server drops each key at its PXAT deadline (native TTL)".into(),
        );
    } else if removed != total as u64 {
        r.note = Some(format!("removed {removed} of {total}"));
    }
    rows.push(r);
    Ok(rows)
}

/// The scale rows for `backends` (`file`, `sqlite`, `redis`).
pub async fn run(
    opts: &Options,
    backends: &[String],
    scratch: &Path,
    report: &mut Report,
) -> BoxResult<Vec<ScaleRow>> {
    let mut rows = Vec::new();
    let total = opts.sessions;
    for backend in backends {
        eprintln!(
            "scale: {backend}, {} sessions",
            report::thousands(total as u64)
        );
        let clock = ManualClock::at(Timestamp::from_system(std::time::SystemTime::now()));
        match backend.as_str() {
            "file" => {
                let dir = scratch.join("scale-files");
                // Seeded without fsync (setup); measured loads and the sweep do not fsync.
                let store = FileStore::open(&dir)
                    .await?
                    .with_settings(StoreSettings::new().with_clock(clock.clone()))
                    .durable(false);
                report.context.push(format!(
                    "scale file: {} ({})",
                    dir.display(),
                    report::filesystem(scratch)
                ));
                rows.extend(one(backend, Arc::new(store), clock, total).await?);
            }
            "sqlite" => {
                let url = crate::sql::sqlite_url(scratch, "scale.db");
                let store = SqlStore::connect_with(&url, crate::sql::pool_options())
                    .await?
                    .with_settings(StoreSettings::new().with_clock(clock.clone()));
                store.migrate().await?;
                report.context.push(format!(
                    "scale sqlite: server {} (WAL, synchronous=NORMAL), default sweep batch",
                    crate::sql::server_version(store.pool()).await
                ));
                let pool = store.pool().clone();
                rows.extend(one(backend, Arc::new(store), clock, total).await?);
                pool.close().await;
            }
            "redis" => {
                let conn = match crate::redis::connect(&opts.redis).await {
                    Ok(c) => c,
                    Err(e) => {
                        report.skipped.push(format!("redis not reachable: {e}"));
                        continue;
                    }
                };
                let options = RedisOptions::new()
                    .with_prefix(format!("bench:scale:{}:", std::process::id()))
                    .with_settings(StoreSettings::new().with_clock(clock.clone()));
                let store = RedisStore::from_manager(conn, options)?;
                let result = one(backend, Arc::new(store.clone()), clock, total).await;
                let started = Instant::now();
                match store.delete_all().await {
                    Ok(n) => {
                        let secs = started.elapsed().as_secs_f64();
                        let mut r = blank(backend, total, "delete_all (SCAN + UNLINK)");
                        r.removed = Some(n);
                        r.seconds = Some(round2(secs));
                        r.figures = Some(Figures {
                            ops_per_s: (n as f64 / secs.max(f64::MIN_POSITIVE)).round(),
                            p50_us: 0.0,
                            p99_us: 0.0,
                            ops: n,
                        });
                        r.note = Some("cleanup of the run's keys, for scale".into());
                        rows.extend(result?);
                        rows.push(r);
                    }
                    Err(e) => {
                        eprintln!("  could not delete the scale keys: {e}");
                        rows.extend(result?);
                    }
                }
            }
            other => {
                report
                    .skipped
                    .push(format!("scale on {other}: only file, sqlite and redis"));
            }
        }
    }
    Ok(rows)
}
