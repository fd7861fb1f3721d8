//! The suite must fail stores that break the contract: each broken store below breaks
//! one rule, and the cases that guard that rule must report it.

#![allow(clippy::unwrap_used)] // test code: a panic here is a failed test, not a crash a client causes

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use futures::future::LocalBoxFuture;
use session_conformance::{cases, CaseResult, Fixture, Harness};
use session_core::{
    Capabilities, Clock, DeleteIf, Error, MemoryStore, Record, Result, ScanCursor, ScanPage,
    SessionId, SessionStore, StorageKey,
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
}

struct Broken {
    inner: MemoryStore,
    bug: Bug,
    /// Everything written, for `StaleReads` (which ignores expiry).
    shadow: Mutex<HashMap<String, Record>>,
}

impl Broken {
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
        self.inner.capabilities()
    }
    async fn load(&self, v: &str) -> Result<Option<Record>> {
        match self.bug {
            Bug::ErrOnGarbage if SessionId::parse(v).is_err() => {
                Err(Error::Corrupt("bad id".into()))
            }
            Bug::StaleReads => Ok(self.shadow.lock().unwrap().get(v).cloned()),
            _ => self.inner.load(v).await,
        }
    }
    async fn create(&self, r: &Record) -> Result<String> {
        if self.bug == Bug::CreateOverwrites {
            self.inner.delete(&r.id).await?;
        }
        let out = self.inner.create(r).await?;
        self.remember(r);
        Ok(out)
    }
    async fn save(&self, r: &Record, expected: u64) -> Result<String> {
        let out = match self.bug {
            Bug::Resurrect | Bug::IgnoreVersion => {
                let alive = self.inner.load(&r.id.to_string()).await?.is_some();
                if self.bug == Bug::IgnoreVersion && !alive {
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
        if self.bug == Bug::TouchRewrites {
            if self.inner.load(&r.id.to_string()).await?.is_none() {
                return Err(Error::NotFound);
            }
            self.inner.delete(&r.id).await?;
            return self.inner.create(r).await;
        }
        self.inner.touch(r).await
    }
    async fn delete(&self, id: &SessionId) -> Result<()> {
        self.shadow.lock().unwrap().remove(&id.to_string());
        self.inner.delete(id).await
    }
    async fn delete_expired(&self) -> Result<u64> {
        self.inner.delete_expired().await
    }
    async fn count(&self) -> Result<u64> {
        let n = self.inner.count().await?;
        Ok(if self.bug == Bug::Miscount { n + 1 } else { n })
    }
    async fn scan(&self, cursor: Option<ScanCursor>, limit: usize) -> Result<ScanPage> {
        let mut page = self.inner.scan(cursor, limit).await?;
        if self.bug == Bug::ScanDropsEntries {
            page.entries.pop();
        }
        Ok(page)
    }
    async fn delete_keys(&self, keys: &[StorageKey], only: DeleteIf) -> Result<u64> {
        let only = if self.bug == Bug::SweepsLive {
            DeleteIf::Any
        } else {
            only
        };
        self.inner.delete_keys(keys, only).await
    }
}

fn harness(bug: Bug) -> Harness {
    Harness::from_fixtures(move |clock: Clock| async move {
        let store = Arc::new(Broken {
            inner: MemoryStore::new().with_clock(clock),
            bug,
            shadow: Mutex::new(HashMap::new()),
        });
        let view = store.clone();
        Fixture::new(store).with_raw_dump(move || {
            let view = view.clone();
            async move {
                let mut entries = view.inner.raw_entries();
                if view.bug == Bug::LeaksId {
                    for id in view.shadow.lock().unwrap().keys() {
                        entries.push((id.clone().into_bytes(), Vec::new()));
                    }
                }
                entries
            }
        })
    })
}

type Case = fn(&Harness) -> LocalBoxFuture<'_, CaseResult>;

macro_rules! case {
    ($name:ident) => {
        (stringify!($name), (|h| Box::pin(cases::$name(h))) as Case)
    };
}

/// Asserts that `bug` makes every case in `must_fail` fail, naming that case. The
/// model-based case draws random sequences, so it gets a few runs to hit the bug.
fn expect_caught(bug: Bug, must_fail: &[(&str, Case)]) {
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
        let caught = (0..tries).find_map(|_| rt.block_on(case(&harness(bug))).err());
        match caught {
            Some(f) => assert_eq!(&f.case, name, "{bug:?}: failure names its case"),
            None => panic!("{bug:?} went unnoticed by case {name}"),
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
        ],
    );
}

#[test]
fn ignored_versions_are_caught() {
    expect_caught(
        Bug::IgnoreVersion,
        &[
            case!(save_stale_version_conflict),
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
fn model_catches_every_bug() {
    for bug in [
        Bug::Resurrect,
        Bug::IgnoreVersion,
        Bug::StaleReads,
        Bug::CreateOverwrites,
        Bug::TouchRewrites,
        Bug::Miscount,
    ] {
        expect_caught(bug, &[case!(model_based_sequences)]);
    }
}
