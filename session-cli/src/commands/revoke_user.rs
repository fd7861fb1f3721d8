//! `revoke-user <USER> [--except <STORAGE_KEY>]`: end every session of one user.

use serde_json::json;

use crate::exit::AdminResult;
use crate::report::{sessions, Report};
use crate::target::Target;
use crate::users::{open_indexed, storage_key, user_key};

/// Deletes every session bound to `user` when the command starts, except the one
/// under `except` if given, and reports how many live ones went.
pub async fn run(target: &Target, user: &str, except: Option<&str>) -> AdminResult<Report> {
    let key = user_key(user)?;
    let except = except.map(storage_key).transpose()?;
    let store = open_indexed(target, "revoke-user").await?;
    let revoked = store.revoke_user(&key, except.as_ref()).await?;
    target.settle(&store)?;
    let json = json!({
        "command": "revoke-user",
        "backend": target.scheme(),
        "user_key": key.to_hex(),
        "except": except.map(|k| k.to_hex()),
        "revoked": revoked,
    });
    let kept = match except {
        Some(k) => format!(" (kept {k})"),
        None => String::new(),
    };
    let text = format!(
        "revoke-user: ended {} of this user{kept}",
        sessions(revoked)
    );
    Ok(Report::new(json, text))
}
