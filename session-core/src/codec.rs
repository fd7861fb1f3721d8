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
//!
//! # Bounded input (contract rule 11)
//!
//! Decoding a nested value recurses once per level, so stored bytes nested deeply
//! enough would overflow the thread's stack and abort the whole process (not just the
//! request): anyone able to write to a shared store could take the app down, again
//! after every restart. Both codecs therefore refuse a value nested deeper than
//! [`MAX_DEPTH`]: [`Codec::decode`] answers [`Error::Corrupt`] without recursing past
//! the limit, and [`Codec::encode`] refuses such a value before writing anything, so a
//! store never writes a record it cannot read back. Server stores also cap the encoded
//! size ([`DEFAULT_MAX_RECORD_SIZE`], enforced by
//! [`StoreSettings::encode`](crate::StoreSettings::encode)).

use serde::{Deserialize, Serialize};

use std::time::Duration;

use crate::{
    CookieLifetime, Data, Error, Expiry, Record, Result, SessionExpiry, SessionId, Timestamp,
    UserBinding, Value,
};

/// The deepest nesting of arrays and maps a session value may have.
///
/// A scalar (`1`, `"a"`, `null`) has depth 0, `[1]` and `{"a": 1}` depth 1, `[[1]]`
/// depth 2; the session's own key/value map does not count. A value of depth
/// `MAX_DEPTH` encodes and decodes; one deeper is refused by [`Codec::encode`] with
/// [`Error::Encode`] and by [`Codec::decode`] with [`Error::Corrupt`], whichever codec
/// wrote it.
///
/// Why 64: real session data is a few levels deep. Decoding costs stack per level;
/// measured in a debug build (rustc 1.95, rmp-serde 1.3, serde_json 1.0, decoding into
/// `serde_json::Value` the way [`Codec::decode`] does), a 2 MiB thread (a tokio worker's
/// default) survives about 596 nested MessagePack levels and a 256 KiB thread about 69,
/// i.e. about 3.5 KiB per level. A record at this limit needs about 250 KiB of debug
/// stack (far less in release), under an eighth of a tokio worker's stack, leaving the
/// rest for the server, the middleware and the handler around the decode.
///
/// ```
/// use session_core::{Codec, Data, Error, Record, SessionId, Timestamp, Value, MAX_DEPTH};
///
/// let mut value = Value::Null;
/// for _ in 0..MAX_DEPTH + 1 {
///     value = Value::Array(vec![value]);
/// }
/// let mut data = Data::new();
/// data.insert("deep".into(), value);
/// let record = Record::new(SessionId::generate(), data, Timestamp::from_millis(0),
///                          Timestamp::from_millis(1));
/// assert!(matches!(Codec::MessagePack.encode(&record), Err(Error::Encode(_))));
/// ```
pub const MAX_DEPTH: usize = 64;

/// The record size limit every server store starts with: 256 KiB of encoded record.
///
/// A real session (an id, a user, a cart, a few flash messages) is well under a few
/// KiB; 256 KiB is a value a real app never reaches, and it bounds what anonymous
/// requests can make a server store hold (without it, 20 requests of 2 MiB put 40 MB in
/// a file store). [`StoreSettings::with_max_record_size`](crate::StoreSettings::with_max_record_size)
/// changes it, `None` lifts it; a record over the limit is [`Error::TooLarge`] before
/// any I/O ([`StoreSettings::encode`](crate::StoreSettings::encode)).
pub const DEFAULT_MAX_RECORD_SIZE: usize = 256 * 1024;

/// Container levels the envelope itself adds above a session value: the body (a
/// MessagePack array or a JSON object) and the data map inside it.
const ENVELOPE_LEVELS: usize = 2;

