//! The demo binary's start-up configuration: `cookie://` needs only its sealing secret,
//! a misspelled URL parameter stops it, and a password in the URL is never printed.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SEALING_SECRET: &str = "demo-config-test-sealing-secret-0123456789";

/// The demo binary with none of the session environment inherited, on a free port.
fn demo(url: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_session-demo"));
    cmd.args(["--addr", "127.0.0.1:0"]);
    for var in [
        "SESSION_URL",
        "SESSION_SECRET",
        "SESSION_COOKIE_SECRET",
        "SESSION_COOKIE_NAME",
        "SESSION_COOKIE_SECURE",
        "DEMO_ADDR",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("SESSION_URL", url).env("RUST_LOG", "info");
    cmd
}

/// A running demo: its address and everything it printed until it said so.
struct Running {
    child: Child,
    addr: String,
    printed: String,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Running {
    /// Stops the demo and returns all it printed on stdout and stderr.
    fn stop(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let mut rest = String::new();
        if let Some(mut out) = self.child.stdout.take() {
            let _ = out.read_to_string(&mut rest);
        }
        if let Some(mut err) = self.child.stderr.take() {
            let _ = err.read_to_string(&mut rest);
        }
        format!("{}{rest}", self.printed)
    }
}

/// Starts `cmd` and waits for its "serving on http://ADDR" log line (tracing writes to
/// stdout), panicking with what it printed if it exits or takes too long.
fn start(mut cmd: Command) -> Running {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut printed = String::new();
    loop {
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(line) => {
                printed.push_str(&line);
                printed.push('\n');
                if let Some((_, addr)) = line.split_once("serving on http://") {
                    let addr = addr.trim().to_owned();
                    return Running {
                        child,
                        addr,
                        printed,
                    };
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                let out = child.wait_with_output().unwrap();
                panic!(
                    "the demo exited ({}) before serving:\n{printed}{}",
                    out.status,
                    String::from_utf8_lossy(&out.stderr)
                );
            }
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the demo did not start within a minute:\n{printed}");
        }
    }
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
    let base = session_conformance::servers::external_url("POSTGRES")
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/test".into());
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
