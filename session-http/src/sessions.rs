//! [`HttpSessions`]: one app's checked session settings, shared by every request.

use std::sync::Arc;

use session_core::observe::{error_kind, ObservedStore};
use session_core::{Error, SessionOptions, SessionStore};

use crate::error_response::ErrorHook;
use crate::transport::{TokenWire, Transport};
use crate::{Builder, CookieConfig, SigningKeys};

/// Sessions over HTTP, set up and checked: the store, the session options, how the
/// token travels and is signed, whether a 5xx response still saves, and the error
/// response. Framework-free: each adapter (`session_tower::SessionLayer`,
/// `session_actix::SessionMiddleware`) is made `From` one, so one configuration
/// (`session_any::SessionConfig::sessions`) sets up either framework.
///
/// Cheap to clone (one `Arc`). Made by [`HttpSessions::builder`] (every setting, each
/// checked by [`build`](Builder::build)), [`HttpSessions::new`] (defaults) or
/// [`HttpSessions::development`] (a throwaway key).
///
/// ```
/// use session_core::MemoryStore;
/// use session_http::{CookieConfig, HttpSessions, SigningKeys};
///
/// let sessions: HttpSessions = HttpSessions::builder(MemoryStore::new())
///     .keys(SigningKeys::new([[7u8; 32]])?)
///     .cookie(CookieConfig::default().with_name("__Host-sid"))
///     .build()?;
/// assert_eq!(sessions.cookie().name, "__Host-sid");
/// # Ok::<(), session_core::Error>(())
/// ```
#[derive(Clone)]
pub struct HttpSessions {
    pub(crate) shared: Arc<Settings>,
}

/// Everything the requests of one app share, checked by the builder.
pub(crate) struct Settings {
    pub(crate) store: Arc<dyn SessionStore>,
    pub(crate) options: Arc<SessionOptions>,
    pub(crate) wire: TokenWire,
    pub(crate) save_on_server_error: bool,
    pub(crate) on_error: ErrorHook,
}

impl std::fmt::Debug for HttpSessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = &self.shared;
        f.debug_struct("HttpSessions")
            .field("cookie", &s.wire.cookie)
            .field("transport", &s.wire.transport)
            .field("options", &s.options)
            .field("signed", &s.wire.keys.is_some())
            .field("save_on_server_error", &s.save_on_server_error)
            .finish_non_exhaustive()
    }
}

impl HttpSessions {
    /// Sessions in `store`, with tokens signed by `keys` (ignored for stores that seal
    /// their own values), default options, cookie attributes and error response. For
    /// anything else, [`HttpSessions::builder`].
    pub fn new(store: Arc<dyn SessionStore>, keys: SigningKeys) -> Self {
        Builder::<HttpSessions>::new(store).with_default_settings(keys)
    }

    /// A [`Builder`] for sessions in `store`.
    pub fn builder<S: SessionStore>(store: S) -> Builder<HttpSessions> {
        Builder::new(Arc::new(store))
    }

    /// For development only: sessions in `store`, signed with a random key made for
    /// them, so no secret needs configuring. The key lives in memory only: **sessions
    /// do not survive a restart**, and two processes do not accept each other's
    /// sessions. Logs a `WARN` saying so. Use [`HttpSessions::new`] or
    /// [`HttpSessions::builder`] with keys from configuration in production.
    pub fn development(store: Arc<dyn SessionStore>) -> Self {
        if !store.capabilities().self_sealed {
            tracing::warn!(
                "development sessions: session tokens are signed with a random key made at \
                 start-up, so sessions will not survive a restart and are not shared \
                 between processes; do not use this in production (give the session layer \
                 or middleware SigningKeys from configuration)"
            );
        }
        Builder::<HttpSessions>::new(store).with_default_settings(SigningKeys::random())
    }

    /// The store sessions live in, wrapped once in an
    /// [`ObservedStore`] so that every call is traced and counted (see
    /// [`session_core::observe`]); its capabilities and backend name are the store's.
    pub fn store(&self) -> &Arc<dyn SessionStore> {
        &self.shared.store
    }

    /// The session options (expiry, touch policy, save mode, clock).
    pub fn options(&self) -> &SessionOptions {
        &self.shared.options
    }

    /// The cookie's name and attributes (used in cookie mode).
    pub fn cookie(&self) -> &CookieConfig {
        &self.shared.wire.cookie
    }

    /// Where the session token is read and sent.
    pub fn transport(&self) -> &Transport {
        &self.shared.wire.transport
    }

    /// Whether a request that ends in a 5xx response still saves its session.
    pub fn saves_on_server_error(&self) -> bool {
        self.shared.save_on_server_error
    }

    /// The response for a store failure, from the configured hook (by default
    /// [`default_error_response`](crate::default_error_response)), logged once at `ERROR`
    /// (with the error's kind; a value that did not convert is not quoted).
    pub fn error_response(&self, error: &Error) -> http::Response<String> {
        let kind = error_kind(error);
        match error {
            // serde's message quotes the session value that did not convert.
            Error::Value { key, .. } => tracing::error!(
                kind,
                key = %key,
                "session value does not convert; answering with the error response"
            ),
            _ => tracing::error!(
                kind,
                %error,
                "session store failed; answering with the error response"
            ),
        }
        (self.shared.on_error)(error)
    }

    /// Wraps the store in its [`ObservedStore`] here, the one place every adapter's
    /// sessions are made.
    pub(crate) fn from_settings(mut settings: Settings) -> Self {
        settings.store = Arc::new(ObservedStore::from_arc(settings.store));
        HttpSessions {
            shared: Arc::new(settings),
        }
    }
}
