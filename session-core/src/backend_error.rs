//! The one typed error every backend reports its failures with: which store, which
//! operation, what kind of failure, and the client library's own error as the source.

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::io;
use std::time::Duration;

use crate::{BoxError, Error, Result};

/// A store operation, as a [`BackendError`] names it.
///
/// The first nine are the [`SessionStore`](crate::SessionStore) methods; `Connect` and
/// `Migrate` are what a store does before it serves: reaching its server (or opening
/// its files, loading its scripts) and creating its schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Operation {
    /// `load`.
    Load,
    /// `create`.
    Create,
    /// `save`.
    Save,
    /// `touch`.
    Touch,
    /// `delete`.
    Delete,
    /// `delete_expired`.
    DeleteExpired,
    /// `count`.
    Count,
    /// `scan`.
    Scan,
    /// `delete_keys`.
    DeleteKeys,
    /// `sessions_of`.
    SessionsOf,
    /// `revoke_user`.
    RevokeUser,
    /// `revoke_session`.
    RevokeSession,
    /// Reaching the server or opening the store's files, when the store is built.
    Connect,
    /// Creating or upgrading the store's schema.
    Migrate,
}

impl Operation {
    /// The operation's name as the trait spells it: `"load"`, `"delete_expired"`...
    pub const fn name(self) -> &'static str {
        match self {
            Operation::Load => "load",
            Operation::Create => "create",
            Operation::Save => "save",
            Operation::Touch => "touch",
            Operation::Delete => "delete",
            Operation::DeleteExpired => "delete_expired",
            Operation::Count => "count",
            Operation::Scan => "scan",
            Operation::DeleteKeys => "delete_keys",
            Operation::SessionsOf => "sessions_of",
            Operation::RevokeUser => "revoke_user",
            Operation::RevokeSession => "revoke_session",
            Operation::Connect => "connect",
            Operation::Migrate => "migrate",
        }
    }

    /// Whether the operation writes. A temporary failure of a write leaves its outcome
    /// unknown: the command may have reached the server before the answer was lost.
    pub const fn is_write(self) -> bool {
        matches!(
            self,
            Operation::Create
                | Operation::Save
                | Operation::Touch
                | Operation::Delete
                | Operation::DeleteExpired
                | Operation::DeleteKeys
                | Operation::RevokeUser
                | Operation::RevokeSession
                | Operation::Migrate
        )
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What kind of failure a [`BackendError`] is. The HTTP layer answers the temporary
/// ones ([`BackendErrorKind::is_temporary`]) with `503` + `Retry-After`, the others
/// with `500`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BackendErrorKind {
    /// No answer in time: the store's own operation timeout, a socket timeout, or no
    /// pooled connection to be had. Temporary.
    Timeout,
    /// The server cannot be reached or is not serving: connection refused, reset or
    /// dropped, pool closed, server starting up or shutting down. Temporary.
    Unavailable,
    /// A local I/O failure: a file that cannot be read or written (permissions, a full
    /// disk, a path that is not a directory). Not temporary: retrying does not help
    /// until someone fixes the machine.
    Io,
    /// The server answered something the store cannot use: a reply of the wrong
    /// shape, a parse failure. Not temporary.
    Protocol,
    /// The server answered with an error of its own: a missing table, a refused
    /// command, a permission. Not temporary.
    Server,
    /// Anything else, and what [`Error::backend`] gives a third-party store's error
    /// that says nothing more. Not temporary.
    Other,
}

impl BackendErrorKind {
    /// Whether retrying the same request later may succeed without anyone changing
    /// anything: [`Timeout`](BackendErrorKind::Timeout) and
    /// [`Unavailable`](BackendErrorKind::Unavailable).
    pub const fn is_temporary(self) -> bool {
        matches!(
            self,
            BackendErrorKind::Timeout | BackendErrorKind::Unavailable
        )
    }

    /// The kind of a failed socket call to a server: a timeout is
    /// [`Timeout`](BackendErrorKind::Timeout); any other I/O error on a connection
    /// (refused, reset, closed mid-answer, no route...) means the server is out of
    /// reach, [`Unavailable`](BackendErrorKind::Unavailable).
    pub fn of_network_io(err: &io::Error) -> Self {
        match err.kind() {
            io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => BackendErrorKind::Timeout,
            _ => BackendErrorKind::Unavailable,
        }
    }

    const fn describe(self) -> &'static str {
        match self {
            BackendErrorKind::Timeout => "timed out",
            BackendErrorKind::Unavailable => "unavailable",
            BackendErrorKind::Io => "I/O error",
            BackendErrorKind::Protocol => "unexpected answer",
            BackendErrorKind::Server => "server error",
            BackendErrorKind::Other => "failed",
        }
    }
}

