//! A fault-injecting store wrapper: fail chosen calls, add latency, lose replies.
//!
//! [`FaultStore`] delegates every call to the store it wraps, except where its
//! [`FaultPlan`] says otherwise. The plan is a cheap, cloneable handle: keep a clone in
//! the test and change the faults at run time while requests are in flight.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
//! use std::time::Duration;
//! use session_conformance::{FaultStore, Op};
//! use session_core::{MemoryStore, SessionStore, SessionId};
//!
//! let store = FaultStore::new(MemoryStore::new());
//! let plan = store.plan();
//! plan.fail_always(Op::Load);                       // every load fails…
//! assert!(store.load("anything").await.is_err());
//! plan.clear();                                     // …until the plan is cleared
//! plan.delay(Op::Delete, Duration::from_millis(1)); // deletes take 1 ms longer
//! store.delete(&SessionId::generate()).await.unwrap();
//! assert_eq!(plan.injected(), 2);                   // one failure, one delay
//! plan.jitter(Op::Load, Duration::from_millis(1));  // loads take 0–1 ms longer
//! assert!(store.load(&SessionId::generate().to_string()).await.unwrap().is_none());
//! assert_eq!(plan.injected(), 3);
//! # });
//! ```

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use rand::Rng;
use session_core::{
    BackendError, BackendErrorKind, Capabilities, DeleteIf, Error, Record, Result, ScanCursor,
    ScanPage, SessionId, SessionStore, StorageKey, UserKey, UserSessionsPage,
};

/// A store operation, as the fault plan names it: the
/// [`Operation`](session_core::Operation) a backend error names, so an injected fault
/// reads like a real one.
pub use session_core::Operation as Op;

/// The source of the [`Error::Backend`] a [`FaultStore`] injects, so a test can tell an
/// injected fault from a real one ([`InjectedFault::of`]). The backend error is of kind
/// [`Unavailable`](BackendErrorKind::Unavailable), as when the server went away, so the
/// HTTP layer answers it like an outage (503); its store is `"fault"` and its operation
/// the faulted one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InjectedFault {
    /// The operation that failed.
    pub op: Op,
    /// Which call it was, counting every operation from 1.
    pub call: u64,
    /// `true` when the inner store did the write and only the reply was lost.
    pub reply_dropped: bool,
}

impl fmt::Display for InjectedFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.reply_dropped {
            write!(
                f,
                "injected fault: reply to {:?} (call {}) lost after the write",
                self.op, self.call
            )
        } else {
            write!(
                f,
                "injected fault: {:?} (call {}) failed",
                self.op, self.call
            )
        }
    }
}

impl std::error::Error for InjectedFault {}

impl From<InjectedFault> for Error {
    fn from(fault: InjectedFault) -> Self {
        let op = fault.op;
        BackendError::new(BackendErrorKind::Unavailable, fault)
            .with_store("fault")
            .with_operation(op)
            .into()
    }
}

impl InjectedFault {
    /// The injected fault inside `err`, if `err` is one.
    pub fn of(err: &Error) -> Option<&InjectedFault> {
        match err {
            Error::Backend(inner) => inner.source_as::<InjectedFault>(),
            _ => None,
        }
    }
}

#[derive(Debug, Default)]
struct PlanState {
    /// Calls so far, all operations together.
    total: u64,
    /// Calls so far, per operation.
    per_op: HashMap<Op, u64>,
    /// Fail the call with this overall number.
    fail_calls: HashSet<u64>,
    /// Fail the call with this number among calls of that operation.
    fail_op_calls: HashSet<(Op, u64)>,
    /// Fail every call of these operations.
    fail_ops: HashSet<Op>,
    /// Sleep before delegating.
    delay_before: HashMap<Op, Duration>,
    /// Sleep a random time up to this before delegating.
    jitter: HashMap<Op, Duration>,
    /// Sleep after delegating, before replying.
    delay_after: HashMap<Op, Duration>,
    /// Do the write, then fail: every call of these operations.
    drop_ops: HashSet<Op>,
    /// Do the write, then fail: only the next call of these operations.
    drop_next: HashSet<Op>,
    /// Faults injected so far (failures, dropped replies and delays).
    injected: u64,
}

