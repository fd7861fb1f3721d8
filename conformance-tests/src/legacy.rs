//! Stored bytes in envelope format 1, as the release before envelope version 2 wrote
//! them (contract rule 8: every older format still loads, tested with bytes the older
//! code wrote). These bytes were captured from that release's `Codec::encode`; they
//! must load forever, on every backend, so they are constants and never regenerated.
//!
//! ```
//! use session_core::{Codec, SessionId};
//! use session_conformance::legacy;
//!
//! let id = SessionId::generate();
//! let record = Codec::decode(id, legacy::FORMAT_1_MSGPACK)?;
//! assert_eq!(record, legacy::format_1_record(id));
//! # Ok::<(), session_core::Error>(())
//! ```

use serde_json::json;
use session_core::{Data, Record, SessionId, Timestamp};

/// [`format_1_record`] in format 1, MessagePack (format byte `0x01`).
pub const FORMAT_1_MSGPACK: &[u8] = &[
    0x01, 0x95, 0x03, 0xcf, 0x00, 0x00, 0x01, 0x9a, 0xb6, 0x97, 0xe8, 0x00, 0xcf, 0x00, 0x00, 0x01,
    0x9a, 0xb6, 0x98, 0xd2, 0x60, 0xcf, 0x00, 0x00, 0x01, 0x9a, 0xbb, 0xbe, 0x44, 0x00, 0x83, 0xa4,
    0x63, 0x61, 0x72, 0x74, 0x82, 0xa5, 0x69, 0x74, 0x65, 0x6d, 0x73, 0x93, 0x01, 0x02, 0x03, 0xa4,
    0x6e, 0x6f, 0x74, 0x65, 0xa4, 0x5a, 0x6f, 0xc3, 0xab, 0xa1, 0x6e, 0x2a, 0xa4, 0x75, 0x73, 0x65,
    0x72, 0xa3, 0x61, 0x64, 0x61,
];

/// [`format_1_record`] in format 1, JSON (format byte `0x02`).
pub const FORMAT_1_JSON: &[u8] = &[
    0x02, 0x7b, 0x22, 0x76, 0x65, 0x72, 0x73, 0x69, 0x6f, 0x6e, 0x22, 0x3a, 0x33, 0x2c, 0x22, 0x63,
    0x72, 0x65, 0x61, 0x74, 0x65, 0x64, 0x5f, 0x61, 0x74, 0x22, 0x3a, 0x31, 0x37, 0x36, 0x34, 0x30,
    0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x2c, 0x22, 0x61, 0x63, 0x63, 0x65, 0x73, 0x73,
    0x65, 0x64, 0x5f, 0x61, 0x74, 0x22, 0x3a, 0x31, 0x37, 0x36, 0x34, 0x30, 0x30, 0x30, 0x30, 0x36,
    0x30, 0x30, 0x30, 0x30, 0x2c, 0x22, 0x65, 0x78, 0x70, 0x69, 0x72, 0x65, 0x73, 0x5f, 0x61, 0x74,
    0x22, 0x3a, 0x31, 0x37, 0x36, 0x34, 0x30, 0x38, 0x36, 0x34, 0x30, 0x30, 0x30, 0x30, 0x30, 0x2c,
    0x22, 0x64, 0x61, 0x74, 0x61, 0x22, 0x3a, 0x7b, 0x22, 0x63, 0x61, 0x72, 0x74, 0x22, 0x3a, 0x7b,
    0x22, 0x69, 0x74, 0x65, 0x6d, 0x73, 0x22, 0x3a, 0x5b, 0x31, 0x2c, 0x32, 0x2c, 0x33, 0x5d, 0x2c,
    0x22, 0x6e, 0x6f, 0x74, 0x65, 0x22, 0x3a, 0x22, 0x5a, 0x6f, 0xc3, 0xab, 0x22, 0x7d, 0x2c, 0x22,
    0x6e, 0x22, 0x3a, 0x34, 0x32, 0x2c, 0x22, 0x75, 0x73, 0x65, 0x72, 0x22, 0x3a, 0x22, 0x61, 0x64,
    0x61, 0x22, 0x7d, 0x7d,
];

/// The record both constants hold, under `id` (ids are not in the envelope): version
/// 3, created 1_764_000_000_000 ms, accessed a minute later, a deadline a day after
/// creation, no expiry of its own.
pub fn format_1_record(id: SessionId) -> Record {
    let mut data = Data::new();
    data.insert("user".into(), json!("ada"));
    data.insert("cart".into(), json!({"items": [1, 2, 3], "note": "Zoë"}));
    data.insert("n".into(), json!(42));
    Record::new(
        id,
        data,
        Timestamp::from_millis(1_764_000_000_000),
        Timestamp::from_millis(1_764_086_400_000),
    )
    .with_accessed_at(Timestamp::from_millis(1_764_000_060_000))
    .with_version(3)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use session_core::{
        Codec, Expiry, SessionExpiry, FORMAT_JSON_V1, FORMAT_JSON_V2, FORMAT_MSGPACK_V1,
        FORMAT_MSGPACK_V2,
    };

    use super::*;

    #[test]
    fn format_1_bytes_decode_to_the_record() {
        let id = SessionId::generate();
        for bytes in [FORMAT_1_MSGPACK, FORMAT_1_JSON] {
            assert_eq!(Codec::decode(id, bytes).unwrap(), format_1_record(id));
        }
    }

    #[test]
    fn a_record_without_its_own_expiry_is_still_written_in_format_1() {
        let record = format_1_record(SessionId::generate());
        assert_eq!(
            Codec::MessagePack.encode(&record).unwrap(),
            FORMAT_1_MSGPACK
        );
        assert_eq!(Codec::Json.encode(&record).unwrap(), FORMAT_1_JSON);
    }

    #[test]
    fn a_record_with_its_own_expiry_is_written_in_format_2_and_round_trips() {
        let id = SessionId::generate();
        let own = SessionExpiry::browser_session(
            Expiry::new(
                Some(Duration::from_secs(900)),
                Some(Duration::from_secs(7200)),
            )
            .unwrap(),
        );
        let record = format_1_record(id).with_expiry(Some(own));
        for (codec, byte, old) in [
            (Codec::MessagePack, FORMAT_MSGPACK_V2, FORMAT_MSGPACK_V1),
            (Codec::Json, FORMAT_JSON_V2, FORMAT_JSON_V1),
        ] {
            let bytes = codec.encode(&record).unwrap();
            assert_eq!(bytes[0], byte);
            assert_eq!(Codec::decode(id, &bytes).unwrap(), record);
            // Format 1 has no place for it: such bytes are corrupt, not silently cut.
            let mut relabelled = bytes.clone();
            relabelled[0] = old;
            assert!(Codec::decode(id, &relabelled).is_err());
        }
    }
}
