//! HTTP for sessions: a tower [`SessionLayer`] that gives every request a lazy
//! [`Session`], the one handle a handler meets: in a plain tower or hyper service it
//! is `req.extensions().get::<session_tower::Session>()`, and with the `axum` feature
//! the same type is an extractor. It dereferences to [`session_core::Session`].
//!
//! - Set-up: [`SessionLayer::new`]`(store, keys)` for the common case,
//!   [`SessionLayer::builder`] for everything else (options, cookie, token header,
//!   error response; every configuration error reported once, by
//!   [`build`](session_http::Builder::build)), [`SessionLayer::development`] for a
//!   throwaway key while developing, or `From` an [`HttpSessions`] (the
//!   framework-free settings `session-actix` is made from too, so one configuration
//!   serves both frameworks).
//! - The session token is HMAC-SHA256 signed with key rotation ([`SigningKeys`]);
//!   stores that seal their own values (the cookie store) are passed through unsigned
//!   and need no keys.
//! - The token travels in the session cookie, or, for API and mobile clients, in a
//!   request and response header ([`Transport`],
//!   [`token_header`](session_http::Builder::token_header)); never both.
//! - The cookie persists (`Max-Age`) or lasts the browser session as the layer's
//!   [`CookieConfig::persistent`] says, unless the session chose for itself
//!   (remember-me, `Session::set_expiry`): the session's choice wins.
//! - Nothing touches the store unless a handler uses the session.
//! - The session is written before the response headers leave; nothing is saved on a
//!   5xx response unless [`save_on_server_error`](session_http::Builder::save_on_server_error) says so.
//! - Store failures fail closed (by default 503 with `Retry-After: 1` for an
//!   unreachable or timed-out store, [`Error::is_temporary`](session_core::Error::is_temporary),
//!   500 otherwise; [`on_error`](session_http::Builder::on_error) to customise), are
//!   logged once through `tracing`, and never panic.
//! - Responses that set the token, or read the session, carry `Vary: Cookie` (or
//!   `Vary: <token header>`).
//!
#![cfg_attr(
    feature = "axum",
    doc = r#"
```no_run
use axum::{routing::get, Router};
use session_core::MemoryStore;
use session_tower::{Session, SessionError, SessionLayer, SigningKeys};

async fn counter(session: Session) -> Result<String, SessionError> {
    let n = session.update("n", |n: Option<u64>| n.unwrap_or(0) + 1).await?;
    Ok(n.to_string())
}

# async fn run() -> Result<(), Box<dyn std::error::Error>> {
let keys = SigningKeys::new([std::env::var("SESSION_SECRET")?])?;
let app: Router = Router::new()
    .route("/counter", get(counter))
    .layer(SessionLayer::new(MemoryStore::new(), keys));
let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
axum::serve(listener, app).await?;
# Ok(()) }
```
"#
)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "axum")]
mod extract;
mod handler_failure;
mod layer;
mod session;

#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub use extract::SessionError;
pub use layer::{SessionLayer, SessionService};
pub use session::Session;
// The framework-free settings, shared with session-actix, under the names this crate
// has always had.
pub use session_http::{
    default_error_response, CookieConfig, ErrorHook, HttpSessions, SameSite, SigningKeys,
    Transport, Verified, MAX_COOKIE_BYTES, MIN_SECRET_LEN,
};

/// Configures a [`SessionLayer`]: session-http's [`Builder`](session_http::Builder)
/// with the layer as its product. Every setting is checked once, by `build`.
pub type SessionLayerBuilder = session_http::Builder<SessionLayer>;

/// Keeps the README's example compiling.
#[cfg(all(doctest, feature = "axum"))]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
