//! Two OS processes on one store.
//!
//! - `FileStore`: two processes increment one counter in one session through the
//!   version check (load, save with the loaded version, retry on `Conflict`), 500 times
//!   each; the result is exactly 1,000.
//! - `ShelfStore` is single-process by design: a second process gets a clear
//!   `Error::Config` naming the file while the first has it open, and opens it fine
//!   once the first has closed it.
//!
//! The second processes are this test binary, re-run with `--exact <child> --ignored`;
//! the child tests are ignored and do nothing unless their environment variable is set.

// Test code, helpers included: a panic is a failed assertion (as clippy.toml allows
// inside #[test] functions).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use serde_json::json;
use session_core::{Data, Error, Record, SessionId, SessionStore, Timestamp};
use session_file::{FileStore, ShelfStore};

const COUNTER_DIR_ENV: &str = "COUNTER_DIR";
const COUNTER_ID_ENV: &str = "COUNTER_ID";
const INCREMENTS: u64 = 500;

const SHELF_PATH_ENV: &str = "SHELF_PATH";
const SHELF_EXPECT_ENV: &str = "SHELF_EXPECT";
const SHELF_ID_ENV: &str = "SHELF_ID";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn counter_record(id: SessionId) -> Record {
    let now = Timestamp::from_system(std::time::SystemTime::now());
    let mut data = Data::new();
    data.insert("n".into(), json!(0));
    Record::new(id, data, now, now.saturating_add(Duration::from_secs(3600)))
}

/// Child entry point of `file_store_two_processes_count_to_1000`; does nothing unless
/// `COUNTER_DIR` is set.
#[test]
#[ignore = "child process of file_store_two_processes_count_to_1000"]
fn counter_child() {
    let Ok(dir) = std::env::var(COUNTER_DIR_ENV) else {
        return;
    };
    let cookie = std::env::var(COUNTER_ID_ENV).unwrap();
    runtime().block_on(async move {
        let store = FileStore::open(dir).await.unwrap();
        let mut conflicts = 0u64;
        let mut done = 0;
        while done < INCREMENTS {
            let current = store.load(&cookie).await.unwrap().expect("session exists");
            let mut next = current.clone();
            let n = current.data["n"].as_u64().unwrap();
            next.data.insert("n".into(), json!(n + 1));
            next.version = current.version + 1;
            match store.save(&next, current.version).await {
                Ok(_) => done += 1,
                Err(Error::Conflict) => conflicts += 1,
                Err(e) => panic!("save failed: {e}"),
            }
        }
        println!("counter-child-done conflicts={conflicts}");
    });
}

#[test]
fn file_store_two_processes_count_to_1000() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("sessions");
    let rt = runtime();
    let store = rt.block_on(FileStore::open(&root)).unwrap();
    let record = counter_record(SessionId::generate());
    let cookie = rt.block_on(store.create(&record)).unwrap();

    let children: Vec<_> = (0..2)
        .map(|_| {
            common::child_command(
                "counter_child",
                &[
                    (COUNTER_DIR_ENV, root.to_str().unwrap()),
                    (COUNTER_ID_ENV, &cookie),
                ],
            )
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap()
        })
        .collect();
    let mut total_conflicts = 0;
    for child in children {
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "counter child failed: {stdout}");
        let conflicts: u64 = stdout
            .split("counter-child-done conflicts=")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("child did not finish its increments: {stdout}"));
        total_conflicts += conflicts;
    }
    eprintln!("two processes, 1,000 increments, {total_conflicts} conflicts retried");

    let last = rt.block_on(store.load(&cookie)).unwrap().unwrap();
    assert_eq!(last.data["n"], json!(2 * INCREMENTS));
    assert_eq!(last.version, 1 + 2 * INCREMENTS);
}

/// Child entry point of `shelf_store_second_process_gets_a_clear_error`; does nothing
/// unless `SHELF_PATH` is set. `SHELF_EXPECT` is `busy` (opening must fail with a
/// `Config` error naming the file) or `free` (opening works and the session loads).
#[test]
#[ignore = "child process of shelf_store_second_process_gets_a_clear_error"]
fn shelf_child() {
    let Ok(path) = std::env::var(SHELF_PATH_ENV) else {
        return;
    };
    let expect = std::env::var(SHELF_EXPECT_ENV).unwrap();
    let cookie = std::env::var(SHELF_ID_ENV).unwrap();
    runtime().block_on(async move {
        match (expect.as_str(), ShelfStore::open(&path).await) {
            ("busy", Err(Error::Config(message))) => {
                assert!(message.contains(&path), "{message}");
                assert!(message.contains("in use"), "{message}");
                println!("shelf-child-busy: {message}");
            }
            ("free", Ok(store)) => {
                let loaded = store.load(&cookie).await.unwrap();
                assert!(loaded.is_some(), "the first process's session is there");
                println!("shelf-child-free");
            }
            (expect, other) => panic!("expected {expect}, got {other:?}"),
        }
    });
}

#[test]
fn shelf_store_second_process_gets_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sessions.redb");
    let rt = runtime();
    let store = rt.block_on(ShelfStore::open(&path)).unwrap();
    let cookie = rt
        .block_on(store.create(&counter_record(SessionId::generate())))
        .unwrap();

    let run_child = |expect: &str| {
        let out = common::child_command(
            "shelf_child",
            &[
                (SHELF_PATH_ENV, path.to_str().unwrap()),
                (SHELF_EXPECT_ENV, expect),
                (SHELF_ID_ENV, &cookie),
            ],
        )
        .output()
        .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "child expecting {expect} failed: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    };

    let busy = run_child("busy");
    assert!(busy.contains("shelf-child-busy"), "{busy}");
    // The first process is unaffected by the refused opener.
    assert!(rt.block_on(store.load(&cookie)).unwrap().is_some());

    drop(store);
    let free = run_child("free");
    assert!(free.contains("shelf-child-free"), "{free}");
}
