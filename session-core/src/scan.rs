//! Enumerating a store: a paged walk over every stored record (expired ones included)
//! by storage key, and deletion by storage key, for admin tools (`session-admin`'s
//! `gc`, `stats` and `purge`).
//!
//! A scan never yields a session id: server stores hold only the
//! [`StorageKey`](crate::StorageKey) (contract rule 7), so that is what a scan shows and
//! what [`SessionStore::delete_keys`](crate::SessionStore::delete_keys) takes.

use std::fmt;

use crate::{StorageKey, Timestamp};

/// Where the next page of a scan starts: opaque text only the store that made it
/// understands (a key, a server-side cursor). Pass it back unchanged, to the same store.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ScanCursor(String);

impl ScanCursor {
    /// A cursor holding `token`. For store implementations.
    pub fn new(token: impl Into<String>) -> Self {
        ScanCursor(token.into())
    }

    /// The token, for the store that made it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ScanCursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ScanCursor({:?})", self.0)
    }
}

/// One stored record as a scan sees it, without decoding its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ScanEntry {
    /// The key the record is stored under (SHA-256 of its id; never the id).
    pub key: StorageKey,
    /// The record's deadline, or `None` when the stored bytes are in a layout the store
    /// cannot read (a newer format, damage). Such a record is never deleted as expired.
    pub expires_at: Option<Timestamp>,
    /// The record's stored size in bytes, as the backend holds it (envelope plus any
    /// per-record header the backend adds).
    pub size: u64,
}

impl ScanEntry {
    /// An entry for the record under `key`.
    pub fn new(key: StorageKey, expires_at: Option<Timestamp>, size: u64) -> Self {
        ScanEntry {
            key,
            expires_at,
            size,
        }
    }

    /// Whether the record is past its deadline at `now` (never, for an unreadable
    /// deadline).
    pub fn is_expired(&self, now: Timestamp) -> bool {
        self.expires_at.is_some_and(|deadline| deadline <= now)
    }
}

/// One page of a scan.
///
/// Walking a whole store and deleting what has expired:
///
/// ```
/// use session_core::{DeleteIf, MemoryStore, Record, SessionId, SessionStore, Timestamp};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let store = MemoryStore::new();
/// let now = Timestamp::from_system(std::time::SystemTime::now());
/// let gone = now.saturating_sub(std::time::Duration::from_secs(60));
/// store.create(&Record::new(SessionId::generate(), Default::default(), gone, gone)).await?;
///
/// // Walk every page; delete what has expired.
/// let mut cursor = None;
/// let mut removed = 0;
/// loop {
///     let page = store.scan(cursor, 100).await?;
///     let expired: Vec<_> = page
///         .entries
///         .iter()
///         .filter(|e| e.is_expired(now))
///         .map(|e| e.key)
///         .collect();
///     removed += store.delete_keys(&expired, DeleteIf::Expired).await?;
///     match page.next {
///         Some(next) => cursor = Some(next),
///         None => break,
///     }
/// }
/// assert_eq!(removed, 1);
/// # Ok::<(), session_core::Error>(())
/// # }).unwrap();
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ScanPage {
    /// The records on this page. May be empty while `next` is `Some`.
    pub entries: Vec<ScanEntry>,
    /// Where the next page starts; `None` when the walk is complete.
    pub next: Option<ScanCursor>,
}

impl ScanPage {
    /// A page of `entries`, followed by `next` if the walk goes on.
    pub fn new(entries: Vec<ScanEntry>, next: Option<ScanCursor>) -> Self {
        ScanPage { entries, next }
    }
}

/// Which of the named records [`SessionStore::delete_keys`](crate::SessionStore::delete_keys)
/// removes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DeleteIf {
    /// Every named record that exists.
    Any,
    /// Only named records that have expired by the store's clock when the deletion
    /// runs, checked per record atomically with its removal: a record extended or
    /// re-created since it was scanned survives.
    Expired,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SessionId;

    #[test]
    fn expiry_of_an_entry() {
        let key = SessionId::generate().storage_key();
        let t = Timestamp::from_millis;
        assert!(ScanEntry::new(key, Some(t(10)), 1).is_expired(t(10)));
        assert!(!ScanEntry::new(key, Some(t(11)), 1).is_expired(t(10)));
        assert!(!ScanEntry::new(key, None, 1).is_expired(Timestamp::MAX));
        assert_eq!(ScanCursor::new("abc").as_str(), "abc");
        assert_eq!(ScanPage::default().next, None);
    }
}
