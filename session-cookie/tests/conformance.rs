//! `CookieStore` against the whole conformance suite: once with the defaults, once
//! with compression off, a prefixed cookie name and a larger attribute budget, so the
//! size gate runs with a different limit and without compression to hide behind.

use session_conformance::suite;
use session_cookie::{generate_secret, CookieStore};

suite!(cookie, |clock| async move {
    CookieStore::new(generate_secret())
        .expect("a 32-byte secret is a valid configuration")
        .with_clock(clock)
});

suite!(cookie_uncompressed, |clock| async move {
    CookieStore::builder()
        .secret(generate_secret())
        .secret(generate_secret())
        .cookie_name("__Host-sid")
        .attribute_budget(512)
        .compression_threshold(None)
        .clock(clock)
        .build()
        .expect("valid configuration")
});
