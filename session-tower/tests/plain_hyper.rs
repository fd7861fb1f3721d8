//! The layer in a plain tower/hyper service, no axum: the session comes from the
//! request extensions, as the same `session_tower::Session` an axum handler extracts.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code

use std::convert::Infallible;

use http::{header, Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper_util::rt::{TokioExecutor, TokioIo};
use session_core::MemoryStore;
use session_tower::{SessionLayer, SigningKeys};
use tower::{service_fn, ServiceBuilder};

async fn handler(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let session = req
        .extensions()
        .get::<session_tower::Session>()
        .cloned()
        .unwrap();
    let n = session
        .update("visits", |n: Option<u64>| n.unwrap_or(0) + 1)
        .await
        .unwrap();
    Ok(Response::new(Full::from(n.to_string())))
}

#[tokio::test]
async fn works_in_a_plain_hyper_server() {
    let keys = SigningKeys::new([[7u8; 32]]).unwrap();
    let svc = ServiceBuilder::new()
        .layer(SessionLayer::new(MemoryStore::new(), keys))
        .service(service_fn(handler));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let svc = hyper_util::service::TowerToHyperService::new(svc.clone());
            tokio::spawn(async move {
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });

    let mut cookie: Option<String> = None;
    for expected in 1..=3 {
        let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .unwrap();
        tokio::spawn(conn);
        let mut req = Request::get("/").header(header::HOST, "localhost");
        if let Some(c) = &cookie {
            req = req.header(header::COOKIE, c);
        }
        let res = sender
            .send_request(req.body(Full::<Bytes>::default()).unwrap())
            .await
            .unwrap();
        if let Some(set) = res.headers().get(header::SET_COOKIE) {
            cookie = Some(set.to_str().unwrap().split(';').next().unwrap().to_owned());
        }
        let body = res.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(body, expected.to_string());
    }
}

/// The layer inserts one handle type, the one an axum handler extracts; not a second
/// `session_core::Session` beside it.
#[tokio::test]
async fn the_extension_is_the_one_session_type() {
    use tower::{Layer, ServiceExt};
    let keys = SigningKeys::new([[7u8; 32]]).unwrap();
    let svc = SessionLayer::new(MemoryStore::new(), keys).layer(service_fn(
        |req: Request<String>| async move {
            let ext = req.extensions();
            let seen = (
                ext.get::<session_tower::Session>().is_some(),
                ext.get::<session_core::Session>().is_some(),
            );
            Ok::<_, Infallible>(Response::new(format!("{seen:?}")))
        },
    ));
    let res = svc.oneshot(Request::new(String::new())).await.unwrap();
    assert_eq!(res.into_body(), "(true, false)");
}
