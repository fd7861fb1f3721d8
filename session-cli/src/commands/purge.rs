//! `purge --yes`: delete every session (everyone is logged out).

use serde_json::json;
use session_core::{DeleteIf, StorageKey};

use crate::exit::{AdminError, AdminResult};
use crate::pages::Pages;
use crate::progress::Progress;
use crate::report::{sessions, Report};
use crate::target::Target;

/// Deletes every session in the store, page by page. Refuses without `yes` (exit 2),
/// before connecting. Not atomic: sessions created during the purge may survive.
pub async fn run(target: &Target, page_size: usize, yes: bool, quiet: bool) -> AdminResult<Report> {
    target.require_enumerable("purge")?;
    if !yes {
        return Err(AdminError::Usage(format!(
            "purge deletes every session in this {}:// store and logs everyone out; \
             nothing was deleted. Run it again with --yes to confirm",
            target.scheme()
        )));
    }
    let store = target.open().await?;
    let mut pages = Pages::new(&*store, page_size, "purge")?;
    let progress = Progress::new("purge", quiet);
    let (mut scanned, mut removed) = (0u64, 0u64);
    while let Some(entries) = pages.next().await? {
        let keys: Vec<StorageKey> = entries.iter().map(|e| e.key).collect();
        scanned += keys.len() as u64;
        if !keys.is_empty() {
            removed += store.delete_keys(&keys, DeleteIf::Any).await?;
        }
        progress.advance(keys.len() as u64, format!("{removed} removed"));
    }
    progress.finish();
    target.settle(&store)?;
    let json = json!({
        "command": "purge",
        "backend": target.scheme(),
        "scanned": scanned,
        "removed": removed,
    });
    let text = format!("purge: removed {}", sessions(removed));
    Ok(Report::new(json, text))
}
