//! [`Builder`]: every session setting, checked once in `build`.

use std::marker::PhantomData;
use std::sync::Arc;

use http::Response;
use session_core::{Error, Result, SessionOptions, SessionStore};

use crate::error_response::{default_error_response, ErrorHook};
use crate::sessions::Settings;
use crate::transport::{TokenWire, Transport};
use crate::{CookieConfig, HttpSessions, SigningKeys};

/// Configures sessions over HTTP and builds a `T`: [`HttpSessions`] itself, or an
/// adapter made from one (`session_tower::SessionLayer`,
/// `session_actix::SessionMiddleware`: each adapter's `builder` returns a
/// `Builder<Self>`). Every setter is infallible and chainable; every mistake is
/// reported once, by [`build`](Builder::build), as an [`Error::Config`] naming it.
///
/// ```
/// use std::time::Duration;
/// use session_core::{Expiry, MemoryStore, SessionOptions};
/// use session_http::{CookieConfig, HttpSessions, SigningKeys};
///
/// let sessions = HttpSessions::builder(MemoryStore::new())
///     .keys(SigningKeys::new([[7u8; 32]])?)
///     .options(SessionOptions::default().with_expiry(Expiry::idle(Duration::from_secs(3600))?))
///     .cookie(CookieConfig::default().with_name("__Host-sid"))
///     .save_on_server_error(false)
///     .build()?;
///
/// // A server-side store without keys: its cookie would carry a bare id.
/// let err = HttpSessions::builder(MemoryStore::new()).build().unwrap_err();
/// assert!(matches!(err, session_core::Error::Config(_)));
/// # Ok::<(), session_core::Error>(())
/// ```
#[must_use = "a builder does nothing until `build` is called"]
pub struct Builder<T = HttpSessions> {
    store: Arc<dyn SessionStore>,
    keys: Option<SigningKeys>,
    options: SessionOptions,
    cookie: CookieConfig,
    transport: Result<Transport>,
    save_on_server_error: bool,
    on_error: ErrorHook,
    // `fn() -> T`: the builder neither owns nor borrows a `T`, so it stays Send and
    // Sync whatever `T` is.
    target: PhantomData<fn() -> T>,
}

impl<T> std::fmt::Debug for Builder<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Builder")
            .field("keys", &self.keys)
            .field("options", &self.options)
            .field("cookie", &self.cookie)
            .field("transport", &self.transport)
            .field("save_on_server_error", &self.save_on_server_error)
            .finish_non_exhaustive()
    }
}

impl<T: From<HttpSessions>> Builder<T> {
    /// A builder for sessions in `store` (see also [`HttpSessions::builder`]), with
    /// default options, cookie attributes and error response, and no keys yet.
    pub fn new(store: Arc<dyn SessionStore>) -> Self {
        Builder {
            store,
            keys: None,
            options: SessionOptions::default(),
            cookie: CookieConfig::default(),
            transport: Ok(Transport::Cookie),
            save_on_server_error: false,
            on_error: Arc::new(default_error_response),
            target: PhantomData,
        }
    }

    /// The keys that sign the session token: the first signs, all verify (see
    /// [`SigningKeys`] for rotation). Required unless the store seals its own values
    /// (`store.capabilities().self_sealed`, the cookie store), whose tokens are sent
    /// as the store made them and for which keys are ignored.
    pub fn keys(mut self, keys: SigningKeys) -> Self {
        self.keys = Some(keys);
        self
    }

    /// Session options: expiry, touch policy, save mode, clock. Checked by `build`
    /// ([`SessionOptions::validate`]).
    pub fn options(mut self, options: SessionOptions) -> Self {
        self.options = options;
        self
    }

    /// The cookie's name and attributes, including whether it persists by default
    /// (a session's own [`set_expiry`](session_core::Session) choice wins). Checked
    /// by `build` ([`CookieConfig::validate`]), in header mode too.
    pub fn cookie(mut self, cookie: CookieConfig) -> Self {
        self.cookie = cookie;
        self
    }

    /// Where the session token travels; [`Transport::Cookie`] by default.
    pub fn transport(mut self, transport: Transport) -> Self {
        self.transport = Ok(transport);
        self
    }

