//! `FileStore`'s user index on disk (contract rule 12), what the shared suite cannot
//! see: where the markers are and with which modes, that they follow their records
//! through rebind, unbind, delete and expiry, and what a crash between a marker and its
//! record leaves (a stale marker that listings skip and the sweep removes).

// Test code: a panic is a failed assertion (as clippy.toml allows in #[test] functions).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::json;
use session_core::{
    Data, ManualClock, Record, SessionId, SessionStore, StorageKey, UserBinding, UserKey,
};
use session_file::FileStore;

const HOUR: Duration = Duration::from_secs(3600);

fn bound(clock: &ManualClock, ttl: Duration, user: Option<&str>) -> Record {
    let now = clock.now();
    let mut data = Data::new();
    data.insert("v".into(), json!(1));
    Record::new(SessionId::generate(), data, now, now.saturating_add(ttl))
        .with_user(user.map(|u| UserBinding::new(u).unwrap()))
}

fn marker(root: &Path, user: &str, key: &StorageKey) -> PathBuf {
    let u = UserKey::of(user).to_hex();
    root.join("users").join(&u[..2]).join(&u).join(key.to_hex())
}

/// Every marker file under `<root>/users`.
fn markers(root: &Path) -> Vec<PathBuf> {
    common::files_under(&root.join("users"))
}

