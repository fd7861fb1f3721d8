//! `FileStore` behaviour the shared suite cannot see: the on-disk layout, permissions,
//! corrupt files, temporary-file cleanup, and two store instances on one directory.

// Test code, helpers included: a panic is a failed assertion (as clippy.toml allows
// inside #[test] functions).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::fs::{self, File};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde_json::json;
use session_core::{Codec, Data, Error, ManualClock, Record, SessionId, SessionStore, Timestamp};
use session_file::FileStore;

fn record(clock: &ManualClock, ttl: Duration, value: u64) -> Record {
    let now = clock.now();
    let mut data = Data::new();
    data.insert("v".into(), json!(value));
    Record::new(SessionId::generate(), data, now, now.saturating_add(ttl))
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

const HOUR: Duration = Duration::from_secs(3600);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn layout_is_two_level_fanout_of_the_storage_key() {
    let common::TempFileStore {
        dir: _dir,
        root,
        clock,
        store,
    } = common::temp_file_store("s").await;
    let r = record(&clock, HOUR, 1);
    store.create(&r).await.unwrap();

    let hex = r.id.storage_key().to_hex();
    let expected = root.join(&hex[..2]).join(&hex[2..4]).join(&hex);
    assert_eq!(store.record_path(&r.id), expected);
    assert_eq!(
        Codec::decode(r.id, &fs::read(&expected).unwrap()).unwrap(),
        r
    );
    // The only session file is that one; no other file holds the id.
    let id_text = r.id.to_string();
    for (path, content) in common::dump_tree(&root) {
        let path = String::from_utf8(path).unwrap();
        assert!(!path.contains(&id_text));
        assert!(!content
            .windows(id_text.len())
            .any(|w| w == id_text.as_bytes()));
        assert!(!content.windows(32).any(|w| w == r.id.as_bytes()));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn directories_are_0700_and_files_0600() {
    let common::TempFileStore {
        dir,
        root,
        clock,
        store,
    } = common::temp_file_store("missing/parents/sessions").await;
    let r = record(&clock, HOUR, 1);
    store.create(&r).await.unwrap();
    // save and touch go through the lock stripes, creating their files.
    let mut next = r.clone();
    next.version = 2;
    store.save(&next, 1).await.unwrap();
    store.touch(&next).await.unwrap();

    let path = store.record_path(&r.id);
    let leaf = path.parent().unwrap();
    let top = leaf.parent().unwrap();
    for d in [root.as_path(), &root.join(".locks"), top, leaf] {
        assert_eq!(mode(d), 0o700, "{}", d.display());
    }
    // Missing parents are created private too.
    assert_eq!(mode(root.parent().unwrap()), 0o700);
    assert_eq!(mode(&dir.path().join("missing")), 0o700);
    let mut files = 0;
    for f in common::files_under(&root) {
        assert_eq!(mode(&f), 0o600, "{}", f.display());
        files += 1;
    }
    assert_eq!(files, 2, "the record and one lock stripe");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupt_file_is_an_error_never_a_panic() {
    let common::TempFileStore {
        dir: _dir,
        clock,
        store,
        ..
    } = common::temp_file_store("").await;
    let live = record(&clock, HOUR, 7);
    store.create(&live).await.unwrap();
    let valid = Codec::MessagePack.encode(&live).unwrap();

    let victim = record(&clock, HOUR, 1);
    let cookie = store.create(&victim).await.unwrap();
    let path = store.record_path(&victim.id);
    let garbage: Vec<Vec<u8>> = vec![
        Vec::new(),
        vec![0x01],
        vec![0x01, 0xff, 0xfe, 0x00],
        vec![0x7f, 1, 2, 3],
        valid[..valid.len() / 2].to_vec(),
        b"{\"not\":\"msgpack\"}".to_vec(),
    ];
    for bytes in garbage {
        fs::write(&path, &bytes).unwrap();
        assert!(
            matches!(store.load(&cookie).await, Err(Error::Corrupt(_))),
            "load of {bytes:?}"
        );
        let mut next = victim.clone();
        next.version = 2;
        assert!(matches!(store.save(&next, 1).await, Err(Error::Corrupt(_))));
        assert!(matches!(store.touch(&next).await, Err(Error::Corrupt(_))));
        // An unreadable file is not provably dead, so create overwrites nothing.
        assert!(matches!(store.create(&victim).await, Err(Error::Collision)));
        assert_eq!(fs::read(&path).unwrap(), bytes, "nothing overwrote it");
        // Counting and sweeping skip it and keep going.
        assert_eq!(store.count().await.unwrap(), 1);
        assert_eq!(store.delete_expired().await.unwrap(), 0);
        assert!(path.exists());
    }
    // Deleting it works, and the id is then free.
    store.delete(&victim.id).await.unwrap();
    assert_eq!(store.load(&cookie).await.unwrap(), None);
    store.create(&victim).await.unwrap();
    assert_eq!(store.load(&cookie).await.unwrap(), Some(victim));
    assert_eq!(store.load(&live.id.to_string()).await.unwrap(), Some(live));
}

/// Plants a temporary file in `leaf`, last modified `age` ago.
fn plant_temp(leaf: &Path, name: &str, age: Duration) -> std::path::PathBuf {
    let path = leaf.join(name);
    fs::write(&path, b"half a record").unwrap();
    File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(SystemTime::now() - age)
        .unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sweep_removes_old_temp_files_and_spares_young_ones() {
    let common::TempFileStore {
        dir: _dir,
        clock,
        store,
        ..
    } = common::temp_file_store("").await;
    let store = store.with_temp_grace(Duration::from_secs(120));
    let live = record(&clock, HOUR, 1);
    let doomed = record(&clock, Duration::from_secs(10), 2);
    store.create(&live).await.unwrap();
    store.create(&doomed).await.unwrap();
    let leaf = store.record_path(&live.id).parent().unwrap().to_path_buf();
    let old = plant_temp(&leaf, ".tmp-crashedwriter0001", Duration::from_secs(3600));
    let young = plant_temp(&leaf, ".tmp-livewriter000001", Duration::from_secs(5));
    let other_leaf = store
        .record_path(&doomed.id)
        .parent()
        .unwrap()
        .to_path_buf();
    let old2 = plant_temp(
        &other_leaf,
        ".tmp-crashedwriter0002",
        Duration::from_secs(600),
    );
    // Not ours: a name the store never writes is left alone whatever its age.
    let foreign = plant_temp(&leaf, "notes.txt", Duration::from_secs(3600));

    clock.advance(Duration::from_secs(11));
    // The count is of expired sessions only, not of temporary files.
    assert_eq!(store.delete_expired().await.unwrap(), 1);
    assert!(!old.exists());
    assert!(!old2.exists());
    assert!(
        young.exists(),
        "a young temp file may belong to a live writer"
    );
    assert!(foreign.exists());
    assert_eq!(store.load(&live.id.to_string()).await.unwrap(), Some(live));
    assert_eq!(store.load(&doomed.id.to_string()).await.unwrap(), None);
    assert!(!store.record_path(&doomed.id).exists());
    assert_eq!(store.count().await.unwrap(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sweep_and_count_over_many_leaves() {
    let common::TempFileStore {
        dir, clock, store, ..
    } = common::temp_file_store("").await;
    let store = store.durable(false);
    for i in 0..300 {
        let ttl = if i % 3 == 0 {
            HOUR
        } else {
            Duration::from_secs(60)
        };
        store.create(&record(&clock, ttl, i)).await.unwrap();
    }
    assert_eq!(store.count().await.unwrap(), 300);
    clock.advance(Duration::from_secs(60));
    assert_eq!(store.count().await.unwrap(), 100);
    assert_eq!(store.delete_expired().await.unwrap(), 200);
    assert_eq!(store.delete_expired().await.unwrap(), 0);
    assert_eq!(store.count().await.unwrap(), 100);
    let files = common::files_under(dir.path())
        .into_iter()
        .filter(|p| !p.starts_with(dir.path().join(".locks")))
        .count();
    assert_eq!(files, 100);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expiry_comes_from_the_record_not_file_times() {
    let common::TempFileStore {
        dir: _dir,
        clock,
        store,
        ..
    } = common::temp_file_store("").await;
    let r = record(&clock, Duration::from_secs(30), 1);
    let cookie = store.create(&r).await.unwrap();
    // An ancient mtime does not expire a live record…
    File::options()
        .write(true)
        .open(store.record_path(&r.id))
        .unwrap()
        .set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(1))
        .unwrap();
    assert_eq!(store.load(&cookie).await.unwrap(), Some(r.clone()));
    assert_eq!(store.delete_expired().await.unwrap(), 0);
    // …and the record's own deadline does.
    clock.advance(Duration::from_secs(30));
    assert_eq!(store.load(&cookie).await.unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_replaces_an_expired_leftover_only() {
    let common::TempFileStore {
        dir, clock, store, ..
    } = common::temp_file_store("").await;
    let old = record(&clock, Duration::from_secs(10), 1);
    store.create(&old).await.unwrap();
    let mut again = old.clone();
    again.data.insert("v".into(), json!(2));
    assert!(matches!(store.create(&again).await, Err(Error::Collision)));
    clock.advance(Duration::from_secs(10));
    let fresh = Record::new(
        old.id,
        again.data.clone(),
        clock.now(),
        clock.now().saturating_add(HOUR),
    );
    store.create(&fresh).await.unwrap();
    assert_eq!(store.load(&old.id.to_string()).await.unwrap(), Some(fresh));
    // No temporary file is left by either path.
    assert!(common::files_under(dir.path()).iter().all(|p| !p
        .file_name()
        .unwrap()
        .to_string_lossy()
        .starts_with(".tmp-")));
}

/// Two `FileStore` values opened separately on one directory in one process exclude
/// each other through the flock, not only through the in-process mutex.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_in_one_process_keep_every_increment() {
    let dir = tempfile::tempdir().unwrap();
    let a = Arc::new(FileStore::open(dir.path()).await.unwrap().durable(false));
    let b = Arc::new(FileStore::open(dir.path()).await.unwrap().durable(false));
    let now = Timestamp::from_system(SystemTime::now());
    let mut data = Data::new();
    data.insert("n".into(), json!(0));
    let r = Record::new(SessionId::generate(), data, now, now.saturating_add(HOUR));
    let cookie = a.create(&r).await.unwrap();
    let tasks: Vec<_> = (0..6)
        .map(|i| {
            let store = if i % 2 == 0 { a.clone() } else { b.clone() };
            let cookie = cookie.clone();
            tokio::spawn(async move {
                let mut done = 0;
                while done < 50 {
                    let cur = store.load(&cookie).await.unwrap().unwrap();
                    let mut next = cur.clone();
                    next.version += 1;
                    let n = cur.data["n"].as_u64().unwrap();
                    next.data.insert("n".into(), json!(n + 1));
                    match store.save(&next, cur.version).await {
                        Ok(_) => done += 1,
                        Err(Error::Conflict) => {}
                        Err(e) => panic!("{e}"),
                    }
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let last = b.load(&cookie).await.unwrap().unwrap();
    assert_eq!(last.data["n"], json!(300));
    assert_eq!(last.version, 301);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_refuses_a_file_as_directory() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plain-file");
    fs::write(&file, b"x").unwrap();
    match FileStore::open(&file).await {
        Err(Error::Config(message)) => {
            assert!(message.contains("plain-file"), "names the path: {message}")
        }
        other => panic!("expected Error::Config, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn io_errors_name_the_file() {
    let common::TempFileStore {
        dir: _dir,
        clock,
        store,
        ..
    } = common::temp_file_store("").await;
    let r = record(&clock, HOUR, 1);
    let cookie = store.create(&r).await.unwrap();
    // A directory where the record file should be: reading it fails with an I/O error.
    let path = store.record_path(&r.id);
    fs::remove_file(&path).unwrap();
    fs::create_dir(&path).unwrap();
    let Err(Error::Backend(source)) = store.load(&cookie).await else {
        panic!("expected a backend error");
    };
    assert_eq!(source.context(), Some(&*format!("read {}", path.display())));
    assert_eq!(source.kind(), session_core::BackendErrorKind::Io);
    assert!(!source.is_temporary(), "a local I/O failure is no outage");
    assert_eq!(source.store(), Some("file"));
    assert_eq!(source.operation(), Some(session_core::Operation::Load));
    assert!(source.to_string().contains(&r.id.storage_key().to_hex()));
    // The sweep and count step over what is not a regular file instead of failing.
    assert_eq!(store.count().await.unwrap(), 0);
    assert_eq!(store.delete_expired().await.unwrap(), 0);
}
