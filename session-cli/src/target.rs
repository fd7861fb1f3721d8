//! The store URL: which backend it names, what that backend can be asked before any
//! I/O, and the SQL-specific adjustments that keep admin commands from creating
//! anything.

use session_any::{AnyStore, BackendKind, SessionConfig, StoreUrl};

use crate::exit::{AdminError, AdminResult};

/// The backend a URL names, as far as this tool needs to know: session-any's scheme
/// table decides, this only groups its kinds by what the commands may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// `sqlite:`, `postgres://`, `postgresql://`, `mysql://`, `mariadb://`.
    Sql,
    /// `memcache://`: cannot list its keys.
    Memcache,
    /// `cookie://`: sessions live in the browsers.
    Cookie,
    /// Anything else session-any opens (memory, file, shelf, redis…).
    Other,
}

/// A store URL as given on the command line, checked against session-any's scheme
/// table: the scheme is known and every query parameter is one it takes.
#[derive(Debug, Clone)]
pub struct Target {
    url: StoreUrl,
    cookie_name: String,
}

impl Target {
    /// The URL `url`; `cookie_name` is the session cookie's name, which the cookie
    /// store binds its values to. An unknown scheme or query parameter is a usage
    /// error (exit 2) naming it, before anything is opened.
    pub fn new(url: &str, cookie_name: &str) -> AdminResult<Self> {
        Ok(Target {
            url: StoreUrl::parse(url)?,
            cookie_name: cookie_name.to_owned(),
        })
    }

    /// The URL's scheme, lower-case (`file`, `postgres`, `redis+cluster`…).
    pub fn scheme(&self) -> &str {
        self.url.scheme().name()
    }

