//! The signed id cookie.
//!
//! - `SigningKeys::verify` on any string: never panics; whatever it accepts re-signs
//!   to exactly the same text with the key it names (so only canonical signatures are
//!   accepted).
//! - Genuine signed values (current and retired key), mutated: any change is `None`.
//! - The layer's cookie reading, through the public API: a `SessionLayer` over a
//!   `MemoryStore` (or a `CookieStore`) wrapping a trivial service that reads (and
//!   sometimes writes) the session, driven with arbitrary `Cookie` headers via
//!   `ServiceExt::oneshot`. It must answer, never panic, and never hand out the
//!   genuine session unless its genuine signed cookie was sent.
#![no_main]

use std::convert::Infallible;
use std::sync::OnceLock;

use http::{header::COOKIE, HeaderValue, Request, Response};
use libfuzzer_sys::arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;
use session_cookie::CookieStore;
use session_core::{MemoryStore, SessionStore};
use session_fuzz::{
    fixed_clock, mutate, runtime, seed_record, COOKIE_NAME, SECRET_NEW, SECRET_OLD,
};
use session_tower::{Session, SessionLayer, SigningKeys, Verified};
use tower::{Layer, ServiceExt};

struct Fixture {
    keys: SigningKeys,
    old_keys: SigningKeys,
    /// The id signed with the current and with the retired key.
    signed: Vec<String>,
    /// The seed session sealed by a `CookieStore`.
    sealed: String,
}

fn keys(secrets: &[&[u8]]) -> SigningKeys {
    SigningKeys::new(secrets.iter().copied()).unwrap_or_else(|e| panic!("keys: {e}"))
}

fn cookie_store() -> CookieStore {
    CookieStore::builder()
        .secret(SECRET_NEW)
        .cookie_name(COOKIE_NAME)
        .clock(fixed_clock())
        .build()
        .unwrap_or_else(|e| panic!("cookie store: {e}"))
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let keys = keys(&[SECRET_NEW, SECRET_OLD]);
        let old_keys = keys_old();
        let id_text = seed_record().id.to_string();
        let signed = vec![
            keys.sign(COOKIE_NAME, &id_text),
            old_keys.sign(COOKIE_NAME, &id_text),
        ];
        assert!(matches!(keys.verify(COOKIE_NAME, &signed[0]), Some(Verified::Current(_))));
        assert!(matches!(keys.verify(COOKIE_NAME, &signed[1]), Some(Verified::Rotated(_))));
        let sealed = runtime()
            .block_on(cookie_store().create(&seed_record()))
            .unwrap_or_else(|e| panic!("seal: {e}"));
        Fixture { keys, old_keys, signed, sealed }
    })
}

fn keys_old() -> SigningKeys {
    keys(&[SECRET_OLD])
}

fn check_verify(f: &Fixture, name: &str, text: &str) {
    match f.keys.verify(name, text) {
        None => {}
        Some(Verified::Current(v)) => {
            assert_eq!(f.keys.sign(name, &v), text, "accepted a non-canonical signature")
        }
        Some(Verified::Rotated(v)) => {
            assert_eq!(f.old_keys.sign(name, &v), text, "accepted a non-canonical signature")
        }
    }
}

/// Drives one request through a fresh layer; returns whether the handler saw the
/// seed session's data.
fn drive(headers: &[HeaderValue], sealed_store: bool, write: bool) -> bool {
    let f = fixture();
    let layer = if sealed_store {
        SessionLayer::new(cookie_store(), f.keys.clone())
    } else {
        let store = MemoryStore::new()
            .with_settings(session_core::StoreSettings::new().with_clock(fixed_clock()));
        runtime()
            .block_on(store.create(&seed_record()))
            .unwrap_or_else(|e| panic!("seed session: {e}"));
        SessionLayer::new(store, f.keys.clone())
    };
    let inner = tower::service_fn(move |req: Request<String>| async move {
        let session = req
            .extensions()
            .get::<Session>()
            .cloned()
            .unwrap_or_else(|| panic!("the layer did not install a Session"));
        let seen = matches!(session.get::<String>("user").await, Ok(Some(u)) if u == "alice");
        if write {
            let _ = session.insert("hits", 1u32).await;
        }
        let mut res = Response::new(String::new());
        if seen {
            res.headers_mut().insert("x-seen", HeaderValue::from_static("1"));
        }
        Ok::<_, Infallible>(res)
    });
    let svc = layer.layer(inner);
    let mut req = Request::new(String::new());
    for h in headers {
        req.headers_mut().append(COOKIE, h.clone());
    }
    let res = match runtime().block_on(svc.oneshot(req)) {
        Ok(res) => res,
        Err(e) => match e {},
    };
    res.headers().contains_key("x-seen")
}

/// Whether some `session=<value>` pair in `raw` authenticates on its own.
fn carries_genuine(f: &Fixture, raw: &str, sealed_store: bool) -> bool {
    let store = sealed_store.then(cookie_store);
    raw.split(['\n', ';']).any(|pair| {
        let Some((name, value)) = pair.split_once('=') else { return false };
        if name.trim() != COOKIE_NAME {
            return false;
        }
        let value = value.trim();
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(value);
        match &store {
            Some(store) => matches!(store.open(value), Ok(Some(_))),
            None => f.keys.verify(COOKIE_NAME, value).is_some(),
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);

    // 1. Arbitrary text, under our cookie name and under one taken from the input.
    check_verify(f, COOKIE_NAME, &text);
    if let Some((name, value)) = text.split_once('=') {
        check_verify(f, name, value);
    }

    let mut u = Unstructured::new(rest);
    match mode % 3 {
        // 2. A genuine signed id, mutated.
        0 => {
            let Ok(i) = u.choose_index(f.signed.len()) else { return };
            let genuine = &f.signed[i];
            let Ok(bytes) = mutate(&mut u, genuine) else { return };
            let text = String::from_utf8_lossy(&bytes);
            check_verify(f, COOKIE_NAME, &text);
            if text != genuine.as_str() {
                assert_eq!(f.keys.verify(COOKIE_NAME, &text), None, "tampered id verified: {text:?}");
            }
        }
        // 3. The layer, with arbitrary Cookie headers (split on '\n').
        _ => {
            let sealed_store = mode & 0x10 != 0;
            let write = mode & 0x20 != 0;
            let genuine_first = mode & 0x40 != 0;
            let genuine = if sealed_store { &f.sealed } else { &f.signed[usize::from(mode & 0x80 != 0)] };
            let mut headers = Vec::new();
            let mut genuine_header_ok = false;
            for (n, part) in rest.split(|&b| b == b'\n').take(64).enumerate() {
                let bytes = if n == 0 && genuine_first {
                    let mut b = format!("{COOKIE_NAME}={genuine}; ").into_bytes();
                    b.extend_from_slice(part);
                    b
                } else {
                    part.to_vec()
                };
                if let Ok(h) = HeaderValue::from_bytes(&bytes) {
                    if n == 0 && genuine_first {
                        genuine_header_ok = true;
                    }
                    headers.push(h);
                }
            }
            let seen = drive(&headers, sealed_store, write);
            if genuine_header_ok {
                assert!(seen, "the genuine cookie, sent first, did not load its session");
            } else if seen {
                // Never adopt: the seed session is reachable only through a cookie of our
                // name whose value authenticates (signature, or seal for the cookie store).
                assert!(
                    carries_genuine(f, &String::from_utf8_lossy(rest), sealed_store),
                    "a session loaded without a genuine cookie"
                );
            }
        }
    }
});
