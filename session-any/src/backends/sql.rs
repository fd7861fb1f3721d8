//! `sqlite:`, `postgres://` and `mysql://`: the SQL table store.

use std::time::Duration;

use session_core::{Error, Result};
use session_sql::{ConnectOptions, SqlStore, TableName};
use url::Url;

use crate::url::{query, query_usize, OpenContext};

/// Query parameters that are ours, not the database driver's.
const TABLE: &str = "session_table";
const MIGRATE: &str = "migrate";
const TIMEOUT: &str = "timeout";
const MAX_RECORD_SIZE: &str = "max_record_size";

/// Connects, picks the table (`?session_table=name`, default `sessions`) and creates it
/// if missing (`?migrate=false` to skip; migration is idempotent and safe to run from
/// several instances at once). `?max_record_size=N` refuses larger records with
/// `TooLarge`. `?timeout=1s` bounds every operation, including the wait
/// for a connection while the server is down (default: 5 s to get a connection, no
/// bound on a statement). Other query parameters go to sqlx.
pub(crate) async fn sql(url: &Url, ctx: OpenContext) -> Result<SqlStore> {
    let table = query(url, TABLE);
    let migrate = !matches!(query(url, MIGRATE).as_deref(), Some("false") | Some("0"));
    let timeout = query(url, TIMEOUT).map(|t| parse_timeout(&t)).transpose()?;
    let limit = query_usize(url, MAX_RECORD_SIZE)?;
    let driver_url = without_params(url, &[TABLE, MIGRATE, TIMEOUT, MAX_RECORD_SIZE]);
    let mut store = match timeout {
        Some(t) => {
            let options = ConnectOptions::new().acquire_timeout(t);
            SqlStore::connect_with(&driver_url, options)
                .await?
                .with_operation_timeout(t)
        }
        None => SqlStore::connect(&driver_url).await?,
    }
    .with_clock(ctx.clock);
    if let Some(limit) = limit {
        store = store.with_max_record_size(limit);
    }
    if let Some(name) = table {
        store = store.with_table(TableName::new(&name)?);
    }
    if migrate {
        store.migrate().await?;
    }
    Ok(store)
}

fn parse_timeout(text: &str) -> Result<Duration> {
    let t = humantime_serde::re::humantime::parse_duration(text)
        .map_err(|e| Error::Config(format!("sql timeout {text:?}: {e}")))?;
    if t.is_zero() {
        return Err(Error::Config("sql timeout must be above zero".into()));
    }
    Ok(t)
}

fn without_params(url: &Url, ours: &[&str]) -> String {
    if !url.query_pairs().any(|(k, _)| ours.contains(&k.as_ref())) {
        return url.as_str().to_owned();
    }
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| !ours.contains(&k.as_ref()))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let mut out = url.clone();
    if kept.is_empty() {
        out.set_query(None);
    } else {
        out.query_pairs_mut().clear().extend_pairs(kept);
    }
    out.as_str().to_owned()
}