    /// Which kind of backend the URL names.
    pub fn backend(&self) -> Backend {
        match self.url.scheme().kind() {
            BackendKind::Sql => Backend::Sql,
            BackendKind::Memcache => Backend::Memcache,
            BackendKind::Cookie => Backend::Cookie,
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
            self.scheme()
        )))
    }

    /// Opens the store for an admin command. SQL stores are opened without creating
    /// anything: no table (`migrate=false` unless the URL says otherwise) and, for an
    /// SQLite file, no new database file (`mode=rw` unless the URL sets a mode). Only
    /// `migrate` creates the table.
    pub async fn open(&self) -> AdminResult<AnyStore> {
        self.url.check()?;
        self.require_existing_path()?;
        let mut url = self.url.clone();
        if self.backend() == Backend::Sql {
            if !url.params().contains("migrate") {
                url = url.with_param("migrate", "false")?;
            }
            if self.scheme() == "sqlite"
                && !url.as_str().contains(":memory:")
                && !url.params().contains("mode")
            {
                url = url.with_param("mode", "rw")?;
            }
        }
        self.open_url(&url).await
    }

    /// Opens an SQL store creating its table if missing (session-any runs
    /// `SqlStore::migrate` when it opens an SQL URL unless `migrate` is false).
    pub async fn open_migrating(&self) -> AdminResult<AnyStore> {
        self.url.check()?;
        if self.url.params().bool("migrate")? == Some(false) {
            return Err(AdminError::Usage(
                "`migrate` with `migrate=false` (or no, off, 0) in the URL: drop that parameter"
                    .into(),
            ));
        }
        self.open_url(&self.url).await
    }

    /// For `file://` and `shelf://`, refuses a path that does not exist: opening the
    /// store would create an empty one there, and a typo would then report zero
    /// sessions instead of an error. A URL that does not parse is left to session-any.
    fn require_existing_path(&self) -> AdminResult<()> {
        let what = match self.url.scheme().kind() {
            BackendKind::File => "FileStore directory",
            BackendKind::Shelf => "ShelfStore file",
            _ => return Ok(()),
        };
        let Some(path) = url::Url::parse(self.url.as_str())
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

    /// The SQL table the URL names (`?session_table=`, else session-sql's default).
    pub fn sql_table(&self) -> AdminResult<String> {
        self.url
            .sql_table()?
            .ok_or_else(|| AdminError::Usage(format!("{}:// has no SQL table", self.scheme())))
    }

    async fn open_url(&self, url: &StoreUrl) -> AdminResult<AnyStore> {
        let mut config = SessionConfig::for_url(url.as_str());
        config.cookie.name = self.cookie_name.clone();
        let store = config.store().await?;
        // Network stores open lazily; a tool connects (and, for `migrate`, migrates)
        // before it reports anything.
        store.connect().await?;
        Ok(store)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(url: &str) -> Target {
        Target::new(url, "session").unwrap()
    }

    #[test]
    fn schemes_and_backends() {
        assert_eq!(t("sqlite::memory:").backend(), Backend::Sql);
        assert_eq!(t("postgres://u@h/db").backend(), Backend::Sql);
        assert_eq!(t("MariaDB://u@h/db").backend(), Backend::Sql);
        assert_eq!(t("memcache://h:1,h:2").backend(), Backend::Memcache);
        assert_eq!(t("cookie://").backend(), Backend::Cookie);
        assert_eq!(t("redis+cluster://a:1,b:2").scheme(), "redis+cluster");
        assert_eq!(t("file:///x").backend(), Backend::Other);
        let err = Target::new("nonsense", "s").unwrap_err();
        assert_eq!(err.exit_code(), crate::exit::USAGE);
    }

    #[test]
    fn memcache_and_cookie_are_refused_before_io() {
        for url in ["memcache://127.0.0.1:1", "cookie://"] {
            let err = t(url).require_enumerable("gc").unwrap_err();
            assert_eq!(err.exit_code(), crate::exit::UNSUPPORTED);
        }
        assert!(t("file:///x").require_enumerable("gc").is_ok());
    }

    #[test]
    fn unknown_parameters_are_usage_errors_naming_them() {
        for url in [
            "file:///x?bogus=1",
            "postgres://h/db?bogus=1",
            "redis+cluster://a:1,b:2?bogus=1",
            "memcache://h:1?bogus=1",
            "cookie://?bogus=1",
        ] {
            let err = Target::new(url, "s").unwrap_err();
            assert_eq!(err.exit_code(), crate::exit::USAGE, "{url}");
            assert!(err.to_string().contains("`bogus`"), "{url}: {err}");
        }
    }

    #[test]
    fn sql_tables() {
        assert_eq!(
            t("postgres://h/db?session_table=app.s")
                .sql_table()
                .unwrap(),
            "app.s"
        );
        assert_eq!(t("postgres://h/db").sql_table().unwrap(), "sessions");
        assert_eq!(
            t("postgres://h/db?session_table=Bad;Name")
                .sql_table()
                .unwrap_err()
                .exit_code(),
            crate::exit::USAGE
        );
    }

    #[tokio::test]
    async fn migrate_false_is_read_in_the_shared_grammar() {
        for value in ["false", "0", "no", "off"] {
            let target = t(&format!("sqlite::memory:?migrate={value}"));
            let err = target.open_migrating().await.unwrap_err();
            assert_eq!(err.exit_code(), crate::exit::USAGE, "{value}");
        }
        let err = t("sqlite::memory:?migrate=perhaps")
            .open_migrating()
            .await
            .unwrap_err();
        assert!(err.to_string().contains("migrate"), "{err}");
    }

    #[test]
    fn missing_file_store_paths_are_usage_errors() {
        let dir = std::env::temp_dir().join("session-admin-no-such-dir-7f3a");
        let url = format!("file://{}", dir.display());
        let err = t(&url).require_existing_path().unwrap_err();
        assert_eq!(err.exit_code(), crate::exit::USAGE);
        let url = format!("shelf://{}", std::env::temp_dir().display());
        assert!(t(&url).require_existing_path().is_ok());
    }
}