/// What to do with one call, decided when it starts.
struct Decision {
    call: u64,
    fail: bool,
    drop_reply: bool,
    before: Option<Duration>,
    after: Option<Duration>,
}

/// The faults a [`FaultStore`] injects. Cheap to clone: clones share one plan, so a
/// test keeps a handle and changes the faults while the store is in use.
///
/// Call numbers count from 1 and from the store's creation; [`FaultPlan::calls`] and
/// [`FaultPlan::calls_of`] say how many calls were made so far, so "the next call" is
/// `calls() + 1`.
#[derive(Debug, Clone, Default)]
pub struct FaultPlan {
    state: Arc<Mutex<PlanState>>,
}

impl FaultPlan {
    /// A plan that injects nothing (yet).
    pub fn new() -> Self {
        FaultPlan::default()
    }

    fn lock(&self) -> MutexGuard<'_, PlanState> {
        // A panicking test thread must not hide the plan from the others.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Fails call number `n` (all operations counted together, from 1) with
    /// [`Error::Backend`]; the inner store is not called.
    pub fn fail_call(&self, n: u64) -> &Self {
        self.lock().fail_calls.insert(n);
        self
    }

    /// Fails the `n`th call of `op` (from 1) with [`Error::Backend`]; the inner store is
    /// not called.
    pub fn fail_nth(&self, op: Op, n: u64) -> &Self {
        self.lock().fail_op_calls.insert((op, n));
        self
    }

    /// Fails every call of `op` with [`Error::Backend`] until [`FaultPlan::clear`].
    pub fn fail_always(&self, op: Op) -> &Self {
        self.lock().fail_ops.insert(op);
        self
    }

    /// Delays every call of `op` by `latency` before it reaches the inner store.
    pub fn delay(&self, op: Op, latency: Duration) -> &Self {
        self.lock().delay_before.insert(op, latency);
        self
    }

    /// Delays every call of `op` by a random time from zero to `max` (uniform, in
    /// microseconds) before it reaches the inner store: widens race windows without
    /// fixing which side of the race goes first. A fixed [`FaultPlan::delay`] of the
    /// same operation wins over it.
    pub fn jitter(&self, op: Op, max: Duration) -> &Self {
        self.lock().jitter.insert(op, max);
        self
    }

    /// Delays every call of every operation by `latency` before it reaches the inner
    /// store.
    pub fn delay_all(&self, latency: Duration) -> &Self {
        let mut st = self.lock();
        for op in ALL_OPS {
            st.delay_before.insert(op, latency);
        }
        self
    }

    /// Delays the reply of every call of `op` by `latency`: the inner store has already
    /// answered (for a write: the write is done) when the delay starts.
    pub fn delay_reply(&self, op: Op, latency: Duration) -> &Self {
        self.lock().delay_after.insert(op, latency);
        self
    }

    /// Every call of the write `op` goes through to the inner store, then answers
    /// [`Error::Backend`] as if the reply had been lost on the way back.
    pub fn drop_reply(&self, op: Op) -> &Self {
        self.lock().drop_ops.insert(op);
        self
    }

    /// Like [`FaultPlan::drop_reply`], for the next call of `op` only.
    pub fn drop_next_reply(&self, op: Op) -> &Self {
        self.lock().drop_next.insert(op);
        self
    }

    /// Removes every fault; the call counters keep counting.
    pub fn clear(&self) -> &Self {
        let mut st = self.lock();
        st.fail_calls.clear();
        st.fail_op_calls.clear();
        st.fail_ops.clear();
        st.delay_before.clear();
        st.jitter.clear();
        st.delay_after.clear();
        st.drop_ops.clear();
        st.drop_next.clear();
        self
    }

    /// Calls made so far, all operations together.
    pub fn calls(&self) -> u64 {
        self.lock().total
    }

    /// Calls of `op` made so far.
    pub fn calls_of(&self, op: Op) -> u64 {
        self.lock().per_op.get(&op).copied().unwrap_or(0)
    }

    /// Faults injected so far: failed calls, dropped replies and delayed calls.
    pub fn injected(&self) -> u64 {
        self.lock().injected
    }

