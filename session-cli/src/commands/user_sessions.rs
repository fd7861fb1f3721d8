//! `user-sessions <USER>`: the live sessions bound to one user (their devices).

use serde_json::json;

use crate::exit::AdminResult;
use crate::report::{sessions, Report};
use crate::target::Target;
use crate::time::rfc3339;
use crate::users::{open_indexed, user_key};

/// Lists every live session of `user`, walking the store's listing in pages of
/// `page_size` (the store caps a page at its own bound). Never shows a session id:
/// storage keys only, which cannot be replayed as cookies.
pub async fn run(target: &Target, user: &str, page_size: usize) -> AdminResult<Report> {
    let key = user_key(user)?;
    let store = open_indexed(target, "user-sessions").await?;
    let mut all = Vec::new();
    let mut cursor = None;
    loop {
        let page = store.sessions_of(&key, cursor, page_size).await?;
        all.extend(page.sessions);
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let rows: Vec<_> = all
        .iter()
        .map(|s| {
            json!({
                "storage_key": s.key.to_hex(),
                "created_at": rfc3339(s.created_at),
                "accessed_at": rfc3339(s.accessed_at),
                "expires_at": rfc3339(s.expires_at),
                "label": s.label,
            })
        })
        .collect();
    let mut text = format!("user-sessions: {} of this user", sessions(all.len() as u64));
    for s in &all {
        text.push_str(&format!(
            "\n{}  created {}  last seen {}  until {}  {}",
            s.key,
            rfc3339(s.created_at),
            rfc3339(s.accessed_at),
            rfc3339(s.expires_at),
            s.label.as_deref().unwrap_or("-")
        ));
    }
    let json = json!({
        "command": "user-sessions",
        "backend": target.scheme(),
        "user_key": key.to_hex(),
        "count": all.len(),
        "sessions": rows,
    });
    Ok(Report::new(json, text))
}
