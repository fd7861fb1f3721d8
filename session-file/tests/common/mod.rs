//! Helpers shared by the integration tests.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

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
