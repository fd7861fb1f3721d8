//! The session token in a request header instead of a cookie (API and mobile
//! clients): read from the header, sent back in it when created, re-signed or
//! cycled, an empty value when removed; never a cookie in header mode, never the
//! header in cookie mode.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code

mod support;

use std::sync::Arc;

use http::HeaderName;
use session_core::{MemoryStore, SessionId, SessionStore};
use session_tower::{SessionLayer, SigningKeys, Transport};
use support::{app, keys, send, App, KEY_A, KEY_B};

const TOKEN: &str = "x-session-token";

fn header_layer(store: Arc<dyn SessionStore>, keys: SigningKeys) -> SessionLayer {
    SessionLayer::builder_from_arc(store)
        .keys(keys)
        .token_header(TOKEN)
        .build()
        .unwrap()
}

fn header_app() -> App {
    app(header_layer(Arc::new(MemoryStore::new()), keys(&[KEY_A])))
}

/// Logs in on `app` and returns the token it handed out.
async fn login(app: &App) -> String {
    let r = send(app, "/login", &[]).await;
    assert_eq!(r.body, "ok");
    r.one(TOKEN).expect("a new session sends its token")
}

#[tokio::test]
async fn a_new_session_sends_its_token_in_the_header_and_no_cookie() {
    let app = header_app();
    let r = send(&app, "/login", &[]).await;
    let token = r.one(TOKEN).unwrap();
    let (id, sig) = token.rsplit_once('.').unwrap();
    assert!(SessionId::parse(id).is_ok(), "{token}");
    assert_eq!(sig.len(), 43, "signed like the cookie value");
    assert_eq!(r.set_cookie(), None);
    assert_eq!(r.one("vary").as_deref(), Some(TOKEN));
    assert_eq!(r.one("cache-control").as_deref(), Some("private"));
}

#[tokio::test]
async fn the_token_is_reused_and_not_sent_again() {
    let app = header_app();
    let token = login(&app).await;
    for _ in 0..2 {
        let r = send(&app, "/whoami", &[(TOKEN, &token)]).await;
        assert_eq!(r.body, "ada");
        assert_eq!(r.one(TOKEN), None, "an unchanged token is not news");
        assert_eq!(r.set_cookie(), None);
        assert_eq!(r.one("vary").as_deref(), Some(TOKEN), "read the session");
    }
    // A request that never touches the session does not vary on the token.
    let r = send(&app, "/static", &[(TOKEN, &token)]).await;
    assert_eq!(r.one("vary"), None);
    assert_eq!(r.one(TOKEN), None);
}

#[tokio::test]
async fn cycling_the_id_sends_a_new_token_and_kills_the_old() {
    let app = header_app();
    let old = login(&app).await;
    let r = send(&app, "/cycle", &[(TOKEN, &old)]).await;
    let new = r.one(TOKEN).expect("the cycled id is sent");
    assert_ne!(new, old);
    assert_eq!(r.set_cookie(), None);
    assert_eq!(send(&app, "/whoami", &[(TOKEN, &new)]).await.body, "ada");
    assert_eq!(
        send(&app, "/whoami", &[(TOKEN, &old)]).await.body,
        "anonymous"
    );
}

#[tokio::test]
async fn logout_sends_an_empty_token_and_the_old_one_is_dead() {
    let app = header_app();
    let token = login(&app).await;
    let r = send(&app, "/logout", &[(TOKEN, &token)]).await;
    assert_eq!(r.body, "bye");
    assert_eq!(
        r.one(TOKEN).as_deref(),
        Some(""),
        "removal is an empty value"
    );
    assert_eq!(r.set_cookie(), None);
    assert_eq!(
        send(&app, "/whoami", &[(TOKEN, &token)]).await.body,
        "anonymous"
    );
}

#[tokio::test]
async fn a_tampered_token_gets_a_fresh_session() {
    let app = header_app();
    let good = login(&app).await;
    let mut bytes = good.clone().into_bytes();
    let last = bytes.len() - 1;
    bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(bytes).unwrap();
    let (id, _) = good.rsplit_once('.').unwrap();
    let forged = format!("{id}.{}", "A".repeat(43));
    for bad in [tampered, forged, id.to_owned(), "x".repeat(10_000)] {
        let r = send(&app, "/whoami", &[(TOKEN, &bad)]).await;
        assert_eq!(r.body, "anonymous");
        assert_eq!(
            r.one(TOKEN).as_deref(),
            Some(""),
            "the bad token is expired"
        );
        let fresh = send(&app, "/login", &[(TOKEN, &bad)])
            .await
            .one(TOKEN)
            .unwrap();
        assert!(!fresh.is_empty());
        assert_ne!(fresh, good);
    }
}

