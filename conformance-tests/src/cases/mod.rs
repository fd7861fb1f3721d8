//! Every conformance case: a `pub async fn(&Harness) -> CaseResult`.
//!
//! A case makes its own fixtures (each in a fresh namespace), so cases run in parallel
//! and in any order. [`suite!`](crate::suite) turns each into one `#[test]`.

mod concurrency;
mod create;
mod delete;
mod django;
mod expiry;
mod limits;
mod load;
mod model;
mod privacy;
mod roundtrip;
mod save;
mod scan;
mod session;
mod touch;
mod users;
mod util;

use futures::future::LocalBoxFuture;

use crate::{CaseResult, Harness};

/// How a case is called: the harness in, a boxed future of its result out.
pub type CaseFn = for<'a> fn(&'a Harness) -> LocalBoxFuture<'a, CaseResult>;

/// One entry of the case table.
#[derive(Clone, Copy)]
pub struct Case {
    /// The file (module) of `cases` the case lives in, e.g. `"roundtrip"`.
    pub group: &'static str,
    /// The case function's name, which is also its test name in [`suite!`](crate::suite).
    pub name: &'static str,
    /// Runs the case.
    pub run: CaseFn,
}

impl std::fmt::Debug for Case {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}::{}", self.group, self.name)
    }
}

/// Re-exports every case of the table and lists them in [`ALL`].
#[doc(hidden)]
#[macro_export]
macro_rules! __declare_cases {
    ([] $($group:ident :: $case:ident),+ $(,)?) => {
        $(pub use $group::$case;)+

        /// Every case, in the order [`suite!`](crate::suite) lists its tests: the same
        /// table, so a runner of its own (or a check that a bug is caught) can look a
        /// case up by name.
        pub const ALL: &[Case] = &[$(Case {
            group: stringify!($group),
            name: stringify!($case),
            run: |h| ::std::boxed::Box::pin($case(h)),
        }),+];
    };
}

crate::__case_table!(__declare_cases []);

/// The case called `name`, if the table has it.
pub fn by_name(name: &str) -> Option<&'static Case> {
    ALL.iter().find(|case| case.name == name)
}
