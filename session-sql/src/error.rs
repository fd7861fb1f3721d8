//! How sqlx's errors become the workspace's typed [`session_core::Error`].

use std::fmt;
use std::time::Duration;

use session_core::Error;

/// The detail behind an [`Error::Backend`] from this crate: which operation failed
/// and why. Reach it with `std::error::Error::source` on the `Backend` error, or by
/// downcasting its box.
#[derive(Debug)]
pub struct SqlError {
    operation: &'static str,
    cause: Cause,
}

#[derive(Debug)]
enum Cause {
    Sqlx(sqlx::Error),
    TimedOut(Duration),
}

impl SqlError {
    /// The store operation that failed (`load`, `save`, `migrate`…).
    pub fn operation(&self) -> &'static str {
        self.operation
    }

    /// The underlying sqlx error, unless the operation hit the store's own timeout.
    pub fn sqlx_error(&self) -> Option<&sqlx::Error> {
        match &self.cause {
            Cause::Sqlx(e) => Some(e),
            Cause::TimedOut(_) => None,
        }
    }

    /// Whether the operation ran out of time: the store's operation timeout, or the
    /// pool's acquire timeout (no connection could be had, e.g. the server is down).
    pub fn is_timeout(&self) -> bool {
        matches!(
            self.cause,
            Cause::TimedOut(_) | Cause::Sqlx(sqlx::Error::PoolTimedOut)
        )
    }

    /// Whether the table is missing, the usual sign that `migrate` never ran.
    fn is_missing_table(&self) -> bool {
        let Some(db) = self.sqlx_error().and_then(sqlx::Error::as_database_error) else {
            return false;
        };
        // PostgreSQL 42P01 undefined_table, MySQL 42S02 (1146); SQLite has only a
        // generic code, so its message is the signal.
        matches!(db.code().as_deref(), Some("42P01" | "42S02"))
            || db.message().starts_with("no such table")
    }
}

impl fmt::Display for SqlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.cause {
            Cause::Sqlx(e) => write!(f, "{}: {e}", self.operation)?,
            Cause::TimedOut(d) => write!(f, "{}: timed out after {d:?}", self.operation)?,
        }
        if self.is_missing_table() {
            f.write_str(" (the session table is missing: run SqlStore::migrate)")?;
        }
        Ok(())
    }
}

impl std::error::Error for SqlError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.cause {
            Cause::Sqlx(e) => Some(e),
            Cause::TimedOut(_) => None,
        }
    }
}

/// Maps a sqlx error from `operation`. Bytes that do not decode as the column type are
/// `Corrupt` (someone wrote the table by hand, or the schema is not ours); bad
/// connection settings are `Config`; everything else (I/O, the server, the pool) is
/// `Backend`.
pub(crate) fn from_sqlx(operation: &'static str, err: sqlx::Error) -> Error {
    match err {
        sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => {
            Error::Corrupt(format!("{operation}: {err}"))
        }
        sqlx::Error::Configuration(_) => Error::Config(format!("{operation}: {err}")),
        err => Error::backend(SqlError {
            operation,
            cause: Cause::Sqlx(err),
        }),
    }
}

/// `operation` did not finish within the store's operation timeout.
pub(crate) fn timed_out(operation: &'static str, after: Duration) -> Error {
    Error::backend(SqlError {
        operation,
        cause: Cause::TimedOut(after),
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
        .downcast_ref::<SqlError>()
        .and_then(SqlError::sqlx_error)
        .and_then(sqlx::Error::as_database_error)
        .is_some_and(|db| matches!(db.code().as_deref(), Some("40001" | "40P01")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_by_kind() {
        assert!(matches!(
            from_sqlx("load", sqlx::Error::PoolTimedOut),
            Error::Backend(_)
        ));
        assert!(matches!(
            from_sqlx("load", sqlx::Error::Decode("bad".into())),
            Error::Corrupt(_)
        ));
        assert!(matches!(
            from_sqlx("connect", sqlx::Error::Configuration("bad url".into())),
            Error::Config(_)
        ));
        let Error::Backend(boxed) = timed_out("save", Duration::from_secs(2)) else {
            panic!("timeout is a backend error");
        };
        let detail = boxed.downcast_ref::<SqlError>().unwrap();
        assert!(detail.is_timeout());
        assert_eq!(detail.operation(), "save");
        assert_eq!(detail.to_string(), "save: timed out after 2s");
    }
}
