//! `scan` walks every stored record (live and expired) by storage key, and
//! `delete_keys` deletes by storage key, where the store can enumerate.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use session_core::{
    DeleteIf, Record, ScanCursor, ScanEntry, SessionId, SessionStore, StorageKey, Timestamp,
};

use super::util::{data, record_at, TTL};
use crate::{CaseResult, Check, Harness};

/// Pages a walk may take before the case calls it endless: far more than the few
/// records a case writes need, whatever the page size.
const MAX_PAGES: usize = 10_000;

/// Every entry of a complete walk with pages of `limit`, in the order seen.
async fn walk(
    c: &Check,
    store: &Arc<dyn SessionStore>,
    limit: usize,
) -> Result<Vec<ScanEntry>, crate::Failure> {
    let mut cursor: Option<ScanCursor> = None;
    let mut seen = Vec::new();
    for _ in 0..MAX_PAGES {
        let page = c.ok("scan", store.scan(cursor.take(), limit).await)?;
        seen.extend(page.entries);
        match page.next {
            Some(next) => cursor = Some(next),
            None => return Ok(seen),
        }
    }
    Err(c.fail(
        "scan ends",
        format!("a walk of at most {MAX_PAGES} pages"),
        format!("still going after {MAX_PAGES} pages of {limit}"),
    ))
}

/// The distinct keys of a walk with each one's deadline. Redis may repeat a key (see
/// `SessionStore::scan`); a repeat must agree with the first sighting.
fn by_key(
    c: &Check,
    entries: &[ScanEntry],
) -> Result<BTreeMap<StorageKey, ScanEntry>, crate::Failure> {
    let mut out = BTreeMap::new();
    for e in entries {
        if let Some(first) = out.insert(e.key, *e) {
            c.eq("a repeated key shows the same record", first, *e)?;
        }
    }
    Ok(out)
}

/// Writes `n` records living `ttl` from `now`.
async fn seed(
    c: &Check,
    store: &Arc<dyn SessionStore>,
    now: Timestamp,
    ttl: Duration,
    n: usize,
) -> Result<Vec<Record>, crate::Failure> {
    let mut out = Vec::new();
    for i in 0..n {
        let r = record_at(
            now,
            ttl,
            data([("i", json!(i)), ("pad", json!("x".repeat(i)))]),
        );
        c.ok("create", store.create(&r).await)?;
        out.push(r);
    }
    Ok(out)
}

/// A scan sees exactly the records written, expired ones (not yet swept) included,
/// under their storage keys, with their deadlines and a size; never a raw id. Stores
/// without `enumerate` answer `Unsupported` to `scan` and `delete_keys`.
pub async fn scan_sees_live_and_expired(h: &Harness) -> CaseResult {
    let c = Check::new("scan_sees_live_and_expired");
    let fx = h.fixture().await;
    if !fx.caps().enumerate {
        c.unsupported("scan", fx.store().scan(None, 100).await)?;
        let key = SessionId::generate().storage_key();
        return c.unsupported(
            "delete_keys",
            fx.store().delete_keys(&[key], DeleteIf::Any).await,
        );
    }
    let store = fx.store();
    c.eq("empty namespace", 0, walk(&c, store, 100).await?.len())?;
    let now = h.clock().now();
    let short = seed(&c, store, now, Duration::from_secs(30), 4).await?;
    let long = seed(&c, store, now, TTL, 5).await?;
    h.clock().advance(Duration::from_secs(31));
    let later = h.clock().now();
    let seen = by_key(&c, &walk(&c, store, 100).await?)?;
    let expected: BTreeSet<StorageKey> = short
        .iter()
        .chain(&long)
        .map(|r| r.id.storage_key())
        .collect();
    c.eq(
        "scanned keys are the written records' storage keys",
        expected,
        seen.keys().copied().collect(),
    )?;
    for (records, expired) in [(&short, true), (&long, false)] {
        for r in records {
            let Some(e) = seen.get(&r.id.storage_key()) else {
                continue;
            };
            c.eq("deadline", Some(r.expires_at), e.expires_at)?;
            c.eq("expired by the clock", expired, e.is_expired(later))?;
            c.that("size", e.size > 0, "a stored size above 0", e.size)?;
        }
    }
    Ok(())
}

