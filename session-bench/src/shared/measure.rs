//! The measurement rules session-bench and its tower-sessions peers share: the grid and
//! its flags, the operations, the sample text and its sizing, the timed concurrent
//! runner, the statistics and the rows the peers print.
//!
//! One copy, so both sides are measured alike. The peers are a separate cargo
//! workspace with their own lockfile (`session-bench/peers`), so they cannot depend on
//! the bench crate; both include this file as a module named `measure`:
//! session-bench as `#[path = "shared/measure.rs"] mod measure;`, the peers as
//! `#[path = "../../src/shared/measure.rs"] mod measure;`. It may therefore use only
//! std, tokio, serde and clap (derive), which both workspaces have, and nothing of
//! either crate.

use std::fmt::Display;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// Errors of the harness.
pub type BoxResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// Errors that cross task boundaries.
pub type TaskResult<T> = Result<T, String>;

/// Work to do once a target is measured (dropping tables, removing keys).
pub type Cleanup = Box<dyn FnOnce() -> Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

/// Sessions created per payload size before the load, save and touch measurements
/// (a power of two, so every concurrency level up to it owns an equal share).
pub const SESSIONS: usize = 1024;

/// How long sample sessions live: long enough to outlast any run.
pub const TTL: Duration = Duration::from_secs(600);

/// An error as the text a task returns.
pub fn err(e: impl Display) -> String {
    e.to_string()
}

/// The five store operations measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Op {
    /// Insert a new session.
    Create,
    /// Read a live session.
    Load,
    /// Replace a session with its next version (compare-and-set where supported).
    Save,
    /// Extend a session's deadline.
    Touch,
    /// Remove a session.
    Delete,
}

impl Op {
    /// Its name in rows and options.
    pub fn name(self) -> &'static str {
        match self {
            Op::Create => "create",
            Op::Load => "load",
            Op::Save => "save",
            Op::Touch => "touch",
            Op::Delete => "delete",
        }
    }
}

/// A positive whole number; `_` may group digits (`1_000_000`).
pub fn positive<T: std::str::FromStr + Default + PartialOrd>(s: &str) -> Result<T, String> {
    match s.trim().replace('_', "").parse::<T>() {
        Ok(n) if n > T::default() => Ok(n),
        _ => Err(format!("a positive whole number, got {s:?}")),
    }
}

/// What to measure: the same flags, defaults and checks on both sides; session-bench
/// passes its grid to the peers with [`Grid::to_args`].
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct Grid {
    /// Operations per side per cell, split over the rounds.
    #[arg(long = "ops", value_name = "N", default_value = "3000", value_parser = positive::<usize>)]
    pub n: usize,
    /// Rounds per cell (session-bench alternates which of raw and ours runs first);
    /// ops/s is the median round.
    #[arg(long, value_name = "N", default_value = "5", value_parser = positive::<usize>)]
    pub rounds: usize,
    /// Encoded session sizes, bytes.
    #[arg(
        long,
        value_name = "LIST",
        value_delimiter = ',',
        default_value = "100,2048,32768",
        value_parser = positive::<usize>
    )]
    pub payloads: Vec<usize>,
    /// Concurrent tasks.
    #[arg(
        long = "concurrency",
        value_name = "LIST",
        value_delimiter = ',',
        default_value = "1,32",
        value_parser = positive::<usize>
    )]
    pub tasks: Vec<usize>,
    /// Operations.
    #[arg(
        long = "op-list",
        value_name = "LIST",
        value_delimiter = ',',
        default_value = "create,load,save,touch,delete"
    )]
    pub ops: Vec<Op>,
}

impl Grid {
    /// Operations per round of a cell.
    pub fn per_round(&self) -> usize {
        (self.n / self.rounds.max(1)).max(1)
    }

    /// The flags that give this grid back when parsed.
    pub fn to_args(&self) -> Vec<String> {
        let join = |xs: &[usize]| {
            xs.iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(",")
        };
        let ops = self.ops.iter().map(|o| o.name()).collect::<Vec<_>>();
        [
            ("--ops", self.n.to_string()),
            ("--rounds", self.rounds.to_string()),
            ("--payloads", join(&self.payloads)),
            ("--concurrency", join(&self.tasks)),
            ("--op-list", ops.join(",")),
        ]
        .into_iter()
        .flat_map(|(flag, value)| [flag.to_owned(), value])
        .collect()
    }
}

