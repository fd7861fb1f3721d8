//! The stored form of a session.

use std::collections::BTreeMap;

use crate::{SessionExpiry, SessionId, Timestamp, UserBinding};

/// A session's data: string keys to serde values.
///
/// A `BTreeMap` so the encoded form is deterministic (equal data, equal bytes).
pub type Data = BTreeMap<String, serde_json::Value>;

/// One session as stores keep it.
///
/// `#[non_exhaustive]`: a record gains fields as the format evolves (per-session expiry
/// did; contract rule 8), so code outside this crate builds one with [`Record::new`] and
/// the `with_*` methods, and reads or sets the public fields.
///
/// ```
/// use session_core::{Data, Record, SessionId, Timestamp};
///
/// let now = Timestamp::from_millis(1_000);
/// let record = Record::new(SessionId::generate(), Data::new(), now, Timestamp::MAX)
///     .with_version(3);
/// assert_eq!(record.version, 3);
/// assert_eq!(record.expiry, None); // the layer's expiry applies
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Record {
    /// The session id. Server stores never write it; they key by
    /// [`SessionId::storage_key`] and get it back from the caller on load.
    pub id: SessionId,
    /// The session's key/value data.
    pub data: Data,
    /// When the session was first written.
    pub created_at: Timestamp,
    /// When the session was last written or touched (the DBStore `atime`).
    pub accessed_at: Timestamp,
    /// The instant after which the record no longer loads.
    pub expires_at: Timestamp,
    /// Bumped on every save; compare-and-set stores check it (contract rule 5).
    pub version: u64,
    /// This session's own expiry ([`Session::set_expiry`](crate::Session::set_expiry):
    /// remember-me), or `None` for the layer's. Stores keep it with the record, in the
    /// envelope, so it holds on every later request.
    pub expiry: Option<SessionExpiry>,
    /// The user this session is bound to ([`Session::bind_user`](crate::Session::bind_user)),
    /// kept in the envelope. Stores with
    /// [`Capabilities::user_index`](crate::Capabilities::user_index) also file the
    /// session under the user's [`UserKey`](crate::UserKey) (contract rule 12).
    pub user: Option<UserBinding>,
}

impl Record {
    /// A first-version record created at `now`, expiring at `expires_at`, with the
    /// layer's expiry.
    pub fn new(id: SessionId, data: Data, now: Timestamp, expires_at: Timestamp) -> Self {
        Record {
            id,
            data,
            created_at: now,
            accessed_at: now,
            expires_at,
            version: 1,
            expiry: None,
            user: None,
        }
    }

    /// The same record with another version.
    pub fn with_version(mut self, version: u64) -> Self {
        self.version = version;
        self
    }

    /// The same record with another creation time.
    pub fn with_created_at(mut self, at: Timestamp) -> Self {
        self.created_at = at;
        self
    }

    /// The same record with another last-access time.
    pub fn with_accessed_at(mut self, at: Timestamp) -> Self {
        self.accessed_at = at;
        self
    }

    /// The same record with another deadline.
    pub fn with_expires_at(mut self, at: Timestamp) -> Self {
        self.expires_at = at;
        self
    }

    /// The same record with its own expiry (`None`: the layer's).
    pub fn with_expiry(mut self, expiry: Option<SessionExpiry>) -> Self {
        self.expiry = expiry;
        self
    }

    /// The same record bound to a user (`None`: to nobody).
    pub fn with_user(mut self, user: Option<UserBinding>) -> Self {
        self.user = user;
        self
    }

    /// The key of the user this record is bound to, if any.
    pub fn user_key(&self) -> Option<crate::UserKey> {
        self.user.as_ref().map(UserBinding::user_key)
    }

    /// Whether the record is past its deadline at `now`. A record expires *at*
    /// `expires_at`, so a zero-length lifetime never loads.
    pub fn is_expired(&self, now: Timestamp) -> bool {
        self.expires_at <= now
    }
}
