//! The HTTP server processes' shared part: session-bench's `serve` (the demo app and
//! the bare app) and the peers' `serve` (tower-sessions' layer) answer the same page
//! and talk to the load generator the same way.
//!
//! Included by both workspaces like `measure.rs` (as a module named `serve`, next to
//! `measure`): std, tokio and axum only; the actix-web servers' half is
//! `serve_actix.rs`.

use std::io::{Read as _, Write as _};

use axum::response::Html;
use axum::Router;

use crate::measure::BoxResult;

/// The login page of `GET /`, as session-demo renders it (the bare app always shows
/// the logged-out one).
pub fn login_page(logged_in: bool) -> Html<String> {
    Html(login_html(logged_in))
}

/// The HTML of [`login_page`], for the actix-web servers (`serve_actix.rs`), which
/// answer the same bytes without axum's wrapper.
pub fn login_html(logged_in: bool) -> String {
    let body = if logged_in {
        "<h1>You are logged in</h1><a id=\"logout\" href=\"/logout\">Logout</a>"
    } else {
        "<h1>You are not logged in.</h1><a id=\"login\" href=\"/login\">Login now</a>"
    };
    format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>session demo</title></head>\
         <body>{body}</body></html>\n"
    )
}

/// Serves `app` on a free loopback port: prints `LISTENING <addr>` (the line the
/// bench waits for) and serves until standard input closes (the bench dropping its
/// end is the stop signal, so no server outlives a crashed bench).
pub async fn until_stdin_closes(app: Router) -> BoxResult<()> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    println!("LISTENING {}", listener.local_addr()?);
    std::io::stdout().flush()?;
    let stop = async {
        let _ = tokio::task::spawn_blocking(|| {
            let mut sink = Vec::new();
            let _ = std::io::stdin().read_to_end(&mut sink);
        })
        .await;
    };
    axum::serve(listener, app)
        .with_graceful_shutdown(stop)
        .await?;
    Ok(())
}
