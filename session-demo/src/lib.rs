//! The demo app: web.py's session example (log in, log out) plus a per-session counter,
//! as an axum router over any session backend.
//!
//! - `GET /` says whether you are logged in, with a link to log in or out;
//! - `GET /login` marks the session logged in (under a fresh id) and redirects to `/`,
//!   whose page then shows a flash message once (`<p class="flash">`). The cookie is a
//!   browser-session cookie (no `Max-Age`, no `Expires`); `GET /login?remember=1` makes
//!   it persistent instead: "remember me" for [`REMEMBER_FOR`] (30 days), a `Max-Age`
//!   the session's own expiry keeps up to date;
//! - `GET /login?user=NAME` binds the session to user NAME (default `demo`; at most
//!   [`MAX_USER_NAME_LEN`] printable characters, else a 400), labelled with the
//!   browser's `User-Agent`;
//! - `GET /devices` lists the logged-in user's live sessions (created, last seen,
//!   label; the current one is `<li class="current">`); 401 when nobody is logged in,
//!   501 on a store without a user index (memcached, cookie);
//! - `GET /logout-everywhere` ends every session of the user, this one included, and
//!   redirects to `/` with a flash saying how many ended;
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
use axum::http::{header::USER_AGENT, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use session_core::{Level, SessionExpiry, Timestamp, UserBinding, MAX_USER_FIELD_LEN};
use session_tower::{Session, SessionError, SessionLayer};

const LOGGED_IN: &str = "logged_in";
const COUNTER: &str = "counter";
const NOTE: &str = "note";

/// How long `GET /login?remember=1` keeps a user logged in without a visit: 30 days.
pub const REMEMBER_FOR: Duration = Duration::from_secs(30 * 24 * 3600);

/// The largest `POST /note` body the demo reads: 64 KiB.
pub const NOTE_BODY_LIMIT: usize = 64 * 1024;

/// The longest user name `GET /login?user=NAME` takes, in characters.
pub const MAX_USER_NAME_LEN: usize = 64;

/// The user `GET /login` binds without `?user=`.
pub const DEFAULT_USER: &str = "demo";

/// Sessions per page when `GET /devices` walks the user's listing.
const DEVICES_PAGE: usize = 100;

/// The most sessions `GET /devices` shows.
const DEVICES_MAX: usize = 1000;

/// The demo's routes behind `layer`.
pub fn app(layer: SessionLayer) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/login", get(login))
        .route("/logout", get(logout))
        .route("/devices", get(devices))
        .route("/logout-everywhere", get(logout_everywhere))
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
        let user = match session.user().await? {
            Some(user) => format!("<p>as <b id=\"user\">{}</b></p>", escape(user.user_id())),
            None => String::new(),
        };
        page(&format!(
            "{flashes}<h1>You are logged in</h1>{user}<a id=\"logout\" href=\"/logout\">Logout</a> \
             <a id=\"devices\" href=\"/devices\">Your devices</a> \
             <a id=\"logout-everywhere\" href=\"/logout-everywhere\">Log out everywhere</a>"
        ))
    } else {
        page(&format!(
            "{flashes}<h1>You are not logged in.</h1><a id=\"login\" href=\"/login\">Login now</a> \
             <a id=\"remember\" href=\"/login?remember=1\">Login and remember me</a>"
        ))
    })
}

/// User-given text, safe inside HTML.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The user `?user=` names, checked: non-empty, at most [`MAX_USER_NAME_LEN`]
/// characters, none of them a control character. The error is the 400's text.
fn user_name(query: &HashMap<String, String>) -> Result<&str, String> {
    let name = query.get("user").map_or(DEFAULT_USER, String::as_str);
    if name.trim().is_empty() {
        return Err("the user name is empty".into());
    }
    if name.chars().count() > MAX_USER_NAME_LEN {
        return Err(format!(
            "the user name is longer than {MAX_USER_NAME_LEN} characters"
        ));
    }
    if name.chars().any(char::is_control) {
        return Err("the user name has a control character in it".into());
    }
    Ok(name)
}

