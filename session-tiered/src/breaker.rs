//! Stops calling a cache that just failed, for a moment.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use session_core::{BackendError, BackendErrorKind, Error, Result};

/// How long a failed cache is left alone before the next call tries it again.
pub(crate) const COOLDOWN: Duration = Duration::from_secs(1);

/// A circuit breaker for the cache server. Without it, every request during a cache
/// outage would wait out the cache client's timeout (2 s by default on Redis) before
/// reading the durable store; with it, one call per [`COOLDOWN`] pays that, and the
/// rest go straight to the durable store. Any backend error (unreachable, timed out)
/// opens it; answers such as `Conflict` or `NotFound` are the cache working.
#[derive(Debug)]
pub(crate) struct Breaker {
    started: Instant,
    /// Milliseconds since `started` until which calls are refused (0: closed).
    open_until_ms: AtomicU64,
    store: &'static str,
}

impl Breaker {
    pub(crate) fn new(store: &'static str) -> Self {
        Breaker {
            started: Instant::now(),
            open_until_ms: AtomicU64::new(0),
            store,
        }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Whether calls are refused right now.
    pub(crate) fn is_open(&self) -> bool {
        self.now_ms() < self.open_until_ms.load(Ordering::Acquire)
    }

    /// Runs `call` unless the breaker is open (then it is dropped unpolled: no I/O, and
    /// an `Unavailable` error answers); a backend error from it opens the breaker.
    pub(crate) async fn call<T>(&self, call: impl Future<Output = Result<T>>) -> Result<T> {
        if self.is_open() {
            return Err(Error::Backend(
                BackendError::new(
                    BackendErrorKind::Unavailable,
                    "the cache failed a moment ago; not tried again yet",
                )
                .with_store(self.store),
            ));
        }
        let result = call.await;
        if matches!(result, Err(Error::Backend(_))) {
            let until = self.now_ms().saturating_add(COOLDOWN.as_millis() as u64);
            self.open_until_ms.fetch_max(until, Ordering::AcqRel);
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn down() -> Result<()> {
        Err(Error::Backend(BackendError::new(
            BackendErrorKind::Unavailable,
            "refused",
        )))
    }

    #[tokio::test]
    async fn a_backend_error_opens_it_and_other_answers_do_not() {
        let breaker = Breaker::new("test");
        assert!(matches!(
            breaker.call(async { Err::<(), _>(Error::Conflict) }).await,
            Err(Error::Conflict)
        ));
        assert!(!breaker.is_open());
        assert!(breaker.call(down()).await.is_err());
        assert!(breaker.is_open());
        let mut polled = false;
        let refused = breaker
            .call(async {
                polled = true;
                Ok(())
            })
            .await;
        assert!(matches!(refused, Err(Error::Backend(_))));
        assert!(!polled, "an open breaker does no I/O");
    }
}
