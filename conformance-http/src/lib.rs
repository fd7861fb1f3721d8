//! The HTTP suite every session framework adapter passes: `session-tower` (axum,
//! tower), `session-actix` (actix-web), and yours (poem, salvo, Rocket, ...).
//!
//! The store suite (`session-conformance`) checks stores; this one checks what a
//! client sees through an adapter: the cookie and its attributes, `Max-Age`, cycle id,
//! delete, 5xx behaviour, `Vary`, `Cache-Control`, key rotation, the token header.
//! An adapter implements [`Adapter`] (start a real server with its middleware, built
//! `From` an [`HttpSessions`](session_http::HttpSessions), over the route convention below) and one macro call
//! per backend expands to one `#[test]` per scenario, driven by a real HTTP client
//! (reqwest) on `127.0.0.1`:
//!
//! ```text
//! session_conformance_http::http_suite!(memory, MyAdapter, |clock| async move {
//!     session_core::MemoryStore::new()
//!         .with_settings(session_core::StoreSettings::new().with_clock(clock))
//! });
//! ```
//!
//! As in the store suite, the factory gets the [`Clock`](session_core::Clock) the
//! store must use (a manual clock the scenarios also give the sessions, so every
//! `Max-Age` is exact and "ten minutes later" costs no sleep) and returns a store in a
//! fresh namespace; `fixture = |clock| ...` returns a [`Fixture`] instead, to keep a
//! temp dir or a key-prefix cleaner alive for the test. `cargo test memory::attr_`
//! runs the attribute scenarios. The README has a complete adapter (plain hyper).
//!
//! # The route convention
//!
//! Every route is a `GET` with query parameters, answered in plain text by
//! [`respond`], which holds all of the routes' logic: an adapter's harness routes
//! every path to it under its middleware, and turns an `Err` into its framework's
//! session error (so the middleware answers with the configured error response).
//!
//! | route | does | answers |
//! |---|---|---|
//! | `/set?key=K&value=V[&save=1]` | inserts the string `V` under `K` (`save=1`: also asks for a save, for `SaveMode::Explicit`) | `ok` |
//! | `/get?key=K` | reads `K` | its value, or `none` |
//! | `/remove?key=K[&raw=1]` | removes `K` (`raw=1`: `remove_value`, answering the JSON) | the removed value, or `none` |
//! | `/len` | counts the keys | the count |
//! | `/counter` | increments `n` | the new `n` |
//! | `/cycle` | `cycle_id` | `cycled` |
//! | `/delete[?fail=1]` | `delete` (`fail=1`: then answers 500) | `deleted` |
//! | `/invalidate[?key=K&value=V]` | `invalidate`, then optionally sets `K` in the fresh session | `invalidated` |
//! | `/expiry?remember=SECS` | `SessionExpiry::remember_for(SECS)` | `set` |
//! | `/expiry?absolute=SECS` | `SessionExpiry::persistent(Expiry::absolute(SECS))` | `set` |
//! | `/expiry?browser=1` | `SessionExpiry::browser_session` of the layer's expiry | `set` |
//! | `/expiry?reset=1` | back to the layer's expiry | `set` |
//! | `/lifetime` | reads whose expiry applies and `expiry_age` | `own SECS` or `layer SECS` |
//! | `/deadline` | reads `expires_at` | Unix milliseconds, or `none` |
//! | `/flash?text=T` | flashes `T` | `flashed` |
//! | `/flashes` | `take_flashes` | the texts joined by `,` |
//! | `/fail` | sets `failed` to `yes` | 500 `failed` |
//! | `/static` | never touches the session | `static` |
//!
//! Anything else is a 404; a missing parameter a 400.
//!
//! # The scenarios, and where they come from
//!
//! The model is tower-sessions' own suite (github.com/maxcountryman/tower-sessions:
//! the `route_tests!` scenarios and the service tests of `src/service.rs`), Django's
//! session middleware cases, and session-tower's layer tests, rewritten for this
//! library: each scenario's docs name the case it comes from. [`scenarios::ALL`] lists
//! them. Where our semantics differ from tower-sessions on purpose, the scenario
//! asserts ours:
//!
//! - tower-sessions' default cookie is named `id`, `SameSite=Strict`, and lasts the
//!   browser session (`Expiry::OnSessionEnd`). Ours is named `session`,
//!   `SameSite=Lax`, and persistent: `Max-Age` up to the session's deadline, 24 h idle
//!   / 30 d absolute by default. A browser-session cookie is
//!   `CookieConfig::with_persistent(false)` for the layer, or
//!   `SessionExpiry::browser_session` for one session.
//! - tower-sessions' `Expiry::AtDateTime` is a wall-clock instant; ours has no such
//!   expiry: a deadline is relative to the session's creation (`Expiry::absolute`) or
//!   last use (`Expiry::idle`). "At a date a week from now" is an absolute lifetime of
//!   a week for a session created now.
//! - Our server-side session token is HMAC-signed (`id.signature`), so a bogus or
//!   malformed cookie is refused before any store I/O, and the response expires it.
//!   The cookie store seals the whole session instead; a value it cannot open is
//!   refused the same way, with nothing stored anywhere to ask.
//! - An empty session is never written and gets no cookie; a cookie is re-sent only
//!   when there is news for the browser (a new value, or a `Max-Age` to move).
//! - `cycle_id` deletes the old record: the old cookie no longer opens the session.
//!   The cookie store keeps nothing on the server, so an old cookie value keeps
//!   opening the data sealed in it until its deadline (see the session-cookie docs).
//! - tower-sessions' `flush` (clear + delete + expire the cookie) is our `delete`;
//!   `with_always_save(true)` (write every request, moving the deadline) is our
//!   `TouchPolicy::Always`; `with_signed` is always on; `with_private` (an encrypted
//!   cookie) is the cookie store, whose value is sealed with AEAD.
//!
//! A self-sealed store (the cookie store, `capabilities().self_sealed`) keeps nothing
//! on the server: the checks that need a stored record (an old cookie dead after a
//! cycle or delete, exact concurrent counts, a forged signature) are gated on its
//! capabilities, each scenario checking the documented behaviour instead, so the whole
//! suite runs on it too.
//!
//! # Adding a scenario
//!
//! Its `pub async fn` in a `scenarios/*.rs` file and one line of the table; every
//! adapter's suite runs it with no edit on their side.

