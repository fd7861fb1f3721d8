//! memcached's exptime: how a record's absolute deadline is sent to the server.
//!
//! The protocol reads an exptime of at most 30 days (2,592,000 s) as seconds from now,
//! a larger one as an absolute Unix time, and 0 as "never". The store sends:
//!
//! - **relative seconds** while the deadline is at most 30 days away. A relative time
//!   does not depend on the app host and the memcached host agreeing on the wall clock,
//!   nor on the server's own idea of it: memcached turns an absolute exptime into its
//!   internal clock with the wall time it read *when it started* and a monotonic clock
//!   since, so a wall clock stepped after start (NTP, a VM resume) shifts every absolute
//!   deadline by the step. Seconds from now are immune to both.
//! - **absolute Unix seconds** beyond 30 days, where the protocol leaves no choice. A
//!   few seconds of clock disagreement are negligible against a month.
//! - an **already-past absolute time** (30 days + 1 s after the epoch, what memcached
//!   itself substitutes for a negative exptime) for a record whose deadline has passed,
//!   so the server never keeps it.
//! - **0 (no server deadline)** only for a deadline beyond 2038-01-19, which memcached
//!   cannot represent (it parses exptime as a signed 32-bit number).
//!
//! Seconds are rounded up. memcached's clock ticks once a second, so the server drops a
//! record within about a second of its deadline, on either side of it. The server's TTL
//! is the garbage collector; the authoritative check is the store's own: every read
//! decodes the record's `expires_at` and compares it with the injected
//! [`Clock`](session_core::Clock), so a record never loads at or after its deadline.

use session_core::Timestamp;

/// The largest exptime memcached reads as relative: 30 days in seconds.
pub(crate) const MAX_RELATIVE_SECS: u32 = 30 * 24 * 60 * 60;

/// The exptime memcached itself uses for "already expired": an absolute time in
/// January 1970, before any server started.
const EXPIRED_WIRE: u32 = MAX_RELATIVE_SECS + 1;

/// The last absolute exptime memcached parses (it reads a signed 32-bit number).
const MAX_ABSOLUTE_SECS: i64 = i32::MAX as i64;

/// A deadline as memcached will be told it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exptime {
    /// Expire this many seconds after the server receives the command (1..=30 days).
    Relative(u32),
    /// Expire at this Unix time (seconds, more than 30 days after the epoch).
    Absolute(u32),
    /// The deadline has passed: the server must not keep the record.
    Expired,
    /// The deadline is past what memcached can represent: no server deadline; the
    /// store's clock check still ends the record on time.
    Never,
}

impl Exptime {
    /// The exptime for a record that must stop loading at `expires_at`, seen at `now`.
    pub(crate) fn for_deadline(now: Timestamp, expires_at: Timestamp) -> Exptime {
        let remaining_ms = i128::from(expires_at.as_millis()) - i128::from(now.as_millis());
        if remaining_ms <= 0 {
            return Exptime::Expired;
        }
        // Ceiling division: a deadline 1 ms away still gets one whole second.
        let remaining_secs = (remaining_ms + 999) / 1000;
        if remaining_secs <= i128::from(MAX_RELATIVE_SECS) {
            // In range by the check above, and at least 1.
            return Exptime::Relative(u32::try_from(remaining_secs).unwrap_or(MAX_RELATIVE_SECS));
        }
        let absolute = expires_at.as_secs_ceil();
        if absolute > MAX_ABSOLUTE_SECS {
            return Exptime::Never;
        }
        if absolute <= i64::from(MAX_RELATIVE_SECS) {
            // More than 30 days away, yet within 30 days of the epoch: the clock is set
            // before 1970. Sent as an absolute time the server would read it as relative
            // (or as past); the longest relative time is the closest it can honour.
            return Exptime::Relative(MAX_RELATIVE_SECS);
        }
        // In range: above 30 days, at most i32::MAX.
        Exptime::Absolute(u32::try_from(absolute).unwrap_or(u32::MAX))
    }

