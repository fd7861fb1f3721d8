//! The request-local session handle's semantics, run against the store under test.

use std::sync::Arc;
use std::time::Duration;

use session_core::{
    CookieChange, SaveMode, SessionDriver, SessionId, SessionOptions, SessionStore, TouchPolicy,
};

use crate::wrappers::CountingStore;
use crate::{CaseResult, Check, Failure, Fixture, Harness};

fn opts(h: &Harness) -> SessionOptions {
    SessionOptions::default().with_clock(h.clock().clone())
}

fn counting(fx: &Fixture) -> Arc<CountingStore<Arc<dyn SessionStore>>> {
    Arc::new(CountingStore::new(fx.store().clone()))
}

/// Runs one request that stores `user = ada` and returns its cookie.
async fn login(
    c: Check,
    store: Arc<dyn SessionStore>,
    opts: &Arc<SessionOptions>,
) -> Result<String, Failure> {
    let s = SessionDriver::new(store, opts.clone(), None);
    c.ok("insert user", s.insert("user", "ada").await)?;
    match c.ok("finish login", s.finish().await)?.cookie {
        CookieChange::Set(v) => Ok(v),
        other => Err(c.fail("login sets a cookie", "Set(..)", format!("{other:?}"))),
    }
}

async fn user(
    c: Check,
    store: Arc<dyn SessionStore>,
    opts: &Arc<SessionOptions>,
    cookie: &str,
) -> Result<Option<String>, Failure> {
    let s = SessionDriver::new(store, opts.clone(), Some(cookie.to_owned()));
    c.ok("get user", s.get::<String>("user").await)
}

/// A request that never touches its session costs zero store operations, with or
/// without a cookie; one that only reads costs one load under `OnChange`.
pub async fn session_lazy_no_store_ops(h: &Harness) -> CaseResult {
    let c = Check::new("session_lazy_no_store_ops");
    let fx = h.fixture().await;
    let counted = counting(&fx);
    let o = Arc::new(opts(h).with_touch(TouchPolicy::OnChange));
    let cookie = login(c, counted.clone(), &o).await?;
    let before = counted.counts();

    for incoming in [None, Some(cookie.clone()), Some("garbage".to_owned())] {
        let s = SessionDriver::new(counted.clone(), o.clone(), incoming);
        let out = c.ok("finish untouched", s.finish().await)?;
        c.eq(
            "untouched session leaves the cookie alone",
            CookieChange::Unchanged,
            out.cookie,
        )?;
    }
    c.eq(
        "store operations for untouched requests",
        before,
        counted.counts(),
    )?;

    let s = SessionDriver::new(counted.clone(), o.clone(), Some(cookie));
    c.ok("read", s.get::<String>("user").await)?;
    c.ok("read again", s.get::<String>("user").await)?;
    c.ok("finish", s.finish().await)?;
    let after = counted.counts();
    c.eq(
        "a read-only request costs one load",
        before.total() + 1,
        after.total(),
    )?;
    c.eq("and that one is a load", before.load + 1, after.load)
}

/// A new session nobody writes to is not persisted and gets no cookie.
pub async fn session_empty_not_persisted(h: &Harness) -> CaseResult {
    let c = Check::new("session_empty_not_persisted");
    let fx = h.fixture().await;
    let counted = counting(&fx);
    let o = Arc::new(opts(h));
    let s = SessionDriver::new(counted.clone(), o.clone(), None);
    c.eq("empty", true, c.ok("is_empty", s.is_empty().await)?)?;
    c.ok("insert then remove", s.insert("tmp", 1).await)?;
    c.ok("remove", s.remove_value("tmp").await)?;
    let out = c.ok("finish", s.finish().await)?;
    c.eq(
        "no cookie for an empty session",
        CookieChange::Unchanged,
        out.cookie,
    )?;
    c.eq("no writes", 0, counted.counts().writes())?;
    if fx.caps().enumerate {
        c.eq(
            "nothing stored",
            0,
            c.ok("count", fx.store().count().await)?,
        )?;
    }
    Ok(())
}

