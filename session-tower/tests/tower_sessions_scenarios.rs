//! tower-sessions' route and service scenarios, translated to this library and run on
//! five backends: memory, files, SQLite, Redis (the shared server, a fresh key prefix
//! per test) and the cookie store.
//!
//! The source is tower-sessions' own test suite
//! (github.com/maxcountryman/tower-sessions): the thirteen `route_tests!` scenarios
//! of `tests/common/mod.rs` (an axum router per scenario, driven with
//! `tower::ServiceExt::oneshot`) and the twenty-four service tests in `src/service.rs`
//! (a plain tower `service_fn` under the layer, reading the session from the request
//! extensions). The scenarios are rewritten, not copied: every test below is named
//! after the scenario it comes from (`route_*` and `service_*`), and is generated once
//! per backend (`memory::route_get_session`, `redis::service_signed`, ...).
//!
//! Where our semantics differ on purpose, the test asserts ours and says why. The
//! differences, once:
//!
//! - tower-sessions' default cookie is named `id`, `SameSite=Strict`, and lasts the
//!   browser session (`Expiry::OnSessionEnd`). Ours is named `session`, `SameSite=Lax`,
//!   and persistent: `Max-Age` up to the session's deadline, 24 h idle / 30 d absolute
//!   by default. A browser-session cookie is `CookieConfig::with_persistent(false)` for
//!   the layer, or `SessionExpiry::browser_session` for one session.
//! - tower-sessions' `Expiry::AtDateTime` is a wall-clock instant; ours has no such
//!   expiry: a deadline is relative to the session's creation (`Expiry::absolute`) or
//!   last use (`Expiry::idle`). "At a date a week from now" is an absolute lifetime of a
//!   week for a session created now.
//! - Our server-side session token is HMAC-signed (`id.signature`), so a bogus or
//!   malformed cookie is refused before any store I/O, and the response expires it.
//!   The cookie store seals the whole session instead; a value it cannot open is
//!   refused the same way, with nothing stored anywhere to ask.
//! - An empty session is never written and gets no cookie.
//! - `cycle_id` deletes the old record: the old cookie no longer opens the session.
//!   The cookie store keeps nothing on the server, so an old cookie value keeps
//!   opening the data sealed in it until its deadline (see the session-cookie docs).
//! - tower-sessions' `flush` (clear + delete + expire the cookie) is our `delete`;
//!   `with_always_save(true)` (write every request, moving the deadline) is our
//!   `TouchPolicy::Always`; `with_signed` is always on; `with_private` (an encrypted
//!   cookie) is the cookie store, whose value is sealed with AEAD.
//!
//! Time is a `ManualClock` shared by the layer and the store, so `Max-Age` values are
//! exact and "two hours later" costs no sleep.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code

use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use axum::body::Body;
use axum::routing::get;
use axum::Router;
use futures::future::BoxFuture;
use http::{header, Request, Response, StatusCode};
use http_body_util::BodyExt;
use session_conformance::CountingStore;
use session_core::{
    Clock, Expiry, ManualClock, MemoryStore, SessionExpiry, SessionOptions, SessionStore,
    StoreSettings, TouchPolicy,
};
use session_tower::{CookieConfig, SameSite, Session, SessionError, SessionLayer, SigningKeys};
use tempfile::TempDir;
use tower::util::BoxCloneService;
use tower::{service_fn, Layer, ServiceExt};

const HOUR: Duration = Duration::from_secs(3600);
const DAY: Duration = Duration::from_secs(86_400);
const WEEK: Duration = Duration::from_secs(7 * 86_400);

// ---------------------------------------------------------------------------------
// Backends
// ---------------------------------------------------------------------------------

/// The five kinds of store every scenario runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    Memory,
    File,
    Sqlite,
    Redis,
    Cookie,
}

/// One scenario's store, its clock, and what must outlive the test (the temp dir,
/// the Redis prefix to clean up).
struct Fixture {
    backend: Backend,
    store: Arc<dyn SessionStore>,
    clock: ManualClock,
    _dir: Option<TempDir>,
    _redis: Option<RedisPrefix>,
}

/// Deletes every key under a test's Redis prefix when the test ends, passed or not.
/// Never `FLUSHALL`: the server is shared.
struct RedisPrefix {
    url: String,
    prefix: String,
}

impl Drop for RedisPrefix {
    fn drop(&mut self) {
        let (url, prefix) = (self.url.clone(), self.prefix.clone());
        // Its own thread and runtime: the test's runtime may be shutting down.
        let cleanup = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                let options = session_redis::RedisOptions::new().with_prefix(prefix);
                if let Ok(store) = session_redis::RedisStore::connect(&url, options).await {
                    let _ = store.delete_all().await;
                }
            });
        });
        let _ = cleanup.join();
    }
}

