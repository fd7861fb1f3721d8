//! Every conformance case: a `pub async fn(&Harness) -> CaseResult`.
//!
//! A case makes its own fixtures (each in a fresh namespace), so cases run in parallel
//! and in any order. [`suite!`](crate::suite) turns each into one `#[test]`.

mod concurrency;
mod create;
mod delete;
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
mod util;

pub use concurrency::{
    concurrent_creates, concurrent_different_keys_survive, concurrent_increments_exact,
};
pub use create::{create_collision_keeps_original, create_returns_cookie_value};
pub use delete::{count_live_records, delete_expired_removes_only_expired, delete_idempotent};
pub use expiry::{
    expiry_absolute_lifetime, expiry_enforced_on_read, expiry_idle_timeout, expiry_real_time,
};
pub use limits::too_large_refused;
pub use load::{load_malformed_ids, load_overlong_id, load_path_like_ids, load_unknown_id};
pub use model::model_based_sequences;
pub use privacy::no_raw_id_stored;
pub use roundtrip::{
    roundtrip_bytes, roundtrip_empty_map, roundtrip_nested_structs, roundtrip_strings,
    roundtrip_thousand_keys, roundtrip_unicode_keys,
};
pub use save::{
    save_after_delete_not_found, save_after_expiry_not_found, save_replaces_data,
    save_stale_version_conflict,
};
pub use scan::{delete_keys_by_condition, scan_pages_cover_everything, scan_sees_live_and_expired};
pub use session::{
    session_cycle_id, session_delete_revokes, session_empty_not_persisted,
    session_explicit_save_mode, session_invalidate, session_lazy_no_store_ops,
    session_logout_beats_slow_cycle, session_logout_beats_slow_save, session_touch_policies,
    session_unknown_id_not_adopted,
};
pub use touch::{touch_extends_deadline, touch_keeps_stored_data, touch_missing_not_found};
