//! Beaker's memory backend: sessions in a map inside the process.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;

use crate::{
    Capabilities, Codec, DeleteIf, Error, Record, Result, ScanCursor, ScanEntry, ScanPage,
    SessionId, SessionStore, StorageKey, StoreSettings, Timestamp, UserKey, UserSession,
    UserSessionsPage,
};

/// How many expired records `delete_expired` removes per lock acquisition, so a large
/// sweep does not stall every request behind one long critical section.
const SWEEP_BATCH: usize = 1024;

#[derive(Clone)]
struct Entry {
    version: u64,
    expires_at: Timestamp,
    user: Option<UserKey>,
    bytes: Vec<u8>,
}

/// The records and the user index, under one lock, so the index is exact.
#[derive(Default)]
struct Inner {
    map: HashMap<StorageKey, Entry>,
    users: HashMap<UserKey, BTreeSet<StorageKey>>,
}

impl Inner {
    fn get(&self, key: &StorageKey) -> Option<&Entry> {
        self.map.get(key)
    }

    fn insert(&mut self, key: StorageKey, entry: Entry) {
        let user = entry.user;
        if let Some(old) = self.map.insert(key, entry) {
            if old.user != user {
                self.unindex(old.user, &key);
            }
        }
        if let Some(user) = user {
            self.users.entry(user).or_default().insert(key);
        }
    }

    fn remove(&mut self, key: &StorageKey) -> Option<Entry> {
        let old = self.map.remove(key)?;
        self.unindex(old.user, key);
        Some(old)
    }

    fn unindex(&mut self, user: Option<UserKey>, key: &StorageKey) {
        let Some(user) = user else { return };
        if let Some(keys) = self.users.get_mut(&user) {
            keys.remove(key);
            if keys.is_empty() {
                self.users.remove(&user);
            }
        }
    }
}

/// Sessions kept in process memory. **For development and tests only**: sessions
/// vanish on restart and are not shared between processes or machines.
///
/// It honours the whole contract (compare-and-set, expiry on read, `delete_expired`,
/// `count`) and stores encoded envelopes under the id's storage key, exactly as a
/// server store would, so it is a faithful stand-in in tests. Like every server store it
/// refuses a record whose encoding exceeds [`DEFAULT_MAX_RECORD_SIZE`](crate::DEFAULT_MAX_RECORD_SIZE) (256 KiB) with
/// [`Error::TooLarge`] unless its [`StoreSettings`] say otherwise
/// ([`with_settings`](MemoryStore::with_settings)).
pub struct MemoryStore {
    inner: Mutex<Inner>,
    settings: StoreSettings,
}

impl MemoryStore {
    /// An empty store on the system clock.
    pub fn new() -> Self {
        MemoryStore {
            inner: Mutex::new(Inner::default()),
            settings: StoreSettings::new(),
        }
    }

    /// Takes its codec, record size limit and clock from `settings`.
    ///
    /// ```
    /// use session_core::{MemoryStore, SessionStore, StoreSettings};
    ///
    /// let store = MemoryStore::new()
    ///     .with_settings(StoreSettings::new().with_max_record_size(Some(16 * 1024)));
    /// assert_eq!(store.capabilities().max_record_size, Some(16 * 1024));
    /// let unlimited =
    ///     MemoryStore::new().with_settings(StoreSettings::new().with_max_record_size(None));
    /// assert_eq!(unlimited.capabilities().max_record_size, None);
    /// ```
    pub fn with_settings(mut self, settings: StoreSettings) -> Self {
        self.settings = settings;
        self
    }

    /// The codec, record size limit and clock in use.
    pub fn settings(&self) -> &StoreSettings {
        &self.settings
    }

    /// Every stored key and value as raw bytes: what a dump of a real server would show.
    /// Used by the conformance suite to check that no raw id is stored.
    pub fn raw_entries(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        self.lock()
            .map
            .iter()
            .map(|(k, e)| (k.to_hex().into_bytes(), e.bytes.clone()))
            .collect()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding this lock cannot leave a half-written entry (every
        // mutation is an insert or remove that updates the index with no fallible step
        // in between), so a poisoned map is still sound.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn encode(&self, record: &Record) -> Result<Entry> {
        let bytes = self.settings.encode(record)?;
        Ok(Entry {
            version: record.version,
            expires_at: record.expires_at,
            user: record.user_key(),
            bytes,
        })
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore")
            .field("sessions", &self.lock().map.len())
            .field("settings", &self.settings)
            .finish()
    }
}

#[async_trait]
impl SessionStore for MemoryStore {
    fn capabilities(&self) -> Capabilities {
        Capabilities::new()
            .with_compare_and_set(true)
            .with_enumerate(true)
            .with_user_index(true)
            .with_max_record_size(self.settings.max_record_size())
    }