impl Fixture {
    async fn open(backend: Backend) -> Fixture {
        let clock = ManualClock::at(Clock::system().now());
        let settings = StoreSettings::new().with_clock(clock.clock());
        let mut dir = None;
        let mut redis = None;
        let store: Arc<dyn SessionStore> = match backend {
            Backend::Memory => Arc::new(MemoryStore::new().with_settings(settings)),
            Backend::File => {
                let tmp = tempfile::tempdir().unwrap();
                let options = session_file::FileOptions::new(tmp.path()).with_settings(settings);
                let store = session_file::FileStore::open_with(options).await.unwrap();
                dir = Some(tmp);
                Arc::new(store)
            }
            Backend::Sqlite => {
                let store = session_sql::SqlStore::connect("sqlite::memory:")
                    .await
                    .unwrap()
                    .with_settings(settings);
                store.migrate().await.unwrap();
                Arc::new(store)
            }
            Backend::Redis => {
                let url = session_test_servers::Service::Redis.url();
                // A fresh random id names the prefix: no other test or run shares it.
                let prefix = format!(
                    "sessiontest:tower-scenarios:{}:",
                    session_core::SessionId::generate()
                );
                let options = session_redis::RedisOptions::new()
                    .with_prefix(prefix.clone())
                    .with_settings(settings);
                let store = session_redis::RedisStore::connect(&url, options)
                    .await
                    .unwrap_or_else(|e| session_test_servers::Service::Redis.unreachable(&url, e));
                redis = Some(RedisPrefix { url, prefix });
                Arc::new(store)
            }
            Backend::Cookie => Arc::new(
                session_cookie::CookieStore::builder()
                    .secret([9u8; 32])
                    .clock(clock.clock())
                    .build()
                    .unwrap(),
            ),
        };
        Fixture {
            backend,
            store,
            clock,
            _dir: dir,
            _redis: redis,
        }
    }

    /// Whether the store keeps sessions server-side (everything but the cookie store).
    fn server_side(&self) -> bool {
        self.backend != Backend::Cookie
    }

    /// The layer over this store with `options` (on the fixture's clock) and `cookie`.
    fn layer_with(&self, options: SessionOptions, cookie: CookieConfig) -> SessionLayer {
        SessionLayer::builder_from_arc(self.store.clone())
            .keys(keys())
            .options(options.with_clock(self.clock.clock()))
            .cookie(cookie)
            .build()
            .unwrap()
    }

    /// The layer with default settings, as `SessionLayer::new` gives them.
    fn layer(&self) -> SessionLayer {
        self.layer_with(SessionOptions::default(), CookieConfig::default())
    }

    /// The layer with an idle timeout of `idle` (tower-sessions' `OnInactivity`).
    fn idle_layer(&self, idle: Duration) -> SessionLayer {
        self.layer_with(
            SessionOptions::default().with_expiry(Expiry::idle(idle).unwrap()),
            CookieConfig::default(),
        )
    }
}

fn keys() -> SigningKeys {
    SigningKeys::new([[7u8; 32]]).unwrap()
}

// ---------------------------------------------------------------------------------
// Requests and responses
// ---------------------------------------------------------------------------------

/// A response's status, `Set-Cookie` headers and body.
struct Reply {
    status: StatusCode,
    set_cookie: Vec<String>,
    body: String,
}

impl Reply {
    /// The one `Set-Cookie` header; fails if there is none or more than one.
    fn the_cookie(&self) -> &str {
        assert_eq!(self.set_cookie.len(), 1, "{:?}", self.set_cookie);
        &self.set_cookie[0]
    }

    /// `name=value` of the one cookie set, to send back.
    fn pair(&self) -> String {
        self.the_cookie().split(';').next().unwrap().to_owned()
    }

    /// The value of the one cookie set.
    fn value(&self) -> String {
        self.pair().split_once('=').unwrap().1.to_owned()
    }

    /// Attribute `name` of the one cookie set (`Some("")` for a flag such as
    /// `HttpOnly`), matched without regard to case as browsers do.
    fn attr(&self, name: &str) -> Option<String> {
        self.the_cookie().split(';').skip(1).find_map(|a| {
            let a = a.trim();
            let (k, v) = a.split_once('=').unwrap_or((a, ""));
            k.eq_ignore_ascii_case(name).then(|| v.to_owned())
        })
    }

    /// `Max-Age` of the one cookie set, in seconds. A live cookie never carries
    /// `Expires` as well (it would disagree with `Max-Age` under clock skew); only a
    /// removal cookie does, dated in the past, for browsers that ignore `Max-Age=0`.
    fn max_age(&self) -> Option<u64> {
        let max_age = self.attr("Max-Age").map(|v| v.parse().unwrap());
        if max_age != Some(0) {
            assert_eq!(self.attr("Expires"), None, "{}", self.the_cookie());
        }
        max_age
    }

    /// Whether this response expires the client's cookie.
    fn removes_cookie(&self) -> bool {
        self.value().is_empty() && self.max_age() == Some(0)
    }
}

type App = BoxCloneService<Request<Body>, Response<Body>, Infallible>;

/// Sends `GET path`, with `cookie` (`name=value`) if given.
async fn send(app: &App, path: &str, cookie: Option<&str>) -> Reply {
    let mut req = Request::get(path);
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    let res = app
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let set_cookie = res
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        set_cookie,
        body: String::from_utf8(bytes.to_vec()).unwrap(),
    }
}

// ---------------------------------------------------------------------------------
// The axum routes of tower-sessions' `route_tests!`, and its plain service handlers
// ---------------------------------------------------------------------------------

type Answer = Result<String, SessionError>;

