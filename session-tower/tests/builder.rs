//! Setting up a layer: `new` for the common case, the builder whose setters cannot
//! fail and whose `build` reports every configuration error once, and
//! `development` with its throwaway key.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code

mod support;

use std::time::Duration;

use session_cookie::CookieStore;
use session_core::{Error, Expiry, MemoryStore, SessionOptions, TouchPolicy};
use session_tower::{CookieConfig, SessionLayer};
use support::{app, keys, send, Logs, KEY_A};

fn config_error(result: session_core::Result<SessionLayer>) -> String {
    match result {
        Err(Error::Config(msg)) => msg,
        Err(e) => panic!("expected a Config error, got {e:?}"),
        Ok(layer) => panic!("expected a Config error, got {layer:?}"),
    }
}

#[tokio::test]
async fn the_defaults_build_and_match_new() {
    let built = app(SessionLayer::builder(MemoryStore::new())
        .keys(keys(&[KEY_A]))
        .build()
        .unwrap());
    let new = app(SessionLayer::new(MemoryStore::new(), keys(&[KEY_A])));
    let a = send(&built, "/login", &[]).await.set_cookie().unwrap();
    let b = send(&new, "/login", &[]).await.set_cookie().unwrap();
    // The real clock runs between the two requests, so Max-Age may differ by the
    // second it ticked over; every other attribute is the same.
    let attrs = |c: &str| {
        let mut max_age = None;
        let rest: Vec<String> = c
            .split(';')
            .skip(1)
            .filter(|attr| match attr.trim().strip_prefix("Max-Age=") {
                Some(secs) => {
                    max_age = Some(secs.parse::<i64>().unwrap());
                    false
                }
                None => true,
            })
            .map(str::to_owned)
            .collect();
        (rest, max_age.expect("a Max-Age"))
    };
    let ((a_rest, a_age), (b_rest, b_age)) = (attrs(&a), attrs(&b));
    assert_eq!(a_rest, b_rest, "the same cookie attributes");
    assert!((a_age - b_age).abs() <= 1, "{a} / {b}");
}

#[test]
fn a_server_side_store_needs_keys() {
    let msg = config_error(SessionLayer::builder(MemoryStore::new()).build());
    assert!(msg.contains("signing keys"), "{msg}");
}

#[tokio::test]
async fn a_self_sealed_store_needs_no_keys() {
    let store = CookieStore::new([9u8; 32]).unwrap();
    let sealed = app(SessionLayer::builder(store).build().unwrap());
    let cookie = send(&sealed, "/login", &[]).await.cookie().unwrap();
    assert_eq!(
        send(&sealed, "/whoami", &[("cookie", &cookie)]).await.body,
        "ada"
    );
    // Keys given anyway are ignored: the store's seal is the signature.
    let store = CookieStore::new([9u8; 32]).unwrap();
    let with_keys = app(SessionLayer::builder(store)
        .keys(keys(&[KEY_A]))
        .build()
        .unwrap());
    assert_eq!(
        send(&with_keys, "/whoami", &[("cookie", &cookie)])
            .await
            .body,
        "ada"
    );
}

#[test]
fn every_setting_is_checked_by_build() {
    let base = || SessionLayer::builder(MemoryStore::new()).keys(keys(&[KEY_A]));
    let throttle_past_idle = SessionOptions::default()
        .with_expiry(Expiry::idle(Duration::from_secs(60)).unwrap())
        .with_touch(TouchPolicy::Throttled(Duration::from_secs(120)));
    config_error(base().options(throttle_past_idle.clone()).build());
    let msg = config_error(
        base()
            .cookie(CookieConfig::default().with_name("bad name"))
            .build(),
    );
    assert!(msg.contains("bad name"), "{msg}");
    config_error(base().token_header("cookie").build());
    // The setters only record; a later good value replaces an earlier bad one.
    assert!(base()
        .token_header("not a header")
        .token_header("x-session-token")
        .options(throttle_past_idle)
        .options(SessionOptions::default())
        .build()
        .is_ok());
}

#[tokio::test]
async fn development_works_warns_once_and_its_key_is_its_own() {
    let logs = Logs::capture();
    let dev = app(SessionLayer::development(MemoryStore::new()));
    let warnings = logs.lines_at("WARN");
    assert_eq!(warnings.len(), 1, "{}", logs.text());
    assert!(
        warnings[0].contains("will not survive a restart"),
        "{}",
        warnings[0]
    );
    assert!(
        warnings[0].contains("do not use this in production"),
        "{}",
        warnings[0]
    );

    let cookie = send(&dev, "/login", &[]).await.cookie().unwrap();
    assert_eq!(
        send(&dev, "/whoami", &[("cookie", &cookie)]).await.body,
        "ada"
    );
    assert_eq!(
        logs.lines_at("WARN").len(),
        1,
        "warned when made, not per request"
    );

    // Another development layer (a restart) has another key: the session is gone.
    let restarted = app(SessionLayer::development(MemoryStore::new()));
    assert_eq!(
        send(&restarted, "/whoami", &[("cookie", &cookie)])
            .await
            .body,
        "anonymous"
    );
}
