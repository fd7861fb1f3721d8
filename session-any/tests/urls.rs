//! Store URLs: every scheme takes a fixed list of query parameters in one grammar, and
//! no URL is ever shown with its secrets.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code

mod common;

use std::time::Duration;

use common::config_error;
use session_any::{schemes, AnyStore, BackendKind, SessionConfig, StoreUrl};

/// Each scheme with a URL that would open but for `?bogus=1`, names no server that is
/// running (the check comes before any I/O), and the known parameters the message
/// must list. Only the schemes whose feature this build has are tried.
fn bogus_urls(dir: &std::path::Path) -> Vec<(String, &'static str)> {
    let d = dir.display();
    let all = [
        (
            true,
            "memory://?bogus=1".to_owned(),
            "known: max_record_size",
        ),
        (
            cfg!(feature = "file"),
            format!("file://{d}/sessions?bogus=1"),
            "known: durable, max_record_size",
        ),
        (
            cfg!(feature = "file"),
            format!("shelf://{d}/sessions.redb?bogus=1"),
            "known: durable, max_record_size",
        ),
        (
            cfg!(feature = "sqlite"),
            format!("sqlite://{d}/s.db?bogus=1"),
            "known: session_table, migrate, timeout, max_record_size, mode, cache, immutable, vfs",
        ),
        (
            cfg!(feature = "postgres"),
            "postgres://u@127.0.0.1:1/db?bogus=1".to_owned(),
            "known: session_table, migrate, timeout, max_record_size, sslmode",
        ),
        (
            cfg!(feature = "postgres"),
            "postgresql://u@127.0.0.1:1/db?bogus=1".to_owned(),
            "known: session_table, migrate, timeout, max_record_size, sslmode",
        ),
        (
            cfg!(feature = "mysql"),
            "mysql://u@127.0.0.1:1/db?bogus=1".to_owned(),
            "known: session_table, migrate, timeout, max_record_size, sslmode",
        ),
        (
            cfg!(feature = "mysql"),
            "mariadb://u@127.0.0.1:1/db?bogus=1".to_owned(),
            "known: session_table, migrate, timeout, max_record_size, sslmode",
        ),
        (
            cfg!(feature = "redis"),
            "redis://127.0.0.1:1/?bogus=1".to_owned(),
            "known: prefix, timeout, max_record_size, write, protocol",
        ),
        (
            cfg!(feature = "redis"),
            "redis+cluster://127.0.0.1:1,127.0.0.1:2?bogus=1".to_owned(),
            "known: prefix, timeout, max_record_size, write",
        ),
        (
            cfg!(feature = "memcache"),
            "memcache://127.0.0.1:1,127.0.0.1:2?bogus=1".to_owned(),
            "known: prefix, timeout, item_size_limit, max_record_size, max_connections",
        ),
        (
            cfg!(feature = "cookie"),
            "cookie://?bogus=1".to_owned(),
            "known: secret_env, compress_above",
        ),
    ];
    all.into_iter()
        .filter(|(on, _, _)| *on)
        .map(|(_, url, known)| (url, known))
        .collect()
}

#[tokio::test]
async fn every_scheme_rejects_an_unknown_parameter_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let urls = bogus_urls(dir.path());
    assert!(
        urls.len() >= 5,
        "memory, file, shelf, sqlite and cookie at least"
    );
    for (url, known) in urls {
        let msg = config_error(AnyStore::open(&url).await);
        assert!(msg.contains("`bogus`"), "{url}: {msg}");
        assert!(msg.contains(known), "{url}: {msg}");
    }
    // Nothing was created for a URL that was refused.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn the_parser_alone_refuses_them_too_and_covers_every_compiled_scheme() {
    let dir = tempfile::tempdir().unwrap();
    let urls = bogus_urls(dir.path());
    for (url, known) in &urls {
        let msg = config_error(StoreUrl::parse(url));
        assert!(
            msg.contains("`bogus`") && msg.contains(known),
            "{url}: {msg}"
        );
    }
    // Every compiled-in scheme of the table (but `rediss`, refused as a whole) is tried
    // above, and lists the parameters its table row says.
    for scheme in schemes() {
        if !scheme.compiled_in() || scheme.name() == "rediss" {
            continue;
        }
        let prefix = format!("{}:", scheme.name());
        let (url, known) = urls
            .iter()
            .find(|(u, _)| u.starts_with(&prefix))
            .unwrap_or_else(|| panic!("{} is not tried", scheme.name()));
        let listed = format!("known: {}", scheme.params().join(", "));
        assert!(listed.starts_with(known), "{url}: {listed}");
    }
}

