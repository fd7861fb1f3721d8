//! The session cookie: when it is sent, what it looks like, and what happens to cookies
//! the app did not make.

use session_conformance::{CaseResult, Harness};
use session_core::SessionId;
use session_http::{CookieConfig, SameSite};

use super::HOUR;
use crate::client::{Test, OTHER_KEY};
use crate::Adapter;

/// tower-sessions' `no_session_set` and `no_set_cookie_test`: a request whose handler
/// never uses the session gets no cookie, no `Vary`, and costs no store operation,
/// with or without a valid cookie.
pub async fn no_session_no_cookie<A: Adapter>(adapter: &A, harness: &Harness) -> CaseResult {
    let t = Test::new("no_session_no_cookie", adapter, harness).await;
    let counting = t.counting();
    let app = t.serve(t.builder_over(counting.clone())).await?;
    let r = app.get("/static", None).await?;
    r.is(200, "static")?;
    r.no_cookie()?;
    t.eq("no Vary on /static", None, r.header("vary")?)?;
    t.eq("no store operation", 0, counting.counts().total())?;

    let cookie = app
        .get("/set?key=user&value=ada", None)
        .await?
        .cookie()?
        .pair();
    let before = counting.counts();
    let r = app.get("/static", Some(&cookie)).await?;
    r.is(200, "static")?;
    r.no_cookie()?;
    t.eq("no Vary on /static with a cookie", None, r.header("vary")?)?;
    t.eq(
        "a valid cookie on /static costs nothing",
        before,
        counting.counts(),
    )
}

/// tower-sessions' `get_no_value`: reading a session that has nothing gives nothing,
/// and the empty session is neither written nor sent.
pub async fn get_none_sets_no_cookie<A: Adapter>(adapter: &A, harness: &Harness) -> CaseResult {
    let t = Test::new("get_none_sets_no_cookie", adapter, harness).await;
    let counting = t.counting();
    let app = t.serve(t.builder_over(counting.clone())).await?;
    let r = app.get("/get?key=foo", None).await?;
    r.is(200, "none")?;
    r.no_cookie()?;
    app.get("/len", None).await?.is(200, "0")?;
    t.eq("nothing written", 0, counting.counts().writes())
}

/// tower-sessions' `bogus_session_cookie` and `bogus_cookie_test`: a well-formed but
/// unknown (and unsigned) value is refused; a writing request gets a fresh cookie in
/// the one `Set-Cookie` header, and the fresh cookie works.
pub async fn bogus_cookie_replaced<A: Adapter>(adapter: &A, harness: &Harness) -> CaseResult {
    let t = Test::new("bogus_cookie_replaced", adapter, harness).await;
    let app = t.serve(t.hour()).await?;
    for bogus in ["AAAAAAAAAAAAAAAAAAAAAA", "bogus"] {
        let r = app
            .get("/set?key=foo&value=42", Some(&format!("session={bogus}")))
            .await?;
        r.is(200, "ok")?;
        let fresh = r.cookie()?;
        t.that(
            "a fresh value",
            fresh.value != bogus && !fresh.value.is_empty(),
            "a new, non-empty value",
            &fresh.raw,
        )?;
        app.get("/get?key=foo", Some(&fresh.pair()))
            .await?
            .is(200, "42")?;
    }
    Ok(())
}

/// tower-sessions' `malformed_session_cookie`, with the layer's rule that a token is
/// verified before any I/O: on a route that does not use the session a malformed
/// signed cookie is expired without asking the store (a self-sealed store's value is
/// only opened when used, so nothing is sent); on a route that uses it, every store
/// refuses the value and expires it.
pub async fn malformed_cookie_expired<A: Adapter>(adapter: &A, harness: &Harness) -> CaseResult {
    let t = Test::new("malformed_cookie_expired", adapter, harness).await;
    let counting = t.counting();
    let app = t.serve(t.builder_over(counting.clone())).await?;
    for malformed in ["session=malformed", "session=garbage"] {
        let r = app.get("/static", Some(malformed)).await?;
        r.is(200, "static")?;
        if t.server_side() {
            r.removes_cookie()?;
        } else {
            r.no_cookie()?;
        }
        t.eq(
            "no store operation for a malformed cookie",
            0,
            counting.counts().total(),
        )?;
    }
    let r = app.get("/get?key=foo", Some("session=malformed")).await?;
    r.is(200, "none")?;
    r.removes_cookie()?;
    Ok(())
}

