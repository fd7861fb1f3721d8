//! The layer wired to a router, driven request by request.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code

mod support;

use std::sync::Arc;

use async_trait::async_trait;
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::routing::get;
use axum::Router;
use http_body_util::BodyExt;
use session_conformance::CountingStore;
use session_core::{BackendError, BackendErrorKind, Operation};
use session_core::{
    Capabilities, Error, MemoryStore, Record, SaveMode, SessionId, SessionOptions, SessionStore,
};
use session_tower::{CookieConfig, Session, SessionError, SessionLayer};
use tower::ServiceExt;

use support::{keys, KEY_A, KEY_B};

async fn login(s: Session) -> Result<&'static str, SessionError> {
    s.insert("user", "ada").await?;
    Ok("ok")
}

async fn whoami(s: Session) -> Result<String, SessionError> {
    Ok(s.get::<String>("user")
        .await?
        .unwrap_or_else(|| "anonymous".into()))
}

async fn logout(s: Session) -> Result<&'static str, SessionError> {
    s.delete().await?;
    Ok("bye")
}

async fn counter(s: Session) -> Result<String, SessionError> {
    Ok(s.update("n", |n: Option<u64>| n.unwrap_or(0) + 1)
        .await?
        .to_string())
}

async fn cycle(s: Session) -> Result<&'static str, SessionError> {
    s.cycle_id().await;
    Ok("cycled")
}

async fn boom(s: Session) -> Result<(StatusCode, &'static str), SessionError> {
    s.insert("half", "done").await?;
    Ok((StatusCode::INTERNAL_SERVER_ERROR, "boom"))
}

async fn big(s: Session) -> Result<&'static str, SessionError> {
    s.insert("blob", "x".repeat(1024)).await?;
    s.save().await;
    Ok("saved")
}

async fn untouched() -> &'static str {
    "static"
}

fn app(layer: SessionLayer) -> Router {
    Router::new()
        .route("/login", get(login))
        .route("/whoami", get(whoami))
        .route("/logout", get(logout))
        .route("/counter", get(counter))
        .route("/cycle", get(cycle))
        .route("/boom", get(boom))
        .route("/big", get(big))
        .route("/static", get(untouched))
        .layer(layer)
}

struct Reply {
    status: StatusCode,
    set_cookie: Vec<String>,
    vary: Option<String>,
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
    let vary = res
        .headers()
        .get(header::VARY)
        .map(|v| v.to_str().unwrap().to_owned());
    let retry_after = res
        .headers()
        .get(header::RETRY_AFTER)
        .map(|v| v.to_str().unwrap().to_owned());
    let body =
        String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    Reply {
        status,
        set_cookie,
        vary,
        retry_after,
        body,
    }
}

#[tokio::test]
async fn untouched_requests_cost_no_store_operation() {
    let store = Arc::new(CountingStore::new(MemoryStore::new()));
    let app = app(SessionLayer::from_arc(store.clone(), keys(&[KEY_A])));
    let cookie = send(&app, "/login", None).await.cookie().unwrap();
    let before = store.counts();
    for c in [None, Some(cookie.as_str())] {
        let r = send(&app, "/static", c).await;
        assert_eq!(r.body, "static");
        assert!(r.set_cookie.is_empty());
        assert!(
            r.vary.is_none(),
            "the response did not depend on the session"
        );
    }
    // A cookie no key verifies is expired, still without asking the store.
    let r = send(&app, "/static", Some("session=garbage")).await;
    assert_eq!(r.set_cookie.len(), 1);
    assert!(r.set_cookie[0].starts_with("session=;") && r.set_cookie[0].contains("Max-Age=0"));
    assert_eq!(store.counts(), before);
}

