//! The demo over real HTTP with a real client and cookie jar, for every backend in the
//! matrix. Each backend adds itself to `backends()`; so does each tiered pair (a
//! session-any `cache` in front of a backend).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code

mod common;

use reqwest::header::{COOKIE, SET_COOKIE};
use reqwest::redirect::Policy;
use session_test_servers::Service;
use std::net::SocketAddr;

/// A backend under test: its URL, the cache in front of it (if any), and whether a
/// replayed cookie can be revoked.
struct Backend {
    name: &'static str,
    url: String,
    cache: Option<String>,
    revocable: bool,
    compare_and_set: bool,
    _guard: Option<Box<dyn std::any::Any + Send>>,
}

fn backends() -> Vec<Backend> {
    vec![
        Backend {
            name: "memory",
            url: "memory://".into(),
            cache: None,
            revocable: true,
            compare_and_set: true,
            _guard: None,
        },
        file_backend("file", |dir| format!("file://{}/sessions", dir.display())),
        file_backend("shelf", |dir| {
            format!("shelf://{}/sessions.redb", dir.display())
        }),
        file_backend("sqlite", |dir| {
            format!("sqlite://{}/sessions.db", dir.display())
        }),
        server_backend("postgres", Service::Postgres),
        server_backend("mysql", Service::MySql),
        Backend {
            name: "redis",
            url: format!(
                "{}?prefix=demo-http-test:{}:",
                Service::Redis.url(),
                std::process::id()
            ),
            cache: None,
            revocable: true,
            compare_and_set: true,
            _guard: None,
        },
        memcache_backend(),
        Backend {
            name: "cookie",
            url: "cookie://".into(),
            cache: None,
            revocable: false,
            compare_and_set: false,
            _guard: None,
        },
        // Tiered (issue 22): an in-process cache in front of an embedded store (no bus:
        // one instance) and of PostgreSQL (its NOTIFY bus, the default there), and Redis
        // shared by every instance in front of PostgreSQL.
        cached(
            "local over sqlite",
            file_backend("sqlite", |dir| {
                format!("sqlite://{}/sessions.db", dir.display())
            }),
            "local://?capacity=1000&ttl=30s".into(),
        ),
        cached(
            "local over postgres",
            server_backend("postgres", Service::Postgres),
            format!(
                "local://?heartbeat=500ms&channel=demo_http_test_{}",
                std::process::id()
            ),
        ),
        cached(
            "redis over postgres",
            server_backend("postgres", Service::Postgres),
            format!(
                "{}?prefix=demo-http-test-cache:{}:",
                Service::Redis.url(),
                std::process::id()
            ),
        ),
    ]
}

/// `backend` behind the cache `cache` names (session-any's `cache`).
fn cached(name: &'static str, backend: Backend, cache: String) -> Backend {
    Backend {
        name,
        cache: Some(cache),
        ..backend
    }
}

/// A backend living in a fresh temp dir, removed when the test ends.
fn file_backend(name: &'static str, url: impl Fn(&std::path::Path) -> String) -> Backend {
    let dir = tempfile::tempdir().unwrap();
    Backend {
        name,
        url: url(dir.path()),
        cache: None,
        revocable: true,
        compare_and_set: true,
        _guard: Some(Box::new(dir)),
    }
}

/// A backend on a shared server (started by `scripts/services`), in a table of the
/// demo tests' own. Sessions have random ids, so concurrent tests do not collide.
fn server_backend(name: &'static str, service: Service) -> Backend {
    let base = service.url();
    Backend {
        name,
        url: format!("{base}?session_table=demo_http_test"),
        cache: None,
        revocable: true,
        compare_and_set: true,
        _guard: None,
    }
}

/// A private memcached, stopped when the test ends.
fn memcache_backend() -> Backend {
    let server = session_test_servers::Memcached::start();
    Backend {
        name: "memcache",
        url: server.url(),
        cache: None,
        revocable: true,
        compare_and_set: true,
        _guard: Some(Box::new(server)),
    }
}

use common::{Browser, Framework};