/// The layer's `tampered_cookie_gets_a_fresh_session` and tower-sessions'
/// `signed_test`: a tampered value, another session's id under a forged signature or
/// another key's signature, an empty value and an oversized one all open nothing, and
/// a write under any of them gets a fresh cookie.
pub async fn tampered_cookie_refused<A: Adapter>(adapter: &A, harness: &Harness) -> CaseResult {
    let t = Test::new("tampered_cookie_refused", adapter, harness).await;
    let app = t.serve(t.builder()).await?;
    let good = app.get("/set?key=user&value=ada", None).await?.cookie()?;
    let mut tampered = good.value.clone().into_bytes();
    if let Some(last) = tampered.last_mut() {
        *last = if *last == b'A' { b'B' } else { b'A' };
    }
    let mut bad = vec![
        format!("session={}", String::from_utf8_lossy(&tampered)),
        "session=".to_owned(),
        format!("session={}", "x".repeat(10_000)),
    ];
    if t.server_side() {
        let Some((id, _)) = good.value.rsplit_once('.') else {
            return Err(t.check.fail("a signed token", "id.signature", &good.value));
        };
        bad.push(format!("session={id}.{}", "A".repeat(43)));
        let forged = t.keys(&[OTHER_KEY]).sign("session", id);
        bad.push(format!("session={forged}"));
    }
    for cookie in &bad {
        let r = app.get("/get?key=user", Some(cookie)).await?;
        r.is(200, "none")?;
        r.removes_cookie()?;
        let fresh = app
            .get("/set?key=user&value=eve", Some(cookie))
            .await?
            .cookie()?;
        t.that(
            "a fresh cookie",
            fresh.value != good.value && !fresh.value.is_empty(),
            "a new value",
            &fresh.raw,
        )?;
    }
    Ok(())
}

/// tower-sessions' `insert_session` and the layer's
/// `login_sets_a_signed_cookie_with_attributes` (and `private_test`): the first write
/// sets one cookie named `session` with the default attributes (`HttpOnly`, `Secure`,
/// `SameSite=Lax`, `Path=/`, a `Max-Age` of exactly the idle hour on the manual clock),
/// `Vary: Cookie` and `Cache-Control: private`; a server-side token is
/// `id.signature` (HMAC-SHA256, 43 base64url characters); the value shows none of the
/// data; the cookie opens the session.
pub async fn insert_sets_signed_cookie<A: Adapter>(adapter: &A, harness: &Harness) -> CaseResult {
    let t = Test::new("insert_sets_signed_cookie", adapter, harness).await;
    let app = t.serve(t.hour()).await?;
    let r = app.get("/set?key=foo&value=forty-two", None).await?;
    r.is(200, "ok")?;
    let c = r.cookie()?;
    t.eq("the cookie's name", "session", c.name.as_str())?;
    t.attr_is("HttpOnly", "HttpOnly", Some(""), &c)?;
    t.attr_is("Secure", "Secure", Some(""), &c)?;
    t.attr_is("SameSite", "SameSite", Some("Lax"), &c)?;
    t.attr_is("Path", "Path", Some("/"), &c)?;
    t.max_age_is("Max-Age is the idle hour", Some(HOUR.as_secs()), &c)?;
    t.eq("Vary", Some("Cookie".to_owned()), r.header("vary")?)?;
    t.eq(
        "Cache-Control",
        Some("private".to_owned()),
        r.header("cache-control")?,
    )?;
    // The stored value, long enough that a random base64url token cannot contain it by
    // chance (a 3-letter key would, about once in 3,000 cookies).
    t.that(
        "the value hides the data",
        !c.value.contains("forty-two"),
        "no stored value in it",
        &c.value,
    )?;
    if t.server_side() {
        let parts = c.value.rsplit_once('.');
        let signed = parts.is_some_and(|(id, sig)| SessionId::parse(id).is_ok() && sig.len() == 43);
        t.that(
            "a signed id",
            signed,
            "id.signature (a 43-character HMAC)",
            &c.value,
        )?;
    }
    app.get("/get?key=foo", Some(&c.pair()))
        .await?
        .is(200, "forty-two")
}

/// tower-sessions' `name_test` (and the layer's browser-session cookie named `sid`):
/// the configured name is the one sent and the one read back.
pub async fn attr_name<A: Adapter>(adapter: &A, harness: &Harness) -> CaseResult {
    let t = Test::new("attr_name", adapter, harness).await;
    for name in ["my.sid", "sid"] {
        let app = t
            .serve(t.builder().cookie(CookieConfig::default().with_name(name)))
            .await?;
        let c = app.get("/set?key=foo&value=42", None).await?.cookie()?;
        t.eq("the configured name", name, c.name.as_str())?;
        app.get("/get?key=foo", Some(&c.pair()))
            .await?
            .is(200, "42")?;
        // The default name is not read.
        let other = format!("session={}", c.value);
        app.get("/get?key=foo", Some(&other))
            .await?
            .is(200, "none")?;
    }
    Ok(())
}

/// tower-sessions' `path_test`: the configured `Path`.
pub async fn attr_path<A: Adapter>(adapter: &A, harness: &Harness) -> CaseResult {
    let t = Test::new("attr_path", adapter, harness).await;
    let app = t
        .serve(
            t.builder()
                .cookie(CookieConfig::default().with_path("/foo/bar")),
        )
        .await?;
    let c = app.get("/set?key=foo&value=42", None).await?.cookie()?;
    t.attr_is("Path", "Path", Some("/foo/bar"), &c)
}

