//! The demo under a steady load of requests while its session server is SIGKILLed and
//! restarted: Redis, memcached, PostgreSQL and MariaDB, each a private instance
//! (`session_test_servers`).
//!
//! For each backend: 8 clients loop on `/counter` for 5 s, the server is killed, stays
//! down for 3 s, and is restarted on the same port; the clients keep going for 4 s
//! more. The app is never restarted. Checked:
//! - every request is answered (no hang, no dropped connection) within the store
//!   timeout configured in the URL plus scheduling slack, with 200 or the configured
//!   error (503 + `Retry-After`), never a 500;
//! - every request started while the server was down got the 503;
//! - every request started 2 s after the restart or later is served (200);
//! - on the persistent backends (PostgreSQL, MariaDB, and Redis with `appendfsync
//!   always`) 50 sessions written before the outage are intact (logged in, counter
//!   unchanged) and no client's counter goes back; on memcached, which keeps nothing
//!   across a restart, those sessions are gone and their clients get fresh ones.
//!
//! Run one with its figures: `cargo test -p session-demo --test outage -- --nocapture`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code

mod common;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::Framework;
use reqwest::cookie::Jar;
use session_test_servers::{MariaDb, Memcached, Postgres, RedisServer};

/// The store timeout every URL below configures.
const TIMEOUT: Duration = Duration::from_secs(1);
/// Scheduling slack on a loaded 2-core machine; a hang would blow far past it.
const SLACK: Duration = Duration::from_secs(2);
const CLIENTS: usize = 8;
const SEEDED: usize = 50;
const STEADY: Duration = Duration::from_secs(5);
const OUTAGE: Duration = Duration::from_secs(3);
const AFTER: Duration = Duration::from_secs(4);
/// Sessions must be served again this soon after the restart.
const RECOVERY: Duration = Duration::from_secs(2);

/// The outage tests share two cores; one at a time keeps their latencies honest.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

enum Private {
    Redis(RedisServer),
    Memcached(Memcached),
    Postgres(Postgres),
    MariaDb(MariaDb),
}

impl Private {
    fn url(&self) -> String {
        match self {
            Private::Redis(s) => format!("{}?timeout=1s&prefix=demo-outage:", s.url()),
            Private::Memcached(s) => format!("{}?timeout=1s", s.url()),
            Private::Postgres(s) => format!("{}?timeout=1s", s.url()),
            Private::MariaDb(s) => format!("{}?timeout=1s", s.url()),
        }
    }

    fn persistent(&self) -> bool {
        !matches!(self, Private::Memcached(_))
    }

    fn kill(&mut self) {
        match self {
            Private::Redis(s) => s.kill(),
            Private::Memcached(s) => s.kill(),
            Private::Postgres(s) => s.kill(),
            Private::MariaDb(s) => s.kill(),
        }
    }

    fn restart(&mut self) {
        match self {
            Private::Redis(s) => s.restart(),
            Private::Memcached(s) => s.restart(),
            Private::Postgres(s) => s.start_again(),
            Private::MariaDb(s) => s.restart(),
        }
    }
}

async fn serve(url: &str, framework: Framework) -> SocketAddr {
    common::serve(url, "demo-outage-secret-demo-outage-secret-01", framework).await
}

/// A client with its own cookie jar and a timeout far above the server's.
fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_provider(Arc::new(Jar::default()))
        .timeout(TIMEOUT + SLACK + Duration::from_secs(5))
        .build()
        .unwrap()
}

/// One request as the load saw it.
struct Sample {
    client: usize,
    started: Duration,
    took: Duration,
    /// Status, `Retry-After`, body; or the transport error.
    outcome: Result<(u16, Option<String>, String), String>,
}

async fn get(
    c: &reqwest::Client,
    addr: SocketAddr,
    path: &str,
) -> Result<(u16, Option<String>, String), String> {
    let res = c
        .get(format!("http://{addr}{path}"))
        .send()
        .await
        .map_err(|e| format!("{e:?}"))?;
    let status = res.status().as_u16();
    let retry = res
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = res.text().await.map_err(|e| format!("{e:?}"))?;
    Ok((status, retry, body))
}

fn counter_value(s: &Sample) -> Option<u64> {
    match &s.outcome {
        Ok((200, _, body)) => body.trim().parse().ok(),
        _ => None,
    }
}

