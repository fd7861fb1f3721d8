//! The demo app: web.py's session example (log in, log out) plus a per-session counter,
//! as an axum router over any session backend.
//!
//! - `GET /` says whether you are logged in, with a link to log in or out;
//! - `GET /login` marks the session logged in (under a fresh id) and redirects to `/`;
//! - `GET /logout` ends the session and redirects to `/`;
//! - `GET /counter` increments a per-session counter and returns it as plain text;
//! - `POST /note` keeps the request body (text) in the session; `GET /note` returns it.
//!
//! `POST /note` takes at most [`NOTE_BODY_LIMIT`] (64 KiB) of body; a longer one is
//! answered 413 before the handler runs, so nothing reaches the store. axum's own
//! default, 2 MiB, would let 20 anonymous requests put 40 MB into a server store; 64 KiB
//! stays well inside the stores' default record limit
//! ([`session_core::DEFAULT_MAX_RECORD_SIZE`], 256 KiB). A note under the body limit
//! but over a smaller configured store limit is refused by the store (`TooLarge`): the
//! handler writes it with `persist()`, answers 413 itself, and nothing is written (a
//! refused `persist` is rolled back, so the end of the request does not try again).

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::{Html, Redirect};
use axum::routing::get;
use axum::Router;
use session_tower::{Session, SessionError, SessionLayer};

const LOGGED_IN: &str = "logged_in";
const COUNTER: &str = "counter";
const NOTE: &str = "note";

/// The largest `POST /note` body the demo reads: 64 KiB.
pub const NOTE_BODY_LIMIT: usize = 64 * 1024;

/// The demo's routes behind `layer`.
pub fn app(layer: SessionLayer) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/login", get(login))
        .route("/logout", get(logout))
        .route("/counter", get(counter))
        .route(
            "/note",
            get(read_note)
                .post(write_note)
                .layer(DefaultBodyLimit::max(NOTE_BODY_LIMIT)),
        )
        .layer(layer)
}

fn page(body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>session demo</title></head>\
         <body>{body}</body></html>\n"
    ))
}

async fn index(session: Session) -> Result<Html<String>, SessionError> {
    let logged_in = session.get::<bool>(LOGGED_IN).await?.unwrap_or(false);
    Ok(if logged_in {
        page("<h1>You are logged in</h1><a id=\"logout\" href=\"/logout\">Logout</a>")
    } else {
        page("<h1>You are not logged in.</h1><a id=\"login\" href=\"/login\">Login now</a>")
    })
}

async fn login(session: Session) -> Result<Redirect, SessionError> {
    session.insert(LOGGED_IN, true).await?;
    // A new id at the privilege change defeats session fixation.
    session.cycle_id().await?;
    Ok(Redirect::to("/"))
}

async fn logout(session: Session) -> Result<Redirect, SessionError> {
    session.delete().await?;
    Ok(Redirect::to("/"))
}

async fn counter(session: Session) -> Result<String, SessionError> {
    let n = session
        .update(COUNTER, |n: Option<u64>| n.unwrap_or(0) + 1)
        .await?;
    Ok(n.to_string())
}

/// Keeps client-sent text in the session. It is written now (`persist`), so a note
/// larger than the store takes can be answered here with a 413 rather than the layer's
/// error response; nothing of it is written, now or at the end of the request.
async fn write_note(session: Session, text: String) -> Result<(StatusCode, String), SessionError> {
    let len = text.len();
    session.insert(NOTE, text).await?;
    match session.persist().await {
        Ok(()) => Ok((StatusCode::OK, format!("saved {len} bytes"))),
        Err(session_core::Error::TooLarge { limit, .. }) => Ok((
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("a {len}-byte note does not fit in this session store ({limit} bytes)"),
        )),
        Err(e) => Err(e.into()),
    }
}

async fn read_note(session: Session) -> Result<String, SessionError> {
    Ok(session.get::<String>(NOTE).await?.unwrap_or_default())
}
