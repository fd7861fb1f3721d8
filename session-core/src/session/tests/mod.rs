use std::sync::Arc;
use std::time::Duration;

use crate::*;

fn setup(options: SessionOptions) -> (Arc<MemoryStore>, Arc<SessionOptions>, ManualClock) {
    let clock = ManualClock::new();
    let store =
        Arc::new(MemoryStore::new().with_settings(StoreSettings::new().with_clock(clock.clone())));
    (store, Arc::new(options.with_clock(clock.clone())), clock)
}

async fn cookie_of(s: SessionDriver) -> String {
    match s.finish().await.unwrap().cookie {
        CookieChange::Set(v) => v,
        other => panic!("expected a cookie, got {other:?}"),
    }
}

#[tokio::test]
async fn empty_session_is_not_persisted() {
    let (store, opts, _) = setup(SessionOptions::default());
    let s = SessionDriver::new(store.clone(), opts, None);
    assert_eq!(s.get::<u32>("x").await.unwrap(), None);
    let out = s.finish().await.unwrap();
    assert_eq!(out.cookie, CookieChange::Unchanged);
    assert_eq!(store.count().await.unwrap(), 0);
}

#[tokio::test]
async fn explicit_mode_drops_unsaved_changes() {
    let (store, opts, _) = setup(SessionOptions::default().with_save_mode(SaveMode::Explicit));
    let s = SessionDriver::new(store.clone(), opts.clone(), None);
    s.insert("a", 1).await.unwrap();
    assert_eq!(s.finish().await.unwrap().cookie, CookieChange::Unchanged);
    assert_eq!(store.count().await.unwrap(), 0);

    let s = SessionDriver::new(store.clone(), opts, None);
    s.insert("a", 1).await.unwrap();
    s.save().await;
    cookie_of(s).await;
    assert_eq!(store.count().await.unwrap(), 1);
}

#[tokio::test]
async fn update_replays_on_conflict() {
    let (store, opts, _) = setup(SessionOptions::default());
    let s = SessionDriver::new(store.clone(), opts.clone(), None);
    s.insert("n", 0).await.unwrap();
    let cookie = cookie_of(s).await;

    let a = SessionDriver::new(store.clone(), opts.clone(), Some(cookie.clone()));
    let b = SessionDriver::new(store.clone(), opts.clone(), Some(cookie.clone()));
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

    let c = SessionDriver::new(store, opts, Some(cookie));
    assert_eq!(c.get::<i64>("n").await.unwrap(), Some(2));
    assert_eq!(c.get::<bool>("b").await.unwrap(), Some(true));
}

#[tokio::test]
async fn insert_then_update_replays_exactly() {
    let (store, opts, _) = setup(SessionOptions::default());
    let s = SessionDriver::new(store.clone(), opts.clone(), None);
    s.insert("n", 100).await.unwrap();
    let cookie = cookie_of(s).await;
    let a = SessionDriver::new(store.clone(), opts.clone(), Some(cookie.clone()));
    let b = SessionDriver::new(store.clone(), opts.clone(), Some(cookie.clone()));
    a.update("n", |n: Option<i64>| n.unwrap_or(0) + 1)
        .await
        .unwrap();
    a.update("n", |n: Option<i64>| n.unwrap_or(0) * 10)
        .await
        .unwrap();
    b.insert("n", 5).await.unwrap();
    b.finish().await.unwrap();
    a.finish().await.unwrap();
    let c = SessionDriver::new(store, opts, Some(cookie));
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
    let s = SessionDriver::new(store.clone(), opts.clone(), None);
    s.insert("k", "v").await.unwrap();
    let cookie = cookie_of(s).await;

    // Touched every 50 s, the idle limit never bites, but the absolute one does.
    for _ in 0..2 {
        clock.advance(Duration::from_secs(50));
        let s = SessionDriver::new(store.clone(), opts.clone(), Some(cookie.clone()));
        assert!(s.contains_key("k").await.unwrap());
        s.finish().await.unwrap();
    }
    clock.advance(Duration::from_secs(50));
    let s = SessionDriver::new(store.clone(), opts.clone(), Some(cookie.clone()));
    assert!(!s.contains_key("k").await.unwrap());
    assert_eq!(s.finish().await.unwrap().cookie, CookieChange::Remove);
}

