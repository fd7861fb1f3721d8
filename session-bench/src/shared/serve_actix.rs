//! The actix-web servers' half of `serve.rs`: session-bench's `serve --framework actix`
//! (the bare actix app, ours on actix) and the peers' `serve --stack actix-session`
//! print the same `LISTENING <addr>` line, answer the same page, and stop the same way
//! (when standard input closes) as the axum servers.
//!
//! Included by both workspaces (as a module named `serve_actix`, next to `serve` and
//! `measure`): std and actix-web only, so each side builds it against its own
//! actix-web 4.

use std::io::{Read as _, Write as _};
use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::HttpResponse;

use crate::measure::BoxResult;

/// Worker threads of every actix server: the axum servers' tokio runtimes have two
/// worker threads, and actix-web runs one single-threaded runtime per worker.
pub const WORKERS: usize = 2;

/// `GET /` answered with the login page (`text/html; charset=utf-8`, as axum's `Html`).
pub fn login_response(logged_in: bool) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(crate::serve::login_html(logged_in))
}

/// Serves the app that `$factory` (what `HttpServer::new` takes) builds per worker with
/// [`WORKERS`] workers on a free loopback port: prints `LISTENING <addr>` and serves
/// until standard input closes. An async block of `BoxResult<()>`; a macro because
/// `HttpServer::new`'s bounds name `actix-http`'s request type, which neither side
/// depends on.
macro_rules! serve {
    ($factory:expr) => {
        async {
            let listener = $crate::serve_actix::listen()?;
            let server = actix_web::HttpServer::new($factory)
                .workers($crate::serve_actix::WORKERS)
                .disable_signals()
                .shutdown_timeout(5)
                .listen(listener)?
                .run();
            $crate::serve_actix::until_stdin_closes(server).await
        }
    };
}
pub(crate) use serve;

/// A free loopback port, announced: prints `LISTENING <addr>` (the line the bench
/// waits for).
pub fn listen() -> BoxResult<TcpListener> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    println!("LISTENING {}", listener.local_addr()?);
    std::io::stdout().flush()?;
    Ok(listener)
}

/// Runs `server` until standard input closes (the bench dropping its end is the stop
/// signal, so no server outlives a crashed bench), then stops it gracefully. Built
/// with `.disable_signals()` ([`serve!`]): the stop is ours to give.
pub async fn until_stdin_closes(server: Server) -> BoxResult<()> {
    let handle = server.handle();
    actix_web::rt::spawn(async move {
        let _ = actix_web::rt::task::spawn_blocking(|| {
            let mut sink = Vec::new();
            let _ = std::io::stdin().read_to_end(&mut sink);
        })
        .await;
        handle.stop(true).await;
    });
    server.await?;
    Ok(())
}
