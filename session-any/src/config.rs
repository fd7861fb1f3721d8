//! The deserializable session configuration: backend URL plus session options.

use std::fmt;
use std::time::Duration;

use serde::Deserialize;
use session_core::{Error, Expiry, Result, SaveMode, SessionOptions, TouchPolicy};
use session_tower::{CookieConfig, SessionLayer, SigningKeys};

use crate::AnyStore;

/// Environment variable holding the cookie-signing secrets, newest first,
/// comma-separated (each at least 32 bytes).
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
/// Signing secrets are read from `SESSION_SECRET` unless `secrets` is set; keeping
/// them out of files is the point.
#[derive(Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionConfig {
    /// Backend URL, e.g. `memory://`, `file:///path`, `redis://host/`.
    pub url: String,
    /// Idle timeout; `None` for none (then an absolute lifetime is required).
    #[serde(with = "humantime_serde")]
    pub idle_timeout: Option<Duration>,
    /// Absolute lifetime; `None` for none.
    #[serde(with = "humantime_serde")]
    pub absolute_lifetime: Option<Duration>,
    /// Touch policy.
    pub touch: TouchSetting,
    /// Save mode.
    pub save_mode: SaveModeSetting,
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
            .field("url", &crate::url::redact(&self.url))
            .field("idle_timeout", &self.idle_timeout)
            .field("absolute_lifetime", &self.absolute_lifetime)
            .field("touch", &self.touch)
            .field("save_mode", &self.save_mode)
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

impl Default for SessionConfig {
    fn default() -> Self {
        let expiry = Expiry::default();
        SessionConfig {
            url: "memory://".into(),
            idle_timeout: expiry.idle_timeout(),
            absolute_lifetime: expiry.absolute_lifetime(),
            touch: TouchSetting(TouchPolicy::default()),
            save_mode: SaveModeSetting(SaveMode::Auto),
            save_on_server_error: false,
            cookie: CookieConfig::default(),
            secrets: Vec::new(),
            cookie_secrets: Vec::new(),
        }
    }
}

/// A touch policy as written in configuration: `always`, `on_change`,
/// `throttled` (one minute) or `throttled:<duration>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct TouchSetting(pub TouchPolicy);

impl TryFrom<String> for TouchSetting {
    type Error = String;
    fn try_from(s: String) -> std::result::Result<Self, String> {
        let policy = match s.trim() {
            "always" => TouchPolicy::Always,
            "on_change" | "on-change" => TouchPolicy::OnChange,
            "throttled" => TouchPolicy::default(),
            other => match other.strip_prefix("throttled:") {
                Some(d) => TouchPolicy::Throttled(
                    humantime_serde::re::humantime::parse_duration(d.trim())
                        .map_err(|e| format!("touch interval {d:?}: {e}"))?,
                ),
                None => {
                    return Err(format!(
                        "touch must be always, on_change, throttled or throttled:<duration>; got {other:?}"
                    ))
                }
            },
        };
        Ok(TouchSetting(policy))
    }
}

/// A save mode as written in configuration: `auto` or `explicit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct SaveModeSetting(pub SaveMode);

impl TryFrom<String> for SaveModeSetting {
    type Error = String;
    fn try_from(s: String) -> std::result::Result<Self, String> {
        match s.trim() {
            "auto" => Ok(SaveModeSetting(SaveMode::Auto)),
            "explicit" => Ok(SaveModeSetting(SaveMode::Explicit)),
            other => Err(format!("save_mode must be auto or explicit; got {other:?}")),
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
    /// `SESSION_COOKIE_NAME` and `SESSION_COOKIE_SECURE`, where set.
    pub fn from_env() -> Result<Self> {
        Self::default().with_env_overrides(|k| std::env::var(k).ok())
    }

    /// Applies overrides from `lookup` (the environment, in [`SessionConfig::from_env`]).
    pub fn with_env_overrides(mut self, lookup: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let duration = |key: &str, v: String| {
            humantime_serde::re::humantime::parse_duration(&v)
                .map_err(|e| Error::Config(format!("{key}={v:?}: {e}")))
        };
        if let Some(v) = lookup("SESSION_URL") {
            self.url = v;
        }
        if let Some(v) = lookup("SESSION_IDLE_TIMEOUT") {
            self.idle_timeout = Some(duration("SESSION_IDLE_TIMEOUT", v)?);
        }
        if let Some(v) = lookup("SESSION_ABSOLUTE_LIFETIME") {
            self.absolute_lifetime = Some(duration("SESSION_ABSOLUTE_LIFETIME", v)?);
        }
        if let Some(v) = lookup("SESSION_TOUCH") {
            self.touch = TouchSetting::try_from(v).map_err(Error::Config)?;
        }
        if let Some(v) = lookup("SESSION_SAVE_MODE") {
            self.save_mode = SaveModeSetting::try_from(v).map_err(Error::Config)?;
        }
        if let Some(v) = lookup("SESSION_COOKIE_NAME") {
            self.cookie.name = v;
        }
        if let Some(v) = lookup("SESSION_COOKIE_SECURE") {
            self.cookie.secure = match v.as_str() {
                "1" | "true" | "yes" => true,
                "0" | "false" | "no" => false,
                other => {
                    return Err(Error::Config(format!(
                        "SESSION_COOKIE_SECURE must be true or false, got {other:?}"
                    )))
                }
            };
        }
        Ok(self)
    }

    /// The session options this configuration describes.
    pub fn options(&self) -> Result<SessionOptions> {
        Ok(SessionOptions::default()
            .with_expiry(Expiry::new(self.idle_timeout, self.absolute_lifetime)?)
            .with_touch(self.touch.0)
            .with_save_mode(self.save_mode.0))
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
    pub async fn layer(&self) -> Result<SessionLayer> {
        let store = self.store().await?;
        let layer = SessionLayer::from_arc(store.into_inner(), self.signing_keys()?)
            .with_options(self.options()?)?
            .with_cookie(self.cookie.clone())?
            .save_on_server_error(self.save_on_server_error);
        Ok(layer)
    }
}
