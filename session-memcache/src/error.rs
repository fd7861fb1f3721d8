//! What a failed memcached call carries inside [`session_core::Error::Backend`].

use std::time::Duration;

/// The source of every [`Error::Backend`](session_core::Error::Backend) this store
/// returns; downcast the boxed source to inspect it.
///
/// A backend error during a write means the outcome is unknown: the command may have
/// reached the server before the connection failed or the time ran out.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MemcacheError {
    /// No answer within the store's operation timeout (server stalled or overloaded,
    /// or every connection slot taken by calls that are still waiting).
    #[error("memcached {op}: no answer within {after:?}")]
    Timeout {
        /// The store operation (`load`, `save`, ...).
        op: &'static str,
        /// The configured operation timeout.
        after: Duration,
    },
    /// The client failed: connection refused or reset, socket timeout, a server or
    /// protocol error.
    #[error("memcached {op}: {source}")]
    Client {
        /// The store operation.
        op: &'static str,
        /// The memcache client's error.
        #[source]
        source: memcache::exp::Error,
    },
    /// The server answered something the store cannot use.
    #[error("memcached {op}: unexpected answer: {detail}")]
    Unexpected {
        /// The store operation.
        op: &'static str,
        /// What was wrong.
        detail: String,
    },
}

impl MemcacheError {
    pub(crate) fn timeout(op: &'static str, after: Duration) -> Self {
        MemcacheError::Timeout { op, after }
    }

    pub(crate) fn client(op: &'static str, source: memcache::exp::Error) -> Self {
        MemcacheError::Client { op, source }
    }

    pub(crate) fn unexpected(op: &'static str, detail: impl Into<String>) -> Self {
        MemcacheError::Unexpected {
            op,
            detail: detail.into(),
        }
    }

    /// The store operation that failed.
    pub fn operation(&self) -> &'static str {
        match self {
            MemcacheError::Timeout { op, .. }
            | MemcacheError::Client { op, .. }
            | MemcacheError::Unexpected { op, .. } => op,
        }
    }

    /// Whether the call ran out of time (the store's timeout or a socket timeout).
    pub fn is_timeout(&self) -> bool {
        match self {
            MemcacheError::Timeout { .. } => true,
            MemcacheError::Client { source, .. } => is_timeout(source),
            _ => false,
        }
    }
}

fn is_timeout(error: &memcache::exp::Error) -> bool {
    use memcache::exp::Error as E;
    match error {
        E::Timeout { .. } => true,
        E::Ambiguous { source, .. } => is_timeout(source),
        E::Io(io) => matches!(
            io.kind(),
            std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
        ),
        _ => false,
    }
}
