//! What the user commands (`user-sessions`, `revoke-user`, `revoke-session`) share:
//! reading USER and STORAGE_KEY, and opening a store only if it keeps a user index.

use session_any::AnyStore;
use session_core::{StorageKey, UserKey};

use crate::exit::{AdminError, AdminResult};
use crate::target::{Backend, Target};

/// The index key of the app's user id `user` (hashed as the app's sessions are
/// filed). An empty id is a usage error.
pub fn user_key(user: &str) -> AdminResult<UserKey> {
    if user.is_empty() {
        return Err(AdminError::Usage(
            "USER is empty: give the app's user id".into(),
        ));
    }
    Ok(UserKey::of(user))
}

/// A storage key as listings show it: 64 hex digits. Anything else is a usage error
/// (the message does not repeat it: it may be a session id pasted by mistake).
pub fn storage_key(arg: &str) -> AdminResult<StorageKey> {
    StorageKey::from_hex(arg.trim()).ok_or_else(|| {
        AdminError::Usage(
            "not a storage key: give the 64 hex digits `user-sessions` lists (not a \
             session id or cookie value)"
                .into(),
        )
    })
}

/// Opens the store for `command`, refusing one without a user index: memcached and
/// cookie stores before any I/O, any other after asking its capabilities.
pub async fn open_indexed(target: &Target, command: &str) -> AdminResult<AnyStore> {
    let why = match target.backend() {
        Backend::Memcache => {
            Some("memcached cannot list keys, so it keeps no index of sessions by user")
        }
        Backend::Cookie => {
            Some("cookie sessions live in the browsers, so the server keeps no index of sessions by user")
        }
        Backend::Sql | Backend::Other => None,
    };
    if let Some(why) = why {
        return Err(AdminError::Unsupported(format!(
            "`{command}` is not supported for {}:// stores: {why}",
            target.scheme()
        )));
    }
    let store = target.open().await?;
    if !store.capabilities().user_index {
        return Err(AdminError::Unsupported(format!(
            "`{command}` is not supported for this {}:// store: it keeps no index of \
             sessions by user",
            target.scheme()
        )));
    }
    Ok(store)
}
