//! Sessions by user (contract rule 12): the user a session is bound to, the key a
//! store's user index files it under, and what a listing of a user's sessions shows.
//!
//! An app binds a session to the user who logged in
//! ([`Session::bind_user`](crate::Session::bind_user)); stores with
//! [`Capabilities::user_index`](crate::Capabilities::user_index) then list that user's
//! live sessions ([`SessionStore::sessions_of`](crate::SessionStore::sessions_of)), end
//! one of them ([`SessionStore::revoke_session`](crate::SessionStore::revoke_session)) or
//! all of them ([`SessionStore::revoke_user`](crate::SessionStore::revoke_user)).
//!
//! The binding itself (user id, auth hash, label) lives in the record, inside the
//! envelope, on every store, so [`Session::user`](crate::Session::user) and the
//! auth-hash check ([`Session::verify_user`](crate::Session::verify_user)) work
//! everywhere, the cookie store and memcached included. Only the index, which finds a
//! user's sessions without reading every record, needs the capability. Index keys are a
//! [`UserKey`], a SHA-256 of the user id, so a listing of the index (Redis `KEYS`, an SQL
//! column, a directory) does not show who the users are.

use std::fmt;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::{Error, Record, Result, ScanCursor, StorageKey, Timestamp};

/// The longest user id [`UserBinding::new`] accepts, in bytes. An email address is at
/// most 254; a UUID 36.
pub const MAX_USER_ID_LEN: usize = 512;
/// The longest auth hash or label a binding accepts, in bytes.
pub const MAX_USER_FIELD_LEN: usize = 512;

/// What a user's index is keyed by: a domain-separated SHA-256 of the user id.
///
/// ```
/// use session_core::UserKey;
///
/// let key = UserKey::of("ada@example.com");
/// assert_eq!(key, UserKey::of("ada@example.com"));
/// assert_ne!(key, UserKey::of("bob@example.com"));
/// assert!(!key.to_hex().contains("ada"));
/// assert_eq!(UserKey::from_hex(&key.to_hex()), Some(key));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserKey([u8; 32]);

impl UserKey {
    /// The key of user `user_id`.
    pub fn of(user_id: &str) -> Self {
        let digest = Sha256::new()
            .chain_update(b"session-core/user-key/v1\0")
            .chain_update(user_id.as_bytes())
            .finalize();
        UserKey(digest.into())
    }

    /// The 32 digest bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// A key from its 32 digest bytes, for stores that keep keys in binary form.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        UserKey(bytes)
    }

    /// Lower-case hex, 64 characters: safe as a file name, SQL value or Redis key.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses the hex form back.
    pub fn from_hex(text: &str) -> Option<Self> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(text, &mut out).ok()?;
        Some(UserKey(out))
    }
}

impl fmt::Display for UserKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for UserKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "UserKey({})", self.to_hex())
    }
}

/// The user a session is bound to, as stored with the record.
///
/// - `user_id`: the app's id for the user (opaque text: a number, an email, a UUID).
/// - `auth_hash`: optional; something that changes when the user's credentials do
///   (Django's `get_session_auth_hash`: an HMAC of the password hash). After a password
///   change, [`Session::verify_user`](crate::Session::verify_user) ends every session
///   that was bound under the old hash on its next request, with no store walk. Pass an
///   HMAC, never the password hash itself: the binding is stored in the record.
/// - `label`: optional, shown in listings ("Firefox on Linux").
///
/// ```
/// use session_core::UserBinding;
///
/// let binding = UserBinding::new("42")?
///     .with_auth_hash("hmac-of-the-password-hash")?
///     .with_label("Firefox on Linux")?;
/// assert_eq!(binding.user_id(), "42");
/// assert!(binding.auth_hash_matches("hmac-of-the-password-hash"));
/// assert!(!binding.auth_hash_matches("another"));
/// # Ok::<(), session_core::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct UserBinding {
    user_id: String,
    auth_hash: Option<String>,
    label: Option<String>,
}

impl UserBinding {
    /// A binding to `user_id`, with no auth hash and no label.
    ///
    /// An empty id, or one longer than [`MAX_USER_ID_LEN`] bytes, is
    /// [`Error::Value`].
    pub fn new(user_id: impl Into<String>) -> Result<Self> {
        let user_id = user_id.into();
        if user_id.is_empty() {
            return Err(field_error("user_id", "is empty".into()));
        }
        check_len("user_id", &user_id, MAX_USER_ID_LEN)?;
        Ok(UserBinding {
            user_id,
            auth_hash: None,
            label: None,
        })
    }

