//! Crash safety: a child process that saves, creates and deletes sessions in a loop is
//! SIGKILLed at a random moment, 100 times over. After every kill each session loads or
//! is absent (never an error), every record file on disk decodes, and no record is a
//! mix of two writes. At the end, the sweep removes the temporary files the kills left.
//! The same, 30 times, for `ShelfStore` (redb recovers the file on the next open).
//!
//! Writes bind, rebind and unbind the sessions (the user follows the counter), so each
//! kill also lands between a user index marker and its record: after every kill, every
//! live bound session is listed under its user (contract rule 12), and for `FileStore`
//! the sweep at the end leaves no marker without its session.
//!
//! The child is this test binary itself, re-run with `--exact child_writer --ignored`:
//! `child_writer` is an ignored test that does nothing unless `CRASH_DIR` is set.

// Test code, helpers included: a panic is a failed assertion (as clippy.toml allows
// inside #[test] functions).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use rand::Rng;
use serde_json::json;
use session_core::{Codec, Data, Error, Record, SessionId, SessionStore, Timestamp, UserBinding};
use session_file::{FileStore, ShelfStore};

const DIR_ENV: &str = "CRASH_DIR";
const IDS_ENV: &str = "CRASH_IDS";
const DURABLE_ENV: &str = "CRASH_DURABLE";
/// `file` (CRASH_DIR is a FileStore directory) or `shelf` (CRASH_DIR is a shelf file).
const KIND_ENV: &str = "CRASH_KIND";
const SESSIONS: usize = 6;
const KILLS: usize = 100;
const SHELF_KILLS: usize = 30;
const READY: &str = "child-writer-ready";

/// Content that is a function of `n`, 1 to 48 KiB long, so a record mixing two writes
/// (or cut short) is detectable: `blob` must equal `blob_for(n)`.
fn blob_for(n: u64) -> String {
    let len = 1024 + (n as usize * 7919) % (47 * 1024);
    let seed = format!("{n:016x}");
    seed.repeat(len / seed.len() + 1)[..len].to_owned()
}

fn record_for(id: SessionId, n: u64, version: u64) -> Record {
    let now = Timestamp::from_system(std::time::SystemTime::now());
    let mut data = Data::new();
    data.insert("n".into(), json!(n));
    data.insert("blob".into(), json!(blob_for(n)));
    let deadline = now.saturating_add(Duration::from_secs(3600));
    Record::new(id, data, now, deadline)
        .with_version(version)
        .with_user(user_for(n))
}

/// Who the `n`th write binds the session to: nobody, ada or bob, in turn.
fn user_for(n: u64) -> Option<UserBinding> {
    let name = match n % 3 {
        0 => return None,
        1 => "ada",
        _ => "bob",
    };
    Some(UserBinding::new(name).unwrap())
}

/// Every live bound session among `ids` is listed under its user.
fn check_index(
    rt: &tokio::runtime::Runtime,
    store: &dyn SessionStore,
    ids: &[SessionId],
    round: usize,
) {
    for id in ids {
        let Some(record) = rt.block_on(store.load(&id.to_string())).unwrap() else {
            continue;
        };
        let Some(user) = record.user_key() else {
            continue;
        };
        let page = rt.block_on(store.sessions_of(&user, None, 100)).unwrap();
        assert!(
            page.sessions.iter().any(|s| s.key == id.storage_key()),
            "round {round}: a live bound session is missing from its user's listing"
        );
    }
}

