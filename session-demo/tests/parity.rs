//! The demo answers alike on axum and on actix-web: one script of requests (every
//! route, the errors, a login carried by its cookie) sent over raw sockets to both,
//! and the answers compared field by field: status, body, `Content-Type`, `Location`,
//! `Allow`, `Cache-Control`, `Vary`, and each `Set-Cookie` with its value blanked.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::{Framework, Reply};

/// What must match between the frameworks in one answer.
#[derive(Debug, PartialEq, Eq)]
struct Answer {
    status: u16,
    body: String,
    headers: Vec<(&'static str, Option<String>)>,
    cookies: Vec<String>,
}

const COMPARED: [&str; 5] = ["content-type", "location", "allow", "cache-control", "vary"];

fn answer(r: &Reply) -> Answer {
    Answer {
        status: r.status,
        body: r.body.clone(),
        // Spacing in a list is the framework's choice (`GET,HEAD`, `GET, HEAD`).
        headers: COMPARED
            .iter()
            .map(|&name| (name, r.header(name).map(|v| v.replace(' ', ""))))
            .collect(),
        // The values are random; the attributes are the session layer's decision.
        cookies: r
            .set_cookies
            .iter()
            .map(|c| match c.split_once(';') {
                Some((pair, attrs)) => {
                    let name = pair.split('=').next().unwrap_or_default();
                    let value = if pair.ends_with('=') { "" } else { "…" };
                    format!("{name}={value};{}", minutes(attrs))
                }
                None => c.clone(),
            })
            .collect(),
    }
}

/// `attrs` with `Max-Age` in whole minutes: the two servers answer a second or so
/// apart, so one may say 86400 where the other says 86399.
fn minutes(attrs: &str) -> String {
    attrs
        .split(';')
        .map(|attr| match attr.trim().split_once('=') {
            Some((k, v)) if k.eq_ignore_ascii_case("max-age") => {
                let secs: u64 = v.parse().unwrap();
                format!(" Max-Age≈{}min", secs.div_ceil(60))
            }
            _ => attr.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(";")
}

/// Sends the script to the demo at `addr` and returns each answer, labelled.
async fn script(addr: SocketAddr) -> Vec<(String, Answer)> {
    let mut cookie = String::new();
    let steps: Vec<(&str, &str, Vec<u8>)> = vec![
        ("GET", "/", vec![]),
        ("GET", "/devices", vec![]),
        ("GET", "/login?user=%0A", vec![]),
        ("GET", "/login?user=", vec![]),
        ("GET", "/counter", vec![]),
        ("GET", "/counter", vec![]),
        ("GET", "/login?user=ann&remember=1", vec![]),
        ("GET", "/", vec![]),
        ("GET", "/", vec![]),
        ("POST", "/note", b"hello".to_vec()),
        ("GET", "/note", vec![]),
        (
            "POST",
            "/note",
            vec![b'x'; session_demo::NOTE_BODY_LIMIT + 1],
        ),
        ("POST", "/note", b"\xff\xfe".to_vec()),
        ("GET", "/note", vec![]),
        ("PUT", "/", vec![]),
        ("POST", "/counter", vec![]),
        ("HEAD", "/", vec![]),
        ("GET", "/nowhere", vec![]),
        ("GET", "/logout", vec![]),
        ("GET", "/", vec![]),
    ];
    let mut out = Vec::new();
    for (method, path, body) in steps {
        let mut head = format!("{method} {path} HTTP/1.1");
        if !cookie.is_empty() {
            head.push_str(&format!("\r\nCookie: session={cookie}"));
        }
        let r = common::raw(addr, head.as_bytes(), &body, Duration::from_secs(10)).await;
        if let Some(set) = r.session_cookie() {
            cookie = set;
        }
        out.push((format!("{method} {path}"), answer(&r)));
    }
    out
}

#[tokio::test]
async fn axum_and_actix_answer_alike() {
    let url = "memory://";
    let secret = "demo-parity-secret-demo-parity-secret-01";
    let axum = script(common::serve(url, secret, Framework::Axum).await).await;
    let actix = script(common::serve(url, secret, Framework::Actix).await).await;
    for ((step, a), (_, b)) in axum.iter().zip(&actix) {
        assert_eq!(a, b, "{step}: axum (left) and actix (right) differ");
    }
    assert_eq!(axum.len(), actix.len());
    // The script reaches what it means to: every route, each error.
    let statuses: Vec<u16> = axum.iter().map(|(_, a)| a.status).collect();
    assert_eq!(
        statuses,
        [
            200, 401, 400, 400, 200, 200, 303, 200, 200, 200, 200, 413, 400, 200, 405, 405, 200,
            404, 303, 200
        ]
    );
}
