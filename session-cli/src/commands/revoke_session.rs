//! `revoke-session <USER> <STORAGE_KEY>`: end one session, only if it is the user's.

use serde_json::json;

use crate::exit::AdminResult;
use crate::report::Report;
use crate::target::Target;
use crate::users::{open_indexed, storage_key, user_key};

/// Deletes the session under `key` if it is bound to `user`; a key of another user's
/// session (or of none) ends nothing.
pub async fn run(target: &Target, user: &str, key: &str) -> AdminResult<Report> {
    let user = user_key(user)?;
    let key = storage_key(key)?;
    let store = open_indexed(target, "revoke-session").await?;
    let revoked = store.revoke_session(&user, &key).await?;
    target.settle(&store)?;
    let json = json!({
        "command": "revoke-session",
        "backend": target.scheme(),
        "user_key": user.to_hex(),
        "storage_key": key.to_hex(),
        "revoked": revoked,
    });
    let text = if revoked {
        format!("revoke-session: ended the session under storage key {key}")
    } else {
        format!(
            "revoke-session: no live session of this user under storage key {key}; nothing ended"
        )
    };
    Ok(Report::new(json, text))
}
