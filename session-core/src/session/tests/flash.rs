//! Flash messages: kept until a later request takes them, shown once, never written
//! when there is nothing to flash or take.

use super::*;

#[tokio::test]
async fn a_flash_is_shown_once_on_a_later_request() {
    let (store, opts, _) = setup(SessionOptions::default());
    let s = SessionDriver::new(store.clone(), opts.clone(), None);
    s.flash(Level::Success, "Logged in").await.unwrap();
    s.flash(Level::Info, "2 new messages").await.unwrap();
    let cookie = cookie_of(s).await;

    let s = SessionDriver::new(store.clone(), opts.clone(), Some(cookie.clone()));
    let shown = s.take_flashes().await.unwrap();
    assert_eq!(
        shown,
        [
            Flash::new(Level::Success, "Logged in"),
            Flash::new(Level::Info, "2 new messages")
        ]
    );
    s.finish().await.unwrap();

    let s = SessionDriver::new(store.clone(), opts, Some(cookie.clone()));
    assert!(s.take_flashes().await.unwrap().is_empty());
    assert!(!s.is_modified().await, "nothing to take: nothing to write");
    s.finish().await.unwrap();
    let record = store.load(&cookie).await.unwrap().unwrap();
    assert!(!record.data.contains_key(FLASH_KEY));
}

#[tokio::test]
async fn flash_now_is_for_this_request_only() {
    let (store, opts, _) = setup(SessionOptions::default());
    let s = SessionDriver::new(store.clone(), opts, None);
    s.flash_now(Level::Error, "Wrong password").await;
    assert!(!s.is_loaded().await, "flash_now does no I/O");
    assert_eq!(
        s.take_flashes().await.unwrap(),
        [Flash::new(Level::Error, "Wrong password")]
    );
    assert!(s.take_flashes().await.unwrap().is_empty());
    assert_eq!(s.finish().await.unwrap().cookie, CookieChange::Unchanged);
    assert_eq!(store.count().await.unwrap(), 0, "never stored");
}

#[tokio::test]
async fn flashes_from_concurrent_requests_are_all_kept() {
    let (store, opts, _) = setup(SessionOptions::default());
    let s = SessionDriver::new(store.clone(), opts.clone(), None);
    s.insert("user", "ada").await.unwrap();
    let cookie = cookie_of(s).await;

    let a = SessionDriver::new(store.clone(), opts.clone(), Some(cookie.clone()));
    let b = SessionDriver::new(store.clone(), opts.clone(), Some(cookie.clone()));
    a.flash(Level::Info, "from a").await.unwrap();
    b.flash(Level::Info, "from b").await.unwrap();
    a.finish().await.unwrap();
    b.finish().await.unwrap(); // conflicts, replays its flash on a's list

    let s = SessionDriver::new(store.clone(), opts, Some(cookie));
    let texts: Vec<String> = s
        .take_flashes()
        .await
        .unwrap()
        .into_iter()
        .map(|f| f.text)
        .collect();
    assert_eq!(texts, ["from a", "from b"]);
}

#[tokio::test]
async fn a_foreign_value_under_the_flash_key_is_an_error_and_is_kept() {
    let (store, opts, _) = setup(SessionOptions::default());
    let s = SessionDriver::new(store.clone(), opts, None);
    s.insert(FLASH_KEY, "not a list").await.unwrap();
    assert!(matches!(s.take_flashes().await, Err(Error::Value { .. })));
    assert_eq!(
        s.get::<String>(FLASH_KEY).await.unwrap().as_deref(),
        Some("not a list")
    );
}

#[test]
fn levels_are_stored_by_name() {
    let stored = serde_json::to_value(Flash::new(Level::Warning, "Disk almost full")).unwrap();
    assert_eq!(
        stored,
        serde_json::json!({"level": "warning", "text": "Disk almost full"})
    );
    assert_eq!(Level::Success.to_string(), "success");
}
