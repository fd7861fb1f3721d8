//! `session-admin --url` reads URLs through session-any's scheme table: the same known
//! parameters, the same grammar, the same redaction.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code

mod common;

use common::*;

#[test]
fn an_unknown_parameter_is_a_usage_error_naming_it() {
    for url in [
        "file:///x?bogus=1",
        "shelf:///x.redb?bogus=1",
        "sqlite:///x.db?bogus=1",
        "postgres://u@127.0.0.1:1/db?bogus=1",
        "redis://127.0.0.1:1/?bogus=1",
        "redis+cluster://127.0.0.1:1,127.0.0.1:2?bogus=1",
        "memcache://127.0.0.1:1?bogus=1",
        "cookie://?bogus=1",
    ] {
        for args in [&["stats"][..], &["inspect", "x"], &["migrate"]] {
            let run = admin(url, args).expect(USAGE);
            assert!(run.stderr.contains("`bogus`"), "{url} {args:?}: {run:?}");
            assert!(run.stderr.contains("known: "), "{url} {args:?}: {run:?}");
        }
    }
    // With --json the error object says the same.
    let run = admin("file:///x?bogus=1", &["--json", "gc"]).expect(USAGE);
    assert!(
        run.json()["error"].as_str().unwrap().contains("`bogus`"),
        "{run:?}"
    );
}

#[test]
fn a_bad_value_is_refused_before_the_path_is_looked_at() {
    let run = admin("file:///no/such/dir?durable=perhaps", &["stats"]).expect(USAGE);
    assert!(
        run.stderr.contains("durable") && run.stderr.contains("perhaps"),
        "{run:?}"
    );
}

#[test]
fn migrate_no_is_read_like_migrate_false() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    for value in ["no", "off", "false", "0"] {
        let url = format!("sqlite://{}?migrate={value}", db.display());
        let run = admin(&url, &["migrate"]).expect(USAGE);
        assert!(run.stderr.contains("migrate=false"), "{value}: {run:?}");
    }
    assert!(!db.exists(), "nothing was created");
    let url = format!("sqlite://{}?migrate=perhaps", db.display());
    let run = admin(&url, &["migrate"]).expect(USAGE);
    assert!(run.stderr.contains("perhaps"), "{run:?}");
}

#[test]
fn passwords_never_reach_the_output() {
    for url in [
        // Refused before connecting (sqlx takes no password from a MySQL query).
        "mysql://root:hunter2@127.0.0.1:1/test?password=hunter2",
        // Refused while connecting: nothing listens on port 1.
        "postgres://app:hunter2@127.0.0.1:1/app?password=hunter2&timeout=1s",
        "redis://:hunter2@127.0.0.1:1/",
        "sqlite:///no/such/dir/s.db?password=hunter2",
    ] {
        for json in [false, true] {
            let mut args = vec!["--url", url];
            if json {
                args.push("--json");
            }
            args.push("stats");
            let run = admin_env(&args, &[]);
            assert_ne!(run.code, OK, "{url}: {run:?}");
            assert!(
                !run.stdout.contains("hunter2") && !run.stderr.contains("hunter2"),
                "{url}: {run:?}"
            );
        }
    }
}
