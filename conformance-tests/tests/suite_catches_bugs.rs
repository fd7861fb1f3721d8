//! The suite must fail stores that break the contract: each broken store below breaks
//! one rule, and the cases that guard that rule must report it. And it must pass a
//! correct store whatever capabilities it declares: a server store that cannot delete
//! (no `revoke`) is still a server store, not a client-side one.

#![allow(clippy::unwrap_used)] // test code: a panic here is a failed test, not a crash a client causes

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use futures::future::LocalBoxFuture;
use session_conformance::{cases, CaseResult, Fixture, Harness};
use session_core::{
    Capabilities, Clock, DeleteIf, Error, MemoryStore, Record, Result, ScanCursor, ScanPage,
    SessionId, SessionStore, StorageKey, StoreSettings, UserKey, UserSessionsPage,
};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Bug {
    /// `save` of a missing record writes it.
    Resurrect,
    /// Declares compare-and-set but ignores the expected version.
    IgnoreVersion,
    /// Returns expired records from `load`.
    StaleReads,
    /// `create` overwrites an existing record.
    CreateOverwrites,
    /// `load` of a malformed value is an error.
    ErrOnGarbage,
    /// `touch` rewrites the whole record it was given.
    TouchRewrites,
    /// The raw dump shows the raw id.
    LeaksId,
    /// `count` is off by one.
    Miscount,
    /// `scan` drops the last entry of every page.
    ScanDropsEntries,
    /// `delete_keys` ignores `DeleteIf::Expired` and deletes live records too.
    SweepsLive,
    /// `revoke_session` ends a session whoever it belongs to.
    RevokesOthersSessions,
    /// `revoke_user` ignores `except` and ends the current session too.
    RevokeIgnoresExcept,
    /// `sessions_of` drops the last entry of every page.
    ListingDropsEntries,
}

/// Which optional capabilities the store under test declares, on top of a memory store.
#[derive(Clone, Copy, Debug)]
struct Shape {
    /// `delete` works; without it, it answers `Unsupported`.
    revoke: bool,
    /// `count`, `delete_expired`, `scan`, `delete_keys` work; without it, they answer
    /// `Unsupported`.
    enumerate: bool,
    /// `sessions_of`, `revoke_user`, `revoke_session` work; without it, they answer
    /// `Unsupported`.
    user_index: bool,
}

/// Everything a memory store can do.
const FULL: Shape = Shape {
    revoke: true,
    enumerate: true,
    user_index: true,
};
/// A server store that cannot delete a session.
const NO_REVOKE: Shape = Shape {
    revoke: false,
    enumerate: true,
    user_index: false,
};
/// A server store that can neither delete nor enumerate: create, load, save, touch.
const MINIMAL: Shape = Shape {
    revoke: false,
    enumerate: false,
    user_index: false,
};
/// A server store that deletes and enumerates but keeps no index of sessions by user.
const NO_USER_INDEX: Shape = Shape {
    revoke: true,
    enumerate: true,
    user_index: false,
};

struct Broken {
    inner: MemoryStore,
    /// `None`: a correct store.
    bug: Option<Bug>,
    shape: Shape,
    /// Everything written, for `StaleReads` (which ignores expiry).
    shadow: Mutex<HashMap<String, Record>>,
}

impl Broken {
    fn has(&self, bug: Bug) -> bool {
        self.bug == Some(bug)
    }

    fn remember(&self, r: &Record) {
        self.shadow
            .lock()
            .unwrap()
            .insert(r.id.to_string(), r.clone());
    }
}

