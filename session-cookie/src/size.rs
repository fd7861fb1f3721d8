//! How many bytes of record fit in one browser cookie.
//!
//! RFC 6265 §6.1 asks browsers to keep at least 4096 bytes per cookie, counting its
//! name, value and attributes; a browser may drop a larger cookie without a word. The
//! store therefore works backwards from 4096:
//!
//! ```text
//! value chars  V = 4096 − attribute budget − len(name) − 1        ("name=value")
//! sealed bytes B = ⌊3·V / 4⌋                                       (unpadded base64)
//! record bytes L = B − 46 (envelope: header 6, nonce 24, tag 16) − 32 (session id)
//! ```
//!
//! `L` is what the store declares as
//! [`Capabilities::max_record_size`](session_core::Capabilities): any record whose
//! encoded envelope is at most `L` bytes fits, however incompressible. Compression
//! lets larger, repetitive records through too.

use session_core::{Error, Result, ID_BYTES};

use crate::seal::OVERHEAD;

/// What a browser keeps per cookie: name, value and attributes together (RFC 6265
/// §6.1). No cookie value longer than this is even looked at.
pub const BROWSER_COOKIE_LIMIT: usize = 4096;

/// Bytes set aside for the cookie's attributes by default:
/// `; Path=/; Domain=…; Max-Age=…; Expires=…; Secure; HttpOnly; SameSite=Lax` with a
/// domain name of up to about 100 characters, plus room for `Partitioned`.
pub const DEFAULT_ATTRIBUTE_BUDGET: usize = 256;

/// The smallest record budget a configuration may leave. Below it even a modest
/// session (a user id and a CSRF token) would not fit, so a name or attribute budget
/// that leaves less is a configuration error rather than a store that refuses
/// everything.
pub const MIN_RECORD_BUDGET: usize = 512;

/// The size limits that follow from a cookie name and an attribute budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    /// Longest cookie value the store emits, in characters.
    pub(crate) max_value_len: usize,
    /// Largest record body (the codec envelope, compressed or not), in bytes.
    pub(crate) max_record_size: usize,
}

impl Limits {
    /// The limits for a cookie called `name` whose attributes take at most
    /// `attribute_budget` bytes.
    pub(crate) fn new(name: &str, attribute_budget: usize) -> Result<Self> {
        let too_small = || {
            Error::Config(format!(
                "a {}-byte cookie name and a {attribute_budget}-byte attribute budget leave \
                 less than {MIN_RECORD_BUDGET} bytes of the browser's {BROWSER_COOKIE_LIMIT}-byte \
                 cookie for the session",
                name.len()
            ))
        };
        let max_value_len = BROWSER_COOKIE_LIMIT
            .checked_sub(attribute_budget)
            .and_then(|n| n.checked_sub(name.len()))
            .and_then(|n| n.checked_sub(1))
            .ok_or_else(too_small)?;
        let max_record_size = max_decoded_len(max_value_len)
            .checked_sub(OVERHEAD + ID_BYTES)
            .filter(|&n| n >= MIN_RECORD_BUDGET)
            .ok_or_else(too_small)?;
        Ok(Limits {
            max_value_len,
            max_record_size,
        })
    }
}

/// Characters of unpadded base64 for `bytes` bytes: ⌈4n/3⌉.
#[cfg(test)]
const fn encoded_len(bytes: usize) -> usize {
    (bytes * 4).div_ceil(3)
}

/// The most bytes whose unpadded base64 fits in `chars` characters: ⌊3c/4⌋. (A
/// remainder of one character can carry no whole byte; two carry one, three carry two.)
pub(crate) const fn max_decoded_len(chars: usize) -> usize {
    chars * 3 / 4
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_arithmetic_is_tight() {
        for chars in 0..=BROWSER_COOKIE_LIMIT {
            let bytes = max_decoded_len(chars);
            assert!(encoded_len(bytes) <= chars, "{chars} chars");
            assert!(encoded_len(bytes + 1) > chars, "{chars} chars");
        }
    }

    #[test]
    fn default_limits() {
        let limits = Limits::new("session", DEFAULT_ATTRIBUTE_BUDGET).unwrap();
        // 4096 − 256 − 7 − 1 = 3832 characters carry 2874 bytes; minus 78 of overhead.
        assert_eq!(limits.max_value_len, 3832);
        assert_eq!(limits.max_record_size, 2874 - 78);
        let cookie = "session".len() + 1 + limits.max_value_len + DEFAULT_ATTRIBUTE_BUDGET;
        assert_eq!(cookie, BROWSER_COOKIE_LIMIT);
    }

    #[test]
    fn budgets_that_leave_no_room_are_config_errors() {
        assert!(matches!(Limits::new("s", 4096), Err(Error::Config(_))));
        assert!(matches!(Limits::new("s", 9999), Err(Error::Config(_))));
        assert!(matches!(
            Limits::new(&"n".repeat(3500), 0),
            Err(Error::Config(_))
        ));
        // The boundary: exactly MIN_RECORD_BUDGET left is fine, one byte less is not.
        let ok = Limits::new("s", 0).unwrap();
        let spare = ok.max_record_size - MIN_RECORD_BUDGET;
        // Each 4 characters of budget carry 3 bytes.
        let budget = spare / 3 * 4;
        assert!(Limits::new("s", budget).unwrap().max_record_size >= MIN_RECORD_BUDGET);
        assert!(Limits::new("s", budget + 8).is_err());
    }
}
