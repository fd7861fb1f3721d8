//! How sqlx's errors become the workspace's typed [`session_core::Error`]: the one
//! place that decides which failures are an outage (a timeout, an unreachable or
//! restarting server) and which are not (a missing table, a refused statement).

use session_core::{BackendError, BackendErrorKind, Error, Operation};

/// The store name every [`BackendError`] from this crate carries.
pub(crate) const STORE: &str = "sql";

/// Maps a sqlx error from `operation`. Bytes that do not decode as the column type are
/// `Corrupt` (someone wrote the table by hand, or the schema is not ours); bad
/// connection settings are `Config`; everything else (I/O, the server, the pool) is
/// `Backend`, of the kind [`kind_of`] gives, with the sqlx error as its source.
pub(crate) fn from_sqlx(operation: Operation, err: sqlx::Error) -> Error {
    match err {
        sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => {
            Error::Corrupt(format!("{operation}: {err}"))
        }
        sqlx::Error::Configuration(_) => Error::Config(format!("{operation}: {err}")),
        err => {
            let missing_table = is_missing_table(&err);
            let missing_user_key = is_missing_user_key(&err);
            let mut backend = BackendError::new(kind_of(&err), err)
                .with_store(STORE)
                .with_operation(operation);
            if missing_table {
                // session-admin looks for this phrase to point at `migrate`.
                backend =
                    backend.with_context("the session table is missing (run SqlStore::migrate)");
            }
            if missing_user_key {
                backend = backend.with_context(
                    "the session table has no user_key column: it was made by an older \
                     release (run SqlStore::migrate to upgrade it)",
                );
            }
            backend.into()
        }
    }
}

/// What kind of failure a sqlx error is.
fn kind_of(err: &sqlx::Error) -> BackendErrorKind {
    use sqlx::Error as E;
    match err {
        // No connection could be had within the acquire timeout (the server is down,
        // or every connection is busy).
        E::PoolTimedOut => BackendErrorKind::Timeout,
        E::PoolClosed => BackendErrorKind::Unavailable,
        E::Io(io) => BackendErrorKind::of_network_io(io),
        E::Database(db) => database_kind(db.code().as_deref()),
        E::Protocol(_)
        | E::RowNotFound
        | E::TypeNotFound { .. }
        | E::ColumnIndexOutOfBounds { .. }
        | E::ColumnNotFound(_) => BackendErrorKind::Protocol,
        _ => BackendErrorKind::Other,
    }
}

/// What kind of failure an error the database answered is, by its code: a
/// five-character SQLSTATE from PostgreSQL and MySQL, SQLite's numeric result code
/// otherwise.
fn database_kind(code: Option<&str>) -> BackendErrorKind {
    match code {
        Some(state) if state.len() == 5 => match state {
            // Class 08, connection exception: MySQL's "server shutdown in progress"
            // (08S01) and "too many connections" (08004) among them.
            s if s.starts_with("08") => BackendErrorKind::Unavailable,
            // PostgreSQL shutting down (57P01, 57P02), starting up (57P03), or out
            // of connection slots (53300).
            "57P01" | "57P02" | "57P03" | "53300" => BackendErrorKind::Unavailable,
            // query_canceled: the server's statement_timeout.
            "57014" => BackendErrorKind::Timeout,
            _ => BackendErrorKind::Server,
        },
        // SQLite: the low byte of an extended result code is the primary code.
        Some(code) => match code.parse::<u32>().map(|n| n & 0xff) {
            // BUSY, LOCKED: another writer held the database past the busy timeout.
            Ok(5 | 6) => BackendErrorKind::Timeout,
            // PERM, READONLY, IOERR, FULL, CANTOPEN: the database file itself.
            Ok(3 | 8 | 10 | 13 | 14) => BackendErrorKind::Io,
            _ => BackendErrorKind::Server,
        },
        None => BackendErrorKind::Server,
    }
}

/// Whether the table is missing, the usual sign that `migrate` never ran.
fn is_missing_table(err: &sqlx::Error) -> bool {
    let Some(db) = err.as_database_error() else {
        return false;
    };
    // PostgreSQL 42P01 undefined_table, MySQL 42S02 (1146); SQLite has only a
    // generic code, so its message is the signal.
    matches!(db.code().as_deref(), Some("42P01" | "42S02"))
        || db.message().starts_with("no such table")
}

