//! [`Exchange`]: one request's session, from the token it brought to the headers its
//! response must carry. Everything an adapter would otherwise decide for itself lives
//! here, so every framework behaves the same.

use http::header::{CACHE_CONTROL, SET_COOKIE, VARY};
use http::{HeaderValue, Response};
use session_core::{Error, Session, SessionDriver};

use crate::transport::Incoming;
use crate::{HttpSessions, RequestHeaders, ResponseHeaders};

/// One request's session, driven by an adapter:
///
/// 1. [`Exchange::begin`] reads and verifies the token from the request headers (no
///    store I/O: the session loads when a handler first uses it);
/// 2. the adapter hands [`Exchange::session`] to the handler (in the request's
///    extensions, wrapped in its own extractor type);
/// 3. after the handler answered, a handler's session error becomes the configured
///    error response ([`HttpSessions::error_response`]), and
///    [`Exchange::finish`] writes the session and puts the token (`Set-Cookie`, or
///    the token header), `Cache-Control: private` and `Vary` on the response, before
///    its head goes out. If the store fails there, `finish` returns the error response
///    to send instead.
///
/// ```
/// use http::{HeaderMap, StatusCode};
/// use session_core::MemoryStore;
/// use session_http::{Exchange, HttpSessions, SigningKeys};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let sessions = HttpSessions::builder(MemoryStore::new())
///     .keys(SigningKeys::new([[7u8; 32]])?)
///     .build()?;
///
/// // A request without a cookie, whose handler writes to the session.
/// let exchange = Exchange::begin(&sessions, &HeaderMap::new());
/// exchange.session().insert("user", "ada").await?;
/// let mut response_headers = HeaderMap::new();
/// let sent = exchange.finish(StatusCode::OK.as_u16(), false, &mut response_headers).await;
/// assert!(sent.is_ok());
/// assert!(response_headers["set-cookie"].to_str().unwrap().starts_with("session="));
/// assert_eq!(response_headers["vary"], "Cookie");
/// # Ok::<(), session_core::Error>(())
/// # }).unwrap();
/// ```
#[must_use = "an exchange must be finished, or the session is never written"]
pub struct Exchange {
    sessions: HttpSessions,
    driver: SessionDriver,
    incoming: Incoming,
}

impl std::fmt::Debug for Exchange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Exchange")
            .field("token", &self.incoming.value.is_some())
            .field("rotated", &self.incoming.rotated)
            .field("invalid", &self.incoming.invalid)
            .finish_non_exhaustive()
    }
}

impl Exchange {
    /// Starts a request: the session token it carries (from the cookie or the token
    /// header, whichever `sessions` uses), verified against the signing keys. A token
    /// that fails the check counts as none, and the response will expire it.
    pub fn begin(sessions: &HttpSessions, request: &impl RequestHeaders) -> Exchange {
        let shared = &sessions.shared;
        let incoming = shared.wire.read(request);
        let driver = SessionDriver::new(
            shared.store.clone(),
            shared.options.clone(),
            incoming.value.clone(),
        );
        Exchange {
            sessions: sessions.clone(),
            driver,
            incoming,
        }
    }

    /// The handle for this request's handlers. Every call returns a handle on the
    /// same state; none of them can end the request.
    pub fn session(&self) -> Session {
        self.driver.session()
    }

    /// The configured error response for `error`, logged once: what a handler's
    /// failed session operation is answered with (see [`HttpSessions::error_response`]).
    pub fn error_response(&self, error: &Error) -> Response<String> {
        self.sessions.error_response(error)
    }

    /// Ends the request whose response has `status` and `headers`: saves (or
    /// touches, or deletes) the session as the handler left it, then adds the token
    /// header the outcome calls for, `Cache-Control: private` when a token is sent and
    /// the handler set no caching policy, and `Vary` on the token's header whenever
    /// the session was read or a token sent.
    ///
    /// `handler_failed` says the response is the error response for a handler's
    /// session error. A failed request (that, or a 5xx `status`) writes nothing more
    /// unless the settings say to save on server errors, but a delete or a
    /// `persist` that already happened still reaches the client.
    ///
    /// `Err` carries the configured error response when the store failed at this
    /// point: the adapter sends it instead of the handler's response.
    pub async fn finish(
        self,
        status: u16,
        handler_failed: bool,
        headers: &mut impl ResponseHeaders,
    ) -> Result<(), Response<String>> {
        let shared = &self.sessions.shared;
        let failed = handler_failed || (500..600).contains(&status);
        let save = !failed || shared.save_on_server_error;
        if save && self.incoming.rotated {
            // Loads the session so a re-signed cookie keeps its Max-Age and a re-signed
            // token is only sent for a live session (only during a key rotation, once
            // per client). If the store is down, re-signing can wait: the old signature
            // stays valid.
            if let Err(e) = self.driver.expires_at().await {
                tracing::warn!(error = %e, "could not load the session to re-sign its token");
            }
        }
        let used = self.driver.is_loaded().await;
        let outcome = if save {
            self.driver.finish().await
        } else {
            // Write nothing more, but a delete or persist that already happened must
            // still reach the client.
            Ok(self.driver.finish_unsaved().await)
        };
        let now = shared.options.clock.now();
        let token = outcome
            .and_then(|o| shared.wire.response_header(&o, &self.incoming, now))
            .map_err(|e| self.sessions.error_response(&e))?;
        let sent = token.is_some();
        if let Some((name, value)) = token {
            if name == SET_COOKIE {
                headers.append_header(&name, &value);
            } else {
                // One token per response, whatever the handler put there.
                headers.insert_header(&name, &value);
            }
            // A shared cache must never hand one client's token to another.
            if !headers.contains_header(&CACHE_CONTROL) {
                headers.insert_header(&CACHE_CONTROL, &HeaderValue::from_static("private"));
            }
        }
        if sent || used {
            // The response depends on the token whenever the session was read.
            add_vary(headers, &shared.wire.vary());
        }
        Ok(())
    }
}

/// Adds `name` (`Cookie`, or the token header) to `Vary` unless it is there already.
fn add_vary(headers: &mut impl ResponseHeaders, name: &HeaderValue) {
    let Ok(text) = name.to_str() else { return };
    let already = headers
        .header_values(&VARY)
        .filter_map(|v| std::str::from_utf8(v).ok())
        .flat_map(|v| v.split(','))
        .any(|v| v.trim().eq_ignore_ascii_case(text) || v.trim() == "*");
    if !already {
        headers.append_header(&VARY, name);
    }
}
