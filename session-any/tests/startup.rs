//! Starting while the backend is down (issue 18): a network store opened by URL returns
//! at once, answers temporary errors quickly while its server is down, and works once
//! the server is back, with no restart; `connect=eager` keeps the fail-fast start-up.
//!
//! The servers stopped here are private ones (`session-test-servers`), never the shared
//! ones. Timings are printed: run with `--nocapture`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code

mod common;

use std::time::{Duration, Instant};

use common::config_error;
use session_any::{schemes, AnyStore, ConnectMode, StoreUrl};

/// Embedded backends take no `connect`: they always open at once, and a missing
/// directory must stop start-up.
#[tokio::test]
async fn embedded_schemes_open_eagerly_and_take_no_connect_parameter() {
    let msg = config_error(AnyStore::open("memory://?connect=lazy").await);
    assert!(msg.contains("`connect`"), "{msg}");
    assert_eq!(
        StoreUrl::parse("memory://")
            .unwrap()
            .connect_mode()
            .unwrap(),
        ConnectMode::Eager
    );
    let store = AnyStore::open("memory://").await.unwrap();
    assert!(store.is_connected());
    for scheme in schemes() {
        let embedded = matches!(
            scheme.name(),
            "memory" | "file" | "shelf" | "sqlite" | "cookie" | "rediss"
        );
        if scheme.compiled_in() {
            assert_eq!(scheme.is_remote(), !embedded, "{}", scheme.name());
            assert_eq!(
                scheme.params().contains(&"connect"),
                !embedded,
                "{}",
                scheme.name()
            );
        }
    }
    #[cfg(feature = "file")]
    {
        let dir = tempfile::tempdir().unwrap();
        let file = std::fs::File::create(dir.path().join("not-a-dir")).unwrap();
        drop(file);
        let url = format!("file://{}/not-a-dir/sessions", dir.path().display());
        assert!(AnyStore::open(&url).await.is_err(), "fails at start-up");
    }
}