/// The binding of user `name`, labelled with the `User-Agent` (cut to
/// [`MAX_USER_FIELD_LEN`] bytes at a character boundary) if the request has one.
fn binding(name: &str, headers: &HeaderMap) -> session_core::Result<UserBinding> {
    let user = UserBinding::new(name)?;
    let Some(agent) = headers.get(USER_AGENT).and_then(|v| v.to_str().ok()) else {
        return Ok(user);
    };
    let agent = agent.trim();
    if agent.is_empty() {
        return Ok(user);
    }
    let mut end = agent.len().min(MAX_USER_FIELD_LEN);
    while !agent.is_char_boundary(end) {
        end -= 1;
    }
    user.with_label(&agent[..end])
}

async fn login(
    session: Session,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, SessionError> {
    let name = match user_name(&query) {
        Ok(name) => name,
        Err(why) => {
            return Ok((
                StatusCode::BAD_REQUEST,
                page(&format!("<h1>Bad user name</h1><p>{}</p>", escape(&why))),
            )
                .into_response())
        }
    };
    let user = binding(name, &headers)?;
    let remember = matches!(
        query.get("remember").map(String::as_str),
        Some("1" | "on" | "true" | "yes")
    );
    session.insert(LOGGED_IN, true).await?;
    session.bind_user(user).await;
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
    Ok(Redirect::to("/").into_response())
}

/// A time as people read it: `2026-01-01 12:00:00 UTC`.
fn when(t: Timestamp) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    // Past the year 9999 humantime answers an error: show the milliseconds instead.
    match write!(out, "{}", humantime::format_rfc3339_seconds(t.to_system())) {
        Ok(()) => out.replace('T', " ").replace('Z', " UTC"),
        Err(_) => format!("{} ms after the epoch", t.as_millis()),
    }
}

/// The 501 page of a store without a user index.
fn no_index() -> Response {
    (
        StatusCode::NOT_IMPLEMENTED,
        page(
            "<h1>Sessions cannot be listed here</h1><p>This session backend keeps no index \
             of sessions by user (memcached and the cookie store cannot), so it cannot list \
             or end a user's sessions.</p><a href=\"/\">Home</a>",
        ),
    )
        .into_response()
}

async fn devices(session: Session) -> Result<Response, SessionError> {
    if session.user().await?.is_none() {
        return Ok((
            StatusCode::UNAUTHORIZED,
            page("<h1>You are not logged in.</h1><a id=\"login\" href=\"/login\">Login now</a>"),
        )
            .into_response());
    }
    let current = session.storage_key().await?;
    let mut items = String::new();
    let mut shown = 0;
    let mut cursor = None;
    loop {
        let listing = match session.user_sessions(cursor, DEVICES_PAGE).await {
            Ok(listing) => listing,
            Err(session_core::Error::Unsupported(_)) => return Ok(no_index()),
            Err(e) => return Err(e.into()),
        };
        for s in &listing.sessions {
            let (class, mark) = if Some(s.key) == current {
                (" class=\"current\"", " (this device)")
            } else {
                ("", "")
            };
            let label = s.label.as_deref().unwrap_or("unknown device");
            items.push_str(&format!(
                "<li{class}>{}{mark}: created {}, last seen {}</li>",
                escape(label),
                when(s.created_at),
                when(s.accessed_at)
            ));
            shown += 1;
        }
        match listing.next {
            Some(next) if shown < DEVICES_MAX => cursor = Some(next),
            _ => break,
        }
    }
    Ok(page(&format!(
        "<h1>Your devices</h1><ul id=\"devices\">{items}</ul>\
         <a id=\"logout-everywhere\" href=\"/logout-everywhere\">Log out everywhere</a> \
         <a href=\"/\">Home</a>"
    ))
    .into_response())
}

async fn logout_everywhere(session: Session) -> Result<Response, SessionError> {
    let ended = match session.revoke_all_sessions().await {
        Ok(n) => n,
        Err(session_core::Error::Unsupported(_)) => return Ok(no_index()),
        Err(e) => return Err(e.into()),
    };
    let text = if ended == 1 {
        "Logged out everywhere: 1 session ended.".to_owned()
    } else {
        format!("Logged out everywhere: {ended} sessions ended.")
    };
    session.flash(Level::Success, text).await?;
    Ok(Redirect::to("/").into_response())
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
