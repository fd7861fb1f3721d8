//! The mutable state behind a [`Session`](super::Session) and the store traffic it
//! drives: load, create, save with conflict replay, touch, delete.

use std::collections::BTreeMap;
use std::time::Duration;

use rand::Rng;

use crate::{
    Data, Error, Expiry, Record, Result, SaveMode, SessionExpiry, SessionId, SessionOptions,
    SessionStore, Timestamp, TouchPolicy, UserBinding,
};

use super::change::Change;
use super::{CookieChange, Outcome};
use crate::observe::RequestTrace;

/// How many fresh ids `create` tries before giving up. With 256-bit ids a second
/// attempt already means a broken random source or store.
const CREATE_ATTEMPTS: u32 = 4;

/// A random pause before replay `n`: up to 1, 2, 4 … ms, capped at 64 ms.
fn conflict_backoff(n: u32) -> Duration {
    let cap_ms = 1u64 << n.min(6);
    Duration::from_micros(rand::thread_rng().gen_range(0..=cap_ms * 1000))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Nothing has been read yet.
    Unloaded,
    /// Loaded (or known to be new).
    Ready,
    /// Deleted in this request; nothing more is written.
    Deleted,
}

/// The stored record this session is based on, minus its data.
pub(crate) struct Base {
    pub(crate) id: SessionId,
    pub(crate) created_at: Timestamp,
    pub(crate) accessed_at: Timestamp,
    pub(crate) expires_at: Timestamp,
    pub(crate) version: u64,
    /// The session's own expiry as stored.
    pub(crate) expiry: Option<SessionExpiry>,
    /// The user the session is bound to as stored.
    pub(crate) user: Option<UserBinding>,
    /// The cookie value naming this record, used to reload it after a conflict.
    pub(crate) cookie: String,
}

impl Base {
    fn of(record: &Record, cookie: String) -> Self {
        Base {
            id: record.id,
            created_at: record.created_at,
            accessed_at: record.accessed_at,
            expires_at: record.expires_at,
            version: record.version,
            expiry: record.expiry,
            user: record.user.clone(),
            cookie,
        }
    }
}

pub(crate) struct State {
    incoming: Option<String>,
    pub(crate) phase: Phase,
    pub(crate) base: Option<Base>,
    pub(crate) data: Data,
    pub(crate) changes: BTreeMap<String, Change>,
    pub(crate) cleared: bool,
    pub(crate) cycle: bool,
    pub(crate) save_requested: bool,
    /// A [`set_expiry`](super::Session::set_expiry) not yet written: `Some(None)` goes
    /// back to the layer's expiry.
    pub(crate) expiry_change: Option<Option<SessionExpiry>>,
    /// A [`bind_user`](super::Session::bind_user) or `unbind_user` not yet written.
    pub(crate) user_change: Option<Option<UserBinding>>,
    /// Flash messages for this request only (`flash_now`), never stored.
    pub(crate) flash_now: Vec<super::Flash>,
    /// Written or touched already in this request: no second touch.
    synced: bool,
    /// The store asked for this cookie to be rewritten (e.g. a retired sealing key).
    refresh: bool,
    /// For stores whose cookie *is* the record: the data as last loaded or written.
    /// A touch re-seals this, not the request's unsaved changes (which in `Explicit`
    /// mode must not reach the client).
    sealed_data: Option<Data>,
    pub(crate) cookie: CookieChange,
    /// How to get back to the stored data if a mid-request write is refused.
    undo: Undo,
    /// What this request did to the store, for its span and metrics.
    pub(crate) trace: RequestTrace,
}

/// The stored values of the keys changed since the last write, so a refused
/// [`persist`](super::Session::persist) can put the data back as it is stored. Keeping
/// only the keys touched (not a copy of the whole map on every load) keeps the common
/// path free of clones.
#[derive(Default)]
struct Undo {
    /// Each changed key's stored value (`None`: the key was absent).
    keys: BTreeMap<String, Option<serde_json::Value>>,
    /// The whole stored map, once `clear` (or a conflict reload) made keys useless.
    all: Option<Data>,
}

