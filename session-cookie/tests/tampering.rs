//! Whatever a client sends, `load` answers `Ok(None)` unless it is a live value this
//! store sealed for this cookie name: no error, no panic.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test, not a crash a client can cause

use std::time::Duration;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use proptest::prelude::*;
use serde_json::json;
use session_cookie::{generate_secret, CookieStore};
use session_core::{Data, ManualClock, Record, SessionId, SessionStore, Timestamp};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

fn record(clock: &ManualClock, ttl: Duration, data: Data) -> Record {
    let now = clock.now();
    Record::new(SessionId::generate(), data, now, now.saturating_add(ttl))
}

fn sample_data() -> Data {
    [
        ("user".to_owned(), json!("ada")),
        ("roles".to_owned(), json!(["admin", "dev"])),
        ("csrf".to_owned(), json!("4f9c2a")),
    ]
    .into_iter()
    .collect()
}

struct Setup {
    rt: tokio::runtime::Runtime,
    clock: ManualClock,
    store: CookieStore,
    record: Record,
    value: String,
}

/// A store, a record and its sealed value. `compressed` makes the record larger than the
/// record budget (so the default store compresses it) and repetitive enough to shrink,
/// taking the compressed path.
fn setup(compressed: bool) -> Setup {
    let rt = runtime();
    let clock = ManualClock::new();
    let store = CookieStore::new(generate_secret())
        .unwrap()
        .with_clock(clock.clone());
    let mut data = sample_data();
    if compressed {
        data.insert("history".into(), json!(["/cart", "/checkout"].repeat(250)));
    }
    let record = record(&clock, Duration::from_secs(600), data);
    let value = rt.block_on(store.create(&record)).unwrap();
    let opened = store.open(&value).unwrap().unwrap();
    assert_eq!(opened.was_compressed(), compressed);
    assert_eq!(opened.record(), &record);
    Setup {
        rt,
        clock,
        store,
        record,
        value,
    }
}

impl Setup {
    fn load(&self, value: &str) -> Option<Record> {
        match self.rt.block_on(self.store.load(value)) {
            Ok(r) => r,
            Err(e) => panic!("load of {} bytes must not fail: {e:?}", value.len()),
        }
    }
}

/// Every single-bit flip of the sealed bytes (header, nonce, ciphertext and tag) makes
/// the value fail to open, for an uncompressed and a compressed body.
#[test]
fn every_bit_flip_of_the_sealed_bytes_is_none() {
    for compressed in [false, true] {
        let s = setup(compressed);
        let bytes = URL_SAFE_NO_PAD.decode(&s.value).unwrap();
        let mut flips = 0;
        for i in 0..bytes.len() {
            for bit in 0..8 {
                let mut tampered = bytes.clone();
                tampered[i] ^= 1 << bit;
                let value = URL_SAFE_NO_PAD.encode(&tampered);
                assert_eq!(s.load(&value), None, "byte {i} bit {bit}");
                flips += 1;
            }
        }
        assert_eq!(flips, bytes.len() * 8);
        assert_eq!(
            s.load(&s.value),
            Some(s.record.clone()),
            "original still opens"
        );
    }
}

/// Every single-bit flip of the cookie text: either the text stops being canonical
/// base64 or it decodes to different bytes. Flips that leave ASCII produce invalid
/// UTF-8, which no `&str` can carry; they are checked as their lossy decoding.
#[test]
fn every_bit_flip_of_the_cookie_text_is_none() {
    let s = setup(false);
    let text = s.value.as_bytes();
    for i in 0..text.len() {
        for bit in 0..8 {
            let mut tampered = text.to_vec();
            tampered[i] ^= 1 << bit;
            let value = String::from_utf8_lossy(&tampered);
            assert_eq!(s.load(&value), None, "char {i} bit {bit}");
        }
    }
}