/// The router the `route_*` scenarios drive: tower-sessions' routes, each written
/// with the handle method that says the same thing.
fn router(layer: SessionLayer) -> App {
    let app = Router::new()
        // Extracts the session and never uses it.
        .route("/", get(|_: Session| async { "Hello, world!" }))
        .route(
            "/insert",
            get(|s: Session| async move {
                s.insert("foo", 42).await?;
                Ok::<_, SessionError>(String::new())
            }),
        )
        .route(
            "/get",
            get(|s: Session| async move {
                let value = s.get::<usize>("foo").await?;
                Answer::Ok(value.map_or_else(|| "no foo".into(), |n| n.to_string()))
            }),
        )
        .route(
            "/get_value",
            get(|s: Session| async move { Answer::Ok(format!("{:?}", s.get_value("foo").await?)) }),
        )
        .route(
            "/remove",
            get(|s: Session| async move {
                Answer::Ok(format!("{:?}", s.remove::<usize>("foo").await?))
            }),
        )
        .route(
            "/remove_value",
            get(|s: Session| async move {
                Answer::Ok(format!("{:?}", s.remove_value("foo").await?))
            }),
        )
        .route(
            "/len",
            get(|s: Session| async move { Answer::Ok(s.len().await?.to_string()) }),
        )
        .route(
            "/cycle_id",
            get(|s: Session| async move {
                s.cycle_id().await;
                "cycled"
            }),
        )
        .route(
            "/flush",
            get(|s: Session| async move {
                s.delete().await?;
                Answer::Ok("flushed".into())
            }),
        )
        // tower-sessions: `Expiry::AtDateTime(now + 1 day)`. Ours: a persistent cookie
        // and an absolute lifetime of a day, counted from the session's creation.
        .route(
            "/set_expiry",
            get(|s: Session| async move {
                s.set_expiry(SessionExpiry::persistent(Expiry::absolute(DAY).unwrap()))
                    .await;
                "set"
            }),
        )
        // tower-sessions: `Expiry::OnSessionEnd`. Ours: the layer's server-side
        // deadline, with a cookie that goes when the browser closes.
        .route(
            "/remove_expiry",
            get(|s: Session| async move {
                let layer_default = s.options().expiry;
                s.set_expiry(SessionExpiry::browser_session(layer_default))
                    .await;
                "browser session"
            }),
        )
        .route(
            "/expiry",
            get(|s: Session| async move {
                let own = s.expiry().await?;
                let age = s.expiry_age().await?;
                Answer::Ok(format!("{} {}", own.is_some(), age.as_secs()))
            }),
        );
    BoxCloneService::new(app.layer(layer))
}

/// The plain tower service the `service_*` scenarios drive, reading the session from
/// the request extensions as tower-sessions' `service_fn` handlers do: `/` is its
/// `handler` (insert `foo = 42`), `/noop` its `noop_handler`, `/flush` its
/// `flush_handler`; `/deadline` answers the stored deadline, in Unix milliseconds,
/// where tower-sessions reads the record straight from its store.
fn service(layer: SessionLayer) -> App {
    let svc = layer.layer(service_fn(
        |req: Request<Body>| -> BoxFuture<'static, Result<Response<Body>, Infallible>> {
            Box::pin(async move {
                let session = req.extensions().get::<Session>().cloned();
                let body = match session {
                    None => "no session layer".into(),
                    Some(s) => handle(req.uri().path(), &s)
                        .await
                        .unwrap_or_else(|e| format!("error: {e}")),
                };
                Ok(Response::new(Body::from(body)))
            })
        },
    ));
    BoxCloneService::new(svc)
}

async fn handle(path: &str, s: &Session) -> session_core::Result<String> {
    match path {
        "/" => s.insert("foo", 42).await.map(|()| String::new()),
        "/flush" => s.delete().await.map(|()| String::new()),
        "/deadline" => Ok(match s.expires_at().await? {
            Some(t) => {
                let ms = t
                    .to_system()
                    .duration_since(UNIX_EPOCH)
                    .unwrap()
                    .as_millis();
                ms.to_string()
            }
            None => "none".into(),
        }),
        _ => Ok(String::new()),
    }
}

// ---------------------------------------------------------------------------------
// route_tests! (tests/common/mod.rs)
// ---------------------------------------------------------------------------------

/// `no_session_set`: a handler that extracts the session and does not use it sends
/// no cookie. Runs directly; additionally, it costs no store operation.
async fn route_no_session_set(b: Backend) {
    let fx = Fixture::open(b).await;
    let counting = Arc::new(CountingStore::new(fx.store.clone()));
    let app = router(
        SessionLayer::builder_from_arc(counting.clone())
            .keys(keys())
            .build()
            .unwrap(),
    );
    let r = send(&app, "/", None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body, "Hello, world!");
    assert!(r.set_cookie.is_empty(), "{:?}", r.set_cookie);
    assert_eq!(counting.counts().total(), 0);
}

/// `bogus_session_cookie`: a well-formed but unknown id is replaced by a fresh one.
/// Adapted: our cookie is `session`, and its value is a signed id, so the bogus
/// value is refused by its (missing) signature; the fresh cookie replaces it in the
/// one `Set-Cookie` header.
async fn route_bogus_session_cookie(b: Backend) {
    let fx = Fixture::open(b).await;
    let app = router(fx.idle_layer(HOUR));
    let bogus = "AAAAAAAAAAAAAAAAAAAAAA";
    let r = send(&app, "/insert", Some(&format!("session={bogus}"))).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_ne!(r.value(), bogus);
    assert!(!r.value().is_empty());
    let fresh = r.pair();
    assert_eq!(send(&app, "/get", Some(&fresh)).await.body, "42");
}

