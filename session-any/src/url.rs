//! The scheme table and store URLs: which backend a URL names, which parameters that
//! backend takes, and how it opens. `session-admin` reads the same table.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use session_core::params::{url_query, without_params, Params};
use session_core::{redact_url, Clock, Error, Result, SessionStore, StoreSettings};

use crate::lazy::{Connector, LazyPlan, LazyStore};

/// What opening a store returns, boxed so every backend fits one table.
pub(crate) type OpenFuture = Pin<Box<dyn Future<Output = Result<Arc<dyn SessionStore>>> + Send>>;

/// How a compiled-in backend reads and opens its URLs.
pub(crate) struct Backend {
    /// Every query parameter the scheme takes: ours and, where a driver reads the
    /// rest of the URL (sqlx, redis-rs), the driver's, listed so a typo is an error.
    pub(crate) params: &'static [&'static str],
    /// Checks everything that can be checked without I/O (values, paths, names).
    pub(crate) check: fn(&StoreUrl) -> Result<()>,
    /// Opens the store; `check` has passed.
    pub(crate) open: fn(StoreUrl, OpenContext) -> OpenFuture,
    /// For a backend reached over the network: what its store can do and how long a
    /// connect attempt may take, from the URL alone, so that it can open lazily
    /// (`connect=lazy`, the default). `None`: an embedded backend, always opened at once.
    pub(crate) lazy: Option<fn(&StoreUrl) -> Result<LazyPlan>>,
}

/// The query parameter of the network schemes that says when their store connects:
/// `lazy` (the default) or `eager`.
pub(crate) const CONNECT: &str = "connect";

/// `params` followed by [`CONNECT`]: the parameter list of a network scheme, whose
/// backend crate lists its own. `N` must be one more than `params.len()` (checked when
/// compiling).
#[cfg_attr(
    not(any(
        feature = "postgres",
        feature = "mysql",
        feature = "redis",
        feature = "memcache"
    )),
    allow(dead_code)
)]
pub(crate) const fn with_connect<const N: usize>(params: &[&'static str]) -> [&'static str; N] {
    assert!(N == params.len() + 1, "N is params.len() + 1");
    let mut out = [CONNECT; N];
    let mut i = 0;
    while i < params.len() {
        out[i] = params[i];
        i += 1;
    }
    out
}

/// When a store reaches its server: what the `connect` parameter of the network
/// schemes (`redis`, `redis+cluster`, `postgres`, `postgresql`, `mysql`, `mariadb`,
/// `memcache`) says.
///
/// ```
/// use session_any::{ConnectMode, StoreUrl};
///
/// # #[cfg(feature = "sqlite")] {
/// // Embedded backends open at once: their errors are configuration errors.
/// let url = StoreUrl::parse("sqlite::memory:")?;
/// assert_eq!(url.connect_mode()?, ConnectMode::Eager);
/// # }
/// let url = StoreUrl::parse("memory://")?;
/// assert_eq!(url.connect_mode()?, ConnectMode::Eager);
/// # Ok::<(), session_core::Error>(())
/// ```
///
/// With the `redis` feature, `redis://cache/` is [`ConnectMode::Lazy`] and
/// `redis://cache/?connect=eager` is [`ConnectMode::Eager`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConnectMode {
    /// Opening returns at once, after checking the URL; the first operation connects.
    /// While the server cannot be reached, operations fail at once with a temporary
    /// backend error (the HTTP layer answers `503` + `Retry-After`), one connect
    /// attempt at a time, each bounded by the store's connect timeout, with a backoff
    /// of 250 ms doubling to 5 s between failed attempts; once the server answers, the
    /// next operation after the backoff connects, and the store works without a
    /// restart. The default for network schemes (`connect=lazy`).
    Lazy,
    /// Opening connects (and, for SQL, migrates) before it returns, and fails if the
    /// server cannot be reached: for apps that want a down backend to fail start-up
    /// (`connect=eager`), and what embedded backends always do.
    Eager,
}

