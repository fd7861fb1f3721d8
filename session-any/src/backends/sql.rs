//! `sqlite:`, `postgres://` and `mysql://`: the SQL table store.

use session_core::Result;
use session_sql::{SqlStore, TableName};
use url::Url;

use crate::url::{query, OpenContext};

/// Query parameters that are ours, not the database driver's.
const TABLE: &str = "session_table";
const MIGRATE: &str = "migrate";

/// Connects, picks the table (`?session_table=name`, default `sessions`) and creates it
/// if missing (`?migrate=false` to skip; migration is idempotent and safe to run from
/// several instances at once). Other query parameters go to sqlx.
pub(crate) async fn sql(url: &Url, ctx: OpenContext) -> Result<SqlStore> {
    let table = query(url, TABLE);
    let migrate = !matches!(query(url, MIGRATE).as_deref(), Some("false") | Some("0"));
    let driver_url = without_params(url, &[TABLE, MIGRATE]);
    let mut store = SqlStore::connect(&driver_url).await?.with_clock(ctx.clock);
    if let Some(name) = table {
        store = store.with_table(TableName::new(&name)?);
    }
    if migrate {
        store.migrate().await?;
    }
    Ok(store)
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
