//! The demo app: web.py's session example (log in, log out) plus a per-session counter,
//! as an axum router over any session backend.
//!
//! - `GET /` says whether you are logged in, with a link to log in or out;
//! - `GET /login` marks the session logged in (under a fresh id) and redirects to `/`,
//!   whose page then shows a flash message once (`<p class="flash">`). The cookie is a
//!   browser-session cookie (no `Max-Age`, no `Expires`); `GET /login?remember=1` makes
//!   it persistent instead: "remember me" for [`REMEMBER_FOR`] (30 days), a `Max-Age`
//!   the session's own expiry keeps up to date;
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

use std::collections::HashMap;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Query};
use axum::http::StatusCode;
use axum::response::{Html, Redirect};
use axum::routing::get;
use axum::Router;
use session_core::{Level, SessionExpiry};
use session_tower::{Session, SessionError, SessionLayer};

const LOGGED_IN: &str = "logged_in";
const COUNTER: &str = "counter";
const NOTE: &str = "note";

/// How long `GET /login?remember=1` keeps a user logged in without a visit: 30 days.
pub const REMEMBER_FOR: Duration = Duration::from_secs(30 * 24 * 3600);

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
    let logged_in = session.get_or(LOGGED_IN, false).await?;
    let flashes: String = session
        .take_flashes()
        .await?
        .iter()
        .map(|f| format!("<p class=\"flash\">{}</p>", escape(&f.text)))
        .collect();
    Ok(if logged_in {
        page(&format!(
            "{flashes}<h1>You are logged in</h1><a id=\"logout\" href=\"/logout\">Logout</a>"
        ))
    } else {
        page(&format!(
            "{flashes}<h1>You are not logged in.</h1><a id=\"login\" href=\"/login\">Login now</a> \
             <a id=\"remember\" href=\"/login?remember=1\">Login and remember me</a>"
        ))
    })
}

/// The text of a flash message, safe inside HTML.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

async fn login(
    session: Session,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Redirect, SessionError> {
    let remember = matches!(
        query.get("remember").map(String::as_str),
        Some("1" | "on" | "true" | "yes")
    );
    session.insert(LOGGED_IN, true).await?;
    // A new id at the privilege change defeats session fixation.
    session.cycle_id().await;
    if remember {
        session
            .set_expiry(SessionExpiry::remember_for(REMEMBER_FOR)?)
            .await;
        session
            .flash(
                Level::Success,
                "You are logged in, and remembered for 30 days.",
            )
            .await?;
    } else {
        // The layer's expiry on the server, and a cookie that ends with the browser,
        // whatever the layer's cookie default: only "remember me" outlives it.
        let expiry = session.options().expiry;
        session
            .set_expiry(SessionExpiry::browser_session(expiry))
            .await;
        session.flash(Level::Success, "You are logged in.").await?;
    }
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
