//! What a touch policy costs in store writes on a read-only workload: returning
//! visitors whose requests only read their session, through the request-local
//! `Session` handle (exactly what the HTTP layer runs per request), over a
//! `CountingStore` around a `MemoryStore`, on a manual clock.
//!
//! 100 visitors each make one request that writes their session (log in), then a
//! read-only request every `gap` seconds for 30 simulated minutes. Counted: loads, and
//! writes (saves and touches) after the log-in.

use std::sync::Arc;
use std::time::Duration;

use session_conformance::CountingStore;
use session_core::{
    CookieChange, ManualClock, MemoryStore, SessionDriver, SessionOptions, SessionStore,
    StoreSettings, TouchPolicy,
};

use crate::measure::round1;
use crate::results::TouchRow;
use crate::BoxResult;

const VISITORS: usize = 100;
const SIMULATED: Duration = Duration::from_secs(30 * 60);

async fn one(gap: u64, policy: TouchPolicy) -> BoxResult<(u64, u64, u64)> {
    let clock = ManualClock::new();
    let counting = Arc::new(CountingStore::new(
        MemoryStore::new().with_settings(StoreSettings::new().with_clock(clock.clone())),
    ));
    let store: Arc<dyn SessionStore> = counting.clone();
    let options = Arc::new(
        SessionOptions::default()
            .with_touch(policy)
            .with_clock(clock.clone()),
    );
    options.validate()?;
    let mut cookies = Vec::with_capacity(VISITORS);
    for v in 0..VISITORS {
        let session = SessionDriver::new(store.clone(), options.clone(), None);
        session
            .insert("user", format!("user-{v}@example.com"))
            .await?;
        match session.finish().await?.cookie {
            CookieChange::Set(c) => cookies.push(c),
            _ => return Err("the first request set no cookie".into()),
        }
    }
    let before = counting.counts();
    let mut requests = 0u64;
    for _ in 0..SIMULATED.as_secs() / gap {
        clock.advance(Duration::from_secs(gap));
        for cookie in &mut cookies {
            let session = SessionDriver::new(store.clone(), options.clone(), Some(cookie.clone()));
            let user: Option<String> = session.get("user").await?;
            if user.is_none() {
                return Err("a visitor lost the session".into());
            }
            if let CookieChange::Set(c) = session.finish().await?.cookie {
                *cookie = c;
            }
            requests += 1;
        }
    }
    let after = counting.counts();
    let writes =
        (after.save + after.touch + after.create) - (before.save + before.touch + before.create);
    Ok((requests, after.load - before.load, writes))
}

/// The touch table: request gaps of 1, 5 and 30 s under `Always`, `Throttled(60 s)`
/// (the default) and `OnChange`.
pub async fn run() -> BoxResult<Vec<TouchRow>> {
    eprintln!("touch policy: counting store writes");
    let mut rows = Vec::new();
    for gap in [1u64, 5, 30] {
        let mut always = None;
        for (name, policy) in [
            ("Always", TouchPolicy::Always),
            (
                "Throttled(60s)",
                TouchPolicy::Throttled(Duration::from_secs(60)),
            ),
            ("OnChange", TouchPolicy::OnChange),
        ] {
            let (requests, loads, writes) = one(gap, policy).await?;
            if always.is_none() {
                always = Some(writes);
            }
            let reduction = always
                .filter(|a| *a > 0)
                .map(|a| round1(100.0 * (1.0 - writes as f64 / a as f64)));
            rows.push(TouchRow {
                request_gap_s: gap,
                policy: name.into(),
                requests,
                loads,
                writes,
                reduction_pct: if name == "Always" { None } else { reduction },
            });
        }
    }
    Ok(rows)
}
