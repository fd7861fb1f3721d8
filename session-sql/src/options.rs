//! How a [`SqlStore`](crate::SqlStore) is configured from a `sqlite:`, `postgres://` or
//! `mysql://` URL.
//!
//! Our parameters are taken out of the URL; the rest goes to sqlx, which reads them
//! itself. sqlx's own parameters are listed one by one (both of its spellings where it
//! has two, so URLs written for sqlx keep working): sqlx ignores a parameter it does
//! not know on PostgreSQL and MySQL, so without the list a typo in `sslmode` would
//! silently connect without TLS.

use std::time::Duration;

use session_core::params::{url_query, without_params, Params};
use session_core::{redact_url, Error, Result, StoreSettings};

use crate::TableName;

/// `?session_table=name` (default `sessions`).
const TABLE: &str = "session_table";
/// `?migrate=BOOL`: create the table if missing (default true).
const MIGRATE: &str = "migrate";
/// `?timeout=DURATION`: bounds every operation and the wait for a connection.
const TIMEOUT: &str = "timeout";
/// `?max_record_size=SIZE|none`.
const MAX_RECORD_SIZE: &str = "max_record_size";
const OURS: [&str; 4] = [TABLE, MIGRATE, TIMEOUT, MAX_RECORD_SIZE];

/// What an SQL store URL says: the table, whether to migrate, the timeout, the store
/// settings, and the URL left for sqlx (without our parameters).
///
/// ```
/// use std::time::Duration;
/// use session_sql::SqlOptions;
///
/// let o = SqlOptions::from_url("postgres://app@db/app?session_table=web.sessions&timeout=2s&sslmode=require")?;
/// assert_eq!(o.table().to_string(), "web.sessions");
/// assert_eq!(o.timeout(), Some(Duration::from_secs(2)));
/// assert_eq!(o.driver_url(), "postgres://app@db/app?sslmode=require");
///
/// let typo = SqlOptions::from_url("postgres://db/app?ssl_mode=require").unwrap_err();
/// assert!(typo.to_string().contains("`ssl_mode`"));
/// # Ok::<(), session_core::Error>(())
/// ```
#[derive(Clone)]
pub struct SqlOptions {
    table: TableName,
    migrate: bool,
    timeout: Option<Duration>,
    settings: StoreSettings,
    driver_url: String,
}

impl std::fmt::Debug for SqlOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlOptions")
            .field("table", &self.table)
            .field("migrate", &self.migrate)
            .field("timeout", &self.timeout)
            .field("settings", &self.settings)
            .field("driver_url", &redact_url(&self.driver_url))
            .finish()
    }
}

