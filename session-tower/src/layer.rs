//! The tower `Layer` and `Service` that give every request a lazy session and turn the
//! session's outcome into `Set-Cookie` before the response leaves.

use std::sync::Arc;
use std::task::{Context, Poll};

use cookie::{Cookie, SameSite as CookieSameSite};
use futures::future::BoxFuture;
use http::header::{CACHE_CONTROL, COOKIE, RETRY_AFTER, SET_COOKIE, VARY};
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode};
use session_core::{
    CookieChange, Error, Outcome, Result, SessionDriver, SessionOptions, SessionStore, Timestamp,
};
use tower_layer::Layer;
use tower_service::Service;

use crate::handler_failure::HandlerFailure;
use crate::signing::{SigningKeys, Verified};
use crate::{CookieConfig, SameSite};

/// The most a browser keeps for one cookie, name and attributes included (RFC 6265
/// section 6.1 minimum, and what every major browser enforces).
pub const MAX_COOKIE_BYTES: usize = 4096;

/// Turns a store error into the response the client gets. Sessions fail closed: the
/// default, [`default_error_response`], answers an empty `503 Service Unavailable` with
/// `Retry-After: 1` for a temporary backend error ([`Error::is_temporary`]: the store
/// is unreachable or timed out, the client may retry, a load balancer sees an outage)
/// and an empty `500 Internal Server Error` for anything else, other backend errors
/// (a missing table, an unexpected reply, a disk error) included.
pub type ErrorHook = Arc<dyn Fn(&Error) -> Response<String> + Send + Sync>;

/// A tower layer that attaches a [`Session`](session_core::Session) to every request.
///
/// Handlers find the session in the request extensions (`session_core::Session`) or,
/// with axum, through the [`Session`](crate::Session) extractor. The layer keeps the
/// request's [`SessionDriver`]: only it ends the request. The session is saved
/// (or touched, or deleted) before the response headers are returned, so the cookie is
/// always in the response that follows a change.
#[derive(Clone)]
pub struct SessionLayer {
    shared: Arc<Shared>,
}

struct Shared {
    store: Arc<dyn SessionStore>,
    options: Arc<SessionOptions>,
    cookie: CookieConfig,
    /// `None` for stores that seal their own values.
    keys: Option<SigningKeys>,
    save_on_server_error: bool,
    on_error: ErrorHook,
}

impl std::fmt::Debug for SessionLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionLayer")
            .field("cookie", &self.shared.cookie)
            .field("options", &self.shared.options)
            .field("signed", &self.shared.keys.is_some())
            .finish_non_exhaustive()
    }
}

/// The response [`SessionLayer`] sends when the store fails, unless
/// [`SessionLayer::on_error`] sets another: an empty 503 with `Retry-After: 1` when the
/// store is unreachable or timed out (a backend error whose kind is temporary,
/// [`Error::is_temporary`]: the client may retry, and a load balancer or monitor sees an
/// outage, not a bug), an empty 500 for anything else, a backend error that a retry
/// does not cure included. A custom hook can fall back to it.
///
/// ```
/// use http::StatusCode;
/// use session_core::{BackendError, BackendErrorKind, Error, Operation};
/// use session_tower::default_error_response;
///
/// let refused = BackendError::new(BackendErrorKind::Unavailable, "connection refused")
///     .with_store("redis")
///     .with_operation(Operation::Load);
/// let outage = default_error_response(&Error::from(refused));
/// assert_eq!(outage.status(), StatusCode::SERVICE_UNAVAILABLE);
/// assert_eq!(outage.headers()["retry-after"], "1");
///
/// let timed_out = BackendError::timed_out(std::time::Duration::from_secs(2));
/// let outage = default_error_response(&Error::from(timed_out));
/// assert_eq!(outage.status(), StatusCode::SERVICE_UNAVAILABLE);
///
/// // The server answered, with an error a retry does not cure: a bug or a broken
/// // deployment, not an outage.
/// let missing = BackendError::new(BackendErrorKind::Server, "no such table: sessions");
/// let broken = default_error_response(&Error::from(missing));
/// assert_eq!(broken.status(), StatusCode::INTERNAL_SERVER_ERROR);
/// assert!(broken.headers().get("retry-after").is_none());
///
/// let bug = default_error_response(&Error::TooLarge { limit: 10, size: 20 });
/// assert_eq!(bug.status(), StatusCode::INTERNAL_SERVER_ERROR);
/// ```
pub fn default_error_response(error: &Error) -> Response<String> {
    let mut res = Response::new(String::new());
    if error.is_temporary() {
        *res.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
        res.headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from_static("1"));
    } else {
        *res.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    }
    res
}