#[test]
fn truncations_and_extensions_are_none() {
    let s = setup(true);
    for cut in 0..s.value.len() {
        assert_eq!(s.load(&s.value[..cut]), None, "prefix of {cut}");
        assert_eq!(s.load(&s.value[cut + 1..]), None, "suffix from {}", cut + 1);
    }
    for extra in ["A", "AA", "AAA", "AAAA", "=", "==", " ", "\n", ";", "."] {
        assert_eq!(
            s.load(&format!("{}{extra}", s.value)),
            None,
            "{extra:?} appended"
        );
        assert_eq!(
            s.load(&format!("{extra}{}", s.value)),
            None,
            "{extra:?} prepended"
        );
    }
}

#[test]
fn empty_and_non_base64_values_are_none() {
    let s = setup(false);
    // The same bytes in the standard alphabet, and padded: not this store's encoding.
    let bytes = URL_SAFE_NO_PAD.decode(&s.value).unwrap();
    let standard = STANDARD.encode(&bytes);
    let mut values = vec![
        String::new(),
        " ".into(),
        "!!!!".into(),
        "====".into(),
        "%00".into(),
        "\0".repeat(200),
        "é".repeat(200),
        "\u{feff}".repeat(100),
        s.value.replace(|c: char| c.is_ascii_digit(), "*"),
        format!("{}=", s.value),
        format!("\"{}\"", s.value),
        s.value.to_ascii_uppercase(),
        s.value.chars().rev().collect(),
        SessionId::generate().to_string(),
    ];
    // Equal only when the value has no `-`/`_` and needs no padding; then it is the
    // value itself, not a different encoding.
    if standard != s.value {
        values.push(standard);
    }
    for value in &values {
        assert_eq!(s.load(value), None, "{value:?}");
    }
}

/// 100 kB values: junk, valid base64, and the real value repeated. They are refused
/// by length before anything is decoded.
#[test]
fn hundred_kilobyte_values_are_none() {
    let s = setup(false);
    let real = s.value.repeat(100_000 / s.value.len() + 1);
    let values = [
        "A".repeat(100_000),
        "x_-".repeat(34_000),
        "\u{1F980}".repeat(25_000),
        real,
    ];
    for value in &values {
        assert!(value.len() >= 100_000);
        assert_eq!(s.load(value), None, "{} bytes", value.len());
    }
}

#[test]
fn wrong_key_is_none() {
    let s = setup(false);
    let other = CookieStore::new(generate_secret())
        .unwrap()
        .with_clock(s.clock.clone());
    assert_eq!(s.rt.block_on(other.load(&s.value)).unwrap(), None);
    assert_eq!(s.load(&s.value), Some(s.record.clone()));
}

/// The cookie name is bound as associated data: a value issued as cookie `a` does not
/// open as cookie `b`, even under the same secret.
#[test]
fn value_for_one_cookie_name_does_not_open_under_another() {
    let rt = runtime();
    let clock = ManualClock::new();
    let secret = generate_secret();
    let named = |name: &str| {
        CookieStore::builder()
            .secret(secret)
            .cookie_name(name)
            .clock(clock.clone())
            .build()
            .unwrap()
    };
    let (a, b, a_again) = (named("a"), named("b"), named("a"));
    let r = record(&clock, Duration::from_secs(60), sample_data());
    let value = rt.block_on(a.create(&r)).unwrap();
    assert_eq!(rt.block_on(b.load(&value)).unwrap(), None);
    assert_eq!(rt.block_on(a_again.load(&value)).unwrap(), Some(r));
}

/// The deadline sealed in the value is enforced against the store's clock: the record
/// opens until its deadline and not at or after it, whatever the value looks like.
#[test]
fn expired_value_is_none() {
    let s = setup(false);
    let ttl = s.record.expires_at.since(s.clock.now());
    s.clock.advance(ttl - Duration::from_millis(1));
    assert_eq!(s.load(&s.value), Some(s.record.clone()));
    s.clock.advance(Duration::from_millis(1));
    assert_eq!(s.clock.now(), s.record.expires_at);
    assert_eq!(s.load(&s.value), None);
    s.clock.advance(Duration::from_secs(86_400 * 365));
    assert_eq!(s.load(&s.value), None);
}