impl SqlOptions {
    /// What `sqlite:` URLs take: ours, then sqlx 0.8's SQLite parameters.
    pub const SQLITE_URL_PARAMS: &'static [&'static str] = &[
        TABLE,
        MIGRATE,
        TIMEOUT,
        MAX_RECORD_SIZE,
        "mode",
        "cache",
        "immutable",
        "vfs",
    ];

    /// What `postgres://` URLs take: ours, then sqlx 0.8's PostgreSQL parameters
    /// (`options[NAME]` sets one server setting).
    pub const POSTGRES_URL_PARAMS: &'static [&'static str] = &[
        TABLE,
        MIGRATE,
        TIMEOUT,
        MAX_RECORD_SIZE,
        "sslmode",
        "ssl-mode",
        "sslrootcert",
        "ssl-root-cert",
        "ssl-ca",
        "sslcert",
        "ssl-cert",
        "sslkey",
        "ssl-key",
        "statement-cache-capacity",
        "host",
        "hostaddr",
        "port",
        "dbname",
        "user",
        "password",
        "application_name",
        "options",
        "options[]",
    ];

    /// What `mysql://` URLs take: ours, then sqlx 0.8's MySQL/MariaDB parameters.
    /// sqlx takes no password from a MySQL query: it goes in the user info
    /// (`mysql://user:password@host/db`).
    pub const MYSQL_URL_PARAMS: &'static [&'static str] = &[
        TABLE,
        MIGRATE,
        TIMEOUT,
        MAX_RECORD_SIZE,
        "sslmode",
        "ssl-mode",
        "sslca",
        "ssl-ca",
        "sslcert",
        "ssl-cert",
        "sslkey",
        "ssl-key",
        "charset",
        "collation",
        "statement-cache-capacity",
        "socket",
        "timezone",
        "time-zone",
    ];

    /// The parameters URLs of `scheme` take (`sqlite`, `postgres`, `postgresql`,
    /// `mysql`, `mariadb`), or `None` for a scheme that is not SQL.
    pub fn url_params(scheme: &str) -> Option<&'static [&'static str]> {
        match scheme.to_ascii_lowercase().as_str() {
            "sqlite" => Some(Self::SQLITE_URL_PARAMS),
            "postgres" | "postgresql" => Some(Self::POSTGRES_URL_PARAMS),
            "mysql" | "mariadb" => Some(Self::MYSQL_URL_PARAMS),
            _ => None,
        }
    }

    /// Reads an SQL store URL: `session_table` (a [`TableName`]), `migrate` (a
    /// boolean, default true), `timeout` (a duration above zero) and
    /// `max_record_size` (a size, or `none`), in the shared grammar of
    /// [`session_core::params`]; every other parameter must be one sqlx reads for that
    /// database. An unknown or repeated parameter or a bad value is an
    /// [`Error::Config`] naming it.
    pub fn from_url(url: &str) -> Result<Self> {
        let scheme = url.split_once(':').map_or("", |(s, _)| s);
        let known = Self::url_params(scheme).ok_or_else(|| {
            Error::Config(format!(
                "not an SQL session store URL (sqlite:, postgres://, mysql://): {:?}",
                redact_url(url)
            ))
        })?;
        let scheme = scheme.to_ascii_lowercase();
        let params = Params::new(
            &scheme,
            known,
            url::form_urlencoded::parse(url_query(url).as_bytes()),
        )?;
        let mut settings = StoreSettings::new();
        if let Some(limit) = params.limit(MAX_RECORD_SIZE)? {
            settings = settings.with_max_record_size(limit);
        }
        Ok(SqlOptions {
            table: match params.text(TABLE) {
                Some(name) => TableName::new(name)?,
                None => TableName::default(),
            },
            migrate: params.bool(MIGRATE)?.unwrap_or(true),
            timeout: params.timeout(TIMEOUT)?,
            settings,
            driver_url: without_params(url, &OURS),
        })
    }

    /// The codec, record size limit and clock the store takes.
    pub fn with_settings(mut self, settings: StoreSettings) -> Self {
        self.settings = settings;
        self
    }

    /// The session table.
    pub fn table(&self) -> &TableName {
        &self.table
    }

    /// Whether opening creates the table if it is missing.
    pub fn migrate(&self) -> bool {
        self.migrate
    }

    /// The bound on every operation and on the wait for a connection, if any.
    pub fn timeout(&self) -> Option<Duration> {
        self.timeout
    }

    /// The codec, record size limit and clock.
    pub fn settings(&self) -> &StoreSettings {
        &self.settings
    }

    /// The URL without our parameters, as sqlx reads it. Secrets included: for the
    /// driver, never for logs.
    pub fn driver_url(&self) -> &str {
        &self.driver_url
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn our_parameters_leave_the_driver_url() {
        let o = SqlOptions::from_url("sqlite::memory:").unwrap();
        assert_eq!(o.driver_url(), "sqlite::memory:");
        assert!(o.migrate());
        assert_eq!(o.table().to_string(), "sessions");
        let o = SqlOptions::from_url("sqlite:///tmp/s.db?migrate=no&mode=rwc&max_record_size=none")
            .unwrap();
        assert_eq!(o.driver_url(), "sqlite:///tmp/s.db?mode=rwc");
        assert!(!o.migrate());
        assert_eq!(o.settings().max_record_size(), None);
    }

    #[test]
    fn bad_values_are_config_errors() {
        for bad in [
            "sqlite::memory:?timeout=0s",
            "mysql://h/db?password=x",
            "postgres://h/db?session_table=drop;table",
            "redis://h/",
        ] {
            assert!(
                matches!(SqlOptions::from_url(bad), Err(Error::Config(_))),
                "{bad}"
            );
        }
    }
}