impl SessionLayer {
    /// Sessions in `store`, with cookies signed by `keys` (ignored for stores that seal
    /// their own cookie values), default options and cookie attributes.
    pub fn new<S: SessionStore>(store: S, keys: SigningKeys) -> Self {
        Self::from_arc(Arc::new(store), keys)
    }

    /// Like [`SessionLayer::new`] for a store that is already shared.
    pub fn from_arc(store: Arc<dyn SessionStore>, keys: SigningKeys) -> Self {
        let keys = (!store.capabilities().self_sealed).then_some(keys);
        Self::build(store, keys)
    }

    /// Sessions in a store that seals its own cookie values (the cookie store), which
    /// needs no signing keys. Any other store is refused with [`Error::Config`]: its
    /// cookie would carry a bare, unsigned id.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use session_tower::SessionLayer;
    /// let err = SessionLayer::for_sealed_store(Arc::new(session_core::MemoryStore::new()));
    /// assert!(err.is_err(), "a server store needs signing keys");
    /// ```
    pub fn for_sealed_store(store: Arc<dyn SessionStore>) -> Result<Self> {
        if !store.capabilities().self_sealed {
            return Err(Error::Config(
                "this store keeps sessions server-side, so its id cookie must be signed: \
                 give the layer signing keys (SessionLayer::from_arc)"
                    .into(),
            ));
        }
        Ok(Self::build(store, None))
    }

    fn build(store: Arc<dyn SessionStore>, keys: Option<SigningKeys>) -> Self {
        SessionLayer {
            shared: Arc::new(Shared {
                store,
                options: Arc::new(SessionOptions::default()),
                cookie: CookieConfig::default(),
                keys,
                save_on_server_error: false,
                on_error: Arc::new(default_error_response),
            }),
        }
    }

    fn edit(mut self, f: impl FnOnce(&mut Shared)) -> Self {
        match Arc::get_mut(&mut self.shared) {
            Some(shared) => f(shared),
            None => {
                let old = &self.shared;
                let mut copy = Shared {
                    store: old.store.clone(),
                    options: old.options.clone(),
                    cookie: old.cookie.clone(),
                    keys: old.keys.clone(),
                    save_on_server_error: old.save_on_server_error,
                    on_error: old.on_error.clone(),
                };
                f(&mut copy);
                self.shared = Arc::new(copy);
            }
        }
        self
    }

    /// Session options: expiry, touch policy, save mode, clock. Rejects combinations
    /// that cannot work (see [`SessionOptions::validate`]).
    pub fn with_options(self, options: SessionOptions) -> Result<Self> {
        options.validate()?;
        Ok(self.edit(|s| s.options = Arc::new(options)))
    }

    /// Cookie name and attributes; rejects ones that cannot be sent.
    pub fn with_cookie(self, cookie: CookieConfig) -> Result<Self> {
        cookie.validate()?;
        Ok(self.edit(|s| s.cookie = cookie))
    }

    /// Whether a session changed by a request that ends in a 5xx response is still
    /// saved. Off by default: a failed request should not half-apply.
    pub fn save_on_server_error(self, yes: bool) -> Self {
        self.edit(|s| s.save_on_server_error = yes)
    }