/// Format byte for MessagePack (rmp-serde), envelope version 1: version, the three
/// timestamps, data.
pub const FORMAT_MSGPACK_V1: u8 = 0x01;
/// Format byte for JSON, envelope version 1.
pub const FORMAT_JSON_V1: u8 = 0x02;
/// Format byte for MessagePack, envelope version 2: version 1 plus the session's own
/// expiry ([`Record::expiry`]).
pub const FORMAT_MSGPACK_V2: u8 = 0x03;
/// Format byte for JSON, envelope version 2.
pub const FORMAT_JSON_V2: u8 = 0x04;
/// Format byte for MessagePack, envelope version 3: version 2 plus the user the session
/// is bound to ([`Record::user`]).
pub const FORMAT_MSGPACK_V3: u8 = 0x05;
/// Format byte for JSON, envelope version 3.
pub const FORMAT_JSON_V3: u8 = 0x06;

/// How a record body is serialized.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Codec {
    /// Compact binary MessagePack: the default.
    #[default]
    MessagePack,
    /// JSON, readable in a database console. Every build reads and writes it: it
    /// costs no dependency (serde_json is there for [`Value`] anyway).
    Json,
}

#[derive(Serialize)]
struct BodyRef<'a> {
    version: u64,
    created_at: Timestamp,
    accessed_at: Timestamp,
    expires_at: Timestamp,
    data: &'a Data,
    // Absent in version 1, which is what keeps a version-1 body byte for byte what
    // older releases wrote and read.
    // `None`: not written (version 1). `Some(None)`: written as nil, which version 3
    // needs without an expiry, since MessagePack writes a body as an array and the user
    // comes after this slot.
    #[serde(skip_serializing_if = "Option::is_none")]
    expiry: Option<Option<ExpiryBody>>,
    // Absent before version 3.
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<UserBodyRef<'a>>,
}

#[derive(Serialize)]
struct UserBodyRef<'a> {
    id: &'a str,
    auth_hash: Option<&'a str>,
    label: Option<&'a str>,
}

#[derive(Deserialize)]
struct UserBody {
    id: String,
    auth_hash: Option<String>,
    label: Option<String>,
}

#[derive(Deserialize)]
struct Body {
    version: u64,
    created_at: Timestamp,
    accessed_at: Timestamp,
    expires_at: Timestamp,
    data: Data,
    #[serde(default)]
    expiry: Option<ExpiryBody>,
    #[serde(default)]
    user: Option<UserBody>,
}

/// A [`SessionExpiry`] as the version-2 envelope holds it: milliseconds, so both codecs
/// write plain integers.
#[derive(Serialize, Deserialize)]
struct ExpiryBody {
    idle_ms: Option<u64>,
    absolute_ms: Option<u64>,
    persistent: bool,
}

impl ExpiryBody {
    fn of(e: &SessionExpiry) -> Self {
        let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        ExpiryBody {
            idle_ms: e.expiry().idle_timeout().map(ms),
            absolute_ms: e.expiry().absolute_lifetime().map(ms),
            persistent: e.cookie() == CookieLifetime::Persistent,
        }
    }

    fn into_expiry(self) -> Result<SessionExpiry> {
        let expiry = Expiry::new(
            self.idle_ms.map(Duration::from_millis),
            self.absolute_ms.map(Duration::from_millis),
        )
        .map_err(|e| Error::Corrupt(format!("stored session expiry: {e}")))?;
        Ok(if self.persistent {
            SessionExpiry::persistent(expiry)
        } else {
            SessionExpiry::browser_session(expiry)
        })
    }
}