/// An unknown id from a client is never adopted: writing issues a fresh id and the
/// client's id still names nothing.
pub async fn session_unknown_id_not_adopted(h: &Harness) -> CaseResult {
    let c = Check::new("session_unknown_id_not_adopted");
    let fx = h.fixture().await;
    let o = Arc::new(opts(h));
    let planted = SessionId::generate().to_string();
    let s = SessionDriver::new(fx.store().clone(), o.clone(), Some(planted.clone()));
    c.ok("insert", s.insert("user", "ada").await)?;
    let id = c.ok("id", s.id().await)?;
    c.eq("no id before the first write", None, id)?;
    let out = c.ok("finish", s.finish().await)?;
    let CookieChange::Set(cookie) = out.cookie else {
        return Err(c.fail("cookie", "Set(fresh)", format!("{:?}", out.cookie)));
    };
    c.that(
        "fresh cookie",
        cookie != planted,
        "differs from the planted id",
        &cookie,
    )?;
    let planted_load = c.ok("load planted", fx.store().load(&planted).await)?;
    c.eq("planted id names nothing", None, planted_load.map(|r| r.id))?;
    c.eq(
        "data under the fresh cookie",
        Some("ada".to_owned()),
        user(c, fx.store().clone(), &o, &cookie).await?,
    )
}

/// `Explicit` mode writes only sessions on which `save()` was called.
pub async fn session_explicit_save_mode(h: &Harness) -> CaseResult {
    let c = Check::new("session_explicit_save_mode");
    let fx = h.fixture().await;
    let o = Arc::new(
        opts(h)
            .with_save_mode(SaveMode::Explicit)
            .with_touch(TouchPolicy::OnChange),
    );
    let s = SessionDriver::new(fx.store().clone(), o.clone(), None);
    c.ok("insert without save", s.insert("user", "ada").await)?;
    let out = c.ok("finish", s.finish().await)?;
    c.eq(
        "unsaved new session: no cookie",
        CookieChange::Unchanged,
        out.cookie,
    )?;

    let s = SessionDriver::new(fx.store().clone(), o.clone(), None);
    c.ok("insert", s.insert("user", "ada").await)?;
    s.save().await;
    let CookieChange::Set(cookie) = c.ok("finish", s.finish().await)?.cookie else {
        return Err(c.fail("saved session", "a cookie", "none"));
    };
    let s = SessionDriver::new(fx.store().clone(), o.clone(), Some(cookie.clone()));
    c.ok("change without save", s.insert("user", "bob").await)?;
    let out = c.ok("finish", s.finish().await)?;
    c.eq(
        "unsaved change: cookie untouched",
        CookieChange::Unchanged,
        out.cookie,
    )?;
    c.eq(
        "unsaved change dropped",
        Some("ada".to_owned()),
        user(c, fx.store().clone(), &o, &cookie).await?,
    )?;

    let s = SessionDriver::new(fx.store().clone(), o.clone(), Some(cookie.clone()));
    c.ok("change", s.insert("user", "bob").await)?;
    c.ok("persist mid-request", s.persist().await)?;
    let mid = c.ok("load mid-request", fx.store().load(&cookie).await)?;
    let persisted = mid.as_ref().and_then(|r| r.data.get("user").cloned());
    // A self-sealed store's old cookie still opens the old record; the new value is
    // in the outcome.
    if !fx.caps().self_sealed {
        c.eq(
            "persist wrote now",
            Some(session_core::Value::from("bob")),
            persisted,
        )?;
    }
    let out = c.ok("finish", s.finish().await)?;
    let cookie = match out.cookie {
        CookieChange::Set(v) => v,
        _ => cookie,
    };
    c.eq(
        "persisted",
        Some("bob".to_owned()),
        user(c, fx.store().clone(), &o, &cookie).await?,
    )
}

/// `cycle_id` keeps the data under a new id and the old id no longer loads (where the
/// store can revoke it).
pub async fn session_cycle_id(h: &Harness) -> CaseResult {
    let c = Check::new("session_cycle_id");
    let fx = h.fixture().await;
    let o = Arc::new(opts(h));
    let old = login(c, fx.store().clone(), &o).await?;
    let s = SessionDriver::new(fx.store().clone(), o.clone(), Some(old.clone()));
    let old_id = c.ok("id", s.id().await)?;
    s.cycle_id().await;
    let CookieChange::Set(new) = c.ok("finish", s.finish().await)?.cookie else {
        return Err(c.fail("cycled session", "a new cookie", "none"));
    };
    c.that("cookie changed", new != old, "a different cookie", &new)?;
    let s = SessionDriver::new(fx.store().clone(), o.clone(), Some(new.clone()));
    c.eq(
        "data kept",
        Some("ada".to_owned()),
        c.ok("get", s.get::<String>("user").await)?,
    )?;
    let new_id = c.ok("new id", s.id().await)?;
    c.that("id changed", new_id != old_id, "a new id", new_id)?;
    let old_load = c.ok("load old", fx.store().load(&old).await)?;
    if fx.caps().revoke {
        c.eq("old id no longer loads", None, old_load.map(|r| r.id))
    } else {
        // Documented: without revoke the old record (or the old sealed cookie) cannot
        // be removed, so it opens until it expires.
        c.that(
            "old cookie still opens until expiry",
            old_load.is_some(),
            "Some",
            old_load.map(|r| r.id),
        )
    }
}