    async fn load(&self, cookie_value: &str) -> Result<Option<Record>> {
        let Ok(id) = SessionId::parse(cookie_value) else {
            return Ok(None);
        };
        let now = self.settings.now();
        let bytes = match self.lock().get(&id.storage_key()) {
            Some(e) if e.expires_at > now => e.bytes.clone(),
            _ => return Ok(None),
        };
        Codec::decode(id, &bytes).map(Some)
    }

    async fn create(&self, record: &Record) -> Result<String> {
        let entry = self.encode(record)?;
        let now = self.settings.now();
        let mut map = self.lock();
        match map.get(&record.id.storage_key()) {
            // An expired leftover does not block the id; it is garbage.
            Some(e) if e.expires_at > now => Err(Error::Collision),
            _ => {
                map.insert(record.id.storage_key(), entry);
                Ok(record.id.to_string())
            }
        }
    }

    async fn save(&self, record: &Record, expected_version: u64) -> Result<String> {
        let entry = self.encode(record)?;
        let now = self.settings.now();
        let mut map = self.lock();
        let key = record.id.storage_key();
        match map.get(&key) {
            Some(e) if e.expires_at > now => {
                if e.version != expected_version {
                    return Err(Error::Conflict);
                }
            }
            _ => return Err(Error::NotFound),
        }
        map.insert(key, entry);
        Ok(record.id.to_string())
    }

    async fn touch(&self, record: &Record) -> Result<String> {
        let now = self.settings.now();
        let key = record.id.storage_key();
        let mut map = self.lock();
        let Some(entry) = map.map.get_mut(&key).filter(|e| e.expires_at > now) else {
            return Err(Error::NotFound);
        };
        // Rewrite only the deadline and atime of what is stored, never its data, so a
        // touch racing a save cannot roll the save back.
        let mut stored = Codec::decode(record.id, &entry.bytes)?;
        stored.accessed_at = record.accessed_at;
        stored.expires_at = record.expires_at;
        let bytes = self.settings.encode(&stored)?;
        entry.bytes = bytes;
        entry.expires_at = record.expires_at;
        Ok(record.id.to_string())
    }

    async fn delete(&self, id: &SessionId) -> Result<()> {
        self.lock().remove(&id.storage_key());
        Ok(())
    }

    async fn delete_expired(&self) -> Result<u64> {
        let mut removed = 0u64;
        loop {
            let now = self.settings.now();
            let mut map = self.lock();
            let batch: Vec<StorageKey> = map
                .map
                .iter()
                .filter(|(_, e)| e.expires_at <= now)
                .map(|(k, _)| *k)
                .take(SWEEP_BATCH)
                .collect();
            for k in &batch {
                map.remove(k);
            }
            drop(map);
            removed += batch.len() as u64;
            if batch.len() < SWEEP_BATCH {
                return Ok(removed);
            }
        }
    }

    async fn count(&self) -> Result<u64> {
        let now = self.settings.now();
        Ok(self
            .lock()
            .map
            .values()
            .filter(|e| e.expires_at > now)
            .count() as u64)
    }

    /// Pages in storage-key order; the cursor is the last key's hex. Each page sorts
    /// the keys after the cursor, which is fine for a development store.
    async fn scan(&self, cursor: Option<ScanCursor>, limit: usize) -> Result<ScanPage> {
        let after = match &cursor {
            None => None,
            Some(c) => Some(
                StorageKey::from_hex(c.as_str())
                    .ok_or_else(|| Error::Config("not a MemoryStore scan cursor".into()))?,
            ),
        };
        let limit = limit.max(1);
        let mut page: Vec<ScanEntry> = self
            .lock()
            .map
            .iter()
            .filter(|(k, _)| after.is_none_or(|a| **k > a))
            .map(|(k, e)| ScanEntry::new(*k, Some(e.expires_at), e.bytes.len() as u64))
            .collect();
        page.sort_unstable_by_key(|e| e.key);
        let more = page.len() > limit;
        page.truncate(limit);
        let next = match page.last() {
            Some(last) if more => Some(ScanCursor::new(last.key.to_hex())),
            _ => None,
        };
        Ok(ScanPage::new(page, next))
    }

    async fn delete_keys(&self, keys: &[StorageKey], only: DeleteIf) -> Result<u64> {
        let now = self.settings.now();
        let mut map = self.lock();
        let mut removed = 0u64;
        for key in keys {
            let doomed = match (map.get(key), only) {
                (None, _) => false,
                (Some(_), DeleteIf::Any) => true,
                (Some(e), _) => e.expires_at <= now,
            };
            if doomed && map.remove(key).is_some() {
                removed += 1;
            }
        }
        Ok(removed)
    }

