//! What each route does, with no web framework in sight: functions over the request's
//! [`session_core::Session`] and plain inputs (the query as a map, the `User-Agent`,
//! the body's bytes) that answer a [`Reply`]. The axum and actix routers only parse
//! those inputs, call one function here and turn its `Reply` into their own response,
//! so both frameworks serve the same pages by construction.
//!
//! A session error is returned as is (`Err(session_core::Error)`): each framework's
//! adapter turns it into its error response (a 503 for an unreachable store).

use std::collections::HashMap;

use session_core::{Level, Session, SessionExpiry, Timestamp, UserBinding, MAX_USER_FIELD_LEN};

use crate::{DEFAULT_USER, MAX_USER_NAME_LEN, REMEMBER_FOR};

const LOGGED_IN: &str = "logged_in";
const COUNTER: &str = "counter";
const NOTE: &str = "note";

/// Sessions per page when `GET /devices` walks the user's listing.
const DEVICES_PAGE: usize = 100;

/// The most sessions `GET /devices` shows.
const DEVICES_MAX: usize = 1000;

/// The `Content-Type` of the demo's HTML pages.
pub const HTML: &str = "text/html; charset=utf-8";

/// The `Content-Type` of the demo's plain-text answers.
pub const TEXT: &str = "text/plain; charset=utf-8";

/// A route's answer, independent of the framework that sends it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    /// The HTTP status code.
    pub status: u16,
    /// The `Content-Type`, or none for a redirect (which has no body).
    pub content_type: Option<&'static str>,
    /// The body.
    pub body: String,
    /// The `Location` of a redirect.
    pub location: Option<&'static str>,
}

impl Reply {
    /// An HTML page with `status`: `body` inside the demo's page frame.
    pub fn html(status: u16, body: &str) -> Self {
        Reply {
            status,
            content_type: Some(HTML),
            body: format!(
                "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>session demo</title></head>\
                 <body>{body}</body></html>\n"
            ),
            location: None,
        }
    }

    /// Plain text with `status`.
    pub fn text(status: u16, body: impl Into<String>) -> Self {
        Reply {
            status,
            content_type: Some(TEXT),
            body: body.into(),
            location: None,
        }
    }

    /// A `303 See Other` to `location`, with no body: what a browser follows with a
    /// `GET` after a login or a logout.
    pub fn see_other(location: &'static str) -> Self {
        Reply {
            status: 303,
            content_type: None,
            body: String::new(),
            location: Some(location),
        }
    }
}

/// User-given text, safe inside HTML.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `GET /`: logged in or not, with the flash messages waiting for this page.
pub async fn index(session: &Session) -> session_core::Result<Reply> {
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
        Reply::html(
            200,
            &format!(
                "{flashes}<h1>You are logged in</h1>{user}<a id=\"logout\" href=\"/logout\">Logout</a> \
                 <a id=\"devices\" href=\"/devices\">Your devices</a> \
                 <a id=\"logout-everywhere\" href=\"/logout-everywhere\">Log out everywhere</a>"
            ),
        )
    } else {
        Reply::html(
            200,
            &format!(
                "{flashes}<h1>You are not logged in.</h1><a id=\"login\" href=\"/login\">Login now</a> \
                 <a id=\"remember\" href=\"/login?remember=1\">Login and remember me</a>"
            ),
        )
    })
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
fn binding(name: &str, agent: Option<&str>) -> session_core::Result<UserBinding> {
    let user = UserBinding::new(name)?;
    let Some(agent) = agent.map(str::trim).filter(|a| !a.is_empty()) else {
        return Ok(user);
    };
    let mut end = agent.len().min(MAX_USER_FIELD_LEN);
    while !agent.is_char_boundary(end) {
        end -= 1;
    }
    user.with_label(&agent[..end])
}

