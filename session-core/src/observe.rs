//! Traces and metrics of session work, through the `tracing` and `metrics` facades.
//!
//! Two sources, each cheap when nothing listens:
//!
//! - [`ObservedStore`] wraps any store and reports every call: a `session.store` span
//!   (fields `backend`, `op`, `outcome`, `elapsed_us`) and the two store metrics below.
//!   `session_http::HttpSessions` wraps its store in one, so the tower and actix
//!   adapters need no code for it; an adapter of your own wraps its store itself, once.
//! - [`SessionDriver`](crate::SessionDriver) opens a `session.request` span for each
//!   request's session work (fields `loaded`, `finish`, `conflicts_replayed`; the store
//!   spans of the request are its children) and counts requests and replayed conflicts.
//!
//! Spans are at `DEBUG` level under the `session_core` target
//! (`RUST_LOG=session_core=debug`). No span, event or metric carries a session id, a
//! cookie value, a storage key, a user id or session data: only the fixed words below.
//!
//! # Metrics
//!
//! | name | kind | labels | unit |
//! |---|---|---|---|
//! | `session_store_operations_total` | counter | `backend`, `op`, `outcome` | operations |
//! | `session_store_duration_seconds` | histogram | `backend`, `op` | seconds |
//! | `session_requests_total` | counter | `finish` | requests |
//! | `session_conflicts_replayed_total` | counter | none | replays |
//!
//! - `backend` is [`SessionStore::backend`]: `memory`, `file`, `shelf`, `sqlite`,
//!   `postgres`, `mysql`, `redis`, `redis-cluster`, `memcache`, `cookie`, or a
//!   third-party store's own word (`custom` by default).
//! - `op` is the store method ([`Operation::name`]): `load`, `create`, `save`, `touch`,
//!   `delete`, `delete_expired`, `count`, `scan`, `delete_keys`, `sessions_of`,
//!   `revoke_user`, `revoke_session`.
//! - `outcome`: `hit` and `miss` for a `load` that found a live session or none, `ok`
//!   for any other call that succeeded, else the error's kind ([`error_kind`]):
//!   `collision`, `not_found`, `conflict`, `too_large`, `unsupported`, `corrupt`,
//!   `value`, `encode`, `config`, and for backend failures `timeout`, `unavailable`,
//!   `io`, `protocol`, `server`, `backend` (any other). Errors by kind are
//!   `session_store_operations_total` without the `ok`, `hit` and `miss` outcomes.
//! - `finish` says what a request did to its session, the first that applies:
//!   `failed` (the end of the request got a store error), `created` (a new record,
//!   also after `cycle_id`), `saved`, `deleted`, `vanished` (deleted or expired by
//!   someone else while this request wrote), `touched`, `unchanged`.
//!
//! Loads are not split into `miss` and `expired`: a store answers a missing, an
//! expired and a tampered cookie alike (contract rule 2, so that expiry leaks nothing
//! and a dump cannot tell them apart), so a count of expired sessions would be a guess.
//!
//! Nothing is described to the recorder unless [`describe_metrics`] is called (after
//! installing it); the Prometheus exporter then prints help and units. For the
//! duration histogram, [`DURATION_BUCKETS`] are buckets that fit store latencies.
//!
//! ```
//! use session_core::{observe::ObservedStore, MemoryStore, SessionStore};
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let store = ObservedStore::new(MemoryStore::new());
//! assert_eq!(store.backend(), "memory");
//! assert_eq!(store.load("no-such-session").await?, None); // counted as a `miss`
//! # Ok::<(), session_core::Error>(())
//! # }).unwrap();
//! ```

mod request;
mod span;
mod store;

pub(crate) use request::RequestTrace;
pub(crate) use span::in_span;
pub use store::ObservedStore;

use crate::{BackendErrorKind, Error};

#[cfg(doc)]
use crate::{Operation, SessionStore};

/// Counter of store calls, labelled `backend`, `op`, `outcome`.
pub const STORE_OPERATIONS: &str = "session_store_operations_total";
/// Histogram of store call latency in seconds, labelled `backend`, `op`.
pub const STORE_DURATION: &str = "session_store_duration_seconds";
/// Counter of requests whose session the driver ended, labelled `finish`.
pub const REQUESTS: &str = "session_requests_total";
/// Counter of saves replayed on a newer record after a `Conflict`.
pub const CONFLICTS_REPLAYED: &str = "session_conflicts_replayed_total";

