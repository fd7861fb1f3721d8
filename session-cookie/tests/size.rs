//! Size: a record either fits in one browser cookie or is refused with `TooLarge`
//! before anything is produced. Compression lets repetitive records through.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test, not a crash a client can cause

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use session_cookie::{
    generate_secret, CookieStore, BROWSER_COOKIE_LIMIT, DEFAULT_ATTRIBUTE_BUDGET,
    DEFAULT_COOKIE_NAME, MAX_INFLATED_LEN,
};
use session_core::{
    Codec, CookieChange, Data, Error, ManualClock, Record, SessionDriver, SessionId,
    SessionOptions, SessionStore,
};

/// Incompressible printable text (xorshift over 64 characters).
fn noise(len: usize, seed: u64) -> String {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
            char::from(alphabet[(x % 64) as usize])
        })
        .collect()
}

fn record_with(clock: &ManualClock, data: Data) -> Record {
    let now = clock.now();
    Record::new(
        SessionId::generate(),
        data,
        now,
        now.saturating_add(Duration::from_secs(600)),
    )
}

fn blob(text: String) -> Data {
    Data::from([("blob".to_owned(), json!(text))])
}

fn envelope_len(r: &Record) -> usize {
    Codec::MessagePack.encode(r).unwrap().len()
}

/// A record whose encoded envelope is exactly `target` bytes.
fn record_of_envelope(clock: &ManualClock, target: usize) -> Record {
    let base = envelope_len(&record_with(clock, blob(String::new())));
    // The string header grows by a byte or two at 32 and 256 characters; try the few
    // lengths around the estimate.
    (target.saturating_sub(base + 3)..=target.saturating_sub(base))
        .map(|n| record_with(clock, blob(noise(n, target as u64))))
        .find(|r| envelope_len(r) == target)
        .unwrap_or_else(|| panic!("no record with a {target}-byte envelope"))
}

fn stores(clock: &ManualClock) -> Vec<CookieStore> {
    let secret = generate_secret();
    let plain = |threshold| {
        CookieStore::builder()
            .secret(secret)
            .compression_threshold(threshold)
            .clock(clock.clone())
    };
    vec![
        // The default: compression only of a body over the budget.
        CookieStore::builder()
            .secret(secret)
            .clock(clock.clone())
            .build()
            .unwrap(),
        plain(None).build().unwrap(),
        plain(Some(1024)).build().unwrap(),
        plain(Some(0)).build().unwrap(),
        plain(None)
            .cookie_name("__Host-a-much-longer-session-cookie-name")
            .attribute_budget(700)
            .build()
            .unwrap(),
    ]
}

#[test]
fn declared_limits_add_up_to_one_browser_cookie() {
    let store = CookieStore::new(generate_secret()).unwrap();
    assert_eq!(store.cookie_name(), DEFAULT_COOKIE_NAME);
    assert_eq!(
        store.capabilities().max_record_size,
        Some(store.max_record_size())
    );
    assert_eq!(
        DEFAULT_COOKIE_NAME.len() + 1 + store.max_value_len() + DEFAULT_ATTRIBUTE_BUDGET,
        BROWSER_COOKIE_LIMIT
    );
    assert_eq!(store.max_record_size(), 2796);

    let custom = CookieStore::builder()
        .secret(generate_secret())
        .cookie_name("__Host-sid")
        .attribute_budget(400)
        .build()
        .unwrap();
    assert_eq!(
        "__Host-sid".len() + 1 + custom.max_value_len() + 400,
        BROWSER_COOKIE_LIMIT
    );
    assert!(custom.max_record_size() < store.max_record_size());
}

