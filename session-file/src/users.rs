//! What both stores' user indexes (contract rule 12) share: turning a stored envelope
//! found through the index into a listing entry, and building a page.

use std::path::Path;

use session_core::{ScanCursor, StorageKey, UserKey, UserSession, UserSessionsPage};

/// The listing entry of the envelope `bytes` stored under `key`, if the record is
/// bound to `user`. An envelope that does not decode (perhaps a newer format) is left
/// out of the listing with a warning rather than fail every listing of the user.
pub(crate) fn listed(
    where_: &Path,
    key: StorageKey,
    bytes: &[u8],
    user: &UserKey,
) -> Option<UserSession> {
    match UserSession::decode(key, bytes) {
        Ok((entry, Some(bound))) if bound == *user => Some(entry),
        Ok(_) => None,
        Err(e) => {
            tracing::warn!(
                store = %where_.display(),
                key = %key.to_hex(),
                error = %e,
                "a session of the user's index does not decode; left out of the listing",
            );
            None
        }
    }
}

/// The page of `sessions` (in key order), with a cursor after the last one if `more`
/// follow.
pub(crate) fn page(sessions: Vec<UserSession>, more: bool) -> UserSessionsPage {
    let next = match sessions.last() {
        Some(last) if more => Some(ScanCursor::new(last.key.to_hex())),
        _ => None,
    };
    UserSessionsPage::new(sessions, next)
}

/// The key a listing cursor resumes after.
pub(crate) fn after(cursor: Option<&ScanCursor>) -> session_core::Result<Option<StorageKey>> {
    cursor.map(UserSessionsPage::cursor_key).transpose()
}
