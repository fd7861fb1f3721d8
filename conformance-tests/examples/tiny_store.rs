//! A third-party store written against the public API only, passing the suite.
//!
//! `LogStore` keeps an append-only log of writes and tombstones; the newest entry for
//! a key wins. It is deliberately modest: no compare-and-set (last writer wins), no
//! enumeration, a small size limit. The suite checks that it says so and behaves
//! accordingly (`Unsupported` where a capability is missing).
//!
//! Run its conformance tests with `cargo test -p session-conformance --example tiny_store`.

use std::sync::Mutex;

use async_trait::async_trait;
use session_core::{
    Capabilities, Clock, Codec, Error, Record, Result, SessionId, SessionStore, StorageKey,
    StoreSettings, Timestamp,
};

/// One log entry: a write (with its deadline) or a tombstone.
struct Entry {
    key: StorageKey,
    write: Option<(Timestamp, Vec<u8>)>,
}

/// An append-only, newest-wins session log.
pub struct LogStore {
    log: Mutex<Vec<Entry>>,
    /// Codec, size limit and clock: session-core's one size-limited encoder.
    settings: StoreSettings,
}

const LIMIT: usize = 8 * 1024;

impl LogStore {
    /// An empty log on `clock`, refusing records over [`LIMIT`].
    pub fn new(clock: Clock) -> Self {
        LogStore {
            log: Mutex::new(Vec::new()),
            settings: StoreSettings::new()
                .with_clock(clock)
                .with_max_record_size(Some(LIMIT)),
        }
    }

    /// The raw log, for the suite's privacy check.
    pub fn dump(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        self.entries()
            .iter()
            .map(|e| {
                let value = e.write.as_ref().map(|(_, b)| b.clone()).unwrap_or_default();
                (e.key.to_hex().into_bytes(), value)
            })
            .collect()
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, Vec<Entry>> {
        self.log.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The newest live write for `key`, if any.
    fn live(log: &[Entry], key: &StorageKey, now: Timestamp) -> Option<Vec<u8>> {
        let newest = log.iter().rev().find(|e| &e.key == key)?;
        match &newest.write {
            Some((deadline, bytes)) if *deadline > now => Some(bytes.clone()),
            _ => None,
        }
    }

    fn append(&self, record: &Record, bytes: Vec<u8>) {
        self.entries().push(Entry {
            key: record.id.storage_key(),
            write: Some((record.expires_at, bytes)),
        });
    }
}

#[async_trait]
impl SessionStore for LogStore {
    fn capabilities(&self) -> Capabilities {
        Capabilities::new().with_max_record_size(self.settings.max_record_size())
    }

    async fn load(&self, cookie_value: &str) -> Result<Option<Record>> {
        let Ok(id) = SessionId::parse(cookie_value) else {
            return Ok(None);
        };
        let bytes = Self::live(&self.entries(), &id.storage_key(), self.settings.now());
        bytes.map(|b| Codec::decode(id, &b)).transpose()
    }

    async fn create(&self, record: &Record) -> Result<String> {
        let bytes = self.settings.encode(record)?;
        let mut log = self.entries();
        if Self::live(&log, &record.id.storage_key(), self.settings.now()).is_some() {
            return Err(Error::Collision);
        }
        log.push(Entry {
            key: record.id.storage_key(),
            write: Some((record.expires_at, bytes)),
        });
        Ok(record.id.to_string())
    }

    async fn save(&self, record: &Record, _expected_version: u64) -> Result<String> {
        let bytes = self.settings.encode(record)?;
        let now = self.settings.now();
        if Self::live(&self.entries(), &record.id.storage_key(), now).is_none() {
            return Err(Error::NotFound);
        }
        self.append(record, bytes);
        Ok(record.id.to_string())
    }

    async fn touch(&self, record: &Record) -> Result<String> {
        let now = self.settings.now();
        let Some(bytes) = Self::live(&self.entries(), &record.id.storage_key(), now) else {
            return Err(Error::NotFound);
        };
        let mut stored = Codec::decode(record.id, &bytes)?;
        stored.accessed_at = record.accessed_at;
        stored.expires_at = record.expires_at;
        let bytes = self.settings.encode(&stored)?;
        self.append(&stored, bytes);
        Ok(record.id.to_string())
    }

    async fn delete(&self, id: &SessionId) -> Result<()> {
        self.entries().push(Entry {
            key: id.storage_key(),
            write: None,
        });
        Ok(())
    }
}

fn main() {
    println!("LogStore is exercised by `cargo test -p session-conformance --example tiny_store`.");
}

#[cfg(test)]
mod conformance {
    use std::sync::Arc;

    use super::LogStore;
    use session_conformance::{suite, Fixture};

    suite!(
        log_store,
        fixture = |clock| async move {
            let store = Arc::new(LogStore::new(clock));
            let view = store.clone();
            Fixture::new(store).with_raw_dump(move || {
                let view = view.clone();
                async move { view.dump() }
            })
        }
    );
}
