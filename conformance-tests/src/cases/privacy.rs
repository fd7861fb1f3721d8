//! No raw session id is ever stored (contract rule 7).

use serde_json::json;

use super::util::{data, record_at, TTL};
use crate::{CaseResult, Check, Harness};

/// The id as a store might leak it: raw, base64url (the cookie), standard base64,
/// and lower- or upper-case hex.
fn encodings(id: &[u8; 32]) -> Vec<Vec<u8>> {
    const STD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let std_b64: Vec<u8> = id
        .chunks(3)
        .flat_map(|c| {
            let n = c.iter().fold(0u32, |acc, b| (acc << 8) | u32::from(*b)) << (8 * (3 - c.len()));
            let chars = c.len() + 1;
            (0..chars).map(move |i| STD[((n >> (18 - 6 * i)) & 63) as usize])
        })
        .collect();
    let url_b64: Vec<u8> = std_b64
        .iter()
        .map(|&b| match b {
            b'+' => b'-',
            b'/' => b'_',
            other => other,
        })
        .collect();
    let hex_lower: Vec<u8> = id
        .iter()
        .flat_map(|b| format!("{b:02x}").into_bytes())
        .collect();
    let hex_upper = hex_lower.to_ascii_uppercase();
    vec![id.to_vec(), url_b64, std_b64, hex_lower, hex_upper]
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// Stores that keep records: no raw key or value holds the id, as text or as bytes.
/// The fixture must offer a raw dump. Self-sealed stores: the sealed cookie does not
/// show the id.
pub async fn no_raw_id_stored(h: &Harness) -> CaseResult {
    let c = Check::new("no_raw_id_stored");
    let fx = h.fixture().await;
    let records: Vec<_> = (0..5)
        .map(|i| record_at(h.clock().now(), TTL, data([("i", json!(i))])))
        .collect();
    let mut cookies = Vec::new();
    for r in &records {
        cookies.push(c.ok("create", fx.store().create(r).await)?);
    }
    if fx.caps().self_sealed {
        for (r, cookie) in records.iter().zip(&cookies) {
            let text = r.id.to_string();
            c.that(
                "sealed cookie hides the id",
                !cookie.contains(&text),
                "id not visible",
                cookie,
            )?;
        }
        return Ok(());
    }
    let Some(entries) = fx.raw_entries().await else {
        return Err(c.fail(
            "raw dump",
            "a server store's fixture provides Fixture::with_raw_dump",
            "no raw dump hook",
        ));
    };
    c.that(
        "raw dump shows the records",
        entries.len() >= records.len(),
        "at least 5 entries",
        entries.len(),
    )?;
    for r in &records {
        let forms = encodings(r.id.as_bytes());
        for (key, value) in &entries {
            for (what, bytes) in [("key", key), ("value", value)] {
                let found = forms.iter().any(|f| contains(bytes, f));
                c.that(
                    &format!("raw {what} free of the id"),
                    !found,
                    "no raw id",
                    String::from_utf8_lossy(bytes),
                )?;
            }
        }
    }
    Ok(())
}
