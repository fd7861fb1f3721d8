//! What both stores' user indexes (contract rule 12) share: turning a stored envelope
//! found through the index into a listing entry (paging is `UserSessionsPage`'s).

use std::path::Path;

use session_core::{StorageKey, UserKey, UserSession};

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