/// `malformed_session_cookie`: a malformed cookie on a route that does not use the
/// session. tower-sessions answers with some other cookie; ours expires the
/// malformed one (`Max-Age=0`) and, because the token is verified before any I/O, asks
/// no store.
async fn route_malformed_session_cookie(b: Backend) {
    let fx = Fixture::open(b).await;
    let counting = Arc::new(CountingStore::new(fx.store.clone()));
    let app = router(
        SessionLayer::builder_from_arc(counting.clone())
            .keys(keys())
            .options(SessionOptions::default().with_clock(fx.clock.clock()))
            .build()
            .unwrap(),
    );
    let r = send(&app, "/", Some("session=malformed")).await;
    assert_eq!(r.status, StatusCode::OK);
    if fx.server_side() {
        assert_ne!(r.value(), "malformed");
        assert!(r.removes_cookie(), "{:?}", r.set_cookie);
    } else {
        // The cookie store's value is not signed by the layer but sealed by the store:
        // telling it is malformed means opening it, which only happens when a handler
        // uses the session. A route that does not sends nothing.
        assert!(r.set_cookie.is_empty(), "{:?}", r.set_cookie);
    }
    assert_eq!(counting.counts().total(), 0, "{:?}", counting.counts());
    // A route that uses the session refuses the value and expires it, on every store.
    let r = send(&app, "/get", Some("session=malformed")).await;
    assert_eq!(r.body, "no foo");
    assert!(r.removes_cookie(), "{:?}", r.set_cookie);
}

/// `insert_session`: the first write sets the cookie with its attributes; an idle
/// timeout of an hour gives `Max-Age` ≤ 1 h. Adapted: our defaults are the name
/// `session` and `SameSite=Lax` (tower-sessions: `id`, `Strict`); `Secure` and
/// `HttpOnly` are on by default in both (tower-sessions' test turns `Secure` on).
async fn route_insert_session(b: Backend) {
    let fx = Fixture::open(b).await;
    let app = router(fx.idle_layer(HOUR));
    let r = send(&app, "/insert", None).await;
    assert!(r.pair().starts_with("session="), "{}", r.the_cookie());
    assert_eq!(r.attr("HttpOnly").as_deref(), Some(""));
    assert_eq!(r.attr("SameSite").as_deref(), Some("Lax"));
    assert_eq!(r.attr("Secure").as_deref(), Some(""));
    assert_eq!(r.attr("Path").as_deref(), Some("/"));
    // The manual clock has not moved, so the hour is exact.
    assert_eq!(r.max_age(), Some(HOUR.as_secs()));
}

/// `session_max_age`: with no expiry configured, tower-sessions' cookie lasts the
/// browser session (no `Max-Age`). Adapted: our default is a persistent cookie up to
/// the 24 h idle deadline; tower-sessions' default is one setting away, and asserted
/// too.
async fn route_session_max_age(b: Backend) {
    let fx = Fixture::open(b).await;
    let ours = send(&router(fx.layer()), "/insert", None).await;
    assert_eq!(ours.max_age(), Some(DAY.as_secs()));
    assert_eq!(ours.attr("HttpOnly").as_deref(), Some(""));
    assert_eq!(ours.attr("Path").as_deref(), Some("/"));

    let browser = fx.layer_with(
        SessionOptions::default(),
        CookieConfig::default().with_persistent(false),
    );
    let theirs = send(&router(browser), "/insert", None).await;
    assert_eq!(theirs.max_age(), None, "{}", theirs.the_cookie());
    assert_eq!(theirs.attr("Secure").as_deref(), Some(""));
}

/// `get_session`: a value written by one request is read by the next. Runs directly.
async fn route_get_session(b: Backend) {
    let fx = Fixture::open(b).await;
    let app = router(fx.idle_layer(HOUR));
    let cookie = send(&app, "/insert", None).await.pair();
    let r = send(&app, "/get", Some(&cookie)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body, "42");
}

/// `get_no_value`: reading a key of a session that has none gives `None`. Runs
/// directly; additionally, the empty session is not written and gets no cookie.
async fn route_get_no_value(b: Backend) {
    let fx = Fixture::open(b).await;
    let app = router(fx.idle_layer(HOUR));
    let r = send(&app, "/get_value", None).await;
    assert_eq!(r.body, "None");
    assert!(r.set_cookie.is_empty(), "{:?}", r.set_cookie);
}

/// `remove_last_value`: after `remove_value` of the only key, reading it gives
/// `None`. Runs directly, and again with the typed `remove::<usize>`, which hands
/// back the value it removed. Adapted in one respect: the client sends back the
/// cookie the removal answered with, as a browser does. On a server-side store that
/// is the same value (the now-empty record is rewritten under its id); the cookie
/// store reseals the emptied session into a new value, and its old value, which
/// tower-sessions' test sends again, still opens the data sealed in it (a cookie
/// session cannot be revoked; see the session-cookie docs).
async fn route_remove_last_value(b: Backend) {
    let fx = Fixture::open(b).await;
    let app = router(fx.idle_layer(HOUR));
    for remove in ["/remove_value", "/remove"] {
        let cookie = send(&app, "/insert", None).await.pair();
        let r = send(&app, remove, Some(&cookie)).await;
        let expected = if remove == "/remove" {
            "Some(42)"
        } else {
            "Some(Number(42))"
        };
        assert_eq!(r.body, expected);
        let after = r.pair();
        if fx.server_side() {
            assert_eq!(after, cookie);
        } else {
            assert_ne!(after, cookie);
            let stale = send(&app, "/get_value", Some(&cookie)).await;
            assert_eq!(stale.body, "Some(Number(42))");
        }
        let r = send(&app, "/get_value", Some(&after)).await;
        assert_eq!(r.body, "None", "after {remove}");
        assert_eq!(send(&app, "/len", Some(&after)).await.body, "0");
    }
}

