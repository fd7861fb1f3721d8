//! A private `redis-server` is SIGKILLed while eight tasks drive the store, then
//! restarted on the same port. During the outage every operation fails with a
//! temporary `Error::Backend` within the configured timeout (measured, per operation); afterwards
//! the same store, never rebuilt, works again, scripts included (the restarted server
//! has none: `NOSCRIPT`, reload, retry).

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use session_core::{Clock, Data, Error, Record, SessionId, SessionStore};
use session_redis::{RedisOptions, RedisStore};

use session_test_servers::RedisServer;

const TIMEOUT: Duration = Duration::from_millis(300);
/// Scheduling headroom over the timeout on a loaded two-core machine.
const SLACK: Duration = Duration::from_millis(200);
const WORKERS: usize = 8;

#[derive(Debug)]
enum Outcome {
    Ok,
    Backend { timed_out: bool, temporary: bool },
    Other(String),
}

struct Sample {
    started: Instant,
    elapsed: Duration,
    outcome: Outcome,
}

fn classify<T>(result: &Result<T, Error>) -> Outcome {
    match result {
        Ok(_) => Outcome::Ok,
        Err(Error::Backend(source)) => Outcome::Backend {
            timed_out: source.is_timeout(),
            temporary: source.is_temporary() && source.store() == Some("redis"),
        },
        Err(other) => Outcome::Other(other.to_string()),
    }
}

/// One session's life, each step timed; stops at the first failure.
async fn cycle(store: &RedisStore, samples: &Mutex<Vec<Sample>>) {
    let record = |version| {
        let now = Clock::system().now();
        Record::new(
            SessionId::generate(),
            Data::from([("n".to_owned(), json!(version))]),
            now,
            now.saturating_add(Duration::from_secs(60)),
        )
        .with_version(version)
    };
    let r1 = record(1);
    let mut r2 = record(2);
    r2.id = r1.id;
    let cookie = r1.id.to_string();
    macro_rules! step {
        ($op:expr, $check:expr) => {{
            let started = Instant::now();
            let result = $op.await;
            let elapsed = started.elapsed();
            let mut outcome = classify(&result);
            if let Ok(value) = &result {
                if !$check(value) {
                    outcome = Outcome::Other(format!("unexpected answer {value:?}"));
                }
            }
            let ok = matches!(outcome, Outcome::Ok);
            samples.lock().unwrap().push(Sample {
                started,
                elapsed,
                outcome,
            });
            if !ok {
                return;
            }
        }};
    }
    step!(store.create(&r1), |_: &String| true);
    step!(store.load(&cookie), |v: &Option<Record>| v.as_ref()
        == Some(&r1));
    step!(store.save(&r2, 1), |_: &String| true);
    step!(store.touch(&r2), |_: &String| true);
    step!(store.delete(&r1.id), |_: &()| true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn outage_fails_fast_and_the_same_store_recovers() {
    let mut server = RedisServer::start();
    let store = RedisStore::connect(
        &server.url(),
        RedisOptions::new()
            .with_prefix("outage:")
            .with_timeout(TIMEOUT),
    )
    .await
    .unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let samples = Arc::new(Mutex::new(Vec::new()));
    let workers: Vec<_> = (0..WORKERS)
        .map(|_| {
            let store = store.clone();
            let stop = stop.clone();
            let samples = samples.clone();
            tokio::spawn(async move {
                while !stop.load(Ordering::SeqCst) {
                    cycle(&store, &samples).await;
                }
            })
        })
        .collect();

    tokio::time::sleep(Duration::from_millis(500)).await;
    let killed_at = Instant::now();
    server.kill();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    server.restart();
    let restarted_at = Instant::now();

    // The same store, never rebuilt, must come back by itself.
    let recovered_at = loop {
        let probe = common::fresh_record(Clock::system().now(), Duration::from_secs(60));
        if store.create(&probe).await.is_ok() {
            break Instant::now();
        }
        assert!(
            restarted_at.elapsed() < Duration::from_secs(10),
            "the store did not recover within 10 s of the restart"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::SeqCst);
    for w in workers {
        w.await.unwrap();
    }

    let samples = std::mem::take(&mut *samples.lock().unwrap());
    let before: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.started + s.elapsed < killed_at)
        .collect();
    let during: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.started >= killed_at && s.started + s.elapsed <= restarted_at)
        .collect();
    let after: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.started >= recovered_at)
        .collect();
    let slowest = samples.iter().map(|s| s.elapsed).max().unwrap_or_default();
    let timed_out = during
        .iter()
        .filter(|s| {
            matches!(
                s.outcome,
                Outcome::Backend {
                    timed_out: true,
                    ..
                }
            )
        })
        .count();
    eprintln!(
        "{} ops: {} before the kill, {} during the outage ({timed_out} by the timeout, \
         the rest failed fast), {} after recovery; recovered {:?} after the restart; \
         slowest op {slowest:?}",
        samples.len(),
        before.len(),
        during.len(),
        after.len(),
        recovered_at - restarted_at,
    );

    assert!(before.len() > 50, "load ran before the kill");
    assert!(
        before.iter().all(|s| matches!(s.outcome, Outcome::Ok)),
        "no failure before the kill"
    );
    assert!(
        during.len() >= WORKERS,
        "operations were attempted during the outage"
    );
    for s in &during {
        assert!(
            matches!(
                s.outcome,
                Outcome::Backend {
                    temporary: true,
                    ..
                }
            ),
            "during the outage, a temporary redis error: {:?}",
            s.outcome
        );
    }
    for s in samples.iter() {
        assert!(
            s.elapsed <= TIMEOUT + SLACK,
            "an operation took {:?}, over the {TIMEOUT:?} timeout ({:?})",
            s.elapsed,
            s.outcome
        );
        if let Outcome::Other(what) = &s.outcome {
            panic!("only backend errors are acceptable, got: {what}");
        }
    }
    assert!(
        after
            .iter()
            .filter(|s| matches!(s.outcome, Outcome::Ok))
            .count()
            > 50,
        "the workers' store works again after the restart"
    );
    assert!(
        after.iter().all(|s| matches!(s.outcome, Outcome::Ok)),
        "no failure after recovery"
    );

    // Every kind of operation works again, the scripts re-loaded after NOSCRIPT.
    let now = Clock::system().now();
    let r = common::fresh_record(now, Duration::from_secs(60));
    store.create(&r).await.unwrap();
    let saved = r.clone().with_version(2);
    store.save(&saved, 1).await.unwrap();
    assert!(matches!(store.save(&saved, 1).await, Err(Error::Conflict)));
    store.touch(&saved).await.unwrap();
    assert_eq!(store.load(&r.id.to_string()).await.unwrap(), Some(saved));
    assert!(store.count().await.unwrap() >= 1);
}
