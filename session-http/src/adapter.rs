//! What every adapter defines the same way, written once as macros: its request handle
//! (a newtype over [`session_core::Session`]), its handler error type, and its
//! constructors. Each adapter needs its *own* types, because Rust lets a crate
//! implement a framework's traits (axum's `FromRequestParts`, actix-web's
//! `FromRequest`, `ResponseError`) only for types it defines; the macros give those
//! types one definition.

/// Defines an adapter's request handle: `struct $name(session_core::Session)`, cheap to
/// clone, dereferencing to [`session_core::Session`], with `From`, `AsRef` and
/// `into_inner`. The adapter adds its framework's extractor impl.
///
/// ```
/// session_http::session_handle! {
///     /// The request's session, for my framework.
///     pub struct Session;
/// }
/// # fn take(s: Session) -> session_core::Session { s.into_inner() }
/// ```
#[macro_export]
macro_rules! session_handle {
    ($(#[$meta:meta])* $vis:vis struct $name:ident;) => {
        $(#[$meta])*
        #[derive(Clone, Debug)]
        $vis struct $name($crate::__session_core::Session);

        impl $name {
            /// The framework-independent handle inside, for code written against
            /// `session_core` alone.
            pub fn into_inner(self) -> $crate::__session_core::Session {
                self.0
            }
        }

        impl ::core::convert::From<$crate::__session_core::Session> for $name {
            /// Wraps the handle of an [`Exchange`]($crate::Exchange)'s request.
            fn from(session: $crate::__session_core::Session) -> Self {
                $name(session)
            }
        }

        impl ::core::ops::Deref for $name {
            type Target = $crate::__session_core::Session;

            fn deref(&self) -> &$crate::__session_core::Session {
                &self.0
            }
        }

        impl ::core::convert::AsRef<$crate::__session_core::Session> for $name {
            fn as_ref(&self) -> &$crate::__session_core::Session {
                &self.0
            }
        }
    };
}

/// Defines an adapter's handler error: `struct $name(pub session_core::Error)` with
/// `From<session_core::Error>`, `Display` and `Error` (the cause as its source). The
/// adapter adds its framework's response conversion, which must let the middleware
/// swap in the configured error response ([`Exchange::error_response`](crate::Exchange::error_response)).
///
/// ```
/// session_http::session_error! {
///     /// A session error as a handler's error type.
///     pub struct SessionError;
/// }
/// fn fails() -> Result<(), SessionError> {
///     Err(session_core::Error::Config("bad".into()))?
/// }
/// assert_eq!(fails().unwrap_err().to_string(), session_core::Error::Config("bad".into()).to_string());
/// ```
#[macro_export]
macro_rules! session_error {
    ($(#[$meta:meta])* $vis:vis struct $name:ident;) => {
        $(#[$meta])*
        #[derive(Debug)]
        $vis struct $name(pub $crate::__session_core::Error);

        impl ::core::convert::From<$crate::__session_core::Error> for $name {
            fn from(e: $crate::__session_core::Error) -> Self {
                $name(e)
            }
        }

        impl ::core::fmt::Display for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl ::std::error::Error for $name {
            fn source(&self) -> ::core::option::Option<&(dyn ::std::error::Error + 'static)> {
                ::core::option::Option::Some(&self.0)
            }
        }
    };
}

/// The constructors and accessors every adapter has, for a type that holds an
/// [`HttpSessions`](crate::HttpSessions) in the field `sessions` and is `From` one:
/// `new(store, keys)`, `from_arc`, `builder(store)`, `builder_from_arc`,
/// `development(store)`, `store()`, `transport()` and `sessions()`.
///
/// ```
/// pub struct MyMiddleware {
///     sessions: session_http::HttpSessions,
/// }
///
/// impl From<session_http::HttpSessions> for MyMiddleware {
///     fn from(sessions: session_http::HttpSessions) -> Self {
///         MyMiddleware { sessions }
///     }
/// }
///
/// session_http::adapter_constructors!(MyMiddleware);
///
/// let m = MyMiddleware::new(session_core::MemoryStore::new(), session_http::SigningKeys::new([[7u8; 32]])?);
/// assert_eq!(m.sessions().cookie().name, "session");
/// # Ok::<(), session_core::Error>(())
/// ```
#[macro_export]
macro_rules! adapter_constructors {
    ($name:ident) => {
        impl $name {
            /// Sessions in `store`, with tokens signed by `keys` (ignored for stores that
            /// seal their own values), default options, cookie attributes and error
            /// response. For anything else, the builder.
            pub fn new<S: $crate::__session_core::SessionStore>(
                store: S,
                keys: $crate::SigningKeys,
            ) -> Self {
                Self::from_arc(::std::sync::Arc::new(store), keys)
            }

            /// Like `new` for a store that is already shared.
            pub fn from_arc(
                store: ::std::sync::Arc<dyn $crate::__session_core::SessionStore>,
                keys: $crate::SigningKeys,
            ) -> Self {
                $crate::HttpSessions::new(store, keys).into()
            }

            /// A builder for sessions in `store`: keys, options, cookie, token
            /// transport, error response; everything is checked once, by
            /// [`build`]($crate::Builder::build). A store that seals its own values
            /// (the cookie store) needs no keys; any other store does.
            pub fn builder<S: $crate::__session_core::SessionStore>(
                store: S,
            ) -> $crate::Builder<$name> {
                $crate::Builder::new(::std::sync::Arc::new(store))
            }

            /// Like `builder` for a store that is already shared.
            pub fn builder_from_arc(
                store: ::std::sync::Arc<dyn $crate::__session_core::SessionStore>,
            ) -> $crate::Builder<$name> {
                $crate::Builder::new(store)
            }

            /// For development only: tokens signed with a random key made at start-up,
            /// so no secret needs configuring, and **sessions do not survive a
            /// restart** (a `WARN` says so). See
            /// [`HttpSessions::development`]($crate::HttpSessions::development).
            pub fn development<S: $crate::__session_core::SessionStore>(store: S) -> Self {
                $crate::HttpSessions::development(::std::sync::Arc::new(store)).into()
            }

            /// The store sessions live in.
            pub fn store(&self) -> &::std::sync::Arc<dyn $crate::__session_core::SessionStore> {
                self.sessions.store()
            }

            /// Where the session token is read and sent.
            pub fn transport(&self) -> &$crate::Transport {
                self.sessions.transport()
            }

            /// The settings this was made from.
            pub fn sessions(&self) -> &$crate::HttpSessions {
                &self.sessions
            }
        }
    };
}