impl fmt::Display for BackendErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// A backend failure, inside [`Error::Backend`]: which store (`"redis"`, `"file"`...),
/// which [`Operation`], what [kind](BackendErrorKind) of failure, and the client
/// library's error as its [`source`](StdError::source).
///
/// A backend maps its client's errors into this once; callers read the kind instead
/// of downcasting. [`Error::backend`] wraps any error with kind `Other`; the builder
/// methods say more:
///
/// ```
/// use std::io;
/// use session_core::{BackendError, BackendErrorKind, Error, Operation};
///
/// let refused = io::Error::new(io::ErrorKind::ConnectionRefused, "connection refused");
/// let err: Error = BackendError::new(BackendErrorKind::Unavailable, refused)
///     .with_store("mystore")
///     .with_operation(Operation::Load)
///     .into();
/// assert!(err.is_temporary());
/// assert_eq!(
///     err.to_string(),
///     "session backend failed: mystore load: unavailable: connection refused"
/// );
///
/// // A third-party store that says nothing more: kind Other, not temporary.
/// let Error::Backend(plain) = Error::backend("disk on fire") else { unreachable!() };
/// assert_eq!(plain.kind(), BackendErrorKind::Other);
/// assert!(!plain.is_temporary());
/// ```
#[derive(Debug)]
pub struct BackendError {
    store: Option<&'static str>,
    operation: Option<Operation>,
    kind: BackendErrorKind,
    context: Option<String>,
    source: BoxError,
}

impl BackendError {
    /// A failure of `kind` caused by `source`; name the store and the operation with
    /// [`with_store`](BackendError::with_store) and
    /// [`with_operation`](BackendError::with_operation).
    pub fn new(kind: BackendErrorKind, source: impl Into<BoxError>) -> Self {
        BackendError {
            store: None,
            operation: None,
            kind,
            context: None,
            source: source.into(),
        }
    }

    /// A [`Timeout`](BackendErrorKind::Timeout): nothing answered within `after`.
    pub fn timed_out(after: Duration) -> Self {
        Self::new(BackendErrorKind::Timeout, Elapsed(after))
    }

    /// Names the store: a short, static name (`"redis"`, `"file"`, `"sql"`).
    pub fn with_store(mut self, store: &'static str) -> Self {
        self.store = Some(store);
        self
    }

    /// Names the operation that failed.
    pub fn with_operation(mut self, operation: Operation) -> Self {
        self.operation = Some(operation);
        self
    }

    /// Names the operation unless one is named already: for a helper deep inside a
    /// store that does not know which store method called it.
    pub fn or_operation(mut self, operation: Operation) -> Self {
        self.operation.get_or_insert(operation);
        self
    }

    /// What exactly failed, in words, shown before the source: the file and the step
    /// (`"read /var/sessions/ab/cd"`), a hint (`"the session table is missing"`).
    pub fn with_context(mut self, context: impl Into<String>) -> Self {
        self.context = Some(context.into());
        self
    }

    /// The store's name, if it gave one.
    pub fn store(&self) -> Option<&'static str> {
        self.store
    }

    /// The operation that failed, if the store named it.
    pub fn operation(&self) -> Option<Operation> {
        self.operation
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> BackendErrorKind {
        self.kind
    }

    /// The context given with [`with_context`](BackendError::with_context).
    pub fn context(&self) -> Option<&str> {
        self.context.as_deref()
    }

    /// Whether retrying later may succeed: the kind is `Timeout` or `Unavailable`
    /// ([`BackendErrorKind::is_temporary`]).
    pub fn is_temporary(&self) -> bool {
        self.kind.is_temporary()
    }

    /// Whether nothing answered in time.
    pub fn is_timeout(&self) -> bool {
        self.kind == BackendErrorKind::Timeout
    }

    /// The client library's error, if it is a `T`: for a store that needs to look at
    /// its own client's error again (a SQL store reading the SQLSTATE).
    pub fn source_as<T: StdError + 'static>(&self) -> Option<&T> {
        self.source.downcast_ref::<T>()
    }
}

impl fmt::Display for BackendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.store, self.operation) {
            (Some(store), Some(op)) => write!(f, "{store} {op}: ")?,
            (Some(name), None) => write!(f, "{name}: ")?,
            (None, Some(op)) => write!(f, "{op}: ")?,
            (None, None) => {}
        }
        if self.kind != BackendErrorKind::Other {
            write!(f, "{}: ", self.kind)?;
        }
        if let Some(context) = &self.context {
            write!(f, "{context}: ")?;
        }
        write!(f, "{}", self.source)
    }
}

impl StdError for BackendError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(&*self.source)
    }
}

/// The source of [`BackendError::timed_out`].
#[derive(Debug)]
struct Elapsed(Duration);

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "no answer within {:?}", self.0)
    }
}

impl StdError for Elapsed {}

/// Runs `work` for at most `limit`: past it the caller gets a [`BackendError`] of
/// kind [`Timeout`](BackendErrorKind::Timeout) naming `store` and `operation`, whatever
/// the server does. `work` is dropped at the deadline, which cancels it.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
/// use std::time::Duration;
/// use session_core::{with_timeout, Error, Operation};
///
/// let stalled = std::future::pending::<session_core::Result<()>>();
/// let err = with_timeout("mystore", Operation::Save, Duration::from_millis(5), stalled)
///     .await
///     .unwrap_err();
/// assert!(err.is_temporary());
/// assert_eq!(
///     err.to_string(),
///     "session backend failed: mystore save: timed out: no answer within 5ms"
/// );
/// # });
/// ```
pub async fn with_timeout<T>(
    store: &'static str,
    operation: Operation,
    limit: Duration,
    work: impl Future<Output = Result<T>>,
) -> Result<T> {
    match tokio::time::timeout(limit, work).await {
        Ok(result) => result,
        Err(_) => Err(BackendError::timed_out(limit)
            .with_store(store)
            .with_operation(operation)
            .into()),
    }
}

