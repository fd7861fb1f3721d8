//! How the memcache client's errors become a [`BackendError`]: the one place that
//! decides which failures are an outage (a timeout, a refused or dropped connection)
//! and which are not (a reply the store cannot use, a server error).
//!
//! A backend error during a write means the outcome is unknown: the command may have
//! reached the server before the connection failed or the time ran out.

use session_core::{BackendError, BackendErrorKind, Error, Operation};

/// The store name every [`BackendError`] from this crate carries.
pub(crate) const STORE: &str = "memcache";

/// Maps the client's errors from `operation`, with the client's error as the source.
pub(crate) fn client_error(operation: Operation) -> impl Fn(memcache::exp::Error) -> Error {
    move |e| {
        BackendError::new(kind_of(&e), e)
            .with_store(STORE)
            .with_operation(operation)
            .into()
    }
}

/// The server answered something the store cannot use.
pub(crate) fn unexpected(operation: Operation, detail: impl Into<String>) -> Error {
    BackendError::new(BackendErrorKind::Protocol, detail.into())
        .with_store(STORE)
        .with_operation(operation)
        .into()
}

/// What kind of failure a client error is.
fn kind_of(error: &memcache::exp::Error) -> BackendErrorKind {
    use memcache::exp::Error as E;
    match error {
        E::Timeout { .. } => BackendErrorKind::Timeout,
        E::Ambiguous { source, .. } => kind_of(source),
        E::Io(io) => BackendErrorKind::of_network_io(io),
        E::Protocol(_) => BackendErrorKind::Protocol,
        E::Server(_) | E::Rejected(_) => BackendErrorKind::Server,
        _ => BackendErrorKind::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use memcache::exp::Error as E;

    fn kind(e: E) -> BackendErrorKind {
        match client_error(Operation::Load)(e) {
            Error::Backend(b) => {
                assert_eq!(b.store(), Some("memcache"));
                assert_eq!(b.operation(), Some(Operation::Load));
                b.kind()
            }
            other => panic!("expected Backend, got {other:?}"),
        }
    }

    #[test]
    fn kinds() {
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert_eq!(kind(E::Io(refused)), BackendErrorKind::Unavailable);
        let late = std::io::Error::from(std::io::ErrorKind::TimedOut);
        assert_eq!(kind(E::Io(late)), BackendErrorKind::Timeout);
        assert_eq!(
            kind(E::Timeout { key: b"k".to_vec() }),
            BackendErrorKind::Timeout
        );
        let reset = std::io::Error::from(std::io::ErrorKind::ConnectionReset);
        let ambiguous = E::Ambiguous {
            key: b"k".to_vec(),
            source: Box::new(E::Io(reset)),
        };
        assert_eq!(kind(ambiguous), BackendErrorKind::Unavailable);
        assert_eq!(kind(E::Protocol("?".into())), BackendErrorKind::Protocol);
        assert_eq!(
            kind(E::Server("out of memory".into())),
            BackendErrorKind::Server
        );
        let odd = unexpected(Operation::Create, "add answered Exists");
        assert!(!odd.is_temporary());
        assert_eq!(
            odd.to_string(),
            "session backend failed: memcache create: unexpected answer: add answered Exists"
        );
    }
}
