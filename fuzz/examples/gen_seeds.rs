//! Writes the seed corpora: a few genuine values per target, named `seed-*` (the only
//! corpus files kept in git). Run from `fuzz/`: `cargo run --example gen_seeds`.

use std::fs;
use std::path::Path;

use session_cookie::CookieStore;
use session_core::{Codec, Data, SessionStore, Value};
use session_fuzz::{fixed_clock, runtime, seed_record, COOKIE_NAME, SECRET_NEW, SECRET_OLD};
use session_tower::SigningKeys;

fn write(target: &str, name: &str, bytes: &[u8]) {
    let dir = Path::new("corpus").join(target);
    fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let path = dir.join(format!("seed-{name}"));
    fs::write(&path, bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

fn with_mode(mode: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![mode];
    v.extend_from_slice(body);
    v
}

fn main() {
    let rt = runtime();
    let record = seed_record();
    let mut big = seed_record();
    let mut data = Data::new();
    data.insert("blob".into(), Value::String("abcdefgh".repeat(100)));
    big.data = data;

    // session_id_parse: a genuine id's text, and raw id bytes.
    let id_text = record.id.to_string();
    write("session_id_parse", "text", id_text.as_bytes());
    write("session_id_parse", "bytes", record.id.as_bytes());

    // envelope_decode: genuine envelopes in both formats.
    for (name, codec) in [("msgpack", Codec::MessagePack), ("json", Codec::Json)] {
        let bytes = codec.encode(&record).unwrap_or_else(|e| panic!("encode: {e}"));
        write("envelope_decode", name, &bytes);
    }

    // cookie_open: genuine sealed values (current key, retired key, compressed), raw
    // and behind the mode byte of the mutation branch.
    let build = |secrets: Vec<&[u8]>| {
        CookieStore::builder()
            .secrets(secrets)
            .cookie_name(COOKIE_NAME)
            .clock(fixed_clock())
            .build()
            .unwrap_or_else(|e| panic!("cookie store: {e}"))
    };
    let current = build(vec![SECRET_NEW, SECRET_OLD]);
    let old = build(vec![SECRET_OLD]);
    let seal = |s: &CookieStore, r| rt.block_on(s.create(r)).unwrap_or_else(|e| panic!("{e}"));
    let sealed = seal(&current, &record);
    write("cookie_open", "sealed-current", sealed.as_bytes());
    write("cookie_open", "sealed-retired", seal(&old, &record).as_bytes());
    write("cookie_open", "sealed-deflated", seal(&current, &big).as_bytes());
    write("cookie_open", "mutate", &with_mode(0, b"\x00\x03\x00\x05\x01\x10"));
    write("cookie_open", "roundtrip", &with_mode(1, b"\x02\x00user\x05\x05alice\x00\x00\x00\x00"));

    // signed_id: signed ids (mode 0: mutation branch), and Cookie headers for the
    // layer (mode 1: server store; 0x40: genuine cookie first; 0x10: cookie store).
    let keys = SigningKeys::new([SECRET_NEW, SECRET_OLD]).unwrap_or_else(|e| panic!("{e}"));
    let old_keys = SigningKeys::new([SECRET_OLD]).unwrap_or_else(|e| panic!("{e}"));
    let signed = keys.sign(COOKIE_NAME, &id_text);
    write("signed_id", "signed-current", &with_mode(0, signed.as_bytes()));
    write(
        "signed_id",
        "signed-retired",
        &with_mode(0, old_keys.sign(COOKIE_NAME, &id_text).as_bytes()),
    );
    let header = format!("theme=dark; {COOKIE_NAME}={signed}; lang=en\n{COOKIE_NAME}=x.y");
    write("signed_id", "layer-header", &with_mode(1, header.as_bytes()));
    write("signed_id", "layer-genuine-first-write", &with_mode(0x61, b"other=1"));
    let sealed_header = format!("{COOKIE_NAME}={sealed}");
    write("signed_id", "layer-sealed", &with_mode(0x11, sealed_header.as_bytes()));
}
