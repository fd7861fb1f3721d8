//! The deserializable session configuration: backend URL plus session options.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Deserializer};
use session_core::params::{is_secret_param, parse_bool, parse_duration};
use session_core::{redact_url, Error, Expiry, Result, SaveMode, SessionOptions, TouchPolicy};
use session_tower::{CookieConfig, SessionLayer, SigningKeys};

use crate::url::{BackendKind, StoreUrl};
use crate::AnyStore;

/// Environment variable holding the cookie-signing secrets, newest first,
/// comma-separated (each at least 32 bytes). Server-side stores need it; `cookie://`
/// does not (its values are sealed, not signed: see `SESSION_COOKIE_SECRET`).
pub const SECRET_ENV: &str = "SESSION_SECRET";

/// Everything an app needs to set sessions up, from TOML or the environment.
///
/// ```toml
/// url = "file:///var/lib/myapp/sessions"
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
/// Signing secrets are read from `SESSION_SECRET` unless `secrets` is set; keeping
/// them out of files is the point. A `cookie://` store needs no signing secret, only
/// its sealing secret (`cookie_secrets` or `SESSION_COOKIE_SECRET`).
///
/// `Debug` shows the URL redacted (password and credential-bearing query parameters as
/// `***`) and no secret at all, so a configuration can be logged.
#[derive(Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionConfig {
    /// Backend URL, e.g. `memory://`, `file:///path`, `redis://host/`.
    pub url: String,
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

    /// Defaults overridden by `SESSION_URL`, `SESSION_IDLE_TIMEOUT`,
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
                Error::Config(msg) => Error::Config(format!("[store] {name}: {msg}")),
                other => other,
            })?;
        }
        Ok(url)
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
    /// cookie name).
    pub async fn store(&self) -> Result<AnyStore> {
        self.open_store(self.store_url()?).await
    }

    async fn open_store(&self, url: StoreUrl) -> Result<AnyStore> {
        let ctx = crate::url::OpenContext {
            clock: session_core::Clock::system(),
            cookie_name: Some(self.cookie.name.clone()),
            cookie_secrets: self.cookie_secrets.clone(),
        };
        AnyStore::open_parsed(url, ctx).await
    }

    /// A ready [`SessionLayer`]: store, options, cookie attributes and signing keys.
    /// A self-sealed store (`cookie://`) is set up without signing keys: neither
    /// `secrets` nor `SESSION_SECRET` is read.
    pub async fn layer(&self) -> Result<SessionLayer> {
        // Everything that needs no I/O is checked first, so a bad cookie name or a
        // missing secret leaves nothing behind (no new directory, no migrated table).
        let url = self.store_url()?;
        url.check()?;
        let options = self.options()?;
        options.validate()?;
        self.cookie.validate()?;
        let keys = match signs(&url) {
            true => Some(self.signing_keys()?),
            false => None,
        };
        let store = self.open_store(url).await?.into_inner();
        let mut builder = SessionLayer::builder_from_arc(store)
            .options(options)
            .cookie(self.cookie.clone())
            .save_on_server_error(self.save_on_server_error);
        if let Some(keys) = keys {
            builder = builder.keys(keys);
        }
        builder.build()
    }
}

/// Whether the store `url` names keeps sessions server-side, so its id cookie is signed.
fn signs(url: &StoreUrl) -> bool {
    url.scheme().kind() != BackendKind::Cookie
}