    /// The number to put on the wire.
    pub(crate) fn wire(self) -> u32 {
        match self {
            Exptime::Relative(secs) | Exptime::Absolute(secs) => secs,
            Exptime::Expired => EXPIRED_WIRE,
            Exptime::Never => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY_MS: i64 = 24 * 60 * 60 * 1000;
    /// 2026-11-22T00:00:00Z, a realistic "now".
    const NOW_MS: i64 = 1_795_305_600_000;

    fn at(ms: i64) -> Timestamp {
        Timestamp::from_millis(ms)
    }

    fn exptime(remaining_ms: i64) -> Exptime {
        Exptime::for_deadline(at(NOW_MS), at(NOW_MS + remaining_ms))
    }

    #[test]
    fn short_deadlines_are_relative_and_rounded_up() {
        assert_eq!(exptime(1), Exptime::Relative(1));
        assert_eq!(exptime(1_000), Exptime::Relative(1));
        assert_eq!(exptime(1_001), Exptime::Relative(2));
        assert_eq!(exptime(1_500), Exptime::Relative(2));
        assert_eq!(exptime(1_800_000), Exptime::Relative(1_800));
        assert_eq!(exptime(1_800_000).wire(), 1_800);
    }

    #[test]
    fn exactly_thirty_days_is_still_relative() {
        let e = exptime(30 * DAY_MS);
        assert_eq!(e, Exptime::Relative(MAX_RELATIVE_SECS));
        assert_eq!(e.wire(), 2_592_000);
    }

    #[test]
    fn past_thirty_days_is_absolute_unix_seconds() {
        // One millisecond over 30 days rounds up to 2,592,001 s: as a relative value the
        // server would read that as a date in January 1970 and drop the record at once.
        let e = exptime(30 * DAY_MS + 1);
        let expected = u32::try_from((NOW_MS + 30 * DAY_MS + 1 + 999) / 1000).unwrap();
        assert_eq!(e, Exptime::Absolute(expected));
        assert!(e.wire() > MAX_RELATIVE_SECS);

        let e = exptime(90 * DAY_MS);
        assert_eq!(
            e.wire(),
            u32::try_from((NOW_MS + 90 * DAY_MS) / 1000).unwrap()
        );
    }

    #[test]
    fn absolute_time_rounds_up_to_the_next_second() {
        let deadline = NOW_MS + 40 * DAY_MS + 250;
        let e = Exptime::for_deadline(at(NOW_MS), at(deadline));
        assert_eq!(
            e,
            Exptime::Absolute(u32::try_from(deadline / 1000 + 1).unwrap())
        );
    }

    #[test]
    fn past_or_present_deadlines_are_sent_as_already_expired() {
        for remaining in [0, -1, -1_000, -365 * DAY_MS] {
            let e = exptime(remaining);
            assert_eq!(e, Exptime::Expired);
            // Never 0 (that would keep the record forever) and never a small relative
            // value (that would keep it for a while).
            assert_eq!(e.wire(), MAX_RELATIVE_SECS + 1);
        }
    }

    #[test]
    fn deadlines_memcached_cannot_represent_get_no_server_deadline() {
        assert_eq!(
            Exptime::for_deadline(at(NOW_MS), Timestamp::MAX),
            Exptime::Never
        );
        assert_eq!(Exptime::Never.wire(), 0);
        let last = at(i64::from(i32::MAX) * 1000);
        assert_eq!(
            Exptime::for_deadline(at(NOW_MS), last),
            Exptime::Absolute(i32::MAX as u32)
        );
    }

    #[test]
    fn a_clock_before_1970_never_sends_a_misread_absolute_time() {
        // 40 days from a clock at -35 days: absolute second 5 * 86400, which the server
        // would take as relative. The longest relative time is sent instead.
        let e = Exptime::for_deadline(at(-35 * DAY_MS), at(5 * DAY_MS));
        assert_eq!(e, Exptime::Relative(MAX_RELATIVE_SECS));
    }

    #[test]
    fn extreme_inputs_do_not_overflow() {
        assert_eq!(
            Exptime::for_deadline(Timestamp::from_millis(i64::MIN), Timestamp::MAX),
            Exptime::Never
        );
        assert_eq!(
            Exptime::for_deadline(Timestamp::MAX, Timestamp::from_millis(i64::MIN)),
            Exptime::Expired
        );
    }
}
