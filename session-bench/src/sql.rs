//! `SqlStore` on SQLite (a file in WAL mode, `synchronous=NORMAL`), PostgreSQL and
//! MariaDB/MySQL, next to raw sqlx statements on the same pool, on the same bytes, in
//! a twin table of the same schema:
//!
//! - create: `INSERT` of the five columns;
//! - load: `SELECT data … WHERE session_id = ?`;
//! - save: one upsert (`INSERT … ON CONFLICT DO UPDATE`, MySQL's `ON DUPLICATE KEY
//!   UPDATE`) of the five columns, a new version each time;
//! - touch: `UPDATE … SET atime = ?, expires_at = ? WHERE session_id = ?`;
//! - delete: `DELETE … WHERE session_id = ?`.
//!
//! The store additionally hashes the id, encodes or decodes the envelope, checks expiry
//! and versions in its `WHERE`, and maps errors: that is what the ratio shows.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use session_core::UserKey;
use session_sql::{ConnectOptions, SqlPool, SqlStore, TableName};

use crate::driver::{Item, Raw, Target};
use crate::measure::{Op, TaskResult};
use crate::BoxResult;

/// The raw statements of one database, on the store's pool.
struct SqlRaw {
    pool: SqlPool,
    select: String,
    insert: String,
    upsert: String,
    touch: String,
    delete: String,
}

impl SqlRaw {
    fn new(pool: SqlPool, twin: &TableName) -> Self {
        let cols = "session_id, atime, expires_at, version, data";
        let mysql = matches!(pool, SqlPool::MySql(_));
        let p = |n: usize| {
            if mysql {
                "?".to_owned()
            } else {
                format!("${n}")
            }
        };
        let upsert = if mysql {
            format!(
                "INSERT INTO {twin} ({cols}) VALUES (?, ?, ?, ?, ?) ON DUPLICATE KEY \
                 UPDATE atime = VALUES(atime), expires_at = VALUES(expires_at), \
                 version = VALUES(version), data = VALUES(data)"
            )
        } else {
            format!(
                "INSERT INTO {twin} ({cols}) VALUES ($1, $2, $3, $4, $5) ON CONFLICT \
                 (session_id) DO UPDATE SET atime = excluded.atime, \
                 expires_at = excluded.expires_at, version = excluded.version, \
                 data = excluded.data"
            )
        };
        SqlRaw {
            select: format!("SELECT data FROM {twin} WHERE session_id = {}", p(1)),
            insert: format!(
                "INSERT INTO {twin} ({cols}) VALUES ({}, {}, {}, {}, {})",
                p(1),
                p(2),
                p(3),
                p(4),
                p(5)
            ),
            upsert,
            touch: format!(
                "UPDATE {twin} SET atime = {}, expires_at = {} WHERE session_id = {}",
                p(1),
                p(2),
                p(3)
            ),
            delete: format!("DELETE FROM {twin} WHERE session_id = {}", p(1)),
            pool,
        }
    }

    /// One statement binding the five columns of `item`.
    async fn write(&self, sql: &str, item: &Item) -> TaskResult<()> {
        let version = i64::try_from(item.version).unwrap_or(i64::MAX);
        let bytes: &[u8] = &item.bytes;
        macro_rules! run {
            ($p:expr) => {
                sqlx::query(sql)
                    .bind(&item.key)
                    .bind(item.accessed_ms)
                    .bind(item.expires_ms)
                    .bind(version)
                    .bind(bytes)
                    .execute($p)
                    .await
                    .map(drop)
            };
        }
        let done = match &self.pool {
            SqlPool::Sqlite(p) => run!(p),
            SqlPool::Postgres(p) => run!(p),
            SqlPool::MySql(p) => run!(p),
            _ => return Err("unsupported pool".into()),
        };
        done.map_err(|e| e.to_string())
    }
}

#[async_trait]
impl Raw for SqlRaw {
    fn label(&self, op: Op) -> Option<String> {
        Some(
            match op {
                Op::Create => "INSERT",
                Op::Load => "SELECT data",
                Op::Save => "upsert",
                Op::Touch => "UPDATE atime, expires_at",
                Op::Delete => "DELETE",
            }
            .to_owned(),
        )
    }

    async fn create(&self, item: &Item) -> TaskResult<String> {
        self.write(&self.insert, item).await?;
        Ok(item.key.clone())
    }

    async fn load(&self, handle: &str) -> TaskResult<()> {
        let sql = self.select.as_str();
        let row: Result<Vec<u8>, _> = match &self.pool {
            SqlPool::Sqlite(p) => sqlx::query_scalar(sql).bind(handle).fetch_one(p).await,
            SqlPool::Postgres(p) => sqlx::query_scalar(sql).bind(handle).fetch_one(p).await,
            SqlPool::MySql(p) => sqlx::query_scalar(sql).bind(handle).fetch_one(p).await,
            _ => return Err("unsupported pool".into()),
        };
        std::hint::black_box(row.map_err(|e| e.to_string())?);
        Ok(())
    }

