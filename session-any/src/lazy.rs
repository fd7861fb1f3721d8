//! A store that connects on its first operation, so that an app starts while its
//! session server is down and serves again, without a restart, once it is back.
//!
//! Until it has connected, every operation needs a connection first:
//!
//! - one connect attempt runs at a time, bounded by the backend's connect timeout;
//!   an operation that finds one in flight waits for it at most [`JOIN_WAIT`];
//! - after a failed attempt, operations fail at once with that attempt's error (same
//!   store, same kind: an unreachable server is temporary, so the HTTP layer answers
//!   `503`) until a backoff has passed: [`FIRST_BACKOFF`], doubling up to
//!   [`MAX_BACKOFF`], back to the start once connected;
//! - once connected, the backend's own store serves every operation and does its own
//!   reconnecting, exactly as an eagerly opened one.

use std::error::Error as StdError;
use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use session_core::{
    with_timeout, BackendError, BackendErrorKind, Capabilities, DeleteIf, Error, Operation, Record,
    Result, ScanCursor, ScanPage, SessionId, SessionStore, StorageKey, UserKey, UserSessionsPage,
};
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::url::OpenFuture;

/// The pause after the first failed attempt.
pub(crate) const FIRST_BACKOFF: Duration = Duration::from_millis(250);
/// The longest pause between two attempts: a server back from an outage is used again
/// within this (plus one attempt) of the next request.
pub(crate) const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// How long an operation waits for an attempt another operation started. A connect
/// that succeeds takes milliseconds, so this covers the recovery; one that hangs
/// (a server that drops packets) holds up only the operation that started it.
pub(crate) const JOIN_WAIT: Duration = Duration::from_millis(250);

/// What a lazily opened store knows before it connects, read from its URL alone.
pub(crate) struct LazyPlan {
    /// The store name its errors carry (`"redis"`, `"sql"`, `"memcache"`).
    pub(crate) store: &'static str,
    /// What [`SessionStore::backend`] answers, connected or not (`"postgres"`,
    /// `"redis-cluster"`...): metrics keep one label across the connect.
    pub(crate) backend: &'static str,
    /// What the store can do; none of the network backends' capabilities depend on
    /// the server (Redis Cluster or not is in the URL's scheme), so they are known now.
    pub(crate) capabilities: Capabilities,
    /// The bound on one connect attempt (connecting, loading scripts, migrating).
    pub(crate) connect_timeout: Duration,
}

/// Opens the real store; called once per attempt.
pub(crate) type Connector = Box<dyn Fn() -> OpenFuture + Send + Sync>;

/// See the module docs.
pub(crate) struct LazyStore {
    connected: OnceLock<Arc<dyn SessionStore>>,
    connector: Connector,
    attempts: Mutex<Attempts>,
    plan: LazyPlan,
}

/// The attempts so far, while not connected.
struct Attempts {
    last: Option<Failure>,
    /// No attempt before this, after a failure.
    retry_at: Option<Instant>,
    /// The pause after the next failure.
    backoff: Duration,
}

/// A failed attempt, kept to answer the operations that come before the next one
/// (an [`Error`] cannot be cloned: its source is the client library's error).
#[derive(Clone)]
enum Failure {
    Backend {
        kind: BackendErrorKind,
        store: Option<&'static str>,
        operation: Option<Operation>,
        context: Option<String>,
        source: String,
    },
    Config(String),
    /// Something else: kept as text, answered as a backend error of kind `Other`.
    Other(String),
}

impl Failure {
    fn of(err: &Error) -> Self {
        match err {
            Error::Backend(b) => Failure::Backend {
                kind: b.kind(),
                store: b.store(),
                operation: b.operation(),
                context: b.context().map(str::to_owned),
                source: StdError::source(b).map_or_else(|| b.to_string(), |s| s.to_string()),
            },
            Error::Config(msg) => Failure::Config(msg.clone()),
            other => Failure::Other(other.to_string()),
        }
    }

    /// The error an operation gets while the store waits to try again.
    fn to_error(&self, plan: &LazyPlan, retry_in: Duration) -> Error {
        let waiting = format!("not connected, next attempt in {}ms", retry_in.as_millis());
        match self {
            Failure::Backend {
                kind,
                store,
                operation,
                context,
                source,
            } => {
                let context = match context {
                    Some(c) => format!("{waiting}: {c}"),
                    None => waiting,
                };
                BackendError::new(*kind, Earlier(source.clone()))
                    .with_store(store.unwrap_or(plan.store))
                    .with_operation(operation.unwrap_or(Operation::Connect))
                    .with_context(context)
                    .into()
            }
            Failure::Config(msg) => Error::Config(msg.clone()),
            Failure::Other(text) => {
                BackendError::new(BackendErrorKind::Other, Earlier(text.clone()))
                    .with_store(plan.store)
                    .with_operation(Operation::Connect)
                    .with_context(waiting)
                    .into()
            }
        }
    }
}