#[async_trait]
impl SessionStore for Broken {
    fn capabilities(&self) -> Capabilities {
        self.inner
            .capabilities()
            .with_revoke(self.shape.revoke)
            .with_enumerate(self.shape.enumerate)
            .with_user_index(self.shape.user_index)
    }
    async fn load(&self, v: &str) -> Result<Option<Record>> {
        match self.bug {
            Some(Bug::ErrOnGarbage) if SessionId::parse(v).is_err() => {
                Err(Error::Corrupt("bad id".into()))
            }
            Some(Bug::StaleReads) => Ok(self.shadow.lock().unwrap().get(v).cloned()),
            _ => self.inner.load(v).await,
        }
    }
    async fn create(&self, r: &Record) -> Result<String> {
        if self.has(Bug::CreateOverwrites) {
            self.inner.delete(&r.id).await?;
        }
        let out = self.inner.create(r).await?;
        self.remember(r);
        Ok(out)
    }
    async fn save(&self, r: &Record, expected: u64) -> Result<String> {
        let out = match self.bug {
            Some(Bug::Resurrect | Bug::IgnoreVersion) => {
                let alive = self.inner.load(&r.id.to_string()).await?.is_some();
                if self.has(Bug::IgnoreVersion) && !alive {
                    return Err(Error::NotFound);
                }
                self.inner.delete(&r.id).await?;
                self.inner.create(r).await?
            }
            _ => self.inner.save(r, expected).await?,
        };
        self.remember(r);
        Ok(out)
    }
    async fn touch(&self, r: &Record) -> Result<String> {
        if self.has(Bug::TouchRewrites) {
            if self.inner.load(&r.id.to_string()).await?.is_none() {
                return Err(Error::NotFound);
            }
            self.inner.delete(&r.id).await?;
            return self.inner.create(r).await;
        }
        self.inner.touch(r).await
    }
    async fn delete(&self, id: &SessionId) -> Result<()> {
        if !self.shape.revoke {
            return Err(Error::Unsupported("delete"));
        }
        self.shadow.lock().unwrap().remove(&id.to_string());
        self.inner.delete(id).await
    }
    async fn delete_expired(&self) -> Result<u64> {
        if !self.shape.enumerate {
            return Err(Error::Unsupported("delete_expired"));
        }
        self.inner.delete_expired().await
    }
    async fn count(&self) -> Result<u64> {
        if !self.shape.enumerate {
            return Err(Error::Unsupported("count"));
        }
        let n = self.inner.count().await?;
        Ok(if self.has(Bug::Miscount) { n + 1 } else { n })
    }
    async fn scan(&self, cursor: Option<ScanCursor>, limit: usize) -> Result<ScanPage> {
        if !self.shape.enumerate {
            return Err(Error::Unsupported("scan"));
        }
        let mut page = self.inner.scan(cursor, limit).await?;
        if self.has(Bug::ScanDropsEntries) {
            page.entries.pop();
        }
        Ok(page)
    }
    async fn delete_keys(&self, keys: &[StorageKey], only: DeleteIf) -> Result<u64> {
        if !self.shape.enumerate {
            return Err(Error::Unsupported("delete_keys"));
        }
        let only = if self.has(Bug::SweepsLive) {
            DeleteIf::Any
        } else {
            only
        };
        self.inner.delete_keys(keys, only).await
    }
    async fn sessions_of(
        &self,
        user: &UserKey,
        cursor: Option<ScanCursor>,
        limit: usize,
    ) -> Result<UserSessionsPage> {
        if !self.shape.user_index {
            return Err(Error::Unsupported("sessions_of"));
        }
        let mut page = self.inner.sessions_of(user, cursor, limit).await?;
        if self.has(Bug::ListingDropsEntries) {
            page.sessions.pop();
        }
        Ok(page)
    }
    async fn revoke_user(&self, user: &UserKey, except: Option<&StorageKey>) -> Result<u64> {
        if !self.shape.user_index {
            return Err(Error::Unsupported("revoke_user"));
        }
        let except = if self.has(Bug::RevokeIgnoresExcept) {
            None
        } else {
            except
        };
        self.inner.revoke_user(user, except).await
    }
    async fn revoke_session(&self, user: &UserKey, key: &StorageKey) -> Result<bool> {
        if !self.shape.user_index {
            return Err(Error::Unsupported("revoke_session"));
        }
        if self.has(Bug::RevokesOthersSessions) {
            return Ok(self.inner.delete_keys(&[*key], DeleteIf::Any).await? > 0);
        }
        self.inner.revoke_session(user, key).await
    }
}