/// At the declared limit every record fits, compressible or not, and the cookie stays
/// within the browser's budget; one byte more without compression is `TooLarge`.
#[tokio::test]
async fn the_declared_limit_is_exact() {
    let clock = ManualClock::new();
    for store in stores(&clock) {
        let limit = store.max_record_size();
        let at = record_of_envelope(&clock, limit);
        let value = store.create(&at).await.unwrap_or_else(|e| {
            panic!("{store:?}: a {limit}-byte envelope must be accepted: {e:?}")
        });
        assert!(value.len() <= store.max_value_len(), "{store:?}");
        assert_eq!(store.load(&value).await.unwrap(), Some(at));

        let over = record_of_envelope(&clock, limit + 1);
        match store.create(&over).await {
            Err(Error::TooLarge { limit: l, size }) => {
                assert_eq!(l, limit);
                assert!(size > limit);
            }
            Ok(value) => {
                // Only compression may let it through, and then it must still fit.
                let opened = store.open(&value).unwrap().unwrap();
                assert!(opened.was_compressed(), "{store:?}");
                assert!(value.len() <= store.max_value_len());
            }
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
}

/// `TooLarge` carries the declared limit and the size after compression, on create,
/// save and touch alike.
#[tokio::test]
async fn too_large_is_refused_on_every_write() {
    let clock = ManualClock::new();
    for store in stores(&clock) {
        let limit = store.max_record_size();
        let big = record_with(&clock, blob(noise(2 * limit, 7)));
        for (op, result) in [
            ("create", store.create(&big).await),
            ("save", store.save(&big, 1).await),
            ("touch", store.touch(&big).await),
        ] {
            assert!(
                matches!(result, Err(Error::TooLarge { limit: l, size }) if l == limit && size > limit),
                "{op} on {store:?}: {result:?}"
            );
        }
    }
}

/// Through the session handle: the error reaches the caller of `persist` (which rolls
/// the refused change back, so the end of the request does not try it again) or of
/// `finish`, so no cookie is produced for an oversized session.
#[tokio::test]
async fn too_large_surfaces_before_any_cookie() {
    let clock = ManualClock::new();
    let store = Arc::new(
        CookieStore::new(generate_secret())
            .unwrap()
            .with_clock(clock.clone()),
    );
    let options = Arc::new(SessionOptions::default().with_clock(clock.clone()));

    let s = SessionDriver::new(store.clone(), options.clone(), None);
    s.insert("user", "ada").await.unwrap();
    let CookieChange::Set(small) = s.finish().await.unwrap().cookie else {
        panic!("a small session gets a cookie");
    };

    let s = SessionDriver::new(store.clone(), options.clone(), Some(small.clone()));
    s.insert("blob", noise(10_000, 3)).await.unwrap();
    assert!(matches!(s.persist().await, Err(Error::TooLarge { .. })));
    assert!(!s.contains_key("blob").await.unwrap(), "rolled back");
    if let CookieChange::Set(value) = s.finish().await.unwrap().cookie {
        let record = store.load(&value).await.unwrap().unwrap();
        assert!(
            !record.data.contains_key("blob"),
            "the refused blob was sealed"
        );
    }

    let s = SessionDriver::new(store.clone(), options, None);
    s.insert("blob", noise(10_000, 4)).await.unwrap();
    assert!(matches!(s.finish().await, Err(Error::TooLarge { .. })));

    // The client's cookie is still the small session.
    let record = store.load(&small).await.unwrap().unwrap();
    assert_eq!(record.data.get("user"), Some(&json!("ada")));
    assert!(!record.data.contains_key("blob"));
}

/// A repetitive record several times the limit compresses into one cookie and comes
/// back unchanged.
#[tokio::test]
async fn compression_roundtrip() {
    let clock = ManualClock::new();
    let store = CookieStore::new(generate_secret())
        .unwrap()
        .with_clock(clock.clone());
    let data: Data = (0..400)
        .map(|i| {
            (
                format!("cart-item-{i:03}"),
                json!({"sku": "BOOK", "qty": 1}),
            )
        })
        .collect();
    let r = record_with(&clock, data);
    assert!(envelope_len(&r) > 3 * store.max_record_size());
    let value = store.create(&r).await.unwrap();
    assert!(value.len() <= store.max_value_len());
    let opened = store.open(&value).unwrap().unwrap();
    assert!(opened.was_compressed());
    assert!(!opened.needs_reseal());
    assert_eq!(opened.into_record(), r);

    // Without compression the same record is refused.
    let plain = CookieStore::builder()
        .secret(generate_secret())
        .compression_threshold(None)
        .clock(clock.clone())
        .build()
        .unwrap();
    assert!(matches!(
        plain.create(&r).await,
        Err(Error::TooLarge { .. })
    ));
}

/// Small sessions stay uncompressed under the default threshold, so their length
/// reveals nothing about their contents' redundancy.
#[tokio::test]
async fn small_sessions_are_not_compressed() {
    let clock = ManualClock::new();
    let store = CookieStore::new(generate_secret())
        .unwrap()
        .with_clock(clock.clone());
    let r = record_with(&clock, blob("a".repeat(500)));
    assert!(envelope_len(&r) < 1024);
    let value = store.create(&r).await.unwrap();
    assert!(!store.open(&value).unwrap().unwrap().was_compressed());
}

/// Nothing is sealed that would not inflate again: a body over the inflate cap is
/// refused even though it would compress into a cookie.
#[tokio::test]
async fn inflate_cap_is_enforced_when_sealing() {
    let clock = ManualClock::new();
    let store = CookieStore::new(generate_secret())
        .unwrap()
        .with_clock(clock.clone());
    let r = record_with(&clock, blob("z".repeat(MAX_INFLATED_LEN)));
    match store.create(&r).await {
        Err(Error::TooLarge { limit, size }) => {
            assert_eq!(limit, store.max_record_size());
            assert!(size > MAX_INFLATED_LEN);
        }
        other => panic!("expected TooLarge, got {other:?}"),
    }
    let under = record_with(&clock, blob("z".repeat(MAX_INFLATED_LEN - 100)));
    let value = store.create(&under).await.unwrap();
    assert_eq!(store.load(&value).await.unwrap(), Some(under));
}

#[test]
fn configuration_errors() {
    let config_error = |r: Result<CookieStore, Error>| matches!(r, Err(Error::Config(_)));
    assert!(config_error(CookieStore::new([0u8; 31])));
    assert!(config_error(CookieStore::new([])));
    assert!(config_error(CookieStore::new("short password")));
    assert!(config_error(CookieStore::builder().build()));
    assert!(config_error(
        CookieStore::builder()
            .secret(generate_secret())
            .secret([1u8; 16])
            .build()
    ));
    let s = generate_secret();
    assert!(config_error(CookieStore::builder().secrets([s, s]).build()));
    for name in ["", "a b", "a;b", "sess=ion", "séssion"] {
        assert!(config_error(
            CookieStore::builder()
                .secret(generate_secret())
                .cookie_name(name)
                .build()
        ));
    }
    assert!(config_error(
        CookieStore::builder()
            .secret(generate_secret())
            .attribute_budget(4000)
            .build()
    ));
    assert!(CookieStore::new([0u8; 32]).is_ok());
    assert!(CookieStore::new([0u8; 64]).is_ok());
}
