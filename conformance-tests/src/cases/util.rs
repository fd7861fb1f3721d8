//! Record builders shared by the cases.

use std::time::Duration;

use session_core::{Data, Record, SessionId, Timestamp, Value};

/// How long records made by the cases live unless a case says otherwise. Long enough
/// that servers enforcing TTLs on their own clock never expire them mid-case.
pub const TTL: Duration = Duration::from_secs(600);

/// A version-1 record created at `now`, living `ttl`, holding `data`.
pub fn record_at(now: Timestamp, ttl: Duration, data: Data) -> Record {
    Record::new(SessionId::generate(), data, now, now.saturating_add(ttl))
}

/// A map from `(key, value)` pairs.
pub fn data<const N: usize>(pairs: [(&str, Value); N]) -> Data {
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

/// The next version of `r` with `data`, written at `now`.
pub fn next_version(r: &Record, data: Data, now: Timestamp) -> Record {
    let mut next = r.clone().with_accessed_at(now).with_version(r.version + 1);
    next.data = data;
    next
}