/// A port nothing listens on.
#[allow(dead_code)]
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// Runs `op` until it succeeds (the server is back), for at most `within`.
#[allow(dead_code)]
async fn until_ok<T, F, Fut>(within: Duration, mut op: F) -> (T, Duration)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = session_core::Result<T>>,
{
    let started = Instant::now();
    loop {
        match op().await {
            Ok(v) => return (v, started.elapsed()),
            Err(e) if started.elapsed() < within => {
                assert!(e.is_temporary(), "while recovering: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("not back after {within:?}: {e}"),
        }
    }
}

/// Opens `url` (lazily) while its server is down: `open` is immediate, `count` (or
/// `load`) fails temporary within `2 x timeout`, and a second operation right after
/// fails at once (the backoff: no new attempt).
#[allow(dead_code)]
async fn open_while_down(url: &str, timeout: Duration) -> AnyStore {
    let started = Instant::now();
    let store = AnyStore::open(url).await.unwrap();
    let opened = started.elapsed();
    assert!(!store.is_connected());
    assert!(opened < Duration::from_millis(100), "open took {opened:?}");

    let started = Instant::now();
    let err = store.load(&"a".repeat(43)).await.unwrap_err();
    let first = started.elapsed();
    assert!(err.is_temporary(), "{url}: {err}");
    assert!(
        first < timeout * 2,
        "{url}: the first operation took {first:?}"
    );

    let started = Instant::now();
    let err = store.load(&"a".repeat(43)).await.unwrap_err();
    let second = started.elapsed();
    assert!(err.is_temporary(), "{url}: {err}");
    assert!(second < Duration::from_millis(50), "{url}: {second:?}");
    assert!(err.to_string().contains("not connected"), "{err}");
    eprintln!(
        "{}: open {opened:?}, first operation {first:?} ({err}), next {second:?}",
        store.scheme()
    );
    store
}

/// A session written and read back through `store`.
#[allow(dead_code)]
async fn round_trip(store: &AnyStore) {
    let now = session_core::Clock::system().now();
    let record = session_core::Record::new(
        session_core::SessionId::generate(),
        session_core::Data::from([("n".to_owned(), session_core::Value::from(1))]),
        now,
        now.saturating_add(Duration::from_secs(60)),
    );
    let cookie = store.create(&record).await.unwrap();
    let loaded = store.load(&cookie).await.unwrap().expect("just written");
    assert_eq!(loaded.data, record.data);
    store.delete(&record.id).await.unwrap();
}

#[cfg(feature = "redis")]
mod redis {
    use super::*;
    use session_test_servers::{RedisServer, Service};

    const TIMEOUT: Duration = Duration::from_millis(500);

    #[tokio::test]
    async fn redis_down_at_start_then_back() {
        let mut server = RedisServer::start();
        server.kill();
        let url = format!("{}?timeout=500ms&prefix=startup:", server.url());
        let store = open_while_down(&url, TIMEOUT).await;
        assert!(store.capabilities().native_ttl && store.capabilities().compare_and_set);

        server.restart();
        let (count, took) = until_ok(Duration::from_secs(10), || store.count()).await;
        eprintln!("redis: back {took:?} after the restart");
        assert_eq!(count, 0);
        assert!(store.is_connected());
        round_trip(&store).await;
    }

    #[tokio::test]
    async fn eager_redis_fails_start_up() {
        let url = format!(
            "redis://127.0.0.1:{}/?timeout=300ms&connect=eager",
            closed_port()
        );
        let started = Instant::now();
        let err = AnyStore::open(&url).await.unwrap_err();
        assert!(err.is_temporary(), "{err}");
        assert!(started.elapsed() < Duration::from_secs(1));
        let msg = config_error(AnyStore::open("redis://127.0.0.1:1/?connect=soon").await);
        assert!(msg.contains("`connect`") && msg.contains("eager"), "{msg}");
        // `connect` is session-any's: a URL with it still reaches the shared server.
        let base = Service::Redis.url();
        let store = AnyStore::open(&format!("{base}?connect=lazy&prefix=startup-lazy:"))
            .await
            .unwrap();
        store.connect().await.unwrap();
        assert!(store.is_connected());
    }

    /// Capabilities are known before connecting, and are the connected store's.
    #[tokio::test]
    async fn capabilities_before_connecting_are_the_connected_stores() {
        let base = Service::Redis.url();
        for query in ["", "&max_record_size=64KiB", "&max_record_size=none"] {
            let lazy = AnyStore::open(&format!("{base}?prefix=startup-caps:{query}"))
                .await
                .unwrap();
            let eager =
                AnyStore::open(&format!("{base}?prefix=startup-caps:{query}&connect=eager"))
                    .await
                    .unwrap_or_else(|e| Service::Redis.unreachable(&base, e));
            assert!(!lazy.is_connected() && eager.is_connected());
            assert_eq!(lazy.capabilities(), eager.capabilities(), "{query}");
            assert_eq!((lazy.backend(), eager.backend()), ("redis", "redis"));
            lazy.connect().await.unwrap();
            assert_eq!(lazy.capabilities(), eager.capabilities(), "{query}");
            assert_eq!(lazy.backend(), "redis");
            // A cluster's are the same: RedisStore does not tell them apart, and nothing
            // listens here, so this never connects.
            let cluster = AnyStore::open(&format!(
                "redis+cluster://127.0.0.1:1,127.0.0.1:2?prefix=x:{query}"
            ))
            .await
            .unwrap();
            assert_eq!(cluster.capabilities(), eager.capabilities(), "{query}");
            assert_eq!(cluster.backend(), "redis-cluster");
        }
    }

    /// The HTTP layer over a store opened while Redis is down: 503 with Retry-After,
    /// then 200 once the server is back, same layer, no restart.
    #[tokio::test]
    async fn the_layer_answers_503_then_200() {
        use std::convert::Infallible;

        use http::{Request, Response, StatusCode};
        use tower::{service_fn, Layer, ServiceExt};

        let mut server = RedisServer::start();
        server.kill();
        let mut config = session_any::SessionConfig::for_url(format!(
            "{}?timeout=300ms&prefix=startup-http:",
            server.url()
        ));
        config.secrets = vec!["a-cookie-signing-secret-of-32-bytes-or-more".into()];
        let started = Instant::now();
        let layer = config.layer().await.unwrap();
        assert!(started.elapsed() < Duration::from_millis(100));

        let app = layer.layer(service_fn(|req: Request<String>| async move {
            let session = req
                .extensions()
                .get::<session_tower::Session>()
                .cloned()
                .unwrap();
            let status = match session.insert("user", "ada").await {
                Ok(_) => StatusCode::OK,
                Err(_) => StatusCode::INTERNAL_SERVER_ERROR,
            };
            let mut res = Response::new(String::from("hello"));
            *res.status_mut() = status;
            Ok::<_, Infallible>(res)
        }));
        let get = || Request::get("/").body(String::new()).unwrap();

        let started = Instant::now();
        let res = app.clone().oneshot(get()).await.unwrap();
        let took = started.elapsed();
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(res.headers()["retry-after"], "1");
        assert!(took < Duration::from_millis(600), "{took:?}");
        let res = app.clone().oneshot(get()).await.unwrap();
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);

        server.restart();
        let started = Instant::now();
        let res = loop {
            let res = app.clone().oneshot(get()).await.unwrap();
            if res.status() != StatusCode::SERVICE_UNAVAILABLE {
                break res;
            }
            assert!(started.elapsed() < Duration::from_secs(10), "never back");
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        eprintln!(
            "http: 503 in {took:?} while down, 200 {:?} after the restart",
            started.elapsed()
        );
        assert_eq!(res.status(), StatusCode::OK);
        assert!(res.headers().contains_key("set-cookie"));
    }
}

#[cfg(feature = "postgres")]
mod postgres {
    use super::*;
    use session_test_servers::{Postgres, Service};

    #[tokio::test]
    async fn postgres_down_at_start_then_back() {
        let server = Postgres::start();
        server.stop();
        let url = format!("{}?timeout=1s&session_table=startup", server.url());
        let store = open_while_down(&url, Duration::from_secs(1)).await;
        assert!(store.capabilities().enumerate);

        server.start_again();
        // The first connect also migrates: the table did not exist.
        let (count, took) = until_ok(Duration::from_secs(15), || store.count()).await;
        eprintln!("postgres: back {took:?} after the restart");
        assert_eq!(count, 0);
        round_trip(&store).await;
    }

    #[tokio::test]
    async fn closed_port_and_capabilities() {
        let url = format!(
            "postgres://root:hunter2@127.0.0.1:{}/test?timeout=500ms",
            closed_port()
        );
        let store = open_while_down(&url, Duration::from_millis(500)).await;
        let err = store.count().await.unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");

        let base = Service::Postgres.url();
        let lazy = AnyStore::open(&format!("{base}?max_record_size=1MiB"))
            .await
            .unwrap();
        let eager = AnyStore::open(&format!("{base}?max_record_size=1MiB&connect=eager"))
            .await
            .unwrap_or_else(|e| Service::Postgres.unreachable(&base, e));
        assert_eq!(lazy.capabilities(), eager.capabilities());
        assert_eq!((lazy.backend(), eager.backend()), ("postgres", "postgres"));
    }
}

#[cfg(feature = "mysql")]
mod mysql {
    use super::*;
    use session_test_servers::Service;

    #[tokio::test]
    async fn closed_port_and_capabilities() {
        for scheme in ["mysql", "mariadb"] {
            let url = format!(
                "{scheme}://root@127.0.0.1:{}/test?timeout=500ms",
                closed_port()
            );
            open_while_down(&url, Duration::from_millis(500)).await;
        }
        let base = Service::MySql.url();
        let lazy = AnyStore::open(&base).await.unwrap();
        let eager = AnyStore::open(&format!("{base}?connect=eager"))
            .await
            .unwrap_or_else(|e| Service::MySql.unreachable(&base, e));
        assert_eq!(lazy.capabilities(), eager.capabilities());
        assert_eq!((lazy.backend(), eager.backend()), ("mysql", "mysql"));
        assert_eq!(lazy.count().await.is_ok(), eager.count().await.is_ok());
    }
}

#[cfg(feature = "memcache")]
mod memcache {
    use super::*;
    use session_test_servers::Memcached;

    #[tokio::test]
    async fn memcached_down_at_start_then_back() {
        let server = Memcached::start();
        let eager = AnyStore::open(&format!(
            "{}?item_size_limit=64KiB&connect=eager",
            server.url()
        ))
        .await
        .unwrap();
        server.kill();
        let url = format!("{}?timeout=500ms&item_size_limit=64KiB", server.url());
        let store = open_while_down(&url, Duration::from_millis(500)).await;
        assert_eq!(store.capabilities(), eager.capabilities());
        assert_eq!((store.backend(), eager.backend()), ("memcache", "memcache"));

        server.restart();
        let unknown = "b".repeat(43);
        let (_, took) = until_ok(Duration::from_secs(10), || store.load(&unknown)).await;
        eprintln!("memcache: back {took:?} after the restart");
        round_trip(&store).await;
    }
}