    async fn save(&self, _handle: &str, item: &Item) -> TaskResult<()> {
        self.write(&self.upsert, item).await
    }

    async fn touch(&self, handle: &str, item: &Item) -> TaskResult<()> {
        let sql = self.touch.as_str();
        macro_rules! run {
            ($p:expr) => {
                sqlx::query(sql)
                    .bind(item.accessed_ms)
                    .bind(item.expires_ms)
                    .bind(handle)
                    .execute($p)
                    .await
            };
        }
        let affected = match &self.pool {
            SqlPool::Sqlite(p) => run!(p).map(|r| r.rows_affected()),
            SqlPool::Postgres(p) => run!(p).map(|r| r.rows_affected()),
            SqlPool::MySql(p) => run!(p).map(|r| r.rows_affected()),
            _ => return Err("unsupported pool".into()),
        };
        affected.map(drop).map_err(|e| e.to_string())
    }

    async fn delete(&self, handle: &str) -> TaskResult<()> {
        let sql = self.delete.as_str();
        let done = match &self.pool {
            SqlPool::Sqlite(p) => sqlx::query(sql).bind(handle).execute(p).await.map(drop),
            SqlPool::Postgres(p) => sqlx::query(sql).bind(handle).execute(p).await.map(drop),
            SqlPool::MySql(p) => sqlx::query(sql).bind(handle).execute(p).await.map(drop),
            _ => return Err("unsupported pool".into()),
        };
        done.map_err(|e| e.to_string())
    }
}

/// A table name of this run: `bench_<what>_<pid>`, dropped at the end.
pub fn bench_table(what: &str) -> BoxResult<TableName> {
    Ok(TableName::new(&format!(
        "bench_{what}_{}",
        std::process::id()
    ))?)
}

/// The pool options every SQL measurement uses: 32 connections.
pub fn pool_options() -> ConnectOptions {
    ConnectOptions::new()
        .max_connections(32)
        .acquire_timeout(Duration::from_secs(10))
}

/// The SQLite URL of a database file in `scratch`.
pub fn sqlite_url(scratch: &Path, name: &str) -> String {
    format!("sqlite://{}", scratch.join(name).display())
}

/// Drops this run's tables.
pub async fn drop_tables(pool: &SqlPool, tables: &[TableName]) {
    for table in tables {
        let sql = format!("DROP TABLE IF EXISTS {table}");
        let dropped = match pool {
            SqlPool::Sqlite(p) => sqlx::raw_sql(&sql).execute(p).await.map(drop),
            SqlPool::Postgres(p) => sqlx::raw_sql(&sql).execute(p).await.map(drop),
            SqlPool::MySql(p) => sqlx::raw_sql(&sql).execute(p).await.map(drop),
            _ => Ok(()),
        };
        if let Err(e) = dropped {
            eprintln!("  could not drop {table}: {e}");
        }
    }
}

/// The server's version, for the docs.
pub async fn server_version(pool: &SqlPool) -> String {
    let v: Result<String, _> = match pool {
        SqlPool::Sqlite(p) => {
            sqlx::query_scalar("SELECT sqlite_version()")
                .fetch_one(p)
                .await
        }
        SqlPool::Postgres(p) => sqlx::query_scalar("SHOW server_version").fetch_one(p).await,
        SqlPool::MySql(p) => sqlx::query_scalar("SELECT VERSION()").fetch_one(p).await,
        _ => return "unknown".into(),
    };
    v.unwrap_or_else(|e| format!("unknown ({e})"))
}

/// The redo log a MariaDB needs for the save cells: both sides rewrite 32 KiB rows from
/// 32 tasks, and with the stock 96 MiB log InnoDB reached its checkpoint age, stalled
/// every writer for minutes and once aborted itself (BENCHMARKS.md, "The runs").
const REDO_LOG: u64 = 1 << 30;

/// Makes a MariaDB's redo log at least [`REDO_LOG`] for this run (`SET GLOBAL`: resized
/// online since MariaDB 10.9; the server's configuration files are not touched, so a
/// restart brings its own size back). Says what it did, for the report; `None` for
/// other databases.
async fn ensure_redo_log(pool: &SqlPool) -> Option<String> {
    let SqlPool::MySql(p) = pool else {
        return None;
    };
    let size: u64 = match sqlx::query_scalar("SELECT @@GLOBAL.innodb_log_file_size")
        .fetch_one(p)
        .await
    {
        Ok(size) => size,
        Err(e) => return Some(format!("innodb_log_file_size unknown ({e})")),
    };
    let mib = |b: u64| b >> 20;
    if size >= REDO_LOG {
        return Some(format!("innodb_log_file_size {} MiB", mib(size)));
    }
    let set = format!("SET GLOBAL innodb_log_file_size = {REDO_LOG}");
    Some(match sqlx::query(&set).execute(p).await {
        Ok(_) => format!(
            "innodb_log_file_size raised from {} MiB to {} MiB for the run (SET GLOBAL; \
             a restart of the server restores its configured size)",
            mib(size),
            mib(REDO_LOG)
        ),
        Err(e) => format!(
            "innodb_log_file_size {} MiB, could not be raised ({e}): 32 KiB saves at 32 \
             tasks may stall on the redo log",
            mib(size)
        ),
    })
}

