//! [`ObservedStore`]: any store, with a span and metrics for every call.

use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use metrics::{Key, Label, Metadata};
use tracing::field::Empty;

use super::{Outcome, OUTCOMES, STORE_DURATION, STORE_OPERATIONS};
use crate::{
    Capabilities, DeleteIf, Operation, Record, Result, ScanCursor, ScanPage, SessionId,
    SessionStore, StorageKey, UserKey, UserSessionsPage,
};

/// Room for every [`Operation`], by discriminant (`Migrate` is the last).
const OPERATIONS: usize = Operation::Migrate as usize + 1;

static METADATA: Metadata<'static> =
    Metadata::new(module_path!(), metrics::Level::INFO, Some(module_path!()));

/// A store that reports every call it forwards (see the [module docs](super)): a
/// `session.store` span with `backend`, `op`, `outcome` and `elapsed_us`, one count in
/// `session_store_operations_total` and one latency in
/// `session_store_duration_seconds`. Everything else (capabilities, `needs_refresh`,
/// the backend's name, every answer and error) is the wrapped store's, unchanged.
///
/// Wrap a store once: two wrappers count every call twice. `session_http::HttpSessions`
/// already wraps the store it is given.
///
/// ```
/// use std::sync::Arc;
/// use session_core::{observe::ObservedStore, MemoryStore, SessionStore};
///
/// // A concrete store, or one already shared as `Arc<dyn SessionStore>`.
/// let direct = ObservedStore::new(MemoryStore::new());
/// let shared: Arc<dyn SessionStore> = Arc::new(MemoryStore::new());
/// let wrapped = ObservedStore::from_arc(shared);
/// assert_eq!(direct.capabilities(), wrapped.inner().capabilities());
/// ```
pub struct ObservedStore<S: ?Sized = dyn SessionStore> {
    backend: &'static str,
    keys: Keys,
    inner: Arc<S>,
}

/// The metric keys, built on first use and then reused: a key built per call would
/// allocate its labels on every store call, even with no recorder installed.
struct Keys {
    operations: [[OnceLock<Key>; OUTCOMES.len()]; OPERATIONS],
    durations: [OnceLock<Key>; OPERATIONS],
}

impl<S: SessionStore> ObservedStore<S> {
    /// Observes `store`.
    pub fn new(store: S) -> Self {
        Self::from_arc(Arc::new(store))
    }
}

impl<S: SessionStore + ?Sized> ObservedStore<S> {
    /// Observes a store already behind an `Arc` (an `Arc<dyn SessionStore>` too),
    /// calling it directly, not through the `Arc`'s own forwarding.
    pub fn from_arc(store: Arc<S>) -> Self {
        ObservedStore {
            backend: store.backend(),
            keys: Keys {
                operations: std::array::from_fn(|_| std::array::from_fn(|_| OnceLock::new())),
                durations: std::array::from_fn(|_| OnceLock::new()),
            },
            inner: store,
        }
    }

    /// The wrapped store.
    pub fn inner(&self) -> &Arc<S> {
        &self.inner
    }

    /// The wrapped store itself: a method called on the `Arc` would go through its own
    /// forwarding impl, one more boxed future per call.
    fn direct(&self) -> &S {
        &self.inner
    }

    /// Runs one call of the wrapped store inside its span, then reports it.
    async fn observe<T>(
        &self,
        op: Operation,
        call: impl Future<Output = Result<T>>,
        success: impl FnOnce(&T) -> Outcome,
    ) -> Result<T> {
        let span = tracing::debug_span!(
            "session.store",
            backend = self.backend,
            op = op.name(),
            outcome = Empty,
            elapsed_us = Empty,
        );
        let started = Instant::now();
        let result = super::in_span(&span, call).await;
        let elapsed = started.elapsed();
        let outcome = match &result {
            Ok(value) => success(value),
            Err(e) => Outcome::of_error(e),
        };
        if !span.is_disabled() {
            span.record("outcome", outcome.label());
            span.record(
                "elapsed_us",
                u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
            );
        }
        self.count(op, outcome, elapsed);
        result
    }

