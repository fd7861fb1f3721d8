//! The one error type every store and the session handle return.

use std::error::Error as StdError;

use crate::{BackendError, BackendErrorKind};

/// A boxed error from a backend's own client library.
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// Result alias used across the workspace.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in a store or a session (contract rule 9).
///
/// A missing, expired, malformed or tampered cookie is *not* an error: `load` answers
/// `Ok(None)` for those (rule 2).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// `create` found a record under the same id; nothing was overwritten.
    #[error("a session with this id already exists")]
    Collision,
    /// The record was deleted or has expired; a save never brings it back.
    #[error("the session does not exist (deleted or expired)")]
    NotFound,
    /// The stored version is not the expected one: someone saved in between.
    #[error("the session was changed concurrently (stale version)")]
    Conflict,
    /// The encoded record is larger than the store accepts; nothing was written.
    #[error("the session is too large: {size} bytes, the limit is {limit}")]
    TooLarge {
        /// The store's limit in bytes.
        limit: usize,
        /// The encoded size that was refused.
        size: usize,
    },
    /// The store does not have the capability this operation needs.
    #[error("operation not supported by this store: {0}")]
    Unsupported(&'static str),
    /// Stored bytes no longer decode. The middleware logs this and treats the request
    /// as having no session.
    #[error("stored session data is corrupt: {0}")]
    Corrupt(String),
    /// A value could not be converted to or from the requested Rust type.
    #[error("session value for key {key:?} does not convert: {message}")]
    Value {
        /// The session key.
        key: String,
        /// What serde said.
        message: String,
    },
    /// A record could not be encoded.
    #[error("session record does not encode: {0}")]
    Encode(String),
    /// The backend failed: a timeout, an unreachable server, I/O, a server error. The
    /// [`BackendError`] says which store, which operation and what kind of failure;
    /// [`Error::is_temporary`] tells an outage from a fault.
    #[error("session backend failed: {0}")]
    Backend(#[source] BackendError),
    /// The store or session is misconfigured; the message names the problem.
    #[error("session configuration error: {0}")]
    Config(String),
}

impl Error {
    /// Wraps any client-library error as [`Error::Backend`] of kind
    /// [`Other`](BackendErrorKind::Other), for a store that has nothing more to say
    /// (a [`BackendError`] passed in is kept as it is). A store that knows the failure
    /// is a timeout or an unreachable server says so with [`BackendError::new`], so
    /// that the HTTP layer answers `503` rather than `500`.
    pub fn backend<E: Into<BoxError>>(err: E) -> Self {
        match err.into().downcast::<BackendError>() {
            Ok(precise) => Error::Backend(*precise),
            Err(other) => Error::Backend(BackendError::new(BackendErrorKind::Other, other)),
        }
    }

    /// Whether the error is a temporary backend failure (a timeout, an unreachable
    /// server: [`BackendError::is_temporary`]), which a retry later may get past.
    /// Everything else, other backend failures included, is not.
    pub fn is_temporary(&self) -> bool {
        matches!(self, Error::Backend(e) if e.is_temporary())
    }
}
