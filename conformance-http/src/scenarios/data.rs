//! The session's data across requests: get, remove, a counter, flash messages, and
//! the explicit save mode.

use session_conformance::{CaseResult, Harness};
use session_core::SaveMode;

use crate::client::Test;
use crate::Adapter;

/// tower-sessions' `get_session`: a value written by one request is read by the next.
pub async fn get_roundtrip<A: Adapter>(adapter: &A, harness: &Harness) -> CaseResult {
    let t = Test::new("get_roundtrip", adapter, harness).await;
    let app = t.serve(t.hour()).await?;
    let c = app.get("/set?key=foo&value=42", None).await?.cookie()?;
    app.get("/get?key=foo", Some(&c.pair()))
        .await?
        .is(200, "42")?;
    app.get("/get?key=bar", Some(&c.pair()))
        .await?
        .is(200, "none")
}

/// tower-sessions' `remove_last_value`, with `remove_value` (the raw JSON it removed)
/// and the typed `remove`: afterwards the key reads as nothing and the session is
/// empty. The client sends back the cookie the removal answered with, as a browser
/// does: on a server-side store that is the same token; a self-sealed store reseals
/// the emptied session into a new value, and its old value still opens the data sealed
/// in it (a cookie session cannot be revoked).
pub async fn remove_last_value<A: Adapter>(adapter: &A, harness: &Harness) -> CaseResult {
    let t = Test::new("remove_last_value", adapter, harness).await;
    let app = t.serve(t.hour()).await?;
    for (remove, removed) in [
        ("/remove?key=foo&raw=1", "\"42\""),
        ("/remove?key=foo", "42"),
    ] {
        let before = app.get("/set?key=foo&value=42", None).await?.cookie()?;
        let r = app.get(remove, Some(&before.pair())).await?;
        r.is(200, removed)?;
        let after = match r.set_cookies().is_empty() {
            true => before.clone(),
            false => r.cookie()?,
        };
        if t.server_side() {
            t.eq(
                "the same token",
                before.value.as_str(),
                after.value.as_str(),
            )?;
        } else {
            t.that(
                "resealed",
                before.value != after.value,
                "a new value",
                &after.value,
            )?;
            app.get("/get?key=foo", Some(&before.pair()))
                .await?
                .is(200, "42")?;
        }
        app.get("/get?key=foo", Some(&after.pair()))
            .await?
            .is(200, "none")?;
        app.get("/len", Some(&after.pair())).await?.is(200, "0")?;
    }
    Ok(())
}

/// A counter over several requests of a client with a cookie jar, as a browser keeps
/// it: 1, 2, 3, 4, 5; a second client starts at 1.
pub async fn counter_over_requests<A: Adapter>(adapter: &A, harness: &Harness) -> CaseResult {
    let t = Test::new("counter_over_requests", adapter, harness).await;
    let app = t.serve(t.builder()).await?;
    for n in 1..=5 {
        app.browse("/counter").await?.is(200, &n.to_string())?;
    }
    app.get("/counter", None).await?.is(200, "1")
}

/// The layer's `concurrent_counters_on_one_session_all_count`: twenty concurrent
/// increments of one session all count (compare-and-set, conflicts replayed). A store
/// without compare-and-set (or a self-sealed one, whose every response is a new value)
/// is last-writer-wins: there the concurrent requests only all succeed.
pub async fn counter_concurrent<A: Adapter>(adapter: &A, harness: &Harness) -> CaseResult {
    let t = Test::new("counter_concurrent", adapter, harness).await;
    let app = t.serve(t.builder()).await?;
    let cookie = app.get("/counter", None).await?.cookie()?.pair();
    let requests = (0..20).map(|_| app.get("/counter", Some(&cookie)));
    for r in futures::future::join_all(requests).await {
        t.eq("every concurrent increment answers 200", 200, r?.status)?;
    }
    if t.compare_and_set() {
        app.get("/counter", Some(&cookie)).await?.is(200, "22")?;
    }
    Ok(())
}

/// A flash message is shown once: on the next request that takes the flashes, not on
/// the one after.
pub async fn flash_shown_once<A: Adapter>(adapter: &A, harness: &Harness) -> CaseResult {
    let t = Test::new("flash_shown_once", adapter, harness).await;
    let app = t.serve(t.builder()).await?;
    app.browse("/flash?text=saved").await?.is(200, "flashed")?;
    app.browse("/flash?text=again").await?.is(200, "flashed")?;
    app.browse("/flashes").await?.is(200, "saved,again")?;
    app.browse("/flashes").await?.is(200, "")
}

/// The layer's `explicit_mode_saves_only_on_request`: under `SaveMode::Explicit` a
/// change is written (and a cookie sent) only when the handler asks for a save.
pub async fn explicit_save_mode<A: Adapter>(adapter: &A, harness: &Harness) -> CaseResult {
    let t = Test::new("explicit_save_mode", adapter, harness).await;
    let counting = t.counting();
    let options = t.options().with_save_mode(SaveMode::Explicit);
    let app = t
        .serve(t.builder_over(counting.clone()).options(options))
        .await?;
    let r = app.get("/set?key=user&value=ada", None).await?;
    r.is(200, "ok")?;
    r.no_cookie()?;
    t.eq(
        "nothing written without a save",
        0,
        counting.counts().writes(),
    )?;
    let c = app
        .get("/set?key=user&value=ada&save=1", None)
        .await?
        .cookie()?;
    app.get("/get?key=user", Some(&c.pair()))
        .await?
        .is(200, "ada")
}