/// Serves the demo for `b`: its store, behind its cache if it has one.
async fn serve(b: &Backend, framework: Framework) -> SocketAddr {
    common::serve_sealed_cached(&b.url, b.cache.as_deref(), framework).await
}

/// One request with exactly this cookie, no jar, no redirects.
async fn raw_get(addr: SocketAddr, path: &str, cookie: &str) -> (String, Option<String>) {
    let client = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap();
    let res = client
        .get(format!("http://{addr}{path}"))
        .header(COOKIE, cookie)
        .send()
        .await
        .unwrap();
    let set = res
        .headers()
        .get(SET_COOKIE)
        .map(|v| v.to_str().unwrap().to_owned());
    (res.text().await.unwrap(), set)
}

const IN: &str = "You are logged in";
const OUT: &str = "You are not logged in";

async fn login_logout_and_replay(framework: Framework) {
    for b in backends() {
        let addr = serve(&b, framework).await;
        let browser = Browser::new(addr);
        assert!(browser.get("/").await.contains(OUT), "{}", b.name);
        assert!(
            browser.get("/login").await.contains(IN),
            "{}: login redirects to a logged-in page",
            b.name
        );
        assert!(browser.get("/").await.contains(IN), "{}", b.name);
        let old = browser.cookie().expect("a session cookie");
        assert!(browser.get("/logout").await.contains(OUT), "{}", b.name);
        assert!(browser.get("/").await.contains(OUT), "{}", b.name);
        assert_eq!(
            browser.cookie(),
            None,
            "{}: logout removed the cookie",
            b.name
        );
        let (page, _) = raw_get(addr, "/", &old).await;
        if b.revocable {
            assert!(
                page.contains(OUT),
                "{}: replayed cookie must be logged out",
                b.name
            );
        } else {
            // Documented: a sealed cookie stays valid until it expires.
            assert!(page.contains(IN), "{}", b.name);
        }
    }
}

async fn tampered_cookie_gets_a_fresh_session(framework: Framework) {
    for b in backends() {
        let addr = serve(&b, framework).await;
        let browser = Browser::new(addr);
        browser.get("/login").await;
        let good = browser.cookie().unwrap();
        let mut bytes = good.clone().into_bytes();
        let mid = bytes.len() / 2 + 4;
        bytes[mid] = if bytes[mid] == b'a' { b'b' } else { b'a' };
        let tampered = String::from_utf8(bytes).unwrap();
        let (page, _) = raw_get(addr, "/", &tampered).await;
        assert!(
            page.contains(OUT),
            "{}: tampered cookie is not logged in",
            b.name
        );
        let (count, set) = raw_get(addr, "/counter", &tampered).await;
        assert_eq!(count, "1", "{}: a fresh session", b.name);
        let fresh = set.expect("fresh session cookie");
        assert!(!fresh.starts_with(&good), "{}", b.name);
    }
}

async fn hundred_counter_requests_count_to_hundred(framework: Framework) {
    for b in backends() {
        let browser = Browser::new(serve(&b, framework).await);
        for i in 1..=100 {
            assert_eq!(browser.get("/counter").await, i.to_string(), "{}", b.name);
        }
    }
}

async fn login_cycles_the_id(framework: Framework) {
    for b in backends() {
        let addr = serve(&b, framework).await;
        let browser = Browser::new(addr);
        browser.get("/counter").await;
        let before = browser.cookie().unwrap();
        browser.get("/login").await;
        let after = browser.cookie().unwrap();
        assert_ne!(before, after, "{}: login issues a new cookie", b.name);
        assert_eq!(
            browser.get("/counter").await,
            "2",
            "{}: data kept across the new id",
            b.name
        );
        let (count, _) = raw_get(addr, "/counter", &before).await;
        if b.revocable {
            assert_eq!(count, "1", "{}: the pre-login id no longer loads", b.name);
        }
    }
}