    fn decide(&self, op: Op) -> Decision {
        let mut st = self.lock();
        st.total += 1;
        let call = st.total;
        let nth = {
            let n = st.per_op.entry(op).or_insert(0);
            *n += 1;
            *n
        };
        let fail = st.fail_calls.remove(&call)
            || st.fail_op_calls.remove(&(op, nth))
            || st.fail_ops.contains(&op);
        let drop_reply =
            !fail && op.is_write() && (st.drop_next.remove(&op) || st.drop_ops.contains(&op));
        let before = if fail {
            None
        } else {
            st.delay_before.get(&op).copied().or_else(|| {
                let max = st.jitter.get(&op)?.as_micros();
                let max = u64::try_from(max).unwrap_or(u64::MAX);
                Some(Duration::from_micros(rand::thread_rng().gen_range(0..=max)))
            })
        };
        let after = if fail {
            None
        } else {
            st.delay_after.get(&op).copied()
        };
        if fail || drop_reply || before.is_some() || after.is_some() {
            st.injected += 1;
        }
        Decision {
            call,
            fail,
            drop_reply,
            before,
            after,
        }
    }
}

const ALL_OPS: [Op; 12] = [
    Op::Load,
    Op::Create,
    Op::Save,
    Op::Touch,
    Op::Delete,
    Op::DeleteExpired,
    Op::Count,
    Op::Scan,
    Op::DeleteKeys,
    Op::SessionsOf,
    Op::RevokeUser,
    Op::RevokeSession,
];

/// Wraps a store and injects the faults its [`FaultPlan`] names: fail the Nth call (or
/// every call of one operation) with [`Error::Backend`], add latency before a call or
/// before its reply, and drop the reply after a write (the inner store did the write;
/// the caller sees `Error::Backend`, as when a connection dies after the server
/// committed).
///
/// With an empty plan it is a transparent pass-through, capabilities and
/// `needs_refresh` included.
#[derive(Debug)]
pub struct FaultStore<S> {
    inner: S,
    plan: FaultPlan,
}

impl<S> FaultStore<S> {
    /// Wraps `inner` with an empty plan.
    pub fn new(inner: S) -> Self {
        Self::with_plan(inner, FaultPlan::new())
    }

    /// Wraps `inner`, injecting the faults `plan` names (shared with the caller).
    pub fn with_plan(inner: S, plan: FaultPlan) -> Self {
        FaultStore { inner, plan }
    }

    /// A handle on the plan, to change the faults at run time.
    pub fn plan(&self) -> FaultPlan {
        self.plan.clone()
    }

    /// The wrapped store.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    async fn run<T, F>(&self, op: Op, call: F) -> Result<T>
    where
        F: std::future::Future<Output = Result<T>> + Send,
        T: Send,
    {
        let d = self.plan.decide(op);
        if d.fail {
            return Err(InjectedFault {
                op,
                call: d.call,
                reply_dropped: false,
            }
            .into());
        }
        if let Some(latency) = d.before {
            tokio::time::sleep(latency).await;
        }
        let result = call.await;
        if let Some(latency) = d.after {
            tokio::time::sleep(latency).await;
        }
        if d.drop_reply {
            return Err(InjectedFault {
                op,
                call: d.call,
                reply_dropped: true,
            }
            .into());
        }
        result
    }
}