/// `len` bytes of pseudo-random alphanumeric text (deterministic per `seed`), so that
/// payloads neither compress to nothing nor repeat between sessions.
pub fn text(len: usize, seed: u64) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            // xorshift64
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            char::from(ALPHABET[(x % ALPHABET.len() as u64) as usize])
        })
        .collect()
}

/// The user name of sample session `i` (its other entry is a blob of [`text`]).
pub fn user(i: usize) -> String {
    format!("user-{i}@example.com")
}

/// The blob length that makes a record `payload` bytes when the same record with an
/// empty blob encodes to `overhead` bytes in MessagePack (give or take two).
pub fn blob_len(payload: usize, overhead: usize) -> usize {
    // A string's MessagePack length prefix grows with the string: 1, 2, 3 or 5 bytes.
    let prefix = |n: usize| match n {
        0..=31 => 0,
        32..=255 => 1,
        256..=65535 => 2,
        _ => 4,
    };
    let blob = payload.saturating_sub(overhead);
    blob.saturating_sub(prefix(blob))
}

/// What a timed load does with its answer: uses the record (so the work is not
/// optimised away) and fails on a missing one (every session loaded is live).
pub fn loaded<T>(record: Option<T>) -> TaskResult<()> {
    match record {
        Some(r) => {
            drop(std::hint::black_box(r));
            Ok(())
        }
        None => Err("a session went missing".into()),
    }
}

/// One timed run: the wall time and every operation's latency.
pub struct Sample {
    /// Wall time from the first operation's start to the last one's end.
    pub elapsed: Duration,
    /// Per-operation latencies, nanoseconds.
    pub latencies_ns: Vec<u64>,
}

/// Runs `op(i)` for `i` in `0..n` on `tasks` tasks at once (task `t` runs `t`,
/// `t + tasks`, ...), timing every call.
pub async fn measure<F, Fut>(tasks: usize, n: usize, op: F) -> BoxResult<Sample>
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = TaskResult<()>> + Send + 'static,
{
    Ok(measure_map(tasks, n, op).await?.0)
}

/// [`measure`], also keeping what each `op(i)` answered, in the order of `i` (the
/// cookies, handles or records an untimed setup creates).
pub async fn measure_map<T, F, Fut>(tasks: usize, n: usize, op: F) -> BoxResult<(Sample, Vec<T>)>
where
    T: Send + 'static,
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = TaskResult<T>> + Send + 'static,
{
    let tasks = tasks.max(1);
    let op = Arc::new(op);
    let start = Instant::now();
    let handles: Vec<_> = (0..tasks)
        .map(|t| {
            let op = op.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(n / tasks + 1);
                let mut outputs = Vec::with_capacity(n / tasks + 1);
                let mut i = t;
                while i < n {
                    let began = Instant::now();
                    let output = op(i).await?;
                    latencies.push(began.elapsed().as_nanos() as u64);
                    outputs.push(output);
                    i += tasks;
                }
                TaskResult::Ok((latencies, outputs))
            })
        })
        .collect();
    let mut latencies_ns = Vec::with_capacity(n);
    let mut per_task = Vec::with_capacity(tasks);
    for handle in handles {
        let (latencies, outputs) = handle.await??;
        latencies_ns.extend(latencies);
        per_task.push(outputs.into_iter());
    }
    let elapsed = start.elapsed();
    let mut outputs = Vec::with_capacity(n);
    for i in 0..n {
        outputs.push(
            per_task[i % tasks]
                .next()
                .ok_or("a task answered too few")?,
        );
    }
    Ok((
        Sample {
            elapsed,
            latencies_ns,
        },
        outputs,
    ))
}

/// The value at quantile `q` of sorted `xs`.
pub fn quantile(sorted: &[u64], q: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// Throughput and latency of one side of one measurement.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Figures {
    /// Operations per second (median of the rounds).
    pub ops_per_s: f64,
    /// Median latency, microseconds (over every operation of every round).
    pub p50_us: f64,
    /// 99th-percentile latency, microseconds.
    pub p99_us: f64,
    /// Operations timed, all rounds together.
    pub ops: u64,
}

/// One measured side: its figures and what it ran.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Side {
    /// What ran: the store type, the raw command, the peer store.
    pub what: String,
    /// The figures.
    #[serde(flatten)]
    pub figures: Figures,
}

/// A row as the peers binary prints it (one JSON object per line) and session-bench
/// reads it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PeerRow {
    /// Backend: `memory`, `sqlite`, `postgres`, `mysql` or `redis`; `moka-sqlite` or
    /// `moka-postgres` for `CachingSessionStore` with a moka cache in front of those.
    pub backend: String,
    /// Operation.
    pub op: String,
    /// Concurrent tasks.
    pub concurrency: usize,
    /// Payload, bytes.
    pub payload_bytes: usize,
    /// What ran and how fast.
    pub side: Side,
    /// Loads of a caching store: the share of the timed loads its cache answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hit_rate: Option<f64>,
}

