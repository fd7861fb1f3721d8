//! A private PostgreSQL instance (initdb + pg_ctl in a temp dir, on a free loopback
//! port) is stopped under a live store and started again: during the outage every
//! operation fails with `Error::Backend` within the configured timeout, and afterwards
//! the same store works again without being rebuilt.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime};

use serde_json::json;
use session_core::{Error, Record, SessionId, SessionStore, Timestamp};
use session_sql::{ConnectOptions, SqlError, SqlStore};
use tempfile::TempDir;

/// A PostgreSQL server of our own, stopped (immediately) on drop.
struct PrivatePostgres {
    dir: TempDir,
    bin: PathBuf,
    port: u16,
}

impl PrivatePostgres {
    fn start() -> Self {
        let bin = postgres_bin_dir();
        let dir = tempfile::tempdir().unwrap();
        // PostgreSQL refuses to run as root; hand the directory to `postgres` then.
        if is_root() {
            run(Command::new("chown")
                .arg("-R")
                .arg("postgres")
                .arg(dir.path()));
        }
        let data = dir.path().join("data");
        let mut initdb = Self::as_owner(&bin.join("initdb"));
        initdb.arg("-D").arg(&data).args([
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
            "-E",
            "UTF8",
        ]);
        run(&mut initdb);
        let port = free_port();
        let server = PrivatePostgres { dir, bin, port };
        server.pg_ctl_start();
        server
    }

    fn as_owner(program: &Path) -> Command {
        if is_root() {
            let mut cmd = Command::new("runuser");
            cmd.args(["-u", "postgres", "--"]).arg(program);
            cmd
        } else {
            Command::new(program)
        }
    }

    fn pg_ctl(&self) -> Command {
        let mut cmd = Self::as_owner(&self.bin.join("pg_ctl"));
        cmd.arg("-D").arg(self.dir.path().join("data"));
        cmd
    }

    fn pg_ctl_start(&self) {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("server.log");
        run(self
            .pg_ctl()
            .args(["-w", "-t", "60", "-o", &options, "-l"])
            .arg(log)
            .arg("start"));
    }

    /// Fast shutdown: the server ends every client connection and stops.
    fn stop(&self) {
        run(self.pg_ctl().args(["-w", "-m", "fast", "stop"]));
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let _ = self
            .pg_ctl()
            .args(["-w", "-m", "immediate", "stop"])
            .output();
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}

/// Where `initdb` and `pg_ctl` live: `pg_config --bindir`, else Debian's layout.
fn postgres_bin_dir() -> PathBuf {
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if dir.join("initdb").exists() {
            return dir;
        }
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| d.flatten().map(|e| e.path().join("bin")).collect())
        .unwrap_or_default();
    versions.sort();
    match versions
        .into_iter()
        .rev()
        .find(|d| d.join("initdb").exists())
    {
        Some(dir) => dir,
        None => panic!(
            "the outage test needs PostgreSQL's server binaries (initdb, pg_ctl): \
             install the `postgresql` package"
        ),
    }
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Asserts `result` is a `Backend` error that came within `limit`.
fn assert_backend_within<T: std::fmt::Debug>(
    what: &str,
    result: Result<T, Error>,
    started: Instant,
    limit: Duration,
) {
    let took = started.elapsed();
    match result {
        Err(Error::Backend(e)) => {
            assert!(
                e.downcast_ref::<SqlError>().is_some(),
                "{what}: the detail is a SqlError"
            );
        }
        other => panic!("{what} during the outage: expected Backend, got {other:?}"),
    }
    assert!(took < limit, "{what} took {took:?}, over {limit:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_fails_fast_during_an_outage_and_recovers() {
    let server = PrivatePostgres::start();
    let acquire = Duration::from_secs(1);
    let options = ConnectOptions::new()
        .max_connections(4)
        .acquire_timeout(acquire);
    let store = SqlStore::connect_with(&server.url(), options)
        .await
        .unwrap()
        .with_operation_timeout(Duration::from_secs(3));
    store.migrate().await.unwrap();

    let now = Timestamp::from_system(SystemTime::now());
    let r = Record::new(
        SessionId::generate(),
        [("user".to_owned(), json!("ada"))].into_iter().collect(),
        now,
        now.saturating_add(Duration::from_secs(600)),
    );
    let cookie = store.create(&r).await.unwrap();
    assert_eq!(store.load(&cookie).await.unwrap().as_ref(), Some(&r));

    server.stop();
    // Generous slack over the acquire timeout for a loaded 2-core machine; a hang
    // would blow well past it.
    let limit = acquire + Duration::from_secs(3);
    let t = Instant::now();
    assert_backend_within("load", store.load(&cookie).await, t, limit);
    let t = Instant::now();
    let other = Record::new(
        SessionId::generate(),
        Default::default(),
        r.created_at,
        r.expires_at,
    );
    assert_backend_within("create", store.create(&other).await, t, limit);
    let mut next = r.clone();
    next.version += 1;
    let t = Instant::now();
    assert_backend_within("save", store.save(&next, r.version).await, t, limit);
    let t = Instant::now();
    assert_backend_within("touch", store.touch(&r).await, t, limit);
    let t = Instant::now();
    assert_backend_within("count", store.count().await, t, limit);

    server.pg_ctl_start();
    // The same store, not rebuilt: the pool replaces its dead connections.
    assert_eq!(store.load(&cookie).await.unwrap().as_ref(), Some(&r));
    store.save(&next, r.version).await.unwrap();
    assert_eq!(store.load(&cookie).await.unwrap(), Some(next));
    assert_eq!(store.count().await.unwrap(), 1);
}