impl State {
    pub(crate) fn new(incoming: Option<String>) -> Self {
        State {
            incoming,
            phase: Phase::Unloaded,
            base: None,
            data: Data::new(),
            changes: BTreeMap::new(),
            cleared: false,
            cycle: false,
            save_requested: false,
            expiry_change: None,
            user_change: None,
            flash_now: Vec::new(),
            synced: false,
            refresh: false,
            sealed_data: None,
            cookie: CookieChange::Unchanged,
            undo: Undo::default(),
            trace: RequestTrace::default(),
        }
    }

    pub(crate) fn is_ready(&self) -> bool {
        self.phase == Phase::Ready
    }

    /// What the adapter should do with the cookie, taken once at the end of the request.
    pub(crate) fn outcome(&mut self) -> Outcome {
        let base = self.base.as_ref();
        Outcome {
            cookie: std::mem::take(&mut self.cookie),
            expires_at: base.map(|b| b.expires_at),
            lifetime: base.and_then(|b| b.expiry).map(|e| e.cookie()),
        }
    }

    /// The session's own expiry: the one set in this request, else the stored one.
    pub(crate) fn own_expiry(&self) -> Option<SessionExpiry> {
        match self.expiry_change {
            Some(change) => change,
            None => self.base.as_ref().and_then(|b| b.expiry),
        }
    }

    /// The user the session is bound to: the binding made in this request, else the
    /// stored one.
    pub(crate) fn own_user(&self) -> Option<&UserBinding> {
        match &self.user_change {
            Some(change) => change.as_ref(),
            None => self.base.as_ref().and_then(|b| b.user.as_ref()),
        }
    }

    /// The expiry this session runs under: its own, else the layer's.
    pub(crate) fn expiry(&self, options: &SessionOptions) -> Expiry {
        self.own_expiry().map_or(options.expiry, |own| own.expiry())
    }

    /// Whether an unchanged session last touched at `accessed` is due a touch. A
    /// session whose own idle timeout is shorter than twice the throttle is touched at
    /// least every half idle timeout, so a short per-session timeout cannot run out
    /// between two touches (the layer's options are checked for that up front).
    fn touch_due(&self, options: &SessionOptions, accessed: Timestamp, now: Timestamp) -> bool {
        let policy = match (options.touch, self.own_expiry()) {
            (TouchPolicy::Throttled(every), Some(own)) => match own.expiry().idle_timeout() {
                Some(idle) if every > idle / 2 => TouchPolicy::Throttled(idle / 2),
                _ => options.touch,
            },
            (policy, _) => policy,
        };
        policy.is_due(accessed, now)
    }

    /// Notes `key`'s stored value before its first change since the last write.
    pub(crate) fn remember(&mut self, key: &str) {
        if self.undo.all.is_none() && !self.undo.keys.contains_key(key) {
            let stored = self.data.get(key).cloned();
            self.undo.keys.insert(key.to_owned(), stored);
        }
    }

    /// Notes the whole stored map (before `clear`).
    pub(crate) fn remember_all(&mut self) {
        if self.undo.all.is_none() {
            let mut stored = self.data.clone();
            Self::restore_keys(&mut stored, std::mem::take(&mut self.undo.keys));
            self.undo.all = Some(stored);
        }
    }

    fn restore_keys(data: &mut Data, keys: BTreeMap<String, Option<serde_json::Value>>) {
        for (key, stored) in keys {
            match stored {
                Some(v) => data.insert(key, v),
                None => data.remove(&key),
            };
        }
    }

    /// A write was refused: forget this request's unwritten changes and show the data
    /// as stored, so nothing refused is written later.
    pub(crate) fn roll_back(&mut self) {
        if self.phase != Phase::Ready {
            return;
        }
        let undo = std::mem::take(&mut self.undo);
        match undo.all {
            Some(all) => self.data = all,
            None => Self::restore_keys(&mut self.data, undo.keys),
        }
        self.forget_changes();
        self.save_requested = false;
    }

    pub(crate) fn is_dirty(&self) -> bool {
        !self.changes.is_empty()
            || self.cleared
            || self.cycle
            || self.expiry_change.is_some()
            || self.user_change.is_some()
    }