/// tower-sessions' `domain_test`: the configured `Domain`.
pub async fn attr_domain<A: Adapter>(adapter: &A, harness: &Harness) -> CaseResult {
    let t = Test::new("attr_domain", adapter, harness).await;
    let app = t
        .serve(
            t.builder()
                .cookie(CookieConfig::default().with_domain("example.com")),
        )
        .await?;
    let c = app.get("/set?key=foo&value=42", None).await?.cookie()?;
    t.attr_is("Domain", "Domain", Some("example.com"), &c)
}

/// tower-sessions' `secure_test` and Django's `test_secure_session_cookie`: `Secure` by default (theirs is off by default), and
/// absent when turned off.
pub async fn attr_secure<A: Adapter>(adapter: &A, harness: &Harness) -> CaseResult {
    flag(adapter, harness, "attr_secure", "Secure", |c, on| {
        c.with_secure(on)
    })
    .await
}

/// tower-sessions' `http_only_test` and Django's `test_httponly_session_cookie` and
/// `test_no_httponly_session_cookie`: `HttpOnly` by default, absent when turned off.
pub async fn attr_http_only<A: Adapter>(adapter: &A, harness: &Harness) -> CaseResult {
    flag(adapter, harness, "attr_http_only", "HttpOnly", |c, on| {
        c.with_http_only(on)
    })
    .await
}

/// A flag on by default, and off when `set(config, false)`.
async fn flag<A: Adapter>(
    adapter: &A,
    harness: &Harness,
    name: &'static str,
    flag: &str,
    set: fn(CookieConfig, bool) -> CookieConfig,
) -> CaseResult {
    let t = Test::new(name, adapter, harness).await;
    let app = t.serve(t.builder()).await?;
    let c = app.get("/set?key=foo&value=42", None).await?.cookie()?;
    t.attr_is("on by default", flag, Some(""), &c)?;
    let app = t
        .serve(t.builder().cookie(set(CookieConfig::default(), false)))
        .await?;
    let c = app.get("/set?key=foo&value=42", None).await?.cookie()?;
    t.attr_is("off when turned off", flag, None, &c)
}

/// tower-sessions' `same_site_strict_test` and Django's `test_samesite_session_cookie`.
pub async fn attr_same_site_strict<A: Adapter>(adapter: &A, harness: &Harness) -> CaseResult {
    same_site(
        adapter,
        harness,
        "attr_same_site_strict",
        SameSite::Strict,
        "Strict",
    )
    .await
}

/// tower-sessions' `same_site_lax_test`.
pub async fn attr_same_site_lax<A: Adapter>(adapter: &A, harness: &Harness) -> CaseResult {
    same_site(adapter, harness, "attr_same_site_lax", SameSite::Lax, "Lax").await
}

/// tower-sessions' `same_site_none_test` (`Secure` is on, as `SameSite=None` needs).
pub async fn attr_same_site_none<A: Adapter>(adapter: &A, harness: &Harness) -> CaseResult {
    same_site(
        adapter,
        harness,
        "attr_same_site_none",
        SameSite::None,
        "None",
    )
    .await
}

async fn same_site<A: Adapter>(
    adapter: &A,
    harness: &Harness,
    name: &'static str,
    same_site: SameSite,
    expected: &str,
) -> CaseResult {
    let t = Test::new(name, adapter, harness).await;
    let app = t
        .serve(
            t.builder()
                .cookie(CookieConfig::default().with_same_site(same_site)),
        )
        .await?;
    let c = app.get("/set?key=foo&value=42", None).await?.cookie()?;
    t.attr_is("SameSite", "SameSite", Some(expected), &c)
}

/// tower-sessions' four `*_removal_test` scenarios and `flush_with_domain`, and
/// Django's `test_session_delete_on_end_with_custom_domain_and_path`: the
/// removal cookie carries the `Secure`, `HttpOnly`, `Domain` and `Path` of the cookie
/// it removes (a browser may refuse to overwrite a `Secure` cookie from one without,
/// and drops only the cookie of the same domain and path).
pub async fn removal_cookie_attributes<A: Adapter>(adapter: &A, harness: &Harness) -> CaseResult {
    let t = Test::new("removal_cookie_attributes", adapter, harness).await;
    let configs = [
        CookieConfig::default().with_secure(true),
        CookieConfig::default().with_secure(false),
        CookieConfig::default().with_http_only(true),
        CookieConfig::default().with_http_only(false),
        CookieConfig::default().with_domain("localhost"),
        CookieConfig::default().with_path("/app"),
    ];
    for config in configs {
        let app = t.serve(t.hour().cookie(config.clone())).await?;
        let set = app.get("/set?key=foo&value=42", None).await?.cookie()?;
        let r = app.get("/delete", Some(&set.pair())).await?;
        r.is(200, "deleted")?;
        let removal = r.removes_cookie()?;
        let flag = |on: bool| on.then_some("");
        t.attr_is("Secure", "Secure", flag(config.secure), &removal)?;
        t.attr_is("HttpOnly", "HttpOnly", flag(config.http_only), &removal)?;
        t.attr_is("Domain", "Domain", config.domain.as_deref(), &removal)?;
        t.attr_is("Path", "Path", Some(config.path.as_str()), &removal)?;
    }
    Ok(())
}
