//! The one connection a store talks through, standalone or cluster, and the timeout
//! every round trip runs under.

use std::fmt;
use std::future::Future;
use std::time::Duration;

use redis::aio::{ConnectionLike, ConnectionManager};
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, Pipeline, RedisError, RedisFuture, RedisResult, Value};
use session_core::{BackendError, BackendErrorKind, Error, Operation, Result};

/// A multiplexed connection to one server or to a cluster. Both halves are cheap,
/// reconnecting handles that clones share.
#[derive(Clone)]
pub(crate) enum Connection {
    Standalone(ConnectionManager),
    Cluster(ClusterConnection),
}

impl Connection {
    pub(crate) fn is_cluster(&self) -> bool {
        matches!(self, Connection::Cluster(_))
    }
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Connection::Standalone(_) => "Standalone",
            Connection::Cluster(_) => "Cluster",
        })
    }
}

impl ConnectionLike for Connection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Connection::Standalone(c) => c.req_packed_command(cmd),
            Connection::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Connection::Standalone(c) => c.req_packed_commands(cmd, offset, count),
            Connection::Cluster(c) => c.req_packed_commands(cmd, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Connection::Standalone(c) => c.get_db(),
            Connection::Cluster(c) => c.get_db(),
        }
    }
}

/// The store name every [`BackendError`] from this crate carries.
pub(crate) const STORE: &str = "redis";

/// Runs one round trip under `timeout`: a late answer is a [`BackendError`] of kind
/// `Timeout`, a client or server error the one [`backend_error`] makes of it.
pub(crate) async fn timed<T>(
    operation: Operation,
    timeout: Duration,
    fut: impl Future<Output = RedisResult<T>>,
) -> Result<T> {
    let round_trip = async { fut.await.map_err(|e| backend_error(operation, e)) };
    session_core::with_timeout(STORE, operation, timeout, round_trip).await
}

/// Maps a redis-rs error from `operation` to [`Error::Backend`], of the kind
/// [`kind_of`] gives, with the redis-rs error as its source.
pub(crate) fn backend_error(operation: Operation, err: RedisError) -> Error {
    BackendError::new(kind_of(&err), err)
        .with_store(STORE)
        .with_operation(operation)
        .into()
}

/// A reply the store cannot use, from `operation` (the command is `what`).
pub(crate) fn unexpected(
    operation: Option<Operation>,
    what: &str,
    reply: impl fmt::Debug,
) -> Error {
    let mut err = BackendError::new(
        BackendErrorKind::Protocol,
        format!("unexpected reply to {what}: {reply:?}"),
    )
    .with_store(STORE);
    if let Some(operation) = operation {
        err = err.with_operation(operation);
    }
    err.into()
}

/// What kind of failure a redis-rs error is: a dropped or refused connection, or a
/// server that is loading, failing over or has lost its cluster, is an outage; a
/// reply of the wrong shape is a protocol error; any other error the server answered
/// is a server error.
fn kind_of(err: &RedisError) -> BackendErrorKind {
    use redis::{ErrorKind as K, ServerErrorKind as S};
    if err.is_timeout() {
        return BackendErrorKind::Timeout;
    }
    if err.is_io_error() || err.is_connection_dropped() || err.is_connection_refusal() {
        return BackendErrorKind::Unavailable;
    }
    match err.kind() {
        K::Server(S::BusyLoading | S::TryAgain | S::ClusterDown | S::MasterDown | S::ReadOnly)
        | K::ClusterConnectionNotFound => BackendErrorKind::Unavailable,
        K::Server(_) | K::Extension => BackendErrorKind::Server,
        K::Parse | K::UnexpectedReturnType | K::RESP3NotSupported => BackendErrorKind::Protocol,
        _ => BackendErrorKind::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backend(err: Error) -> BackendError {
        match err {
            Error::Backend(b) => b,
            other => panic!("expected Backend, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_late_answer_is_a_backend_timeout() {
        let slow = async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            Ok::<_, redis::RedisError>(1)
        };
        let started = std::time::Instant::now();
        let err = timed(Operation::Load, Duration::from_millis(20), slow)
            .await
            .unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(1));
        let timed_out = backend(err);
        assert!(timed_out.is_timeout() && timed_out.is_temporary());
        assert_eq!(timed_out.store(), Some("redis"));
        assert_eq!(timed_out.operation(), Some(Operation::Load));
        assert!(timed_out.to_string().contains("20ms"));
    }

    #[tokio::test]
    async fn a_redis_error_is_backend() {
        let failing = async {
            Err::<(), _>(redis::RedisError::from((
                redis::ErrorKind::Io,
                "connection refused",
            )))
        };
        let err = timed(Operation::Save, Duration::from_secs(1), failing)
            .await
            .unwrap_err();
        let err = backend(err);
        assert_eq!(err.kind(), BackendErrorKind::Unavailable);
        assert!(err.source_as::<redis::RedisError>().is_some());
    }

    #[test]
    fn kinds() {
        let kind = |e: RedisError| kind_of(&e);
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert_eq!(kind(refused.into()), BackendErrorKind::Unavailable);
        let late = std::io::Error::from(std::io::ErrorKind::TimedOut);
        assert_eq!(kind(late.into()), BackendErrorKind::Timeout);
        let loading = redis::ServerErrorKind::BusyLoading;
        assert_eq!(
            kind((redis::ErrorKind::Server(loading), "loading").into()),
            BackendErrorKind::Unavailable
        );
        let err = redis::ServerErrorKind::ResponseError;
        assert_eq!(
            kind((redis::ErrorKind::Server(err), "unknown command").into()),
            BackendErrorKind::Server
        );
        assert_eq!(
            kind((redis::ErrorKind::UnexpectedReturnType, "not an int").into()),
            BackendErrorKind::Protocol
        );
        let odd = backend(unexpected(Some(Operation::Save), "the save script", 7));
        assert_eq!(odd.kind(), BackendErrorKind::Protocol);
        assert!(!odd.is_temporary());
        assert_eq!(
            odd.to_string(),
            "redis save: unexpected answer: unexpected reply to the save script: 7"
        );
    }
}
