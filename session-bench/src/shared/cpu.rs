//! The in-process request driver of `session-bench cpu`: a fixed number of requests
//! through an axum router as a tower service, no socket, on the caller's runtime (a
//! current-thread one, so an instruction count sees one thread's work and no
//! scheduler). Both the bench (ours, the bare app) and the peers (tower-sessions'
//! layer) run their router through this one copy, so the two sides do the same work
//! around the layer.
//!
//! Included by both workspaces like `measure.rs` (as a module named `cpu`): std, axum,
//! tower and `measure::BoxResult` only.

use axum::body::Body;
use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::Request;
use axum::Router;
use tower::ServiceExt as _;

use crate::measure::BoxResult;

/// Bodies are tiny; anything bigger is a bug worth failing on.
const BODY_LIMIT: usize = 64 * 1024;

/// One request of `path` with `cookie`; updates `cookie` from `Set-Cookie` as a browser
/// would, and answers the body's length (kept, so nothing is optimised away).
async fn one(app: &Router, path: &str, cookie: &mut Option<String>) -> BoxResult<usize> {
    let mut req = Request::get(path);
    if let Some(c) = cookie.as_deref() {
        req = req.header(COOKIE, c);
    }
    let res = app.clone().oneshot(req.body(Body::empty())?).await?;
    if !res.status().is_success() {
        return Err(format!("GET {path}: {}", res.status()).into());
    }
    for value in res.headers().get_all(SET_COOKIE) {
        if let Some(pair) = value.to_str().ok().and_then(|v| v.split(';').next()) {
            if pair.split_once('=').is_some_and(|(_, v)| !v.is_empty()) {
                *cookie = Some(pair.to_owned());
            }
        }
    }
    let body = axum::body::to_bytes(res.into_body(), BODY_LIMIT).await?;
    Ok(body.len())
}

/// One returning visitor: `GET /counter` without a cookie (which creates the session),
/// then `requests` requests of `path` carrying its cookie. Answers the bytes of every
/// body.
pub async fn drive(app: Router, path: &str, requests: usize) -> BoxResult<usize> {
    let mut cookie = None;
    let mut bytes = one(&app, "/counter", &mut cookie).await?;
    for _ in 0..requests {
        bytes += one(&app, path, &mut cookie).await?;
    }
    Ok(bytes)
}
