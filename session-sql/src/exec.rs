//! Running one statement on a pool, written once for every sqlx database.

use sqlx::query::Query;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Pool, Row, Type};

/// One bound parameter. Every statement binds only these types, which map to the
/// same column types on all three databases.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Arg<'a> {
    Text(&'a str),
    /// Text or SQL `NULL` (the `user_key` of an unbound session).
    MaybeText(Option<&'a str>),
    Int(i64),
    Bytes(&'a [u8]),
}

/// A session row as stored (the `session_id` is what was looked up).
#[derive(Debug)]
pub(crate) struct StoredRow {
    pub atime: i64,
    pub expires_at: i64,
    pub version: i64,
    pub data: Vec<u8>,
}

/// One row of a scan page: storage key (hex), deadline, stored size in bytes.
pub(crate) type ScanRow = (String, i64, i64);

/// One row of a user's listing: storage key (hex), `atime`, `expires_at`, `data`.
pub(crate) type UserRow = (String, i64, i64, Vec<u8>);

/// sqlx gives each database its own query-result type with an inherent
/// `rows_affected`; this names it for generic code.
pub(crate) trait RowsAffected {
    fn affected(&self) -> u64;
}

#[cfg(feature = "sqlite")]
impl RowsAffected for sqlx::sqlite::SqliteQueryResult {
    fn affected(&self) -> u64 {
        self.rows_affected()
    }
}

#[cfg(feature = "postgres")]
impl RowsAffected for sqlx::postgres::PgQueryResult {
    fn affected(&self) -> u64 {
        self.rows_affected()
    }
}

#[cfg(feature = "mysql")]
impl RowsAffected for sqlx::mysql::MySqlQueryResult {
    // sqlx always connects to MySQL with CLIENT_FOUND_ROWS, so this counts rows the
    // WHERE matched, not only rows whose values changed: a touch that writes the same
    // deadline again still reports its row.
    fn affected(&self) -> u64 {
        self.rows_affected()
    }
}

/// A pool of any sqlx database this crate supports.
pub(crate) struct Exec<'p, DB: Database>(pub &'p Pool<DB>);

impl<DB> Exec<'_, DB>
where
    DB: Database,
    DB::QueryResult: RowsAffected,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> Option<&'q str>: Encode<'q, DB> + Type<DB>,
    for<'q> &'q [u8]: Encode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> Vec<u8>: Decode<'q, DB> + Type<DB>,
    for<'q> String: Decode<'q, DB> + Type<DB>,
    usize: ColumnIndex<DB::Row>,
{
    fn query<'q>(sql: &'q str, args: &[Arg<'q>]) -> Query<'q, DB, DB::Arguments<'q>> {
        args.iter().fold(sqlx::query(sql), |q, arg| match *arg {
            Arg::Text(s) => q.bind(s),
            Arg::MaybeText(s) => q.bind(s),
            Arg::Int(i) => q.bind(i),
            Arg::Bytes(b) => q.bind(b),
        })
    }

    /// Runs a statement that returns no rows; answers how many rows it affected.
    pub async fn execute(&self, sql: &str, args: &[Arg<'_>]) -> Result<u64, sqlx::Error> {
        let done = Self::query(sql, args).execute(self.0).await?;
        Ok(done.affected())
    }

    /// Runs the `load` statement: at most one row of
    /// `atime, expires_at, version, data`.
    pub async fn fetch_row(
        &self,
        sql: &str,
        args: &[Arg<'_>],
    ) -> Result<Option<StoredRow>, sqlx::Error> {
        let Some(row) = Self::query(sql, args).fetch_optional(self.0).await? else {
            return Ok(None);
        };
        Ok(Some(StoredRow {
            atime: row.try_get(0)?,
            expires_at: row.try_get(1)?,
            version: row.try_get(2)?,
            data: row.try_get(3)?,
        }))
    }

    /// Runs the `scan` statement: rows of `session_id, expires_at, size`.
    pub async fn fetch_scan(
        &self,
        sql: &str,
        args: &[Arg<'_>],
    ) -> Result<Vec<ScanRow>, sqlx::Error> {
        let rows = Self::query(sql, args).fetch_all(self.0).await?;
        rows.iter()
            .map(|row| Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?)))
            .collect()
    }

    /// Runs the `sessions_of` statement: rows of `session_id, atime, expires_at, data`.
    pub async fn fetch_user_rows(
        &self,
        sql: &str,
        args: &[Arg<'_>],
    ) -> Result<Vec<UserRow>, sqlx::Error> {
        let rows = Self::query(sql, args).fetch_all(self.0).await?;
        rows.iter()
            .map(|row| {
                Ok((
                    row.try_get(0)?,
                    row.try_get(1)?,
                    row.try_get(2)?,
                    row.try_get(3)?,
                ))
            })
            .collect()
    }

    /// Runs the `raw` statement: rows of `session_id, data`.
    pub async fn fetch_pairs(
        &self,
        sql: &str,
        args: &[Arg<'_>],
    ) -> Result<Vec<(String, Vec<u8>)>, sqlx::Error> {
        let rows = Self::query(sql, args).fetch_all(self.0).await?;
        rows.iter()
            .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
            .collect()
    }

    /// Runs a statement whose answer is rows of one integer.
    pub async fn fetch_ints(&self, sql: &str, args: &[Arg<'_>]) -> Result<Vec<i64>, sqlx::Error> {
        let rows = Self::query(sql, args).fetch_all(self.0).await?;
        rows.iter().map(|row| row.try_get(0)).collect()
    }

    /// Runs a statement whose answer is at most one row of one integer.
    pub async fn fetch_int(&self, sql: &str, args: &[Arg<'_>]) -> Result<Option<i64>, sqlx::Error> {
        match Self::query(sql, args).fetch_optional(self.0).await? {
            Some(row) => Ok(Some(row.try_get(0)?)),
            None => Ok(None),
        }
    }
}
