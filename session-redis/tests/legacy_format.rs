//! Contract rule 8 on Redis: records in envelope format 1, as the release before
//! envelope version 2 wrote them, still load. The value (header + envelope) is written
//! with a plain `SET`, not through `save`, so the test does not depend on today's writer.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

mod common;

use common::{PrefixGuard, Target};
use session_conformance::legacy::{format_1_record, FORMAT_1_JSON, FORMAT_1_MSGPACK};
use session_core::{ManualClock, SessionId, SessionStore, Timestamp};

/// A minute after the fixture's last access: before its deadline, so it is live.
fn clock() -> ManualClock {
    ManualClock::at(Timestamp::from_millis(1_764_000_100_000))
}

/// The 61-byte header `layout.rs` documents, then the envelope.
fn stored_value(version: u64, atime: i64, expires: i64, envelope: &[u8]) -> Vec<u8> {
    let mut value = format!("1{version:020}{atime:+020}{expires:+020}").into_bytes();
    assert_eq!(value.len(), 61);
    value.extend_from_slice(envelope);
    value
}

async fn loads(envelope: &[u8]) {
    let target = Target::shared();
    let store = target.store(common::test_options(clock().into())).await;
    let _guard = PrefixGuard::new(target, store.prefix());
    let id = SessionId::generate();
    let record = format_1_record(id);
    let value = stored_value(
        record.version,
        record.accessed_at.as_millis(),
        record.expires_at.as_millis(),
        envelope,
    );
    let mut conn = redis::Client::open(common::shared_url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    // The fixture's deadline is in the past by the server's clock: a real TTL keeps the
    // key alive while the store's manual clock says the record is live.
    let _: () = redis::cmd("SET")
        .arg(store.key_of(&id))
        .arg(&value)
        .arg("EX")
        .arg(600)
        .query_async(&mut conn)
        .await
        .unwrap();

    assert_eq!(store.load(&id.to_string()).await.unwrap(), Some(record));
    // Loading leaves the stored bytes as they were.
    let after: Vec<u8> = redis::cmd("GET")
        .arg(store.key_of(&id))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(after, value);
}

#[tokio::test]
async fn loads_a_format_1_messagepack_value() {
    loads(FORMAT_1_MSGPACK).await;
}

#[tokio::test]
async fn loads_a_format_1_json_value() {
    loads(FORMAT_1_JSON).await;
}
