//! SQLite files hold every session, so `SqlStore::connect` creates them private (0600,
//! like the file and shelf stores): the database, its WAL and shared-memory files and
//! a rollback journal, whatever the process umask. An existing database keeps the mode
//! it has.

#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

use std::fmt;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use session_core::{Record, SessionId, SessionStore, Timestamp};
use session_sql::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};
use session_sql::sqlx::{ConnectOptions as _, Connection as _};
use session_sql::{ConnectOptions, SqlStore};

/// Set in the copy of this test binary that runs under umask 000.
const CHILD_ENV: &str = "SESSION_SQL_PERMISSIONS_UMASK_CHILD";

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// A file's name and mode, shown in octal when an assertion fails.
struct File(String, u32);

impl fmt::Debug for File {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {:o}", self.0, self.1)
    }
}

/// Every file in `dir` whose name starts with `sessions.db`, with its mode.
fn database_files(dir: &Path) -> Vec<File> {
    let mut files: Vec<File> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_name().to_string_lossy().starts_with("sessions.db"))
        .map(|e| {
            File(
                e.file_name().to_string_lossy().into_owned(),
                mode(&e.path()),
            )
        })
        .collect();
    files.sort_by(|a, b| a.0.cmp(&b.0));
    files
}

fn url(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("sessions.db").display())
}

async fn write_a_session(store: &SqlStore) {
    let now = Timestamp::from_system(SystemTime::now());
    let deadline = now.saturating_add(Duration::from_secs(3600));
    let record = Record::new(SessionId::generate(), Default::default(), now, deadline);
    let cookie = store.create(&record).await.unwrap();
    assert_eq!(store.load(&cookie).await.unwrap(), Some(record));
}

/// Opens a new WAL database in a fresh directory, writes, and checks every file while
/// the pool is open (the WAL and shared-memory files go when the last connection
/// closes).
async fn new_wal_database_is_private() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqlStore::connect(&url(dir.path())).await.unwrap();
    store.migrate().await.unwrap();
    write_a_session(&store).await;
    let files = database_files(dir.path());
    let names: Vec<&str> = files.iter().map(|f| f.0.as_str()).collect();
    assert_eq!(
        names,
        ["sessions.db", "sessions.db-shm", "sessions.db-wal"],
        "{files:?}"
    );
    for File(name, mode) in &files {
        assert_eq!(*mode, 0o600, "{name} is {mode:o}: {files:?}");
    }
}

#[tokio::test]
async fn a_new_database_and_its_wal_files_are_0600() {
    new_wal_database_is_private().await;
}