#[tokio::test]
async fn delete_then_writes_are_dropped() {
    let (store, opts, _) = setup(SessionOptions::default());
    let s = SessionDriver::new(store.clone(), opts.clone(), None);
    s.insert("k", 1).await.unwrap();
    let cookie = cookie_of(s).await;
    let s = SessionDriver::new(store.clone(), opts, Some(cookie));
    s.delete().await.unwrap();
    s.insert("k", 2).await.unwrap();
    assert_eq!(s.finish().await.unwrap().cookie, CookieChange::Remove);
    assert_eq!(store.count().await.unwrap(), 0);
}

#[tokio::test]
async fn invalidate_after_delete_starts_a_writable_session() {
    let (store, opts, _) = setup(SessionOptions::default());
    let s = SessionDriver::new(store.clone(), opts.clone(), None);
    s.insert("k", 1).await.unwrap();
    let cookie = cookie_of(s).await;
    let s = SessionDriver::new(store.clone(), opts, Some(cookie.clone()));
    s.delete().await.unwrap();
    s.invalidate().await.unwrap();
    s.insert("flash", "bye").await.unwrap();
    let fresh = cookie_of(s).await;
    assert_ne!(fresh, cookie);
    assert_eq!(store.count().await.unwrap(), 1);
}

#[tokio::test]
async fn insert_after_update_replays_as_a_set() {
    let (store, opts, _) = setup(SessionOptions::default());
    let s = SessionDriver::new(store.clone(), opts.clone(), None);
    s.insert("n", 1).await.unwrap();
    let cookie = cookie_of(s).await;
    let a = SessionDriver::new(store.clone(), opts.clone(), Some(cookie.clone()));
    let b = SessionDriver::new(store.clone(), opts.clone(), Some(cookie.clone()));
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
    let c = SessionDriver::new(store, opts, Some(cookie));
    assert_eq!(
        c.get::<i64>("n").await.unwrap(),
        Some(2),
        "a's last word was a plain set"
    );
}

/// Refuses (as `TooLarge`) any record holding the key `"huge"`, and counts writes: a
/// stand-in for a store's size limit that does not depend on any store's settings.
struct Refusing {
    inner: MemoryStore,
    writes: std::sync::atomic::AtomicUsize,
}

impl Refusing {
    fn new(clock: ManualClock) -> Arc<Self> {
        Arc::new(Refusing {
            inner: MemoryStore::new().with_settings(StoreSettings::new().with_clock(clock)),
            writes: Default::default(),
        })
    }

    fn check(&self, record: &Record) -> Result<()> {
        if record.data.contains_key("huge") {
            return Err(Error::TooLarge { limit: 1, size: 2 });
        }
        self.writes
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(())
    }

    fn writes(&self) -> usize {
        self.writes.load(std::sync::atomic::Ordering::SeqCst)
    }
}

#[async_trait::async_trait]
impl SessionStore for Refusing {
    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }
    fn backend(&self) -> &'static str {
        self.inner.backend()
    }
    async fn load(&self, cookie_value: &str) -> Result<Option<Record>> {
        self.inner.load(cookie_value).await
    }
    async fn create(&self, record: &Record) -> Result<String> {
        self.check(record)?;
        self.inner.create(record).await
    }
    async fn save(&self, record: &Record, expected_version: u64) -> Result<String> {
        self.check(record)?;
        self.inner.save(record, expected_version).await
    }
    async fn touch(&self, record: &Record) -> Result<String> {
        self.inner.touch(record).await
    }
    async fn delete(&self, id: &SessionId) -> Result<()> {
        self.inner.delete(id).await
    }
}

fn refusing_setup() -> (Arc<Refusing>, Arc<SessionOptions>) {
    let clock = ManualClock::new();
    let store = Refusing::new(clock.clone());
    (store, Arc::new(SessionOptions::default().with_clock(clock)))
}