/// `cycle_session_id`: `cycle_id` gives a new cookie value that still holds the
/// data. Runs directly; additionally, ours deletes the old record, so the old cookie
/// opens nothing (except on the cookie store, which keeps nothing to delete: its old
/// value still opens the data sealed in it, as its docs warn).
async fn route_cycle_session_id(b: Backend) {
    let fx = Fixture::open(b).await;
    let app = router(fx.idle_layer(HOUR));
    let first = send(&app, "/insert", None).await.pair();
    let r = send(&app, "/cycle_id", Some(&first)).await;
    let second = r.pair();
    assert_ne!(first, second);
    assert_eq!(send(&app, "/get", Some(&second)).await.body, "42");
    let old = send(&app, "/get", Some(&first)).await;
    if fx.server_side() {
        assert_eq!(old.body, "no foo");
        assert!(old.removes_cookie(), "{:?}", old.set_cookie);
    } else {
        assert_eq!(old.body, "42");
    }
}

/// `flush_session`: ending the session expires the cookie (empty value,
/// `Max-Age=0`, same `Path`). Runs directly with our `delete`; additionally, the old
/// cookie no longer opens the data on a server-side store.
async fn route_flush_session(b: Backend) {
    let fx = Fixture::open(b).await;
    let app = router(fx.idle_layer(HOUR));
    let cookie = send(&app, "/insert", None).await.pair();
    let r = send(&app, "/flush", Some(&cookie)).await;
    assert_eq!(r.body, "flushed");
    assert_eq!(r.value(), "");
    assert_eq!(r.max_age(), Some(0));
    assert_eq!(r.attr("Path").as_deref(), Some("/"));
    if fx.server_side() {
        assert_eq!(send(&app, "/get", Some(&cookie)).await.body, "no foo");
    }
}

/// `flush_with_domain`: the removal cookie carries the configured `Domain`, so the
/// browser drops the right cookie. Runs directly.
async fn route_flush_with_domain(b: Backend) {
    let fx = Fixture::open(b).await;
    let app = router(fx.layer_with(
        SessionOptions::default().with_expiry(Expiry::idle(HOUR).unwrap()),
        CookieConfig::default().with_domain("localhost"),
    ));
    let cookie = send(&app, "/insert", None).await.pair();
    let r = send(&app, "/flush", Some(&cookie)).await;
    assert!(r.removes_cookie(), "{:?}", r.set_cookie);
    assert_eq!(r.attr("Domain").as_deref(), Some("localhost"));
    assert_eq!(r.attr("Path").as_deref(), Some("/"));
}

/// `set_expiry`: a session that sets its own expiry gets a cookie whose `Max-Age`
/// follows it: an hour from the layer, then a day from the session. Adapted: "a day
/// from now" is `Expiry::absolute(1 day)` for a session created now (no wall-clock
/// expiry here); the session's own `expiry()` and `expiry_age()` say the same.
async fn route_set_expiry(b: Backend) {
    let fx = Fixture::open(b).await;
    let app = router(fx.layer_with(
        SessionOptions::default().with_expiry(Expiry::idle(HOUR).unwrap()),
        CookieConfig::default().with_domain("localhost"),
    ));
    let r = send(&app, "/insert", None).await;
    assert_eq!(r.max_age(), Some(HOUR.as_secs()));
    let cookie = r.pair();
    assert_eq!(
        send(&app, "/expiry", Some(&cookie)).await.body,
        format!("false {}", HOUR.as_secs())
    );

    let r = send(&app, "/set_expiry", Some(&cookie)).await;
    assert_eq!(r.max_age(), Some(DAY.as_secs()));
    assert_eq!(r.attr("Domain").as_deref(), Some("localhost"));
    let cookie = r.pair();
    assert_eq!(
        send(&app, "/expiry", Some(&cookie)).await.body,
        format!("true {}", DAY.as_secs())
    );
}

/// `change_expiry_type`: from a browser-session cookie to a dated one, and from a
/// dated one back to a browser-session one. Adapted only in how the first app gets a
/// browser-session default (`with_persistent(false)`, where it is tower-sessions'
/// default); `/remove_expiry` is `SessionExpiry::browser_session`.
async fn route_change_expiry_type(b: Backend) {
    let fx = Fixture::open(b).await;
    let app = router(
        fx.layer_with(
            SessionOptions::default(),
            CookieConfig::default()
                .with_domain("localhost")
                .with_persistent(false),
        ),
    );
    let r = send(&app, "/insert", None).await;
    assert_eq!(r.max_age(), None, "{}", r.the_cookie());
    let r = send(&app, "/set_expiry", Some(&r.pair())).await;
    assert_eq!(r.max_age(), Some(DAY.as_secs()));

    let app2 = router(fx.layer_with(
        SessionOptions::default().with_expiry(Expiry::idle(HOUR).unwrap()),
        CookieConfig::default().with_domain("localhost"),
    ));
    let r = send(&app2, "/insert", None).await;
    assert_eq!(r.max_age(), Some(HOUR.as_secs()));
    let r = send(&app2, "/remove_expiry", Some(&r.pair())).await;
    assert_eq!(r.max_age(), None, "{}", r.the_cookie());
    // The server-side deadline is still the layer's hour.
    assert_eq!(
        send(&app2, "/expiry", Some(&r.pair())).await.body,
        format!("true {}", HOUR.as_secs())
    );
}

// ---------------------------------------------------------------------------------
// Service tests (src/service.rs)
// ---------------------------------------------------------------------------------

