//! `cookie://`: the whole session sealed in the cookie.

use session_cookie::CookieStore;
use session_core::{Error, Result};
use url::Url;

use crate::url::{query, query_usize, OpenContext};

/// Environment variable holding the cookie store's sealing secrets, newest first,
/// comma-separated (each at least 32 bytes).
pub const COOKIE_SECRET_ENV: &str = "SESSION_COOKIE_SECRET";

/// `cookie://[?secret_env=VAR][&compress_above=N]`: secrets from the configuration,
/// else from `VAR` (default `SESSION_COOKIE_SECRET`).
pub(crate) fn cookie(url: &Url, ctx: OpenContext) -> Result<CookieStore> {
    let secrets = if ctx.cookie_secrets.is_empty() {
        let var = query(url, "secret_env").unwrap_or_else(|| COOKIE_SECRET_ENV.to_owned());
        let text = std::env::var(&var).map_err(|_| {
            Error::Config(format!(
                "cookie:// needs a sealing secret: set {var} (32+ bytes, comma-separated for rotation, newest first)"
            ))
        })?;
        text.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    } else {
        ctx.cookie_secrets
    };
    let mut builder = CookieStore::builder()
        .secrets(secrets.iter().map(String::as_bytes))
        .clock(ctx.clock);
    if let Some(name) = ctx.cookie_name {
        builder = builder.cookie_name(name);
    }
    if let Some(threshold) = query_usize(url, "compress_above")? {
        builder = builder.compression_threshold(Some(threshold));
    }
    builder.build()
}
