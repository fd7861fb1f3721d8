//! The versioned record envelope (contract rule 8).
//!
//! Byte 0 names the format; the rest is the body in that format. Readers accept every
//! format they know, so a store can switch codecs without losing sessions, and a new
//! format byte lets the layout evolve. Neither codec can instantiate arbitrary types:
//! values decode into `serde_json::Value` only.
//!
//! The id is deliberately *not* in the envelope: server stores key by the id's hash, and
//! a record that carried the raw id would let a dump of the store be replayed as
//! cookies.

use serde::{Deserialize, Serialize};

use crate::{Data, Error, Record, Result, SessionId, Timestamp};

/// Format byte for MessagePack (rmp-serde), envelope version 1.
pub const FORMAT_MSGPACK_V1: u8 = 0x01;
/// Format byte for JSON, envelope version 1.
pub const FORMAT_JSON_V1: u8 = 0x02;

/// How a record body is serialized.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Codec {
    /// Compact binary MessagePack: the default.
    #[default]
    MessagePack,
    /// JSON, readable in a database console. Needs the `json` feature.
    #[cfg(feature = "json")]
    Json,
}

#[derive(Serialize)]
struct BodyRef<'a> {
    version: u64,
    created_at: Timestamp,
    accessed_at: Timestamp,
    expires_at: Timestamp,
    data: &'a Data,
}

#[derive(Deserialize)]
struct Body {
    version: u64,
    created_at: Timestamp,
    accessed_at: Timestamp,
    expires_at: Timestamp,
    data: Data,
}

impl Codec {
    /// Encodes `record` (without its id) into an envelope.
    pub fn encode(self, record: &Record) -> Result<Vec<u8>> {
        let body = BodyRef {
            version: record.version,
            created_at: record.created_at,
            accessed_at: record.accessed_at,
            expires_at: record.expires_at,
            data: &record.data,
        };
        match self {
            Codec::MessagePack => {
                let mut out = vec![FORMAT_MSGPACK_V1];
                rmp_serde::encode::write(&mut out, &body)
                    .map_err(|e| Error::Encode(e.to_string()))?;
                Ok(out)
            }
            #[cfg(feature = "json")]
            Codec::Json => {
                let mut out = vec![FORMAT_JSON_V1];
                serde_json::to_writer(&mut out, &body).map_err(|e| Error::Encode(e.to_string()))?;
                Ok(out)
            }
        }
    }

    /// Decodes an envelope written by any known format. Garbage is
    /// [`Error::Corrupt`], never a panic.
    pub fn decode(id: SessionId, bytes: &[u8]) -> Result<Record> {
        let (format, body) = bytes
            .split_first()
            .ok_or_else(|| Error::Corrupt("empty record".into()))?;
        let body: Body = match *format {
            FORMAT_MSGPACK_V1 => rmp_serde::from_slice(body)
                .map_err(|e| Error::Corrupt(format!("messagepack body: {e}")))?,
            #[cfg(feature = "json")]
            FORMAT_JSON_V1 => serde_json::from_slice(body)
                .map_err(|e| Error::Corrupt(format!("json body: {e}")))?,
            #[cfg(not(feature = "json"))]
            FORMAT_JSON_V1 => {
                return Err(Error::Corrupt(
                    "record is JSON but session-core's `json` feature is off".into(),
                ))
            }
            other => return Err(Error::Corrupt(format!("unknown format byte {other:#04x}"))),
        };
        Ok(Record {
            id,
            data: body.data,
            created_at: body.created_at,
            accessed_at: body.accessed_at,
            expires_at: body.expires_at,
            version: body.version,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn sample() -> Record {
        let mut data = Data::new();
        data.insert("user".into(), json!({"name": "Zoë", "roles": ["a", "b"]}));
        data.insert("n".into(), json!(u64::MAX));
        data.insert("f".into(), json!(-1.5));
        Record {
            id: SessionId::generate(),
            data,
            created_at: Timestamp::from_millis(1),
            accessed_at: Timestamp::from_millis(2),
            expires_at: Timestamp::from_millis(3),
            version: 7,
        }
    }

    #[test]
    fn msgpack_roundtrip() {
        let r = sample();
        let bytes = Codec::MessagePack.encode(&r).unwrap();
        assert_eq!(bytes[0], FORMAT_MSGPACK_V1);
        assert_eq!(Codec::decode(r.id, &bytes).unwrap(), r);
    }

    #[cfg(feature = "json")]
    #[test]
    fn json_roundtrip() {
        let r = sample();
        let bytes = Codec::Json.encode(&r).unwrap();
        assert_eq!(bytes[0], FORMAT_JSON_V1);
        assert_eq!(Codec::decode(r.id, &bytes).unwrap(), r);
    }

    /// Found by the `envelope_decode` fuzz target: without serde_json's exact float
    /// parser these came back 1–2 ulp off.
    #[cfg(feature = "json")]
    #[test]
    fn json_floats_roundtrip_exactly() {
        for x in [
            -2.3534373682644397e-185_f64,
            -9.792877359513997e-175,
            0.1,
            1e308,
        ] {
            let mut data = Data::new();
            data.insert("x".into(), json!(x));
            let r = Record::new(
                SessionId::from_bytes([1; 32]),
                data,
                Timestamp::from_millis(0),
                Timestamp::from_millis(1),
            );
            let back = Codec::decode(r.id, &Codec::Json.encode(&r).unwrap()).unwrap();
            assert_eq!(back, r, "{x:e}");
        }
    }

    #[test]
    fn envelope_never_holds_the_raw_id() {
        let r = sample();
        let bytes = Codec::MessagePack.encode(&r).unwrap();
        let text = r.id.to_string();
        assert!(!bytes.windows(32).any(|w| w == r.id.as_bytes()));
        assert!(!bytes.windows(text.len()).any(|w| w == text.as_bytes()));
    }

    #[test]
    fn garbage_is_corrupt() {
        let id = SessionId::generate();
        for bad in [&b""[..], b"\x01", b"\x09abc", b"\x01\xff\xff", b"\x02{"] {
            assert!(matches!(Codec::decode(id, bad), Err(Error::Corrupt(_))));
        }
    }

    proptest! {
        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = Codec::decode(SessionId::generate(), &bytes);
        }

        #[test]
        fn truncation_is_an_error(cut in 0usize..40) {
            let r = sample();
            let bytes = Codec::MessagePack.encode(&r).unwrap();
            let cut = cut.min(bytes.len() - 1);
            prop_assert!(Codec::decode(r.id, &bytes[..cut]).is_err());
        }
    }
}
