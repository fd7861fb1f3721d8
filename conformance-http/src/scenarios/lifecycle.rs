//! A session's id and end: cycling the id, deleting, invalidating.

use session_conformance::{CaseResult, Harness};

use crate::client::Test;
use crate::Adapter;

/// tower-sessions' `cycle_session_id` and the layer's
/// `cycle_id_issues_a_new_cookie_and_kills_the_old`: a new cookie value that still
/// holds the data; the old record is deleted, so the old cookie opens nothing and is
/// expired (a store that keeps nothing to delete, the cookie store, still opens the
/// data sealed in its old value, as its docs warn).
pub async fn cycle_id_old_cookie_dead<A: Adapter>(adapter: &A, harness: &Harness) -> CaseResult {
    let t = Test::new("cycle_id_old_cookie_dead", adapter, harness).await;
    let app = t.serve(t.hour()).await?;
    let old = app.get("/set?key=foo&value=42", None).await?.cookie()?;
    let r = app.get("/cycle", Some(&old.pair())).await?;
    r.is(200, "cycled")?;
    let new = r.cookie()?;
    t.that(
        "a new value",
        new.value != old.value,
        "a value unlike the old one",
        &new.value,
    )?;
    app.get("/get?key=foo", Some(&new.pair()))
        .await?
        .is(200, "42")?;
    let stale = app.get("/get?key=foo", Some(&old.pair())).await?;
    if t.revokes() {
        stale.is(200, "none")?;
        stale.removes_cookie()?;
    } else {
        stale.is(200, "42")?;
    }
    Ok(())
}

/// tower-sessions' `flush_session`, Django's `test_session_delete_on_end` and
/// `test_flush_empty_without_session_cookie_doesnt_set_cookie`, and the layer's
/// `logout_expires_the_cookie_and_the_old_one_is_dead`: deleting expires the cookie
/// (empty value, `Max-Age=0`, the same `Path`), and the old cookie opens nothing;
/// deleting without a session sends no cookie at all.
pub async fn delete_expires_cookie<A: Adapter>(adapter: &A, harness: &Harness) -> CaseResult {
    let t = Test::new("delete_expires_cookie", adapter, harness).await;
    let app = t.serve(t.hour()).await?;
    let c = app.get("/set?key=foo&value=42", None).await?.cookie()?;
    let r = app.get("/delete", Some(&c.pair())).await?;
    r.is(200, "deleted")?;
    let removal = r.removes_cookie()?;
    t.eq("the cookie's name", "session", removal.name.as_str())?;
    t.attr_is("Path", "Path", Some("/"), &removal)?;
    if t.revokes() {
        app.get("/get?key=foo", Some(&c.pair()))
            .await?
            .is(200, "none")?;
    }
    let r = app.get("/delete", None).await?;
    r.is(200, "deleted")?;
    r.no_cookie()
}

/// `invalidate`: the stored session goes and a fresh one starts under a new id,
/// written only if something is put in it. Empty: the cookie is expired. With a new
/// value: a new cookie that holds only that value. Either way the old cookie opens
/// nothing.
pub async fn invalidate_starts_fresh<A: Adapter>(adapter: &A, harness: &Harness) -> CaseResult {
    let t = Test::new("invalidate_starts_fresh", adapter, harness).await;
    let app = t.serve(t.builder()).await?;
    let old = app.get("/set?key=a&value=1", None).await?.cookie()?;
    let r = app.get("/invalidate", Some(&old.pair())).await?;
    r.is(200, "invalidated")?;
    r.removes_cookie()?;
    if t.revokes() {
        app.get("/get?key=a", Some(&old.pair()))
            .await?
            .is(200, "none")?;
    }

    let old = app.get("/set?key=a&value=1", None).await?.cookie()?;
    let r = app
        .get("/invalidate?key=b&value=2", Some(&old.pair()))
        .await?;
    let new = r.cookie()?;
    t.that(
        "a new value",
        new.value != old.value && !new.value.is_empty(),
        "a new, non-empty value",
        &new.raw,
    )?;
    app.get("/get?key=b", Some(&new.pair()))
        .await?
        .is(200, "2")?;
    app.get("/get?key=a", Some(&new.pair()))
        .await?
        .is(200, "none")?;
    if t.revokes() {
        app.get("/get?key=a", Some(&old.pair()))
            .await?
            .is(200, "none")?;
    }
    Ok(())
}