/// The target for `backend` (`sqlite`, `postgres` or `mysql`) at `url`, and the
/// server's version; `Err` if it does not answer.
pub async fn target(backend: &str, url: &str) -> BoxResult<(Target, String)> {
    let (sessions, twin) = (bench_table("sessions")?, bench_table("raw")?);
    let store = SqlStore::connect_with(url, pool_options())
        .await?
        .with_table(sessions.clone());
    store.migrate().await?;
    store.clone().with_table(twin.clone()).migrate().await?;
    let pool = store.pool().clone();
    let mut version = server_version(&pool).await;
    if let Some(redo) = ensure_redo_log(&pool).await {
        version = format!("{version}, {redo}");
    }
    let raw = SqlRaw::new(pool.clone(), &twin);
    let cleanup_pool = pool.clone();
    Ok((
        Target {
            backend: backend.into(),
            what: "SqlStore".into(),
            store: Arc::new(store),
            raw: Some(Arc::new(raw)),
            raw_async: None,
            cleanup: Some(Box::new(move || {
                Box::pin(async move {
                    drop_tables(&cleanup_pool, &[sessions, twin]).await;
                    cleanup_pool.close().await;
                })
            })),
            commands: None,
        },
        version,
    ))
}

/// The raw side of the sessions-by-user cells: the store's own table, queried by its
/// `user_key` column with the statements the store's index makes possible.
struct SqlIndexRaw {
    pool: SqlPool,
    list: String,
    revoke: String,
}

#[async_trait]
impl crate::users::RawIndex for SqlIndexRaw {
    fn label(&self, op: &str) -> String {
        match op {
            "list" => "SELECT session_id, data … WHERE user_key, by page".into(),
            _ => "DELETE … WHERE user_key".into(),
        }
    }

    async fn list(&self, user: &UserKey) -> TaskResult<usize> {
        let user = user.to_hex();
        let now = crate::workload::now().as_millis();
        let (mut after, mut n) = (String::new(), 0);
        loop {
            let sql = self.list.as_str();
            macro_rules! page {
                ($p:expr) => {
                    sqlx::query_as::<_, (String, Vec<u8>)>(sql)
                        .bind(&user)
                        .bind(now)
                        .bind(&after)
                        .fetch_all($p)
                        .await
                };
            }
            let rows = match &self.pool {
                SqlPool::Sqlite(p) => page!(p),
                SqlPool::Postgres(p) => page!(p),
                SqlPool::MySql(p) => page!(p),
                _ => return Err("unsupported pool".into()),
            }
            .map_err(|e| e.to_string())?;
            n += rows.len();
            match rows.last() {
                Some((last, _)) if rows.len() == crate::users::PAGE => after = last.clone(),
                _ => return Ok(n),
            }
        }
    }

    async fn revoke(&self, user: &UserKey) -> TaskResult<u64> {
        let (sql, user) = (self.revoke.as_str(), user.to_hex());
        let done = match &self.pool {
            SqlPool::Sqlite(p) => sqlx::query(sql)
                .bind(&user)
                .execute(p)
                .await
                .map(|r| r.rows_affected()),
            SqlPool::Postgres(p) => sqlx::query(sql)
                .bind(&user)
                .execute(p)
                .await
                .map(|r| r.rows_affected()),
            SqlPool::MySql(p) => sqlx::query(sql)
                .bind(&user)
                .execute(p)
                .await
                .map(|r| r.rows_affected()),
            _ => return Err("unsupported pool".into()),
        };
        done.map_err(|e| e.to_string())
    }
}

/// The sessions-by-user target of `backend` at `url`: a store in a table of its own,
/// and the raw statements on it. The table is dropped when the target is.
pub async fn index_target(backend: &str, url: &str) -> BoxResult<crate::users::IndexTarget> {
    let table = bench_table("users")?;
    let store = SqlStore::connect_with(url, pool_options())
        .await?
        .with_table(table.clone());
    store.migrate().await?;
    let pool = store.pool().clone();
    let p = |n: usize| {
        if matches!(pool, SqlPool::MySql(_)) {
            "?".to_owned()
        } else {
            format!("${n}")
        }
    };
    let raw = SqlIndexRaw {
        list: format!(
            "SELECT session_id, data FROM {table} WHERE user_key = {} AND expires_at > {} \
             AND session_id > {} ORDER BY session_id LIMIT {}",
            p(1),
            p(2),
            p(3),
            crate::users::PAGE
        ),
        revoke: format!("DELETE FROM {table} WHERE user_key = {}", p(1)),
        pool: pool.clone(),
    };
    Ok(crate::users::IndexTarget {
        backend: backend.into(),
        store: Arc::new(store),
        raw: Some(Box::new(raw)),
        cleanup: Some(Box::new(move || {
            Box::pin(async move {
                drop_tables(&pool, &[table]).await;
                pool.close().await;
            })
        })),
    })
}
