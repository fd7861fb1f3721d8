//! Opening a pool from a URL, with the settings a session table wants.

use std::time::Duration;

use session_core::{Error, Result};

use crate::SqlPool;

/// SQLite's `synchronous` setting: how often it waits for the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Synchronous {
    /// Never waits for the disk: an OS crash or power loss can corrupt the database.
    Off,
    /// The default here. With WAL, commits wait for the disk only at checkpoints: a
    /// power loss can lose the last few sessions written, never corrupt the file. The
    /// usual trade for a session table, where a lost write is a lost login at worst.
    #[default]
    Normal,
    /// Waits for the disk on every commit.
    Full,
    /// Like `Full`, and also syncs the directory after deleting the journal.
    Extra,
}

/// How [`SqlStore::connect_with`](crate::SqlStore::connect_with) opens its pool.
///
/// The SQLite defaults (applied by `connect`, not to pools an app hands in):
/// - journal mode **WAL**, so readers never block the writer and the writer never
///   blocks readers;
/// - **busy timeout** 5 s, so a writer waits for another one instead of failing with
///   `SQLITE_BUSY`;
/// - **`synchronous = NORMAL`** (see [`Synchronous::Normal`]);
/// - the database file is created if missing, and on Unix it is created **0600**
///   (owner only, whatever the umask), like the file and shelf stores' files: it holds
///   every session. SQLite gives the WAL, shared-memory and journal files it creates
///   later the mode of the database file, so they are 0600 too. An existing database
///   keeps its mode; if other users can read or write it (or one of those side files),
///   `connect` logs a warning naming the file and does not change it, since the
///   operator may share it on purpose (a backup group).
///
/// An in-memory SQLite database (`sqlite::memory:`) lives in exactly one connection
/// that the pool keeps open for its whole life, since it vanishes with its last
/// connection.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    max_connections: u32,
    acquire_timeout: Duration,
    sqlite_busy_timeout: Duration,
    sqlite_synchronous: Synchronous,
    sqlite_wal: bool,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            max_connections: 10,
            acquire_timeout: Duration::from_secs(5),
            sqlite_busy_timeout: Duration::from_secs(5),
            sqlite_synchronous: Synchronous::Normal,
            sqlite_wal: true,
        }
    }
}

impl ConnectOptions {
    /// The defaults described on the type.
    pub fn new() -> Self {
        Self::default()
    }

    /// Most connections the pool opens (default 10; in-memory SQLite always uses 1).
    pub fn max_connections(mut self, n: u32) -> Self {
        self.max_connections = n.max(1);
        self
    }

    /// How long an operation waits for a connection before failing with
    /// `Error::Backend` (default 5 s). While the server is down, this is how long
    /// each operation takes to fail: sqlx keeps retrying the connection until then.
    pub fn acquire_timeout(mut self, timeout: Duration) -> Self {
        self.acquire_timeout = timeout;
        self
    }

    /// How long an SQLite writer waits for the write lock (default 5 s).
    pub fn sqlite_busy_timeout(mut self, timeout: Duration) -> Self {
        self.sqlite_busy_timeout = timeout;
        self
    }

    /// SQLite's `synchronous` setting (default [`Synchronous::Normal`]).
    pub fn sqlite_synchronous(mut self, synchronous: Synchronous) -> Self {
        self.sqlite_synchronous = synchronous;
        self
    }

    /// Whether to switch an SQLite database file to WAL mode (default `true`). WAL is
    /// a property of the file and stays on once set.
    pub fn sqlite_wal(mut self, wal: bool) -> Self {
        self.sqlite_wal = wal;
        self
    }
}

/// Opens a pool for `url` (`sqlite:`, `postgres://`, `postgresql://`, `mysql://`,
/// `mariadb://`) and checks that it connects.
pub(crate) async fn connect(url: &str, options: &ConnectOptions) -> Result<SqlPool> {
    let scheme = url.split(':').next().unwrap_or_default();
    match scheme {
        "sqlite" => sqlite(url, options).await,
        "postgres" | "postgresql" => postgres(url, options).await,
        "mysql" | "mariadb" => mysql(url, options).await,
        _ => Err(Error::Config(format!(
            "unsupported database URL scheme {scheme:?}: use sqlite:, postgres:// or mysql://"
        ))),
    }
}

#[cfg(not(feature = "sqlite"))]
async fn sqlite(_: &str, _: &ConnectOptions) -> Result<SqlPool> {
    Err(missing_feature("sqlite"))
}

#[cfg(not(feature = "postgres"))]
async fn postgres(_: &str, _: &ConnectOptions) -> Result<SqlPool> {
    Err(missing_feature("postgres"))
}

#[cfg(not(feature = "mysql"))]
async fn mysql(_: &str, _: &ConnectOptions) -> Result<SqlPool> {
    Err(missing_feature("mysql"))
}

#[cfg(not(all(feature = "sqlite", feature = "postgres", feature = "mysql")))]
fn missing_feature(name: &str) -> Error {
    Error::Config(format!(
        "session-sql was built without its `{name}` feature"
    ))
}

