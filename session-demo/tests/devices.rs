//! Sessions by user in the demo, over real HTTP with one cookie jar per browser:
//! `/login?user=NAME` binds, `/devices` lists the user's sessions and marks this one,
//! `/logout-everywhere` ends them all (another user's stay). One test per backend, and
//! per tiered pair (a cache in front of a backend: the revocation goes through it); the
//! stores without a user index (memcached, cookie) answer `/devices` with a 501.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code

mod common;

use common::{serve_sealed, Browser, Framework};
use session_test_servers::Service;

const IN: &str = "You are logged in";
const OUT: &str = "You are not logged in";

/// The whole flow on the store at `url`, whose sessions of `demo` and `<b>other` are
/// this test's own (a fresh store).
async fn flow(name: &str, url: &str, framework: Framework) {
    flow_as(name, url, "", framework).await;
}

/// The flow with user names ending in `tag`, for a store other runs share.
async fn flow_as(name: &str, url: &str, tag: &str, framework: Framework) {
    flow_cached(name, url, None, tag, framework).await;
}

/// The flow on the store at `url` behind the cache `cache` names, if given.
async fn flow_cached(name: &str, url: &str, cache: Option<&str>, tag: &str, framework: Framework) {
    let addr = common::serve_sealed_cached(url, cache, framework).await;
    let a = Browser::with_agent(addr, "Browser A <script>");
    let b = Browser::with_agent(addr, "Browser B");
    let c = Browser::with_agent(addr, "Browser C");

    // Not logged in: no devices to show.
    let (status, _) = a.get_status("/devices").await;
    assert_eq!(status, 401, "{name}");

    let page = if tag.is_empty() {
        a.get("/login").await
    } else {
        a.get(&format!("/login?user=demo{tag}")).await
    };
    assert!(page.contains(IN), "{name}: {page}");
    assert!(page.contains(&format!(">demo{tag}<")), "{name}: {page}");
    assert!(
        b.get(&format!("/login?user=demo{tag}")).await.contains(IN),
        "{name}"
    );
    let page = c.get(&format!("/login?user=%3Cb%3Eother{tag}")).await;
    assert!(page.contains("&lt;b&gt;other"), "{name}: escaped: {page}");
    assert!(!page.contains("<b>other"), "{name}: {page}");

    let list = a.get("/devices").await;
    assert_eq!(list.matches("<li").count(), 2, "{name}: A and B: {list}");
    assert_eq!(list.matches("<li class=\"current\">").count(), 1, "{name}");
    assert!(
        list.contains("<li class=\"current\">Browser A &lt;script&gt; (this device)"),
        "{name}: the label, escaped, marked current: {list}"
    );
    assert!(list.contains("Browser B"), "{name}: {list}");
    assert!(!list.contains("Browser C"), "{name}: {list}");
    assert!(list.contains(" UTC"), "{name}: readable times: {list}");
    let list_c = c.get("/devices").await;
    assert_eq!(list_c.matches("<li").count(), 1, "{name}: {list_c}");

    let page = a.get("/logout-everywhere").await;
    assert!(page.contains(OUT), "{name}: A is logged out: {page}");
    assert!(page.contains("2 sessions ended"), "{name}: {page}");
    assert!(a.get("/").await.contains(OUT), "{name}");
    assert!(b.get("/").await.contains(OUT), "{name}: B is logged out");
    assert!(
        c.get("/").await.contains(IN),
        "{name}: C is still logged in"
    );
    assert_eq!(c.get("/devices").await.matches("<li").count(), 1, "{name}");
}

/// On a store without a user index: login works, `/devices` and
/// `/logout-everywhere` say the backend cannot list sessions (501).
async fn no_index(name: &str, url: &str, framework: Framework) {
    let addr = serve_sealed(url, framework).await;
    let a = Browser::new(addr);
    assert!(a.get("/login?user=demo").await.contains(IN), "{name}");
    for path in ["/devices", "/logout-everywhere"] {
        let (status, page) = a.get_status(path).await;
        assert_eq!(status, 501, "{name} {path}: {page}");
        assert!(page.contains("cannot list"), "{name} {path}: {page}");
    }
}

fn server_url(service: Service) -> String {
    format!("{}?session_table=demo_devices_test", service.url())
}

/// A user-name suffix no other run uses: the shared servers keep other runs' sessions.
fn fresh_tag() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("-{}-{nanos}", std::process::id())
}

async fn devices_memory(framework: Framework) {
    flow("memory", "memory://", framework).await;
}

async fn devices_file(framework: Framework) {
    let dir = tempfile::tempdir().unwrap();
    flow(
        "file",
        &format!("file://{}/sessions", dir.path().display()),
        framework,
    )
    .await;
}

async fn devices_sqlite(framework: Framework) {
    let dir = tempfile::tempdir().unwrap();
    flow(
        "sqlite",
        &format!("sqlite://{}/sessions.db", dir.path().display()),
        framework,
    )
    .await;
}

async fn devices_postgres(framework: Framework) {
    flow_as(
        "postgres",
        &server_url(Service::Postgres),
        &fresh_tag(),
        framework,
    )
    .await;
}

async fn devices_redis(framework: Framework) {
    let url = format!(
        "{}?prefix=demo-devices-test:{}:",
        Service::Redis.url(),
        std::process::id()
    );
    flow_as("redis", &url, &fresh_tag(), framework).await;
}

async fn devices_local_over_sqlite(framework: Framework) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/sessions.db", dir.path().display());
    flow_cached("local over sqlite", &url, Some("local://"), "", framework).await;
}

async fn devices_redis_over_postgres(framework: Framework) {
    let cache = format!(
        "{}?prefix=demo-devices-test-cache:{}:",
        Service::Redis.url(),
        std::process::id()
    );
    flow_cached(
        "redis over postgres",
        &server_url(Service::Postgres),
        Some(&cache),
        &fresh_tag(),
        framework,
    )
    .await;
}

async fn devices_memcache_is_501(framework: Framework) {
    let server = session_test_servers::Memcached::start();
    no_index("memcache", &server.url(), framework).await;
}

async fn devices_cookie_is_501(framework: Framework) {
    no_index("cookie", "cookie://", framework).await;
}

async fn bad_user_names_are_400(framework: Framework) {
    let addr = serve_sealed("memory://", framework).await;
    let a = Browser::new(addr);
    let long = "x".repeat(65);
    for bad in ["", "%20%20", "a%0Ab", long.as_str()] {
        let (status, page) = a.get_status(&format!("/login?user={bad}")).await;
        assert_eq!(status, 400, "{bad:?}: {page}");
        assert!(page.contains("user name"), "{page}");
    }
    assert!(a.get("/").await.contains(OUT));
}

common::per_framework! {
    #[tokio::test] devices_memory,
    #[tokio::test] devices_file,
    #[tokio::test] devices_sqlite,
    #[tokio::test] devices_postgres,
    #[tokio::test] devices_redis,
    #[tokio::test] devices_local_over_sqlite,
    #[tokio::test] devices_redis_over_postgres,
    #[tokio::test] devices_memcache_is_501,
    #[tokio::test] devices_cookie_is_501,
    #[tokio::test] bad_user_names_are_400,
}