/// `basic_service_test`: the first request that writes sets a cookie; the next one,
/// writing the same value, sets none. Runs directly: storing the value already
/// there changes nothing, and the touch throttle (a minute) is not due.
async fn service_basic(b: Backend) {
    let fx = Fixture::open(b).await;
    let svc = service(fx.layer());
    let r = send(&svc, "/", None).await;
    let cookie = r.pair();
    let r = send(&svc, "/", Some(&cookie)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.set_cookie.is_empty(), "{:?}", r.set_cookie);
}

/// `bogus_cookie_test`: a bogus cookie on a writing request still gets a cookie, a
/// fresh one. Adapted: the name is `session`.
async fn service_bogus_cookie(b: Backend) {
    let fx = Fixture::open(b).await;
    let svc = service(fx.layer());
    assert_eq!(send(&svc, "/", None).await.set_cookie.len(), 1);
    let r = send(&svc, "/", Some("session=bogus")).await;
    assert_ne!(r.value(), "bogus");
    assert!(!r.value().is_empty());
}

/// `no_set_cookie_test`: a service that never uses the session sets no cookie. Runs
/// directly.
async fn service_no_set_cookie(b: Backend) {
    let fx = Fixture::open(b).await;
    let r = send(&service(fx.layer()), "/noop", None).await;
    assert!(r.set_cookie.is_empty(), "{:?}", r.set_cookie);
}

/// `name_test`: the configured name is the cookie's. Runs directly.
async fn service_name(b: Backend) {
    let fx = Fixture::open(b).await;
    let layer = fx.layer_with(
        SessionOptions::default(),
        CookieConfig::default().with_name("my.sid"),
    );
    let svc = service(layer);
    let r = send(&svc, "/", None).await;
    assert!(r.pair().starts_with("my.sid="), "{}", r.the_cookie());
    // And it is the name read back.
    let r = send(&svc, "/deadline", Some(&r.pair())).await;
    assert_ne!(r.body, "none");
}

/// `http_only_test`: `HttpOnly` by default, and not when turned off. Runs directly.
async fn service_http_only(b: Backend) {
    let fx = Fixture::open(b).await;
    let r = send(&service(fx.layer()), "/", None).await;
    assert_eq!(r.attr("HttpOnly").as_deref(), Some(""));
    let layer = fx.layer_with(
        SessionOptions::default(),
        CookieConfig::default().with_http_only(false),
    );
    let r = send(&service(layer), "/", None).await;
    assert_eq!(r.attr("HttpOnly"), None, "{}", r.the_cookie());
}

async fn same_site(b: Backend, same_site: SameSite, expected: &str) {
    let fx = Fixture::open(b).await;
    let layer = fx.layer_with(
        SessionOptions::default(),
        CookieConfig::default().with_same_site(same_site),
    );
    let r = send(&service(layer), "/", None).await;
    assert_eq!(r.attr("SameSite").as_deref(), Some(expected));
}

/// `same_site_strict_test`. Runs directly.
async fn service_same_site_strict(b: Backend) {
    same_site(b, SameSite::Strict, "Strict").await;
}

/// `same_site_lax_test`. Runs directly.
async fn service_same_site_lax(b: Backend) {
    same_site(b, SameSite::Lax, "Lax").await;
}

/// `same_site_none_test`. Runs directly (`Secure` is on, as `SameSite=None` needs).
async fn service_same_site_none(b: Backend) {
    same_site(b, SameSite::None, "None").await;
}

/// `expiry_on_session_end_test`: no `Max-Age`. Adapted: for the whole layer it is
/// `CookieConfig::with_persistent(false)`; for one session it is
/// `SessionExpiry::browser_session`, which wins over a persistent default.
async fn service_expiry_on_session_end(b: Backend) {
    let fx = Fixture::open(b).await;
    let layer = fx.layer_with(
        SessionOptions::default(),
        CookieConfig::default().with_persistent(false),
    );
    let r = send(&service(layer), "/", None).await;
    assert_eq!(r.max_age(), None, "{}", r.the_cookie());

    let r = send(&router(fx.layer()), "/insert", None).await;
    let r = send(&router(fx.layer()), "/remove_expiry", Some(&r.pair())).await;
    assert_eq!(r.max_age(), None, "{}", r.the_cookie());
}

/// `expiry_on_inactivity_test`: an idle timeout of two hours is a two-hour
/// `Max-Age`. Runs directly (`Expiry::idle`).
async fn service_expiry_on_inactivity(b: Backend) {
    let fx = Fixture::open(b).await;
    let r = send(&service(fx.idle_layer(2 * HOUR)), "/", None).await;
    assert_eq!(r.max_age(), Some(2 * HOUR.as_secs()));
}

/// `expiry_at_date_time_test`: a week from now. Adapted: an absolute lifetime of a
/// week (`Expiry::absolute`) for a session created now.
async fn service_expiry_at_date_time(b: Backend) {
    let fx = Fixture::open(b).await;
    let layer = fx.layer_with(
        SessionOptions::default().with_expiry(Expiry::absolute(WEEK).unwrap()),
        CookieConfig::default(),
    );
    let r = send(&service(layer), "/", None).await;
    assert_eq!(r.max_age(), Some(WEEK.as_secs()));
}