/// The kind of store a scheme opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BackendKind {
    /// `memory://`: `MemoryStore`, in this process only.
    Memory,
    /// `file://`: `FileStore`, one file per session.
    File,
    /// `shelf://`: `ShelfStore`, every session in one file.
    Shelf,
    /// `sqlite:`, `postgres://`, `postgresql://`, `mysql://`, `mariadb://`: `SqlStore`.
    Sql,
    /// `redis://` (and `rediss://`, refused): `RedisStore` on one server.
    Redis,
    /// `redis+cluster://`: `RedisStore` on a Redis Cluster.
    RedisCluster,
    /// `memcache://`: `MemcacheStore`; cannot list its keys.
    Memcache,
    /// `cookie://`: `CookieStore`; the sessions live, sealed, in the browsers.
    Cookie,
}

/// One row of the scheme table: a URL scheme, the cargo feature of session-any that
/// compiles its backend in, and the backend's kind and parameters.
pub struct Scheme {
    name: &'static str,
    feature: &'static str,
    kind: BackendKind,
    backend: Option<&'static Backend>,
}

impl fmt::Debug for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scheme")
            .field("name", &self.name)
            .field("feature", &self.feature)
            .field("kind", &self.kind)
            .field("compiled_in", &self.compiled_in())
            .finish()
    }
}

impl Scheme {
    /// The scheme, lower-case, without `://` (`file`, `redis+cluster`).
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The cargo feature of session-any that compiles this backend in (`(always on)`
    /// for `memory`).
    pub fn feature(&self) -> &'static str {
        self.feature
    }

    /// The kind of store this scheme opens.
    pub fn kind(&self) -> BackendKind {
        self.kind
    }

    /// Whether this build can open the scheme (its feature is on).
    pub fn compiled_in(&self) -> bool {
        self.backend.is_some()
    }

    /// Every query parameter this scheme's URLs take; empty when the backend is not
    /// compiled in.
    pub fn params(&self) -> &'static [&'static str] {
        self.backend.map_or(&[], |b| b.params)
    }

    /// Whether the backend is a server reached over the network (Redis, PostgreSQL,
    /// MySQL/MariaDB, memcached): its store opens lazily unless the URL says
    /// `connect=eager` ([`ConnectMode`]). Embedded backends (memory, files, shelf,
    /// SQLite, cookie) answer `false`: they always open at once, since their errors
    /// (a missing directory, a file that cannot be created) are configuration errors
    /// that should stop start-up. `false` as well for a scheme that is not compiled in,
    /// and for `rediss`, which is refused.
    ///
    /// ```
    /// let file = session_any::schemes().iter().find(|s| s.name() == "file").unwrap();
    /// assert!(!file.is_remote());
    /// ```
    pub fn is_remote(&self) -> bool {
        self.backend.is_some_and(|b| b.lazy.is_some())
    }
}

const MEMORY: Option<&Backend> = Some(&crate::backends::MEMORY);
const REDISS: Option<&Backend> = Some(&crate::backends::REDISS);
#[cfg(feature = "file")]
const FILE: Option<&Backend> = Some(&crate::backends::FILE);
#[cfg(not(feature = "file"))]
const FILE: Option<&Backend> = None;
#[cfg(feature = "file")]
const SHELF: Option<&Backend> = Some(&crate::backends::SHELF);
#[cfg(not(feature = "file"))]
const SHELF: Option<&Backend> = None;
#[cfg(feature = "sqlite")]
const SQLITE: Option<&Backend> = Some(&crate::backends::SQLITE);
#[cfg(not(feature = "sqlite"))]
const SQLITE: Option<&Backend> = None;
#[cfg(feature = "postgres")]
const POSTGRES: Option<&Backend> = Some(&crate::backends::POSTGRES);
#[cfg(not(feature = "postgres"))]
const POSTGRES: Option<&Backend> = None;
#[cfg(feature = "mysql")]
const MYSQL: Option<&Backend> = Some(&crate::backends::MYSQL);
#[cfg(not(feature = "mysql"))]
const MYSQL: Option<&Backend> = None;
#[cfg(feature = "redis")]
const REDIS: Option<&Backend> = Some(&crate::backends::REDIS);
#[cfg(not(feature = "redis"))]
const REDIS: Option<&Backend> = None;
#[cfg(feature = "redis")]
const REDIS_CLUSTER: Option<&Backend> = Some(&crate::backends::REDIS_CLUSTER);
#[cfg(not(feature = "redis"))]
const REDIS_CLUSTER: Option<&Backend> = None;
#[cfg(feature = "memcache")]
const MEMCACHE: Option<&Backend> = Some(&crate::backends::MEMCACHE);
#[cfg(not(feature = "memcache"))]
const MEMCACHE: Option<&Backend> = None;
#[cfg(feature = "cookie")]
const COOKIE: Option<&Backend> = Some(&crate::backends::COOKIE);
#[cfg(not(feature = "cookie"))]
const COOKIE: Option<&Backend> = None;

