//! `inspect <ID>`: one session's record, decoded, as JSON.

use serde_json::json;
use session_core::{CookieLifetime, Record, SessionExpiry, Timestamp};

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
/// seconds left, the session's own expiry (`null`: the app's default), the user it is
/// bound to (`null`: nobody; the auth hash itself is never printed) and the data.
fn record_json(record: &Record, storage_key: Option<String>) -> serde_json::Value {
    let now = Timestamp::from_system(std::time::SystemTime::now());
    json!({
        "storage_key": storage_key,
        "version": record.version,
        "created_at": rfc3339(record.created_at),
        "accessed_at": rfc3339(record.accessed_at),
        "expires_at": rfc3339(record.expires_at),
        "expires_in_secs": record.expires_at.since(now).as_secs(),
        "expiry": record.expiry.as_ref().map(expiry_json),
        "user": record.user.as_ref().map(|u| json!({
            "id": u.user_id(),
            "user_key": u.user_key().to_hex(),
            "label": u.label(),
            "has_auth_hash": u.auth_hash().is_some(),
        })),
        "data": record.data,
    })
}

/// A per-session expiry (remember-me) as an admin reads it.
fn expiry_json(own: &SessionExpiry) -> serde_json::Value {
    let e = own.expiry();
    json!({
        "idle_secs": e.idle_timeout().map(|d| d.as_secs()),
        "absolute_secs": e.absolute_lifetime().map(|d| d.as_secs()),
        "cookie": match own.cookie() {
            CookieLifetime::Persistent => "persistent",
            CookieLifetime::BrowserSession => "browser_session",
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use session_core::{Data, SessionId, UserBinding};

    #[test]
    fn a_bound_session_shows_its_user_but_not_the_auth_hash() {
        let now = Timestamp::from_system(std::time::SystemTime::now());
        let ada = UserBinding::new("ada")
            .and_then(|b| b.with_auth_hash("secret-hmac"))
            .and_then(|b| b.with_label("Firefox"))
            .unwrap_or_else(|e| panic!("{e}"));
        let record = Record::new(SessionId::generate(), Data::new(), now, Timestamp::MAX)
            .with_user(Some(ada.clone()));
        let json = record_json(&record, None);
        assert_eq!(
            json["user"],
            json!({"id": "ada", "user_key": ada.user_key().to_hex(), "label": "Firefox", "has_auth_hash": true})
        );
        assert!(!json.to_string().contains("secret-hmac"));
        assert!(record_json(&record.with_user(None), None)["user"].is_null());
    }

    #[test]
    fn a_remembered_session_shows_its_own_expiry() {
        let now = Timestamp::from_system(std::time::SystemTime::now());
        let record = Record::new(SessionId::generate(), Data::new(), now, Timestamp::MAX);
        assert!(record_json(&record, None)["expiry"].is_null());
        let month = std::time::Duration::from_secs(30 * 86_400);
        let own = SessionExpiry::remember_for(month).unwrap_or_else(|e| panic!("{e}"));
        let json = record_json(&record.with_expiry(Some(own)), None);
        assert_eq!(
            json["expiry"],
            json!({"idle_secs": 2_592_000, "absolute_secs": null, "cookie": "persistent"})
        );
    }
}
