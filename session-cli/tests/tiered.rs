//! Issue 22: `session-admin --cache-url` (or `SESSION_CACHE_URL`) deletes and revokes
//! through the app's cache (session-tiered's `TieredStore`), so that the app does not
//! go on serving from its cache a session the tool ended.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code

mod common;

use std::time::{Duration, Instant};

use common::*;
use session_any::AnyStore;
use session_core::{Data, Record, SessionId, SessionStore, Timestamp, UserBinding};
use session_test_servers::Service;

/// A fresh SQLite file with the session table, and its URL.
fn sqlite(dir: &tempfile::TempDir) -> String {
    let url = format!("sqlite://{}", dir.path().join("s.db").display());
    admin_json(&url, &["migrate"]);
    url
}

/// A record bound to `user` if given, living a minute (so what a test leaves in a
/// shared cache ends by itself).
fn record(user: Option<&str>) -> Record {
    let now = Timestamp::from_system(std::time::SystemTime::now());
    Record::new(
        SessionId::generate(),
        Data::new(),
        now,
        now.saturating_add(Duration::from_secs(60)),
    )
    .with_user(user.map(|u| UserBinding::new(u).unwrap()))
}

/// Creates `record` through `app` and loads it until the app's cache answers it (an
/// in-process cache with a bus serves from memory once its link is up).
async fn cached(app: &AnyStore, record: &Record) -> String {
    let cookie = app.create(record).await.unwrap();
    let tiered = app.tiered().expect("the app has a cache");
    let hits = tiered.stats().hits;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        assert_eq!(app.load(&cookie).await.unwrap().as_ref(), Some(record));
        if tiered.stats().hits > hits {
            return cookie;
        }
        assert!(
            Instant::now() < deadline,
            "the app never served it from its cache"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// `url`'s cache URL as a query parameter value.
fn encoded(url: &str) -> String {
    url::form_urlencoded::byte_serialize(url.as_bytes()).collect()
}

/// A shared Redis cache over an SQLite file: a delete through the tool without the
/// cache leaves the app serving the session from its cache (which is why the tool takes
/// the cache); with `--cache-url` the session is gone for the app at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_through_a_shared_redis_cache() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite(&dir);
    let cache = format!(
        "{}?prefix=session-admin-tiered-test:{}:",
        Service::Redis.url(),
        fresh_tag()
    );
    let app = AnyStore::open_with_cache(&url, &cache).await.unwrap();
    app.connect()
        .await
        .expect("the shared Redis (scripts/services starts it)");

    // Behind the cache's back: the store forgets, the cache does not.
    let behind = record(None);
    let cookie = cached(&app, &behind).await;
    let out = admin_json(&url, &["delete", &cookie]);
    assert_eq!(out["removed"], 1, "{out}");
    assert!(out.get("cache").is_none(), "{out}");
    assert!(
        app.load(&cookie).await.unwrap().is_some(),
        "a hit reads only the cache (session-tiered's documented cost)"
    );
    app.delete(&behind.id).await.unwrap();

    // Through the cache.
    let ended = record(None);
    let cookie = cached(&app, &ended).await;
    let run = admin_env(
        &[
            "--url",
            &url,
            "--cache-url",
            &cache,
            "--json",
            "delete",
            &cookie,
        ],
        &[],
    )
    .expect(OK);
    assert_eq!(run.stderr, "", "{run:?}");
    let out = run.json();
    assert_eq!(out["removed"], 1, "{out}");
    assert_eq!(out["backend"], "sqlite", "{out}");
    assert!(
        out["cache"].as_str().unwrap().starts_with("redis://"),
        "{out}"
    );
    assert_eq!(app.load(&cookie).await.unwrap(), None, "gone for the app");
    assert_eq!(
        app.tiered().unwrap().durable().load(&cookie).await.unwrap(),
        None
    );

    // SESSION_CACHE_URL does the same, for revoke-user.
    let ada = format!("ada-{}", fresh_tag());
    let (first, second) = (record(Some(&ada)), record(Some(&ada)));
    let cookies = [cached(&app, &first).await, cached(&app, &second).await];
    let run = admin_env(
        &["--url", &url, "--json", "revoke-user", &ada],
        &[("SESSION_CACHE_URL", &cache)],
    )
    .expect(OK);
    assert_eq!(run.json()["revoked"], 2, "{run:?}");
    for cookie in &cookies {
        assert_eq!(app.load(cookie).await.unwrap(), None);
    }
}

/// An in-process cache in the app, told through a Redis bus (`bus_url`): the tool's
/// delete and revoke-session announce on the same bus, and the app's memory drops the
/// session within its heartbeat.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_through_a_local_cache_and_its_bus() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite(&dir);
    let cache = format!(
        "local://?heartbeat=500ms&bus_url={}&channel=session-admin-test:{}",
        encoded(&Service::Redis.url()),
        fresh_tag()
    );
    let app = AnyStore::open_with_cache(&url, &cache).await.unwrap();
    app.connect()
        .await
        .expect("the shared Redis (scripts/services starts it)");
    let gone_within = |cookie: String| {
        let app = app.clone();
        async move {
            let deadline = Instant::now() + Duration::from_millis(500);
            while app.load(&cookie).await.unwrap().is_some() {
                assert!(
                    Instant::now() < deadline,
                    "the app served the session after its heartbeat"
                );
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    };

    let ended = record(None);
    let cookie = cached(&app, &ended).await;
    let out = admin_json(&url, &["--cache-url", &cache, "delete", &cookie]);
    assert_eq!(out["removed"], 1, "{out}");
    assert!(
        out["cache"].as_str().unwrap().starts_with("local://"),
        "{out}"
    );
    gone_within(cookie).await;

    let bob = format!("bob-{}", fresh_tag());
    let bound = record(Some(&bob));
    let cookie = cached(&app, &bound).await;
    let key = bound.id.storage_key().to_hex();
    let out = admin_json(&url, &["--cache-url", &cache, "revoke-session", &bob, &key]);
    assert_eq!(out["revoked"], true, "{out}");
    gone_within(cookie).await;
    assert!(app.tiered().unwrap().stats().invalidations_received >= 2);
}

/// A `local://` cache without a bus cannot reach the app's memory: the tool says so.
#[test]
fn a_local_cache_without_a_bus_is_noted() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite(&dir);
    let id = SessionId::generate().to_string();
    let run = admin(&url, &["--cache-url", "local://", "delete", &id]).expect(OK);
    assert!(run.stderr.contains("without a bus"), "{run:?}");
    let quiet = admin(&url, &["--cache-url", "local://", "--quiet", "delete", &id]).expect(OK);
    assert_eq!(quiet.stderr, "", "{quiet:?}");
    // An empty value is no cache.
    let none = admin_env(
        &["--url", &url, "delete", &id],
        &[("SESSION_CACHE_URL", "")],
    )
    .expect(OK);
    assert_eq!(none.stderr, "", "{none:?}");
}

/// A cache URL is read by session-any before anything is opened: a mistake exits 2
/// naming it, and a password in it is never printed.
#[test]
fn cache_url_mistakes_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("s.db").display());
    for (cache, needle) in [
        ("local://?bogus=1", "`bogus`"),
        ("local://?ttl=5", "ttl"),
        ("local://?bus=store", "bus=store"),
        ("cookie://", "cannot be a session cache"),
        ("sqlite::memory:", "cannot be a session cache"),
    ] {
        let run = admin(&url, &["--cache-url", cache, "stats"]).expect(USAGE);
        assert!(run.stderr.contains(needle), "{cache}: {run:?}");
        let run =
            admin_env(&["--url", &url, "stats"], &[("SESSION_CACHE_URL", cache)]).expect(USAGE);
        assert!(run.stderr.contains(needle), "{cache}: {run:?}");
    }
    let run = admin("cookie://", &["--cache-url", "local://", "inspect", "x"]).expect(USAGE);
    assert!(run.stderr.contains("nothing to cache"), "{run:?}");
    assert!(!dir.path().join("s.db").exists(), "nothing was opened");

    let secret = "hunter2-in-the-bus-url";
    let cache = format!(
        "local://?bus_url={}",
        encoded(&format!("redis://:{secret}@127.0.0.1:1/?bogus=1"))
    );
    let run = admin(&url, &["--json", "--cache-url", &cache, "stats"]).expect(USAGE);
    assert!(
        !run.stdout.contains(secret) && !run.stderr.contains(secret),
        "{run:?}"
    );
}