#[async_trait]
impl<S: SessionStore> SessionStore for FaultStore<S> {
    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }
    fn backend(&self) -> &'static str {
        self.inner.backend()
    }
    fn needs_refresh(&self, cookie_value: &str) -> bool {
        self.inner.needs_refresh(cookie_value)
    }
    async fn load(&self, cookie_value: &str) -> Result<Option<Record>> {
        self.run(Op::Load, self.inner.load(cookie_value)).await
    }
    async fn create(&self, record: &Record) -> Result<String> {
        self.run(Op::Create, self.inner.create(record)).await
    }
    async fn save(&self, record: &Record, expected_version: u64) -> Result<String> {
        self.run(Op::Save, self.inner.save(record, expected_version))
            .await
    }
    async fn touch(&self, record: &Record) -> Result<String> {
        self.run(Op::Touch, self.inner.touch(record)).await
    }
    async fn delete(&self, id: &SessionId) -> Result<()> {
        self.run(Op::Delete, self.inner.delete(id)).await
    }
    async fn delete_expired(&self) -> Result<u64> {
        self.run(Op::DeleteExpired, self.inner.delete_expired())
            .await
    }
    async fn count(&self) -> Result<u64> {
        self.run(Op::Count, self.inner.count()).await
    }
    async fn scan(&self, cursor: Option<ScanCursor>, limit: usize) -> Result<ScanPage> {
        self.run(Op::Scan, self.inner.scan(cursor, limit)).await
    }
    async fn delete_keys(&self, keys: &[StorageKey], only: DeleteIf) -> Result<u64> {
        self.run(Op::DeleteKeys, self.inner.delete_keys(keys, only))
            .await
    }
    async fn sessions_of(
        &self,
        user: &UserKey,
        cursor: Option<ScanCursor>,
        limit: usize,
    ) -> Result<UserSessionsPage> {
        self.run(Op::SessionsOf, self.inner.sessions_of(user, cursor, limit))
            .await
    }
    async fn revoke_user(&self, user: &UserKey, except: Option<&StorageKey>) -> Result<u64> {
        self.run(Op::RevokeUser, self.inner.revoke_user(user, except))
            .await
    }
    async fn revoke_session(&self, user: &UserKey, key: &StorageKey) -> Result<bool> {
        self.run(Op::RevokeSession, self.inner.revoke_session(user, key))
            .await
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)] // test code
mod tests {
    use std::time::Instant;

    use session_core::{Data, MemoryStore, Timestamp};

    use super::*;

    fn record(n: i64) -> Record {
        let mut data = Data::new();
        data.insert("n".into(), serde_json::json!(n));
        let now = Timestamp::from_millis(4_000_000_000_000);
        Record::new(
            SessionId::generate(),
            data,
            now,
            Timestamp::from_millis(4_000_000_000_000 + 3_600_000),
        )
    }

