//! The deserializable session configuration: backend URL plus session options.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Deserializer};
use session_core::params::{is_secret_param, parse_bool, parse_duration};
use session_core::{redact_url, Error, Expiry, Result, SaveMode, SessionOptions, TouchPolicy};
use session_http::{CookieConfig, HttpSessions, SigningKeys};
use session_tower::SessionLayer;

use crate::cache::{redact_cache_url, CacheUrl};
use crate::url::{BackendKind, StoreUrl};
use crate::AnyStore;

/// Environment variable holding the cookie-signing secrets, newest first,
/// comma-separated (each at least 32 bytes). Server-side stores need it; `cookie://`
/// does not (its values are sealed, not signed: see `SESSION_COOKIE_SECRET`).
pub const SECRET_ENV: &str = "SESSION_SECRET";

/// Environment variable naming the cache in front of the store (`cache` in TOML):
/// `local://?…` or a shared `redis://`, `memcache://`, `memory://` store. Set, it
/// overrides the TOML `cache` as `SESSION_URL` overrides `url`; set to the empty string,
/// it turns a configured cache off.
pub const CACHE_URL_ENV: &str = "SESSION_CACHE_URL";

/// Everything an app needs to set sessions up, from TOML or the environment.
///
/// ```toml
/// url = "file:///var/lib/myapp/sessions"
/// cache = "local://?capacity=10000&ttl=30s" # optional: a cache in front of the store
/// idle_timeout = "30m"
/// absolute_lifetime = "7days"
/// touch = "throttled:1m"        # always | on_change | throttled[:interval]
/// save_mode = "auto"            # auto | explicit
/// save_on_server_error = false
///
/// [store]                       # the backend's own parameters, by their URL names
/// max_record_size = "64KiB"
///
/// [cookie]
/// name = "session"
/// secure = true
/// same_site = "lax"
/// persistent = true
/// ```
///
/// `[store]` takes exactly the query parameters the URL's scheme takes (`prefix`,
/// `timeout`, `max_record_size`, `durable`, ... see the session-any README), by the same
/// names and in the same grammar: each is added to the URL's query, so the backend reads
/// it through its one parser. A name the scheme does not take is an error that lists the
/// ones it does; so is a name the URL already gives. In the environment the same names
/// are `SESSION_STORE_<NAME>` (`SESSION_STORE_MAX_RECORD_SIZE=64KiB`).
///
/// Durations are in the grammar store URLs use
/// ([`parse_duration`](session_core::params::parse_duration): `500ms`, `30m`, `1h30m`,
/// `7days`; a unit is always written), or `none` for no limit. Booleans set from the
/// environment take `true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off`.
///
/// `cache` (in the environment `SESSION_CACHE_URL`) puts a cache in front of the store
/// (feature `tiered`): `local://?capacity=…&ttl=…&heartbeat=…&bus=none|store|redis|postgres&bus_url=…&channel=…`
/// keeps recent sessions in each instance's memory, or a `redis://`, `redis+cluster://`,
/// `memcache://` or `memory://` URL names a cache every instance shares; see
/// [`CacheUrl`] and the session-any README. It is a key of its own next to `url`, not
/// a `[store]` parameter: the store's parameters are the backend's.
///
/// Signing secrets are read from `SESSION_SECRET` unless `secrets` is set; keeping
/// them out of files is the point. A `cookie://` store needs no signing secret, only
/// its sealing secret (`cookie_secrets` or `SESSION_COOKIE_SECRET`).
///
/// `Debug` shows the URLs redacted (password and credential-bearing query parameters as
/// `***`, also inside a cache's `bus_url`) and no secret at all, so a configuration can
/// be logged.
#[derive(Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionConfig {
    /// Backend URL, e.g. `memory://`, `file:///path`, `redis://host/`.
    pub url: String,
    /// The cache in front of the store, e.g. `local://?ttl=30s`, `redis://cache/`;
    /// `None`: no cache. See [`SessionConfig::cache_url`].
    pub cache: Option<String>,
    /// Idle timeout; `None` (`"none"`) for none (then an absolute lifetime is required).
    #[serde(deserialize_with = "optional_duration")]
    pub idle_timeout: Option<Duration>,
    /// Absolute lifetime; `None` (`"none"`) for none.
    #[serde(deserialize_with = "optional_duration")]
    pub absolute_lifetime: Option<Duration>,
    /// Touch policy.
    pub touch: TouchPolicy,
    /// Save mode.
    pub save_mode: SaveMode,
    /// Save sessions on 5xx responses too.
    pub save_on_server_error: bool,
    /// Cookie name and attributes.
    pub cookie: CookieConfig,
    /// Signing secrets, newest first. Prefer the `SESSION_SECRET` environment variable.
    pub secrets: Vec<String>,
    /// Sealing secrets for `cookie://`, newest first. Prefer the
    /// `SESSION_COOKIE_SECRET` environment variable.
    pub cookie_secrets: Vec<String>,
    /// The backend's own parameters by their URL names (`[store]`): merged into `url`'s
    /// query by [`SessionConfig::store_url`]. TOML strings, integers and booleans are
    /// taken as their text.
    #[serde(deserialize_with = "param_values")]
    pub store: BTreeMap<String, String>,
}

