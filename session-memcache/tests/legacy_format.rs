//! Contract rule 8 on memcached: records in envelope format 1, as the release before
//! envelope version 2 wrote them, still load. The bare envelope is written with a plain
//! client `set` (flags 0), not through `save`, so the test does not depend on today's
//! writer.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

mod common;

use session_conformance::legacy::{format_1_record, FORMAT_1_JSON, FORMAT_1_MSGPACK};
use session_core::{ManualClock, SessionId, SessionStore, Timestamp};

/// A minute after the fixture's last access: before its deadline, so it is live.
fn clock() -> ManualClock {
    ManualClock::at(Timestamp::from_millis(1_764_000_100_000))
}

async fn loads(envelope: &[u8]) {
    let servers = common::suite_servers();
    let addrs = servers.addrs();
    let store = common::store_on(&addrs, clock().into()).await;
    let raw = common::RawServers::new(&addrs).await;
    let id = SessionId::generate();
    // A real server TTL (600 s): the fixture's deadline is past by the server's clock.
    raw.set_everywhere(&store.key_for(&id), envelope).await;

    assert_eq!(
        store.load(&id.to_string()).await.unwrap(),
        Some(format_1_record(id))
    );
    // Loading leaves the stored bytes as they were.
    assert_eq!(
        raw.get(&store.key_for(&id)).await.as_deref(),
        Some(envelope)
    );
}

#[tokio::test]
async fn loads_a_format_1_messagepack_item() {
    loads(FORMAT_1_MSGPACK).await;
}

#[tokio::test]
async fn loads_a_format_1_json_item() {
    loads(FORMAT_1_JSON).await;
}
