//! URL selection and configuration parsing.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code

mod common;

use common::config_error;

use std::time::Duration;

use session_any::{AnyStore, SessionConfig};
use session_core::{Error, SaveMode, TouchPolicy};

#[tokio::test]
async fn memory_url_opens_a_working_store() {
    let store = AnyStore::open("memory://").await.unwrap();
    assert_eq!(store.scheme(), "memory");
    assert!(store.capabilities().compare_and_set);
    let limited = AnyStore::open("memory://?max_record_size=100")
        .await
        .unwrap();
    assert_eq!(limited.capabilities().max_record_size, Some(100));
}

#[tokio::test]
async fn bad_urls_are_config_errors_that_name_the_problem() {
    let msg = config_error(AnyStore::open("gopher://host/").await);
    assert!(
        msg.contains("unknown session store scheme `gopher://`"),
        "{msg}"
    );
    let msg = config_error(AnyStore::open("not a url").await);
    assert!(msg.contains("does not parse"), "{msg}");
    let msg = config_error(AnyStore::open("memory:///some/path").await);
    assert!(msg.contains("takes no host or path"), "{msg}");
    let msg = config_error(AnyStore::open("memory://?max_record_size=lots").await);
    assert!(msg.contains("max_record_size"), "{msg}");
}

#[tokio::test]
async fn disabled_backends_name_their_feature() {
    // Which features are on depends on what else the build compiles (cargo unifies
    // features across a workspace), so check each scheme whose feature is off.
    let schemes = [
        ("redis://user:hunter2@db/", "redis", cfg!(feature = "redis")),
        (
            "postgres://user:hunter2@db/app",
            "postgres",
            cfg!(feature = "postgres"),
        ),
        (
            "mysql://user:hunter2@db/app",
            "mysql",
            cfg!(feature = "mysql"),
        ),
    ];
    for (url, feature, enabled) in schemes {
        if enabled {
            continue;
        }
        let msg = config_error(AnyStore::open(url).await);
        assert!(
            msg.contains(&format!("enable the `{feature}` feature")),
            "{msg}"
        );
        assert!(
            !msg.contains("hunter2"),
            "passwords never reach messages: {msg}"
        );
    }
    let msg = config_error(AnyStore::open("rediss://user:hunter2@db/").await);
    assert!(msg.contains("TLS") && !msg.contains("hunter2"), "{msg}");
}

#[test]
fn toml_configuration() {
    let cfg = SessionConfig::from_toml(
        r#"
        url = "memory://"
        idle_timeout = "30m"
        absolute_lifetime = "7days"
        touch = "throttled:5m"
        save_mode = "explicit"
        save_on_server_error = true
        [cookie]
        name = "sid"
        secure = false
        same_site = "strict"
        persistent = false
        "#,
    )
    .unwrap();
    assert_eq!(cfg.idle_timeout, Some(Duration::from_secs(1800)));
    assert_eq!(cfg.absolute_lifetime, Some(Duration::from_secs(7 * 86400)));
    let opts = cfg.options().unwrap();
    assert_eq!(opts.touch, TouchPolicy::Throttled(Duration::from_secs(300)));
    assert_eq!(opts.save_mode, SaveMode::Explicit);
    assert_eq!(cfg.cookie.name, "sid");
    assert!(!cfg.cookie.persistent);
}

#[test]
fn toml_mistakes_are_reported() {
    for (text, needle) in [
        ("urll = \"memory://\"", "unknown field"),
        ("touch = \"sometimes\"", "touch must be"),
        ("save_mode = \"lazy\"", "save_mode must be"),
        ("idle_timeout = \"soon\"", "idle_timeout"),
        ("[cookie]\ncolour = \"blue\"", "unknown field"),
    ] {
        let msg = config_error(SessionConfig::from_toml(text));
        assert!(msg.contains(needle), "{text:?}: {msg}");
    }
}

#[test]
fn no_expiry_at_all_is_rejected() {
    let cfg = SessionConfig::from_toml("").unwrap();
    let cfg = SessionConfig {
        idle_timeout: None,
        absolute_lifetime: None,
        ..cfg
    };
    config_error(cfg.options());
}

#[test]
fn environment_overrides() {
    let env = |k: &str| match k {
        "SESSION_URL" => Some("memory://".to_owned()),
        "SESSION_IDLE_TIMEOUT" => Some("10m".to_owned()),
        "SESSION_TOUCH" => Some("always".to_owned()),
        "SESSION_COOKIE_NAME" => Some("app_session".to_owned()),
        "SESSION_COOKIE_SECURE" => Some("false".to_owned()),
        _ => None,
    };
    let cfg = SessionConfig::default().with_env_overrides(env).unwrap();
    assert_eq!(cfg.idle_timeout, Some(Duration::from_secs(600)));
    assert_eq!(cfg.options().unwrap().touch, TouchPolicy::Always);
    assert_eq!(cfg.cookie.name, "app_session");
    assert!(!cfg.cookie.secure);
    let bad = SessionConfig::default()
        .with_env_overrides(|k| (k == "SESSION_COOKIE_SECURE").then(|| "maybe".into()));
    config_error(bad);
}