async fn listed(store: &FileStore, user: &str) -> Vec<StorageKey> {
    let page = store
        .sessions_of(&UserKey::of(user), None, 1_000)
        .await
        .unwrap();
    page.sessions.iter().map(|s| s.key).collect()
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bound_session_has_one_private_empty_marker_named_by_hashes() {
    let t = common::temp_file_store("s").await;
    let (root, clock, store) = (&t.root, &t.clock, &t.store);
    let r = bound(clock, HOUR, Some("ada@example.com"));
    store.create(&r).await.unwrap();
    let unbound = bound(clock, HOUR, None);
    store.create(&unbound).await.unwrap();

    let m = marker(root, "ada@example.com", &r.id.storage_key());
    assert_eq!(markers(root), vec![m.clone()]);
    assert_eq!(fs::read(&m).unwrap(), b"");
    assert_eq!(mode(&m), 0o600);
    for dir in m.ancestors().skip(1).take(3) {
        assert_eq!(mode(dir), 0o700, "{}", dir.display());
    }
    // Neither the user id nor the session id appears in any path ("ada@": a random
    // hex name may well hold "ada").
    for path in common::paths_under(root) {
        let text = path.to_string_lossy();
        assert!(!text.contains("ada@"), "{text}");
        assert!(!text.contains(&r.id.to_string()), "{text}");
    }
    // The index is invisible to count and scan.
    assert_eq!(store.count().await.unwrap(), 2);
    assert_eq!(store.scan(None, 10).await.unwrap().entries.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn markers_follow_rebind_unbind_delete_and_expiry() {
    let t = common::temp_file_store("s").await;
    let (root, clock, store) = (&t.root, &t.clock, &t.store);
    let r = bound(clock, HOUR, Some("ada"));
    let key = r.id.storage_key();
    store.create(&r).await.unwrap();

    let mut next = r.clone().with_user(Some(UserBinding::new("bob").unwrap()));
    next.version = 2;
    store.save(&next, 1).await.unwrap();
    assert_eq!(markers(root), vec![marker(root, "bob", &key)]);
    assert_eq!(listed(store, "ada").await, Vec::<StorageKey>::new());
    assert_eq!(listed(store, "bob").await, vec![key]);

    let mut unbound = next.clone().with_user(None);
    unbound.version = 3;
    store.save(&unbound, 2).await.unwrap();
    assert!(markers(root).is_empty());

    let mut again = unbound
        .clone()
        .with_user(Some(UserBinding::new("ada").unwrap()));
    again.version = 4;
    store.save(&again, 3).await.unwrap();
    store.touch(&again).await.unwrap();
    assert_eq!(markers(root), vec![marker(root, "ada", &key)]);
    store.delete(&again.id).await.unwrap();
    assert!(markers(root).is_empty());

    // Expiry: the sweep removes the record, then its marker.
    let short = bound(clock, Duration::from_secs(10), Some("ada"));
    store.create(&short).await.unwrap();
    clock.advance(Duration::from_secs(11));
    assert_eq!(listed(store, "ada").await, Vec::<StorageKey>::new());
    assert_eq!(store.delete_expired().await.unwrap(), 1);
    assert!(markers(root).is_empty());
}

/// A crash between a marker and its record (the marker is written first) leaves a
/// marker without a record; a crash between a record's unlink and its marker's leaves
/// the same; a lost unlink of an old marker leaves one whose record is bound to someone
/// else. Listings skip all of them, revokes count none of them, and the sweep removes
/// them, with the user directories they leave empty.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_markers_are_skipped_and_swept() {
    let t = common::temp_file_store("s").await;
    let (root, clock, store) = (&t.root, &t.clock, &t.store);
    let live = bound(clock, HOUR, Some("ada"));
    store.create(&live).await.unwrap();
    let bobs = bound(clock, HOUR, Some("bob"));
    store.create(&bobs).await.unwrap();
    let plain = bound(clock, HOUR, None);
    store.create(&plain).await.unwrap();

    // Debris, placed by hand: no record; bob's record; an unbound record; and a user
    // with nothing but a marker without a record.
    let orphan = SessionId::generate().storage_key();
    let debris = [
        marker(root, "ada", &orphan),
        marker(root, "ada", &bobs.id.storage_key()),
        marker(root, "ada", &plain.id.storage_key()),
        marker(root, "carol", &orphan),
    ];
    for m in &debris {
        fs::create_dir_all(m.parent().unwrap()).unwrap();
        fs::write(m, b"").unwrap();
    }

    assert_eq!(listed(store, "ada").await, vec![live.id.storage_key()]);
    assert_eq!(listed(store, "carol").await, Vec::<StorageKey>::new());
    // Revoking someone else's session through a stale marker ends nothing.
    let ada = UserKey::of("ada");
    assert!(!store
        .revoke_session(&ada, &bobs.id.storage_key())
        .await
        .unwrap());
    assert!(store.load(&bobs.id.to_string()).await.unwrap().is_some());

    assert_eq!(store.delete_expired().await.unwrap(), 0);
    let mut left = markers(root);
    left.sort();
    let mut want = vec![
        marker(root, "ada", &live.id.storage_key()),
        marker(root, "bob", &bobs.id.storage_key()),
    ];
    want.sort();
    assert_eq!(left, want);
    let carol = marker(root, "carol", &orphan);
    assert!(
        !carol.parent().unwrap().exists(),
        "an emptied user directory is removed"
    );

    // Revoking all of ada's sessions through leftover debris counts only live ones.
    fs::write(marker(root, "ada", &orphan), b"").unwrap();
    assert_eq!(store.revoke_user(&ada, None).await.unwrap(), 1);
    assert!(store.load(&live.id.to_string()).await.unwrap().is_none());
    assert_eq!(
        markers(root),
        vec![marker(root, "bob", &bobs.id.storage_key())]
    );
    // A store that binds again after the sweep removed the user's directory recreates it.
    let back = bound(clock, HOUR, Some("carol"));
    store.create(&back).await.unwrap();
    assert_eq!(listed(store, "carol").await, vec![back.id.storage_key()]);
}

/// Two stores on one directory (as two processes would be) share the index.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_store_on_the_directory_sees_and_revokes_the_index() {
    let t = common::temp_file_store("s").await;
    let (root, clock, store) = (&t.root, &t.clock, &t.store);
    let other = FileStore::open(root)
        .await
        .unwrap()
        .with_settings(store.settings().clone());
    let r = bound(clock, HOUR, Some("ada"));
    store.create(&r).await.unwrap();
    assert_eq!(listed(&other, "ada").await, vec![r.id.storage_key()]);
    assert_eq!(
        other.revoke_user(&UserKey::of("ada"), None).await.unwrap(),
        1
    );
    assert!(store.load(&r.id.to_string()).await.unwrap().is_none());
    assert!(markers(root).is_empty());
}