#[tokio::test]
async fn login_sets_a_signed_cookie_with_attributes() {
    let app = app(SessionLayer::new(MemoryStore::new(), keys(&[KEY_A])));
    let r = send(&app, "/login", None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.set_cookie.len(), 1);
    let header = &r.set_cookie[0];
    for attr in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/", "Max-Age="] {
        assert!(header.contains(attr), "{attr} missing from {header}");
    }
    assert_eq!(r.vary.as_deref(), Some("Cookie"));
    let value = r.cookie().unwrap();
    let (id, sig) = value["session=".len()..].rsplit_once('.').unwrap();
    assert!(SessionId::parse(id).is_ok());
    assert_eq!(sig.len(), 43);
    assert_eq!(send(&app, "/whoami", Some(&value)).await.body, "ada");
}

#[tokio::test]
async fn tampered_cookie_gets_a_fresh_session() {
    let app = app(SessionLayer::new(MemoryStore::new(), keys(&[KEY_A])));
    let good = send(&app, "/login", None).await.cookie().unwrap();
    let mut bytes = good.clone().into_bytes();
    let last = bytes.len() - 1;
    bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(bytes).unwrap();
    // Someone else's valid id under a forged signature is not accepted either.
    let (id, _) = good["session=".len()..].rsplit_once('.').unwrap();
    let forged = format!("session={id}.{}", "A".repeat(43));
    for bad in [
        tampered,
        forged,
        "session=".into(),
        format!("session={}", "x".repeat(10_000)),
    ] {
        assert_eq!(send(&app, "/whoami", Some(&bad)).await.body, "anonymous");
        let fresh = send(&app, "/login", Some(&bad)).await.cookie().unwrap();
        assert_ne!(fresh, good);
    }
}

#[tokio::test]
async fn rotated_key_is_accepted_and_resigned() {
    let store: Arc<dyn SessionStore> = Arc::new(MemoryStore::new());
    let old = app(SessionLayer::from_arc(store.clone(), keys(&[KEY_A])));
    let new = app(SessionLayer::from_arc(store.clone(), keys(&[KEY_B, KEY_A])));
    let b_only = app(SessionLayer::from_arc(store, keys(&[KEY_B])));
    let cookie = send(&old, "/login", None).await.cookie().unwrap();
    assert_eq!(
        send(&b_only, "/whoami", Some(&cookie)).await.body,
        "anonymous"
    );

    let r = send(&new, "/whoami", Some(&cookie)).await;
    assert_eq!(r.body, "ada");
    let resigned = r.cookie().expect("re-signed with the newest key");
    assert_ne!(resigned, cookie);
    assert!(
        r.set_cookie[0].contains("Max-Age="),
        "re-signed cookie keeps its Max-Age"
    );
    assert_eq!(send(&b_only, "/whoami", Some(&resigned)).await.body, "ada");
}

#[tokio::test]
async fn logout_expires_the_cookie_and_the_old_one_is_dead() {
    let app = app(SessionLayer::new(MemoryStore::new(), keys(&[KEY_A])));
    let cookie = send(&app, "/login", None).await.cookie().unwrap();
    let r = send(&app, "/logout", Some(&cookie)).await;
    assert_eq!(r.set_cookie.len(), 1);
    assert!(
        r.set_cookie[0].starts_with("session=;"),
        "{}",
        r.set_cookie[0]
    );
    assert!(r.set_cookie[0].contains("Max-Age=0"));
    assert_eq!(send(&app, "/whoami", Some(&cookie)).await.body, "anonymous");
}

#[tokio::test]
async fn cycle_id_issues_a_new_cookie_and_kills_the_old() {
    let app = app(SessionLayer::new(MemoryStore::new(), keys(&[KEY_A])));
    let old = send(&app, "/login", None).await.cookie().unwrap();
    let new = send(&app, "/cycle", Some(&old)).await.cookie().unwrap();
    assert_ne!(old, new);
    assert_eq!(send(&app, "/whoami", Some(&new)).await.body, "ada");
    assert_eq!(send(&app, "/whoami", Some(&old)).await.body, "anonymous");
}

