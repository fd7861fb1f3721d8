//! Every kind of value survives create → load unchanged.

use serde::{Deserialize, Serialize};
use serde_json::json;
use session_core::{Codec, Data, Error, Value};

use super::util::{data, record_at, TTL};
use crate::{CaseResult, Check, Harness};

/// Creates and loads back `data`. A record whose envelope exceeds the store's declared
/// `max_record_size` may instead be refused with `TooLarge`, and then nothing loads.
async fn roundtrip(h: &Harness, c: Check, data: Data) -> CaseResult {
    let fx = h.fixture().await;
    let record = record_at(h.clock().now(), TTL, data);
    let envelope = c.ok("encode", Codec::MessagePack.encode(&record))?.len();
    let over_limit = fx
        .caps()
        .max_record_size
        .is_some_and(|limit| envelope > limit);
    match fx.store().create(&record).await {
        Err(Error::TooLarge { .. }) if over_limit => {
            let loaded = c.ok(
                "load refused",
                fx.store().load(&record.id.to_string()).await,
            )?;
            c.eq("nothing written after TooLarge", None, loaded)
        }
        result => {
            let cookie = c.ok("create", result)?;
            let loaded = c.ok("load", fx.store().load(&cookie).await)?;
            c.eq("load after create", Some(record), loaded)
        }
    }
}

/// Strings: empty, long, with quotes, escapes and control characters.
pub async fn roundtrip_strings(h: &Harness) -> CaseResult {
    let c = Check::new("roundtrip_strings");
    let d = data([
        ("empty", json!("")),
        ("plain", json!("hello")),
        ("quotes", json!("it's \"quoted\" \\ and ; -- '")),
        ("control", json!("tab\tnl\ncr\r nul\u{0}")),
        ("long", json!("x".repeat(1_000))),
    ]);
    roundtrip(h, c, d).await
}

/// Unicode in keys and values, including astral-plane characters.
pub async fn roundtrip_unicode_keys(h: &Harness) -> CaseResult {
    let c = Check::new("roundtrip_unicode_keys");
    let d = data([
        ("ключ", json!("значение")),
        ("キー", json!("値")),
        ("emoji 🦀", json!("🎉✨")),
        ("", json!("empty key")),
        ("combining é", json!("e\u{301}")),
    ]);
    roundtrip(h, c, d).await
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct User {
    name: String,
    age: u8,
    roles: Vec<String>,
    address: Option<Address>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Address {
    city: String,
    zip: Option<u32>,
}

/// Nested structs, arrays, options, and numbers at their limits.
pub async fn roundtrip_nested_structs(h: &Harness) -> CaseResult {
    let c = Check::new("roundtrip_nested_structs");
    let user = User {
        name: "Ada".into(),
        age: 36,
        roles: vec!["admin".into(), "dev".into()],
        address: Some(Address {
            city: "London".into(),
            zip: None,
        }),
    };
    let user_value = c.ok(
        "serialize",
        serde_json::to_value(&user).map_err(|e| session_core::Error::Encode(e.to_string())),
    )?;
    let d = data([
        ("user", user_value),
        (
            "deep",
            json!({"a": {"b": {"c": {"d": [1, [2, [3, {"e": null}]]]}}}}),
        ),
        ("max_u64", json!(u64::MAX)),
        ("min_i64", json!(i64::MIN)),
        ("float", json!(-1234.5678e-9)),
        ("bools", json!([true, false])),
        ("null", Value::Null),
    ]);
    roundtrip(h, c, d.clone()).await?;

    let fx = h.fixture().await;
    let record = record_at(h.clock().now(), TTL, d);
    let cookie = c.ok("create", fx.store().create(&record).await)?;
    let loaded = c.ok("load", fx.store().load(&cookie).await)?;
    let back: Option<User> = loaded
        .and_then(|r| r.data.get("user").cloned())
        .and_then(|v| serde_json::from_value(v).ok());
    c.eq("typed struct back", Some(user), back)
}

/// Binary data (every byte value), as serde writes a `Vec<u8>` into a session value.
pub async fn roundtrip_bytes(h: &Harness) -> CaseResult {
    let c = Check::new("roundtrip_bytes");
    let all: Vec<u8> = (0..=255u8).cycle().take(512).collect();
    let d = data([("bytes", json!(all)), ("empty", json!(Vec::<u8>::new()))]);
    roundtrip(h, c, d).await
}

/// A session with no keys at all.
pub async fn roundtrip_empty_map(h: &Harness) -> CaseResult {
    roundtrip(h, Check::new("roundtrip_empty_map"), Data::new()).await
}

/// A thousand keys.
pub async fn roundtrip_thousand_keys(h: &Harness) -> CaseResult {
    let c = Check::new("roundtrip_thousand_keys");
    let d: Data = (0..1000)
        .map(|i| (format!("key-{i:04}"), json!({"i": i, "s": format!("v{i}")})))
        .collect();
    roundtrip(h, c, d).await
}