/// Walking with small pages covers every record, each page resuming where the last
/// one stopped, and the walk ends.
pub async fn scan_pages_cover_everything(h: &Harness) -> CaseResult {
    let c = Check::new("scan_pages_cover_everything");
    let fx = h.fixture().await;
    if !fx.caps().enumerate {
        return c.unsupported("scan", fx.store().scan(None, 1).await);
    }
    let store = fx.store();
    let records = seed(&c, store, h.clock().now(), TTL, 11).await?;
    let expected: BTreeSet<StorageKey> = records.iter().map(|r| r.id.storage_key()).collect();
    for limit in [1, 3, 11, 1000] {
        let seen = by_key(&c, &walk(&c, store, limit).await?)?;
        c.eq(
            &format!("pages of {limit} cover every record"),
            &expected,
            &seen.keys().copied().collect(),
        )?;
    }
    Ok(())
}

/// `delete_keys` with `DeleteIf::Expired` removes only records expired by the store's
/// clock; with `DeleteIf::Any` it removes what it names; unknown keys and an empty list
/// remove nothing. The counts are exact.
pub async fn delete_keys_by_condition(h: &Harness) -> CaseResult {
    let c = Check::new("delete_keys_by_condition");
    let fx = h.fixture().await;
    if !fx.caps().enumerate {
        let key = SessionId::generate().storage_key();
        return c.unsupported(
            "delete_keys",
            fx.store().delete_keys(&[key], DeleteIf::Expired).await,
        );
    }
    let store = fx.store();
    let now = h.clock().now();
    let short = seed(&c, store, now, Duration::from_secs(30), 6).await?;
    let long = seed(&c, store, now, TTL, 5).await?;
    h.clock().advance(Duration::from_secs(31));
    let every: Vec<StorageKey> = short
        .iter()
        .chain(&long)
        .map(|r| r.id.storage_key())
        .collect();
    let removed = c.ok(
        "delete_keys(every key, Expired)",
        store.delete_keys(&every, DeleteIf::Expired).await,
    )?;
    c.eq("expired records removed", 6, removed)?;
    for r in &long {
        let got = c.ok("load live", store.load(&r.id.to_string()).await)?;
        c.eq("live record kept", Some(r.clone()), got)?;
    }
    let left: BTreeSet<StorageKey> = by_key(&c, &walk(&c, store, 100).await?)?
        .keys()
        .copied()
        .collect();
    let live: BTreeSet<StorageKey> = long.iter().map(|r| r.id.storage_key()).collect();
    c.eq("scan after: the live records only", &live, &left)?;
    c.eq(
        "expired-only again removes nothing",
        0,
        c.ok(
            "delete_keys",
            store.delete_keys(&every, DeleteIf::Expired).await,
        )?,
    )?;
    let doomed = [long[0].id.storage_key(), long[1].id.storage_key()];
    c.eq(
        "delete_keys(two live, Any)",
        2,
        c.ok(
            "delete_keys",
            store.delete_keys(&doomed, DeleteIf::Any).await,
        )?,
    )?;
    for r in &long[..2] {
        let got = c.ok("load deleted", store.load(&r.id.to_string()).await)?;
        c.eq("deleted record gone", None, got.map(|r| r.id))?;
    }
    let unknown = [SessionId::generate().storage_key()];
    c.eq(
        "unknown key",
        0,
        c.ok(
            "delete_keys",
            store.delete_keys(&unknown, DeleteIf::Any).await,
        )?,
    )?;
    c.eq(
        "no keys",
        0,
        c.ok("delete_keys", store.delete_keys(&[], DeleteIf::Any).await)?,
    )?;
    c.eq("count after", 3, c.ok("count", store.count().await)?)
}
