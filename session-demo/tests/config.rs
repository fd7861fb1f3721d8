//! The demo binary's start-up configuration: `cookie://` needs only its sealing secret,
//! a misspelled URL parameter stops it, a password in the URL is never printed, and
//! `SESSION_CACHE_URL` puts a cache in front of the store.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SEALING_SECRET: &str = "demo-config-test-sealing-secret-0123456789";

use common::{demo_command as demo, Framework, Running};

/// Starts `cmd` with its stderr kept for [`Running::stop`] (see [`common::start`]).
fn start(mut cmd: Command) -> Running {
    cmd.stderr(Stdio::piped());
    common::start(cmd)
}

/// Runs `cmd`, which must stop by itself at start-up: its exit status and everything
/// it printed. A demo still running after 30 s started despite its configuration, and
/// fails the test rather than hanging it.
fn run_to_end(mut cmd: Command) -> (std::process::ExitStatus, String) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "the demo started instead of refusing its configuration:\n{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status, printed)
}

async fn cookie_store_starts_with_only_its_sealing_secret(framework: Framework) {
    let mut cmd = demo("cookie://", framework);
    cmd.env("SESSION_COOKIE_SECRET", SEALING_SECRET);
    let running = start(cmd);
    let counts = count_three_times(running.addr).await;
    assert_eq!(
        counts,
        ["1", "2", "3"],
        "the sealed session carries the counter"
    );
    let printed = running.stop();
    assert!(
        !printed.contains("SESSION_SECRET is not set") && !printed.contains("random signing key"),
        "a sealed store needs no signing key, so none is made up: {printed}"
    );
}

#[test]
fn an_unknown_url_parameter_stops_the_demo_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("file://{}/sessions?bogus=1", dir.path().display());
    let (status, printed) = run_to_end(demo(&url, Framework::Axum));
    assert!(!status.success(), "{printed}");
    assert!(printed.contains("`bogus`"), "{printed}");
    assert!(
        printed.contains("known: durable, max_record_size"),
        "{printed}"
    );
    assert!(!dir.path().join("sessions").exists(), "nothing was created");

    let (status, printed) = run_to_end(demo("file:///tmp/x?bogus=1", Framework::Axum));
    assert!(
        !status.success() && printed.contains("`bogus`"),
        "{printed}"
    );
}

const PASSWORD: &str = "hunter2-secret-never-printed";

async fn a_password_in_the_url_is_never_printed(framework: Framework) {
    // PostgreSQL (trust authentication in the test services) takes `?password=` and
    // connects: the demo starts and logs its configuration at INFO.
    let base = session_test_servers::Service::Postgres.url();
    let url = format!("{base}?password={PASSWORD}&session_table=demo_config_test");
    let mut cmd = demo(&url, framework);
    cmd.env(
        "SESSION_SECRET",
        "demo-config-test-signing-secret-0123456789",
    );
    let printed = start(cmd).stop();
    assert!(
        printed.contains("sessions configured"),
        "the configuration is logged: {printed}"
    );
    assert!(printed.contains("password=***"), "{printed}");
    assert!(!printed.contains(PASSWORD), "{printed}");

    // SQLite takes no password: the demo stops, naming the parameter, not its value.
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/s.db?password={PASSWORD}", dir.path().display());
    let (status, printed) = run_to_end(demo(&url, Framework::Axum));
    assert!(!status.success(), "{printed}");
    assert!(printed.contains("`password`"), "{printed}");
    assert!(!printed.contains(PASSWORD), "{printed}");
}

/// `GET /counter` three times with one cookie jar: what the demo answered.
async fn count_three_times(addr: std::net::SocketAddr) -> Vec<String> {
    let browser = common::Browser::new(addr);
    let mut counts = Vec::new();
    for _ in 0..3 {
        counts.push(browser.get("/counter").await);
    }
    counts
}

/// Issue 22: `SESSION_CACHE_URL` puts a cache in front of the store; the demo serves
/// through it and logs it redacted, the password of a bus's URL included.
async fn the_demo_runs_behind_a_cache_from_the_environment(framework: Framework) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/s.db", dir.path().display());
    let mut cmd = demo(&url, framework);
    cmd.env("SESSION_CACHE_URL", "local://?capacity=100&ttl=10s");
    let running = start(cmd);
    assert_eq!(count_three_times(running.addr).await, ["1", "2", "3"]);
    let printed = running.stop();
    assert!(
        printed.contains("local://?capacity=100&ttl=10s"),
        "the configuration shows the cache: {printed}"
    );

    // A bus on a server that is not there: the demo starts (the bus connects in the
    // background), serves from the store meanwhile, and never prints the password.
    // redis://:PASSWORD@127.0.0.1:1/, percent-encoded (PASSWORD needs no escaping).
    let encoded = format!("redis%3A%2F%2F%3A{PASSWORD}%40127.0.0.1%3A1%2F");
    let mut cmd = demo(&url, framework);
    cmd.env(
        "SESSION_CACHE_URL",
        format!("local://?heartbeat=200ms&bus_url={encoded}"),
    );
    let running = start(cmd);
    assert_eq!(count_three_times(running.addr).await, ["1", "2", "3"]);
    let printed = running.stop();
    assert!(printed.contains("bus_url="), "{printed}");
    assert!(!printed.contains(PASSWORD), "{printed}");
}

#[test]
fn a_bad_cache_url_stops_the_demo_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("file://{}/sessions", dir.path().display());
    for (cache, needle) in [
        ("local://?capacty=10", "`capacty`"),
        ("local://?bus=store", "bus=store"),
        ("cookie://", "cannot be a session cache"),
    ] {
        let mut cmd = demo(&url, Framework::Axum);
        cmd.env("SESSION_CACHE_URL", cache);
        let (status, printed) = run_to_end(cmd);
        assert!(!status.success(), "{cache}: {printed}");
        assert!(printed.contains(needle), "{cache}: {printed}");
    }
    assert!(!dir.path().join("sessions").exists(), "nothing was created");
}

common::per_framework! {
    #[tokio::test] cookie_store_starts_with_only_its_sealing_secret,
    #[tokio::test] a_password_in_the_url_is_never_printed,
    #[tokio::test] the_demo_runs_behind_a_cache_from_the_environment,
}