    /// The same binding with an auth hash (at most [`MAX_USER_FIELD_LEN`] bytes).
    pub fn with_auth_hash(mut self, hash: impl Into<String>) -> Result<Self> {
        let hash = hash.into();
        check_len("auth_hash", &hash, MAX_USER_FIELD_LEN)?;
        self.auth_hash = Some(hash);
        Ok(self)
    }

    /// The same binding with a label (at most [`MAX_USER_FIELD_LEN`] bytes).
    pub fn with_label(mut self, label: impl Into<String>) -> Result<Self> {
        let label = label.into();
        check_len("label", &label, MAX_USER_FIELD_LEN)?;
        self.label = Some(label);
        Ok(self)
    }

    /// The app's id for the user.
    pub fn user_id(&self) -> &str {
        &self.user_id
    }

    /// The key the user's index is filed under.
    pub fn user_key(&self) -> UserKey {
        UserKey::of(&self.user_id)
    }

    /// The auth hash given at binding, if any.
    pub fn auth_hash(&self) -> Option<&str> {
        self.auth_hash.as_deref()
    }

    /// The label given at binding, if any.
    pub fn label(&self) -> Option<&str> {
        self.label.as_deref()
    }

    /// Whether the stored auth hash equals `current`, compared in constant time. A
    /// binding without an auth hash matches nothing (as in Django: a session that never
    /// recorded a hash does not pass the check).
    pub fn auth_hash_matches(&self, current: &str) -> bool {
        self.auth_hash
            .as_deref()
            .is_some_and(|stored| bool::from(stored.as_bytes().ct_eq(current.as_bytes())))
    }

    /// A binding read back from stored bytes: the same limits as [`UserBinding::new`],
    /// reported as [`Error::Corrupt`]. For the codec and for stores.
    pub(crate) fn from_stored(
        user_id: String,
        auth_hash: Option<String>,
        label: Option<String>,
    ) -> Result<Self> {
        let corrupt = |e: Error| Error::Corrupt(format!("stored user binding: {e}"));
        let mut b = UserBinding::new(user_id).map_err(corrupt)?;
        if let Some(h) = auth_hash {
            b = b.with_auth_hash(h).map_err(corrupt)?;
        }
        if let Some(l) = label {
            b = b.with_label(l).map_err(corrupt)?;
        }
        Ok(b)
    }
}

/// The user id is kept out of `Debug` output (logs): only its key shows.
impl fmt::Debug for UserBinding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserBinding")
            .field("user_key", &self.user_key())
            .field("auth_hash", &self.auth_hash.as_ref().map(|_| "…"))
            .field("label", &self.label)
            .finish()
    }
}

fn check_len(field: &str, value: &str, max: usize) -> Result<()> {
    if value.len() > max {
        return Err(field_error(
            field,
            format!("is {} bytes, the limit is {max}", value.len()),
        ));
    }
    Ok(())
}

fn field_error(field: &str, message: String) -> Error {
    Error::Value {
        key: field.to_owned(),
        message: format!("the user binding's {field} {message}"),
    }
}

/// One of a user's sessions, as [`SessionStore::sessions_of`](crate::SessionStore::sessions_of)
/// lists it: never the session id (only its storage key), so a listing shown to the
/// user, or to an admin, cannot be replayed as a cookie.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UserSession {
    /// The key the session is stored under; what
    /// [`revoke_session`](crate::SessionStore::revoke_session) takes.
    pub key: StorageKey,
    /// When the session was created.
    pub created_at: Timestamp,
    /// When it was last written or touched.
    pub accessed_at: Timestamp,
    /// When it ends unless it is used again.
    pub expires_at: Timestamp,
    /// The label given at binding.
    pub label: Option<String>,
}

impl UserSession {
    /// The listing entry of `record`.
    pub fn of(record: &Record) -> Self {
        UserSession {
            key: record.id.storage_key(),
            created_at: record.created_at,
            accessed_at: record.accessed_at,
            expires_at: record.expires_at,
            label: record.user.as_ref().and_then(|u| u.label.clone()),
        }
    }

    /// The listing entry of the stored envelope `bytes` under `key`, with the key of
    /// the user the record is bound to (`None`: unbound). For stores that find a user's
    /// sessions through an index and read the records to list them (and to check that
    /// each still belongs to the user). Bytes that do not decode are
    /// [`Error::Corrupt`].
    pub fn decode(key: StorageKey, bytes: &[u8]) -> Result<(Self, Option<UserKey>)> {
        // The envelope never holds the id (rule 7) and a listing never shows it, so any
        // id serves to decode.
        let record = crate::Codec::decode(crate::SessionId::from_bytes([0; 32]), bytes)?;
        let user = record.user_key();
        let mut entry = UserSession::of(&record);
        entry.key = key;
        Ok((entry, user))
    }