    /// Carries the session token in the request and response header `name` instead
    /// of a cookie (API and mobile clients): shorthand for
    /// [`transport`](Builder::transport)`(Transport::Header(..))`. `build`
    /// refuses a name that is not a header name, or is one the layer or HTTP itself
    /// uses (`cookie`, `set-cookie`, `vary`, `connection`, ...). See
    /// [`Transport::Header`] for what is sent when.
    ///
    /// ```
    /// use session_core::MemoryStore;
    /// use session_http::{HttpSessions, SigningKeys};
    ///
    /// let keys = SigningKeys::new([[7u8; 32]])?;
    /// let api = HttpSessions::builder(MemoryStore::new())
    ///     .keys(keys.clone())
    ///     .token_header("x-session-token")
    ///     .build()?;
    /// assert!(HttpSessions::builder(MemoryStore::new())
    ///     .keys(keys)
    ///     .token_header("set-cookie")
    ///     .build()
    ///     .is_err());
    /// # Ok::<(), session_core::Error>(())
    /// ```
    pub fn token_header(mut self, name: impl AsRef<str>) -> Self {
        self.transport = Transport::header(name.as_ref());
        self
    }

    /// Whether a session changed by a request that ends in a 5xx response is still
    /// saved. Off by default: a failed request should not half-apply.
    pub fn save_on_server_error(mut self, yes: bool) -> Self {
        self.save_on_server_error = yes;
        self
    }

    /// The response sent when the store fails: at the end of a request, or inside a
    /// handler that returned the adapter's `SessionError`. The default,
    /// [`default_error_response`], is a 503 with `Retry-After: 1` for a temporary
    /// backend error ([`Error::is_temporary`]: the store is unreachable or timed out)
    /// and a 500 otherwise.
    pub fn on_error<F>(mut self, hook: F) -> Self
    where
        F: Fn(&Error) -> Response<String> + Send + Sync + 'static,
    {
        self.on_error = Arc::new(hook);
        self
    }

    /// The layer, once everything checks out: the options
    /// ([`SessionOptions::validate`]), the cookie ([`CookieConfig::validate`]), the
    /// token header, and signing keys for any store that does not seal its own
    /// values. The first problem found is an [`Error::Config`].
    ///
    /// A store that seals its own values (the cookie store) needs no keys; one that
    /// keeps sessions server-side does:
    ///
    /// ```
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
    /// use session_http::HttpSessions;
    ///
    /// // A self-sealed store (session-cookie's `CookieStore`): no secrets needed.
    /// let sessions = HttpSessions::builder(SealedStore(MemoryStore::new())).build()?;
    /// // A store that keeps sessions server-side: keys are required.
    /// assert!(HttpSessions::builder(MemoryStore::new()).build().is_err());
    /// # Ok::<(), session_core::Error>(())
    /// ```
    pub fn build(mut self) -> Result<T> {
        self.options.validate()?;
        self.cookie.validate()?;
        let transport = std::mem::replace(&mut self.transport, Ok(Transport::Cookie))?;
        transport.validate()?;
        let keys = if self.store.capabilities().self_sealed {
            None
        } else {
            Some(self.keys.take().ok_or_else(|| {
                Error::Config(
                    "this store keeps sessions server-side, so its session token must be \
                     signed: give it signing keys (the builder's `keys`, or the layer's or \
                     middleware's `development` constructor for a throwaway key)"
                        .into(),
                )
            })?)
        };
        Ok(self.assemble(transport, keys))
    }

    /// The layer with the default settings and `keys` (dropped for a self-sealed
    /// store), for the infallible constructors: the defaults pass every check `build`
    /// makes (tested), so there is nothing to report.
    pub(crate) fn with_default_settings(self, keys: SigningKeys) -> T {
        let keys = (!self.store.capabilities().self_sealed).then_some(keys);
        self.assemble(Transport::Cookie, keys)
    }

    fn assemble(self, transport: Transport, keys: Option<SigningKeys>) -> T {
        T::from(HttpSessions::from_settings(Settings {
            store: self.store,
            options: Arc::new(self.options),
            wire: TokenWire {
                transport,
                cookie: self.cookie,
                keys,
            },
            save_on_server_error: self.save_on_server_error,
            on_error: self.on_error,
        }))
    }
}