/// The three `*_always_save_test` scenarios: a session used again later keeps its id
/// and cookie lifetime, and its stored deadline moves (idle, session-end) or stays
/// (a fixed date). Adapted: tower-sessions' `with_always_save(true)` is our
/// `TouchPolicy::Always`; the deadline is read with `Session::expires_at` (what was
/// stored before this request) where tower-sessions loads the record from its store.
/// Returns the cookies and the two stored deadlines, in milliseconds.
async fn always_save(fx: &Fixture, layer: SessionLayer) -> (Reply, Reply, u128, u128) {
    let svc = service(layer);
    let first = send(&svc, "/", None).await;
    fx.clock.advance(Duration::from_secs(600));
    let second = send(&svc, "/deadline", Some(&first.pair())).await;
    let d1: u128 = second.body.parse().unwrap();
    fx.clock.advance(Duration::from_secs(600));
    let cookie = match second.set_cookie.len() {
        0 => first.pair(),
        _ => second.pair(),
    };
    let d2: u128 = send(&svc, "/deadline", Some(&cookie))
        .await
        .body
        .parse()
        .unwrap();
    (first, second, d1, d2)
}

/// `expiry_on_session_end_always_save_test`. Adapted: tower-sessions re-sends the
/// browser-session cookie on every save. Ours re-sends a cookie only when there is
/// news for the browser: a new value or a `Max-Age` to move. A server-side session
/// touched under a browser-session cookie keeps its value and has no `Max-Age`, so
/// nothing is sent while the stored deadline still moves; the cookie store reseals
/// the touched session, so its new value is sent, still without `Max-Age`.
async fn service_expiry_on_session_end_always_save(b: Backend) {
    let fx = Fixture::open(b).await;
    let layer = fx.layer_with(
        SessionOptions::default().with_touch(TouchPolicy::Always),
        CookieConfig::default().with_persistent(false),
    );
    let (first, second, d1, d2) = always_save(&fx, layer).await;
    assert_eq!(first.max_age(), None);
    if fx.server_side() {
        assert!(second.set_cookie.is_empty(), "{:?}", second.set_cookie);
    } else {
        assert_eq!(second.max_age(), None, "{}", second.the_cookie());
        assert_ne!(first.value(), second.value());
    }
    assert!(d1 < d2, "{d1} < {d2}");
}

/// `expiry_on_inactivity_always_save_test`: two hours idle, touched ten minutes in:
/// `Max-Age` is two hours again, the deadline moved by ten minutes.
async fn service_expiry_on_inactivity_always_save(b: Backend) {
    let fx = Fixture::open(b).await;
    let layer = fx.layer_with(
        SessionOptions::default()
            .with_expiry(Expiry::idle(2 * HOUR).unwrap())
            .with_touch(TouchPolicy::Always),
        CookieConfig::default(),
    );
    let (first, second, d1, d2) = always_save(&fx, layer).await;
    assert_eq!(second.max_age(), Some(2 * HOUR.as_secs()));
    if fx.server_side() {
        assert_eq!(first.value(), second.value());
    }
    assert_eq!(d2 - d1, 600_000);
}

/// `expiry_at_date_time_always_save_test`: a week from creation; touching does not
/// move an absolute deadline, and `Max-Age` counts down to it.
async fn service_expiry_at_date_time_always_save(b: Backend) {
    let fx = Fixture::open(b).await;
    let layer = fx.layer_with(
        SessionOptions::default()
            .with_expiry(Expiry::absolute(WEEK).unwrap())
            .with_touch(TouchPolicy::Always),
        CookieConfig::default(),
    );
    let (first, second, d1, d2) = always_save(&fx, layer).await;
    assert_eq!(first.max_age(), Some(WEEK.as_secs()));
    // The touch re-sends the persistent cookie; its Max-Age is what is left of the
    // week, ten minutes on.
    assert_eq!(second.max_age(), Some(WEEK.as_secs() - 600));
    if fx.server_side() {
        assert_eq!(first.value(), second.value());
    }
    assert_eq!(d1, d2);
}

/// `secure_test`: `Secure` by default (tower-sessions' default is off; its test
/// turns it on), and not when turned off. Runs directly.
async fn service_secure(b: Backend) {
    let fx = Fixture::open(b).await;
    let r = send(&service(fx.layer()), "/", None).await;
    assert_eq!(r.attr("Secure").as_deref(), Some(""));
    let layer = fx.layer_with(
        SessionOptions::default(),
        CookieConfig::default().with_secure(false),
    );
    let r = send(&service(layer), "/", None).await;
    assert_eq!(r.attr("Secure"), None, "{}", r.the_cookie());
}

/// The four `*_removal_test` scenarios: the removal cookie carries the same
/// `Secure` and `HttpOnly` as the cookie it removes (a browser may refuse to
/// overwrite a `Secure` cookie from one without). Runs directly.
async fn removal(b: Backend, cookie: CookieConfig) -> Reply {
    let fx = Fixture::open(b).await;
    let svc = service(fx.layer_with(SessionOptions::default(), cookie));
    let set = send(&svc, "/", None).await;
    let r = send(&svc, "/flush", Some(&set.pair())).await;
    assert!(r.removes_cookie(), "{:?}", r.set_cookie);
    r
}

/// `secure_removal_test`.
async fn service_secure_removal(b: Backend) {
    let r = removal(b, CookieConfig::default().with_secure(true)).await;
    assert_eq!(r.attr("Secure").as_deref(), Some(""));
}

/// `http_only_removal_test`.
async fn service_http_only_removal(b: Backend) {
    let r = removal(b, CookieConfig::default().with_http_only(true)).await;
    assert_eq!(r.attr("HttpOnly").as_deref(), Some(""));
}

/// `http_only_disabled_removal_test`.
async fn service_http_only_disabled_removal(b: Backend) {
    let r = removal(b, CookieConfig::default().with_http_only(false)).await;
    assert_eq!(r.attr("HttpOnly"), None, "{}", r.the_cookie());
}