async fn outage(name: &str, framework: Framework, start: impl FnOnce() -> Private) {
    let _one_at_a_time = SERIAL.lock().await;
    let mut server = tokio::task::block_in_place(start);
    let persistent = server.persistent();
    let addr = serve(&server.url(), framework).await;

    // Sessions written before the outage: logged in, counter at 3.
    let mut seeded = Vec::new();
    for _ in 0..SEEDED {
        let c = client();
        let (status, _, page) = get(&c, addr, "/login").await.unwrap();
        assert_eq!(status, 200, "{name}: login");
        assert!(page.contains("You are logged in"), "{name}: {page}");
        for n in 1..=3 {
            assert_eq!(get(&c, addr, "/counter").await.unwrap().2, n.to_string());
        }
        seeded.push(c);
    }

    let t0 = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let mut load = Vec::new();
    for id in 0..CLIENTS {
        let stop = stop.clone();
        load.push(tokio::spawn(async move {
            let c = client();
            let mut samples = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let started = t0.elapsed();
                let outcome = get(&c, addr, "/counter").await;
                let took = t0.elapsed() - started;
                let failed = !matches!(outcome, Ok((200, _, _)));
                samples.push(Sample {
                    client: id,
                    started,
                    took,
                    outcome,
                });
                if failed {
                    // A client backs off a little on an error, as browsers and
                    // retrying clients do; it must not spin on a fast 503.
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
            samples
        }));
    }

    tokio::time::sleep(STEADY).await;
    let killed_at = t0.elapsed();
    tokio::task::block_in_place(|| server.kill());
    let killed_done = t0.elapsed();
    tokio::time::sleep(OUTAGE).await;
    let restart_began = t0.elapsed();
    tokio::task::block_in_place(|| server.restart());
    let restarted_at = t0.elapsed();
    tokio::time::sleep(AFTER).await;
    stop.store(true, Ordering::Relaxed);
    let mut samples = Vec::new();
    for task in load {
        samples.extend(task.await.unwrap());
    }

    // Every request answered, in time, with 200 or the configured error.
    let limit = TIMEOUT + SLACK;
    let mut slowest = Duration::ZERO;
    for s in &samples {
        slowest = slowest.max(s.took);
        match &s.outcome {
            Ok((200, _, _)) => {}
            Ok((503, retry, _)) => {
                assert_eq!(
                    retry.as_deref(),
                    Some("1"),
                    "{name}: 503 without Retry-After"
                )
            }
            Ok((status, _, body)) => panic!(
                "{name}: client {} at {:?} got {status}: {body}",
                s.client, s.started
            ),
            Err(e) => panic!(
                "{name}: client {} at {:?}: no answer: {e}",
                s.client, s.started
            ),
        }
        assert!(
            s.took <= limit,
            "{name}: a request at {:?} took {:?}, over {limit:?}",
            s.started,
            s.took
        );
    }

    // Down: every request that started after the kill and before the restart began.
    let during: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.started >= killed_done && s.started + s.took < restart_began)
        .collect();
    assert!(!during.is_empty(), "{name}: no request during the outage");
    for s in &during {
        assert!(
            matches!(s.outcome, Ok((503, _, _))),
            "{name}: a request during the outage at {:?} was not a 503",
            s.started
        );
    }

    // Back: everything from 2 s after the restart on is served.
    let late: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.started >= restarted_at + RECOVERY)
        .collect();
    assert!(
        late.len() >= CLIENTS,
        "{name}: too few requests after recovery"
    );
    for s in &late {
        assert!(
            matches!(s.outcome, Ok((200, _, _))),
            "{name}: client {} still failing {:?} after the restart",
            s.client,
            s.started - restarted_at
        );
    }
    let recovered = samples
        .iter()
        .filter(|s| s.started >= restarted_at && counter_value(s).is_some())
        .map(|s| s.started + s.took - restarted_at)
        .min()
        .unwrap();

    // Counters never go back on a persistent backend; on memcached they start over.
    for id in 0..CLIENTS {
        let mine: Vec<&Sample> = samples.iter().filter(|s| s.client == id).collect();
        let before = mine
            .iter()
            .filter(|s| s.started + s.took <= killed_at)
            .filter_map(|s| counter_value(s))
            .max()
            .unwrap_or(0);
        // The first answer once the server is back (it may answer before `restart`
        // returns).
        let after = mine
            .iter()
            .filter(|s| s.started >= killed_done)
            .find_map(|s| counter_value(s))
            .unwrap();
        if persistent {
            assert!(
                after > before,
                "{name}: client {id}'s counter went from {before} to {after}"
            );
        } else {
            assert_eq!(
                after, 1,
                "{name}: client {id} kept a counter memcached lost"
            );
        }
    }

    // The sessions written before the outage.
    let mut intact = 0;
    for c in &seeded {
        let (status, _, page) = get(c, addr, "/").await.unwrap();
        assert_eq!(status, 200);
        let (_, _, count) = get(c, addr, "/counter").await.unwrap();
        if page.contains("You are logged in") && count == "4" {
            intact += 1;
        } else if persistent {
            panic!("{name}: a session written before the outage was lost: {page} {count}");
        } else {
            assert!(page.contains("You are not logged in"), "{page}");
            assert_eq!(count, "1");
        }
    }
    if persistent {
        assert_eq!(intact, SEEDED);
    } else {
        assert_eq!(
            intact, 0,
            "{name}: memcached kept sessions across a restart"
        );
    }

    let ok = samples
        .iter()
        .filter(|s| counter_value(s).is_some())
        .count();
    let unavailable = samples.len() - ok;
    let during_max = during.iter().map(|s| s.took).max().unwrap_or_default();
    println!(
        "outage {name}: {} requests ({ok} ok, {unavailable} 503); slowest answer {:.0} ms \
         (during the outage {:.0} ms; limit {} ms); served again {:.0} ms after the restart; \
         {intact}/{SEEDED} pre-outage sessions intact",
        samples.len(),
        slowest.as_secs_f64() * 1e3,
        during_max.as_secs_f64() * 1e3,
        limit.as_millis(),
        recovered.as_secs_f64() * 1e3,
    );
}

async fn redis_outage(framework: Framework) {
    outage("redis", framework, || {
        Private::Redis(RedisServer::start_persistent())
    })
    .await;
}

async fn memcached_outage(framework: Framework) {
    outage("memcached", framework, || {
        Private::Memcached(Memcached::start())
    })
    .await;
}

async fn postgres_outage(framework: Framework) {
    outage("postgres", framework, || {
        Private::Postgres(Postgres::start())
    })
    .await;
}

async fn mariadb_outage(framework: Framework) {
    outage("mariadb", framework, || Private::MariaDb(MariaDb::start())).await;
}

common::per_framework! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)] redis_outage,
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)] memcached_outage,
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)] postgres_outage,
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)] mariadb_outage,
}