#[test]
fn secrets_are_checked_and_redacted() {
    let cfg = SessionConfig {
        secrets: vec!["short".into()],
        ..SessionConfig::default()
    };
    config_error(cfg.signing_keys());
    let cfg = SessionConfig {
        secrets: vec!["a-long-enough-secret-for-signing-cookies".into()],
        ..SessionConfig::default()
    };
    assert!(cfg.signing_keys().is_ok());
    assert!(!format!("{cfg:?}").contains("a-long-enough"));
}

#[tokio::test]
async fn any_store_delegates_every_operation() {
    use session_core::{Record, SessionId};
    let store = AnyStore::open("memory://").await.unwrap();
    let now = session_core::Clock::system().now();
    let r = Record::new(
        SessionId::generate(),
        Default::default(),
        now,
        now.saturating_add(Duration::from_secs(60)),
    );
    let cookie = store.create(&r).await.unwrap();
    assert_eq!(store.load(&cookie).await.unwrap(), Some(r.clone()));
    let r2 = r.clone().with_version(2);
    store.save(&r2, 1).await.unwrap();
    assert!(matches!(store.save(&r2, 1).await, Err(Error::Conflict)));
    store.touch(&r2).await.unwrap();
    assert_eq!(store.count().await.unwrap(), 1);
    assert_eq!(store.delete_expired().await.unwrap(), 0);
    store.delete(&r.id).await.unwrap();
    assert_eq!(store.load(&cookie).await.unwrap(), None);
}

#[tokio::test]
async fn cookie_url_needs_a_valid_secret() {
    let msg = config_error(AnyStore::open("cookie://?secret_env=SESSION_ANY_TEST_UNSET_VAR").await);
    assert!(msg.contains("SESSION_ANY_TEST_UNSET_VAR"), "{msg}");

    let mut cfg = SessionConfig::for_url("cookie://");
    cfg.cookie.name = "sid".into();
    cfg.cookie_secrets = vec!["short".into()];
    config_error(cfg.store().await);
    cfg.cookie_secrets = vec!["a-cookie-sealing-secret-of-32-bytes-or-more".into()];
    let store = cfg.store().await.unwrap();
    let caps = store.capabilities();
    assert!(caps.self_sealed && !caps.revoke);
    assert!(!format!("{cfg:?}").contains("a-cookie-sealing"));
}

#[tokio::test]
async fn file_and_shelf_urls() {
    let dir = tempfile::tempdir().unwrap();
    let files = AnyStore::open(&format!(
        "file://{}/sessions?durable=false",
        dir.path().display()
    ))
    .await
    .unwrap();
    assert_eq!(files.scheme(), "file");
    assert!(files.capabilities().compare_and_set);
    let shelf = AnyStore::open(&format!("shelf://{}/sessions.redb", dir.path().display()))
        .await
        .unwrap();
    assert!(shelf.capabilities().enumerate);
    assert!(dir.path().join("sessions").is_dir());
    assert!(dir.path().join("sessions.redb").is_file());

    for (url, needle) in [
        ("file://relative/dir".to_owned(), "absolute path"),
        ("file:///".to_owned(), "needs a path"),
        (
            format!("file://{}/x?durable=perhaps", dir.path().display()),
            "durable",
        ),
    ] {
        let msg = config_error(AnyStore::open(&url).await);
        assert!(msg.contains(needle), "{url}: {msg}");
    }
    // The same shelf file cannot be opened twice; the message names the file.
    let msg = config_error(
        AnyStore::open(&format!("shelf://{}/sessions.redb", dir.path().display())).await,
    );
    assert!(msg.contains("sessions.redb"), "{msg}");
}

#[tokio::test]
async fn sqlite_url_opens_and_migrates() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}/s.db?session_table=app_sessions",
        dir.path().display()
    );
    let store = AnyStore::open(&url).await.unwrap();
    assert!(store.capabilities().compare_and_set);
    assert_eq!(store.count().await.unwrap(), 0, "table created by open");
    let memory = AnyStore::open("sqlite::memory:").await.unwrap();
    assert_eq!(memory.count().await.unwrap(), 0);
    let msg = config_error(AnyStore::open("sqlite::memory:?session_table=bad;name").await);
    assert!(msg.to_lowercase().contains("table"), "{msg}");
    let timed = AnyStore::open(&format!("{url}&timeout=250ms"))
        .await
        .unwrap();
    assert_eq!(timed.count().await.unwrap(), 0);
    for bad in ["soonish", "0s"] {
        let msg = config_error(AnyStore::open(&format!("sqlite::memory:?timeout={bad}")).await);
        assert!(msg.contains("timeout"), "{bad}: {msg}");
    }
}