    fn count(&self, op: Operation, outcome: Outcome, elapsed: Duration) {
        let backend = Label::from_static_parts("backend", self.backend);
        let op_label = Label::from_static_parts("op", op.name());
        let counted = self.keys.operations[op as usize][outcome as usize].get_or_init(|| {
            let outcome = Label::from_static_parts("outcome", outcome.label());
            Key::from_parts(
                STORE_OPERATIONS,
                vec![backend.clone(), op_label.clone(), outcome],
            )
        });
        let timed = self.keys.durations[op as usize]
            .get_or_init(|| Key::from_parts(STORE_DURATION, vec![backend, op_label]));
        metrics::with_recorder(|recorder| {
            recorder.register_counter(counted, &METADATA).increment(1);
            recorder
                .register_histogram(timed, &METADATA)
                .record(elapsed.as_secs_f64());
        });
    }
}

impl<S: ?Sized> std::fmt::Debug for ObservedStore<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObservedStore")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

fn ok<T>(_: &T) -> Outcome {
    Outcome::Ok
}

#[async_trait]
impl<S: SessionStore + ?Sized> SessionStore for ObservedStore<S> {
    fn capabilities(&self) -> Capabilities {
        self.direct().capabilities()
    }

    fn backend(&self) -> &'static str {
        self.backend
    }

    fn needs_refresh(&self, cookie_value: &str) -> bool {
        self.direct().needs_refresh(cookie_value)
    }

    async fn load(&self, cookie_value: &str) -> Result<Option<Record>> {
        let call = self.direct().load(cookie_value);
        self.observe(Operation::Load, call, |found| match found {
            Some(_) => Outcome::Hit,
            None => Outcome::Miss,
        })
        .await
    }

    async fn create(&self, record: &Record) -> Result<String> {
        let call = self.direct().create(record);
        self.observe(Operation::Create, call, ok).await
    }

    async fn save(&self, record: &Record, expected_version: u64) -> Result<String> {
        let call = self.direct().save(record, expected_version);
        self.observe(Operation::Save, call, ok).await
    }

    async fn touch(&self, record: &Record) -> Result<String> {
        let call = self.direct().touch(record);
        self.observe(Operation::Touch, call, ok).await
    }

    async fn delete(&self, id: &SessionId) -> Result<()> {
        let call = self.direct().delete(id);
        self.observe(Operation::Delete, call, ok).await
    }

    async fn delete_expired(&self) -> Result<u64> {
        let call = self.direct().delete_expired();
        self.observe(Operation::DeleteExpired, call, ok).await
    }

    async fn count(&self) -> Result<u64> {
        let call = self.direct().count();
        self.observe(Operation::Count, call, ok).await
    }

    async fn scan(&self, cursor: Option<ScanCursor>, limit: usize) -> Result<ScanPage> {
        let call = self.direct().scan(cursor, limit);
        self.observe(Operation::Scan, call, ok).await
    }

    async fn delete_keys(&self, keys: &[StorageKey], only: DeleteIf) -> Result<u64> {
        let call = self.direct().delete_keys(keys, only);
        self.observe(Operation::DeleteKeys, call, ok).await
    }

    async fn sessions_of(
        &self,
        user: &UserKey,
        cursor: Option<ScanCursor>,
        limit: usize,
    ) -> Result<UserSessionsPage> {
        let call = self.direct().sessions_of(user, cursor, limit);
        self.observe(Operation::SessionsOf, call, ok).await
    }

    async fn revoke_user(&self, user: &UserKey, except: Option<&StorageKey>) -> Result<u64> {
        let call = self.direct().revoke_user(user, except);
        self.observe(Operation::RevokeUser, call, ok).await
    }

    async fn revoke_session(&self, user: &UserKey, key: &StorageKey) -> Result<bool> {
        let call = self.direct().revoke_session(user, key);
        self.observe(Operation::RevokeSession, call, ok).await
    }
}
