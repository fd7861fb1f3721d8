//! `SessionId::parse` on arbitrary text: never panics, and every accepted text is
//! canonical (it round-trips through `Display` byte for byte). Also: any 32 bytes
//! display as text that parses back to the same id.
#![no_main]

use libfuzzer_sys::fuzz_target;
use session_core::{SessionId, ID_BYTES, ID_TEXT_LEN};

fn check_text(text: &str) {
    let parsed = SessionId::parse(text);
    let via_from_str = text.parse::<SessionId>();
    assert_eq!(parsed.is_ok(), via_from_str.is_ok(), "parse and FromStr disagree on {text:?}");
    if let Ok(id) = parsed {
        let shown = id.to_string();
        assert_eq!(shown, text, "accepted text is not canonical");
        assert_eq!(shown.len(), ID_TEXT_LEN);
        assert!(via_from_str.is_ok_and(|other| other == id));
        assert_eq!(id.storage_key(), SessionId::parse(&shown).map(|i| i.storage_key()).unwrap_or_else(|_| panic!("display output does not parse")));
    }
}

fuzz_target!(|data: &[u8]| {
    match std::str::from_utf8(data) {
        Ok(text) => check_text(text),
        Err(_) => check_text(&String::from_utf8_lossy(data)),
    }
    // Bytes -> text -> bytes.
    if let Some(chunk) = data.first_chunk::<ID_BYTES>() {
        let id = SessionId::from_bytes(*chunk);
        let text = id.to_string();
        assert_eq!(text.len(), ID_TEXT_LEN);
        match SessionId::parse(&text) {
            Ok(back) => {
                assert!(back == id, "display/parse changed the id");
                assert_eq!(back.as_bytes(), chunk);
            }
            Err(_) => panic!("the display of a valid id does not parse: {text:?}"),
        }
    }
});
