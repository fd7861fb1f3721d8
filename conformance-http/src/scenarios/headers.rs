//! The response headers around the token: `Vary`, `Cache-Control`, re-signing under a
//! key rotation, the token in a header instead of a cookie, and other apps' cookies.

use session_conformance::{CaseResult, Harness};

use crate::client::{Test, OTHER_KEY};
use crate::Adapter;

/// The layer's `caching_headers` and `untouched_requests_cost_no_store_operation`: a
/// response that read the session varies on the cookie, even when it sends none; one
/// that never touched it does not.
pub async fn vary_cookie_when_read<A: Adapter>(adapter: &A, harness: &Harness) -> CaseResult {
    let t = Test::new("vary_cookie_when_read", adapter, harness).await;
    let app = t.serve(t.builder()).await?;
    let c = app.get("/set?key=user&value=ada", None).await?.cookie()?;
    let r = app.get("/get?key=user", Some(&c.pair())).await?;
    r.is(200, "ada")?;
    r.no_cookie()?;
    t.eq(
        "Vary on a read",
        Some("Cookie".to_owned()),
        r.header("vary")?,
    )?;
    let r = app.get("/get?key=user", None).await?;
    t.eq(
        "Vary on a read without a cookie",
        Some("Cookie".to_owned()),
        r.header("vary")?,
    )?;
    let r = app.get("/static", Some(&c.pair())).await?;
    t.eq("no Vary on /static", None, r.header("vary")?)
}

/// The layer's `caching_headers`: a response that sends a token is
/// `Cache-Control: private`, so no shared cache hands it to another client; one that
/// sends none gets no caching policy from the middleware.
pub async fn cache_control_private_with_token<A: Adapter>(
    adapter: &A,
    harness: &Harness,
) -> CaseResult {
    let t = Test::new("cache_control_private_with_token", adapter, harness).await;
    let app = t.serve(t.builder()).await?;
    for _ in 0..2 {
        let r = app.get("/set?key=user&value=ada", None).await?;
        t.eq(
            "Cache-Control with a token",
            Some("private".to_owned()),
            r.header("cache-control")?,
        )?;
    }
    let r = app.get("/static", None).await?;
    t.eq(
        "no Cache-Control without one",
        None,
        r.header("cache-control")?,
    )
}

/// The layer's `rotated_key_is_accepted_and_resigned`: under keys `[new, old]`, a
/// cookie signed with the old key opens the session and is re-signed with the new
/// one, keeping its `Max-Age`; the re-signed cookie opens under the new key alone,
/// which refuses the original. A self-sealed store's values are not signed by the
/// middleware: all three apps open the same cookie.
pub async fn key_rotation_resigns<A: Adapter>(adapter: &A, harness: &Harness) -> CaseResult {
    let t = Test::new("key_rotation_resigns", adapter, harness).await;
    let old = t.serve(t.builder()).await?;
    let both = t
        .serve(t.builder().keys(t.keys(&[OTHER_KEY, t.key()])))
        .await?;
    let new_only = t.serve(t.builder().keys(t.keys(&[OTHER_KEY]))).await?;
    let c = old.get("/set?key=user&value=ada", None).await?.cookie()?;
    if !t.server_side() {
        for app in [&old, &both, &new_only] {
            app.get("/get?key=user", Some(&c.pair()))
                .await?
                .is(200, "ada")?;
        }
        return Ok(());
    }
    new_only
        .get("/get?key=user", Some(&c.pair()))
        .await?
        .is(200, "none")?;
    let r = both.get("/get?key=user", Some(&c.pair())).await?;
    r.is(200, "ada")?;
    let resigned = r.cookie()?;
    t.that(
        "re-signed",
        resigned.value != c.value,
        "a new signature",
        &resigned.value,
    )?;
    t.that(
        "keeps its Max-Age",
        resigned.max_age().is_some(),
        "a Max-Age",
        &resigned.raw,
    )?;
    new_only
        .get("/get?key=user", Some(&resigned.pair()))
        .await?
        .is(200, "ada")
}

/// The token in a request and response header instead of a cookie (API clients): sent
/// in the header when created, with `Vary` on it and `Cache-Control: private`, never a
/// cookie; read back from it and not sent again while unchanged; a new one when the id
/// cycles (the old one dead); an empty value when the session is deleted.
pub async fn token_header_transport<A: Adapter>(adapter: &A, harness: &Harness) -> CaseResult {
    const TOKEN: &str = "x-session-token";
    let t = Test::new("token_header_transport", adapter, harness).await;
    let app = t.serve(t.builder().token_header(TOKEN)).await?;
    let r = app.get("/set?key=user&value=ada", None).await?;
    r.no_cookie()?;
    let Some(token) = r.header(TOKEN)? else {
        return Err(t
            .check
            .fail("a new session", "its token in the header", "none"));
    };
    t.eq("Vary", Some(TOKEN.to_owned()), r.header("vary")?)?;
    t.eq(
        "Cache-Control",
        Some("private".to_owned()),
        r.header("cache-control")?,
    )?;

    let r = app.get_with("/get?key=user", &[(TOKEN, &token)]).await?;
    r.is(200, "ada")?;
    r.no_cookie()?;
    t.eq(
        "an unchanged token is not sent again",
        None,
        r.header(TOKEN)?,
    )?;
    t.eq("Vary on a read", Some(TOKEN.to_owned()), r.header("vary")?)?;
    let r = app.get_with("/static", &[(TOKEN, &token)]).await?;
    t.eq("no Vary on /static", None, r.header("vary")?)?;

    let r = app.get_with("/cycle", &[(TOKEN, &token)]).await?;
    let Some(cycled) = r.header(TOKEN)? else {
        return Err(t
            .check
            .fail("/cycle", "the new token in the header", "none"));
    };
    t.that(
        "a new token",
        cycled != token,
        "a token unlike the old one",
        &cycled,
    )?;
    app.get_with("/get?key=user", &[(TOKEN, &cycled)])
        .await?
        .is(200, "ada")?;
    if t.revokes() {
        app.get_with("/get?key=user", &[(TOKEN, &token)])
            .await?
            .is(200, "none")?;
    }
    let r = app.get_with("/delete", &[(TOKEN, &cycled)]).await?;
    r.is(200, "deleted")?;
    r.no_cookie()?;
    t.eq(
        "removal is an empty token",
        Some(String::new()),
        r.header(TOKEN)?,
    )
}

/// The layer's `other_apps_non_ascii_cookies_do_not_hide_ours`: another app's cookie
/// with non-ASCII bytes in the same `Cookie` header does not hide the session cookie.
pub async fn other_cookies_do_not_hide_ours<A: Adapter>(
    adapter: &A,
    harness: &Harness,
) -> CaseResult {
    let t = Test::new("other_cookies_do_not_hide_ours", adapter, harness).await;
    let app = t.serve(t.builder()).await?;
    let c = app.get("/set?key=user&value=ada", None).await?.cookie()?;
    let header = format!("theme=dark; {}; pref=Zo\u{eb}", c.pair());
    app.get("/get?key=user", Some(&header))
        .await?
        .is(200, "ada")
}
