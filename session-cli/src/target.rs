//! The store URL: which backend it names, what that backend can be asked before any
//! I/O, and the SQL-specific adjustments that keep admin commands from creating
//! anything.

use session_any::{AnyStore, SessionConfig};

use crate::exit::{AdminError, AdminResult};

/// The backend a URL names, as far as this tool needs to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// `sqlite:`, `postgres://`, `postgresql://`, `mysql://`, `mariadb://`.
    Sql,
    /// `memcache://`: cannot list its keys.
    Memcache,
    /// `cookie://`: sessions live in the browsers.
    Cookie,
    /// Anything else session-any opens (memory, file, shelf, redis…), or an unknown
    /// scheme that session-any will refuse with a message.
    Other,
}

/// A store URL as given on the command line.
#[derive(Debug, Clone)]
pub struct Target {
    url: String,
    scheme: String,
    cookie_name: String,
}

impl Target {
    /// The URL `url`; `cookie_name` is the session cookie's name, which the cookie
    /// store binds its values to.
    pub fn new(url: &str, cookie_name: &str) -> Self {
        let scheme = url
            .split_once(':')
            .map(|(s, _)| s)
            .unwrap_or_default()
            .to_ascii_lowercase();
        Target {
            url: url.to_owned(),
            scheme,
            cookie_name: cookie_name.to_owned(),
        }
    }

    /// The URL's scheme, lower-case (`file`, `postgres`, `redis+cluster`…).
    pub fn scheme(&self) -> &str {
        &self.scheme
    }

    /// Which kind of backend the URL names.
    pub fn backend(&self) -> Backend {
        match self.scheme.as_str() {
            "sqlite" | "postgres" | "postgresql" | "mysql" | "mariadb" => Backend::Sql,
            "memcache" => Backend::Memcache,
            "cookie" => Backend::Cookie,
            _ => Backend::Other,
        }
    }

    /// Refuses, before any I/O, a command that needs to list every session when the
    /// backend cannot: memcached has no way to list its keys, and cookie sessions live
    /// in the browsers.
    pub fn require_enumerable(&self, command: &str) -> AdminResult<()> {
        let why = match self.backend() {
            Backend::Memcache => {
                "memcached cannot list its keys, so sessions there cannot be counted or \
                 swept; they expire by themselves (memcached's exptime) and may be evicted \
                 earlier"
            }
            Backend::Cookie => {
                "cookie sessions live in the browsers, sealed in their cookies; the server \
                 holds nothing to count or sweep, and they expire by their sealed deadline"
            }
            Backend::Sql | Backend::Other => return Ok(()),
        };
        Err(AdminError::Unsupported(format!(
            "`{command}` is not supported for {}:// stores: {why}",
            self.scheme
        )))
    }

    /// Opens the store for an admin command. SQL stores are opened without creating
    /// anything: no table (`migrate=false` unless the URL says otherwise) and, for an
    /// SQLite file, no new database file (`mode=rw` unless the URL sets a mode). Only
    /// `migrate` creates the table.
    pub async fn open(&self) -> AdminResult<AnyStore> {
        self.require_existing_path()?;
        let mut url = self.url.clone();
        if self.backend() == Backend::Sql {
            if query_param(&url, "migrate").is_none() {
                url = with_param(&url, "migrate", "false");
            }
            if self.scheme == "sqlite"
                && !url.contains(":memory:")
                && query_param(&url, "mode").is_none()
            {
                url = with_param(&url, "mode", "rw");
            }
        }
        self.open_url(&url).await
    }

    /// Opens an SQL store creating its table if missing (session-any runs
    /// `SqlStore::migrate` when it opens an SQL URL without `migrate=false`).
    pub async fn open_migrating(&self) -> AdminResult<AnyStore> {
        if let Some(value) = query_param(&self.url, "migrate") {
            if matches!(value.as_str(), "false" | "0") {
                return Err(AdminError::Usage(
                    "`migrate` with `migrate=false` in the URL: drop that parameter".into(),
                ));
            }
        }
        self.open_url(&self.url).await
    }