/// `delete` removes the record and expires the cookie; the old cookie is dead.
pub async fn session_delete_revokes(h: &Harness) -> CaseResult {
    let c = Check::new("session_delete_revokes");
    let fx = h.fixture().await;
    let o = Arc::new(opts(h));
    let cookie = login(c, fx.store().clone(), &o).await?;
    let s = SessionDriver::new(fx.store().clone(), o.clone(), Some(cookie.clone()));
    c.ok("delete", s.delete().await)?;
    c.ok(
        "insert after delete is dropped",
        s.insert("user", "mallory").await,
    )?;
    let out = c.ok("finish", s.finish().await)?;
    c.eq("cookie expired", CookieChange::Remove, out.cookie)?;
    let replay = user(c, fx.store().clone(), &o, &cookie).await?;
    if fx.caps().revoke {
        c.eq("replayed cookie is logged out", None, replay)
    } else {
        c.eq(
            "documented: without revoke the old cookie opens until it expires",
            Some("ada".to_owned()),
            replay,
        )
    }
}

/// `invalidate` deletes the session and continues with a fresh one under a new id.
pub async fn session_invalidate(h: &Harness) -> CaseResult {
    let c = Check::new("session_invalidate");
    let fx = h.fixture().await;
    let o = Arc::new(opts(h));
    let cookie = login(c, fx.store().clone(), &o).await?;
    let s = SessionDriver::new(fx.store().clone(), o.clone(), Some(cookie.clone()));
    c.ok("invalidate", s.invalidate().await)?;
    c.eq(
        "fresh session is empty",
        true,
        c.ok("is_empty", s.is_empty().await)?,
    )?;
    c.ok("insert flash", s.insert("flash", "bye").await)?;
    let CookieChange::Set(new) = c.ok("finish", s.finish().await)?.cookie else {
        return Err(c.fail("invalidated session with data", "a new cookie", "none"));
    };
    c.that("new cookie", new != cookie, "a different cookie", &new)?;
    let s = SessionDriver::new(fx.store().clone(), o.clone(), Some(new));
    c.eq(
        "old data gone from the new session",
        None,
        c.ok("get", s.get::<String>("user").await)?,
    )?;
    c.eq(
        "new data kept",
        Some("bye".to_owned()),
        c.ok("get", s.get::<String>("flash").await)?,
    )?;
    if fx.caps().revoke {
        c.eq(
            "old cookie dead",
            None,
            user(c, fx.store().clone(), &o, &cookie).await?,
        )?;
    }
    Ok(())
}

/// A logout that lands while another request is still working on the session wins:
/// the slower request's save does not bring the session back.
pub async fn session_logout_beats_slow_save(h: &Harness) -> CaseResult {
    let c = Check::new("session_logout_beats_slow_save");
    let fx = h.fixture().await;
    let o = Arc::new(opts(h));
    let cookie = login(c, fx.store().clone(), &o).await?;
    let slow = SessionDriver::new(fx.store().clone(), o.clone(), Some(cookie.clone()));
    c.ok("slow request reads", slow.get::<String>("user").await)?;
    c.ok("slow request writes", slow.insert("cart", 3).await)?;
    let logout = SessionDriver::new(fx.store().clone(), o.clone(), Some(cookie.clone()));
    c.ok("logout", logout.delete().await)?;
    c.ok("logout finishes", logout.finish().await)?;
    let out = c.ok("slow request finishes", slow.finish().await)?;
    if !fx.caps().revoke {
        // Documented: without revoke the logout cannot remove the record (or the sealed
        // cookie), so the slower request's write goes through and sets its cookie.
        return c.that(
            "slow request re-seals",
            matches!(out.cookie, CookieChange::Set(_)),
            "Set(..)",
            out.cookie,
        );
    }
    c.eq(
        "slow request expires the cookie",
        CookieChange::Remove,
        out.cookie,
    )?;
    c.eq(
        "still logged out",
        None,
        user(c, fx.store().clone(), &o, &cookie).await?,
    )?;
    if fx.caps().enumerate {
        c.eq(
            "nothing resurrected",
            0,
            c.ok("count", fx.store().count().await)?,
        )?;
    }
    Ok(())
}

