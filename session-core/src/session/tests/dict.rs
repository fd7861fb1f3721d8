//! The dict-like methods: typed reads with defaults, setdefault, typed removal, bulk
//! update, and which of them write.

use std::collections::HashMap;

use super::*;

async fn stored_session(
    pairs: &[(&str, Value)],
) -> (Arc<MemoryStore>, Arc<SessionOptions>, String) {
    let (store, opts, _) = setup(SessionOptions::default().with_touch(TouchPolicy::OnChange));
    let s = SessionDriver::new(store.clone(), opts.clone(), None);
    s.extend(pairs.iter().map(|(k, v)| (*k, v.clone())))
        .await
        .unwrap();
    let cookie = cookie_of(s).await;
    (store, opts, cookie)
}

#[tokio::test]
async fn reads_with_a_default_write_nothing() {
    let (store, opts, cookie) = stored_session(&[("n", Value::from(3))]).await;
    let s = SessionDriver::new(store, opts, Some(cookie));
    assert_eq!(s.get_or("n", 0u32).await.unwrap(), 3);
    assert_eq!(s.get_or("missing", 7u32).await.unwrap(), 7);
    assert_eq!(
        s.get_or_default::<Vec<u8>>("missing").await.unwrap(),
        Vec::<u8>::new()
    );
    assert!(!s.is_modified().await);
    assert_eq!(s.finish().await.unwrap().cookie, CookieChange::Unchanged);
}

#[tokio::test]
async fn get_or_insert_with_writes_only_when_absent() {
    let (store, opts, cookie) = stored_session(&[("cart", serde_json::json!([1]))]).await;
    let s = SessionDriver::new(store.clone(), opts.clone(), Some(cookie.clone()));
    let cart: Vec<u32> = s
        .get_or_insert_with("cart", || panic!("present: not called"))
        .await
        .unwrap();
    assert_eq!(cart, [1]);
    assert!(!s.is_modified().await);

    let theme: String = s
        .get_or_insert_with("theme", || "light".to_owned())
        .await
        .unwrap();
    assert_eq!(theme, "light");
    s.finish().await.unwrap();
    let record = store.load(&cookie).await.unwrap().unwrap();
    assert_eq!(record.data["theme"], "light");
    assert_eq!(record.version, 2);
}

#[tokio::test]
async fn typed_remove_leaves_a_value_of_another_type_in_place() {
    let (store, opts, cookie) = stored_session(&[("next", Value::from("/account"))]).await;
    let s = SessionDriver::new(store, opts, Some(cookie));
    assert!(matches!(
        s.remove::<u64>("next").await,
        Err(Error::Value { ref key, .. }) if key == "next"
    ));
    assert!(s.contains_key("next").await.unwrap(), "not lost");
    assert!(!s.is_modified().await);
    assert_eq!(
        s.take::<String>("next").await.unwrap().as_deref(),
        Some("/account")
    );
    assert_eq!(s.remove::<String>("next").await.unwrap(), None);
    assert!(s.is_modified().await);
}

#[tokio::test]
async fn extend_converts_everything_before_storing_anything() {
    let (store, opts, _) = setup(SessionOptions::default());
    let s = SessionDriver::new(store, opts, None);
    // JSON map keys must be strings: this one cannot be stored.
    let bad: HashMap<(u8, u8), u8> = HashMap::from([((1, 2), 3)]);
    let pairs = vec![
        ("fine", serde_json::to_value(1).unwrap()),
        ("also", serde_json::to_value(2).unwrap()),
    ];
    s.extend(pairs).await.unwrap();
    let err = s
        .extend([("ok", HashMap::new()), ("grid", bad)])
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Value { ref key, .. } if key == "grid"),
        "{err:?}"
    );
    assert_eq!(
        s.keys().await.unwrap(),
        ["also", "fine"],
        "nothing half-stored"
    );
}

#[tokio::test]
async fn keys_values_entries_and_len() {
    let (store, opts, cookie) =
        stored_session(&[("b", Value::from(2)), ("a", Value::from(1))]).await;
    let s = SessionDriver::new(store, opts, Some(cookie));
    assert_eq!(s.len().await.unwrap(), 2);
    assert!(!s.is_empty().await.unwrap());
    assert_eq!(s.keys().await.unwrap(), ["a", "b"]);
    assert_eq!(s.values().await.unwrap(), [Value::from(1), Value::from(2)]);
    assert_eq!(
        s.entries().await.unwrap(),
        [
            ("a".to_owned(), Value::from(1)),
            ("b".to_owned(), Value::from(2))
        ]
    );
}

#[tokio::test]
async fn save_and_cycle_id_do_no_io_until_the_request_ends() {
    let (store, opts, cookie) = stored_session(&[("user", Value::from("ada"))]).await;
    let s = SessionDriver::new(store.clone(), opts, Some(cookie.clone()));
    s.cycle_id().await;
    s.save().await;
    assert!(!s.is_loaded().await);
    let new = cookie_of(s).await;
    assert_ne!(new, cookie, "the cycle happened at the end of the request");
    assert!(store.load(&cookie).await.unwrap().is_none());
    let record = store.load(&new).await.unwrap().unwrap();
    assert_eq!(record.data["user"], "ada");
}
