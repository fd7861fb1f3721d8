//! Helpers shared by the integration tests.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use session_core::{ManualClock, StoreSettings};
use session_file::FileStore;
use tempfile::TempDir;

/// Where most file-store tests start: a fresh temp dir, a manual clock, and a
/// `FileStore` on that clock rooted inside the dir.
pub struct TempFileStore {
    /// The temp dir; removed when dropped, so keep it bound for the whole test.
    pub dir: TempDir,
    /// The store's root directory.
    pub root: PathBuf,
    /// The store's clock.
    pub clock: ManualClock,
    /// The store.
    pub store: FileStore,
}

/// A [`TempFileStore`] rooted at `sub` inside a fresh temp dir (the dir itself when
/// `sub` is empty; missing parents are created by `FileStore::open`).
pub async fn temp_file_store(sub: &str) -> TempFileStore {
    let dir = tempfile::tempdir().unwrap();
    let root = if sub.is_empty() {
        dir.path().to_path_buf()
    } else {
        dir.path().join(sub)
    };
    let clock = ManualClock::new();
    let store = FileStore::open(&root)
        .await
        .unwrap()
        .with_settings(StoreSettings::new().with_clock(clock.clone()));
    TempFileStore {
        dir,
        root,
        clock,
        store,
    }
}

/// Every regular file under `root`, depth first, as (path relative to `root`, contents):
/// what a raw dump of a `FileStore` directory shows.
pub fn dump_tree(root: &Path) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut out = Vec::new();
    for path in files_under(root) {
        let rel = path.strip_prefix(root).unwrap().to_path_buf();
        // A file can vanish between listing and reading (a concurrent delete).
        if let Ok(bytes) = std::fs::read(&path) {
            out.push((rel.into_os_string().into_encoded_bytes(), bytes));
        }
    }
    out
}

/// Every path (files and directories) under `root`, sorted.
pub fn paths_under(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    walk(root, &mut out, true);
    out.sort();
    out
}

/// Every regular file under `root`, sorted.
pub fn files_under(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    walk(root, &mut out, false);
    out.sort();
    out
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>, with_dirs: bool) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            if with_dirs {
                out.push(path.clone());
            }
            walk(&path, out, with_dirs);
        } else {
            out.push(path);
        }
    }
}

/// Runs `args` of this very test binary as a child process with `envs` set: how the
/// multi-process tests get a second OS process that runs known code.
pub fn child_command(test_name: &str, envs: &[(&str, &str)]) -> std::process::Command {
    let exe = std::env::current_exe().unwrap();
    let mut cmd = std::process::Command::new(exe);
    cmd.args([
        "--exact",
        test_name,
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ]);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd
}
