//! The session table's schema per database, and creating it safely from many app
//! instances at once.

use session_core::Result;

use crate::error::from_sqlx;
use crate::pool::with_pool;
use crate::{Backend, SqlPool, TableName};

/// The statements that create the table and its `expires_at` index if they are missing.
///
/// The layout is web.py's DBStore table (`session_id`, `atime`, `data`) plus
/// `expires_at` and `version`:
///
/// | column | holds | SQLite | PostgreSQL | MySQL/MariaDB |
/// |---|---|---|---|---|
/// | `session_id` | SHA-256 storage key, 64 hex digits (never the raw id) | `TEXT` | `VARCHAR(64)` | `CHAR(64)` ASCII, binary collation |
/// | `atime` | last write or touch, ms since the epoch | `INTEGER` | `BIGINT` | `BIGINT` |
/// | `expires_at` | deadline, ms since the epoch (indexed) | `INTEGER` | `BIGINT` | `BIGINT` |
/// | `version` | compare-and-set version | `INTEGER` | `BIGINT` | `BIGINT` |
/// | `data` | the session-core envelope | `BLOB` | `BYTEA` | `LONGBLOB` |
pub(crate) fn statements(backend: Backend, table: &TableName) -> Vec<String> {
    let t = backend.qualified(table);
    let index = backend.quote(&table.index());
    match backend {
        Backend::Sqlite => {
            // An SQLite index lives in its table's schema and is qualified by it.
            let index = match table.schema() {
                Some(schema) => format!("{}.{index}", backend.quote(schema)),
                None => index,
            };
            let table_only = backend.quote(table.table());
            vec![
                format!(
                    "CREATE TABLE IF NOT EXISTS {t} (\
                     session_id TEXT NOT NULL PRIMARY KEY, \
                     atime INTEGER NOT NULL, \
                     expires_at INTEGER NOT NULL, \
                     version INTEGER NOT NULL, \
                     data BLOB NOT NULL)"
                ),
                format!("CREATE INDEX IF NOT EXISTS {index} ON {table_only} (expires_at)"),
            ]
        }
        Backend::Postgres => vec![
            format!(
                "CREATE TABLE IF NOT EXISTS {t} (\
                 session_id VARCHAR(64) NOT NULL PRIMARY KEY, \
                 atime BIGINT NOT NULL, \
                 expires_at BIGINT NOT NULL, \
                 version BIGINT NOT NULL, \
                 data BYTEA NOT NULL)"
            ),
            format!("CREATE INDEX IF NOT EXISTS {index} ON {t} (expires_at)"),
        ],
        // One statement with the index inline: MySQL has no CREATE INDEX IF NOT EXISTS
        // (MariaDB does), and a single DDL statement is atomic under MySQL's metadata
        // lock, so concurrent runs need nothing more. LONGBLOB because BLOB stops at
        // 64 KiB; the server's max_allowed_packet still caps one session.
        Backend::MySql => vec![format!(
            "CREATE TABLE IF NOT EXISTS {t} (\
             session_id CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY, \
             atime BIGINT NOT NULL, \
             expires_at BIGINT NOT NULL, \
             version BIGINT NOT NULL, \
             data LONGBLOB NOT NULL, \
             INDEX {index} (expires_at)) ENGINE = InnoDB"
        )],
    }
}

/// First key of the PostgreSQL advisory lock that serializes migrations; the second
/// is a hash of the table name, so migrations of different tables do not wait on
/// each other.
const PG_LOCK_CLASS: i32 = 0x5E55_0001;

/// Creates the table and index if missing. Idempotent and safe to run from several
/// instances at once.
pub(crate) async fn run(pool: &SqlPool, table: &TableName) -> Result<()> {
    let backend = pool.backend();
    let ddl = statements(backend, table);
    let script = match backend {
        // PostgreSQL's CREATE ... IF NOT EXISTS is not safe under concurrency: two
        // sessions can both see "missing" and one then fails on the catalog's unique
        // index. So the DDL runs behind a transaction-scoped advisory lock, all in one
        // simple-protocol message, which PostgreSQL runs as one implicit transaction:
        // instances take turns, a failure rolls everything back, and the connection
        // goes back to the pool clean. The name is inlined as a literal, which is safe
        // because a TableName holds only `[a-z0-9_.]`.
        Backend::Postgres => {
            let lock =
                format!("SELECT pg_advisory_xact_lock({PG_LOCK_CLASS}, hashtext('{table}'))");
            std::iter::once(lock)
                .chain(ddl)
                .collect::<Vec<_>>()
                .join("; ")
        }
        // SQLite serializes writers (waiting up to the busy timeout) and MySQL's one
        // DDL statement is atomic under its metadata lock: concurrent runs simply take
        // turns, and IF NOT EXISTS makes the later ones no-ops. No explicit transaction
        // on SQLite: a deferred one that upgrades to a write can fail with SQLITE_BUSY
        // at once, without waiting.
        Backend::Sqlite | Backend::MySql => ddl.join("; "),
    };
    with_pool!(pool, p => sqlx::raw_sql(&script).execute(p).await.map(drop))
        .map_err(|e| from_sqlx(session_core::Operation::Migrate, e))
}
