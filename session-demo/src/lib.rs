//! The demo app: web.py's session example (log in, log out) plus a per-session counter,
//! over any session backend. What each route does lives in [`pages`], free of any web
//! framework; [`axum_app`] (re-exported as [`app`]) serves it on axum, [`actix_app`]
//! on actix-web, with the same answers.
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
//! not read and is answered 413 ([`pages::note_too_large`]) without touching the
//! session, so nothing reaches the store. axum's own default, 2 MiB (actix-web's is
//! 256 KiB), would let 20 anonymous requests put 40 MB into a server store; 64 KiB
//! stays well inside the stores' default record limit
//! ([`session_core::DEFAULT_MAX_RECORD_SIZE`], 256 KiB). A note under the body limit
//! but over a smaller configured store limit is refused by the store (`TooLarge`): the
//! handler writes it with `persist()`, answers 413 itself, and nothing is written (a
//! refused `persist` is rolled back, so the end of the request does not try again).

use std::time::Duration;

pub mod actix_app;
pub mod axum_app;
pub mod metrics;
pub mod pages;

pub use axum_app::app;

/// How long `GET /login?remember=1` keeps a user logged in without a visit: 30 days.
pub const REMEMBER_FOR: Duration = Duration::from_secs(30 * 24 * 3600);

/// The largest `POST /note` body the demo reads: 64 KiB.
pub const NOTE_BODY_LIMIT: usize = 64 * 1024;

/// The longest user name `GET /login?user=NAME` takes, in characters.
pub const MAX_USER_NAME_LEN: usize = 64;

/// The user `GET /login` binds without `?user=`.
pub const DEFAULT_USER: &str = "demo";

/// Keeps every Rust snippet of docs/MIGRATING.md compiling (and running, where it is
/// not `no_run`): the demo depends on every crate the guide shows.
#[cfg(doctest)]
#[doc = include_str!("../../docs/MIGRATING.md")]
struct MigratingDoctests;
