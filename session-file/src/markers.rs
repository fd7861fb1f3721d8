//! `FileStore`'s user index (contract rule 12): one empty marker file per bound session,
//! at `<root>/users/ef/<user key hex>/<storage key hex>`.
//!
//! A marker and its record are two files, so they cannot change in one step. The order
//! of the steps keeps the one property that matters, *no live bound session is ever
//! without its marker*:
//!
//! - A write that binds (create, or a save that binds or rebinds) writes the marker
//!   (fsynced with its directory on a durable store) *before* the record, and a
//!   rebinding save removes the old user's marker *after* the record.
//! - A delete or revoke removes the record *before* its marker.
//! - Every marker write, and every removal of a marker whose record is gone or bound to
//!   someone else, holds the record's stripe lock (see `lock.rs`) for the whole
//!   marker-and-record sequence, so a cleanup can never see a writer halfway.
//!
//! What can go wrong is a marker without its session (a crash between the two steps,
//! an unlink a power cut undid): listings read each marker's record and skip those that
//! are missing, expired or bound to someone else, and the sweep
//! ([`gc_top`], from `delete_expired`) removes them. A listing is therefore exact
//! whatever the crash left behind; only its cost grows with stale markers until the next
//! sweep.

use std::fs::{self, OpenOptions};
use std::io;
use std::os::unix::fs::OpenOptionsExt;

use session_core::{Codec, Result, SessionId, StorageKey, Timestamp, UserKey, UserSessionsPage};

use crate::atomic::{read_if_exists, remove_if_exists, sync_dir};
use crate::error::file_error;
use crate::layout::{record_key, user_key, Layout, FILE_MODE};
use crate::listing::list;
use crate::lock::StripeLocks;
use crate::users::listed;

/// Attempts at creating a marker whose user directory a sweep may remove meanwhile
/// (it removes only empty ones, so a retry that recreates it is all that is needed).
const ATTEMPTS: usize = 3;

/// Files `key` under `user`: creates the marker (and its directories) if missing. With
/// `durable`, a new marker's directory entry is fsynced before this returns, so it is
/// on disk before the record it names. Call with the key's stripe lock held.
pub(crate) fn write(
    layout: &Layout,
    user: &UserKey,
    key: &StorageKey,
    durable: bool,
) -> Result<()> {
    let path = layout.marker_path(user, key);
    let mut attempt = 0;
    loop {
        attempt += 1;
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(FILE_MODE)
            .open(&path)
        {
            Ok(_) => {
                if durable {
                    let dir = layout.user_dir(user);
                    sync_dir(&dir).map_err(|e| file_error("fsync", &dir, e))?;
                }
                return Ok(());
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound && attempt < ATTEMPTS => {
                let dir = layout.user_dir(user);
                layout
                    .create_user_dir(user, durable)
                    .map_err(|e| file_error("create directory", &dir, e))?;
            }
            Err(e) => return Err(file_error("create", &path, e)),
        }
    }
}

/// Removes the marker filing `key` under `user`; `Ok(false)` if there was none. Never
/// fsynced: a removal a power cut undoes leaves a stale marker, which listings skip.
pub(crate) fn remove(layout: &Layout, user: &UserKey, key: &StorageKey) -> Result<bool> {
    let path = layout.marker_path(user, key);
    remove_if_exists(&path).map_err(|e| file_error("remove", &path, e))
}

/// The keys `user` has markers for, in ascending order (none if the user has no
/// directory). Only regular files named by a key count.
pub(crate) fn keys(layout: &Layout, user: &UserKey) -> Result<Vec<StorageKey>> {
    let mut out = Vec::new();
    for entry in list(&layout.user_dir(user))? {
        let entry = entry?;
        match record_key(&entry.name) {
            Some(key) if entry.is_file() => out.push(key),
            _ => {}
        }
    }
    out.sort_unstable();
    Ok(out)
}

/// One page of `user`'s live sessions after `after`: each marker's record is read and
/// listed only if it exists, has not expired at `now` and is bound to `user`. Takes no
/// lock (records are replaced atomically, so each read sees one whole version).
pub(crate) fn sessions_of(
    layout: &Layout,
    user: &UserKey,
    after: Option<StorageKey>,
    limit: usize,
    now: Timestamp,
) -> Result<UserSessionsPage> {
    let limit = limit.max(1);
    let (mut out, mut more) = (Vec::new(), false);
    for key in keys(layout, user)? {
        if after.is_some_and(|a| key <= a) {
            continue;
        }
        let path = layout.record_path(&key);
        let Some(bytes) = read_if_exists(&path).map_err(|e| file_error("read", &path, e))? else {
            continue;
        };
        let Some(entry) = listed(layout.root(), key, &bytes, user) else {
            continue;
        };
        if entry.expires_at <= now {
            continue;
        }
        if out.len() >= limit {
            more = true;
            break;
        }
        out.push(entry);
    }
    Ok(UserSessionsPage::with_more(out, more))
}

/// Whether the record at `key` is absent, or decodes and is not bound to `user`: then
/// a marker filing it under `user` is stale. A record that does not decode keeps its
/// markers (it may be a newer format).
pub(crate) fn is_stale(layout: &Layout, user: &UserKey, key: &StorageKey) -> Result<bool> {
    let path = layout.record_path(key);
    let Some(bytes) = read_if_exists(&path).map_err(|e| file_error("read", &path, e))? else {
        return Ok(true);
    };
    Ok(Codec::decode(SessionId::from_bytes([0; 32]), &bytes)
        .is_ok_and(|record| record.user_key().as_ref() != Some(user)))
}

/// The sweep's part for the user index: under `users/<first>/`, removes every marker
/// whose record is gone or bound to someone else (judged under the record's lock), then
/// each user directory left empty. Returns how many markers went.
pub(crate) fn gc_top(layout: &Layout, locks: &StripeLocks, first: u8) -> Result<u64> {
    let mut removed = 0u64;
    for entry in list(&layout.users_top(first))? {
        let entry = entry?;
        let Some(user) = user_key(&entry.name).filter(|_| entry.is_dir()) else {
            continue;
        };
        for key in keys(layout, &user)? {
            let path = layout.record_path(&key);
            let _guard = locks.lock(&key).map_err(|e| file_error("lock", &path, e))?;
            if is_stale(layout, &user, &key)? && remove(layout, &user, &key)? {
                removed += 1;
            }
        }
        // Only an empty directory goes (an error: not empty, or gone already); a writer
        // that loses the race to it recreates it.
        fs::remove_dir(&entry.path).ok();
    }
    Ok(removed)
}
