use std::sync::Arc;
use std::time::Duration;

use crate::*;

fn setup(options: SessionOptions) -> (Arc<MemoryStore>, Arc<SessionOptions>, ManualClock) {
    let clock = ManualClock::new();
    let store = Arc::new(MemoryStore::new().with_clock(clock.clone()));
    (store, Arc::new(options.with_clock(clock.clone())), clock)
}

async fn cookie_of(s: &Session) -> String {
    match s.finish().await.unwrap().cookie {
        CookieChange::Set(v) => v,
        other => panic!("expected a cookie, got {other:?}"),
    }
}

#[tokio::test]
async fn empty_session_is_not_persisted() {
    let (store, opts, _) = setup(SessionOptions::default());
    let s = Session::new(store.clone(), opts, None);
    assert_eq!(s.get::<u32>("x").await.unwrap(), None);
    let out = s.finish().await.unwrap();
    assert_eq!(out.cookie, CookieChange::Unchanged);
    assert_eq!(store.count().await.unwrap(), 0);
}

#[tokio::test]
async fn explicit_mode_drops_unsaved_changes() {
    let (store, opts, _) = setup(SessionOptions::default().with_save_mode(SaveMode::Explicit));
    let s = Session::new(store.clone(), opts.clone(), None);
    s.insert("a", 1).await.unwrap();
    assert_eq!(s.finish().await.unwrap().cookie, CookieChange::Unchanged);
    assert_eq!(store.count().await.unwrap(), 0);

    let s = Session::new(store.clone(), opts, None);
    s.insert("a", 1).await.unwrap();
    s.save().await.unwrap();
    cookie_of(&s).await;
    assert_eq!(store.count().await.unwrap(), 1);
}

#[tokio::test]
async fn update_replays_on_conflict() {
    let (store, opts, _) = setup(SessionOptions::default());
    let s = Session::new(store.clone(), opts.clone(), None);
    s.insert("n", 0).await.unwrap();
    let cookie = cookie_of(&s).await;

    let a = Session::new(store.clone(), opts.clone(), Some(cookie.clone()));
    let b = Session::new(store.clone(), opts.clone(), Some(cookie.clone()));
    assert_eq!(
        a.update("n", |n: Option<i64>| n.unwrap_or(0) + 1)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        b.update("n", |n: Option<i64>| n.unwrap_or(0) + 1)
            .await
            .unwrap(),
        1
    );
    b.insert("b", true).await.unwrap();
    a.finish().await.unwrap();
    b.finish().await.unwrap();

    let c = Session::new(store, opts, Some(cookie));
    assert_eq!(c.get::<i64>("n").await.unwrap(), Some(2));
    assert_eq!(c.get::<bool>("b").await.unwrap(), Some(true));
}

#[tokio::test]
async fn insert_then_update_replays_exactly() {
    let (store, opts, _) = setup(SessionOptions::default());
    let s = Session::new(store.clone(), opts.clone(), None);
    s.insert("n", 100).await.unwrap();
    let cookie = cookie_of(&s).await;
    let a = Session::new(store.clone(), opts.clone(), Some(cookie.clone()));
    let b = Session::new(store.clone(), opts.clone(), Some(cookie.clone()));
    a.update("n", |n: Option<i64>| n.unwrap_or(0) + 1)
        .await
        .unwrap();
    a.update("n", |n: Option<i64>| n.unwrap_or(0) * 10)
        .await
        .unwrap();
    b.insert("n", 5).await.unwrap();
    b.finish().await.unwrap();
    a.finish().await.unwrap();
    let c = Session::new(store, opts, Some(cookie));
    assert_eq!(c.get::<i64>("n").await.unwrap(), Some(60));
}

#[tokio::test]
async fn idle_and_absolute_expiry() {
    let expiry = Expiry::new(
        Some(Duration::from_secs(60)),
        Some(Duration::from_secs(150)),
    )
    .unwrap();
    let (store, opts, clock) = setup(
        SessionOptions::default()
            .with_expiry(expiry)
            .with_touch(TouchPolicy::Always),
    );
    let s = Session::new(store.clone(), opts.clone(), None);
    s.insert("k", "v").await.unwrap();
    let cookie = cookie_of(&s).await;

    // Touched every 50 s, the idle limit never bites, but the absolute one does.
    for _ in 0..2 {
        clock.advance(Duration::from_secs(50));
        let s = Session::new(store.clone(), opts.clone(), Some(cookie.clone()));
        assert!(s.contains_key("k").await.unwrap());
        s.finish().await.unwrap();
    }
    clock.advance(Duration::from_secs(50));
    let s = Session::new(store.clone(), opts.clone(), Some(cookie.clone()));
    assert!(!s.contains_key("k").await.unwrap());
    assert_eq!(s.finish().await.unwrap().cookie, CookieChange::Remove);
}

#[tokio::test]
async fn delete_then_writes_are_dropped() {
    let (store, opts, _) = setup(SessionOptions::default());
    let s = Session::new(store.clone(), opts.clone(), None);
    s.insert("k", 1).await.unwrap();
    let cookie = cookie_of(&s).await;
    let s = Session::new(store.clone(), opts, Some(cookie));
    s.delete().await.unwrap();
    s.insert("k", 2).await.unwrap();
    assert_eq!(s.finish().await.unwrap().cookie, CookieChange::Remove);
    assert_eq!(store.count().await.unwrap(), 0);
}

#[tokio::test]
async fn invalidate_after_delete_starts_a_writable_session() {
    let (store, opts, _) = setup(SessionOptions::default());
    let s = Session::new(store.clone(), opts.clone(), None);
    s.insert("k", 1).await.unwrap();
    let cookie = cookie_of(&s).await;
    let s = Session::new(store.clone(), opts, Some(cookie.clone()));
    s.delete().await.unwrap();
    s.invalidate().await.unwrap();
    s.insert("flash", "bye").await.unwrap();
    let fresh = cookie_of(&s).await;
    assert_ne!(fresh, cookie);
    assert_eq!(store.count().await.unwrap(), 1);
}

#[tokio::test]
async fn insert_after_update_replays_as_a_set() {
    let (store, opts, _) = setup(SessionOptions::default());
    let s = Session::new(store.clone(), opts.clone(), None);
    s.insert("n", 1).await.unwrap();
    let cookie = cookie_of(&s).await;
    let a = Session::new(store.clone(), opts.clone(), Some(cookie.clone()));
    let b = Session::new(store.clone(), opts.clone(), Some(cookie.clone()));
    assert_eq!(
        a.update("n", |n: Option<i64>| n.unwrap_or(0) + 1)
            .await
            .unwrap(),
        2
    );
    a.insert("n", 2).await.unwrap();
    b.insert("n", 10).await.unwrap();
    b.finish().await.unwrap();
    a.finish().await.unwrap();
    let c = Session::new(store, opts, Some(cookie));
    assert_eq!(
        c.get::<i64>("n").await.unwrap(),
        Some(2),
        "a's last word was a plain set"
    );
}