/// A fixture for a store of `shape` with `bug` (none: a correct store), raw dump
/// included: a server store provides one whatever it can or cannot delete.
fn fixture(clock: Clock, bug: Option<Bug>, shape: Shape) -> Fixture {
    let store = Arc::new(Broken {
        inner: MemoryStore::new().with_settings(StoreSettings::new().with_clock(clock)),
        bug,
        shape,
        shadow: Mutex::new(HashMap::new()),
    });
    let view = store.clone();
    Fixture::new(store).with_raw_dump(move || {
        let view = view.clone();
        async move {
            let mut entries = view.inner.raw_entries();
            if view.has(Bug::LeaksId) {
                for id in view.shadow.lock().unwrap().keys() {
                    entries.push((id.clone().into_bytes(), Vec::new()));
                }
            }
            entries
        }
    })
}

fn harness_shaped(bug: Bug, shape: Shape) -> Harness {
    Harness::from_fixtures(move |clock: Clock| async move { fixture(clock, Some(bug), shape) })
}

// Correct server stores that declare fewer capabilities pass every case of the suite:
// each case is gated on the capability it is about, not on "can delete" standing in
// for "is a server store".
session_conformance::suite!(
    correct_store_without_revoke,
    fixture = |clock| async move { fixture(clock, None, NO_REVOKE) }
);
session_conformance::suite!(
    correct_store_without_user_index,
    fixture = |clock| async move { fixture(clock, None, NO_USER_INDEX) }
);
session_conformance::suite!(
    correct_store_without_revoke_or_enumeration,
    fixture = |clock| async move { fixture(clock, None, MINIMAL) }
);

type Case = fn(&Harness) -> LocalBoxFuture<'_, CaseResult>;

macro_rules! case {
    ($name:ident) => {
        (stringify!($name), (|h| Box::pin(cases::$name(h))) as Case)
    };
}

/// Asserts that `bug` makes every case in `must_fail` fail, naming that case. The
/// model-based case draws random sequences, so it gets a few runs to hit the bug.
fn expect_caught(bug: Bug, must_fail: &[(&str, Case)]) {
    expect_caught_shaped(bug, FULL, must_fail);
}

/// [`expect_caught`] for a store of `shape`.
fn expect_caught_shaped(bug: Bug, shape: Shape, must_fail: &[(&str, Case)]) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    for (name, case) in must_fail {
        let tries = if *name == "model_based_sequences" {
            8
        } else {
            1
        };
        let caught = (0..tries).find_map(|_| rt.block_on(case(&harness_shaped(bug, shape))).err());
        match caught {
            Some(f) => assert_eq!(&f.case, name, "{bug:?} ({shape:?}): failure names its case"),
            None => panic!("{bug:?} ({shape:?}) went unnoticed by case {name}"),
        }
    }
}

#[test]
fn resurrecting_save_is_caught() {
    expect_caught(
        Bug::Resurrect,
        &[
            case!(save_after_delete_not_found),
            case!(save_after_expiry_not_found),
            case!(session_logout_beats_slow_save),
            case!(django_save_does_not_resurrect),
        ],
    );
}

#[test]
fn ignored_versions_are_caught() {
    expect_caught(
        Bug::IgnoreVersion,
        &[
            case!(save_stale_version_conflict),
            case!(concurrent_store_increments_exact),
            case!(concurrent_different_keys_survive),
        ],
    );
}

#[test]
fn stale_reads_are_caught() {
    expect_caught(
        Bug::StaleReads,
        &[
            case!(expiry_enforced_on_read),
            case!(expiry_idle_timeout),
            case!(expiry_absolute_lifetime),
            case!(expiry_real_time),
        ],
    );
}

#[test]
fn overwriting_create_is_caught() {
    expect_caught(
        Bug::CreateOverwrites,
        &[case!(create_collision_keeps_original)],
    );
}