/// The median of the rounds' rates, and the latency quantiles over every operation of
/// every round.
pub fn summarize(samples: Vec<Sample>) -> Figures {
    let mut rates: Vec<f64> = samples
        .iter()
        .map(|s| s.latencies_ns.len() as f64 / s.elapsed.as_secs_f64().max(f64::MIN_POSITIVE))
        .collect();
    rates.sort_by(f64::total_cmp);
    let rate = rates.get(rates.len() / 2).copied().unwrap_or(0.0);
    let mut all: Vec<u64> = samples.into_iter().flat_map(|s| s.latencies_ns).collect();
    all.sort_unstable();
    Figures {
        ops_per_s: rate.round(),
        p50_us: round1(quantile(&all, 0.50) as f64 / 1000.0),
        p99_us: round1(quantile(&all, 0.99) as f64 / 1000.0),
        ops: all.len() as u64,
    }
}

/// One decimal.
pub fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// Two decimals.
pub fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// The sessions task `t` of `tasks` owns, so saves never race on a record and none
/// conflicts; its `k`-th operation uses the `k`-th of them (cycling).
pub fn owned_session(t: usize, tasks: usize, k: usize) -> usize {
    let tasks = tasks.max(1);
    let count = (SESSIONS - t.min(SESSIONS - 1)).div_ceil(tasks).max(1);
    t + tasks * (k % count)
}

/// For each operation index of a run with `tasks` tasks (as [`measure`] deals them
/// out): the pool session it uses.
pub fn plan_indices(tasks: usize, n: usize) -> Vec<usize> {
    let tasks = tasks.max(1);
    (0..n)
        .map(|i| owned_session(i % tasks, tasks, i / tasks))
        .collect()
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Flags {
        #[command(flatten)]
        grid: Grid,
    }

    fn grid(args: &[&str]) -> Result<Grid, clap::Error> {
        Flags::try_parse_from(std::iter::once("x").chain(args.iter().copied())).map(|f| f.grid)
    }

    #[test]
    fn ownership_partitions_sessions() {
        for tasks in [1, 3, 32] {
            for t in 0..tasks {
                for k in 0..3000 {
                    let s = owned_session(t, tasks, k);
                    assert!(s < SESSIONS);
                    assert_eq!(s % tasks, t);
                }
            }
        }
    }

    #[test]
    fn quantiles() {
        let xs: Vec<u64> = (1..=100).collect();
        assert_eq!(quantile(&xs, 0.5), 50);
        assert_eq!(quantile(&xs, 0.99), 99);
        assert_eq!(quantile(&[], 0.5), 0);
    }

    #[test]
    fn grid_defaults_and_round_trip() {
        let defaults = grid(&[]).unwrap();
        assert_eq!(
            defaults,
            Grid {
                n: 3000,
                rounds: 5,
                payloads: vec![100, 2048, 32768],
                tasks: vec![1, 32],
                ops: vec![Op::Create, Op::Load, Op::Save, Op::Touch, Op::Delete],
            }
        );
        let custom = grid(&[
            "--ops",
            "1_000",
            "--rounds",
            "2",
            "--payloads",
            "64, 128",
            "--concurrency",
            "4",
            "--op-list",
            "load,delete",
        ])
        .unwrap();
        assert_eq!(custom.n, 1000);
        assert_eq!(custom.payloads, [64, 128]);
        assert_eq!(custom.ops, [Op::Load, Op::Delete]);
        let args = custom.to_args();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_eq!(grid(&args).unwrap(), custom);
        assert_eq!(defaults.per_round(), 600);
    }

    #[test]
    fn grid_refuses_zero_and_unknown_operations() {
        for bad in [
            &["--ops", "0"][..],
            &["--concurrency", "1,0"],
            &["--payloads", "x"],
            &["--op-list", "create,upsert"],
        ] {
            assert!(grid(bad).is_err(), "{bad:?}");
        }
    }

    #[tokio::test]
    async fn measure_map_answers_in_index_order() {
        let (sample, outputs) = measure_map(3, 10, |i| async move { Ok(i * 2) })
            .await
            .unwrap();
        assert_eq!(sample.latencies_ns.len(), 10);
        assert_eq!(outputs, (0..10).map(|i| i * 2).collect::<Vec<_>>());
    }
}
