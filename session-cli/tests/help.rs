//! The command line says what the commands do (`delete` ends one session, not every
//! session of a user) and reads what it is given (an id that starts with `-`).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code

use std::process::Command;

fn help(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_session-admin"))
        .args(args)
        .env_remove("SESSION_URL")
        .output()
        .expect("the session-admin binary runs");
    assert!(out.status.success(), "{args:?}: {out:?}");
    // One space between words, so a phrase matches wherever clap wraps the lines.
    String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn delete_help_says_it_ends_one_session() {
    let text = help(&["delete", "--help"]);
    assert!(text.contains("Delete one session"), "{text}");
    assert!(
        text.contains("other sessions (other browsers and devices) stay valid"),
        "{text}"
    );
    assert!(
        text.contains("purge"),
        "points at the command that ends them all: {text}"
    );
    assert!(!text.contains("everywhere"), "{text}");
}

#[test]
fn top_level_help_names_the_user_commands() {
    let text = help(&["--help"]);
    assert!(text.contains("end one session or all of them"), "{text}");
    assert!(text.contains("list or end one user's sessions"), "{text}");
    for command in ["user-sessions", "revoke-user", "revoke-session"] {
        assert!(text.contains(command), "{command}: {text}");
    }
    assert!(!text.contains("everywhere"), "{text}");
}

#[test]
fn user_command_help_says_what_user_and_the_key_are() {
    let text = help(&["revoke-user", "--help"]);
    assert!(text.contains("--except <STORAGE_KEY>"), "{text}");
    assert!(text.contains("The app's user id"), "{text}");
    let text = help(&["revoke-session", "--help"]);
    assert!(
        text.contains("another user's session ends nothing"),
        "{text}"
    );
    let text = help(&["user-sessions", "--help"]);
    assert!(text.contains("not memcache://, cookie://"), "{text}");
}

/// An id is URL-safe base64, so one in 64 starts with `-`; it must be read as the id,
/// not as an unknown flag (a usage error, exit 2).
#[test]
fn an_id_starting_with_a_dash_is_an_id() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("file://{}", dir.path().display());
    let id = format!("-{}", "A".repeat(42));
    let out = Command::new(env!("CARGO_BIN_EXE_session-admin"))
        .args(["--url", &url, "inspect", &id])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
