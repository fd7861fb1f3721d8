//! Beaker's memory backend: sessions in a map inside the process.

use std::collections::{BTreeSet, HashMap};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;

use crate::{
    Capabilities, Codec, DeleteIf, Error, Record, Result, ScanCursor, ScanEntry, ScanPage,
    SessionId, SessionStore, StorageKey, StoreSettings, Timestamp, UserKey, UserSession,
    UserSessionsPage,
};

/// How many expired records `delete_expired` removes per lock acquisition, so a large
/// sweep does not stall every request behind one long critical section.
const SWEEP_BATCH: usize = 1024;

/// One stored session: its envelope as last written, and beside it what a touch
/// changes, as session-redis keeps a header beside the value. A touch then writes two
/// fields instead of decoding and re-encoding the whole record, and a load patches
/// them into what it decodes.
struct Entry {
    version: u64,
    accessed_at: Timestamp,
    expires_at: Timestamp,
    user: Option<UserKey>,
    /// Shared so that a load copies a pointer, not the record, while it holds the
    /// lock; the bytes are never changed in place, so sharing them cannot alias what a
    /// caller gets (each load decodes a fresh record).
    bytes: Arc<Vec<u8>>,
}

/// Hashes a [`StorageKey`] by its first eight bytes. The key is a SHA-256 output, so
/// those bytes are already uniform, and nobody can aim keys at one bucket: stored keys
/// are hashes of ids the server generated (contract rule 7), so a client choosing the
/// ids it sends can only probe buckets, never fill one. SipHash over all 32 bytes cost
/// more than the lookup itself.
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut word = [0u8; 8];
        let n = bytes.len().min(8);
        word[..n].copy_from_slice(&bytes[..n]);
        self.0 ^= u64::from_le_bytes(word);
    }

    /// `[u8; 32]` hashes its length first, the same for every key.
    fn write_usize(&mut self, _len: usize) {}
}

type KeyMap<V> = HashMap<StorageKey, V, BuildHasherDefault<KeyHasher>>;

/// The records and the user index, under one lock, so the index is exact.
#[derive(Default)]
struct Inner {
    map: KeyMap<Entry>,
    users: HashMap<UserKey, BTreeSet<StorageKey>>,
}

impl Inner {
    fn get(&self, key: &StorageKey) -> Option<&Entry> {
        self.map.get(key)
    }

    /// Stores `entry`, answering the entry it replaced so the caller can drop it
    /// after releasing the lock.
    fn insert(&mut self, key: StorageKey, entry: Entry) -> Option<Entry> {
        let user = entry.user;
        let old = self.map.insert(key, entry);
        if let Some(old) = &old {
            if old.user != user {
                self.unindex(old.user, &key);
            }
        }
        if let Some(user) = user {
            self.users.entry(user).or_default().insert(key);
        }
        old
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
    /// Used by the conformance suite to check that no raw id is stored. A value is the
    /// envelope as last saved: a touch since then moved only the deadline and access
    /// time kept beside it.
    pub fn raw_entries(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        self.lock()
            .map
            .iter()
            .map(|(k, e)| (k.to_hex().into_bytes(), e.bytes.to_vec()))
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
            accessed_at: record.accessed_at,
            expires_at: record.expires_at,
            user: record.user_key(),
            bytes: Arc::new(bytes),
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
    fn backend(&self) -> &'static str {
        "memory"
    }

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
        let key = id.storage_key();
        let now = self.settings.now();
        let (bytes, accessed_at, expires_at) = match self.lock().get(&key) {
            Some(e) if e.expires_at > now => (e.bytes.clone(), e.accessed_at, e.expires_at),
            _ => return Ok(None),
        };
        let mut record = Codec::decode(id, &bytes)?;
        record.accessed_at = accessed_at;
        record.expires_at = expires_at;
        Ok(Some(record))
    }

    async fn create(&self, record: &Record) -> Result<String> {
        let entry = self.encode(record)?;
        let key = record.id.storage_key();
        let now = self.settings.now();
        let mut map = self.lock();
        match map.get(&key) {
            // An expired leftover does not block the id; it is garbage.
            Some(e) if e.expires_at > now => Err(Error::Collision),
            _ => {
                let old = map.insert(key, entry);
                drop(map);
                drop(old);
                Ok(record.id.to_string())
            }
        }
    }

    async fn save(&self, record: &Record, expected_version: u64) -> Result<String> {
        let entry = self.encode(record)?;
        let key = record.id.storage_key();
        let now = self.settings.now();
        let mut map = self.lock();
        match map.get(&key) {
            Some(e) if e.expires_at > now => {
                if e.version != expected_version {
                    return Err(Error::Conflict);
                }
            }
            _ => return Err(Error::NotFound),
        }
        let old = map.insert(key, entry);
        drop(map);
        drop(old);
        Ok(record.id.to_string())
    }

