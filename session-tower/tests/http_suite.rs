//! The HTTP suite every adapter passes (`session-conformance-http`), on an axum server
//! with `SessionLayer`, over memory, files, SQLite, Redis and the cookie store.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code

#[macro_use]
#[path = "../../conformance-http/backends.rs"]
mod backends;

use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Router;
use session_conformance_http::{respond, AbortOnDrop, Adapter, Served};
use session_http::HttpSessions;
use session_tower::{Session, SessionError, SessionLayer};

/// axum under `SessionLayer`: every path goes to the suite's `respond`.
struct Axum;

impl Adapter for Axum {
    async fn serve(&self, sessions: HttpSessions) -> std::io::Result<Served> {
        let app = Router::new()
            .fallback(handle)
            .layer(SessionLayer::from(sessions));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let server = tokio::spawn(async move { axum::serve(listener, app).await });
        Ok(Served::new(addr, AbortOnDrop(server)))
    }
}

async fn handle(req: Request) -> Response {
    let session = req.extensions().get::<Session>().cloned();
    let uri = req.uri();
    match respond(uri.path(), uri.query().unwrap_or(""), session.as_deref()).await {
        Ok(reply) => {
            let status = StatusCode::from_u16(reply.status).unwrap();
            (status, reply.body).into_response()
        }
        Err(e) => SessionError::from(e).into_response(),
    }
}

every_backend!(Axum);
