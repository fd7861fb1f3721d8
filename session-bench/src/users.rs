//! Sessions by user (contract rule 12) on SQLite, PostgreSQL and Redis:
//!
//! - `list`: one user's whole listing through `sessions_of` (pages of 100), for users
//!   with 1, 10, 100 and 1,000 sessions among 2,000 sessions of other users, next to the
//!   raw query that does the same on the same data (SQL: the indexed `SELECT` page by
//!   page; Redis: the index read plus one `MGET` of the records per page), without
//!   decoding;
//! - `revoke`: `revoke_user` of such a user (re-seeded before each round, untimed), next
//!   to the raw delete (SQL: one `DELETE … WHERE user_key = ?`; Redis: the index read,
//!   `DEL` of the records and of the index);
//! - `create` and `save` of a bound 100-byte session next to the same unbound, at 1 and
//!   32 tasks: what binding costs on the hot path.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use session_core::{Record, SessionStore, UserBinding, UserKey};

use crate::measure::{measure, summarize, Figures, Sample, TaskResult};
use crate::results::UserRow;
use crate::workload::{now, sample_record};
use crate::BoxResult;

/// Sessions of the one measured user, per cell.
pub const SIZES: [usize; 4] = [1, 10, 100, 1_000];
/// Sessions of other users around them.
const NOISE: usize = 2_000;
/// Page size of a listing.
pub const PAGE: usize = 100;
const PAYLOAD: usize = 100;

/// The raw backend queries next to which the store is measured.
#[async_trait]
pub trait RawIndex: Send + Sync {
    /// What the raw side runs, for the table.
    fn label(&self, op: &str) -> String;
    /// Lists `user`'s live sessions as the store stores them; returns how many.
    async fn list(&self, user: &UserKey) -> TaskResult<usize>;
    /// Deletes `user`'s sessions; returns how many.
    async fn revoke(&self, user: &UserKey) -> TaskResult<u64>;
}

/// One store with its raw twin.
pub struct IndexTarget {
    /// `sqlite`, `postgres`, `redis`.
    pub backend: String,
    /// The store.
    pub store: Arc<dyn SessionStore>,
    /// The raw side, if the backend has one here.
    pub raw: Option<Box<dyn RawIndex>>,
    /// Removes what the run wrote.
    pub cleanup: Option<crate::measure::Cleanup>,
}

/// Every cell of every target, each cleaned up after.
pub async fn run(targets: Vec<IndexTarget>) -> BoxResult<Vec<UserRow>> {
    let mut rows = Vec::new();
    for mut target in targets {
        let result = bench(&target).await;
        if let Some(cleanup) = target.cleanup.take() {
            cleanup().await;
        }
        rows.extend(result?);
    }
    Ok(rows)
}

fn bound_record(user: &UserBinding, i: usize) -> Record {
    let mut r = sample_record(now(), PAYLOAD, i);
    r.expires_at = r.created_at.saturating_add(Duration::from_secs(3600));
    r.with_user(Some(user.clone()))
}

async fn seed(store: &Arc<dyn SessionStore>, user: &UserBinding, n: usize) -> BoxResult<()> {
    let records: Arc<Vec<Record>> = Arc::new((0..n).map(|i| bound_record(user, i)).collect());
    let (s, r) = (store.clone(), records.clone());
    measure(32.min(n), n, move |i| {
        let (s, r) = (s.clone(), r.clone());
        async move { s.create(&r[i]).await.map(drop).map_err(|e| e.to_string()) }
    })
    .await?;
    Ok(())
}

async fn list_ours(store: &dyn SessionStore, user: &UserKey) -> TaskResult<usize> {
    let mut cursor = None;
    let mut n = 0;
    loop {
        let page = store
            .sessions_of(user, cursor, PAGE)
            .await
            .map_err(|e| e.to_string())?;
        n += page.sessions.len();
        match page.next {
            Some(next) => cursor = Some(next),
            None => return Ok(n),
        }
    }
}

/// Times `rounds` runs of `op`, each one operation.
async fn timed<F, Fut, T>(rounds: usize, mut op: F) -> BoxResult<Figures>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = TaskResult<T>>,
{
    let mut latencies = Vec::with_capacity(rounds);
    let started = Instant::now();
    for _ in 0..rounds {
        let t = Instant::now();
        op().await?;
        latencies.push(u64::try_from(t.elapsed().as_nanos()).unwrap_or(u64::MAX));
    }
    Ok(summarize(vec![Sample {
        elapsed: started.elapsed(),
        latencies_ns: latencies,
    }]))
}

fn rounds_for(n: usize) -> usize {
    match n {
        0..=10 => 200,
        11..=100 => 50,
        _ => 10,
    }
}

fn ratio(ours: &Figures, other: &Figures) -> Option<f64> {
    (other.ops_per_s > 0.0).then(|| (ours.ops_per_s / other.ops_per_s * 100.0).round() / 100.0)
}

