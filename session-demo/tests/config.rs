//! The demo binary's start-up configuration: `cookie://` needs only its sealing secret,
//! a misspelled URL parameter stops it, and a password in the URL is never printed.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SEALING_SECRET: &str = "demo-config-test-sealing-secret-0123456789";

use common::{demo_command as demo, Running};

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

#[tokio::test]
async fn cookie_store_starts_with_only_its_sealing_secret() {
    let mut cmd = demo("cookie://");
    cmd.env("SESSION_COOKIE_SECRET", SEALING_SECRET);
    let running = start(cmd);
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let base = format!("http://{}", running.addr);
    let mut counts = Vec::new();
    for _ in 0..3 {
        let body = client
            .get(format!("{base}/counter"))
            .send()
            .await
            .unwrap()
            .error_for_status()
            .unwrap()
            .text()
            .await
            .unwrap();
        counts.push(body);
    }
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
    let (status, printed) = run_to_end(demo(&url));
    assert!(!status.success(), "{printed}");
    assert!(printed.contains("`bogus`"), "{printed}");
    assert!(
        printed.contains("known: durable, max_record_size"),
        "{printed}"
    );
    assert!(!dir.path().join("sessions").exists(), "nothing was created");

    let (status, printed) = run_to_end(demo("file:///tmp/x?bogus=1"));
    assert!(
        !status.success() && printed.contains("`bogus`"),
        "{printed}"
    );
}

const PASSWORD: &str = "hunter2-secret-never-printed";

#[test]
fn a_password_in_the_url_is_never_printed() {
    // PostgreSQL (trust authentication in the test services) takes `?password=` and
    // connects: the demo starts and logs its configuration at INFO.
    let base = session_test_servers::Service::Postgres.url();
    let url = format!("{base}?password={PASSWORD}&session_table=demo_config_test");
    let mut cmd = demo(&url);
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
    let (status, printed) = run_to_end(demo(&url));
    assert!(!status.success(), "{printed}");
    assert!(printed.contains("`password`"), "{printed}");
    assert!(!printed.contains(PASSWORD), "{printed}");
}
