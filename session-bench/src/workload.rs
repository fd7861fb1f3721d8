//! Sample sessions of a chosen size, as session-core records. The sizing, the text,
//! the timed runner and the statistics are [`crate::measure`]'s, shared with the
//! tower-sessions peers, so both are measured alike.

use session_core::{Codec, Data, Record, SessionId, Timestamp, Value};

use crate::measure::{blob_len, text, user, TTL};

/// Session data of a typical shape: a user and a blob of text.
fn data(blob: usize, i: usize) -> Data {
    let mut data = Data::new();
    data.insert("user".into(), Value::from(user(i)));
    data.insert("blob".into(), Value::from(text(blob, i as u64)));
    data
}

/// A session whose MessagePack envelope (what a store writes) is `payload` bytes, give
/// or take two: the blob is sized after measuring the envelope without it.
pub fn sample_record(now: Timestamp, payload: usize, i: usize) -> Record {
    let deadline = now.saturating_add(TTL);
    let bare = Record::new(SessionId::generate(), data(0, i), now, deadline);
    let overhead = Codec::MessagePack
        .encode(&bare)
        .map(|b| b.len())
        .unwrap_or(64);
    let blob = blob_len(payload, overhead);
    Record::new(bare.id, data(blob, i), now, deadline)
}

/// The current time by the system clock.
pub fn now() -> Timestamp {
    Timestamp::from_system(std::time::SystemTime::now())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_have_the_asked_size() {
        for payload in [100, 2048, 32 * 1024] {
            let r = sample_record(now(), payload, 7);
            let len = Codec::MessagePack.encode(&r).unwrap().len();
            assert!(len.abs_diff(payload) <= 2, "{payload}: {len}");
        }
    }
}
