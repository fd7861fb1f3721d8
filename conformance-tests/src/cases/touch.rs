//! `touch` extends deadlines without rewriting data and never resurrects.

use std::time::Duration;

use serde_json::json;
use session_core::Error;

use super::util::{data, next_version, record_at};
use crate::{CaseResult, Check, Harness};

/// After a touch the record outlives its old deadline, with data and version unchanged.
pub async fn touch_extends_deadline(h: &Harness) -> CaseResult {
    let c = Check::new("touch_extends_deadline");
    let fx = h.fixture().await;
    let r = record_at(
        h.clock().now(),
        Duration::from_secs(60),
        data([("k", json!(1))]),
    );
    c.ok("create", fx.store().create(&r).await)?;
    h.clock().advance(Duration::from_secs(50));
    let now = h.clock().now();
    let touched = r
        .clone()
        .with_accessed_at(now)
        .with_expires_at(now.saturating_add(Duration::from_secs(60)));
    let cookie = c.ok("touch", fx.store().touch(&touched).await)?;
    h.clock().advance(Duration::from_secs(50));
    let loaded = c.ok("load past the old deadline", fx.store().load(&cookie).await)?;
    c.eq("touched record", Some(touched), loaded)
}

/// A touch carrying stale data does not overwrite a newer save (every store that keeps
/// the record, whether or not it can delete it).
pub async fn touch_keeps_stored_data(h: &Harness) -> CaseResult {
    let c = Check::new("touch_keeps_stored_data");
    let fx = h.fixture().await;
    if fx.caps().self_sealed {
        // A self-sealed store re-seals the record it is given: there is no stored copy.
        let r = record_at(
            h.clock().now(),
            Duration::from_secs(60),
            data([("k", json!(1))]),
        );
        let cookie = c.ok("touch reseals", fx.store().touch(&r).await)?;
        let loaded = c.ok("load", fx.store().load(&cookie).await)?;
        return c.eq("resealed record", Some(r), loaded);
    }
    let r1 = record_at(
        h.clock().now(),
        Duration::from_secs(60),
        data([("k", json!(1))]),
    );
    c.ok("create", fx.store().create(&r1).await)?;
    let r2 = next_version(&r1, data([("k", json!(2))]), h.clock().now());
    c.ok("save", fx.store().save(&r2, r1.version).await)?;
    h.clock().advance(Duration::from_secs(10));
    let now = h.clock().now();
    let stale_touch = r1
        .clone()
        .with_accessed_at(now)
        .with_expires_at(now.saturating_add(Duration::from_secs(60)));
    c.ok(
        "touch with stale data",
        fx.store().touch(&stale_touch).await,
    )?;
    let loaded = c.ok("load", fx.store().load(&r1.id.to_string()).await)?;
    let expected = r2
        .with_accessed_at(stale_touch.accessed_at)
        .with_expires_at(stale_touch.expires_at);
    c.eq(
        "saved data and version kept, deadline moved",
        Some(expected),
        loaded,
    )
}

/// Touching a missing or expired record is `NotFound` and does not create it.
pub async fn touch_missing_not_found(h: &Harness) -> CaseResult {
    let c = Check::new("touch_missing_not_found");
    let fx = h.fixture().await;
    if fx.caps().self_sealed {
        // Nothing is stored to be missing; what a self-sealed store can refuse is a
        // record already past its deadline, so a touch never extends a dead session.
        let now = h.clock().now();
        let dead =
            record_at(now, Duration::from_secs(60), data([("k", json!(1))])).with_expires_at(now);
        return c.err(
            "touch of an expired record",
            fx.store().touch(&dead).await,
            "NotFound",
            |e| matches!(e, Error::NotFound),
        );
    }
    let never = record_at(h.clock().now(), Duration::from_secs(60), data([]));
    c.err(
        "touch never-created",
        fx.store().touch(&never).await,
        "NotFound",
        |e| matches!(e, Error::NotFound),
    )?;
    c.eq(
        "still absent",
        None,
        c.ok("load", fx.store().load(&never.id.to_string()).await)?,
    )?;
    let r = record_at(
        h.clock().now(),
        Duration::from_secs(10),
        data([("k", json!(1))]),
    );
    c.ok("create", fx.store().create(&r).await)?;
    h.clock().advance(Duration::from_secs(11));
    let now = h.clock().now();
    let late = r
        .clone()
        .with_accessed_at(now)
        .with_expires_at(now.saturating_add(Duration::from_secs(60)));
    c.err(
        "touch expired",
        fx.store().touch(&late).await,
        "NotFound",
        |e| matches!(e, Error::NotFound),
    )?;
    c.eq(
        "expired stays expired",
        None,
        c.ok("load", fx.store().load(&r.id.to_string()).await)?,
    )
}
