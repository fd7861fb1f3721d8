//! Bounded input through the demo binary, run as `cargo run -p session-demo` runs it (a
//! debug build in its own process), on the file store and on Redis (issue 16, items 1
//! and 2):
//!
//! - a 2 MiB `POST /note` is refused with 413 and writes nothing;
//! - a stored record nested 5,000 deep, written straight into the store's storage (as
//!   anyone who can write to a shared store could), does not kill the process: the
//!   request gets a fresh session and the next request is served.
//!
//! `cargo test -p session-demo --test limits`

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code

mod common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use common::{Framework, Reply, Running as Demo};
use session_any::AnyStore;
use session_core::{SessionId, FORMAT_MSGPACK_V1};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const SECRET: &str = "demo-limits-test-signing-secret-0123456789";
const TWO_MIB: usize = 2 * 1024 * 1024;
const DEPTH: usize = 5_000;

/// Starts the demo binary on `url` with the test's signing key (see [`common::start`]).
fn start_demo(url: &str, framework: Framework) -> Demo {
    let mut cmd = common::demo_command(url, framework);
    cmd.env("SESSION_SECRET", SECRET).stderr(Stdio::null());
    common::start(cmd)
}

/// One request on a fresh connection, with `cookie` as the session cookie if not empty
/// (see [`common::raw`]).
async fn request(addr: SocketAddr, method: &str, path: &str, cookie: &str, body: &[u8]) -> Reply {
    let mut head = format!("{method} {path} HTTP/1.1");
    if !cookie.is_empty() {
        head.push_str(&format!("\r\nCookie: session={cookie}"));
    }
    if method == "POST" {
        head.push_str("\r\nContent-Type: text/plain");
    }
    common::raw(addr, head.as_bytes(), body, Duration::from_secs(30)).await
}

/// The session id inside a signed cookie value (`id.signature`).
fn id_of(cookie: &str) -> SessionId {
    SessionId::parse(cookie.rsplit_once('.').unwrap().0).unwrap()
}

/// A MessagePack envelope built byte by byte: version 1, created and accessed at 0,
/// expiring at `i64::MAX` ms, data `{"counter": v}` with `v` nested `depth` arrays deep.
fn nested_envelope(depth: usize) -> Vec<u8> {
    let mut bytes = vec![FORMAT_MSGPACK_V1, 0x95, 1, 0, 0, 0xcf];
    bytes.extend_from_slice(&(i64::MAX as u64).to_be_bytes());
    bytes.push(0x81);
    bytes.push(0xa0 | 7);
    bytes.extend_from_slice(b"counter");
    bytes.extend(std::iter::repeat_n(0x91, depth));
    bytes.push(0xc0);
    bytes
}

/// Session files under a `FileStore` root (lock stripes are not records).
fn record_files(root: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.file_name().is_some_and(|n| n == ".locks") {
                continue;
            }
            if path.is_dir() {
                walk(&path, out);
            } else {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(root, &mut out);
    out.sort();
    out
}

/// Where `FileStore` keeps the record of `id`: `ab/cd/<storage key hex>` under `root`.
fn record_path(root: &Path, id: &SessionId) -> PathBuf {
    let hex = id.storage_key().to_hex();
    root.join(&hex[..2]).join(&hex[2..4]).join(&hex)
}

/// 2 MiB notes, anonymous and on a live session: 413 before the handler runs, no
/// cookie. Returns the live session's cookie.
async fn two_mib_notes_are_refused(demo: &mut Demo) -> String {
    let huge = vec![b'n'; TWO_MIB];
    let r = request(demo.addr, "POST", "/note", "", &huge).await;
    assert_eq!(r.status, 413, "anonymous 2 MiB note: {}", r.body);
    assert!(r.set_cookies.is_empty(), "{:?}", r.set_cookies);

    let first = request(demo.addr, "GET", "/counter", "", b"").await;
    assert_eq!((first.status, first.body.trim()), (200, "1"));
    let cookie = first.session_cookie().expect("the counter sets a session");
    let r = request(demo.addr, "POST", "/note", &cookie, &huge).await;
    assert_eq!(r.status, 413, "2 MiB note on a live session: {}", r.body);
    assert!(r.set_cookies.is_empty(), "{:?}", r.set_cookies);
    let note = request(demo.addr, "GET", "/note", &cookie, b"").await;
    assert_eq!((note.status, note.body.as_str()), (200, ""));
    demo.assert_alive();
    cookie
}

/// After the stored record behind `cookie` was replaced by a 5,000-deep one: the next
/// request gets a fresh session (a new cookie, the counter back at 1), and the process
/// serves the request after it.
async fn deep_record_gets_a_fresh_session(demo: &mut Demo, cookie: &str) -> String {
    let r = request(demo.addr, "GET", "/counter", cookie, b"").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body.trim(), "1", "a fresh session's counter");
    let fresh = r.session_cookie().expect("a fresh session cookie");
    assert_ne!(id_of(&fresh), id_of(cookie), "the cookie is replaced");
    demo.assert_alive();

    let next = request(demo.addr, "GET", "/counter", &fresh, b"").await;
    assert_eq!((next.status, next.body.trim()), (200, "2"));
    let page = request(demo.addr, "GET", "/", "", b"").await;
    assert_eq!(page.status, 200);
    demo.assert_alive();
    fresh
}

