//! Concurrency reliability on every backend compiled in (issue 9): no lost update, no
//! session back after logout, histories that a linearizability checker accepts.
//!
//! Under `cargo test --workspace` every backend feature is on (the demo crate turns on
//! sql, redis and memcache); `cargo test -p session-any` runs the default ones (memory,
//! file, shelf, sqlite, cookie). Server backends use the shared PostgreSQL, MariaDB and
//! Redis that `scripts/services` starts (or `SESSION_TEST_<KIND>_URL`) and a private
//! memcached; an unreachable server fails the test, it is never skipped.
//!
//! File and shelf stores run with `?durable=false`: the properties tested here are about
//! atomicity and compare-and-set, which do not depend on fsync (the store writes and
//! renames or commits the same way either way), and thousands of fsyncs would take the
//! file far past its time budget on a slow disk. Durability is what the crash tests
//! check.
//!
//! Figures (conflicts replayed, race outcomes) are printed: run with `--nocapture`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use session_any::{AnyStore, SessionConfig};
use session_conformance::{CountingStore, FaultStore, Op};
use session_core::{CookieChange, SessionDriver, SessionOptions, SessionStore, TouchPolicy};

/// One backend under test.
struct Backend {
    name: &'static str,
    store: Arc<dyn SessionStore>,
    _guard: Option<Box<dyn std::any::Any + Send>>,
}

/// What a test task needs of a backend; the [`Backend`] (and its guard) stays with
/// the test until every task is done.
struct Probe {
    name: &'static str,
    store: Arc<dyn SessionStore>,
}

impl Backend {
    fn probe(&self) -> Probe {
        Probe {
            name: self.name,
            store: self.store.clone(),
        }
    }
}

/// The memcached under test: `SESSION_TEST_MEMCACHE_URL`'s, or a private one that
/// lives as long as the returned guard.
#[cfg(feature = "memcache")]
fn memcached() -> (String, Option<session_test_servers::Memcached>) {
    if let Some(url) = session_test_servers::Service::Memcache.external_url() {
        return (url, None);
    }
    let server = session_test_servers::Memcached::start();
    (server.url(), Some(server))
}

async fn open(url: &str) -> Arc<dyn SessionStore> {
    AnyStore::open(url)
        .await
        .unwrap_or_else(|e| panic!("{url}: {e}"))
        .into_inner()
}

/// Every backend compiled in, each in a namespace of `test`'s own. `with_cookie` adds
/// the cookie store (no compare-and-set, no server-side revoke).
async fn backends(test: &str, with_cookie: bool) -> Vec<Backend> {
    let mut out = vec![Backend {
        name: "memory",
        store: open("memory://").await,
        _guard: None,
    }];
    #[cfg(feature = "file")]
    {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("file://{}/sessions?durable=false", dir.path().display());
        out.push(Backend {
            name: "file",
            store: open(&url).await,
            _guard: Some(Box::new(dir)),
        });
        let dir = tempfile::tempdir().unwrap();
        let url = format!(
            "shelf://{}/sessions.redb?durable=false",
            dir.path().display()
        );
        out.push(Backend {
            name: "shelf",
            store: open(&url).await,
            _guard: Some(Box::new(dir)),
        });
    }
    #[cfg(feature = "sqlite")]
    {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/sessions.db", dir.path().display());
        out.push(Backend {
            name: "sqlite",
            store: open(&url).await,
            _guard: Some(Box::new(dir)),
        });
    }
    #[cfg(feature = "postgres")]
    {
        let base = session_test_servers::Service::Postgres.url();
        out.push(Backend {
            name: "postgres",
            store: open(&format!("{base}?session_table=reliability_{test}")).await,
            _guard: None,
        });
    }
    #[cfg(feature = "mysql")]
    {
        let base = session_test_servers::Service::MySql.url();
        out.push(Backend {
            name: "mysql",
            store: open(&format!("{base}?session_table=reliability_{test}")).await,
            _guard: None,
        });
    }
    #[cfg(feature = "redis")]
    {
        let base = session_test_servers::Service::Redis.url();
        let url = format!(
            "{base}?prefix=reliability-test:{}:{test}:",
            std::process::id()
        );
        out.push(Backend {
            name: "redis",
            store: open(&url).await,
            _guard: None,
        });
    }
    #[cfg(feature = "memcache")]
    {
        let (url, guard) = memcached();
        out.push(Backend {
            name: "memcache",
            store: open(&url).await,
            _guard: guard.map(|g| Box::new(g) as Box<dyn std::any::Any + Send>),
        });
    }
    #[cfg(feature = "cookie")]
    if with_cookie {
        let mut config = SessionConfig::for_url("cookie://");
        config.cookie_secrets = vec!["reliability-test-sealing-secret-0123456789".into()];
        out.push(Backend {
            name: "cookie",
            store: config.store().await.unwrap().into_inner(),
            _guard: None,
        });
    }
    let _ = (test, with_cookie, SessionConfig::for_url("memory://"));
    out
}

