//! The handle's user binding: when it is written, what it survives, what drops it.

use std::sync::Arc;

use super::{cookie_of, setup};
use crate::*;

fn ada() -> UserBinding {
    UserBinding::new("ada")
        .unwrap()
        .with_auth_hash("h1")
        .unwrap()
}

/// A stored session holding `k = 1`, bound to `user` if given; its cookie.
async fn stored(
    store: &Arc<MemoryStore>,
    opts: &Arc<SessionOptions>,
    user: Option<UserBinding>,
) -> String {
    let s = SessionDriver::new(store.clone(), opts.clone(), None);
    s.insert("k", 1).await.unwrap();
    if let Some(user) = user {
        s.bind_user(user).await;
    }
    cookie_of(s).await
}

async fn stored_user(store: &MemoryStore, cookie: &str) -> Option<UserBinding> {
    store.load(cookie).await.unwrap().and_then(|r| r.user)
}

#[tokio::test]
async fn a_binding_before_any_read_is_written_at_the_end() {
    let (store, opts, _) = setup(SessionOptions::default());
    let cookie = stored(&store, &opts, None).await;
    // A request that binds without reading anything still gets it written.
    let s = SessionDriver::new(store.clone(), opts, Some(cookie.clone()));
    s.bind_user(ada()).await;
    assert!(s.is_modified().await);
    cookie_of(s).await;
    assert_eq!(stored_user(&store, &cookie).await, Some(ada()));
}

#[tokio::test]
async fn binding_the_stored_user_again_writes_nothing() {
    let (store, opts, _) = setup(SessionOptions::default().with_touch(TouchPolicy::OnChange));
    let cookie = stored(&store, &opts, Some(ada())).await;
    let version = store.load(&cookie).await.unwrap().unwrap().version;
    let s = SessionDriver::new(store.clone(), opts, Some(cookie.clone()));
    s.bind_user(ada()).await;
    assert_eq!(s.finish().await.unwrap().cookie, CookieChange::Unchanged);
    assert_eq!(store.load(&cookie).await.unwrap().unwrap().version, version);
}

#[tokio::test]
async fn a_conflict_replay_keeps_this_requests_binding() {
    let (store, opts, _) = setup(SessionOptions::default());
    let s = SessionDriver::new(store.clone(), opts.clone(), None);
    s.insert("n", 0).await.unwrap();
    let cookie = cookie_of(s).await;
    let a = SessionDriver::new(store.clone(), opts.clone(), Some(cookie.clone()));
    let b = SessionDriver::new(store.clone(), opts, Some(cookie.clone()));
    a.insert("a", 1).await.unwrap();
    b.get::<i32>("n").await.unwrap();
    b.bind_user(ada()).await;
    cookie_of(a).await;
    cookie_of(b).await; // conflicts, reloads, replays the binding
    let stored = store.load(&cookie).await.unwrap().unwrap();
    assert_eq!(stored.user, Some(ada()));
    assert_eq!(stored.data.get("a"), Some(&Value::from(1)));
}

#[tokio::test]
async fn a_refused_persist_drops_the_binding_too() {
    let (store, opts, _) = setup(SessionOptions::default());
    let cookie = stored(&store, &opts, None).await;
    let s = SessionDriver::new(store.clone(), opts, Some(cookie.clone()));
    s.bind_user(ada()).await;
    s.insert("big", "x".repeat(DEFAULT_MAX_RECORD_SIZE))
        .await
        .unwrap();
    assert!(matches!(s.persist().await, Err(Error::TooLarge { .. })));
    assert_eq!(s.user().await.unwrap(), None);
    s.finish().await.unwrap();
    assert_eq!(stored_user(&store, &cookie).await, None);
}

#[tokio::test]
async fn invalidate_drops_the_binding_and_cycle_keeps_it() {
    let (store, opts, _) = setup(SessionOptions::default());
    let cookie = stored(&store, &opts, Some(ada())).await;
    let s = SessionDriver::new(store.clone(), opts.clone(), Some(cookie.clone()));
    s.cycle_id().await;
    let cycled = cookie_of(s).await;
    assert_eq!(stored_user(&store, &cycled).await, Some(ada()));
    let s = SessionDriver::new(store.clone(), opts, Some(cycled));
    s.invalidate().await.unwrap();
    assert_eq!(s.user().await.unwrap(), None);
    s.insert("fresh", 1).await.unwrap();
    let fresh = cookie_of(s).await;
    assert_eq!(stored_user(&store, &fresh).await, None);
}

#[tokio::test]
async fn an_unbound_session_has_no_devices_and_revokes_nothing() {
    let (store, opts, _) = setup(SessionOptions::default());
    let s = SessionDriver::new(store.clone(), opts, None);
    s.insert("k", 1).await.unwrap();
    assert_eq!(
        s.user_sessions(None, 10).await.unwrap(),
        UserSessionsPage::default()
    );
    assert_eq!(s.revoke_other_sessions().await.unwrap(), 0);
    assert_eq!(s.revoke_all_sessions().await.unwrap(), 0);
    let key = SessionId::generate().storage_key();
    assert!(!s.revoke_session(&key).await.unwrap());
    // Nothing was ended: the session is still written.
    assert!(matches!(
        s.finish().await.unwrap().cookie,
        CookieChange::Set(_)
    ));
}