/// Panics unless `record` is exactly what some single write produced.
fn assert_whole(record: &Record) {
    let n = record.data["n"].as_u64().expect("n");
    assert_eq!(
        record.data["blob"].as_str(),
        Some(blob_for(n).as_str()),
        "record mixes two writes"
    );
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Child entry point: does nothing in a normal test run (no `CRASH_DIR`); under the
/// crash test it writes until killed.
#[test]
#[ignore = "child process of crash_test_100_kills; does nothing when run directly"]
fn child_writer() {
    let Ok(dir) = std::env::var(DIR_ENV) else {
        return;
    };
    let ids: Vec<SessionId> = std::env::var(IDS_ENV)
        .unwrap()
        .split(',')
        .map(|s| SessionId::parse(s).unwrap())
        .collect();
    let durable = std::env::var(DURABLE_ENV).as_deref() == Ok("1");
    let kind = std::env::var(KIND_ENV).unwrap();
    runtime().block_on(async move {
        let store: Box<dyn SessionStore> = match kind.as_str() {
            "file" => Box::new(FileStore::open(dir).await.unwrap().durable(durable)),
            "shelf" => Box::new(ShelfStore::open(dir).await.unwrap().durable(durable)),
            other => panic!("unknown store kind {other}"),
        };
        println!("{READY}");
        let mut rng = rand::thread_rng();
        loop {
            let id = ids[rng.gen_range(0..ids.len())];
            match store.load(&id.to_string()).await.unwrap() {
                Some(_) if rng.gen_ratio(1, 12) => store.delete(&id).await.unwrap(),
                Some(r) => {
                    let n = r.data["n"].as_u64().unwrap() + 1;
                    let next = record_for(id, n, r.version + 1);
                    match store.save(&next, r.version).await {
                        Ok(_) | Err(Error::Conflict) | Err(Error::NotFound) => {}
                        Err(e) => panic!("save: {e}"),
                    }
                }
                None => match store.create(&record_for(id, 0, 1)).await {
                    Ok(_) | Err(Error::Collision) => {}
                    Err(e) => panic!("create: {e}"),
                },
            }
        }
    });
}

/// Every record file under `root` decodes; returns (records, temp files).
fn check_disk(root: &Path) -> (usize, usize) {
    let (mut records, mut temps) = (0, 0);
    for path in common::files_under(root) {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.strip_prefix(root).unwrap().starts_with("users") {
            // User index markers: empty, checked by `check_index` and `check_markers`.
            assert!(std::fs::read(&path).unwrap().is_empty());
        } else if name.starts_with(".tmp-") {
            temps += 1;
        } else if name.len() == 64 {
            let bytes = std::fs::read(&path).unwrap();
            let record = Codec::decode(SessionId::generate(), &bytes)
                .unwrap_or_else(|e| panic!("{} does not decode: {e}", path.display()));
            assert_whole(&record);
            records += 1;
        }
    }
    (records, temps)
}

/// Starts a child writer on `target`, waits until it is writing, SIGKILLs it at a random
/// moment, and reaps it.
fn spawn_and_kill(kind: &str, target: &Path, id_list: &str, durable: &str, round: usize) {
    let mut child = common::child_command(
        "child_writer",
        &[
            (DIR_ENV, target.to_str().unwrap()),
            (IDS_ENV, id_list),
            (DURABLE_ENV, durable),
            (KIND_ENV, kind),
        ],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    // Wait until the child is in its write loop, so the kill lands mid-work. The
    // harness prints "test child_writer ... " on the same line before it.
    let stdout = child.stdout.take().unwrap();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if line.is_ok_and(|l| l.ends_with(READY)) {
                let _ = ready_tx.send(());
            }
        }
    });
    if ready_rx.recv_timeout(Duration::from_secs(30)).is_err() {
        let _ = child.kill();
        panic!("{kind} round {round}: the child never became ready");
    }
    let pause = rand::thread_rng().gen_range(500..25_000);
    std::thread::sleep(Duration::from_micros(pause));
    child.kill().unwrap(); // SIGKILL on Unix
    let status = child.wait().unwrap();
    // Killed by the signal, not exited on its own: a child that failed (a panic in its
    // write loop exits with 101) must fail the test, not pass for a crash.
    assert_eq!(
        status.signal(),
        Some(9),
        "{kind} round {round}: the child ended by itself ({status}) before the kill"
    );
}

/// The ids the writer child and the checks share, and their comma-separated list (how
/// the child gets them).
fn session_ids() -> (Vec<SessionId>, String) {
    let ids: Vec<SessionId> = (0..SESSIONS).map(|_| SessionId::generate()).collect();
    let list = ids
        .iter()
        .map(|id| id.to_string())
        .collect::<Vec<_>>()
        .join(",");
    (ids, list)
}