const fn row(
    name: &'static str,
    feature: &'static str,
    kind: BackendKind,
    backend: Option<&'static Backend>,
) -> Scheme {
    Scheme {
        name,
        feature,
        kind,
        backend,
    }
}

/// Every scheme the workspace knows. A new backend is one row here plus its module
/// in `backends/`; `AnyStore`, `SessionConfig` and `session-admin` all read this table.
static SCHEMES: &[Scheme] = &[
    row("memory", "(always on)", BackendKind::Memory, MEMORY),
    row("file", "file", BackendKind::File, FILE),
    row("shelf", "file", BackendKind::Shelf, SHELF),
    row("sqlite", "sqlite", BackendKind::Sql, SQLITE),
    row("postgres", "postgres", BackendKind::Sql, POSTGRES),
    row("postgresql", "postgres", BackendKind::Sql, POSTGRES),
    row("mysql", "mysql", BackendKind::Sql, MYSQL),
    row("mariadb", "mysql", BackendKind::Sql, MYSQL),
    row("redis", "redis", BackendKind::Redis, REDIS),
    // Refused with a message on every build: no TLS client is compiled in.
    row("rediss", "redis", BackendKind::Redis, REDISS),
    row(
        "redis+cluster",
        "redis",
        BackendKind::RedisCluster,
        REDIS_CLUSTER,
    ),
    row("memcache", "memcache", BackendKind::Memcache, MEMCACHE),
    row("cookie", "cookie", BackendKind::Cookie, COOKIE),
];

/// The scheme table: every scheme session-any knows, compiled in or not.
///
/// ```
/// let file = session_any::schemes().iter().find(|s| s.name() == "file").unwrap();
/// assert_eq!(file.params(), ["durable", "max_record_size"]);
/// ```
pub fn schemes() -> &'static [Scheme] {
    SCHEMES
}

/// A store URL whose scheme is known and compiled in and whose query parameters are
/// all ones that scheme takes (in any order, each at most once). Nothing is opened.
///
/// `Display` and `Debug` show it redacted ([`session_core::redact_url`]): passwords and
/// credential-bearing parameters are `***`. [`StoreUrl::as_str`] is the URL as given.
///
/// ```
/// use session_any::{BackendKind, StoreUrl};
///
/// let url = StoreUrl::parse("file:///var/lib/app/sessions?durable=no")?;
/// assert_eq!(url.scheme().kind(), BackendKind::File);
/// assert_eq!(url.params().bool("durable")?, Some(false));
///
/// let typo = StoreUrl::parse("file:///var/lib/app/sessions?durabel=no").unwrap_err();
/// assert!(typo.to_string().contains("`durabel`; known: durable, max_record_size"));
/// # Ok::<(), session_core::Error>(())
/// ```
///
/// With the `postgres` feature, `postgres://app:hunter2@db/app?password=hunter2`
/// displays as `postgres://app:***@db/app?password=***`.
#[derive(Clone)]
pub struct StoreUrl {
    text: String,
    scheme: &'static Scheme,
    params: Params,
}

impl fmt::Display for StoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact_url(&self.text))
    }
}

impl fmt::Debug for StoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StoreUrl({:?})", redact_url(&self.text))
    }
}

