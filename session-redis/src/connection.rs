//! The one connection a store talks through, standalone or cluster, and the timeout
//! every round trip runs under.

use std::fmt;
use std::future::Future;
use std::time::Duration;

use redis::aio::{ConnectionLike, ConnectionManager};
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, Pipeline, RedisFuture, RedisResult, Value};
use session_core::{Error, Result};

/// The error inside [`Error::Backend`] when the server did not answer in time.
/// Callers can tell a timeout from other backend failures by downcasting the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct TimedOut {
    /// What the store was doing.
    pub operation: &'static str,
    /// The configured timeout that ran out.
    pub after: Duration,
}

impl fmt::Display for TimedOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "redis did not answer `{}` within {:?}",
            self.operation, self.after
        )
    }
}

impl std::error::Error for TimedOut {}

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

/// Runs one round trip under `timeout`: a late answer becomes [`Error::Backend`] around
/// [`TimedOut`], a client or server error [`Error::Backend`] around the
/// [`redis::RedisError`].
pub(crate) async fn timed<T>(
    operation: &'static str,
    timeout: Duration,
    fut: impl Future<Output = RedisResult<T>>,
) -> Result<T> {
    match tokio::time::timeout(timeout, fut).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(Error::backend(e)),
        Err(_) => Err(Error::backend(TimedOut {
            operation,
            after: timeout,
        })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_late_answer_is_a_backend_timeout() {
        let slow = async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            Ok::<_, redis::RedisError>(1)
        };
        let started = std::time::Instant::now();
        let err = timed("load", Duration::from_millis(20), slow)
            .await
            .unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(1));
        let Error::Backend(source) = err else {
            panic!("expected Backend, got {err:?}")
        };
        let timed_out = source.downcast_ref::<TimedOut>().unwrap();
        assert_eq!(timed_out.operation, "load");
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
        let err = timed("save", Duration::from_secs(1), failing)
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Backend(_)));
    }
}