impl Codec {
    /// Encodes `record` (without its id) into an envelope.
    ///
    /// A value nested deeper than [`MAX_DEPTH`] is [`Error::Encode`] (naming its key),
    /// checked before anything is serialized, so no store writes a record that
    /// [`Codec::decode`] would refuse.
    pub fn encode(self, record: &Record) -> Result<Vec<u8>> {
        check_depth(&record.data)?;
        // The oldest format that holds the record: during a rolling upgrade, instances
        // still on an older release keep reading every session that uses nothing newer
        // (no own expiry: version 1; no bound user: at most version 2).
        let version = match (&record.expiry, &record.user) {
            (_, Some(_)) => 3,
            (Some(_), None) => 2,
            (None, None) => 1,
        };
        let body = BodyRef {
            version: record.version,
            created_at: record.created_at,
            accessed_at: record.accessed_at,
            expires_at: record.expires_at,
            data: &record.data,
            expiry: (version >= 2).then(|| record.expiry.as_ref().map(ExpiryBody::of)),
            user: record.user.as_ref().map(|u| UserBodyRef {
                id: u.user_id(),
                auth_hash: u.auth_hash(),
                label: u.label(),
            }),
        };
        let format = match (self, version) {
            (Codec::MessagePack, 1) => FORMAT_MSGPACK_V1,
            (Codec::MessagePack, 2) => FORMAT_MSGPACK_V2,
            (Codec::MessagePack, _) => FORMAT_MSGPACK_V3,
            (Codec::Json, 1) => FORMAT_JSON_V1,
            (Codec::Json, 2) => FORMAT_JSON_V2,
            (Codec::Json, _) => FORMAT_JSON_V3,
        };
        let mut out = vec![format];
        match self {
            Codec::MessagePack => rmp_serde::encode::write(&mut out, &body)
                .map_err(|e| Error::Encode(e.to_string()))?,
            Codec::Json => {
                serde_json::to_writer(&mut out, &body).map_err(|e| Error::Encode(e.to_string()))?
            }
        }
        Ok(out)
    }

    /// Decodes an envelope written by any known format. Garbage is
    /// [`Error::Corrupt`], never a panic; so is a value nested deeper than
    /// [`MAX_DEPTH`], refused without recursing past the limit.
    pub fn decode(id: SessionId, bytes: &[u8]) -> Result<Record> {
        let (format, body) = bytes
            .split_first()
            .ok_or_else(|| Error::Corrupt("empty record".into()))?;
        let body: Body = match *format {
            FORMAT_MSGPACK_V1 | FORMAT_MSGPACK_V2 | FORMAT_MSGPACK_V3 => {
                let mut de = rmp_serde::Deserializer::from_read_ref(body);
                // rmp-serde counts every array, map and ext it enters and fails once
                // the count reaches the setting, so `n + 1` admits exactly `n` levels.
                de.set_max_depth(MAX_DEPTH + ENVELOPE_LEVELS + 1);
                Body::deserialize(&mut de).map_err(|e| match e {
                    rmp_serde::decode::Error::DepthLimitExceeded => too_deep(),
                    e => Error::Corrupt(format!("messagepack body: {e}")),
                })?
            }
            FORMAT_JSON_V1 | FORMAT_JSON_V2 | FORMAT_JSON_V3 => {
                // serde_json's own recursion limit (128 levels) cannot be lowered, so
                // without this scan a JSON record could nest up to 125 levels below the
                // data map: deeper than MAX_DEPTH, and more stack than a record at the
                // limit needs. The scan is iterative and exact for valid JSON.
                if json_nesting_exceeds(body, MAX_DEPTH + ENVELOPE_LEVELS) {
                    return Err(too_deep());
                }
                serde_json::from_slice(body)
                    .map_err(|e| Error::Corrupt(format!("json body: {e}")))?
            }
            other => return Err(Error::Corrupt(format!("unknown format byte {other:#04x}"))),
        };
        let version = match *format {
            FORMAT_MSGPACK_V1 | FORMAT_JSON_V1 => 1,
            FORMAT_MSGPACK_V2 | FORMAT_JSON_V2 => 2,
            _ => 3,
        };
        let expiry = match body.expiry {
            Some(_) if version < 2 => {
                return Err(Error::Corrupt(format!(
                    "format byte {format:#04x} holds no session expiry"
                )))
            }
            Some(e) => Some(e.into_expiry()?),
            None => None,
        };
        let user = match body.user {
            Some(_) if version < 3 => {
                return Err(Error::Corrupt(format!(
                    "format byte {format:#04x} holds no user binding"
                )))
            }
            Some(u) => Some(UserBinding::from_stored(u.id, u.auth_hash, u.label)?),
            None => None,
        };
        Ok(Record {
            id,
            data: body.data,
            created_at: body.created_at,
            accessed_at: body.accessed_at,
            expires_at: body.expires_at,
            version: body.version,
            expiry,
            user,
        })
    }
}