impl From<BackendError> for Error {
    fn from(err: BackendError) -> Self {
        Error::Backend(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_store_operation_and_kind() {
        let refused = io::Error::new(io::ErrorKind::ConnectionRefused, "refused");
        let err = BackendError::new(BackendErrorKind::Unavailable, refused)
            .with_store("redis")
            .with_operation(Operation::DeleteExpired);
        assert_eq!(
            err.to_string(),
            "redis delete_expired: unavailable: refused"
        );
        assert_eq!(err.store(), Some("redis"));
        assert_eq!(err.operation(), Some(Operation::DeleteExpired));

        let err = BackendError::new(BackendErrorKind::Io, "Permission denied")
            .with_store("file")
            .with_operation(Operation::Load)
            .with_context("read /var/s/ab");
        assert_eq!(
            err.to_string(),
            "file load: I/O error: read /var/s/ab: Permission denied"
        );
        assert_eq!(err.context(), Some("read /var/s/ab"));

        let err = BackendError::timed_out(Duration::from_secs(2))
            .with_store("sql")
            .with_operation(Operation::Save);
        assert_eq!(err.to_string(), "sql save: timed out: no answer within 2s");
        assert!(err.is_timeout());

        // Nothing named: just the source, as the old boxed error showed it.
        let Error::Backend(plain) = Error::backend("down") else {
            panic!("backend() is Error::Backend");
        };
        assert_eq!(plain.to_string(), "down");
        assert_eq!(plain.store(), None);
        assert_eq!(plain.operation(), None);
        assert_eq!(
            Error::Backend(plain).to_string(),
            "session backend failed: down"
        );
    }

    #[test]
    fn only_timeouts_and_unavailable_servers_are_temporary() {
        use BackendErrorKind::*;
        for (kind, temporary) in [
            (Timeout, true),
            (Unavailable, true),
            (Io, false),
            (Protocol, false),
            (Server, false),
            (Other, false),
        ] {
            assert_eq!(kind.is_temporary(), temporary, "{kind:?}");
            let err = Error::from(BackendError::new(kind, "x"));
            assert_eq!(err.is_temporary(), temporary, "{kind:?}");
        }
        assert!(!Error::Conflict.is_temporary());
        assert!(!Error::Config("x".into()).is_temporary());
    }

    #[test]
    fn network_io_errors_are_temporary() {
        use BackendErrorKind::{Timeout, Unavailable};
        let kind = |k| BackendErrorKind::of_network_io(&io::Error::from(k));
        assert_eq!(kind(io::ErrorKind::TimedOut), Timeout);
        assert_eq!(kind(io::ErrorKind::ConnectionRefused), Unavailable);
        assert_eq!(kind(io::ErrorKind::ConnectionReset), Unavailable);
        assert_eq!(kind(io::ErrorKind::UnexpectedEof), Unavailable);
    }

    #[test]
    fn backend_keeps_a_backend_error_whole() {
        let precise = BackendError::new(BackendErrorKind::Timeout, "slow").with_store("x");
        let Error::Backend(kept) = Error::backend(precise) else {
            panic!("backend() is Error::Backend");
        };
        assert_eq!(kept.kind(), BackendErrorKind::Timeout);
        assert_eq!(kept.store(), Some("x"));
        let io = BackendError::new(BackendErrorKind::Io, io::Error::other("boom"));
        assert!(io.source_as::<io::Error>().is_some());
        assert!(io.source().is_some());
    }

    #[test]
    fn or_operation_does_not_override() {
        let err = BackendError::new(BackendErrorKind::Io, "x")
            .with_operation(Operation::Scan)
            .or_operation(Operation::Load);
        assert_eq!(err.operation(), Some(Operation::Scan));
        let err = BackendError::new(BackendErrorKind::Io, "x").or_operation(Operation::Load);
        assert_eq!(err.operation(), Some(Operation::Load));
        assert!(Operation::Save.is_write() && !Operation::Load.is_write());
    }

    #[tokio::test]
    async fn with_timeout_passes_results_and_bounds_the_wait() {
        let ok = with_timeout("s", Operation::Load, Duration::from_secs(1), async {
            Ok::<_, Error>(7)
        });
        assert_eq!(ok.await.unwrap(), 7);
        let started = std::time::Instant::now();
        let late = with_timeout("s", Operation::Touch, Duration::from_millis(20), async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            Ok(())
        });
        let Err(Error::Backend(err)) = late.await else {
            panic!("a late answer is a backend error");
        };
        assert!(started.elapsed() < Duration::from_secs(1));
        assert!(err.is_timeout() && err.is_temporary());
        assert_eq!(err.operation(), Some(Operation::Touch));
    }
}