fn options(retries: u32) -> Arc<SessionOptions> {
    Arc::new(
        SessionOptions::default()
            .with_conflict_retries(retries)
            .with_touch(TouchPolicy::OnChange),
    )
}

/// A new stored session holding `n = 0`; returns its cookie value.
async fn new_session(store: &Arc<dyn SessionStore>, opts: &Arc<SessionOptions>) -> String {
    let s = SessionDriver::new(store.clone(), opts.clone(), None);
    s.insert("n", 0u64).await.unwrap();
    match s.finish().await.unwrap().cookie {
        CookieChange::Set(v) => v,
        other => panic!("a new session sets a cookie, got {other:?}"),
    }
}

/// The value of `key` in the session `cookie` names, read through a fresh request.
async fn read(
    store: &Arc<dyn SessionStore>,
    opts: &Arc<SessionOptions>,
    cookie: &str,
    key: &str,
) -> Option<u64> {
    let s = SessionDriver::new(store.clone(), opts.clone(), Some(cookie.to_owned()));
    s.get::<u64>(key).await.unwrap()
}

// ---------------------------------------------------------------------------------
// 16 tasks × 250 read-modify-write increments of one key
// ---------------------------------------------------------------------------------

const TASKS: u64 = 16;
const INCREMENTS: u64 = 250;