    /// For `file://` and `shelf://`, refuses a path that does not exist: opening the
    /// store would create an empty one there, and a typo would then report zero
    /// sessions instead of an error. A URL that does not parse is left to session-any.
    fn require_existing_path(&self) -> AdminResult<()> {
        let what = match self.scheme.as_str() {
            "file" => "FileStore directory",
            "shelf" => "ShelfStore file",
            _ => return Ok(()),
        };
        let Some(path) = url::Url::parse(&self.url)
            .ok()
            .and_then(|u| u.to_file_path().ok())
        else {
            return Ok(());
        };
        if path.exists() {
            Ok(())
        } else {
            Err(AdminError::Usage(format!(
                "no {what} at {}: check the URL (the app creates it on first use)",
                path.display()
            )))
        }
    }

    /// The SQL table the URL names (`?session_table=`, default `sessions`).
    pub fn sql_table(&self) -> String {
        query_param(&self.url, "session_table").unwrap_or_else(|| "sessions".into())
    }

    async fn open_url(&self, url: &str) -> AdminResult<AnyStore> {
        let mut config = SessionConfig::for_url(url);
        config.cookie.name = self.cookie_name.clone();
        Ok(config.store().await?)
    }
}

/// The value of query parameter `key` in `url`, if present (not percent-decoded: the
/// parameters looked at here never need it).
fn query_param(url: &str, key: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    let query = query.split('#').next().unwrap_or_default();
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (k == key).then(|| v.to_owned())
    })
}

/// `url` with `key=value` appended to its query. Textual, so nothing else in the URL
/// is normalised.
fn with_param(url: &str, key: &str, value: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{key}={value}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes_and_backends() {
        let t = |u| Target::new(u, "session");
        assert_eq!(t("sqlite::memory:").backend(), Backend::Sql);
        assert_eq!(t("postgres://u@h/db").backend(), Backend::Sql);
        assert_eq!(t("MariaDB://u@h/db").backend(), Backend::Sql);
        assert_eq!(t("memcache://h:1,h:2").backend(), Backend::Memcache);
        assert_eq!(t("cookie://").backend(), Backend::Cookie);
        assert_eq!(t("redis+cluster://a:1,b:2").scheme(), "redis+cluster");
        assert_eq!(t("file:///x").backend(), Backend::Other);
        assert_eq!(t("nonsense").scheme(), "");
    }

    #[test]
    fn memcache_and_cookie_are_refused_before_io() {
        for url in ["memcache://127.0.0.1:1", "cookie://"] {
            let err = Target::new(url, "session")
                .require_enumerable("gc")
                .unwrap_err();
            assert_eq!(err.exit_code(), crate::exit::UNSUPPORTED);
        }
        assert!(Target::new("file:///x", "s")
            .require_enumerable("gc")
            .is_ok());
    }

    #[test]
    fn query_parameters() {
        assert_eq!(
            query_param("postgres://h/db?a=1&migrate=false", "migrate").as_deref(),
            Some("false")
        );
        assert_eq!(query_param("postgres://h/db", "migrate"), None);
        assert_eq!(query_param("sqlite://x?mode", "mode").as_deref(), Some(""));
        assert_eq!(with_param("sqlite://x", "mode", "rw"), "sqlite://x?mode=rw");
        assert_eq!(with_param("sqlite://x?a=b", "m", "1"), "sqlite://x?a=b&m=1");
        assert_eq!(
            Target::new("postgres://h/db?session_table=app.s", "s").sql_table(),
            "app.s"
        );
        assert_eq!(Target::new("postgres://h/db", "s").sql_table(), "sessions");
    }

    #[test]
    fn missing_file_store_paths_are_usage_errors() {
        let dir = std::env::temp_dir().join("session-admin-no-such-dir-7f3a");
        let url = format!("file://{}", dir.display());
        let err = Target::new(&url, "s").require_existing_path().unwrap_err();
        assert_eq!(err.exit_code(), crate::exit::USAGE);
        let url = format!("shelf://{}", std::env::temp_dir().display());
        assert!(Target::new(&url, "s").require_existing_path().is_ok());
    }
}