#[tokio::test]
async fn server_errors_do_not_save_unless_configured() {
    let store = Arc::new(MemoryStore::new());
    let plain = app(SessionLayer::from_arc(store.clone(), keys(&[KEY_A])));
    let r = send(&plain, "/boom", None).await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(r.set_cookie.is_empty());
    assert_eq!(store.count().await.unwrap(), 0);

    let saving = app(SessionLayer::builder_from_arc(store.clone())
        .keys(keys(&[KEY_A]))
        .save_on_server_error(true)
        .build()
        .unwrap());
    let r = send(&saving, "/boom", None).await;
    assert!(r.cookie().is_some());
    assert_eq!(store.count().await.unwrap(), 1);
}

/// Every operation fails with a backend error of this kind.
struct FailingStore(BackendErrorKind);

/// Every operation fails, as a store whose server is down.
const DOWN_STORE: FailingStore = FailingStore(BackendErrorKind::Unavailable);

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

#[tokio::test]
async fn store_failures_fail_closed_with_a_hook() {
    let app_default = app(SessionLayer::new(DOWN_STORE, keys(&[KEY_A])));
    // The write at the end of the request fails: the layer's error response, a 503
    // for an unreachable store.
    let r = send(&app_default, "/login", None).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.retry_after.as_deref(), Some("1"));
    assert!(r.set_cookie.is_empty());
    // The read inside the handler fails: the handler's SessionError gets the same one.
    let signed = keys(&[KEY_A]).sign("session", &SessionId::generate().to_string());
    let whoami = format!("session={signed}");
    let r = send(&app_default, "/whoami", Some(&whoami)).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(r.set_cookie.is_empty());

    let hooked = app(SessionLayer::builder(DOWN_STORE)
        .keys(keys(&[KEY_A]))
        .on_error(|e| {
            let mut res = http::Response::new(format!("sessions unavailable: {e}"));
            *res.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
            res
        })
        .build()
        .unwrap());
    let r = send(&hooked, "/login", None).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(r.body.starts_with("sessions unavailable"));
    let r = send(&hooked, "/whoami", Some(&whoami)).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(r.body.starts_with("sessions unavailable"), "{}", r.body);
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
async fn explicit_mode_saves_only_on_request() {
    async fn set_unsaved(s: Session) -> Result<&'static str, SessionError> {
        s.insert("user", "ada").await?;
        Ok("unsaved")
    }
    async fn set_saved(s: Session) -> Result<&'static str, SessionError> {
        s.insert("user", "ada").await?;
        s.save().await;
        Ok("saved")
    }
    let store = Arc::new(MemoryStore::new());
    let layer = SessionLayer::builder_from_arc(store.clone())
        .keys(keys(&[KEY_A]))
        .options(SessionOptions::default().with_save_mode(SaveMode::Explicit))
        .build()
        .unwrap();
    let app = Router::new()
        .route("/unsaved", get(set_unsaved))
        .route("/saved", get(set_saved))
        .layer(layer);
    assert!(send(&app, "/unsaved", None).await.set_cookie.is_empty());
    assert_eq!(store.count().await.unwrap(), 0);
    assert!(send(&app, "/saved", None).await.cookie().is_some());
    assert_eq!(store.count().await.unwrap(), 1);
}

#[tokio::test]
async fn concurrent_counters_on_one_session_all_count() {
    let app = app(SessionLayer::new(MemoryStore::new(), keys(&[KEY_A])));
    let cookie = send(&app, "/login", None).await.cookie().unwrap();
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let app = app.clone();
            let cookie = cookie.clone();
            tokio::spawn(async move { send(&app, "/counter", Some(&cookie)).await.status })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap(), StatusCode::OK);
    }
    assert_eq!(send(&app, "/counter", Some(&cookie)).await.body, "21");
}