async fn file_store_refuses_2_mib_and_survives_a_deep_record(framework: Framework) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("sessions");
    let url = format!("file://{}", root.display());
    let mut demo = start_demo(&url, framework);

    let cookie = two_mib_notes_are_refused(&mut demo).await;
    // Only the counter's session was written, and no 2 MiB anywhere.
    let files = record_files(&root);
    assert_eq!(files, vec![record_path(&root, &id_of(&cookie))]);
    assert!(std::fs::metadata(&files[0]).unwrap().len() < 1024);

    std::fs::write(&files[0], nested_envelope(DEPTH)).unwrap();
    deep_record_gets_a_fresh_session(&mut demo, &cookie).await;
}

/// `SET key value` over a raw connection to the Redis at `addr` (RESP), so the test
/// needs no Redis client of its own.
async fn redis_set(addr: &str, key: &str, value: &[u8]) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut cmd = Vec::new();
    for part in [b"SET".as_slice(), key.as_bytes(), value] {
        cmd.extend_from_slice(format!("${}\r\n", part.len()).as_bytes());
        cmd.extend_from_slice(part);
        cmd.extend_from_slice(b"\r\n");
    }
    let mut req = b"*3\r\n".to_vec();
    req.extend_from_slice(&cmd);
    stream.write_all(&req).await.unwrap();
    let mut reply = [0u8; 5];
    stream.read_exact(&mut reply).await.unwrap();
    assert_eq!(&reply, b"+OK\r\n");
}

async fn redis_refuses_2_mib_and_survives_a_deep_record(framework: Framework) {
    let base = session_test_servers::Service::Redis.url();
    // host:port of `redis://[user@]host[:port][/db]`.
    let authority = base
        .trim_start_matches("redis://")
        .split('/')
        .next()
        .unwrap();
    let host_port = authority.rsplit('@').next().unwrap();
    let addr = if host_port.contains(':') {
        host_port.to_owned()
    } else {
        format!("{host_port}:6379")
    };
    let prefix = format!("demo-limits:{}:", std::process::id());
    let url = format!("{base}?prefix={prefix}");
    let store = AnyStore::open(&url).await.unwrap();
    let mut demo = start_demo(&url, framework);

    let cookie = two_mib_notes_are_refused(&mut demo).await;
    // Only the counter's session is under the prefix, and it is small.
    assert_eq!(store.count().await.unwrap(), 1);
    let id = id_of(&cookie);
    let stored = store.load(&id.to_string()).await.unwrap().unwrap();
    assert_eq!(stored.data["counter"], 1);

    // The v1 header (layout tag, version, accessed-at, expires-at; session-redis's
    // layout.rs), then the deep envelope, under the session's key.
    let mut value = format!("1{:020}{:+020}{:+020}", 1, 0, i64::MAX).into_bytes();
    value.extend_from_slice(&nested_envelope(DEPTH));
    let key = format!("{prefix}{}", id.storage_key().to_hex());
    redis_set(&addr, &key, &value).await;
    let fresh = deep_record_gets_a_fresh_session(&mut demo, &cookie).await;

    drop(demo);
    for id in [id, id_of(&fresh)] {
        store.delete(&id).await.unwrap();
    }
    assert_eq!(
        store.count().await.unwrap(),
        0,
        "the test prefix is left empty"
    );
}

common::per_framework! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)] file_store_refuses_2_mib_and_survives_a_deep_record,
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)] redis_refuses_2_mib_and_survives_a_deep_record,
}
