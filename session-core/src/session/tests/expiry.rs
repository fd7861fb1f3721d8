//! Per-session expiry: remember-me, browser-session cookies, and how the choice is
//! stored, cycled, touched and dropped.

use super::*;

const DAY: Duration = Duration::from_secs(86_400);

fn remember() -> SessionExpiry {
    SessionExpiry::remember_for(DAY * 30).unwrap()
}

/// The stored record behind `cookie`.
async fn stored(store: &MemoryStore, cookie: &str) -> Record {
    store.load(cookie).await.unwrap().expect("a stored session")
}

#[tokio::test]
async fn remember_me_is_stored_and_outlives_the_layer_idle_timeout() {
    let (store, opts, clock) = setup(SessionOptions::default());
    let s = SessionDriver::new(store.clone(), opts.clone(), None);
    s.insert("user", "ada").await.unwrap();
    s.set_expiry(remember()).await;
    let now = clock.now();
    let out = s.finish().await.unwrap();
    assert_eq!(out.lifetime, Some(CookieLifetime::Persistent));
    assert_eq!(out.expires_at, Some(now.saturating_add(DAY * 30)));
    let CookieChange::Set(cookie) = out.cookie else {
        panic!("a new session sends its cookie")
    };
    assert_eq!(stored(&store, &cookie).await.expiry, Some(remember()));

    // Ten idle days: past the layer's 24 h idle timeout, within the session's own 30 d.
    clock.advance(DAY * 10);
    let s = SessionDriver::new(store.clone(), opts.clone(), Some(cookie.clone()));
    assert_eq!(
        s.get::<String>("user").await.unwrap().as_deref(),
        Some("ada")
    );
    assert_eq!(s.expiry().await.unwrap(), Some(remember()));
    assert_eq!(s.expiry_age().await.unwrap(), DAY * 30);
    // The throttled touch extends it by the session's own idle timeout.
    let out = s.finish().await.unwrap();
    assert_eq!(out.expires_at, Some(clock.now().saturating_add(DAY * 30)));
    assert_eq!(out.lifetime, Some(CookieLifetime::Persistent));
    assert_eq!(stored(&store, &cookie).await.expiry, Some(remember()));
}

#[tokio::test]
async fn a_session_without_its_own_expiry_follows_the_layer() {
    let (store, opts, clock) = setup(SessionOptions::default());
    let s = SessionDriver::new(store.clone(), opts.clone(), None);
    s.insert("user", "ada").await.unwrap();
    assert_eq!(s.expiry().await.unwrap(), None);
    let now = clock.now();
    let out = s.finish().await.unwrap();
    assert_eq!(out.lifetime, None);
    assert_eq!(out.expires_at, Some(now.saturating_add(DAY)));
}

#[tokio::test]
async fn browser_session_cookie_with_a_short_idle_timeout() {
    let (store, opts, clock) = setup(SessionOptions::default());
    let short = SessionExpiry::browser_session(Expiry::idle(Duration::from_secs(900)).unwrap());
    let s = SessionDriver::new(store.clone(), opts.clone(), None);
    s.insert("user", "ada").await.unwrap();
    s.set_expiry(short).await;
    let out = s.finish().await.unwrap();
    assert_eq!(out.lifetime, Some(CookieLifetime::BrowserSession));
    let CookieChange::Set(cookie) = out.cookie else {
        panic!()
    };
    clock.advance(Duration::from_secs(901));
    let s = SessionDriver::new(store.clone(), opts, Some(cookie));
    assert_eq!(
        s.get::<String>("user").await.unwrap(),
        None,
        "15 idle minutes end it"
    );
    assert_eq!(s.finish().await.unwrap().cookie, CookieChange::Remove);
}

#[tokio::test]
async fn set_expiry_alone_is_written_without_the_handler_reading_anything() {
    let (store, opts, _) = setup(SessionOptions::default().with_touch(TouchPolicy::OnChange));
    let s = SessionDriver::new(store.clone(), opts.clone(), None);
    s.insert("user", "ada").await.unwrap();
    let cookie = cookie_of(s).await;

    let s = SessionDriver::new(store.clone(), opts.clone(), Some(cookie.clone()));
    s.set_expiry(remember()).await;
    assert!(!s.is_loaded().await, "set_expiry does no I/O");
    s.finish().await.unwrap();
    let record = stored(&store, &cookie).await;
    assert_eq!((record.expiry, record.version), (Some(remember()), 2));

    // The same choice again changes nothing and writes nothing.
    let s = SessionDriver::new(store.clone(), opts.clone(), Some(cookie.clone()));
    s.set_expiry(remember()).await;
    s.finish().await.unwrap();
    assert_eq!(stored(&store, &cookie).await.version, 2);

    // `None` goes back to the layer's expiry, and that is written.
    let s = SessionDriver::new(store.clone(), opts, Some(cookie.clone()));
    s.set_expiry(None).await;
    assert!(s.is_modified().await);
    s.finish().await.unwrap();
    let record = stored(&store, &cookie).await;
    assert_eq!((record.expiry, record.version), (None, 3));
}

