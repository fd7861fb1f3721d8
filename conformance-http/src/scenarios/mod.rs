//! Every scenario: a `pub async fn(&impl Adapter, &Harness) -> CaseResult`, named in
//! the [`Failure`](crate::Failure) it returns. [`http_suite!`](crate::http_suite) makes
//! one `#[test]` of each, from the table in [`__http_case_table!`](crate::__http_case_table).

mod cookies;
mod data;
mod failures;
mod headers;
mod lifecycle;
mod lifetime;

use std::time::Duration;

use session_core::Expiry;

const HOUR: Duration = Duration::from_secs(3600);
const DAY: Duration = Duration::from_secs(86_400);
const WEEK: Duration = Duration::from_secs(7 * 86_400);

/// An idle timeout, for the scenarios' layer settings.
pub(crate) fn idle(d: Duration) -> Expiry {
    match Expiry::idle(d) {
        Ok(e) => e,
        Err(e) => panic!("the suite's idle timeout {d:?} was refused: {e}"),
    }
}

/// An absolute lifetime, for the scenarios' layer settings.
pub(crate) fn absolute(d: Duration) -> Expiry {
    match Expiry::absolute(d) {
        Ok(e) => e,
        Err(e) => panic!("the suite's absolute lifetime {d:?} was refused: {e}"),
    }
}

/// Re-exports every scenario of the table and lists their names in [`ALL`].
#[doc(hidden)]
#[macro_export]
macro_rules! __declare_scenarios {
    ([] $($group:ident :: $case:ident),+ $(,)?) => {
        $(pub use $group::$case;)+

        /// Every scenario's group and name, in the order
        /// [`http_suite!`](crate::http_suite) lists its tests.
        pub const ALL: &[(&str, &str)] = &[$((stringify!($group), stringify!($case))),+];
    };
}

crate::__http_case_table!(__declare_scenarios []);
