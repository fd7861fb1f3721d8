//! Key rotation: seal with the first secret, open with any; a value opened with a
//! retired key is re-sealed with the current one by the next write or touch, which the
//! session handle issues as its touch policy says.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test, not a crash a client can cause

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use session_cookie::CookieStore;
use session_core::{
    CookieChange, Data, ManualClock, Record, SessionDriver, SessionId, SessionOptions,
    SessionStore, TouchPolicy,
};

const OLD: [u8; 32] = *b"old secret, 32 bytes long.......";
const NEW: [u8; 32] = *b"new secret, 32 bytes long.......";

struct Rotation {
    clock: ManualClock,
    /// Before the rotation: only the old secret.
    before: Arc<CookieStore>,
    /// After: the new secret seals, the old one still opens.
    after: Arc<CookieStore>,
    /// Once the old secret is dropped.
    new_only: Arc<CookieStore>,
}

fn rotation() -> Rotation {
    let clock = ManualClock::new();
    let build = |secrets: &[[u8; 32]]| {
        Arc::new(
            CookieStore::builder()
                .secrets(secrets)
                .clock(clock.clone())
                .build()
                .unwrap(),
        )
    };
    Rotation {
        before: build(&[OLD]),
        after: build(&[NEW, OLD]),
        new_only: build(&[NEW]),
        clock,
    }
}

fn options(clock: &ManualClock, touch: TouchPolicy) -> Arc<SessionOptions> {
    Arc::new(
        SessionOptions::default()
            .with_clock(clock.clone())
            .with_touch(touch),
    )
}

/// A session written before the rotation: its cookie is sealed with the old key.
async fn old_cookie(r: &Rotation) -> String {
    let s = SessionDriver::new(
        r.before.clone(),
        options(&r.clock, TouchPolicy::Always),
        None,
    );
    s.insert("user", "ada").await.unwrap();
    match s.finish().await.unwrap().cookie {
        CookieChange::Set(v) => v,
        other => panic!("login sets a cookie, got {other:?}"),
    }
}

/// Runs one request that reads the session; returns the cookie it sends, if any.
async fn visit(store: Arc<CookieStore>, opts: Arc<SessionOptions>, cookie: &str) -> CookieChange {
    let s = SessionDriver::new(store, opts, Some(cookie.to_owned()));
    assert_eq!(
        s.get::<String>("user").await.unwrap().as_deref(),
        Some("ada")
    );
    s.finish().await.unwrap().cookie
}

fn assert_current(r: &Rotation, value: &str) {
    let opened = r
        .after
        .open(value)
        .unwrap()
        .expect("opens after the rotation");
    assert!(!opened.needs_reseal());
    assert_eq!(opened.key_id(), r.after.key_ids()[0]);
    assert!(
        r.new_only.open(value).unwrap().is_some(),
        "needs no old key"
    );
}

#[tokio::test]
async fn key_ids_are_newest_first_and_stable() {
    let r = rotation();
    let ids = r.after.key_ids();
    assert_eq!(ids.len(), 2);
    assert_eq!(ids[0], r.new_only.key_ids()[0]);
    assert_eq!(ids[1], r.before.key_ids()[0]);
    assert_ne!(ids[0], ids[1]);
}

#[tokio::test]
async fn old_key_opens_and_is_flagged() {
    let r = rotation();
    let cookie = old_cookie(&r).await;
    let opened = r.after.open(&cookie).unwrap().expect("old key still opens");
    assert!(opened.needs_reseal());
    assert_eq!(opened.key_id(), r.before.key_ids()[0]);
    assert!(r.after.needs_reseal(&cookie));
    assert!(r.after.load(&cookie).await.unwrap().is_some());
    // A store that never had the old secret does not open it.
    assert_eq!(r.new_only.load(&cookie).await.unwrap(), None);
    // Nothing to re-seal for values that do not open at all.
    assert!(!r.after.needs_reseal("garbage"));
}

/// The store-level mechanism: any seal uses the current key, so a touch of the loaded
/// record re-seals it without changing it.
#[tokio::test]
async fn touch_reseals_with_the_current_key() {
    let r = rotation();
    let cookie = old_cookie(&r).await;
    let record = r.after.load(&cookie).await.unwrap().unwrap();
    let resealed = r.after.touch(&record).await.unwrap();
    assert_current(&r, &resealed);
    assert_eq!(r.new_only.load(&resealed).await.unwrap(), Some(record));
}

/// Through the session handle with `TouchPolicy::Always`: the first response that uses
/// the session carries it re-sealed with the new key, data unchanged.
#[tokio::test]
async fn always_touch_reseals_on_the_first_response() {
    let r = rotation();
    let cookie = old_cookie(&r).await;
    r.clock.advance(Duration::from_secs(1));
    let CookieChange::Set(resealed) = visit(
        r.after.clone(),
        options(&r.clock, TouchPolicy::Always),
        &cookie,
    )
    .await
    else {
        panic!("TouchPolicy::Always must send the re-sealed cookie");
    };
    assert_current(&r, &resealed);
    let s = SessionDriver::new(
        r.new_only.clone(),
        options(&r.clock, TouchPolicy::Always),
        Some(resealed),
    );
    assert_eq!(
        s.get::<String>("user").await.unwrap().as_deref(),
        Some("ada")
    );
}

