//! The workload every server-backend benchmark shares: sample sessions, the
//! concurrent driver and the ratio row. One copy, so every backend is measured alike.

use std::time::{Duration, Instant};

use session_core::{Data, Record, SessionId, Timestamp, Value};

use crate::report::{fmt_rate, rate, thousands};
use crate::BoxResult;

/// Sessions created before each measurement.
pub const SESSIONS: usize = 1_000;

/// How long sample sessions live: long enough to outlast any run.
pub const TTL: Duration = Duration::from_secs(600);

/// Errors that cross task boundaries.
pub type TaskResult<T> = Result<T, String>;

/// A session of typical shape: a user, roles, a cart, a CSRF token and some text,
/// living [`TTL`].
pub fn sample_record(now: Timestamp, i: usize) -> Record {
    let mut data = Data::new();
    data.insert("user".into(), Value::from(format!("user-{i}@example.com")));
    data.insert("roles".into(), Value::from(vec!["reader", "editor"]));
    data.insert(
        "cart".into(),
        Value::from((0..8).map(|n| format!("sku-{i}-{n}")).collect::<Vec<_>>()),
    );
    data.insert("csrf".into(), Value::from("x".repeat(43)));
    data.insert("note".into(), Value::from("lorem ipsum ".repeat(30)));
    Record::new(SessionId::generate(), data, now, now.saturating_add(TTL))
}

/// The median of the rounds' rates.
pub fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

/// Runs `work(task, share)` on `tasks` tasks at once, each doing `ops / tasks`
/// operations, and answers the overall rate.
pub async fn concurrently<F, Fut>(tasks: usize, ops: usize, work: F) -> BoxResult<f64>
where
    F: Fn(usize, usize) -> Fut,
    Fut: std::future::Future<Output = TaskResult<()>> + Send + 'static,
{
    let share = ops / tasks;
    let futures: Vec<_> = (0..tasks).map(|t| work(t, share)).collect();
    let start = Instant::now();
    let handles: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    for handle in handles {
        handle.await??;
    }
    Ok(rate((share * tasks) as u64, start.elapsed()))
}

/// The sessions task `t` of `tasks` owns: saves never race on a record, so none
/// conflicts.
pub fn owned(t: usize, tasks: usize) -> impl Iterator<Item = usize> {
    (t..SESSIONS).step_by(tasks)
}

/// One table row: operation, tasks, ops, ours, raw, ours / raw.
pub fn ratio_row(op: &str, tasks: usize, ops: usize, store: f64, raw: f64) -> Vec<String> {
    vec![
        op.to_owned(),
        tasks.to_string(),
        thousands(ops as u64),
        fmt_rate(store),
        fmt_rate(raw),
        format!("{:.2}", store / raw),
    ]
}
