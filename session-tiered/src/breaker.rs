//! Stops calling a cache server or bus that just failed, for a moment.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use session_core::{BackendError, BackendErrorKind, Error, Result};

/// How long a failed cache is left alone before the next call tries it again.
pub(crate) const COOLDOWN: Duration = Duration::from_secs(1);

/// A failure quicker than this does not open the breaker: repeating it costs nothing
/// (a refused connection, a bus whose listener is still connecting), and what the
/// breaker saves is the wait for a timeout.
pub(crate) const SLOW_FAILURE: Duration = Duration::from_millis(25);

/// A circuit breaker for the cache server (or the invalidation bus). Without it, every
/// request during an outage would wait out the client's timeout (2 s by default on
/// Redis) before reading the durable store or queueing its invalidation; with it, one
/// call per [`COOLDOWN`] pays that, and the rest go straight on. A backend error
/// (unreachable, timed out) that took [`SLOW_FAILURE`] or longer opens it; answers such
/// as `Conflict` or `NotFound` are the cache working, and close it.
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

    /// Whether a call may go out: always while closed; while open, none until the
    /// cooldown is over, then one (the probe), and the rest keep being refused until
    /// its answer is in.
    fn admit(&self) -> bool {
        let until = self.open_until_ms.load(Ordering::Acquire);
        if until == 0 {
            return true;
        }
        let now = self.now_ms();
        if now < until {
            return false;
        }
        self.open_until_ms
            .compare_exchange(
                until,
                self.cooled_at(now),
                Ordering::AcqRel,
                Ordering::Acquire,
            )
            .is_ok()
    }

    fn cooled_at(&self, now: u64) -> u64 {
        now.saturating_add(COOLDOWN.as_millis() as u64).max(1)
    }

    /// Runs `call` unless the breaker is open (then it is dropped unpolled: no I/O, and
    /// an `Unavailable` error answers); a backend error from it opens the breaker, any
    /// other answer closes it.
    pub(crate) async fn call<T>(&self, call: impl Future<Output = Result<T>>) -> Result<T> {
        if !self.admit() {
            return Err(Error::Backend(
                BackendError::new(
                    BackendErrorKind::Unavailable,
                    "failed less than a second ago; not tried again yet",
                )
                .with_store(self.store),
            ));
        }
        self.probe(call).await
    }

    /// Runs `call` even while the breaker is open, and lets its answer open or close
    /// it: for background tasks (heartbeats, retries) whose wait holds up no request,
    /// and which so find out first that the server is back.
    pub(crate) async fn probe<T>(&self, call: impl Future<Output = Result<T>>) -> Result<T> {
        let started = Instant::now();
        let result = call.await;
        let next = match result {
            Err(Error::Backend(_)) if started.elapsed() >= SLOW_FAILURE => {
                self.cooled_at(self.now_ms())
            }
            _ => 0,
        };
        self.open_until_ms.store(next, Ordering::Release);
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A backend error after a wait, as a timeout gives.
    async fn down() -> Result<()> {
        tokio::time::sleep(SLOW_FAILURE).await;
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

    #[tokio::test]
    async fn a_quick_failure_leaves_it_closed() {
        let breaker = Breaker::new("test");
        let refused = async {
            Err::<(), _>(Error::Backend(BackendError::new(
                BackendErrorKind::Unavailable,
                "connection refused",
            )))
        };
        assert!(breaker.call(refused).await.is_err());
        assert!(!breaker.is_open());
    }

    #[tokio::test]
    async fn after_the_cooldown_one_probe_goes_out_and_its_success_closes_it() {
        let breaker = Breaker::new("test");
        assert!(breaker.call(down()).await.is_err());
        // Past the cooldown (moved back rather than waited for).
        tokio::time::sleep(Duration::from_millis(5)).await;
        breaker.open_until_ms.store(1, Ordering::Release);
        let probe = breaker.call(async {
            // While the probe is out, everyone else is refused.
            assert!(!breaker.admit());
            Ok(())
        });
        assert!(probe.await.is_ok());
        assert!(!breaker.is_open());
        assert!(breaker.call(async { Ok(()) }).await.is_ok());
    }
}
