//! The session table's schema per database, and creating it safely from many app
//! instances at once.

use session_core::{Operation, Result};

use crate::error::{from_sqlx, is_duplicate_column};
use crate::exec::{Arg, Exec};
use crate::pool::with_pool;
use crate::{Backend, SqlPool, TableName};

/// The user-index column as each database declares it: the same type as `session_id`,
/// nullable (`NULL`: the session is bound to no user).
fn user_key_column(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "user_key TEXT",
        Backend::Postgres => "user_key VARCHAR(64)",
        Backend::MySql => "user_key CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL",
    }
}

/// The statements that create the table and its indexes if they are missing.
///
/// The layout is web.py's DBStore table (`session_id`, `atime`, `data`) plus
/// `expires_at`, `version` and `user_key`:
///
/// | column | holds | SQLite | PostgreSQL | MySQL/MariaDB |
/// |---|---|---|---|---|
/// | `session_id` | SHA-256 storage key, 64 hex digits (never the raw id) | `TEXT` | `VARCHAR(64)` | `CHAR(64)` ASCII, binary collation |
/// | `atime` | last write or touch, ms since the epoch | `INTEGER` | `BIGINT` | `BIGINT` |
/// | `expires_at` | deadline, ms since the epoch (indexed) | `INTEGER` | `BIGINT` | `BIGINT` |
/// | `version` | compare-and-set version | `INTEGER` | `BIGINT` | `BIGINT` |
/// | `data` | the session-core envelope | `BLOB` | `BYTEA` | `LONGBLOB` |
/// | `user_key` | [`UserKey`](session_core::UserKey) hex of the bound user, or `NULL` (indexed with `session_id`) | `TEXT` | `VARCHAR(64)` | `CHAR(64)` ASCII, binary collation |
///
/// On SQLite and PostgreSQL the user index is created by [`user_index`], after the
/// column has been added to a table made by an older release.
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
                     data BLOB NOT NULL, \
                     user_key TEXT)"
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
                 data BYTEA NOT NULL, \
                 user_key VARCHAR(64))"
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
             {user_key}, \
             INDEX {index} (expires_at), \
             INDEX {user_index} (user_key, session_id)) ENGINE = InnoDB",
            user_key = user_key_column(backend),
            user_index = backend.quote(&table.user_index()),
        )],
    }
}

/// `CREATE INDEX IF NOT EXISTS` of the `(user_key, session_id)` index, for SQLite and
/// PostgreSQL (MySQL's is inline in its `CREATE TABLE` and its upgrade `ALTER`).
fn user_index(backend: Backend, table: &TableName) -> String {
    let index = backend.quote(&table.user_index());
    match backend {
        Backend::Sqlite => {
            let (index, on) = match table.schema() {
                Some(schema) => (format!("{}.{index}", backend.quote(schema)), table.table()),
                None => (index, table.table()),
            };
            format!(
                "CREATE INDEX IF NOT EXISTS {index} ON {} (user_key, session_id)",
                backend.quote(on)
            )
        }
        Backend::Postgres | Backend::MySql => format!(
            "CREATE INDEX IF NOT EXISTS {index} ON {} (user_key, session_id)",
            backend.qualified(table)
        ),
    }
}

/// The statement that adds `user_key` to a table an older release made.
fn add_user_key(backend: Backend, table: &TableName) -> String {
    let t = backend.qualified(table);
    let column = user_key_column(backend);
    match backend {
        // MySQL adds the index in the same (atomic) ALTER.
        Backend::MySql => format!(
            "ALTER TABLE {t} ADD COLUMN {column}, ADD INDEX {} (user_key, session_id)",
            backend.quote(&table.user_index())
        ),
        Backend::Sqlite | Backend::Postgres => format!("ALTER TABLE {t} ADD COLUMN {column}"),
    }
}

/// The query answering how many `user_key` columns the table has (0 or 1), with its
/// parameters, on SQLite and MySQL.
fn has_user_key(backend: Backend, table: &TableName) -> (String, Vec<&str>) {
    match (backend, table.schema()) {
        (Backend::Sqlite, None) => (
            "SELECT COUNT(*) FROM pragma_table_info(?1) WHERE name = 'user_key'".to_owned(),
            vec![table.table()],
        ),
        (Backend::Sqlite, Some(schema)) => (
            "SELECT COUNT(*) FROM pragma_table_info(?1, ?2) WHERE name = 'user_key'".to_owned(),
            vec![table.table(), schema],
        ),
        (_, schema) => {
            let (db, args) = match schema {
                Some(schema) => ("?", vec![schema, table.table()]),
                None => ("DATABASE()", vec![table.table()]),
            };
            let sql = format!(
                "SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = {db} \
                 AND table_name = ? AND column_name = 'user_key'"
            );
            (sql, args)
        }
    }
}

/// First key of the PostgreSQL advisory lock that serializes migrations; the second
/// is a hash of the table name, so migrations of different tables do not wait on
/// each other.
const PG_LOCK_CLASS: i32 = 0x5E55_0001;

/// Creates the table and indexes if missing, and adds `user_key` (with its index) to a
/// table an older release made. Idempotent and safe to run from several instances at
/// once.
pub(crate) async fn run(pool: &SqlPool, table: &TableName) -> Result<()> {
    let backend = pool.backend();
    let mut ddl = statements(backend, table);
    if backend == Backend::Postgres {
        // Under the advisory lock below. The catalog is checked first so that an
        // upgraded table is not locked ACCESS EXCLUSIVE by every instance that starts.
        let t = backend.qualified(table);
        ddl.push(format!(
            "DO $upgrade$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_attribute \
             WHERE attrelid = to_regclass('{t}') AND attname = 'user_key' \
             AND NOT attisdropped) THEN {}; END IF; END $upgrade$",
            add_user_key(backend, table)
        ));
        ddl.push(user_index(backend, table));
    }
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
        .map_err(|e| from_sqlx(Operation::Migrate, e))?;
    match backend {
        Backend::Postgres => Ok(()),
        Backend::Sqlite | Backend::MySql => upgrade(pool, table).await,
    }
}

/// SQLite and MySQL: adds `user_key` if the table lacks it, then (SQLite) its index.
///
/// Two instances may both see the column missing; their `ALTER`s take turns (SQLite's
/// write lock, MySQL's metadata lock) and the later one fails with "duplicate column",
/// which means the work is done. On MySQL the index comes with the column in one
/// atomic `ALTER`; on SQLite `CREATE INDEX IF NOT EXISTS` runs under the write lock.
async fn upgrade(pool: &SqlPool, table: &TableName) -> Result<()> {
    let backend = pool.backend();
    let migrate_error = |e| from_sqlx(Operation::Migrate, e);
    let (probe, params) = has_user_key(backend, table);
    let args: Vec<Arg<'_>> = params.into_iter().map(Arg::Text).collect();
    let present = with_pool!(pool, p => Exec(p).fetch_int(&probe, &args).await)
        .map_err(migrate_error)?
        .unwrap_or(0);
    if present == 0 {
        let alter = add_user_key(backend, table);
        match with_pool!(pool, p => Exec(p).execute(&alter, &[]).await) {
            Ok(_) => tracing::info!(%table, "added the user_key column to the session table"),
            Err(e) if is_duplicate_column(&e) => {}
            Err(e) => return Err(migrate_error(e)),
        }
    }
    if backend == Backend::Sqlite {
        let index = user_index(backend, table);
        with_pool!(pool, p => Exec(p).execute(&index, &[]).await).map_err(migrate_error)?;
    }
    Ok(())
}
