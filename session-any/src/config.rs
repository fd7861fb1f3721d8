//! The deserializable session configuration: backend URL plus session options.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Deserializer};
use session_core::params::{parse_bool, parse_duration};
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
/// [cookie]
/// name = "session"
/// secure = true
/// same_site = "lax"
/// persistent = true
/// ```
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
    /// `SESSION_`, and takes the same values.
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
        Ok(self)
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
        StoreUrl::parse(&self.url).map_or(true, |u| u.scheme().kind() != BackendKind::Cookie)
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
        let ctx = crate::url::OpenContext {
            clock: session_core::Clock::system(),
            cookie_name: Some(self.cookie.name.clone()),
            cookie_secrets: self.cookie_secrets.clone(),
        };
        AnyStore::open_in(&self.url, ctx).await
    }

    /// A ready [`SessionLayer`]: store, options, cookie attributes and signing keys.
    /// A self-sealed store (`cookie://`) is set up without signing keys: neither
    /// `secrets` nor `SESSION_SECRET` is read.
    pub async fn layer(&self) -> Result<SessionLayer> {
        // Everything that needs no I/O is checked first, so a bad cookie name or a
        // missing secret leaves nothing behind (no new directory, no migrated table).
        StoreUrl::parse(&self.url)?;
        let options = self.options()?;
        options.validate()?;
        self.cookie.validate()?;
        let keys = match self.needs_signing_keys() {
            true => Some(self.signing_keys()?),
            false => None,
        };
        let store = self.store().await?.into_inner();
        let layer = match keys {
            Some(keys) => SessionLayer::from_arc(store, keys),
            None => SessionLayer::for_sealed_store(store)?,
        };
        Ok(layer
            .with_options(options)?
            .with_cookie(self.cookie.clone())?
            .save_on_server_error(self.save_on_server_error))
    }
}