/// Histogram buckets for [`STORE_DURATION`], in seconds: 50 µs (a memory store) to
/// 2.5 s (a store near its timeout).
pub const DURATION_BUCKETS: &[f64] = &[
    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
    1.0, 2.5,
];

/// Describes every metric above (help text and unit) to the installed recorder. Call
/// it once, after installing the recorder.
pub fn describe_metrics() {
    use metrics::Unit;
    metrics::describe_counter!(
        STORE_OPERATIONS,
        Unit::Count,
        "Session store calls, by backend, operation and outcome (hit, miss, ok or the error kind)"
    );
    metrics::describe_histogram!(
        STORE_DURATION,
        Unit::Seconds,
        "Session store call latency, by backend and operation"
    );
    metrics::describe_counter!(
        REQUESTS,
        Unit::Count,
        "Requests whose session work ended, by what it did to the session"
    );
    metrics::describe_counter!(
        CONFLICTS_REPLAYED,
        Unit::Count,
        "Session saves replayed on a concurrently saved record"
    );
}

/// The kind of `error` as metrics and traces name it: a fixed word that never carries
/// the error's message, which may quote session data (a [`Error::Value`] quotes the
/// value that did not convert).
///
/// ```
/// use session_core::{observe::error_kind, Error};
///
/// assert_eq!(error_kind(&Error::Conflict), "conflict");
/// assert_eq!(error_kind(&Error::backend("disk on fire")), "backend");
/// ```
pub fn error_kind(error: &Error) -> &'static str {
    OUTCOMES[Outcome::of_error(error) as usize]
}

/// The outcome label of one store call; its index into [`OUTCOMES`] (and into the
/// store's key table) is its discriminant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Ok,
    Hit,
    Miss,
    Collision,
    NotFound,
    Conflict,
    TooLarge,
    Unsupported,
    Corrupt,
    Value,
    Encode,
    Config,
    Timeout,
    Unavailable,
    Io,
    Protocol,
    Server,
    Backend,
}

/// Every outcome label, by [`Outcome`] discriminant.
pub(crate) const OUTCOMES: [&str; 18] = [
    "ok",
    "hit",
    "miss",
    "collision",
    "not_found",
    "conflict",
    "too_large",
    "unsupported",
    "corrupt",
    "value",
    "encode",
    "config",
    "timeout",
    "unavailable",
    "io",
    "protocol",
    "server",
    "backend",
];

impl Outcome {
    pub(crate) fn of_error(error: &Error) -> Outcome {
        match error {
            Error::Collision => Outcome::Collision,
            Error::NotFound => Outcome::NotFound,
            Error::Conflict => Outcome::Conflict,
            Error::TooLarge { .. } => Outcome::TooLarge,
            Error::Unsupported(_) => Outcome::Unsupported,
            Error::Corrupt(_) => Outcome::Corrupt,
            Error::Value { .. } => Outcome::Value,
            Error::Encode(_) => Outcome::Encode,
            Error::Config(_) => Outcome::Config,
            Error::Backend(b) => match b.kind() {
                BackendErrorKind::Timeout => Outcome::Timeout,
                BackendErrorKind::Unavailable => Outcome::Unavailable,
                BackendErrorKind::Io => Outcome::Io,
                BackendErrorKind::Protocol => Outcome::Protocol,
                BackendErrorKind::Server => Outcome::Server,
                BackendErrorKind::Other => Outcome::Backend,
            },
        }
    }

    pub(crate) fn label(self) -> &'static str {
        OUTCOMES[self as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_line_up_with_outcomes() {
        assert_eq!(Outcome::Ok.label(), "ok");
        assert_eq!(Outcome::Miss.label(), "miss");
        assert_eq!(Outcome::TooLarge.label(), "too_large");
        assert_eq!(Outcome::Config.label(), "config");
        assert_eq!(Outcome::Backend.label(), "backend");
        assert_eq!(Outcome::Backend as usize, OUTCOMES.len() - 1);
        let timeout = crate::BackendError::new(BackendErrorKind::Timeout, "slow");
        assert_eq!(error_kind(&Error::Backend(timeout)), "timeout");
        let value = Error::Value {
            key: "k".into(),
            message: "invalid type: string \"secret\"".into(),
        };
        assert_eq!(error_kind(&value), "value");
    }
}
