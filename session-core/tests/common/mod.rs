//! The flow both observe tests run: every kind of request once.
#![allow(dead_code)] // each test binary uses part of it

use std::sync::Arc;

use session_core::{
    CookieChange, SessionDriver, SessionId, SessionOptions, SessionStore, TouchPolicy, UserBinding,
};

pub const USER_ID: &str = "user-9c1d5e";
pub const DATA: [&str; 3] = ["ada-7f3e2b", "cart-4b8a1c", "note-e6d02f"];

/// What the flow handed out that must never show in a trace.
pub struct Secrets {
    pub cookies: Vec<String>,
    pub user: UserBinding,
}

fn cookie_of(change: CookieChange) -> String {
    match change {
        CookieChange::Set(value) => value,
        other => panic!("expected a cookie, got {other:?}"),
    }
}

/// Every kind of request once: create, load and save, a conflict replayed, login with
/// `cycle_id` and a bound user, the user's device list and a touch, logout, an old
/// cookie, a forged one.
pub async fn flow(store: Arc<dyn SessionStore>) -> Secrets {
    let options = Arc::new(SessionOptions::default());
    let touching = Arc::new(SessionOptions::default().with_touch(TouchPolicy::Always));
    let user = UserBinding::new(USER_ID).unwrap();

    // 1: a new session (create).
    let driver = SessionDriver::new(store.clone(), options.clone(), None);
    driver.insert("name", DATA[0]).await.unwrap();
    let first = cookie_of(driver.finish().await.unwrap().cookie);

    // 2: load (hit) and save.
    let driver = SessionDriver::new(store.clone(), options.clone(), Some(first.clone()));
    assert_eq!(
        driver.get::<String>("name").await.unwrap().unwrap(),
        DATA[0]
    );
    driver.insert("cart", DATA[1]).await.unwrap();
    driver.finish().await.unwrap();

    // 3 and 4: both load, 3 saves, 4 conflicts, reloads and saves its key again.
    let a = SessionDriver::new(store.clone(), options.clone(), Some(first.clone()));
    let b = SessionDriver::new(store.clone(), options.clone(), Some(first.clone()));
    a.insert("a", 1).await.unwrap();
    b.insert("note", DATA[2]).await.unwrap();
    a.finish().await.unwrap();
    b.finish().await.unwrap();

    // 5: login: a new id for the session, bound to the user (save, create, delete).
    let driver = SessionDriver::new(store.clone(), options.clone(), Some(first.clone()));
    driver.bind_user(user.clone()).await;
    driver.cycle_id().await;
    let second = cookie_of(driver.finish().await.unwrap().cookie);
    assert_ne!(first, second);

    // 6: the user's devices (sessions_of), and a touch.
    let driver = SessionDriver::new(store.clone(), touching, Some(second.clone()));
    assert_eq!(
        driver.user_sessions(None, 10).await.unwrap().sessions.len(),
        1
    );
    driver.finish().await.unwrap();

    // 7: logout.
    let driver = SessionDriver::new(store.clone(), options.clone(), Some(second.clone()));
    driver.delete().await.unwrap();
    driver.finish().await.unwrap();

    // 8 and 9: the old cookie, and one naming no session at all (misses).
    for cookie in [first.clone(), SessionId::generate().to_string()] {
        let driver = SessionDriver::new(store.clone(), options.clone(), Some(cookie));
        assert_eq!(driver.get::<String>("name").await.unwrap(), None);
        driver.finish().await.unwrap();
    }
    Secrets {
        cookies: vec![first, second],
        user,
    }
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}
