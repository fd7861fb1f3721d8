//! The layer wired to a router, driven request by request: what is not the HTTP suite's.
//! The behaviour every adapter shares (cookies, attributes, signing, rotation, cycle
//! id, delete, 5xx, the store down, `Vary`, `Cache-Control`, explicit saves, concurrent
//! counters) is checked by `session-conformance-http` in `tests/http_suite.rs`; what
//! stays here needs a store or a handler the suite's route convention cannot express
//! (each kind of backend error, a size limit, a refused `persist`, the log).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code

mod support;

use std::sync::Arc;

use async_trait::async_trait;
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::routing::get;
use axum::Router;
use http_body_util::BodyExt;
use session_conformance::{CountingStore, SelfSealed};
use session_core::{BackendError, BackendErrorKind, Operation};
use session_core::{
    Capabilities, Error, MemoryStore, Record, SessionId, SessionOptions, SessionStore,
};
use session_tower::{CookieConfig, Session, SessionError, SessionLayer};
use tower::ServiceExt;

use support::{keys, KEY_A};

async fn login(s: Session) -> Result<&'static str, SessionError> {
    s.insert("user", "ada").await?;
    Ok("ok")
}

async fn whoami(s: Session) -> Result<String, SessionError> {
    Ok(s.get::<String>("user")
        .await?
        .unwrap_or_else(|| "anonymous".into()))
}

async fn big(s: Session) -> Result<&'static str, SessionError> {
    s.insert("blob", "x".repeat(1024)).await?;
    s.save().await;
    Ok("saved")
}

fn app(layer: SessionLayer) -> Router {
    Router::new()
        .route("/login", get(login))
        .route("/whoami", get(whoami))
        .route("/big", get(big))
        .layer(layer)
}

struct Reply {
    status: StatusCode,
    set_cookie: Vec<String>,
    retry_after: Option<String>,
    body: String,
}

impl Reply {
    /// `name=value` of the session cookie that was set, if any.
    fn cookie(&self) -> Option<String> {
        self.set_cookie
            .iter()
            .map(|c| c.split(';').next().unwrap().to_owned())
            .find(|kv| kv.starts_with("session=") && kv.len() > "session=".len())
    }
}

async fn send(app: &Router, path: &str, cookie: Option<&str>) -> Reply {
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
    let retry_after = res
        .headers()
        .get(header::RETRY_AFTER)
        .map(|v| v.to_str().unwrap().to_owned());
    let body =
        String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    Reply {
        status,
        set_cookie,
        retry_after,
        body,
    }
}

/// Every operation fails with a backend error of this kind.
struct FailingStore(BackendErrorKind);

impl FailingStore {
    fn fail<T>(&self, op: Operation) -> session_core::Result<T> {
        let why = match self.0 {
            BackendErrorKind::Unavailable => "connection refused",
            _ => "no such table: sessions",
        };
        Err(BackendError::new(self.0, why)
            .with_store("test")
            .with_operation(op)
            .into())
    }
}

#[async_trait]
impl SessionStore for FailingStore {
    fn capabilities(&self) -> Capabilities {
        Capabilities::new()
    }
    async fn load(&self, _: &str) -> session_core::Result<Option<Record>> {
        self.fail(Operation::Load)
    }
    async fn create(&self, _: &Record) -> session_core::Result<String> {
        self.fail(Operation::Create)
    }
    async fn save(&self, _: &Record, _: u64) -> session_core::Result<String> {
        self.fail(Operation::Save)
    }
    async fn touch(&self, _: &Record) -> session_core::Result<String> {
        self.fail(Operation::Touch)
    }
    async fn delete(&self, _: &SessionId) -> session_core::Result<()> {
        self.fail(Operation::Delete)
    }
}

/// Only a temporary backend error is an outage (503 + `Retry-After`); a backend error
/// a retry does not cure (a missing table, an unexpected reply, a disk error) is a 500.
#[tokio::test]
async fn only_temporary_backend_errors_are_503() {
    let signed = keys(&[KEY_A]).sign("session", &SessionId::generate().to_string());
    let whoami = format!("session={signed}");
    for (kind, status) in [
        (BackendErrorKind::Timeout, StatusCode::SERVICE_UNAVAILABLE),
        (
            BackendErrorKind::Unavailable,
            StatusCode::SERVICE_UNAVAILABLE,
        ),
        (BackendErrorKind::Server, StatusCode::INTERNAL_SERVER_ERROR),
        (
            BackendErrorKind::Protocol,
            StatusCode::INTERNAL_SERVER_ERROR,
        ),
        (BackendErrorKind::Io, StatusCode::INTERNAL_SERVER_ERROR),
        (BackendErrorKind::Other, StatusCode::INTERNAL_SERVER_ERROR),
    ] {
        let app = app(SessionLayer::new(FailingStore(kind), keys(&[KEY_A])));
        // At the end of the request (the write) and inside the handler (the read).
        for r in [
            send(&app, "/login", None).await,
            send(&app, "/whoami", Some(&whoami)).await,
        ] {
            assert_eq!(r.status, status, "{kind:?}");
            let retry = (status == StatusCode::SERVICE_UNAVAILABLE).then_some("1");
            assert_eq!(r.retry_after.as_deref(), retry, "{kind:?}");
            assert!(r.set_cookie.is_empty());
        }
    }
    // A third-party store's plain `Error::backend` says nothing about an outage.
    let plain = session_tower::default_error_response(&Error::backend("connection refused"));
    assert_eq!(plain.status(), StatusCode::INTERNAL_SERVER_ERROR);
}

