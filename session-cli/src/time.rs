//! Timestamps as operators read them.

use session_core::Timestamp;

/// RFC 3339 in UTC with milliseconds, e.g. `2026-01-01T12:00:00.000Z`. Instants before
/// the epoch show as the epoch; instants after the year 9999, which RFC 3339 cannot
/// write, as milliseconds since the epoch.
pub fn rfc3339(t: Timestamp) -> String {
    use std::fmt::Write;
    // humantime answers a formatting error past 9999-12-31, which `to_string` turns into
    // a panic; a stored deadline can be anything up to `i64::MAX` ms.
    let mut out = String::new();
    match write!(out, "{}", humantime::format_rfc3339_millis(t.to_system())) {
        Ok(()) => out,
        Err(_) => format!("{} ms after the epoch", t.as_millis()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_utc_with_millis() {
        assert_eq!(
            rfc3339(Timestamp::from_millis(1_767_225_600_123)),
            "2026-01-01T00:00:00.123Z"
        );
        assert_eq!(
            rfc3339(Timestamp::from_millis(-5)),
            "1970-01-01T00:00:00.000Z"
        );
        assert_eq!(
            rfc3339(Timestamp::from_millis(i64::MAX)),
            format!("{} ms after the epoch", i64::MAX)
        );
        assert_eq!(
            rfc3339(Timestamp::from_millis(253_402_300_799_999)),
            "9999-12-31T23:59:59.999Z"
        );
    }
}
