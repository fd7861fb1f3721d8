//! What is tower's own in tower-sessions' scenarios: its service tests drive a plain
//! tower `service_fn` under the layer, reading the session from the request
//! extensions, with no axum in between. That path is checked here, on a server-side
//! store and on the cookie store.
//!
//! Everything else those scenarios check (the thirteen `route_tests!` of
//! tower-sessions' `tests/common/mod.rs` and the twenty-four service tests of its
//! `src/service.rs`: cookies, attributes, removal cookies, `Max-Age` variants, cycle
//! id, flush, expiry types, signing, the private cookie) is in the HTTP suite every
//! adapter passes, `session-conformance-http`, which runs on session-tower in
//! `tests/http_suite.rs` over memory, files, SQLite, Redis and the cookie store. Its
//! crate docs list where our semantics differ from tower-sessions on purpose.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code

use std::convert::Infallible;
use std::sync::Arc;

use axum::body::Body;
use futures::future::BoxFuture;
use http::{header, Request, Response};
use http_body_util::BodyExt;
use session_core::{MemoryStore, SessionStore};
use session_tower::{Session, SessionLayer, SigningKeys};
use tower::util::BoxCloneService;
use tower::{service_fn, Layer, ServiceExt};

type App = BoxCloneService<Request<Body>, Response<Body>, Infallible>;

/// tower-sessions' service handlers: `/` inserts `foo = 42` (`handler`), `/flush`
/// deletes (`flush_handler`), `/get` reads `foo`, anything else touches nothing
/// (`noop_handler`).
fn service(store: Arc<dyn SessionStore>) -> App {
    let layer = SessionLayer::from_arc(store, SigningKeys::new([[7u8; 32]]).unwrap());
    let svc = layer.layer(service_fn(
        |req: Request<Body>| -> BoxFuture<'static, Result<Response<Body>, Infallible>> {
            Box::pin(async move {
                let body = match req.extensions().get::<Session>().cloned() {
                    None => "no session layer".to_owned(),
                    Some(s) => match req.uri().path() {
                        "/" => s.insert("foo", 42).await.map(|()| String::new()),
                        "/flush" => s.delete().await.map(|()| String::new()),
                        "/get" => s.get::<u64>("foo").await.map(|v| format!("{v:?}")),
                        _ => Ok(String::new()),
                    }
                    .unwrap_or_else(|e| format!("error: {e}")),
                };
                Ok(Response::new(Body::from(body)))
            })
        },
    ));
    BoxCloneService::new(svc)
}

/// `GET path` with `cookie`; the `Set-Cookie` headers and the body.
async fn send(app: &App, path: &str, cookie: Option<&str>) -> (Vec<String>, String) {
    let mut req = Request::get(path);
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    let res = app
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let set_cookie = res
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    (set_cookie, String::from_utf8(body.to_vec()).unwrap())
}

async fn service_fn_reads_the_session_from_extensions(store: Arc<dyn SessionStore>) {
    let app = service(store);
    let (set, _) = send(&app, "/noop", None).await;
    assert!(set.is_empty(), "{set:?}");
    let (set, _) = send(&app, "/", None).await;
    assert_eq!(set.len(), 1, "{set:?}");
    let cookie = set[0].split(';').next().unwrap().to_owned();
    assert_eq!(send(&app, "/get", Some(&cookie)).await.1, "Some(42)");
    let (set, _) = send(&app, "/flush", Some(&cookie)).await;
    assert!(
        set[0].starts_with("session=;") && set[0].contains("Max-Age=0"),
        "{set:?}"
    );
}

#[tokio::test]
async fn service_fn_on_a_server_side_store() {
    service_fn_reads_the_session_from_extensions(Arc::new(MemoryStore::new())).await;
}

#[tokio::test]
async fn service_fn_on_the_cookie_store() {
    let store = session_cookie::CookieStore::builder()
        .secret([9u8; 32])
        .build()
        .unwrap();
    service_fn_reads_the_session_from_extensions(Arc::new(store)).await;
}