/// `[store]` values as the text a URL would carry.
fn param_values<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<BTreeMap<String, String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Scalar {
        Str(String),
        Int(i64),
        Bool(bool),
    }
    Ok(BTreeMap::<String, Scalar>::deserialize(d)?
        .into_iter()
        .map(|(k, v)| {
            let text = match v {
                Scalar::Str(t) => t,
                Scalar::Int(n) => n.to_string(),
                Scalar::Bool(b) => b.to_string(),
            };
            (k, text)
        })
        .collect())
}

impl fmt::Debug for SessionConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionConfig")
            .field("url", &redact_url(&self.url))
            .field("cache", &self.cache.as_deref().map(redact_cache_url))
            .field("idle_timeout", &self.idle_timeout)
            .field("absolute_lifetime", &self.absolute_lifetime)
            .field("touch", &self.touch)
            .field("save_mode", &self.save_mode)
            .field("save_on_server_error", &self.save_on_server_error)
            .field("cookie", &self.cookie)
            .field(
                "secrets",
                &format_args!("[{} redacted]", self.secrets.len()),
            )
            .field(
                "cookie_secrets",
                &format_args!("[{} redacted]", self.cookie_secrets.len()),
            )
            .field(
                "store",
                &self
                    .store
                    .iter()
                    .map(|(k, v)| {
                        (
                            k,
                            if is_secret_param(k) {
                                "***"
                            } else {
                                v.as_str()
                            },
                        )
                    })
                    .collect::<BTreeMap<_, _>>(),
            )
            .finish()
    }
}

/// A duration in the shared grammar, or `none`.
fn optional_duration<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<Duration>, D::Error> {
    let text = String::deserialize(d)?;
    duration_or_none("duration", &text).map_err(serde::de::Error::custom)
}

fn duration_or_none(name: &str, text: &str) -> std::result::Result<Option<Duration>, String> {
    if text.trim().eq_ignore_ascii_case("none") {
        return Ok(None);
    }
    match parse_duration(name, text) {
        Ok(d) => Ok(Some(d)),
        Err(Error::Config(msg)) => Err(msg),
        Err(other) => Err(other.to_string()),
    }
}

impl Default for SessionConfig {
    fn default() -> Self {
        let expiry = Expiry::default();
        SessionConfig {
            url: "memory://".into(),
            cache: None,
            idle_timeout: expiry.idle_timeout(),
            absolute_lifetime: expiry.absolute_lifetime(),
            touch: TouchPolicy::default(),
            save_mode: SaveMode::Auto,
            save_on_server_error: false,
            cookie: CookieConfig::default(),
            secrets: Vec::new(),
            cookie_secrets: Vec::new(),
            store: BTreeMap::new(),
        }
    }
}

impl SessionConfig {
    /// A configuration for `url` with default options.
    pub fn for_url(url: impl Into<String>) -> Self {
        SessionConfig {
            url: url.into(),
            ..Self::default()
        }
    }

    /// Parses TOML. Unknown keys are errors, so a typo does not silently fall back to
    /// a default.
    pub fn from_toml(text: &str) -> Result<Self> {
        toml::from_str(text).map_err(|e| Error::Config(format!("session configuration: {e}")))
    }

    /// Defaults overridden by `SESSION_URL`, `SESSION_CACHE_URL`, `SESSION_IDLE_TIMEOUT`,
    /// `SESSION_ABSOLUTE_LIFETIME`, `SESSION_TOUCH`, `SESSION_SAVE_MODE`,
    /// `SESSION_SAVE_ON_SERVER_ERROR`, `SESSION_COOKIE_NAME` and
    /// `SESSION_COOKIE_SECURE`, where set: each is its TOML key, upper-case, after
    /// `SESSION_`, and takes the same values. `SESSION_STORE_<NAME>` sets the `[store]`
    /// parameter `<name>` for each parameter the URL's scheme takes.
    pub fn from_env() -> Result<Self> {
        Self::default().with_env_overrides(|k| std::env::var(k).ok())
    }

