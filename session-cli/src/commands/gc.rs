//! `gc`: delete expired sessions (Django's `clearsessions`, Beaker's `find -mtime`).

use serde_json::json;
use session_core::{DeleteIf, StorageKey, Timestamp};

use crate::exit::AdminResult;
use crate::pages::Pages;
use crate::progress::Progress;
use crate::report::{counted, sessions, Report};
use crate::target::Target;

/// Walks every session; deletes (or, with `dry_run`, only counts) those past their
/// deadline. Each deletion re-checks the deadline atomically in the backend, so a
/// session extended since it was scanned survives. After the walk the backend's own
/// sweep (`delete_expired`) runs once, which also removes what expired during the walk
/// and, for `file://`, temporary files abandoned by crashed writers.
pub async fn run(
    target: &Target,
    page_size: usize,
    dry_run: bool,
    quiet: bool,
) -> AdminResult<Report> {
    target.require_enumerable("gc")?;
    let store = target.open().await?;
    let mut pages = Pages::new(&*store, page_size, "gc")?;
    let progress = Progress::new(if dry_run { "gc --dry-run" } else { "gc" }, quiet);
    let (mut scanned, mut expired, mut removed) = (0u64, 0u64, 0u64);
    while let Some(entries) = pages.next().await? {
        let now = Timestamp::from_system(std::time::SystemTime::now());
        let doomed: Vec<StorageKey> = entries
            .iter()
            .filter(|e| e.is_expired(now))
            .map(|e| e.key)
            .collect();
        scanned += entries.len() as u64;
        expired += doomed.len() as u64;
        if !dry_run && !doomed.is_empty() {
            removed += store.delete_keys(&doomed, DeleteIf::Expired).await?;
        }
        let message = if dry_run {
            format!("{expired} expired")
        } else {
            format!("{removed} removed")
        };
        progress.advance(entries.len() as u64, message);
    }
    if !dry_run {
        removed += store.delete_expired().await?;
    }
    progress.finish();
    target.settle(&store)?;
    let json = json!({
        "command": "gc",
        "backend": target.scheme(),
        "dry_run": dry_run,
        "scanned": scanned,
        "expired": expired,
        "removed": removed,
    });
    let text = if dry_run {
        format!(
            "gc --dry-run: {expired} of {} have expired; nothing deleted",
            sessions(scanned)
        )
    } else {
        format!(
            "gc: removed {} ({scanned} scanned)",
            counted(removed, "expired session")
        )
    };
    Ok(Report::new(json, text))
}