/// Whatever the touch policy, the first response that uses a session opened with a
/// retired key carries it re-sealed (the store asks for it through `needs_refresh`),
/// and later responses do not re-seal again.
#[tokio::test]
async fn every_policy_reseals_on_the_first_response() {
    for policy in [
        TouchPolicy::Throttled(Duration::from_secs(60)),
        TouchPolicy::OnChange,
        TouchPolicy::Always,
    ] {
        let r = rotation();
        let cookie = old_cookie(&r).await;
        assert!(r.after.needs_reseal(&cookie));
        let opts = options(&r.clock, policy);
        r.clock.advance(Duration::from_secs(1));
        let CookieChange::Set(resealed) = visit(r.after.clone(), opts.clone(), &cookie).await
        else {
            panic!("{policy:?}: the first response re-seals");
        };
        assert_current(&r, &resealed);
        if policy != TouchPolicy::Always {
            let again = visit(r.after.clone(), opts, &resealed).await;
            assert_eq!(
                again,
                CookieChange::Unchanged,
                "{policy:?}: no second re-seal"
            );
        }
    }
}

/// With `OnChange`, the next change re-seals.
#[tokio::test]
async fn a_write_reseals() {
    let r = rotation();
    let cookie = old_cookie(&r).await;
    let s = SessionDriver::new(
        r.after.clone(),
        options(&r.clock, TouchPolicy::OnChange),
        Some(cookie.clone()),
    );
    s.insert("theme", "dark").await.unwrap();
    let CookieChange::Set(resealed) = s.finish().await.unwrap().cookie else {
        panic!("a changed session sends its cookie");
    };
    assert_current(&r, &resealed);
    let record = r.new_only.load(&resealed).await.unwrap().unwrap();
    assert_eq!(record.data.get("user"), Some(&json!("ada")));
    assert_eq!(record.data.get("theme"), Some(&json!("dark")));
}

/// Removing the old secret ends the sessions that still depend on it, and those only.
#[tokio::test]
async fn dropping_the_old_secret_ends_only_old_cookies() {
    let r = rotation();
    let old = old_cookie(&r).await;
    let record = r.after.load(&old).await.unwrap().unwrap();
    let upgraded = r.after.touch(&record).await.unwrap();
    assert_eq!(r.new_only.load(&old).await.unwrap(), None);
    assert!(r.new_only.load(&upgraded).await.unwrap().is_some());
}

/// The guarantee that makes retiring a secret safe: a value sealed with the old key
/// stops opening at the deadline sealed inside it, even in a store that still lists
/// the old secret.
#[tokio::test]
async fn old_cookies_end_at_their_sealed_deadline() {
    let r = rotation();
    let now = r.clock.now();
    let record = Record::new(
        SessionId::generate(),
        Data::from([("k".to_owned(), json!(1))]),
        now,
        now.saturating_add(Duration::from_secs(3600)),
    );
    let old = r.before.create(&record).await.unwrap();
    r.clock.advance(Duration::from_secs(3599));
    assert!(r.after.load(&old).await.unwrap().is_some());
    r.clock.advance(Duration::from_secs(1));
    assert_eq!(r.after.load(&old).await.unwrap(), None);
    assert!(!r.after.needs_reseal(&old));
}

/// A deployment that has not learnt the new secret yet cannot open new cookies: roll
/// the new secret out as a *second* secret first, then promote it (documented order).
#[tokio::test]
async fn staged_rollout_opens_both_ways() {
    let r = rotation();
    let clock = r.clock.clone();
    let staged = CookieStore::builder()
        .secrets([OLD, NEW])
        .clock(clock.clone())
        .build()
        .unwrap();
    let now = clock.now();
    let record = Record::new(
        SessionId::generate(),
        Data::new(),
        now,
        now.saturating_add(Duration::from_secs(60)),
    );
    let from_new = r.after.create(&record).await.unwrap();
    assert_eq!(r.before.load(&from_new).await.unwrap(), None);
    assert_eq!(staged.load(&from_new).await.unwrap(), Some(record.clone()));
    let from_staged = staged.create(&record).await.unwrap();
    assert_eq!(r.after.load(&from_staged).await.unwrap(), Some(record));
}

/// `open_url` reads the secrets, newest first, from the variable the URL names: a value
/// sealed with the older one still opens and is flagged for re-sealing.
#[tokio::test]
async fn open_url_reads_the_rotation_from_the_named_variable() {
    let var = "ROTATION_TEST_OPEN_URL_SECRETS";
    let (newer, older) = ("n".repeat(32), "o".repeat(32));
    let url = format!("cookie://?secret_env={var}");
    std::env::set_var(var, format!("{newer}, {older}"));
    let store = CookieStore::open_url(&url).unwrap();
    let sealed_old = CookieStore::new(&older).unwrap();
    let sealed_new = CookieStore::new(&newer).unwrap();
    assert_eq!(
        store.key_ids(),
        [sealed_new.key_ids()[0], sealed_old.key_ids()[0]]
    );
    let clock = ManualClock::new();
    let driver = SessionDriver::new(
        Arc::new(sealed_old.with_clock(clock.clone())),
        options(&clock, TouchPolicy::Always),
        None,
    );
    driver.insert("user", "ada").await.unwrap();
    let CookieChange::Set(cookie) = driver.finish().await.unwrap().cookie else {
        panic!("a login sets a cookie");
    };
    assert!(store.needs_reseal(&cookie), "the older secret still opens");
    std::env::remove_var(var);
    assert!(CookieStore::open_url(&url).is_err());
    assert!(CookieStore::open_url("cookie://?secret=inline").is_err());
}
