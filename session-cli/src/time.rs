//! Timestamps as operators read them.

use session_core::Timestamp;

/// RFC 3339 in UTC with milliseconds, e.g. `2026-01-01T12:00:00.000Z`. Instants before
/// the epoch show as the epoch.
pub fn rfc3339(t: Timestamp) -> String {
    humantime::format_rfc3339_millis(t.to_system()).to_string()
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
    }
}
