//! Fixtures (a store plus what the suite may need to look inside it) and the harness
//! that makes a fresh one per case.

use std::any::Any;
use std::future::Future;
use std::sync::Arc;

use futures::future::{BoxFuture, LocalBoxFuture};
use futures::FutureExt;
use session_core::{Capabilities, Clock, ManualClock, SessionStore};

use crate::{CaseResult, Failure};

/// One raw entry of a server store: key and value bytes as the backend holds them.
pub type RawEntry = (Vec<u8>, Vec<u8>);

type RawDump = Arc<dyn Fn() -> BoxFuture<'static, Vec<RawEntry>> + Send + Sync>;
type MakeFixture = Arc<dyn Fn(Clock) -> BoxFuture<'static, Fixture> + Send + Sync>;

/// A store under test, with an optional view of its raw contents and anything that must
/// live as long as it (a temp dir, a private server).
pub struct Fixture {
    store: Arc<dyn SessionStore>,
    raw: Option<RawDump>,
    _guard: Option<Box<dyn Any + Send + Sync>>,
}

impl Fixture {
    /// A fixture around `store`.
    pub fn new<S: SessionStore>(store: S) -> Self {
        Fixture {
            store: Arc::new(store),
            raw: None,
            _guard: None,
        }
    }

    /// Lets the suite read every raw key and value the backend holds for this fixture's
    /// namespace, to check that no raw session id is stored (contract rule 7). Server
    /// stores must provide it; the privacy case fails without it.
    pub fn with_raw_dump<F, Fut>(mut self, dump: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Vec<RawEntry>> + Send + 'static,
    {
        self.raw = Some(Arc::new(move || dump().boxed()));
        self
    }

    /// Keeps `guard` alive as long as the fixture (dropped after the case).
    pub fn with_guard<G: Any + Send + Sync>(mut self, guard: G) -> Self {
        self._guard = Some(Box::new(guard));
        self
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn SessionStore> {
        &self.store
    }

    /// The store's capabilities.
    pub fn caps(&self) -> Capabilities {
        self.store.capabilities()
    }

    /// The raw contents, if the fixture can show them.
    pub async fn raw_entries(&self) -> Option<Vec<RawEntry>> {
        match &self.raw {
            Some(dump) => Some(dump().await),
            None => None,
        }
    }
}

/// Makes fresh fixtures for a backend, each in its own namespace, on a manual clock the
/// cases drive or on the system clock for the real-time group.
#[derive(Clone)]
pub struct Harness {
    make: MakeFixture,
    clock: ManualClock,
}

impl Harness {
    /// From a factory that builds a bare store on the given clock.
    pub fn from_stores<F, Fut, S>(factory: F) -> Self
    where
        F: Fn(Clock) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = S> + Send + 'static,
        S: SessionStore,
    {
        let make: MakeFixture = Arc::new(move |clock| {
            let fut = factory(clock);
            async move { Fixture::new(fut.await) }.boxed()
        });
        Harness {
            make,
            clock: ManualClock::new(),
        }
    }

    /// From a factory that builds a full [`Fixture`] on the given clock.
    pub fn from_fixtures<F, Fut>(factory: F) -> Self
    where
        F: Fn(Clock) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Fixture> + Send + 'static,
    {
        let make: MakeFixture = Arc::new(move |clock| factory(clock).boxed());
        Harness {
            make,
            clock: ManualClock::new(),
        }
    }

    /// The manual clock shared by [`Harness::fixture`]'s stores.
    pub fn clock(&self) -> &ManualClock {
        &self.clock
    }

    /// A fresh fixture on the harness's manual clock.
    pub async fn fixture(&self) -> Fixture {
        (self.make)(self.clock.clock()).await
    }

    /// A fresh fixture on the system clock, for the real-time group.
    pub async fn system_fixture(&self) -> Fixture {
        (self.make)(Clock::system()).await
    }
}

/// Runs one case on a fresh multi-threaded runtime and panics with the failure's
/// report, so it shows as a failed `#[test]`. Used by [`suite!`](crate::suite).
pub fn run_case<F>(harness: Harness, case: F)
where
    F: FnOnce(Harness) -> LocalBoxFuture<'static, CaseResult>,
{
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => panic!("could not start a tokio runtime for the conformance case: {e}"),
    };
    let result: Result<(), Failure> = runtime.block_on(case(harness));
    if let Err(failure) = result {
        panic!("{failure}");
    }
}
