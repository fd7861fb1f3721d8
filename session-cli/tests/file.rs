//! `session-admin` against the embedded stores (`file://`, `shelf://`, `sqlite:`), and
//! the refusals that need no server: memcached and cookie stores cannot be listed,
//! `purge` wants `--yes`, usage errors exit 2.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code

mod common;

use common::*;
use session_any::{AnyStore, SessionConfig};
use session_core::{Record, SessionId, Timestamp};

#[tokio::test]
async fn file_store() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("file://{}", dir.path().join("sessions").display());
    let seeded = {
        let store = AnyStore::open(&url).await.unwrap();
        seed(&store, 9, 5, None).await
    };
    scenario(&url, &seeded, || async {
        AnyStore::open(&url).await.unwrap()
    })
    .await;
}

/// The user commands on a fresh `scheme://<tempdir>/<name>` store.
async fn embedded_user_scenario(scheme: &str, name: &str) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("{scheme}://{}", dir.path().join(name).display());
    let store = AnyStore::open(&url).await.unwrap();
    user_scenario(&url, store, "").await;
}

#[tokio::test]
async fn file_store_user_sessions() {
    embedded_user_scenario("file", "sessions").await;
}

#[tokio::test]
async fn shelf_store_user_sessions() {
    embedded_user_scenario("shelf", "sessions.redb").await;
}

#[tokio::test]
async fn sqlite_store_user_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("s.db").display());
    admin_json(&url, &["migrate"]);
    let store = AnyStore::open(&url).await.unwrap();
    user_scenario(&url, store, "").await;
}

/// memcached and cookie stores keep no user index: the user commands exit 3 (before
/// any I/O) and say why.
#[test]
fn user_commands_are_unsupported_without_an_index() {
    let key = "0".repeat(64);
    for url in ["memcache://127.0.0.1:1", "cookie://"] {
        for args in [
            vec!["user-sessions", "ada"],
            vec!["revoke-user", "ada"],
            vec!["revoke-session", "ada", key.as_str()],
        ] {
            let run = admin(url, &args).expect(UNSUPPORTED);
            assert!(run.stderr.contains("no index"), "{url} {args:?}: {run:?}");
        }
    }
}

#[tokio::test]
async fn shelf_store() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("shelf://{}", dir.path().join("sessions.redb").display());
    // The shelf has one owner at a time: the seeding store is closed before the binary
    // runs, and each check reopens it briefly.
    let seeded = {
        let store = AnyStore::open(&url).await.unwrap();
        seed(&store, 6, 4, None).await
    };
    scenario(&url, &seeded, || async {
        AnyStore::open(&url).await.unwrap()
    })
    .await;
}

#[tokio::test]
async fn sqlite_store() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?session_table=admin_sessions",
        dir.path().join("s.db").display()
    );
    // Nothing there yet: an admin command creates neither the file nor the table.
    let missing = admin(&url, &["stats"]).expect(FAILURE);
    assert!(missing.stderr.contains("migrate"), "{missing:?}");
    assert!(!dir.path().join("s.db").exists());
    let migrated = admin_json(&url, &["migrate"]);
    assert_eq!(migrated["table"], "admin_sessions");
    assert_eq!(admin_json(&url, &["migrate"])["ok"], true, "idempotent");
    assert_stats(&url, 0, 0);
    let seeded = {
        let store = AnyStore::open(&url).await.unwrap();
        seed(&store, 7, 3, None).await
    };
    scenario(&url, &seeded, || async {
        AnyStore::open(&url).await.unwrap()
    })
    .await;
}

#[tokio::test]
async fn missing_file_store_is_an_error_not_zero() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("file://{}", dir.path().join("typo").display());
    let run = admin(&url, &["stats"]).expect(USAGE);
    assert!(run.stderr.contains("no FileStore directory"), "{run:?}");
    assert!(!dir.path().join("typo").exists(), "nothing created");
}