#[tokio::test]
async fn browser_session_cookie_has_no_max_age() {
    let layer = SessionLayer::builder(MemoryStore::new())
        .keys(keys(&[KEY_A]))
        .cookie(
            CookieConfig::default()
                .with_persistent(false)
                .with_name("sid")
                .with_secure(false),
        )
        .build()
        .unwrap();
    let r = send(&app(layer), "/login", None).await;
    assert!(r.set_cookie[0].starts_with("sid="));
    assert!(!r.set_cookie[0].contains("Max-Age"));
    assert!(!r.set_cookie[0].contains("Secure"));
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

/// A store whose values are sealed by itself: the layer passes them through unsigned.
struct SelfSealed(MemoryStore);

#[async_trait]
impl SessionStore for SelfSealed {
    fn capabilities(&self) -> Capabilities {
        self.0.capabilities().with_self_sealed(true)
    }
    async fn load(&self, v: &str) -> session_core::Result<Option<Record>> {
        self.0.load(v).await
    }
    async fn create(&self, r: &Record) -> session_core::Result<String> {
        self.0.create(r).await
    }
    async fn save(&self, r: &Record, v: u64) -> session_core::Result<String> {
        self.0.save(r, v).await
    }
    async fn touch(&self, r: &Record) -> session_core::Result<String> {
        self.0.touch(r).await
    }
    async fn delete(&self, id: &SessionId) -> session_core::Result<()> {
        self.0.delete(id).await
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

#[tokio::test]
async fn other_apps_non_ascii_cookies_do_not_hide_ours() {
    let app = app(SessionLayer::new(MemoryStore::new(), keys(&[KEY_A])));
    let cookie = send(&app, "/login", None).await.cookie().unwrap();
    let res = app
        .clone()
        .oneshot(
            Request::get("/whoami")
                .header(
                    header::COOKIE,
                    http::HeaderValue::from_bytes(format!("{cookie}; pref=Zo\u{eb}").as_bytes())
                        .unwrap(),
                )
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(body, "ada");
}

#[tokio::test]
async fn caching_headers() {
    let app = app(SessionLayer::new(MemoryStore::new(), keys(&[KEY_A])));
    let r = send(&app, "/login", None).await;
    let res = app
        .clone()
        .oneshot(Request::get("/login").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(res.headers().get(header::CACHE_CONTROL).unwrap(), "private");
    // A read-only response that depends on the session varies on the cookie too.
    let cookie = r.cookie().unwrap();
    let read = send(&app, "/whoami", Some(&cookie)).await;
    assert_eq!(read.vary.as_deref(), Some("Cookie"));
}

#[tokio::test]
async fn a_failed_response_still_reports_a_completed_logout() {
    async fn logout_then_fail(s: Session) -> Result<StatusCode, SessionError> {
        s.delete().await?;
        Ok(StatusCode::INTERNAL_SERVER_ERROR)
    }
    let store = Arc::new(MemoryStore::new());
    let layer = SessionLayer::from_arc(store.clone(), keys(&[KEY_A]));
    let app = Router::new()
        .route("/login", get(login))
        .route("/logout", get(logout_then_fail))
        .layer(layer);
    let cookie = send(&app, "/login", None).await.cookie().unwrap();
    let r = send(&app, "/logout", Some(&cookie)).await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        r.set_cookie.iter().any(|c| c.starts_with("session=;")),
        "{:?}",
        r.set_cookie
    );
    assert_eq!(store.count().await.unwrap(), 0);
}

#[tokio::test]
async fn rotation_with_the_store_down_does_not_break_sessionless_routes() {
    let old_cookie = format!(
        "session={}",
        keys(&[KEY_A]).sign("session", &SessionId::generate().to_string())
    );
    let app = app(SessionLayer::new(DOWN_STORE, keys(&[KEY_B, KEY_A])));
    let r = send(&app, "/static", Some(&old_cookie)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body, "static");
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