    async fn sessions_of(
        &self,
        user: &UserKey,
        cursor: Option<ScanCursor>,
        limit: usize,
    ) -> Result<UserSessionsPage> {
        let after = UserSessionsPage::resume_after(cursor.as_ref())?;
        let limit = limit.max(1);
        let now = self.settings.now();
        // One more than the page, to know whether another follows.
        let live: Vec<(StorageKey, Vec<u8>)> = {
            let inner = self.lock();
            let Some(keys) = inner.users.get(user) else {
                return Ok(UserSessionsPage::default());
            };
            let from = match after {
                Some(a) => std::ops::Bound::Excluded(a),
                None => std::ops::Bound::Unbounded,
            };
            keys.range((from, std::ops::Bound::Unbounded))
                .filter_map(|k| {
                    let e = inner.map.get(k).filter(|e| e.expires_at > now)?;
                    Some((*k, e.bytes.clone()))
                })
                .take(limit + 1)
                .collect()
        };
        let sessions = live
            .iter()
            .map(|(key, bytes)| UserSession::decode(*key, bytes).map(|(entry, _)| entry))
            .collect::<Result<Vec<_>>>()?;
        Ok(UserSessionsPage::first(sessions, limit))
    }

    async fn revoke_user(&self, user: &UserKey, except: Option<&StorageKey>) -> Result<u64> {
        let now = self.settings.now();
        let mut inner = self.lock();
        let keys: Vec<StorageKey> = match inner.users.get(user) {
            Some(keys) => keys
                .iter()
                .filter(|k| Some(*k) != except)
                .copied()
                .collect(),
            None => return Ok(0),
        };
        let mut removed = 0;
        for key in keys {
            if inner.remove(&key).is_some_and(|e| e.expires_at > now) {
                removed += 1;
            }
        }
        Ok(removed)
    }

    async fn revoke_session(&self, user: &UserKey, key: &StorageKey) -> Result<bool> {
        let now = self.settings.now();
        let mut inner = self.lock();
        match inner.get(key) {
            Some(e) if e.user.as_ref() == Some(user) => {
                Ok(inner.remove(key).is_some_and(|e| e.expires_at > now))
            }
            _ => Ok(false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Data, Value, DEFAULT_MAX_RECORD_SIZE};

    /// A record whose MessagePack envelope is exactly `size` bytes.
    fn record_of_size(size: usize) -> Record {
        let make = |n: usize| {
            let mut data = Data::new();
            data.insert("note".into(), Value::String("x".repeat(n)));
            Record::new(
                SessionId::generate(),
                data,
                Timestamp::from_millis(0),
                Timestamp::from_millis(i64::MAX),
            )
        };
        let len = |r: &Record| Codec::MessagePack.encode(r).map(|b| b.len()).unwrap_or(0);
        let mut n = size;
        let mut r = make(n);
        while len(&r) > size {
            n -= len(&r) - size;
            r = make(n);
        }
        assert_eq!(len(&r), size);
        r
    }

    #[tokio::test]
    async fn default_limit_refuses_a_record_just_over_it_and_writes_nothing() {
        let store = MemoryStore::new();
        assert_eq!(
            store.capabilities().max_record_size,
            Some(DEFAULT_MAX_RECORD_SIZE)
        );
        let at = record_of_size(DEFAULT_MAX_RECORD_SIZE);
        store.create(&at).await.unwrap();
        let over = record_of_size(DEFAULT_MAX_RECORD_SIZE + 1);
        match store.create(&over).await {
            Err(Error::TooLarge { limit, size }) => {
                assert_eq!((limit, size), (DEFAULT_MAX_RECORD_SIZE, limit + 1))
            }
            other => panic!("{other:?}"),
        }
        assert!(store.load(&over.id.to_string()).await.unwrap().is_none());
        let mut grown = over.clone();
        grown.id = at.id;
        assert!(matches!(
            store.save(&grown, at.version).await,
            Err(Error::TooLarge { .. })
        ));
        assert_eq!(store.load(&at.id.to_string()).await.unwrap(), Some(at));
        assert_eq!(store.count().await.unwrap(), 1);
    }

    #[tokio::test]
    async fn none_lifts_the_limit() {
        let store =
            MemoryStore::new().with_settings(StoreSettings::new().with_max_record_size(None));
        assert_eq!(store.capabilities().max_record_size, None);
        let over = record_of_size(DEFAULT_MAX_RECORD_SIZE + 1);
        store.create(&over).await.unwrap();
        assert_eq!(store.load(&over.id.to_string()).await.unwrap(), Some(over));
    }
}