/// `GET /login`: logs in under a fresh id as `?user=` (labelled with `agent`, the
/// request's `User-Agent` if it is text), for the browser's life or, with
/// `?remember=1`, for [`REMEMBER_FOR`]; a bad user name is a 400.
pub async fn login(
    session: &Session,
    query: &HashMap<String, String>,
    agent: Option<&str>,
) -> session_core::Result<Reply> {
    let name = match user_name(query) {
        Ok(name) => name,
        Err(why) => {
            return Ok(Reply::html(
                400,
                &format!("<h1>Bad user name</h1><p>{}</p>", escape(&why)),
            ))
        }
    };
    let user = binding(name, agent)?;
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
    Ok(Reply::see_other("/"))
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
fn no_index() -> Reply {
    Reply::html(
        501,
        "<h1>Sessions cannot be listed here</h1><p>This session backend keeps no index \
         of sessions by user (memcached and the cookie store cannot), so it cannot list \
         or end a user's sessions.</p><a href=\"/\">Home</a>",
    )
}

/// `GET /devices`: the logged-in user's live sessions, this one marked; 401 when
/// nobody is logged in, 501 on a store without a user index.
pub async fn devices(session: &Session) -> session_core::Result<Reply> {
    if session.user().await?.is_none() {
        return Ok(Reply::html(
            401,
            "<h1>You are not logged in.</h1><a id=\"login\" href=\"/login\">Login now</a>",
        ));
    }
    let current = session.storage_key().await?;
    let mut items = String::new();
    let mut shown = 0;
    let mut cursor = None;
    loop {
        let listing = match session.user_sessions(cursor, DEVICES_PAGE).await {
            Ok(listing) => listing,
            Err(session_core::Error::Unsupported(_)) => return Ok(no_index()),
            Err(e) => return Err(e),
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
    Ok(Reply::html(
        200,
        &format!(
            "<h1>Your devices</h1><ul id=\"devices\">{items}</ul>\
             <a id=\"logout-everywhere\" href=\"/logout-everywhere\">Log out everywhere</a> \
             <a href=\"/\">Home</a>"
        ),
    ))
}

/// `GET /logout-everywhere`: ends every session of the user, this one included, and
/// redirects home with a flash saying how many ended; 501 without a user index.
pub async fn logout_everywhere(session: &Session) -> session_core::Result<Reply> {
    let ended = match session.revoke_all_sessions().await {
        Ok(n) => n,
        Err(session_core::Error::Unsupported(_)) => return Ok(no_index()),
        Err(e) => return Err(e),
    };
    let text = if ended == 1 {
        "Logged out everywhere: 1 session ended.".to_owned()
    } else {
        format!("Logged out everywhere: {ended} sessions ended.")
    };
    session.flash(Level::Success, text).await?;
    Ok(Reply::see_other("/"))
}

/// `GET /logout`: ends the session and redirects home.
pub async fn logout(session: &Session) -> session_core::Result<Reply> {
    session.delete().await?;
    Ok(Reply::see_other("/"))
}

/// `GET /counter`: the session's counter, one more than last time.
pub async fn counter(session: &Session) -> session_core::Result<Reply> {
    let n = session
        .update(COUNTER, |n: Option<u64>| n.unwrap_or(0) + 1)
        .await?;
    Ok(Reply::text(200, n.to_string()))
}

/// `POST /note`: keeps `body` (UTF-8 text, else a 400; the router has already refused
/// one over [`NOTE_BODY_LIMIT`](crate::NOTE_BODY_LIMIT)) in the session. It is written
/// now (`persist`), so a note larger than the store takes is answered here with a 413
/// rather than the adapter's error response; nothing of it is written, now or at the
/// end of the request.
pub async fn write_note(session: &Session, body: &[u8]) -> session_core::Result<Reply> {
    let Ok(text) = std::str::from_utf8(body) else {
        return Ok(Reply::text(400, "the note is not UTF-8 text"));
    };
    let len = text.len();
    session.insert(NOTE, text).await?;
    match session.persist().await {
        Ok(()) => Ok(Reply::text(200, format!("saved {len} bytes"))),
        Err(session_core::Error::TooLarge { limit, .. }) => Ok(Reply::text(
            413,
            format!("a {len}-byte note does not fit in this session store ({limit} bytes)"),
        )),
        Err(e) => Err(e),
    }
}

/// `POST /note` with a body over [`NOTE_BODY_LIMIT`](crate::NOTE_BODY_LIMIT), which
/// the router refused to read: nothing of it reached the session.
pub fn note_too_large() -> Reply {
    Reply::text(
        413,
        format!("a note is at most {} KiB", crate::NOTE_BODY_LIMIT / 1024),
    )
}

/// `GET /note`: the note kept in the session, empty if there is none.
pub async fn read_note(session: &Session) -> session_core::Result<Reply> {
    Ok(Reply::text(
        200,
        session.get::<String>(NOTE).await?.unwrap_or_default(),
    ))
}