    /// Whether the end of the request has something to do even if no handler read the
    /// session: `save`, `cycle_id`, `set_expiry` and `bind_user` only note the wish,
    /// without I/O.
    fn wants_load(&self) -> bool {
        self.save_requested
            || self.cycle
            || self.expiry_change.is_some()
            || self.user_change.is_some()
    }

    pub(crate) fn write_wanted(&self, options: &SessionOptions) -> bool {
        self.is_dirty() && (options.save_mode == SaveMode::Auto || self.save_requested)
    }

    /// Puts `value` under `key` as this request's change. An equal value is no change,
    /// unless a pending update would replay differently on a conflict.
    pub(crate) fn set_key(&mut self, key: &str, value: serde_json::Value) {
        if self.data.get(key) == Some(&value) && !self.changes.contains_key(key) {
            return;
        }
        self.remember(key);
        self.data.insert(key.to_owned(), value.clone());
        self.record_change(key, Change::Set(value));
    }

    /// Removes `key` as this request's change, returning its value.
    pub(crate) fn remove_key(&mut self, key: &str) -> Option<serde_json::Value> {
        if !self.data.contains_key(key) {
            return None;
        }
        self.remember(key);
        let old = self.data.remove(key);
        self.record_change(key, Change::Remove);
        old
    }

    pub(crate) fn record_change(&mut self, key: &str, change: Change) {
        if self.phase == Phase::Deleted {
            return;
        }
        self.changes.insert(key.to_owned(), change);
    }

    fn forget_changes(&mut self) {
        self.changes.clear();
        self.cleared = false;
        self.cycle = false;
        self.expiry_change = None;
        self.user_change = None;
        self.undo = Undo::default();
    }

    /// The first read: the incoming cookie's record, or a new empty session. An unknown,
    /// expired or corrupt session is never adopted; its cookie is expired.
    pub(crate) async fn load(
        &mut self,
        store: &dyn SessionStore,
        options: &SessionOptions,
    ) -> Result<()> {
        if let Some(value) = self.incoming.as_deref() {
            match store.load(value).await {
                Ok(Some(record)) if !record.is_expired(options.clock.now()) => {
                    self.base = Some(Base::of(&record, value.to_owned()));
                    self.refresh = store.needs_refresh(value);
                    self.data = record.data;
                    self.snapshot_if_sealed(store);
                }
                Ok(_) => self.cookie = CookieChange::Remove,
                Err(Error::Corrupt(why)) => {
                    // Only the part of the reason before the decoder's own message: serde
                    // quotes the bytes it refused, which may be session data.
                    let context = why.split(':').next().unwrap_or_default();
                    tracing::warn!(
                        context,
                        "stored session does not decode; starting a new one"
                    );
                    self.cookie = CookieChange::Remove;
                }
                Err(e) => return Err(e),
            }
        }
        self.phase = Phase::Ready;
        self.settle_flags();
        Ok(())
    }

    /// Drops wishes noted before the load that turn out to change nothing: a cycle of
    /// a session never written, an expiry equal to the stored one.
    fn settle_flags(&mut self) {
        if self.base.is_none() {
            self.cycle = false;
        }
        let stored = self.base.as_ref().and_then(|b| b.expiry);
        if self.expiry_change == Some(stored) {
            self.expiry_change = None;
        }
        let stored_user = self.base.as_ref().and_then(|b| b.user.as_ref());
        if self
            .user_change
            .as_ref()
            .is_some_and(|c| c.as_ref() == stored_user)
        {
            self.user_change = None;
        }
    }

    /// Brings the store up to date with this session, as mode and policy say.
    pub(crate) async fn flush(
        &mut self,
        store: &dyn SessionStore,
        options: &SessionOptions,
    ) -> Result<()> {
        if self.phase == Phase::Unloaded && self.wants_load() {
            self.load(store, options).await?;
        }
        if self.phase != Phase::Ready {
            return Ok(());
        }
        let now = options.clock.now();
        if self.write_wanted(options) {
            self.write(store, options, now).await?;
        } else if let Some(base) = &self.base {
            let due = self.save_requested
                || self.refresh
                || self.touch_due(options, base.accessed_at, now);
            if due && !self.synced {
                self.touch(store, options, now).await?;
            }
        }
        self.save_requested = false;
        Ok(())
    }

