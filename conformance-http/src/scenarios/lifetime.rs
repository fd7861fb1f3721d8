//! The cookie's lifetime: `Max-Age` from the layer's expiry or the session's own, and
//! how touching moves it. Time is the harness's manual clock, shared by the sessions
//! and the store, so every `Max-Age` is exact and "ten minutes later" costs no sleep.

use std::time::Duration;

use session_conformance::{CaseResult, Failure, Harness};
use session_core::TouchPolicy;
use session_http::{Builder, CookieConfig, HttpSessions};

use super::{DAY, HOUR, WEEK};
use crate::client::{Answer, App, SetCookie, Test};
use crate::scenarios::{absolute, idle};
use crate::Adapter;

/// tower-sessions' `session_max_age`, our side: the default cookie persists, with a
/// `Max-Age` of the default 24 h idle deadline.
pub async fn max_age_persistent_default<A: Adapter>(adapter: &A, harness: &Harness) -> CaseResult {
    let t = Test::new("max_age_persistent_default", adapter, harness).await;
    let app = t.serve(t.builder()).await?;
    let c = app.get("/set?key=foo&value=42", None).await?.cookie()?;
    t.max_age_is("24 h", Some(DAY.as_secs()), &c)?;
    t.attr_is("HttpOnly", "HttpOnly", Some(""), &c)?;
    t.attr_is("Path", "Path", Some("/"), &c)
}

/// tower-sessions' `session_max_age` (their default) and `expiry_on_session_end_test`
/// for the whole layer: `with_persistent(false)` is a browser-session cookie, no
/// `Max-Age` and no `Expires`, with the other attributes as configured.
pub async fn max_age_browser_session_default<A: Adapter>(
    adapter: &A,
    harness: &Harness,
) -> CaseResult {
    let t = Test::new("max_age_browser_session_default", adapter, harness).await;
    let app = t
        .serve(
            t.builder()
                .cookie(CookieConfig::default().with_persistent(false)),
        )
        .await?;
    let c = app.get("/set?key=foo&value=42", None).await?.cookie()?;
    t.max_age_is("no Max-Age", None, &c)?;
    t.attr_is("Secure", "Secure", Some(""), &c)?;
    let app = t
        .serve(
            t.builder().cookie(
                CookieConfig::default()
                    .with_persistent(false)
                    .with_name("sid")
                    .with_secure(false),
            ),
        )
        .await?;
    let c = app.get("/set?key=foo&value=42", None).await?.cookie()?;
    t.eq("the name", "sid", c.name.as_str())?;
    t.max_age_is("no Max-Age", None, &c)?;
    t.attr_is("no Secure", "Secure", None, &c)
}

/// tower-sessions' `expiry_on_inactivity_test`: two hours idle is a two-hour `Max-Age`.
pub async fn max_age_idle<A: Adapter>(adapter: &A, harness: &Harness) -> CaseResult {
    let t = Test::new("max_age_idle", adapter, harness).await;
    let app = t
        .serve(t.builder().options(t.options().with_expiry(idle(2 * HOUR))))
        .await?;
    let c = app.get("/set?key=foo&value=42", None).await?.cookie()?;
    t.max_age_is("two hours", Some(2 * HOUR.as_secs()), &c)
}

/// tower-sessions' `expiry_at_date_time_test`, "a week from now": an absolute lifetime
/// of a week for a session created now.
pub async fn max_age_absolute<A: Adapter>(adapter: &A, harness: &Harness) -> CaseResult {
    let t = Test::new("max_age_absolute", adapter, harness).await;
    let app = t
        .serve(t.builder().options(t.options().with_expiry(absolute(WEEK))))
        .await?;
    let c = app.get("/set?key=foo&value=42", None).await?.cookie()?;
    t.max_age_is("a week", Some(WEEK.as_secs()), &c)
}

/// tower-sessions' `set_expiry`: a session that sets its own expiry gets a cookie whose
/// `Max-Age` follows it: the layer's idle hour, then the session's absolute day, the
/// configured `Domain` kept; `/lifetime` reads whose expiry applies.
pub async fn max_age_follows_session_expiry<A: Adapter>(
    adapter: &A,
    harness: &Harness,
) -> CaseResult {
    let t = Test::new("max_age_follows_session_expiry", adapter, harness).await;
    let (app, c) = hour_on_localhost(&t).await?;
    app.get("/lifetime", Some(&c.pair()))
        .await?
        .is(200, &format!("layer {}", HOUR.as_secs()))?;
    let r = app
        .get(
            &format!("/expiry?absolute={}", DAY.as_secs()),
            Some(&c.pair()),
        )
        .await?;
    r.is(200, "set")?;
    let c = r.cookie()?;
    t.max_age_is("the session's day", Some(DAY.as_secs()), &c)?;
    t.attr_is("Domain", "Domain", Some("localhost"), &c)?;
    app.get("/lifetime", Some(&c.pair()))
        .await?
        .is(200, &format!("own {}", DAY.as_secs()))
}

