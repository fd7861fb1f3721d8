//! `session-admin` on a file store holding records nested far deeper than
//! `session_core::MAX_DEPTH` (issue 16 item 1): it used to abort with a stack overflow
//! at about 570 levels. Now `inspect` answers "corrupt" (exit 1) with the reason,
//! `stats` counts the record as unreadable, `gc` leaves it for the operator, and
//! `purge --yes` removes it; the process never dies of it.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::*;
use serde_json::json;
use session_any::AnyStore;
use session_core::{Data, Record, SessionId, Timestamp, FORMAT_MSGPACK_V1, MAX_DEPTH};

/// A MessagePack envelope built byte by byte: version 1, created and accessed at 0,
/// expiring at `i64::MAX` ms, data `{"k": v}` with `v` nested `depth` arrays deep.
fn nested_envelope(depth: usize) -> Vec<u8> {
    let mut bytes = vec![FORMAT_MSGPACK_V1, 0x95, 1, 0, 0, 0xcf];
    bytes.extend_from_slice(&(i64::MAX as u64).to_be_bytes());
    bytes.extend_from_slice(&[0x81, 0xa1, b'k']);
    bytes.extend(std::iter::repeat_n(0x91, depth));
    bytes.push(0xc0);
    bytes
}

/// Where `FileStore` keeps the record of `id` under `root`: `ab/cd/<storage key hex>`.
fn record_path(root: &Path, id: &SessionId) -> PathBuf {
    let hex = id.storage_key().to_hex();
    root.join(&hex[..2]).join(&hex[2..4]).join(&hex)
}

/// A live session written through the store, whose file is then replaced by `bytes`.
async fn plant(url: &str, root: &Path, bytes: &[u8]) -> SessionId {
    let store = AnyStore::open(url).await.unwrap();
    let now = Timestamp::from_system(std::time::SystemTime::now());
    let mut data = Data::new();
    data.insert("user".into(), json!("ada"));
    let record = Record::new(
        SessionId::generate(),
        data,
        now,
        now.saturating_add(Duration::from_secs(3600)),
    );
    store.create(&record).await.unwrap();
    std::fs::write(record_path(root, &record.id), bytes).unwrap();
    record.id
}

#[tokio::test]
async fn deep_records_are_reported_corrupt_never_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("sessions");
    let url = format!("file://{}", root.display());

    let at_limit = plant(&url, &root, &nested_envelope(MAX_DEPTH)).await;
    let depths = [MAX_DEPTH + 1, 600, 1_000, 5_000, 100_000];
    let mut deep = Vec::new();
    for depth in depths {
        deep.push((depth, plant(&url, &root, &nested_envelope(depth)).await));
    }

    // inspect: a clear "corrupt" with the reason, exit 1 (not a signal), every depth.
    // (`--` because an id may start with `-`.)
    for (depth, id) in &deep {
        let run = admin(&url, &["inspect", "--", &id.to_string()]).expect(FAILURE);
        assert!(
            run.stderr.contains("corrupt") && run.stderr.contains("nested deeper"),
            "depth {depth}: {run:?}"
        );
        let json = admin(&url, &["--json", "inspect", "--", &id.to_string()]).expect(FAILURE);
        assert_eq!(json.json()["exit_code"], FAILURE, "depth {depth}");
    }

    // A record exactly at the limit still inspects, data and all.
    let record = admin_json(&url, &["inspect", "--", &at_limit.to_string()]);
    let mut value = &record["data"]["k"];
    for _ in 0..MAX_DEPTH {
        value = &value[0];
    }
    assert!(value.is_null(), "{record}");

    // stats: the deep records are counted, as unreadable.
    let total = 1 + depths.len() as u64;
    let stats = admin_json(&url, &["stats", "--page-size", "2"]);
    assert_eq!(stats["sessions"], total, "{stats}");
    assert_eq!(stats["live"], 1, "{stats}");
    assert_eq!(stats["unreadable"], depths.len() as u64, "{stats}");
    let text = admin(&url, &["stats"]).expect(OK);
    assert!(text.stdout.contains("unreadable"), "{text:?}");

    // gc leaves what it cannot read; purge --yes removes everything.
    let gc = admin_json(&url, &["gc", "--page-size", "2"]);
    assert_eq!(gc["removed"], 0, "{gc}");
    let purged = admin_json(&url, &["purge", "--yes", "--page-size", "2"]);
    assert_eq!(purged["removed"], total, "{purged}");
    assert_stats(&url, 0, 0);
}