/// The text of an earlier attempt's error, as the source of the errors that repeat it.
#[derive(Debug)]
struct Earlier(String);

impl fmt::Display for Earlier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl StdError for Earlier {}

impl LazyStore {
    /// A store that calls `connector` on its first operation.
    pub(crate) fn new(plan: LazyPlan, connector: Connector) -> Self {
        LazyStore {
            connected: OnceLock::new(),
            connector,
            attempts: Mutex::new(Attempts {
                last: None,
                retry_at: None,
                backoff: FIRST_BACKOFF,
            }),
            plan,
        }
    }

    /// Whether a connection has been made.
    pub(crate) fn is_connected(&self) -> bool {
        self.connected.get().is_some()
    }

    /// Connects now if not connected yet, whatever the backoff says, waiting for an
    /// attempt in flight first: for start-up checks and tools.
    pub(crate) async fn connect_now(&self) -> Result<()> {
        if self.is_connected() {
            return Ok(());
        }
        let mut attempts = self.attempts.lock().await;
        self.attempt(&mut attempts).await.map(drop)
    }

    /// The connected store, connecting first if the backoff allows.
    async fn store(&self) -> Result<&Arc<dyn SessionStore>> {
        if let Some(store) = self.connected.get() {
            return Ok(store);
        }
        let Ok(mut attempts) = tokio::time::timeout(JOIN_WAIT, self.attempts.lock()).await else {
            return Err(self.in_progress());
        };
        if let Some(store) = self.connected.get() {
            return Ok(store);
        }
        if let (Some(retry_at), Some(last)) = (attempts.retry_at, &attempts.last) {
            let now = Instant::now();
            if now < retry_at {
                return Err(last.to_error(&self.plan, retry_at - now));
            }
        }
        self.attempt(&mut attempts).await
    }

    /// One attempt, under the lock; records a failure and the pause that follows it.
    async fn attempt(&self, attempts: &mut Attempts) -> Result<&Arc<dyn SessionStore>> {
        let opening = (self.connector)();
        let limit = self.plan.connect_timeout;
        match with_timeout(self.plan.store, Operation::Connect, limit, opening).await {
            Ok(store) => {
                attempts.last = None;
                attempts.retry_at = None;
                attempts.backoff = FIRST_BACKOFF;
                Ok(self.connected.get_or_init(|| store))
            }
            Err(err) => {
                attempts.last = Some(Failure::of(&err));
                attempts.retry_at = Some(Instant::now() + attempts.backoff);
                attempts.backoff = (attempts.backoff * 2).min(MAX_BACKOFF);
                Err(err)
            }
        }
    }

    /// The error of an operation that gave up waiting for another one's attempt.
    fn in_progress(&self) -> Error {
        BackendError::new(
            BackendErrorKind::Unavailable,
            Earlier(format!(
                "not connected yet: a connection attempt is in progress (bounded by {:?})",
                self.plan.connect_timeout
            )),
        )
        .with_store(self.plan.store)
        .with_operation(Operation::Connect)
        .into()
    }
}

#[async_trait]
impl SessionStore for LazyStore {
    fn capabilities(&self) -> Capabilities {
        self.plan.capabilities
    }

