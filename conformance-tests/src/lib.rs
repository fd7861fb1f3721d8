//! The conformance suite every session store passes, ours and third parties'.
//!
//! One macro call in a backend's tests expands to one `#[test]` per case, so
//! `cargo test roundtrip` filters by case and a new case reaches every backend with no
//! edit on their side:
//!
//! ```
//! session_conformance::suite!(memory, |clock| async move {
//!     session_core::MemoryStore::new()
//!         .with_settings(session_core::StoreSettings::new().with_clock(clock))
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
//!
//! One table lists the cases: it makes the re-exports in [`cases`], the registry
//! [`cases::ALL`] (look a case up with [`cases::by_name`]) and the tests of every
//! `suite!` call, each named after its case function (`cargo test my_store::roundtrip`
//! runs the round-trip group). A new case is its function plus one line of the table.

pub mod cases;
mod failure;
mod faults;
mod harness;
pub mod legacy;
mod records;
mod wrappers;

pub use failure::{CaseResult, Check, Failure};
pub use faults::{FaultPlan, FaultStore, InjectedFault, Op};
pub use harness::{run_case, Fixture, Harness, RawEntry};
pub use records::record_of_size;
pub use wrappers::{CountingStore, OpCounts, SelfSealed};

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

/// The case table: every case, as `group::case`, in the order the tests are listed.
///
/// It is the one list of cases. It feeds `$crate::$callback!` with `[$extra]` followed
/// by the table, once to re-export the cases and build [`cases::ALL`] in this crate,
/// once per [`suite!`] call to make one `#[test]` per case. Adding a case is writing its
/// `pub async fn` in a `cases/*.rs` file and one line here; every backend's suite runs
/// it with no other edit (a case left out of the table is an unused function, which
/// `-D warnings` refuses).
#[doc(hidden)]
#[macro_export]
macro_rules! __case_table {
    ($callback:ident [$($extra:tt)*]) => {
        $crate::$callback! {
            [$($extra)*]
            roundtrip::roundtrip_strings,
            roundtrip::roundtrip_unicode_keys,
            roundtrip::roundtrip_nested_structs,
            roundtrip::roundtrip_bytes,
            roundtrip::roundtrip_empty_map,
            roundtrip::roundtrip_thousand_keys,
            load::load_unknown_id,
            load::load_malformed_ids,
            load::load_overlong_id,
            load::load_path_like_ids,
            create::create_collision_keeps_original,
            create::create_returns_cookie_value,
            create::create_after_expiry_starts_a_new_life,
            save::save_replaces_data,
            save::save_after_delete_not_found,
            save::save_after_expiry_not_found,
            save::save_stale_version_conflict,
            expiry::expiry_enforced_on_read,
            expiry::expiry_idle_timeout,
            expiry::expiry_absolute_lifetime,
            expiry::expiry_real_time,
            touch::touch_extends_deadline,
            touch::touch_keeps_stored_data,
            touch::touch_missing_not_found,
            delete::delete_idempotent,
            delete::delete_expired_removes_only_expired,
            delete::count_live_records,
            scan::scan_sees_live_and_expired,
            scan::scan_pages_cover_everything,
            scan::delete_keys_by_condition,
            limits::too_large_refused,
            concurrency::concurrent_creates,
            concurrency::concurrent_increments_exact,
            concurrency::concurrent_store_increments_exact,
            concurrency::concurrent_different_keys_survive,
            privacy::no_raw_id_stored,
            session::session_lazy_no_store_ops,
            session::session_empty_not_persisted,
            session::session_unknown_id_not_adopted,
            session::session_explicit_save_mode,
            session::session_cycle_id,
            session::session_delete_revokes,
            session::session_invalidate,
            session::session_logout_beats_slow_save,
            session::session_logout_beats_slow_cycle,
            session::session_touch_policies,
            django::django_new_session,
            django::django_get_empty,
            django::django_store,
            django::django_pop,
            django::django_pop_default,
            django::django_pop_no_default,
            django::django_setdefault,
            django::django_update,
            django::django_has_key,
            django::django_values,
            django::django_keys,
            django::django_items,
            django::django_clear,
            django::django_save,
            django::django_delete,
            django::django_flush,
            django::django_cycle,
            django::django_cycle_with_no_session_cache,
            django::django_save_doesnt_clear_data,
            django::django_invalid_key,
            django::django_session_key_empty_string_invalid,
            django::django_session_key_too_short_invalid,
            django::django_session_key_valid_string_not_adopted,
            django::django_session_key_is_read_only,
            django::django_default_expiry,
            django::django_custom_expiry_seconds,
            django::django_custom_expiry_datetime,
            django::django_custom_expiry_reset,
            django::django_get_expire_at_browser_close,
            django::django_decode,
            django::django_decode_failure,
            django::django_actual_expiry,
            django::django_session_load_does_not_create_record,
            django::django_save_does_not_resurrect,
            django::django_session_save_on_500,
            django::django_session_delete_on_end,
            django::django_flush_empty_without_session_cookie_doesnt_set_cookie,
            django::django_empty_session_saved,
            users::user_bind_and_list,
            users::user_revoke_all,
            users::user_revoke_all_but_current,
            users::user_revoke_one_by_key,
            users::user_cycle_keeps_binding,
            users::user_delete_removes,
            users::user_expired_not_listed,
            users::user_isolated,
            users::user_thousand_sessions_paged,
            users::user_concurrent_bind_and_revoke,
            users::user_verify_auth_hash,
            users::user_handle_devices_and_logout_everywhere,
            model::model_based_sequences,
        }
    };
}

/// The module of one [`suite!`] call: one `#[test]` per line of the case table.
#[doc(hidden)]
#[macro_export]
macro_rules! __suite {
    ($name:ident, $harness:expr) => {
        #[allow(unused_imports, clippy::redundant_closure)]
        mod $name {
            use super::*;
            $crate::__case_table!(__case_tests[$harness]);
        }
    };
}

/// The tests of one suite, from the case table: each named after its case function, so
/// `cargo test <suite>::roundtrip` selects the round-trip group.
#[doc(hidden)]
#[macro_export]
macro_rules! __case_tests {
    ([$harness:expr] $($group:ident :: $case:ident),+ $(,)?) => {$(
        #[test]
        fn $case() {
            $crate::run_case($harness, |h| {
                ::std::boxed::Box::pin(async move { $crate::cases::$case(&h).await })
            });
        }
    )+};
}