/// Whether the statement names a column the table lacks: `user_key` on a table made
/// by an older release that `migrate` has not upgraded.
fn is_missing_user_key(err: &sqlx::Error) -> bool {
    let Some(db) = err.as_database_error() else {
        return false;
    };
    // PostgreSQL 42703 undefined_column, MySQL 42S22 (1054); SQLite says "no such
    // column" or "table … has no column named".
    let missing = matches!(db.code().as_deref(), Some("42703" | "42S22"))
        || db.message().contains("no such column")
        || db.message().contains("has no column named");
    missing && db.message().contains("user_key")
}

/// Whether `err` is an `ALTER TABLE … ADD COLUMN` finding the column already there
/// (another instance added it first). MySQL 42S21 (1060); SQLite by its message.
pub(crate) fn is_duplicate_column(err: &sqlx::Error) -> bool {
    err.as_database_error().is_some_and(|db| {
        db.code().as_deref() == Some("42S21") || db.message().starts_with("duplicate column name")
    })
}

/// Whether `err` is the database refusing a duplicate primary key.
pub(crate) fn is_unique_violation(err: &sqlx::Error) -> bool {
    err.as_database_error()
        .is_some_and(|db| db.is_unique_violation())
}

/// Whether `err` is the database aborting a statement as a deadlock victim or a
/// serialization failure (SQLSTATE 40001, PostgreSQL's 40P01). The statement was
/// rolled back whole: nothing was written.
pub(crate) fn is_write_contention(err: &Error) -> bool {
    let Error::Backend(inner) = err else {
        return false;
    };
    inner
        .source_as::<sqlx::Error>()
        .and_then(sqlx::Error::as_database_error)
        .is_some_and(|db| matches!(db.code().as_deref(), Some("40001" | "40P01")))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn backend(err: Error) -> BackendError {
        match err {
            Error::Backend(b) => b,
            other => panic!("expected Backend, got {other:?}"),
        }
    }

    #[test]
    fn maps_by_kind() {
        let pool = backend(from_sqlx(Operation::Load, sqlx::Error::PoolTimedOut));
        assert!(pool.is_timeout() && pool.is_temporary());
        assert_eq!(pool.store(), Some("sql"));
        assert_eq!(pool.operation(), Some(Operation::Load));
        assert!(pool.source_as::<sqlx::Error>().is_some());
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        let io = backend(from_sqlx(Operation::Connect, sqlx::Error::Io(refused)));
        assert_eq!(io.kind(), BackendErrorKind::Unavailable);
        let protocol = backend(from_sqlx(Operation::Scan, sqlx::Error::RowNotFound));
        assert_eq!(protocol.kind(), BackendErrorKind::Protocol);
        assert!(!protocol.is_temporary());
        assert!(matches!(
            from_sqlx(Operation::Load, sqlx::Error::Decode("bad".into())),
            Error::Corrupt(_)
        ));
        assert!(matches!(
            from_sqlx(
                Operation::Connect,
                sqlx::Error::Configuration("bad url".into())
            ),
            Error::Config(_)
        ));
    }

    #[test]
    fn database_codes_tell_an_outage_from_a_fault() {
        use BackendErrorKind::*;
        for (code, kind) in [
            (Some("08006"), Unavailable),
            (Some("08S01"), Unavailable),
            (Some("57P01"), Unavailable),
            (Some("57P03"), Unavailable),
            (Some("53300"), Unavailable),
            (Some("57014"), Timeout),
            (Some("42P01"), Server),
            (Some("42S02"), Server),
            (Some("23505"), Server),
            (Some("5"), Timeout),
            (Some("517"), Timeout),
            (Some("8"), Io),
            (Some("1"), Server),
            (None, Server),
        ] {
            assert_eq!(database_kind(code), kind, "{code:?}");
        }
    }

    #[tokio::test]
    async fn a_late_statement_is_a_temporary_timeout() {
        let slow = async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            Ok(())
        };
        let err = backend(
            session_core::with_timeout(STORE, Operation::Save, Duration::from_millis(10), slow)
                .await
                .unwrap_err(),
        );
        assert!(err.is_timeout() && err.is_temporary());
        assert_eq!(err.operation(), Some(Operation::Save));
        assert_eq!(
            err.to_string(),
            "sql save: timed out: no answer within 10ms"
        );
    }
}