/// tower-sessions' `change_expiry_type`, one way, and remember-me: under a
/// browser-session default, a session that chooses a dated or remembered lifetime
/// gets a `Max-Age`.
pub async fn max_age_session_persists_over_browser_default<A: Adapter>(
    adapter: &A,
    harness: &Harness,
) -> CaseResult {
    let t = Test::new(
        "max_age_session_persists_over_browser_default",
        adapter,
        harness,
    )
    .await;
    let app = t
        .serve(
            t.builder().cookie(
                CookieConfig::default()
                    .with_domain("localhost")
                    .with_persistent(false),
            ),
        )
        .await?;
    let c = app.get("/set?key=foo&value=42", None).await?.cookie()?;
    t.max_age_is("the layer's browser-session cookie", None, &c)?;
    let r = app
        .get(
            &format!("/expiry?absolute={}", DAY.as_secs()),
            Some(&c.pair()),
        )
        .await?;
    t.max_age_is("a day of its own", Some(DAY.as_secs()), &r.cookie()?)?;
    let thirty_days = 30 * DAY.as_secs();
    let c = app.get("/set?key=foo&value=42", None).await?.cookie()?;
    let r = app
        .get(&format!("/expiry?remember={thirty_days}"), Some(&c.pair()))
        .await?;
    let c = r.cookie()?;
    t.max_age_is("remembered for thirty days", Some(thirty_days), &c)?;
    // Later writes keep it, and move its Max-Age.
    t.advance(Duration::from_secs(60));
    let r = app.get("/set?key=foo&value=43", Some(&c.pair())).await?;
    let again = r.cookie()?;
    t.max_age_is("still thirty days", Some(thirty_days), &again)?;
    if t.server_side() {
        t.eq("the same token", c.value.as_str(), again.value.as_str())?;
    }
    Ok(())
}

/// tower-sessions' `change_expiry_type`, the other way, and `expiry_on_session_end_test`
/// for one session: under a persistent default, a session that chooses a
/// browser-session cookie loses its `Max-Age`, keeping the layer's server-side hour.
pub async fn max_age_session_browser_over_persistent_default<A: Adapter>(
    adapter: &A,
    harness: &Harness,
) -> CaseResult {
    let t = Test::new(
        "max_age_session_browser_over_persistent_default",
        adapter,
        harness,
    )
    .await;
    let (app, c) = hour_on_localhost(&t).await?;
    let r = app.get("/expiry?browser=1", Some(&c.pair())).await?;
    let c = r.cookie()?;
    t.max_age_is("a browser-session cookie", None, &c)?;
    app.get("/lifetime", Some(&c.pair()))
        .await?
        .is(200, &format!("own {}", HOUR.as_secs()))?;
    // Back to the layer's choice: a Max-Age again.
    let r = app.get("/expiry?reset=1", Some(&c.pair())).await?;
    t.max_age_is("the layer's hour again", Some(HOUR.as_secs()), &r.cookie()?)
}

/// The app of tower-sessions' `set_expiry` and `change_expiry_type`: an idle hour, the
/// cookie on `Domain=localhost`; and a first session, whose `Max-Age` is the hour.
async fn hour_on_localhost<A: Adapter>(t: &Test<'_, A>) -> Result<(App, SetCookie), Failure> {
    let app = t
        .serve(
            t.hour()
                .cookie(CookieConfig::default().with_domain("localhost")),
        )
        .await?;
    let c = app.get("/set?key=foo&value=42", None).await?.cookie()?;
    t.max_age_is("the layer's hour", Some(HOUR.as_secs()), &c)?;
    Ok((app, c))
}

/// tower-sessions' `basic_service_test`: the first write sets a cookie; the next request
/// writing the same value sets none (nothing changed, and the touch throttle of a
/// minute is not due).
pub async fn unchanged_session_sends_no_cookie<A: Adapter>(
    adapter: &A,
    harness: &Harness,
) -> CaseResult {
    let t = Test::new("unchanged_session_sends_no_cookie", adapter, harness).await;
    let app = t.serve(t.builder()).await?;
    let c = app.get("/set?key=foo&value=42", None).await?.cookie()?;
    let r = app.get("/set?key=foo&value=42", Some(&c.pair())).await?;
    r.is(200, "ok")?;
    r.no_cookie()
}