async fn concurrent_counters_end_exact(framework: Framework) {
    for b in backends().into_iter().filter(|b| b.compare_and_set) {
        let addr = serve(&b, framework).await;
        let browser = Browser::new(addr);
        browser.get("/login").await;
        let cookie = browser.cookie().unwrap();
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let cookie = cookie.clone();
                tokio::spawn(async move {
                    let client = reqwest::Client::new();
                    let res = client
                        .get(format!("http://{addr}/counter"))
                        .header(COOKIE, cookie)
                        .send()
                        .await
                        .unwrap();
                    res.status()
                })
            })
            .collect();
        for t in tasks {
            assert!(
                t.await.unwrap().is_success(),
                "{}: every request succeeds",
                b.name
            );
        }
        assert_eq!(browser.get("/counter").await, "21", "{}", b.name);
    }
}

/// The session cookie's `Set-Cookie` on the response to one request (no redirects
/// followed), with `cookie` sent if given.
async fn session_set_cookie(addr: SocketAddr, path: &str, cookie: Option<&str>) -> String {
    let client = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap();
    let mut req = client.get(format!("http://{addr}{path}"));
    if let Some(cookie) = cookie {
        req = req.header(COOKIE, cookie);
    }
    let res = req.send().await.unwrap();
    assert!(res.status().is_redirection(), "{path}: {}", res.status());
    let cookies: Vec<String> = res
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .filter(|c| c.starts_with("session="))
        .collect();
    assert_eq!(cookies.len(), 1, "{path}: one session cookie: {cookies:?}");
    cookies[0].clone()
}

/// The `Max-Age` attribute of a `Set-Cookie` value, if it has one.
fn max_age(set_cookie: &str) -> Option<u64> {
    set_cookie
        .split(';')
        .filter_map(|attr| attr.trim().split_once('='))
        .find(|(name, _)| name.eq_ignore_ascii_case("max-age"))
        .map(|(_, v)| v.parse().unwrap())
}

async fn a_plain_login_gives_a_browser_session_cookie(framework: Framework) {
    for b in backends() {
        let addr = serve(&b, framework).await;
        let set = session_set_cookie(addr, "/login", None).await;
        assert_eq!(max_age(&set), None, "{}: {set}", b.name);
        assert!(
            !set.to_ascii_lowercase().contains("expires="),
            "{}: {set}",
            b.name
        );
    }
}

async fn remember_me_gives_a_thirty_day_cookie(framework: Framework) {
    const THIRTY_DAYS: u64 = 30 * 24 * 3600;
    for b in backends() {
        let addr = serve(&b, framework).await;
        let set = session_set_cookie(addr, "/login?remember=1", None).await;
        let age = max_age(&set).unwrap_or_else(|| panic!("{}: a Max-Age: {set}", b.name));
        assert!(
            (THIRTY_DAYS - 5..=THIRTY_DAYS).contains(&age),
            "{}: {set}",
            b.name
        );
        // The choice is the session's, stored with it: logging in again without
        // "remember" turns the same session's cookie back into a browser-session one.
        let cookie = set.split(';').next().unwrap().to_owned();
        let again = session_set_cookie(addr, "/login", Some(&cookie)).await;
        assert_eq!(max_age(&again), None, "{}: {again}", b.name);
    }
}

async fn the_first_page_after_login_carries_a_flash_and_the_next_does_not(framework: Framework) {
    const FLASH: &str = "<p class=\"flash\">";
    for b in backends() {
        let browser = Browser::new(serve(&b, framework).await);
        assert!(!browser.get("/").await.contains(FLASH), "{}", b.name);
        let first = browser.get("/login").await;
        assert!(first.contains(IN), "{}", b.name);
        assert!(first.contains(FLASH), "{}: {first}", b.name);
        let next = browser.get("/").await;
        assert!(next.contains(IN), "{}", b.name);
        assert!(!next.contains(FLASH), "{}: shown once: {next}", b.name);
    }
}

common::per_framework! {
    #[tokio::test] login_logout_and_replay,
    #[tokio::test] tampered_cookie_gets_a_fresh_session,
    #[tokio::test] hundred_counter_requests_count_to_hundred,
    #[tokio::test] login_cycles_the_id,
    #[tokio::test] concurrent_counters_end_exact,
    #[tokio::test] a_plain_login_gives_a_browser_session_cookie,
    #[tokio::test] remember_me_gives_a_thirty_day_cookie,
    #[tokio::test] the_first_page_after_login_carries_a_flash_and_the_next_does_not,
}
