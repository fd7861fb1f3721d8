//! Walking a `FileStore` directory: counting live records, deleting expired ones,
//! removing temporary files abandoned by crashed writers, and removing stale user index
//! markers.
//!
//! The walk streams: it holds two open directory handles and one record at a time, so
//! its memory does not grow with the number of sessions. The caller walks one
//! first-level directory per blocking task (1/256 of the store), which bounds how long
//! each batch runs and lets other work interleave.

use std::fs;
use std::io;
use std::path::Path;
use std::time::SystemTime;

use session_core::{Codec, Result, SessionId, Timestamp};

use crate::atomic::{current_id, open_and_read, remove_if_exists};
use crate::error::file_error;
use crate::layout::{fanout_byte, hex_byte, is_temp_name, record_key, Layout};
use crate::listing::list;
use crate::lock::StripeLocks;
use crate::markers;

/// What a walk does besides looking.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Pass {
    /// Count live records only.
    Count,
    /// Delete expired records (then their user index markers), temporary files last
    /// modified before `temp_cutoff`, and markers whose record is gone or bound to
    /// someone else.
    ///
    /// No fsync, whatever the store's durability: an unlink that a power cut undoes
    /// brings back a record that is still expired (so it never loads) or a temporary
    /// file, and the next sweep removes them again. A later durable write in the same
    /// directory makes the unlink durable anyway.
    Sweep { temp_cutoff: SystemTime },
}

/// What one walk found and did.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Tally {
    pub(crate) live: u64,
    pub(crate) removed: u64,
    pub(crate) temp_removed: u64,
    pub(crate) markers_removed: u64,
    pub(crate) undecodable: u64,
}

impl Tally {
    pub(crate) fn add(&mut self, other: Tally) {
        self.live += other.live;
        self.removed += other.removed;
        self.temp_removed += other.temp_removed;
        self.markers_removed += other.markers_removed;
        self.undecodable += other.undecodable;
    }
}

/// Walks `<root>/<first>/*/`.
pub(crate) fn walk_top(
    layout: &Layout,
    locks: &StripeLocks,
    first: u8,
    now: Timestamp,
    pass: Pass,
) -> Result<Tally> {
    let top = layout.top_dir(first);
    let mut tally = Tally::default();
    for entry in list(&top)? {
        let entry = entry?;
        let Some(second) = fanout_byte(&entry.name) else {
            continue;
        };
        if entry.is_dir() {
            let prefix = format!("{}{}", hex_byte(first), hex_byte(second));
            walk_leaf(layout, &entry.path, &prefix, locks, now, pass, &mut tally)?;
        }
    }
    if let Pass::Sweep { .. } = pass {
        tally.markers_removed += markers::gc_top(layout, locks, first)?;
    }
    Ok(tally)
}

fn walk_leaf(
    layout: &Layout,
    dir: &Path,
    prefix: &str,
    locks: &StripeLocks,
    now: Timestamp,
    pass: Pass,
    tally: &mut Tally,
) -> Result<()> {
    for entry in list(dir)? {
        let entry = entry?;
        // Anything but a regular file is left alone rather than stall every sweep on
        // the same error.
        if !entry.is_file() {
            continue;
        }
        let (name, path) = (entry.name, entry.path);
        if is_temp_name(&name) {
            if let Pass::Sweep { temp_cutoff } = pass {
                if remove_stale_temp(&path, temp_cutoff)? {
                    tally.temp_removed += 1;
                }
            }
            continue;
        }
        // A record in the wrong leaf could never be loaded; leave strays alone.
        let Some(key) = record_key(&name).filter(|k| k.to_hex().starts_with(prefix)) else {
            continue;
        };
        let Some((bytes, seen, _pinned)) =
            open_and_read(&path).map_err(|e| file_error("read", &path, e))?
        else {
            continue;
        };
        // The record's id is not in the file (by design), and only the deadline is
        // needed here, so any id will do for decoding.
        let (expired, user) = match Codec::decode(SessionId::from_bytes([0; 32]), &bytes) {
            Ok(record) => (record.is_expired(now), record.user_key()),
            Err(_) => {
                // Left in place: it may be a newer format, and `load` reports it as
                // `Corrupt` for the operator to look at.
                tally.undecodable += 1;
                continue;
            }
        };
        match pass {
            Pass::Count => tally.live += u64::from(!expired),
            Pass::Sweep { .. } if expired => {
                // Delete only if the name still holds the very file just read (`_pinned`
                // keeps its inode number from being reused meanwhile): a create that
                // replaced the expired leftover, under this lock, must survive.
                let _guard = locks.lock(&key).map_err(|e| file_error("lock", &path, e))?;
                let now_there = current_id(&path).map_err(|e| file_error("stat", &path, e))?;
                if now_there == Some(seen)
                    && remove_if_exists(&path).map_err(|e| file_error("remove", &path, e))?
                {
                    tally.removed += 1;
                    // The record first, then its marker (see `markers.rs`).
                    if let Some(user) = user {
                        markers::remove(layout, &user, &key)?;
                    }
                }
            }
            Pass::Sweep { .. } => {}
        }
    }
    Ok(())
}

/// Removes a temporary file not modified since `cutoff`. A younger one may belong to a
/// writer that is still running, in this process or another.
fn remove_stale_temp(path: &Path, cutoff: SystemTime) -> Result<bool> {
    let meta = match fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(file_error("stat", path, e)),
    };
    let modified = meta.modified().map_err(|e| file_error("stat", path, e))?;
    if !meta.is_file() || modified >= cutoff {
        return Ok(false);
    }
    remove_if_exists(path).map_err(|e| file_error("remove", path, e))
}
