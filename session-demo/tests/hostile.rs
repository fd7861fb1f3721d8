//! The hostile-request table: requests no browser sends, sent to the demo over a raw
//! socket, on the file store (paths), SQLite (SQL) and Redis (keys). Every request is
//! answered; none crashes the server, reaches a stored session it does not own, or
//! writes anything; a session that was there before is intact after every row.
//!
//! `cargo test -p session-demo --test hostile -- --nocapture` prints the table.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::{Framework, Reply};
use session_any::AnyStore;
use session_tower::SigningKeys;

const SECRET: &str = "demo-hostile-secret-demo-hostile-secret-0";
/// The record limit the demo runs with here: a note the body limit lets through can
/// still be over it.
const LIMIT: usize = 64 * 1024;

/// One request over a fresh connection, answered within 10 s (see [`common::raw`]).
async fn raw(addr: SocketAddr, head: &[u8], body: &[u8]) -> Reply {
    common::raw(addr, head, body, Duration::from_secs(10)).await
}

fn get(path: &str, cookie: &[u8]) -> Vec<u8> {
    let mut head = format!("GET {path} HTTP/1.1").into_bytes();
    if !cookie.is_empty() {
        head.extend_from_slice(b"\r\nCookie: ");
        head.extend_from_slice(cookie);
    }
    head
}

/// The `session=…` pair a response set.
fn session_cookie(r: &Reply) -> String {
    match r.session_cookie() {
        Some(value) => format!("session={value}"),
        None => panic!("no session cookie in {:?}", r.set_cookies),
    }
}

/// A cookie pair whose signature is valid but whose id is `id`: only the store's own
/// validation stands between it and the backend.
fn signed(id: &str) -> Vec<u8> {
    let keys = SigningKeys::new([SECRET.as_bytes()]).unwrap();
    format!("session={}", keys.sign("session", id)).into_bytes()
}

const LOGGED_IN: &str = "You are logged in";
const LOGGED_OUT: &str = "You are not logged in";

/// What a row expects.
enum Expect {
    /// 200 and the page shows the victim's session (logged in).
    Victim,
    /// 200, a stranger's page: no session found, nothing set but a removal.
    Stranger,
    /// Refused by the HTTP layer with this status.
    Refused(u16),
}

