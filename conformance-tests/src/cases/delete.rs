//! `delete` removes a record everywhere and is idempotent; `delete_expired` and `count`
//! work where the store can enumerate.

use std::time::Duration;

use serde_json::json;
use session_core::{DeleteIf, SessionId};

use super::util::{data, record_at, TTL};
use crate::{CaseResult, Check, Harness};

/// Deleting removes the record; deleting again, or deleting an unknown id, is `Ok`.
/// Stores without server-side revoke answer `Unsupported`.
pub async fn delete_idempotent(h: &Harness) -> CaseResult {
    let c = Check::new("delete_idempotent");
    let fx = h.fixture().await;
    let r = record_at(h.clock().now(), TTL, data([("k", json!(1))]));
    let cookie = c.ok("create", fx.store().create(&r).await)?;
    if !fx.caps().revoke {
        c.unsupported("delete", fx.store().delete(&r.id).await)?;
        let kept = c.ok("load after refused delete", fx.store().load(&cookie).await)?;
        return c.eq("a refused delete removes nothing", Some(r), kept);
    }
    let other = record_at(h.clock().now(), TTL, data([("k", json!(2))]));
    c.ok("create neighbour", fx.store().create(&other).await)?;
    c.ok("delete", fx.store().delete(&r.id).await)?;
    c.eq("gone", None, c.ok("load", fx.store().load(&cookie).await)?)?;
    c.ok("delete again", fx.store().delete(&r.id).await)?;
    c.ok(
        "delete unknown",
        fx.store().delete(&SessionId::generate()).await,
    )?;
    let neighbour = c.ok(
        "load neighbour",
        fx.store().load(&other.id.to_string()).await,
    )?;
    c.eq("neighbour untouched", Some(other), neighbour)
}

/// `delete_expired` removes exactly the expired records and returns their count.
pub async fn delete_expired_removes_only_expired(h: &Harness) -> CaseResult {
    let c = Check::new("delete_expired_removes_only_expired");
    let fx = h.fixture().await;
    if !fx.caps().enumerate {
        c.unsupported("count", fx.store().count().await)?;
        return c.unsupported("delete_expired", fx.store().delete_expired().await);
    }
    let now = h.clock().now();
    let mut short = Vec::new();
    let mut long = Vec::new();
    for i in 0..7 {
        let r = record_at(now, Duration::from_secs(30), data([("i", json!(i))]));
        c.ok("create short-lived", fx.store().create(&r).await)?;
        short.push(r);
    }
    for i in 0..5 {
        let r = record_at(now, TTL, data([("i", json!(i))]));
        c.ok("create long-lived", fx.store().create(&r).await)?;
        long.push(r);
    }
    h.clock().advance(Duration::from_secs(31));
    let removed = c.ok("delete_expired", fx.store().delete_expired().await)?;
    if fx.caps().native_ttl {
        // The server expires keys by itself, on its own clock; the sweep has nothing to
        // count. Expired records must still be invisible.
        c.that("native-TTL sweep count", removed <= 7, "at most 7", removed)?;
    } else {
        c.eq("removed count", 7, removed)?;
    }
    for r in &short {
        let got = c.ok("load expired", fx.store().load(&r.id.to_string()).await)?;
        c.eq("expired record gone", None, got.map(|r| r.id))?;
    }
    for r in &long {
        let got = c.ok("load live", fx.store().load(&r.id.to_string()).await)?;
        c.eq("live record kept", Some(r.clone()), got)?;
    }
    if !fx.caps().native_ttl {
        c.eq(
            "second sweep finds nothing",
            0,
            c.ok("delete_expired again", fx.store().delete_expired().await)?,
        )?;
        c.eq("count", 5, c.ok("count", fx.store().count().await)?)?;
    }
    Ok(())
}

/// `count` sees every created record and none of the deleted ones (removed with
/// `delete`, or with `delete_keys` where the store cannot revoke).
pub async fn count_live_records(h: &Harness) -> CaseResult {
    let c = Check::new("count_live_records");
    let fx = h.fixture().await;
    if !fx.caps().enumerate {
        return c.unsupported("count", fx.store().count().await);
    }
    c.eq(
        "empty namespace",
        0,
        c.ok("count", fx.store().count().await)?,
    )?;
    let mut ids = Vec::new();
    for i in 0..12 {
        let r = record_at(h.clock().now(), TTL, data([("i", json!(i))]));
        c.ok("create", fx.store().create(&r).await)?;
        ids.push(r.id);
    }
    c.eq(
        "after 12 creates",
        12,
        c.ok("count", fx.store().count().await)?,
    )?;
    if fx.caps().revoke {
        for id in &ids[..4] {
            c.ok("delete", fx.store().delete(id).await)?;
        }
    } else {
        let keys: Vec<_> = ids[..4].iter().map(SessionId::storage_key).collect();
        let removed = c.ok(
            "delete_keys",
            fx.store().delete_keys(&keys, DeleteIf::Any).await,
        )?;
        c.eq("delete_keys count", 4, removed)?;
    }
    c.eq(
        "after 4 deletes",
        8,
        c.ok("count", fx.store().count().await)?,
    )
}
