//! Records built for tests of a store's limits.

use std::time::{Duration, SystemTime};

use session_core::{Codec, Data, Record, SessionId, Timestamp, Value};

/// A live record (deadline an hour from now, by the system clock) whose MessagePack
/// envelope is exactly `size` bytes, for testing a store's size limit at the byte.
///
/// Panics if `size` is too small to hold an envelope at all (under about 60 bytes):
/// it is test code, and such a size tests nothing.
///
/// ```
/// use session_conformance::record_of_size;
/// use session_core::Codec;
///
/// let record = record_of_size(1000);
/// assert_eq!(Codec::MessagePack.encode(&record).unwrap().len(), 1000);
/// ```
pub fn record_of_size(size: usize) -> Record {
    let make = |n: usize| {
        let mut data = Data::new();
        data.insert("note".into(), Value::String("x".repeat(n)));
        let now = Timestamp::from_system(SystemTime::now());
        Record::new(
            SessionId::generate(),
            data,
            now,
            now.saturating_add(Duration::from_secs(3600)),
        )
    };
    let len = |r: &Record| match Codec::MessagePack.encode(r) {
        Ok(bytes) => bytes.len(),
        Err(e) => panic!("a test record does not encode: {e}"),
    };
    // The string's length header grows in steps, so shrink until it fits exactly.
    let mut n = size;
    let mut r = make(n);
    while len(&r) > size {
        n = n.saturating_sub(len(&r) - size);
        r = make(n);
    }
    assert_eq!(len(&r), size, "no record encodes to exactly {size} bytes");
    r
}