#[tokio::test]
async fn an_empty_header_is_no_token() {
    let app = header_app();
    // What a client that stored the removal value sends back.
    let r = send(&app, "/whoami", &[(TOKEN, "")]).await;
    assert_eq!(r.body, "anonymous");
    assert_eq!(r.one(TOKEN), None, "nothing to expire");
}

#[tokio::test]
async fn a_rotated_key_is_accepted_and_the_token_resigned() {
    let store: Arc<dyn SessionStore> = Arc::new(MemoryStore::new());
    let old = app(header_layer(store.clone(), keys(&[KEY_A])));
    let new = app(header_layer(store.clone(), keys(&[KEY_B, KEY_A])));
    let b_only = app(header_layer(store, keys(&[KEY_B])));
    let token = login(&old).await;
    assert_eq!(
        send(&b_only, "/whoami", &[(TOKEN, &token)]).await.body,
        "anonymous"
    );
    let r = send(&new, "/whoami", &[(TOKEN, &token)]).await;
    assert_eq!(r.body, "ada");
    let resigned = r.one(TOKEN).expect("re-signed with the newest key");
    assert_ne!(resigned, token);
    assert_eq!(
        send(&b_only, "/whoami", &[(TOKEN, &resigned)]).await.body,
        "ada"
    );
}

/// A cookie-mode and a header-mode layer on one store with one key.
fn both_modes() -> (App, App) {
    let store: Arc<dyn SessionStore> = Arc::new(MemoryStore::new());
    let cookie = app(SessionLayer::from_arc(store.clone(), keys(&[KEY_A])));
    (cookie, app(header_layer(store, keys(&[KEY_A]))))
}

#[tokio::test]
async fn header_mode_ignores_cookies_and_never_sets_one() {
    let (cookie_app, header_app) = both_modes();
    let cookie = send(&cookie_app, "/login", &[]).await.cookie().unwrap();
    assert_eq!(
        send(&cookie_app, "/whoami", &[("cookie", &cookie)])
            .await
            .body,
        "ada"
    );

    // The same session's genuine cookie means nothing to the header-mode layer...
    let r = send(&header_app, "/whoami", &[("cookie", &cookie)]).await;
    assert_eq!(r.body, "anonymous");
    assert_eq!(r.set_cookie(), None, "not even a removal");
    assert_eq!(r.one(TOKEN), None, "no token was sent, so none is expired");
    // ...nor is a cookie a second way in when a token header comes too.
    let token = login(&header_app).await;
    for path in ["/login", "/cycle", "/logout"] {
        let r = send(&header_app, path, &[("cookie", &cookie), (TOKEN, &token)]).await;
        assert_eq!(r.set_cookie(), None, "{path}");
        assert_eq!(r.one("vary").as_deref(), Some(TOKEN), "{path}");
    }
}

#[tokio::test]
async fn cookie_mode_ignores_the_token_header() {
    let (cookie_app, header_app) = both_modes();
    let token = login(&header_app).await;
    let r = send(&cookie_app, "/whoami", &[(TOKEN, &token)]).await;
    assert_eq!(r.body, "anonymous");
    assert_eq!(r.one(TOKEN), None);
    let r = send(&cookie_app, "/login", &[(TOKEN, &token)]).await;
    assert_eq!(
        r.one(TOKEN),
        None,
        "cookie mode never sends the token header"
    );
    assert!(r.cookie().is_some());
    assert_eq!(r.one("vary").as_deref(), Some("Cookie"));
    // The header's token is signed under the header's name: it is no cookie either.
    let r = send(
        &cookie_app,
        "/whoami",
        &[("cookie", &format!("session={token}"))],
    )
    .await;
    assert_eq!(r.body, "anonymous");
}

#[test]
fn a_token_header_the_layer_cannot_use_is_refused_at_build() {
    for bad in [
        "cookie",
        "Set-Cookie",
        "vary",
        "connection",
        "transfer-encoding",
        "bad name",
    ] {
        let err = SessionLayer::builder(MemoryStore::new())
            .keys(keys(&[KEY_A]))
            .token_header(bad)
            .build()
            .unwrap_err();
        assert!(
            matches!(err, session_core::Error::Config(_)),
            "{bad}: {err:?}"
        );
    }
    // The same rule for a typed header name.
    let err = SessionLayer::builder(MemoryStore::new())
        .keys(keys(&[KEY_A]))
        .transport(Transport::Header(http::header::SET_COOKIE))
        .build()
        .unwrap_err();
    assert!(matches!(err, session_core::Error::Config(_)), "{err:?}");
    // Header names are case-insensitive: the layer answers in the canonical form.
    let layer = SessionLayer::builder(MemoryStore::new())
        .keys(keys(&[KEY_A]))
        .token_header("X-Session-Token")
        .build()
        .unwrap();
    assert_eq!(
        layer.transport(),
        &Transport::Header(HeaderName::from_static(TOKEN))
    );
}