/// `insecure_removal_test`.
async fn service_insecure_removal(b: Backend) {
    let r = removal(b, CookieConfig::default().with_secure(false)).await;
    assert_eq!(r.attr("Secure"), None, "{}", r.the_cookie());
}

/// `path_test`: the configured `Path`. Runs directly.
async fn service_path(b: Backend) {
    let fx = Fixture::open(b).await;
    let layer = fx.layer_with(
        SessionOptions::default(),
        CookieConfig::default().with_path("/foo/bar"),
    );
    let r = send(&service(layer), "/", None).await;
    assert_eq!(r.attr("Path").as_deref(), Some("/foo/bar"));
}

/// `domain_test`: the configured `Domain`. Runs directly.
async fn service_domain(b: Backend) {
    let fx = Fixture::open(b).await;
    let layer = fx.layer_with(
        SessionOptions::default(),
        CookieConfig::default().with_domain("example.com"),
    );
    let r = send(&service(layer), "/", None).await;
    assert_eq!(r.attr("Domain").as_deref(), Some("example.com"));
}

/// `signed_test`: tower-sessions only checks a cookie is set under `with_signed`.
/// Adapted: signing is not optional here, so this checks what it buys: a server-side
/// token is `id.signature`, and the same id under another key's signature opens
/// nothing. The cookie store's value is sealed rather than signed; a value sealed
/// under another secret opens nothing either.
async fn service_signed(b: Backend) {
    let fx = Fixture::open(b).await;
    let svc = service(fx.layer());
    let r = send(&svc, "/", None).await;
    let cookie = r.pair();
    assert_ne!(send(&svc, "/deadline", Some(&cookie)).await.body, "none");
    let other = match b {
        Backend::Cookie => {
            let store = session_cookie::CookieStore::builder()
                .secret([8u8; 32])
                .clock(fx.clock.clock())
                .build()
                .unwrap();
            SessionLayer::builder(store)
                .options(SessionOptions::default().with_clock(fx.clock.clock()))
                .build()
                .unwrap()
        }
        _ => {
            let (_, sig) = r
                .value()
                .rsplit_once('.')
                .map(|(i, s)| (i.to_owned(), s.to_owned()))
                .unwrap();
            assert_eq!(sig.len(), 43, "an HMAC-SHA256 in unpadded base64url");
            SessionLayer::builder_from_arc(fx.store.clone())
                .keys(SigningKeys::new([[8u8; 32]]).unwrap())
                .options(SessionOptions::default().with_clock(fx.clock.clock()))
                .build()
                .unwrap()
        }
    };
    // The other key's service mints a cookie; this one refuses it.
    let forged = send(&service(other), "/", None).await.pair();
    let r = send(&svc, "/deadline", Some(&forged)).await;
    assert_eq!(r.body, "none");
    assert!(r.removes_cookie(), "{:?}", r.set_cookie);
}

/// `private_test`: tower-sessions' `with_private` encrypts the cookie. Adapted: that
/// is the cookie store (the session itself sealed with AEAD), so this runs on the
/// cookie store only: the cookie is set, does not show the data, and opens again.
/// On a server-side store the cookie holds a random id and its signature, nothing
/// to hide: not expressible there.
async fn service_private(b: Backend) {
    assert_eq!(b, Backend::Cookie);
    let fx = Fixture::open(b).await;
    let app = router(fx.layer());
    let r = send(&app, "/insert", None).await;
    let value = r.value();
    assert!(!value.contains("foo") && !value.contains("42"), "{value}");
    assert_eq!(send(&app, "/get", Some(&r.pair())).await.body, "42");
}

// ---------------------------------------------------------------------------------
// One test per scenario and backend
// ---------------------------------------------------------------------------------

macro_rules! on_backend {
    ($module:ident, $backend:expr, [$($scenario:ident),* $(,)?]) => {
        mod $module {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    super::$scenario($backend).await;
                }
            )*
        }
    };
}

macro_rules! on_every_backend {
    ($($scenario:ident),* $(,)?) => {
        on_backend!(memory, super::Backend::Memory, [$($scenario),*]);
        on_backend!(file, super::Backend::File, [$($scenario),*]);
        on_backend!(sqlite, super::Backend::Sqlite, [$($scenario),*]);
        on_backend!(redis, super::Backend::Redis, [$($scenario),*]);
        on_backend!(cookie, super::Backend::Cookie, [$($scenario),*]);
    };
}

on_every_backend!(
    route_no_session_set,
    route_bogus_session_cookie,
    route_malformed_session_cookie,
    route_insert_session,
    route_session_max_age,
    route_get_session,
    route_get_no_value,
    route_remove_last_value,
    route_cycle_session_id,
    route_flush_session,
    route_flush_with_domain,
    route_set_expiry,
    route_change_expiry_type,
    service_basic,
    service_bogus_cookie,
    service_no_set_cookie,
    service_name,
    service_http_only,
    service_same_site_strict,
    service_same_site_lax,
    service_same_site_none,
    service_expiry_on_session_end,
    service_expiry_on_inactivity,
    service_expiry_at_date_time,
    service_expiry_on_session_end_always_save,
    service_expiry_on_inactivity_always_save,
    service_expiry_at_date_time_always_save,
    service_secure,
    service_secure_removal,
    service_http_only_removal,
    service_http_only_disabled_removal,
    service_insecure_removal,
    service_path,
    service_domain,
    service_signed,
);

on_backend!(cookie_only, super::Backend::Cookie, [service_private]);
