//! What is actix-web's own in the adapter: its extractor and error type, the error hook
//! replacing a handler's `SessionError`, an inner middleware's error, and `SessionExt`.
//! The behaviour every adapter shares (cookies, attributes, expiry, cycle id, 5xx, Vary)
//! is the HTTP suite's (`tests/http_suite.rs`).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{test, web, App, HttpRequest, HttpResponse};
use session_actix::{Session, SessionError, SessionExt, SessionMiddleware, SigningKeys};
use session_conformance::CountingStore;
use session_core::{BackendError, BackendErrorKind, Error, MemoryStore};

fn keys() -> SigningKeys {
    SigningKeys::new([[7u8; 32]]).unwrap()
}

async fn counter(session: Session) -> Result<String, SessionError> {
    let n = session
        .update("n", |n: Option<u64>| n.unwrap_or(0) + 1)
        .await?;
    Ok(n.to_string())
}

async fn failing(session: Session) -> Result<String, SessionError> {
    session.insert("n", 1u64).await?;
    Err(Error::from(BackendError::new(
        BackendErrorKind::Unavailable,
        "store down",
    ))
    .into())
}

async fn via_request(req: HttpRequest) -> HttpResponse {
    match req.get_session() {
        Some(s) => {
            let n: Option<u64> = s.get("n").await.unwrap();
            HttpResponse::Ok().body(format!("{n:?}"))
        }
        None => HttpResponse::Ok().body("none"),
    }
}

fn header<B>(res: &actix_web::dev::ServiceResponse<B>, name: &str) -> String {
    res.headers()
        .get(name)
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned()
}

fn cookie_of<B>(res: &actix_web::dev::ServiceResponse<B>) -> String {
    let set = header(res, "set-cookie");
    set.split(';').next().unwrap().to_owned()
}

#[actix_web::test]
async fn counts_across_requests_and_costs_nothing_untouched() {
    let store = Arc::new(CountingStore::new(MemoryStore::new()));
    let app = test::init_service(
        App::new()
            .wrap(SessionMiddleware::from_arc(store.clone(), keys()))
            .route("/counter", web::get().to(counter))
            .route("/static", web::get().to(|| async { "static" })),
    )
    .await;
    let res = test::call_service(&app, test::TestRequest::get().uri("/counter").to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    let cookie = cookie_of(&res);
    assert!(cookie.starts_with("session="), "{cookie}");
    assert_eq!(header(&res, "vary"), "Cookie");
    assert_eq!(header(&res, "cache-control"), "private");
    assert_eq!(test::read_body(res).await, "1");

    let req = test::TestRequest::get()
        .uri("/counter")
        .insert_header(("cookie", cookie.clone()))
        .to_request();
    assert_eq!(test::call_and_read_body(&app, req).await, "2");

    let before = store.counts();
    let req = test::TestRequest::get()
        .uri("/static")
        .insert_header(("cookie", cookie))
        .to_request();
    let res = test::call_service(&app, req).await;
    assert!(res.headers().get("set-cookie").is_none());
    assert!(res.headers().get("vary").is_none());
    assert_eq!(
        store.counts(),
        before,
        "an untouched session costs no store operation"
    );
}

#[actix_web::test]
async fn a_handlers_session_error_gets_the_hook_and_saves_nothing() {
    let store = Arc::new(CountingStore::new(MemoryStore::new()));
    let middleware = SessionMiddleware::builder_from_arc(store.clone())
        .keys(keys())
        .on_error(|e| {
            let mut res = http::Response::new(format!("sorry: {e}"));
            *res.status_mut() = http::StatusCode::IM_A_TEAPOT;
            res
        })
        .build()
        .unwrap();
    let app = test::init_service(
        App::new()
            .wrap(middleware)
            .route("/failing", web::get().to(failing)),
    )
    .await;
    let res = test::call_service(&app, test::TestRequest::get().uri("/failing").to_request()).await;
    assert_eq!(res.status(), StatusCode::IM_A_TEAPOT);
    assert!(res.headers().get("set-cookie").is_none());
    assert!(String::from_utf8(test::read_body(res).await.to_vec())
        .unwrap()
        .starts_with("sorry: "));
    assert_eq!(store.counts().writes(), 0);
}

#[actix_web::test]
async fn the_default_error_response_is_503_for_an_outage() {
    let app = test::init_service(
        App::new()
            .wrap(SessionMiddleware::new(MemoryStore::new(), keys()))
            .route("/failing", web::get().to(failing)),
    )
    .await;
    let res = test::call_service(&app, test::TestRequest::get().uri("/failing").to_request()).await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(header(&res, "retry-after"), "1");
}

#[actix_web::test]
async fn without_the_middleware_the_extractor_says_so() {
    let app = test::init_service(
        App::new()
            .route("/counter", web::get().to(counter))
            .route("/req", web::get().to(via_request)),
    )
    .await;
    let res = test::call_service(&app, test::TestRequest::get().uri("/counter").to_request()).await;
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body = test::read_body(res).await;
    assert!(String::from_utf8_lossy(&body).contains("SessionMiddleware"));
    let req = test::TestRequest::get().uri("/req").to_request();
    assert_eq!(test::call_and_read_body(&app, req).await, "none");
}

#[actix_web::test]
async fn session_ext_reads_the_same_session() {
    let app = test::init_service(
        App::new()
            .wrap(SessionMiddleware::new(MemoryStore::new(), keys()))
            .route("/counter", web::get().to(counter))
            .route("/req", web::get().to(via_request)),
    )
    .await;
    let res = test::call_service(&app, test::TestRequest::get().uri("/counter").to_request()).await;
    let cookie = cookie_of(&res);
    let req = test::TestRequest::get()
        .uri("/req")
        .insert_header(("cookie", cookie))
        .to_request();
    assert_eq!(test::call_and_read_body(&app, req).await, "Some(1)");
}

/// A middleware inside ours that fails instead of answering: the request ends as a
/// failed one, so what its handler changed is not saved.
#[actix_web::test]
async fn an_inner_middleware_error_saves_nothing() {
    use actix_web::dev::Service as _;
    let app = test::init_service(
        App::new()
            .wrap_fn(|req, srv| {
                let fut = srv.call(req);
                async move {
                    let res = fut.await?;
                    if res.request().path() == "/count-then-fail" {
                        return Err(actix_web::error::ErrorForbidden("refused"));
                    }
                    Ok(res)
                }
            })
            .wrap(SessionMiddleware::new(MemoryStore::new(), keys()))
            .route("/counter", web::get().to(counter))
            .route("/count-then-fail", web::get().to(counter)),
    )
    .await;
    let res = test::call_service(&app, test::TestRequest::get().uri("/counter").to_request()).await;
    let cookie = cookie_of(&res);
    let req = test::TestRequest::get()
        .uri("/count-then-fail")
        .insert_header(("cookie", cookie.clone()))
        .to_request();
    let err = test::try_call_service(&app, req).await.unwrap_err();
    assert_eq!(err.as_response_error().status_code(), StatusCode::FORBIDDEN);
    let req = test::TestRequest::get()
        .uri("/counter")
        .insert_header(("cookie", cookie))
        .to_request();
    assert_eq!(test::call_and_read_body(&app, req).await, "2");
}