async fn table(backend: &str, url: &str, framework: Framework) -> Vec<String> {
    let addr = common::serve(url, SECRET, framework).await;
    let store = AnyStore::open(url).await.unwrap();

    // The victim: a logged-in session with a counter at 2.
    let login = raw(addr, &get("/login", b""), b"").await;
    let victim = session_cookie(&login);
    for _ in 0..2 {
        raw(addr, &get("/counter", victim.as_bytes()), b"").await;
    }
    let before = store.count().await.ok();

    let pad = "a".repeat(100 * 1024);
    let thousand: String = (0..1000).map(|i| format!("c{i}=v{i}; ")).collect();
    let many_headers: Vec<u8> = {
        let mut h = get("/", victim.as_bytes());
        for i in 0..1000 {
            h.extend_from_slice(format!("\r\nCookie: c{i}=v").as_bytes());
        }
        h
    };
    let forged = format!("{victim}x");
    let other_login = raw(addr, &get("/", b""), b"").await;
    assert!(other_login.body.contains(LOGGED_OUT));

    let rows: Vec<(&str, Vec<u8>, Expect)> = vec![
        (
            "100 kB Cookie header (junk before the session cookie)",
            get("/", format!("junk={pad}; {victim}").as_bytes()),
            Expect::Victim,
        ),
        (
            "1,000 cookies in one header",
            get("/", format!("{thousand}{victim}").as_bytes()),
            Expect::Victim,
        ),
        ("1,000 Cookie headers", many_headers, Expect::Refused(431)),
        (
            "duplicate session cookies, forged one first",
            get("/", format!("session={forged}; {victim}").as_bytes()),
            Expect::Victim,
        ),
        (
            "session cookie with a forged signature",
            get("/", format!("session={forged}").as_bytes()),
            Expect::Stranger,
        ),
        (
            "non-UTF-8 bytes in the cookie",
            get("/", b"session=\xff\xfe\xc3\x28.\x80"),
            Expect::Stranger,
        ),
        (
            "signed id `../../../../etc/passwd`",
            get("/", &signed("../../../../etc/passwd")),
            Expect::Stranger,
        ),
        (
            "signed id with `/`",
            get("/", &signed("ab/cd/ef")),
            Expect::Stranger,
        ),
        ("signed id `..`", get("/", &signed("..")), Expect::Stranger),
        (
            "signed id with a NUL byte",
            get("/", &signed("abc\0def")),
            Expect::Refused(400),
        ),
        (
            "signed id with SQL (`' OR '1'='1`)",
            get("/", &signed("' OR '1'='1")),
            Expect::Stranger,
        ),
        (
            "signed id with SQL (`x'; DROP TABLE sessions; --`)",
            get("/", &signed("x'; DROP TABLE sessions; --")),
            Expect::Stranger,
        ),
        (
            "signed id with a Redis glob (`*`)",
            get("/", &signed("*")),
            Expect::Stranger,
        ),
        (
            "CR/LF in the cookie (header injection)",
            get(
                "/",
                format!("session=x\r\nSet-Cookie: admin=1\r\nX-A: {victim}").as_bytes(),
            ),
            Expect::Stranger,
        ),
        (
            "a lone CR inside the cookie value",
            get("/", b"session=abc\rdef"),
            Expect::Refused(400),
        ),
        (
            "43 characters of id alphabet, never issued",
            get("/", &signed(&"A".repeat(43))),
            Expect::Stranger,
        ),
    ];

    let mut out = Vec::new();
    for (name, head, expect) in rows {
        let r = raw(addr, &head, b"").await;
        let outcome = match expect {
            Expect::Victim => {
                assert_eq!(r.status, 200, "{backend}: {name}");
                assert!(r.body.contains(LOGGED_IN), "{backend}: {name}: {}", r.body);
                "200, the victim's session (unchanged)".to_owned()
            }
            Expect::Stranger => {
                assert_eq!(r.status, 200, "{backend}: {name}");
                assert!(r.body.contains(LOGGED_OUT), "{backend}: {name}: {}", r.body);
                for c in &r.set_cookies {
                    assert!(
                        c.starts_with("session=;"),
                        "{backend}: {name}: only a removal may be set, got {c}"
                    );
                    assert!(!c.contains("admin"), "{backend}: {name}: injected {c}");
                }
                if r.set_cookies.is_empty() {
                    "200, no session".to_owned()
                } else {
                    "200, no session, cookie removed".to_owned()
                }
            }
            Expect::Refused(status) => {
                assert_eq!(r.status, status, "{backend}: {name}");
                format!("{status} from the HTTP layer")
            }
        };
        out.push(format!("| {backend} | {name} | {outcome} |"));
    }

    // A note far over the body limit: refused by the HTTP layer (413), before the
    // handler or the store sees it. One the body limit lets through but the store's
    // limit does not: refused by the store (`TooLarge`), which the handler answers
    // with its own 413 (a refused `persist` is not retried). Nothing is written either
    // way.
    let post = |cookie: &str| {
        let mut head = b"POST /note HTTP/1.1\r\nContent-Type: text/plain".to_vec();
        if !cookie.is_empty() {
            head.extend_from_slice(format!("\r\nCookie: {cookie}").as_bytes());
        }
        head
    };
    let huge = vec![b'x'; 16 * LIMIT];
    let over_store = vec![b'x'; session_demo::NOTE_BODY_LIMIT];
    for (note, status) in [(&huge, 413), (&over_store, 413)] {
        let r = raw(addr, &post(&victim), note).await;
        assert_eq!(r.status, status, "{backend}: note on the victim's session");
        assert!(r.set_cookies.is_empty(), "{:?}", r.set_cookies);
        let r = raw(addr, &post(""), note).await;
        assert_eq!(r.status, status, "{backend}: note on a new session");
        assert!(r.set_cookies.is_empty(), "{:?}", r.set_cookies);
    }
    out.push(format!(
        "| {backend} | a {} KiB note (body limit {} KiB), on a live and on a new session | 413 from the HTTP layer, no cookie, nothing written |",
        huge.len() / 1024,
        session_demo::NOTE_BODY_LIMIT / 1024
    ));
    out.push(format!(
        "| {backend} | a {} KiB note (store limit {} KiB), on a live and on a new session | 413 from the handler (`TooLarge` from `persist`), no cookie, nothing written |",
        over_store.len() / 1024,
        LIMIT / 1024
    ));
    let small = raw(addr, &post(&victim), b"hello").await;
    assert_eq!(small.status, 200, "{backend}: a small note");

    // The victim survived every row: still logged in, counter where it was.
    let page = raw(addr, &get("/", victim.as_bytes()), b"").await;
    assert!(page.body.contains(LOGGED_IN), "{backend}: victim lost");
    let count = raw(addr, &get("/counter", victim.as_bytes()), b"").await;
    assert_eq!(count.body.trim(), "3", "{backend}: victim's counter");
    let note = raw(addr, &get("/note", victim.as_bytes()), b"").await;
    assert_eq!(note.body, "hello");
    // Nothing else was written: the store holds exactly what it held before.
    assert_eq!(store.count().await.ok(), before, "{backend}: stray records");
    out
}

async fn check(backend: &str, url: &str, framework: Framework) {
    for row in table(backend, url, framework).await {
        println!("{row}");
    }
}

async fn hostile_requests_file_store(framework: Framework) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("sessions");
    check(
        "file",
        &format!("file://{}?max_record_size={LIMIT}", root.display()),
        framework,
    )
    .await;
    // Nothing was created outside the store's directory.
    let outside: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(outside, vec![std::ffi::OsString::from("sessions")]);
}

async fn hostile_requests_sqlite(framework: Framework) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    check(
        "sqlite",
        &format!("sqlite://{}?max_record_size={LIMIT}", db.display()),
        framework,
    )
    .await;
}

async fn hostile_requests_redis(framework: Framework) {
    let base = session_test_servers::Service::Redis.url();
    let prefix = format!("demo-hostile:{}:", std::process::id());
    check(
        "redis",
        &format!("{base}?prefix={prefix}&max_record_size={LIMIT}"),
        framework,
    )
    .await;
}

/// Secrets under 32 bytes are refused at start-up, before the demo listens.
#[test]
fn short_secrets_are_refused_at_start_up() {
    let demo = env!("CARGO_BIN_EXE_session-demo");
    for (var, url) in [
        ("SESSION_SECRET", "memory://"),
        ("SESSION_COOKIE_SECRET", "cookie://"),
    ] {
        let out = std::process::Command::new(demo)
            .args(["--addr", "127.0.0.1:0"])
            .env("SESSION_URL", url)
            .env("SESSION_SECRET", "0123456789abcdef0123456789abcdef-signing")
            .env(var, "short-secret-31-bytes-long-abcd")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{var}: the demo started: {stderr}");
        assert!(stderr.contains("32"), "{var}: {stderr}");
    }
}

common::per_framework! {
    #[tokio::test] hostile_requests_file_store,
    #[tokio::test] hostile_requests_sqlite,
    #[tokio::test] hostile_requests_redis,
}