    /// An entry from its parts, for stores that keep them outside the record.
    pub fn new(
        key: StorageKey,
        created_at: Timestamp,
        accessed_at: Timestamp,
        expires_at: Timestamp,
        label: Option<String>,
    ) -> Self {
        UserSession {
            key,
            created_at,
            accessed_at,
            expires_at,
            label,
        }
    }
}

/// One page of a user's sessions.
///
/// Pages come in storage-key order. Start with cursor `None`, then pass each page's
/// `next` until it is `None`. Like a scan it is not a snapshot: a session live for the
/// whole walk appears exactly once; one created, revoked or expiring during it may or may
/// not.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct UserSessionsPage {
    /// This page's live sessions of the user.
    pub sessions: Vec<UserSession>,
    /// Where the next page starts; `None` when the listing is complete.
    pub next: Option<ScanCursor>,
}

impl UserSessionsPage {
    /// A page of `sessions`, followed by `next` if the listing goes on.
    pub fn new(sessions: Vec<UserSession>, next: Option<ScanCursor>) -> Self {
        UserSessionsPage { sessions, next }
    }

    /// The page of at most `limit` entries of `sessions` (any order; sorted here by
    /// key) after the cursor's key, with the cursor of the next page: for stores that
    /// gather a user's sessions in memory and page them here. The cursor is the last
    /// key's hex; anything else is [`Error::Config`].
    pub fn paged(
        mut sessions: Vec<UserSession>,
        cursor: Option<&ScanCursor>,
        limit: usize,
    ) -> Result<Self> {
        let after = Self::resume_after(cursor)?;
        sessions.retain(|s| after.is_none_or(|a| s.key > a));
        sessions.sort_unstable_by_key(|s| s.key);
        Ok(Self::first(sessions, limit))
    }

    /// The page of the first `limit` (at least one) of `sessions`, which are in key
    /// order: a store fetches one more than the page, and that extra entry says another
    /// page follows.
    pub fn first(mut sessions: Vec<UserSession>, limit: usize) -> Self {
        let limit = limit.max(1);
        let more = sessions.len() > limit;
        sessions.truncate(limit);
        Self::with_more(sessions, more)
    }

    /// The page of `sessions` (in key order), with a cursor after the last one if
    /// `more` follow.
    pub fn with_more(sessions: Vec<UserSession>, more: bool) -> Self {
        let next = match sessions.last() {
            Some(last) if more => Some(ScanCursor::new(last.key.to_hex())),
            _ => None,
        };
        UserSessionsPage::new(sessions, next)
    }

    /// The storage key a key-ordered cursor resumes after (`None`: from the start).
    /// A cursor this form did not make is [`Error::Config`].
    pub fn resume_after(cursor: Option<&ScanCursor>) -> Result<Option<StorageKey>> {
        cursor.map(Self::cursor_key).transpose()
    }

    /// The storage key a key-ordered cursor holds ([`UserSessionsPage::paged`]'s form).
    pub fn cursor_key(cursor: &ScanCursor) -> Result<StorageKey> {
        StorageKey::from_hex(cursor.as_str())
            .ok_or_else(|| Error::Config("not a user-sessions cursor".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SessionId;

    #[test]
    fn binding_limits() {
        assert!(matches!(UserBinding::new(""), Err(Error::Value { .. })));
        assert!(UserBinding::new("a".repeat(MAX_USER_ID_LEN)).is_ok());
        assert!(UserBinding::new("a".repeat(MAX_USER_ID_LEN + 1)).is_err());
        let b = UserBinding::new("u").unwrap();
        assert!(b
            .clone()
            .with_label("x".repeat(MAX_USER_FIELD_LEN + 1))
            .is_err());
        assert!(b
            .clone()
            .with_auth_hash("x".repeat(MAX_USER_FIELD_LEN + 1))
            .is_err());
        assert!(!b.auth_hash_matches(""));
        assert!(!format!("{b:?}").contains("\"u\""));
    }

    #[test]
    fn paging_in_key_order() {
        let t = Timestamp::from_millis(1);
        let all: Vec<UserSession> = (0..5)
            .map(|_| UserSession::new(SessionId::generate().storage_key(), t, t, t, None))
            .collect();
        let mut seen = Vec::new();
        let mut cursor = None;
        loop {
            let page = UserSessionsPage::paged(all.clone(), cursor.as_ref(), 2).unwrap();
            assert!(page.sessions.len() <= 2);
            seen.extend(page.sessions.iter().map(|s| s.key));
            match page.next {
                Some(n) => cursor = Some(n),
                None => break,
            }
        }
        let mut want: Vec<_> = all.iter().map(|s| s.key).collect();
        want.sort();
        assert_eq!(seen, want);
        assert!(UserSessionsPage::paged(all, Some(&ScanCursor::new("zz")), 2).is_err());
    }
}