/// A logout that lands while another request cycles the id wins too (where the store
/// can revoke): the cycle must not re-create the session under a new id. And on every
/// compare-and-set store, revoking or not, the cycle must not lose a concurrent save.
pub async fn session_logout_beats_slow_cycle(h: &Harness) -> CaseResult {
    let c = Check::new("session_logout_beats_slow_cycle");
    let fx = h.fixture().await;
    let o = Arc::new(opts(h));
    let cookie = login(c, fx.store().clone(), &o).await?;
    let slow = SessionDriver::new(fx.store().clone(), o.clone(), Some(cookie.clone()));
    c.ok("slow request reads", slow.get::<String>("user").await)?;
    slow.cycle_id().await;
    let logout = SessionDriver::new(fx.store().clone(), o.clone(), Some(cookie.clone()));
    c.ok("logout", logout.delete().await)?;
    c.ok("logout finishes", logout.finish().await)?;
    let out = c.ok("slow request finishes", slow.finish().await)?;
    if fx.caps().revoke {
        c.eq(
            "slow cycle expires the cookie",
            CookieChange::Remove,
            out.cookie,
        )?;
        if fx.caps().enumerate {
            c.eq(
                "nothing resurrected under a new id",
                0,
                c.ok("count", fx.store().count().await)?,
            )?;
        }
    } else {
        // Documented: without revoke the logout cannot remove the record (or the sealed
        // cookie), so the cycle goes through and sets the new cookie.
        c.that(
            "slow cycle sets its cookie",
            matches!(out.cookie, CookieChange::Set(_)),
            "Set(..)",
            out.cookie,
        )?;
    }

    if !fx.caps().compare_and_set {
        // Last writer wins: the cycle may overwrite a concurrent save; nothing more to
        // check.
        return Ok(());
    }
    // And a save that lands between the load and the cycle survives the move.
    let cookie = login(c, fx.store().clone(), &o).await?;
    let slow = SessionDriver::new(fx.store().clone(), o.clone(), Some(cookie.clone()));
    c.ok("slow request reads", slow.get::<String>("user").await)?;
    slow.cycle_id().await;
    let other = SessionDriver::new(fx.store().clone(), o.clone(), Some(cookie.clone()));
    c.ok("other request writes", other.insert("cart", 3).await)?;
    c.ok("other request finishes", other.finish().await)?;
    let CookieChange::Set(new) = c.ok("slow request finishes", slow.finish().await)?.cookie else {
        return Err(c.fail("cycled session", "a new cookie", "none"));
    };
    let s = SessionDriver::new(fx.store().clone(), o, Some(new));
    c.eq(
        "concurrent save kept by the cycle",
        Some(3),
        c.ok("get cart", s.get::<u32>("cart").await)?,
    )
}

/// Touch policies: `Throttled` touches at most once per interval, `OnChange` never,
/// `Always` on every request; a touch is a `touch`, not a rewrite.
pub async fn session_touch_policies(h: &Harness) -> CaseResult {
    let c = Check::new("session_touch_policies");
    let fx = h.fixture().await;
    let counted = counting(&fx);
    let throttled = Arc::new(opts(h).with_touch(TouchPolicy::Throttled(Duration::from_secs(60))));
    let mut cookie = login(c, counted.clone(), &throttled).await?;

    let visit = |o: Arc<SessionOptions>, cookie: String| {
        let store = counted.clone();
        async move {
            let s = SessionDriver::new(store, o, Some(cookie.clone()));
            c.ok("read", s.get::<String>("user").await)?;
            let out = c.ok("finish", s.finish().await)?;
            Ok::<_, Failure>(match out.cookie {
                CookieChange::Set(v) => v,
                _ => cookie,
            })
        }
    };

    h.clock().advance(Duration::from_secs(30));
    let before = counted.counts();
    cookie = visit(throttled.clone(), cookie).await?;
    c.eq(
        "within the interval: no touch",
        before.touch,
        counted.counts().touch,
    )?;
    h.clock().advance(Duration::from_secs(31));
    cookie = visit(throttled.clone(), cookie).await?;
    c.eq(
        "after the interval: one touch",
        before.touch + 1,
        counted.counts().touch,
    )?;
    c.eq("and no save", before.save, counted.counts().save)?;

    let on_change = Arc::new(opts(h).with_touch(TouchPolicy::OnChange));
    h.clock().advance(Duration::from_secs(3600));
    let before = counted.counts();
    cookie = visit(on_change, cookie).await?;
    c.eq(
        "OnChange: no write on a read",
        before.writes(),
        counted.counts().writes(),
    )?;

    let always = Arc::new(opts(h).with_touch(TouchPolicy::Always));
    let before = counted.counts();
    cookie = visit(always.clone(), cookie).await?;
    visit(always, cookie).await?;
    c.eq(
        "Always: a touch per request",
        before.touch + 2,
        counted.counts().touch,
    )
}