/// A record created with a deadline already passed never opens (no resurrection
/// through an old timestamp), and `touch`/`save` refuse to extend it.
#[test]
fn already_expired_record_never_opens_and_is_not_extended() {
    let rt = runtime();
    let clock = ManualClock::at(Timestamp::from_millis(1_000_000));
    let store = CookieStore::new(generate_secret())
        .unwrap()
        .with_clock(clock.clone());
    let now = clock.now();
    let dead = Record::new(SessionId::generate(), sample_data(), now, now);
    let value = rt.block_on(store.create(&dead)).unwrap();
    assert_eq!(rt.block_on(store.load(&value)).unwrap(), None);
    assert!(matches!(
        rt.block_on(store.touch(&dead)),
        Err(session_core::Error::NotFound)
    ));
    assert!(matches!(
        rt.block_on(store.save(&dead, 1)),
        Err(session_core::Error::NotFound)
    ));
}

/// Text in the cookie's own alphabet, up to a little over the 4096-character cap.
fn base64_text() -> impl Strategy<Value = String> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    proptest::collection::vec(0..ALPHABET.len(), 0..4200)
        .prop_map(|picks| picks.into_iter().map(|i| char::from(ALPHABET[i])).collect())
}

/// Cases per fuzz property: 2000 by default, more with `SESSION_COOKIE_FUZZ_CASES` for
/// a longer (still bounded) run.
fn fuzz_cases() -> u32 {
    std::env::var("SESSION_COOKIE_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(fuzz_cases()))]

    /// Random bytes, read as text the way a lenient HTTP layer might.
    #[test]
    fn random_bytes_never_open(bytes in proptest::collection::vec(any::<u8>(), 0..6000)) {
        let s = setup(false);
        prop_assert_eq!(s.load(&String::from_utf8_lossy(&bytes)), None);
    }

    /// Random Unicode strings.
    #[test]
    fn random_strings_never_open(text in ".{0,1000}") {
        let s = setup(false);
        prop_assert_eq!(s.load(&text), None);
    }

    /// Random text in the cookie's own alphabet, so it gets past base64 decoding and
    /// into the header, key lookup and tag check.
    #[test]
    fn random_base64_never_opens(text in base64_text()) {
        let s = setup(false);
        prop_assert_eq!(s.load(&text), None);
    }

    /// A genuine version byte and key id followed by random flags and random bytes:
    /// past the header checks and into the tag check, which must refuse it.
    #[test]
    fn genuine_header_random_rest_never_opens(
        flags in any::<u8>(),
        rest in proptest::collection::vec(any::<u8>(), 0..3000),
    ) {
        let s = setup(false);
        let genuine = URL_SAFE_NO_PAD.decode(&s.value).unwrap();
        let mut bytes = genuine[..5].to_vec();
        bytes.push(flags);
        bytes.extend_from_slice(&rest);
        prop_assert_eq!(s.load(&URL_SAFE_NO_PAD.encode(&bytes)), None);
    }

    /// A real value with a run of characters overwritten.
    #[test]
    fn overwritten_values_never_open(
        at in any::<proptest::sample::Index>(),
        patch in "[A-Za-z0-9_-]{1,8}",
        compressed in any::<bool>(),
    ) {
        let s = setup(compressed);
        let at = at.index(s.value.len());
        let end = (at + patch.len()).min(s.value.len());
        let mut value = s.value.clone();
        value.replace_range(at..end, &patch[..end - at]);
        let expected = (value == s.value).then(|| s.record.clone());
        prop_assert_eq!(s.load(&value), expected);
    }
}
