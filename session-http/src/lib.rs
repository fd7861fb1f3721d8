//! Sessions over HTTP, without a framework: the part of a session middleware that is
//! the same in every framework, written once. `session-tower` (tower and axum) and
//! `session-actix` (actix-web) are thin adapters over it, and an adapter for another
//! framework (poem, salvo, Rocket, ...) is a hundred lines over the same calls; the
//! `session-conformance-http` suite checks that it behaves like the others.
//!
//! What lives here:
//!
//! - [`HttpSessions`] and its [`Builder`]: store, session options, cookie attributes
//!   ([`CookieConfig`]), token transport ([`Transport`]: the cookie, or a header for
//!   API clients), signing keys ([`SigningKeys`], HMAC-SHA256 with rotation), whether
//!   a 5xx saves, and the error response ([`ErrorHook`], [`default_error_response`]:
//!   503 with `Retry-After` for an unreachable store, 500 otherwise). Every setting is
//!   checked once, by [`Builder::build`].
//! - [`Exchange`]: one request. It reads and verifies the token, lends the handler a
//!   lazy [`session_core::Session`] (no store I/O until it is used), and at the end
//!   writes the session and decides what the response carries: `Set-Cookie` (or the
//!   token header), `Cache-Control: private`, `Vary`.
//! - [`RequestHeaders`] and [`ResponseHeaders`]: how an adapter lends its framework's
//!   header maps (the `http` crate's [`http::HeaderMap`] implements both).
//! - [`session_handle!`], [`session_error!`] and [`adapter_constructors!`]: the types
//!   and constructors every adapter defines alike, written once.
//!
//! An adapter, in outline (this one drives `http` types by hand):
//!
//! ```
//! use http::{HeaderMap, StatusCode};
//! use session_core::MemoryStore;
//! use session_http::{Exchange, HttpSessions, SigningKeys};
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let sessions = HttpSessions::new(
//!     std::sync::Arc::new(MemoryStore::new()),
//!     SigningKeys::new([[7u8; 32]])?,
//! );
//!
//! // First request: no cookie; the handler counts.
//! let exchange = Exchange::begin(&sessions, &HeaderMap::new());
//! let session = exchange.session(); // put it in the request, for the handler
//! session.update("n", |n: Option<u64>| n.unwrap_or(0) + 1).await?;
//! let mut headers = HeaderMap::new();
//! if let Err(error_response) = exchange.finish(StatusCode::OK.as_u16(), false, &mut headers).await {
//!     // The store failed: send `error_response` instead.
//! #   panic!("{error_response:?}");
//! }
//! let set_cookie = headers["set-cookie"].to_str().unwrap();
//! let cookie = set_cookie.split(';').next().unwrap();
//!
//! // Second request: the cookie brings the session back.
//! let mut request = HeaderMap::new();
//! request.insert("cookie", cookie.parse().unwrap());
//! let exchange = Exchange::begin(&sessions, &request);
//! assert_eq!(exchange.session().get::<u64>("n").await?, Some(1));
//! exchange.finish(200, false, &mut HeaderMap::new()).await.unwrap();
//! # Ok::<(), session_core::Error>(())
//! # }).unwrap();
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]

mod adapter;
mod builder;
mod cookie_config;
mod error_response;
mod exchange;
mod headers;
mod sessions;
mod signing;
mod transport;

pub use builder::Builder;
pub use cookie_config::{CookieConfig, SameSite};
pub use error_response::{default_error_response, ErrorHook};
pub use exchange::Exchange;
pub use headers::{RequestHeaders, ResponseHeaders};
pub use sessions::HttpSessions;
pub use signing::{SigningKeys, Verified, MIN_SECRET_LEN};
pub use transport::{Transport, MAX_COOKIE_BYTES};

/// Keeps the README's example compiling.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

/// For the macros: the `session_core` they name, whatever the calling crate calls it.
#[doc(hidden)]
pub use session_core as __session_core;