    /// The response sent when the store fails: at the end of a request, or inside a
    /// handler that returned [`SessionError`](crate::SessionError). The default,
    /// [`default_error_response`], is a 503 with `Retry-After: 1` for a temporary
    /// backend error ([`Error::is_temporary`]: the store is unreachable or timed out)
    /// and a 500 otherwise.
    pub fn on_error<F>(self, hook: F) -> Self
    where
        F: Fn(&Error) -> Response<String> + Send + Sync + 'static,
    {
        self.edit(|s| s.on_error = Arc::new(hook))
    }

    /// The store behind this layer.
    pub fn store(&self) -> &Arc<dyn SessionStore> {
        &self.shared.store
    }
}

impl<S> Layer<S> for SessionLayer {
    type Service = SessionService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        SessionService {
            inner,
            shared: self.shared.clone(),
        }
    }
}

/// The service [`SessionLayer`] wraps around an inner service.
#[derive(Clone)]
pub struct SessionService<S> {
    inner: S,
    shared: Arc<Shared>,
}

impl<S> std::fmt::Debug for SessionService<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionService").finish_non_exhaustive()
    }
}

/// The session cookie a request carried, after signature checks.
#[derive(Default)]
struct Incoming {
    value: Option<String>,
    /// Signed with an older key: re-sign on this response.
    rotated: bool,
    /// A cookie of our name came, but no key verifies it (tampered, or signed with a
    /// retired key): expire it unless a new session replaces it.
    invalid: bool,
}

impl Shared {
    fn read_cookie(&self, headers: &HeaderMap) -> Incoming {
        let name = self.cookie.name.as_str();
        // Lossy: another app's cookie with non-ASCII bytes must not hide ours.
        let texts: Vec<String> = headers
            .get_all(COOKIE)
            .iter()
            .map(|h| String::from_utf8_lossy(h.as_bytes()).into_owned())
            .collect();
        let candidates = texts
            .iter()
            .flat_map(|t| Cookie::split_parse(t.as_str()))
            .filter_map(|c| c.ok())
            .filter(|c| c.name() == name);
        let mut seen = false;
        for c in candidates {
            seen = true;
            let raw = c.value();
            let verified = match &self.keys {
                Some(keys) => keys.verify(name, raw),
                None => Some(Verified::Current(raw.to_owned())),
            };
            match verified {
                Some(Verified::Current(v)) => {
                    return Incoming {
                        value: Some(v),
                        rotated: false,
                        invalid: false,
                    }
                }
                Some(Verified::Rotated(v)) => {
                    return Incoming {
                        value: Some(v),
                        rotated: true,
                        invalid: false,
                    }
                }
                None => {
                    tracing::debug!("ignoring a session cookie whose signature does not verify")
                }
            }
        }
        Incoming {
            invalid: seen,
            ..Incoming::default()
        }
    }

    fn set_cookie(&self, value: &str, expires_at: Option<Timestamp>) -> Result<HeaderValue> {
        let value = match &self.keys {
            Some(keys) => keys.sign(&self.cookie.name, value),
            None => value.to_owned(),
        };
        let mut c = self.base_cookie(value);
        if self.cookie.persistent {
            if let Some(deadline) = expires_at {
                let secs = deadline.since(self.options.clock.now()).as_secs();
                c.set_max_age(cookie::time::Duration::seconds(
                    i64::try_from(secs).unwrap_or(i64::MAX),
                ));
            }
        }
        self.header(c)
    }

    fn removal_cookie(&self) -> Result<HeaderValue> {
        let mut c = self.base_cookie(String::new());
        c.make_removal();
        self.header(c)
    }

