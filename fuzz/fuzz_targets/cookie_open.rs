//! The cookie-store open path (`CookieStore::open` and `SessionStore::load`).
//!
//! - Any string: never a panic, never an `Err` (a forged value cannot authenticate, so
//!   it can only be `Ok(None)`; contract rule 2), and `needs_reseal` / `needs_refresh`
//!   never panic.
//! - Genuine sealed values (current key, retired key, compressed) mutated from inside
//!   the target: any change at all is `Ok(None)`.
//! - Round trip: an arbitrary record that `create` seals opens to the same record
//!   (or to `None` if it is already expired by the store clock).
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;
use session_cookie::CookieStore;
use session_core::{Data, Record, SessionStore, Timestamp, Value};
use session_fuzz::{
    arbitrary_record, fixed_clock, mutate, runtime, seed_record, COOKIE_NAME, NOW_MS, SECRET_NEW,
    SECRET_OLD,
};

struct Fixture {
    store: CookieStore,
    genuine: Vec<String>,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let build = |secrets: Vec<&[u8]>| {
            CookieStore::builder()
                .secrets(secrets)
                .cookie_name(COOKIE_NAME)
                .clock(fixed_clock())
                .build()
                .unwrap_or_else(|e| panic!("cookie store: {e}"))
        };
        let store = build(vec![SECRET_NEW, SECRET_OLD]);
        let old = build(vec![SECRET_OLD]);
        let rt = runtime();
        let small = seed_record();
        let mut big = seed_record();
        let mut data = Data::new();
        data.insert("blob".into(), Value::String("abcdefgh".repeat(100)));
        big.data = data;
        let seal = |s: &CookieStore, r: &Record| {
            rt.block_on(s.create(r))
                .unwrap_or_else(|e| panic!("sealing a seed: {e}"))
        };
        let genuine = vec![seal(&store, &small), seal(&old, &small), seal(&store, &big)];
        for g in &genuine {
            assert!(matches!(store.open(g), Ok(Some(_))), "a genuine seed does not open");
        }
        Fixture { store, genuine }
    })
}

fn check_any(store: &CookieStore, text: &str) {
    match store.open(text) {
        Ok(_) => {}
        Err(e) => panic!("open returned an error for a client value: {e}"),
    }
    let loaded = runtime().block_on(store.load(text));
    assert!(loaded.is_ok(), "load returned an error for a client value");
    let _ = store.needs_reseal(text);
    let _ = store.needs_refresh(text);
}

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    let store = &f.store;

    // 1. The input itself as a cookie value.
    check_any(store, &String::from_utf8_lossy(data));

    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let mut u = Unstructured::new(rest);
    match mode % 2 {
        // 2. A genuine sealed value, mutated: any change is `Ok(None)`.
        0 => {
            let Ok(i) = u.choose_index(f.genuine.len()) else {
                return;
            };
            let genuine = &f.genuine[i];
            let Ok(bytes) = mutate(&mut u, genuine) else {
                return;
            };
            let text = String::from_utf8_lossy(&bytes);
            check_any(store, &text);
            if text != genuine.as_str() {
                assert!(
                    matches!(store.open(&text), Ok(None)),
                    "a tampered sealed value opened: {text:?}"
                );
            }
        }
        // 3. Seal an arbitrary record, open it again.
        _ => {
            let Ok(mut record) = arbitrary_record(&mut u) else {
                return;
            };
            if mode & 0x80 == 0 {
                // Mostly live records, so the comparison below runs.
                record.expires_at = Timestamp::from_millis(
                    NOW_MS.saturating_add(record.expires_at.as_millis().rem_euclid(1 << 40) + 1),
                );
            }
            let Ok(value) = runtime().block_on(store.create(&record)) else {
                return; // TooLarge: nothing sealed.
            };
            let opened = store
                .open(&value)
                .unwrap_or_else(|e| panic!("our own sealed value does not open: {e}"));
            if record.expires_at.as_millis() > NOW_MS {
                let opened = opened.unwrap_or_else(|| panic!("a live sealed record does not open"));
                assert!(!opened.needs_reseal());
                assert_eq!(opened.record(), &record, "open(seal(r)) != r");
            } else {
                assert!(opened.is_none(), "an expired record opened");
            }
        }
    }
});
