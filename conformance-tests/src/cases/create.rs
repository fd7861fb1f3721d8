//! `create` is an atomic insert-if-absent (contract rule 3).

use serde_json::json;
use session_core::Error;

use super::util::{data, record_at, TTL};
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