    fn base_cookie(&self, value: String) -> Cookie<'static> {
        let cfg = &self.cookie;
        let mut c = Cookie::new(cfg.name.clone(), value);
        c.set_path(cfg.path.clone());
        if let Some(domain) = &cfg.domain {
            c.set_domain(domain.clone());
        }
        c.set_secure(cfg.secure);
        c.set_http_only(cfg.http_only);
        c.set_same_site(match cfg.same_site {
            SameSite::Strict => CookieSameSite::Strict,
            SameSite::Lax => CookieSameSite::Lax,
            SameSite::None => CookieSameSite::None,
        });
        c
    }

    fn header(&self, c: Cookie<'static>) -> Result<HeaderValue> {
        let text = c.to_string();
        // A browser silently drops a larger cookie; refuse loudly instead.
        if text.len() > MAX_COOKIE_BYTES {
            return Err(Error::TooLarge {
                limit: MAX_COOKIE_BYTES,
                size: text.len(),
            });
        }
        HeaderValue::from_str(&text)
            .map_err(|e| Error::Config(format!("cookie does not fit in a header: {e}")))
    }

    /// The `Set-Cookie` header this outcome calls for, if any.
    fn cookie_header(&self, outcome: &Outcome, incoming: &Incoming) -> Result<Option<HeaderValue>> {
        match &outcome.cookie {
            CookieChange::Set(v) => {
                let same = incoming.value.as_deref() == Some(v.as_str());
                // Re-send an unchanged value only to refresh Max-Age or a signature.
                if same && !incoming.rotated && !self.cookie.persistent {
                    return Ok(None);
                }
                self.set_cookie(v, outcome.expires_at).map(Some)
            }
            CookieChange::Remove => self.removal_cookie().map(Some),
            CookieChange::Unchanged => {
                match (&incoming.value, incoming.rotated, outcome.expires_at) {
                    (Some(v), true, Some(deadline)) => self.set_cookie(v, Some(deadline)).map(Some),
                    _ if incoming.invalid => self.removal_cookie().map(Some),
                    _ => Ok(None),
                }
            }
        }
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for SessionService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    ReqBody: Send + 'static,
    ResBody: From<String> + Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = BoxFuture<'static, std::result::Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<std::result::Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        // The clone that was polled ready is the one that must be called.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let shared = self.shared.clone();
        Box::pin(async move {
            let incoming = shared.read_cookie(req.headers());
            let session = SessionDriver::new(
                shared.store.clone(),
                shared.options.clone(),
                incoming.value.clone(),
            );
            req.extensions_mut().insert(session.session());
            let mut res = inner.call(req).await?;
            let handler_failed = res.extensions_mut().remove::<HandlerFailure>();
            if let Some(HandlerFailure(error)) = &handler_failed {
                res = fail(&shared, error);
            }

            let failed = handler_failed.is_some() || res.status().is_server_error();
            let save = !failed || shared.save_on_server_error;
            if save && incoming.rotated {
                // Loads the session so a re-signed cookie keeps its Max-Age (only during
                // a key rotation, once per client). If the store is down, re-signing can
                // wait: the old signature stays valid.
                if let Err(e) = session.expires_at().await {
                    tracing::warn!(error = %e, "could not load the session to re-sign its cookie");
                }
            }
            let used = session.is_loaded().await;
            let outcome = if save {
                session.finish().await
            } else {
                // Write nothing more, but a delete or persist that already happened
                // must still reach the cookie.
                Ok(session.finish_unsaved().await)
            };
            let header = outcome.and_then(|o| shared.cookie_header(&o, &incoming));
            match header {
                Ok(value) => {
                    let headers = res.headers_mut();
                    if let Some(value) = &value {
                        headers.append(SET_COOKIE, value.clone());
                        // A shared cache must never hand one client's cookie to another.
                        if !headers.contains_key(CACHE_CONTROL) {
                            headers.insert(CACHE_CONTROL, HeaderValue::from_static("private"));
                        }
                    }
                    if value.is_some() || used {
                        // The response depends on the cookie whenever the session was read.
                        add_vary_cookie(headers);
                    }
                    Ok(res)
                }
                Err(e) => Ok(fail(&shared, &e)),
            }
        })
    }
}

fn fail<B: From<String>>(shared: &Shared, error: &Error) -> Response<B> {
    tracing::error!(%error, "session store failed; answering with the error response");
    (shared.on_error)(error).map(B::from)
}

fn add_vary_cookie(headers: &mut HeaderMap) {
    let already = headers
        .get_all(VARY)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|v| v.trim().eq_ignore_ascii_case("cookie") || v.trim() == "*");
    if !already {
        headers.append(VARY, HeaderValue::from_static("Cookie"));
    }
}