    fn is_injected(err: &Error, reply_dropped: bool) -> bool {
        InjectedFault::of(err).is_some_and(|f| f.reply_dropped == reply_dropped)
    }

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
    }

    #[test]
    fn an_injected_fault_is_a_temporary_backend_error() {
        rt().block_on(async {
            let store = FaultStore::new(MemoryStore::new());
            store.plan().fail_always(Op::Save).drop_reply(Op::Create);
            for err in [
                store.save(&record(1), 1).await.unwrap_err(),
                store.create(&record(2)).await.unwrap_err(),
            ] {
                let Error::Backend(backend) = &err else {
                    panic!("an injected fault is a backend error: {err:?}");
                };
                assert_eq!(backend.kind(), BackendErrorKind::Unavailable);
                assert!(err.is_temporary(), "the layer answers it like an outage");
                assert_eq!(backend.store(), Some("fault"));
                let op = InjectedFault::of(&err).unwrap().op;
                assert_eq!(backend.operation(), Some(op));
            }
            assert!(store
                .save(&record(3), 1)
                .await
                .unwrap_err()
                .to_string()
                .contains(
                "session backend failed: fault save: unavailable: injected fault: Save (call 3)"
            ));
        });
    }

    #[test]
    fn empty_plan_passes_through() {
        rt().block_on(async {
            let store = FaultStore::new(MemoryStore::new());
            assert_eq!(store.capabilities(), MemoryStore::new().capabilities());
            let rec = record(1);
            let cookie = store.create(&rec).await.unwrap();
            assert!(store.load(&cookie).await.unwrap().is_some());
            assert_eq!(store.plan().calls(), 2);
            assert_eq!(store.plan().injected(), 0);
        });
    }

    #[test]
    fn fails_the_nth_call_only() {
        rt().block_on(async {
            let store = FaultStore::new(MemoryStore::new());
            let plan = store.plan();
            plan.fail_call(2);
            let rec = record(1);
            let cookie = store.create(&rec).await.unwrap(); // call 1
            let err = store.load(&cookie).await.unwrap_err(); // call 2
            assert!(is_injected(&err, false), "{err:?}");
            assert!(store.load(&cookie).await.unwrap().is_some()); // call 3
            assert_eq!(plan.injected(), 1);
        });
    }

    #[test]
    fn fails_the_nth_call_of_one_operation_without_calling_the_store() {
        rt().block_on(async {
            let store = FaultStore::new(MemoryStore::new());
            let plan = store.plan();
            plan.fail_nth(Op::Save, 2);
            let mut rec = record(1);
            let cookie = store.create(&rec).await.unwrap();
            rec.version = 2;
            store.save(&rec, 1).await.unwrap(); // save 1
            rec.version = 3;
            rec.data.insert("n".into(), serde_json::json!(3));
            let err = store.save(&rec, 2).await.unwrap_err(); // save 2: fails
            assert!(is_injected(&err, false));
            // Nothing was written.
            assert_eq!(store.load(&cookie).await.unwrap().unwrap().version, 2);
            store.save(&rec, 2).await.unwrap(); // save 3 goes through
            assert_eq!(plan.calls_of(Op::Save), 3);
        });
    }

    #[test]
    fn fails_every_call_of_one_operation_until_cleared() {
        rt().block_on(async {
            let store = FaultStore::new(MemoryStore::new());
            let plan = store.plan();
            plan.fail_always(Op::Load);
            let cookie = store.create(&record(1)).await.unwrap();
            for _ in 0..3 {
                assert!(is_injected(&store.load(&cookie).await.unwrap_err(), false));
            }
            assert_eq!(plan.injected(), 3);
            plan.clear();
            assert!(store.load(&cookie).await.unwrap().is_some());
        });
    }

    #[test]
    fn adds_latency_before_and_after_a_call() {
        rt().block_on(async {
            let store = FaultStore::new(MemoryStore::new());
            let plan = store.plan();
            let cookie = store.create(&record(1)).await.unwrap();
            plan.delay(Op::Load, Duration::from_millis(30));
            let start = Instant::now();
            store.load(&cookie).await.unwrap();
            assert!(start.elapsed() >= Duration::from_millis(30));
            plan.clear()
                .delay_reply(Op::Load, Duration::from_millis(30));
            let start = Instant::now();
            store.load(&cookie).await.unwrap();
            assert!(start.elapsed() >= Duration::from_millis(30));
            plan.clear().delay_all(Duration::from_millis(20));
            let start = Instant::now();
            store.count().await.unwrap();
            assert!(start.elapsed() >= Duration::from_millis(20));
            plan.clear();
            let start = Instant::now();
            store.load(&cookie).await.unwrap();
            assert!(start.elapsed() < Duration::from_millis(20));
        });
    }

    #[test]
    fn a_dropped_reply_still_writes() {
        rt().block_on(async {
            let store = FaultStore::new(MemoryStore::new());
            let plan = store.plan();
            let mut rec = record(1);
            plan.drop_next_reply(Op::Create);
            let err = store.create(&rec).await.unwrap_err();
            assert!(is_injected(&err, true), "{err:?}");
            // The record is there: a retried create collides.
            assert!(matches!(store.create(&rec).await, Err(Error::Collision)));
            let cookie = rec.id.to_string();
            plan.drop_reply(Op::Save);
            rec.version = 2;
            assert!(is_injected(&store.save(&rec, 1).await.unwrap_err(), true));
            rec.version = 3;
            // Goes through only if the first save was written (checked below); its
            // reply is dropped too.
            assert!(is_injected(&store.save(&rec, 2).await.unwrap_err(), true));
            plan.clear();
            // Both saves happened: a retry over an old version conflicts.
            assert!(matches!(store.save(&rec, 1).await, Err(Error::Conflict)));
            let stored = store.load(&cookie).await.unwrap().unwrap();
            assert_eq!(stored.version, 3);
            // A dropped reply never applies to reads.
            plan.drop_reply(Op::Load);
            assert!(store.load(&cookie).await.unwrap().is_some());
        });
    }

    #[test]
    fn plan_can_be_shared_before_wrapping() {
        rt().block_on(async {
            let plan = FaultPlan::new();
            plan.fail_always(Op::Count);
            let store = FaultStore::with_plan(MemoryStore::new(), plan.clone());
            assert!(store.count().await.is_err());
            assert_eq!(plan.calls_of(Op::Count), 1);
        });
    }
}
