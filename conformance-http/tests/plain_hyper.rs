//! A third-party adapter, in full: plain hyper, driving session-http's `Exchange` by
//! hand, runs the whole HTTP suite on the memory store.

use std::convert::Infallible;

use http::{Request, Response};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use session_conformance_http::{respond, AbortOnDrop, Adapter, Served};
use session_http::{Exchange, HttpSessions};

/// The adapter under test: start a server for the given sessions on 127.0.0.1:0.
struct PlainHyper;

impl Adapter for PlainHyper {
    async fn serve(&self, sessions: HttpSessions) -> std::io::Result<Served> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let server = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let sessions = sessions.clone();
                let service = service_fn(move |req| handle(sessions.clone(), req));
                let connection =
                    http1::Builder::new().serve_connection(TokioIo::new(stream), service);
                tokio::spawn(connection);
            }
        });
        // Dropping the guard stops the server.
        Ok(Served::new(addr, AbortOnDrop(server)))
    }
}

/// The middleware and the app in one: the suite's routes (`respond`) between the
/// exchange's begin and finish.
async fn handle(
    sessions: HttpSessions,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let exchange = Exchange::begin(&sessions, req.headers());
    let session = exchange.session();
    let uri = req.uri();
    let (response, handler_failed) =
        match respond(uri.path(), uri.query().unwrap_or(""), Some(&session)).await {
            Ok(reply) => {
                let mut res = Response::new(reply.body);
                *res.status_mut() = http::StatusCode::from_u16(reply.status)
                    .unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
                (res, false)
            }
            // A failed session call: the configured error response.
            Err(e) => (exchange.error_response(&e), true),
        };
    let (mut parts, body) = response.into_parts();
    let response = match exchange
        .finish(parts.status.as_u16(), handler_failed, &mut parts.headers)
        .await
    {
        Ok(()) => Response::from_parts(parts, body),
        // The store failed at the end of the request.
        Err(error_response) => error_response,
    };
    Ok(response.map(|body| Full::new(Bytes::from(body))))
}

session_conformance_http::http_suite!(memory, PlainHyper, |clock| async move {
    session_core::MemoryStore::new()
        .with_settings(session_core::StoreSettings::new().with_clock(clock))
});
