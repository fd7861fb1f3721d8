//! A real browser logs in and out of the demo: headless Chromium (Debian's `chromium`
//! package) with one profile across runs, so its cookie jar carries the session from
//! one page load to the next exactly as a user's browser would.
//!
//! Ignored in a plain `cargo test` because it needs Chromium installed; `.ci/run`
//! installs it and runs this file with `--ignored`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code

mod common;

use std::path::Path;

use common::Framework;
use std::time::Duration;

const CHROMIUM: &str = "/usr/bin/chromium";

/// Loads `url` in headless Chromium with `profile` and returns the page's `<h1>` text.
async fn visit(profile: &Path, url: &str) -> String {
    let out = tokio::time::timeout(
        Duration::from_secs(90),
        tokio::process::Command::new(CHROMIUM)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--dump-dom",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg(url)
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("chromium finished within 90 s")
    .expect("chromium runs");
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dom = String::from_utf8(out.stdout).unwrap();
    let start = dom
        .find("<h1>")
        .unwrap_or_else(|| panic!("no <h1> in {dom}"))
        + 4;
    let end = dom[start..].find("</h1>").unwrap() + start;
    dom[start..end].to_owned()
}

async fn chromium_logs_in_and_out(framework: Framework) {
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: apt-get install chromium"
    );
    // The demo's embedded default: sessions in files.
    let sessions = tempfile::tempdir().unwrap();
    let url = format!("file://{}/sessions", sessions.path().display());
    let addr = common::serve(&url, "browser-test-secret-browser-test-secret", framework).await;
    let profile = tempfile::tempdir().unwrap();
    let base = format!("http://{addr}");
    assert_eq!(
        visit(profile.path(), &format!("{base}/")).await,
        "You are not logged in."
    );
    // /login redirects to /, which the browser follows with its new cookie.
    assert_eq!(
        visit(profile.path(), &format!("{base}/login")).await,
        "You are logged in"
    );
    // A fresh browser process, same profile: a plain login is a browser-session
    // cookie, which the browser dropped when it closed.
    assert_eq!(
        visit(profile.path(), &format!("{base}/")).await,
        "You are not logged in."
    );
    // "Remember me" is a persistent cookie: it outlives the browser process.
    assert_eq!(
        visit(profile.path(), &format!("{base}/login?remember=1")).await,
        "You are logged in"
    );
    assert_eq!(
        visit(profile.path(), &format!("{base}/")).await,
        "You are logged in"
    );
    assert_eq!(
        visit(profile.path(), &format!("{base}/logout")).await,
        "You are not logged in."
    );
    assert_eq!(
        visit(profile.path(), &format!("{base}/")).await,
        "You are not logged in."
    );
}

common::per_framework! {
    #[tokio::test(flavor = "multi_thread")] #[ignore = "needs Debian's chromium; .ci/run installs it and runs this with --ignored"] chromium_logs_in_and_out,
}
