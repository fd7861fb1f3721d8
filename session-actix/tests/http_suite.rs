//! The HTTP suite every adapter passes (`session-conformance-http`), on an actix-web
//! server with `SessionMiddleware`, over memory, files, SQLite, Redis and the cookie
//! store.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code

#[macro_use]
#[path = "../../conformance-http/backends.rs"]
mod backends;

use actix_web::dev::ServerHandle;
use actix_web::http::StatusCode;
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use session_actix::{HttpSessions, SessionError, SessionExt, SessionMiddleware};
use session_conformance_http::{respond, Adapter, Served};

/// actix-web under `SessionMiddleware`: every path goes to the suite's `respond`. The
/// server runs on its own actix system, in a thread of its own (one worker, no signal
/// handling), and stops when the suite drops it.
struct Actix;

impl Adapter for Actix {
    async fn serve(&self, sessions: HttpSessions) -> std::io::Result<Served> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let (started, handle) = tokio::sync::oneshot::channel();
        let thread = std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let middleware = SessionMiddleware::from(sessions);
                let server = HttpServer::new(move || {
                    App::new()
                        .wrap(middleware.clone())
                        .default_service(web::to(handle_request))
                })
                .workers(1)
                .disable_signals()
                .listen(listener)?
                .run();
                let _ = started.send(server.handle());
                server.await
            })
        });
        let handle = handle.await.map_err(std::io::Error::other)?;
        Ok(Served::new(
            addr,
            Stop {
                handle,
                thread: Some(thread),
            },
        ))
    }
}

/// Stops the server and waits for its thread.
struct Stop {
    handle: ServerHandle,
    thread: Option<std::thread::JoinHandle<std::io::Result<()>>>,
}

impl Drop for Stop {
    fn drop(&mut self) {
        // The stop command is sent at once; its future only waits for the completion,
        // which joining the thread does.
        drop(self.handle.stop(false));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn handle_request(req: HttpRequest) -> Result<HttpResponse, SessionError> {
    let session = req.get_session();
    let reply = respond(req.path(), req.query_string(), session.as_deref()).await?;
    Ok(HttpResponse::build(StatusCode::from_u16(reply.status).unwrap()).body(reply.body))
}

every_backend!(Actix);
