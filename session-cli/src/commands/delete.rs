//! `delete <ID>`: remove one session (the browser holding it is logged out; the user's
//! other sessions stay).

use serde_json::json;
use session_core::DeleteIf;

use crate::exit::{AdminError, AdminResult};
use crate::report::Report;
use crate::target::{Backend, Target};

/// Deletes the session under the id. Idempotent: deleting a missing session succeeds.
/// Where the store can enumerate, the report says whether a record was there
/// (`removed` 1 or 0); memcached cannot tell (`removed` null). The cookie store cannot
/// revoke a session at all (exit 3).
pub async fn run(target: &Target, arg: &str, cookie_name: &str) -> AdminResult<Report> {
    if target.backend() == Backend::Cookie {
        return Err(AdminError::Unsupported(
            "`delete` is not supported for cookie:// stores: the session lives sealed in \
             the browser's cookie and stays valid until its deadline; rotate the sealing \
             secret to revoke every cookie session"
                .into(),
        ));
    }
    let id = crate::id::parse(arg, cookie_name)?;
    let key = id.storage_key();
    let store = target.open().await?;
    let caps = store.capabilities();
    if !caps.revoke {
        return Err(AdminError::Unsupported(
            "this store cannot revoke a session".into(),
        ));
    }
    let removed = if caps.enumerate {
        Some(store.delete_keys(&[key], DeleteIf::Any).await?)
    } else {
        store.delete(&id).await?;
        None
    };
    target.settle(&store)?;
    let json = json!({
        "command": "delete",
        "backend": target.scheme(),
        "storage_key": key.to_hex(),
        "removed": removed,
    });
    let text = match removed {
        Some(0) => format!("delete: no session under storage key {key}; nothing to do"),
        Some(_) => format!("delete: removed the session under storage key {key}"),
        None => format!("delete: removed the session under storage key {key}, if it existed"),
    };
    Ok(Report::new(json, text))
}