/// Every cell of one target.
pub async fn bench(target: &IndexTarget) -> BoxResult<Vec<UserRow>> {
    let mut rows = Vec::new();
    let store = &target.store;
    eprintln!("users: {}", target.backend);
    for i in 0..NOISE / 100 {
        let other = UserBinding::new(format!("noise-{i}"))?;
        seed(store, &other, 100).await?;
    }
    for (cell, n) in SIZES.into_iter().enumerate() {
        let user = UserBinding::new(format!("bench-user-{cell}"))?;
        let key = user.user_key();
        seed(store, &user, n).await?;
        let rounds = rounds_for(n);
        let listed = list_ours(&**store, &key).await?;
        if listed != n {
            return Err(format!("{}: listed {listed} of {n} sessions", target.backend).into());
        }
        let ours = timed(rounds, || list_ours(&**store, &key)).await?;
        let raw = match &target.raw {
            Some(raw) => {
                let got = raw.list(&key).await?;
                if got != n {
                    return Err(format!("{}: raw listed {got} of {n}", target.backend).into());
                }
                Some(timed(rounds, || raw.list(&key)).await?)
            }
            None => None,
        };
        rows.push(UserRow::new(
            &target.backend,
            n,
            "list",
            1,
            ours,
            raw,
            target,
        ));

        // Revokes: a fresh user per round, seeded untimed.
        let revoke_rounds = rounds.min(20);
        let mut ours_samples = Vec::new();
        let mut raw_samples = Vec::new();
        for round in 0..revoke_rounds {
            let victim = UserBinding::new(format!("revoke-{cell}-{round}"))?;
            seed(store, &victim, n).await?;
            let t = Instant::now();
            let went = store.revoke_user(&victim.user_key(), None).await?;
            ours_samples.push(one(t));
            if went != n as u64 {
                return Err(format!("{}: revoked {went} of {n}", target.backend).into());
            }
            if let Some(raw) = &target.raw {
                let victim = UserBinding::new(format!("raw-revoke-{cell}-{round}"))?;
                seed(store, &victim, n).await?;
                let t = Instant::now();
                raw.revoke(&victim.user_key()).await?;
                raw_samples.push(one(t));
            }
        }
        let raw = (!raw_samples.is_empty()).then(|| summarize(vec![merge(raw_samples)]));
        let ours = summarize(vec![merge(ours_samples)]);
        rows.push(UserRow::new(
            &target.backend,
            n,
            "revoke",
            1,
            ours,
            raw,
            target,
        ));
    }
    rows.extend(hot_path(target).await?);
    Ok(rows)
}

fn one(started: Instant) -> Sample {
    let elapsed = started.elapsed();
    Sample {
        elapsed,
        latencies_ns: vec![u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX)],
    }
}

fn merge(samples: Vec<Sample>) -> Sample {
    Sample {
        elapsed: samples.iter().map(|s| s.elapsed).sum(),
        latencies_ns: samples.into_iter().flat_map(|s| s.latencies_ns).collect(),
    }
}

/// Bound versus unbound `create` and `save`, 1 and 32 tasks.
async fn hot_path(target: &IndexTarget) -> BoxResult<Vec<UserRow>> {
    const OPS: usize = 3_000;
    let mut rows = Vec::new();
    let user = UserBinding::new("hot-path-user")?;
    for tasks in [1, 32] {
        let mut figures = Vec::new();
        for bound in [false, true] {
            let records: Arc<Vec<Record>> = Arc::new(
                (0..OPS)
                    .map(|i| {
                        let r = bound_record(&user, i);
                        if bound {
                            r
                        } else {
                            r.with_user(None)
                        }
                    })
                    .collect(),
            );
            let (s, r) = (target.store.clone(), records.clone());
            let create = measure(tasks, OPS, move |i| {
                let (s, r) = (s.clone(), r.clone());
                async move { s.create(&r[i]).await.map(drop).map_err(|e| e.to_string()) }
            })
            .await?;
            let (s, r) = (target.store.clone(), records.clone());
            let save = measure(tasks, OPS, move |i| {
                let (s, r) = (s.clone(), r.clone());
                async move {
                    let next = r[i].clone().with_version(2);
                    s.save(&next, 1).await.map(drop).map_err(|e| e.to_string())
                }
            })
            .await?;
            figures.push((summarize(vec![create]), summarize(vec![save])));
        }
        let [(c_unbound, s_unbound), (c_bound, s_bound)] = [figures[0], figures[1]];
        let mut create = UserRow::new(
            &target.backend,
            1,
            "create bound",
            tasks,
            c_bound,
            None,
            target,
        );
        create.set_baseline("unbound create", c_unbound);
        let mut save = UserRow::new(
            &target.backend,
            1,
            "save bound",
            tasks,
            s_bound,
            None,
            target,
        );
        save.set_baseline("unbound save", s_unbound);
        rows.push(create);
        rows.push(save);
    }
    Ok(rows)
}

impl UserRow {
    fn new(
        backend: &str,
        sessions: usize,
        op: &str,
        tasks: usize,
        ours: Figures,
        raw: Option<Figures>,
        target: &IndexTarget,
    ) -> Self {
        let raw_label = raw
            .as_ref()
            .and_then(|_| target.raw.as_ref().map(|r| r.label(op)));
        let vs_raw = raw.as_ref().and_then(|r| ratio(&ours, r));
        UserRow {
            backend: backend.to_owned(),
            sessions: sessions as u64,
            op: op.to_owned(),
            tasks,
            ours,
            raw,
            raw_label,
            vs_raw,
        }
    }

    fn set_baseline(&mut self, label: &str, baseline: Figures) {
        self.vs_raw = ratio(&self.ours, &baseline);
        self.raw = Some(baseline);
        self.raw_label = Some(label.to_owned());
    }
}
