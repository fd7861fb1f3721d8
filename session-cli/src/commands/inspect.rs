//! `inspect <ID>`: one session's record, decoded, as JSON.

use serde_json::json;
use session_core::{Record, Timestamp};

use crate::exit::{AdminError, AdminResult};
use crate::report::Report;
use crate::target::{Backend, Target};
use crate::time::rfc3339;

/// Loads the session exactly as the app would (`SessionStore::load` on the id, which
/// the store hashes to its storage key), so an expired or deleted session is "not
/// found" (exit 4) even if its bytes have not been swept yet. For `cookie://` the
/// argument is the sealed cookie value itself.
pub async fn run(target: &Target, arg: &str, cookie_name: &str) -> AdminResult<Report> {
    let (value, key) = if target.backend() == Backend::Cookie {
        (arg.trim().to_owned(), None)
    } else {
        let id = crate::id::parse(arg, cookie_name)?;
        (id.to_string(), Some(id.storage_key()))
    };
    let store = target.open().await?;
    let Some(record) = store.load(&value).await? else {
        return Err(AdminError::NotFound(
            "no live session with this id (never created, deleted, or expired)".into(),
        ));
    };
    let json = record_json(&record, key.map(|k| k.to_hex()));
    let text = serde_json::to_string_pretty(&json).unwrap_or_default();
    Ok(Report::new(json, text))
}

/// The record as JSON: storage key (server stores), version, times in RFC 3339 UTC,
/// seconds left, and the data.
fn record_json(record: &Record, storage_key: Option<String>) -> serde_json::Value {
    let now = Timestamp::from_system(std::time::SystemTime::now());
    json!({
        "storage_key": storage_key,
        "version": record.version,
        "created_at": rfc3339(record.created_at),
        "accessed_at": rfc3339(record.accessed_at),
        "expires_at": rfc3339(record.expires_at),
        "expires_in_secs": record.expires_at.since(now).as_secs(),
        "data": record.data,
    })
}
