//! Failed requests: a 5xx from the handler, and a store that is down.

use std::sync::Arc;

use session_conformance::{CaseResult, FaultPlan, FaultStore, Harness, Op};
use session_core::SessionStore;

use crate::client::{Test, OTHER_KEY};
use crate::Adapter;

/// The layer's `server_errors_do_not_save_unless_configured`, first half, and Django's
/// `test_session_save_on_500`: a request that changes the session and answers 500
/// writes nothing and sends no cookie, for a new session and for an existing one.
pub async fn server_error_does_not_save<A: Adapter>(adapter: &A, harness: &Harness) -> CaseResult {
    let t = Test::new("server_error_does_not_save", adapter, harness).await;
    let counting = t.counting();
    let app = t.serve(t.builder_over(counting.clone())).await?;
    let r = app.get("/fail", None).await?;
    r.is(500, "failed")?;
    r.no_cookie()?;
    t.eq("nothing written", 0, counting.counts().writes())?;

    let c = app.get("/set?key=user&value=ada", None).await?.cookie()?;
    let r = app.get("/fail", Some(&c.pair())).await?;
    r.is(500, "failed")?;
    r.no_cookie()?;
    app.get("/get?key=failed", Some(&c.pair()))
        .await?
        .is(200, "none")?;
    app.get("/get?key=user", Some(&c.pair()))
        .await?
        .is(200, "ada")
}

/// The second half: with `save_on_server_error(true)` the 500's change is written and
/// its cookie sent.
pub async fn server_error_saves_when_configured<A: Adapter>(
    adapter: &A,
    harness: &Harness,
) -> CaseResult {
    let t = Test::new("server_error_saves_when_configured", adapter, harness).await;
    let app = t.serve(t.builder().save_on_server_error(true)).await?;
    let r = app.get("/fail", None).await?;
    r.is(500, "failed")?;
    let c = r.cookie()?;
    app.get("/get?key=failed", Some(&c.pair()))
        .await?
        .is(200, "yes")
}

/// The layer's `a_failed_response_still_reports_a_completed_logout`: a handler that
/// deleted the session and then answered 500 still expires the cookie (the delete
/// happened), and the old cookie opens nothing.
pub async fn server_error_still_reports_delete<A: Adapter>(
    adapter: &A,
    harness: &Harness,
) -> CaseResult {
    let t = Test::new("server_error_still_reports_delete", adapter, harness).await;
    let app = t.serve(t.builder()).await?;
    let c = app.get("/set?key=user&value=ada", None).await?.cookie()?;
    let r = app.get("/delete?fail=1", Some(&c.pair())).await?;
    r.is(500, "deleted, then failed")?;
    r.removes_cookie()?;
    if t.revokes() {
        app.get("/get?key=user", Some(&c.pair()))
            .await?
            .is(200, "none")?;
    }
    Ok(())
}

/// The layer's `store_failures_fail_closed_with_a_hook`: with the store down, a write
/// at the end of the request and a read inside the handler are both answered with the
/// error response, by default a 503 with `Retry-After: 1`, and no cookie; with an
/// `on_error` hook, the hook's response.
pub async fn store_outage_answered_503<A: Adapter>(adapter: &A, harness: &Harness) -> CaseResult {
    let t = Test::new("store_outage_answered_503", adapter, harness).await;
    let (store, plan) = faulty(&t);
    let app = t.serve(t.builder_over(store.clone())).await?;
    let hooked = t
        .serve(t.builder_over(store).on_error(|e| {
            let mut res = http::Response::new(format!("sessions unavailable: {e}"));
            *res.status_mut() = http::StatusCode::SERVICE_UNAVAILABLE;
            res
        }))
        .await?;
    // A live cookie from before the outage.
    let c = app.get("/set?key=user&value=ada", None).await?.cookie()?;
    go_down(&plan);
    for (path, cookie) in [
        ("/set?key=user&value=eve", None),
        ("/get?key=user", Some(c.pair())),
    ] {
        let r = app.get(path, cookie.as_deref()).await?;
        t.eq("the default error response", 503, r.status)?;
        t.eq(
            "Retry-After",
            Some("1".to_owned()),
            r.header("retry-after")?,
        )?;
        r.no_cookie()?;
        let r = hooked.get(path, cookie.as_deref()).await?;
        t.eq("the hook's status", 503, r.status)?;
        t.that(
            "the hook's body",
            r.body.starts_with("sessions unavailable"),
            "sessions unavailable: ...",
            &r.body,
        )?;
        r.no_cookie()?;
    }
    // A route that never uses the session still answers.
    app.get("/static", Some(&c.pair())).await?.is(200, "static")
}

/// The layer's `rotation_with_the_store_down_does_not_break_sessionless_routes`: a
/// cookie signed with an older key, which would be re-signed, does not make a
/// sessionless route fail while the store is down.
pub async fn rotation_with_store_down_spares_static<A: Adapter>(
    adapter: &A,
    harness: &Harness,
) -> CaseResult {
    let t = Test::new("rotation_with_store_down_spares_static", adapter, harness).await;
    let (store, plan) = faulty(&t);
    let old = t.serve(t.builder_over(store.clone())).await?;
    let c = old.get("/set?key=user&value=ada", None).await?.cookie()?;
    let rotated = t
        .serve(t.builder_over(store).keys(t.keys(&[OTHER_KEY, t.key()])))
        .await?;
    go_down(&plan);
    rotated
        .get("/static", Some(&c.pair()))
        .await?
        .is(200, "static")
}

/// The scenario's store behind a [`FaultStore`], and the plan that makes it fail.
fn faulty<A: Adapter>(t: &Test<'_, A>) -> (Arc<dyn SessionStore>, FaultPlan) {
    let faulty = Arc::new(FaultStore::new(t.store()));
    let plan = faulty.plan();
    (faulty, plan)
}

/// Every operation a request makes fails from now on, as when the server went away.
fn go_down(plan: &FaultPlan) {
    for op in [Op::Load, Op::Create, Op::Save, Op::Touch, Op::Delete] {
        plan.fail_always(op);
    }
}