#[tokio::test]
async fn a_parameter_given_twice_is_refused() {
    let msg = config_error(AnyStore::open("memory://?max_record_size=1&max_record_size=2").await);
    assert!(
        msg.contains("`max_record_size`") && msg.contains("more than once"),
        "{msg}"
    );
}

#[test]
fn the_table_lists_each_schemes_parameters() {
    let params = |name: &str| {
        schemes()
            .iter()
            .find(|s| s.name() == name)
            .unwrap()
            .params()
    };
    assert_eq!(params("memory"), ["max_record_size"]);
    assert_eq!(params("file"), ["durable", "max_record_size"]);
    assert_eq!(params("shelf"), ["durable", "max_record_size"]);
    assert_eq!(params("cookie"), ["secret_env", "compress_above"]);
    let sqlite = params("sqlite");
    for key in [
        "session_table",
        "migrate",
        "timeout",
        "max_record_size",
        "mode",
    ] {
        assert!(sqlite.contains(&key), "{key}");
    }
    if cfg!(feature = "postgres") {
        let pg = params("postgres");
        for key in ["session_table", "sslmode", "password", "options[]"] {
            assert!(pg.contains(&key), "{key}");
        }
        assert_eq!(params("postgresql"), pg);
    }
    if cfg!(feature = "memcache") {
        assert_eq!(
            params("memcache"),
            [
                "prefix",
                "timeout",
                "item_size_limit",
                "max_record_size",
                "max_connections",
                "connect"
            ]
        );
    }
    let kinds: Vec<_> = schemes().iter().map(|s| s.kind()).collect();
    assert!(kinds.contains(&BackendKind::Cookie) && kinds.contains(&BackendKind::Sql));
}

#[tokio::test]
async fn migrate_no_does_not_migrate() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    for (i, value) in ["no", "off", "false", "0"].into_iter().enumerate() {
        let url = format!(
            "sqlite://{}?session_table=t{i}&migrate={value}",
            db.display()
        );
        let store = AnyStore::open(&url).await.unwrap();
        let err = store.count().await.unwrap_err();
        assert!(
            err.to_string().contains("table"),
            "migrate={value} created the table: {err}"
        );
    }
    let store = AnyStore::open(&format!("sqlite://{}?migrate=yes", db.display()))
        .await
        .unwrap();
    assert_eq!(store.count().await.unwrap(), 0);
    let msg = config_error(AnyStore::open("sqlite::memory:?migrate=perhaps").await);
    assert!(msg.contains("migrate") && msg.contains("perhaps"), "{msg}");
}

#[tokio::test]
async fn one_grammar_for_booleans_durations_and_sizes() {
    let dir = tempfile::tempdir().unwrap();
    for value in ["no", "off", "0", "false", "yes", "on", "1", "true"] {
        AnyStore::open(&format!(
            "file://{}/f-{value}?durable={value}",
            dir.path().display()
        ))
        .await
        .unwrap();
    }
    let store = AnyStore::open("memory://?max_record_size=64KiB")
        .await
        .unwrap();
    assert_eq!(store.capabilities().max_record_size, Some(64 * 1024));
    let store = AnyStore::open("memory://?max_record_size=none")
        .await
        .unwrap();
    assert_eq!(store.capabilities().max_record_size, None);
    let store = AnyStore::open(&format!(
        "file://{}/sized?max_record_size=1MiB",
        dir.path().display()
    ))
    .await
    .unwrap();
    assert_eq!(store.capabilities().max_record_size, Some(1 << 20));
    AnyStore::open("sqlite::memory:?timeout=1m").await.unwrap();
    for (url, needle) in [
        ("sqlite::memory:?timeout=250", "unit"),
        ("sqlite::memory:?timeout=0ms", "above zero"),
        ("memory://?max_record_size=2m", "MiB"),
        ("memory://?max_record_size=", "max_record_size"),
        ("cookie://?compress_above=lots", "compress_above"),
    ] {
        let msg = config_error(AnyStore::open(url).await);
        assert!(msg.contains(needle), "{url}: {msg}");
    }
    let msg = config_error(
        AnyStore::open(&format!(
            "file://{}/x?durable=perhaps",
            dir.path().display()
        ))
        .await,
    );
    assert!(msg.contains("durable") && msg.contains("perhaps"), "{msg}");
}

