//! Cookie-name prefixes (`__Secure-`, `__Host-`, `__Http-`, `__Host-Http-`): a
//! configuration browsers would silently drop the cookie for is refused up front with
//! a `Config` error saying which rule it breaks and how to fix it; one they keep is
//! accepted and sent with the attributes the prefix demands.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code

use std::convert::Infallible;

use http::{header, Request, Response};
use session_core::{Error, MemoryStore};
use session_tower::{CookieConfig, SessionLayer, SigningKeys};
use tower::{service_fn, Layer, ServiceExt};

/// The `Config` message `config` is refused with; panics if it is accepted.
fn refused(config: &CookieConfig) -> String {
    match config.validate() {
        Err(Error::Config(msg)) => msg,
        other => panic!("{config:?} should be refused with Error::Config, got {other:?}"),
    }
}

fn accepted(config: &CookieConfig) {
    if let Err(e) = config.validate() {
        panic!("{config:?} should be accepted: {e}");
    }
}

fn named(name: &str) -> CookieConfig {
    CookieConfig::default().with_name(name)
}

#[test]
fn the_default_cookie_is_accepted() {
    accepted(&CookieConfig::default());
    // The demo's plain-HTTP configuration: no prefix, so `secure = false` is fine.
    accepted(&CookieConfig::default().with_secure(false));
    // A name that merely contains a prefix somewhere else carries no rule.
    accepted(&named("app__Host-x").with_secure(false));
    accepted(&named("_Host-x").with_secure(false));
}

#[test]
fn secure_prefix_requires_secure() {
    accepted(&named("__Secure-session"));
    // `__Secure-` allows a Domain and any Path.
    accepted(
        &named("__Secure-session")
            .with_domain("example.com")
            .with_path("/app"),
    );
    let msg = refused(&named("__Secure-session").with_secure(false));
    assert!(msg.contains("__Secure- prefix"), "{msg}");
    assert!(msg.contains("set secure = true"), "{msg}");
    assert!(msg.contains("without the prefix"), "{msg}");
}

#[test]
fn host_prefix_requires_secure() {
    accepted(&named("__Host-session"));
    let msg = refused(&named("__Host-session").with_secure(false));
    assert!(msg.contains("\"__Host-session\""), "{msg}");
    assert!(msg.contains("__Host- prefix"), "{msg}");
    assert!(msg.contains("set secure = true"), "{msg}");
    assert!(
        !msg.contains("domain"),
        "only the broken rule is named: {msg}"
    );
}

#[test]
fn host_prefix_forbids_a_domain() {
    let msg = refused(&named("__Host-session").with_domain("example.com"));
    assert!(msg.contains("__Host- prefix"), "{msg}");
    assert!(msg.contains("remove domain = \"example.com\""), "{msg}");
    assert!(
        !msg.contains("secure = true"),
        "only the broken rule is named: {msg}"
    );
    // Even an empty Domain is refused: the browsers want no Domain attribute at all.
    refused(&named("__Host-session").with_domain(""));
}

#[test]
fn host_prefix_requires_the_root_path() {
    accepted(&named("__Host-session").with_path("/"));
    for path in ["/app", "/app/", "", "//"] {
        let msg = refused(&named("__Host-session").with_path(path));
        assert!(msg.contains("set path = \"/\""), "{path:?}: {msg}");
        assert!(
            msg.contains(&format!("instead of {path:?}")),
            "{path:?}: {msg}"
        );
    }
}

#[test]
fn host_prefix_lists_every_broken_rule_at_once() {
    let msg = refused(
        &named("__Host-session")
            .with_secure(false)
            .with_domain("example.com")
            .with_path("/app"),
    );
    assert!(msg.contains("set secure = true"), "{msg}");
    assert!(msg.contains("remove domain"), "{msg}");
    assert!(msg.contains("set path = \"/\""), "{msg}");
}