    async fn write(
        &mut self,
        store: &dyn SessionStore,
        options: &SessionOptions,
        now: Timestamp,
    ) -> Result<()> {
        match self.base.as_ref() {
            None if self.data.is_empty() => {
                // Never persist an empty, never-written session, and send no cookie.
                self.forget_changes();
                Ok(())
            }
            None => self.create(store, options, now, now).await,
            Some(_) if self.cycle => {
                if !store.capabilities().self_sealed {
                    // Save under the old id first: that checks the session still
                    // exists (a logout in between wins, rule 4) and replays this
                    // request's changes on anything saved meanwhile, so the copy
                    // moved to the new id is current. Every store that keeps the
                    // record needs this, whether or not it can delete; a sealed
                    // cookie has no stored copy to check or to have moved on.
                    self.cycle = false;
                    let saved = self.save(store, options, now).await;
                    self.cycle = true;
                    saved?;
                }
                let Some(base) = self.base.as_ref() else {
                    return Err(Error::NotFound);
                };
                let (old, created) = (base.id, base.created_at);
                self.create(store, options, now, created).await?;
                match store.delete(&old).await {
                    Ok(()) | Err(Error::Unsupported(_)) => Ok(()),
                    Err(e) => Err(e),
                }
            }
            Some(_) => self.save(store, options, now).await,
        }
    }

    /// Writes the current data as a new record under a fresh id.
    async fn create(
        &mut self,
        store: &dyn SessionStore,
        options: &SessionOptions,
        now: Timestamp,
        created_at: Timestamp,
    ) -> Result<()> {
        let expires_at = self.expiry(options).deadline(created_at, now);
        let mut record = Record {
            id: SessionId::generate(),
            data: std::mem::take(&mut self.data),
            created_at,
            accessed_at: now,
            expires_at,
            version: 1,
            expiry: self.own_expiry(),
            user: self.own_user().cloned(),
        };
        let mut attempt = 1;
        let result = loop {
            match store.create(&record).await {
                Err(Error::Collision) if attempt < CREATE_ATTEMPTS => {
                    tracing::warn!("session id collision; retrying with a new id");
                    attempt += 1;
                    record.id = SessionId::generate();
                }
                other => break other,
            }
        };
        self.data = std::mem::take(&mut record.data);
        let cookie = result?;
        self.trace.created = true;
        self.base = Some(Base::of(&record, cookie.clone()));
        self.cookie = CookieChange::Set(cookie);
        self.forget_changes();
        self.synced = true;
        self.snapshot_if_sealed(store);
        Ok(())
    }

