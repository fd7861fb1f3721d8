//! The stored value: a fixed-width text header, then the session-core envelope.
//!
//! ```text
//! offset  length  field
//!      0       1  layout tag: `1` unbound, `2` bound to a user
//!      1      20  version, decimal, zero-padded            e.g. 00000000000000000003
//!     21      20  accessed_at (ms), sign and 19 digits     e.g. +0001767225600000
//!     41      20  expires_at (ms), sign and 19 digits
//!     61      64  tag `2` only: the bound user's key, hex (the index it is filed in)
//! 61 or 125  ...  the session-core envelope (format byte + body)
//! ```
//!
//! An unbound record keeps exactly the v1 value the previous release wrote, so its hot
//! path is unchanged and old values load as they are. A bound one carries its user's
//! key in the header, where the scripts read it (`GETRANGE 0 124`) to keep the user
//! index exact without decoding the envelope. (A v1 value whose envelope holds a
//! binding, written before the index existed, counts as unbound for the index.)
//!
//! Why a header rather than a hash `{v, d}`: `create` stays a plain `SET … NX PXAT`, `load`
//! a plain `GET`, and the scripts read the fields they need with `GETRANGE 0 60` without
//! copying the (possibly large) envelope into Lua. Fixed widths let `touch` rewrite the
//! two timestamps in place with one `SETRANGE`, never re-encoding or rewriting the data.
//! The version is compared as text, so every `u64` compares exactly (Lua numbers are
//! doubles). The envelope keeps the timestamps it was written with; after a touch the
//! header's are newer, and the header wins on load.

use session_core::{Error, Record, Result, Timestamp, UserKey};

/// Tag of this layout. Not a session-core format byte (0x01, 0x02), so a bare envelope is
/// never mistaken for a header.
pub(crate) const LAYOUT_V1: u8 = b'1';
/// Tag of the bound layout: the v1 header, then the user's key in hex.
pub(crate) const LAYOUT_V2: u8 = b'2';
/// Width of each header field.
const FIELD: usize = 20;
/// Offset of the version field.
pub(crate) const VERSION_AT: usize = 1;
/// Offset of the accessed-at field, which the expires-at field follows.
pub(crate) const TIMES_AT: usize = VERSION_AT + FIELD;
/// Offset of the expires-at field.
pub(crate) const EXPIRES_AT: usize = TIMES_AT + FIELD;
/// Length of the whole header.
pub(crate) const HEADER_LEN: usize = EXPIRES_AT + FIELD;
/// Offset of the bound user's key in a v2 header.
pub(crate) const USER_AT: usize = HEADER_LEN;
/// Hex digits of a user key.
const USER_LEN: usize = 64;
/// Length of a v2 header.
pub(crate) const HEADER_V2_LEN: usize = USER_AT + USER_LEN;

/// The header fields of a stored value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    pub(crate) version: u64,
    pub(crate) accessed_at: Timestamp,
    pub(crate) expires_at: Timestamp,
    /// The user the record is filed under (v2), `None` for v1.
    pub(crate) user: Option<UserKey>,
}

/// The version as the header stores it, which is also how the save script compares it.
pub(crate) fn version_field(version: u64) -> String {
    format!("{version:020}")
}

/// The accessed-at and expires-at fields back to back, as `touch` writes them.
pub(crate) fn times_field(accessed_at: Timestamp, expires_at: Timestamp) -> String {
    format!(
        "{:+020}{:+020}",
        accessed_at.as_millis(),
        expires_at.as_millis()
    )
}

/// The store's now as the header writes a time (sign and 19 digits): the save and touch
/// scripts' fast paths compare it as text with a positive deadline field.
pub(crate) fn now_field(now: Timestamp) -> String {
    format!("{:+020}", now.as_millis())
}

/// The full value for `record` whose envelope is `envelope`: v1 if the record is
/// unbound, v2 (with its user's key) if bound. Written straight into one buffer of the
/// final size (no intermediate strings): it is on every create and save.
pub(crate) fn value(record: &Record, envelope: &[u8]) -> Vec<u8> {
    use std::io::Write as _;
    let user = record.user_key();
    let mut out = Vec::with_capacity(HEADER_V2_LEN + envelope.len());
    out.push(if user.is_some() { LAYOUT_V2 } else { LAYOUT_V1 });
    // Writing into a Vec cannot fail.
    let _ = write!(
        out,
        "{:020}{:+020}{:+020}",
        record.version,
        record.accessed_at.as_millis(),
        record.expires_at.as_millis()
    );
    if let Some(user) = user {
        out.extend_from_slice(user.to_hex().as_bytes());
    }
    out.extend_from_slice(envelope);
    out
}

/// Splits a stored value into its header and envelope. Anything else is
/// [`Error::Corrupt`]. Also reads a header alone (`GETRANGE 0 124` of a value).
pub(crate) fn split(value: &[u8]) -> Result<(Header, &[u8])> {
    let tag = value.first().copied();
    let header_len = match tag {
        Some(LAYOUT_V1) => HEADER_LEN,
        Some(LAYOUT_V2) => HEADER_V2_LEN,
        _ => 0,
    };
    if header_len == 0 || value.len() < header_len {
        return Err(Error::Corrupt(
            "redis value does not start with a session-redis v1 or v2 header".into(),
        ));
    }
    let field = |at: usize| &value[at..at + FIELD];
    let version = parse_unsigned(field(VERSION_AT));
    let accessed_at = parse_timestamp(field(TIMES_AT));
    let expires_at = parse_timestamp(field(EXPIRES_AT));
    let user = match tag {
        Some(LAYOUT_V2) => std::str::from_utf8(&value[USER_AT..HEADER_V2_LEN])
            .ok()
            .and_then(UserKey::from_hex)
            .map(Some),
        _ => Some(None),
    };
    match (version, accessed_at, expires_at, user) {
        (Some(version), Some(accessed_at), Some(expires_at), Some(user)) => Ok((
            Header {
                version,
                accessed_at,
                expires_at,
                user,
            },
            &value[header_len..],
        )),
        _ => Err(Error::Corrupt("redis value has a malformed header".into())),
    }
}

