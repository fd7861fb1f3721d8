//! The tower `Layer` and `Service` that give every request a lazy session and turn the
//! session's outcome into `Set-Cookie` (or the token header) before the response
//! leaves.

use std::sync::Arc;
use std::task::{Context, Poll};

use futures::future::BoxFuture;
use http::header::{CACHE_CONTROL, RETRY_AFTER, SET_COOKIE, VARY};
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode};
use session_core::{Error, SessionDriver, SessionOptions, SessionStore};
use tower_layer::Layer;
use tower_service::Service;

use crate::handler_failure::HandlerFailure;
use crate::signing::SigningKeys;
use crate::transport::TokenWire;
use crate::{Session, SessionLayerBuilder, Transport};

/// Turns a store error into the response the client gets. Sessions fail closed: the
/// default, [`default_error_response`], answers an empty `503 Service Unavailable` with
/// `Retry-After: 1` for a temporary backend error ([`Error::is_temporary`]: the store
/// is unreachable or timed out, the client may retry, a load balancer sees an outage)
/// and an empty `500 Internal Server Error` for anything else, other backend errors
/// (a missing table, an unexpected reply, a disk error) included.
pub type ErrorHook = Arc<dyn Fn(&Error) -> Response<String> + Send + Sync>;

/// A tower layer that attaches a [`Session`] to every request.
///
/// Handlers find the session in the request extensions
/// (`req.extensions().get::<session_tower::Session>()`) or, with axum, extract the
/// same [`Session`] type. The layer keeps the request's [`SessionDriver`]: only it
/// ends the request. The session is saved (or touched, or deleted) before the
/// response headers are returned, so the token is always in the response that
/// follows a change.
///
/// Made with [`SessionLayer::new`] (store and keys, everything else default),
/// [`SessionLayer::builder`] (every setting, checked once by
/// [`build`](SessionLayerBuilder::build)) or [`SessionLayer::development`] (a
/// throwaway key).
#[derive(Clone)]
pub struct SessionLayer {
    shared: Arc<Settings>,
}

/// Everything a layer and its services share, checked by the builder.
pub(crate) struct Settings {
    pub(crate) store: Arc<dyn SessionStore>,
    pub(crate) options: Arc<SessionOptions>,
    pub(crate) wire: TokenWire,
    pub(crate) save_on_server_error: bool,
    pub(crate) on_error: ErrorHook,
}

impl std::fmt::Debug for SessionLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionLayer")
            .field("cookie", &self.shared.wire.cookie)
            .field("transport", &self.shared.wire.transport)
            .field("options", &self.shared.options)
            .field("signed", &self.shared.wire.keys.is_some())
            .finish_non_exhaustive()
    }
}

/// The response [`SessionLayer`] sends when the store fails, unless
/// [`SessionLayerBuilder::on_error`] sets another: an empty 503 with `Retry-After: 1` when the
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
    /// Sessions in `store`, with tokens signed by `keys` (ignored for stores that seal
    /// their own values), default options, cookie attributes and error response. For
    /// anything else, [`SessionLayer::builder`].
    pub fn new<S: SessionStore>(store: S, keys: SigningKeys) -> Self {
        Self::from_arc(Arc::new(store), keys)
    }

    /// Like [`SessionLayer::new`] for a store that is already shared.
    pub fn from_arc(store: Arc<dyn SessionStore>, keys: SigningKeys) -> Self {
        SessionLayerBuilder::new(store).with_default_settings(keys)
    }

    /// A builder for sessions in `store`: keys, options, cookie, token transport,
    /// error response; everything is checked once, by
    /// [`build`](SessionLayerBuilder::build). A store that seals its own values (the
    /// cookie store) needs no keys:
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use async_trait::async_trait;
    /// # use session_core::{Capabilities, MemoryStore, Record, SessionId, SessionStore};
    /// # struct SealedStore(MemoryStore);
    /// # #[async_trait]
    /// # impl SessionStore for SealedStore {
    /// #     fn capabilities(&self) -> Capabilities { self.0.capabilities().with_self_sealed(true) }
    /// #     async fn load(&self, v: &str) -> session_core::Result<Option<Record>> { self.0.load(v).await }
    /// #     async fn create(&self, r: &Record) -> session_core::Result<String> { self.0.create(r).await }
    /// #     async fn save(&self, r: &Record, v: u64) -> session_core::Result<String> { self.0.save(r, v).await }
    /// #     async fn touch(&self, r: &Record) -> session_core::Result<String> { self.0.touch(r).await }
    /// #     async fn delete(&self, id: &SessionId) -> session_core::Result<()> { self.0.delete(id).await }
    /// # }
    /// use session_tower::SessionLayer;
    ///
    /// // A self-sealed store (session-cookie's `CookieStore`): no secrets needed.
    /// let layer = SessionLayer::builder(SealedStore(MemoryStore::new())).build()?;
    /// // A store that keeps sessions server-side: keys are required.
    /// assert!(SessionLayer::builder(MemoryStore::new()).build().is_err());
    /// # Ok::<(), session_core::Error>(())
    /// ```
    pub fn builder<S: SessionStore>(store: S) -> SessionLayerBuilder {
        SessionLayerBuilder::new(Arc::new(store))
    }

    /// Like [`SessionLayer::builder`] for a store that is already shared.
    pub fn builder_from_arc(store: Arc<dyn SessionStore>) -> SessionLayerBuilder {
        SessionLayerBuilder::new(store)
    }

    /// For development only: sessions in `store`, signed with a random key made for
    /// this layer, so no secret needs configuring. The key lives in memory only:
    /// **sessions do not survive a restart**, and two processes do not accept each
    /// other's sessions. Logs a `WARN` saying so when the layer is made. Use
    /// [`SessionLayer::new`] or [`SessionLayer::builder`] with keys from
    /// configuration in production.
    ///
    /// ```
    /// # use session_core::MemoryStore;
    /// # use session_tower::SessionLayer;
    /// let layer = SessionLayer::development(MemoryStore::new());
    /// ```
    pub fn development<S: SessionStore>(store: S) -> Self {
        let store: Arc<dyn SessionStore> = Arc::new(store);
        if !store.capabilities().self_sealed {
            tracing::warn!(
                "SessionLayer::development: session tokens are signed with a random key \
                 made at start-up, so sessions will not survive a restart and are not \
                 shared between processes; do not use this in production (give the \
                 layer SigningKeys from configuration)"
            );
        }
        SessionLayerBuilder::new(store).with_default_settings(SigningKeys::random())
    }

    pub(crate) fn from_settings(settings: Settings) -> Self {
        SessionLayer {
            shared: Arc::new(settings),
        }
    }

    /// The store behind this layer.
    pub fn store(&self) -> &Arc<dyn SessionStore> {
        &self.shared.store
    }

    /// Where this layer reads and sends the session token.
    pub fn transport(&self) -> &Transport {
        &self.shared.wire.transport
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
    shared: Arc<Settings>,
}