#[test]
fn http_prefixes_require_http_only() {
    accepted(&named("__Http-session"));
    accepted(&named("__Host-Http-session"));
    let msg = refused(&named("__Http-session").with_http_only(false));
    assert!(msg.contains("__Http- prefix"), "{msg}");
    assert!(msg.contains("set http_only = true"), "{msg}");
    let msg = refused(&named("__Http-session").with_secure(false));
    assert!(msg.contains("set secure = true"), "{msg}");
    // `__Host-Http-` carries the `__Host-` rules as well.
    let msg = refused(
        &named("__Host-Http-session")
            .with_http_only(false)
            .with_path("/app"),
    );
    assert!(msg.contains("__Host-Http- prefix"), "{msg}");
    assert!(msg.contains("set http_only = true"), "{msg}");
    assert!(msg.contains("set path = \"/\""), "{msg}");
    // A plain `__Host-` cookie may be readable by scripts.
    accepted(&named("__Host-session").with_http_only(false));
}

#[test]
fn prefixes_match_in_any_letter_case() {
    // Browsers compare the lowercased name, so these are dropped the same way.
    for name in ["__host-session", "__HOST-session", "__HoSt-session"] {
        let msg = refused(&named(name).with_secure(false));
        assert!(msg.contains("any letter case"), "{name}: {msg}");
        refused(&named(name).with_path("/app"));
        accepted(&named(name));
    }
    for name in ["__secure-session", "__SECURE-session"] {
        refused(&named(name).with_secure(false));
        accepted(&named(name));
    }
    refused(&named("__http-session").with_http_only(false));
    // The exact-case message does not mention casing.
    let msg = refused(&named("__Host-session").with_secure(false));
    assert!(!msg.contains("letter case"), "{msg}");
}

#[test]
fn a_configuration_file_gets_the_same_check() {
    let config: CookieConfig =
        serde_json::from_str(r#"{"name": "__Host-session", "secure": false}"#).unwrap();
    let msg = refused(&config);
    assert!(msg.contains("set secure = true"), "{msg}");
}

#[test]
fn the_layer_refuses_a_cookie_browsers_would_drop() {
    let keys = SigningKeys::new([[7u8; 32]]).unwrap();
    let layer = SessionLayer::builder(MemoryStore::new()).keys(keys.clone());
    match layer
        .cookie(named("__Host-session").with_secure(false))
        .build()
    {
        Err(Error::Config(msg)) => assert!(msg.contains("__Host- prefix"), "{msg}"),
        Err(e) => panic!("expected a Config error, got {e:?}"),
        Ok(_) => panic!("the layer accepted a __Host- cookie without Secure"),
    }
    assert!(SessionLayer::builder(MemoryStore::new())
        .keys(keys)
        .cookie(named("__Host-session"))
        .build()
        .is_ok());
}

#[tokio::test]
async fn an_accepted_host_cookie_is_sent_the_way_browsers_keep_it() {
    let keys = SigningKeys::new([[7u8; 32]]).unwrap();
    let layer = SessionLayer::builder(MemoryStore::new())
        .keys(keys)
        .cookie(named("__Host-session"))
        .build()
        .unwrap();
    let svc = layer.layer(service_fn(|req: Request<String>| async move {
        let session = req
            .extensions()
            .get::<session_tower::Session>()
            .cloned()
            .unwrap();
        session.insert("user", "ada").await.unwrap();
        Ok::<_, Infallible>(Response::new(String::new()))
    }));
    let res = svc
        .oneshot(Request::get("/").body(String::new()).unwrap())
        .await
        .unwrap();
    let set = res
        .headers()
        .get(header::SET_COOKIE)
        .expect("a new session sets the cookie")
        .to_str()
        .unwrap();
    assert!(set.starts_with("__Host-session="), "{set}");
    let attrs: Vec<&str> = set.split(';').map(str::trim).skip(1).collect();
    assert!(attrs.contains(&"Secure"), "{set}");
    assert!(attrs.contains(&"Path=/"), "{set}");
    assert!(
        !attrs
            .iter()
            .any(|a| a.to_ascii_lowercase().starts_with("domain")),
        "{set}"
    );
}