    /// Applies overrides from `lookup` (the environment, in [`SessionConfig::from_env`]).
    pub fn with_env_overrides(mut self, lookup: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let duration = |key: &str, v: String| duration_or_none(key, &v).map_err(Error::Config);
        if let Some(v) = lookup("SESSION_URL") {
            self.url = v;
        }
        // As SESSION_URL overrides `url`; empty turns a cache from the file off, which
        // leaving the variable unset cannot.
        if let Some(v) = lookup(CACHE_URL_ENV) {
            self.cache = if v.trim().is_empty() { None } else { Some(v) };
        }
        if let Some(v) = lookup("SESSION_IDLE_TIMEOUT") {
            self.idle_timeout = duration("SESSION_IDLE_TIMEOUT", v)?;
        }
        if let Some(v) = lookup("SESSION_ABSOLUTE_LIFETIME") {
            self.absolute_lifetime = duration("SESSION_ABSOLUTE_LIFETIME", v)?;
        }
        if let Some(v) = lookup("SESSION_TOUCH") {
            self.touch = v.parse()?;
        }
        if let Some(v) = lookup("SESSION_SAVE_MODE") {
            self.save_mode = v.parse()?;
        }
        if let Some(v) = lookup("SESSION_SAVE_ON_SERVER_ERROR") {
            self.save_on_server_error = parse_bool("SESSION_SAVE_ON_SERVER_ERROR", &v)?;
        }
        if let Some(v) = lookup("SESSION_COOKIE_NAME") {
            self.cookie.name = v;
        }
        if let Some(v) = lookup("SESSION_COOKIE_SECURE") {
            self.cookie.secure = parse_bool("SESSION_COOKIE_SECURE", &v)?;
        }
        // Only the scheme's own names can be looked up: the environment is read by
        // name, not listed. A URL that does not parse is reported when it is used.
        if let Ok(url) = StoreUrl::parse(&self.url) {
            for name in url.scheme().params() {
                let var = format!(
                    "SESSION_STORE_{}",
                    name.to_ascii_uppercase().replace('-', "_")
                );
                if let Some(v) = lookup(&var) {
                    self.store.insert((*name).to_owned(), v);
                }
            }
        }
        Ok(self)
    }

    /// The store URL with the `[store]` parameters added to its query, checked against
    /// the scheme's known names (no I/O).
    ///
    /// ```
    /// use session_any::SessionConfig;
    ///
    /// let mut config = SessionConfig::for_url("memory://");
    /// config.store.insert("max_record_size".into(), "64KiB".into());
    /// assert_eq!(config.store_url()?.as_str(), "memory://?max_record_size=64KiB");
    ///
    /// config.store.insert("prefix".into(), "app:".into());
    /// let err = config.store_url().unwrap_err().to_string();
    /// assert!(err.contains("`prefix`"), "{err}");
    /// # Ok::<(), session_core::Error>(())
    /// ```
    pub fn store_url(&self) -> Result<StoreUrl> {
        let mut url = StoreUrl::parse(&self.url)?;
        for (name, value) in &self.store {
            url = url.with_param(name, value).map_err(|e| match e {
                Error::Config(msg) if name == "cache" => Error::Config(format!(
                    "[store] {name}: {msg}; a cache is named by the top-level `cache` key, next to `url`"
                )),
                Error::Config(msg) => Error::Config(format!("[store] {name}: {msg}")),
                other => other,
            })?;
        }
        Ok(url)
    }

    /// The cache in front of the store, parsed and checked against the store's URL
    /// (no I/O): `None` without one. [`Error::Config`] for a cache URL that does not
    /// parse ([`CacheUrl::parse`]) or does not fit the store ([`CacheUrl::check`]: a
    /// `cookie://` store, `bus=store` over a store whose server carries no bus).
    ///
    /// ```
    /// use session_any::{CacheBus, SessionConfig};
    ///
    /// let mut config = SessionConfig::for_url("memory://");
    /// config.cache = Some("local://?ttl=10s".into());
    /// let cache = config.cache_url()?.expect("a cache");
    /// assert_eq!(cache.bus(&config.store_url()?)?, Some(CacheBus::Off));
    ///
    /// config.cache = Some("local://?ttl=10".into());
    /// assert!(config.cache_url().unwrap_err().to_string().contains("ttl"));
    /// # Ok::<(), session_core::Error>(())
    /// ```
    pub fn cache_url(&self) -> Result<Option<CacheUrl>> {
        let Some(text) = &self.cache else {
            return Ok(None);
        };
        let cache = CacheUrl::parse(text)?;
        cache.check(&self.store_url()?)?;
        Ok(Some(cache))
    }