impl<S> std::fmt::Debug for SessionService<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionService").finish_non_exhaustive()
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
            let incoming = shared.wire.read(req.headers());
            let session = SessionDriver::new(
                shared.store.clone(),
                shared.options.clone(),
                incoming.value.clone(),
            );
            req.extensions_mut()
                .insert(Session::from(session.session()));
            let mut res = inner.call(req).await?;
            let handler_failed = res.extensions_mut().remove::<HandlerFailure>();
            if let Some(HandlerFailure(error)) = &handler_failed {
                res = fail(&shared, error);
            }

            let failed = handler_failed.is_some() || res.status().is_server_error();
            let save = !failed || shared.save_on_server_error;
            if save && incoming.rotated {
                // Loads the session so a re-signed cookie keeps its Max-Age and a
                // re-signed token is only sent for a live session (only during a key
                // rotation, once per client). If the store is down, re-signing can
                // wait: the old signature stays valid.
                if let Err(e) = session.expires_at().await {
                    tracing::warn!(error = %e, "could not load the session to re-sign its token");
                }
            }
            let used = session.is_loaded().await;
            let outcome = if save {
                session.finish().await
            } else {
                // Write nothing more, but a delete or persist that already happened
                // must still reach the client.
                Ok(session.finish_unsaved().await)
            };
            let now = shared.options.clock.now();
            let header = outcome.and_then(|o| shared.wire.response_header(&o, &incoming, now));
            match header {
                Ok(token) => {
                    let headers = res.headers_mut();
                    let sent = token.is_some();
                    if let Some((name, value)) = token {
                        if name == SET_COOKIE {
                            headers.append(name, value);
                        } else {
                            // One token per response, whatever the handler put there.
                            headers.insert(name, value);
                        }
                        // A shared cache must never hand one client's token to another.
                        if !headers.contains_key(CACHE_CONTROL) {
                            headers.insert(CACHE_CONTROL, HeaderValue::from_static("private"));
                        }
                    }
                    if sent || used {
                        // The response depends on the token whenever the session was read.
                        add_vary(headers, shared.wire.vary());
                    }
                    Ok(res)
                }
                Err(e) => Ok(fail(&shared, &e)),
            }
        })
    }
}

fn fail<B: From<String>>(shared: &Settings, error: &Error) -> Response<B> {
    tracing::error!(%error, "session store failed; answering with the error response");
    (shared.on_error)(error).map(B::from)
}

/// Adds `name` (`Cookie`, or the token header) to `Vary` unless it is there already.
fn add_vary(headers: &mut HeaderMap, name: HeaderValue) {
    let Ok(text) = name.to_str() else { return };
    let already = headers
        .get_all(VARY)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|v| v.trim().eq_ignore_ascii_case(text) || v.trim() == "*");
    if !already {
        headers.append(VARY, name);
    }
}
