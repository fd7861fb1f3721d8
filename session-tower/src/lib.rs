//! HTTP for sessions: a tower [`SessionLayer`] that gives every request a lazy
//! [`session_core::Session`], and an axum [`Session`] extractor.
//!
//! - The id cookie is HMAC-SHA256 signed with key rotation ([`SigningKeys`]); stores
//!   that seal their own values (the cookie store) are passed through unsigned.
//! - Nothing touches the store unless a handler uses the session.
//! - The session is written before the response headers leave; nothing is saved on a
//!   5xx response unless [`SessionLayer::save_on_server_error`] says so.
//! - Store failures fail closed (by default 503 with `Retry-After: 1` for an
//!   unreachable or timed-out store, [`Error::is_temporary`](session_core::Error::is_temporary),
//!   500 otherwise; [`SessionLayer::on_error`] to customise), are
//!   logged once through `tracing`, and never panic.
//! - Responses that set the cookie carry `Vary: Cookie`.
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

mod cookie_config;
#[cfg(feature = "axum")]
mod extract;
mod handler_failure;
mod layer;
mod signing;

pub use cookie_config::{CookieConfig, SameSite};
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub use extract::{Session, SessionError};
pub use layer::{
    default_error_response, ErrorHook, SessionLayer, SessionService, MAX_COOKIE_BYTES,
};
pub use signing::{SigningKeys, Verified, MIN_SECRET_LEN};

/// Keeps the README's example compiling.
#[cfg(all(doctest, feature = "axum"))]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