    fn backend(&self) -> &'static str {
        self.plan.backend
    }

    async fn load(&self, cookie_value: &str) -> Result<Option<Record>> {
        self.store().await?.load(cookie_value).await
    }

    async fn create(&self, record: &Record) -> Result<String> {
        self.store().await?.create(record).await
    }

    async fn save(&self, record: &Record, expected_version: u64) -> Result<String> {
        self.store().await?.save(record, expected_version).await
    }

    async fn touch(&self, record: &Record) -> Result<String> {
        self.store().await?.touch(record).await
    }

    fn needs_refresh(&self, cookie_value: &str) -> bool {
        // Server stores never ask for a refresh; until connected there is no store to ask.
        self.connected
            .get()
            .is_some_and(|s| s.needs_refresh(cookie_value))
    }

    async fn delete(&self, id: &SessionId) -> Result<()> {
        self.store().await?.delete(id).await
    }

    async fn delete_expired(&self) -> Result<u64> {
        self.store().await?.delete_expired().await
    }

    async fn count(&self) -> Result<u64> {
        self.store().await?.count().await
    }

    async fn scan(&self, cursor: Option<ScanCursor>, limit: usize) -> Result<ScanPage> {
        self.store().await?.scan(cursor, limit).await
    }

    async fn delete_keys(&self, keys: &[StorageKey], only: DeleteIf) -> Result<u64> {
        self.store().await?.delete_keys(keys, only).await
    }

    async fn sessions_of(
        &self,
        user: &UserKey,
        cursor: Option<ScanCursor>,
        limit: usize,
    ) -> Result<UserSessionsPage> {
        self.store().await?.sessions_of(user, cursor, limit).await
    }

    async fn revoke_user(&self, user: &UserKey, except: Option<&StorageKey>) -> Result<u64> {
        self.store().await?.revoke_user(user, except).await
    }

    async fn revoke_session(&self, user: &UserKey, key: &StorageKey) -> Result<bool> {
        self.store().await?.revoke_session(user, key).await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::atomic::{AtomicUsize, Ordering};

    use session_core::MemoryStore;

    use super::*;

    /// A connector that fails while `down` says so, counting its attempts.
    fn flaky(down: Arc<std::sync::atomic::AtomicBool>, calls: Arc<AtomicUsize>) -> Connector {
        Box::new(move || {
            let down = down.load(Ordering::SeqCst);
            calls.fetch_add(1, Ordering::SeqCst);
            Box::pin(async move {
                tokio::time::sleep(Duration::from_millis(10)).await;
                if down {
                    let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
                    Err(BackendError::new(BackendErrorKind::Unavailable, refused)
                        .with_store("test")
                        .with_operation(Operation::Connect)
                        .into())
                } else {
                    Ok(Arc::new(MemoryStore::new()) as Arc<dyn SessionStore>)
                }
            })
        })
    }

    fn plan() -> LazyPlan {
        LazyPlan {
            store: "test",
            backend: "memory",
            capabilities: MemoryStore::new().capabilities(),
            connect_timeout: Duration::from_secs(1),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn one_attempt_at_a_time_then_backoff_then_recovery() {
        let down = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let calls = Arc::new(AtomicUsize::new(0));
        let store = Arc::new(LazyStore::new(plan(), flaky(down.clone(), calls.clone())));
        assert!(!store.is_connected());

        // Twenty operations at once: one attempt; the others wait for it and then get
        // its error, temporary.
        let ops: Vec<_> = (0..20)
            .map(|_| {
                let store = store.clone();
                tokio::spawn(async move { store.count().await })
            })
            .collect();
        for op in ops {
            let err = op.await.unwrap().unwrap_err();
            assert!(err.is_temporary(), "{err}");
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);

        // Within the backoff: no attempt, the same error.
        let err = store.count().await.unwrap_err();
        assert!(err.is_temporary());
        let Error::Backend(b) = &err else {
            panic!("{err}")
        };
        assert_eq!(b.store(), Some("test"));
        assert!(
            err.to_string().contains("not connected, next attempt in"),
            "{err}"
        );
        assert!(err.to_string().contains("refused"), "{err}");
        assert_eq!(calls.load(Ordering::SeqCst), 1);

        // After it: one more attempt, and the pause doubles.
        tokio::time::advance(FIRST_BACKOFF).await;
        assert!(store.count().await.unwrap_err().is_temporary());
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        tokio::time::advance(FIRST_BACKOFF).await;
        assert!(store.count().await.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 2, "the second pause is 500ms");

        // The server is back: the first operation after the pause connects.
        down.store(false, Ordering::SeqCst);
        tokio::time::advance(FIRST_BACKOFF).await;
        assert_eq!(store.count().await.unwrap(), 0);
        assert!(store.is_connected());
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        assert_eq!(store.count().await.unwrap(), 0);
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn the_backoff_is_capped_and_connect_now_ignores_it() {
        let down = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let calls = Arc::new(AtomicUsize::new(0));
        let store = LazyStore::new(plan(), flaky(down.clone(), calls.clone()));
        for _ in 0..10 {
            assert!(store.connect_now().await.is_err());
        }
        assert_eq!(store.attempts.lock().await.backoff, MAX_BACKOFF);
        down.store(false, Ordering::SeqCst);
        store.connect_now().await.unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 11);
        assert!(store.is_connected());
    }

    #[tokio::test(start_paused = true)]
    async fn a_hanging_attempt_is_cut_at_the_connect_timeout_and_waiters_give_up_sooner() {
        let store = Arc::new(LazyStore::new(
            plan(),
            Box::new(|| Box::pin(std::future::pending())),
        ));
        let first = {
            let store = store.clone();
            tokio::spawn(async move {
                let started = Instant::now();
                (store.load("x").await.unwrap_err(), started.elapsed())
            })
        };
        tokio::time::sleep(Duration::from_millis(1)).await;
        let started = Instant::now();
        let waiter = store.load("x").await.unwrap_err();
        assert_eq!(started.elapsed(), JOIN_WAIT);
        assert!(waiter.is_temporary(), "{waiter}");
        assert!(waiter.to_string().contains("in progress"), "{waiter}");
        let (err, took) = first.await.unwrap();
        assert_eq!(took, Duration::from_secs(1));
        let Error::Backend(b) = &err else {
            panic!("{err}")
        };
        assert!(
            b.is_timeout() && b.operation() == Some(Operation::Connect),
            "{err}"
        );
    }
}