#[tokio::test]
async fn the_umask_does_not_matter() {
    if std::env::var_os(CHILD_ENV).is_some() {
        // The copy under umask 000, where a default-mode create would give 0644 (and
        // 0666 from a plain open).
        new_wal_database_is_private().await;
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let out = Command::new("/bin/sh")
        .arg("-c")
        .arg(r#"umask 000 && exec "$0" "$@""#)
        .arg(exe)
        .args(["--exact", "the_umask_does_not_matter", "--nocapture"])
        .env(CHILD_ENV, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "under umask 000: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The child must really have run the test, not filtered it away.
    assert!(stdout.contains("1 passed"), "{stdout}");
}

#[tokio::test]
async fn a_rollback_journal_is_0600() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqlStore::connect_with(&url(dir.path()), ConnectOptions::new().sqlite_wal(false))
        .await
        .unwrap();
    store.migrate().await.unwrap();
    write_a_session(&store).await;
    // A rollback journal normally vanishes at commit; PERSIST keeps it on disk so its
    // mode can be read.
    let mut conn = SqliteConnectOptions::new()
        .filename(dir.path().join("sessions.db"))
        .journal_mode(SqliteJournalMode::Persist)
        .connect()
        .await
        .unwrap();
    session_sql::sqlx::query("CREATE TABLE scratch (x INTEGER)")
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    let files = database_files(dir.path());
    assert!(
        files.iter().any(|f| f.0 == "sessions.db-journal"),
        "{files:?}"
    );
    for File(name, mode) in &files {
        assert_eq!(*mode, 0o600, "{name} is {mode:o}: {files:?}");
    }
}

/// Collects the warnings logged while it is the thread's subscriber.
#[derive(Default, Clone)]
struct Warnings(Arc<Mutex<Vec<String>>>);

impl Warnings {
    fn taken(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

impl tracing::Subscriber for Warnings {
    fn enabled(&self, meta: &tracing::Metadata<'_>) -> bool {
        *meta.level() == tracing::Level::WARN
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        struct Fields(String);
        impl tracing::field::Visit for Fields {
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn fmt::Debug) {
                self.0.push_str(&format!("{}={value:?} ", field.name()));
            }
        }
        let mut fields = Fields(String::new());
        event.record(&mut fields);
        self.0.lock().unwrap().push(fields.0);
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

/// Connects to the database in `dir` and returns the warnings the connect logged.
async fn connect_logging(dir: &Path) -> (SqlStore, Vec<String>) {
    let warnings = Warnings::default();
    let guard = tracing::subscriber::set_default(warnings.clone());
    let store = SqlStore::connect(&url(dir)).await.unwrap();
    drop(guard);
    (store, warnings.taken())
}

#[tokio::test]
async fn an_existing_database_keeps_its_mode() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sessions.db");
    {
        // Made in rollback-journal mode, so no WAL files outlive it: SQLite deletes them
        // only when the last connection closes alone, and connections that close
        // together may each leave them (0600) for the next store to reuse.
        let options = ConnectOptions::new().sqlite_wal(false);
        let store = SqlStore::connect_with(&url(dir.path()), options)
            .await
            .unwrap();
        store.migrate().await.unwrap();
        write_a_session(&store).await;
        store.pool().close().await;
        let names: Vec<String> = database_files(dir.path())
            .into_iter()
            .map(|f| f.0)
            .collect();
        assert_eq!(names, ["sessions.db"]);
    }
    // The operator chose group access (a backup user, say): the store warns and leaves
    // the mode alone rather than tightening or loosening it behind their back.
    fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
    let (store, logged) = connect_logging(dir.path()).await;
    store.migrate().await.unwrap();
    write_a_session(&store).await;
    assert_eq!(mode(&path), 0o640);
    assert_eq!(
        logged.len(),
        1,
        "one warning, for the database file: {logged:?}"
    );
    assert!(
        logged[0].contains(&format!("file={}", path.display())),
        "{logged:?}"
    );
    assert!(logged[0].contains("mode=\"640\""), "{logged:?}");
    assert!(logged[0].contains("chmod 600"), "{logged:?}");

    // SQLite gave the WAL files the database's 0640, so they are warned about too.
    let (_, logged) = connect_logging(dir.path()).await;
    assert_eq!(logged.len(), 3, "{logged:?}");
    for side in ["sessions.db-wal", "sessions.db-shm"] {
        let side = dir.path().join(side);
        assert!(
            logged
                .iter()
                .any(|w| w.contains(&format!("file={}", side.display()))),
            "{logged:?}"
        );
    }

    // Once the operator runs `chmod 600 sessions.db*`, it opens without a word.
    for file in database_files(dir.path()) {
        let file = dir.path().join(file.0);
        fs::set_permissions(&file, fs::Permissions::from_mode(0o600)).unwrap();
    }
    let (again, logged) = connect_logging(dir.path()).await;
    write_a_session(&again).await;
    assert_eq!(logged, Vec::<String>::new());
}

#[tokio::test]
async fn a_missing_directory_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}",
        dir.path().join("missing").join("sessions.db").display()
    );
    let err = SqlStore::connect(&url).await.unwrap_err();
    assert!(matches!(err, session_core::Error::Backend(_)), "{err:?}");
    assert!(err.to_string().contains("missing"), "names the path: {err}");
    assert!(!dir.path().join("missing").exists());
}

#[tokio::test]
async fn memory_databases_touch_no_file() {
    let store = SqlStore::connect("sqlite::memory:").await.unwrap();
    store.migrate().await.unwrap();
    write_a_session(&store).await;
}
