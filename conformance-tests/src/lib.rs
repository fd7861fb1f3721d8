//! The conformance suite every session store passes, ours and third parties'.
//!
//! One macro call in a backend's tests expands to one `#[test]` per case, so
//! `cargo test roundtrip` filters by case and a new case reaches every backend with no
//! edit on their side:
//!
//! ```
//! session_conformance::suite!(memory, |clock| async move {
//!     session_core::MemoryStore::new().with_clock(clock)
//! });
//! ```
//!
//! The factory gets the [`Clock`](session_core::Clock) the store must use for expiry
//! and returns a store in a fresh namespace (a new temp dir, table or key prefix).
//! Server stores should instead return a [`Fixture`] with a raw dump, so the suite can
//! check that no raw session id is stored:
//!
//! ```text
//! session_conformance::suite!(my_store, fixture = |clock| async move {
//!     let store = MyStore::new(clock);
//!     let view = store.clone();
//!     Fixture::new(store).with_raw_dump(move || { let v = view.clone(); async move { v.dump() } })
//! });
//! ```
//!
//! Capabilities gate the cases: where a store declares it cannot do something, the case
//! checks that it answers `Error::Unsupported` (or the documented behaviour) rather than
//! being skipped. Each case is also a plain `pub async fn` in [`cases`], returning a
//! [`Failure`] that names the case, the step, and expected versus actual.

pub mod cases;
mod failure;
mod faults;
mod harness;
pub mod servers;
mod wrappers;

pub use failure::{CaseResult, Check, Failure};
pub use faults::{FaultPlan, FaultStore, InjectedFault, Op};
pub use harness::{run_case, Fixture, Harness, RawEntry};
pub use wrappers::{CountingStore, OpCounts};

/// Expands to one test per conformance case, in a module named `$name`.
///
/// `suite!(name, |clock| async move { store })` for a bare store, or
/// `suite!(name, fixture = |clock| async move { Fixture::new(store)... })`.
#[macro_export]
macro_rules! suite {
    ($name:ident, fixture = $factory:expr $(,)?) => {
        $crate::__suite!($name, $crate::Harness::from_fixtures($factory));
    };
    ($name:ident, $factory:expr $(,)?) => {
        $crate::__suite!($name, $crate::Harness::from_stores($factory));
    };
}

/// The case list. Adding a case here adds a test to every backend.
#[doc(hidden)]
#[macro_export]
macro_rules! __suite {
    ($name:ident, $harness:expr) => {
        #[allow(unused_imports, clippy::redundant_closure)]
        mod $name {
            use super::*;
            $crate::__case!($harness;
                roundtrip_strings,
                roundtrip_unicode_keys,
                roundtrip_nested_structs,
                roundtrip_bytes,
                roundtrip_empty_map,
                roundtrip_thousand_keys,
                load_unknown_id,
                load_malformed_ids,
                load_overlong_id,
                load_path_like_ids,
                create_collision_keeps_original,
                create_returns_cookie_value,
                save_replaces_data,
                save_after_delete_not_found,
                save_after_expiry_not_found,
                save_stale_version_conflict,
                expiry_enforced_on_read,
                expiry_idle_timeout,
                expiry_absolute_lifetime,
                expiry_real_time,
                touch_extends_deadline,
                touch_keeps_stored_data,
                touch_missing_not_found,
                delete_idempotent,
                delete_expired_removes_only_expired,
                count_live_records,
                scan_sees_live_and_expired,
                scan_pages_cover_everything,
                delete_keys_by_condition,
                too_large_refused,
                concurrent_creates,
                concurrent_increments_exact,
                concurrent_different_keys_survive,
                no_raw_id_stored,
                session_lazy_no_store_ops,
                session_empty_not_persisted,
                session_unknown_id_not_adopted,
                session_explicit_save_mode,
                session_cycle_id,
                session_delete_revokes,
                session_invalidate,
                session_logout_beats_slow_save,
                session_logout_beats_slow_cycle,
                session_touch_policies,
                model_based_sequences,
            );
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __case {
    ($harness:expr; $($case:ident),+ $(,)?) => {$(
        #[test]
        fn $case() {
            $crate::run_case($harness, |h| {
                ::std::boxed::Box::pin(async move { $crate::cases::$case(&h).await })
            });
        }
    )+};
}