    /// Saves over the base version; on `Conflict`, reloads and replays this request's
    /// changes, a bounded number of times.
    async fn save(
        &mut self,
        store: &dyn SessionStore,
        options: &SessionOptions,
        now: Timestamp,
    ) -> Result<()> {
        let mut replays = 0;
        loop {
            let Some(base) = self.base.as_ref() else {
                return Err(Error::NotFound);
            };
            let (id, created_at, version) = (base.id, base.created_at, base.version);
            let mut record = Record {
                id,
                data: std::mem::take(&mut self.data),
                created_at,
                accessed_at: now,
                expires_at: self.expiry(options).deadline(created_at, now),
                version: version + 1,
                expiry: self.own_expiry(),
                user: self.own_user().cloned(),
            };
            let result = store.save(&record, version).await;
            self.data = std::mem::take(&mut record.data);
            match result {
                Ok(cookie) => {
                    self.trace.saved = true;
                    self.base = Some(Base::of(&record, cookie.clone()));
                    self.cookie = CookieChange::Set(cookie);
                    self.forget_changes();
                    self.synced = true;
                    self.snapshot_if_sealed(store);
                    return Ok(());
                }
                Err(Error::Conflict) if replays < options.conflict_retries => {
                    replays += 1;
                    self.trace.replayed();
                    tracing::debug!(replays, "session save conflicted; replaying changes");
                    // Requests that keep colliding on one hot session would otherwise
                    // retry in lock-step; a short random pause spreads them out.
                    tokio::time::sleep(conflict_backoff(replays)).await;
                    self.rebase(store, options).await?;
                }
                Err(Error::NotFound) => {
                    self.gone();
                    return Err(Error::NotFound);
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Replaces base and data with the stored record, then re-applies this request's
    /// changes on top.
    async fn rebase(&mut self, store: &dyn SessionStore, options: &SessionOptions) -> Result<()> {
        let cookie = match self.base.as_ref() {
            Some(b) => b.cookie.clone(),
            None => return Err(Error::NotFound),
        };
        let fresh = match store.load(&cookie).await? {
            Some(r) if !r.is_expired(options.clock.now()) => r,
            _ => {
                self.gone();
                return Err(Error::NotFound);
            }
        };
        self.base = Some(Base::of(&fresh, cookie));
        // What is stored now is what a refused write must fall back to.
        self.undo = Undo {
            keys: BTreeMap::new(),
            all: Some(fresh.data.clone()),
        };
        self.data = fresh.data;
        self.snapshot_if_sealed(store);
        if self.cleared {
            self.data.clear();
        }
        for (key, change) in &self.changes {
            change.apply(key, &mut self.data)?;
        }
        Ok(())
    }

    async fn touch(
        &mut self,
        store: &dyn SessionStore,
        options: &SessionOptions,
        now: Timestamp,
    ) -> Result<()> {
        let Some(base) = self.base.as_ref() else {
            return Ok(());
        };
        // Server stores ignore the data of a touch; a self-sealed store re-seals it, so
        // it gets the data as last written, never this request's unsaved changes.
        let data = match &self.sealed_data {
            Some(written) => written.clone(),
            None => std::mem::take(&mut self.data),
        };
        // A touch writes no change, so the stored expiry is the one that applies.
        let expiry = base.expiry.map_or(options.expiry, |own| own.expiry());
        let mut record = Record {
            id: base.id,
            data,
            created_at: base.created_at,
            accessed_at: now,
            expires_at: expiry.deadline(base.created_at, now),
            version: base.version,
            expiry: base.expiry,
            user: base.user.clone(),
        };
        let result = store.touch(&record).await;
        if self.sealed_data.is_none() {
            self.data = std::mem::take(&mut record.data);
        }
        match result {
            Ok(cookie) => {
                self.trace.touched = true;
                self.base = Some(Base::of(&record, cookie.clone()));
                self.cookie = CookieChange::Set(cookie);
                self.synced = true;
                self.refresh = false;
                Ok(())
            }
            Err(Error::NotFound) => {
                self.gone();
                Err(Error::NotFound)
            }
            Err(e) => Err(e),
        }
    }

    /// Deletes the stored record (if any) and leaves an empty, new session behind.
    pub(crate) async fn delete_stored(&mut self, store: &dyn SessionStore) -> Result<()> {
        if let Some(base) = self.base.as_ref() {
            match store.delete(&base.id).await {
                // Without server-side revoke, expiring the cookie is all there is.
                Ok(()) | Err(Error::Unsupported(_)) => self.trace.deleted = true,
                Err(e) => return Err(e),
            }
        }
        let had_cookie = self.base.is_some() || self.incoming.is_some();
        self.reset();
        if had_cookie {
            self.cookie = CookieChange::Remove;
        }
        Ok(())
    }

    /// The stored session disappeared under us (a logout elsewhere, or expiry): stop
    /// writing, drop the data, expire the cookie. Never re-create it.
    fn gone(&mut self) {
        self.trace.vanished = true;
        self.reset();
        self.phase = Phase::Deleted;
        self.cookie = CookieChange::Remove;
    }

    fn snapshot_if_sealed(&mut self, store: &dyn SessionStore) {
        if store.capabilities().self_sealed {
            self.sealed_data = Some(self.data.clone());
        }
    }

    fn reset(&mut self) {
        self.base = None;
        self.sealed_data = None;
        self.refresh = false;
        self.data.clear();
        self.forget_changes();
        self.save_requested = false;
        self.cookie = CookieChange::Unchanged;
    }
}