#[tokio::test]
async fn signed_cookie_values_are_verified_with_the_app_secret() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("file://{}", dir.path().display());
    let seeded = seed(&AnyStore::open(&url).await.unwrap(), 3, 1, None).await;
    let (id, data) = &seeded.live[2];
    let secret = "an-app-signing-secret-of-32-bytes-or-more";
    let signed = session_tower::SigningKeys::new([secret])
        .unwrap()
        .sign("sid", id);
    let ok = admin_env(
        &[
            "--url",
            &url,
            "--json",
            "--cookie-name",
            "sid",
            "inspect",
            &signed,
        ],
        &[("SESSION_SECRET", secret)],
    )
    .expect(OK);
    assert_eq!(ok.json()["data"], serde_json::to_value(data).unwrap());
    // Without the secret, or for another cookie name: a usage error, never a lookup.
    admin(&url, &["inspect", &signed]).expect(USAGE);
    admin_env(
        &["--url", &url, "inspect", &signed],
        &[("SESSION_SECRET", secret)],
    )
    .expect(USAGE);
}

#[tokio::test]
async fn cookie_store_cannot_be_listed_but_a_cookie_can_be_inspected() {
    for args in [
        &["gc"][..],
        &["gc", "--dry-run"],
        &["stats"],
        &["purge", "--yes"],
        &["delete", "x"],
    ] {
        let mut all = vec!["--url", "cookie://", "--json"];
        all.extend_from_slice(args);
        // No secret is set: the refusal comes before the store is opened.
        let run = admin_env(&all, &[]).expect(UNSUPPORTED);
        assert!(run.stderr.contains("cookie://"), "{run:?}");
        assert_eq!(run.json()["exit_code"], UNSUPPORTED);
    }
    admin("cookie://", &["migrate"]).expect(UNSUPPORTED);

    let secret = "a-cookie-sealing-secret-of-32-bytes-or-more";
    let mut config = SessionConfig::for_url("cookie://");
    config.cookie_secrets = vec![secret.to_owned()];
    let store = config.store().await.unwrap();
    let now = Timestamp::from_system(std::time::SystemTime::now());
    let mut data = session_core::Data::new();
    data.insert("user".into(), serde_json::json!("ada"));
    let record = Record::new(
        SessionId::generate(),
        data,
        now,
        now.saturating_add(std::time::Duration::from_secs(600)),
    );
    let sealed = store.create(&record).await.unwrap();
    let run = admin_env(
        &["--url", "cookie://", "--json", "inspect", &sealed],
        &[("SESSION_COOKIE_SECRET", secret)],
    )
    .expect(OK);
    assert_eq!(run.json()["data"]["user"], "ada");
    assert_eq!(run.json()["storage_key"], serde_json::Value::Null);
}

#[test]
fn memcache_is_refused_before_any_io() {
    // Nothing listens on port 1: the refusal must come before a connection is tried.
    for args in [&["gc"][..], &["stats"], &["purge", "--yes"], &["migrate"]] {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let run = admin("memcache://127.0.0.1:1", &all).expect(UNSUPPORTED);
        let msg = run.json()["error"].as_str().unwrap().to_owned();
        assert!(msg.contains("memcache://"), "{msg}");
    }
}

#[test]
fn usage_errors_exit_2() {
    // No URL.
    admin_env(&["stats"], &[]).expect(USAGE);
    // Unknown scheme, unknown subcommand, bad page size.
    admin("gopher://x/", &["stats"]).expect(USAGE);
    admin("memory://", &["frobnicate"]).expect(USAGE);
    admin("memory://", &["stats", "--page-size", "0"]).expect(USAGE);
    // The URL may come from SESSION_URL.
    let run = admin_env(&["--json", "stats"], &[("SESSION_URL", "memory://")]).expect(OK);
    assert_eq!(run.json()["sessions"], 0);
    // migrate applies to SQL stores only.
    admin("memory://", &["migrate"]).expect(UNSUPPORTED);
    admin(
        "memory://",
        &["inspect", &SessionId::generate().to_string()],
    )
    .expect(NOT_FOUND);
    // --help documents the exit codes.
    let help = admin_env(&["--help"], &[]).expect(OK);
    assert!(help.stdout.contains("Exit codes"), "{help:?}");
}
