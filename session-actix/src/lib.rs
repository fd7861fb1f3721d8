//! Sessions for actix-web 4: a [`SessionMiddleware`] that gives every request a lazy
//! [`Session`] extractor, over any `session-core` store (memory, files, SQL, Redis,
//! memcached, the sealed cookie).
//!
//! The same sessions, decisions and settings as `session-tower` (axum and tower): both
//! adapters are thin layers over `session-http`, and both pass the same HTTP suite
//! (`session-conformance-http`). What actix-session users gain: compare-and-set saves
//! (two tabs never lose each other's writes), idle and absolute expiry together, touch
//! throttling, file, SQL and memcached stores, a user's sessions listed and revoked,
//! and a conformance suite for every store.
//!
//! - Set-up: [`SessionMiddleware::new`]`(store, keys)`, [`SessionMiddleware::builder`]
//!   (every setting, checked once by [`build`](session_http::Builder::build)),
//!   [`SessionMiddleware::development`], or `From` an [`HttpSessions`]
//!   (`session_any::SessionConfig::sessions`: the backend from a URL or TOML).
//! - The token is HMAC-SHA256 signed with key rotation ([`SigningKeys`]); the cookie
//!   store's sealed values are sent as they are.
//! - The token travels in the cookie ([`CookieConfig`]) or in a header for API
//!   clients ([`Transport`], [`token_header`](session_http::Builder::token_header)).
//! - Nothing touches the store unless a handler uses the session; the session is
//!   written before the response head goes out; nothing is saved on a 5xx unless
//!   [`save_on_server_error`](session_http::Builder::save_on_server_error) says so.
//! - A store failure is answered by the error hook (by default 503 with
//!   `Retry-After: 1` for an unreachable store, 500 otherwise), logged once.
//!
//! ```no_run
//! use actix_web::{web, App, HttpResponse, HttpServer};
//! use session_actix::{Session, SessionError, SessionMiddleware};
//! use session_any::SessionConfig;
//!
//! async fn login(session: Session) -> Result<HttpResponse, SessionError> {
//!     session.cycle_id(); // a fresh id at every privilege change
//!     session.insert("user", "ada").await?;
//!     Ok(HttpResponse::Ok().body("welcome"))
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! // SESSION_URL=redis://127.0.0.1/ SESSION_SECRET=... (32+ bytes)
//! let sessions = SessionMiddleware::from(SessionConfig::from_env()?.sessions().await?);
//! HttpServer::new(move || {
//!     App::new()
//!         .wrap(sessions.clone())
//!         .route("/login", web::post().to(login))
//! })
//! .bind("127.0.0.1:8080")?
//! .run()
//! .await?;
//! # Ok(()) }
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]

mod error;
mod headers;
mod middleware;
mod session;

pub use error::SessionError;
pub use middleware::{SessionMiddleware, SessionService};
pub use session::{Session, SessionExt};
// The framework-free settings, shared with session-tower.
pub use session_http::{
    default_error_response, CookieConfig, ErrorHook, HttpSessions, SameSite, SigningKeys,
    Transport, MAX_COOKIE_BYTES, MIN_SECRET_LEN,
};

/// Keeps the README's example compiling.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
