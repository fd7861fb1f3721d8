//! `migrate`: create the SQL session table and its index if missing.

use serde_json::json;

use crate::exit::{AdminError, AdminResult};
use crate::report::Report;
use crate::target::{Backend, Target};

/// Runs session-sql's migration (`SqlStore::migrate`, through session-any): creates
/// the table named by `?session_table=` (default `sessions`) and its `expires_at`
/// index if they are missing. Idempotent and safe to run from several hosts at once.
/// Other backends have no schema (exit 3).
pub async fn run(target: &Target) -> AdminResult<Report> {
    if target.backend() != Backend::Sql {
        return Err(AdminError::Unsupported(format!(
            "`migrate` applies to SQL stores (sqlite:, postgres://, mysql://); {}:// \
             stores have no schema to create",
            target.scheme()
        )));
    }
    target.open_migrating().await?;
    let table = target.sql_table()?;
    let json = json!({
        "command": "migrate",
        "backend": target.scheme(),
        "table": table,
        "ok": true,
    });
    let text = format!("migrate: table {table} and its expires_at index are in place");
    Ok(Report::new(json, text))
}