#[cfg(feature = "redis")]
#[tokio::test]
async fn redis_urls() {
    let base = session_test_servers::Service::Redis.url();
    let prefix = format!("session-any-test:{}:", std::process::id());
    let store = AnyStore::open(&format!("{base}?prefix={prefix}&timeout=500ms"))
        .await
        .expect("the shared Redis (scripts/services starts it)");
    assert!(store.capabilities().native_ttl);
    assert_eq!(store.count().await.unwrap(), 0);
    let msg = config_error(AnyStore::open(&format!("{base}?timeout=soonish")).await);
    assert!(msg.contains("timeout"), "{msg}");
    let msg = config_error(AnyStore::open("redis+cluster:///").await);
    assert!(msg.contains("host:port"), "{msg}");
}

/// A configuration mistake that needs no I/O to find is reported before the store is
/// opened: a cookie browsers would drop must not leave a new sessions directory behind.
#[tokio::test]
async fn layer_checks_the_cookie_before_opening_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let sessions = dir.path().join("sessions");
    let mut cfg = SessionConfig::for_url(format!("file://{}", sessions.display()));
    cfg.secrets = vec!["a-cookie-signing-secret-of-32-bytes-or-more".into()];
    cfg.cookie.name = "__Host-session".into();
    cfg.cookie.secure = false;
    let msg = config_error(cfg.layer().await);
    assert!(msg.contains("__Host-"), "{msg}");
    assert!(!sessions.exists(), "the store was opened before the check");

    cfg.cookie.secure = true;
    cfg.layer().await.unwrap();
    assert!(sessions.exists());
}

/// The sealed cookie store builds a layer without any signing secret.
#[tokio::test]
async fn cookie_layer_needs_no_signing_secret() {
    let mut cfg = SessionConfig::for_url("cookie://");
    cfg.cookie_secrets = vec!["a-cookie-sealing-secret-of-32-bytes-or-more".into()];
    cfg.secrets.clear();
    cfg.layer().await.unwrap();
}

/// Issue 17: the configuration takes a backend's parameters by the names its URL takes,
/// in TOML (`[store]`) and in the environment (`SESSION_STORE_<NAME>`), read by the
/// backend's one parser.
#[tokio::test]
async fn store_parameters_take_the_url_names() {
    let cfg = SessionConfig::from_toml(
        r#"
        url = "memory://"
        [store]
        max_record_size = "16KiB"
        "#,
    )
    .unwrap();
    let store = cfg.store().await.unwrap();
    assert_eq!(store.capabilities().max_record_size, Some(16 * 1024));

    let numeric =
        SessionConfig::from_toml("url = \"memory://\"\n[store]\nmax_record_size = 2048\n").unwrap();
    assert_eq!(
        numeric
            .store()
            .await
            .unwrap()
            .capabilities()
            .max_record_size,
        Some(2048)
    );

    let env = SessionConfig::default()
        .with_env_overrides(|k| match k {
            "SESSION_URL" => Some("memory://".into()),
            "SESSION_STORE_MAX_RECORD_SIZE" => Some("none".into()),
            _ => None,
        })
        .unwrap();
    assert_eq!(
        env.store.get("max_record_size").map(String::as_str),
        Some("none")
    );
    assert_eq!(
        env.store().await.unwrap().capabilities().max_record_size,
        None
    );
}

#[tokio::test]
async fn store_parameter_mistakes_name_the_parameter() {
    let typo =
        SessionConfig::from_toml("url = \"memory://\"\n[store]\nmax_recrod_size = \"1KiB\"\n")
            .unwrap();
    let msg = config_error(typo.store().await);
    assert!(
        msg.contains("`max_recrod_size`") && msg.contains("max_record_size"),
        "{msg}"
    );
    let msg = config_error(typo.layer().await);
    assert!(msg.contains("`max_recrod_size`"), "{msg}");

    let twice = SessionConfig::from_toml(
        "url = \"memory://?max_record_size=1KiB\"\n[store]\nmax_record_size = \"2KiB\"\n",
    )
    .unwrap();
    let msg = config_error(twice.store().await);
    assert!(msg.contains("max_record_size"), "{msg}");

    let bad = SessionConfig::from_toml("url = \"memory://\"\n[store]\nmax_record_size = \"2m\"\n")
        .unwrap();
    config_error(bad.store().await);
}

#[test]
fn store_secrets_are_redacted_in_debug() {
    let mut cfg = SessionConfig::for_url("memory://");
    cfg.store
        .insert("password".into(), "hunter2-in-a-table".into());
    let shown = format!("{cfg:?}");
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(shown.contains("password"), "{shown}");
}
