//! A session's own cookie lifetime (remember-me, a shared computer) wins over the
//! layer's default: `Persistent` gets a `Max-Age` from the session's deadline,
//! `BrowserSession` gets neither `Max-Age` nor `Expires`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code

mod support;

use session_core::MemoryStore;
use session_tower::{CookieConfig, SessionLayer};
use support::{app, keys, send, App, KEY_A};

const THIRTY_DAYS: u64 = 30 * 86_400;

fn layer_app(persistent: bool) -> App {
    app(SessionLayer::builder(MemoryStore::new())
        .keys(keys(&[KEY_A]))
        .cookie(CookieConfig::default().with_persistent(persistent))
        .build()
        .unwrap())
}

/// The `Max-Age` of a `Set-Cookie` header, if it has one; panics on `Expires`.
fn max_age(set_cookie: &str) -> Option<u64> {
    assert!(!set_cookie.contains("Expires"), "{set_cookie}");
    set_cookie
        .split(';')
        .filter_map(|a| a.trim().strip_prefix("Max-Age="))
        .map(|v| v.parse().unwrap())
        .next()
}

#[tokio::test]
async fn remember_me_persists_under_a_browser_session_default() {
    let app = layer_app(false);
    let plain = send(&app, "/login", &[]).await.set_cookie().unwrap();
    assert_eq!(max_age(&plain), None, "the layer's default");

    let r = send(&app, "/remember", &[]).await;
    let age = max_age(&r.set_cookie().unwrap()).expect("a remembered session persists");
    assert!((THIRTY_DAYS - 5..=THIRTY_DAYS).contains(&age), "{age}");
    // Later requests keep it, and refresh its Max-Age when they write the session.
    let cookie = r.cookie().unwrap();
    let r = send(&app, "/visit", &[("cookie", &cookie)]).await;
    let again = r.set_cookie().expect("re-sent to move its Max-Age");
    assert!(max_age(&again).unwrap() > THIRTY_DAYS - 5, "{again}");
    assert_eq!(r.cookie().unwrap(), cookie);
}

#[tokio::test]
async fn a_browser_session_choice_drops_max_age_under_a_persistent_default() {
    let app = layer_app(true);
    let plain = send(&app, "/login", &[]).await.set_cookie().unwrap();
    assert!(max_age(&plain).is_some(), "the layer's default: {plain}");

    let r = send(&app, "/shared-computer", &[]).await;
    assert_eq!(max_age(&r.set_cookie().unwrap()), None);
    let cookie = r.cookie().unwrap();
    let r = send(&app, "/visit", &[("cookie", &cookie)]).await;
    let set = r
        .set_cookie()
        .expect("a session that chose its lifetime is re-sent");
    assert_eq!(max_age(&set), None, "{set}");
    assert_eq!(
        send(&app, "/whoami", &[("cookie", &cookie)]).await.body,
        "ada"
    );
}

#[tokio::test]
async fn switching_an_existing_session_replaces_its_cookie() {
    let app = layer_app(true);
    let cookie = send(&app, "/login", &[]).await.cookie().unwrap();
    // The browser holds a persistent cookie; choosing a browser-session one must
    // reach it, although the value stays the same.
    let r = send(&app, "/shared-computer", &[("cookie", &cookie)]).await;
    let set = r.set_cookie().expect("the cookie's attributes changed");
    assert_eq!(max_age(&set), None, "{set}");
    assert_eq!(r.cookie().unwrap(), cookie);
    // And back to the layer's default: persistent again.
    let r = send(&app, "/forget", &[("cookie", &cookie)]).await;
    assert!(max_age(&r.set_cookie().unwrap()).is_some());
}

#[tokio::test]
async fn the_lifetime_survives_cycle_id() {
    let app = layer_app(false);
    let cookie = send(&app, "/remember", &[]).await.cookie().unwrap();
    let r = send(&app, "/cycle", &[("cookie", &cookie)]).await;
    assert_ne!(r.cookie().unwrap(), cookie);
    let age = max_age(&r.set_cookie().unwrap()).expect("still remembered");
    assert!(age > THIRTY_DAYS - 5, "{age}");
}

#[tokio::test]
async fn header_mode_ignores_cookie_lifetimes() {
    let app = app(SessionLayer::builder(MemoryStore::new())
        .keys(keys(&[KEY_A]))
        .token_header("x-session-token")
        .build()
        .unwrap());
    let r = send(&app, "/remember", &[]).await;
    let token = r.one("x-session-token").unwrap();
    assert_eq!(r.set_cookie(), None);
    // A persistent lifetime refreshes a cookie's Max-Age; a header token has none.
    let r = send(&app, "/visit", &[("x-session-token", &token)]).await;
    assert_eq!(r.body, "1");
    assert_eq!(r.one("x-session-token"), None);
}
