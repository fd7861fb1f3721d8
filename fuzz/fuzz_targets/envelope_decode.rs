//! The record envelope decoder. `Codec::decode` on arbitrary bytes never panics and
//! anything it accepts re-encodes to an equal record; and for arbitrary records built
//! from the input, `decode(encode(r)) == r` for every codec.
#![no_main]

use libfuzzer_sys::arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;
use session_core::{Codec, SessionId, FORMAT_JSON_V1, FORMAT_MSGPACK_V1};
use session_fuzz::arbitrary_record;

fuzz_target!(|data: &[u8]| {
    // 1. Arbitrary bytes: no panic; an accepted envelope is stable under re-encoding.
    let id = SessionId::from_bytes([0x5a; 32]);
    if let Ok(record) = Codec::decode(id.clone(), data) {
        let codec = match data.first() {
            Some(&FORMAT_MSGPACK_V1) => Codec::MessagePack,
            Some(&FORMAT_JSON_V1) => Codec::Json,
            other => panic!("decode accepted unknown format byte {other:?}"),
        };
        let again = codec
            .encode(&record)
            .unwrap_or_else(|e| panic!("a decoded record does not re-encode: {e}"));
        let back = Codec::decode(id, &again)
            .unwrap_or_else(|e| panic!("a re-encoded record does not decode: {e}"));
        assert_eq!(back, record, "decode(encode(decode(x))) != decode(x)");
    }

    // 2. Round trip of a record built from the input.
    let mut u = Unstructured::new(data);
    if let Ok(record) = arbitrary_record(&mut u) {
        for codec in [Codec::MessagePack, Codec::Json] {
            let bytes = codec
                .encode(&record)
                .unwrap_or_else(|e| panic!("{codec:?} cannot encode a record: {e}"));
            let back = Codec::decode(record.id.clone(), &bytes)
                .unwrap_or_else(|e| panic!("{codec:?} cannot decode its own output: {e}"));
            // Exact for every codec, floats included: the workspace builds serde_json
            // with `float_roundtrip` (a finding of this target, fuzz/README.md).
            assert_eq!(back, record, "{codec:?}: decode(encode(r)) != r");
        }
    }
});
