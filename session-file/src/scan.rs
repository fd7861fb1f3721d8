//! Paging through a `FileStore` directory in storage-key order, for
//! [`SessionStore::scan`](session_core::SessionStore::scan).
//!
//! The fan-out directories are named by the key's first two bytes, so walking them in
//! name order and each leaf's record names in order visits keys in ascending order. A
//! page resumes after the last key of the previous one: the cursor is that key's hex,
//! and nothing is kept between pages. Each page lists only the directories it passes
//! and reads one record at a time.

use std::path::Path;

use session_core::{Codec, Result, ScanEntry, SessionId, StorageKey};

use crate::atomic::read_if_exists;
use crate::error::file_error;
use crate::layout::{fanout_byte, hex_byte, record_key, Layout};
use crate::listing::list;

/// Up to `limit` records whose keys come after `after`, in key order, and whether the
/// page is full (so the walk may go on after its last key).
pub(crate) fn page(
    layout: &Layout,
    after: Option<StorageKey>,
    limit: usize,
) -> Result<(Vec<ScanEntry>, bool)> {
    let limit = limit.max(1);
    let (first0, second0) = match &after {
        Some(k) => (k.as_bytes()[0], k.as_bytes()[1]),
        None => (0, 0),
    };
    let mut out = Vec::new();
    for first in fanout_dirs(layout.root())? {
        if first < first0 {
            continue;
        }
        let top = layout.top_dir(first);
        for second in fanout_dirs(&top)? {
            if first == first0 && second < second0 {
                continue;
            }
            let leaf = top.join(hex_byte(second));
            let prefix = format!("{}{}", hex_byte(first), hex_byte(second));
            for key in record_keys(&leaf, &prefix)? {
                if after.is_some_and(|a| key <= a) {
                    continue;
                }
                if let Some(entry) = entry(&leaf.join(key.to_hex()), key)? {
                    out.push(entry);
                    if out.len() >= limit {
                        return Ok((out, true));
                    }
                }
            }
        }
    }
    Ok((out, false))
}

/// The fan-out directories under `dir`, in ascending order (none if `dir` is missing).
fn fanout_dirs(dir: &Path) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    for entry in list(dir)? {
        let entry = entry?;
        match fanout_byte(&entry.name) {
            Some(byte) if entry.is_dir() => out.push(byte),
            _ => {}
        }
    }
    out.sort_unstable();
    Ok(out)
}

/// The record keys in leaf directory `dir`, in ascending order. As in the sweep, only
/// regular files named by a key that belongs in this leaf count.
fn record_keys(dir: &Path, prefix: &str) -> Result<Vec<StorageKey>> {
    let mut out = Vec::new();
    for entry in list(dir)? {
        let entry = entry?;
        match record_key(&entry.name).filter(|k| k.to_hex().starts_with(prefix)) {
            Some(key) if entry.is_file() => out.push(key),
            _ => {}
        }
    }
    out.sort_unstable();
    Ok(out)
}

/// What a scan shows of the record at `path`; `None` if it went away meanwhile.
fn entry(path: &Path, key: StorageKey) -> Result<Option<ScanEntry>> {
    let Some(bytes) = read_if_exists(path).map_err(|e| file_error("read", path, e))? else {
        return Ok(None);
    };
    // The id is not in the file (by design) and only the deadline is needed, so any id
    // will do for decoding. A file that does not decode shows without a deadline.
    let expires_at = Codec::decode(SessionId::from_bytes([0; 32]), &bytes)
        .ok()
        .map(|r| r.expires_at);
    Ok(Some(ScanEntry::new(key, expires_at, bytes.len() as u64)))
}
