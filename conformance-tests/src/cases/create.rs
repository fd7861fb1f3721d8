//! `create` is an atomic insert-if-absent (contract rule 3).

use std::time::Duration;

use serde_json::json;
use session_core::{Error, Record};

use super::util::{data, next_version, record_at, TTL};
use crate::{CaseResult, Check, Harness};

/// A second create under the same id is `Collision`, and the first record survives.
pub async fn create_collision_keeps_original(h: &Harness) -> CaseResult {
    let c = Check::new("create_collision_keeps_original");
    let fx = h.fixture().await;
    let first = record_at(h.clock().now(), TTL, data([("owner", json!("first"))]));
    let cookie = c.ok("first create", fx.store().create(&first).await)?;
    if fx.caps().self_sealed {
        // The cookie value is the record: there is no shared namespace to collide in,
        // each create seals its own value. The original must still open unchanged.
        let mut second = first.clone();
        second.data = data([("owner", json!("second"))]);
        c.ok("second create", fx.store().create(&second).await)?;
        let loaded = c.ok("load original", fx.store().load(&cookie).await)?;
        return c.eq(
            "original cookie still opens its own data",
            Some(first),
            loaded,
        );
    }
    let mut second = first.clone();
    second.data = data([("owner", json!("second"))]);
    c.err(
        "second create with the same id",
        fx.store().create(&second).await,
        "Collision",
        |e| matches!(e, Error::Collision),
    )?;
    let loaded = c.ok("load after collision", fx.store().load(&cookie).await)?;
    c.eq("original untouched", Some(first), loaded)
}

/// Creating a record returns a cookie value that loads it; unless the store seals the
/// record into that value, it is the id's text.
pub async fn create_returns_cookie_value(h: &Harness) -> CaseResult {
    let c = Check::new("create_returns_cookie_value");
    let fx = h.fixture().await;
    let r = record_at(h.clock().now(), TTL, data([("k", json!(1))]));
    let cookie = c.ok("create", fx.store().create(&r).await)?;
    if !fx.caps().self_sealed {
        c.eq(
            "server store cookie is the id",
            r.id.to_string(),
            cookie.clone(),
        )?;
    }
    let loaded = c.ok("load", fx.store().load(&cookie).await)?;
    c.eq("loads", Some(r), loaded)
}

/// Once a record expired its id is free (an expired record is absent, rule 6): a create
/// under it starts a new life at version 1, and neither a load nor a touch brings back
/// any of the earlier life, whose version was higher (a cache that orders copies by
/// version alone would keep the old one).
pub async fn create_after_expiry_starts_a_new_life(h: &Harness) -> CaseResult {
    let c = Check::new("create_after_expiry_starts_a_new_life");
    let fx = h.fixture().await;
    let ttl = Duration::from_secs(60);
    let first = record_at(h.clock().now(), ttl, data([("life", json!(1))]));
    c.ok("first create", fx.store().create(&first).await)?;
    let saved = next_version(
        &first,
        data([("life", json!(1)), ("n", json!(2))]),
        h.clock().now(),
    );
    let cookie = c.ok("save", fx.store().save(&saved, first.version).await)?;
    let loaded = c.ok("load the first life", fx.store().load(&cookie).await)?;
    c.eq("first life saved", Some(saved), loaded)?;

    h.clock().advance(ttl);
    let gone = c.ok("load at the deadline", fx.store().load(&cookie).await)?;
    c.eq("first life expired", None, gone.map(|r| r.id))?;

    let now = h.clock().now();
    let second = Record::new(
        first.id,
        data([("life", json!(2))]),
        now,
        now.saturating_add(ttl),
    );
    let cookie = c.ok(
        "create over the expired id",
        fx.store().create(&second).await,
    )?;
    let loaded = c.ok("load the second life", fx.store().load(&cookie).await)?;
    c.eq("second life, version 1", Some(second.clone()), loaded)?;

    h.clock().advance(Duration::from_secs(10));
    let now = h.clock().now();
    let touched = second
        .with_accessed_at(now)
        .with_expires_at(now.saturating_add(ttl));
    let cookie = c.ok("touch the second life", fx.store().touch(&touched).await)?;
    let loaded = c.ok("load after the touch", fx.store().load(&cookie).await)?;
    c.eq("the touched second life", Some(touched), loaded)
}