/// A store error that is not an outage keeps the 500.
#[tokio::test]
async fn non_backend_failures_stay_500() {
    let store = MemoryStore::new()
        .with_settings(session_core::StoreSettings::new().with_max_record_size(Some(64)));
    let app = app(SessionLayer::new(store, keys(&[KEY_A])));
    let r = send(&app, "/big", None).await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(r.set_cookie.is_empty());
}

#[tokio::test]
async fn invalid_cookie_config_is_a_config_error() {
    let layer = || SessionLayer::builder(MemoryStore::new()).keys(keys(&[KEY_A]));
    for bad in [
        CookieConfig::default().with_name("bad name"),
        CookieConfig::default().with_name(""),
        CookieConfig::default().with_path("/a;b"),
        CookieConfig::default()
            .with_same_site(session_tower::SameSite::None)
            .with_secure(false),
    ] {
        assert!(matches!(layer().cookie(bad).build(), Err(Error::Config(_))));
    }
}

#[tokio::test]
async fn self_sealed_values_are_not_signed_again() {
    let app = app(SessionLayer::new(
        SelfSealed(MemoryStore::new()),
        keys(&[KEY_A]),
    ));
    let cookie = send(&app, "/login", None).await.cookie().unwrap();
    assert!(
        SessionId::parse(&cookie["session=".len()..]).is_ok(),
        "{cookie}"
    );
    assert_eq!(send(&app, "/whoami", Some(&cookie)).await.body, "ada");
}

#[test]
fn throttle_longer_than_idle_is_refused() {
    let options = SessionOptions::default()
        .with_expiry(session_core::Expiry::idle(std::time::Duration::from_secs(60)).unwrap())
        .with_touch(session_core::TouchPolicy::Throttled(
            std::time::Duration::from_secs(120),
        ));
    let layer = SessionLayer::builder(MemoryStore::new()).keys(keys(&[KEY_A]));
    assert!(matches!(
        layer.options(options).build(),
        Err(Error::Config(_))
    ));
}

/// Issue 16 item 3: a handler that catches a refused `persist` and answers 413 gets
/// its 413; the layer does not write the refused change at the end of the request.
#[tokio::test]
async fn refused_persist_is_answered_by_the_handler_and_not_retried() {
    async fn note(s: Session) -> Result<(StatusCode, &'static str), SessionError> {
        s.insert("note", "x".repeat(1024)).await?;
        match s.persist().await {
            Err(session_core::Error::TooLarge { .. }) => {
                Ok((StatusCode::PAYLOAD_TOO_LARGE, "too large"))
            }
            other => other.map(|()| (StatusCode::OK, "kept")).map_err(Into::into),
        }
    }
    let store = Arc::new(CountingStore::new(MemoryStore::new().with_settings(
        session_core::StoreSettings::new().with_max_record_size(Some(64)),
    )));
    let app = Router::new()
        .route("/login", get(login))
        .route("/whoami", get(whoami))
        .route("/note", get(note))
        .layer(SessionLayer::from_arc(store.clone(), keys(&[KEY_A])));
    let cookie = send(&app, "/login", None).await.cookie().unwrap();
    let before = store.counts();

    let r = send(&app, "/note", Some(&cookie)).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.body);
    assert_eq!(r.body, "too large");
    let after = store.counts();
    assert_eq!(after.save, before.save + 1, "one refused save, no retry");
    assert_eq!(after.create, before.create);
    assert_eq!(send(&app, "/whoami", Some(&cookie)).await.body, "ada");

    // A new session refused the same way stays unwritten and gets no cookie.
    let r = send(&app, "/note", None).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(r.cookie().is_none());
    assert_eq!(store.inner().count().await.unwrap(), 1);
}

/// The same for a refused write that is an outage: the handler's answer stands, and
/// the layer makes no second attempt behind its back.
#[tokio::test]
async fn failed_persist_is_not_retried_at_the_end_of_the_request() {
    use session_conformance::{FaultStore, Op};
    async fn tolerant(s: Session) -> Result<&'static str, SessionError> {
        s.insert("visited", true).await?;
        Ok(match s.persist().await {
            Ok(()) => "saved",
            Err(_) => "not saved, carrying on",
        })
    }
    let store = Arc::new(FaultStore::new(MemoryStore::new()));
    let plan = store.plan();
    let app = Router::new()
        .route("/login", get(login))
        .route("/tolerant", get(tolerant))
        .layer(SessionLayer::from_arc(store.clone(), keys(&[KEY_A])));
    let cookie = send(&app, "/login", None).await.cookie().unwrap();
    plan.fail_nth(Op::Save, 1);
    let r = send(&app, "/tolerant", Some(&cookie)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body, "not saved, carrying on");
    assert_eq!(
        plan.calls_of(Op::Save),
        1,
        "the layer retried the refused save"
    );
}

/// Issue 16 item 13: a store failure inside a handler is logged once, by the layer.
#[tokio::test]
async fn a_handler_store_failure_is_logged_once() {
    use session_conformance::{FaultStore, Op};
    let logs = support::Logs::capture();

    let store = Arc::new(FaultStore::new(MemoryStore::new()));
    let app = app(SessionLayer::from_arc(store.clone(), keys(&[KEY_A])));
    let cookie = send(&app, "/login", None).await.cookie().unwrap();
    store.plan().fail_always(Op::Load);
    let r = send(&app, "/whoami", Some(&cookie)).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);

    let errors = logs.lines_at("ERROR");
    assert_eq!(
        errors.len(),
        1,
        "expected one ERROR line, got:\n{}",
        logs.text()
    );
    assert!(errors[0].contains("injected"), "{}", errors[0]);
}