impl StoreUrl {
    /// Looks `text` up in the scheme table and checks its query parameter names.
    ///
    /// [`Error::Config`] for text without a scheme, an unknown scheme (the message
    /// lists the known ones), a scheme whose feature is off (the message names the
    /// feature), and an unknown or repeated query parameter (the message names it and
    /// lists the known ones). Values are checked by [`StoreUrl::check`] and when the
    /// store opens.
    pub fn parse(text: &str) -> Result<Self> {
        let scheme_text = match text.split_once(':') {
            Some((s, _)) if is_scheme(s) => s.to_ascii_lowercase(),
            _ => {
                return Err(Error::Config(format!(
                    "session store URL {:?} does not parse: it has no scheme (e.g. file:///var/lib/app/sessions)",
                    redact_url(text)
                )))
            }
        };
        let Some(scheme) = SCHEMES.iter().find(|s| s.name == scheme_text) else {
            return Err(Error::Config(format!(
                "unknown session store scheme `{scheme_text}://`; known: {}",
                SCHEMES
                    .iter()
                    .map(|s| format!("{}://", s.name))
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        };
        let Some(backend) = scheme.backend else {
            return Err(Error::Config(format!(
                "session store scheme `{}://` is not compiled in: enable the `{}` feature of session-any",
                scheme.name, scheme.feature
            )));
        };
        let query = url_query(text);
        let params = Params::new(
            scheme.name,
            backend.params,
            url::form_urlencoded::parse(query.as_bytes()),
        )?;
        Ok(StoreUrl {
            text: text.to_owned(),
            scheme,
            params,
        })
    }

    /// The scheme table's row for this URL.
    pub fn scheme(&self) -> &'static Scheme {
        self.scheme
    }

    /// The query parameters, checked against the scheme's known keys.
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// The URL exactly as given, secrets included: for drivers, never for logs.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// This URL with `key=value` appended to its query (`key` must be one the scheme
    /// takes and not already given). The rest of the text is kept as written.
    pub fn with_param(&self, key: &str, value: &str) -> Result<Self> {
        let sep = if self.text.contains('?') { '&' } else { '?' };
        let encoded: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair(key, value)
            .finish();
        let (before, fragment) = match self.text.find('#') {
            Some(i) => self.text.split_at(i),
            None => (self.text.as_str(), ""),
        };
        Self::parse(&format!("{before}{sep}{encoded}{fragment}"))
    }

    /// Checks everything that can be checked without opening anything: every
    /// parameter's value in the shared grammar, paths, names. [`AnyStore::open`]
    /// does this first.
    ///
    /// [`AnyStore::open`]: crate::AnyStore::open
    pub fn check(&self) -> Result<()> {
        self.connect_mode()?;
        match self.backend() {
            Some(b) => (b.check)(&self.for_backend()?),
            None => Ok(()),
        }
    }

    /// When the store this URL names connects: what its `connect` parameter says
    /// (`lazy`, the default, or `eager`) for a network scheme ([`Scheme::is_remote`]);
    /// always [`ConnectMode::Eager`] for an embedded one, which takes no `connect`.
    /// Another value is [`Error::Config`].
    pub fn connect_mode(&self) -> Result<ConnectMode> {
        if !self.scheme.is_remote() {
            return Ok(ConnectMode::Eager);
        }
        match self.params.text(CONNECT) {
            None => Ok(ConnectMode::Lazy),
            Some(v) if v.eq_ignore_ascii_case("lazy") => Ok(ConnectMode::Lazy),
            Some(v) if v.eq_ignore_ascii_case("eager") => Ok(ConnectMode::Eager),
            Some(v) => Err(Error::Config(format!(
                "`{CONNECT}` is `lazy` or `eager`, not {v:?}"
            ))),
        }
    }

    /// This URL without `connect`, which is session-any's and which the backend's own
    /// parser does not know.
    fn for_backend(&self) -> Result<StoreUrl> {
        if !self.params.contains(CONNECT) {
            return Ok(self.clone());
        }
        Self::parse(&without_params(&self.text, &[CONNECT]))
    }

    /// For an SQL URL, the table it names (`?session_table=`, else the default
    /// `sessions`); `None` for every other scheme.
    pub fn sql_table(&self) -> Result<Option<String>> {
        if self.scheme.kind != BackendKind::Sql {
            return Ok(None);
        }
        #[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
        return crate::backends::sql_table(self).map(|t| Some(t.to_string()));
        #[cfg(not(any(feature = "sqlite", feature = "postgres", feature = "mysql")))]
        return Ok(None);
    }

    fn backend(&self) -> Option<&'static Backend> {
        self.scheme.backend
    }

    /// Checks, then opens the store: at once for a network backend in
    /// [`ConnectMode::Lazy`] (returned a second time as the [`LazyStore`], which the
    /// caller may ask to connect), else connecting or opening its files now.
    pub(crate) async fn open(self, ctx: OpenContext) -> Result<Opened> {
        let backend = self.backend().ok_or_else(|| {
            Error::Config(format!(
                "session store scheme `{}://` is not compiled in",
                self.scheme.name
            ))
        })?;
        let mode = self.connect_mode()?;
        let url = self.for_backend()?;
        (backend.check)(&url)?;
        match (mode, backend.lazy) {
            (ConnectMode::Lazy, Some(plan)) => {
                let plan = plan(&url)?;
                let open = backend.open;
                let connector: Connector = Box::new(move || open(url.clone(), ctx.clone()));
                let lazy = Arc::new(LazyStore::new(plan, connector));
                Ok(Opened {
                    store: lazy.clone(),
                    lazy: Some(lazy),
                })
            }
            _ => Ok(Opened {
                store: (backend.open)(url, ctx).await?,
                lazy: None,
            }),
        }
    }

    /// The text between `scheme:` and the query (`//host/path`, `:memory:`).
    pub(crate) fn body(&self) -> &str {
        let after = self.text.get(self.scheme_len()..).unwrap_or_default();
        let end = after.find(['?', '#']).unwrap_or(after.len());
        &after[..end]
    }

    fn scheme_len(&self) -> usize {
        self.text.find(':').map_or(0, |i| i + 1)
    }

    /// `memory://` names nothing: no host, no path.
    pub(crate) fn reject_path(&self) -> Result<()> {
        let rest = self.body();
        let rest = rest.strip_prefix("//").unwrap_or(rest);
        if matches!(rest, "" | "/") {
            Ok(())
        } else {
            Err(Error::Config(format!(
                "`{}://` takes no host or path",
                self.scheme.name
            )))
        }
    }
}

/// RFC 3986: a letter, then letters, digits, `+`, `-`, `.`.
fn is_scheme(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// An opened store, and the same store as a [`LazyStore`] if it connects lazily.
pub(crate) struct Opened {
    pub(crate) store: Arc<dyn SessionStore>,
    pub(crate) lazy: Option<Arc<LazyStore>>,
}

/// What a store needs besides its URL.
#[derive(Clone, Default)]
pub(crate) struct OpenContext {
    pub(crate) clock: Clock,
    /// The HTTP cookie's name: the cookie store binds its values to it.
    #[cfg_attr(not(feature = "cookie"), allow(dead_code))]
    pub(crate) cookie_name: Option<String>,
    /// Secrets for the cookie store, newest first; else from the environment.
    #[cfg_attr(not(feature = "cookie"), allow(dead_code))]
    pub(crate) cookie_secrets: Vec<String>,
}

impl OpenContext {
    /// Store settings on this context's clock, with the URL's `max_record_size` when
    /// it gives one (`None`: keep the default; `Some(None)`: no limit).
    pub(crate) fn settings(&self, max_record_size: Option<Option<usize>>) -> StoreSettings {
        let settings = StoreSettings::new().with_clock(self.clock.clone());
        match max_record_size {
            Some(limit) => settings.with_max_record_size(limit),
            None => settings,
        }
    }

    /// `settings` (as a backend's `from_url` read them) on this context's clock.
    #[cfg_attr(
        not(any(
            feature = "file",
            feature = "sqlite",
            feature = "postgres",
            feature = "mysql",
            feature = "redis",
            feature = "memcache"
        )),
        allow(dead_code)
    )]
    pub(crate) fn clocked(&self, settings: &StoreSettings) -> StoreSettings {
        settings.clone().with_clock(self.clock.clone())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_table_has_one_row_per_scheme() {
        let mut names: Vec<_> = SCHEMES.iter().map(|s| s.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), SCHEMES.len());
        for s in SCHEMES {
            assert!(is_scheme(s.name), "{}", s.name);
        }
    }

    #[test]
    fn queries_and_bodies() {
        assert_eq!(url_query("a://b?c=d#e"), "c=d");
        assert_eq!(url_query("a://b#e?x"), "");
        assert_eq!(url_query("sqlite::memory:"), "");
        let url = StoreUrl::parse("memory://?max_record_size=1#x").unwrap();
        assert_eq!(url.body(), "//");
        let url = StoreUrl::parse("MEMORY:").unwrap();
        assert_eq!(url.scheme().name(), "memory");
        url.reject_path().unwrap();
    }

    #[test]
    fn with_param_appends_and_rechecks() {
        let url = StoreUrl::parse("memory://").unwrap();
        let more = url.with_param("max_record_size", "64KiB").unwrap();
        assert_eq!(more.as_str(), "memory://?max_record_size=64KiB");
        assert!(more.with_param("max_record_size", "1").is_err(), "twice");
        assert!(url.with_param("bogus", "1").is_err());
    }
}
