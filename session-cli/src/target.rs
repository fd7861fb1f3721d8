//! The store URL: which backend it names, what that backend can be asked before any
//! I/O, and the SQL-specific adjustments that keep admin commands from creating
//! anything.

use session_any::{AnyStore, BackendKind, CacheBus, CacheUrl, SessionConfig, StoreUrl};

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
/// table: the scheme is known and every query parameter is one it takes. With the
/// app's cache URL, the store opens behind that cache (session-tiered's
/// `TieredStore`), so what the commands delete is invalidated where the app caches it.
#[derive(Debug, Clone)]
pub struct Target {
    url: StoreUrl,
    cache: Option<CacheUrl>,
    cookie_name: String,
}

impl Target {
    /// The URL `url`, behind the cache `cache` if given; `cookie_name` is the session
    /// cookie's name, which the cookie store binds its values to. An unknown scheme or
    /// query parameter, in either URL, or a cache that cannot stand in front of the
    /// store (a `cookie://` store, `bus=store` over SQLite) is a usage error (exit 2)
    /// naming it, before anything is opened.
    pub fn new(url: &str, cache: Option<&str>, cookie_name: &str) -> AdminResult<Self> {
        let url = StoreUrl::parse(url)?;
        let cache = cache.map(CacheUrl::parse).transpose()?;
        if let Some(cache) = &cache {
            cache.check(&url)?;
        }
        Ok(Target {
            url,
            cache,
            cookie_name: cookie_name.to_owned(),
        })
    }

    /// The cache URL, redacted, if the store opens behind one.
    pub fn cache_shown(&self) -> Option<String> {
        self.cache.as_ref().map(ToString::to_string)
    }

    /// Whether the cache is an in-process one without a bus (`bus=none`): this
    /// process's memory is its own, so the app's instances cannot be told of a delete.
    pub fn cache_is_deaf(&self) -> bool {
        self.cache
            .as_ref()
            .is_some_and(|c| c.bus(&self.url).ok() == Some(Some(CacheBus::Off)))
    }

    /// After a command that deleted sessions through the cache: an error (exit 1) if an
    /// invalidation could not be sent (the cache, or its bus, is unreachable). The
    /// tiered store would retry it in the background, but this process ends now, so
    /// the app may go on serving those sessions from its cache.
    pub fn settle(&self, store: &AnyStore) -> AdminResult<()> {
        let Some(tiered) = store.tiered() else {
            return Ok(());
        };
        let deferred = tiered.stats().invalidations_deferred;
        if deferred == 0 {
            return Ok(());
        }
        Err(AdminError::Store(session_core::Error::backend(format!(
            "the store is done, but {deferred} cache invalidation(s) could not be sent to              the {} cache (unreachable): the app may serve those sessions from its cache              until their entries expire; run the command again once the cache answers",
            tiered.cache_kind()
        ))))
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

    /// Opens the store for an admin command, behind the cache if one was given. SQL
    /// stores are opened without creating anything: no table (`migrate=false` unless
    /// the URL says otherwise) and, for an SQLite file, no new database file
    /// (`mode=rw` unless the URL sets a mode). Only `migrate` creates the table.
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
        self.open_url(&url, self.cache.as_ref()).await
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
        // No cache: creating a table touches no session.
        self.open_url(&self.url, None).await
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

    async fn open_url(&self, url: &StoreUrl, cache: Option<&CacheUrl>) -> AdminResult<AnyStore> {
        let mut config = SessionConfig::for_url(url.as_str());
        config.cache = cache.map(|c| c.as_str().to_owned());
        config.cookie.name = self.cookie_name.clone();
        let store = config.store().await?;
        // Network stores open lazily; a tool connects (and, for `migrate`, migrates)
        // before it reports anything. So does the cache, and its bus: an invalidation
        // must not wait for a connection this process will not live to see.
        store.connect().await?;
        Ok(store)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(url: &str) -> Target {
        Target::new(url, None, "session").unwrap()
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
        let err = Target::new("nonsense", None, "s").unwrap_err();
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
            let err = Target::new(url, None, "s").unwrap_err();
            assert_eq!(err.exit_code(), crate::exit::USAGE, "{url}");
            assert!(err.to_string().contains("`bogus`"), "{url}: {err}");
        }
    }

    #[test]
    fn caches_are_read_by_session_any_before_io() {
        let cached = Target::new("sqlite:///x.db", Some("local://?ttl=5s"), "s").unwrap();
        assert!(
            cached.cache_is_deaf(),
            "no bus in front of SQLite by default"
        );
        assert_eq!(cached.cache_shown().as_deref(), Some("local://?ttl=5s"));
        let shared = Target::new("sqlite:///x.db", Some("memory://"), "s").unwrap();
        assert!(!shared.cache_is_deaf());
        assert!(!t("sqlite:///x.db").cache_is_deaf());
        for (url, cache, needle) in [
            ("sqlite:///x.db", "local://?bogus=1", "`bogus`"),
            ("sqlite:///x.db", "local://?bus=store", "bus=store"),
            ("sqlite:///x.db", "cookie://", "cookie://"),
            ("cookie://", "local://", "cookie://"),
        ] {
            let err = Target::new(url, Some(cache), "s").unwrap_err();
            assert_eq!(err.exit_code(), crate::exit::USAGE, "{url} {cache}");
            assert!(err.to_string().contains(needle), "{url} {cache}: {err}");
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