    /// The session options this configuration describes.
    pub fn options(&self) -> Result<SessionOptions> {
        Ok(SessionOptions::default()
            .with_expiry(Expiry::new(self.idle_timeout, self.absolute_lifetime)?)
            .with_touch(self.touch)
            .with_save_mode(self.save_mode))
    }

    /// Whether the configured store needs cookie-signing keys ([`SessionConfig::signing_keys`]).
    /// Server-side stores do; `cookie://` does not, since its values are sealed
    /// (encrypted and authenticated) by the store itself. A URL that does not parse
    /// answers `true`: opening it reports the problem.
    ///
    /// ```
    /// use session_any::SessionConfig;
    /// assert!(SessionConfig::for_url("file:///var/lib/app/sessions").needs_signing_keys());
    /// assert!(!SessionConfig::for_url("cookie://").needs_signing_keys());
    /// ```
    pub fn needs_signing_keys(&self) -> bool {
        self.store_url().map_or(true, |u| signs(&u))
    }

    /// The signing keys: `secrets` if set, else `SESSION_SECRET`.
    pub fn signing_keys(&self) -> Result<SigningKeys> {
        if !self.secrets.is_empty() {
            return SigningKeys::new(self.secrets.iter().map(String::as_bytes));
        }
        match std::env::var(SECRET_ENV) {
            Ok(v) => SigningKeys::new(v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::as_bytes)),
            Err(_) => Err(Error::Config(format!(
                "no cookie-signing secret: set {SECRET_ENV} (32+ bytes, comma-separated for rotation, newest first)"
            ))),
        }
    }

    /// Opens the configured store (the cookie store binds its values to the configured
    /// cookie name), behind the configured cache if there is one
    /// ([`AnyStore::open_with_cache`]).
    pub async fn store(&self) -> Result<AnyStore> {
        let url = self.store_url()?;
        let cache = self.cache_url()?;
        self.open_store(url, cache).await
    }

    async fn open_store(&self, url: StoreUrl, cache: Option<CacheUrl>) -> Result<AnyStore> {
        let ctx = crate::url::OpenContext {
            clock: session_core::Clock::system(),
            cookie_name: Some(self.cookie.name.clone()),
            cookie_secrets: self.cookie_secrets.clone(),
        };
        match cache {
            None => AnyStore::open_parsed(url, ctx).await,
            #[cfg(feature = "tiered")]
            Some(cache) => AnyStore::open_tiered(url, &cache, ctx).await,
            #[cfg(not(feature = "tiered"))]
            Some(_) => Err(Error::Config(
                "a session cache (`cache`, SESSION_CACHE_URL) needs the `tiered` feature of session-any"
                    .into(),
            )),
        }
    }

    /// The sessions this configuration describes, for any framework: store, options,
    /// cookie attributes and signing keys, checked. `session_tower::SessionLayer` and
    /// `session_actix::SessionMiddleware` are both made `From` it:
    ///
    /// ```no_run
    /// # async fn run() -> session_core::Result<()> {
    /// use session_any::SessionConfig;
    /// use session_tower::SessionLayer;
    ///
    /// let config = SessionConfig::from_env()?;
    /// let layer = SessionLayer::from(config.sessions().await?);
    /// // or, on actix-web: session_actix::SessionMiddleware::from(config.sessions().await?)
    /// # Ok(()) }
    /// ```
    ///
    /// A self-sealed store (`cookie://`) is set up without signing keys: neither
    /// `secrets` nor `SESSION_SECRET` is read.
    pub async fn sessions(&self) -> Result<HttpSessions> {
        // Everything that needs no I/O is checked first, so a bad cookie name or a
        // missing secret leaves nothing behind (no new directory, no migrated table).
        let url = self.store_url()?;
        url.check()?;
        let cache = self.cache_url()?;
        let options = self.options()?;
        options.validate()?;
        self.cookie.validate()?;
        let keys = match signs(&url) {
            true => Some(self.signing_keys()?),
            false => None,
        };
        let store = self.open_store(url, cache).await?.into_inner();
        let mut builder = session_http::Builder::<HttpSessions>::new(store)
            .options(options)
            .cookie(self.cookie.clone())
            .save_on_server_error(self.save_on_server_error);
        if let Some(keys) = keys {
            builder = builder.keys(keys);
        }
        builder.build()
    }

    /// A ready tower [`SessionLayer`]: [`SessionConfig::sessions`] as a layer.
    pub async fn layer(&self) -> Result<SessionLayer> {
        self.sessions().await.map(SessionLayer::from)
    }
}

/// Whether the store `url` names keeps sessions server-side, so its id cookie is signed.
fn signs(url: &StoreUrl) -> bool {
    url.scheme().kind() != BackendKind::Cookie
}
