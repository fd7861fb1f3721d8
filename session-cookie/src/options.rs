//! The `cookie://` store URL: where the sealing secrets come from and when bodies are
//! compressed.

use session_core::params::{url_query, Params};
use session_core::{redact_url, Error, Result};

use crate::CookieStoreBuilder;

/// Environment variable holding the cookie store's sealing secrets, newest first,
/// comma-separated (each at least 32 bytes), unless `cookie://?secret_env=VAR` names
/// another.
pub const COOKIE_SECRET_ENV: &str = "SESSION_COOKIE_SECRET";

/// What a `cookie://[?secret_env=VAR&compress_above=SIZE|none]` URL says.
///
/// ```
/// use session_cookie::CookieOptions;
///
/// let o = CookieOptions::from_url("cookie://?secret_env=APP_SEAL&compress_above=none")?;
/// assert_eq!(o.secret_env(), "APP_SEAL");
/// assert_eq!(o.compress_above(), Some(None));
/// assert!(CookieOptions::from_url("cookie://host/path").is_err());
/// assert!(CookieOptions::from_url("cookie://?secret=x").is_err());
/// # Ok::<(), session_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CookieOptions {
    secret_env: String,
    compress_above: Option<Option<usize>>,
}

impl CookieOptions {
    /// The query parameters a `cookie://` URL takes.
    pub const URL_PARAMS: &'static [&'static str] = &["secret_env", "compress_above"];

    /// Reads a `cookie://` URL: no host or path; `secret_env` (the variable holding
    /// the sealing secrets, default [`COOKIE_SECRET_ENV`]) and `compress_above`
    /// (bodies of that many bytes or more are compressed; `none`: never), in the shared
    /// grammar of [`session_core::params`]. Anything else is an [`Error::Config`].
    pub fn from_url(url: &str) -> Result<Self> {
        let rest = match url.split_once(':') {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("cookie") => rest,
            _ => {
                return Err(Error::Config(format!(
                    "a cookie store URL is cookie://, got {:?}",
                    redact_url(url)
                )))
            }
        };
        let body = rest.split(['?', '#']).next().unwrap_or_default();
        let body = body.strip_prefix("//").unwrap_or(body);
        if !matches!(body, "" | "/") {
            return Err(Error::Config("`cookie://` takes no host or path".into()));
        }
        let params = Params::new(
            "cookie",
            Self::URL_PARAMS,
            url::form_urlencoded::parse(url_query(url).as_bytes()),
        )?;
        Ok(CookieOptions {
            secret_env: params
                .text("secret_env")
                .unwrap_or(COOKIE_SECRET_ENV)
                .to_owned(),
            compress_above: params.limit("compress_above")?,
        })
    }

    /// The environment variable the sealing secrets are read from.
    pub fn secret_env(&self) -> &str {
        &self.secret_env
    }

    /// The compression threshold the URL gives: `None` for the default,
    /// `Some(None)` for never.
    pub fn compress_above(&self) -> Option<Option<usize>> {
        self.compress_above
    }

    /// The sealing secrets in [`CookieOptions::secret_env`], newest first; an
    /// [`Error::Config`] naming the variable when it is unset.
    pub fn secrets_from_env(&self) -> Result<Vec<String>> {
        let var = &self.secret_env;
        let text = std::env::var(var).map_err(|_| {
            Error::Config(format!(
                "cookie:// needs a sealing secret: set {var} (32+ bytes, comma-separated for rotation, newest first)"
            ))
        })?;
        Ok(text
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect())
    }

    /// `builder` with what the URL says applied (the compression threshold; the
    /// secrets are the caller's, from [`CookieOptions::secrets_from_env`] or elsewhere).
    pub fn apply(&self, builder: CookieStoreBuilder) -> CookieStoreBuilder {
        match self.compress_above {
            Some(threshold) => builder.compression_threshold(threshold),
            None => builder,
        }
    }
}
