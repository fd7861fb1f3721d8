//! Records over the store's size limit are refused before anything is written.

use serde_json::json;
use session_core::{Codec, Error};

use super::util::{data, next_version, record_at, TTL};
use crate::{CaseResult, Check, Harness};

/// Incompressible bytes: a size limit cannot be dodged by compression.
fn noise(len: usize) -> String {
    // xorshift: deterministic, dependency-free, and does not compress.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            char::from(b'!' + (x % 90) as u8)
        })
        .collect()
}

/// Over `max_record_size`: `TooLarge` on create and on save, and nothing written.
/// Without a declared limit, a 1 MiB record must round-trip.
pub async fn too_large_refused(h: &Harness) -> CaseResult {
    let c = Check::new("too_large_refused");
    let fx = h.fixture().await;
    let Some(limit) = fx.caps().max_record_size else {
        let big = record_at(
            h.clock().now(),
            TTL,
            data([("blob", json!(noise(1 << 20)))]),
        );
        let cookie = c.ok(
            "create 1 MiB without a declared limit",
            fx.store().create(&big).await,
        )?;
        let loaded = c.ok("load 1 MiB", fx.store().load(&cookie).await)?;
        return c.eq("1 MiB round trip", Some(big), loaded);
    };
    let big = record_at(
        h.clock().now(),
        TTL,
        data([("blob", json!(noise(limit.saturating_mul(2))))]),
    );
    let size = c.ok("encode", Codec::MessagePack.encode(&big))?.len();
    c.that(
        "test record exceeds the limit",
        size > limit,
        "size > limit",
        (size, limit),
    )?;
    c.err(
        "create over the limit",
        fx.store().create(&big).await,
        "TooLarge",
        |e| matches!(e, Error::TooLarge { limit: l, size: s } if *l == limit && *s > limit),
    )?;
    c.eq(
        "nothing written by the refused create",
        None,
        c.ok("load", fx.store().load(&big.id.to_string()).await)?
            .map(|r| r.id),
    )?;

    let small = record_at(h.clock().now(), TTL, data([("k", json!("small"))]));
    let cookie = c.ok("create small", fx.store().create(&small).await)?;
    let grown = next_version(&small, big.data.clone(), h.clock().now());
    c.err(
        "save over the limit",
        fx.store().save(&grown, small.version).await,
        "TooLarge",
        |e| matches!(e, Error::TooLarge { .. }),
    )?;
    let loaded = c.ok("load after refused save", fx.store().load(&cookie).await)?;
    c.eq("small record unchanged", Some(small), loaded)
}