#[tokio::test]
async fn explicit_mode_writes_the_expiry_only_with_a_save() {
    let (store, opts, _) = setup(SessionOptions::default().with_save_mode(SaveMode::Explicit));
    let s = SessionDriver::new(store.clone(), opts.clone(), None);
    s.insert("user", "ada").await.unwrap();
    s.save().await;
    let cookie = cookie_of(s).await;

    let s = SessionDriver::new(store.clone(), opts.clone(), Some(cookie.clone()));
    s.set_expiry(remember()).await;
    s.finish().await.unwrap();
    assert_eq!(
        stored(&store, &cookie).await.expiry,
        None,
        "no save: dropped"
    );

    let s = SessionDriver::new(store.clone(), opts, Some(cookie.clone()));
    s.set_expiry(remember()).await;
    s.save().await;
    s.finish().await.unwrap();
    assert_eq!(stored(&store, &cookie).await.expiry, Some(remember()));
}

#[tokio::test]
async fn cycle_id_keeps_the_expiry_and_invalidate_drops_it() {
    let (store, opts, _) = setup(SessionOptions::default());
    let s = SessionDriver::new(store.clone(), opts.clone(), None);
    s.insert("user", "ada").await.unwrap();
    s.set_expiry(remember()).await;
    let old = cookie_of(s).await;

    let s = SessionDriver::new(store.clone(), opts.clone(), Some(old.clone()));
    s.cycle_id().await;
    let new = cookie_of(s).await;
    assert_ne!(new, old);
    assert!(store.load(&old).await.unwrap().is_none());
    assert_eq!(stored(&store, &new).await.expiry, Some(remember()));

    let s = SessionDriver::new(store.clone(), opts, Some(new));
    s.invalidate().await.unwrap();
    assert_eq!(s.expiry().await.unwrap(), None);
    s.insert("user", "eve").await.unwrap();
    let fresh = cookie_of(s).await;
    assert_eq!(stored(&store, &fresh).await.expiry, None);
}

#[tokio::test]
async fn a_short_own_idle_timeout_shortens_the_touch_throttle() {
    // The layer touches at most once a minute; a session with 90 s of idle time would
    // end between two such touches, so it is touched every 45 s.
    let (store, opts, clock) = setup(SessionOptions::default());
    let own = SessionExpiry::persistent(Expiry::idle(Duration::from_secs(90)).unwrap());
    let s = SessionDriver::new(store.clone(), opts.clone(), None);
    s.insert("user", "ada").await.unwrap();
    s.set_expiry(own).await;
    let cookie = cookie_of(s).await;

    clock.advance(Duration::from_secs(40));
    let s = SessionDriver::new(store.clone(), opts.clone(), Some(cookie.clone()));
    s.get::<String>("user").await.unwrap();
    assert_eq!(s.finish().await.unwrap().cookie, CookieChange::Unchanged);

    clock.advance(Duration::from_secs(10));
    let s = SessionDriver::new(store.clone(), opts.clone(), Some(cookie.clone()));
    s.get::<String>("user").await.unwrap();
    let touched_at = clock.now();
    assert!(matches!(
        s.finish().await.unwrap().cookie,
        CookieChange::Set(_)
    ));
    let record = stored(&store, &cookie).await;
    assert_eq!(
        record.expires_at,
        touched_at.saturating_add(Duration::from_secs(90))
    );
    assert_eq!(record.expiry, Some(own), "a touch keeps the stored expiry");
}

#[tokio::test]
async fn set_expiry_after_delete_is_no_pending_change() {
    let (store, opts, _) = setup(SessionOptions::default());
    let s = SessionDriver::new(store.clone(), opts.clone(), None);
    s.insert("user", "ada").await.unwrap();
    let cookie = cookie_of(s).await;
    let s = SessionDriver::new(store.clone(), opts, Some(cookie));
    s.delete().await.unwrap();
    s.set_expiry(remember()).await;
    assert!(!s.is_modified().await);
    assert_eq!(s.finish().await.unwrap().cookie, CookieChange::Remove);
    assert_eq!(store.count().await.unwrap(), 0);
}
