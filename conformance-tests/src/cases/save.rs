//! `save` writes new versions, never resurrects (rule 4), and checks versions where the
//! store can (rule 5).

use std::time::Duration;

use serde_json::json;
use session_core::Error;

use super::util::{data, next_version, record_at, TTL};
use crate::{CaseResult, Check, Harness};

/// A save replaces the data and the version; load sees both.
pub async fn save_replaces_data(h: &Harness) -> CaseResult {
    let c = Check::new("save_replaces_data");
    let fx = h.fixture().await;
    let r1 = record_at(
        h.clock().now(),
        TTL,
        data([("a", json!(1)), ("b", json!(2))]),
    );
    c.ok("create", fx.store().create(&r1).await)?;
    h.clock().advance(Duration::from_secs(1));
    let r2 = next_version(&r1, data([("a", json!(10))]), h.clock().now());
    let cookie = c.ok("save", fx.store().save(&r2, r1.version).await)?;
    let loaded = c.ok("load", fx.store().load(&cookie).await)?;
    c.eq("load after save", Some(r2), loaded)
}

/// Saving a deleted record is `NotFound`, and the record stays gone. A store without
/// revoke answers `Unsupported` to the delete and keeps the record (expiry is its only
/// way out, checked by `save_after_expiry_not_found`).
pub async fn save_after_delete_not_found(h: &Harness) -> CaseResult {
    let c = Check::new("save_after_delete_not_found");
    let fx = h.fixture().await;
    let r1 = record_at(h.clock().now(), TTL, data([("user", json!("ada"))]));
    let cookie = c.ok("create", fx.store().create(&r1).await)?;
    if !fx.caps().revoke {
        c.unsupported("delete without revoke", fx.store().delete(&r1.id).await)?;
        let loaded = c.ok("load after refused delete", fx.store().load(&cookie).await)?;
        return c.eq("a refused delete removes nothing", Some(r1), loaded);
    }
    c.ok("delete", fx.store().delete(&r1.id).await)?;
    let r2 = next_version(&r1, data([("user", json!("mallory"))]), h.clock().now());
    c.err(
        "save after delete",
        fx.store().save(&r2, r1.version).await,
        "NotFound",
        |e| matches!(e, Error::NotFound),
    )?;
    let loaded = c.ok("load after refused save", fx.store().load(&cookie).await)?;
    c.eq("still gone", None, loaded)
}

/// Saving an expired record is `NotFound`: expiry is not undone by a late save.
pub async fn save_after_expiry_not_found(h: &Harness) -> CaseResult {
    let c = Check::new("save_after_expiry_not_found");
    let fx = h.fixture().await;
    let r1 = record_at(
        h.clock().now(),
        Duration::from_secs(60),
        data([("k", json!(1))]),
    );
    let cookie = c.ok("create", fx.store().create(&r1).await)?;
    h.clock().advance(Duration::from_secs(61));
    let mut r2 = next_version(&r1, data([("k", json!(2))]), h.clock().now());
    r2.expires_at = h.clock().now().saturating_add(TTL);
    if fx.caps().self_sealed {
        // A self-sealed store cannot know the old cookie expired; the new value it
        // seals is self-contained. What it must do is refuse the old value.
        let loaded = c.ok("load expired", fx.store().load(&cookie).await)?;
        return c.eq("expired cookie does not load", None, loaded);
    }
    c.err(
        "save after expiry",
        fx.store().save(&r2, r1.version).await,
        "NotFound",
        |e| matches!(e, Error::NotFound),
    )?;
    let loaded = c.ok("load after refused save", fx.store().load(&cookie).await)?;
    c.eq("still expired", None, loaded)
}

/// A save with a stale expected version is `Conflict` on compare-and-set stores and
/// leaves the newer record in place; other stores are last-writer-wins.
pub async fn save_stale_version_conflict(h: &Harness) -> CaseResult {
    let c = Check::new("save_stale_version_conflict");
    let fx = h.fixture().await;
    let r1 = record_at(h.clock().now(), TTL, data([("n", json!(1))]));
    c.ok("create", fx.store().create(&r1).await)?;
    let winner = next_version(&r1, data([("n", json!(2))]), h.clock().now());
    c.ok("first save", fx.store().save(&winner, r1.version).await)?;
    let loser = next_version(&r1, data([("n", json!(3))]), h.clock().now());
    let result = fx.store().save(&loser, r1.version).await;
    if fx.caps().compare_and_set {
        c.err("stale save", result, "Conflict", |e| {
            matches!(e, Error::Conflict)
        })?;
        let loaded = c.ok("load", fx.store().load(&r1.id.to_string()).await)?;
        c.eq("winner kept", Some(winner), loaded)
    } else {
        let cookie = c.ok("stale save is last-writer-wins", result)?;
        let loaded = c.ok("load", fx.store().load(&cookie).await)?;
        c.eq("last writer kept", Some(loser), loaded)
    }
}
