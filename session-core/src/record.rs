//! The stored form of a session.

use std::collections::BTreeMap;

use crate::{SessionId, Timestamp};

/// A session's data: string keys to serde values.
///
/// A `BTreeMap` so the encoded form is deterministic (equal data, equal bytes).
pub type Data = BTreeMap<String, serde_json::Value>;

/// One session as stores keep it.
#[derive(Debug, Clone, PartialEq)]
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
}

impl Record {
    /// A first-version record created at `now`, expiring at `expires_at`.
    pub fn new(id: SessionId, data: Data, now: Timestamp, expires_at: Timestamp) -> Self {
        Record {
            id,
            data,
            created_at: now,
            accessed_at: now,
            expires_at,
            version: 1,
        }
    }

    /// Whether the record is past its deadline at `now`. A record expires *at*
    /// `expires_at`, so a zero-length lifetime never loads.
    pub fn is_expired(&self, now: Timestamp) -> bool {
        self.expires_at <= now
    }
}