#[cfg(feature = "redis")]
#[tokio::test]
async fn redis_cluster_reads_its_parameters() {
    // Nothing listens on these ports: a parameter error must come before connecting.
    let base = "redis+cluster://127.0.0.1:1,127.0.0.1:2";
    let msg = config_error(AnyStore::open(&format!("{base}?bogus=1")).await);
    assert!(msg.contains("`bogus`"), "{msg}");
    assert!(
        msg.contains("known: prefix, timeout, max_record_size"),
        "{msg}"
    );
    let msg = config_error(AnyStore::open(&format!("{base}?timeout=soon")).await);
    assert!(msg.contains("timeout"), "{msg}");
    let msg = config_error(AnyStore::open(&format!("{base}?max_record_size=2m")).await);
    assert!(msg.contains("max_record_size"), "{msg}");
    let msg = config_error(AnyStore::open("redis+cluster://a:1,,b:2").await);
    assert!(msg.contains("empty host"), "{msg}");
    // A well-formed URL opens (the store connects on first use) and its first
    // operation fails there; with `connect=eager`, opening fails.
    let valid = format!("{base}?prefix=x:&timeout=200ms&max_record_size=64KiB");
    StoreUrl::parse(&valid).unwrap().check().unwrap();
    let lazy = AnyStore::open(&valid).await.unwrap();
    assert!(lazy.count().await.unwrap_err().is_temporary());
    assert!(matches!(
        AnyStore::open(&format!("{valid}&connect=eager")).await,
        Err(session_core::Error::Backend(_))
    ));
}

#[cfg(feature = "redis")]
#[tokio::test]
async fn redis_takes_its_driver_parameter_and_no_other() {
    let msg = config_error(AnyStore::open("redis://127.0.0.1:1/?protocoll=resp3").await);
    assert!(
        msg.contains("`protocoll`") && msg.contains("protocol"),
        "{msg}"
    );
    StoreUrl::parse("redis://127.0.0.1:1/?protocol=resp3&prefix=a:")
        .unwrap()
        .check()
        .unwrap();
}

#[cfg(feature = "postgres")]
#[test]
fn store_urls_are_shown_without_secrets() {
    let url = StoreUrl::parse(
        "postgres://app:hunter2-userinfo@db/app?password=hunter2-query&session_table=web",
    )
    .unwrap();
    for shown in [url.to_string(), format!("{url:?}")] {
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(
            shown.contains("app:***@db") && shown.contains("password=***"),
            "{shown}"
        );
        assert!(shown.contains("session_table=web"), "{shown}");
    }
    assert!(
        url.as_str().contains("hunter2-query"),
        "the driver gets it as given"
    );
}

#[test]
fn configurations_are_shown_without_secrets() {
    let mut cfg = SessionConfig::for_url(
        "postgres://root:hunter2-userinfo@db/test?password=hunter2-query&session_table=s",
    );
    cfg.secrets = vec!["hunter2-signing-secret-hunter2-signing".into()];
    let debug = format!("{cfg:?}");
    assert!(!debug.contains("hunter2"), "{debug}");
    assert!(debug.contains("password=***&session_table=s"), "{debug}");
}