/// Issue 16 item 3: a handler that catches a refused `persist` (and answers 413) must
/// not have the layer write the refused change at the end of the request.
#[tokio::test]
async fn refused_persist_is_rolled_back_not_retried() {
    let (store, opts) = refusing_setup();
    let first = SessionDriver::new(store.clone(), opts.clone(), None);
    first.insert("user", "ada").await.unwrap();
    let cookie = cookie_of(first).await;
    assert_eq!(store.writes(), 1);

    let driver = SessionDriver::new(store.clone(), opts.clone(), Some(cookie.clone()));
    let s = driver.session();
    s.insert("huge", "x".repeat(10)).await.unwrap();
    s.insert("user", "eve").await.unwrap();
    s.remove_value("missing").await.unwrap();
    assert!(matches!(s.persist().await, Err(Error::TooLarge { .. })));
    // The handle reads as stored again: no refused value, the old user.
    assert_eq!(s.get::<String>("huge").await.unwrap(), None);
    assert_eq!(
        s.get::<String>("user").await.unwrap().as_deref(),
        Some("ada")
    );
    assert!(!s.is_modified().await);
    let out = driver.finish().await.unwrap();
    assert_ne!(out.cookie, CookieChange::Remove);
    assert_eq!(store.writes(), 1, "the end of the request wrote nothing");

    let after = SessionDriver::new(store.clone(), opts, Some(cookie)).session();
    assert_eq!(
        after.get::<String>("user").await.unwrap().as_deref(),
        Some("ada")
    );
    assert!(!after.contains_key("huge").await.unwrap());
}

/// After a refused `persist`, what the handler changes next is written as usual, on top
/// of the stored data (not on top of the refused change).
#[tokio::test]
async fn changes_after_a_refused_persist_are_written() {
    let (store, opts) = refusing_setup();
    let first = SessionDriver::new(store.clone(), opts.clone(), None);
    first.insert("a", 1).await.unwrap();
    first.insert("b", 2).await.unwrap();
    let cookie = cookie_of(first).await;

    let driver = SessionDriver::new(store.clone(), opts.clone(), Some(cookie.clone()));
    driver.clear().await.unwrap();
    driver.insert("huge", true).await.unwrap();
    assert!(driver.persist().await.is_err());
    assert_eq!(
        driver.keys().await.unwrap(),
        ["a", "b"],
        "clear was rolled back"
    );
    driver.insert("c", 3).await.unwrap();
    driver.finish().await.unwrap();
    assert_eq!(store.writes(), 2);

    let after = SessionDriver::new(store, opts, Some(cookie)).session();
    assert_eq!(after.keys().await.unwrap(), ["a", "b", "c"]);
}

/// A brand-new session whose first `persist` is refused stays new and empty: no cookie,
/// no record.
#[tokio::test]
async fn refused_first_persist_leaves_no_session() {
    let (store, opts) = refusing_setup();
    let driver = SessionDriver::new(store.clone(), opts, None);
    driver.insert("huge", 1).await.unwrap();
    driver.cycle_id().await;
    assert!(driver.persist().await.is_err());
    assert!(driver.is_empty().await.unwrap());
    assert_eq!(
        driver.finish().await.unwrap().cookie,
        CookieChange::Unchanged
    );
    assert_eq!(store.inner.count().await.unwrap(), 0);
}

/// `save` only asks: a refused end-of-request write is the adapter's error, once.
#[tokio::test]
async fn refused_save_fails_the_end_of_the_request() {
    let (store, opts) = refusing_setup();
    let driver = SessionDriver::new(store.clone(), opts, None);
    driver.insert("huge", 1).await.unwrap();
    driver.save().await;
    assert!(matches!(driver.finish().await, Err(Error::TooLarge { .. })));
    assert_eq!(store.writes(), 0);
}

/// Issue 16 item 14: an `update` that returns the stored value changes nothing.
#[tokio::test]
async fn update_to_the_stored_value_writes_nothing() {
    let (store, opts) = refusing_setup();
    let first = SessionDriver::new(store.clone(), opts.clone(), None);
    first.insert("theme", "dark").await.unwrap();
    let cookie = cookie_of(first).await;

    let driver = SessionDriver::new(store.clone(), opts.clone(), Some(cookie.clone()));
    let theme = driver
        .update("theme", |t: Option<String>| {
            t.unwrap_or_else(|| "light".into())
        })
        .await
        .unwrap();
    assert_eq!(theme, "dark");
    let n = driver
        .update("n", |n: Option<u32>| n.unwrap_or(7))
        .await
        .unwrap();
    assert_eq!(n, 7);
    assert!(driver.is_modified().await, "a missing key was set");
    driver.finish().await.unwrap();
    assert_eq!(store.writes(), 2);

    let driver = SessionDriver::new(store.clone(), opts, Some(cookie));
    for key in ["theme", "n"] {
        driver
            .update(key, |v: Option<serde_json::Value>| v.unwrap_or_default())
            .await
            .unwrap();
    }
    assert!(!driver.is_modified().await);
    driver.finish().await.unwrap();
    assert_eq!(
        store.writes(),
        2,
        "a fixed-point update rewrote the session"
    );
}

mod dict;
mod expiry;
mod flash;
mod user;