#[cfg(feature = "sqlite")]
async fn sqlite(url: &str, options: &ConnectOptions) -> Result<SqlPool> {
    use std::str::FromStr;

    use sqlx::sqlite::{
        SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
    };
    use sqlx::{ConnectOptions as _, Connection as _};

    use crate::error::from_sqlx;

    let query = url.split_once('?').map(|(_, q)| q).unwrap_or_default();
    let in_memory = url.contains(":memory:") || query.split('&').any(|kv| kv == "mode=memory");
    let mut connect = SqliteConnectOptions::from_str(url)
        .map_err(|e| from_sqlx(session_core::Operation::Connect, e))?
        .busy_timeout(options.sqlite_busy_timeout)
        .synchronous(match options.sqlite_synchronous {
            Synchronous::Off => SqliteSynchronous::Off,
            Synchronous::Normal => SqliteSynchronous::Normal,
            Synchronous::Full => SqliteSynchronous::Full,
            Synchronous::Extra => SqliteSynchronous::Extra,
        });
    let mode = query.split('&').find_map(|kv| kv.strip_prefix("mode="));
    if mode.is_none() {
        connect = connect.create_if_missing(true);
    }
    if !in_memory {
        prepare_file(connect.get_filename(), matches!(mode, None | Some("rwc")))?;
    }
    let pool = if in_memory {
        SqlitePoolOptions::new()
            .min_connections(1)
            .max_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .acquire_timeout(options.acquire_timeout)
            .connect_with(connect)
            .await
    } else {
        if options.sqlite_wal {
            // Entering WAL needs an exclusive lock that the busy timeout does not wait
            // for, so one connection switches the file first; the mode then persists
            // and the pool's connections find it already set.
            let first = connect
                .clone()
                .journal_mode(SqliteJournalMode::Wal)
                .connect()
                .await
                .map_err(|e| from_sqlx(session_core::Operation::Connect, e))?;
            first
                .close()
                .await
                .map_err(|e| from_sqlx(session_core::Operation::Connect, e))?;
        }
        SqlitePoolOptions::new()
            .max_connections(options.max_connections)
            .acquire_timeout(options.acquire_timeout)
            .connect_with(connect)
            .await
    };
    pool.map(SqlPool::Sqlite)
        .map_err(|e| from_sqlx(session_core::Operation::Connect, e))
}

#[cfg(feature = "postgres")]
async fn postgres(url: &str, options: &ConnectOptions) -> Result<SqlPool> {
    use sqlx::postgres::PgPoolOptions;

    PgPoolOptions::new()
        .max_connections(options.max_connections)
        .acquire_timeout(options.acquire_timeout)
        .connect(url)
        .await
        .map(SqlPool::Postgres)
        .map_err(|e| crate::error::from_sqlx(session_core::Operation::Connect, e))
}

#[cfg(feature = "mysql")]
async fn mysql(url: &str, options: &ConnectOptions) -> Result<SqlPool> {
    use sqlx::mysql::MySqlPoolOptions;

    // sqlx knows MariaDB only under the `mysql` scheme.
    let url = match url.strip_prefix("mariadb:") {
        Some(rest) => format!("mysql:{rest}"),
        None => url.to_owned(),
    };
    MySqlPoolOptions::new()
        .max_connections(options.max_connections)
        .acquire_timeout(options.acquire_timeout)
        .connect(&url)
        .await
        .map(SqlPool::MySql)
        .map_err(|e| crate::error::from_sqlx(session_core::Operation::Connect, e))
}

/// SQLite creates a missing database file 0644 (its `SQLITE_DEFAULT_FILE_PERMISSIONS`,
/// whatever the umask), readable by every local user. So a database `connect` may create
/// is created here first, empty and 0600, and SQLite then treats the empty file as a new
/// database; its unix VFS gives the `-wal`, `-shm` and `-journal` files the database
/// file's mode. A database that already exists is not touched, only checked.
#[cfg(all(feature = "sqlite", unix))]
fn prepare_file(path: &std::path::Path, create: bool) -> Result<()> {
    use std::fs::{OpenOptions, Permissions};
    use std::io::ErrorKind;
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};

    use session_core::{BackendError, BackendErrorKind};

    // An empty name is SQLite's private temporary database: no file to create.
    if !create || path.as_os_str().is_empty() {
        warn_if_shared(path);
        return Ok(());
    }
    let created = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        // The umask can only clear bits of 0600, but clearing the owner's would leave a
        // file SQLite cannot open: set the mode exactly.
        .and_then(|file| file.set_permissions(Permissions::from_mode(0o600)));
    match created {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == ErrorKind::AlreadyExists => {
            warn_if_shared(path);
            Ok(())
        }
        Err(e) => Err(BackendError::new(BackendErrorKind::Io, e)
            .with_store(crate::error::STORE)
            .with_operation(session_core::Operation::Connect)
            .with_context(format!("create SQLite database {}", path.display()))
            .into()),
    }
}

#[cfg(all(feature = "sqlite", not(unix)))]
fn prepare_file(_: &std::path::Path, _: bool) -> Result<()> {
    Ok(())
}

/// Warns about each of the database's files that other users can read or write.
#[cfg(all(feature = "sqlite", unix))]
fn warn_if_shared(path: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;

    let mut files = vec![path.to_path_buf()];
    for suffix in ["-wal", "-shm", "-journal"] {
        let mut side = path.as_os_str().to_owned();
        side.push(suffix);
        files.push(side.into());
    }
    for file in files {
        // A file that is missing or cannot be read is SQLite's to report, not ours.
        let Ok(meta) = std::fs::metadata(&file) else {
            continue;
        };
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            tracing::warn!(
                file = %file.display(),
                mode = format!("{mode:o}"),
                "SQLite session database file is accessible to other users and is left \
                 as it is; 0600 is recommended (chmod 600)",
            );
        }
    }
}