#[test]
fn crash_test_100_kills() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("sessions");
    let rt = runtime();
    let store = rt.block_on(FileStore::open(&root)).unwrap();
    let (ids, id_list) = session_ids();
    let mut highest_version = 0;

    for round in 0..KILLS {
        let durable = if round % 2 == 0 { "1" } else { "0" };
        spawn_and_kill("file", &root, &id_list, durable, round);

        for id in &ids {
            match rt.block_on(store.load(&id.to_string())) {
                Ok(Some(record)) => {
                    assert_whole(&record);
                    highest_version = highest_version.max(record.version);
                }
                Ok(None) => {}
                Err(e) => panic!("round {round}: load after a kill failed: {e}"),
            }
        }
        check_disk(&root);
        check_index(&rt, &store, &ids, round);
    }
    assert!(
        highest_version > 1,
        "the children never completed a save; the test exercised nothing"
    );

    // Temporary files the kills left behind are removed by the sweep once old enough;
    // with no grace period, all of them. Live records survive it.
    let (records_before, temps) = check_disk(&root);
    eprintln!("after {KILLS} kills: {records_before} records, {temps} temporary files left");
    let sweeper = rt
        .block_on(FileStore::open(&root))
        .unwrap()
        .with_temp_grace(Duration::ZERO);
    assert_eq!(rt.block_on(sweeper.delete_expired()).unwrap(), 0);
    let (records_after, temps_after) = check_disk(&root);
    assert_eq!(temps_after, 0);
    assert_eq!(records_after, records_before);
    assert_eq!(rt.block_on(sweeper.count()).unwrap(), records_before as u64);
    check_index(&rt, &sweeper, &ids, KILLS);
    check_markers(&root);
}

/// Every marker left under `<root>/users/ef/<user>/<key>` names a record that exists
/// and is bound to that user: the sweep removed the stale ones.
fn check_markers(root: &Path) {
    for path in common::files_under(&root.join("users")) {
        let key = path.file_name().unwrap().to_str().unwrap();
        let user = path
            .parent()
            .unwrap()
            .file_name()
            .unwrap()
            .to_str()
            .unwrap();
        let record = root.join(&key[..2]).join(&key[2..4]).join(key);
        let bytes = std::fs::read(&record)
            .unwrap_or_else(|e| panic!("marker {} has no record: {e}", path.display()));
        let bound = Codec::decode(SessionId::generate(), &bytes)
            .unwrap()
            .user_key()
            .map(|u| u.to_hex());
        assert_eq!(
            bound.as_deref(),
            Some(user),
            "stale marker {}",
            path.display()
        );
    }
}

#[test]
fn shelf_crash_test_30_kills() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sessions.redb");
    let rt = runtime();
    let (ids, id_list) = session_ids();
    let mut highest_version = 0;
    for round in 0..SHELF_KILLS {
        let durable = if round % 2 == 0 { "1" } else { "0" };
        spawn_and_kill("shelf", &path, &id_list, durable, round);
        // The dead child's lock is gone with it; the file opens and every session
        // loads whole or is absent.
        let store = rt
            .block_on(ShelfStore::open(&path))
            .unwrap_or_else(|e| panic!("round {round}: reopening after a kill failed: {e}"));
        for id in &ids {
            match rt.block_on(store.load(&id.to_string())) {
                Ok(Some(record)) => {
                    assert_whole(&record);
                    highest_version = highest_version.max(record.version);
                }
                Ok(None) => {}
                Err(e) => panic!("round {round}: load after a kill failed: {e}"),
            }
        }
        let live = rt.block_on(store.count()).unwrap();
        assert!(live <= SESSIONS as u64);
        check_index(&rt, &store, &ids, round);
    }
    assert!(
        highest_version > 1,
        "the children never completed a durable save; the test exercised nothing"
    );
}