    async fn touch(&self, record: &Record) -> Result<String> {
        let now = self.settings.now();
        let key = record.id.storage_key();
        let mut map = self.lock();
        let Some(entry) = map.map.get_mut(&key).filter(|e| e.expires_at > now) else {
            return Err(Error::NotFound);
        };
        // Only the deadline and atime of what is stored, never its data or version, so
        // a touch racing a save cannot roll the save back.
        entry.accessed_at = record.accessed_at;
        entry.expires_at = record.expires_at;
        Ok(record.id.to_string())
    }

    async fn delete(&self, id: &SessionId) -> Result<()> {
        let key = id.storage_key();
        let old = self.lock().remove(&key);
        drop(old);
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
        let live: Vec<(StorageKey, Arc<Vec<u8>>, Timestamp, Timestamp)> = {
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
                    Some((*k, e.bytes.clone(), e.accessed_at, e.expires_at))
                })
                .take(limit + 1)
                .collect()
        };
        let sessions = live
            .iter()
            .map(|(key, bytes, accessed_at, expires_at)| {
                let (mut entry, _) = UserSession::decode(*key, bytes)?;
                entry.accessed_at = *accessed_at;
                entry.expires_at = *expires_at;
                Ok(entry)
            })
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

    /// A touch moves the deadline and access time kept beside the envelope: loads,
    /// expiry and listings see them, the stored envelope and version stay as saved, and
    /// a later save replaces both.
    #[tokio::test]
    async fn touch_moves_only_the_times_beside_the_envelope() {
        let clock = crate::ManualClock::at(Timestamp::from_millis(1_000));
        let store =
            MemoryStore::new().with_settings(StoreSettings::new().with_clock(clock.clone()));
        let user = crate::UserBinding::new("ada@example.com").unwrap();
        let mut record = record_of_size(200)
            .with_created_at(Timestamp::from_millis(1_000))
            .with_accessed_at(Timestamp::from_millis(1_000))
            .with_expires_at(Timestamp::from_millis(10_000))
            .with_user(Some(user.clone()));
        store.create(&record).await.unwrap();
        let saved = store.raw_entries();

        let mut touched = record.clone();
        touched.accessed_at = Timestamp::from_millis(5_000);
        touched.expires_at = Timestamp::from_millis(20_000);
        // Data in the touched record is not written: a touch never rolls data back.
        touched.data.insert("stale".into(), Value::Bool(true));
        store.touch(&touched).await.unwrap();
        assert_eq!(store.raw_entries(), saved);

        clock.set(Timestamp::from_millis(15_000));
        let loaded = store.load(&record.id.to_string()).await.unwrap().unwrap();
        assert_eq!(loaded.accessed_at, Timestamp::from_millis(5_000));
        assert_eq!(loaded.expires_at, Timestamp::from_millis(20_000));
        assert_eq!(loaded.version, record.version);
        assert_eq!(loaded.data, record.data);
        let page = store.sessions_of(&user.user_key(), None, 10).await.unwrap();
        assert_eq!(page.sessions.len(), 1);
        assert_eq!(page.sessions[0].accessed_at, Timestamp::from_millis(5_000));
        assert_eq!(page.sessions[0].expires_at, Timestamp::from_millis(20_000));

        // A save still checks the version, and its own times replace the touched ones.
        let expected = record.version;
        record.version += 1;
        record.accessed_at = Timestamp::from_millis(15_000);
        record.expires_at = Timestamp::from_millis(16_000);
        assert!(matches!(
            store.save(&record, expected + 5).await,
            Err(Error::Conflict)
        ));
        store.save(&record, expected).await.unwrap();
        assert_eq!(
            store.load(&record.id.to_string()).await.unwrap(),
            Some(record.clone())
        );
        clock.set(Timestamp::from_millis(16_000));
        assert_eq!(store.load(&record.id.to_string()).await.unwrap(), None);
        assert!(matches!(store.touch(&touched).await, Err(Error::NotFound)));
    }

    /// Loads hand out fresh records: changing one changes neither the store nor the
    /// next load.
    #[tokio::test]
    async fn a_loaded_record_never_aliases_the_stored_one() {
        let store = MemoryStore::new();
        let record = record_of_size(300);
        store.create(&record).await.unwrap();
        let id = record.id.to_string();
        let mut first = store.load(&id).await.unwrap().unwrap();
        first
            .data
            .insert("note".into(), Value::String("changed".into()));
        assert_eq!(store.load(&id).await.unwrap(), Some(record));
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
