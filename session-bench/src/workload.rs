//! The workload every benchmark shares: sample sessions of a chosen size, the
//! concurrent timed driver and its latency statistics. One copy, so ours, the raw
//! clients and (in the peers workspace, by the same rules) tower-sessions are measured
//! alike.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use session_core::{Codec, Data, Record, SessionId, Timestamp, Value};

use crate::results::Figures;
use crate::BoxResult;

/// Sessions created per payload size before the load, save and touch measurements
/// (a power of two, so every concurrency level up to it owns an equal share).
pub const SESSIONS: usize = 1024;

/// How long sample sessions live: long enough to outlast any run.
pub const TTL: Duration = Duration::from_secs(600);

/// Errors that cross task boundaries.
pub type TaskResult<T> = Result<T, String>;

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

/// Session data of a typical shape: a user and a blob of text.
fn data(blob: usize, i: usize) -> Data {
    let mut data = Data::new();
    data.insert("user".into(), Value::from(format!("user-{i}@example.com")));
    data.insert("blob".into(), Value::from(text(blob, i as u64)));
    data
}

/// A session whose MessagePack envelope (what a store writes) is `payload` bytes, give
/// or take two: the blob is sized after measuring the envelope without it.
pub fn sample_record(now: Timestamp, payload: usize, i: usize) -> Record {
    let deadline = now.saturating_add(TTL);
    let bare = Record::new(SessionId::generate(), data(0, i), now, deadline);
    let overhead = Codec::MessagePack
        .encode(&bare)
        .map(|b| b.len())
        .unwrap_or(64);
    // A string's MessagePack length prefix grows with the string: 1, 2, 3 or 5 bytes.
    let prefix = |n: usize| match n {
        0..=31 => 0,
        32..=255 => 1,
        256..=65535 => 2,
        _ => 4,
    };
    let mut blob = payload.saturating_sub(overhead);
    blob = blob.saturating_sub(prefix(blob));
    Record::new(bare.id, data(blob, i), now, deadline)
}

/// The current time by the system clock.
pub fn now() -> Timestamp {
    Timestamp::from_system(std::time::SystemTime::now())
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
    let op = Arc::new(op);
    let start = Instant::now();
    let handles: Vec<_> = (0..tasks.max(1))
        .map(|t| {
            let op = op.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(n / tasks.max(1) + 1);
                let mut i = t;
                while i < n {
                    let began = Instant::now();
                    op(i).await?;
                    latencies.push(began.elapsed().as_nanos() as u64);
                    i += tasks.max(1);
                }
                TaskResult::Ok(latencies)
            })
        })
        .collect();
    let mut latencies_ns = Vec::with_capacity(n);
    for handle in handles {
        latencies_ns.extend(handle.await??);
    }
    Ok(Sample {
        elapsed: start.elapsed(),
        latencies_ns,
    })
}

/// The value at quantile `q` of sorted `xs`.
pub fn quantile(sorted: &[u64], q: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_have_the_asked_size() {
        for payload in [100, 2048, 32 * 1024] {
            let r = sample_record(now(), payload, 7);
            let len = Codec::MessagePack.encode(&r).unwrap().len();
            assert!(len.abs_diff(payload) <= 2, "{payload}: {len}");
        }
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
}