fn too_deep() -> Error {
    Error::Corrupt(format!(
        "a value is nested deeper than the limit of {MAX_DEPTH} levels"
    ))
}

/// [`Error::Encode`] if a value in `data` is nested deeper than [`MAX_DEPTH`].
///
/// Iterative: the values it guards against are exactly those deep enough to overflow
/// the stack of a recursive walk (serde's `Serialize` for `Value` is one).
fn check_depth(data: &Data) -> Result<()> {
    let mut stack: Vec<(&Value, usize)> = Vec::new();
    for (key, value) in data {
        stack.clear();
        stack.push((value, 0));
        while let Some((value, depth)) = stack.pop() {
            // A container at `depth` makes the value at least `depth + 1` deep.
            match value {
                Value::Array(_) | Value::Object(_) if depth >= MAX_DEPTH => {
                    return Err(Error::Encode(format!(
                        "the value under key {key:?} is nested deeper than the limit of \
                         {MAX_DEPTH} levels"
                    )))
                }
                Value::Array(items) => stack.extend(items.iter().map(|v| (v, depth + 1))),
                Value::Object(map) => stack.extend(map.values().map(|v| (v, depth + 1))),
                _ => {}
            }
        }
    }
    Ok(())
}

/// Whether the JSON text `body` nests arrays and objects more than `max` levels deep.
///
/// Brackets inside strings do not count. For any input serde_json parses, the count is
/// its real nesting; for invalid input it never undercounts what serde_json reaches
/// before it reports the error, since both enter a string only at an unescaped quote.
fn json_nesting_exceeds(body: &[u8], max: usize) -> bool {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &b in body {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
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
            expiry: None,
            user: None,
        }
    }

    fn bound(expiry: Option<SessionExpiry>) -> Record {
        let user = UserBinding::new("ada@example.com")
            .unwrap()
            .with_auth_hash("h1")
            .unwrap()
            .with_label("Firefox")
            .unwrap();
        sample().with_expiry(expiry).with_user(Some(user))
    }

    #[test]
    fn a_bound_user_round_trips_in_format_3_with_and_without_an_expiry() {
        let remember = SessionExpiry::remember_for(Duration::from_secs(60)).unwrap();
        for codec in [Codec::MessagePack, Codec::Json] {
            for expiry in [None, Some(remember)] {
                let r = bound(expiry);
                let bytes = codec.encode(&r).unwrap();
                let want = match codec {
                    Codec::MessagePack => FORMAT_MSGPACK_V3,
                    _ => FORMAT_JSON_V3,
                };
                assert_eq!(bytes[0], want);
                assert_eq!(
                    Codec::decode(r.id, &bytes).unwrap(),
                    r,
                    "{codec:?} {expiry:?}"
                );
            }
            // Unbound records keep the older formats.
            let v2 = codec.encode(&sample().with_expiry(Some(remember))).unwrap();
            assert!(matches!(v2[0], FORMAT_MSGPACK_V2 | FORMAT_JSON_V2));
        }
    }

    #[test]
    fn an_older_format_byte_with_a_user_is_corrupt() {
        for (old, codec) in [
            (FORMAT_MSGPACK_V2, Codec::MessagePack),
            (FORMAT_JSON_V1, Codec::Json),
        ] {
            let mut bytes = codec.encode(&bound(None)).unwrap();
            bytes[0] = old;
            match Codec::decode(SessionId::generate(), &bytes) {
                Err(Error::Corrupt(m)) => {
                    assert!(m.contains("user") || m.contains("expiry"), "{m}")
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn a_stored_user_id_over_the_limit_is_corrupt() {
        let long = format!(
            "{}{{\"version\":1,\"created_at\":1,\"accessed_at\":1,\"expires_at\":2,\"data\":{{}},\"user\":{{\"id\":\"{}\",\"auth_hash\":null,\"label\":null}}}}",
            char::from(FORMAT_JSON_V3),
            "u".repeat(crate::MAX_USER_ID_LEN + 1)
        );
        assert!(matches!(
            Codec::decode(SessionId::generate(), long.as_bytes()),
            Err(Error::Corrupt(_))
        ));
    }

    #[test]
    fn msgpack_roundtrip() {
        let r = sample();
        let bytes = Codec::MessagePack.encode(&r).unwrap();
        assert_eq!(bytes[0], FORMAT_MSGPACK_V1);
        assert_eq!(Codec::decode(r.id, &bytes).unwrap(), r);
    }

    #[test]
    fn json_roundtrip() {
        let r = sample();
        let bytes = Codec::Json.encode(&r).unwrap();
        assert_eq!(bytes[0], FORMAT_JSON_V1);
        assert_eq!(Codec::decode(r.id, &bytes).unwrap(), r);
    }

    /// Found by the `envelope_decode` fuzz target: without serde_json's exact float
    /// parser these came back 1–2 ulp off.
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

    /// Decodes run on a thread this small in the depth tests. A record at the limit
    /// needs about 250 KiB in a debug build; without the bound, the 1,000-deep case
    /// alone would need about 3.5 MiB and abort the test process.
    const SMALL_STACK: usize = 512 * 1024;

    fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
        std::thread::Builder::new()
            .stack_size(SMALL_STACK)
            .spawn(f)
            .unwrap()
            .join()
            .unwrap()
    }

    /// A MessagePack envelope built byte by byte (not through serde): version 7, times
    /// 1, 2, 3, and data `{"k": v}` where `v` is `depth` levels of alternating
    /// one-element arrays and one-entry maps around `null`.
    fn msgpack_nested(depth: usize) -> Vec<u8> {
        let mut b = vec![FORMAT_MSGPACK_V1, 0x95, 7, 1, 2, 3, 0x81, 0xa1, b'k'];
        for level in 0..depth {
            if level % 2 == 0 {
                b.push(0x91); // fixarray, 1 element
            } else {
                b.extend_from_slice(&[0x81, 0xa1, b'a']); // fixmap {"a": …}
            }
        }
        b.push(0xc0); // nil
        b
    }

    /// The same record as JSON text, built by hand.
    fn json_nested(depth: usize) -> Vec<u8> {
        let mut b = vec![FORMAT_JSON_V1];
        b.extend_from_slice(
            br#"{"version":7,"created_at":1,"accessed_at":2,"expires_at":3,"data":{"k":"#,
        );
        for level in 0..depth {
            b.extend_from_slice(if level % 2 == 0 { b"[" } else { br#"{"a":"# });
        }
        b.extend_from_slice(b"null");
        for level in (0..depth).rev() {
            b.push(if level % 2 == 0 { b']' } else { b'}' });
        }
        b.extend_from_slice(b"}}");
        b
    }

    /// Both envelopes.
    fn nested_envelopes(depth: usize) -> Vec<(&'static str, Vec<u8>)> {
        vec![
            ("messagepack", msgpack_nested(depth)),
            ("json", json_nested(depth)),
        ]
    }

    /// `depth` levels of one-element arrays around `null`.
    fn nested_value(depth: usize) -> Value {
        let mut v = Value::Null;
        for _ in 0..depth {
            v = Value::Array(vec![v]);
        }
        v
    }

    /// How deep `value` nests (recursive: only for values this module accepted).
    fn depth_of(value: &Value) -> usize {
        match value {
            Value::Array(items) => 1 + items.iter().map(depth_of).max().unwrap_or(0),
            Value::Object(map) => 1 + map.values().map(depth_of).max().unwrap_or(0),
            _ => 0,
        }
    }

    /// Takes a value apart without recursion: `Value`'s own drop recurses once per
    /// level and would overflow on the very values these tests build.
    fn drop_flat(value: Value) {
        let mut stack = vec![value];
        while let Some(v) = stack.pop() {
            match v {
                Value::Array(items) => stack.extend(items),
                Value::Object(map) => stack.extend(map.into_iter().map(|(_, v)| v)),
                _ => {}
            }
        }
    }

    fn record_with(value: Value) -> Record {
        let mut data = Data::new();
        data.insert("k".into(), value);
        Record::new(
            SessionId::from_bytes([3; 32]),
            data,
            Timestamp::from_millis(1),
            Timestamp::from_millis(2),
        )
    }

    #[test]
    fn deeply_nested_stored_bytes_are_corrupt_not_a_crash() {
        on_small_stack(|| {
            for depth in [MAX_DEPTH + 1, 1_000, 5_000, 100_000] {
                for (codec, bytes) in nested_envelopes(depth) {
                    match Codec::decode(SessionId::from_bytes([1; 32]), &bytes) {
                        Err(Error::Corrupt(m)) => assert!(m.contains("nested deeper"), "{m}"),
                        other => panic!("{codec} at depth {depth}: {other:?}"),
                    }
                }
            }
        });
    }

    #[test]
    fn stored_bytes_at_the_limit_decode_and_round_trip() {
        on_small_stack(|| {
            for (codec, bytes) in nested_envelopes(MAX_DEPTH) {
                let id = SessionId::from_bytes([1; 32]);
                let record = Codec::decode(id, &bytes).unwrap_or_else(|e| panic!("{codec}: {e}"));
                assert_eq!(depth_of(&record.data["k"]), MAX_DEPTH, "{codec}");
                assert_eq!(record.version, 7);
                let again = Codec::default().encode(&record).unwrap();
                assert_eq!(Codec::decode(id, &again).unwrap(), record, "{codec}");
            }
        });
    }

    #[test]
    fn encode_refuses_values_deeper_than_the_limit() {
        let codecs = [Codec::MessagePack, Codec::Json];
        for codec in codecs {
            let at_limit = record_with(nested_value(MAX_DEPTH));
            let bytes = codec.encode(&at_limit).unwrap();
            assert_eq!(Codec::decode(at_limit.id, &bytes).unwrap(), at_limit);

            // Deep inside a map inside an array, next to shallow siblings.
            let mut inner = serde_json::Map::new();
            inner.insert("x".into(), nested_value(MAX_DEPTH - 1));
            let over = record_with(json!([1, {"y": 2}, Value::Object(inner)]));
            match codec.encode(&over) {
                Err(Error::Encode(m)) => assert!(m.contains("\"k\"") && m.contains("64"), "{m}"),
                other => panic!("{codec:?}: {other:?}"),
            }
        }
    }

    /// The encode-side check walks iteratively too: a value far deeper than any stack
    /// survives is refused, not serialized.
    #[test]
    fn encode_refuses_a_very_deep_value_on_a_small_stack() {
        on_small_stack(|| {
            let record = record_with(nested_value(100_000));
            let result = Codec::MessagePack.encode(&record);
            assert!(matches!(result, Err(Error::Encode(_))), "{result:?}");
            let Record { data, .. } = record;
            data.into_values().for_each(drop_flat);
        });
    }

    #[test]
    fn json_brackets_inside_strings_do_not_count() {
        let noise = format!("{}\\\"{}", "[{".repeat(5_000), "]".repeat(100));
        let r = record_with(json!([noise, {"k": noise}]));
        let bytes = Codec::Json.encode(&r).unwrap();
        assert_eq!(Codec::decode(r.id, &bytes).unwrap(), r);
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
