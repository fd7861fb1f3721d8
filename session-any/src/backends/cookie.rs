//! `cookie://`: the whole session sealed in the cookie.

use std::sync::Arc;

use session_cookie::CookieStore;
use session_core::{Error, Result, SessionStore};

use crate::url::{Backend, OpenContext, StoreUrl};

/// Environment variable holding the cookie store's sealing secrets, newest first,
/// comma-separated (each at least 32 bytes). The only secret `cookie://` needs: sealed
/// values are not signed, so `SESSION_SECRET` plays no part.
pub const COOKIE_SECRET_ENV: &str = "SESSION_COOKIE_SECRET";

/// `cookie://[?secret_env=VAR&compress_above=SIZE|none]`: secrets from the
/// configuration, else from `VAR` (default `SESSION_COOKIE_SECRET`); bodies of
/// `compress_above` bytes or more are compressed (`none`: never).
pub(crate) static COOKIE: Backend = Backend {
    params: &["secret_env", "compress_above"],
    check: |url| {
        url.reject_path()?;
        url.params().limit("compress_above")?;
        Ok(())
    },
    open: |url, ctx| {
        Box::pin(async move { cookie(&url, ctx).map(|s| Arc::new(s) as Arc<dyn SessionStore>) })
    },
};

fn cookie(url: &StoreUrl, ctx: OpenContext) -> Result<CookieStore> {
    let secrets = if ctx.cookie_secrets.is_empty() {
        let var = url.params().text("secret_env").unwrap_or(COOKIE_SECRET_ENV);
        let text = std::env::var(var).map_err(|_| {
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
    if let Some(threshold) = url.params().limit("compress_above")? {
        builder = builder.compression_threshold(threshold);
    }
    builder.build()
}