/// The deadline in a header's expires-at field (as read by `GETRANGE 41 60`).
pub(crate) fn parse_expires_field(field: &[u8]) -> Option<Timestamp> {
    if field.len() == FIELD {
        parse_timestamp(field)
    } else {
        None
    }
}

fn parse_unsigned(field: &[u8]) -> Option<u64> {
    if !field.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(field).ok()?.parse().ok()
}

fn parse_timestamp(field: &[u8]) -> Option<Timestamp> {
    let (sign, digits) = field.split_first()?;
    if !matches!(sign, b'+' | b'-') || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let ms: i64 = std::str::from_utf8(field).ok()?.parse().ok()?;
    Some(Timestamp::from_millis(ms))
}

/// The `PXAT` argument for a deadline. Redis refuses a non-positive one; a record with
/// such a deadline is already expired, and `PXAT 1` makes the server drop it at once.
pub(crate) fn pxat(expires_at: Timestamp) -> i64 {
    expires_at.as_millis().max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use session_core::{Codec, Data, SessionId};

    fn record(version: u64, accessed: i64, expires: i64) -> Record {
        Record::new(
            SessionId::generate(),
            Data::new(),
            Timestamp::from_millis(accessed),
            Timestamp::from_millis(expires),
        )
        .with_version(version)
    }

    #[test]
    fn roundtrip_including_extremes() {
        for (v, a, e) in [
            (1, 1_767_225_600_000, 1_767_225_660_000),
            (u64::MAX, i64::MIN, i64::MAX),
            (0, -5, 0),
        ] {
            let r = record(v, a, e);
            let envelope = Codec::MessagePack.encode(&r).unwrap();
            let stored = value(&r, &envelope);
            assert_eq!(stored.len(), HEADER_LEN + envelope.len());
            let (header, rest) = split(&stored).unwrap();
            assert_eq!(
                header,
                Header {
                    version: v,
                    accessed_at: r.accessed_at,
                    expires_at: r.expires_at,
                    user: None,
                }
            );
            assert_eq!(rest, &envelope[..]);
            assert_eq!(
                parse_expires_field(&stored[EXPIRES_AT..HEADER_LEN]),
                Some(r.expires_at)
            );
        }
    }

    #[test]
    fn a_bound_record_carries_its_user_key() {
        let user = session_core::UserBinding::new("ada").unwrap();
        let r = record(7, 10, 20).with_user(Some(user.clone()));
        let envelope = Codec::MessagePack.encode(&r).unwrap();
        let stored = value(&r, &envelope);
        assert_eq!(stored[0], LAYOUT_V2);
        assert_eq!(stored.len(), HEADER_V2_LEN + envelope.len());
        assert_eq!(
            &stored[USER_AT..HEADER_V2_LEN],
            user.user_key().to_hex().as_bytes()
        );
        let (header, rest) = split(&stored).unwrap();
        assert_eq!(header.user, Some(user.user_key()));
        assert_eq!(header.version, 7);
        assert_eq!(rest, &envelope[..]);
        // The header alone, as GETRANGE 0 124 reads it.
        assert_eq!(split(&stored[..HEADER_V2_LEN]).unwrap().0, header);
        let mut bad_user = stored.clone();
        bad_user[USER_AT] = b'g';
        assert!(matches!(split(&bad_user), Err(Error::Corrupt(_))));
        assert!(matches!(
            split(&stored[..HEADER_V2_LEN - 1]),
            Err(Error::Corrupt(_))
        ));
    }

    #[test]
    fn fields_have_fixed_width() {
        assert_eq!(version_field(0).len(), FIELD);
        assert_eq!(version_field(u64::MAX).len(), FIELD);
        let t = |ms| Timestamp::from_millis(ms);
        assert_eq!(times_field(t(i64::MIN), t(i64::MAX)).len(), 2 * FIELD);
        assert_eq!(times_field(t(0), t(-1)).len(), 2 * FIELD);
    }

    #[test]
    fn garbage_is_corrupt() {
        let good = value(&record(3, 10, 20), b"\x01x");
        let mut bad_version = good.clone();
        bad_version[5] = b'x';
        let mut bad_sign = good.clone();
        bad_sign[TIMES_AT] = b'0';
        let mut bad_tag = good.clone();
        bad_tag[0] = 0x01;
        for bad in [
            &b""[..],
            b"1",
            &good[..HEADER_LEN - 1],
            &bad_version,
            &bad_sign,
            &bad_tag,
        ] {
            assert!(matches!(split(bad), Err(Error::Corrupt(_))), "{bad:?}");
        }
        assert_eq!(parse_expires_field(b"+12"), None);
        assert_eq!(parse_expires_field(b""), None);
    }

    #[test]
    fn pxat_is_always_positive() {
        assert_eq!(pxat(Timestamp::from_millis(-10)), 1);
        assert_eq!(pxat(Timestamp::EPOCH), 1);
        assert_eq!(pxat(Timestamp::from_millis(42)), 42);
    }
}