#[tokio::test]
async fn errors_never_show_a_password() {
    for url in [
        "postgres://app:hunter2@db/app?password=hunter2&bogus=1",
        "postgres://app:hunter2@db/app?password=hunter2&timeout=soon",
        "postgres://app:hunter2@db/app?password=hunter2&migrate=perhaps",
        "mysql://root:hunter2@db/test?password=hunter2",
        "sqlite::memory:?password=hunter2",
        "redis://:hunter2@127.0.0.1:1/?token=hunter2",
        "redis+cluster://u:hunter2@127.0.0.1:1,127.0.0.1:2?pass=hunter2",
        "memcache://127.0.0.1:1?secret=hunter2",
        "cookie://?secret_env=&password=hunter2",
        "gopher://u:hunter2@x/?password=hunter2",
        "rediss://u:hunter2@x/?password=hunter2",
    ] {
        let err = AnyStore::open(url).await.unwrap_err();
        let msg = err.to_string();
        assert!(!msg.contains("hunter2"), "{url}: {msg}");
    }
}

#[tokio::test]
async fn cookie_url_needs_no_signing_secret() {
    // Sealed values are not signed: `secrets` is not read, not even to be checked
    // (a short one would be refused for a server-side store).
    let mut cfg = SessionConfig::for_url("cookie://");
    cfg.cookie_secrets = vec!["a-cookie-sealing-secret-of-32-bytes-or-more".into()];
    cfg.layer().await.unwrap();
    cfg.secrets = vec!["short".into()];
    cfg.layer().await.unwrap();
    // A server-side store still needs them.
    let server = SessionConfig {
        url: "memory://".into(),
        ..cfg.clone()
    };
    config_error(server.layer().await);
}

#[test]
fn only_server_side_stores_need_signing_keys() {
    assert!(!SessionConfig::for_url("cookie://").needs_signing_keys());
    assert!(!SessionConfig::for_url("cookie://?secret_env=X").needs_signing_keys());
    for url in ["memory://", "file:///x", "sqlite::memory:", "not a url"] {
        assert!(SessionConfig::for_url(url).needs_signing_keys(), "{url}");
    }
}

#[test]
fn configuration_takes_the_same_grammar() {
    let cfg = SessionConfig::from_toml(
        "idle_timeout = \"none\"\nabsolute_lifetime = \"1h30m\"\ntouch = \"throttled:90s\"",
    )
    .unwrap();
    assert_eq!(cfg.idle_timeout, None);
    assert_eq!(cfg.absolute_lifetime, Some(Duration::from_secs(5400)));
    let msg = config_error(SessionConfig::from_toml("idle_timeout = \"30\""));
    assert!(msg.contains("unit"), "{msg}");
    let env = |k: &str| match k {
        "SESSION_COOKIE_SECURE" => Some("off".to_owned()),
        "SESSION_SAVE_ON_SERVER_ERROR" => Some("yes".to_owned()),
        "SESSION_IDLE_TIMEOUT" => Some("none".to_owned()),
        "SESSION_ABSOLUTE_LIFETIME" => Some("2d".to_owned()),
        _ => None,
    };
    let cfg = SessionConfig::default().with_env_overrides(env).unwrap();
    assert!(!cfg.cookie.secure);
    assert!(cfg.save_on_server_error);
    assert_eq!(cfg.idle_timeout, None);
    assert_eq!(cfg.absolute_lifetime, Some(Duration::from_secs(2 * 86_400)));
    let msg = config_error(
        SessionConfig::default()
            .with_env_overrides(|k| (k == "SESSION_COOKIE_SECURE").then(|| "maybe".into())),
    );
    assert!(
        msg.contains("SESSION_COOKIE_SECURE") && msg.contains("maybe"),
        "{msg}"
    );
}

/// Each embedded backend names itself for metrics and traces (`SessionStore::backend`).
#[tokio::test]
async fn embedded_stores_name_their_backend() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().display();
    for (url, backend) in [
        ("memory://".to_owned(), "memory"),
        (format!("file://{root}/files"), "file"),
        (format!("shelf://{root}/shelf.redb"), "shelf"),
        ("sqlite::memory:".to_owned(), "sqlite"),
    ] {
        let store = AnyStore::open(&url).await.unwrap();
        assert_eq!(store.backend(), backend, "{url}");
    }
}
