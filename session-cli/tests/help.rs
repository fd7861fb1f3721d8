//! The help text says what the commands do: `delete` ends one session, not every
//! session of a user.

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
fn top_level_help_does_not_promise_logging_a_user_out() {
    let text = help(&["--help"]);
    assert!(text.contains("end one session or all of them"), "{text}");
    assert!(!text.contains("everywhere"), "{text}");
    assert!(!text.contains("log one user"), "{text}");
}