/// Three requests ten minutes apart under `TouchPolicy::Always` (tower-sessions'
/// `with_always_save(true)`): the first sets the session, the next two read its stored
/// deadline (Unix milliseconds). Returns the first two answers and the two deadlines.
async fn always_touch<A: Adapter>(
    t: &Test<'_, A>,
    builder: Builder<HttpSessions>,
) -> Result<(Answer, Answer, u128, u128), Failure> {
    let app = t.serve(builder).await?;
    let first = app.get("/set?key=foo&value=42", None).await?;
    let cookie = first.cookie()?.pair();
    t.advance(Duration::from_secs(600));
    let second = app.get("/deadline", Some(&cookie)).await?;
    let d1 = deadline(t, &second)?;
    t.advance(Duration::from_secs(600));
    let cookie = match second.set_cookies().is_empty() {
        true => cookie,
        false => second.cookie()?.pair(),
    };
    let d2 = deadline(t, &app.get("/deadline", Some(&cookie)).await?)?;
    Ok((first, second, d1, d2))
}

fn deadline<A: Adapter>(t: &Test<'_, A>, r: &Answer) -> Result<u128, Failure> {
    r.body.parse().map_err(|_| {
        t.check
            .fail("/deadline", "a deadline in milliseconds", &r.body)
    })
}

/// tower-sessions' `expiry_on_inactivity_always_save_test`: two hours idle, touched ten
/// minutes in: `Max-Age` is two hours again, the same token (server-side), and the
/// deadline moved by ten minutes.
pub async fn always_touch_idle_moves_max_age<A: Adapter>(
    adapter: &A,
    harness: &Harness,
) -> CaseResult {
    let t = Test::new("always_touch_idle_moves_max_age", adapter, harness).await;
    let options = t
        .options()
        .with_expiry(idle(2 * HOUR))
        .with_touch(TouchPolicy::Always);
    let (first, second, d1, d2) = always_touch(&t, t.builder().options(options)).await?;
    let touched = second.cookie()?;
    t.max_age_is("two hours again", Some(2 * HOUR.as_secs()), &touched)?;
    if t.server_side() {
        t.eq("the same token", first.cookie()?.value, touched.value)?;
    }
    t.eq(
        "the deadline moved ten minutes",
        600_000,
        d2.saturating_sub(d1),
    )
}

/// tower-sessions' `expiry_at_date_time_always_save_test`: a week from creation;
/// touching does not move an absolute deadline, and the re-sent `Max-Age` counts down.
pub async fn always_touch_absolute_counts_down<A: Adapter>(
    adapter: &A,
    harness: &Harness,
) -> CaseResult {
    let t = Test::new("always_touch_absolute_counts_down", adapter, harness).await;
    let options = t
        .options()
        .with_expiry(absolute(WEEK))
        .with_touch(TouchPolicy::Always);
    let (first, second, d1, d2) = always_touch(&t, t.builder().options(options)).await?;
    let c1 = first.cookie()?;
    t.max_age_is("a week", Some(WEEK.as_secs()), &c1)?;
    let c2 = second.cookie()?;
    t.max_age_is("what is left of the week", Some(WEEK.as_secs() - 600), &c2)?;
    if t.server_side() {
        t.eq("the same token", c1.value, c2.value)?;
    }
    t.eq("the deadline stays", d1, d2)
}

/// tower-sessions' `expiry_on_session_end_always_save_test`. Adapted: a cookie is only
/// re-sent when there is news for the browser. A server-side session touched under a
/// browser-session cookie keeps its token and has no `Max-Age`, so nothing is sent
/// while the stored deadline still moves; a self-sealed store reseals the touched
/// session, so its new value is sent, still without `Max-Age`.
pub async fn always_touch_browser_session<A: Adapter>(
    adapter: &A,
    harness: &Harness,
) -> CaseResult {
    let t = Test::new("always_touch_browser_session", adapter, harness).await;
    let builder = t
        .builder()
        .options(t.options().with_touch(TouchPolicy::Always))
        .cookie(CookieConfig::default().with_persistent(false));
    let (first, second, d1, d2) = always_touch(&t, builder).await?;
    let c1 = first.cookie()?;
    t.max_age_is("a browser-session cookie", None, &c1)?;
    if t.server_side() {
        second.no_cookie()?;
    } else {
        let c2 = second.cookie()?;
        t.max_age_is("still a browser-session cookie", None, &c2)?;
        t.that("resealed", c1.value != c2.value, "a new value", &c2.value)?;
    }
    t.that("the deadline moved", d1 < d2, "d1 < d2", (d1, d2))
}
