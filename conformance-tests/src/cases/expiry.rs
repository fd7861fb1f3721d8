//! Expiry is enforced on every read (contract rule 6), for idle and absolute deadlines.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use session_core::{CookieChange, Expiry, SessionDriver, SessionOptions, TouchPolicy};

use super::util::{data, record_at};
use crate::{CaseResult, Check, Harness};

/// A record loads until its deadline and not at or after it.
pub async fn expiry_enforced_on_read(h: &Harness) -> CaseResult {
    let c = Check::new("expiry_enforced_on_read");
    let fx = h.fixture().await;
    let r = record_at(
        h.clock().now(),
        Duration::from_secs(30),
        data([("k", json!(1))]),
    );
    let cookie = c.ok("create", fx.store().create(&r).await)?;
    h.clock().advance(Duration::from_secs(29));
    let before = c.ok(
        "load 1 s before the deadline",
        fx.store().load(&cookie).await,
    )?;
    c.eq("live before the deadline", Some(r), before)?;
    h.clock().advance(Duration::from_secs(1));
    let at = c.ok("load at the deadline", fx.store().load(&cookie).await)?;
    c.eq("gone at the deadline", None, at.map(|r| r.id))
}

fn options(h: &Harness, idle: u64, absolute: u64) -> Result<Arc<SessionOptions>, crate::Failure> {
    let c = Check::new("expiry options");
    let expiry = c.ok(
        "expiry",
        Expiry::new(
            Some(Duration::from_secs(idle)),
            Some(Duration::from_secs(absolute)),
        ),
    )?;
    Ok(Arc::new(
        SessionOptions::default()
            .with_expiry(expiry)
            .with_touch(TouchPolicy::Always)
            .with_clock(h.clock().clone()),
    ))
}

async fn start(
    c: Check,
    fx: &crate::Fixture,
    opts: &Arc<SessionOptions>,
) -> Result<String, crate::Failure> {
    let s = SessionDriver::new(fx.store().clone(), opts.clone(), None);
    c.ok("insert", s.insert("user", "ada").await)?;
    match c.ok("finish first request", s.finish().await)?.cookie {
        CookieChange::Set(v) => Ok(v),
        other => Err(c.fail(
            "first request sets a cookie",
            "Set(..)",
            format!("{other:?}"),
        )),
    }
}

/// A session unused for longer than the idle timeout is gone, even though its
/// absolute lifetime has not run out.
pub async fn expiry_idle_timeout(h: &Harness) -> CaseResult {
    let c = Check::new("expiry_idle_timeout");
    let fx = h.fixture().await;
    let opts = options(h, 60, 3600)?;
    let cookie = start(c, &fx, &opts).await?;
    h.clock().advance(Duration::from_secs(59));
    let s = SessionDriver::new(fx.store().clone(), opts.clone(), Some(cookie.clone()));
    c.eq(
        "used within the idle timeout",
        Some("ada".to_owned()),
        c.ok("get", s.get("user").await)?,
    )?;
    let out = c.ok("finish (touch)", s.finish().await)?;
    let cookie = match out.cookie {
        CookieChange::Set(v) => v,
        _ => cookie,
    };
    h.clock().advance(Duration::from_secs(59));
    let s = SessionDriver::new(fx.store().clone(), opts.clone(), Some(cookie.clone()));
    c.eq(
        "touch extended the idle deadline",
        Some("ada".to_owned()),
        c.ok("get", s.get("user").await)?,
    )?;
    c.ok("finish", s.finish().await)?;
    h.clock().advance(Duration::from_secs(61));
    let s = SessionDriver::new(fx.store().clone(), opts, Some(cookie));
    c.eq(
        "gone after the idle timeout",
        None,
        c.ok("get", s.get::<String>("user").await)?,
    )?;
    let out = c.ok("finish", s.finish().await)?;
    c.eq("expired cookie removed", CookieChange::Remove, out.cookie)
}

/// A session in constant use still ends at its absolute lifetime.
pub async fn expiry_absolute_lifetime(h: &Harness) -> CaseResult {
    let c = Check::new("expiry_absolute_lifetime");
    let fx = h.fixture().await;
    let opts = options(h, 60, 150)?;
    let mut cookie = start(c, &fx, &opts).await?;
    for round in 0..2 {
        h.clock().advance(Duration::from_secs(50));
        let s = SessionDriver::new(fx.store().clone(), opts.clone(), Some(cookie.clone()));
        let step = format!("request {round} within the lifetime");
        c.eq(
            &step,
            Some("ada".to_owned()),
            c.ok("get", s.get("user").await)?,
        )?;
        if let CookieChange::Set(v) = c.ok("finish", s.finish().await)?.cookie {
            cookie = v;
        }
    }
    h.clock().advance(Duration::from_secs(50));
    let s = SessionDriver::new(fx.store().clone(), opts, Some(cookie));
    c.eq(
        "gone after the absolute lifetime",
        None,
        c.ok("get", s.get::<String>("user").await)?,
    )
}

/// On the system clock: a record with a 1.5 s deadline is gone 2.5 s later. For stores
/// with native TTLs the server itself must have dropped it (checked through the raw
/// view when the fixture has one).
pub async fn expiry_real_time(h: &Harness) -> CaseResult {
    let c = Check::new("expiry_real_time");
    let fx = h.system_fixture().await;
    let now = session_core::Clock::system().now();
    let r = record_at(now, Duration::from_millis(1500), data([("k", json!("v"))]));
    let cookie = c.ok("create", fx.store().create(&r).await)?;
    let live = c.ok("load right away", fx.store().load(&cookie).await)?;
    c.eq("live right away", Some(r.id), live.map(|r| r.id))?;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let gone = c.ok("load after the deadline", fx.store().load(&cookie).await)?;
    c.eq("gone after the deadline", None, gone.map(|r| r.id))?;
    if fx.caps().native_ttl {
        if let Some(entries) = fx.raw_entries().await {
            c.eq("server dropped the expired key", 0, entries.len())?;
        }
    }
    Ok(())
}