/// Runs the increments on one backend. Every request reads the shared cookie jar (a
/// browser with many tabs) and puts back the cookie its response sets. Returns the
/// final value and the save calls made (conflicts replayed = saves - increments).
async fn hammer(store: Arc<dyn SessionStore>, cas: bool) -> (u64, u64, Duration) {
    let counting = Arc::new(CountingStore::new(store.clone()));
    let counted: Arc<dyn SessionStore> = counting.clone();
    let opts = options(100_000);
    let jar = Arc::new(Mutex::new(new_session(&counted, &opts).await));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..TASKS {
        let (store, opts, jar) = (counted.clone(), opts.clone(), jar.clone());
        let raw = store.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..INCREMENTS {
                let cookie = jar.lock().unwrap().clone();
                let s = SessionDriver::new(store.clone(), opts.clone(), Some(cookie));
                s.update("n", |n: Option<u64>| n.unwrap_or(0) + 1)
                    .await
                    .unwrap();
                let outcome = s.finish().await.unwrap();
                match outcome.cookie {
                    CookieChange::Set(v) => {
                        if !cas {
                            // The documented cookie behaviour: every response's cookie
                            // opens to a session.
                            assert!(raw.load(&v).await.unwrap().is_some());
                        }
                        *jar.lock().unwrap() = v;
                    }
                    other => panic!("an increment sets the cookie, got {other:?}"),
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let elapsed = start.elapsed();
    let cookie = jar.lock().unwrap().clone();
    let value = read(&store, &opts, &cookie, "n").await.unwrap();
    (value, counting.counts().save, elapsed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_increments_are_never_lost() {
    let total = TASKS * INCREMENTS;
    let mut runs = Vec::new();
    let list = backends("incr", true).await;
    for b in &list {
        let b = b.probe();
        let cas = b.store.capabilities().compare_and_set;
        runs.push(async move {
            let (value, saves, elapsed) = hammer(b.store.clone(), cas).await;
            (b.name, cas, value, saves, elapsed)
        });
    }
    let mut failures = Vec::new();
    for (name, cas, value, saves, elapsed) in futures::future::join_all(runs).await {
        println!(
            "increments {name:>8}: final {value} of {total}, {saves} saves ({} conflicts replayed), {elapsed:.2?}",
            saves.saturating_sub(total)
        );
        if cas && value != total {
            failures.push(format!("{name}: {value} != {total}"));
        }
        if !cas && !(1..=total).contains(&value) {
            failures.push(format!(
                "{name} (last writer wins): {value} not in 1..={total}"
            ));
        }
    }
    assert!(failures.is_empty(), "lost updates: {failures:?}");
}

// ---------------------------------------------------------------------------------
// Two concurrent requests changing different keys
// ---------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_requests_on_different_keys_both_survive() {
    const ROUNDS: u64 = 50;
    let mut runs = Vec::new();
    let list = backends("keys", false).await;
    for b in &list {
        let b = b.probe();
        runs.push(async move {
            let opts = options(100);
            let counting = Arc::new(CountingStore::new(b.store.clone()));
            let store: Arc<dyn SessionStore> = counting.clone();
            let mut lost = 0;
            for round in 0..ROUNDS {
                let cookie = new_session(&store, &opts).await;
                // Both requests read the same version before either writes, so the
                // second save always conflicts and must replay its own key only.
                let a = SessionDriver::new(store.clone(), opts.clone(), Some(cookie.clone()));
                let b2 = SessionDriver::new(store.clone(), opts.clone(), Some(cookie.clone()));
                a.get::<u64>("n").await.unwrap();
                b2.get::<u64>("n").await.unwrap();
                a.insert("a", round).await.unwrap();
                b2.insert("b", round).await.unwrap();
                let (ra, rb) = tokio::join!(a.finish(), b2.finish());
                ra.unwrap();
                rb.unwrap();
                let (va, vb) = (
                    read(&store, &opts, &cookie, "a").await,
                    read(&store, &opts, &cookie, "b").await,
                );
                if va != Some(round) || vb != Some(round) {
                    lost += 1;
                }
            }
            let conflicts = counting.counts().save - 2 * ROUNDS;
            (b.name, lost, conflicts)
        });
    }
    let mut failures = Vec::new();
    for (name, lost, conflicts) in futures::future::join_all(runs).await {
        println!(
            "different keys {name:>8}: {ROUNDS} request pairs, {conflicts} conflicts replayed, {lost} lost"
        );
        if lost > 0 {
            failures.push(format!("{name}: {lost} rounds lost a key"));
        }
        if conflicts < ROUNDS {
            failures.push(format!(
                "{name}: only {conflicts} conflicts in {ROUNDS} rounds (the race did not happen)"
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:?}");
}

// ---------------------------------------------------------------------------------
// Logout racing a slow save
// ---------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn logout_racing_a_slow_save_stays_deleted() {
    const ROUNDS: u32 = 1000;
    let mut runs = Vec::new();
    let list = backends("logout", false).await;
    for b in &list {
        let b = b.probe();
        runs.push(async move {
            let faulty = Arc::new(FaultStore::new(b.store.clone()));
            let plan = faulty.plan();
            let store: Arc<dyn SessionStore> = faulty.clone();
            let opts = options(16);
            let (mut save_lost, mut save_first, mut resurrected) = (0u32, 0u32, 0u32);
            for round in 0..ROUNDS {
                // Every third save is not delayed at all (a true race); the others
                // arrive 1 or 2 ms after the logout started.
                plan.clear();
                match round % 3 {
                    0 => {}
                    n => {
                        plan.delay(Op::Save, Duration::from_millis(u64::from(n)));
                    }
                }
                let cookie = new_session(&store, &opts).await;
                let slow = SessionDriver::new(store.clone(), opts.clone(), Some(cookie.clone()));
                let logout = SessionDriver::new(store.clone(), opts.clone(), Some(cookie.clone()));
                // Both requests have loaded the session before either acts.
                slow.get::<u64>("n").await.unwrap();
                logout.get::<u64>("n").await.unwrap();
                slow.insert("cart", round).await.unwrap();
                let (saved, deleted) = tokio::join!(slow.finish(), async {
                    logout.delete().await?;
                    logout.finish().await
                });
                let saved = saved.unwrap();
                assert_eq!(deleted.unwrap().cookie, CookieChange::Remove);
                match saved.cookie {
                    CookieChange::Remove => save_lost += 1,
                    CookieChange::Set(_) => save_first += 1,
                    CookieChange::Unchanged => {}
                }
                plan.clear();
                if b.store.load(&cookie).await.unwrap().is_some() {
                    resurrected += 1;
                }
            }
            (b.name, save_lost, save_first, resurrected)
        });
    }
    let mut failures = Vec::new();
    for (name, save_lost, save_first, resurrected) in futures::future::join_all(runs).await {
        println!(
            "logout race {name:>8}: {ROUNDS} rounds; save refused (NotFound) {save_lost}, save won then deleted {save_first}; resurrected {resurrected}"
        );
        if resurrected > 0 {
            failures.push(format!("{name}: {resurrected} sessions came back"));
        }
    }
    assert!(failures.is_empty(), "{failures:?}");
}

// ---------------------------------------------------------------------------------
// Linearizability of a recorded history
// ---------------------------------------------------------------------------------

/// One operation on the counter, as a client saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Call {
    /// Read the counter; `Some(v)` is what it returned.
    Read(Option<u64>),
    /// Increment it; `Some(v)` is the value written, `None` if the outcome is unknown
    /// (the request failed: it may or may not have taken effect).
    Inc(Option<u64>),
}

/// An operation with its invocation and response times (ticks of one global counter,
/// so real-time order is exact). An unknown outcome responds at `u64::MAX`.
#[derive(Debug, Clone, Copy)]
struct Event {
    call: Call,
    invoked: u64,
    returned: u64,
}

/// A Wing–Gong search with Lowe's memoisation (the WGL algorithm): is there an order
/// of the operations that respects real time (an operation that returned before
/// another was invoked comes first) and that a single counter, starting at `init`,
/// would produce? Operations with an unknown outcome may be left out or placed
/// anywhere after their invocation. At most 64 operations.
fn linearizable(history: &[Event], init: u64) -> bool {
    assert!(history.len() <= 64);
    let complete: u64 = history
        .iter()
        .enumerate()
        .filter(|(_, e)| e.returned != u64::MAX)
        .fold(0, |m, (i, _)| m | 1 << i);
    let mut seen = HashSet::new();
    search(history, complete, 0, init, &mut seen)
}

fn search(
    history: &[Event],
    complete: u64,
    done: u64,
    state: u64,
    seen: &mut HashSet<(u64, u64)>,
) -> bool {
    if done & complete == complete {
        return true;
    }
    if !seen.insert((done, state)) {
        return false;
    }
    // An operation can go next only if no pending operation returned before it began.
    let horizon = (0..history.len())
        .filter(|i| done & (1 << i) == 0)
        .map(|i| history[i].returned)
        .min()
        .unwrap_or(u64::MAX);
    for (i, e) in history.iter().enumerate() {
        if done & (1 << i) != 0 || e.invoked > horizon {
            continue;
        }
        let next = match e.call {
            Call::Read(Some(v)) if v == state => state,
            Call::Read(None) if state == 0 => state,
            Call::Inc(Some(v)) if v == state + 1 => v,
            Call::Inc(None) => state + 1,
            _ => continue,
        };
        if search(history, complete, done | 1 << i, next, seen) {
            return true;
        }
    }
    false
}

#[test]
fn checker_accepts_and_rejects_known_histories() {
    let ev = |call, invoked, returned| Event {
        call,
        invoked,
        returned,
    };
    // Two overlapping increments, read after both: fine in either order.
    assert!(linearizable(
        &[
            ev(Call::Inc(Some(2)), 0, 3),
            ev(Call::Inc(Some(1)), 1, 2),
            ev(Call::Read(Some(2)), 4, 5),
        ],
        0
    ));
    // A read that misses an increment that had already returned: a lost update.
    assert!(!linearizable(
        &[ev(Call::Inc(Some(1)), 0, 1), ev(Call::Read(Some(0)), 2, 3)],
        0
    ));
    // Two increments both writing 1: one was lost.
    assert!(!linearizable(
        &[ev(Call::Inc(Some(1)), 0, 3), ev(Call::Inc(Some(1)), 1, 2)],
        0
    ));
    // A failed increment may have happened or not.
    let maybe = ev(Call::Inc(None), 0, u64::MAX);
    assert!(linearizable(&[maybe, ev(Call::Read(Some(1)), 1, 2)], 0));
    assert!(linearizable(&[maybe, ev(Call::Read(Some(0)), 1, 2)], 0));
    // A stale read of a value overwritten before the read began.
    assert!(!linearizable(
        &[
            ev(Call::Inc(Some(1)), 0, 1),
            ev(Call::Inc(Some(2)), 2, 3),
            ev(Call::Read(Some(1)), 4, 5),
        ],
        0
    ));
}

async fn record_history(store: Arc<dyn SessionStore>) -> Vec<Event> {
    const CLIENTS: u64 = 4;
    const OPS: u64 = 10;
    let opts = options(100_000);
    let cookie = new_session(&store, &opts).await;
    let clock = Arc::new(AtomicU64::new(0));
    let history = Arc::new(Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for client in 0..CLIENTS {
        let (store, opts, cookie, clock, history) = (
            store.clone(),
            opts.clone(),
            cookie.clone(),
            clock.clone(),
            history.clone(),
        );
        tasks.push(tokio::spawn(async move {
            for op in 0..OPS {
                let is_read = (client + op) % 3 == 0;
                let invoked = clock.fetch_add(1, Ordering::SeqCst);
                let s = SessionDriver::new(store.clone(), opts.clone(), Some(cookie.clone()));
                let result = if is_read {
                    s.get::<u64>("n").await.map(Call::Read)
                } else {
                    async {
                        let handle = s.session();
                        handle
                            .update("n", |n: Option<u64>| n.unwrap_or(0) + 1)
                            .await?;
                        s.finish().await?;
                        // After a replayed save this is the value actually written.
                        handle.get::<u64>("n").await.map(Call::Inc)
                    }
                    .await
                };
                let (call, returned) = match result {
                    Ok(call) => (call, clock.fetch_add(1, Ordering::SeqCst)),
                    Err(_) if !is_read => (Call::Inc(None), u64::MAX),
                    Err(e) => panic!("read failed: {e}"),
                };
                history.lock().unwrap().push(Event {
                    call,
                    invoked,
                    returned,
                });
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let h = history.lock().unwrap().clone();
    h
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn recorded_histories_are_linearizable() {
    let mut runs = Vec::new();
    let list = backends("linear", false).await;
    for b in &list {
        let b = b.probe();
        runs.push(async move {
            let history = record_history(b.store.clone()).await;
            let start = Instant::now();
            let ok = linearizable(&history, 0);
            (b.name, history, ok, start.elapsed())
        });
    }
    let mut failures = Vec::new();
    for (name, history, ok, took) in futures::future::join_all(runs).await {
        let incs = history
            .iter()
            .filter(|e| matches!(e.call, Call::Inc(_)))
            .count();
        println!(
            "linearizability {name:>8}: {} ops ({incs} increments), {}, checked in {took:.2?}",
            history.len(),
            if ok {
                "linearizable"
            } else {
                "NOT linearizable"
            }
        );
        if !ok {
            failures.push(format!("{name}: {history:?}"));
        }
    }
    assert!(failures.is_empty(), "{failures:?}");
}

// ---------------------------------------------------------------------------------
// "Log out everywhere" racing new logins of the same user (contract rule 12)
// ---------------------------------------------------------------------------------

/// Logs a new session of `user` in through the handle (bind, cycle, as a login does);
/// returns its cookie value.
async fn login_as(
    store: &Arc<dyn SessionStore>,
    opts: &Arc<SessionOptions>,
    user: &session_core::UserBinding,
) -> String {
    let s = SessionDriver::new(store.clone(), opts.clone(), None);
    s.insert("n", 0u64).await.unwrap();
    s.bind_user(user.clone()).await;
    match s.finish().await.unwrap().cookie {
        CookieChange::Set(v) => v,
        other => panic!("a login sets a cookie, got {other:?}"),
    }
}

/// Every key listed for `user`, all pages.
async fn listed(
    store: &Arc<dyn SessionStore>,
    user: &session_core::UserKey,
) -> HashSet<session_core::StorageKey> {
    let (mut out, mut cursor) = (HashSet::new(), None);
    loop {
        let page = store.sessions_of(user, cursor, 100).await.unwrap();
        out.extend(page.sessions.iter().map(|s| s.key));
        match page.next {
            Some(next) => cursor = Some(next),
            None => return out,
        }
    }
}

/// 1,000 rounds per backend with the user index: each round logs a user in on 3
/// devices, then runs `revoke_user` while 3 more logins of the same user run. Every
/// session logged in before the revoke started must be gone; a concurrent login may
/// survive or not; and afterwards a session must load exactly when it is listed (the
/// index neither lost a live session nor kept a dead one).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn revoke_user_racing_logins_misses_no_earlier_session() {
    const ROUNDS: usize = 1_000;
    let mut runs = Vec::new();
    let list = backends("users", false).await;
    for b in &list {
        let b = b.probe();
        if !b.store.capabilities().user_index {
            continue;
        }
        runs.push(async move {
            let opts = options(100);
            let store = b.store.clone();
            let (mut missed, mut inconsistent, mut survived, mut caught) = (0, 0, 0, 0);
            let start = Instant::now();
            for round in 0..ROUNDS {
                let user = session_core::UserBinding::new(format!("racer-{round}")).unwrap();
                let key = user.user_key();
                let mut before = Vec::new();
                for _ in 0..3 {
                    before.push(login_as(&store, &opts, &user).await);
                }
                let logins =
                    futures::future::join_all((0..3).map(|_| login_as(&store, &opts, &user)));
                // The revoke starts after 0 to 3 yields, so it lands before, between
                // and after the logins' writes in turn.
                let revoke = async {
                    for _ in 0..round % 4 {
                        tokio::task::yield_now().await;
                    }
                    store.revoke_user(&key, None).await
                };
                let (revoked, during) = tokio::join!(revoke, logins);
                revoked.unwrap();
                for cookie in &before {
                    if store.load(cookie).await.unwrap().is_some() {
                        missed += 1;
                    }
                }
                let index = listed(&store, &key).await;
                let mut live = HashSet::new();
                for cookie in &during {
                    if let Some(r) = store.load(cookie).await.unwrap() {
                        live.insert(r.id.storage_key());
                        survived += 1;
                    } else {
                        caught += 1;
                    }
                }
                if live != index {
                    inconsistent += 1;
                }
                store.revoke_user(&key, None).await.unwrap();
            }
            (
                b.name,
                missed,
                inconsistent,
                survived,
                caught,
                start.elapsed(),
            )
        });
    }
    let mut failures = Vec::new();
    for (name, missed, inconsistent, survived, caught, elapsed) in
        futures::future::join_all(runs).await
    {
        println!(
            "revoke vs logins {name:>8}: {ROUNDS} rounds, earlier sessions missed {missed}, \
             concurrent logins revoked {caught} / survived {survived}, index mismatches \
             {inconsistent}, {elapsed:.2?}"
        );
        if missed > 0 || inconsistent > 0 {
            failures.push(format!(
                "{name}: {missed} missed, {inconsistent} mismatched"
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:?}");
}