#[test]
fn errors_on_garbage_are_caught() {
    expect_caught(
        Bug::ErrOnGarbage,
        &[
            case!(load_malformed_ids),
            case!(load_path_like_ids),
            case!(load_overlong_id),
            case!(django_invalid_key),
            case!(django_session_key_empty_string_invalid),
            case!(django_session_key_too_short_invalid),
            case!(django_session_key_valid_string_not_adopted),
            case!(django_session_load_does_not_create_record),
        ],
    );
}

#[test]
fn rewriting_touch_is_caught() {
    expect_caught(Bug::TouchRewrites, &[case!(touch_keeps_stored_data)]);
}

#[test]
fn leaked_ids_are_caught() {
    expect_caught(Bug::LeaksId, &[case!(no_raw_id_stored)]);
}

#[test]
fn miscounts_are_caught() {
    expect_caught(
        Bug::Miscount,
        &[
            case!(count_live_records),
            case!(delete_expired_removes_only_expired),
        ],
    );
}

#[test]
fn dropped_scan_entries_are_caught() {
    expect_caught(
        Bug::ScanDropsEntries,
        &[
            case!(scan_sees_live_and_expired),
            case!(scan_pages_cover_everything),
        ],
    );
}

#[test]
fn sweeping_live_records_is_caught() {
    expect_caught(Bug::SweepsLive, &[case!(delete_keys_by_condition)]);
}

#[test]
fn revoking_another_users_session_is_caught() {
    expect_caught(Bug::RevokesOthersSessions, &[case!(user_revoke_one_by_key)]);
}

#[test]
fn revoking_the_current_session_is_caught() {
    expect_caught(
        Bug::RevokeIgnoresExcept,
        &[
            case!(user_revoke_all_but_current),
            case!(user_handle_devices_and_logout_everywhere),
        ],
    );
}

#[test]
fn dropped_listing_entries_are_caught() {
    expect_caught(
        Bug::ListingDropsEntries,
        &[
            case!(user_bind_and_list),
            case!(user_thousand_sessions_paged),
            case!(user_isolated),
        ],
    );
}

/// The bugs the model-based case must catch in a full store and in one without revoke
/// (the full store's list adds miscounting).
const MODEL_BUGS: [Bug; 5] = [
    Bug::Resurrect,
    Bug::IgnoreVersion,
    Bug::StaleReads,
    Bug::CreateOverwrites,
    Bug::TouchRewrites,
];

#[test]
fn model_catches_every_bug() {
    for bug in MODEL_BUGS.into_iter().chain([Bug::Miscount]) {
        expect_caught(bug, &[case!(model_based_sequences)]);
    }
}

// The same bugs in server stores that cannot delete: the cases that used to treat such
// a store as a client-side one (and so skipped the server checks) must catch them.

#[test]
fn resurrecting_save_without_revoke_is_caught() {
    // With no delete, expiry is the only way a record goes: a save must not undo it.
    expect_caught_shaped(
        Bug::Resurrect,
        NO_REVOKE,
        &[case!(save_after_expiry_not_found)],
    );
}

#[test]
fn overwriting_create_without_revoke_is_caught() {
    expect_caught_shaped(
        Bug::CreateOverwrites,
        NO_REVOKE,
        &[case!(create_collision_keeps_original)],
    );
}

#[test]
fn rewriting_touch_without_revoke_is_caught() {
    expect_caught_shaped(
        Bug::TouchRewrites,
        NO_REVOKE,
        &[case!(touch_keeps_stored_data)],
    );
}

#[test]
fn leaked_ids_without_revoke_are_caught() {
    expect_caught_shaped(Bug::LeaksId, MINIMAL, &[case!(no_raw_id_stored)]);
}

#[test]
fn ignored_versions_without_revoke_are_caught() {
    expect_caught_shaped(
        Bug::IgnoreVersion,
        NO_REVOKE,
        &[
            case!(save_stale_version_conflict),
            case!(concurrent_store_increments_exact),
            case!(concurrent_different_keys_survive),
            case!(session_logout_beats_slow_cycle),
        ],
    );
}

#[test]
fn model_catches_every_bug_without_revoke() {
    for bug in MODEL_BUGS {
        expect_caught_shaped(bug, NO_REVOKE, &[case!(model_based_sequences)]);
    }
}