mod adapter;
mod client;
mod routes;
pub mod scenarios;

pub use adapter::{AbortOnDrop, Adapter, Served};
pub use routes::{respond, Reply};
pub use session_conformance::{run_case, CaseResult, Check, Failure, Fixture, Harness};

/// Expands to one `#[test]` per scenario, in a module named `$name`, for the adapter
/// `$adapter` (an expression, evaluated once per test) over the stores `$factory`
/// makes.
///
/// `http_suite!(name, adapter, |clock| async move { store })` for a bare store, or
/// `http_suite!(name, adapter, fixture = |clock| async move { Fixture::new(store)... })`.
#[macro_export]
macro_rules! http_suite {
    ($name:ident, $adapter:expr, fixture = $factory:expr $(,)?) => {
        $crate::__http_suite!($name, $adapter, $crate::Harness::from_fixtures($factory));
    };
    ($name:ident, $adapter:expr, $factory:expr $(,)?) => {
        $crate::__http_suite!($name, $adapter, $crate::Harness::from_stores($factory));
    };
}

/// The scenario table: every scenario, as `group::scenario`, in the order the tests
/// are listed. The one list: it makes the re-exports in [`scenarios`], the list
/// [`scenarios::ALL`], and the tests of every [`http_suite!`] call. A scenario left out
/// of it is an unused function, which `-D warnings` refuses.
#[doc(hidden)]
#[macro_export]
macro_rules! __http_case_table {
    ($callback:ident [$($extra:tt)*]) => {
        $crate::$callback! {
            [$($extra)*]
            cookies::no_session_no_cookie,
            cookies::get_none_sets_no_cookie,
            cookies::bogus_cookie_replaced,
            cookies::malformed_cookie_expired,
            cookies::tampered_cookie_refused,
            cookies::insert_sets_signed_cookie,
            cookies::attr_name,
            cookies::attr_path,
            cookies::attr_domain,
            cookies::attr_secure,
            cookies::attr_http_only,
            cookies::attr_same_site_strict,
            cookies::attr_same_site_lax,
            cookies::attr_same_site_none,
            cookies::removal_cookie_attributes,
            lifetime::max_age_persistent_default,
            lifetime::max_age_browser_session_default,
            lifetime::max_age_idle,
            lifetime::max_age_absolute,
            lifetime::max_age_follows_session_expiry,
            lifetime::max_age_session_persists_over_browser_default,
            lifetime::max_age_session_browser_over_persistent_default,
            lifetime::unchanged_session_sends_no_cookie,
            lifetime::always_touch_idle_moves_max_age,
            lifetime::always_touch_absolute_counts_down,
            lifetime::always_touch_browser_session,
            data::get_roundtrip,
            data::remove_last_value,
            data::counter_over_requests,
            data::counter_concurrent,
            data::flash_shown_once,
            data::explicit_save_mode,
            lifecycle::cycle_id_old_cookie_dead,
            lifecycle::delete_expires_cookie,
            lifecycle::invalidate_starts_fresh,
            failures::server_error_does_not_save,
            failures::server_error_saves_when_configured,
            failures::server_error_still_reports_delete,
            failures::store_outage_answered_503,
            failures::rotation_with_store_down_spares_static,
            headers::vary_cookie_when_read,
            headers::cache_control_private_with_token,
            headers::key_rotation_resigns,
            headers::token_header_transport,
            headers::other_cookies_do_not_hide_ours,
        }
    };
}

/// The module of one [`http_suite!`] call.
#[doc(hidden)]
#[macro_export]
macro_rules! __http_suite {
    ($name:ident, $adapter:expr, $harness:expr) => {
        #[allow(unused_imports, clippy::redundant_closure)]
        mod $name {
            use super::*;
            $crate::__http_case_table!(__http_case_tests[($adapter)($harness)]);
        }
    };
}

/// The tests of one suite, from the table: each named after its scenario.
#[doc(hidden)]
#[macro_export]
macro_rules! __http_case_tests {
    ([($adapter:expr) ($harness:expr)] $($group:ident :: $case:ident),+ $(,)?) => {$(
        #[test]
        fn $case() {
            let adapter = $adapter;
            $crate::run_case($harness, move |h| {
                ::std::boxed::Box::pin(async move { $crate::scenarios::$case(&adapter, &h).await })
            });
        }
    )+};
}
